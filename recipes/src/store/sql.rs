//! [`SqlStore`]: the one implementation of [`Store`], for SQLite and PostgreSQL alike. Each method's SQL and
//! transaction shape is written once, with `$N` parameters both drivers bind; what differs between the two
//! databases is behind [`Dialect`] (how a read-then-write transaction starts, and two explicit locks).

use std::sync::Arc;

use sqlx::{Connection as _, Database, Encode, Executor, IntoArguments, Pool, Type};
use tokio::sync::{Mutex, MutexGuard};

use super::counters;
use super::dialect::{Dialect, RowsAffected as _};
use super::rows::{RecordRow as _, signing_key_from_row, user_from_row};
use super::rows::{contact_columns, contact_from_row, device_from_rows, failed_attempts, session_from_row};
use super::writer::{WriteConnection, Writer};
use super::{
    AddCode, CodeRecord, CounterHit, DeviceRecord, FailedAttempt, NewDevice, NewSession, Pruned, RefreshOutcome,
    RefreshTokenUse, SessionRecord, SigningKeyRecord, Store, StoreError, ThirdPartyAccount, UserRecord,
};
use crate::contact::Contact;
use crate::schedule::Periodic;

/// The `sessions` columns [`session_from_row`] reads.
macro_rules! session_columns {
    () => {
        "session_handle, user_id, tenant_id, created_at, expires_at"
    };
}

/// The `signing_keys` columns [`signing_key_from_row`] reads.
macro_rules! signing_key_columns {
    () => {
        "key_id, algorithm, private_key, created_at"
    };
}

/// Within a write transaction on the session's row: remembers `$hash` as a refresh token rotated away from
/// session `$handle` at `$now` (presenting it again is theft) and forgets the session's older rotated tokens
/// beyond the newest [`super::ROTATED_TOKENS_KEPT`], which a thief is unlikely still to hold.
macro_rules! retire_refresh_token {
    ($tx:expr, $hash:expr, $handle:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO rotated_refresh_tokens (refresh_token_hash, session_handle, rotated_at) VALUES ($1, $2, $3)",
        )
        .bind($hash)
        .bind($handle)
        .bind($now)
        .execute($tx)
        .await?;
        sqlx::query(
            "DELETE FROM rotated_refresh_tokens WHERE session_handle = $1 AND refresh_token_hash NOT IN \
             (SELECT refresh_token_hash FROM rotated_refresh_tokens WHERE session_handle = $1 \
              ORDER BY rotated_at DESC, refresh_token_hash DESC LIMIT $2)",
        )
        .bind($handle)
        .bind(super::ROTATED_TOKENS_KEPT)
        .execute($tx)
        .await?;
    };
}

/// A [`Store`] on an SQL database: [`SqliteStore`](super::sqlite::SqliteStore) or
/// [`PostgresStore`](super::postgres::PostgresStore), which open one. Both run the same statements.
///
/// Every contract of [`Store`] holds across processes sharing a PostgreSQL database as well as across the
/// tasks of one process, because each method is a single statement or a single transaction whose outcome the
/// database's locks decide. On SQLite, every transaction that reads before it writes takes the write lock up
/// front (`BEGIN IMMEDIATE`), so such transactions run one at a time. On PostgreSQL (read committed), a writer
/// of a row that another transaction has changed waits for its commit and then re-checks its `WHERE` on the
/// committed row:
///
/// - **Consuming a device** deletes it, and of concurrent deletes of one row exactly one affects it. The same
///   statement deletes the contact's other devices, after a transaction-scoped advisory lock on the contact,
///   so that two consumes of different devices of one contact queue instead of deadlocking on each other's
///   rows.
/// - **Counting a wrong code** is one `UPDATE ... SET failed_attempts = failed_attempts + 1` (concurrent
///   increments never get lost) that only applies below the last allowed attempt; the last attempt is one
///   `DELETE` instead, which one of concurrent last attempts performs.
/// - **Sign-up** is `INSERT ... ON CONFLICT DO NOTHING` against the unique indexes on the contact or the
///   provider account: a concurrent inserter waits for the first one's commit, so exactly one row is created,
///   and every caller then reads that row with a new statement.
/// - **Refresh** locks the session's row first (PostgreSQL: `FOR UPDATE` on the row holding the token as
///   current or pending), then reads which of the two the token is and writes the session's next state, so
///   concurrent refreshes of one session run one after the other and each sees the previous one's outcome.
///   Using a pending token from an access token is one conditional `UPDATE`, which one of concurrent uses
///   performs.
/// - **Key rotation** checks for a fresh key and inserts one in a transaction that first locks
///   `signing_keys` against other rotations (not against readers), so that instances that rotate at the same
///   moment add one key.
///
///
/// Statements that only read run on [`SqlStore::pool`]; every statement that writes runs on the writer. On
/// PostgreSQL the writer is the same pool. On SQLite it is one connection held for good, which writers take in
/// turn (in order of arrival): the database has one write lock anyway, and writers queued for that connection
/// never meet the lock held, so they never sleep in SQLite's busy handler (which polls in steps of up to
/// 100 ms); readers, on connections of their own, read the last committed state without waiting (WAL).
pub struct SqlStore<DB: Database> {
    pool: Pool<DB>,
    writer: Writer<DB>,
    /// Work on a schedule for as long as a clone of the store lives (SQLite: WAL checkpoints).
    background: Option<Arc<Periodic>>,
}

