//! Everything in which SQLite and PostgreSQL differ for the one store implementation ([`super::sql`]): how a
//! transaction that reads before it writes starts, and the four explicit locks that PostgreSQL needs where
//! SQLite's database-wide write lock already serialises.
//!
//! The rest is common and needs no dialect: the SQL text (written with `$N` parameters, which sqlx's SQLite
//! driver binds by number like PostgreSQL does), `RETURNING` and `ON CONFLICT` (SQLite 3.35 and later), the
//! column types (`BIGINT`/`INTEGER` read as `i64` on both, `failed_attempts` as `i32`, `BOOLEAN` as `bool`,
//! `BYTEA`/`BLOB` as bytes), unique and foreign key violations (sqlx reports them alike for both), and waiting
//! for locks (SQLite's busy timeout, set when the pool is opened in [`super::sqlite`]; PostgreSQL's row and
//! advisory locks wait by themselves, and read committed never fails with serialization errors).

use std::future::Future;

use sqlx::postgres::PgQueryResult;
use sqlx::sqlite::SqliteQueryResult;
use sqlx::{Connection as _, Database, Postgres, Sqlite, Transaction};

use super::rows::RecordRow;
use crate::contact::Contact;

/// A database the store runs on: sqlx's [`Database`] whose rows and query results the store can read, and
/// the statements that differ.
pub(super) trait Dialect: Database<Row: RecordRow, QueryResult: RowsAffected> {
    /// Starts a transaction that reads and then writes, such that concurrent calls of one store method do not
    /// interleave where the method says so.
    fn begin_write(
        connection: &mut Self::Connection,
    ) -> impl Future<Output = Result<Transaction<'_, Self>, sqlx::Error>> + Send;

    /// Within a [`Dialect::begin_write`] transaction, before any device row is touched: waits until no other
    /// transaction consumes a device of the contact, so two consumes of different devices of one contact queue
    /// instead of deadlocking on each other's rows.
    fn lock_contact<'c>(
        connection: &'c mut Self::Connection,
        tenant_id: &'c str,
        contact: &'c Contact,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;

    /// Within a [`Dialect::begin_write`] transaction: waits until no other transaction changes the device's
    /// codes, so that a resend's insert and its trim of the older codes see every code committed before them.
    fn lock_device<'c>(
        connection: &'c mut Self::Connection,
        tenant_id: &'c str,
        device_id_hash: &'c str,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;

    /// Within a [`Dialect::begin_write`] transaction: waits until no other transaction changes the session whose
    /// current or pending refresh token has this hash, so that a refresh reads the session's tokens as the
    /// previous refresh left them.
    fn lock_session_of_refresh_token<'c>(
        connection: &'c mut Self::Connection,
        refresh_token_hash: &'c str,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;

    /// Within a [`Dialect::begin_write`] transaction: waits until no other transaction adds a signing key, so
    /// that a check for a fresh key and the insert that follows see the same keys. Readers do not wait.
    fn lock_signing_keys(
        connection: &mut Self::Connection,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + '_;
}

/// How many rows a statement changed, which sqlx offers per database but not through [`Database`].
pub(super) trait RowsAffected {
    /// The number of rows inserted, updated or deleted.
    fn rows_affected(&self) -> u64;
}

/// SQLite: `BEGIN IMMEDIATE` takes the database's write lock up front, so transactions that read before they
/// write serialise (waiting up to the busy timeout) instead of failing with `SQLITE_BUSY` when they upgrade.
/// The store's own writers already take turns on its one writer connection; the lock still keeps out any
/// other process that opens the file. With every writer queued behind that lock, the explicit locks have
/// nothing left to do.
impl Dialect for Sqlite {
    fn begin_write(
        connection: &mut Self::Connection,
    ) -> impl Future<Output = Result<Transaction<'_, Self>, sqlx::Error>> + Send {
        connection.begin_with("BEGIN IMMEDIATE")
    }

    async fn lock_contact(_: &mut Self::Connection, _: &str, _: &Contact) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn lock_device(_: &mut Self::Connection, _: &str, _: &str) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn lock_session_of_refresh_token(_: &mut Self::Connection, _: &str) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn lock_signing_keys(_: &mut Self::Connection) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

impl RowsAffected for SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        SqliteQueryResult::rows_affected(self)
    }
}

/// The first key of the two-key advisory locks the PostgreSQL store takes (`'agn1'`), so that they cannot
/// collide with the single-key lock of sqlx's migrator or with an application's own locks.
const ADVISORY_LOCK_CLASS: i32 = 0x6167_6e31;

/// PostgreSQL (read committed): a plain `BEGIN`; the store's statements decide races by row locks, which a
/// concurrent writer of the same row waits for before it re-checks its `WHERE` on the committed row. Where a
/// transaction touches several rows that another may touch in another order, an explicit lock queues them.
impl Dialect for Postgres {
    fn begin_write(
        connection: &mut Self::Connection,
    ) -> impl Future<Output = Result<Transaction<'_, Self>, sqlx::Error>> + Send {
        connection.begin()
    }

    /// A transaction-scoped advisory lock on the tenant and contact (the same key as earlier versions took, so
    /// instances of both can share a database during an upgrade).
    async fn lock_contact(
        connection: &mut Self::Connection,
        tenant_id: &str,
        contact: &Contact,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2 || chr(10) || $3))")
            .bind(ADVISORY_LOCK_CLASS)
            .bind(tenant_id)
            .bind(contact.as_str())
            .execute(connection)
            .await?;
        Ok(())
    }

    /// The device's row lock: concurrent resends of one device queue (a consume that deleted the device first
    /// leaves nothing to lock, and the insert that follows finds no device).
    async fn lock_device(
        connection: &mut Self::Connection,
        tenant_id: &str,
        device_id_hash: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1 FROM passwordless_devices WHERE tenant_id = $1 AND device_id_hash = $2 FOR UPDATE")
            .bind(tenant_id)
            .bind(device_id_hash)
            .execute(connection)
            .await?;
        Ok(())
    }

    /// The session's row lock: concurrent refreshes of one session queue, and each then reads the row as the
    /// one before it committed it (read committed takes a new snapshot per statement).
    async fn lock_session_of_refresh_token(
        connection: &mut Self::Connection,
        refresh_token_hash: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "SELECT 1 FROM sessions WHERE refresh_token_hash = $1 OR pending_refresh_token_hash = $1 FOR UPDATE",
        )
        .bind(refresh_token_hash)
        .execute(connection)
        .await?;
        Ok(())
    }

    /// `SHARE ROW EXCLUSIVE` conflicts with itself but not with plain reads.
    async fn lock_signing_keys(connection: &mut Self::Connection) -> Result<(), sqlx::Error> {
        sqlx::query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE").execute(connection).await?;
        Ok(())
    }
}

impl RowsAffected for PgQueryResult {
    fn rows_affected(&self) -> u64 {
        PgQueryResult::rows_affected(self)
    }
}
