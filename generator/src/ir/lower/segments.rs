//! Lowers `x-authgen-optional-segment` on a path item: an optional path segment after a literal prefix, such
//! as the SuperTokens FDI's tenant (`/auth[/<tenantId>]/signinup`). OpenAPI has no optional path parts, so the
//! key is written without the segment (other tools call it as written) and the extension names the literal
//! prefix and a `components/parameters` entry describing the segment:
//!
//! ```yaml
//! /auth/signinup:
//!   x-authgen-optional-segment: {after: /auth, parameter: {$ref: '#/components/parameters/TenantId'}}
//! ```
//!
//! The parameter must be `in: path` (OpenAPI then requires `required: true`, which is ignored here) with a
//! string schema carrying the `default` used when the segment is absent; its `pattern`, if any, decides which
//! segments are one (others are not this route: 404).

use openapiv3::{Parameter, ParameterSchemaOrContent, PathItem, SchemaKind, Type};
use serde_json::Value;

use super::{Lowerer, ptr_join};
use crate::ir::names::Scope;
use crate::ir::{Operation, OptionalSegment, ParamLocation, TypeRef};

/// The extension's key on a path item.
pub(crate) const EXTENSION: &str = "x-authgen-optional-segment";

const HELP: &str = "write `x-authgen-optional-segment: {after: /prefix, parameter: {$ref: \
                    '#/components/parameters/Name'}}`, where `/prefix` begins the path key and the parameter is a \
                    path parameter whose string schema has a `default`";

impl<'a> Lowerer<'a> {
    /// The optional segment of the path item at `path_ptr` (served at `key`), if it declares one. Mistakes are
    /// errors (E0306) at the offending part of the extension.
    pub(super) fn lower_optional_segment(
        &mut self,
        key: &str,
        item: &'a PathItem,
        path_ptr: &str,
        scope: &mut Scope,
    ) -> Option<OptionalSegment> {
        let value = item.extensions.get(EXTENSION)?;
        let ptr = ptr_join(path_ptr, EXTENSION);
        let Value::Object(fields) = value else {
            self.diags.error("E0306", &ptr, format!("`{EXTENSION}` must be an object")).help(HELP);
            return None;
        };
        if let Some(unknown) = fields.keys().find(|k| !matches!(k.as_str(), "after" | "parameter")) {
            self.diags
                .error("E0306", &ptr_join(&ptr, unknown), format!("unknown key `{unknown}` in `{EXTENSION}`"))
                .help("the keys are `after` and `parameter`");
            return None;
        }
        let after = match fields.get("after") {
            Some(Value::String(after)) => after.clone(),
            Some(_) => {
                self.diags.error("E0306", &ptr_join(&ptr, "after"), "`after` must be a string").help(HELP);
                return None;
            }
            None => {
                self.diags.error("E0306", &ptr, format!("`{EXTENSION}` has no `after`")).help(HELP);
                return None;
            }
        };
        let literal = after.starts_with('/')
            && !after.ends_with('/')
            && !after.contains(['{', '}'])
            && (key == after || key.strip_prefix(after.as_str()).is_some_and(|rest| rest.starts_with('/')));
        if !literal {
            self.diags
                .error("E0306", &ptr_join(&ptr, "after"), format!("`{after}` is not a literal prefix of `{key}`"))
                .label("the segment goes after this prefix")
                .help(format!(
                    "`after` must be whole leading segments of the path key, without templates or a trailing \
                     `/`, such as `/{}`",
                    key.trim_start_matches('/').split('/').next().unwrap_or_default()
                ));
            return None;
        }
        let param_ptr = ptr_join(&ptr, "parameter");
        let reference = match fields.get("parameter") {
            Some(Value::Object(r)) => match r.get("$ref") {
                Some(Value::String(reference)) if r.len() == 1 => Some(reference.clone()),
                _ => None,
            },
            Some(_) => None,
            None => {
                self.diags.error("E0306", &ptr, format!("`{EXTENSION}` has no `parameter`")).help(HELP);
                return None;
            }
        };
        let Some(reference) = reference else {
            self.diags
                .error("E0306", &param_ptr, "`parameter` must be a `$ref` to `#/components/parameters/...`")
                .help(HELP);
            return None;
        };
        let component = reference.strip_prefix("#/components/parameters/").and_then(|name| {
            let components = self.doc.components.as_ref()?;
            components.parameters.get(name)
        });
        let Some(component) = component else {
            self.diags
                .error("E0306", &ptr_join(&param_ptr, "$ref"), format!("`{reference}` is not a parameter"))
                .help("define the parameter under `components/parameters`");
            return None;
        };
        let param_at = format!("/components/parameters/{}", reference.trim_start_matches("#/components/parameters/"));
        let parameter = self.resolve_param(component, &param_at)?;
        let Parameter::Path { parameter_data: data, .. } = parameter else {
            self.diags
                .error("E0306", &ptr_join(&param_ptr, "$ref"), format!("`{reference}` is not a path parameter"))
                .help("an optional segment is part of the path: declare the parameter `in: path`");
            return None;
        };
        if crate::spec::validate::template_params(key).unwrap_or_default().contains(&data.name) {
            self.diags
                .error(
                    "E0306",
                    &ptr_join(&param_ptr, "$ref"),
                    format!("`{key}` already has a `{{{}}}` template", data.name),
                )
                .help("give the optional segment's parameter a name the path key does not use");
            return None;
        }
        let schema = match &data.format {
            ParameterSchemaOrContent::Schema(s) => self.resolve(s),
            ParameterSchemaOrContent::Content(_) => None,
        };
        let default = match schema.map(|s| (&s.schema_kind, &s.schema_data.default)) {
            Some((SchemaKind::Type(Type::String(_)), Some(Value::String(default)))) => default.clone(),
            _ => {
                self.diags
                    .error(
                        "E0306",
                        &ptr_join(&param_at, "schema"),
                        format!("the optional segment `{}` needs a string schema with a string `default`", data.name),
                    )
                    .label("used by an optional path segment")
                    .help("the default is the value when a request's path leaves the segment out, such as `default: public`");
                return None;
            }
        };
        let mut param = self.lower_param(parameter, &param_at, "", scope)?;
        if param.ty != TypeRef::String || param.location != ParamLocation::Path {
            return None;
        }
        // The segment is always known: the path's or the default.
        param.required = true;
        Some(OptionalSegment { after, param, default })
    }

