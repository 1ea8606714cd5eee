//! Shared test harness: the real server on a loopback port with a temporary SQLite file and a delivery
//! that captures every code, plus helpers around the generated client.

#![allow(dead_code, reason = "each test file uses a different part of the harness")]
#![allow(unreachable_pub, reason = "test support module shared by several test crates")]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use auth_api::client::Client;
use auth_api::ops::{consume_code, create_code};
use auth_api::runtime::{RawRequest, RawResponse};
use auth_api::types::{ConsumeCodeRequest, CreateCodeOk, CreateCodeRequest, CreateCodeResponse};
use authgen_recipes::Config;
use authgen_recipes::delivery::{CodeMessage, Delivery, DeliveryFuture, EmailVerificationMessage};
use authgen_recipes::store::sqlite::SqliteStore;
use base64::Engine as _;

/// The website domain every test server is configured with.
pub const WEBSITE: &str = "http://localhost:3000";

/// A delivery that keeps every message.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    messages: Arc<Mutex<Vec<CodeMessage>>>,
    verifications: Arc<Mutex<Vec<EmailVerificationMessage>>>,
}

impl Capture {
    /// Every message so far.
    pub fn all(&self) -> Vec<CodeMessage> {
        self.messages.lock().expect("capture lock").clone()
    }

    /// The newest message.
    pub fn last(&self) -> CodeMessage {
        self.all().pop().expect("a code was delivered")
    }

    /// Every email verification link message so far.
    pub fn verifications(&self) -> Vec<EmailVerificationMessage> {
        self.verifications.lock().expect("capture lock").clone()
    }

    /// The newest 6-digit code.
    pub fn last_code(&self) -> String {
        self.last().user_input_code.expect("the flow sends a code")
    }
}

impl Delivery for Capture {
    fn deliver<'a>(&'a self, message: &'a CodeMessage) -> DeliveryFuture<'a> {
        self.messages.lock().expect("capture lock").push(message.clone());
        Box::pin(async { Ok(()) })
    }

    fn deliver_email_verification<'a>(&'a self, message: &'a EmailVerificationMessage) -> DeliveryFuture<'a> {
        self.verifications.lock().expect("capture lock").push(message.clone());
        Box::pin(async { Ok(()) })
    }
}

/// A running server.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The API domain the server is configured with (`http://localhost:PORT` unless changed).
    pub api_domain: String,
    /// Every code the server sent.
    pub capture: Capture,
    /// The SQLite file.
    pub db_path: PathBuf,
    running: Option<Running>,
    dir: Option<tempfile::TempDir>,
}

/// Starts a server in a new temporary directory; `adjust` changes the configuration.
pub async fn start(adjust: impl FnOnce(Config) -> Config) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("auth.db");
    let mut server = start_at(&db_path, adjust).await;
    server.dir = Some(dir);
    server
}

tokio::task_local! {
    /// The framework [`start`] serves with; set by [`on_both_frameworks!`].
    pub static FRAMEWORK: auth_server::Framework;
}

/// Declares a test that runs twice, once per framework: `mod <name> { fn axum(); fn actix_web(); }`. The
/// body is the same; only the framework [`start`] serves with differs, so both must pass the same assertions.
macro_rules! on_both_frameworks {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports, reason = "the body sees what the test file imports")]
            use super::*;

            $(#[$meta])*
            #[tokio::test]
            async fn axum() {
                support::FRAMEWORK.scope(auth_server::Framework::Axum, async $body).await
            }

            $(#[$meta])*
            #[tokio::test]
            async fn actix_web() {
                support::FRAMEWORK.scope(auth_server::Framework::ActixWeb, async $body).await
            }
        }
    };
}

/// The framework of the running test (axum outside [`on_both_frameworks!`]).
pub fn framework() -> auth_server::Framework {
    FRAMEWORK.try_with(|f| *f).unwrap_or_default()
}

enum Running {
    Axum { shutdown: tokio::sync::oneshot::Sender<()>, task: tokio::task::JoinHandle<()> },
    Actix { handle: actix_web::dev::ServerHandle, thread: std::thread::JoinHandle<()> },
}

/// Starts a server on the database file `db_path`, with the framework of the running test.
pub async fn start_at(db_path: &Path, adjust: impl FnOnce(Config) -> Config) -> TestServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr: SocketAddr = listener.local_addr().expect("local addr");
    let api_domain = format!("http://localhost:{}", addr.port());
    let config = adjust(Config::new(WEBSITE, &api_domain).expect("valid domains"));
    let api_domain = config.api_domain.clone();
    let capture = Capture::default();
    let running = match framework() {
        auth_server::Framework::Axum => {
            listener.set_nonblocking(true).expect("non-blocking listener");
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            let store = SqliteStore::open(db_path).await.expect("open store");
            let app = auth_server::app_with(config, store, Arc::new(capture.clone())).await.expect("app");
            let (shutdown, rx) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(async move {
                let stop = async {
                    let _ = rx.await;
                };
                auth_server::serve(listener, app, stop).await.expect("serve");
            });
            Running::Axum { shutdown, task }
        }
        auth_server::Framework::ActixWeb => {
            // actix-web runs in a system of its own, as the binary does; the store is opened inside it.
            let (tx, rx) = std::sync::mpsc::channel();
            let db = db_path.to_owned();
            let delivery: Arc<dyn Delivery> = Arc::new(capture.clone());
            let thread = std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let store = SqliteStore::open(&db).await.expect("open store");
                    let server =
                        auth_server::actix_server_with(config, store, delivery, listener).await.expect("actix server");
                    tx.send(server.handle()).expect("handle");
                    server.await.expect("actix serve");
                });
            });
            let handle = rx.recv().expect("actix server started");
            Running::Actix { handle, thread }
        }
    };
    TestServer {
        base_url: format!("http://{addr}"),
        api_domain,
        capture,
        db_path: db_path.to_owned(),
        running: Some(running),
        dir: None,
    }
}

