//! Third-party sign-in: OAuth2 and OpenID Connect providers.
//!
//! [`ThirdParty`] holds the configured providers ([`config`]) and talks to them: it builds the authorisation
//! URL (with PKCE where the provider supports it), exchanges the code the provider sent back for tokens,
//! verifies the id_token against the provider's JWKS ([`jwt`]), calls the user-info endpoint and maps what it
//! learns to a [`ProviderUser`]. Discovery documents and JWKS are fetched lazily and cached; a JWKS is fetched
//! again when a token names a key it does not hold (the provider rotated), at most once per
//! [`JWKS_REFETCH_INTERVAL`].

pub mod config;
pub mod jwt;
mod outbound;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

pub use config::{
    Builtin, ClientConfig, FieldPaths, ProviderConfig, ProviderConfigError, TokenAuthMethod, UserInfoMap,
    parse_provider_line, parse_providers_toml,
};
pub use jwt::IdTokenError;

use config::{Resolved, default_scopes};
use jwt::{Jwk, JwkSet};

/// How long a discovery document is trusted.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// How long a JWKS is trusted before it is fetched again.
const JWKS_TTL: Duration = Duration::from_secs(3600);
/// The least time between two fetches of one JWKS caused by unknown key ids, so forged tokens with random
/// `kid`s cannot make this server hammer the provider.
pub const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(10);
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
    /// Neither the id_token nor the user-info response named the user.
    #[error("the provider {0} did not say who signed in (no user id in the id_token or the user info)")]
    NoUserId(String),
}

/// An OpenID Connect discovery document (the fields used).
#[derive(Debug, Clone, serde::Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    jwks_uri: String,
    #[serde(default)]
    code_challenge_methods_supported: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
}

/// A provider's endpoints with discovery applied.
struct Endpoints {
    issuer: Option<String>,
    authorization: String,
    token: String,
    user_info: Option<String>,
    jwks_uri: Option<String>,
    pkce_s256: bool,
    token_auth: TokenAuthMethod,
}

struct CachedJwks {
    keys: Vec<Jwk>,
    fetched: Instant,
    /// The last fetch attempt, successful or not: refetches on unknown kids are counted from it.
    attempted: Instant,
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

    /// GET a JSON document, with extra headers.
    async fn get_json(
        &self,
        provider: &Resolved,
        url: &str,
        headers: &[(&str, &str)],
        what: &str,
    ) -> Result<Value, ThirdPartyError> {
        let url = url::Url::parse(url).map_err(|e| Self::provider_error(provider, format!("{what}: {url}: {e}")))?;
        let mut all = vec![("accept", "application/json")];
        all.extend_from_slice(headers);
        let response = self
            .http
            .send(http::Method::GET, &url, &all, None)
            .await
            .map_err(|e| Self::provider_error(provider, format!("{what}: {e}")))?;
        Self::read_json(provider, response, what)
    }

    fn read_json(provider: &Resolved, response: outbound::Response, what: &str) -> Result<Value, ThirdPartyError> {
        let outbound::Response { status, body: bytes } = response;
        let text = String::from_utf8_lossy(&bytes);
        if !status.is_success() {
            let shown: String = text.chars().take(300).collect();
            return Err(Self::provider_error(provider, format!("{what} answered {status}: {shown}")));
        }
        serde_json::from_slice(&bytes).or_else(|_| {
            // Some token endpoints (GitHub without an Accept header) answer form-encoded.
            let pairs: serde_json::Map<String, Value> = url::form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            if pairs.is_empty() {
                Err(Self::provider_error(provider, format!("{what} did not answer JSON")))
            } else {
                Ok(Value::Object(pairs))
            }
        })
    }

    async fn discover(&self, provider: &Resolved, url: &str) -> Result<Discovery, ThirdPartyError> {
        if let Some((document, fetched)) = self.discovery.lock().expect("discovery cache").get(url)
            && fetched.elapsed() < DISCOVERY_TTL
        {
            return Ok(document.clone());
        }
        let value = self.get_json(provider, url, &[], "OpenID Connect discovery").await?;
        let document: Discovery = serde_json::from_value(value).map_err(|e| {
            Self::provider_error(provider, format!("the discovery document at {url} is incomplete: {e}"))
        })?;
        self.discovery.lock().expect("discovery cache").insert(url.to_owned(), (document.clone(), Instant::now()));
        Ok(document)
    }

