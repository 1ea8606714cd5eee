//! Multitenancy through the generated client against the real server on loopback, on both frameworks: the
//! passwordless and third-party flows on tenants other than `public` (`/auth/<tenantId>/...`), each tenant's
//! own users, devices, first factors, contact method and providers, the magic link and the access token
//! naming the tenant, a tenant's route refusing the sessions of other tenants, node's answer for an unknown
//! tenant, and the binary refusing a broken tenants file.

#[macro_use]
mod support;
#[path = "support/oidc.rs"]
mod oidc;
#[path = "support/process.rs"]
mod process;

use auth_api::client::Client;
use auth_api::ops::{consume_code, create_code, get_authorisation_url, get_login_methods, third_party_sign_in_up};
use auth_api::types::{
    AuthorisationUrlResponse, ConsumeCodeOk, ConsumeCodeRequest, ConsumeCodeResponse, CreateCodeOk, CreateCodeRequest,
    CreateCodeResponse, RedirectUriInfo, ThirdPartySignInUpRequest, ThirdPartySignInUpResponse,
};
use authgen_recipes::ContactMethod;
use authgen_recipes::config::FlowType;
use authgen_recipes::tenants::TenantConfig;
use authgen_recipes::thirdparty::parse_provider_line;
use oidc::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI, OidcProvider};
use serde_json::{Value, json};
use support::{TestServer, jwt_payload, start, start_at};

/// createCode for `email` on `tenant`.
async fn create_code_on(client: &Client, tenant: &str, email: &str) -> create_code::Response {
    let mut request = create_code::Request::new(CreateCodeRequest {
        email: Some(email.into()),
        phone_number: None,
        should_try_linking_with_session_user: None,
    });
    request.tenant_id = tenant.into();
    client.create_code(request).await.expect("createCode call")
}

async fn created_on(client: &Client, tenant: &str, email: &str) -> CreateCodeOk {
    match create_code_on(client, tenant, email).await {
        create_code::Response::Ok(CreateCodeResponse::Ok(ok)) => ok,
        other => panic!("createCode on {tenant} did not succeed: {other:?}"),
    }
}

/// consumeCode on `tenant` with a user input code (`Some`) or the magic link's code, in header mode.
async fn consume_on(
    client: &Client,
    tenant: &str,
    created: &CreateCodeOk,
    code: Option<&str>,
    link: Option<&str>,
) -> consume_code::Response {
    let mut request = consume_code::Request::new(ConsumeCodeRequest {
        pre_auth_session_id: created.pre_auth_session_id.clone(),
        link_code: link.map(str::to_owned),
        device_id: code.map(|_| created.device_id.clone()),
        user_input_code: code.map(str::to_owned),
        should_try_linking_with_session_user: None,
    });
    request.tenant_id = tenant.into();
    request.st_auth_mode = Some("header".into());
    client.consume_code(request).await.expect("consumeCode call")
}

fn signed_in(response: consume_code::Response) -> (ConsumeCodeOk, String) {
    match response {
        consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(ok), headers } => {
            (ok, headers.st_access_token.expect("a session in header mode"))
        }
        other => panic!("consume did not sign in: {other:?}"),
    }
}

fn is_restart(response: &consume_code::Response) -> bool {
    matches!(response, consume_code::Response::Ok { body: ConsumeCodeResponse::RestartFlowError(_), .. })
}

async fn login_methods_of(client: &Client, tenant: &str) -> Value {
    let mut request = get_login_methods::Request::new();
    request.tenant_id = tenant.into();
    match client.get_login_methods(request).await.expect("loginmethods call") {
        get_login_methods::Response::Ok(methods) => serde_json::to_value(methods).expect("json"),
        other => panic!("loginmethods of {tenant} did not succeed: {other:?}"),
    }
}

async fn exists_on(client: &Client, tenant: &str, email: &str) -> Value {
    let path = format!("/auth/{tenant}/passwordless/email/exists?email={}", email.replace('@', "%40"));
    support::json_body(&client.send(support::raw("GET", &path, &[])).await.expect("exists call"))
}

/// The magic link of the last message, and its code.
fn last_link(server: &TestServer) -> (url::Url, String) {
    let link = server.capture.last().magic_link.expect("a magic link");
    let link = url::Url::parse(&link).expect("a URL");
    let code = link.fragment().expect("the link code").to_owned();
    (link, code)
}

fn two_tenants(config: authgen_recipes::Config) -> authgen_recipes::Config {
    config.with_tenant(TenantConfig::new("customer-1")).with_tenant(TenantConfig {
        first_factors: Some(vec!["otp-email".into()]),
        contact_method: Some(ContactMethod::Email),
        ..TenantConfig::new("customer-2")
    })
}

