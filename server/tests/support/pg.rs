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
use sqlx::Connection as _;

/// The server binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_auth-server");

/// The longest any single HTTP call of a test may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Connections per instance: small, so that parallel tests stay well below PostgreSQL's 100.
pub const POOL_SIZE: u32 = 6;

/// Prints a line on the test process's stderr itself, past libtest's output capture, so that a skipped test
/// says so even in a plain `cargo test` run.
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
#[allow(unused_imports, reason = "only some test files skip on their own")]
pub(crate) use skipped;

fn admin_url() -> String {
    std::env::var("AUTHGEN_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A lock shared by every PostgreSQL test on this machine (any process, any test binary): held shared by
/// ordinary tests and exclusively by the test that restarts PostgreSQL. `flock` on a file in the temp
/// directory, released when the holder exits, even by a crash.
pub struct PgLock {
    file: std::fs::File,
}

impl PgLock {
    fn take(exclusive: bool) -> Self {
        let path = std::env::temp_dir().join("authgen-postgres-tests.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .expect("open the lock file");
        let operation = if exclusive { libc::LOCK_EX } else { libc::LOCK_SH };
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            // SAFETY: flock on a descriptor this struct owns; no memory is passed.
            let result = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), operation | libc::LOCK_NB) };
            if result == 0 {
                return Self { file };
            }
            let error = std::io::Error::last_os_error();
            let busy = matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted);
            assert!(busy, "flock {}: {error}", path.display());
            assert!(Instant::now() < deadline, "{} stayed locked for 10 minutes", path.display());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Shared: any number of ordinary tests at once.
    pub async fn shared() -> Self {
        tokio::task::spawn_blocking(|| Self::take(false)).await.expect("lock task")
    }

    /// Exclusive: no other PostgreSQL test runs meanwhile.
    pub async fn exclusive() -> Self {
        tokio::task::spawn_blocking(|| Self::take(true)).await.expect("lock task")
    }
}

impl Drop for PgLock {
    fn drop(&mut self) {
        // SAFETY: as above; closing the file would release the lock as well.
        unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&self.file), libc::LOCK_UN) };
    }
}

fn random_suffix() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    hasher
        .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    format!("{:016x}", hasher.finish())
}

/// A schema of its own in the test database, dropped (with everything in it) when this is dropped.
pub struct TestDb {
    /// The URL the servers get: the test database with `search_path` set to the schema.
    pub url: String,
    /// The schema.
    pub schema: String,
    admin: String,
    _lock: PgLock,
}

/// Whether a test skips: prints why and returns `None` outside CI; fails in CI.
fn skip(test: &str, why: &str) -> Option<TestDb> {
    assert!(std::env::var_os("CI").is_none(), "{test}: {why} (CI is set, so PostgreSQL tests must run)");
    skipped!("SKIPPED {test}: {why}; start PostgreSQL on 127.0.0.1:5432 (database `test`, user postgres) to run it");
    None
}

impl TestDb {
    /// A fresh schema, or `None` (after printing `SKIPPED`) when PostgreSQL is unreachable outside CI.
    pub async fn create(test: &str) -> Option<Self> {
        Self::create_with(test, PgLock::shared().await).await
    }

    /// A fresh schema while holding `lock`.
    pub async fn create_with(test: &str, lock: PgLock) -> Option<Self> {
        let admin = admin_url();
        let connected = tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(&admin)).await;
        let mut connection = match connected {
            Ok(Ok(connection)) => connection,
            Ok(Err(e)) => return skip(test, &format!("no PostgreSQL at {admin}: {e}")),
            Err(_) => return skip(test, &format!("no PostgreSQL at {admin}: connecting timed out")),
        };
        let schema = format!("authgen_{}", random_suffix());
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut connection).await.expect("create schema");
        let _ = connection.close().await;
        let separator = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{separator}options=-c%20search_path%3D{schema}");
        Some(Self { url, schema, admin, _lock: lock })
    }

    /// A new connection to the schema.
    pub async fn connect(&self) -> sqlx::PgConnection {
        sqlx::PgConnection::connect(&self.url).await.expect("connect to the test schema")
    }

    /// `SELECT COUNT(*)` of a query on the schema.
    pub async fn count(&self, sql: &str, bind: &str) -> i64 {
        let mut connection = self.connect().await;
        let count = sqlx::query_scalar(sql).bind(bind).fetch_one(&mut connection).await.expect("count");
        let _ = connection.close().await;
        count
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, schema) = (self.admin.clone(), self.schema.clone());
        // Drop may run inside the test's runtime (or while unwinding from a panic): use a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                for _ in 0..20 {
                    if let Ok(mut connection) = sqlx::PgConnection::connect(&admin).await {
                        let dropped = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                            .execute(&mut connection)
                            .await;
                        let _ = connection.close().await;
                        if dropped.is_ok() {
                            return;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                eprintln!("could not drop the test schema {schema}");
            });
        });
        let _ = cleanup.join();
    }
}

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
