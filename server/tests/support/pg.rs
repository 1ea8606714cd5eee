//! Harness of the PostgreSQL tests: a fresh schema per test in the database at 127.0.0.1:5432 (dropped
//! afterwards, so tests run in parallel), real `auth-server` processes on that schema whose log lines give
//! the codes, and a cross-process lock that keeps the one test restarting PostgreSQL away from the others.
//!
//! Without a reachable PostgreSQL the tests print `SKIPPED` and pass, unless `CI` is set: then they fail.
//! `AUTHGEN_TEST_DATABASE_URL` overrides the database (default `postgres://postgres@127.0.0.1:5432/test`).

#![allow(dead_code, reason = "each test file uses a different part of the harness")]
#![allow(unreachable_pub, reason = "test support module shared by several test crates")]

use std::collections::BTreeMap;
use std::future::Future;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_api::client::Client;
use auth_api::ops::{consume_code, create_code, refresh_session};
use auth_api::types::{ConsumeCodeOk, ConsumeCodeRequest, ConsumeCodeResponse, CreateCodeOk, CreateCodeRequest};

/// The server binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_auth-server");

/// The longest any single HTTP call of a test may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections per instance: small, so that parallel tests stay well below PostgreSQL's 100.
pub const POOL_SIZE: u32 = 6;

#[path = "../../../recipes/tests/support/pg_schema.rs"]
mod schema;

#[allow(unused_imports, reason = "only some test files skip or lock on their own")]
pub(crate) use schema::skipped;
#[allow(unused_imports, reason = "only some test files skip or lock on their own")]
pub use schema::{PgLock, TestSchema as TestDb};

/// The environment variables of every rate limit, set to `0` (off) for the instances of these tests.
const RATE_LIMITS_OFF: [&str; 5] = [
    "AUTH_RATE_LIMIT_CODES_PER_CONTACT",
    "AUTH_RATE_LIMIT_CODES_PER_CLIENT",
    "AUTH_RATE_LIMIT_CONSUME_PER_CLIENT",
    "AUTH_RATE_LIMIT_SIGNINUP_PER_CLIENT",
    "AUTH_RATE_LIMIT_AUTHORISATION_URL_PER_CLIENT",
];

/// What an instance's log told: every line, and the codes it sent.
#[derive(Default)]
struct Log {
    lines: Vec<String>,
    /// The newest code per preAuthSessionId.
    codes: BTreeMap<String, String>,
    /// The newest code per email.
    by_email: BTreeMap<String, String>,
}

impl Log {
    fn add(&mut self, line: String) {
        // `passwordless code for EMAIL: code=CODE link=…?preAuthSessionId=ID&tenantId=…`
        if let Some(rest) = line.split("passwordless code for ").nth(1) {
            let email = rest.split(": code=").next().unwrap_or_default().to_owned();
            let code = rest.split("code=").nth(1).and_then(|r| r.split_whitespace().next()).map(str::to_owned);
            let pre = rest.split("preAuthSessionId=").nth(1).and_then(|r| r.split('&').next()).map(str::to_owned);
            if let Some(code) = code {
                if let Some(pre) = pre {
                    self.codes.insert(pre, code.clone());
                }
                self.by_email.insert(email, code);
            }
        }
        // Keep the log bounded under load: codes are indexed above.
        if self.lines.len() < 20_000 {
            self.lines.push(line);
        }
    }
}

/// The codes an instance logged.
#[derive(Clone)]
pub struct CodeLog(Arc<Mutex<Log>>);

impl CodeLog {
    /// The code sent for a preAuthSessionId, waiting up to ten seconds for the log line.
    pub async fn code(&self, pre_auth_session_id: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(code) = self.0.lock().expect("log").codes.get(pre_auth_session_id) {
                return code.clone();
            }
            assert!(Instant::now() < deadline, "no code logged for {pre_auth_session_id}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A running `auth-server` process on a test schema, killed when dropped.
pub struct Instance {
    child: Child,
    log: Arc<Mutex<Log>>,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// A client with an empty cookie jar.
    pub client: Client,
}

impl Instance {
    /// Starts an instance on `db` and waits until it listens.
    pub fn start(db: &TestDb, extra: &[&str]) -> Self {
        Self::start_url(&db.url, extra)
    }

    /// Starts an instance on a database URL and waits until it listens.
    pub fn start_url(url: &str, extra: &[&str]) -> Self {
        let pool = POOL_SIZE.to_string();
        let mut args = vec!["--listen", "127.0.0.1:0", "--database", url, "--database-max-connections", &pool];
        args.extend_from_slice(extra);
        let mut child = Command::new(BIN)
            .args(&args)
            .env("RUST_LOG", "info")
            .env_remove("AUTH_LISTEN")
            .env_remove("AUTH_DATABASE")
            .env_remove("AUTH_REDIS")
            // These tests drive many flows from one address; the rate limits have tests of their own, which
            // turn them on with flags (a flag overrides its environment variable).
            .envs(RATE_LIMITS_OFF.iter().map(|name| (name, "0")))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn auth-server");
        let log = Arc::new(Mutex::new(Log::default()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("log").add(line);
            }
        });
        let mut instance =
            Self { child, log, base_url: String::new(), client: Client::new("http://127.0.0.1:1").expect("client") };
        let line = instance.wait_for_line("listening on http://", Duration::from_secs(60));
        let address = line.split("listening on http://").nth(1).and_then(|rest| rest.split_whitespace().next());
        instance.base_url = format!("http://{}", address.expect("address in the log line"));
        instance.client = Client::new(&instance.base_url).expect("client");
        instance
    }

    /// [`Instance::start`] off the async runtime, so that tasks of the test keep running meanwhile.
    pub async fn spawn(db: &TestDb, extra: &[&str]) -> Self {
        let url = db.url.clone();
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
            Self::start_url(&url, &extra)
        })
        .await
        .expect("start task")
    }