on_both_frameworks! {
async fn passwordless_on_a_tenant_signs_in_a_user_of_that_tenant_only() {
    let server = start(two_tenants).await;
    let client = server.client();

    // customer-1: the magic link and the user name the tenant, and so does the access token.
    let created = created_on(&client, "customer-1", "alice@example.com").await;
    let (link, link_code) = last_link(&server);
    let query: Vec<(String, String)> = link.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [
            ("preAuthSessionId".to_owned(), created.pre_auth_session_id.clone()),
            ("tenantId".to_owned(), "customer-1".to_owned())
        ]
    );
    // The device is customer-1's: on another tenant it does not exist, and nothing is consumed.
    for other in ["public", "customer-2"] {
        let elsewhere = consume_on(&client, other, &created, None, Some(&link_code)).await;
        assert!(is_restart(&elsewhere), "{other}: {elsewhere:?}");
    }
    let (alice, alice_token) = signed_in(consume_on(&client, "customer-1", &created, None, Some(&link_code)).await);
    assert!(alice.created_new_recipe_user);
    assert_eq!(alice.user.tenant_ids, ["customer-1"]);
    assert_eq!(alice.user.login_methods[0].tenant_ids, ["customer-1"]);
    assert_eq!(jwt_payload(&alice_token)["tId"], json!("customer-1"));

    // The same email on public is another user, of public.
    let created = created_on(&client, "public", "alice@example.com").await;
    let code = server.capture.last_code();
    let (public_alice, token) = signed_in(consume_on(&client, "public", &created, Some(&code), None).await);
    assert!(public_alice.created_new_recipe_user, "one email on two tenants is two users");
    assert_ne!(public_alice.user.id, alice.user.id);
    assert_eq!(public_alice.user.tenant_ids, ["public"]);
    assert_eq!(jwt_payload(&token)["tId"], json!("public"));
    // A route of one tenant refuses the sessions of the others (`VerifySession::for_tenant`).
    let tenant_route = |tenant: &str, token: &str| {
        let bearer = format!("Bearer {token}");
        let request = support::raw("GET", &format!("/{tenant}/sessioninfo"), &[("authorization", &bearer)]);
        let client = client.clone();
        async move { client.send(request).await.expect("sessioninfo call") }
    };
    let own = tenant_route("customer-1", &alice_token).await;
    assert_eq!((own.status, support::json_body(&own)["userId"].clone()), (200, json!(alice.user.id)));
    for (tenant, token) in [("public", &alice_token), ("customer-2", &alice_token), ("customer-1", &token)] {
        let refused = tenant_route(tenant, token).await;
        assert_eq!((refused.status, support::json_body(&refused)), (401, json!({"message": "unauthorised"})), "{tenant}");
    }
    assert_eq!(tenant_route("public", &token).await.status, 200);
    // Signing in again on customer-1 finds customer-1's alice.
    let created = created_on(&client, "customer-1", "alice@example.com").await;
    let code = server.capture.last_code();
    let (again, _) = signed_in(consume_on(&client, "customer-1", &created, Some(&code), None).await);
    assert_eq!((again.created_new_recipe_user, again.user.id.as_str()), (false, alice.user.id.as_str()));

    // Who exists is per tenant.
    assert_eq!(exists_on(&client, "customer-1", "alice@example.com").await, json!({"status": "OK", "exists": true}));
    assert_eq!(exists_on(&client, "customer-2", "alice@example.com").await, json!({"status": "OK", "exists": false}));

    // customer-2 takes emails only, and codes only: a magic link is not one of its first factors.
    let mut phone = create_code::Request::new(CreateCodeRequest {
        email: None,
        phone_number: Some("+14155552671".into()),
        should_try_linking_with_session_user: None,
    });
    phone.tenant_id = "customer-2".into();
    let refused = client.create_code(phone).await.expect("createCode call");
    let create_code::Response::BadRequest(body) = refused else { panic!("{refused:?}") };
    assert_eq!(body.message, "Please provide an email since you have set the contactMethod to \"EMAIL\"");
    // The server's flow sends codes and links, but only codes are customer-2's: no link is sent, and one
    // made up is refused as node refuses a factor that is not a first factor.
    let created = created_on(&client, "customer-2", "bob@example.com").await;
    assert_eq!(created.flow_type, FlowType::UserInputCode);
    assert_eq!(server.capture.last().magic_link, None);
    let code = server.capture.last_code();
    let by_link = consume_on(&client, "customer-2", &created, None, Some("bWFkZS11cA")).await;
    let consume_code::Response::Unauthorized(body) = by_link else { panic!("{by_link:?}") };
    assert_eq!(body.message, "unauthorised");
    let (bob, _) = signed_in(consume_on(&client, "customer-2", &created, Some(&code), None).await);
    assert_eq!(bob.user.tenant_ids, ["customer-2"]);

    // Each tenant's login methods; an unknown tenant gets node's answer.
    let methods = login_methods_of(&client, "customer-2").await;
    assert_eq!(methods["firstFactors"], json!(["otp-email"]));
    assert_eq!(methods["passwordless"], json!({"enabled": true}));
    assert_eq!(methods["thirdParty"], json!({"enabled": false, "providers": []}));
    let methods = login_methods_of(&client, "customer-1").await;
    assert_eq!(methods["firstFactors"], json!(["otp-email", "otp-phone", "link-email", "link-phone"]));
    let unknown = create_code_on(&client, "customer-3", "carol@example.com").await;
    let create_code::Response::InternalServerError(body) = unknown else { panic!("{unknown:?}") };
    assert_eq!(body.message, "Tenant not found");
    server.stop().await;
}
}

