//! Bad requests never reach the implementation and never produce a 500: the generated adapter answers 400,
//! 413 or 415 with a JSON `{"message": ...}` that names the problem, on both transports, and keeps serving.

use auth_api::client::Client;
use auth_api::runtime::{RawRequest, RawResponse};

mod support;

fn post(path: &str, content_type: Option<&str>, body: impl Into<bytes::Bytes>) -> RawRequest {
    let mut headers = Vec::new();
    if let Some(ct) = content_type {
        headers.push(("content-type".to_owned(), ct.to_owned()));
    }
    RawRequest { method: "POST".into(), path: path.into(), headers, body: body.into(), ..Default::default() }
}

fn message(resp: &RawResponse) -> String {
    assert_eq!(resp.header("content-type"), Some("application/json"), "error bodies are JSON: {}", resp.text());
    let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON error body");
    let obj = json.as_object().expect("an object");
    assert_eq!(obj.len(), 1, "only `message`: {json}");
    json["message"].as_str().expect("message is a string").to_owned()
}

async fn clients() -> Vec<(&'static str, Client)> {
    let router = auth_api::server::axum::router(support::Unreachable);
    vec![
        ("axum loopback", support::serve(router.clone()).await),
        ("axum in-process", Client::in_process(router)),
        ("actix-web loopback", support::serve_actix(support::Unreachable)),
    ]
}

#[tokio::test]
async fn malformed_json_is_400() {
    for (name, client) in clients().await {
        let resp = client.send(post("/auth/signinup/code", Some("application/json"), "{\"email\": ")).await.unwrap();
        assert_eq!(resp.status, 400, "{name}");
        let m = message(&resp);
        assert!(m.starts_with("malformed JSON in request body"), "{name}: {m}");
    }
}

