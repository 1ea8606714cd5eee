//! Verifying the session of a request: the access token from `Authorization: Bearer` (checked first) or the
//! `sAccessToken` cookie, its signature and expiry, the anti-CSRF check, and whether its session is still live
//! in the store (see `live.rs`); plus the axum and actix-web extractors.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::keys::KeyRing;
use super::live::{LiveSessions, Liveness};
use super::tokens::{self, AccessTokenVerifier, RefreshBinding, TokenError};
use super::transport::{ACCESS_TOKEN_COOKIE, TransferMode};
use crate::config::AntiCsrf;
use crate::store::Store;

/// Checks access tokens of requests. Cheap to clone; add it to your router as an
/// [`axum::Extension`] (see [`crate::AuthRecipes::session_verifier`]) so that [`VerifySession`] finds it.
#[derive(Debug, Clone)]
pub struct SessionVerifier {
    inner: Arc<Inner>,
    /// Whether [`VerifySession`] requires the `st-ev` claim to be true ([`crate::EmailVerificationMode::Required`]).
    require_verified_email: bool,
}

#[derive(Debug)]
struct Inner {
    keys: Keys,
    anti_csrf: AntiCsrf,
    /// The store's view of which sessions are live; `None` for a verifier of tokens alone.
    live: Option<LiveSessions>,
}

/// Where the verifier's keys come from.
#[derive(Debug)]
enum Keys {
    /// A fixed set.
    Fixed(AccessTokenVerifier),
    /// The instance's key ring, reloaded from the store.
    Ring(Arc<KeyRing>),
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
    /// A verifier for tokens accepted by `tokens`, with anti-CSRF protection `anti_csrf`. It checks tokens
    /// alone: without the store it cannot tell that a session was signed out, so a token stays valid until it
    /// expires.
    pub fn new(tokens: AccessTokenVerifier, anti_csrf: AntiCsrf) -> Self {
        Self {
            inner: Arc::new(Inner { keys: Keys::Fixed(tokens), anti_csrf, live: None }),
            require_verified_email: false,
        }
    }

    /// A verifier for the keys of `ring`, as they are reloaded and rotated; like [`SessionVerifier::new`], it
    /// checks tokens alone.
    pub fn with_key_ring(ring: Arc<KeyRing>, anti_csrf: AntiCsrf) -> Self {
        Self { inner: Arc::new(Inner { keys: Keys::Ring(ring), anti_csrf, live: None }), require_verified_email: false }
    }

    /// A verifier for the keys of `ring` that also refuses tokens of sessions that ended (signed out, revoked
    /// after token theft, expired), as `store` says; each answer of the store is reused for `ttl` (zero: the
    /// store is asked on every request). [`crate::AuthRecipes::session_verifier`] is one.
    pub fn with_session_store<S: Store>(
        ring: Arc<KeyRing>,
        anti_csrf: AntiCsrf,
        store: Arc<S>,
        ttl: std::time::Duration,
    ) -> Self {
        let live = Some(LiveSessions::new(store, ttl));
        Self { inner: Arc::new(Inner { keys: Keys::Ring(ring), anti_csrf, live }), require_verified_email: false }
    }

    /// This verifier, but [`VerifySession`] (the extractors and [`SessionVerifier::verify_headers`]) refuses a
    /// session whose `st-ev` claim is not true with [`SessionRejection::EmailNotVerified`] (403), as
    /// supertokens-node's global claim validator does with email verification `REQUIRED`. Sign-out and the email
    /// verification routes check the session without it.
    pub fn requiring_verified_email(mut self, required: bool) -> Self {
        self.require_verified_email = required;
        self
    }

    /// The token of a request: `Ok(None)` when it carries no access token of ours, an error when the
    /// token is expired, badly signed, or fails the anti-CSRF check (all `try refresh token`). Checks
    /// against the keys as currently loaded and does not consult the store; [`SessionVerifier::verify_session`]
    /// is the whole check.
    pub fn verify(
        &self,
        sources: AccessTokenSources<'_>,
        now_s: i64,
    ) -> Result<Option<VerifySession>, SessionRejection> {
        match &self.inner.keys {
            Keys::Fixed(tokens) => self.verify_with(tokens, sources, now_s),
            Keys::Ring(ring) => self.verify_with(ring.current().verifier(), sources, now_s),
        }
    }