on_both_frameworks! {
async fn the_users_of_a_database_from_before_tenants_are_public_s_once_tenants_are_added() {
    // The tables have carried the tenant since the first migration, so adding tenants changes no schema: a
    // database a server without tenants wrote keeps its users on `public`.
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("auth.db");
    let before = start_at(&db_path, |config| config).await;
    let client = before.client();
    let created = created_on(&client, "public", "dora@example.com").await;
    let code = before.capture.last_code();
    let (dora, _) = signed_in(consume_on(&client, "public", &created, Some(&code), None).await);
    before.stop().await;

    let after = start_at(&db_path, two_tenants).await;
    let client = after.client();
    let created = created_on(&client, "public", "dora@example.com").await;
    let code = after.capture.last_code();
    let (again, token) = signed_in(consume_on(&client, "public", &created, Some(&code), None).await);
    assert_eq!((again.created_new_recipe_user, again.user.id.as_str()), (false, dora.user.id.as_str()));
    assert_eq!(again.user.tenant_ids, ["public"]);
    assert_eq!(jwt_payload(&token)["tId"], json!("public"));
    let created = created_on(&client, "customer-1", "dora@example.com").await;
    let code = after.capture.last_code();
    let (other, _) = signed_in(consume_on(&client, "customer-1", &created, Some(&code), None).await);
    assert!(other.created_new_recipe_user, "customer-1 starts without public's users");
    after.stop().await;
}
}

/// Signs `login` in at the provider through the tenant's authorisation URL and returns what the frontend
/// sends to `/auth/<tenant>/signinup`.
async fn consent_on(client: &Client, tenant: &str, id: &str, login: &str) -> RedirectUriInfo {
    let mut request = get_authorisation_url::Request::new(id.into(), DEFAULT_REDIRECT_URI.into());
    request.tenant_id = tenant.into();
    let url = match client.get_authorisation_url(request).await.expect("authorisationurl call") {
        get_authorisation_url::Response::Ok(AuthorisationUrlResponse::Ok(ok)) => ok,
        other => panic!("authorisationurl on {tenant} did not succeed: {other:?}"),
    };
    let with_state = format!("{}&state=c3RhdGU", url.url_with_query_params);
    let callback = oidc::authorize(&with_state, login).await.unwrap_or_else(|e| panic!("consent: {e}"));
    RedirectUriInfo {
        redirect_uri_on_provider_dashboard: DEFAULT_REDIRECT_URI.into(),
        redirect_uri_query_params: callback.query_pairs().into_owned().collect(),
        pkce_code_verifier: url.pkce_code_verifier,
    }
}

fn sign_in_up_on(tenant: &str, id: &str, info: RedirectUriInfo) -> third_party_sign_in_up::Request {
    let mut request = third_party_sign_in_up::Request::new(ThirdPartySignInUpRequest {
        third_party_id: id.into(),
        client_type: None,
        redirect_uri_info: Some(info),
        o_auth_tokens: None,
        should_try_linking_with_session_user: None,
    });
    request.tenant_id = tenant.into();
    request.st_auth_mode = Some("header".into());
    request
}

