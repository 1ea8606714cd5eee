//! Third-party sign-in against a real OpenID Connect provider process (`tests/oidc-provider`, the npm package
//! `oidc-provider`) on loopback, through the generated client and the real server on both frameworks:
//! authorisation URL with PKCE -> sign-in and consent at the provider -> callback code -> `/auth/signinup` ->
//! session -> protected route; also the `oAuthTokens` path, a provider without email, tampered and forged
//! id_tokens, expired and reused codes, a cancelled sign-in, and `/auth/loginmethods`; and access tokens
//! brought without an id_token to providers that have none (GitHub, Facebook, custom OAuth2, served by the
//! provider's API doubles): refused by default, checked with GitHub's and Facebook's token checks when enabled.

#[macro_use]
mod support;
#[path = "support/oidc.rs"]
mod oidc;
#[path = "support/process.rs"]
mod process;

use std::collections::BTreeMap;

use auth_api::client::Client;
use auth_api::ops::{get_authorisation_url, get_login_methods, third_party_sign_in_up};
use auth_api::types::{
    AuthorisationUrlOk, AuthorisationUrlResponse, LoginMethodRecipeId, RedirectUriInfo, ThirdPartySignInUpOk,
    ThirdPartySignInUpRequest, ThirdPartySignInUpResponse,
};
use authgen_recipes::Config;
use authgen_recipes::thirdparty::parse_provider_line;
use base64::Engine as _;
use oidc::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI, OidcProvider};
use serde_json::{Value, json};
use support::{session_info, start};

/// The three settings a user writes for a custom OpenID Connect provider (plus its id).
fn three_settings(provider: &OidcProvider, id: &str) -> String {
    format!("id={id},issuer={},client_id={DEFAULT_CLIENT_ID},client_secret={DEFAULT_CLIENT_SECRET}", provider.issuer)
}

fn with_provider(line: &str) -> impl FnOnce(Config) -> Config {
    let provider = parse_provider_line(line).expect("provider line parses");
    move |config| config.with_third_party_provider(provider)
}

async fn authorisation_url(client: &Client, id: &str) -> AuthorisationUrlOk {
    let request = get_authorisation_url::Request::new(id.into(), DEFAULT_REDIRECT_URI.into());
    match client.get_authorisation_url(request).await.expect("authorisationurl call") {
        get_authorisation_url::Response::Ok(AuthorisationUrlResponse::Ok(ok)) => ok,
        other => panic!("authorisationurl did not succeed: {other:?}"),
    }
}

/// Signs `login` in at the provider for `id` as the frontend SDK would (state appended to the URL) and returns
/// what the frontend sends to `/auth/signinup`.
async fn consent(client: &Client, id: &str, login: &str) -> RedirectUriInfo {
    let url = authorisation_url(client, id).await;
    let state = "c3RhdGUtZnJvbS10aGUtZnJvbnRlbmQ";
    let with_state = format!("{}&state={state}", url.url_with_query_params);
    let callback = oidc::authorize(&with_state, login).await.unwrap_or_else(|e| panic!("consent at the provider: {e}"));
    assert_eq!(oidc::query_param(&callback, "state").as_deref(), Some(state));
    assert!(callback.as_str().starts_with(DEFAULT_REDIRECT_URI), "{callback}");
    RedirectUriInfo {
        redirect_uri_on_provider_dashboard: DEFAULT_REDIRECT_URI.into(),
        redirect_uri_query_params: callback.query_pairs().into_owned().collect(),
        pkce_code_verifier: url.pkce_code_verifier,
    }
}

fn sign_in_up_request(
    id: &str,
    info: Option<RedirectUriInfo>,
    tokens: Option<Value>,
) -> third_party_sign_in_up::Request {
    let tokens = tokens.map(|t| serde_json::from_value::<BTreeMap<String, Value>>(t).expect("token object"));
    let mut request = third_party_sign_in_up::Request::new(ThirdPartySignInUpRequest {
        third_party_id: id.into(),
        client_type: None,
        redirect_uri_info: info,
        o_auth_tokens: tokens,
        should_try_linking_with_session_user: None,
    });
    request.st_auth_mode = Some("header".into());
    request
}

