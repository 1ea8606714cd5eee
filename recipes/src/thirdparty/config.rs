//! Provider configuration: what a deployment writes (a TOML file, a `key=value` list from a flag or the
//! environment, or Rust values), parsed, with its id and clients checked. The built-in providers' defaults
//! (see [`Builtin`]) are applied to it by the providers table.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde_json::Value;

// Defined with the providers table; still named here, where a configuration picks one by its id's prefix.
pub use super::providers::Builtin;

/// One provider as configured. Everything but `id` and a client id is optional: built-in providers (chosen by
/// the id's prefix, see [`Builtin`]) fill in their endpoints, scopes and user-info mapping, and an `issuer`
/// makes a custom provider an OpenID Connect one whose endpoints come from discovery.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// The `thirdPartyId` the frontend sends, e.g. `google`, `github` or `my-oidc`.
    pub id: String,
    /// The display name reported by `/loginmethods`; built-in providers have one.
    #[serde(default)]
    pub name: Option<String>,
    /// The OpenID Connect issuer (`https://idp.example.com`) or its full discovery document URL
    /// (`…/.well-known/openid-configuration`). Endpoints given explicitly override discovered ones.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The authorization endpoint.
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// Extra query parameters of the authorization URL; an empty value removes a parameter.
    #[serde(default)]
    pub authorization_endpoint_query_params: BTreeMap<String, String>,
    /// The token endpoint.
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// Extra form fields of the token request; an empty value removes a field.
    #[serde(default)]
    pub token_endpoint_body_params: BTreeMap<String, String>,
    /// How the client authenticates at the token endpoint: `client_secret_post` or `client_secret_basic`.
    /// Defaults to basic when the provider's discovery document lists it (or lists none), else post.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<TokenAuthMethod>,
    /// The user-info endpoint, called with the access token.
    #[serde(default)]
    pub user_info_endpoint: Option<String>,
    /// Extra query parameters of the user-info request.
    #[serde(default)]
    pub user_info_endpoint_query_params: BTreeMap<String, String>,
    /// Extra headers of the user-info request.
    #[serde(default)]
    pub user_info_endpoint_headers: BTreeMap<String, String>,
    /// The JWKS that signs the provider's id_tokens (from discovery for OpenID Connect providers).
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// The API listing the user's emails (GitHub's and Bitbucket's; built in for them), for GitHub Enterprise or
    /// a test double.
    #[serde(default)]
    pub emails_endpoint: Option<String>,
    /// Whether the frontend may sign in with an access token alone (`oAuthTokens` without an id_token, as
    /// mobile apps do), and how the token is checked to be issued to this app: off by default, since the
    /// user-info endpoint accepts a token issued to any app of the provider. Only for providers without
    /// id_tokens (those with an `issuer` always need a verified id_token there).
    #[serde(default)]
    pub access_token_check: Option<AccessTokenCheck>,
    /// The endpoint of the `access_token_check`: built in for GitHub
    /// (`https://api.github.com/applications/{client_id}/token`) and Facebook
    /// (`https://graph.facebook.com/debug_token`), required for other providers using those checks.
    /// `{client_id}` is replaced by the client id.
    #[serde(default)]
    pub access_token_check_endpoint: Option<String>,
    /// Where the user id, email and verified flag are read from.
    #[serde(default)]
    pub user_info_map: UserInfoMap,
    /// Whether a sign-in without an email is refused with `NO_EMAIL_GIVEN_BY_PROVIDER` (default true). When
    /// false, such users get the fake email `<userId>.<id>@stfakeemail.supertokens.com`.
    #[serde(default)]
    pub require_email: Option<bool>,
    /// The clients (one per `clientType`, e.g. web and mobile apps). A provider with one client may give its
    /// fields (`client_id`, `client_secret`, ...) directly instead.
    #[serde(default, rename = "client")]
    pub clients: Vec<ClientConfig>,
    /// Shorthand for a single client: its id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Shorthand for a single client: its secret.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Shorthand for a single client: its scopes.
    #[serde(default)]
    pub scope: Option<Vec<String>>,
    /// Shorthand for a single client: always use PKCE.
    #[serde(default)]
    pub force_pkce: Option<bool>,
    /// Shorthand for a single client: provider-specific settings.
    #[serde(default)]
    pub additional_config: BTreeMap<String, String>,
}

