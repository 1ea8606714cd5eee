//! The one PostgreSQL test harness of the workspace (included with `#[path]` by the recipes' and the server's
//! tests): a fresh schema per test in the database at 127.0.0.1:5432, dropped afterwards so tests run in
//! parallel, under a machine-wide lock that keeps the one test restarting PostgreSQL away from the others.
//!
//! Without a reachable PostgreSQL a test prints `SKIPPED` and passes, unless `CI` is set: then it fails.
//! `AUTHGEN_TEST_DATABASE_URL` overrides the database (default `postgres://postgres@127.0.0.1:5432/test`).

#![allow(dead_code, reason = "each test file uses a different part of the harness")]
#![allow(unreachable_pub, reason = "test support module shared by several test crates")]

use std::time::{Duration, Instant};

use sqlx::Connection as _;

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
pub struct TestSchema {
    /// The URL the servers get: the test database with `search_path` set to the schema.
    pub url: String,
    /// The schema.
    pub schema: String,
    admin: String,
    _lock: PgLock,
}

/// Whether a test skips: prints why and returns `None` outside CI; fails in CI.
fn skip(test: &str, why: &str) -> Option<TestSchema> {
    assert!(std::env::var_os("CI").is_none(), "{test}: {why} (CI is set, so PostgreSQL tests must run)");
    skipped!("SKIPPED {test}: {why}; start PostgreSQL on 127.0.0.1:5432 (database `test`, user postgres) to run it");
    None
}

impl TestSchema {
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

    /// A store on the schema, with a pool of its own (as another instance would have).
    pub async fn store(&self) -> authgen_recipes::store::postgres::PostgresStore {
        authgen_recipes::store::postgres::PostgresStore::connect(&self.url).await.expect("connect the store")
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

impl Drop for TestSchema {
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
