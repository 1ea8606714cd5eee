//! Email verification (SuperTokens' EmailVerification recipe): whether it is on ([`EmailVerificationMode`]),
//! its tokens, the link the frontend SDKs expect, and the `st-ev` session claim.
//!
//! A token is 32 random bytes from the operating system's CSPRNG (base64url, 43 characters), sent in the link
//! and stored only as its SHA-256 hash; it is used once, in the tenant it was made for, within
//! [`TOKEN_LIFETIME`]. An email counts as verified for a user when the user signed in with it through a
//! passwordless code, when their provider reported it verified, or when a token verified it; a user without
//! an email (a phone number) counts as verified, as supertokens-node counts them.
//!
//! The claim is `"st-ev": {"v": <verified>, "t": <ms when read>}` in the access token payload (so also in
//! the front token the SDKs read), set when a session starts and read again on every refresh. With
//! [`EmailVerificationMode::Required`], [`crate::VerifySession`] refuses a session whose claim is not true
//! with the FDI's 403 (see [`crate::SessionRejection::EmailNotVerified`]).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::config::ConfigError;
use crate::ids::{self, RandomError};

/// How long a verification token is valid: one day, SuperTokens' default.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The claim's key in the access token payload.
pub const CLAIM: &str = "st-ev";

/// The recipe id (`rid`) of the email verification routes.
pub const RECIPE_ID: &str = "emailverification";

/// Whether email verification is on, and whether protected routes require it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmailVerificationMode {
    /// Verified emails are required: protected routes refuse a session whose `st-ev` claim is not true.
    Required,
    /// Users may verify their email; nothing requires it.
    Optional,
    /// The recipe is off (the default): its routes answer 404 and access tokens carry no `st-ev` claim,
    /// as supertokens-node without the recipe.
    #[default]
    Off,
}

impl EmailVerificationMode {
    /// Every value, as the server's flag spells it.
    pub const VALUES: &'static [&'static str] = &["REQUIRED", "OPTIONAL", "OFF"];

    /// The value as the server's flag spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "REQUIRED",
            Self::Optional => "OPTIONAL",
            Self::Off => "OFF",
        }
    }

    /// Whether the recipe is on.
    pub fn is_on(self) -> bool {
        self != Self::Off
    }
}

impl fmt::Display for EmailVerificationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EmailVerificationMode {
    type Err = ConfigError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "REQUIRED" => Ok(Self::Required),
            "OPTIONAL" => Ok(Self::Optional),
            "OFF" => Ok(Self::Off),
            _ => Err(ConfigError::UnknownValue { value: value.to_owned(), expected: Self::VALUES }),
        }
    }
}

/// A new verification token: 32 random bytes, base64url without padding.
pub fn new_token() -> Result<String, RandomError> {
    Ok(URL_SAFE_NO_PAD.encode(ids::random_bytes::<32>()?))
}

/// The stored form of a token: base64url without padding of its SHA-256.
pub fn token_hash(token: &str) -> String {
    ids::refresh_token_hash(token)
}

/// The link the frontend's verify-email page reads: `<websiteDomain>/auth/verify-email?token=..&tenantId=..`
/// (the token is base64url and tenant ids are letters, digits and dashes, so neither needs escaping).
pub fn verify_link(website_domain: &str, token: &str, tenant_id: &str) -> String {
    format!("{website_domain}{}/verify-email?token={token}&tenantId={tenant_id}", crate::config::BASE_PATH)
}

/// Sets the claim in an access token payload: `verified` as read at `now_ms`.
pub fn set_claim(payload: &mut Map<String, Value>, verified: bool, now_ms: i64) {
    payload.insert(CLAIM.to_owned(), json!({ "v": verified, "t": now_ms }));
}

/// The claim's value in a payload: `None` when it is missing or not a boolean.
pub fn claim_value(payload: &Map<String, Value>) -> Option<bool> {
    payload.get(CLAIM)?.get("v")?.as_bool()
}

/// Why a payload fails the claim's check (supertokens-node's `hasValue(true)` reasons), or `None` when the
/// email is verified.
pub fn claim_failure(payload: &Map<String, Value>) -> Option<Value> {
    match claim_value(payload) {
        Some(true) => None,
        Some(false) => Some(json!({ "message": "wrong value", "expectedValue": true, "actualValue": false })),
        None => Some(json!({ "message": "value does not exist", "expectedValue": true })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token().expect("random"), new_token().expect("random"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "{a}");
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "{a}");
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }

    #[test]
    fn the_link_is_the_one_the_sdk_reads() {
        assert_eq!(
            verify_link("http://localhost:3000", "abc", "public"),
            "http://localhost:3000/auth/verify-email?token=abc&tenantId=public"
        );
    }

    #[test]
    fn the_claim_check_gives_node_s_reasons() {
        let mut payload = Map::new();
        assert_eq!(claim_failure(&payload).expect("missing")["message"], "value does not exist");
        set_claim(&mut payload, false, 7);
        assert_eq!(payload[CLAIM], json!({"v": false, "t": 7}));
        assert_eq!(
            claim_failure(&payload),
            Some(json!({"message": "wrong value", "expectedValue": true, "actualValue": false}))
        );
        set_claim(&mut payload, true, 8);
        assert_eq!(claim_failure(&payload), None);
        assert_eq!("OPTIONAL".parse::<EmailVerificationMode>().expect("valid"), EmailVerificationMode::Optional);
        assert!("optional".parse::<EmailVerificationMode>().is_err());
    }
}