    async fn endpoints(&self, provider: &Resolved) -> Result<Endpoints, ThirdPartyError> {
        let discovered = match &provider.discovery {
            Some(url) => Some(self.discover(provider, url).await?),
            None => None,
        };
        let d = discovered.as_ref();
        // OpenID Connect Discovery 1.0 §4.3: the document must be the configured issuer's, or an attacker who
        // controls it could name its own issuer and keys.
        if let (Some(expected), Some(d)) = (&provider.expected_issuer, d)
            && d.issuer.trim_end_matches('/') != expected
        {
            return Err(Self::provider_error(
                provider,
                format!("the discovery document names the issuer {} instead of {expected}", d.issuer),
            ));
        }
        let missing = |what: &str| Self::provider_error(provider, format!("no {what} is configured or discovered"));
        // RFC 6749 makes HTTP Basic the method every server supports and OpenID Connect makes it the default
        // registration, so it is preferred when discovery lists it (or lists nothing); plain OAuth2 providers
        // without discovery get the form body, as supertokens-node sends it.
        let token_auth = provider.token_auth.unwrap_or(match d.map(|d| &d.token_endpoint_auth_methods_supported) {
            Some(methods) if methods.is_empty() || methods.iter().any(|m| m == "client_secret_basic") => {
                TokenAuthMethod::ClientSecretBasic
            }
            _ => TokenAuthMethod::ClientSecretPost,
        });
        Ok(Endpoints {
            issuer: d.map(|d| d.issuer.clone()),
            authorization: provider
                .authorization_endpoint
                .clone()
                .or_else(|| d.map(|d| d.authorization_endpoint.clone()))
                .ok_or_else(|| missing("authorization endpoint"))?,
            token: provider
                .token_endpoint
                .clone()
                .or_else(|| d.map(|d| d.token_endpoint.clone()))
                .ok_or_else(|| missing("token endpoint"))?,
            user_info: provider.user_info_endpoint.clone().or_else(|| d.and_then(|d| d.userinfo_endpoint.clone())),
            jwks_uri: provider.jwks_uri.clone().or_else(|| d.map(|d| d.jwks_uri.clone())),
            pkce_s256: d.is_some_and(|d| d.code_challenge_methods_supported.iter().any(|m| m == "S256")),
            token_auth,
        })
    }

    /// The provider's authorization URL for `redirect_uri` (the frontend appends `state`). PKCE is used when
    /// the client has no secret, the client forces it, or the provider advertises S256.
    pub async fn authorisation_url(
        &self,
        third_party_id: &str,
        client_type: Option<&str>,
        redirect_uri: &str,
    ) -> Result<AuthorisationUrl, ThirdPartyError> {
        let provider = self.provider(third_party_id)?;
        let client = Self::client(provider, client_type)?;
        let endpoints = self.endpoints(provider).await?;
        let mut url = url::Url::parse(&endpoints.authorization)
            .map_err(|e| Self::provider_error(provider, format!("the authorization endpoint is not a URL: {e}")))?;
        let scopes =
            client.scope.clone().unwrap_or_else(|| default_scopes(provider.builtin, provider.discovery.is_some()));
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        params.insert("client_id".into(), client.client_id.clone());
        params.insert("redirect_uri".into(), redirect_uri.to_owned());
        params.insert("response_type".into(), "code".into());
        if !scopes.is_empty() {
            params.insert("scope".into(), scopes.join(" "));
        }
        let use_pkce = client.client_secret.is_none() && !is_apple(provider)
            || client.force_pkce
            || provider.force_pkce
            || endpoints.pkce_s256;
        let verifier = if use_pkce {
            let verifier = pkce_verifier().map_err(|e| Self::provider_error(provider, e))?;
            params.insert("code_challenge".into(), pkce_challenge(&verifier));
            params.insert("code_challenge_method".into(), "S256".into());
            Some(verifier)
        } else {
            None
        };
        params.extend(provider.authorization_query.clone());
        if provider.builtin == Some(Builtin::GoogleWorkspaces) {
            params.insert("hd".into(), client.additional_config.get("hd").cloned().unwrap_or_else(|| "*".into()));
        }
        // Parameters already in the configured endpoint URL are replaced, not repeated.
        let kept: Vec<(String, String)> =
            url.query_pairs().into_owned().filter(|(k, _)| !params.contains_key(k)).collect();
        url.query_pairs_mut().clear().extend_pairs(kept).extend_pairs(&params);
        Ok(AuthorisationUrl { url: url.to_string(), pkce_code_verifier: verifier })
    }

