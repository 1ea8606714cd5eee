//! The PostgreSQL store: one database shared by any number of auth-server instances, migrated on connect with
//! the migrations embedded from `migrations/postgres/`.
//!
//! Every contract of [`Store`] holds across processes, not only across the tasks of one process, because each
//! method is a single statement or a single transaction whose outcome PostgreSQL's row locks decide:
//!
//! - **Consuming a device** deletes it with `DELETE ... RETURNING`: of concurrent consumers (in any process)
//!   exactly one gets the row back. The same transaction deletes the contact's other devices; it first takes a
//!   transaction-scoped advisory lock on the contact, so two consumes of different devices of one contact
//!   queue instead of deadlocking on each other's rows.
//! - **Counting a wrong code** is one `UPDATE ... SET failed_attempts = failed_attempts + 1` (a row lock, so
//!   concurrent increments from several instances never get lost) that only applies below the last allowed
//!   attempt; the last attempt is one `DELETE ... RETURNING` instead.
//! - **Sign-up** is `INSERT ... ON CONFLICT DO NOTHING` against the partial unique indexes on
//!   `(tenant_id, email)` and `(tenant_id, phone_number)`: PostgreSQL makes a concurrent inserter wait for the
//!   first one's commit, so exactly one row is created and every caller then reads that row.
//! - **Refresh rotation** is one `UPDATE sessions ... WHERE refresh_token_hash = old` that also records the old
//!   hash as rotated (a data-modifying CTE, so both or neither happen). A concurrent rotation of the same token
//!   waits for the row lock, re-checks the condition on the new row version, finds the hash changed and falls
//!   through to theft detection, which then sees the recorded hash.
//! - **Key rotation** inserts a new signing key under `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`
//!   (which conflicts with itself, not with readers), so instances that rotate at the same moment add one key.
//!
//! The pool re-checks a connection before handing it out, so after a database restart the broken connections
//! are replaced: requests fail with a database error (answered 500) while the server is down and succeed again
//! once it is back, without restarting the instance.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection as _, Row as _};

use super::rows::{
    THIRD_PARTY_INSERT, USER_COLUMNS, contact_columns, contact_from_row, session_from_row, signing_key_from_row,
    third_party_update, user_from_row,
};
use super::{
    AddCode, CodeRecord, DeviceRecord, FailedAttempt, NewDevice, NewSession, RefreshOutcome, SessionRecord,
    SigningKeyRecord, Store, StoreError, ThirdPartyAccount, UserRecord,
};
use crate::contact::Contact;

/// The default number of connections per instance.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long a request waits for a free (or new) connection before failing with a database error. Short, so
/// that while the database is unreachable clients get errors quickly instead of piling up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The first key of the two-key advisory locks this store takes (`'agn1'`), so that they cannot collide with
/// the single-key lock of sqlx's migrator or with an application's own locks.
const ADVISORY_LOCK_CLASS: i32 = 0x6167_6e31;

/// A [`Store`] on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
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
        Ok(Self { pool })
    }

    /// The connection pool, for maintenance and tests.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn attempts(count: i32) -> Result<u32, StoreError> {
    u32::try_from(count).map_err(|_| StoreError::Corrupt {
        table: "passwordless_devices",
        detail: format!("failed_attempts is {count}"),
    })
}

const SESSION_COLUMNS: &str = "session_handle, user_id, tenant_id, created_at, expires_at";
const SIGNING_KEY_COLUMNS: &str = "key_id, algorithm, private_key, created_at";

