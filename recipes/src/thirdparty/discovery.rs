//! What the flows fetch from a provider besides tokens: OpenID Connect discovery documents (applied to the
//! configured endpoints) and JWKS, fetched as JSON and cached.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::jwt::{Jwk, JwkSet};
use super::providers::Resolved;
use super::{ThirdParty, ThirdPartyError, TokenAuthMethod, outbound};

/// How long a discovery document is trusted.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// How long a JWKS is trusted before it is fetched again.
const JWKS_TTL: Duration = Duration::from_secs(3600);
/// The least time between two fetches of one JWKS caused by unknown key ids, so forged tokens with random
/// `kid`s cannot make this server hammer the provider.
pub const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(10);

/// An OpenID Connect discovery document (the fields used).
#[derive(Debug, Clone, serde::Deserialize)]
pub(super) struct Discovery {
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
pub(super) struct Endpoints {
    pub(super) issuer: Option<String>,
    pub(super) authorization: String,
    pub(super) token: String,
    pub(super) user_info: Option<String>,
    pub(super) jwks_uri: Option<String>,
    pub(super) pkce_s256: bool,
    pub(super) token_auth: TokenAuthMethod,
}

/// A provider's keys as last fetched.
pub(super) struct CachedJwks {
    pub(super) keys: Vec<Jwk>,
    fetched: Instant,
    /// The last fetch attempt, successful or not: refetches on unknown kids are counted from it.
    attempted: Instant,
}

impl ThirdParty {
    /// GET a JSON document, with extra headers.
    pub(super) async fn get_json(
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

    pub(super) fn read_json(
        provider: &Resolved,
        response: outbound::Response,
        what: &str,
    ) -> Result<Value, ThirdPartyError> {
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

    pub(super) async fn endpoints(&self, provider: &Resolved) -> Result<Endpoints, ThirdPartyError> {
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

    pub(super) async fn jwks(
        &self,
        provider: &Resolved,
        uri: &str,
        refetch: bool,
    ) -> Result<Arc<CachedJwks>, ThirdPartyError> {
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
}