/// `/auth/signinup`'s 200 body and access token (when a session was created).
async fn sign_in_up(
    client: &Client,
    request: third_party_sign_in_up::Request,
) -> (ThirdPartySignInUpResponse, Option<String>) {
    match client.third_party_sign_in_up(request).await.expect("signinup call") {
        third_party_sign_in_up::Response::Ok { body, headers } => (body, headers.st_access_token),
        other => panic!("signinup did not answer 200: {other:?}"),
    }
}

fn ok(body: ThirdPartySignInUpResponse) -> ThirdPartySignInUpOk {
    match body {
        ThirdPartySignInUpResponse::Ok(ok) => ok,
        other => panic!("expected OK, got {other:?}"),
    }
}

fn general_error(body: ThirdPartySignInUpResponse) -> String {
    match body {
        ThirdPartySignInUpResponse::GeneralError(e) => e.message,
        other => panic!("expected GENERAL_ERROR, got {other:?}"),
    }
}

/// `/auth/signinup`'s 400 message.
async fn bad_request(client: &Client, request: third_party_sign_in_up::Request) -> String {
    match client.third_party_sign_in_up(request).await.expect("signinup call") {
        third_party_sign_in_up::Response::BadRequest(e) => e.message,
        other => panic!("expected 400, got {other:?}"),
    }
}

async fn login_methods(client: &Client) -> Value {
    match client.get_login_methods(get_login_methods::Request::new()).await.expect("loginmethods call") {
        get_login_methods::Response::Ok(methods) => serde_json::to_value(methods).expect("json"),
        other => panic!("loginmethods did not succeed: {other:?}"),
    }
}

async fn protected_route_user(client: &Client, access_token: &str) -> Value {
    let response = session_info(client, &[("authorization", &format!("Bearer {access_token}"))]).await;
    assert_eq!(response.status, 200, "{}", response.text());
    support::json_body(&response)
}

on_both_frameworks! {
async fn the_code_flow_signs_in_through_a_real_provider_and_the_session_opens_a_protected_route() {
    let provider = OidcProvider::start().await;
    let server = start(with_provider(&three_settings(&provider, "my-oidc"))).await;
    let client = server.client();

    // The authorisation URL: the provider's endpoint from discovery, with PKCE since it advertises S256.
    let url = authorisation_url(&client, "my-oidc").await;
    let parsed = url::Url::parse(&url.url_with_query_params).expect("a URL");
    assert!(url.url_with_query_params.starts_with(&provider.endpoint("authorization_endpoint")), "{parsed}");
    let param = |name: &str| oidc::query_param(&parsed, name);
    assert_eq!(param("client_id").as_deref(), Some(DEFAULT_CLIENT_ID));
    assert_eq!(param("redirect_uri").as_deref(), Some(DEFAULT_REDIRECT_URI));
    assert_eq!(param("response_type").as_deref(), Some("code"));
    assert_eq!(param("scope").as_deref(), Some("openid email"));
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    let verifier = url.pkce_code_verifier.clone().expect("a PKCE verifier");
    assert_eq!(param("code_challenge"), Some(oidc::pkce_challenge(&verifier)));
    assert_eq!(param("state"), None, "the frontend appends the state");

    let info = consent(&client, "my-oidc", "alice").await;
    let (body, access_token) = sign_in_up(&client, sign_in_up_request("my-oidc", Some(info), None)).await;
    let signed_in = ok(body);
    assert!(signed_in.created_new_recipe_user);
    let user = &signed_in.user;
    assert_eq!(user.emails, ["alice@example.com"]);
    assert_eq!(user.third_party.len(), 1);
    assert_eq!((user.third_party[0].id.as_str(), user.third_party[0].user_id.as_str()), ("my-oidc", "alice"));
    assert_eq!(user.login_methods.len(), 1);
    assert_eq!(user.login_methods[0].recipe_id, LoginMethodRecipeId::Thirdparty);
    assert!(user.login_methods[0].verified, "the provider verified alice's email");
    assert_eq!(user.phone_numbers, Vec::<String>::new());

    // The session works on a protected route.
    let access_token = access_token.expect("a session was created");
    let info = protected_route_user(&client, &access_token).await;
    assert_eq!(info["userId"], json!(user.id));

    // The same person signing in again is the same user; bob, whose email is unverified, is another.
    let info = consent(&client, "my-oidc", "alice").await;
    let again = ok(sign_in_up(&client, sign_in_up_request("my-oidc", Some(info), None)).await.0);
    assert!(!again.created_new_recipe_user);
    assert_eq!(again.user.id, user.id);
    let info = consent(&client, "my-oidc", "bob").await;
    let bob = ok(sign_in_up(&client, sign_in_up_request("my-oidc", Some(info), None)).await.0);
    assert_ne!(bob.user.id, user.id);
    assert!(!bob.user.login_methods[0].verified);

    // The login methods report the provider.
    let methods = login_methods(&client).await;
    assert_eq!(methods["thirdParty"], json!({"enabled": true, "providers": [{"id": "my-oidc", "name": "my-oidc"}]}));
    assert_eq!(methods["firstFactors"][0], json!("thirdparty"));
}
}

