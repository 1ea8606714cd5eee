//! [`AuthRecipes`]: the implementation of the generated [`AuthApi`] trait.

use std::sync::Arc;

use auth_api::AuthApi;
use auth_api::ops::{
    apple_callback, consume_code, create_code, get_authorisation_url, get_jwks, get_login_methods,
    passwordless_email_exists, passwordless_phone_number_exists, refresh_session, resend_code, sign_out,
    third_party_sign_in_up,
};
use auth_api::types::{
    AuthorisationUrlOk, AuthorisationUrlResponse, NoEmailGivenByProviderError, ProviderSummary, ThirdPartyInfo,
    ThirdPartySignInUpOk, ThirdPartySignInUpResponse,
};
use auth_api::types::{
    ConsumeCodeOk, ConsumeCodeResponse, CreateCodeOk, CreateCodeResponse, EmptyObject, ErrorMessage, ExistsOk,
    ExistsResponse, ExpiredUserInputCodeError, FlowType, GeneralError, IncorrectUserInputCodeError, Jwk, Jwks,
    LoginMethod, LoginMethodRecipeId, LoginMethodsResponse, LoginMethodsResponseStatus, RecipeEnabled,
    ResendCodeResponse, RestartFlowError, SignOutResponse, StatusOk, ThirdPartyLoginMethod, User, WebauthnInfo,
};

use crate::config::{BASE_PATH, Config, ConfigError};
use crate::contact::{self, Contact};
use crate::delivery::{CodeMessage, Delivery, DeliveryError};
use crate::ids::{self, RandomError};
use crate::session::keys::{KeyError, KeyPolicy, KeyRing, Maintenance};
use crate::session::tokens::{self, AccessTokenClaims};
use crate::session::transport::{IssuedTokens, SessionHeaders, TransferMode};
use crate::session::{AccessTokenSources, SessionRejection, SessionVerifier, VerifySession};
use crate::store::{
    AddCode, CodeRecord, DeviceRecord, FailedAttempt, NewDevice, NewSession, RefreshOutcome, Store, StoreError,
    ThirdPartyAccount, UserRecord,
};
use crate::thirdparty::{self, Grant, ThirdParty, ThirdPartyError, ThirdPartyInitError};
use crate::{DEFAULT_TENANT, now_ms};

/// Passwordless and third-party sign-in/up and sessions, serving every operation of [`AuthApi`]. Without
/// configured providers the third-party operations answer as supertokens-node does without providers.
pub struct AuthRecipes<S: Store> {
    config: Config,
    third_party: ThirdParty,
    store: Arc<S>,
    delivery: Arc<dyn Delivery>,
    keys: Arc<KeyRing>,
    verifier: SessionVerifier,
    /// Rotates, prunes and reloads the signing keys on a schedule while the recipes live.
    _maintenance: Maintenance,
}

impl<S: Store + std::fmt::Debug> std::fmt::Debug for AuthRecipes<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRecipes")
            .field("config", &self.config)
            .field("store", &self.store)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// Why [`AuthRecipes::new`] failed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The signing keys could not be loaded or created.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// A third-party provider is misconfigured.
    #[error(transparent)]
    ThirdParty(#[from] ThirdPartyInitError),
}

/// A failure inside an operation: answered with 500 and logged.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error("stored link code salt of a device is not base64")]
    CorruptSalt,
}

impl Failure {
    fn into_body(self, operation: &str) -> ErrorMessage {
        tracing::error!(operation, error = %self, "request failed");
        let message = match self {
            Failure::Delivery(_) => "internal error: the code could not be sent",
            _ => "internal error",
        };
        ErrorMessage { message: message.to_owned() }
    }
}

fn message(text: impl Into<String>) -> ErrorMessage {
    ErrorMessage { message: text.into() }
}

