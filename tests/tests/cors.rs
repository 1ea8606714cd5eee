//! The CORS policy derived from spec/auth.yaml, applied through the generated `axum_layer`: the website origin
//! gets credentialed access with exactly the spec's headers; any other origin gets nothing; a wildcard with
//! credentials is refused at configuration time.

use auth_api::cors::{ALLOWED_HEADERS, ALLOWED_METHODS, CorsConfig, CorsError, EXPOSED_HEADERS};
use auth_api::runtime::RawRequest;

mod support;

const SITE: &str = "http://localhost:3000";

/// The same policy on both frameworks: tower-http's layer for axum, actix-cors for actix-web.
fn clients() -> Vec<(&'static str, auth_api::client::Client)> {
    let layer = CorsConfig::new([SITE]).axum_layer().expect("valid config");
    let axum = auth_api::client::Client::in_process(auth_api::server::axum::router(support::Unreachable).layer(layer));
    let api = std::sync::Arc::new(support::Unreachable);
    let addr = support::spawn_actix_with_cors(auth_api::server::actix::configure(api), CorsConfig::new([SITE]));
    let actix = auth_api::client::Client::new(&format!("http://{addr}")).expect("client");
    vec![("axum", axum), ("actix-web", actix)]
}

fn preflight(origin: &str, method: &str, headers: &str) -> RawRequest {
    RawRequest {
        method: "OPTIONS".into(),
        path: "/auth/signinup/code".into(),
        headers: vec![
            ("origin".into(), origin.into()),
            ("access-control-request-method".into(), method.into()),
            ("access-control-request-headers".into(), headers.into()),
        ],
        ..Default::default()
    }
}

fn list(value: Option<&str>) -> Vec<String> {
    let mut v: Vec<String> = value.unwrap_or_default().split(',').map(|s| s.trim().to_ascii_lowercase()).collect();
    v.retain(|s| !s.is_empty());
    v.sort();
    v
}

#[test]
fn the_policy_is_derived_from_the_spec() {
    // content-type plus supertokens-node's getAllCORSHeaders() with the session recipe.
    let mut expected = vec!["content-type", "rid", "fdi-version", "anti-csrf", "authorization", "st-auth-mode"];
    expected.sort();
    assert_eq!(ALLOWED_HEADERS, expected.as_slice());
    // retry-after: the 429 answers of the rate limits carry it, and a browser script may only read it when exposed.
    assert_eq!(
        EXPOSED_HEADERS,
        ["anti-csrf", "front-token", "location", "retry-after", "st-access-token", "st-refresh-token"]
    );
    assert_eq!(ALLOWED_METHODS, ["GET", "POST"]);
}

#[tokio::test]
async fn the_website_origin_gets_a_credentialed_preflight_with_exactly_the_spec_headers() {
    for (name, client) in clients() {
        let resp = client.send(preflight(SITE, "POST", "content-type,rid,fdi-version,st-auth-mode")).await.unwrap();
        assert!(resp.status == 200 || resp.status == 204, "{name}: {}", resp.status);
        assert_eq!(resp.header("access-control-allow-origin"), Some(SITE), "{name}: the origin is echoed, not `*`");
        assert_eq!(resp.header("access-control-allow-credentials"), Some("true"), "{name}");
        assert_eq!(list(resp.header("access-control-allow-headers")), ALLOWED_HEADERS, "{name}");
        assert_eq!(list(resp.header("access-control-allow-methods")), ["get", "post"], "{name}");
        assert!(list(resp.header("vary")).iter().any(|v| v == "origin"), "{name}: caches must key on the origin");
    }
}

#[tokio::test]
async fn another_origin_gets_no_cors_headers() {
    for (name, c) in clients() {
        let resp = c.send(preflight("http://evil.example", "POST", "content-type")).await.unwrap();
        assert_eq!(resp.header("access-control-allow-origin"), None, "{name}");
        other_origin_simple_request(name, &c).await;
    }
}

async fn other_origin_simple_request(name: &str, c: &auth_api::client::Client) {
    // A simple request from another origin reaches the server but the browser gets no permission to read it.
    let raw = RawRequest {
        method: "GET".into(),
        path: "/auth/loginmethods".into(),
        headers: vec![("origin".into(), "http://evil.example".into())],
        ..Default::default()
    };
    let resp = c.send(raw).await.unwrap();
    assert_eq!(resp.header("access-control-allow-origin"), None, "{name}");
}

#[tokio::test]
async fn actual_responses_expose_the_session_headers() {
    let raw = RawRequest {
        method: "GET".into(),
        path: "/auth/loginmethods".into(),
        headers: vec![("origin".into(), SITE.into())],
        ..Default::default()
    };
    for (name, client) in clients() {
        let resp = client.send(raw.clone()).await.unwrap();
        assert_eq!(resp.header("access-control-allow-origin"), Some(SITE), "{name}");
        assert_eq!(resp.header("access-control-allow-credentials"), Some("true"), "{name}");
        assert_eq!(list(resp.header("access-control-expose-headers")), EXPOSED_HEADERS, "{name}");
    }
}

#[test]
fn a_wildcard_with_credentials_is_refused() {
    let err = CorsConfig::new(["*"]).axum_layer().unwrap_err();
    assert_eq!(err, CorsError::WildcardWithCredentials);
    assert!(err.to_string().contains("cannot be combined with credentials"));
    assert_eq!(CorsConfig::new(["*"]).actix_cors().err(), Some(CorsError::WildcardWithCredentials));
    assert!(CorsConfig::new(["*"]).with_credentials(false).axum_layer().is_ok(), "a wildcard without credentials");
    assert!(CorsConfig::new(["*"]).with_credentials(false).actix_cors().is_ok());
    assert_eq!(CorsConfig::new(Vec::<String>::new()).validate(), Err(CorsError::NoOrigins));
    for bad in ["localhost:3000", "http://localhost:3000/", "http://a.example/path", "http://*.example"] {
        assert_eq!(CorsConfig::new([bad]).validate(), Err(CorsError::InvalidOrigin(bad.into())), "{bad}");
    }
    assert!(CorsConfig::new(["https://app.example.com", "http://localhost:3000"]).validate().is_ok());
}

#[test]
fn the_nginx_snippet_carries_the_same_policy() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let conf = std::fs::read_to_string(root.join("generated/cors/nginx.conf")).unwrap();
    assert!(conf.contains(&format!("Access-Control-Allow-Headers \"{}\"", ALLOWED_HEADERS.join(", "))));
    assert!(conf.contains(&format!("Access-Control-Expose-Headers \"{}\"", EXPOSED_HEADERS.join(", "))));
    assert!(conf.contains("Access-Control-Allow-Methods \"GET, POST, OPTIONS\""));
    assert!(conf.contains("location /auth/ {"));
    assert!(!conf.contains("Access-Control-Allow-Origin *"), "never a wildcard with credentials");
}
