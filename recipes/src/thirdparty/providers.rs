//! The providers table: the built-in providers' endpoints and user-info mapping, chosen by the `thirdPartyId`
//! prefix as supertokens-node chooses them, and the rules of custom OpenID Connect and OAuth2 providers,
//! applied to a [`ProviderConfig`] to give the [`Resolved`] provider the flows use.

use std::collections::BTreeMap;

use super::config::{AccessTokenCheck, ClientConfig, ProviderConfig, ProviderConfigError, TokenAuthMethod};

/// The built-in providers, chosen by the prefix of the `thirdPartyId` (so `google-staff` is Google too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Active Directory (OpenID Connect, `directoryId`).
    ActiveDirectory,
    /// Sign in with Apple (OpenID Connect, client secret signed from `keyId`, `teamId`, `privateKey`).
    Apple,
    /// Bitbucket (OAuth2, emails API).
    Bitbucket,
    /// Discord (OAuth2).
    Discord,
    /// Facebook (OAuth2, Graph API).
    Facebook,
    /// GitHub (OAuth2, emails API).
    Github,
    /// GitLab (OpenID Connect, `gitlabBaseUrl`).
    Gitlab,
    /// Google Workspaces (Google with the `hd` domain check).
    GoogleWorkspaces,
    /// Google (OpenID Connect).
    Google,
    /// Okta (OpenID Connect, `oktaDomain`).
    Okta,
    /// LinkedIn (OpenID Connect user info).
    Linkedin,
    /// Twitter / X (OAuth2 with PKCE, no email).
    Twitter,
}

impl Builtin {
    /// Prefixes in match order: `google-workspaces` before `google`.
    const PREFIXES: [(&'static str, Builtin, &'static str); 12] = [
        ("active-directory", Builtin::ActiveDirectory, "Active Directory"),
        ("apple", Builtin::Apple, "Apple"),
        ("bitbucket", Builtin::Bitbucket, "Bitbucket"),
        ("discord", Builtin::Discord, "Discord"),
        ("facebook", Builtin::Facebook, "Facebook"),
        ("github", Builtin::Github, "Github"),
        ("gitlab", Builtin::Gitlab, "Gitlab"),
        ("google-workspaces", Builtin::GoogleWorkspaces, "Google Workspaces"),
        ("google", Builtin::Google, "Google"),
        ("okta", Builtin::Okta, "Okta"),
        ("linkedin", Builtin::Linkedin, "LinkedIn"),
        ("twitter", Builtin::Twitter, "Twitter"),
    ];

    /// The built-in provider of a `thirdPartyId`, if any.
    pub fn for_id(id: &str) -> Option<(Builtin, &'static str)> {
        Self::PREFIXES.iter().find(|(prefix, _, _)| id.starts_with(prefix)).map(|&(_, builtin, name)| (builtin, name))
    }
}

/// A provider with every default applied: what the flows use.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) builtin: Option<Builtin>,
    /// The discovery document URL.
    pub(crate) discovery: Option<String>,
    /// The issuer the deployment named (not a discovery document URL): discovery must announce it.
    pub(crate) expected_issuer: Option<String>,
    pub(crate) authorization_endpoint: Option<String>,
    pub(crate) authorization_query: BTreeMap<String, String>,
    pub(crate) token_endpoint: Option<String>,
    pub(crate) token_body: BTreeMap<String, String>,
    pub(crate) token_auth: Option<TokenAuthMethod>,
    pub(crate) user_info_endpoint: Option<String>,
    pub(crate) user_info_query: BTreeMap<String, String>,
    pub(crate) user_info_headers: BTreeMap<String, String>,
    pub(crate) jwks_uri: Option<String>,
    /// GitHub's or Bitbucket's emails API.
    pub(crate) emails_endpoint: Option<String>,
    /// How an access token brought alone is checked.
    pub(crate) access_token_audience: AccessTokenAudience,
    /// User id, email, verified paths in the id_token payload.
    pub(crate) id_token_paths: [Option<String>; 3],
    /// User id, email, verified paths in the user-info response.
    pub(crate) user_info_paths: [Option<String>; 3],
    pub(crate) require_email: bool,
    /// PKCE for every client (Twitter requires it).
    pub(crate) force_pkce: bool,
    pub(crate) clients: Vec<ClientConfig>,
}