on_both_frameworks! {
async fn a_provider_without_email_gets_no_email_given_by_provider_unless_email_is_optional() {
    let provider = OidcProvider::start().await;
    let strict = three_settings(&provider, "my-oidc");
    let lenient = format!("{},require_email=false", three_settings(&provider, "lenient"));
    let server = start(|config| {
        with_provider(&lenient)(with_provider(&strict)(config))
    })
    .await;
    let client = server.client();

    let info = consent(&client, "my-oidc", "noemail").await;
    let (body, access_token) = sign_in_up(&client, sign_in_up_request("my-oidc", Some(info), None)).await;
    assert_eq!(serde_json::to_value(&body).expect("json"), json!({"status": "NO_EMAIL_GIVEN_BY_PROVIDER"}));
    assert_eq!(access_token, None, "no session without a user");

    let info = consent(&client, "lenient", "noemail").await;
    let signed_in = ok(sign_in_up(&client, sign_in_up_request("lenient", Some(info), None)).await.0);
    assert_eq!(signed_in.user.emails, ["noemail.lenient@stfakeemail.supertokens.com"]);
    assert!(signed_in.user.login_methods[0].verified, "fake emails count as verified, as in supertokens-node");
}
}

/// Tokens straight from the provider's token endpoint, as a mobile app would hold them.
async fn tokens_for(provider: &OidcProvider, login: &str) -> Value {
    let url = provider.authorization_url(DEFAULT_CLIENT_ID, DEFAULT_REDIRECT_URI, "openid email", "s", None);
    let callback = oidc::authorize(&url, login).await.expect("consent");
    let code = oidc::query_param(&callback, "code").expect("code");
    let tokens =
        provider.exchange_code(&code, DEFAULT_REDIRECT_URI, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, None).await;
    assert!(tokens["id_token"].is_string() && tokens["access_token"].is_string(), "{tokens}");
    tokens
}

fn replace_payload(jwt: &str, change: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut payload = oidc::jwt_payload(jwt);
    change(&mut payload);
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string());
    format!("{}.{encoded}.{}", parts[0], parts[2])
}

