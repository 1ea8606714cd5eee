//! Email verification: sending the link to the signed-in user, verifying with its token, and the user's status
//! (see [`crate::emailverification`] for the tokens and the claim). With the recipe off every route answers
//! 404, as supertokens-node without the recipe.

use auth_api::ops::{generate_email_verify_token, is_email_verified, verify_email};
use auth_api::types::{
    EmailAlreadyVerifiedError, EmailVerificationInvalidTokenError, EmailVerificationUser,
    GenerateEmailVerifyTokenResponse, IsEmailVerifiedOk, IsEmailVerifiedResponse, StatusOk, VerifyEmailOk,
    VerifyEmailResponse,
};

use super::{AuthRecipes, Failure, message};
use crate::delivery::EmailVerificationMessage;
use crate::emailverification::{self as ev, TOKEN_LIFETIME};
use crate::session::transport::SessionHeaders;
use crate::session::{AccessTokenSources, SessionRejection, VerifySession};
use crate::store::{NewEmailVerificationToken, Store, UserRecord};
use crate::{audit, now_ms};

/// Why a route that needs a session did not get one: 401 with the rejection's message, or 500.
enum NoSession {
    Unauthorised(&'static str),
    Failed,
}

/// The answer of an operation module `$op` for the recipe off or a tenant not served, if either.
macro_rules! refuse_off_or_unknown_tenant {
    ($recipes:expr, $op:ident, $tenant_id:expr) => {
        if !$recipes.config.email_verification.is_on() {
            return $op::Response::NotFound(message("Not Found"));
        }
        if let Err(body) = $recipes.tenant($tenant_id) {
            return $op::Response::InternalServerError(body);
        }
    };
}

/// The answer of an operation module `$op` for a route that needs a session and did not get one.
macro_rules! no_session {
    ($op:ident, $why:expr) => {
        match $why {
            NoSession::Unauthorised(text) => $op::Response::Unauthorized(message(text)),
            NoSession::Failed => $op::Response::InternalServerError(message("internal error")),
        }
    };
}

pub(super) async fn generate_token<S: Store>(
    recipes: &AuthRecipes<S>,
    request: generate_email_verify_token::Request,
) -> generate_email_verify_token::Response {
    use generate_email_verify_token::Response;
    refuse_off_or_unknown_tenant!(recipes, generate_email_verify_token, &request.tenant_id);
    let sources = AccessTokenSources {
        bearer: request.access_token_bearer.as_deref(),
        cookie: request.access_token_cookie.as_deref(),
        has_rid: request.rid.is_some(),
        anti_csrf_check: true,
    };
    let (session, user) = match recipes.session_user(sources).await {
        Ok(found) => found,
        Err(why) => return no_session!(generate_email_verify_token, why),
    };
    match recipes.send_verification_email(&session, &user).await {
        Ok((body, verified)) => {
            let headers = recipes.claim_brought_up_to_date(&session, verified).into();
            Response::Ok { body, headers }
        }
        Err(failure) => Response::InternalServerError(failure.into_body("generateEmailVerifyToken")),
    }
}

pub(super) async fn verify<S: Store>(
    recipes: &AuthRecipes<S>,
    request: verify_email::Request,
) -> verify_email::Response {
    use verify_email::Response;
    refuse_off_or_unknown_tenant!(recipes, verify_email, &request.tenant_id);
    let hash = ev::token_hash(&request.body.token);
    let verified = match recipes.store.use_email_verification_token(&request.tenant_id, &hash, now_ms()).await {
        Ok(Some(verified)) => verified,
        Ok(None) => {
            let body = VerifyEmailResponse::EmailVerificationInvalidTokenError(EmailVerificationInvalidTokenError {});
            return Response::Ok { body, headers: Default::default() };
        }
        Err(error) => return Response::InternalServerError(Failure::from(error).into_body("verifyEmail")),
    };
    audit::email_verified(&verified.user_id, &verified.email);
    let sources = AccessTokenSources {
        bearer: request.access_token_bearer.as_deref(),
        cookie: request.access_token_cookie.as_deref(),
        has_rid: request.rid.is_some(),
        anti_csrf_check: true,
    };
    let headers = match recipes.session_user(sources).await {
        // The link opened where its user is signed in: that session's claim is brought up to date.
        Ok((session, user)) if user.user_id == verified.user_id => match recipes.is_verified(&user).await {
            Ok(now_verified) => recipes.claim_brought_up_to_date(&session, now_verified),
            Err(failure) => return Response::InternalServerError(failure.into_body("verifyEmail")),
        },
        // No session, another user's, or one that cannot be used: the verification stands on its own.
        _ => SessionHeaders::default(),
    };
    let user = EmailVerificationUser { id: verified.user_id, email: verified.email };
    Response::Ok { body: VerifyEmailResponse::Ok(VerifyEmailOk { user }), headers: headers.into() }
}

pub(super) async fn status<S: Store>(
    recipes: &AuthRecipes<S>,
    request: is_email_verified::Request,
) -> is_email_verified::Response {
    use is_email_verified::Response;
    refuse_off_or_unknown_tenant!(recipes, is_email_verified, &request.tenant_id);
    let sources = AccessTokenSources {
        bearer: request.access_token_bearer.as_deref(),
        cookie: request.access_token_cookie.as_deref(),
        has_rid: request.rid.is_some(),
        anti_csrf_check: false,
    };
    let (session, user) = match recipes.session_user(sources).await {
        Ok(found) => found,
        Err(why) => return no_session!(is_email_verified, why),
    };
    match recipes.is_verified(&user).await {
        Ok(is_verified) => Response::Ok {
            body: IsEmailVerifiedResponse::Ok(IsEmailVerifiedOk { is_verified }),
            headers: recipes.claim_brought_up_to_date(&session, is_verified).into(),
        },
        Err(failure) => Response::InternalServerError(failure.into_body("isEmailVerified")),
    }
}

impl<S: Store> AuthRecipes<S> {
    /// Whether `user`'s email is verified: proved at sign-in (a passwordless code, a provider's word), verified
    /// with a token, or there is no email to verify.
    pub(super) async fn is_verified(&self, user: &UserRecord) -> Result<bool, Failure> {
        match user.contact.email() {
            None => Ok(true),
            Some(_) if user.email_verified => Ok(true),
            Some(email) => Ok(self.store.is_email_verified(&user.user_id, email).await?),
        }
    }