/// How an access token the frontend brings alone (no verifiable id_token) is checked to be issued to this app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AccessTokenAudience {
    /// Not accepted.
    Refused,
    /// GitHub's token check at this URL (with `{client_id}` to replace).
    Github(String),
    /// Facebook's debug_token at this URL.
    Facebook(String),
    /// Accepted unchecked (configured as unsafe).
    Trusted,
}

/// `https://idp.example.com` → `https://idp.example.com/.well-known/openid-configuration`; a full document
/// URL stays as it is.
pub(crate) fn discovery_url(issuer: &str) -> String {
    if issuer.contains("/.well-known/") {
        issuer.to_owned()
    } else {
        format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'))
    }
}

fn http_url(id: &str, what: &str, value: &str) -> Result<(), ProviderConfigError> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(()),
        _ => Err(ProviderConfigError::Invalid {
            id: id.to_owned(),
            message: format!("`{what}` must be an http(s) URL, not `{value}`"),
        }),
    }
}

impl ProviderConfig {
    /// Applies the built-in defaults and checks the settings.
    pub(crate) fn resolve(&self) -> Result<Resolved, ProviderConfigError> {
        let (id, clients) = self.id_and_clients()?;
        let invalid = |message: String| ProviderConfigError::Invalid { id: id.to_owned(), message };
        let builtin = Builtin::for_id(id);
        let mut resolved = Resolved {
            id: id.to_owned(),
            name: self.name.clone().unwrap_or_else(|| builtin.map_or(id, |(_, name)| name).to_owned()),
            builtin: builtin.map(|(b, _)| b),
            discovery: None,
            expected_issuer: None,
            authorization_endpoint: None,
            authorization_query: BTreeMap::new(),
            token_endpoint: None,
            token_body: BTreeMap::new(),
            token_auth: None,
            user_info_endpoint: None,
            user_info_query: BTreeMap::new(),
            user_info_headers: BTreeMap::new(),
            jwks_uri: None,
            emails_endpoint: None,
            access_token_audience: AccessTokenAudience::Refused,
            id_token_paths: [None, None, None],
            user_info_paths: [None, None, None],
            require_email: true,
            force_pkce: false,
            clients,
        };
        let standard = ["sub", "email", "email_verified"];
        let mut user_info_defaults = standard;
        let first = resolved.clients[0].additional_config.clone();
        let setting = |key: &str| first.get(key).map(|v| v.trim_end_matches('/').to_owned());
        match resolved.builtin {
            Some(Builtin::Google | Builtin::GoogleWorkspaces) => {
                resolved.discovery = Some("https://accounts.google.com/.well-known/openid-configuration".into());
                resolved.authorization_query.insert("included_grant_scopes".into(), "true".into());
                resolved.authorization_query.insert("access_type".into(), "offline".into());
                if resolved.builtin == Some(Builtin::GoogleWorkspaces) {
                    let hd = setting("hd").unwrap_or_else(|| "*".into());
                    resolved.authorization_query.insert("hd".into(), hd);
                }
            }
            Some(Builtin::Apple) => {
                resolved.discovery = Some("https://appleid.apple.com/.well-known/openid-configuration".into());
                resolved.authorization_query.insert("response_mode".into(), "form_post".into());
                for client in &resolved.clients {
                    for key in ["keyId", "teamId", "privateKey"] {
                        if !client.additional_config.contains_key(key) && client.client_secret.is_none() {
                            return Err(invalid(format!(
                                "Apple needs `keyId`, `teamId` and `privateKey` in `additional_config` (missing `{key}`) to sign its client secret"
                            )));
                        }
                    }
                }
            }
            Some(Builtin::Gitlab) => {
                let base = setting("gitlabBaseUrl").unwrap_or_else(|| "https://gitlab.com".into());
                resolved.discovery = Some(discovery_url(&base));
            }
            Some(Builtin::Okta) => {
                let Some(domain) = setting("oktaDomain").or_else(|| self.issuer.clone()) else {
                    return Err(invalid("Okta needs `additional_config.oktaDomain` (or `issuer`)".into()));
                };
                let domain = if domain.starts_with("http") { domain } else { format!("https://{domain}") };
                resolved.discovery = Some(discovery_url(&domain));
            }
            Some(Builtin::ActiveDirectory) => {
                let Some(directory) = setting("directoryId") else {
                    if self.issuer.is_none() {
                        return Err(invalid("Active Directory needs `additional_config.directoryId`".into()));
                    }
                    return self.finish(resolved, user_info_defaults);
                };
                resolved.discovery = Some(format!(
                    "https://login.microsoftonline.com/{directory}/v2.0/.well-known/openid-configuration"
                ));
            }
            Some(Builtin::Linkedin) => {
                resolved.authorization_endpoint = Some("https://www.linkedin.com/oauth/v2/authorization".into());
                resolved.token_endpoint = Some("https://www.linkedin.com/oauth/v2/accessToken".into());
                resolved.user_info_endpoint = Some("https://api.linkedin.com/v2/userinfo".into());
                resolved.token_auth = Some(TokenAuthMethod::ClientSecretPost);
            }
            Some(Builtin::Github) => {
                resolved.authorization_endpoint = Some("https://github.com/login/oauth/authorize".into());
                resolved.token_endpoint = Some("https://github.com/login/oauth/access_token".into());
                resolved.user_info_endpoint = Some("https://api.github.com/user".into());
                resolved.token_auth = Some(TokenAuthMethod::ClientSecretPost);
                // The email comes from the emails API (see `super::userinfo`); the user API gives the id.
                resolved.emails_endpoint = Some("https://api.github.com/user/emails".into());
                user_info_defaults = ["id", "", ""];
            }
            Some(Builtin::Bitbucket) => {
                resolved.authorization_endpoint = Some("https://bitbucket.org/site/oauth2/authorize".into());
                resolved.token_endpoint = Some("https://bitbucket.org/site/oauth2/access_token".into());
                resolved.user_info_endpoint = Some("https://api.bitbucket.org/2.0/user".into());
                resolved.authorization_query.insert("audience".into(), "api.atlassian.com".into());
                resolved.emails_endpoint = Some("https://api.bitbucket.org/2.0/user/emails".into());
                resolved.token_auth = Some(TokenAuthMethod::ClientSecretPost);
                user_info_defaults = ["uuid", "", ""];
            }
            Some(Builtin::Discord) => {
                resolved.authorization_endpoint = Some("https://discord.com/oauth2/authorize".into());
                resolved.token_endpoint = Some("https://discord.com/api/oauth2/token".into());
                resolved.user_info_endpoint = Some("https://discord.com/api/users/@me".into());
                resolved.token_auth = Some(TokenAuthMethod::ClientSecretPost);
                user_info_defaults = ["id", "email", "verified"];
            }
            Some(Builtin::Facebook) => {
                resolved.authorization_endpoint = Some("https://www.facebook.com/v12.0/dialog/oauth".into());
                resolved.token_endpoint = Some("https://graph.facebook.com/v12.0/oauth/access_token".into());
                resolved.user_info_endpoint = Some("https://graph.facebook.com/me".into());
                resolved.user_info_query.insert("fields".into(), "id,email".into());
                resolved.token_auth = Some(TokenAuthMethod::ClientSecretPost);
                user_info_defaults = ["id", "email", ""];
            }
            Some(Builtin::Twitter) => {
                resolved.authorization_endpoint = Some("https://twitter.com/i/oauth2/authorize".into());
                resolved.token_endpoint = Some("https://api.twitter.com/2/oauth2/token".into());
                resolved.user_info_endpoint = Some("https://api.twitter.com/2/users/me".into());
                resolved.token_auth = Some(TokenAuthMethod::ClientSecretBasic);
                resolved.require_email = false;
                resolved.force_pkce = true;
                user_info_defaults = ["data.id", "", ""];
            }
            None => {}
        }
        self.finish(resolved, user_info_defaults)
    }

