//! How session tokens travel: as cookies (`sAccessToken`, `sRefreshToken`) or as headers
//! (`st-access-token`, `st-refresh-token`), plus the `front-token` header and `Access-Control-Expose-Headers`.
//! [`SessionHeaders`] is the one place that builds them, for every operation that sets or clears tokens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::config::{BASE_PATH, Config};

/// The access token cookie.
pub const ACCESS_TOKEN_COOKIE: &str = "sAccessToken";
/// The refresh token cookie.
pub const REFRESH_TOKEN_COOKIE: &str = "sRefreshToken";
/// The legacy cookie of older SuperTokens versions: only ever cleared.
pub const LEGACY_ID_REFRESH_TOKEN_COOKIE: &str = "sIdRefreshToken";
/// The path of the access token cookie.
pub const ACCESS_TOKEN_PATH: &str = "/";
/// The access token header of header-based sessions.
pub const ACCESS_TOKEN_HEADER: &str = "st-access-token";
/// The refresh token header of header-based sessions.
pub const REFRESH_TOKEN_HEADER: &str = "st-refresh-token";
/// The header describing the access token to the frontend.
pub const FRONT_TOKEN_HEADER: &str = "front-token";

/// The path of the refresh token cookie: only the refresh endpoint receives it.
pub fn refresh_token_path() -> String {
    format!("{BASE_PATH}/session/refresh")
}

/// How long the access token cookie lives; the JWT inside expires much sooner.
const ACCESS_TOKEN_COOKIE_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// Whether tokens travel in cookies or headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferMode {
    /// `sAccessToken` / `sRefreshToken` cookies.
    Cookie,
    /// `st-access-token` / `st-refresh-token` headers, sent back as `Authorization: Bearer`.
    Header,
}

impl TransferMode {
    /// The mode of a new session from the `st-auth-mode` request header: `cookie` (any case) selects
    /// cookies; anything else, including no header, selects headers, as supertokens-node does.
    pub fn for_new_session(st_auth_mode: Option<&str>) -> Self {
        match st_auth_mode {
            Some(mode) if mode.trim().eq_ignore_ascii_case("cookie") => Self::Cookie,
            _ => Self::Header,
        }
    }
}

/// Tokens issued for a new or refreshed session.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedTokens {
    /// The user id (`uid` of the front token).
    pub user_id: String,
    /// The signed access token.
    pub access_token: String,
    /// When the access token expires, ms since the epoch (`ate` of the front token).
    pub access_token_expires_at_ms: i64,
    /// The access token payload (`up` of the front token).
    pub access_token_payload: Map<String, Value>,
    /// The opaque refresh token.
    pub refresh_token: String,
    /// When the refresh token expires, ms since the epoch.
    pub refresh_token_expires_at_ms: i64,
}

/// The `front-token` value: standard base64 of `{"uid", "ate", "up"}`.
pub fn front_token(user_id: &str, access_token_expires_at_ms: i64, payload: &Map<String, Value>) -> String {
    STANDARD.encode(json!({ "uid": user_id, "ate": access_token_expires_at_ms, "up": payload }).to_string())
}

/// The session headers and cookies of one response. Convert it into a generated operation's header
/// struct with `.into()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionHeaders {
    /// `front-token`.
    pub front_token: Option<String>,
    /// `st-access-token`.
    pub st_access_token: Option<String>,
    /// `st-refresh-token`.
    pub st_refresh_token: Option<String>,
    /// The headers named in `Access-Control-Expose-Headers`, in the order they were set, without repeats.
    pub exposed: Vec<&'static str>,
    /// `Set-Cookie` values.
    pub set_cookie: Vec<String>,
}

impl SessionHeaders {
    /// Headers carrying newly issued tokens in `mode`.
    pub fn with_tokens(config: &Config, mode: TransferMode, tokens: &IssuedTokens) -> Self {
        let mut headers = Self::default();
        headers.attach_tokens(config, mode, tokens);
        headers
    }

