//! The route a `paths` key stands for. Some specs write keys that are not routes as they stand: the official
//! SuperTokens FDI spec pads keys with invisible characters (U+2800) so that two operations it tells apart
//! only by a header get distinct keys, and writes its optional tenant segment as `<tenantId>`, which is not a
//! template (OpenAPI templates are `{name}`) and not a character a URL may hold. The route keeps the key's
//! `{name}`s and literal segments; the padding and the `<name>` segments are left out, each with a warning at
//! the key, and an operation whose method and route another operation already has is left out (W0307), since
//! a router cannot serve both.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::ReferenceOr;

use super::Lowerer;
use crate::spec::diag::escape_segment;

/// What [`route_of`] made of a `paths` key.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Route {
    /// The path the router serves and the client calls.
    pub(crate) path: String,
    /// The invisible characters left out, as `U+2800` code points, in key order (repeats kept).
    pub(crate) padding: Vec<char>,
    /// The `<name>` segments left out, with their brackets.
    pub(crate) placeholders: Vec<String>,
}

/// Characters that show as nothing: whitespace (the no-break spaces too), zero-width characters, the braille
/// blank and the Hangul fillers. None of them belongs in a route, where they could only be sent
/// percent-encoded by a client that knew they were there.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{2800}')
        || matches!(c, '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}')
}

/// The route a `paths` key stands for: the key without invisible characters and without whole `<name>`
/// segments (`/{apiBasePath}/<tenantId>/signin` -> `/{apiBasePath}/signin`).
pub(crate) fn route_of(key: &str) -> Route {
    let padding: Vec<char> = key.chars().filter(|&c| is_invisible(c)).collect();
    let visible: String = key.chars().filter(|&c| !is_invisible(c)).collect();
    let mut placeholders = Vec::new();
    let mut path = String::with_capacity(visible.len());
    for (i, segment) in visible.split('/').enumerate() {
        let is_placeholder = segment.len() > 2
            && segment.starts_with('<')
            && segment.ends_with('>')
            && !segment[1..segment.len() - 1].contains(['<', '>']);
        if is_placeholder {
            placeholders.push(segment.to_owned());
            continue;
        }
        if i > 0 {
            path.push('/');
        }
        path.push_str(segment);
    }
    if path.is_empty() {
        path.push('/');
    }
    Route { path, padding, placeholders }
}

/// The operations to leave out (W0307), as `(key, method)`.
pub(super) type LeftOut = BTreeSet<(String, String)>;

impl Lowerer<'_> {
    /// The route of every `paths` key, after the warnings for padding (W0305) and `<name>` segments (W0306),
    /// and the operations to leave out because another operation keeps their method and route (W0307), as
    /// `(key, method)`. Of operations sharing a method and route, the first whose key is its route keeps it,
    /// else the first without padding (padding is how a spec disguises a duplicate), else the first.
    pub(super) fn lower_routes(&mut self) -> (BTreeMap<String, Route>, LeftOut) {
        let mut routes = BTreeMap::new();
        // (method, route) -> the operations claiming it, as ((padded, has a `<name>` segment), key).
        type Claims = BTreeMap<(String, String), Vec<((bool, bool), String)>>;
        let mut claims = Claims::new();
        for (key, item) in &self.doc.paths.paths {
            let route = route_of(key);
            let at = format!("/paths/{}", escape_segment(key));
            if !route.padding.is_empty() {
                let chars: Vec<String> = route.padding.iter().map(|c| format!("U+{:04X}", u32::from(*c))).collect();
                self.diags
                    .warning(
                        "W0305",
                        &at,
                        format!("path `{key}` holds {} invisible character(s): {}", chars.len(), chars.join(" ")),
                    )
                    .label("invisible characters in this key")
                    .help(format!(
                        "authgen routes it as `{}`; invisible characters are not part of a route a client calls",
                        route.path
                    ));
            }
            for placeholder in &route.placeholders {
                let name = &placeholder[1..placeholder.len() - 1];
                self.diags
                    .warning("W0306", &at, format!("the segment `{placeholder}` of `{key}` is not a path template"))
                    .label("not an OpenAPI `{name}` template")
                    .help(format!(
                        "authgen routes it as `{}`, without the segment (read as optional, as the FDI's `<tenantId>` \
                         is); write `{{{name}}}` and declare it `in: path` if the segment is required",
                        route.path
                    ));
            }
            if let ReferenceOr::Item(item) = item {
                for (method, _) in item.iter() {
                    let claim = (method.to_owned(), route.path.clone());
                    let rewritten = (!route.padding.is_empty(), !route.placeholders.is_empty());
                    claims.entry(claim).or_default().push((rewritten, key.clone()));
                }
            }
            routes.insert(key.clone(), route);
        }
        let mut left_out = LeftOut::new();
        for ((method, path), keys) in claims {
            if keys.len() < 2 {
                continue;
            }
            let Some((_, keeper)) = keys.iter().min_by_key(|(rewritten, _)| *rewritten) else { continue };
            let keeper = keeper.clone();
            let kept_at = format!("/paths/{}/{method}", escape_segment(&keeper));
            for (_, key) in keys.into_iter().filter(|(_, k)| *k != keeper) {
                let at = format!("/paths/{}/{method}", escape_segment(&key));
                let upper = method.to_ascii_uppercase();
                // Named as the user wrote it: a Swagger 2.0 key has its `basePath` prefix only after conversion.
                let source = self.diags.source();
                let kept = source.original_pointer(&kept_at);
                let kept_line = source.locate(&kept_at).map_or_else(|| kept.clone(), |l| format!("line {}", l.line));
                self.diags
                    .warning("W0307", &at, format!("`{upper} {path}` is already the route of another operation"))
                    .label("this operation is left out")
                    .help(format!(
                        "authgen leaves this operation out and keeps the one at {kept_line} ({kept}); a router \
                         serves one operation per method and route, so give the two distinct paths"
                    ));
                left_out.insert((key, method.clone()));
            }
        }
        (routes, left_out)
    }
}

