//! Lowers the CORS facts ([`CorsPolicy`]) from the lowered operations and security schemes: the request headers
//! to allow, the response headers to expose and the methods.

use std::collections::BTreeSet;

use crate::ir::{CorsPolicy, Operation, ParamLocation, SecurityKind, SecurityScheme};

/// Derives the CORS facts: allowed request headers, exposed response headers and methods.
pub(super) fn derive_cors(ops: &[Operation], schemes: &[SecurityScheme]) -> CorsPolicy {
    let mut allowed: BTreeSet<String> = BTreeSet::new();
    let mut exposed: BTreeSet<String> = BTreeSet::new();
    let mut methods: BTreeSet<String> = BTreeSet::new();
    allowed.insert("content-type".to_owned());
    for op in ops {
        methods.insert(op.method.clone());
        for p in &op.params {
            if p.location == ParamLocation::Header {
                allowed.insert(p.api_name.to_ascii_lowercase());
            }
        }
        for name in &op.security {
            if let Some(s) = schemes.iter().find(|s| &s.api_name == name) {
                match &s.kind {
                    SecurityKind::Bearer | SecurityKind::Basic => {
                        allowed.insert("authorization".to_owned());
                    }
                    SecurityKind::ApiKeyHeader(h) => {
                        allowed.insert(h.to_ascii_lowercase());
                    }
                    SecurityKind::ApiKeyQuery(_) | SecurityKind::ApiKeyCookie(_) => {}
                }
            }
        }
        for r in &op.responses {
            for h in &r.headers {
                let name = h.api_name.to_ascii_lowercase();
                // Browsers never expose the first group to scripts, whatever the server says, and always expose
                // the CORS-safelisted response headers of the second.
                const NEVER: &[&str] = &["set-cookie", "set-cookie2"];
                const ALWAYS: &[&str] = &[
                    "cache-control",
                    "content-language",
                    "content-length",
                    "content-type",
                    "expires",
                    "last-modified",
                    "pragma",
                ];
                if NEVER.contains(&name.as_str())
                    || ALWAYS.contains(&name.as_str())
                    || name.starts_with("access-control-")
                {
                    continue;
                }
                exposed.insert(name);
            }
        }
    }
    CorsPolicy {
        allowed_headers: allowed.into_iter().collect(),
        exposed_headers: exposed.into_iter().collect(),
        allowed_methods: methods.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::lower::testing::{HEAD, lower};

    #[test]
    fn cors_policy_comes_from_parameters_security_and_response_headers() {
        let api = lower(&format!(
            "{HEAD}paths:
  /x:
    post:
      operationId: x
      security: [{{B: []}}, {{K: []}}]
      parameters:
        - {{name: X-Trace, in: header, schema: {{type: string}}}}
        - {{name: Authorization, in: header, schema: {{type: string}}}}
      responses:
        '200':
          description: ok
          headers:
            Front-Token: {{schema: {{type: string}}}}
            Set-Cookie: {{schema: {{type: string}}}}
            Access-Control-Expose-Headers: {{schema: {{type: string}}}}
    get:
      operationId: y
      responses: {{'200': {{description: ok}}}}
components:
  securitySchemes:
    B: {{type: http, scheme: bearer}}
    K: {{type: apiKey, in: header, name: X-Key}}
"
        ));
        assert_eq!(api.cors.allowed_headers, ["authorization", "content-type", "x-key", "x-trace"]);
        assert_eq!(api.cors.exposed_headers, ["front-token"]);
        assert_eq!(api.cors.allowed_methods, ["GET", "POST"]);
    }

    #[test]
    fn the_auth_spec_lowers_to_the_fdi_cors_headers() {
        let text = include_str!("../../../../spec/auth.yaml");
        let api = lower(text);
        assert_eq!(api.trait_name, "AuthApi");
        assert_eq!(api.operations.len(), 15);
        // content-type plus supertokens-node's getAllCORSHeaders(): rid, fdi-version, anti-csrf, authorization,
        // st-auth-mode.
        assert_eq!(
            api.cors.allowed_headers,
            ["anti-csrf", "authorization", "content-type", "fdi-version", "rid", "st-auth-mode"]
        );
        // The FDI's response headers, and the `Retry-After` of the 429 answers the spec documents (a browser app
        // can only read it when it is exposed).
        assert_eq!(
            api.cors.exposed_headers,
            ["anti-csrf", "front-token", "location", "retry-after", "st-access-token", "st-refresh-token"]
        );
        assert_eq!(api.cors.allowed_methods, ["GET", "POST"]);
    }
}