    /// Applies the explicit settings over the built-in defaults.
    fn finish(&self, mut resolved: Resolved, user_info_defaults: [&str; 3]) -> Result<Resolved, ProviderConfigError> {
        let id = resolved.id.clone();
        if let Some(issuer) = &self.issuer {
            http_url(&id, "issuer", issuer)?;
            resolved.discovery = Some(discovery_url(issuer));
            resolved.expected_issuer =
                (!issuer.contains("/.well-known/")).then(|| issuer.trim_end_matches('/').to_owned());
        }
        let explicit = [
            ("authorization_endpoint", &self.authorization_endpoint, &mut resolved.authorization_endpoint),
            ("token_endpoint", &self.token_endpoint, &mut resolved.token_endpoint),
            ("user_info_endpoint", &self.user_info_endpoint, &mut resolved.user_info_endpoint),
            ("jwks_uri", &self.jwks_uri, &mut resolved.jwks_uri),
            ("emails_endpoint", &self.emails_endpoint, &mut resolved.emails_endpoint),
        ];
        for (what, given, target) in explicit {
            if let Some(value) = given {
                http_url(&id, what, value)?;
                *target = Some(value.clone());
            }
        }
        let overlay = |target: &mut BTreeMap<String, String>, given: &BTreeMap<String, String>| {
            for (key, value) in given {
                if value.is_empty() {
                    target.remove(key);
                } else {
                    target.insert(key.clone(), value.clone());
                }
            }
        };
        overlay(&mut resolved.authorization_query, &self.authorization_endpoint_query_params);
        overlay(&mut resolved.token_body, &self.token_endpoint_body_params);
        overlay(&mut resolved.user_info_query, &self.user_info_endpoint_query_params);
        overlay(&mut resolved.user_info_headers, &self.user_info_endpoint_headers);
        if let Some(method) = self.token_endpoint_auth_method {
            resolved.token_auth = Some(method);
        }
        if let Some(require) = self.require_email {
            resolved.require_email = require;
        }
        resolved.id_token_paths = self.user_info_map.from_id_token_payload.or(["sub", "email", "email_verified"]);
        resolved.user_info_paths = self.user_info_map.from_user_info_api.or(user_info_defaults);
        if resolved.jwks_uri.is_some() && resolved.discovery.is_none() {
            return Err(ProviderConfigError::Invalid {
                id,
                message: "a `jwks_uri` needs an `issuer` too, to check the id_token's `iss` against".into(),
            });
        }
        resolved.access_token_audience = self.access_token_audience(&resolved)?;
        let oauth2_complete = resolved.authorization_endpoint.is_some() && resolved.token_endpoint.is_some();
        if resolved.discovery.is_none() && !oauth2_complete {
            return Err(ProviderConfigError::Invalid {
                id,
                message: "a custom provider needs an `issuer` (OpenID Connect discovery) or both \
                          `authorization_endpoint` and `token_endpoint` (plain OAuth2)"
                    .into(),
            });
        }
        if resolved.discovery.is_none() && resolved.user_info_endpoint.is_none() && resolved.jwks_uri.is_none() {
            return Err(ProviderConfigError::Invalid {
                id,
                message: "a plain OAuth2 provider needs a `user_info_endpoint` (or a `jwks_uri` to read id_tokens) \
                          to learn who signed in"
                    .into(),
            });
        }
        Ok(resolved)
    }
}