/// One OAuth client of a provider.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The `clientType` the frontend sends to pick this client (`web`, `ios`, ...); optional when the
    /// provider has one client.
    #[serde(default)]
    pub client_type: Option<String>,
    /// The client id registered with the provider.
    pub client_id: String,
    /// The client secret; public clients (no secret) always use PKCE.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The scopes to ask for; each built-in provider has defaults, custom providers default to
    /// `openid email` when they are OpenID Connect providers.
    #[serde(default)]
    pub scope: Option<Vec<String>>,
    /// Use PKCE even when the provider does not advertise it.
    #[serde(default)]
    pub force_pkce: bool,
    /// Provider-specific settings: Apple's `keyId`, `teamId` and `privateKey`; `hd` for Google Workspaces;
    /// `directoryId` for Active Directory; `oktaDomain` for Okta; `gitlabBaseUrl` for GitLab.
    #[serde(default)]
    pub additional_config: BTreeMap<String, String>,
}

/// Where [`ProviderUser`](super::ProviderUser) fields are read from: dotted paths into the verified id_token
/// payload and into the user-info response. The id_token wins when both have a value.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UserInfoMap {
    /// Paths into the id_token payload (defaults: `sub`, `email`, `email_verified`).
    #[serde(default)]
    pub from_id_token_payload: FieldPaths,
    /// Paths into the user-info response (defaults: `sub`, `email`, `email_verified`).
    #[serde(default)]
    pub from_user_info_api: FieldPaths,
}

/// Dotted paths of the user id, the email and the verified flag; `None` takes the default.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FieldPaths {
    /// The provider's user id.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The email.
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the provider verified the email.
    #[serde(default)]
    pub email_verified: Option<String>,
}

impl FieldPaths {
    pub(super) fn or(&self, defaults: [&str; 3]) -> [Option<String>; 3] {
        let pick = |given: &Option<String>, default: &str| match given.as_deref() {
            // An empty path switches the field off.
            Some("") => None,
            Some(path) => Some(path.to_owned()),
            None => (!default.is_empty()).then(|| default.to_owned()),
        };
        [pick(&self.user_id, defaults[0]), pick(&self.email, defaults[1]), pick(&self.email_verified, defaults[2])]
    }
}

/// How an access token the frontend brings alone is checked to be issued to this app's client.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AccessTokenCheck {
    /// Refused (the default): sign-in needs the redirect's code, or an id_token where the provider has them.
    None,
    /// GitHub's check of an OAuth app's token: `POST /applications/{client_id}/token` with the app's client id
    /// and secret as basic auth; the token must belong to this client.
    Github,
    /// Facebook's `GET /debug_token` with the app access token (`client_id|client_secret`): the token must be
    /// valid and its `app_id` this client's.
    Facebook,
    /// **Unsafe.** Any token the user-info endpoint accepts signs its user in, even one issued to another app
    /// of the provider: whoever holds a token a user gave to any app can sign in here as that user. Only for
    /// providers that offer no check and whose tokens are known to be issued to this app alone.
    UnsafeTrust,
}

/// Client authentication at the token endpoint.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// HTTP Basic authentication with the form-encoded id and secret.
    ClientSecretBasic,
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets stay out of logs.
        f.debug_struct("ProviderConfig")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("clients", &self.clients)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("client_type", &self.client_type)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Why provider configuration was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProviderConfigError {
    /// The TOML or `key=value` text did not parse.
    #[error("{source_name}: {message}")]
    Syntax {
        /// The file name, or `--third-party-provider`.
        source_name: String,
        /// What was wrong.
        message: String,
    },
    /// A provider is configured twice.
    #[error(
        "the third-party provider `{0}` is configured twice; give each provider once, with several `[[provider.client]]` entries for several clients"
    )]
    Duplicate(String),
    /// A provider setting is missing or contradictory.
    #[error("third-party provider `{id}`: {message}")]
    Invalid {
        /// The provider id.
        id: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// The `[[provider]]` tables of a providers file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProvidersFile {
    #[serde(default)]
    provider: Vec<ProviderConfig>,
}

