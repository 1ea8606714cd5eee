//! Self-test of the OpenID Connect provider harness (`support/oidc.rs` + `oidc-provider/provider.mjs`): a full
//! authorization-code flow against the real `oidc-provider` process, and the refusals the third-party sign-in
//! tests rely on.

#[path = "support/oidc.rs"]
mod oidc;

use std::time::Duration;

use oidc::{
    ClientAuth, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI, OidcProvider, authorize, deny,
    get_json, jwt_payload, pkce_challenge, query_param,
};

const SCOPE: &str = "openid email profile";
// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn default_url(provider: &OidcProvider, state: &str, challenge: Option<&str>) -> String {
    provider.authorization_url(DEFAULT_CLIENT_ID, DEFAULT_REDIRECT_URI, SCOPE, state, challenge)
}

/// Signs in as `login` with the default client and returns the code.
async fn code_for(provider: &OidcProvider, login: &str, state: &str) -> String {
    let redirect = authorize(&default_url(provider, state, None), login).await.expect("authorized");
    assert_eq!(query_param(&redirect, "state").as_deref(), Some(state));
    query_param(&redirect, "code").expect("a code")
}

#[test]
fn pkce_challenge_matches_rfc_7636() {
    assert_eq!(pkce_challenge(VERIFIER), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

#[tokio::test]
async fn discovery_describes_the_loopback_issuer() {
    let provider = OidcProvider::start().await;
    assert!(provider.issuer.starts_with("http://127.0.0.1:"), "{}", provider.issuer);
    assert_eq!(provider.discovery["issuer"], provider.issuer.as_str());
    for endpoint in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"] {
        assert!(provider.endpoint(endpoint).starts_with(&provider.issuer), "{endpoint}");
    }
    let methods = provider.discovery["token_endpoint_auth_methods_supported"].to_string();
    assert!(methods.contains("client_secret_basic") && methods.contains("client_secret_post"), "{methods}");
    assert!(provider.discovery["code_challenge_methods_supported"].to_string().contains("S256"));

    let jwks = get_json(&provider.endpoint("jwks_uri")).await;
    let algs = jwks["keys"].as_array().expect("keys").iter().map(|k| k["alg"].to_string()).collect::<Vec<_>>();
    assert!(algs.contains(&"\"RS256\"".to_owned()) && algs.contains(&"\"ES256\"".to_owned()), "{algs:?}");
    assert!(jwks.to_string().find("\"d\"").is_none(), "private key material in the JWKS");
}

#[tokio::test]
async fn alice_signs_in_with_pkce_and_gets_tokens_with_her_email() {
    let provider = OidcProvider::start().await;
    let challenge = pkce_challenge(VERIFIER);
    let redirect = authorize(&default_url(&provider, "state-alice", Some(&challenge)), "alice")
        .await
        .expect("alice is authorized");
    assert!(redirect.as_str().starts_with(DEFAULT_REDIRECT_URI), "{redirect}");
    assert_eq!(query_param(&redirect, "state").as_deref(), Some("state-alice"));
    assert_eq!(query_param(&redirect, "iss").as_deref(), Some(provider.issuer.as_str()));
    let code = query_param(&redirect, "code").expect("a code");

    let tokens = provider
        .exchange_code(&code, DEFAULT_REDIRECT_URI, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Some(VERIFIER))
        .await;
    let id_token = tokens["id_token"].as_str().unwrap_or_else(|| panic!("no id_token: {tokens}"));
    let access_token = tokens["access_token"].as_str().unwrap_or_else(|| panic!("no access_token: {tokens}"));
    assert_eq!(tokens["token_type"], "Bearer");

    let claims = jwt_payload(id_token);
    assert_eq!(claims["iss"], provider.issuer.as_str());
    assert_eq!(claims["aud"], DEFAULT_CLIENT_ID);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["email"], "alice@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Alice Example");

    let userinfo = provider.userinfo(access_token).await;
    assert_eq!(userinfo["sub"], "alice");
    assert_eq!(userinfo["email"], "alice@example.com");
    assert_eq!(userinfo["email_verified"], true);

    // PKCE is enforced once a challenge was sent.
    let redirect = authorize(&default_url(&provider, "s2", Some(&challenge)), "alice").await.expect("authorized");
    let code = query_param(&redirect, "code").expect("a code");
    let refused = provider
        .exchange_code(
            &code,
            DEFAULT_REDIRECT_URI,
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            Some("wrong-verifier-wrong-verifier-wrong-verifier-00"),
        )
        .await;
    assert_eq!(refused["error"], "invalid_grant", "{refused}");
}

