//! [`AuthRecipes`]: the implementation of the generated [`AuthApi`] trait.
//!
//! The trait impl below is the map of every operation: each one delegates to its recipe's module.
//! - [`passwordless`]: createCode, resendCode, consumeCode and the email / phone number exists checks.
//! - [`thirdparty`]: the authorisation URL, third-party sign-in/up and Apple's form-post callback.
//! - [`session`]: starting, refreshing and revoking sessions, and the JWKS that verifies their tokens.
//! - [`loginmethods`]: which recipes and providers are enabled.
//! - [`emailverification`]: sending verification links, verifying emails with them, and the status.
//!
//! This module holds what they share: the recipes' state, the failures answered with 500 and the FDI user
//! object.

mod emailverification;
mod loginmethods;
mod passwordless;
mod session;
mod thirdparty;

use std::sync::Arc;

use auth_api::AuthApi;
use auth_api::ops::{
    apple_callback, consume_code, create_code, generate_email_verify_token, get_authorisation_url, get_jwks,
    get_login_methods, is_email_verified, passwordless_email_exists, passwordless_phone_number_exists, refresh_session,
    resend_code, sign_out, third_party_sign_in_up, verify_email,
};
use auth_api::server::RequestContext;
use auth_api::types::{ErrorMessage, LoginMethod, LoginMethodRecipeId, ThirdPartyInfo, User, WebauthnInfo};

use crate::config::{Config, ConfigError};
use crate::delivery::{Delivery, DeliveryError};
use crate::ids::RandomError;
use crate::ratelimit::{self, HitBatcher, Limit, RedisConnection};
use crate::schedule::Periodic;
use crate::session::SessionVerifier;
use crate::session::keys::{KeyError, KeyPolicy, KeyRing, maintenance};
use crate::store::{Store, StoreError, UserRecord};
use crate::tenants::{Tenant, TenantConfig, is_tenant_id};
use crate::thirdparty::ThirdPartyInitError;

