//! Verifying the session of a request: the access token from `Authorization: Bearer` (checked first) or the
//! `sAccessToken` cookie, its signature and expiry, and the anti-CSRF check; plus the axum extractor.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::tokens::{AccessTokenVerifier, TokenError};
use super::transport::{ACCESS_TOKEN_COOKIE, TransferMode};
use crate::config::AntiCsrf;

/// Checks access tokens of requests. Cheap to clone; add it to your router as an
/// [`axum::Extension`] (see [`crate::AuthRecipes::session_verifier`]) so that [`VerifySession`] finds it.
#[derive(Debug, Clone)]
pub struct SessionVerifier {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tokens: AccessTokenVerifier,
    anti_csrf: AntiCsrf,
}

/// Where a request may carry its access token.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessTokenSources<'a> {
    /// The token of `Authorization: Bearer`.
    pub bearer: Option<&'a str>,
    /// The `sAccessToken` cookie.
    pub cookie: Option<&'a str>,
    /// Whether the request has a `rid` header (any value).
    pub has_rid: bool,
    /// Whether to run the anti-CSRF check (non-GET requests).
    pub anti_csrf_check: bool,
}

impl SessionVerifier {
    /// A verifier for tokens accepted by `tokens`, with anti-CSRF protection `anti_csrf`.
    pub fn new(tokens: AccessTokenVerifier, anti_csrf: AntiCsrf) -> Self {
        Self { inner: Arc::new(Inner { tokens, anti_csrf }) }
    }

    /// The session of a request: `Ok(None)` when it carries no access token of ours, an error when the
    /// token is expired, badly signed, or fails the anti-CSRF check (all `try refresh token`).
    pub fn verify(
        &self,
        sources: AccessTokenSources<'_>,
        now_s: i64,
    ) -> Result<Option<VerifySession>, SessionRejection> {
        let candidates = [(sources.bearer, TransferMode::Header), (sources.cookie, TransferMode::Cookie)];
        for (token, mode) in candidates {
            let Some(token) = token.filter(|t| !t.is_empty()) else { continue };
            let payload = match self.inner.tokens.verify(token, now_s) {
                // A token that is not shaped like ours is ignored, as supertokens-node does.
                Err(TokenError::Malformed) => continue,
                Err(TokenError::Expired | TokenError::InvalidSignature) => {
                    return Err(SessionRejection::TryRefreshToken);
                }
                Ok(payload) => payload,
            };
            let csrf_applies = mode == TransferMode::Cookie && sources.anti_csrf_check;
            if csrf_applies && self.inner.anti_csrf == AntiCsrf::ViaCustomHeader && !sources.has_rid {
                return Err(SessionRejection::TryRefreshToken);
            }
            let text = |key: &str| payload.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
            return Ok(Some(VerifySession {
                user_id: text("sub"),
                session_handle: text("sessionHandle"),
                tenant_id: text("tId"),
                transfer_mode: mode,
                access_token_payload: payload,
            }));
        }
        Ok(None)
    }

    fn verify_parts(&self, parts: &Parts) -> Result<Option<VerifySession>, SessionRejection> {
        let headers = &parts.headers;
        let bearer = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
        let cookie = headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == ACCESS_TOKEN_COOKIE)
            .map(|(_, value)| value.trim());
        let sources = AccessTokenSources {
            bearer,
            cookie,
            has_rid: headers.contains_key("rid"),
            anti_csrf_check: parts.method != axum::http::Method::GET,
        };
        self.verify(sources, crate::now_ms() / 1000)
    }
}

/// The session of a request, as an axum extractor. As `VerifySession` it requires a session and answers
/// 401 `{"message":"unauthorised"}` without one; as `Option<VerifySession>` a request without an access
/// token gets `None`. Either way an expired or invalid token answers 401 `{"message":"try refresh token"}`,
/// which makes the frontend SDKs refresh and retry.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifySession {
    /// The user id (`sub`).
    pub user_id: String,
    /// The session handle.
    pub session_handle: String,
    /// The tenant (`tId`).
    pub tenant_id: String,
    /// Whether the token came from a header or a cookie.
    pub transfer_mode: TransferMode,
    /// The whole access token payload.
    pub access_token_payload: Map<String, Value>,
}

/// Why a request has no usable session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRejection {
    /// No access token: 401 `unauthorised`.
    Unauthorised,
    /// An expired or invalid access token, or a failed anti-CSRF check: 401 `try refresh token`.
    TryRefreshToken,
    /// The router lacks the [`SessionVerifier`] extension: a programming error, 500.
    MissingVerifier,
}

impl SessionRejection {
    /// The status code.
    pub fn status(self) -> u16 {
        match self {
            Self::Unauthorised | Self::TryRefreshToken => 401,
            Self::MissingVerifier => 500,
        }
    }

    /// The `message` of the JSON body.
    pub fn message(self) -> &'static str {
        match self {
            Self::Unauthorised => "unauthorised",
            Self::TryRefreshToken => "try refresh token",
            Self::MissingVerifier => {
                "the session verifier is not configured: add AuthRecipes::session_verifier() as an axum Extension"
            }
        }
    }
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        let status = axum::http::StatusCode::from_u16(self.status()).unwrap_or(axum::http::StatusCode::UNAUTHORIZED);
        (status, axum::Json(serde_json::json!({ "message": self.message() }))).into_response()
    }
}

fn verifier(parts: &Parts) -> Result<&SessionVerifier, SessionRejection> {
    parts.extensions.get::<SessionVerifier>().ok_or(SessionRejection::MissingVerifier)
}

impl<S: Send + Sync> FromRequestParts<S> for VerifySession {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        verifier(parts)?.verify_parts(parts)?.ok_or(SessionRejection::Unauthorised)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for VerifySession {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        verifier(parts)?.verify_parts(parts)
    }
}
