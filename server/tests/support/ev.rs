//! Email verification helpers shared by `email_verification.rs` and `postgres_email_verification.rs`: a sign-in
//! through the test OpenID Connect provider, the three operations, the `st-ev` claim of an access token and
//! the token of a verification link. Include with `#[path = "support/ev.rs"] mod ev;` next to
//! `#[path = "support/oidc.rs"] mod oidc;`.

#![allow(dead_code, reason = "each test file uses a different part of the harness")]
#![allow(unreachable_pub, reason = "test support module shared by several test crates")]

use auth_api::client::Client;
use auth_api::ops::{generate_email_verify_token, get_authorisation_url, is_email_verified, refresh_session};
use auth_api::ops::{third_party_sign_in_up, verify_email};
use auth_api::types::{
    AuthorisationUrlResponse, IsEmailVerifiedResponse, RedirectUriInfo, ThirdPartySignInUpRequest,
    ThirdPartySignInUpResponse, VerifyEmailRequest,
};

use crate::oidc::{self, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI, OidcProvider};

/// The website domain of the test servers, where verification links point.
pub const WEBSITE: &str = "http://localhost:3000";

/// The `--third-party-provider` line of the test provider, as `my-oidc`.
pub fn provider_line(provider: &OidcProvider) -> String {
    format!("id=my-oidc,issuer={},client_id={DEFAULT_CLIENT_ID},client_secret={DEFAULT_CLIENT_SECRET}", provider.issuer)
}

/// `login` signs in at the provider and then here, in header mode: the user id and the access and refresh
/// tokens.
pub async fn provider_sign_in(client: &Client, login: &str) -> (String, String, String) {
    let request = get_authorisation_url::Request::new("my-oidc".into(), DEFAULT_REDIRECT_URI.into());
    let url = match client.get_authorisation_url(request).await.expect("authorisationurl call") {
        get_authorisation_url::Response::Ok(AuthorisationUrlResponse::Ok(ok)) => ok,
        other => panic!("authorisationurl: {other:?}"),
    };
    let callback = oidc::authorize(&format!("{}&state=s", url.url_with_query_params), login).await.expect("consent");
    let mut request = third_party_sign_in_up::Request::new(ThirdPartySignInUpRequest {
        third_party_id: "my-oidc".into(),
        client_type: None,
        redirect_uri_info: Some(RedirectUriInfo {
            redirect_uri_on_provider_dashboard: DEFAULT_REDIRECT_URI.into(),
            redirect_uri_query_params: callback.query_pairs().into_owned().collect(),
            pkce_code_verifier: url.pkce_code_verifier,
        }),
        o_auth_tokens: None,
        should_try_linking_with_session_user: None,
    });
    request.st_auth_mode = Some("header".into());
    match client.third_party_sign_in_up(request).await.expect("signinup call") {
        third_party_sign_in_up::Response::Ok { body: ThirdPartySignInUpResponse::Ok(ok), headers } => {
            (ok.user.id, headers.st_access_token.expect("access token"), headers.st_refresh_token.expect("refresh"))
        }
        other => panic!("signinup: {other:?}"),
    }
}

pub async fn send_link(client: &Client, access_token: Option<&str>) -> generate_email_verify_token::Response {
    let mut request = generate_email_verify_token::Request::new();
    request.access_token_bearer = access_token.map(str::to_owned);
    request.rid = Some("emailverification".into());
    client.generate_email_verify_token(request).await.expect("verify/token call")
}

/// verifyEmail with `token`, without a session.
pub async fn verify(client: &Client, token: &str) -> verify_email::Response {
    verify_in_session(client, token, None).await
}

/// verifyEmail with `token`, sending `access_token` (header mode) when given.
pub async fn verify_in_session(client: &Client, token: &str, access_token: Option<&str>) -> verify_email::Response {
    let mut request = verify_email::Request::new(VerifyEmailRequest {
        method: Some(auth_api::types::VerifyEmailRequestMethod::Token),
        token: token.to_owned(),
    });
    request.access_token_bearer = access_token.map(str::to_owned);
    client.verify_email(request).await.expect("verify call")
}

pub async fn is_verified(client: &Client, access_token: Option<&str>) -> is_email_verified::Response {
    let mut request = is_email_verified::Request::new();
    request.access_token_bearer = access_token.map(str::to_owned);
    client.is_email_verified(request).await.expect("status call")
}

pub fn verified_flag(response: is_email_verified::Response) -> bool {
    match response {
        is_email_verified::Response::Ok { body: IsEmailVerifiedResponse::Ok(ok), .. } => ok.is_verified,
        other => panic!("status: {other:?}"),
    }
}

/// The `st-ev` claim of an access token, checking its shape: `{"v": bool, "t": ms}` read within the last minute.
pub fn claim(access_token: &str) -> bool {
    let payload = oidc::jwt_payload(access_token);
    let claim = &payload["st-ev"];
    let now_ms =
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis())
            .expect("ms");
    let t = claim["t"].as_i64().unwrap_or_else(|| panic!("st-ev.t in {payload}"));
    assert!((now_ms - 60_000..=now_ms).contains(&t), "{payload}");
    assert_eq!(claim.as_object().map(|o| o.len()), Some(2), "{payload}");
    claim["v"].as_bool().unwrap_or_else(|| panic!("st-ev.v in {payload}"))
}

pub async fn refreshed(client: &Client, refresh_token: &str) -> (String, String) {
    let mut request = refresh_session::Request::new();
    request.refresh_token_bearer = Some(refresh_token.to_owned());
    match client.refresh_session(request).await.expect("refresh call") {
        refresh_session::Response::Ok { headers, .. } => {
            (headers.st_access_token.expect("access token"), headers.st_refresh_token.expect("refresh token"))
        }
        other => panic!("refresh: {other:?}"),
    }
}

/// The token of a verification link, checking the link is the one the SDK's verify-email page reads.
pub fn token_of(link: &str) -> String {
    let prefix = format!("{WEBSITE}/auth/verify-email?token=");
    let rest = link.strip_prefix(&prefix).unwrap_or_else(|| panic!("link {link}"));
    let (token, tenant) = rest.split_once("&tenantId=").unwrap_or_else(|| panic!("link {link}"));
    assert_eq!(tenant, "public");
    assert_eq!(token.len(), 43, "32 random bytes, base64url: {link}");
    token.to_owned()
}