#[tokio::test]
async fn bob_is_unverified_and_noemail_has_no_email_claim() {
    let provider = OidcProvider::start().await;

    let code = code_for(&provider, "bob", "state-bob").await;
    let (status, tokens) = provider
        .exchange_code_with(
            ClientAuth::Post,
            &code,
            DEFAULT_REDIRECT_URI,
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            None,
        )
        .await;
    assert_eq!(status, 200, "client_secret_post: {tokens}");
    let claims = jwt_payload(tokens["id_token"].as_str().expect("id_token"));
    assert_eq!(claims["sub"], "bob");
    assert_eq!(claims["email"], "bob@example.com");
    assert_eq!(claims["email_verified"], false);

    let code = code_for(&provider, "noemail", "state-noemail").await;
    let tokens =
        provider.exchange_code(&code, DEFAULT_REDIRECT_URI, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, None).await;
    let claims = jwt_payload(tokens["id_token"].as_str().unwrap_or_else(|| panic!("no id_token: {tokens}")));
    assert_eq!(claims["sub"], "noemail");
    assert!(claims.get("email").is_none() && claims.get("email_verified").is_none(), "{claims}");
    let userinfo = provider.userinfo(tokens["access_token"].as_str().expect("access_token")).await;
    assert_eq!(userinfo["sub"], "noemail");
    assert!(userinfo.get("email").is_none(), "{userinfo}");
}

#[tokio::test]
async fn unknown_login_cancelled_sign_in_and_bad_clients_are_refused() {
    let provider = OidcProvider::start().await;

    let error = authorize(&default_url(&provider, "s", None), "mallory").await.expect_err("unknown login");
    assert!(error.contains("403") && error.contains("unknown account"), "{error}");

    let denied = deny(&default_url(&provider, "state-deny", None)).await.expect("a redirect");
    assert!(denied.as_str().starts_with(DEFAULT_REDIRECT_URI), "{denied}");
    assert_eq!(query_param(&denied, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&denied, "state").as_deref(), Some("state-deny"));
    let error = authorize(&default_url(&provider, "s", None), "alice").await;
    assert!(error.is_ok(), "a cancelled sign-in leaves later ones working: {error:?}");

    let unregistered =
        provider.authorization_url(DEFAULT_CLIENT_ID, "http://localhost:3000/elsewhere", SCOPE, "s", None);
    let error = authorize(&unregistered, "alice").await.expect_err("unregistered redirect_uri");
    assert!(error.contains("400"), "{error}");

    let code = code_for(&provider, "alice", "s").await;
    let (status, refused) = provider
        .exchange_code_with(ClientAuth::Basic, &code, DEFAULT_REDIRECT_URI, DEFAULT_CLIENT_ID, "wrong-secret", None)
        .await;
    assert_eq!((status, refused["error"].as_str()), (401, Some("invalid_client")), "{refused}");
}

#[tokio::test]
async fn a_code_works_once() {
    let provider = OidcProvider::start().await;
    let code = code_for(&provider, "alice", "s").await;
    let first =
        provider.exchange_code(&code, DEFAULT_REDIRECT_URI, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, None).await;
    assert!(first["id_token"].is_string(), "{first}");
    let (status, second) = provider
        .exchange_code_with(
            ClientAuth::Basic,
            &code,
            DEFAULT_REDIRECT_URI,
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
            None,
        )
        .await;
    assert_eq!((status, second["error"].as_str()), (400, Some("invalid_grant")), "{second}");
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let provider = OidcProvider::start_with(1, None).await;
    let code = code_for(&provider, "alice", "s").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let refused =
        provider.exchange_code(&code, DEFAULT_REDIRECT_URI, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, None).await;
    assert_eq!(refused["error"], "invalid_grant", "{refused}");
}

#[tokio::test]
async fn clients_from_json_with_required_pkce() {
    let clients = r#"[{"client_id": "spa", "client_secret": "spa-secret",
        "redirect_uris": ["http://localhost:4000/cb"], "token_endpoint_auth_method": "client_secret_post",
        "require_pkce": true}]"#;
    let provider = OidcProvider::start_with(60, Some(clients)).await;

    let without = provider.authorization_url("spa", "http://localhost:4000/cb", "openid email", "s", None);
    let error = authorize(&without, "alice").await.expect_err("PKCE is required");
    assert!(error.contains("invalid_request"), "{error}");

    let challenge = pkce_challenge(VERIFIER);
    let with = provider.authorization_url("spa", "http://localhost:4000/cb", "openid email", "s", Some(&challenge));
    let redirect = authorize(&with, "alice").await.expect("authorized");
    let code = query_param(&redirect, "code").expect("a code");
    // Registered for client_secret_post; oidc-provider accepts HTTP Basic from it as well.
    let tokens = provider.exchange_code(&code, "http://localhost:4000/cb", "spa", "spa-secret", Some(VERIFIER)).await;
    let claims = jwt_payload(tokens["id_token"].as_str().unwrap_or_else(|| panic!("no id_token: {tokens}")));
    assert_eq!(claims["aud"], "spa");
    assert_eq!(claims["email"], "alice@example.com");
    assert!(claims.get("name").is_none(), "no profile scope: {claims}");

    let error = authorize(&default_url(&provider, "s", None), "alice").await.expect_err("the default client is gone");
    assert!(error.contains("400"), "{error}");
}
