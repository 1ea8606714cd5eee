//! Where a store's writes run: the pool's connections (PostgreSQL), or one dedicated connection that writers
//! take in turn (SQLite; see [`super::sql::SqlStore`]).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::Database;
use sqlx::Pool;
use sqlx::pool::PoolConnection;
use tokio::sync::{MappedMutexGuard, Mutex};

/// Where the statements that write run.
pub(super) enum Writer<DB: Database> {
    /// Connections of the pool.
    Pool(Pool<DB>),
    /// One connection, taken in turn; `None` once the store is closed.
    Dedicated(Arc<Mutex<Option<DB::Connection>>>),
}

impl<DB: Database> Clone for Writer<DB> {
    fn clone(&self) -> Self {
        match self {
            Self::Pool(pool) => Self::Pool(pool.clone()),
            Self::Dedicated(connection) => Self::Dedicated(connection.clone()),
        }
    }
}

/// The writer's connection, for as long as one store method needs it.
pub(super) enum WriteConnection<'a, DB: Database> {
    Pooled(PoolConnection<DB>),
    Dedicated(MappedMutexGuard<'a, DB::Connection>),
}

impl<DB: Database> Deref for WriteConnection<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        match self {
            Self::Pooled(connection) => connection,
            Self::Dedicated(connection) => connection,
        }
    }
}

impl<DB: Database> DerefMut for WriteConnection<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        match self {
            Self::Pooled(connection) => connection,
            Self::Dedicated(connection) => connection,
        }
    }
}