    /// An error (E0306) for each operation whose path with its segment is the route of another operation
    /// (the same method and the same path up to the names of templates): a router cannot serve both.
    pub(super) fn check_segment_routes(&mut self, ops: &[Operation]) {
        let shape = |path: &str| -> String {
            path.split('/')
                .map(|s| if s.starts_with('{') && s.ends_with('}') { "{}" } else { s })
                .collect::<Vec<_>>()
                .join("/")
        };
        for (i, op) in ops.iter().enumerate() {
            let Some(with_segment) = op.segment_path() else { continue };
            let mine = shape(&with_segment);
            let other = ops.iter().enumerate().find(|(j, o)| {
                o.method == op.method
                    && (shape(&o.path) == mine || (*j < i && o.segment_path().is_some_and(|p| shape(&p) == mine)))
            });
            if let Some((_, other)) = other {
                let at = op.source.rsplit_once('/').map_or(op.source.as_str(), |(item, _)| item);
                self.diags
                    .error(
                        "E0306",
                        &ptr_join(at, EXTENSION),
                        format!(
                            "`{} {with_segment}` is also the route of `{}` ({} {})",
                            op.method, other.api_id, other.method, other.path
                        ),
                    )
                    .label("the path with this optional segment")
                    .help("a router serves one operation per method and route: change `after` or one of the paths");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::lower::testing::{HEAD, lower};

    #[test]
    fn an_optional_segment_binds_its_parameter_with_a_default() {
        let api = lower(&format!(
            "{HEAD}paths:
  /v1/notes/{{id}}:
    x-authgen-optional-segment: {{after: /v1, parameter: {{$ref: '#/components/parameters/Ws'}}}}
    get:
      operationId: getNote
      parameters: [{{name: id, in: path, required: true, schema: {{type: string}}}}]
      responses: {{'204': {{description: none}}}}
  /v1/plain:
    get:
      operationId: plain
      responses: {{'204': {{description: none}}}}
components:
  parameters:
    Ws: {{name: workspace, in: path, required: true, description: The workspace., schema: {{type: string, pattern: '^[a-z]+$', default: main}}}}
"
        ));
        let op = &api.operations[0];
        let segment = op.segment.as_ref().expect("segment");
        assert_eq!((segment.after.as_str(), segment.default.as_str()), ("/v1", "main"));
        assert_eq!((segment.param.rust_name.as_str(), segment.param.api_name.as_str()), ("workspace", "workspace"));
        assert_eq!(segment.param.constraints.pattern.as_deref(), Some("^[a-z]+$"));
        assert_eq!(op.segment_path().as_deref(), Some("/v1/{workspace}/notes/{id}"));
        assert_eq!(op.path, "/v1/notes/{id}");
        assert!(api.operations[1].segment.is_none());
    }
}
