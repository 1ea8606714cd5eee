//! The PostgreSQL store: one database shared by any number of auth-server instances, migrated on connect with
//! the migrations embedded from `migrations/postgres/`. The store's methods are [`SqlStore`]'s, whose contracts
//! hold across processes (its documentation says how PostgreSQL's locks decide each).
//!
//! The pool re-checks a connection before handing it out, so after a database restart the broken connections
//! are replaced: requests fail with a database error (answered 500) while the server is down and succeed again
//! once it is back, without restarting the instance.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection as _, Postgres};

use super::{SqlStore, StoreError};

/// A [`Store`](super::Store) on a PostgreSQL database.
pub type PostgresStore = SqlStore<Postgres>;

/// The default number of connections per instance.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long a request waits for a free (or new) connection before failing with a database error. Short, so
/// that while the database is unreachable clients get errors quickly instead of piling up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl SqlStore<Postgres> {
    /// Connects to a `postgres://` (or `postgresql://`) URL with [`DEFAULT_MAX_CONNECTIONS`] connections and
    /// applies pending migrations. Standard libpq URL parameters apply, e.g. `?options=-c%20search_path%3Dauth`
    /// to keep the tables in the schema `auth`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(PgConnectOptions::from_str(url)?, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Connects with explicit options and pool size, and applies pending migrations.
    ///
    /// Safe when several instances start at once on one database: sqlx's migrator holds a PostgreSQL advisory
    /// lock while it checks and applies migrations, so exactly one instance applies each migration and the
    /// others wait and then find it applied.
    pub async fn connect_with(options: PgConnectOptions, max_connections: u32) -> Result<Self, StoreError> {
        // Migrations run on a connection of their own: if migrating fails, closing it releases the migrator's
        // session-level advisory lock instead of leaving it held by a pooled connection.
        let mut migration_connection = sqlx::PgConnection::connect_with(&options).await?;
        let migrated = sqlx::migrate!("./migrations/postgres").run(&mut migration_connection).await;
        let _ = migration_connection.close().await;
        migrated?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(true)
            .connect_with(options)
            .await?;
        Ok(Self::from_pool(pool))
    }
}