on_both_frameworks! {
async fn oauth_tokens_sign_in_and_tampered_or_forged_id_tokens_are_refused() {
    let provider = OidcProvider::start().await;
    let server = start(with_provider(&three_settings(&provider, "my-oidc"))).await;
    let client = server.client();

    // The `oAuthTokens` path: a verified id_token and the access token for the user info.
    let tokens = tokens_for(&provider, "alice").await;
    let first = ok(sign_in_up(&client, sign_in_up_request("my-oidc", None, Some(tokens.clone()))).await.0);
    assert!(first.created_new_recipe_user);
    assert_eq!(first.user.emails, ["alice@example.com"]);
    // The id_token alone suffices, and the access token alone (user info) finds the same user.
    let id_only = json!({"id_token": tokens["id_token"]});
    assert_eq!(ok(sign_in_up(&client, sign_in_up_request("my-oidc", None, Some(id_only))).await.0).user.id, first.user.id);
    // An access token alone is refused: it may have been issued to any app of the provider.
    let access_only = json!({"access_token": tokens["access_token"]});
    let message = bad_request(&client, sign_in_up_request("my-oidc", None, Some(access_only))).await;
    assert_eq!(
        message,
        "an id_token is required with oAuthTokens for the provider my-oidc: an access token alone does not say which \
         app it was issued to"
    );
    // alice's id_token with bob's access token: the user info is about someone else.
    let bob = tokens_for(&provider, "bob").await;
    let mixed = json!({"id_token": tokens["id_token"], "access_token": bob["access_token"]});
    let message = general_error(sign_in_up(&client, sign_in_up_request("my-oidc", None, Some(mixed))).await.0);
    assert!(message.contains("the user info is about another user than the id_token"), "{message}");

    let id_token = tokens["id_token"].as_str().expect("id_token");
    let refused = |token: String| sign_in_up_request("my-oidc", None, Some(json!({"id_token": token})));
    // Tampered: alice's signature over bob's claims.
    let tampered = replace_payload(id_token, |p| p["sub"] = json!("bob"));
    let message = general_error(sign_in_up(&client, refused(tampered)).await.0);
    assert!(message.contains("signature does not verify"), "{message}");
    // Forged: unsigned (`alg: none`).
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let claims = oidc::jwt_payload(id_token);
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
    let message = general_error(sign_in_up(&client, refused(format!("{header}.{body}."))).await.0);
    assert!(message.contains("not accepted"), "{message}");
    // A token for another client, or from another issuer, re-signed by nobody: the signature fails first,
    // so the claim checks are covered by the unit tests of `thirdparty::jwt`; garbage is refused too.
    let message = general_error(sign_in_up(&client, refused("not.a.jwt".into())).await.0);
    assert!(message.contains("well-formed"), "{message}");
    // A wrong access token beside a valid id_token is refused by the provider's user-info endpoint.
    let forged = json!({"id_token": tokens["id_token"], "access_token": "forged"});
    let message = general_error(sign_in_up(&client, sign_in_up_request("my-oidc", None, Some(forged))).await.0);
    assert!(message.contains("could not complete"), "{message}");
}
}

on_both_frameworks! {
async fn expired_reused_and_cancelled_codes_and_wrong_verifiers_are_refused() {
    let provider = OidcProvider::start_with(1, None).await;
    let server = start(with_provider(&three_settings(&provider, "my-oidc"))).await;
    let client = server.client();

    // Expired: the provider's code lifetime is one second.
    let info = consent(&client, "my-oidc", "alice").await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let message = general_error(sign_in_up(&client, sign_in_up_request("my-oidc", Some(info), None)).await.0);
    assert_eq!(message, "The provider could not complete the sign-in; please try again");

    // Reused: the first exchange wins, the second is refused.
    let info = consent(&client, "my-oidc", "alice").await;
    ok(sign_in_up(&client, sign_in_up_request("my-oidc", Some(info.clone()), None)).await.0);
    general_error(sign_in_up(&client, sign_in_up_request("my-oidc", Some(info), None)).await.0);

    // A PKCE verifier that does not match the challenge.
    let mut info = consent(&client, "my-oidc", "alice").await;
    info.pkce_code_verifier = Some("x".repeat(64));
    general_error(sign_in_up(&client, sign_in_up_request("my-oidc", Some(info), None)).await.0);

    // Cancelled at the provider: the redirect carries `error=access_denied`.
    let url = authorisation_url(&client, "my-oidc").await;
    let callback = oidc::deny(&format!("{}&state=s", url.url_with_query_params)).await.expect("redirect");
    let info = RedirectUriInfo {
        redirect_uri_on_provider_dashboard: DEFAULT_REDIRECT_URI.into(),
        redirect_uri_query_params: callback.query_pairs().into_owned().collect(),
        pkce_code_verifier: url.pkce_code_verifier,
    };
    let message = general_error(sign_in_up(&client, sign_in_up_request("my-oidc", Some(info), None)).await.0);
    // Only the OAuth2 error code reaches the frontend, not the provider's description.
    assert_eq!(message, "The sign-in was not completed at the provider (access_denied)");
}
}

