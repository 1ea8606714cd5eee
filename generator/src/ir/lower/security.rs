//! Lowers `components/securitySchemes` to [`SecurityScheme`]s and an operation's `security` to the names of the
//! schemes it accepts.

use openapiv3::{APIKeyLocation, ReferenceOr};

use super::{Lowerer, non_empty, ptr_join};
use crate::ir::names::{Scope, snake};
use crate::ir::{SecurityKind, SecurityScheme};
use crate::spec::diag::escape_segment;

impl<'a> Lowerer<'a> {
    pub(super) fn lower_security_schemes(&mut self) -> Vec<SecurityScheme> {
        let mut out = Vec::new();
        let Some(components) = &self.doc.components else { return out };
        let mut scope = Scope::with_reserved(&["body", "body_content_type"]);
        for (name, scheme) in &components.security_schemes {
            let ptr = format!("/components/securitySchemes/{}", escape_segment(name));
            let ReferenceOr::Item(scheme) = scheme else {
                self.diags
                    .error("E0204", &ptr, "security scheme references are not supported")
                    .help("define the scheme inline");
                continue;
            };
            let (kind, doc) = match scheme {
                openapiv3::SecurityScheme::HTTP { scheme, description, .. } => {
                    let kind = match scheme.to_ascii_lowercase().as_str() {
                        "bearer" => SecurityKind::Bearer,
                        "basic" => SecurityKind::Basic,
                        other => {
                            self.diags
                                .warning(
                                    "W0106",
                                    &ptr_join(&ptr, "scheme"),
                                    format!("http scheme `{other}` is passed as the raw `Authorization` value"),
                                )
                                .help("use `bearer` or `basic` for typed extraction");
                            SecurityKind::ApiKeyHeader("authorization".to_owned())
                        }
                    };
                    (kind, description.clone())
                }
                openapiv3::SecurityScheme::APIKey { location, name: key, description, .. } => {
                    let kind = match location {
                        APIKeyLocation::Header => SecurityKind::ApiKeyHeader(key.clone()),
                        APIKeyLocation::Query => SecurityKind::ApiKeyQuery(key.clone()),
                        APIKeyLocation::Cookie => SecurityKind::ApiKeyCookie(key.clone()),
                    };
                    (kind, description.clone())
                }
                openapiv3::SecurityScheme::OAuth2 { description, .. }
                | openapiv3::SecurityScheme::OpenIDConnect { description, .. } => {
                    (SecurityKind::Bearer, description.clone())
                }
            };
            out.push(SecurityScheme {
                api_name: name.clone(),
                rust_name: scope.claim(snake(name)),
                kind,
                doc: non_empty(&doc),
            });
        }
        out
    }

    pub(super) fn lower_op_security(
        &mut self,
        op: &'a openapiv3::Operation,
        ptr: &str,
        schemes: &[SecurityScheme],
    ) -> Vec<String> {
        let reqs = op.security.as_ref().or(self.doc.security.as_ref());
        let mut out: Vec<String> = Vec::new();
        for (i, req) in reqs.into_iter().flatten().enumerate() {
            for name in req.keys() {
                if !schemes.iter().any(|s| &s.api_name == name) {
                    self.diags
                        .warning("W0207", &format!("{ptr}/security/{i}"), format!("unknown security scheme `{name}`"))
                        .help(
                            "authgen ignores this requirement for the operation; define the scheme under \
                             `components/securitySchemes`",
                        );
                } else if !out.contains(name) {
                    out.push(name.clone());
                }
            }
        }
        out
    }
}
