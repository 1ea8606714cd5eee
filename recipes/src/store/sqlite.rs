//! The SQLite store: one database file in WAL mode, migrated on open with the migrations embedded from
//! `migrations/sqlite/`. The store's methods are [`SqlStore`]'s; transactions that read before they write
//! start with `BEGIN IMMEDIATE`, so concurrent requests serialise instead of failing with `SQLITE_BUSY`.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{SqlStore, StoreError};

/// A [`Store`](super::Store) on an SQLite database file.
pub type SqliteStore = SqlStore<Sqlite>;

/// How long a connection waits for the write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

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
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self::from_pool(pool))
    }
}