on_both_frameworks! {
async fn unknown_providers_and_client_types_get_the_fdi_400_and_a_foreign_issuer_is_refused() {
    let provider = OidcProvider::start().await;
    // The same provider reached as `localhost`: its discovery document names 127.0.0.1, another issuer.
    let mismatch = three_settings(&provider, "mismatch").replace("127.0.0.1", "localhost");
    let server = start(|config| with_provider(&mismatch)(with_provider(&three_settings(&provider, "my-oidc"))(config))).await;
    let client = server.client();
    let request = get_authorisation_url::Request::new("mismatch".into(), DEFAULT_REDIRECT_URI.into());
    match client.get_authorisation_url(request).await.expect("call") {
        get_authorisation_url::Response::Ok(AuthorisationUrlResponse::GeneralError(e)) => {
            assert_eq!(e.message, "The provider could not be reached; please try again");
        }
        other => panic!("a discovery document of another issuer must be refused: {other:?}"),
    }
    let raw = |path: &str| {
        let client = client.clone();
        let path = path.to_owned();
        async move { client.send(support::raw("GET", &path, &[])).await.expect("call") }
    };
    let response = raw("/auth/authorisationurl?thirdPartyId=nope&redirectURIOnProviderDashboard=http://x").await;
    assert_eq!((response.status, support::json_body(&response)), (400, json!({"message": "the provider nope could not be found in the configuration"})));
    let response = raw("/auth/authorisationurl?thirdPartyId=my-oidc&redirectURIOnProviderDashboard=http://x&clientType=ios").await;
    assert_eq!(response.status, 200, "a single client without a type serves every client type");
    let response = raw("/auth/authorisationurl?redirectURIOnProviderDashboard=http://x").await;
    assert_eq!((response.status, support::json_body(&response)), (400, json!({"message": "Please provide the thirdPartyId as a GET param"})));
    let response = client.third_party_sign_in_up(sign_in_up_request("nope", None, Some(json!({"id_token": "x"})))).await.expect("call");
    let third_party_sign_in_up::Response::BadRequest(e) = response else { panic!("{response:?}") };
    assert_eq!(e.message, "the provider nope could not be found in the configuration");
}
}

on_both_frameworks! {
async fn the_binary_takes_providers_from_flags_the_environment_and_a_file() {
    let provider = OidcProvider::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("providers.toml");
    std::fs::write(
        &file,
        format!(
            "# A custom OpenID Connect provider with one web client.\n\
             [[provider]]\nid = \"from-file\"\nname = \"Company SSO\"\nissuer = \"{}\"\n\
             [[provider.client]]\nclient_type = \"web\"\nclient_id = \"{DEFAULT_CLIENT_ID}\"\n\
             client_secret = \"{DEFAULT_CLIENT_SECRET}\"\n",
            provider.issuer
        ),
    )
    .expect("write providers file");
    let flag = three_settings(&provider, "from-flag");
    let env = format!("{};id=github,client_id=gh-id,client_secret=gh-secret", three_settings(&provider, "from-env"));
    let server = process::Process::start_with(
        dir.path(),
        &["--third-party-provider", &flag, "--third-party-providers-file", file.to_str().expect("utf-8 path")],
        &[("AUTH_THIRD_PARTY_PROVIDERS", &env)],
    );
    let client = Client::new(&server.base_url).expect("client");
    let methods = login_methods(&client).await;
    // A flag given on the command line replaces the environment variable, as for every flag.
    assert_eq!(
        methods["thirdParty"]["providers"],
        json!([{"id": "from-flag", "name": "from-flag"}, {"id": "from-file", "name": "Company SSO"}])
    );
    let github = auth_api::ops::get_authorisation_url::Request::new("github".into(), "http://x".into());
    assert!(matches!(
        client.get_authorisation_url(github).await.expect("call"),
        get_authorisation_url::Response::BadRequest(_)
    ));

    // A full sign-in through the provider configured in the file, with its client type.
    let mut request = get_authorisation_url::Request::new("from-file".into(), DEFAULT_REDIRECT_URI.into());
    request.client_type = Some("web".into());
    let url = match client.get_authorisation_url(request).await.expect("call") {
        get_authorisation_url::Response::Ok(AuthorisationUrlResponse::Ok(ok)) => ok,
        other => panic!("{other:?}"),
    };
    let callback = oidc::authorize(&format!("{}&state=s", url.url_with_query_params), "alice").await.expect("consent");
    let info = RedirectUriInfo {
        redirect_uri_on_provider_dashboard: DEFAULT_REDIRECT_URI.into(),
        redirect_uri_query_params: callback.query_pairs().into_owned().collect(),
        pkce_code_verifier: url.pkce_code_verifier,
    };
    let mut request = sign_in_up_request("from-file", Some(info), None);
    request.body.client_type = Some("web".into());
    let (body, access_token) = sign_in_up(&client, request).await;
    assert_eq!(ok(body).user.third_party[0].user_id, "alice");
    let response = session_info(&client, &[("authorization", &format!("Bearer {}", access_token.expect("token")))]).await;
    assert_eq!(response.status, 200, "{}", response.text());

    // Without the flag, the environment's providers apply.
    drop(server);
    let server = process::Process::start_with(dir.path(), &[], &[("AUTH_THIRD_PARTY_PROVIDERS", &env)]);
    let client = Client::new(&server.base_url).expect("client");
    let methods = login_methods(&client).await;
    assert_eq!(
        methods["thirdParty"]["providers"],
        json!([{"id": "from-env", "name": "from-env"}, {"id": "github", "name": "Github"}])
    );
}
}

