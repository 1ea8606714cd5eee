//! Lowers parameters (path, query, header, cookie) to [`Param`]s, typing objects in the query by their style.

use openapiv3::{Parameter, ParameterSchemaOrContent, ReferenceOr};
use serde_json::Value;

use super::{Lowerer, non_empty, ptr_join};
use crate::ir::names::{Scope, pascal, snake};
use crate::ir::{
    Constraints, ObjectStyle, Param, ParamLocation, TypeKind, TypeRef, is_scalar_or_enum, through_newtypes,
};
use crate::spec::diag::{Diagnostics, Severity};

impl<'a> Lowerer<'a> {
    pub(super) fn resolve_param(&mut self, p: &'a ReferenceOr<Parameter>, ptr: &str) -> Option<&'a Parameter> {
        match p {
            ReferenceOr::Item(p) => Some(p),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/parameters/");
                let found = name.and_then(|n| self.doc.components.as_ref()?.parameters.get(n));
                match found {
                    Some(ReferenceOr::Item(p)) => Some(p),
                    Some(inner @ ReferenceOr::Reference { .. }) => self.resolve_param(inner, ptr),
                    None => {
                        self.diags
                            .error("E0205", &format!("{ptr}/$ref"), format!("`{reference}` is not a parameter"))
                            .help("parameters must reference `#/components/parameters/...`");
                        None
                    }
                }
            }
        }
    }

    pub(super) fn lower_param(
        &mut self,
        p: &'a Parameter,
        ptr: &str,
        op_type: &str,
        scope: &mut Scope,
    ) -> Option<Param> {
        let data = p.parameter_data_ref();
        let (location, explode) = match p {
            Parameter::Path { .. } => (ParamLocation::Path, false),
            Parameter::Query { .. } => (ParamLocation::Query, data.explode.unwrap_or(true)),
            Parameter::Header { .. } => (ParamLocation::Header, false),
            Parameter::Cookie { .. } => (ParamLocation::Cookie, false),
        };
        if location == ParamLocation::Header
            && ["accept", "content-type", "authorization"].contains(&data.name.to_ascii_lowercase().as_str())
        {
            self.diags
                .warning(
                    "W0201",
                    &ptr_join(ptr, "name"),
                    format!("header parameter `{}` is ignored, as OpenAPI requires", data.name),
                )
                .help("`Accept`, `Content-Type` and `Authorization` come from the body and `securitySchemes`");
            return None;
        }
        let schema = match &data.format {
            ParameterSchemaOrContent::Schema(s) => s,
            ParameterSchemaOrContent::Content(_) => {
                self.diags
                    .warning(
                        "W0202",
                        ptr,
                        format!("parameter `{}` uses `content`, which is not supported; it is left out", data.name),
                    )
                    .help("describe the parameter with `schema`");
                return None;
            }
        };
        let hint = format!("{op_type}{}", pascal(&data.name));
        let errors = |d: &Diagnostics| d.items().iter().filter(|d| d.severity == Severity::Error).count();
        let errors_before = errors(&self.diags);
        let ty = self.inline_type(schema, &hint, &ptr_join(ptr, "schema"));
        // A named scalar (`SnowflakeId: {type: string, pattern: ..}`) is a newtype in the models; on the wire of
        // a parameter it is the scalar itself.
        let mut ty = through_newtypes(&self.types, &ty).clone();
        let deep = matches!(p, Parameter::Query { style: openapiv3::QueryStyle::DeepObject, .. });
        // `spaceDelimited`/`pipeDelimited` objects have another separator; they stay raw (W0204) or left out.
        let form_or_deep = matches!(
            p,
            Parameter::Query { style: openapiv3::QueryStyle::Form | openapiv3::QueryStyle::DeepObject, .. }
        );
        let object = match location {
            ParamLocation::Query if form_or_deep => self.object_style(&ty, deep, explode),
            _ => None,
        };
        let ok = object.is_some()
            || match &ty {
                TypeRef::Vec(inner) => location == ParamLocation::Query && is_scalar_or_enum(&self.types, inner),
                t => is_scalar_or_enum(&self.types, t),
            };
        if !ok && errors(&self.diags) > errors_before {
            // The schema itself is wrong (say, an unknown type) and was reported as such.
            return None;
        }
        if !ok {
            // A real API may well take an object in a parameter (`style: deepObject`, exploded forms). The
            // operation is still generated rather than the whole spec refused: where the parameter has one
            // wire value (path, header, cookie, an unexploded query) it is kept as that raw string; an
            // exploded query object has no single key and is left out.
            let object = match &ty {
                TypeRef::Map(_) => true,
                TypeRef::Named(n) => matches!(self.types.get(n).map(|d| &d.kind), Some(TypeKind::Struct { .. })),
                _ => false,
            };
            if location == ParamLocation::Query && (deep || (explode && object)) {
                self.diags
                    .warning(
                        "W0203",
                        &ptr_join(ptr, "schema"),
                        format!(
                            "query parameter `{}` is left out: only scalars, enums, arrays of those, and objects \
                             and maps whose values are those are supported",
                            data.name
                        ),
                    )
                    .help("nested objects, arrays inside objects and exploded free-form maps have no agreed query form; send structured data in the request body");
                return None;
            }
            let (typed, help) = match location {
                ParamLocation::Query => (
                    "scalars, enums, arrays of those and objects of those",
                    "unions and nested objects have no agreed query form; parse the string in the handler",
                ),
                _ => ("scalars and enums", "objects are typed in the query only; parse the string in the handler"),
            };
            let place = location.as_str();
            self.diags
                .warning(
                    "W0204",
                    &ptr_join(ptr, "schema"),
                    format!(
                        "{place} parameter `{}` is kept as its raw string: only {typed} are typed in a {place} \
                         parameter",
                        data.name
                    ),
                )
                .help(help);
            ty = TypeRef::String;
        }
        let constraints = match self.resolve(schema) {
            Some(s) => self.constraints_of(s, &ptr_join(ptr, "schema")),
            None => Constraints::default(),
        };
        let missing_message = match data.extensions.get("x-authgen-missing-message") {
            Some(Value::String(m)) => Some(m.clone()),
            Some(_) => {
                self.diags
                    .error(
                        "E0406",
                        &ptr_join(ptr, "x-authgen-missing-message"),
                        "`x-authgen-missing-message` must be a string",
                    )
                    .help("write the 400 message sent when the parameter is missing");
                None
            }
            None => None,
        };
        Some(Param {
            missing_message,
            constraints,
            rust_name: scope.claim(snake(&data.name)),
            api_name: data.name.clone(),
            location,
            required: data.required || location == ParamLocation::Path,
            ty,
            explode,
            object,
            doc: non_empty(&data.description),
            deprecated: data.deprecated.unwrap_or(false),
        })
    }