/// Passwordless and third-party sign-in/up and sessions, serving every operation of [`AuthApi`]. Without
/// configured providers the third-party operations answer as supertokens-node does without providers.
pub struct AuthRecipes<S: Store> {
    config: Config,
    /// Every tenant served, `public` first, by id.
    tenants: std::collections::BTreeMap<String, Tenant>,
    store: Arc<S>,
    delivery: Arc<dyn Delivery>,
    keys: Arc<KeyRing>,
    verifier: SessionVerifier,
    /// The Redis counters of the rate limits, when they are not in the store.
    redis: Option<RedisConnection>,
    /// The rate-limit hits counted in the store, written in batches.
    hits: HitBatcher,
    /// Rotates, prunes and reloads the signing keys on a schedule while the recipes live.
    _maintenance: Periodic,
    _pruning: Periodic,
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
    /// The Redis of the rate-limit counters cannot be reached.
    #[error("rate-limit counters in Redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A tenant is misconfigured.
    #[error("{0}")]
    Tenant(String),
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
    #[error("rate-limit counters in Redis: {0}")]
    Redis(#[from] redis::RedisError),
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

/// The 429 of operation module `$op`, retry after `$seconds`.
macro_rules! too_many_requests {
    ($op:ident, $seconds:expr) => {
        $op::Response::TooManyRequests {
            body: $crate::api::message("too many requests, try again later"),
            headers: $op::TooManyRequestsHeaders { retry_after: $seconds },
        }
    };
}
use too_many_requests;

fn message(text: impl Into<String>) -> ErrorMessage {
    ErrorMessage { message: text.into() }
}

impl<S: Store> AuthRecipes<S> {
    /// Recipes over `store`, sending codes with `delivery`. Loads the ES256 signing keys from the store,
    /// creating one on first start (or when the newest is due for rotation), and starts the schedule that
    /// rotates, prunes and reloads them (see [`crate::session::keys`]); call it inside a tokio runtime.
    pub async fn new(config: Config, store: S, delivery: Arc<dyn Delivery>) -> Result<Self, InitError> {
        config.validate()?;
        let tenants = Self::tenants(&config)?;
        let store = Arc::new(store);
        let policy = KeyPolicy {
            rotation_interval: config.signing_key_rotation_interval,
            access_token_lifetime: config.access_token_lifetime,
        };
        let keys = Arc::new(KeyRing::open(store.clone(), policy).await?);
        let redis = match &config.rate_limit_redis {
            Some(counters) => Some(RedisConnection::open(counters).await?),
            None => None,
        };
        let verifier = SessionVerifier::with_session_store(
            keys.clone(),
            config.anti_csrf(),
            store.clone(),
            config.session_check_ttl,
        )
        .requiring_verified_email(config.email_verification == crate::EmailVerificationMode::Required);
        let maintenance = maintenance(keys.clone());
        let pruning = {
            let store = store.clone();
            let code_lifetime_ms = i64::try_from(config.code_lifetime.as_millis()).unwrap_or(i64::MAX);
            Periodic::start(config.prune_interval, "pruning expired devices and sessions", move || {
                let store = store.clone();
                async move {
                    let pruned = store.prune_expired(crate::now_ms(), code_lifetime_ms).await?;
                    let tokens = store.prune_email_verification_tokens(crate::now_ms()).await?;
                    if tokens > 0 {
                        tracing::info!(tokens, "pruned expired email verification tokens");
                    }
                    if pruned != crate::store::Pruned::default() {
                        tracing::info!(devices = pruned.devices, sessions = pruned.sessions, "pruned expired rows");
                    }
                    Ok::<_, crate::store::StoreError>(())
                }
            })
        };
        Ok(Self {
            config,
            tenants,
            store,
            delivery,
            keys,
            verifier,
            redis,
            hits: HitBatcher::default(),
            _maintenance: maintenance,
            _pruning: pruning,
        })
    }

    /// The address of the client of the request being answered (see [`Config::trusted_proxies`]) as a
    /// rate-limit subject: an IPv6 client by its /64, the block one subscriber usually holds. `None` when the
    /// peer is not known (a call without an adapter, or the in-process client without a peer).
    fn client_subject(&self) -> Option<String> {
        let ip = RequestContext::with(|cx| cx.client_ip(&self.config.trusted_proxies)).flatten()?;
        Some(match ip {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => {
                let block = u128::from(v6) & (u128::MAX << 64);
                format!("{}/64", std::net::Ipv6Addr::from(block))
            }
        })
    }

    /// Counts a request against `limit` for `subject`; the seconds to wait when it is over the limit.
    async fn over_limit(&self, name: &str, subject: &str, limit: Limit) -> Result<Option<i64>, Failure> {
        if !limit.is_on() {
            return Ok(None);
        }
        let now = crate::now_ms();
        let (start, end) = ratelimit::window(limit, now);
        let key = ratelimit::counter_key(name, subject);
        let count = match &self.redis {
            Some(redis) => redis.hit(&key, start, end).await?,
            None => self.hits.hit(&self.store, key, start, end).await?,
        };
        if count <= i64::from(limit.max) {
            return Ok(None);
        }
        let retry_after_s = ratelimit::retry_after_s(now, end);
        crate::audit::rate_limited(name, retry_after_s);
        Ok(Some(retry_after_s))
    }

    /// [`Self::over_limit`] for the client of the request being answered; a request whose client is not known
    /// is not counted.
    async fn client_over_limit(&self, name: &str, limit: Limit) -> Result<Option<i64>, Failure> {
        match self.client_subject() {
            Some(client) => self.over_limit(name, &client, limit).await,
            None => Ok(None),
        }
    }

    /// The tenants `config` describes: `public` from its own settings, then each of [`Config::tenants`].
    fn tenants(config: &Config) -> Result<std::collections::BTreeMap<String, Tenant>, InitError> {
        let defaults = (config.contact_method, config.flow_type);
        let public = TenantConfig {
            third_party_providers: config.third_party_providers.clone(),
            ..TenantConfig::new(crate::DEFAULT_TENANT)
        };
        let mut tenants = std::collections::BTreeMap::new();
        for tenant in std::iter::once(&public).chain(&config.tenants) {
            if !is_tenant_id(&tenant.id) {
                return Err(InitError::Tenant(format!("`{}` is not a tenant id", tenant.id.escape_debug())));
            }
            if tenants.contains_key(&tenant.id) {
                return Err(InitError::Tenant(format!("the tenant `{}` is configured twice", tenant.id)));
            }
            let served = Tenant::new(tenant, defaults).map_err(InitError::Tenant)?;
            tenants.insert(tenant.id.clone(), served);
        }
        Ok(tenants)
    }

    /// The tenant a request is for, or the answer to a tenant this backend does not serve, as
    /// supertokens-node's: its `Error("Tenant not found")` is not a SuperTokens error, so it reaches the app's
    /// handler, a 500.
    fn tenant(&self, tenant_id: &str) -> Result<&Tenant, ErrorMessage> {
        self.tenants.get(tenant_id).ok_or_else(|| {
            tracing::info!(tenant = %crate::logsafe::escape(tenant_id), "request for an unknown tenant");
            message("Tenant not found")
        })
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
    /// `.layer(axum::Extension(recipes.session_verifier()))` after merging your routes. It refuses the tokens
    /// of sessions that ended (see [`Config::session_check_ttl`]).
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
}

impl<S: Store> AuthApi for AuthRecipes<S> {
    async fn create_code(&self, request: create_code::Request) -> create_code::Response {
        let tenant = match self.tenant(&request.tenant_id) {
            Ok(tenant) => tenant,
            Err(body) => return create_code::Response::InternalServerError(body),
        };
        passwordless::create_code(self, tenant, request).await
    }

    async fn resend_code(&self, request: resend_code::Request) -> resend_code::Response {
        let tenant = match self.tenant(&request.tenant_id) {
            Ok(tenant) => tenant,
            Err(body) => return resend_code::Response::InternalServerError(body),
        };
        passwordless::resend_code(self, tenant, request).await
    }

    async fn consume_code(&self, request: consume_code::Request) -> consume_code::Response {
        let tenant = match self.tenant(&request.tenant_id) {
            Ok(tenant) => tenant,
            Err(body) => return consume_code::Response::InternalServerError(body),
        };
        passwordless::consume_code(self, tenant, request).await
    }

    async fn passwordless_email_exists(
        &self,
        request: passwordless_email_exists::Request,
    ) -> passwordless_email_exists::Response {
        let tenant = match self.tenant(&request.tenant_id) {
            Ok(tenant) => tenant,
            Err(body) => return passwordless_email_exists::Response::InternalServerError(body),
        };
        passwordless::email_exists(self, tenant, request).await
    }

    async fn passwordless_phone_number_exists(
        &self,
        request: passwordless_phone_number_exists::Request,
    ) -> passwordless_phone_number_exists::Response {
        let tenant = match self.tenant(&request.tenant_id) {
            Ok(tenant) => tenant,
            Err(body) => return passwordless_phone_number_exists::Response::InternalServerError(body),
        };
        passwordless::phone_number_exists(self, tenant, request).await
    }

    async fn get_authorisation_url(&self, request: get_authorisation_url::Request) -> get_authorisation_url::Response {
        let tenant = match self.tenant(&request.tenant_id) {
            Ok(tenant) => tenant,
            Err(body) => return get_authorisation_url::Response::InternalServerError(body),
        };
        thirdparty::authorisation_url(self, tenant, request).await
    }

    async fn third_party_sign_in_up(
        &self,
        request: third_party_sign_in_up::Request,
    ) -> third_party_sign_in_up::Response {
        let tenant = match self.tenant(&request.tenant_id) {
            Ok(tenant) => tenant,
            Err(body) => return third_party_sign_in_up::Response::InternalServerError(body),
        };
        thirdparty::sign_in_up(self, tenant, request).await
    }

    async fn apple_callback(&self, request: apple_callback::Request) -> apple_callback::Response {
        thirdparty::apple_callback(self, request)
    }

    async fn refresh_session(&self, request: refresh_session::Request) -> refresh_session::Response {
        session::refresh_session(self, request).await
    }

    async fn sign_out(&self, request: sign_out::Request) -> sign_out::Response {
        session::sign_out(self, request).await
    }

    async fn get_jwks(&self, _request: get_jwks::Request) -> get_jwks::Response {
        session::jwks(self).await
    }

    async fn get_login_methods(&self, request: get_login_methods::Request) -> get_login_methods::Response {
        let tenant = match self.tenant(&request.tenant_id) {
            Ok(tenant) => tenant,
            Err(body) => return get_login_methods::Response::InternalServerError(body),
        };
        loginmethods::login_methods(tenant)
    }

    async fn generate_email_verify_token(
        &self,
        request: generate_email_verify_token::Request,
    ) -> generate_email_verify_token::Response {
        emailverification::generate_token(self, request).await
    }

    async fn verify_email(&self, request: verify_email::Request) -> verify_email::Response {
        emailverification::verify(self, request).await
    }

    async fn is_email_verified(&self, request: is_email_verified::Request) -> is_email_verified::Response {
        emailverification::status(self, request).await
    }
}

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