    /// Headers clearing the session in `mode`.
    pub fn cleared(config: &Config, mode: TransferMode) -> Self {
        let mut headers = Self::default();
        headers.clear(config, mode);
        headers
    }

    /// Headers clearing the session in both modes, for errors where the client's mode is unknown.
    pub fn cleared_everywhere(config: &Config) -> Self {
        let mut headers = Self::default();
        headers.clear(config, TransferMode::Cookie);
        headers.clear(config, TransferMode::Header);
        headers
    }

    /// Sets the front token, the access token and the refresh token in `mode`.
    pub fn attach_tokens(&mut self, config: &Config, mode: TransferMode, tokens: &IssuedTokens) {
        let access = (tokens.access_token.as_str(), tokens.access_token_expires_at_ms);
        self.attach_access_token(config, mode, &tokens.user_id, access, &tokens.access_token_payload);
        let refresh_expiry =
            UNIX_EPOCH + Duration::from_millis(u64::try_from(tokens.refresh_token_expires_at_ms).unwrap_or(0));
        self.set_token(config, mode, Token::Refresh, &tokens.refresh_token, refresh_expiry);
    }

    /// Adds an access token of `user_id` (with its expiry, ms since the epoch) and its front token of `payload`
    /// in `mode`, leaving the refresh token as the client holds it; also how an access token re-issued within a
    /// session (a claim brought up to date) is handed over.
    pub fn attach_access_token(
        &mut self,
        config: &Config,
        mode: TransferMode,
        user_id: &str,
        (access_token, expires_at_ms): (&str, i64),
        payload: &Map<String, Value>,
    ) {
        self.set_front_token(front_token(user_id, expires_at_ms, payload));
        let access_cookie_expiry = SystemTime::now() + ACCESS_TOKEN_COOKIE_LIFETIME;
        self.set_token(config, mode, Token::Access, access_token, access_cookie_expiry);
    }

    /// Clears both tokens in `mode` and sets `front-token: remove`.
    pub fn clear(&mut self, config: &Config, mode: TransferMode) {
        self.set_token(config, mode, Token::Access, "", UNIX_EPOCH);
        self.set_token(config, mode, Token::Refresh, "", UNIX_EPOCH);
        self.set_front_token("remove".to_owned());
    }

    /// Clears the legacy `sIdRefreshToken` cookie.
    pub fn clear_legacy_id_refresh_token(&mut self, config: &Config) {
        self.set_cookie.push(cookie(config, LEGACY_ID_REFRESH_TOKEN_COOKIE, "", ACCESS_TOKEN_PATH, UNIX_EPOCH));
    }

    /// The `Access-Control-Expose-Headers` value, if any header was set.
    pub fn expose_headers(&self) -> Option<String> {
        (!self.exposed.is_empty()).then(|| self.exposed.join(", "))
    }

    fn set_front_token(&mut self, value: String) {
        self.front_token = Some(value);
        self.expose(FRONT_TOKEN_HEADER);
    }

    fn set_token(&mut self, config: &Config, mode: TransferMode, token: Token, value: &str, expires: SystemTime) {
        match (mode, token) {
            (TransferMode::Cookie, Token::Access) => {
                self.set_cookie.push(cookie(config, ACCESS_TOKEN_COOKIE, value, ACCESS_TOKEN_PATH, expires));
            }
            (TransferMode::Cookie, Token::Refresh) => {
                self.set_cookie.push(cookie(config, REFRESH_TOKEN_COOKIE, value, &refresh_token_path(), expires));
            }
            (TransferMode::Header, Token::Access) => {
                self.st_access_token = Some(value.to_owned());
                self.expose(ACCESS_TOKEN_HEADER);
            }
            (TransferMode::Header, Token::Refresh) => {
                self.st_refresh_token = Some(value.to_owned());
                self.expose(REFRESH_TOKEN_HEADER);
            }
        }
    }