impl TestServer {
    /// A new client with an empty cookie jar.
    pub fn client(&self) -> Client {
        Client::new(&self.base_url).expect("client")
    }

    /// Stops the server gracefully and returns its temporary directory (kept alive for a restart).
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        match self.running.take() {
            Some(Running::Axum { shutdown, task }) => {
                let _ = shutdown.send(());
                task.await.expect("server task");
            }
            Some(Running::Actix { handle, thread }) => {
                handle.stop(true).await;
                tokio::task::spawn_blocking(move || thread.join()).await.expect("join").expect("actix thread");
            }
            None => {}
        }
        self.dir.take()
    }
}

/// createCode for an email; panics unless the answer is OK.
pub async fn create_code_for_email(client: &Client, email: &str) -> CreateCodeOk {
    create_code(client, Some(email), None).await
}

/// createCode; panics unless the answer is OK.
pub async fn create_code(client: &Client, email: Option<&str>, phone_number: Option<&str>) -> CreateCodeOk {
    let request = create_code::Request::new(CreateCodeRequest {
        email: email.map(str::to_owned),
        phone_number: phone_number.map(str::to_owned),
        should_try_linking_with_session_user: None,
    });
    match client.create_code(request).await.expect("createCode call") {
        create_code::Response::Ok(CreateCodeResponse::Ok(ok)) => ok,
        other => panic!("createCode did not succeed: {other:?}"),
    }
}

/// A consume request with a user input code, in `mode` (`None`: no st-auth-mode header).
pub fn consume_with_code(created: &CreateCodeOk, code: &str, mode: Option<&str>) -> consume_code::Request {
    let mut request = consume_code::Request::new(ConsumeCodeRequest {
        pre_auth_session_id: created.pre_auth_session_id.clone(),
        link_code: None,
        device_id: Some(created.device_id.clone()),
        user_input_code: Some(code.to_owned()),
        should_try_linking_with_session_user: None,
    });
    request.st_auth_mode = mode.map(str::to_owned);
    request
}

/// A code that is not `code`.
pub fn wrong_code(code: &str) -> String {
    if code == "000000" { "111111".to_owned() } else { "000000".to_owned() }
}

/// Decodes a front-token header.
pub fn decode_front_token(value: &str) -> serde_json::Value {
    let bytes = base64::engine::general_purpose::STANDARD.decode(value).expect("front-token is standard base64");
    serde_json::from_slice(&bytes).expect("front-token is JSON")
}

/// The JSON payload of a JWT, without checking it.
pub fn jwt_payload(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("three-part JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON payload")
}

/// A hand-made request.
pub fn raw(method: &str, path: &str, headers: &[(&str, &str)]) -> RawRequest {
    RawRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        headers: headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        ..RawRequest::default()
    }
}

/// Asserts that response headers clear every token in both transfer modes: empty `st-access-token` and
/// `st-refresh-token`, `front-token: remove`, and both cookies expired (`SameSite=Lax`, the test servers').
pub fn assert_tokens_cleared_everywhere(
    st_access_token: Option<&str>,
    st_refresh_token: Option<&str>,
    front_token: Option<&str>,
    set_cookie: &[String],
) {
    const EPOCH: &str = "Expires=Thu, 01 Jan 1970 00:00:00 GMT";
    assert_eq!((st_access_token, st_refresh_token, front_token), (Some(""), Some(""), Some("remove")));
    assert_eq!(
        set_cookie,
        [
            format!("sAccessToken=; Path=/; {EPOCH}; HttpOnly; SameSite=Lax"),
            format!("sRefreshToken=; Path=/auth/session/refresh; {EPOCH}; HttpOnly; SameSite=Lax"),
        ]
    );
}

/// A refresh request carrying `token` as a bearer token.
pub fn refresh_with_bearer(token: &str) -> auth_api::ops::refresh_session::Request {
    let mut request = auth_api::ops::refresh_session::Request::new();
    request.refresh_token_bearer = Some(token.to_owned());
    request
}

/// A sign-out request carrying `token` as a bearer token.
pub fn sign_out_with_bearer(token: &str) -> auth_api::ops::sign_out::Request {
    let mut request = auth_api::ops::sign_out::Request::new();
    request.access_token_bearer = Some(token.to_owned());
    request
}

/// GET /sessioninfo with optional extra headers.
pub async fn session_info(client: &Client, headers: &[(&str, &str)]) -> RawResponse {
    client.send(raw("GET", "/sessioninfo", headers)).await.expect("sessioninfo call")
}

/// The JSON body of a raw response.
pub fn json_body(response: &RawResponse) -> serde_json::Value {
    serde_json::from_slice(&response.body).unwrap_or_else(|e| panic!("JSON body ({e}): {}", response.text()))
}

/// Signs `email` in through createCode + consume in `mode`; panics unless both succeed.
pub async fn sign_in(
    server: &TestServer,
    client: &Client,
    email: &str,
    mode: Option<&str>,
) -> (auth_api::types::ConsumeCodeOk, consume_code::OkHeaders) {
    let created = create_code_for_email(client, email).await;
    let code = server.capture.last_code();
    match client.consume_code(consume_with_code(&created, &code, mode)).await.expect("consume call") {
        consume_code::Response::Ok { body: auth_api::types::ConsumeCodeResponse::Ok(ok), headers } => (ok, headers),
        other => panic!("consume did not succeed: {other:?}"),
    }
}
