//! Access tokens the frontend brings alone (`oAuthTokens` without an id_token, as mobile apps sign in): a
//! provider's user-info endpoint accepts a token issued to any app, so such a token would let whoever holds a
//! token a user gave to another app sign in here as that user. It is used only when the provider's
//! configuration enables it ([`AccessTokenCheck`](super::config::AccessTokenCheck)), and then only once the
//! provider says it was issued to this app's client: GitHub's token check for OAuth apps, Facebook's
//! `debug_token`; or unchecked when the deployment chose to trust such tokens (unsafe).

use serde_json::Value;

use super::flow::basic_authorization;
use super::outbound::HttpError;
use super::providers::{AccessTokenAudience, Resolved};
use super::{ClientConfig, ThirdParty, ThirdPartyError};

/// The 400 of an access token the provider did not issue to this app.
fn other_app(provider: &Resolved) -> ThirdPartyError {
    ThirdPartyError::AccessTokenRefused(format!(
        "the access token was not issued to this app's client at the provider {}",
        provider.id
    ))
}

impl ThirdParty {
    /// Succeeds when `access_token`, brought without an id_token, may sign its user in with `client`.
    pub(super) async fn check_access_token_audience(
        &self,
        provider: &Resolved,
        client: &ClientConfig,
        access_token: &str,
    ) -> Result<(), ThirdPartyError> {
        match &provider.access_token_audience {
            AccessTokenAudience::Refused => Err(ThirdPartyError::AccessTokenRefused(format!(
                "sign-in with an access token alone is not enabled for the provider {}: send the code of the \
                 provider's redirect (redirectURIInfo) instead",
                provider.id
            ))),
            AccessTokenAudience::Trusted => Ok(()),
            AccessTokenAudience::Github(endpoint) => {
                self.github_token_check(provider, client, endpoint, access_token).await
            }
            AccessTokenAudience::Facebook(endpoint) => {
                self.facebook_debug_token(provider, client, endpoint, access_token).await
            }
        }
    }

    /// GitHub's `POST /applications/{client_id}/token`, authenticated as the OAuth app: 200 with the app's
    /// client id when the token is one of its tokens, 404 when it is not.
    async fn github_token_check(
        &self,
        provider: &Resolved,
        client: &ClientConfig,
        endpoint: &str,
        access_token: &str,
    ) -> Result<(), ThirdPartyError> {
        let client_id: String = url::form_urlencoded::byte_serialize(client.client_id.as_bytes()).collect();
        let url = url::Url::parse(&endpoint.replace("{client_id}", &client_id))
            .map_err(|e| Self::provider_error(provider, format!("the token check endpoint is not a URL: {e}")))?;
        let authorization = basic_authorization(&client.client_id, client.client_secret.as_deref().unwrap_or_default());
        let headers = [
            ("accept", "application/vnd.github+json"),
            ("content-type", "application/json"),
            ("authorization", authorization.as_str()),
        ];
        let body = serde_json::json!({ "access_token": access_token }).to_string();
        let response = self
            .http
            .send(http::Method::POST, &url, &headers, Some(body))
            .await
            .map_err(|e| Self::provider_error(provider, format!("the token check: {e}")))?;
        // 404: not a token of this app; 422: not a token at all.
        if matches!(response.status.as_u16(), 404 | 422) {
            return Err(other_app(provider));
        }
        let answer = Self::read_json(provider, response, "the token check")?;
        let app = answer.pointer("/app/client_id").and_then(Value::as_str);
        if app == Some(client.client_id.as_str()) { Ok(()) } else { Err(other_app(provider)) }
    }

    /// Facebook's `GET /debug_token?input_token=…&access_token=<app id>|<app secret>`: the token's `app_id` must
    /// be this client's and `is_valid` true.
    async fn facebook_debug_token(
        &self,
        provider: &Resolved,
        client: &ClientConfig,
        endpoint: &str,
        access_token: &str,
    ) -> Result<(), ThirdPartyError> {
        let mut url = url::Url::parse(endpoint)
            .map_err(|e| Self::provider_error(provider, format!("the debug_token endpoint is not a URL: {e}")))?;
        let app_token = format!("{}|{}", client.client_id, client.client_secret.as_deref().unwrap_or_default());
        url.query_pairs_mut().append_pair("input_token", access_token).append_pair("access_token", &app_token);
        let response =
            self.http.send(http::Method::GET, &url, &[("accept", "application/json")], None).await.map_err(|e| {
                let error = match e {
                    // The URL carries the app secret: it is not reported.
                    HttpError::Url(_) => "the debug_token URL is invalid".to_owned(),
                    other => format!("the debug_token call: {other}"),
                };
                Self::provider_error(provider, error)
            })?;
        let answer = Self::read_json(provider, response, "the debug_token endpoint")?;
        let data = answer.get("data").unwrap_or(&Value::Null);
        let app_id = match data.get("app_id") {
            Some(Value::String(id)) => Some(id.clone()),
            Some(Value::Number(id)) => Some(id.to_string()),
            _ => None,
        };
        let valid = data.get("is_valid") == Some(&Value::Bool(true));
        if valid && app_id.as_deref() == Some(client.client_id.as_str()) { Ok(()) } else { Err(other_app(provider)) }
    }
}