impl<DB: Database> std::fmt::Debug for SqlStore<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let writer = match self.writer {
            Writer::Pool(_) => "the pool",
            Writer::Dedicated(_) => "one dedicated connection",
        };
        f.debug_struct("SqlStore").field("pool", &self.pool).field("writer", &writer).finish()
    }
}

impl<DB: Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self { pool: self.pool.clone(), writer: self.writer.clone(), background: self.background.clone() }
    }
}

impl<DB: Database> SqlStore<DB> {
    /// A store on a migrated database whose reads and writes share one pool.
    pub(super) fn from_pool(pool: Pool<DB>) -> Self {
        Self { writer: Writer::Pool(pool.clone()), pool, background: None }
    }

    /// A store on a migrated database that reads on `readers` and writes on `writer` alone, with `background`
    /// work that stops when the last clone of the store is dropped or closed.
    pub(super) fn with_writer(readers: Pool<DB>, writer: DB::Connection, background: Periodic) -> Self {
        let writer = Writer::Dedicated(Arc::new(Mutex::new(Some(writer))));
        Self { pool: readers, writer, background: Some(Arc::new(background)) }
    }

    /// The connection pool that reads, for maintenance and tests (on SQLite its connections are read-only).
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Closes every connection (on SQLite, closing the writer, the last one, checkpoints the WAL). Writes
    /// fail from then on, as on a closed pool.
    pub async fn close(&self) {
        if let Some(background) = &self.background {
            background.stop();
        }
        self.pool.close().await;
        match &self.writer {
            Writer::Pool(pool) => pool.close().await,
            Writer::Dedicated(connection) => {
                if let Some(connection) = connection.lock().await.take() {
                    let _ = connection.close().await;
                }
            }
        }
    }

    /// The writer's connection: a pooled one, or the dedicated one once the writers before have done.
    pub(super) async fn write(&self) -> Result<WriteConnection<'_, DB>, sqlx::Error> {
        match &self.writer {
            Writer::Pool(pool) => Ok(WriteConnection::Pooled(pool.acquire().await?)),
            Writer::Dedicated(connection) => MutexGuard::try_map(connection.lock().await, Option::as_mut)
                .map(WriteConnection::Dedicated)
                .map_err(|_| sqlx::Error::PoolClosed),
        }
    }
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