impl ProviderConfig {
    /// The `access_token_check` of a provider, with its endpoint, checked against the rest of its settings.
    fn access_token_audience(&self, resolved: &Resolved) -> Result<AccessTokenAudience, ProviderConfigError> {
        let invalid = |message: String| ProviderConfigError::Invalid { id: resolved.id.clone(), message };
        let check = self.access_token_check.unwrap_or(AccessTokenCheck::None);
        if self.access_token_check_endpoint.is_some()
            && !matches!(check, AccessTokenCheck::Github | AccessTokenCheck::Facebook)
        {
            return Err(invalid(
                "`access_token_check_endpoint` needs `access_token_check` = `github` or `facebook`".into(),
            ));
        }
        if check != AccessTokenCheck::None && resolved.discovery.is_some() {
            return Err(invalid(
                "`access_token_check` is for providers without id_tokens: with an `issuer`, a sign-in with \
                 oAuthTokens needs an id_token, whose audience is checked"
                    .into(),
            ));
        }
        let (builtin, default) = match check {
            AccessTokenCheck::None => return Ok(AccessTokenAudience::Refused),
            AccessTokenCheck::UnsafeTrust => return Ok(AccessTokenAudience::Trusted),
            AccessTokenCheck::Github => (Builtin::Github, "https://api.github.com/applications/{client_id}/token"),
            AccessTokenCheck::Facebook => (Builtin::Facebook, "https://graph.facebook.com/debug_token"),
        };
        let endpoint = match (&self.access_token_check_endpoint, resolved.builtin == Some(builtin)) {
            (Some(endpoint), _) => endpoint.clone(),
            (None, true) => default.to_owned(),
            (None, false) => {
                return Err(invalid(format!(
                    "`access_token_check` = `{}` needs an `access_token_check_endpoint` for a provider that is not {}",
                    if builtin == Builtin::Github { "github" } else { "facebook" },
                    if builtin == Builtin::Github { "GitHub" } else { "Facebook" },
                )));
            }
        };
        http_url(&resolved.id, "access_token_check_endpoint", &endpoint.replace("{client_id}", "x"))?;
        if let Some(i) = resolved.clients.iter().position(|c| c.client_secret.is_none()) {
            return Err(invalid(format!(
                "the access token check authenticates as the app: client {} needs its `client_secret`",
                i + 1
            )));
        }
        Ok(if builtin == Builtin::Github {
            AccessTokenAudience::Github(endpoint)
        } else {
            AccessTokenAudience::Facebook(endpoint)
        })
    }
}

