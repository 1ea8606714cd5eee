//! Sessions: starting one when a user signs in, refreshing it (rotating the refresh token, detecting theft),
//! signing out, and the JWKS that verifies the access tokens.

use auth_api::ops::{get_jwks, refresh_session, sign_out};
use auth_api::types::{EmptyObject, Jwk, Jwks, SignOutResponse, StatusOk};

use super::{AuthRecipes, Failure, message};
use crate::now_ms;
use crate::session::tokens::{self, AccessTokenClaims, RefreshBinding};
use crate::session::transport::{IssuedTokens, SessionHeaders, TransferMode};
use crate::session::{AccessTokenSources, SessionRejection, VerifySession};
use crate::store::{NewSession, RefreshOutcome, Store, UserRecord};
use crate::{audit, ids};

/// How old the loaded keys may be when the JWKS is served.
const JWKS_MAX_STALENESS: std::time::Duration = std::time::Duration::from_secs(1);

/// How long verifying services may cache the JWKS; they fetch it again when a token names an unknown kid.
const JWKS_CACHE_CONTROL: &str = "max-age=60, must-revalidate";

pub(super) async fn refresh_session<S: Store>(
    recipes: &AuthRecipes<S>,
    request: refresh_session::Request,
) -> refresh_session::Response {
    match recipes.refresh(request).await {
        Ok(response) => response,
        Err(failure) => refresh_session::Response::InternalServerError(failure.into_body("refreshSession")),
    }
}

pub(super) async fn sign_out<S: Store>(recipes: &AuthRecipes<S>, request: sign_out::Request) -> sign_out::Response {
    let sources = AccessTokenSources {
        bearer: request.access_token_bearer.as_deref(),
        cookie: request.access_token_cookie.as_deref(),
        has_rid: request.rid.is_some(),
        anti_csrf_check: true,
    };
    let session = match recipes.verifier.verify_session(sources, now_ms() / 1000).await {
        Ok(Some(session)) => session,
        Ok(None) => return sign_out_rejected(SessionRejection::Unauthorised, SessionHeaders::default()),
        // Signed out already, or revoked: unauthorised with every token cleared, as supertokens-node answers
        // when core says the session is gone.
        Err(SessionRejection::SessionEnded) => {
            let headers = SessionHeaders::cleared_everywhere(&recipes.config);
            return sign_out_rejected(SessionRejection::SessionEnded, headers);
        }
        Err(SessionRejection::StoreUnavailable) => {
            return sign_out::Response::InternalServerError(message("internal error"));
        }
        Err(rejection) => return sign_out_rejected(rejection, SessionHeaders::default()),
    };
    match recipes.revoke(session).await {
        Ok(response) => response,
        Err(failure) => sign_out::Response::InternalServerError(failure.into_body("signOut")),
    }
}

pub(super) async fn jwks<S: Store>(recipes: &AuthRecipes<S>) -> get_jwks::Response {
    // Another instance may just have rotated: a verifying service that met an unknown kid asks here, so the
    // set is reloaded when it is over a second old. If the store is unreachable, the loaded set is served.
    if let Err(error) = recipes.keys.reload_if_older_than(JWKS_MAX_STALENESS).await {
        tracing::warn!(%error, "serving the JWKS as last loaded: reloading the signing keys failed");
    }
    let keys = recipes.keys.current();
    let jwks = Jwks {
        keys: keys
            .published(now_ms() / 1000)
            .into_iter()
            .map(|key| {
                let jwk = key.to_jwk();
                Jwk {
                    kty: "EC".to_owned(),
                    crv: "P-256".to_owned(),
                    x: jwk.x,
                    y: jwk.y,
                    kid: jwk.key_id,
                    alg: tokens::ALGORITHM.to_owned(),
                    use_: "sig".to_owned(),
                }
            })
            .collect(),
    };
    let headers = get_jwks::OkHeaders { cache_control: Some(JWKS_CACHE_CONTROL.to_owned()) };
    get_jwks::Response::Ok { body: jwks, headers }
}