#[tokio::test]
async fn missing_required_field_is_400_naming_it() {
    for (name, client) in clients().await {
        let resp = client
            .send(post("/auth/signinup/code/resend", Some("application/json"), r#"{"preAuthSessionId":"p"}"#))
            .await
            .unwrap();
        assert_eq!(resp.status, 400, "{name}");
        // The spec's `x-authgen-missing-messages` gives the reference backend's wording.
        assert_eq!(message(&resp), "Please provide a deviceId", "{name}");

        // Without such a message the generated one names the field.
        let resp = client
            .send(post("/auth/signinup/code/consume", Some("application/json"), r#"{"preAuthSessionId":5}"#))
            .await
            .unwrap();
        assert_eq!(resp.status, 400, "{name}");
        assert!(message(&resp).contains("at `preAuthSessionId`: invalid type: integer `5`"), "{name}");

        // Nested paths work too.
        let body = r#"{"thirdPartyId":"g","redirectURIInfo":{"redirectURIQueryParams":{}}}"#;
        let resp = client.send(post("/auth/signinup", Some("application/json"), body)).await.unwrap();
        assert_eq!(message(&resp), "Please provide the redirectURIOnProviderDashboard in request body", "{name}");
    }
}

#[tokio::test]
async fn null_for_an_optional_property_that_is_not_nullable_is_400_naming_it() {
    for (name, client) in clients().await {
        let body = r#"{"email":"a@example.com","shouldTryLinkingWithSessionUser":null}"#;
        let resp = client.send(post("/auth/signinup/code", Some("application/json"), body)).await.unwrap();
        assert_eq!(resp.status, 400, "{name}");
        assert_eq!(
            message(&resp),
            "invalid request body: at `shouldTryLinkingWithSessionUser`: invalid type: null, expected a boolean",
            "{name}"
        );
    }
}

#[tokio::test]
async fn wrong_type_is_400_naming_the_path() {
    for (name, client) in clients().await {
        let resp = client.send(post("/auth/signinup/code", Some("application/json"), r#"{"email": 5}"#)).await.unwrap();
        assert_eq!(resp.status, 400, "{name}");
        let m = message(&resp);
        assert!(m.contains("at `email`") && m.contains("invalid type: integer `5`, expected a string"), "{name}: {m}");

        let body = r#"{"thirdPartyId":"g","redirectURIInfo":{"redirectURIOnProviderDashboard":"x","redirectURIQueryParams":{"code":1}}}"#;
        let resp = client.send(post("/auth/signinup", Some("application/json"), body)).await.unwrap();
        assert_eq!(resp.status, 400, "{name}");
        let m = message(&resp);
        assert!(m.contains("at `redirectURIInfo.redirectURIQueryParams.code`"), "{name}: nested path named: {m}");
    }
}

#[tokio::test]
async fn oversized_body_is_413() {
    for (name, client) in clients().await {
        let ten_mb = vec![b' '; 10 * 1024 * 1024];
        let resp = client.send(post("/auth/signinup/code", Some("application/json"), ten_mb)).await.unwrap();
        assert_eq!(resp.status, 413, "{name}");
        assert_eq!(message(&resp), "request body is larger than the limit of 1048576 bytes");
    }
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    for (name, client) in clients().await {
        let resp =
            client.send(post("/auth/signinup/code", Some("text/plain"), r#"{"email":"a@example.com"}"#)).await.unwrap();
        assert_eq!(resp.status, 415, "{name}");
        assert_eq!(message(&resp), "unsupported content type `text/plain`; this operation expects `application/json`");

        let resp = client.send(post("/auth/signinup/code", None, r#"{"email":"a@example.com"}"#)).await.unwrap();
        assert_eq!(resp.status, 415, "{name}: a body without a content type");

        let resp = client.send(post("/auth/callback/apple", Some("application/json"), "{}")).await.unwrap();
        assert_eq!(resp.status, 415, "{name}: the form endpoint wants a form");
    }
}

#[tokio::test]
async fn missing_query_parameter_is_400() {
    for (name, client) in clients().await {
        let raw =
            RawRequest { method: "GET".into(), path: "/auth/passwordless/email/exists".into(), ..Default::default() };
        let resp = client.send(raw).await.unwrap();
        assert_eq!(resp.status, 400, "{name}");
        assert_eq!(message(&resp), "Please provide the email as a GET param", "{name}");
    }
}

#[tokio::test]
async fn bad_form_is_400() {
    for (name, client) in clients().await {
        let resp = client
            .send(post("/auth/callback/apple", Some("application/x-www-form-urlencoded"), "code=c"))
            .await
            .unwrap();
        assert_eq!(resp.status, 400, "{name}");
        let m = message(&resp);
        assert!(m.contains("missing field `state`"), "{name}: {m}");
    }
}

#[tokio::test]
async fn an_empty_json_body_reads_as_an_empty_object() {
    // The reference backend parses an empty body as `{}`: required fields are then reported by name.
    for (name, client) in clients().await {
        let resp = client.send(post("/auth/signinup/code/consume", Some("application/json"), "")).await.unwrap();
        assert_eq!(resp.status, 400, "{name}");
        assert_eq!(message(&resp), "Please provide preAuthSessionId", "{name}");
    }
}

#[tokio::test]
async fn the_server_keeps_serving_after_bad_requests() {
    let router = auth_api::server::axum::router(support::Unreachable);
    for client in [support::serve(router).await, support::serve_actix(support::Unreachable)] {
        keeps_serving(client).await;
    }
}

async fn keeps_serving(client: Client) {
    for _ in 0..20 {
        let resp = client.send(post("/auth/signinup/code", Some("application/json"), "[")).await.unwrap();
        assert_eq!(resp.status, 400);
    }
    // `{}` breaks the spec's "exactly one of email or phoneNumber" and is answered before the implementation.
    let resp = client.send(post("/auth/signinup/code", Some("application/json"), "{}")).await.unwrap();
    assert_eq!(resp.status, 400);
    assert_eq!(message(&resp), "Please provide exactly one of email or phoneNumber");
    // A valid body reaches the implementation.
    let resp = client
        .send(post("/auth/signinup/code", Some("application/json"), r#"{"email":"a@example.com"}"#))
        .await
        .unwrap();
    assert_eq!(resp.status, 500, "the stand-in answers every call with its 500 variant");
    assert_eq!(message(&resp), "reached the implementation");
}

#[tokio::test]
async fn an_unknown_enum_value_is_400() {
    // spec/auth.yaml has no enum in a request, so this uses the kitchen-sink spec's generated crate.
    let router = kitchen_api::server::axum::router(support::Kitchen);
    for client in [
        support::serve_kitchen(router.clone()).await,
        kitchen_api::client::Client::in_process(router),
        support::serve_kitchen_actix(),
    ] {
        let resp = client.send(kitchen_post("/pets", r#"{"name":"Rex","kind":"lizard"}"#)).await.unwrap();
        assert_eq!(resp.status, 400);
        let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
        let m = json["message"].as_str().unwrap();
        assert!(m.contains("at `kind`") && m.contains("unknown variant `lizard`"), "{m}");

        // An enum in the query is checked too.
        let raw = kitchen_api::runtime::RawRequest {
            method: "GET".into(),
            path: "/pets/1".into(),
            query: "mode=loud".into(),
            headers: vec![("x-request-id".into(), "r".into())],
            ..Default::default()
        };
        let resp = client.send(raw).await.unwrap();
        assert_eq!(resp.status, 400);
        let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
        assert_eq!(
            json["message"],
            "invalid query parameter `mode`: unknown value `loud`, expected one of [\"full\", \"brief\"]"
        );

        // A path parameter of the wrong type.
        let raw = kitchen_api::runtime::RawRequest {
            method: "GET".into(),
            path: "/pets/abc".into(),
            headers: vec![("x-request-id".into(), "r".into())],
            ..Default::default()
        };
        let resp = client.send(raw).await.unwrap();
        assert_eq!(resp.status, 400);
        let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
        assert_eq!(json["message"], "invalid path parameter `petId`: invalid digit found in string");

        // A missing required header.
        let raw =
            kitchen_api::runtime::RawRequest { method: "GET".into(), path: "/pets/1".into(), ..Default::default() };
        let resp = client.send(raw).await.unwrap();
        assert_eq!(resp.status, 400);
        let json: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
        assert_eq!(json["message"], "missing required header parameter `x-request-id`");
    }
}

fn kitchen_post(path: &str, body: &'static str) -> kitchen_api::runtime::RawRequest {
    kitchen_api::runtime::RawRequest {
        method: "POST".into(),
        path: path.into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into(),
        ..Default::default()
    }
}

async fn kitchen_clients() -> Vec<(&'static str, kitchen_api::client::Client)> {
    let router = kitchen_api::server::axum::router(support::Kitchen);
    vec![
        ("axum loopback", support::serve_kitchen(router.clone()).await),
        ("axum in-process", kitchen_api::client::Client::in_process(router)),
        ("actix-web loopback", support::serve_kitchen_actix()),
    ]
}

fn kitchen_message(resp: &kitchen_api::runtime::RawResponse) -> String {
    assert_eq!(resp.status, 400, "{}", resp.text());
    let json: serde_json::Value = serde_json::from_slice(&resp.body).expect("JSON error body");
    json["message"].as_str().expect("message").to_owned()
}

#[tokio::test]
async fn spec_rules_are_validated_in_the_adapter_naming_field_and_rule() {
    for (name, client) in kitchen_clients().await {
        // Every violation in one body is reported, each with its path and the rule it breaks.
        let body =
            r#"{"name":"rex the dog with a long name","kind":"cat","owner":{"email":"not-an-email","phones":["12"]}}"#;
        let m = kitchen_message(&client.send(kitchen_post("/pets", body)).await.unwrap());
        assert_eq!(
            m,
            "invalid request body: `name`: length must be at most 20 (maxLength), got 28; \
             `name`: must match the pattern `^[A-Z]` (pattern); \
             `owner.email`: must be an email address (format: email); \
             `owner.phones[0]`: length must be at least 3 (minLength), got 2",
            "{name}"
        );
        let m = kitchen_message(
            &client.send(kitchen_post("/pets", r#"{"name":"Rex","kind":"cat","owner":{"phones":[]}}"#)).await.unwrap(),
        );
        assert_eq!(m, "invalid request body: `owner.phones`: must have at least 1 items (minItems), got 0", "{name}");

        // Numeric bounds, inclusive and exclusive, on a nested body (PUT /pets/{id} takes a Pet).
        let pet = r#"{"name":"Rex","id":1,"kind":"cat","nickname":null,"age":101,"weight":0}"#;
        let raw = kitchen_api::runtime::RawRequest {
            method: "PUT".into(),
            path: "/pets/1".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: pet.into(),
            ..Default::default()
        };
        let m = kitchen_message(&client.send(raw).await.unwrap());
        assert_eq!(
            m,
            "invalid request body: `age`: must be at most 100 (maximum), got 101; \
             `weight`: must be greater than 0 (exclusiveMinimum), got 0",
            "{name}"
        );

        // Parameters: a header pattern and array rules in the query.
        let get = |query: &str, request_id: &str| kitchen_api::runtime::RawRequest {
            method: "GET".into(),
            path: "/pets/1".into(),
            query: query.into(),
            headers: vec![("x-request-id".into(), request_id.into())],
            ..Default::default()
        };
        let m = kitchen_message(&client.send(get("", "Bad Id")).await.unwrap());
        assert_eq!(m, "invalid header parameter: `x-request-id`: must match the pattern `^[a-z0-9-]+$` (pattern)");
        let m = kitchen_message(&client.send(get("tags=a,b,a,toolong", "r")).await.unwrap());
        assert_eq!(
            m,
            "invalid query parameter: `tags`: must have at most 3 items (maxItems), got 4; \
             `tags`: items must be unique (uniqueItems); `tags[3]`: length must be at most 5 (maxLength), got 7"
        );
        // Valid input passes the same checks.
        let ok = client.send(get("tags=a,b", "r-1")).await.unwrap();
        assert_eq!(ok.status, 200, "{name}: {}", ok.text());
    }
}

/// Every adapter answers a method the spec does not declare on a path the same way: 405, `Allow` with the
/// declared methods (and HEAD where GET is declared), and the JSON error body. HEAD is served by GET without
/// a body, and an unknown path is a 404, on both.
#[tokio::test]
async fn undeclared_methods_are_405_with_allow_on_every_adapter() {
    let request =
        |method: &str, path: &str| RawRequest { method: method.into(), path: path.into(), ..Default::default() };
    let cases = [
        ("TRACE", "/auth/signinup/code", "POST"),
        ("GET", "/auth/signinup/code", "POST"),
        ("DELETE", "/auth/signinup/code/consume", "POST"),
        ("PUT", "/auth/session/refresh", "POST"),
        ("POST", "/auth/loginmethods", "GET, HEAD"),
        ("PATCH", "/auth/jwt/jwks.json", "GET, HEAD"),
        ("OPTIONS", "/auth/passwordless/email/exists", "GET, HEAD"),
        // The same paths with a tenant segment.
        ("GET", "/auth/customer-1/signinup/code", "POST"),
        ("POST", "/auth/customer-1/loginmethods", "GET, HEAD"),
    ];
    for (name, client) in clients().await {
        for (method, path, allow) in cases {
            let resp = client.send(request(method, path)).await.unwrap();
            assert_eq!(resp.status, 405, "{name}: {method} {path}");
            assert_eq!(resp.header("allow"), Some(allow), "{name}: {method} {path}");
            assert_eq!(message(&resp), "method not allowed", "{name}: {method} {path}");
        }
        let head = client.send(request("HEAD", "/auth/loginmethods")).await.unwrap();
        let get = client.send(request("GET", "/auth/loginmethods")).await.unwrap();
        assert_eq!(head.status, get.status, "{name}: HEAD is served like GET");
        assert!(!get.body.is_empty() && head.body.is_empty(), "{name}: HEAD has no body");
        let missing = client.send(request("GET", "/auth/no-such-route")).await.unwrap();
        assert_eq!(missing.status, 404, "{name}");
        // The session routes take no tenant, and a tenant id is letters, digits and dashes.
        for path in ["/auth/customer-1/session/refresh", "/auth/customer-1/signout", "/auth/a.b/signinup/code"] {
            let missing = client.send(request("POST", path)).await.unwrap();
            assert_eq!(missing.status, 404, "{name}: {path}");
        }
        let tenant = client.send(request("GET", "/auth/customer-1/loginmethods")).await.unwrap();
        assert_eq!(tenant.status, 500, "{name}: a tenant's route reaches the implementation");
    }
}
