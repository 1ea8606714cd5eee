//! The OAuth2 / OpenID Connect flow: the authorisation URL (with PKCE), the code exchange at the token
//! endpoint (with Apple's signed client secret) and the id_token verification, put together by
//! [`ThirdParty::sign_in`].

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use super::discovery::{CachedJwks, Endpoints};
use super::providers::{Resolved, default_scopes};
use super::userinfo::map_user;
use super::{
    AuthorisationUrl, Builtin, ClientConfig, Grant, IdTokenError, ProviderUser, ThirdParty, ThirdPartyError,
    TokenAuthMethod, jwt,
};

impl ThirdParty {
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
                    // The frontend shows the reason: only an OAuth2 error code (`access_denied`) goes there, never
                    // the provider's free text, which is logged with its control characters escaped.
                    tracing::warn!(
                        provider = %provider.id,
                        error = %crate::logsafe::Escaped(error),
                        description = %crate::logsafe::Escaped(query.get("error_description").map_or("", String::as_str)),
                        "the provider refused the sign-in"
                    );
                    let is_code = !error.is_empty()
                        && error.len() <= 64
                        && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
                    let code = if is_code { error.as_str() } else { "error" };
                    return Err(ThirdPartyError::Denied(code.to_owned()));
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
        // names its audience. Providers with keys therefore need one on that path; without keys (an id_token
        // there cannot be verified and is ignored) the provider must confirm the token is this app's, as its
        // configuration says (see `audience.rs`). Google Workspaces needs an id_token on every path, since only
        // the id_token carries the `hd` domain.
        if given_tokens && endpoints.jwks_uri.is_some() && id_token.is_none() {
            return Err(ThirdPartyError::AccessTokenRefused(format!(
                "an id_token is required with oAuthTokens for the provider {}: an access token alone does not say \
                 which app it was issued to",
                provider.id
            )));
        }
        if given_tokens && endpoints.jwks_uri.is_none() {
            let Some(access_token) = access_token else {
                return Err(ThirdPartyError::Denied("the tokens hold no access_token".into()));
            };
            self.check_access_token_audience(provider, client, access_token).await?;
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
                // RFC 6749 2.3.1: the id and secret are form-encoded before basic authentication.
                let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                headers.push(("authorization", basic_authorization(&encode(&client.client_id), &encode(secret))));
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

/// An HTTP Basic `authorization` value.
pub(super) fn basic_authorization(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thirdparty::{ProviderConfig, parse_provider_line, parse_providers_toml};

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
}
