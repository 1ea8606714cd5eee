//! The SQLite store: one database file in WAL mode, migrated on open with the migrations embedded from
//! `migrations/sqlite/`. Writes that read before they write run in `BEGIN IMMEDIATE` transactions, which
//! take the write lock up front, so concurrent requests serialise instead of failing with `SQLITE_BUSY`.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::Row as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::rows::sqlite_parameters;
use super::rows::{
    THIRD_PARTY_INSERT, USER_COLUMNS, contact_columns, contact_from_row, session_from_row, signing_key_from_row,
    third_party_update, user_from_row,
};
use super::{
    AddCode, CodeRecord, DeviceRecord, FailedAttempt, NewDevice, NewSession, RefreshOutcome, SessionRecord,
    SigningKeyRecord, Store, StoreError, ThirdPartyAccount, UserRecord,
};
use crate::contact::Contact;

/// A [`Store`] on an SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Database(Box::new(error))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StoreError::Database(Box::new(error))
    }
}

/// How long a connection waits for the write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

impl SqliteStore {
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
        Ok(Self { pool })
    }

    /// The connection pool, for maintenance and tests.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

const SESSION_COLUMNS: &str = "session_handle, user_id, tenant_id, created_at, expires_at";

impl Store for SqliteStore {
    async fn create_device(&self, device: &NewDevice, code: &CodeRecord) -> Result<(), StoreError> {
        let (email, phone_number) = contact_columns(&device.contact);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO passwordless_devices \
             (device_id_hash, tenant_id, email, phone_number, link_code_salt, failed_attempts, created_at) \
             VALUES (?, ?, ?, ?, ?, 0, ?)",
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
            "INSERT INTO passwordless_codes (code_id, device_id_hash, link_code_hash, created_at) VALUES (?, ?, ?, ?)",
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

    async fn add_code(&self, tenant_id: &str, device_id_hash: &str, code: &CodeRecord) -> Result<AddCode, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let exists = sqlx::query("SELECT 1 FROM passwordless_devices WHERE tenant_id = ? AND device_id_hash = ?")
            .bind(tenant_id)
            .bind(device_id_hash)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !exists {
            return Ok(AddCode::DeviceGone);
        }
        let inserted = sqlx::query(
            "INSERT INTO passwordless_codes (code_id, device_id_hash, link_code_hash, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(&code.code_id)
        .bind(device_id_hash)
        .bind(&code.link_code_hash)
        .bind(code.created_at_ms)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {
                tx.commit().await?;
                Ok(AddCode::Added)
            }
            Err(e) if is_unique_violation(&e) => Ok(AddCode::Duplicate),
            Err(e) if is_foreign_key_violation(&e) => Ok(AddCode::DeviceGone),
            Err(e) => Err(e.into()),
        }
    }

