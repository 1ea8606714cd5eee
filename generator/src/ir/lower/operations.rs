//! Lowers `paths` to [`Operation`]s in document order: their routes (`routes.rs`), names, and the parameters
//! (path-level ones merged with the operation's own), security, body and responses lowered by the sibling files.

use openapiv3::{Parameter, ReferenceOr};

use super::{Lowerer, non_empty, ptr_join};
use crate::ir::names::{Scope, derived_operation_id, pascal, snake};
use crate::ir::{Operation, Param, SecurityScheme};
use crate::spec::diag::escape_segment;

impl<'a> Lowerer<'a> {
    pub(super) fn lower_operations(&mut self, schemes: &[SecurityScheme]) -> Vec<Operation> {
        let doc = self.doc;
        let mut ops = Vec::new();
        let mut op_scope = Scope::with_reserved(&[]);
        let (routes, left_out) = self.lower_routes();
        for (path, item) in &doc.paths.paths {
            let route = &routes[path].path;
            let path_ptr = format!("/paths/{}", escape_segment(path));
            let ReferenceOr::Item(item) = item else {
                self.diags
                    .error("E0206", &path_ptr, "path item references are not supported")
                    .help("inline the path item");
                continue;
            };
            // Lowered once per path item; each operation claims the parameter's Rust name among its own.
            let segment = self.lower_optional_segment(route, item, &path_ptr, &mut Scope::with_reserved(&[]));
            for (method, op) in item.iter() {
                let op_ptr = ptr_join(&path_ptr, method);
                if left_out.contains(&(path.clone(), method.to_owned())) {
                    continue;
                }
                if let Some(name) = op.callbacks.keys().next() {
                    self.diags
                        .warning(
                            "W0303",
                            &ptr_join(&ptr_join(&op_ptr, "callbacks"), name),
                            format!("callbacks are not generated ({} on this operation)", op.callbacks.len()),
                        )
                        .help(
                            "the operation itself is generated; send the callback requests with a client of your own",
                        );
                }
                let id = op.operation_id.clone().unwrap_or_else(|| derived_operation_id(method, route));
                let rust_name = op_scope.claim(snake(&id));
                let type_name = pascal(&rust_name);
                let mut param_scope = Scope::with_reserved(&["body", "body_content_type"]);
                for s in schemes {
                    param_scope.claim(s.rust_name.clone());
                }
                let mut params: Vec<Param> = Vec::new();
                let shared = item.parameters.iter().enumerate().map(|(i, p)| (format!("{path_ptr}/parameters/{i}"), p));
                let own = op.parameters.iter().enumerate().map(|(i, p)| (format!("{op_ptr}/parameters/{i}"), p));
                let mut collected: Vec<(String, &Parameter)> = Vec::new();
                for (p_ptr, p) in shared.chain(own) {
                    let Some(p) = self.resolve_param(p, &p_ptr) else { continue };
                    let data = p.parameter_data_ref();
                    // An operation-level parameter overrides a path-level one with the same name and location.
                    collected.retain(|(_, q)| {
                        !(q.parameter_data_ref().name == data.name
                            && std::mem::discriminant(*q) == std::mem::discriminant(p))
                    });
                    collected.push((p_ptr, p));
                }
                // A path parameter its template does not name cannot be bound (validation warned, W0304).
                let template = crate::spec::validate::template_params(path).unwrap_or_default();
                collected.retain(|(_, p)| {
                    !matches!(p, Parameter::Path { .. }) || template.contains(&p.parameter_data_ref().name)
                });
                let segment = segment.clone().map(|mut segment| {
                    segment.param.rust_name = param_scope.claim(segment.param.rust_name);
                    segment
                });
                for (p_ptr, p) in collected {
                    if let Some(param) = self.lower_param(p, &p_ptr, &type_name, &mut param_scope) {
                        params.push(param);
                    }
                }
                let security = self.lower_op_security(op, &op_ptr, schemes);
                let body = self.lower_request_body(op, &op_ptr, &type_name);
                let responses = self.lower_responses(op, &op_ptr, &type_name);
                ops.push(Operation {
                    rust_name,
                    type_name,
                    api_id: id,
                    method: method.to_ascii_uppercase(),
                    path: route.clone(),
                    summary: non_empty(&op.summary),
                    description: non_empty(&op.description),
                    deprecated: op.deprecated,
                    tags: op.tags.clone(),
                    params,
                    segment,
                    security,
                    body,
                    responses,
                    source: op_ptr,
                });
            }
        }
        self.check_segment_routes(&ops);
        ops
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::ParamLocation;
    use crate::ir::lower::testing::{HEAD, lower};

    #[test]
    fn inline_shapes_get_stable_derived_names() {
        let api = lower(&format!(
            "{HEAD}paths:
  /a/{{id}}:
    post:
      parameters: [{{name: id, in: path, required: true, schema: {{type: string}}}}]
      requestBody:
        content:
          application/json:
            schema: {{type: object, properties: {{inner: {{type: object, properties: {{k: {{type: string, enum: [x]}}}}}}}}}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {{type: object, properties: {{n: {{type: integer}}}}}}
"
        ));
        let names: Vec<&str> = api.types.keys().map(String::as_str).collect();
        assert_eq!(names, ["PostAByIdBody", "PostAByIdBodyInner", "PostAByIdBodyInnerK", "PostAByIdOkBody"]);
        let op = &api.operations[0];
        assert_eq!((op.rust_name.as_str(), op.api_id.as_str()), ("post_a_by_id", "post_a_by_id"));
        assert_eq!(op.params[0].location, ParamLocation::Path);
        assert!(op.params[0].required);
    }
}