    /// Finds out who signed in: exchanges the code (or takes the given tokens), verifies the id_token and
    /// reads the user info.
    pub async fn sign_in(
        &self,
        third_party_id: &str,
        client_type: Option<&str>,
        grant: Grant,
    ) -> Result<(ProviderUser, bool), ThirdPartyError> {
        let provider = self.provider(third_party_id)?;
        let client = Self::client(provider, client_type)?;
        let endpoints = self.endpoints(provider).await?;
        let given_tokens = matches!(grant, Grant::Tokens(_));
        let tokens = match grant {
            Grant::Tokens(tokens) => tokens,
            Grant::Redirect { redirect_uri, query, pkce_code_verifier } => {
                if let Some(error) = query.get("error") {
                    let description = query.get("error_description").map(|d| format!(": {d}")).unwrap_or_default();
                    return Err(ThirdPartyError::Denied(format!("{error}{description}")));
                }
                let Some(code) = query.get("code") else {
                    return Err(ThirdPartyError::Denied("the redirect carries no code".into()));
                };
                self.exchange(provider, client, &endpoints, &redirect_uri, code, pkce_code_verifier.as_deref()).await?
            }
        };
        let id_token = tokens.get("id_token").and_then(Value::as_str);
        let access_token = tokens.get("access_token").and_then(Value::as_str);
        let refused = |message: &str| ThirdPartyError::IdToken {
            provider: provider.id.clone(),
            error: IdTokenError::Claim(message.to_owned()),
        };
        // An access token the frontend brings may have been issued to any app of the provider; only an id_token
        // names its audience. Providers with keys therefore need one on that path, and Google Workspaces needs
        // one on every path, since only the id_token carries the `hd` domain.
        if id_token.is_none() && given_tokens && endpoints.jwks_uri.is_some() {
            return Err(refused(
                "an id_token is required with oAuthTokens: an access token alone does not say which app it was issued to",
            ));
        }
        if id_token.is_none() && provider.builtin == Some(Builtin::GoogleWorkspaces) {
            return Err(refused(
                "Google Workspaces sign-in needs an id_token to check the hd claim (ask for the openid scope)",
            ));
        }
        let mut from_id_token = serde_json::Map::new();
        if let Some(id_token) = id_token {
            from_id_token = self.verify_id_token(provider, client, &endpoints, id_token).await?;
        }
        let mut from_user_info = Value::Null;
        if let (Some(access_token), Some(endpoint)) = (access_token, &endpoints.user_info) {
            from_user_info = self.user_info(provider, endpoint, access_token).await?;
        }
        if id_token.is_none() && access_token.is_none() {
            return Err(ThirdPartyError::Denied("the tokens hold neither an access_token nor an id_token".into()));
        }
        let mut user = map_user(provider, &Value::Object(from_id_token), &from_user_info)?;
        if let (None, Some(access_token), Some(builtin)) = (&user.email, access_token, provider.builtin) {
            user.email = self.emails_api(provider, builtin, access_token).await?;
        }
        Ok((user, provider.require_email))
    }