    /// Like [`SessionVerifier::verify`], but when a token names a key id this instance has not loaded (a key
    /// another instance just added), reloads the keys from the store first (at most once a second). Still the
    /// token alone: [`SessionVerifier::verify_session`] also checks that its session is live.
    pub async fn verify_reloading(
        &self,
        sources: AccessTokenSources<'_>,
        now_s: i64,
    ) -> Result<Option<VerifySession>, SessionRejection> {
        let first = self.verify(sources, now_s);
        let Keys::Ring(ring) = &self.inner.keys else { return first };
        if first.is_ok() {
            return first;
        }
        let current = ring.current();
        let unknown = [sources.bearer, sources.cookie]
            .into_iter()
            .flatten()
            .filter_map(tokens::key_id_of)
            .find(|kid| !current.verifier().knows(kid));
        match unknown {
            Some(kid) if ring.reload_for_unknown_key(&kid).await => self.verify(sources, now_s),
            _ => first,
        }
    }

    /// The session of a request, checked in full: the token as [`SessionVerifier::verify_reloading`] checks
    /// it, then, for a verifier with the store ([`SessionVerifier::with_session_store`]), that its session has
    /// not ended since it was issued: a token of a session signed out, revoked after token theft or expired is
    /// [`SessionRejection::SessionEnded`]. The store's answer is reused for the configured TTL, so on other
    /// instances sharing the store an ended session is refused at most that long later.
    ///
    /// A token issued by a refresh names its refresh token, pending until used: the first such request (per
    /// instance and TTL) records the use in the store, after which presenting the refresh token before it is
    /// theft. A token of a refresh token the session has moved past since (a later one was used) is
    /// [`SessionRejection::TryRefreshToken`].
    pub async fn verify_session(
        &self,
        sources: AccessTokenSources<'_>,
        now_s: i64,
    ) -> Result<Option<VerifySession>, SessionRejection> {
        let session = self.verify_reloading(sources, now_s).await?;
        let (Some(found), Some(live)) = (&session, &self.inner.live) else { return Ok(session) };
        let binding = RefreshBinding::of(&found.access_token_payload);
        match live.check(&found.session_handle, binding.as_ref()).await {
            Ok(Liveness::Live) => Ok(session),
            Ok(Liveness::Ended) => Err(SessionRejection::SessionEnded),
            // A token of a refresh token the session has moved past (another tab refreshed since): the client
            // refreshes with the refresh token it holds, which is current, or theft.
            Ok(Liveness::Superseded) => Err(SessionRejection::TryRefreshToken),
            Err(error) => {
                tracing::error!(%error, "the session could not be checked in the store");
                Err(SessionRejection::StoreUnavailable)
            }
        }
    }

    /// Records that this instance ended a session (sign-out, token theft), so that its tokens are refused here
    /// at once, whatever the TTL.
    pub(crate) fn session_ended(&self, session_handle: &str) {
        if let Some(live) = &self.inner.live {
            live.ended(session_handle);
        }
    }

