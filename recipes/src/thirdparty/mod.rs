//! Third-party sign-in: OAuth2 and OpenID Connect providers.
//!
//! [`ThirdParty`] holds the configured providers ([`config`]) and talks to them: it builds the authorisation
//! URL (with PKCE where the provider supports it), exchanges the code the provider sent back for tokens,
//! verifies the id_token against the provider's JWKS ([`jwt`]), calls the user-info endpoint and maps what it
//! learns to a [`ProviderUser`]. Discovery documents and JWKS are fetched lazily and cached; a JWKS is fetched
//! again when a token names a key it does not hold (the provider rotated), at most once per
//! [`JWKS_REFETCH_INTERVAL`].
//!
//! The parts, one file each:
//! - [`config`]: what a deployment writes (a providers file, a `key=value` flag or Rust values), parsed.
//! - `providers`: the built-in providers (Google, GitHub, Apple, ...) and the rules of custom OpenID Connect
//!   and OAuth2 providers, applied to a configuration to give what the flows use.
//! - `flow`: the OAuth2 / OpenID Connect flow: authorisation URL, PKCE, code exchange, id_token verification.
//! - `userinfo`: the user-info endpoint, the emails APIs and the mapping to a [`ProviderUser`].
//! - `discovery`: discovery documents and JWKS, fetched as JSON and cached.
//! - `audience`: access tokens brought without an id_token, refused unless the configuration enables them
//!   and the provider confirms they were issued to this app (GitHub's token check, Facebook's debug_token).
//! - [`jwt`] verifies id_tokens and signs Apple's client secret; `outbound` is the HTTP client.

mod audience;
pub mod config;
mod discovery;
mod flow;
pub mod jwt;
mod outbound;
mod providers;
mod userinfo;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use config::{
    AccessTokenCheck, ClientConfig, FieldPaths, ProviderConfig, ProviderConfigError, TokenAuthMethod, UserInfoMap,
    parse_provider_line, parse_providers_toml,
};
pub use discovery::JWKS_REFETCH_INTERVAL;
pub use jwt::IdTokenError;
pub use providers::Builtin;

use discovery::{CachedJwks, Discovery};
use providers::Resolved;

/// Timeout of every request to a provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest provider response read.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// Who signed in, as the provider says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderUser {
    /// The `thirdPartyId`.
    pub third_party_id: String,
    /// The provider's id of the user.
    pub third_party_user_id: String,
    /// The email and whether the provider verified it; `None` when the provider gave none.
    pub email: Option<(String, bool)>,
}

/// The answer of [`ThirdParty::authorisation_url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorisationUrl {
    /// The provider's authorization endpoint with every query parameter but `state`.
    pub url: String,
    /// The PKCE code verifier the frontend keeps and sends back to sign-in/up.
    pub pkce_code_verifier: Option<String>,
}

/// What the frontend brought back from the provider.
#[derive(Debug, Clone)]
pub enum Grant {
    /// The redirect after the user consented.
    Redirect {
        /// The redirect URI registered with the provider (the one the authorisation URL named).
        redirect_uri: String,
        /// The query parameters the provider appended (`code`, `state`, or `error`).
        query: BTreeMap<String, String>,
        /// The PKCE verifier from [`ThirdParty::authorisation_url`].
        pkce_code_verifier: Option<String>,
    },
    /// Tokens the frontend already holds (mobile SDKs): `access_token` and/or `id_token`.
    Tokens(BTreeMap<String, Value>),
}

/// Why a third-party operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ThirdPartyError {
    /// No provider has this id: 400 with supertokens-node's message.
    #[error("the provider {0} could not be found in the configuration")]
    UnknownProvider(String),
    /// The `clientType` does not pick a client: 400.
    #[error("{0}")]
    ClientType(String),
    /// The user cancelled or the provider refused at its authorization endpoint.
    #[error("the provider did not grant access: {0}")]
    Denied(String),
    /// The provider could not be reached or answered with an error.
    #[error("the provider {provider} failed: {message}")]
    Provider {
        /// The provider id.
        provider: String,
        /// What happened.
        message: String,
    },
    /// The id_token does not verify.
    #[error("the id_token from {provider} was refused: {error}")]
    IdToken {
        /// The provider id.
        provider: String,
        /// Why.
        error: IdTokenError,
    },
    /// `oAuthTokens` with an access token the recipes may not use: 400 with this message. Without an id_token
    /// the token could have been issued to any app of the provider.
    #[error("{0}")]
    AccessTokenRefused(String),
    /// Neither the id_token nor the user-info response named the user.
    #[error("the provider {0} did not say who signed in (no user id in the id_token or the user info)")]
    NoUserId(String),
}