    /// The style of an object query parameter, when its type has a query form: a struct whose properties
    /// are scalars or enums (no free-form extra properties), or a map of those (not exploded as a form,
    /// where its keys could not be told from the other parameters).
    fn object_style(&self, ty: &TypeRef, deep: bool, explode: bool) -> Option<ObjectStyle> {
        let style = match (deep, explode) {
            (true, _) => ObjectStyle::Deep,
            (false, true) => ObjectStyle::Exploded,
            (false, false) => ObjectStyle::Joined,
        };
        let flat = |t: &TypeRef| is_scalar_or_enum(&self.types, t);
        match ty {
            TypeRef::Map(value) if style != ObjectStyle::Exploded && flat(value) => Some(style),
            TypeRef::Named(n) => match self.types.get(n).map(|d| &d.kind) {
                Some(TypeKind::Struct { fields, additional: None, .. })
                    if !fields.is_empty() && fields.iter().all(|f| flat(&f.ty)) =>
                {
                    Some(style)
                }
                _ => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::lower::testing::{HEAD, lower_with_warnings};
    use crate::ir::{ObjectStyle, TypeRef};

    #[test]
    fn object_query_parameters_are_typed_in_their_style_and_others_kept_raw_or_left_out() {
        let (api, warnings) = lower_with_warnings(&format!(
            "{HEAD}paths:
  /things/{{id}}:
    get:
      operationId: getThing
      parameters:
        - {{name: id, in: path, required: true, schema: {{$ref: '#/components/schemas/Snowflake'}}}}
        - {{name: filter, in: query, schema: {{type: object, properties: {{a: {{type: string}}}}}}}}
        - {{name: page, in: query, explode: false, schema: {{type: object, properties: {{n: {{type: integer}}}}}}}}
        - {{name: deep, in: query, style: deepObject, schema: {{$ref: '#/components/schemas/Range'}}}}
        - {{name: tags, in: query, style: deepObject, schema: {{additionalProperties: {{type: string}}}}}}
        - {{name: nested, in: query, style: deepObject, schema: {{properties: {{r: {{$ref: '#/components/schemas/Range'}}}}}}}}
        - {{name: loose, in: query, schema: {{additionalProperties: {{type: integer}}}}}}
        - {{name: X-Pair, in: header, schema: {{oneOf: [{{type: string}}, {{type: integer}}]}}}}
        - {{name: X-Obj, in: header, schema: {{$ref: '#/components/schemas/Range'}}}}
      responses: {{'204': {{description: none}}}}
components:
  schemas:
    Snowflake: {{type: string, pattern: '^[0-9]+$'}}
    Range: {{type: object, properties: {{from: {{type: string, format: date}}, to: {{$ref: '#/components/schemas/Snowflake'}}}}}}
"
        ));
        // `nested` (an object inside) and `loose` (an exploded free-form map) have no query form; the objects
        // outside the query stay raw strings.
        assert_eq!(warnings, ["W0203", "W0203", "W0204", "W0204"]);
        let params: Vec<(&str, &TypeRef, Option<ObjectStyle>)> =
            api.operations[0].params.iter().map(|p| (p.api_name.as_str(), &p.ty, p.object)).collect();
        let named = |n: &str| TypeRef::Named(n.to_owned());
        assert_eq!(
            params,
            [
                ("id", &TypeRef::String, None),
                ("filter", &named("GetThingFilter"), Some(ObjectStyle::Exploded)),
                ("page", &named("GetThingPage"), Some(ObjectStyle::Joined)),
                ("deep", &named("Range"), Some(ObjectStyle::Deep)),
                ("tags", &TypeRef::Map(Box::new(TypeRef::String)), Some(ObjectStyle::Deep)),
                ("X-Pair", &TypeRef::String, None),
                ("X-Obj", &TypeRef::String, None),
            ]
        );
        assert_eq!(api.operations[0].params[0].constraints.pattern.as_deref(), Some("^[0-9]+$"));
    }
}