/// Parses a providers file (TOML with `[[provider]]` tables). `source_name` names it in errors.
pub fn parse_providers_toml(text: &str, source_name: &str) -> Result<Vec<ProviderConfig>, ProviderConfigError> {
    basic_toml::from_str::<ProvidersFile>(text)
        .map(|file| file.provider)
        .map_err(|e| ProviderConfigError::Syntax { source_name: source_name.to_owned(), message: e.to_string() })
}

/// Parses the one-line form `id=my-oidc,issuer=https://idp.example.com,client_id=web,client_secret=s3cret`:
/// comma-separated `key=value` pairs with the keys of a `[[provider]]` table; `scope` takes space-separated
/// scopes, and dotted keys such as `additional_config.hd=example.com` set nested values.
pub fn parse_provider_line(line: &str) -> Result<ProviderConfig, ProviderConfigError> {
    let syntax = |message: String| ProviderConfigError::Syntax { source_name: "provider".to_owned(), message };
    let mut table = serde_json::Map::new();
    for (index, pair) in line.split(',').map(str::trim).filter(|pair| !pair.is_empty()).enumerate() {
        let Some((key, value)) = pair.split_once('=') else {
            // The item itself is not echoed: it may be part of a secret that contained a comma.
            return Err(syntax(format!(
                "item {} is not `key=value` (e.g. `id=google,client_id=...`; values cannot contain commas)",
                index + 1
            )));
        };
        let (key, value) = (key.trim(), value.trim());
        let value = match key {
            "scope" => Value::Array(value.split_whitespace().map(|s| Value::String(s.into())).collect()),
            "force_pkce" | "require_email" => match value {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                other => return Err(syntax(format!("`{key}` takes true or false, not `{other}`"))),
            },
            _ => Value::String(value.to_owned()),
        };
        let mut target = &mut table;
        let mut parts: Vec<&str> = key.split('.').collect();
        let last = parts.pop().unwrap_or_default();
        for part in parts {
            let entry = target.entry(part.to_owned()).or_insert_with(|| Value::Object(serde_json::Map::new()));
            target = match entry {
                Value::Object(inner) => inner,
                _ => return Err(syntax(format!("`{key}` sets a value under a key that is not a table"))),
            };
        }
        if target.insert(last.to_owned(), value).is_some() {
            return Err(syntax(format!("`{key}` is given twice")));
        }
    }
    ProviderConfig::deserialize(Value::Object(table)).map_err(|e| syntax(e.to_string()))
}