/// Sign-out without a usable session: 401 with the rejection's message and `headers`.
fn sign_out_rejected(rejection: SessionRejection, headers: SessionHeaders) -> sign_out::Response {
    sign_out::Response::Unauthorized { body: message(rejection.message()), headers: headers.into() }
}

impl<S: Store> AuthRecipes<S> {
    /// Creates a session for a user who just signed in and the headers that hand its tokens over.
    pub(super) async fn start_session(
        &self,
        user: &UserRecord,
        st_auth_mode: Option<&str>,
    ) -> Result<SessionHeaders, Failure> {
        let tokens = self.create_session(user).await?;
        Ok(SessionHeaders::with_tokens(&self.config, TransferMode::for_new_session(st_auth_mode), &tokens))
    }

    async fn create_session(&self, user: &UserRecord) -> Result<IssuedTokens, Failure> {
        let now = now_ms();
        let session_handle = ids::uuid_v4()?;
        let refresh_token = ids::refresh_token()?;
        let refresh_token_expires_at_ms = now.saturating_add(self.refresh_lifetime_ms());
        self.store
            .create_session(&NewSession {
                session_handle: session_handle.clone(),
                user_id: user.user_id.clone(),
                tenant_id: user.tenant_id.clone(),
                refresh_token_hash: ids::refresh_token_hash(&refresh_token),
                created_at_ms: now,
                expires_at_ms: refresh_token_expires_at_ms,
            })
            .await?;
        let email_verified = self.email_verified_claim(Some(user)).await?;
        Ok(self.issue_tokens(
            &user.user_id,
            &session_handle,
            &user.tenant_id,
            (refresh_token, None),
            (refresh_token_expires_at_ms, email_verified),
            now,
        ))
    }

    fn refresh_lifetime_ms(&self) -> i64 {
        i64::try_from(self.config.refresh_token_lifetime.as_millis()).unwrap_or(i64::MAX)
    }

    /// Signs a new access token for a session and bundles it with the session's refresh token; an access token
    /// issued with a pending refresh token names it (`binding`), and carries the `st-ev` claim when email
    /// verification is on (`email_verified`, see [`AuthRecipes::email_verified_claim`]).
    fn issue_tokens(
        &self,
        user_id: &str,
        session_handle: &str,
        tenant_id: &str,
        (refresh_token, binding): (String, Option<RefreshBinding>),
        (refresh_token_expires_at_ms, email_verified): (i64, Option<bool>),
        now: i64,
    ) -> IssuedTokens {
        let issued_at_s = now / 1000;
        let lifetime_s = i64::try_from(self.config.access_token_lifetime.as_secs()).unwrap_or(i64::MAX / 2000);
        let claims = AccessTokenClaims {
            user_id: user_id.to_owned(),
            session_handle: session_handle.to_owned(),
            tenant_id: tenant_id.to_owned(),
            issued_at_s,
            expires_at_s: issued_at_s.saturating_add(lifetime_s),
            issuer: self.config.issuer(),
        };
        let mut payload = claims.to_payload();
        if let Some(binding) = binding {
            binding.add_to(&mut payload);
        }
        if let Some(verified) = email_verified {
            crate::emailverification::set_claim(&mut payload, verified, now);
        }
        IssuedTokens {
            user_id: user_id.to_owned(),
            access_token: self.keys.current().signing_key().sign(&payload),
            access_token_expires_at_ms: claims.expires_at_s.saturating_mul(1000),
            access_token_payload: payload,
            refresh_token,
            refresh_token_expires_at_ms,
        }
    }