    fn verify_with(
        &self,
        tokens: &AccessTokenVerifier,
        sources: AccessTokenSources<'_>,
        now_s: i64,
    ) -> Result<Option<VerifySession>, SessionRejection> {
        let candidates = [(sources.bearer, TransferMode::Header), (sources.cookie, TransferMode::Cookie)];
        for (token, mode) in candidates {
            let Some(token) = token.filter(|t| !t.is_empty()) else { continue };
            let payload = match tokens.verify(token, now_s) {
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

    async fn verify_parts(&self, parts: &Parts) -> Result<Option<VerifySession>, SessionRejection> {
        let headers = &parts.headers;
        let authorization = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let cookies = headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok());
        self.verify_headers(authorization, cookies, headers.contains_key("rid"), parts.method.as_str()).await
    }

    /// The session from the raw header values of a request, whatever the web framework: `authorization`,
    /// every `cookie` header, whether `rid` is present, and the method; checked in full, as
    /// [`SessionVerifier::verify_session`] does, and then, for a verifier
    /// [requiring verified emails](SessionVerifier::requiring_verified_email), its `st-ev` claim.
    pub async fn verify_headers<'a>(
        &self,
        authorization: Option<&'a str>,
        cookies: impl Iterator<Item = &'a str>,
        has_rid: bool,
        method: &str,
    ) -> Result<Option<VerifySession>, SessionRejection> {
        let sources = sources_from_headers(authorization, cookies, has_rid, method);
        let session = self.verify_session(sources, crate::now_ms() / 1000).await?;
        if let Some(found) = &session
            && self.require_verified_email
            && crate::emailverification::claim_failure(&found.access_token_payload).is_some()
        {
            return Err(SessionRejection::EmailNotVerified {
                claim_present: found.access_token_payload.contains_key(crate::emailverification::CLAIM),
            });
        }
        Ok(session)
    }
}

/// Where the access token of a request is: the `authorization` value and every `cookie` header.
fn sources_from_headers<'a>(
    authorization: Option<&'a str>,
    cookies: impl Iterator<Item = &'a str>,
    has_rid: bool,
    method: &str,
) -> AccessTokenSources<'a> {
    let bearer = authorization.and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let cookie = cookies
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == ACCESS_TOKEN_COOKIE)
        .map(|(_, value)| value.trim());
    AccessTokenSources { bearer, cookie, has_rid, anti_csrf_check: !method.eq_ignore_ascii_case("GET") }
}

/// The session of a request, as an axum extractor. As `VerifySession` it requires a session and answers
/// 401 `{"message":"unauthorised"}` without one; as `Option<VerifySession>` a request without an access
/// token gets `None`. Either way an expired or invalid token answers 401 `{"message":"try refresh token"}`,
/// which makes the frontend SDKs refresh and retry, and the token of a session that ended (signed out,
/// revoked after token theft) answers 401 `{"message":"unauthorised"}`.
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

impl VerifySession {
    /// This session, if it is one of `tenant_id` (its access token's `tId`); for a route that serves one
    /// tenant, such as one under `/<tenantId>/...`, a session of another tenant is refused with
    /// [`SessionRejection::OtherTenant`].
    pub fn for_tenant(self, tenant_id: &str) -> Result<Self, SessionRejection> {
        if self.tenant_id == tenant_id { Ok(self) } else { Err(SessionRejection::OtherTenant) }
    }
}

/// Why a request has no usable session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRejection {
    /// No access token: 401 `unauthorised`.
    Unauthorised,
    /// An expired or invalid access token, or a failed anti-CSRF check: 401 `try refresh token`.
    TryRefreshToken,
    /// A valid access token of a session that has ended (signed out, revoked after token theft, expired):
    /// 401 `unauthorised`, as SuperTokens answers when it checks the session in its database.
    SessionEnded,
    /// A session of another tenant than the one the route serves ([`VerifySession::for_tenant`]): 401
    /// `unauthorised`, supertokens-node's answer to a session that is not valid for the request's tenant. A
    /// user of one tenant is nobody on another.
    OtherTenant,
    /// The store could not say whether the session is live: 500, and the error is logged.
    StoreUnavailable,
    /// The router lacks the [`SessionVerifier`] extension: a programming error, 500.
    MissingVerifier,
    /// Email verification is required and the session's `st-ev` claim is not true (`claim_present`: it is
    /// false; otherwise the token has no claim): 403 `invalid claim`, with the claim's validation error.
    EmailNotVerified {
        /// Whether the access token has the claim.
        claim_present: bool,
    },
}

impl SessionRejection {
    /// The status code.
    pub fn status(self) -> u16 {
        match self {
            Self::Unauthorised | Self::TryRefreshToken | Self::SessionEnded | Self::OtherTenant => 401,
            Self::EmailNotVerified { .. } => 403,
            Self::MissingVerifier | Self::StoreUnavailable => 500,
        }
    }

    /// The `message` of the JSON body.
    pub fn message(self) -> &'static str {
        match self {
            Self::Unauthorised | Self::SessionEnded | Self::OtherTenant => "unauthorised",
            Self::StoreUnavailable => "internal error",
            Self::TryRefreshToken => "try refresh token",
            Self::EmailNotVerified { .. } => "invalid claim",
            Self::MissingVerifier => {
                "the session verifier is not configured: add AuthRecipes::session_verifier() as an axum Extension"
            }
        }
    }
}