impl ProviderConfig {
    /// The trimmed id and the clients (the `[[provider.client]]` entries or the single-client shorthand),
    /// checked for what a configuration can get wrong on its own.
    pub(super) fn id_and_clients(&self) -> Result<(&str, Vec<ClientConfig>), ProviderConfigError> {
        let id = self.id.trim();
        let invalid = |message: String| ProviderConfigError::Invalid { id: id.to_owned(), message };
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(invalid("the id must be non-empty ASCII letters, digits, `-`, `_` or `.`".into()));
        }
        let mut clients = self.clients.clone();
        let shorthand = self.client_secret.is_some()
            || self.scope.is_some()
            || self.force_pkce.is_some()
            || !self.additional_config.is_empty();
        match (&self.client_id, shorthand) {
            (Some(client_id), _) => {
                if !clients.is_empty() {
                    return Err(invalid(
                        "give either `client_id` (one client) or `[[provider.client]]` entries, not both".into(),
                    ));
                }
                clients.push(ClientConfig {
                    client_type: None,
                    client_id: client_id.clone(),
                    client_secret: self.client_secret.clone(),
                    scope: self.scope.clone(),
                    force_pkce: self.force_pkce.unwrap_or(false),
                    additional_config: self.additional_config.clone(),
                });
            }
            (None, true) => {
                return Err(invalid(
                    "`client_secret`, `scope`, `force_pkce` or `additional_config` need `client_id`".into(),
                ));
            }
            (None, false) => {}
        }
        if clients.is_empty() {
            return Err(invalid("no client: set `client_id` (and usually `client_secret`)".into()));
        }
        for (i, client) in clients.iter().enumerate() {
            if client.client_id.trim().is_empty() {
                return Err(invalid(format!("client {} has an empty `client_id`", i + 1)));
            }
            if clients.len() > 1 && client.client_type.is_none() {
                return Err(invalid(
                    "with several clients every client needs a `client_type` for the frontend to pick it".into(),
                ));
            }
            if clients[..i].iter().any(|other| other.client_type == client.client_type) {
                return Err(invalid(format!(
                    "two clients have the client_type `{}`",
                    client.client_type.as_deref().unwrap_or_default()
                )));
            }
        }
        Ok((id, clients))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toml_file_configures_several_clients_and_builtins() {
        let text = r#"
[[provider]]
id = "google"
[[provider.client]]
client_type = "web"
client_id = "g-web"
client_secret = "x"
[[provider.client]]
client_type = "android"
client_id = "g-android"

[[provider]]
id = "github"
client_id = "gh"
client_secret = "y"
scope = ["read:user"]
"#;
        let providers = parse_providers_toml(text, "providers.toml").expect("parses");
        let google = providers[0].resolve().expect("valid");
        assert_eq!(google.builtin, Some(Builtin::Google));
        assert_eq!(google.name, "Google");
        assert_eq!(google.clients.len(), 2);
        let github = providers[1].resolve().expect("valid");
        assert_eq!(github.token_endpoint.as_deref(), Some("https://github.com/login/oauth/access_token"));
        assert_eq!(github.user_info_paths[0].as_deref(), Some("id"));
        assert_eq!(github.clients[0].scope.as_deref(), Some(&["read:user".to_owned()][..]));
    }

    #[test]
    fn mistakes_are_named() {
        let error = parse_providers_toml("[[provider]]\nid = \"x\"\nclient_idd = \"a\"\n", "p.toml").unwrap_err();
        assert!(error.to_string().starts_with("p.toml: "), "{error}");
        assert!(error.to_string().contains("client_idd"), "{error}");
        let error = parse_provider_line("id=custom,client_id=a").expect("parses").resolve().unwrap_err();
        assert!(error.to_string().contains("needs an `issuer`"), "{error}");
        let error = parse_provider_line("id=okta,client_id=a").expect("parses").resolve().unwrap_err();
        assert!(error.to_string().contains("oktaDomain"), "{error}");
        let error = parse_provider_line("id=x,issuer=ftp://a,client_id=a").expect("parses").resolve().unwrap_err();
        assert!(error.to_string().contains("http(s) URL"), "{error}");
        let error = parse_provider_line("id=x,client_id").unwrap_err();
        assert!(error.to_string().contains("key=value"), "{error}");
        let line = "id=x,authorization_endpoint=https://a,token_endpoint=https://a,jwks_uri=https://a,client_id=a";
        let error = parse_provider_line(line).expect("parses").resolve().unwrap_err();
        assert!(error.to_string().contains("needs an `issuer` too"), "{error}");
        let error = parse_provider_line("id=apple,client_id=a").expect("parses").resolve().unwrap_err();
        assert!(error.to_string().contains("keyId"), "{error}");
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let config = parse_provider_line("id=x,issuer=https://a,client_id=a,client_secret=hunter2").expect("parses");
        let resolved = config.resolve().expect("valid");
        assert!(!format!("{config:?} {:?}", resolved.clients).contains("hunter2"));
    }
}