    async fn refresh(&self, request: refresh_session::Request) -> Result<refresh_session::Response, Failure> {
        use refresh_session::Response;
        let non_empty = |token: Option<String>| token.filter(|t| !t.is_empty());
        let header_token = non_empty(request.refresh_token_bearer);
        let cookie_token = non_empty(request.refresh_token_cookie);
        let has_legacy_cookie = request.s_id_refresh_token.is_some();
        let unauthorised =
            |headers: SessionHeaders| Response::Unauthorized { body: message("unauthorised"), headers: headers.into() };
        let (token, mode) = match (&header_token, &cookie_token) {
            (Some(token), _) => (token, TransferMode::Header),
            (None, Some(token)) => (token, TransferMode::Cookie),
            (None, None) => {
                // Tokens are not cleared here: a concurrent request may just have set new ones.
                let mut headers = SessionHeaders::default();
                if has_legacy_cookie {
                    headers.clear_legacy_id_refresh_token(&self.config);
                }
                return Ok(unauthorised(headers));
            }
        };
        if mode == TransferMode::Cookie
            && self.config.anti_csrf() == crate::AntiCsrf::ViaCustomHeader
            && request.rid.is_none()
        {
            return Ok(unauthorised(SessionHeaders::default()));
        }
        let now = now_ms();
        let new_expiry = now.saturating_add(self.refresh_lifetime_ms());
        let outcome = self.store.rotate_refresh_token(token, &ids::refresh_token_salt()?, now, new_expiry).await?;
        let failure = match outcome {
            RefreshOutcome::Rotated(rotation) => {
                let session = &rotation.session;
                audit::refreshed(&session.user_id, &session.session_handle);
                // The access token names the refresh token it came with and that token's parent, as SuperTokens'
                // does: a request made with it uses the new refresh token (see `Store::use_refresh_token`).
                let binding = RefreshBinding {
                    parent_hash: rotation.parent_hash.clone(),
                    refresh_token_hash: rotation.refresh_token_hash.clone(),
                };
                // The claim is read again on every refresh, so a verification elsewhere reaches the session here.
                let user = match self.config.email_verification.is_on() {
                    true => self.store.user(&session.user_id).await?,
                    false => None,
                };
                let email_verified = self.email_verified_claim(user.as_ref()).await?;
                let tokens = self.issue_tokens(
                    &session.user_id,
                    &session.session_handle,
                    &session.tenant_id,
                    (rotation.refresh_token.clone(), Some(binding)),
                    (new_expiry, email_verified),
                    now,
                );
                let mut headers = SessionHeaders::default();
                if mode == TransferMode::Header && cookie_token.is_some() {
                    headers.clear(&self.config, TransferMode::Cookie);
                }
                headers.attach_tokens(&self.config, mode, &tokens);
                if has_legacy_cookie {
                    headers.clear_legacy_id_refresh_token(&self.config);
                }
                return Ok(Response::Ok { body: EmptyObject {}, headers: headers.into() });
            }
            RefreshOutcome::TheftDetected(session) => {
                self.verifier.session_ended(&session.session_handle);
                audit::theft_detected(&session.user_id, &session.session_handle);
                "token theft detected"
            }
            RefreshOutcome::Unknown => "unauthorised",
        };
        // The client's transfer mode is not known for sure here, so tokens are cleared in both.
        let mut headers = SessionHeaders::cleared_everywhere(&self.config);
        if has_legacy_cookie {
            headers.clear_legacy_id_refresh_token(&self.config);
        }
        Ok(Response::Unauthorized { body: message(failure), headers: headers.into() })
    }

    async fn revoke(&self, session: VerifySession) -> Result<sign_out::Response, Failure> {
        let existed = self.store.revoke_session(&session.session_handle).await?;
        self.verifier.session_ended(&session.session_handle);
        if !existed {
            // A concurrent sign-out (or theft detection) ended it between the check and now.
            let headers = SessionHeaders::cleared_everywhere(&self.config);
            return Ok(sign_out_rejected(SessionRejection::SessionEnded, headers));
        }
        audit::signed_out(&session.user_id, &session.session_handle);
        let headers = SessionHeaders::cleared(&self.config, session.transfer_mode);
        Ok(sign_out::Response::Ok { body: SignOutResponse::Ok(StatusOk {}), headers: headers.into() })
    }
}