#[test]
fn broken_provider_settings_stop_the_binary_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("providers.toml");
    std::fs::write(&file, "[[provider]]\nid = \"corp\"\nissuer = \"https://sso.example.com\"\nclient_idd = \"x\"\n")
        .expect("write");
    let run = |args: &[&str]| {
        let database = format!("sqlite://{}", dir.path().join("auth.db").display());
        let output = std::process::Command::new(process::BIN)
            .args(["--listen", "127.0.0.1:0", "--database", &database])
            .args(args)
            .env_remove("AUTH_THIRD_PARTY_PROVIDERS")
            .output()
            .expect("run");
        assert!(!output.status.success(), "refused: {args:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = run(&["--third-party-providers-file", file.to_str().expect("utf-8")]);
    assert!(stderr.contains("providers.toml") && stderr.contains("client_idd"), "{stderr}");
    let stderr = run(&["--third-party-provider", "id=corp,client_id=x"]);
    assert!(stderr.contains("needs an `issuer`"), "{stderr}");
    let stderr = run(&["--third-party-provider", "id=corp,client_id"]);
    assert!(stderr.contains("provider 1") && stderr.contains("is not `key=value`"), "{stderr}");
    // A secret with a comma in it is not echoed back, in part or whole.
    let stderr = run(&["--third-party-provider", "id=corp,issuer=https://a,client_id=a,client_secret=hunter2,xyzzy"]);
    assert!(stderr.contains("item 5 is not `key=value`") && !stderr.contains("xyzzy"), "{stderr}");
    let help = std::process::Command::new(process::BIN)
        .arg("--help")
        .env("AUTH_THIRD_PARTY_PROVIDERS", "id=x,issuer=https://a,client_id=a,client_secret=hunter2")
        .output()
        .expect("help");
    assert!(!String::from_utf8_lossy(&help.stdout).contains("hunter2"), "--help hides the environment's value");
    let stderr = run(&[
        "--third-party-provider",
        "id=x,issuer=https://a,client_id=a",
        "--third-party-provider",
        "id=x,issuer=https://b,client_id=b",
    ]);
    assert!(stderr.contains("configured twice"), "{stderr}");
}

#[test]
fn the_readme_providers_file_is_valid() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let start = readme.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let example = &readme[start..start + readme[start..].find("```").expect("closed")];
    let providers = authgen_recipes::thirdparty::parse_providers_toml(example, "README.md").expect("parses");
    let ids: Vec<&str> = providers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["google", "corp-sso", "legacy-oauth"]);
    authgen_recipes::thirdparty::ThirdParty::new(&providers).expect("every provider resolves");
}

