//! Lowers an operation's responses to [`Response`]s (codes, then ranges, then `default`), with their bodies and
//! headers.

use openapiv3::{ParameterSchemaOrContent, ReferenceOr, StatusCode};

use super::schemas::unbox;
use super::{ComponentKind, Lowerer, non_empty, ptr_join};
use crate::ir::names::{Scope, pascal, snake, status_variant};
use crate::ir::{BodyKind, HeaderDef, Response, ResponseBody, ResponseStatus, TypeRef, is_scalar_or_enum};

const RESPONSE: ComponentKind<openapiv3::Response> = ComponentKind {
    prefix: "#/components/responses/",
    noun: "response",
    plural: "responses",
    code: "E0209",
    section: |c| &c.responses,
};

const HEADER: ComponentKind<openapiv3::Header> = ComponentKind {
    prefix: "#/components/headers/",
    noun: "header",
    plural: "headers",
    code: "E0210",
    section: |c| &c.headers,
};

impl<'a> Lowerer<'a> {
    pub(super) fn lower_responses(
        &mut self,
        op: &'a openapiv3::Operation,
        op_ptr: &str,
        op_type: &str,
    ) -> Vec<Response> {
        let mut out = Vec::new();
        let resp_ptr = format!("{op_ptr}/responses");
        let mut entries: Vec<(ResponseStatus, String, &'a ReferenceOr<openapiv3::Response>)> = Vec::new();
        for (code, r) in &op.responses.responses {
            match code {
                StatusCode::Code(c) => entries.push((ResponseStatus::Code(*c), c.to_string(), r)),
                StatusCode::Range(n) => entries.push((ResponseStatus::Range(*n as u8), format!("{n}XX"), r)),
            }
        }
        if let Some(d) = &op.responses.default {
            entries.push((ResponseStatus::Default, "default".to_owned(), d));
        }
        entries.sort_by_key(|(s, _, _)| *s);
        let mut variant_scope = Scope::with_reserved(&[]);
        for (status, key, r) in entries {
            let ptr = ptr_join(&resp_ptr, &key);
            let Some(resp) = self.component(r, &ptr, &RESPONSE) else { continue };
            let variant = variant_scope.claim(match status {
                ResponseStatus::Code(c) => status_variant(c),
                ResponseStatus::Range(n) => format!("Status{n}xx"),
                ResponseStatus::Default => "Default".to_owned(),
            });
            let body = if resp.content.is_empty() {
                None
            } else {
                let content_ptr = ptr_join(&ptr, "content");
                self.pick_content(&resp.content, &content_ptr).map(|(kind, ct, media)| {
                    self.warn_raw_multipart(ct, &content_ptr, false);
                    let hint = format!("{op_type}{variant}Body");
                    let ty = match (&media.schema, kind) {
                        (Some(s), BodyKind::Json | BodyKind::Form) => {
                            self.inline_type(s, &hint, &ptr_join(&ptr_join(&content_ptr, ct), "schema"))
                        }
                        (None, BodyKind::Json) => TypeRef::Json,
                        (_, BodyKind::Text) => TypeRef::String,
                        _ => TypeRef::Bytes,
                    };
                    ResponseBody { kind, content_type: ct.clone(), ty: unbox(ty) }
                })
            };
            let mut header_scope = Scope::with_reserved(&["body", "status"]);
            let mut headers = Vec::new();
            for (name, h) in &resp.headers {
                let h_ptr = ptr_join(&ptr_join(&ptr, "headers"), name);
                if name.eq_ignore_ascii_case("content-type") {
                    continue;
                }
                let Some(h) = self.component(h, &h_ptr, &HEADER) else { continue };
                let multi = name.eq_ignore_ascii_case("set-cookie");
                let ty = match &h.format {
                    ParameterSchemaOrContent::Schema(s) => {
                        let hint = format!("{op_type}{variant}{}", pascal(name));
                        self.inline_type(s, &hint, &ptr_join(&h_ptr, "schema"))
                    }
                    ParameterSchemaOrContent::Content(_) => TypeRef::String,
                };
                let mut ty = if multi { TypeRef::String } else { ty };
                if !is_scalar_or_enum(&self.types, &ty) {
                    self.diags
                        .warning(
                            "W0404",
                            &ptr_join(&h_ptr, "schema"),
                            format!("response header `{name}` must be a string, number or boolean"),
                        )
                        .help(
                            "authgen passes the header as its raw string; encode structured header values as a string",
                        );
                    ty = TypeRef::String;
                }
                headers.push(HeaderDef {
                    rust_name: header_scope.claim(snake(name)),
                    api_name: name.clone(),
                    required: h.required,
                    ty,
                    multi,
                    doc: non_empty(&h.description),
                });
            }
            out.push(Response { status, variant, doc: non_empty(&Some(resp.description.clone())), body, headers });
        }
        if out.is_empty() {
            self.diags
                .error("E0405", &resp_ptr, "operation has no responses")
                .help("declare at least one response, for example `200`");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::lower::testing::{HEAD, lower};

    #[test]
    fn responses_are_ordered_codes_ranges_default_with_headers() {
        let api = lower(&format!(
            "{HEAD}paths:
  /x:
    get:
      operationId: x
      responses:
        default: {{description: d}}
        4XX: {{description: r}}
        '404': {{description: nf}}
        '200':
          description: ok
          headers:
            Set-Cookie: {{schema: {{type: string}}}}
            X-Count: {{required: true, schema: {{type: integer}}}}
            Content-Type: {{schema: {{type: string}}}}
"
        ));
        let op = &api.operations[0];
        let v: Vec<&str> = op.responses.iter().map(|r| r.variant.as_str()).collect();
        assert_eq!(v, ["Ok", "NotFound", "Status4xx", "Default"]);
        let h: Vec<(&str, bool, bool)> =
            op.responses[0].headers.iter().map(|h| (h.rust_name.as_str(), h.multi, h.required)).collect();
        assert_eq!(h, [("set_cookie", true, false), ("x_count", false, true)], "Content-Type is ignored");
    }
}