    /// The first stderr line containing `needle`, waiting up to `timeout`.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(line) = self.log.lock().expect("log").lines.iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("auth-server exited with {status}: {:?}", self.log.lock().expect("log").lines);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no stderr line containing {needle:?}; got {:?}", self.log.lock().expect("log").lines);
    }

    /// Every stderr line so far.
    pub fn lines(&self) -> Vec<String> {
        self.log.lock().expect("log").lines.clone()
    }

    /// The code this instance sent for a preAuthSessionId, waiting up to ten seconds for the log line.
    pub async fn code(&self, pre_auth_session_id: &str) -> String {
        self.code_log().code(pre_auth_session_id).await
    }

    /// The codes of this instance's log, readable after it died.
    pub fn code_log(&self) -> CodeLog {
        CodeLog(self.log.clone())
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `kill -9`: no graceful shutdown, no chance to finish anything.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `future`, or a panic naming `what` when it takes longer than [`CALL_TIMEOUT`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(CALL_TIMEOUT, future).await.unwrap_or_else(|_| panic!("{what} timed out"))
}

/// createCode for an email; panics unless the answer is OK.
pub async fn create_code(client: &Client, email: &str) -> CreateCodeOk {
    let request = create_code::Request::new(CreateCodeRequest {
        email: Some(email.to_owned()),
        phone_number: None,
        should_try_linking_with_session_user: None,
    });
    match within("createCode", client.create_code(request)).await.expect("createCode call") {
        create_code::Response::Ok(auth_api::types::CreateCodeResponse::Ok(ok)) => ok,
        other => panic!("createCode did not succeed: {other:?}"),
    }
}

/// A consume request with a user input code (header mode).
pub fn consume_request(created: &CreateCodeOk, code: &str) -> consume_code::Request {
    consume_code::Request::new(ConsumeCodeRequest {
        pre_auth_session_id: created.pre_auth_session_id.clone(),
        link_code: None,
        device_id: Some(created.device_id.clone()),
        user_input_code: Some(code.to_owned()),
        should_try_linking_with_session_user: None,
    })
}

/// A signed-in user: the consume body and the header-mode tokens.
pub struct SignedIn {
    /// The consume body.
    pub ok: ConsumeCodeOk,
    /// `st-access-token`.
    pub access: String,
    /// `st-refresh-token`.
    pub refresh: String,
}

/// Consumes; panics unless the answer is OK with header-mode tokens.
pub async fn consume_ok(client: &Client, created: &CreateCodeOk, code: &str) -> SignedIn {
    match within("consume", client.consume_code(consume_request(created, code))).await.expect("consume call") {
        consume_code::Response::Ok { body: ConsumeCodeResponse::Ok(ok), headers } => SignedIn {
            ok,
            access: headers.st_access_token.expect("st-access-token"),
            refresh: headers.st_refresh_token.expect("st-refresh-token"),
        },
        other => panic!("consume did not succeed: {other:?}"),
    }
}

/// createCode on `on`, consume on `then`: a full sign-in spread over two instances.
pub async fn sign_in(on: &Instance, then: &Instance, email: &str) -> SignedIn {
    let created = create_code(&on.client, email).await;
    let code = on.code(&created.pre_auth_session_id).await;
    consume_ok(&then.client, &created, &code).await
}

/// A refresh request carrying `refresh` as a bearer token.
pub fn refresh_request(refresh: &str) -> refresh_session::Request {
    let mut request = refresh_session::Request::new();
    request.refresh_token_bearer = Some(refresh.to_owned());
    request
}