impl Store for PostgresStore {
    async fn create_device(&self, device: &NewDevice, code: &CodeRecord) -> Result<(), StoreError> {
        let (email, phone_number) = contact_columns(&device.contact);
        // One statement: the device and its first code appear together or not at all.
        sqlx::query(
            "WITH device AS ( \
                 INSERT INTO passwordless_devices \
                 (device_id_hash, tenant_id, email, phone_number, link_code_salt, failed_attempts, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING device_id_hash) \
             INSERT INTO passwordless_codes (code_id, device_id_hash, link_code_hash, created_at) \
             SELECT $7, device_id_hash, $8, $9 FROM device",
        )
        .bind(&device.device_id_hash)
        .bind(&device.tenant_id)
        .bind(email)
        .bind(phone_number)
        .bind(&device.link_code_salt)
        .bind(device.created_at_ms)
        .bind(&code.code_id)
        .bind(&code.link_code_hash)
        .bind(code.created_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn add_code(&self, tenant_id: &str, device_id_hash: &str, code: &CodeRecord) -> Result<AddCode, StoreError> {
        // The device row is share-locked for the insert, so a concurrent consume either deletes it first (no row
        // here: DeviceGone) or waits until the code is in (and then deletes it with the device).
        let row = sqlx::query(
            "WITH device AS ( \
                 SELECT device_id_hash FROM passwordless_devices \
                 WHERE tenant_id = $1 AND device_id_hash = $2 FOR KEY SHARE), \
             added AS ( \
                 INSERT INTO passwordless_codes (code_id, device_id_hash, link_code_hash, created_at) \
                 SELECT $3, device_id_hash, $4, $5 FROM device \
                 ON CONFLICT (link_code_hash) DO NOTHING RETURNING code_id) \
             SELECT (SELECT COUNT(*) FROM device) AS devices, (SELECT COUNT(*) FROM added) AS added",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .bind(&code.code_id)
        .bind(&code.link_code_hash)
        .bind(code.created_at_ms)
        .fetch_one(&self.pool)
        .await?;
        let devices: i64 = row.try_get("devices")?;
        let added: i64 = row.try_get("added")?;
        Ok(match (devices, added) {
            (0, _) => AddCode::DeviceGone,
            (_, 0) => AddCode::Duplicate,
            _ => AddCode::Added,
        })
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
        let Some(first) = rows.first() else { return Ok(None) };
        let mut codes = Vec::with_capacity(rows.len());
        for row in &rows {
            let code_id: Option<String> = row.try_get("code_id")?;
            let link_code_hash: Option<String> = row.try_get("link_code_hash")?;
            let created_at_ms: Option<i64> = row.try_get("code_created_at")?;
            if let (Some(code_id), Some(link_code_hash), Some(created_at_ms)) = (code_id, link_code_hash, created_at_ms)
            {
                codes.push(CodeRecord { code_id, link_code_hash, created_at_ms });
            }
        }
        Ok(Some(DeviceRecord {
            tenant_id: first.try_get("tenant_id")?,
            device_id_hash: first.try_get("device_id_hash")?,
            contact: contact_from_row(first, "passwordless_devices")?,
            link_code_salt: first.try_get("link_code_salt")?,
            failed_attempts: attempts(first.try_get("failed_attempts")?)?,
            codes,
        }))
    }

    async fn record_failed_attempt(
        &self,
        tenant_id: &str,
        device_id_hash: &str,
        max_attempts: u32,
    ) -> Result<FailedAttempt, StoreError> {
        let max_attempts = i32::try_from(max_attempts).unwrap_or(i32::MAX);
        // Below the last allowed attempt: count it. The row lock of the UPDATE serialises concurrent
        // increments from every instance, and each sees the count the previous one left.
        let counted = sqlx::query(
            "UPDATE passwordless_devices SET failed_attempts = failed_attempts + 1 \
             WHERE tenant_id = $1 AND device_id_hash = $2 AND failed_attempts + 1 < $3 RETURNING failed_attempts",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .bind(max_attempts)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = counted {
            return Ok(FailedAttempt::Counted(attempts(row.try_get("failed_attempts")?)?));
        }
        // The device is gone or this is its last allowed attempt (a count that can no longer change, since the
        // UPDATE above never applies to it): delete it. Of concurrent last attempts one deletes, the others
        // find it gone; both mean the flow restarts.
        let exhausted = sqlx::query(
            "DELETE FROM passwordless_devices WHERE tenant_id = $1 AND device_id_hash = $2 RETURNING device_id_hash",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(if exhausted.is_some() { FailedAttempt::Exhausted } else { FailedAttempt::DeviceGone })
    }

    async fn consume_device(&self, tenant_id: &str, device_id_hash: &str) -> Result<Option<Contact>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The contact, and the contact's advisory lock: consumes of different devices of one contact queue here,
        // before either holds a device row lock, so they never deadlock on each other's rows.
        let Some(row) = sqlx::query(
            "SELECT email, phone_number, \
                    pg_advisory_xact_lock($3, hashtext(tenant_id || chr(10) || COALESCE(email, phone_number)))::text \
                    AS locked \
             FROM passwordless_devices WHERE tenant_id = $1 AND device_id_hash = $2",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .bind(ADVISORY_LOCK_CLASS)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let contact = contact_from_row(&row, "passwordless_devices")?;
        let (email, phone_number) = contact_columns(&contact);
        // Exactly once: of concurrent deletes of one row, one gets it back. The contact's other devices go in
        // the same statement.
        let consumed = sqlx::query(
            "WITH consumed AS ( \
                 DELETE FROM passwordless_devices WHERE tenant_id = $1 AND device_id_hash = $2 \
                 RETURNING device_id_hash), \
             others AS ( \
                 DELETE FROM passwordless_devices \
                 WHERE tenant_id = $1 AND device_id_hash <> $2 AND (email = $3 OR phone_number = $4) \
                   AND EXISTS (SELECT 1 FROM consumed)) \
             SELECT COUNT(*) AS consumed FROM consumed",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .bind(email)
        .bind(phone_number)
        .fetch_one(&mut *tx)
        .await?;
        let consumed: i64 = consumed.try_get("consumed")?;
        tx.commit().await?;
        Ok((consumed == 1).then_some(contact))
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
        let inserted = sqlx::query(&format!(
            "INSERT INTO users (user_id, tenant_id, email, phone_number, time_joined) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING RETURNING {USER_COLUMNS}"
        ))
        .bind(new_user_id)
        .bind(tenant_id)
        .bind(email)
        .bind(phone_number)
        .bind(now_ms)
        .fetch_optional(&self.pool)
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
        let created = sqlx::query(THIRD_PARTY_INSERT)
            .bind(new_user_id)
            .bind(tenant_id)
            .bind(email)
            .bind(now_ms)
            .bind(&account.third_party_id)
            .bind(&account.third_party_user_id)
            .bind(email_verified)
            .execute(&self.pool)
            .await?
            .rows_affected()
            == 1;
        let row = sqlx::query(&third_party_update())
            .bind(email)
            .bind(email_verified)
            .bind(tenant_id)
            .bind(&account.third_party_id)
            .bind(&account.third_party_user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                table: "users",
                detail: "a third-party user inserted or found cannot be read back".into(),
            })?;
        Ok((user_from_row(&row)?, created))
    }

    async fn user_by_contact(&self, tenant_id: &str, contact: &Contact) -> Result<Option<UserRecord>, StoreError> {
        let column = match contact {
            Contact::Email(_) => "email",
            Contact::Phone(_) => "phone_number",
        };
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND {column} = $2 AND recipe_id = 'passwordless'"
        ))
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now_ms: i64,
        new_expires_at_ms: i64,
    ) -> Result<RefreshOutcome, StoreError> {
        // The rotation and the record of the rotated hash are one statement. A concurrent rotation of the same
        // token blocks on the session's row lock, then re-checks `refresh_token_hash = old` against the
        // committed row, which no longer matches: it rotates nothing and goes on to theft detection.
        let rotated = sqlx::query(&format!(
            "WITH rotated AS ( \
                 UPDATE sessions SET refresh_token_hash = $2, expires_at = $4 \
                 WHERE refresh_token_hash = $1 AND expires_at > $3 RETURNING {SESSION_COLUMNS}), \
             remembered AS ( \
                 INSERT INTO rotated_refresh_tokens (refresh_token_hash, session_handle) \
                 SELECT $1, session_handle FROM rotated) \
             SELECT {SESSION_COLUMNS} FROM rotated"
        ))
        .bind(old_hash)
        .bind(new_hash)
        .bind(now_ms)
        .bind(new_expires_at_ms)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = rotated {
            return Ok(RefreshOutcome::Rotated(session_from_row(&row)?));
        }
        // A token rotated away before: theft. Revoke its session (once: a concurrent detector finds it gone).
        let stolen = sqlx::query(&format!(
            "DELETE FROM sessions WHERE session_handle = \
             (SELECT session_handle FROM rotated_refresh_tokens WHERE refresh_token_hash = $1) \
             RETURNING {SESSION_COLUMNS}"
        ))
        .bind(old_hash)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = stolen {
            return Ok(RefreshOutcome::TheftDetected(session_from_row(&row)?));
        }
        // An expired session is dropped the first time its refresh token is presented.
        sqlx::query("DELETE FROM sessions WHERE refresh_token_hash = $1 AND expires_at <= $2")
            .bind(old_hash)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(RefreshOutcome::Unknown)
    }

    async fn session(&self, session_handle: &str, now_ms: i64) -> Result<Option<SessionRecord>, StoreError> {
        sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE session_handle = $1 AND expires_at > $2"))
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
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn latest_signing_key(&self, algorithm: &str) -> Result<Option<SigningKeyRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {SIGNING_KEY_COLUMNS} FROM signing_keys WHERE algorithm = $1 \
             ORDER BY created_at DESC, key_id LIMIT 1"
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
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn signing_keys(&self, algorithm: &str) -> Result<Vec<SigningKeyRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {SIGNING_KEY_COLUMNS} FROM signing_keys WHERE algorithm = $1 ORDER BY created_at DESC, key_id"
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
        let mut tx = self.pool.begin().await?;
        // Self-conflicting but compatible with plain reads: concurrent rotations queue, readers do not wait.
        sqlx::query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
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
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }
}