    async fn device(&self, tenant_id: &str, device_id_hash: &str) -> Result<Option<DeviceRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let Some(row) = sqlx::query(
            "SELECT tenant_id, device_id_hash, email, phone_number, link_code_salt, failed_attempts \
             FROM passwordless_devices WHERE tenant_id = ? AND device_id_hash = ?",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let failed_attempts: i64 = row.try_get("failed_attempts")?;
        let codes = sqlx::query(
            "SELECT code_id, link_code_hash, created_at FROM passwordless_codes \
             WHERE device_id_hash = ? ORDER BY created_at",
        )
        .bind(device_id_hash)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|code| {
            Ok(CodeRecord {
                code_id: code.try_get("code_id")?,
                link_code_hash: code.try_get("link_code_hash")?,
                created_at_ms: code.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(DeviceRecord {
            tenant_id: row.try_get("tenant_id")?,
            device_id_hash: row.try_get("device_id_hash")?,
            contact: contact_from_row(&row, "passwordless_devices")?,
            link_code_salt: row.try_get("link_code_salt")?,
            failed_attempts: u32::try_from(failed_attempts).map_err(|_| StoreError::Corrupt {
                table: "passwordless_devices",
                detail: format!("failed_attempts is {failed_attempts}"),
            })?,
            codes,
        }))
    }

    async fn record_failed_attempt(
        &self,
        tenant_id: &str,
        device_id_hash: &str,
        max_attempts: u32,
    ) -> Result<FailedAttempt, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let Some(row) = sqlx::query(
            "UPDATE passwordless_devices SET failed_attempts = failed_attempts + 1 \
             WHERE tenant_id = ? AND device_id_hash = ? RETURNING failed_attempts",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(FailedAttempt::DeviceGone);
        };
        let count: i64 = row.try_get("failed_attempts")?;
        if count >= i64::from(max_attempts) {
            sqlx::query("DELETE FROM passwordless_devices WHERE tenant_id = ? AND device_id_hash = ?")
                .bind(tenant_id)
                .bind(device_id_hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(FailedAttempt::Exhausted);
        }
        tx.commit().await?;
        let count = u32::try_from(count).map_err(|_| StoreError::Corrupt {
            table: "passwordless_devices",
            detail: format!("failed_attempts is {count}"),
        })?;
        Ok(FailedAttempt::Counted(count))
    }

    async fn consume_device(&self, tenant_id: &str, device_id_hash: &str) -> Result<Option<Contact>, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let Some(row) = sqlx::query(
            "DELETE FROM passwordless_devices WHERE tenant_id = ? AND device_id_hash = ? \
             RETURNING email, phone_number",
        )
        .bind(tenant_id)
        .bind(device_id_hash)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let contact = contact_from_row(&row, "passwordless_devices")?;
        let (email, phone_number) = contact_columns(&contact);
        sqlx::query("DELETE FROM passwordless_devices WHERE tenant_id = ? AND (email = ? OR phone_number = ?)")
            .bind(tenant_id)
            .bind(email)
            .bind(phone_number)
            .execute(&mut *tx)
            .await?;
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
        // The unique indexes on (tenant_id, email) and (tenant_id, phone_number) make concurrent sign-ups of
        // one contact insert one row; the others insert nothing and read that row back.
        let created = sqlx::query(
            "INSERT INTO users (user_id, tenant_id, email, phone_number, time_joined) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(new_user_id)
        .bind(tenant_id)
        .bind(email)
        .bind(phone_number)
        .bind(now_ms)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        let user = self.user_by_contact(tenant_id, contact).await?.ok_or_else(|| StoreError::Corrupt {
            table: "users",
            detail: "a user inserted or found by contact cannot be read back".into(),
        })?;
        Ok((user, created))
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
        let created = sqlx::query(&sqlite_parameters(THIRD_PARTY_INSERT))
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
        let row = sqlx::query(&sqlite_parameters(&third_party_update()))
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
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ? AND {column} = ? AND recipe_id = 'passwordless'"
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
             VALUES (?, ?, ?, ?, ?, ?)",
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let rotated = sqlx::query(&format!(
            "UPDATE sessions SET refresh_token_hash = ?, expires_at = ? \
             WHERE refresh_token_hash = ? AND expires_at > ? RETURNING {SESSION_COLUMNS}"
        ))
        .bind(new_hash)
        .bind(new_expires_at_ms)
        .bind(old_hash)
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = rotated {
            let session = session_from_row(&row)?;
            sqlx::query("INSERT INTO rotated_refresh_tokens (refresh_token_hash, session_handle) VALUES (?, ?)")
                .bind(old_hash)
                .bind(&session.session_handle)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(RefreshOutcome::Rotated(session));
        }
        let stolen = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE session_handle = \
             (SELECT session_handle FROM rotated_refresh_tokens WHERE refresh_token_hash = ?)"
        ))
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match stolen {
            Some(row) => {
                let session = session_from_row(&row)?;
                sqlx::query("DELETE FROM sessions WHERE session_handle = ?")
                    .bind(&session.session_handle)
                    .execute(&mut *tx)
                    .await?;
                RefreshOutcome::TheftDetected(session)
            }
            None => {
                // An expired session is dropped the first time its refresh token is presented.
                sqlx::query("DELETE FROM sessions WHERE refresh_token_hash = ? AND expires_at <= ?")
                    .bind(old_hash)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                RefreshOutcome::Unknown
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    async fn session(&self, session_handle: &str, now_ms: i64) -> Result<Option<SessionRecord>, StoreError> {
        sqlx::query(&format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE session_handle = ? AND expires_at > ?"))
            .bind(session_handle)
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(session_from_row)
            .transpose()
    }

    async fn revoke_session(&self, session_handle: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE session_handle = ?")
            .bind(session_handle)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn latest_signing_key(&self, algorithm: &str) -> Result<Option<SigningKeyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT key_id, algorithm, private_key, created_at FROM signing_keys \
             WHERE algorithm = ? ORDER BY created_at DESC, key_id LIMIT 1",
        )
        .bind(algorithm)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(signing_key_from_row).transpose()
    }

    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO signing_keys (key_id, algorithm, private_key, created_at) VALUES (?, ?, ?, ?)")
            .bind(&key.key_id)
            .bind(&key.algorithm)
            .bind(&key.private_key)
            .bind(key.created_at_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn signing_keys(&self, algorithm: &str) -> Result<Vec<SigningKeyRecord>, StoreError> {
        sqlx::query(
            "SELECT key_id, algorithm, private_key, created_at FROM signing_keys \
             WHERE algorithm = ? ORDER BY created_at DESC, key_id",
        )
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
        // BEGIN IMMEDIATE serialises writers, so the check and the insert see the same keys.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let fresh = sqlx::query("SELECT 1 FROM signing_keys WHERE algorithm = ? AND created_at >= ? LIMIT 1")
            .bind(&key.algorithm)
            .bind(fresh_since_ms)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if fresh {
            return Ok(false);
        }
        sqlx::query("INSERT INTO signing_keys (key_id, algorithm, private_key, created_at) VALUES (?, ?, ?, ?)")
            .bind(&key.key_id)
            .bind(&key.algorithm)
            .bind(&key.private_key)
            .bind(key.created_at_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delete_superseded_signing_keys(
        &self,
        algorithm: &str,
        superseded_before_ms: i64,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "DELETE FROM signing_keys AS old WHERE old.algorithm = ? AND EXISTS (SELECT 1 FROM signing_keys AS new \
             WHERE new.algorithm = old.algorithm AND new.created_at > old.created_at AND new.created_at < ?)",
        )
        .bind(algorithm)
        .bind(superseded_before_ms)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected())
    }
}
