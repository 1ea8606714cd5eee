//! The `VerifySession` extractor on an application's own routes, required and optional, and its refusal of
//! a session that ended in the store.

use std::sync::Arc;

use auth_api::client::Client;
use auth_api::runtime::RawRequest;
use authgen_recipes::delivery::LogDelivery;
use authgen_recipes::session::tokens::{AccessTokenClaims, SigningKey};
use authgen_recipes::store::sqlite::SqliteStore;
use authgen_recipes::store::{NewSession, Store as _};
use authgen_recipes::{AuthRecipes, Config, VerifySession};
use axum::Json;
use axum::routing::get;
use serde_json::{Value, json};

async fn required(session: VerifySession) -> Json<Value> {
    Json(json!({ "user": session.user_id }))
}

async fn optional(session: Option<VerifySession>) -> Json<Value> {
    Json(json!({ "user": session.map(|s| s.user_id) }))
}

fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> RawRequest {
    RawRequest {
        method: method.into(),
        path: path.into(),
        headers: headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        ..RawRequest::default()
    }
}

#[tokio::test]
async fn required_and_optional_sessions() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Different sites: SameSite=None, so cookie-carried tokens need the rid header on POST.
    // A session check TTL of zero: the store is asked on every request, so a revocation shows at once.
    let config = Config::new("http://localhost:3000", "http://127.0.0.1:3001")
        .expect("valid domains")
        .with_session_check_ttl(std::time::Duration::ZERO);
    let store = SqliteStore::open(dir.path().join("auth.db")).await.expect("store");
    let recipes = AuthRecipes::new(config, store.clone(), Arc::new(LogDelivery)).await.expect("recipes");
    let verifier = recipes.session_verifier();
    let app = axum::Router::new()
        .route("/required", get(required).post(required))
        .route("/optional", get(optional))
        .merge(recipes.into_router())
        .layer(axum::Extension(verifier.clone()));
    let client = Client::in_process(app);

    // A token signed with the stored key, as the recipes sign them.
    let key_record = authgen_recipes::store::Store::latest_signing_key(&store, "ES256")
        .await
        .expect("key lookup")
        .expect("key created on start");
    let key = SigningKey::from_record(&key_record).expect("valid key");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let now = i64::try_from(now).expect("time fits");
    // The session the tokens name, with its user, as a sign-in stores them.
    let contact = authgen_recipes::Contact::Email("user-1@example.com".into());
    store.sign_in_up("public", &contact, "user-1", now * 1000).await.expect("user");
    let session = NewSession {
        session_handle: "h".into(),
        user_id: "user-1".into(),
        tenant_id: "public".into(),
        refresh_token_hash: "refresh-hash".into(),
        created_at_ms: now * 1000,
        expires_at_ms: (now + 3600) * 1000,
    };
    store.create_session(&session).await.expect("session");
    let claims = |exp: i64| AccessTokenClaims {
        user_id: "user-1".into(),
        session_handle: "h".into(),
        tenant_id: "public".into(),
        issued_at_s: now,
        expires_at_s: exp,
        issuer: "http://127.0.0.1:3001/auth".into(),
    };
    let token = key.sign(&claims(now + 60).to_payload());
    let expired = key.sign(&claims(now - 1).to_payload());
    let bearer = format!("Bearer {token}");
    let cookie = format!("sAccessToken={token}");

    check(&client, &bearer, &cookie, &expired).await;

    // The same rules on actix-web routes, with the actix-web extractors.
    let actix = actix_client(verifier);
    check(&actix, &bearer, &cookie, &expired).await;

    // Once the session is gone from the store (signed out, revoked after theft), its valid tokens are refused,
    // by the required and the optional extractor alike.
    assert!(store.revoke_session("h").await.expect("revoke"));
    for client in [&client, &actix] {
        for (path, header) in
            [("/required", ("authorization", bearer.as_str())), ("/optional", ("cookie", cookie.as_str()))]
        {
            let response = client.send(request("GET", path, &[header])).await.expect("call");
            let body: Value = serde_json::from_slice(&response.body).expect("JSON body");
            assert_eq!((response.status, body), (401, json!({ "message": "unauthorised" })), "{path}");
        }
    }
}

async fn actix_required(session: VerifySession) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(json!({ "user": session.user_id }))
}

async fn actix_optional(session: authgen_recipes::OptionalSession) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(json!({ "user": session.0.map(|s| s.user_id) }))
}

/// An actix-web server on loopback with the same two routes, the verifier as app data.
fn actix_client(verifier: authgen_recipes::SessionVerifier) -> Client {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            actix_web::HttpServer::new(move || {
                actix_web::App::new()
                    .app_data(verifier.clone())
                    .route("/required", actix_web::web::get().to(actix_required))
                    .route("/required", actix_web::web::post().to(actix_required))
                    .route("/optional", actix_web::web::get().to(actix_optional))
            })
            .workers(1)
            .listen(listener)
            .expect("listen")
            .run()
            .await
            .expect("serve")
        })
    });
    Client::new(&format!("http://{addr}")).expect("client")
}

/// The extractor's rules, the same whatever the framework.
async fn check(client: &Client, bearer: &str, cookie: &str, expired: &str) {
    let answer = |response: auth_api::runtime::RawResponse| {
        (response.status, serde_json::from_slice::<Value>(&response.body).expect("JSON body"))
    };
    assert_eq!(
        answer(client.send(request("GET", "/required", &[])).await.expect("call")),
        (401, json!({ "message": "unauthorised" }))
    );
    assert_eq!(
        answer(client.send(request("GET", "/required", &[("authorization", bearer)])).await.expect("call")),
        (200, json!({ "user": "user-1" }))
    );
    assert_eq!(
        answer(client.send(request("GET", "/optional", &[])).await.expect("call")),
        (200, json!({ "user": null }))
    );
    assert_eq!(
        answer(client.send(request("GET", "/optional", &[("cookie", cookie)])).await.expect("call")),
        (200, json!({ "user": "user-1" }))
    );
    let expired_bearer = format!("Bearer {expired}");
    assert_eq!(
        answer(client.send(request("GET", "/optional", &[("authorization", &expired_bearer)])).await.expect("call")),
        (401, json!({ "message": "try refresh token" }))
    );
    // Anti-CSRF: a cookie on a POST needs the rid header; a bearer token does not.
    assert_eq!(
        answer(client.send(request("POST", "/required", &[("cookie", cookie)])).await.expect("call")),
        (401, json!({ "message": "try refresh token" }))
    );
    assert_eq!(
        answer(
            client.send(request("POST", "/required", &[("cookie", cookie), ("rid", "anti-csrf")])).await.expect("call")
        ),
        (200, json!({ "user": "user-1" }))
    );
    assert_eq!(
        answer(client.send(request("POST", "/required", &[("authorization", bearer)])).await.expect("call")),
        (200, json!({ "user": "user-1" }))
    );
}

#[tokio::test]
async fn a_router_without_the_verifier_is_a_configuration_error() {
    let app = axum::Router::new().route("/required", get(required));
    let response = Client::in_process(app).send(request("GET", "/required", &[])).await.expect("call");
    assert_eq!(response.status, 500);
    assert!(response.text().contains("session verifier is not configured"), "{}", response.text());
}
