//! A fresh PostgreSQL schema per test (dropped afterwards), in the database at 127.0.0.1:5432, holding the
//! machine-wide shared lock of the PostgreSQL tests (the server's fault test restarts PostgreSQL under the
//! exclusive one). Without a reachable PostgreSQL a test prints `SKIPPED` and passes, unless `CI` is set.

#![allow(dead_code, reason = "each test file uses a different part of the harness")]
#![allow(unreachable_pub, reason = "test support module shared by several test crates")]

use std::time::Duration;

use authgen_recipes::store::postgres::PostgresStore;
use sqlx::Connection as _;

/// Prints a line on the test process's stderr itself, past libtest's output capture, so that a skipped test
/// says so even in a plain `cargo test` run.
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

fn admin_url() -> String {
    std::env::var("AUTHGEN_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The shared side of the lock `server/tests/support/pg.rs` describes.
struct SharedLock(std::fs::File);

impl SharedLock {
    fn take() -> Self {
        let path = std::env::temp_dir().join("authgen-postgres-tests.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .expect("open the lock file");
        let deadline = std::time::Instant::now() + Duration::from_secs(600);
        loop {
            // SAFETY: flock on a descriptor this struct owns; no memory is passed.
            if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_SH | libc::LOCK_NB) } == 0 {
                return Self(file);
            }
            let error = std::io::Error::last_os_error();
            let busy = matches!(error.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted);
            assert!(busy, "flock {}: {error}", path.display());
            assert!(std::time::Instant::now() < deadline, "{} stayed locked for 10 minutes", path.display());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A schema of its own, dropped with everything in it when this is dropped.
pub struct TestSchema {
    /// The URL with `search_path` set to the schema.
    pub url: String,
    schema: String,
    admin: String,
    _lock: SharedLock,
}

impl TestSchema {
    /// A fresh schema, or `None` (after printing `SKIPPED`) when PostgreSQL is unreachable outside CI.
    pub async fn create(test: &str) -> Option<Self> {
        let lock = tokio::task::spawn_blocking(SharedLock::take).await.expect("lock task");
        let admin = admin_url();
        let connection = tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(&admin)).await;
        let mut connection = match connection {
            Ok(Ok(connection)) => connection,
            other => {
                let why = match other {
                    Ok(Err(e)) => e.to_string(),
                    _ => "connecting timed out".to_owned(),
                };
                assert!(std::env::var_os("CI").is_none(), "{test}: no PostgreSQL at {admin}: {why} (CI is set)");
                skipped!("SKIPPED {test}: no PostgreSQL at {admin}: {why}");
                return None;
            }
        };
        let schema = format!("authgen_recipes_{:x}", {
            use std::hash::{BuildHasher as _, Hasher as _};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u32(std::process::id());
            h.finish()
        });
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut connection).await.expect("create schema");
        let _ = connection.close().await;
        let url = format!("{admin}?options=-c%20search_path%3D{schema}");
        Some(Self { url, schema, admin, _lock: lock })
    }

    /// A store on the schema, with a pool of its own (as another instance would have).
    pub async fn store(&self) -> PostgresStore {
        PostgresStore::connect(&self.url).await.expect("connect the store")
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let (admin, schema) = (self.admin.clone(), self.schema.clone());
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