    async fn exchange(
        &self,
        provider: &Resolved,
        client: &ClientConfig,
        endpoints: &Endpoints,
        redirect_uri: &str,
        code: &str,
        pkce_code_verifier: Option<&str>,
    ) -> Result<BTreeMap<String, Value>, ThirdPartyError> {
        let mut form: BTreeMap<String, String> = BTreeMap::new();
        form.insert("grant_type".into(), "authorization_code".into());
        form.insert("code".into(), code.to_owned());
        form.insert("redirect_uri".into(), redirect_uri.to_owned());
        if let Some(verifier) = pkce_code_verifier {
            form.insert("code_verifier".into(), verifier.to_owned());
        }
        let secret = match (&client.client_secret, is_apple(provider)) {
            (Some(secret), _) => Some(secret.clone()),
            (None, true) => Some(apple_secret(provider, client)?),
            (None, false) => None,
        };
        let mut headers = vec![
            ("accept", "application/json".to_owned()),
            ("content-type", "application/x-www-form-urlencoded".to_owned()),
        ];
        match (&secret, endpoints.token_auth) {
            (Some(secret), TokenAuthMethod::ClientSecretBasic) => {
                let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let credentials = format!("{}:{}", encode(&client.client_id), encode(secret));
                headers.push((
                    "authorization",
                    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials)),
                ));
            }
            (Some(secret), TokenAuthMethod::ClientSecretPost) => {
                form.insert("client_id".into(), client.client_id.clone());
                form.insert("client_secret".into(), secret.clone());
            }
            (None, _) => {
                form.insert("client_id".into(), client.client_id.clone());
            }
        }
        for (key, value) in &provider.token_body {
            form.insert(key.clone(), value.clone());
        }
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&form).finish();
        let url = url::Url::parse(&endpoints.token)
            .map_err(|e| Self::provider_error(provider, format!("the token endpoint is not a URL: {e}")))?;
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = self
            .http
            .send(http::Method::POST, &url, &headers, Some(body))
            .await
            .map_err(|e| Self::provider_error(provider, format!("token request: {e}")))?;
        match Self::read_json(provider, response, "the token endpoint")? {
            Value::Object(tokens) if tokens.contains_key("error") => Err(Self::provider_error(
                provider,
                format!("the token endpoint refused the code: {}", Value::Object(tokens.clone())["error"]),
            )),
            Value::Object(tokens) => Ok(tokens.into_iter().collect()),
            _ => Err(Self::provider_error(provider, "the token endpoint did not answer a JSON object")),
        }
    }

    async fn jwks(&self, provider: &Resolved, uri: &str, refetch: bool) -> Result<Arc<CachedJwks>, ThirdPartyError> {
        let cached = self.jwks.lock().expect("jwks cache").get(uri).cloned();
        if let Some(cached) = &cached {
            let stale = cached.fetched.elapsed() >= JWKS_TTL;
            let may_refetch = cached.attempted.elapsed() >= JWKS_REFETCH_INTERVAL;
            if !((stale || refetch) && may_refetch) {
                return Ok(cached.clone());
            }
        }
        let fetched = async {
            let value = self.get_json(provider, uri, &[], "the JWKS endpoint").await?;
            serde_json::from_value::<JwkSet>(value)
                .map_err(|e| Self::provider_error(provider, format!("the JWKS at {uri} is not a key set: {e}")))
        }
        .await;
        let now = Instant::now();
        match (fetched, cached) {
            (Ok(set), _) => {
                let fresh = Arc::new(CachedJwks { keys: set.keys, fetched: now, attempted: now });
                self.jwks.lock().expect("jwks cache").insert(uri.to_owned(), fresh.clone());
                Ok(fresh)
            }
            // The provider is down or broken: the keys held keep verifying, and the next attempt waits.
            (Err(error), Some(cached)) => {
                tracing::warn!(provider = %provider.id, %error, "JWKS refetch failed; using the cached keys");
                let kept = Arc::new(CachedJwks { keys: cached.keys.clone(), fetched: cached.fetched, attempted: now });
                self.jwks.lock().expect("jwks cache").insert(uri.to_owned(), kept.clone());
                Ok(kept)
            }
            (Err(error), None) => Err(error),
        }
    }

    async fn verify_id_token(
        &self,
        provider: &Resolved,
        client: &ClientConfig,
        endpoints: &Endpoints,
        id_token: &str,
    ) -> Result<serde_json::Map<String, Value>, ThirdPartyError> {
        let refused = |error| ThirdPartyError::IdToken { provider: provider.id.clone(), error };
        let Some(uri) = &endpoints.jwks_uri else {
            // Without keys an id_token cannot be trusted: it is ignored, and the user info decides.
            tracing::debug!(provider = %provider.id, "id_token ignored: no jwks_uri configured or discovered");
            return Ok(serde_json::Map::new());
        };
        let token = jwt::decode(id_token).map_err(refused)?;
        let mut jwks = self.jwks(provider, uri, false).await?;
        let known = |set: &CachedJwks| set.keys.iter().any(|k| jwt::key_matches(k, &token.alg, token.kid.as_deref()));
        if !known(&jwks) {
            jwks = self.jwks(provider, uri, true).await?;
        }
        token.verify_signature(&jwks.keys).map_err(refused)?;
        token.check_claims(endpoints.issuer.as_deref(), &client.client_id, crate::now_ms() / 1000).map_err(refused)?;
        if provider.builtin == Some(Builtin::GoogleWorkspaces) {
            let hd = client.additional_config.get("hd").map_or("*", String::as_str);
            if hd != "*" && token.payload.get("hd").and_then(Value::as_str) != Some(hd) {
                return Err(refused(IdTokenError::Claim(
                    "the value for hd claim in the id token does not match the value provided in the config".into(),
                )));
            }
        }
        Ok(token.payload)
    }

    async fn user_info(
        &self,
        provider: &Resolved,
        endpoint: &str,
        access_token: &str,
    ) -> Result<Value, ThirdPartyError> {
        let mut url = url::Url::parse(endpoint)
            .map_err(|e| Self::provider_error(provider, format!("the user-info endpoint is not a URL: {e}")))?;
        if !provider.user_info_query.is_empty() {
            url.query_pairs_mut().extend_pairs(&provider.user_info_query);
        }
        let bearer = format!("Bearer {access_token}");
        let mut headers = vec![("authorization", bearer.as_str())];
        headers.extend(provider.user_info_headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.get_json(provider, url.as_str(), &headers, "the user-info endpoint").await
    }

    /// GitHub and Bitbucket keep emails behind a separate API: the primary one, with its verified flag.
    async fn emails_api(
        &self,
        provider: &Resolved,
        builtin: Builtin,
        access_token: &str,
    ) -> Result<Option<(String, bool)>, ThirdPartyError> {
        let (url, list_key, primary, verified) = match builtin {
            Builtin::Github => ("https://api.github.com/user/emails", None, "primary", "verified"),
            Builtin::Bitbucket => {
                ("https://api.bitbucket.org/2.0/user/emails", Some("values"), "is_primary", "is_confirmed")
            }
            _ => return Ok(None),
        };
        let bearer = format!("Bearer {access_token}");
        let value = self.get_json(provider, url, &[("authorization", &bearer)], "the emails API").await?;
        let list = match list_key {
            Some(key) => value.get(key).cloned().unwrap_or(Value::Null),
            None => value,
        };
        Ok(list.as_array().into_iter().flatten().find(|e| e.get(primary) == Some(&Value::Bool(true))).and_then(|e| {
            let email = e.get("email")?.as_str()?.to_owned();
            Some((email, e.get(verified) == Some(&Value::Bool(true))))
        }))
    }
}

