//! Names: the only place that decides casing, keyword escaping and uniqueness of Rust identifiers.

use std::collections::BTreeSet;

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Rust keywords (all editions, strict and reserved) that cannot be plain identifiers.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do", "dyn", "else",
    "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "match", "mod",
    "move", "mut", "override", "priv", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true",
    "try", "type", "typeof", "union", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Type names that would shadow prelude items used by generated code.
const RESERVED_TYPES: &[&str] = &["Self", "Option", "Result", "String", "Vec", "Box", "Some", "None", "Ok", "Err"];

fn clean(input: &str) -> String {
    // Keep what may continue an identifier (letters, digits, combining marks; not `½` or `²`, which are
    // alphanumeric but not identifier characters); everything else, `_` included, becomes a word break.
    input.chars().map(|c| if c != '_' && unicode_ident::is_xid_continue(c) { c } else { ' ' }).collect()
}

fn fix_start(mut name: String, fallback: &str) -> String {
    if name.is_empty() {
        return fallback.to_owned();
    }
    let first = name.chars().next().unwrap_or('_');
    if !(unicode_ident::is_xid_start(first) || first == '_') {
        name.insert(0, '_');
    }
    name
}

/// `snake_case` for fields, methods and modules; keywords get a trailing `_`.
pub fn snake(input: &str) -> String {
    let s = clean(input).to_snake_case();
    let s = fix_start(s, "field");
    if KEYWORDS.contains(&s.as_str()) { format!("{s}_") } else { s }
}

/// `PascalCase` for types and variants; names that clash with prelude items get a trailing `_`.
pub fn pascal(input: &str) -> String {
    let s = clean(input).to_upper_camel_case();
    let s = fix_start(s, "Type");
    if RESERVED_TYPES.contains(&s.as_str()) || KEYWORDS.contains(&s.as_str()) { format!("{s}_") } else { s }
}

/// `PascalCase` for enum variants: like [`pascal`], but prelude names such as `Ok` stay as they are,
/// since generated code spells those paths out in full.
pub fn variant(input: &str) -> String {
    let s = clean(input).to_upper_camel_case();
    let s = fix_start(s, "Variant");
    if KEYWORDS.contains(&s.as_str()) || s == "Self" { format!("{s}_") } else { s }
}

/// The variant name of a status code, from its reason phrase (`404` -> `NotFound`).
pub fn status_variant(code: u16) -> String {
    let reason = match code {
        100 => "Continue",
        101 => "SwitchingProtocols",
        200 => "Ok",
        201 => "Created",
        202 => "Accepted",
        203 => "NonAuthoritativeInformation",
        204 => "NoContent",
        205 => "ResetContent",
        206 => "PartialContent",
        300 => "MultipleChoices",
        301 => "MovedPermanently",
        302 => "Found",
        303 => "SeeOther",
        304 => "NotModified",
        307 => "TemporaryRedirect",
        308 => "PermanentRedirect",
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "PaymentRequired",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        408 => "RequestTimeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "LengthRequired",
        412 => "PreconditionFailed",
        413 => "PayloadTooLarge",
        414 => "UriTooLong",
        415 => "UnsupportedMediaType",
        416 => "RangeNotSatisfiable",
        417 => "ExpectationFailed",
        422 => "UnprocessableEntity",
        423 => "Locked",
        425 => "TooEarly",
        426 => "UpgradeRequired",
        428 => "PreconditionRequired",
        429 => "TooManyRequests",
        431 => "RequestHeaderFieldsTooLarge",
        451 => "UnavailableForLegalReasons",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => return format!("Status{code}"),
    };
    reason.to_owned()
}

/// Hands out names that are unique within one scope, appending `2`, `3`, ... on collision.
#[derive(Debug, Default)]
pub struct Scope {
    taken: BTreeSet<String>,
}

impl Scope {
    /// A scope where `reserved` are already taken.
    pub fn with_reserved(reserved: &[&str]) -> Self {
        Self { taken: reserved.iter().map(|s| (*s).to_owned()).collect() }
    }

    /// Claims `name`, or the first free `name2`, `name3`, ...
    pub fn claim(&mut self, name: String) -> String {
        if self.taken.insert(name.clone()) {
            return name;
        }
        let base = name.trim_end_matches('_').to_owned();
        let mut n = 2;
        loop {
            let candidate = format!("{base}{n}");
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }
}

/// A stable operation name for operations without `operationId`: method plus path words,
/// `{id}` becoming `by_id` (`GET /pets/{id}` -> `get_pets_by_id`).
pub fn derived_operation_id(method: &str, path: &str) -> String {
    let mut words = vec![method.to_ascii_lowercase()];
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        if let Some(p) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            words.push(format!("by_{p}"));
        } else {
            words.push(seg.to_owned());
        }
    }
    snake(&words.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases() {
        let cases = [
            ("preAuthSessionId", "pre_auth_session_id"),
            ("fdi-version", "fdi_version"),
            ("st-auth-mode", "st_auth_mode"),
            ("type", "type_"),
            ("self", "self_"),
            ("3d", "_3d"),
            ("Access-Control-Expose-Headers", "access_control_expose_headers"),
            ("", "field"),
            ("$ref", "ref_"),
            ("gen", "gen_"),
        ];
        for (input, want) in cases {
            assert_eq!(snake(input), want, "snake({input:?})");
        }
    }

    #[test]
    fn pascal_cases() {
        let cases = [
            ("createCode", "CreateCode"),
            ("SIGN_IN_UP_NOT_ALLOWED", "SignInUpNotAllowed"),
            ("OK", "Ok_"),
            ("Result", "Result_"),
            ("Self", "Self_"),
            ("3d", "_3d"),
            ("user-info", "UserInfo"),
            ("café", "Café"),
        ];
        for (input, want) in cases {
            assert_eq!(pascal(input), want, "pascal({input:?})");
        }
    }

    #[test]
    fn variants() {
        assert_eq!(variant("OK"), "Ok");
        assert_eq!(variant("Self"), "Self_");
        assert_eq!(variant("self"), "Self_");
        assert_eq!(variant("RESTART_FLOW_ERROR"), "RestartFlowError");
    }

    #[test]
    fn characters_that_are_alphanumeric_but_not_identifiers_are_word_breaks() {
        for input in ["A½", "x²", "½", "Ⅻ", "٣d", "\u{301}e", "a\u{200d}b", "日本語", "naïve-ß"] {
            for name in [snake(input), pascal(input), variant(input)] {
                assert!(syn::parse_str::<syn::Ident>(&name).is_ok(), "{input:?} -> {name:?} is not an identifier");
            }
        }
        assert_eq!(pascal("A½"), "A");
        assert_eq!(snake("½"), "field");
    }

    #[test]
    fn statuses() {
        assert_eq!(status_variant(200), "Ok");
        assert_eq!(status_variant(303), "SeeOther");
        assert_eq!(status_variant(418), "Status418");
    }

    #[test]
    fn scopes_deduplicate() {
        let mut s = Scope::with_reserved(&["Request"]);
        assert_eq!(s.claim("Request".into()), "Request2");
        assert_eq!(s.claim("Pet".into()), "Pet");
        assert_eq!(s.claim("Pet".into()), "Pet2");
        assert_eq!(s.claim("Pet".into()), "Pet3");
    }

    #[test]
    fn derived_ids() {
        assert_eq!(derived_operation_id("GET", "/pets/{petId}"), "get_pets_by_pet_id");
        assert_eq!(derived_operation_id("post", "/auth/signinup/code"), "post_auth_signinup_code");
    }
}