    /// The `st-ev` claim of a session of `user` (`None` when the recipe is off): whether the email is verified.
    /// A session whose user is gone counts as unverified.
    pub(super) async fn email_verified_claim(&self, user: Option<&UserRecord>) -> Result<Option<bool>, Failure> {
        if !self.config.email_verification.is_on() {
            return Ok(None);
        }
        Ok(Some(match user {
            Some(user) => self.is_verified(user).await?,
            None => false,
        }))
    }

    /// The session of a request to an email verification route, checked in full but without claim
    /// validators (as supertokens-node checks it there), and its user.
    async fn session_user(&self, sources: AccessTokenSources<'_>) -> Result<(VerifySession, UserRecord), NoSession> {
        let session = match self.verifier.verify_session(sources, now_ms() / 1000).await {
            Ok(Some(session)) => session,
            Ok(None) => return Err(NoSession::Unauthorised(SessionRejection::Unauthorised.message())),
            Err(SessionRejection::StoreUnavailable) => return Err(NoSession::Failed),
            Err(rejection) => return Err(NoSession::Unauthorised(rejection.message())),
        };
        match self.store.user(&session.user_id).await {
            Ok(Some(user)) => Ok((session, user)),
            // A session of a user that is gone: unauthorised, as node answers for an unknown user id.
            Ok(None) => Err(NoSession::Unauthorised(SessionRejection::Unauthorised.message())),
            Err(error) => {
                tracing::error!(%error, "the session's user could not be read");
                Err(NoSession::Failed)
            }
        }
    }

    /// The headers of a new access token for `session` whose `st-ev` claim says `verified`, when the session's
    /// token says otherwise (none when it agrees): what supertokens-node does on these routes, so that a
    /// frontend learns of a verification made elsewhere without waiting for a refresh. The new token is the old
    /// one's payload (same session, expiry and refresh token binding) with the claim read now.
    fn claim_brought_up_to_date(&self, session: &VerifySession, verified: bool) -> SessionHeaders {
        let mut headers = SessionHeaders::default();
        if ev::claim_value(&session.access_token_payload) == Some(verified) {
            return headers;
        }
        let mut payload = session.access_token_payload.clone();
        ev::set_claim(&mut payload, verified, now_ms());
        let token = self.keys.current().signing_key().sign(&payload);
        let expires_at_ms = payload.get("exp").and_then(serde_json::Value::as_i64).unwrap_or(0).saturating_mul(1000);
        let mode = session.transfer_mode;
        headers.attach_access_token(&self.config, mode, &session.user_id, (&token, expires_at_ms), &payload);
        headers
    }

    /// Sends `user` a verification link for their email, unless there is nothing to verify; the answer and
    /// whether the email is verified.
    async fn send_verification_email(
        &self,
        session: &VerifySession,
        user: &UserRecord,
    ) -> Result<(GenerateEmailVerifyTokenResponse, bool), Failure> {
        let email = match user.contact.email() {
            Some(email) if !self.is_verified(user).await? => email,
            _ => {
                let body = GenerateEmailVerifyTokenResponse::EmailAlreadyVerifiedError(EmailAlreadyVerifiedError {});
                return Ok((body, true));
            }
        };
        let token = ev::new_token()?;
        let now = now_ms();
        let lifetime_ms = i64::try_from(TOKEN_LIFETIME.as_millis()).unwrap_or(i64::MAX);
        self.store
            .create_email_verification_token(&NewEmailVerificationToken {
                token_hash: ev::token_hash(&token),
                tenant_id: session.tenant_id.clone(),
                user_id: user.user_id.clone(),
                email: email.to_owned(),
                created_at_ms: now,
                expires_at_ms: now.saturating_add(lifetime_ms),
            })
            .await?;
        let message = EmailVerificationMessage {
            email: email.to_owned(),
            user_id: user.user_id.clone(),
            link: ev::verify_link(&self.config.website_domain, &token, &session.tenant_id),
            lifetime: TOKEN_LIFETIME,
        };
        self.delivery.deliver_email_verification(&message).await?;
        audit::verification_email_sent(&user.user_id, email);
        Ok((GenerateEmailVerifyTokenResponse::Ok(StatusOk {}), false))
    }
}
