//! The SQLite store: one database file in WAL mode, migrated on open with the migrations embedded from
//! `migrations/sqlite/`. The store's methods are [`SqlStore`]'s; transactions that read before they write
//! start with `BEGIN IMMEDIATE`, so concurrent requests serialise instead of failing with `SQLITE_BUSY`.
//!
//! Every write runs on one connection, the writer, and reads on a few read-only connections: SQLite lets one
//! connection write at a time, so writers queue for the writer connection (in order of arrival) rather than
//! for the file's lock, which SQLite's busy handler polls with sleeps of up to 100 ms. A commit is durable
//! across a crash of the process (WAL, `synchronous=NORMAL`: the commit is in the WAL file when it returns).
//! Checkpoints, which copy the WAL into the database file and sync both, run every 100 ms on a connection of
//! their own, so that no commit waits for one.

use std::path::Path;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Sqlite};

use super::{SqlStore, StoreError};
use crate::schedule::Periodic;

/// A [`Store`](super::Store) on an SQLite database file.
pub type SqliteStore = SqlStore<Sqlite>;

/// How long a connection waits for the write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Read-only connections beside the writer.
const READERS: u32 = 4;

/// How often the WAL is checkpointed (its committed pages copied into the database file), off the writer.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// The WAL size, in pages, at which the writer checkpoints by itself: a bound for when the scheduled
/// checkpoints fall behind, well above what they leave (SQLite's default is 1000).
const WRITER_CHECKPOINT_PAGES: &str = "20000";

impl SqlStore<Sqlite> {
    /// Opens (creating it if missing) the database file at `path` and applies pending migrations.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new().filename(path).create_if_missing(true);
        Self::open_with(options).await
    }

    /// Opens a database from an `sqlite://PATH` (or `sqlite:PATH`) URL, creating the file if missing.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
        Self::open_with(options).await
    }

    async fn open_with(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let options = options.foreign_keys(true).busy_timeout(BUSY_TIMEOUT);
        // The writer is opened first: it creates the file, switches it to WAL (which the file remembers, so
        // the readers need not ask) and applies the migrations. It stays open for good, so its prepared
        // statements stay cached.
        let mut writer = options
            .clone()
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)
            .connect()
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&mut writer).await?;
        // Checkpoints copy pages and sync the files: on a connection of their own, on a schedule, so that a
        // commit never waits for one. A passive checkpoint takes no lock that writers or readers wait for.
        let checkpointer = options.clone().synchronous(SqliteSynchronous::Normal).connect().await?;
        let checkpointer = Arc::new(tokio::sync::Mutex::new(checkpointer));
        let checkpoints = Periodic::start(CHECKPOINT_INTERVAL, "checkpointing the SQLite WAL", move || {
            let checkpointer = checkpointer.clone();
            async move {
                let mut connection = checkpointer.lock().await;
                sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut *connection).await.map(drop)
            }
        });
        // A local file does not go away like a network peer does: no test query before each use.
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .test_before_acquire(false)
            .connect_with(options.create_if_missing(false).read_only(true))
            .await?;
        Ok(Self::with_writer(readers, writer, checkpoints))
    }
}