#[cfg(test)]
mod tests {
    use super::{Route, route_of};
    use crate::ir::lower::testing::{HEAD, lower_with_warnings};

    /// The FDI's shape: every operation keeps a route a router can serve once, the padded duplicate is left
    /// out, and the tenant form of a route merges with the plain one when their methods differ.
    #[test]
    fn fdi_style_keys_lower_to_distinct_routes() {
        let op = |id: &str| format!("{{operationId: {id}, responses: {{'200': {{description: ok}}}}}}");
        let yaml = format!(
            "{HEAD}paths:
  \"/auth/<tenantId>/signup/email/exists\\u2800\": {{get: {}}}
  /auth/<tenantId>/signup/email/exists: {{get: {}}}
  /auth/<tenantId>/user/email/verify: {{post: {}}}
  /auth/user/email/verify: {{get: {}}}
  /auth/signout: {{post: {}}}
",
            op("passwordlessExists"),
            op("emailPasswordExists"),
            op("verifyEmail"),
            op("isVerified"),
            op("signOut")
        );
        let (api, codes) = lower_with_warnings(&yaml);
        let routes: Vec<(&str, &str, &str)> =
            api.operations.iter().map(|o| (o.api_id.as_str(), o.method.as_str(), o.path.as_str())).collect();
        assert_eq!(
            routes,
            [
                ("emailPasswordExists", "GET", "/auth/signup/email/exists"),
                ("verifyEmail", "POST", "/auth/user/email/verify"),
                ("isVerified", "GET", "/auth/user/email/verify"),
                ("signOut", "POST", "/auth/signout"),
            ]
        );
        assert_eq!(codes, ["W0305", "W0306", "W0306", "W0306", "W0307"]);
    }

    #[test]
    fn keys_become_routes() {
        let cases: [(&str, &str, &[char], &[&str]); 7] = [
            ("/pets/{id}", "/pets/{id}", &[], &[]),
            ("/{apiBasePath}/<tenantId>/signin", "/{apiBasePath}/signin", &[], &["<tenantId>"]),
            ("/a/exists\u{2800}\u{2800}", "/a/exists", &['\u{2800}', '\u{2800}'], &[]),
            ("/<t>", "/", &[], &["<t>"]),
            ("/a\u{200B}/b /c", "/a/b/c", &['\u{200B}', ' '], &[]),
            // Brackets inside a segment, or unbalanced, are left as they are: only whole segments are read.
            ("/a/x<y>/<z", "/a/x<y>/<z", &[], &[]),
            ("/<tenantId>/<>/v\u{00A0}", "/<>/v", &['\u{00A0}'], &["<tenantId>"]),
        ];
        for (key, path, padding, placeholders) in cases {
            let want = Route {
                path: path.to_owned(),
                padding: padding.to_vec(),
                placeholders: placeholders.iter().map(|s| (*s).to_owned()).collect(),
            };
            assert_eq!(route_of(key), want, "{key:?}");
        }
    }
}