/// The test provider with two registered apps: ours (the default client) and another app of the same provider.
const TWO_APPS: &str = r#"[
    {"client_id": "authgen-web", "client_secret": "authgen-secret",
     "redirect_uris": ["http://localhost:3000/auth/callback/my-oidc"]},
    {"client_id": "other-app", "client_secret": "other-secret",
     "redirect_uris": ["http://localhost:4000/cb"]}]"#;

/// An access token the provider issued to `client_id` for `login`, as that app's mobile client holds it.
async fn access_token_of(provider: &OidcProvider, client_id: &str, login: &str) -> String {
    let (redirect, secret) = match client_id {
        DEFAULT_CLIENT_ID => (DEFAULT_REDIRECT_URI, DEFAULT_CLIENT_SECRET),
        _ => ("http://localhost:4000/cb", "other-secret"),
    };
    let url = provider.authorization_url(client_id, redirect, "openid email", "s", None);
    let callback = oidc::authorize(&url, login).await.expect("consent");
    let code = oidc::query_param(&callback, "code").expect("code");
    let tokens = provider.exchange_code(&code, redirect, client_id, secret, None).await;
    tokens["access_token"].as_str().unwrap_or_else(|| panic!("no access token: {tokens}")).to_owned()
}

/// GitHub, with its APIs served by the test provider's doubles; `extra` adds settings.
fn github_double(provider: &OidcProvider, id: &str, secret: &str, extra: &str) -> String {
    let base = &provider.issuer;
    format!(
        "id={id},client_id={DEFAULT_CLIENT_ID},client_secret={secret},user_info_endpoint={base}/github/user,\
         emails_endpoint={base}/github/user/emails{extra}"
    )
}

/// Facebook, with its Graph API served by the test provider's doubles.
fn facebook_double(provider: &OidcProvider, extra: &str) -> String {
    format!(
        "id=facebook,client_id={DEFAULT_CLIENT_ID},client_secret={DEFAULT_CLIENT_SECRET},\
         user_info_endpoint={}/facebook/me{extra}",
        provider.issuer
    )
}

fn access_only(token: &str) -> Option<Value> {
    Some(json!({ "access_token": token }))
}

on_both_frameworks! {
async fn by_default_an_access_token_alone_is_refused_by_providers_without_id_tokens() {
    let provider = OidcProvider::start_with(60, Some(TWO_APPS)).await;
    let custom = format!(
        "id=legacy-oauth,client_id={DEFAULT_CLIENT_ID},client_secret={DEFAULT_CLIENT_SECRET},\
         authorization_endpoint={0}/auth,token_endpoint={0}/token,user_info_endpoint={0}/me",
        provider.issuer
    );
    let lines = [github_double(&provider, "github", DEFAULT_CLIENT_SECRET, ""), facebook_double(&provider, ""), custom];
    let server = start(|config| lines.iter().fold(config, |config, line| with_provider(line)(config))).await;
    let client = server.client();
    // A token issued to this very app: still refused, since nothing here can tell whose it is.
    let ours = access_token_of(&provider, DEFAULT_CLIENT_ID, "alice").await;
    for id in ["github", "facebook", "legacy-oauth"] {
        let message = bad_request(&client, sign_in_up_request(id, None, access_only(&ours))).await;
        assert_eq!(
            message,
            format!(
                "sign-in with an access token alone is not enabled for the provider {id}: send the code of the \
                 provider's redirect (redirectURIInfo) instead"
            )
        );
    }
    // An id_token beside it changes nothing where there are no keys to verify it with.
    let id_token = tokens_for(&provider, "alice").await["id_token"].clone();
    let with_id_token = Some(json!({ "access_token": ours, "id_token": id_token }));
    let message = bad_request(&client, sign_in_up_request("github", None, with_id_token)).await;
    assert!(message.starts_with("sign-in with an access token alone is not enabled"), "{message}");
}
}