    fn expose(&mut self, name: &'static str) {
        if !self.exposed.contains(&name) {
            self.exposed.push(name);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Token {
    Access,
    Refresh,
}

/// One `Set-Cookie` value: `name=value; Path=..; Expires=..; HttpOnly[; Secure]; SameSite=..`.
fn cookie(config: &Config, name: &str, value: &str, path: &str, expires: SystemTime) -> String {
    let secure = if config.cookie_secure() { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path={path}; Expires={}; HttpOnly{secure}; SameSite={}",
        httpdate::fmt_http_date(expires),
        config.cookie_same_site().as_str()
    )
}

/// Converts [`SessionHeaders`] into the generated header structs, which share their field names.
macro_rules! into_generated_headers {
    ($($target:path),* $(,)?) => {$(
        impl From<SessionHeaders> for $target {
            fn from(headers: SessionHeaders) -> Self {
                let access_control_expose_headers = headers.expose_headers();
                Self {
                    front_token: headers.front_token,
                    st_access_token: headers.st_access_token,
                    st_refresh_token: headers.st_refresh_token,
                    anti_csrf: None,
                    access_control_expose_headers,
                    set_cookie: headers.set_cookie,
                }
            }
        }
    )*};
}

into_generated_headers!(
    auth_api::ops::consume_code::OkHeaders,
    auth_api::ops::third_party_sign_in_up::OkHeaders,
    auth_api::ops::refresh_session::OkHeaders,
    auth_api::ops::refresh_session::UnauthorizedHeaders,
    auth_api::ops::sign_out::OkHeaders,
    auth_api::ops::sign_out::UnauthorizedHeaders,
    auth_api::ops::generate_email_verify_token::OkHeaders,
    auth_api::ops::is_email_verified::OkHeaders,
    auth_api::ops::verify_email::OkHeaders,
);

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> IssuedTokens {
        IssuedTokens {
            user_id: "user".into(),
            access_token: "a.b.c".into(),
            access_token_expires_at_ms: 1_000,
            access_token_payload: Map::new(),
            refresh_token: "refresh".into(),
            refresh_token_expires_at_ms: 0,
        }
    }

    #[test]
    fn header_mode_sets_headers_and_exposes_them() {
        let config = Config::new("http://localhost:3000", "http://localhost:3001").expect("valid domains");
        let headers = SessionHeaders::with_tokens(&config, TransferMode::Header, &tokens());
        assert_eq!(headers.st_access_token.as_deref(), Some("a.b.c"));
        assert_eq!(headers.st_refresh_token.as_deref(), Some("refresh"));
        assert!(headers.set_cookie.is_empty());
        assert_eq!(headers.expose_headers().as_deref(), Some("front-token, st-access-token, st-refresh-token"));
        let decoded = STANDARD.decode(headers.front_token.expect("front token")).expect("base64");
        let front: Value = serde_json::from_slice(&decoded).expect("json");
        assert_eq!(front, json!({"uid": "user", "ate": 1000, "up": {}}));
    }

    #[test]
    fn cookie_mode_clearing_expires_cookies() {
        let config = Config::new("https://example.com", "https://api.other.com").expect("valid domains");
        let headers = SessionHeaders::cleared(&config, TransferMode::Cookie);
        assert_eq!(
            headers.set_cookie,
            [
                "sAccessToken=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=None",
                "sRefreshToken=; Path=/auth/session/refresh; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=None",
            ]
        );
        assert_eq!(headers.front_token.as_deref(), Some("remove"));
        assert_eq!(headers.expose_headers().as_deref(), Some("front-token"));
    }

    #[test]
    fn transfer_mode_defaults_to_header() {
        assert_eq!(TransferMode::for_new_session(None), TransferMode::Header);
        assert_eq!(TransferMode::for_new_session(Some("COOKIE")), TransferMode::Cookie);
        assert_eq!(TransferMode::for_new_session(Some("header")), TransferMode::Header);
        assert_eq!(TransferMode::for_new_session(Some("bogus")), TransferMode::Header);
    }
}