/// The configured providers and their caches. Cheap to share behind an `Arc`.
pub struct ThirdParty {
    providers: Vec<Resolved>,
    http: outbound::Http,
    discovery: Mutex<BTreeMap<String, (Discovery, Instant)>>,
    jwks: Mutex<BTreeMap<String, Arc<CachedJwks>>>,
}

impl std::fmt::Debug for ThirdParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThirdParty")
            .field("providers", &self.providers.iter().map(|p| &p.id).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl ThirdParty {
    /// Checks the provider configuration and prepares the HTTP client; nothing is fetched yet.
    pub fn new(configs: &[ProviderConfig]) -> Result<Self, ThirdPartyInitError> {
        let mut providers: Vec<Resolved> = Vec::with_capacity(configs.len());
        for config in configs {
            let resolved = config.resolve()?;
            if providers.iter().any(|p| p.id == resolved.id) {
                return Err(ProviderConfigError::Duplicate(resolved.id).into());
            }
            if resolved.access_token_audience == providers::AccessTokenAudience::Trusted {
                tracing::warn!(
                    provider = %resolved.id,
                    "access_token_check = unsafe_trust: an access token this provider issued to any app signs its user in here"
                );
            }
            providers.push(resolved);
        }
        let http = outbound::Http::new(PROVIDER_TIMEOUT, MAX_RESPONSE_BYTES);
        Ok(Self { providers, http, discovery: Mutex::new(BTreeMap::new()), jwks: Mutex::new(BTreeMap::new()) })
    }

    /// Whether any provider is configured.
    pub fn is_enabled(&self) -> bool {
        !self.providers.is_empty()
    }

    /// `(id, name)` of every provider, in configuration order.
    pub fn providers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.providers.iter().map(|p| (p.id.as_str(), p.name.as_str()))
    }

    fn provider(&self, id: &str) -> Result<&Resolved, ThirdPartyError> {
        self.providers.iter().find(|p| p.id == id).ok_or_else(|| ThirdPartyError::UnknownProvider(id.to_owned()))
    }

    fn client<'a>(provider: &'a Resolved, client_type: Option<&str>) -> Result<&'a ClientConfig, ThirdPartyError> {
        match client_type {
            None if provider.clients.len() == 1 => Ok(&provider.clients[0]),
            None => Err(ThirdPartyError::ClientType(format!(
                "the provider {} has several clients: please provide the clientType ({})",
                provider.id,
                provider.clients.iter().filter_map(|c| c.client_type.as_deref()).collect::<Vec<_>>().join(", ")
            ))),
            Some(wanted) => provider
                .clients
                .iter()
                .find(|c| c.client_type.as_deref() == Some(wanted))
                // A single client without a type serves every client type.
                .or_else(|| {
                    (provider.clients.len() == 1 && provider.clients[0].client_type.is_none())
                        .then(|| &provider.clients[0])
                })
                .ok_or_else(|| {
                    ThirdPartyError::ClientType(format!("Could not find client config for clientType: {wanted}"))
                }),
        }
    }

    fn provider_error(provider: &Resolved, message: impl Into<String>) -> ThirdPartyError {
        ThirdPartyError::Provider { provider: provider.id.clone(), message: message.into() }
    }
}

/// Why [`ThirdParty::new`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ThirdPartyInitError {
    /// A provider is misconfigured.
    #[error(transparent)]
    Config(#[from] ProviderConfigError),
}

/// The fake email of a user whose provider gives none (when the provider does not require one).
pub fn fake_email(third_party_user_id: &str, third_party_id: &str) -> String {
    format!("{third_party_user_id}.{third_party_id}@stfakeemail.supertokens.com")
}