on_both_frameworks! {
async fn a_tenants_own_provider_signs_in_users_of_that_tenant_only() {
    let provider = OidcProvider::start().await;
    let line = format!(
        "id=acme-sso,issuer={},client_id={DEFAULT_CLIENT_ID},client_secret={DEFAULT_CLIENT_SECRET}",
        provider.issuer
    );
    let acme = TenantConfig {
        third_party_providers: vec![parse_provider_line(&line).expect("provider")],
        flow_type: Some(FlowType::UserInputCode),
        ..TenantConfig::new("acme")
    };
    let server = start(|config| config.with_tenant(acme).with_tenant(TenantConfig::new("globex"))).await;
    let client = server.client();

    let methods = login_methods_of(&client, "acme").await;
    assert_eq!(methods["thirdParty"], json!({"enabled": true, "providers": [{"id": "acme-sso", "name": "acme-sso"}]}));
    assert_eq!(methods["firstFactors"], json!(["thirdparty", "otp-email", "otp-phone"]));
    for other in ["public", "globex"] {
        let methods = login_methods_of(&client, other).await;
        assert_eq!(methods["thirdParty"], json!({"enabled": false, "providers": []}), "{other}");
    }

    let info = consent_on(&client, "acme", "acme-sso", "alice").await;
    // What the provider sent back is no use on another tenant: the provider is not configured there.
    for other in ["public", "globex"] {
        let refused = client.third_party_sign_in_up(sign_in_up_on(other, "acme-sso", info.clone())).await;
        let third_party_sign_in_up::Response::BadRequest(body) = refused.expect("signinup call") else {
            panic!("{other}: the provider of acme signed someone in")
        };
        assert_eq!(body.message, "the provider acme-sso could not be found in the configuration", "{other}");
    }
    let signed_in = client.third_party_sign_in_up(sign_in_up_on("acme", "acme-sso", info)).await.expect("call");
    let third_party_sign_in_up::Response::Ok { body: ThirdPartySignInUpResponse::Ok(ok), headers } = signed_in else {
        panic!("{signed_in:?}")
    };
    assert!(ok.created_new_recipe_user);
    assert_eq!(ok.user.tenant_ids, ["acme"]);
    assert_eq!((ok.user.third_party[0].id.as_str(), ok.user.emails[0].as_str()), ("acme-sso", "alice@example.com"));
    let token = headers.st_access_token.expect("a session");
    assert_eq!(jwt_payload(&token)["tId"], json!("acme"));
    // The authorisation URL of acme's provider is not served on globex either.
    let mut request = get_authorisation_url::Request::new("acme-sso".into(), DEFAULT_REDIRECT_URI.into());
    request.tenant_id = "globex".into();
    let refused = client.get_authorisation_url(request).await.expect("authorisationurl call");
    assert!(matches!(refused, get_authorisation_url::Response::BadRequest(_)), "{refused:?}");
    server.stop().await;
}
}

#[test]
fn a_broken_tenants_file_stops_the_binary_with_its_line_and_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |text: &str| {
        let file = dir.path().join("tenants.toml");
        std::fs::write(&file, text).expect("write");
        let database = format!("sqlite://{}", dir.path().join("auth.db").display());
        let output = std::process::Command::new(process::BIN)
            .args(["--listen", "127.0.0.1:0", "--database", &database])
            .args(["--tenants-file", file.to_str().expect("utf-8")])
            .env_remove("AUTH_THIRD_PARTY_PROVIDERS")
            .output()
            .expect("run");
        assert!(!output.status.success(), "refused: {text}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = run("[[tenant]]\nid = \"acme\"\n\n[[tenant]]\nid = \"acme\"\n");
    assert!(stderr.contains("tenants.toml:4: the tenant `acme` is configured twice"), "{stderr}");
    let stderr = run("[[tenant]]\nid = \"acme\"\nfirst_factors = [\"link-email\"]\nflow_type = \"USER_INPUT_CODE\"\n");
    assert!(stderr.contains("tenants.toml:1: tenant `acme`: the first factor `link-email` is not offered"), "{stderr}");
    let stderr = run("[[tenant]]\nid = \"acme\"\n\n[[tenant.provider]]\nid = \"corp\"\nclient_id = \"x\"\n");
    assert!(stderr.contains("tenants.toml:1: tenant `acme`: third-party provider `corp`"), "{stderr}");
    let stderr = run("[[tenant]]\nid = \"acme\"\ncontact = \"EMAIL\"\n");
    assert!(stderr.contains("tenants.toml:3: unknown field `contact`"), "{stderr}");

    // The environment names the file as well.
    let file = dir.path().join("env-tenants.toml");
    std::fs::write(&file, "[[tenant]]\nid = \"public\"\n").expect("write");
    let database = format!("sqlite://{}", dir.path().join("auth.db").display());
    let output = std::process::Command::new(process::BIN)
        .args(["--listen", "127.0.0.1:0", "--database", &database])
        .env("AUTH_TENANTS_FILE", &file)
        .env_remove("AUTH_THIRD_PARTY_PROVIDERS")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "refused");
    assert!(stderr.contains("env-tenants.toml:1: `public` is the server's own tenant"), "{stderr}");
}