on_both_frameworks! {
async fn the_github_token_check_accepts_this_apps_tokens_only() {
    let provider = OidcProvider::start_with(60, Some(TWO_APPS)).await;
    let check = format!(",access_token_check=github,access_token_check_endpoint={}/github/applications/{{client_id}}/token", provider.issuer);
    let github = github_double(&provider, "github", DEFAULT_CLIENT_SECRET, &check);
    // The same check made with a wrong secret of ours: GitHub answers 401, a provider failure.
    let misconfigured = github_double(&provider, "github-misconfigured", "not-the-secret", &check);
    let server = start(|config| with_provider(&misconfigured)(with_provider(&github)(config))).await;
    let client = server.client();

    let ours = access_token_of(&provider, DEFAULT_CLIENT_ID, "alice").await;
    let (body, access_token) = sign_in_up(&client, sign_in_up_request("github", None, access_only(&ours))).await;
    let signed_in = ok(body);
    assert_eq!(signed_in.user.third_party[0].user_id, "1001", "GitHub's numeric id");
    assert_eq!(signed_in.user.emails, ["alice@example.com"], "the primary email from the emails API");
    assert!(signed_in.user.login_methods[0].verified);
    protected_route_user(&client, &access_token.expect("a session")).await;

    // alice's token issued to another app of the provider, and a token that is none: refused.
    let theirs = access_token_of(&provider, "other-app", "alice").await;
    let message = bad_request(&client, sign_in_up_request("github", None, access_only(&theirs))).await;
    assert_eq!(message, "the access token was not issued to this app's client at the provider github");
    let message = bad_request(&client, sign_in_up_request("github", None, access_only("forged-token"))).await;
    assert_eq!(message, "the access token was not issued to this app's client at the provider github");

    let message =
        general_error(sign_in_up(&client, sign_in_up_request("github-misconfigured", None, access_only(&ours))).await.0);
    assert_eq!(message, "The provider could not complete the sign-in; please try again");
}
}

on_both_frameworks! {
async fn facebook_debug_token_accepts_this_apps_tokens_only() {
    let provider = OidcProvider::start_with(60, Some(TWO_APPS)).await;
    let check = format!(",access_token_check=facebook,access_token_check_endpoint={}/facebook/debug_token", provider.issuer);
    let server = start(with_provider(&facebook_double(&provider, &check))).await;
    let client = server.client();

    let ours = access_token_of(&provider, DEFAULT_CLIENT_ID, "bob").await;
    let (body, access_token) = sign_in_up(&client, sign_in_up_request("facebook", None, access_only(&ours))).await;
    let signed_in = ok(body);
    assert_eq!(signed_in.user.third_party[0].user_id, "fb-bob");
    assert_eq!(signed_in.user.emails, ["bob@example.com"]);
    protected_route_user(&client, &access_token.expect("a session")).await;

    // debug_token reports the token of another app as valid, with that app's id: refused; an unknown one too.
    let theirs = access_token_of(&provider, "other-app", "bob").await;
    let message = bad_request(&client, sign_in_up_request("facebook", None, access_only(&theirs))).await;
    assert_eq!(message, "the access token was not issued to this app's client at the provider facebook");
    let message = bad_request(&client, sign_in_up_request("facebook", None, access_only("forged-token"))).await;
    assert_eq!(message, "the access token was not issued to this app's client at the provider facebook");
}
}

on_both_frameworks! {
async fn unsafe_trust_accepts_any_apps_token_as_documented() {
    let provider = OidcProvider::start_with(60, Some(TWO_APPS)).await;
    let custom = format!(
        "id=legacy-oauth,client_id={DEFAULT_CLIENT_ID},client_secret={DEFAULT_CLIENT_SECRET},\
         authorization_endpoint={0}/auth,token_endpoint={0}/token,user_info_endpoint={0}/me,\
         access_token_check=unsafe_trust",
        provider.issuer
    );
    let server = start(with_provider(&custom)).await;
    let client = server.client();
    // The reason it is unsafe: a token alice gave another app signs her in here.
    let theirs = access_token_of(&provider, "other-app", "alice").await;
    let signed_in = ok(sign_in_up(&client, sign_in_up_request("legacy-oauth", None, access_only(&theirs))).await.0);
    assert_eq!(signed_in.user.third_party[0].user_id, "alice");
}
}