impl SessionRejection {
    /// The JSON body: `{"message": ..}`, and for a failed claim the FDI's `claimValidationErrors`.
    pub fn body(self) -> Value {
        match self {
            Self::EmailNotVerified { claim_present } => {
                let mut payload = Map::new();
                if claim_present {
                    crate::emailverification::set_claim(&mut payload, false, 0);
                }
                let reason = crate::emailverification::claim_failure(&payload);
                serde_json::json!({
                    "message": self.message(),
                    "claimValidationErrors": [{ "id": crate::emailverification::CLAIM, "reason": reason }],
                })
            }
            _ => serde_json::json!({ "message": self.message() }),
        }
    }
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        let status = axum::http::StatusCode::from_u16(self.status()).unwrap_or(axum::http::StatusCode::UNAUTHORIZED);
        (status, axum::Json(self.body())).into_response()
    }
}

fn verifier(parts: &Parts) -> Result<&SessionVerifier, SessionRejection> {
    parts.extensions.get::<SessionVerifier>().ok_or(SessionRejection::MissingVerifier)
}

impl<S: Send + Sync> FromRequestParts<S> for VerifySession {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        verifier(parts)?.verify_parts(parts).await?.ok_or(SessionRejection::Unauthorised)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for VerifySession {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        verifier(parts)?.verify_parts(parts).await
    }
}

impl std::fmt::Display for SessionRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for SessionRejection {}

#[cfg(feature = "actix-web")]
mod actix {
    //! The same extractors for actix-web routes; the verifier is found in the app data
    //! (`App::new().app_data(recipes.session_verifier())`).

    use super::{SessionRejection, SessionVerifier, VerifySession};

    /// A boxed future for actix-web's single-threaded extractors.
    type LocalBoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

    impl actix_web::ResponseError for SessionRejection {
        fn status_code(&self) -> actix_web::http::StatusCode {
            actix_web::http::StatusCode::from_u16(self.status())
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
        }

        fn error_response(&self) -> actix_web::HttpResponse {
            actix_web::HttpResponse::build(self.status_code()).json(self.body())
        }
    }

    /// The session of an actix-web request. The header values are copied so the verification (which may
    /// reload keys another instance added) can run after the extractor returns.
    fn extract(req: &actix_web::HttpRequest) -> LocalBoxFuture<Result<Option<VerifySession>, SessionRejection>> {
        let Some(verifier) = req.app_data::<SessionVerifier>().cloned() else {
            return Box::pin(std::future::ready(Err(SessionRejection::MissingVerifier)));
        };
        let headers = req.headers();
        let authorization =
            headers.get(actix_web::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let cookies: Vec<String> = headers
            .get_all(actix_web::http::header::COOKIE)
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        let has_rid = headers.contains_key("rid");
        let method = req.method().as_str().to_owned();
        Box::pin(async move {
            verifier
                .verify_headers(authorization.as_deref(), cookies.iter().map(String::as_str), has_rid, &method)
                .await
        })
    }

    /// Requires a session: 401 `unauthorised` without an access token or for one of an ended session, 401
    /// `try refresh token` for an expired or invalid one.
    impl actix_web::FromRequest for VerifySession {
        type Error = SessionRejection;
        type Future = LocalBoxFuture<Result<Self, SessionRejection>>;

        fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
            let session = extract(req);
            Box::pin(async move { session.await.and_then(|s| s.ok_or(SessionRejection::Unauthorised)) })
        }
    }

    /// An optional session for actix-web routes: `None` without an access token, while an expired or invalid
    /// token still answers 401 `try refresh token`. (actix-web's own `Option<T>` would swallow that error.)
    #[derive(Debug, Clone, PartialEq)]
    pub struct OptionalSession(pub Option<VerifySession>);

    impl actix_web::FromRequest for OptionalSession {
        type Error = SessionRejection;
        type Future = LocalBoxFuture<Result<Self, SessionRejection>>;

        fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
            let session = extract(req);
            Box::pin(async move { session.await.map(OptionalSession) })
        }
    }
}

#[cfg(feature = "actix-web")]
pub use actix::OptionalSession;