// The bounds are sqlx's for running a query on a connection (or the pool) and binding the store's column
// types. Both databases meet them; Rust does not carry such bounds along with a trait, so they stand here, on
// the one generic impl, and `Dialect` adds the rest.
impl<DB> Store for SqlStore<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
{
    async fn create_device(&self, device: &NewDevice, code: &CodeRecord) -> Result<(), StoreError> {
        let (email, phone_number) = contact_columns(&device.contact);
        // One transaction: the device and its first code appear together or not at all.
        let mut writer = self.write().await?;
        let mut tx = DB::begin_write(&mut writer).await?;
        sqlx::query(
            "INSERT INTO passwordless_devices \
             (device_id_hash, tenant_id, email, phone_number, link_code_salt, failed_attempts, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6)",
        )
        .bind(&device.device_id_hash)
        .bind(&device.tenant_id)
        .bind(email)
        .bind(phone_number)
        .bind(&device.link_code_salt)
        .bind(device.created_at_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO passwordless_codes (code_id, device_id_hash, link_code_hash, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&code.code_id)
        .bind(&device.device_id_hash)
        .bind(&code.link_code_hash)
        .bind(code.created_at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn prune_expired(&self, now_ms: i64, code_lifetime_ms: i64) -> Result<Pruned, StoreError> {
        // A device is usable while one of its codes is younger than the code lifetime; a device created just
        // now may not have its code row yet, so only devices older than that are considered.
        let oldest_live = now_ms.saturating_sub(code_lifetime_ms);
        let devices = sqlx::query(
            "DELETE FROM passwordless_devices WHERE created_at < $1 AND NOT EXISTS \
             (SELECT 1 FROM passwordless_codes c \
              WHERE c.device_id_hash = passwordless_devices.device_id_hash AND c.created_at >= $1)",
        )
        .bind(oldest_live)
        .execute(&mut *self.write().await?)
        .await?
        .rows_affected();
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&mut *self.write().await?)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM rate_limits WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&mut *self.write().await?)
            .await?;
        Ok(Pruned { devices, sessions })
    }

    async fn count_hits(&self, hits: &[CounterHit]) -> Result<Vec<i64>, StoreError> {
        // One statement for the whole batch (see `counters`): concurrent hits from any instance serialise on the
        // rows, taken in key order so that two PostgreSQL instances counting the same keys cannot deadlock.
        let mut order: Vec<&CounterHit> = hits.iter().collect();
        order.sort_by(|a, b| a.key.cmp(&b.key));
        let mut counts = std::collections::BTreeMap::new();
        for chunk in order.chunks(counters::ROWS_PER_STATEMENT) {
            let sql = counters::upsert_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for hit in chunk {
                query = query.bind(hit.key.as_str()).bind(hit.window_start_ms).bind(hit.expires_at_ms).bind(hit.hits);
            }
            for row in query.fetch_all(&mut *self.write().await?).await? {
                counts.insert(row.text("key")?, row.integer("count")?);
            }
        }
        counters::in_request_order(hits, &counts)
    }

    async fn add_code(
        &self,
        tenant_id: &str,
        device_id_hash: &str,
        code: &CodeRecord,
        keep: u32,
    ) -> Result<AddCode, StoreError> {
        // A write transaction: the code goes in only while the device exists, and the device's oldest codes
        // beyond `keep` go out with it, so concurrent resends cannot leave more. A consume that deletes the
        // device concurrently either goes first (no row to select, or on PostgreSQL a foreign key violation
        // when it commits between the select and the insert's check) or waits and deletes the code too.
        let mut writer = self.write().await?;
        let mut tx = DB::begin_write(&mut writer).await?;
        DB::lock_device(&mut tx, tenant_id, device_id_hash).await?;
        // A device's codes are kept newest first, so their times must tell them apart: a code created in the
        // same millisecond as the device's latest one is stamped one millisecond later (the device is locked,
        // so this is race-free; expiry moves by as much).
        let latest = sqlx::query("SELECT MAX(created_at) AS latest FROM passwordless_codes WHERE device_id_hash = $1")
            .bind(device_id_hash)
            .fetch_one(&mut *tx)
            .await?
            .optional_integer("latest")?;
        let created_at = latest.map_or(code.created_at_ms, |latest| code.created_at_ms.max(latest + 1));
        let inserted = sqlx::query(
            "INSERT INTO passwordless_codes (code_id, device_id_hash, link_code_hash, created_at) \
             SELECT $3, device_id_hash, $4, $5 FROM passwordless_devices \
             WHERE tenant_id = $1 AND device_id_hash = $2 \
             ON CONFLICT (link_code_hash) DO NOTHING",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .bind(&code.code_id)
        .bind(&code.link_code_hash)
        .bind(created_at)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(result) if result.rows_affected() == 1 => {
                sqlx::query(
                    "DELETE FROM passwordless_codes WHERE device_id_hash = $1 AND code_id NOT IN \
                     (SELECT code_id FROM passwordless_codes WHERE device_id_hash = $1 \
                      ORDER BY created_at DESC, code_id DESC LIMIT $2)",
                )
                .bind(device_id_hash)
                .bind(i64::from(keep.max(1)))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(AddCode::Added)
            }
            // Nothing inserted: the device is gone, or a code with this hash exists. A device never comes back,
            // so one that exists now existed then.
            Ok(_) => {
                let exists =
                    sqlx::query("SELECT 1 FROM passwordless_devices WHERE tenant_id = $1 AND device_id_hash = $2")
                        .bind(tenant_id)
                        .bind(device_id_hash)
                        .fetch_optional(&mut *tx)
                        .await?
                        .is_some();
                Ok(if exists { AddCode::Duplicate } else { AddCode::DeviceGone })
            }
            Err(e) if is_foreign_key_violation(&e) => Ok(AddCode::DeviceGone),
            Err(e) => Err(e.into()),
        }
    }

    async fn device(&self, tenant_id: &str, device_id_hash: &str) -> Result<Option<DeviceRecord>, StoreError> {
        // One statement, so the device and its codes come from one snapshot.
        let rows = sqlx::query(
            "SELECT d.tenant_id, d.device_id_hash, d.email, d.phone_number, d.link_code_salt, d.failed_attempts, \
                    c.code_id, c.link_code_hash, c.created_at AS code_created_at \
             FROM passwordless_devices d \
             LEFT JOIN passwordless_codes c ON c.device_id_hash = d.device_id_hash \
             WHERE d.tenant_id = $1 AND d.device_id_hash = $2 \
             ORDER BY c.created_at, c.code_id",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .fetch_all(&self.pool)
        .await?;
        device_from_rows(&rows)
    }

    async fn record_failed_attempt(
        &self,
        tenant_id: &str,
        device_id_hash: &str,
        max_attempts: u32,
    ) -> Result<FailedAttempt, StoreError> {
        // Below the last allowed attempt: count it. Concurrent increments queue on the row, and each sees the
        // count the previous one left.
        let counted = sqlx::query(
            "UPDATE passwordless_devices SET failed_attempts = failed_attempts + 1 \
             WHERE tenant_id = $1 AND device_id_hash = $2 AND failed_attempts + 1 < $3 RETURNING failed_attempts",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .bind(i64::from(max_attempts))
        .fetch_optional(&mut *self.write().await?)
        .await?;
        if let Some(row) = counted {
            return Ok(FailedAttempt::Counted(failed_attempts(row.small_integer("failed_attempts")?)?));
        }
        // The device is gone or this is its last allowed attempt (a count that can no longer change, since the
        // UPDATE above never applies to it): delete it. Of concurrent last attempts one deletes, the others
        // find it gone; both mean the flow restarts.
        let exhausted = sqlx::query("DELETE FROM passwordless_devices WHERE tenant_id = $1 AND device_id_hash = $2")
            .bind(tenant_id)
            .bind(device_id_hash)
            .execute(&mut *self.write().await?)
            .await?
            .rows_affected()
            == 1;
        Ok(if exhausted { FailedAttempt::Exhausted } else { FailedAttempt::DeviceGone })
    }

    async fn consume_device(&self, tenant_id: &str, device_id_hash: &str) -> Result<Option<Contact>, StoreError> {
        let mut writer = self.write().await?;
        let mut tx = DB::begin_write(&mut writer).await?;
        let Some(row) = sqlx::query(
            "SELECT email, phone_number FROM passwordless_devices WHERE tenant_id = $1 AND device_id_hash = $2",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let contact = contact_from_row(&row, "passwordless_devices")?;
        DB::lock_contact(&mut tx, tenant_id, &contact).await?;
        // Exactly once: of concurrent deletes of one row, one affects it. The contact's other devices go in
        // the same statement; when the device itself was already gone, the transaction rolls back (on drop),
        // leaving them alone.
        let (email, phone_number) = contact_columns(&contact);
        let deleted = sqlx::query(
            "DELETE FROM passwordless_devices \
             WHERE tenant_id = $1 AND (device_id_hash = $2 OR email = $3 OR phone_number = $4) \
             RETURNING device_id_hash",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .bind(email)
        .bind(phone_number)
        .fetch_all(&mut *tx)
        .await?;
        let mut consumed = false;
        for row in &deleted {
            consumed |= row.text("device_id_hash")? == device_id_hash;
        }
        if !consumed {
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(contact))
    }

    async fn sign_in_up(
        &self,
        tenant_id: &str,
        contact: &Contact,
        new_user_id: &str,
        now_ms: i64,
    ) -> Result<(UserRecord, bool), StoreError> {
        let (email, phone_number) = contact_columns(contact);
        // A concurrent insert of the same contact makes this one wait for its commit and then do nothing, so
        // the read below (a new statement, with a new snapshot) always finds the committed row.
        let inserted = sqlx::query(concat!(
            "INSERT INTO users (user_id, tenant_id, email, phone_number, time_joined) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING RETURNING ",
            user_columns!()
        ))
        .bind(new_user_id)
        .bind(tenant_id)
        .bind(email)
        .bind(phone_number)
        .bind(now_ms)
        .fetch_optional(&mut *self.write().await?)
        .await?;
        if let Some(row) = inserted {
            return Ok((user_from_row(&row)?, true));
        }
        let user = self.user_by_contact(tenant_id, contact).await?.ok_or_else(|| StoreError::Corrupt {
            table: "users",
            detail: "a user whose insert conflicted cannot be read back".into(),
        })?;
        Ok((user, false))
    }

    async fn third_party_sign_in_up(
        &self,
        tenant_id: &str,
        account: &ThirdPartyAccount,
        email: &str,
        email_verified: bool,
        new_user_id: &str,
        now_ms: i64,
    ) -> Result<(UserRecord, bool), StoreError> {
        // The partial unique index on (tenant_id, third_party_id, third_party_user_id) makes concurrent
        // sign-ups of one account insert one row; every caller then updates and reads that row.
        let created = sqlx::query(
            "INSERT INTO users \
             (user_id, tenant_id, email, time_joined, recipe_id, third_party_id, third_party_user_id, email_verified) \
             VALUES ($1, $2, $3, $4, 'thirdparty', $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(new_user_id)
        .bind(tenant_id)
        .bind(email)
        .bind(now_ms)
        .bind(&account.third_party_id)
        .bind(&account.third_party_user_id)
        .bind(email_verified)
        .execute(&mut *self.write().await?)
        .await?
        .rows_affected()
            == 1;
        // Sign-in: the provider's current email and verified flag; a verified email stays verified while it
        // does not change.
        let row = sqlx::query(concat!(
            "UPDATE users SET email_verified = CASE WHEN email = $1 THEN (email_verified OR $2) ELSE $2 END, \
             email = $1 \
             WHERE tenant_id = $3 AND recipe_id = 'thirdparty' AND third_party_id = $4 AND third_party_user_id = $5 \
             RETURNING ",
            user_columns!()
        ))
        .bind(email)
        .bind(email_verified)
        .bind(tenant_id)
        .bind(&account.third_party_id)
        .bind(&account.third_party_user_id)
        .fetch_optional(&mut *self.write().await?)
        .await?
        .ok_or_else(|| StoreError::Corrupt {
            table: "users",
            detail: "a third-party user inserted or found cannot be read back".into(),
        })?;
        Ok((user_from_row(&row)?, created))
    }

    async fn user_by_contact(&self, tenant_id: &str, contact: &Contact) -> Result<Option<UserRecord>, StoreError> {
        let sql = match contact {
            Contact::Email(_) => concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE tenant_id = $1 AND email = $2 AND recipe_id = 'passwordless'"
            ),
            Contact::Phone(_) => concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE tenant_id = $1 AND phone_number = $2 AND recipe_id = 'passwordless'"
            ),
        };
        sqlx::query(sql)
            .bind(tenant_id)
            .bind(contact.as_str())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    async fn create_session(&self, session: &NewSession) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (session_handle, user_id, tenant_id, refresh_token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&session.session_handle)
        .bind(&session.user_id)
        .bind(&session.tenant_id)
        .bind(&session.refresh_token_hash)
        .bind(session.created_at_ms)
        .bind(session.expires_at_ms)
        .execute(&mut *self.write().await?)
        .await?;
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        token: &str,
        new_salt: &str,
        now_ms: i64,
        new_expires_at_ms: i64,
    ) -> Result<RefreshOutcome, StoreError> {
        let presented_hash = crate::ids::refresh_token_hash(token);
        let mut writer = self.write().await?;
        let mut tx = DB::begin_write(&mut writer).await?;
        DB::lock_session_of_refresh_token(&mut tx, &presented_hash).await?;
        let found = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            ", refresh_token_hash, refresh_token_salt FROM sessions \
             WHERE refresh_token_hash = $1 OR pending_refresh_token_hash = $1"
        ))
        .bind(&presented_hash)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = found {
            let session = session_from_row(&row)?;
            if session.expires_at_ms <= now_ms {
                // An expired session is dropped the first time its refresh token is presented.
                sqlx::query("DELETE FROM sessions WHERE session_handle = $1")
                    .bind(&session.session_handle)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok(RefreshOutcome::Unknown);
            }
            let current_hash = row.text("refresh_token_hash")?;
            let salt = row.optional_text("refresh_token_salt")?.unwrap_or_else(|| new_salt.to_owned());
            if current_hash != presented_hash {
                // The pending child is used: its parent is rotated away, so presenting the parent is theft now.
                retire_refresh_token!(&mut *tx, &current_hash, &session.session_handle, now_ms);
            }
            let child = crate::ids::child_refresh_token(&salt, token);
            let child_hash = crate::ids::refresh_token_hash(&child);
            let updated = sqlx::query(concat!(
                "UPDATE sessions SET refresh_token_hash = $2, pending_refresh_token_hash = $3, \
                 refresh_token_salt = $4, expires_at = $5 WHERE session_handle = $1 RETURNING ",
                session_columns!()
            ))
            .bind(&session.session_handle)
            .bind(&presented_hash)
            .bind(&child_hash)
            .bind(&salt)
            .bind(new_expires_at_ms)
            .fetch_one(&mut *tx)
            .await?;
            let session = session_from_row(&updated)?;
            tx.commit().await?;
            return Ok(RefreshOutcome::Rotated(super::Rotation {
                session,
                refresh_token: child,
                refresh_token_hash: child_hash,
                parent_hash: presented_hash,
            }));
        }
        // A token rotated away before: theft. Revoke its session (once: a concurrent detector finds it gone).
        let stolen = sqlx::query(concat!(
            "DELETE FROM sessions WHERE session_handle = \
             (SELECT session_handle FROM rotated_refresh_tokens WHERE refresh_token_hash = $1) RETURNING ",
            session_columns!()
        ))
        .bind(&presented_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match stolen {
            Some(row) => RefreshOutcome::TheftDetected(session_from_row(&row)?),
            None => RefreshOutcome::Unknown,
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn use_refresh_token(
        &self,
        session_handle: &str,
        parent_hash: &str,
        child_hash: &str,
        now_ms: i64,
    ) -> Result<RefreshTokenUse, StoreError> {
        // Most requests find the child current already: a read, without a write transaction.
        const TOKENS: &str = "SELECT refresh_token_hash, pending_refresh_token_hash FROM sessions \
                              WHERE session_handle = $1 AND expires_at > $2";
        let row = sqlx::query(TOKENS).bind(session_handle).bind(now_ms).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(RefreshTokenUse::Ended) };
        if row.text("refresh_token_hash")? == child_hash {
            return Ok(RefreshTokenUse::Current);
        }
        if row.optional_text("pending_refresh_token_hash")?.as_deref() != Some(child_hash) {
            return Ok(RefreshTokenUse::Superseded);
        }
        let mut writer = self.write().await?;
        let mut tx = DB::begin_write(&mut writer).await?;
        // Of concurrent uses (and refreshes) one promotes; the others wait for the row, then find the child
        // current already.
        let promoted = sqlx::query(
            "UPDATE sessions SET refresh_token_hash = $3, pending_refresh_token_hash = NULL \
             WHERE session_handle = $1 AND refresh_token_hash = $2 AND pending_refresh_token_hash = $3 \
             AND expires_at > $4",
        )
        .bind(session_handle)
        .bind(parent_hash)
        .bind(child_hash)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if promoted == 1 {
            retire_refresh_token!(&mut *tx, parent_hash, session_handle, now_ms);
            tx.commit().await?;
            return Ok(RefreshTokenUse::Current);
        }
        let row = sqlx::query(TOKENS).bind(session_handle).bind(now_ms).fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        Ok(match row {
            None => RefreshTokenUse::Ended,
            Some(row) if row.text("refresh_token_hash")? == child_hash => RefreshTokenUse::Current,
            Some(_) => RefreshTokenUse::Superseded,
        })
    }

    async fn session(&self, session_handle: &str, now_ms: i64) -> Result<Option<SessionRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE session_handle = $1 AND expires_at > $2"
        ))
        .bind(session_handle)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(session_from_row)
        .transpose()
    }

    async fn revoke_session(&self, session_handle: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE session_handle = $1")
            .bind(session_handle)
            .execute(&mut *self.write().await?)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn latest_signing_key(&self, algorithm: &str) -> Result<Option<SigningKeyRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            signing_key_columns!(),
            " FROM signing_keys WHERE algorithm = $1 ORDER BY created_at DESC, key_id LIMIT 1"
        ))
        .bind(algorithm)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(signing_key_from_row)
        .transpose()
    }

    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO signing_keys (key_id, algorithm, private_key, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&key.key_id)
            .bind(&key.algorithm)
            .bind(&key.private_key)
            .bind(key.created_at_ms)
            .execute(&mut *self.write().await?)
            .await?;
        Ok(())
    }

    async fn signing_keys(&self, algorithm: &str) -> Result<Vec<SigningKeyRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            signing_key_columns!(),
            " FROM signing_keys WHERE algorithm = $1 ORDER BY created_at DESC, key_id"
        ))
        .bind(algorithm)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(signing_key_from_row)
        .collect()
    }

    async fn insert_signing_key_unless_fresh(
        &self,
        key: &SigningKeyRecord,
        fresh_since_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut writer = self.write().await?;
        let mut tx = DB::begin_write(&mut writer).await?;
        DB::lock_signing_keys(&mut tx).await?;
        let inserted = sqlx::query(
            "INSERT INTO signing_keys (key_id, algorithm, private_key, created_at) \
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS \
             (SELECT 1 FROM signing_keys WHERE algorithm = $2 AND created_at >= $5)",
        )
        .bind(&key.key_id)
        .bind(&key.algorithm)
        .bind(&key.private_key)
        .bind(key.created_at_ms)
        .bind(fresh_since_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(inserted)
    }

    async fn delete_superseded_signing_keys(
        &self,
        algorithm: &str,
        superseded_before_ms: i64,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "DELETE FROM signing_keys AS old WHERE old.algorithm = $1 AND EXISTS (SELECT 1 FROM signing_keys AS new \
             WHERE new.algorithm = old.algorithm AND new.created_at > old.created_at AND new.created_at < $2)",
        )
        .bind(algorithm)
        .bind(superseded_before_ms)
        .execute(&mut *self.write().await?)
        .await?;
        Ok(result.rows_affected())
    }

    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.user_by_id(user_id).await
    }

    async fn create_email_verification_token(
        &self,
        token: &super::NewEmailVerificationToken,
    ) -> Result<(), StoreError> {
        self.insert_email_verification_token(token).await
    }

    async fn use_email_verification_token(
        &self,
        tenant_id: &str,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<super::VerifiedEmail>, StoreError> {
        self.consume_email_verification_token(tenant_id, token_hash, now_ms).await
    }

    async fn is_email_verified(&self, user_id: &str, email: &str) -> Result<bool, StoreError> {
        self.verified_email(user_id, email).await
    }

    async fn prune_email_verification_tokens(&self, now_ms: i64) -> Result<u64, StoreError> {
        self.delete_expired_email_verification_tokens(now_ms).await
    }
}