/// Why a createCode body names no usable contact.
enum ContactInputError {
    /// 400 with this message.
    BadRequest(&'static str),
    /// 200 GENERAL_ERROR with this message.
    Invalid(&'static str),
}

/// A consume answer: the 200 body with the session headers of a new session, or the message of a 400.
type Consumed = Result<(ConsumeCodeResponse, Option<SessionHeaders>), &'static str>;

/// The outcome of checking a code against a device.
enum CodeCheck {
    /// A live code matched.
    Matched,
    /// A code matched but has expired.
    Expired,
    /// No code matched.
    NoMatch,
}

impl<S: Store> AuthRecipes<S> {
    /// Recipes over `store`, sending codes with `delivery`. Loads the ES256 signing keys from the store,
    /// creating one on first start (or when the newest is due for rotation), and starts the schedule that
    /// rotates, prunes and reloads them (see [`crate::session::keys`]); call it inside a tokio runtime.
    pub async fn new(config: Config, store: S, delivery: Arc<dyn Delivery>) -> Result<Self, InitError> {
        config.validate()?;
        let third_party = ThirdParty::new(&config.third_party_providers)?;
        let store = Arc::new(store);
        let policy = KeyPolicy {
            rotation_interval: config.signing_key_rotation_interval,
            access_token_lifetime: config.access_token_lifetime,
        };
        let keys = Arc::new(KeyRing::open(store.clone(), policy).await?);
        let verifier = SessionVerifier::with_key_ring(keys.clone(), config.anti_csrf());
        let maintenance = Maintenance::start(keys.clone());
        Ok(Self { config, third_party, store, delivery, keys, verifier, _maintenance: maintenance })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The signing keys of this instance.
    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// The verifier for [`crate::VerifySession`]: add it to the router with
    /// `.layer(axum::Extension(recipes.session_verifier()))` after merging your routes.
    pub fn session_verifier(&self) -> SessionVerifier {
        self.verifier.clone()
    }

    /// The generated axum router serving these recipes under `/auth`.
    pub fn into_router(self) -> axum::Router {
        auth_api::server::axum::router(self)
    }

    /// The generated actix-web configuration serving these recipes under `/auth`, for
    /// `App::new().configure(..)`; add [`Self::session_verifier`] as app data for [`crate::VerifySession`].
    #[cfg(feature = "actix-web")]
    pub fn into_actix_config(self) -> impl Fn(&mut actix_web::web::ServiceConfig) + Clone {
        auth_api::server::actix::configure(Arc::new(self))
    }

    fn contact_from_input(
        &self,
        email: Option<&str>,
        phone_number: Option<&str>,
    ) -> Result<Contact, ContactInputError> {
        let method = self.config.contact_method;
        match (email, phone_number) {
            (Some(_), Some(_)) | (None, None) => {
                Err(ContactInputError::BadRequest("Please provide exactly one of email or phoneNumber"))
            }
            (None, Some(_)) if !method.allows_phone() => Err(ContactInputError::BadRequest(
                "Please provide an email since you have set the contactMethod to \"EMAIL\"",
            )),
            (Some(_), None) if !method.allows_email() => Err(ContactInputError::BadRequest(
                "Please provide a phoneNumber since you have set the contactMethod to \"PHONE\"",
            )),
            (Some(email), None) => contact::normalise_email(email)
                .map(Contact::Email)
                .ok_or(ContactInputError::Invalid("Email is invalid")),
            (None, Some(phone)) => contact::normalise_phone_number(phone)
                .map(Contact::Phone)
                .ok_or(ContactInputError::Invalid("Phone number is invalid")),
        }
    }

    fn contact_allowed(&self, contact: &Contact) -> bool {
        match contact {
            Contact::Email(_) => self.config.contact_method.allows_email(),
            Contact::Phone(_) => self.config.contact_method.allows_phone(),
        }
    }

    /// A new code for a device: the user input code and the record to store.
    fn new_code(device_id: &[u8], salt: &[u8], now: i64) -> Result<(String, CodeRecord), Failure> {
        let user_input_code = ids::user_input_code()?;
        let record = CodeRecord {
            code_id: ids::uuid_v4()?,
            link_code_hash: ids::link_code_hash_for_user_input_code(device_id, salt, &user_input_code),
            created_at_ms: now,
        };
        Ok((user_input_code, record))
    }

    /// Sends a code and/or magic link, as the flow type says.
    async fn send_code(
        &self,
        recipient: &Contact,
        device_id: &[u8],
        salt: &[u8],
        user_input_code: &str,
    ) -> Result<(), Failure> {
        let pre_auth_session_id = ids::pre_auth_session_id(device_id);
        let flow = self.config.flow_type;
        let with_code = matches!(flow, FlowType::UserInputCode | FlowType::UserInputCodeAndMagicLink);
        let with_link = matches!(flow, FlowType::MagicLink | FlowType::UserInputCodeAndMagicLink);
        let magic_link = with_link.then(|| {
            format!(
                "{}{BASE_PATH}/verify?preAuthSessionId={pre_auth_session_id}&tenantId={DEFAULT_TENANT}#{}",
                self.config.website_domain,
                ids::link_code(device_id, salt, user_input_code)
            )
        });
        let message = CodeMessage {
            recipient: recipient.clone(),
            user_input_code: with_code.then(|| user_input_code.to_owned()),
            magic_link,
            code_lifetime: self.config.code_lifetime,
            pre_auth_session_id,
        };
        Ok(self.delivery.deliver(&message).await?)
    }

    async fn start_device(&self, contact: Contact) -> Result<CreateCodeOk, Failure> {
        let now = now_ms();
        let device_id = ids::random_bytes::<32>()?;
        let salt = ids::random_bytes::<32>()?;
        let (user_input_code, code) = Self::new_code(&device_id, &salt, now)?;
        let device = NewDevice {
            tenant_id: DEFAULT_TENANT.to_owned(),
            device_id_hash: ids::pre_auth_session_id(&device_id),
            contact,
            link_code_salt: ids::encode_salt(&salt),
            created_at_ms: now,
        };
        self.store.create_device(&device, &code).await?;
        self.send_code(&device.contact, &device_id, &salt, &user_input_code).await?;
        Ok(CreateCodeOk {
            device_id: ids::encode_device_id(&device_id),
            pre_auth_session_id: device.device_id_hash,
            flow_type: self.config.flow_type,
        })
    }

    async fn resend(&self, device_id: &str, pre_auth_session_id: &str) -> Result<ResendCodeResponse, Failure> {
        let restart = ResendCodeResponse::RestartFlowError(RestartFlowError {});
        let Some(device_id) = ids::decode_device_id(device_id) else { return Ok(restart) };
        let device_id_hash = ids::pre_auth_session_id(&device_id);
        if !ids::constant_time_eq(&device_id_hash, ids::normalise_pre_auth_session_id(pre_auth_session_id)) {
            return Ok(restart);
        }
        let Some(device) = self.store.device(DEFAULT_TENANT, &device_id_hash).await? else { return Ok(restart) };
        if !self.contact_allowed(&device.contact) {
            return Ok(restart);
        }
        let salt = ids::decode_salt(&device.link_code_salt).ok_or(Failure::CorruptSalt)?;
        // A new random code can repeat one the device already has; core gives up after three collisions.
        for _ in 0..3 {
            let (user_input_code, code) = Self::new_code(&device_id, &salt, now_ms())?;
            match self.store.add_code(DEFAULT_TENANT, &device_id_hash, &code).await? {
                AddCode::Added => {
                    self.send_code(&device.contact, &device_id, &salt, &user_input_code).await?;
                    return Ok(ResendCodeResponse::Ok(StatusOk {}));
                }
                AddCode::DeviceGone => return Ok(restart),
                AddCode::Duplicate => continue,
            }
        }
        Ok(ResendCodeResponse::GeneralError(GeneralError {
            message: "Failed to generate a one time code. Please try again".to_owned(),
        }))
    }

    fn check_code(&self, device: &DeviceRecord, link_code_hash: &str, now: i64) -> CodeCheck {
        let lifetime = i64::try_from(self.config.code_lifetime.as_millis()).unwrap_or(i64::MAX);
        // Every code is compared, so the time taken does not reveal which one matched.
        let matched = device
            .codes
            .iter()
            .filter(|code| ids::constant_time_eq(&code.link_code_hash, link_code_hash))
            .fold(None, |found: Option<&CodeRecord>, code| found.or(Some(code)));
        match matched {
            Some(code) if code.created_at_ms.saturating_add(lifetime) >= now => CodeCheck::Matched,
            Some(_) => CodeCheck::Expired,
            None => CodeCheck::NoMatch,
        }
    }

    async fn consume(&self, request: consume_code::Request) -> Result<Consumed, Failure> {
        let restart = || Ok(Ok((ConsumeCodeResponse::RestartFlowError(RestartFlowError {}), None)));
        let body = request.body;
        let pre_auth_session_id = ids::normalise_pre_auth_session_id(&body.pre_auth_session_id);
        if pre_auth_session_id.is_empty() {
            return Ok(Err("Please provide preAuthSessionId"));
        }
        let now = now_ms();
        let otp = match (body.link_code.as_deref(), body.device_id.as_deref(), body.user_input_code.as_deref()) {
            (Some(_), None, None) => None,
            (Some(_), _, _) | (None, None, None) => {
                return Ok(Err("Please provide one of (linkCode) or (deviceId+userInputCode) and not both"));
            }
            (None, Some(device_id), Some(code)) => {
                let device_id = ids::decode_device_id(device_id)
                    .filter(|id| ids::constant_time_eq(&ids::pre_auth_session_id(id), pre_auth_session_id));
                let Some(device_id) = device_id else {
                    return Ok(Err("preAuthSessionId and deviceId do not match"));
                };
                Some((device_id, code))
            }
            (None, _, _) => return Ok(Err("Please provide both deviceId and userInputCode")),
        };
        let Some(device) = self.store.device(DEFAULT_TENANT, pre_auth_session_id).await? else { return restart() };
        match otp {
            Some((device_id, user_input_code)) => {
                let salt = ids::decode_salt(&device.link_code_salt).ok_or(Failure::CorruptSalt)?;
                let hash = ids::link_code_hash_for_user_input_code(&device_id, &salt, user_input_code);
                let expired = match self.check_code(&device, &hash, now) {
                    CodeCheck::Matched => {
                        return self.sign_in_up(pre_auth_session_id, request.st_auth_mode.as_deref()).await;
                    }
                    CodeCheck::Expired => true,
                    CodeCheck::NoMatch => false,
                };
                let max = self.config.max_code_input_attempts;
                let attempts = match self.store.record_failed_attempt(DEFAULT_TENANT, pre_auth_session_id, max).await? {
                    FailedAttempt::Counted(count) => i32::try_from(count).unwrap_or(i32::MAX),
                    FailedAttempt::Exhausted | FailedAttempt::DeviceGone => return restart(),
                };
                let maximum = i32::try_from(max).unwrap_or(i32::MAX);
                let response = if expired {
                    ConsumeCodeResponse::ExpiredUserInputCodeError(ExpiredUserInputCodeError {
                        failed_code_input_attempt_count: attempts,
                        maximum_code_input_attempts: maximum,
                    })
                } else {
                    ConsumeCodeResponse::IncorrectUserInputCodeError(IncorrectUserInputCodeError {
                        failed_code_input_attempt_count: attempts,
                        maximum_code_input_attempts: maximum,
                    })
                };
                Ok(Ok((response, None)))
            }
            None => {
                let hash = body.link_code.as_deref().and_then(ids::link_code_hash);
                match hash.map(|hash| self.check_code(&device, &hash, now)) {
                    Some(CodeCheck::Matched) => {
                        self.sign_in_up(pre_auth_session_id, request.st_auth_mode.as_deref()).await
                    }
                    _ => restart(),
                }
            }
        }
    }

    /// Consumes the device (only one concurrent caller wins), signs its contact in or up and starts a
    /// session.
    async fn sign_in_up(&self, pre_auth_session_id: &str, st_auth_mode: Option<&str>) -> Result<Consumed, Failure> {
        let Some(contact) = self.store.consume_device(DEFAULT_TENANT, pre_auth_session_id).await? else {
            return Ok(Ok((ConsumeCodeResponse::RestartFlowError(RestartFlowError {}), None)));
        };
        let (user, created) = self.store.sign_in_up(DEFAULT_TENANT, &contact, &ids::uuid_v4()?, now_ms()).await?;
        let headers = self.start_session(&user, st_auth_mode).await?;
        let body = ConsumeCodeResponse::Ok(ConsumeCodeOk { created_new_recipe_user: created, user: fdi_user(&user) });
        Ok(Ok((body, Some(headers))))
    }

    /// Creates a session for a user who just signed in and the headers that hand its tokens over.
    async fn start_session(&self, user: &UserRecord, st_auth_mode: Option<&str>) -> Result<SessionHeaders, Failure> {
        let tokens = self.create_session(user).await?;
        Ok(SessionHeaders::with_tokens(&self.config, TransferMode::for_new_session(st_auth_mode), &tokens))
    }

    /// Third-party sign-in/up: asks the provider who signed in, then signs that account in or up and starts
    /// a session exactly as passwordless does.
    async fn third_party_sign_in(
        &self,
        request: third_party_sign_in_up::Request,
    ) -> Result<third_party_sign_in_up::Response, Failure> {
        use third_party_sign_in_up::Response;
        let body = request.body;
        let grant = match (body.redirect_uri_info, body.o_auth_tokens) {
            (Some(info), _) => Grant::Redirect {
                redirect_uri: info.redirect_uri_on_provider_dashboard,
                query: info.redirect_uri_query_params,
                pkce_code_verifier: info.pkce_code_verifier,
            },
            (None, Some(tokens)) => Grant::Tokens(tokens),
            (None, None) => {
                return Ok(Response::BadRequest(message(
                    "Please provide one of redirectURIInfo or oAuthTokens in the request body",
                )));
            }
        };
        let general_error = |text: String| {
            Ok(Response::Ok {
                body: ThirdPartySignInUpResponse::GeneralError(GeneralError { message: text }),
                headers: Default::default(),
            })
        };
        let (identity, require_email) =
            match self.third_party.sign_in(&body.third_party_id, body.client_type.as_deref(), grant).await {
                Ok(found) => found,
                Err(error @ (ThirdPartyError::UnknownProvider(_) | ThirdPartyError::ClientType(_))) => {
                    return Ok(Response::BadRequest(message(error.to_string())));
                }
                Err(error) => {
                    tracing::warn!(provider = %body.third_party_id, %error, "third-party sign-in failed");
                    return general_error(sign_in_failure_message(&error));
                }
            };
        let (email, verified) = match identity.email {
            Some(email) => email,
            None if require_email => {
                return Ok(Response::Ok {
                    body: ThirdPartySignInUpResponse::NoEmailGivenByProvider(NoEmailGivenByProviderError {}),
                    headers: Default::default(),
                });
            }
            // A fake email counts as verified, as supertokens-node treats it.
            None => (thirdparty::fake_email(&identity.third_party_user_id, &identity.third_party_id), true),
        };
        let account = ThirdPartyAccount {
            third_party_id: identity.third_party_id,
            third_party_user_id: identity.third_party_user_id,
        };
        let email = email.trim().to_lowercase();
        let (user, created) = self
            .store
            .third_party_sign_in_up(DEFAULT_TENANT, &account, &email, verified, &ids::uuid_v4()?, now_ms())
            .await?;
        let headers = self.start_session(&user, request.st_auth_mode.as_deref()).await?;
        let body = ThirdPartySignInUpResponse::Ok(ThirdPartySignInUpOk {
            user: fdi_user(&user),
            created_new_recipe_user: created,
        });
        Ok(Response::Ok { body, headers: headers.into() })
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
        Ok(self.issue_tokens(
            &user.user_id,
            &session_handle,
            &user.tenant_id,
            refresh_token,
            refresh_token_expires_at_ms,
            now,
        ))
    }

    fn refresh_lifetime_ms(&self) -> i64 {
        i64::try_from(self.config.refresh_token_lifetime.as_millis()).unwrap_or(i64::MAX)
    }

    /// Signs a new access token for a session and bundles it with the session's refresh token.
    fn issue_tokens(
        &self,
        user_id: &str,
        session_handle: &str,
        tenant_id: &str,
        refresh_token: String,
        refresh_token_expires_at_ms: i64,
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
        let payload = claims.to_payload();
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
        let new_refresh_token = ids::refresh_token()?;
        let new_expiry = now.saturating_add(self.refresh_lifetime_ms());
        let outcome = self
            .store
            .rotate_refresh_token(
                &ids::refresh_token_hash(token),
                &ids::refresh_token_hash(&new_refresh_token),
                now,
                new_expiry,
            )
            .await?;
        let failure = match outcome {
            RefreshOutcome::Rotated(session) => {
                let tokens = self.issue_tokens(
                    &session.user_id,
                    &session.session_handle,
                    &session.tenant_id,
                    new_refresh_token,
                    new_expiry,
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
                tracing::warn!(user_id = %session.user_id, session_handle = %session.session_handle,
                    "refresh token reused: token theft detected, session revoked");
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
        self.store.revoke_session(&session.session_handle).await?;
        let headers = SessionHeaders::cleared(&self.config, session.transfer_mode);
        Ok(sign_out::Response::Ok { body: SignOutResponse::Ok(StatusOk {}), headers: headers.into() })
    }
}

/// How old the loaded keys may be when the JWKS is served.
const JWKS_MAX_STALENESS: std::time::Duration = std::time::Duration::from_secs(1);

/// How long verifying services may cache the JWKS; they fetch it again when a token names an unknown kid.
const JWKS_CACHE_CONTROL: &str = "max-age=60, must-revalidate";

/// The FDI user object of a user with one login method.
fn fdi_user(user: &UserRecord) -> User {
    let email = user.contact.email().map(str::to_owned);
    let phone_number = user.contact.phone_number().map(str::to_owned);
    let third_party = user.third_party.as_ref().map(|account| ThirdPartyInfo {
        id: account.third_party_id.clone(),
        user_id: account.third_party_user_id.clone(),
    });
    User {
        id: user.user_id.clone(),
        is_primary_user: false,
        tenant_ids: vec![user.tenant_id.clone()],
        emails: email.iter().cloned().collect(),
        phone_numbers: phone_number.iter().cloned().collect(),
        third_party: third_party.iter().cloned().collect(),
        webauthn: Some(WebauthnInfo { credential_ids: Vec::new() }),
        time_joined: user.time_joined_ms,
        login_methods: vec![LoginMethod {
            recipe_id: match third_party {
                Some(_) => LoginMethodRecipeId::Thirdparty,
                None => LoginMethodRecipeId::Passwordless,
            },
            recipe_user_id: user.user_id.clone(),
            tenant_ids: vec![user.tenant_id.clone()],
            email,
            phone_number,
            third_party,
            webauthn: None,
            time_joined: user.time_joined_ms,
            // Signing in with a passwordless code proves control of the contact; providers say for themselves.
            verified: user.email_verified,
        }],
    }
}

/// Sign-out without a usable session: 401 with the rejection's message; tokens are left alone.
fn sign_out_rejected(rejection: SessionRejection) -> sign_out::Response {
    sign_out::Response::Unauthorized {
        body: message(rejection.message()),
        headers: sign_out::UnauthorizedHeaders::default(),
    }
}

/// The GENERAL_ERROR message of a failed third-party sign-in: shown to the user by the frontend, so it says
/// what happened without the provider's raw answer (which is logged).
fn sign_in_failure_message(error: &ThirdPartyError) -> String {
    match error {
        ThirdPartyError::Denied(reason) => format!("The sign-in was not completed at the provider ({reason})"),
        ThirdPartyError::IdToken { error, .. } => format!("The identity token from the provider was refused: {error}"),
        ThirdPartyError::NoUserId(_) => "The provider did not say who signed in".to_owned(),
        _ => "The provider could not complete the sign-in; please try again".to_owned(),
    }
}

impl<S: Store> AuthApi for AuthRecipes<S> {
    async fn create_code(&self, request: create_code::Request) -> create_code::Response {
        use create_code::Response;
        let body = request.body;
        let contact = match self.contact_from_input(body.email.as_deref(), body.phone_number.as_deref()) {
            Ok(contact) => contact,
            Err(ContactInputError::BadRequest(text)) => return Response::BadRequest(message(text)),
            Err(ContactInputError::Invalid(text)) => {
                return Response::Ok(CreateCodeResponse::GeneralError(GeneralError { message: text.to_owned() }));
            }
        };
        match self.start_device(contact).await {
            Ok(ok) => Response::Ok(CreateCodeResponse::Ok(ok)),
            Err(failure) => Response::InternalServerError(failure.into_body("createCode")),
        }
    }

    async fn resend_code(&self, request: resend_code::Request) -> resend_code::Response {
        use resend_code::Response;
        let body = request.body;
        if body.device_id.is_empty() {
            return Response::BadRequest(message("Please provide a deviceId"));
        }
        if body.pre_auth_session_id.is_empty() {
            return Response::BadRequest(message("Please provide preAuthSessionId"));
        }
        match self.resend(&body.device_id, &body.pre_auth_session_id).await {
            Ok(response) => Response::Ok(response),
            Err(failure) => Response::InternalServerError(failure.into_body("resendCode")),
        }
    }

    async fn consume_code(&self, request: consume_code::Request) -> consume_code::Response {
        use consume_code::Response;
        match self.consume(request).await {
            Ok(Ok((body, headers))) => Response::Ok { body, headers: headers.unwrap_or_default().into() },
            Ok(Err(text)) => Response::BadRequest(message(text)),
            Err(failure) => Response::InternalServerError(failure.into_body("consumeCode")),
        }
    }

    async fn passwordless_email_exists(
        &self,
        request: passwordless_email_exists::Request,
    ) -> passwordless_email_exists::Response {
        use passwordless_email_exists::Response;
        let email = Contact::Email(request.email.trim().to_lowercase());
        match self.store.user_by_contact(DEFAULT_TENANT, &email).await {
            Ok(user) => Response::Ok(ExistsResponse::Ok(ExistsOk { exists: user.is_some() })),
            Err(e) => Response::InternalServerError(Failure::from(e).into_body("passwordlessEmailExists")),
        }
    }

    async fn passwordless_phone_number_exists(
        &self,
        request: passwordless_phone_number_exists::Request,
    ) -> passwordless_phone_number_exists::Response {
        use passwordless_phone_number_exists::Response;
        let phone = Contact::Phone(contact::phone_number_lookup_key(&request.phone_number));
        match self.store.user_by_contact(DEFAULT_TENANT, &phone).await {
            Ok(user) => Response::Ok(ExistsResponse::Ok(ExistsOk { exists: user.is_some() })),
            Err(e) => Response::InternalServerError(Failure::from(e).into_body("passwordlessPhoneNumberExists")),
        }
    }

    async fn get_authorisation_url(&self, request: get_authorisation_url::Request) -> get_authorisation_url::Response {
        use get_authorisation_url::Response;
        let url = self
            .third_party
            .authorisation_url(
                &request.third_party_id,
                request.client_type.as_deref(),
                &request.redirect_uri_on_provider_dashboard,
            )
            .await;
        match url {
            Ok(url) => Response::Ok(AuthorisationUrlResponse::Ok(AuthorisationUrlOk {
                url_with_query_params: url.url,
                pkce_code_verifier: url.pkce_code_verifier,
            })),
            Err(error @ (ThirdPartyError::UnknownProvider(_) | ThirdPartyError::ClientType(_))) => {
                Response::BadRequest(message(error.to_string()))
            }
            Err(error) => {
                tracing::warn!(provider = %request.third_party_id, %error, "authorisation URL failed");
                Response::Ok(AuthorisationUrlResponse::GeneralError(GeneralError {
                    message: "The provider could not be reached; please try again".to_owned(),
                }))
            }
        }
    }

    async fn third_party_sign_in_up(
        &self,
        request: third_party_sign_in_up::Request,
    ) -> third_party_sign_in_up::Response {
        match self.third_party_sign_in(request).await {
            Ok(response) => response,
            Err(failure) => {
                third_party_sign_in_up::Response::InternalServerError(failure.into_body("thirdPartySignInUp"))
            }
        }
    }

    async fn apple_callback(&self, request: apple_callback::Request) -> apple_callback::Response {
        use apple_callback::Response;
        match apple_redirect(&request.body) {
            Some(location) => {
                Response::SeeOther { body: String::new(), headers: apple_callback::SeeOtherHeaders { location } }
            }
            None => {
                tracing::warn!("apple callback with a state that is not base64 JSON with a frontendRedirectURI");
                Response::InternalServerError(message("the state is not base64 JSON with a frontendRedirectURI"))
            }
        }
    }

    async fn refresh_session(&self, request: refresh_session::Request) -> refresh_session::Response {
        match self.refresh(request).await {
            Ok(response) => response,
            Err(failure) => refresh_session::Response::InternalServerError(failure.into_body("refreshSession")),
        }
    }

    async fn sign_out(&self, request: sign_out::Request) -> sign_out::Response {
        let sources = AccessTokenSources {
            bearer: request.access_token_bearer.as_deref(),
            cookie: request.access_token_cookie.as_deref(),
            has_rid: request.rid.is_some(),
            anti_csrf_check: true,
        };
        let session = match self.verifier.verify_reloading(sources, now_ms() / 1000).await {
            Ok(Some(session)) => session,
            Ok(None) => return sign_out_rejected(SessionRejection::Unauthorised),
            Err(rejection) => return sign_out_rejected(rejection),
        };
        match self.revoke(session).await {
            Ok(response) => response,
            Err(failure) => sign_out::Response::InternalServerError(failure.into_body("signOut")),
        }
    }

    async fn get_jwks(&self, _request: get_jwks::Request) -> get_jwks::Response {
        // Another instance may just have rotated: a verifying service that met an unknown kid asks here, so the
        // set is reloaded when it is over a second old. If the store is unreachable, the loaded set is served.
        if let Err(error) = self.keys.reload_if_older_than(JWKS_MAX_STALENESS).await {
            tracing::warn!(%error, "serving the JWKS as last loaded: reloading the signing keys failed");
        }
        let keys = self.keys.current();
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

    async fn get_login_methods(&self, _request: get_login_methods::Request) -> get_login_methods::Response {
        get_login_methods::Response::Ok(LoginMethodsResponse {
            status: LoginMethodsResponseStatus::Ok,
            email_password: RecipeEnabled { enabled: false },
            third_party: ThirdPartyLoginMethod {
                enabled: self.third_party.is_enabled(),
                providers: self
                    .third_party
                    .providers()
                    .map(|(id, name)| ProviderSummary { id: id.to_owned(), name: name.to_owned() })
                    .collect(),
            },
            passwordless: RecipeEnabled { enabled: true },
            webauthn: RecipeEnabled { enabled: false },
            first_factors: self.config.first_factors(),
        })
    }
}

/// The 303 target of Apple's form post: the `frontendRedirectURI` of the base64 JSON `state`, with every
/// form field set as a query parameter (replacing one of the same name), as supertokens-node does.
fn apple_redirect(form: &auth_api::types::AppleCallbackForm) -> Option<String> {
    use base64::Engine as _;
    // Node's base64 decoder takes both alphabets, with or without padding.
    let normalised: String = form
        .state
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let state = base64::engine::general_purpose::STANDARD_NO_PAD.decode(normalised).ok()?;
    let state: serde_json::Value = serde_json::from_slice(&state).ok()?;
    let mut url = url::Url::parse(state.get("frontendRedirectURI")?.as_str()?).ok()?;
    let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let listed = [
        ("code", form.code.as_ref()),
        ("state", Some(&form.state)),
        ("id_token", form.id_token.as_ref()),
        ("user", form.user.as_ref()),
    ];
    // Fields the spec does not list (such as `error` when the user cancelled) are forwarded too.
    let others = form.additional_properties.iter().map(|(k, v)| (k.as_str(), Some(v)));
    for (name, value) in listed.into_iter().chain(others) {
        let Some(value) = value else { continue };
        match pairs.iter().position(|(key, _)| key == name) {
            Some(first) => {
                pairs[first].1 = value.clone();
                let mut index = 0;
                pairs.retain(|(key, _)| {
                    index += 1;
                    key != name || index - 1 == first
                });
            }
            None => pairs.push((name.to_owned(), value.clone())),
        }
    }
    url.query_pairs_mut().clear().extend_pairs(&pairs);
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn form(state_json: &str) -> auth_api::types::AppleCallbackForm {
        auth_api::types::AppleCallbackForm {
            code: Some("c 1".into()),
            state: base64::engine::general_purpose::STANDARD.encode(state_json),
            id_token: Some("tok".into()),
            user: None,
            additional_properties: Default::default(),
        }
    }

    #[test]
    fn apple_redirect_appends_the_form_fields() {
        let form = form(r#"{"frontendRedirectURI":"https://app.example.com/auth/callback/apple?x=1&code=old"}"#);
        let location = apple_redirect(&form).expect("valid state");
        let state = url::form_urlencoded::byte_serialize(form.state.as_bytes()).collect::<String>();
        assert_eq!(
            location,
            format!("https://app.example.com/auth/callback/apple?x=1&code=c+1&state={state}&id_token=tok")
        );
        assert_eq!(apple_redirect(&auth_api::types::AppleCallbackForm { state: "%%%".into(), ..form.clone() }), None);
    }

    #[test]
    fn a_cancelled_apple_sign_in_forwards_the_error() {
        let mut form = form(r#"{"frontendRedirectURI":"https://app.example.com/cb"}"#);
        form.code = None;
        form.id_token = None;
        form.additional_properties.insert("error".into(), "user_cancelled_authorize".into());
        let location = apple_redirect(&form).expect("valid state");
        let state = url::form_urlencoded::byte_serialize(form.state.as_bytes()).collect::<String>();
        assert_eq!(location, format!("https://app.example.com/cb?state={state}&error=user_cancelled_authorize"));
    }
}