/// Why [`ThirdParty::new`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ThirdPartyInitError {
    /// A provider is misconfigured.
    #[error(transparent)]
    Config(#[from] ProviderConfigError),
}

fn is_apple(provider: &Resolved) -> bool {
    provider.builtin == Some(Builtin::Apple)
}

fn apple_secret(provider: &Resolved, client: &ClientConfig) -> Result<String, ThirdPartyError> {
    let setting = |key: &str| client.additional_config.get(key).map(String::as_str).unwrap_or_default();
    jwt::apple_client_secret(
        &client.client_id,
        setting("keyId"),
        setting("teamId"),
        setting("privateKey"),
        crate::now_ms() / 1000,
        // Apple accepts secrets valid for up to six months; a fresh one per exchange needs far less.
        300,
    )
    .map_err(|e| ThirdPartyError::Provider { provider: provider.id.clone(), message: e.to_string() })
}

/// A dotted path into JSON (`data.id`); numbers become strings (GitHub's numeric ids).
fn access(value: &Value, path: &str) -> Option<Value> {
    path.split('.').try_fold(value, |value, key| value.get(key)).cloned()
}

fn as_id(value: Option<Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn as_flag(value: Option<Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Reads the user id, email and verified flag, the id_token winning over the user info where both say.
fn map_user(provider: &Resolved, id_token: &Value, user_info: &Value) -> Result<ProviderUser, ThirdPartyError> {
    let [uid_t, email_t, verified_t] = &provider.id_token_paths;
    let [uid_u, email_u, verified_u] = &provider.user_info_paths;
    let read = |source: &Value, path: &Option<String>| path.as_deref().and_then(|p| access(source, p));
    let (from_token, from_info) = (as_id(read(id_token, uid_t)), as_id(read(user_info, uid_u)));
    // OpenID Connect Core 5.3.2: user info about another subject than the id_token's must not be used.
    if let (Some(token_user), Some(info_user)) = (&from_token, &from_info)
        && token_user != info_user
    {
        return Err(ThirdPartyError::IdToken {
            provider: provider.id.clone(),
            error: IdTokenError::Claim("the user info is about another user than the id_token".into()),
        });
    }
    let user_id = from_token.or(from_info).ok_or_else(|| ThirdPartyError::NoUserId(provider.id.clone()))?;
    let from_token = as_id(read(id_token, email_t)).map(|e| (e, as_flag(read(id_token, verified_t))));
    let from_info = || as_id(read(user_info, email_u)).map(|e| (e, as_flag(read(user_info, verified_u))));
    Ok(ProviderUser {
        third_party_id: provider.id.clone(),
        third_party_user_id: user_id,
        email: from_token.or_else(from_info),
    })
}

/// A PKCE code verifier: 64 URL-safe characters from the OS CSPRNG.
fn pkce_verifier() -> Result<String, String> {
    let bytes = crate::ids::random_bytes::<48>().map_err(|e| e.to_string())?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The S256 challenge of a verifier.
fn pkce_challenge(verifier: &str) -> String {
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The fake email of a user whose provider gives none (when the provider does not require one).
pub fn fake_email(third_party_user_id: &str, third_party_id: &str) -> String {
    format!("{third_party_user_id}.{third_party_id}@stfakeemail.supertokens.com")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_is_base64url_sha256_of_the_verifier() {
        // Expected value from Python: base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()) without `=`.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mJ92IZUmXpAN1XuWEv_Y_Lf7ATBoGs"),
            "YYJov81XULybG_5dV0AL4D6MKPzfXIPPLkKvhZzjQG4"
        );
        let verifier = pkce_verifier().expect("random");
        assert_eq!(verifier.len(), 64);
        assert_ne!(verifier, pkce_verifier().expect("random"));
    }

    fn third_party(lines: &[&str]) -> ThirdParty {
        let configs: Vec<ProviderConfig> = lines.iter().map(|l| parse_provider_line(l).expect("parses")).collect();
        ThirdParty::new(&configs).expect("valid")
    }

    fn query(url: &str) -> BTreeMap<String, String> {
        url::Url::parse(url).expect("url").query_pairs().into_owned().collect()
    }

    #[tokio::test]
    async fn builtin_oauth2_providers_build_their_authorisation_urls_offline() {
        let tp = third_party(&[
            "id=github,client_id=gh,client_secret=s",
            "id=twitter,client_id=tw,client_secret=s",
            "id=discord,client_id=dc,client_secret=s",
            "id=facebook,client_id=fb,client_secret=s,scope=email public_profile",
        ]);
        let github = tp.authorisation_url("github", None, "https://app/cb").await.expect("url");
        assert!(github.url.starts_with("https://github.com/login/oauth/authorize?"), "{}", github.url);
        let q = query(&github.url);
        assert_eq!(q["client_id"], "gh");
        assert_eq!(q["redirect_uri"], "https://app/cb");
        assert_eq!(q["scope"], "read:user user:email");
        assert_eq!(github.pkce_code_verifier, None, "GitHub with a secret does without PKCE");
        let twitter = tp.authorisation_url("twitter", Some("web"), "https://app/cb").await.expect("url");
        assert!(twitter.url.starts_with("https://twitter.com/i/oauth2/authorize?"));
        let verifier = twitter.pkce_code_verifier.expect("Twitter requires PKCE");
        assert_eq!(query(&twitter.url)["code_challenge"], pkce_challenge(&verifier));
        assert_eq!(query(&twitter.url)["scope"], "users.read tweet.read");
        let discord = tp.authorisation_url("discord", None, "https://app/cb").await.expect("url");
        assert_eq!(query(&discord.url)["scope"], "identify email");
        let facebook = tp.authorisation_url("facebook", None, "https://app/cb").await.expect("url");
        assert_eq!(query(&facebook.url)["scope"], "email public_profile");
        assert_eq!(
            tp.providers().map(|(_, name)| name).collect::<Vec<_>>(),
            ["Github", "Twitter", "Discord", "Facebook"]
        );
    }

    #[tokio::test]
    async fn client_types_pick_the_client() {
        let config = parse_providers_toml(
            "[[provider]]\nid = \"github\"\n\
             [[provider.client]]\nclient_type = \"web\"\nclient_id = \"gh-web\"\nclient_secret = \"s\"\n\
             [[provider.client]]\nclient_type = \"mobile\"\nclient_id = \"gh-mobile\"\n",
            "test",
        )
        .expect("parses");
        let tp = ThirdParty::new(&config).expect("valid");
        let web = tp.authorisation_url("github", Some("web"), "https://app/cb").await.expect("url");
        assert_eq!(query(&web.url)["client_id"], "gh-web");
        let mobile = tp.authorisation_url("github", Some("mobile"), "https://app/cb").await.expect("url");
        assert_eq!(query(&mobile.url)["client_id"], "gh-mobile");
        assert!(mobile.pkce_code_verifier.is_some(), "a public client (no secret) always uses PKCE");
        let missing = tp.authorisation_url("github", None, "https://app/cb").await.unwrap_err();
        assert_eq!(
            missing.to_string(),
            "the provider github has several clients: please provide the clientType (web, mobile)"
        );
        let unknown = tp.authorisation_url("github", Some("tv"), "https://app/cb").await.unwrap_err();
        assert_eq!(unknown.to_string(), "Could not find client config for clientType: tv");
        let absent = tp.authorisation_url("gitlab", None, "https://app/cb").await.unwrap_err();
        assert_eq!(absent.to_string(), "the provider gitlab could not be found in the configuration");
    }

    #[test]
    fn user_mapping_prefers_the_id_token_and_reads_dotted_numeric_ids() {
        let twitter =
            parse_provider_line("id=twitter,client_id=a,client_secret=b").expect("parses").resolve().expect("valid");
        let user = map_user(&twitter, &Value::Null, &serde_json::json!({"data": {"id": "42"}})).expect("maps");
        assert_eq!(user.third_party_user_id, "42");
        assert_eq!(user.email, None);
        assert!(!twitter.require_email);
        let github =
            parse_provider_line("id=github,client_id=a,client_secret=b").expect("parses").resolve().expect("valid");
        let user = map_user(&github, &Value::Null, &serde_json::json!({"id": 7, "email": "x@y"})).expect("maps");
        assert_eq!(user.third_party_user_id, "7");
        // GitHub's profile email is not trusted: the emails API gives the primary one with its flag.
        assert_eq!(user.email, None);
        let custom =
            parse_provider_line("id=c,issuer=https://i,client_id=a").expect("parses").resolve().expect("valid");
        let user = map_user(
            &custom,
            &serde_json::json!({"sub": "s1", "email": "t@x", "email_verified": true}),
            &serde_json::json!({"sub": "s1", "email": "u@x", "email_verified": "false"}),
        )
        .expect("maps");
        assert_eq!((user.third_party_user_id.as_str(), user.email), ("s1", Some(("t@x".to_owned(), true))));
        assert!(matches!(map_user(&custom, &Value::Null, &Value::Null), Err(ThirdPartyError::NoUserId(_))));
        let mixed =
            map_user(&custom, &serde_json::json!({"sub": "s1"}), &serde_json::json!({"sub": "s2", "email": "b@x"}));
        assert!(matches!(mixed, Err(ThirdPartyError::IdToken { .. })), "{mixed:?}");
    }
}