/// The default scopes of a client.
pub(crate) fn default_scopes(builtin: Option<Builtin>, oidc: bool) -> Vec<String> {
    let scopes: &[&str] = match builtin {
        Some(Builtin::Github) => &["read:user", "user:email"],
        Some(Builtin::Bitbucket) => &["account", "email"],
        Some(Builtin::Discord) => &["identify", "email"],
        Some(Builtin::Facebook) => &["email"],
        Some(Builtin::Twitter) => &["users.read", "tweet.read"],
        Some(Builtin::Linkedin) => &["openid", "profile", "email"],
        Some(_) => &["openid", "email"],
        None if oidc => &["openid", "email"],
        None => &[],
    };
    scopes.iter().map(|s| (*s).to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thirdparty::parse_provider_line;

    #[test]
    fn three_settings_make_a_custom_oidc_provider() {
        let config = parse_provider_line("id=my-oidc, issuer=https://idp.example.com/, client_id=web, client_secret=s")
            .expect("parses");
        let resolved = config.resolve().expect("valid");
        assert_eq!(resolved.discovery.as_deref(), Some("https://idp.example.com/.well-known/openid-configuration"));
        assert_eq!(resolved.clients.len(), 1);
        assert_eq!(resolved.clients[0].client_secret.as_deref(), Some("s"));
        assert_eq!(resolved.name, "my-oidc");
        assert!(resolved.require_email);
        assert_eq!(resolved.id_token_paths[0].as_deref(), Some("sub"));
    }

    #[test]
    fn access_token_checks_are_configured_where_they_can_work() {
        let resolve = |line: &str| parse_provider_line(line).expect("parses").resolve();
        let github = resolve("id=github,client_id=a,client_secret=s,access_token_check=github").expect("valid");
        let expected = "https://api.github.com/applications/{client_id}/token";
        assert_eq!(github.access_token_audience, AccessTokenAudience::Github(expected.into()));
        let facebook = resolve("id=facebook,client_id=a,client_secret=s,access_token_check=facebook").expect("valid");
        let expected = "https://graph.facebook.com/debug_token";
        assert_eq!(facebook.access_token_audience, AccessTokenAudience::Facebook(expected.into()));
        let off = resolve("id=discord,client_id=a,client_secret=s").expect("valid");
        assert_eq!(off.access_token_audience, AccessTokenAudience::Refused, "off by default");
        let trusted = resolve("id=discord,client_id=a,access_token_check=unsafe_trust").expect("valid");
        assert_eq!(trusted.access_token_audience, AccessTokenAudience::Trusted);

        for (line, reason) in [
            ("id=google,client_id=a,access_token_check=unsafe_trust", "for providers without id_tokens"),
            ("id=c,issuer=https://i,client_id=a,client_secret=s,access_token_check=github", "without id_tokens"),
            (
                "id=discord,client_id=a,client_secret=s,access_token_check=github",
                "needs an `access_token_check_endpoint`",
            ),
            ("id=github,client_id=a,access_token_check=github", "needs its `client_secret`"),
            (
                "id=github,client_id=a,client_secret=s,access_token_check_endpoint=https://x",
                "needs `access_token_check`",
            ),
            (
                "id=facebook,client_id=a,client_secret=s,access_token_check=facebook,access_token_check_endpoint=x",
                "http(s) URL",
            ),
            ("id=github,client_id=a,access_token_check=yes", "unknown variant"),
        ] {
            let error = parse_provider_line(line).and_then(|c| c.resolve()).unwrap_err().to_string();
            assert!(error.contains(reason), "{line}: {error}");
        }
    }

    #[test]
    fn prefixes_pick_the_builtin() {
        assert_eq!(Builtin::for_id("google-workspaces").map(|b| b.0), Some(Builtin::GoogleWorkspaces));
        assert_eq!(Builtin::for_id("google-staff").map(|b| b.0), Some(Builtin::Google));
        assert_eq!(Builtin::for_id("my-oidc"), None);
    }
}
