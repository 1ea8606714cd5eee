//! The SQLite store: one database file in WAL mode, migrated on open with the migrations embedded from
//! `migrations/sqlite/`. The store's methods are [`SqlStore`]'s; transactions that read before they write
//! start with `BEGIN IMMEDIATE`, so concurrent requests serialise instead of failing with `SQLITE_BUSY`.
//!
//! Every write runs on one connection, the writer, and reads on a few read-only connections: SQLite lets one
//! connection write at a time, so writers queue for the writer connection (in order of arrival) rather than
//! for the file's lock, which SQLite's busy handler polls with sleeps of up to 100 ms. A commit is durable
//! across a crash of the process (WAL, `synchronous=NORMAL`: the commit is in the WAL file when it returns).

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Sqlite};

use super::{SqlStore, StoreError};

/// A [`Store`](super::Store) on an SQLite database file.
pub type SqliteStore = SqlStore<Sqlite>;

/// How long a connection waits for the write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Read-only connections beside the writer.
const READERS: u32 = 4;

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
            .connect()
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&mut writer).await?;
        // A local file does not go away like a network peer does: no test query before each use.
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .test_before_acquire(false)
            .connect_with(options.create_if_missing(false).read_only(true))
            .await?;
        Ok(Self::with_writer(readers, writer))
    }
}
