//! [`AnyStore`]: the store a database URL names, so that one server binary (and one instantiation of the
//! recipes) serves either backend.

use super::postgres::PostgresStore;
use super::sqlite::SqliteStore;
use super::{
    AddCode, CodeRecord, CounterHit, DeviceRecord, FailedAttempt, NewDevice, NewSession, Pruned, RefreshOutcome,
    RefreshTokenUse, SessionRecord, SigningKeyRecord, Store, StoreError, ThirdPartyAccount, UserRecord,
};
use crate::contact::Contact;

/// Either store, chosen at run time from a database URL: `sqlite://PATH` (or `sqlite:PATH`) or
/// `postgres://…` (or `postgresql://…`).
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// An SQLite file: one instance.
    Sqlite(SqliteStore),
    /// A PostgreSQL database: any number of instances.
    Postgres(PostgresStore),
}

/// A database URL whose scheme names no store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("database `{scheme}://…` is not supported: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
pub struct UnsupportedDatabase {
    /// The URL's scheme (the rest, which may hold credentials, is left out).
    pub scheme: String,
}

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite:`.
    Sqlite,
    /// `postgres:` or `postgresql:`.
    Postgres,
}

impl Backend {
    /// The backend of `url`, by its scheme.
    pub fn of(url: &str) -> Result<Self, UnsupportedDatabase> {
        let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            _ => Err(UnsupportedDatabase { scheme: scheme.chars().take(32).collect() }),
        }
    }
}

impl AnyStore {
    /// Opens (and migrates) the database `url` names. `max_connections` sizes the PostgreSQL pool; the SQLite
    /// store keeps its own small pool.
    pub async fn open(url: &str, max_connections: u32) -> Result<Self, AnyStoreError> {
        Ok(match Backend::of(url)? {
            Backend::Sqlite => Self::Sqlite(SqliteStore::open_url(url).await?),
            Backend::Postgres => {
                let options = url.parse().map_err(|e: sqlx::Error| StoreError::Database(Box::new(e)))?;
                Self::Postgres(PostgresStore::connect_with(options, max_connections).await?)
            }
        })
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Why [`AnyStore::open`] failed.
#[derive(Debug, thiserror::Error)]
pub enum AnyStoreError {
    /// The URL names no supported backend.
    #[error(transparent)]
    Unsupported(#[from] UnsupportedDatabase),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SqliteStore> for AnyStore {
    fn from(store: SqliteStore) -> Self {
        Self::Sqlite(store)
    }
}

impl From<PostgresStore> for AnyStore {
    fn from(store: PostgresStore) -> Self {
        Self::Postgres(store)
    }
}

/// Forwards a call to whichever store this is.
macro_rules! delegate {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($store) => $call.await,
            AnyStore::Postgres($store) => $call.await,
        }
    };
}

impl Store for AnyStore {
    async fn create_device(&self, device: &NewDevice, code: &CodeRecord) -> Result<(), StoreError> {
        delegate!(self, s => s.create_device(device, code))
    }

    async fn prune_expired(&self, now_ms: i64, code_lifetime_ms: i64) -> Result<Pruned, StoreError> {
        delegate!(self, s => s.prune_expired(now_ms, code_lifetime_ms))
    }

    async fn add_code(
        &self,
        tenant_id: &str,
        device_id_hash: &str,
        code: &CodeRecord,
        keep: u32,
    ) -> Result<AddCode, StoreError> {
        delegate!(self, s => s.add_code(tenant_id, device_id_hash, code, keep))
    }

    async fn device(&self, tenant_id: &str, device_id_hash: &str) -> Result<Option<DeviceRecord>, StoreError> {
        delegate!(self, s => s.device(tenant_id, device_id_hash))
    }

    async fn record_failed_attempt(
        &self,
        tenant_id: &str,
        device_id_hash: &str,
        max_attempts: u32,
    ) -> Result<FailedAttempt, StoreError> {
        delegate!(self, s => s.record_failed_attempt(tenant_id, device_id_hash, max_attempts))
    }

    async fn consume_device(&self, tenant_id: &str, device_id_hash: &str) -> Result<Option<Contact>, StoreError> {
        delegate!(self, s => s.consume_device(tenant_id, device_id_hash))
    }

    async fn sign_in_up(
        &self,
        tenant_id: &str,
        contact: &Contact,
        new_user_id: &str,
        now_ms: i64,
    ) -> Result<(UserRecord, bool), StoreError> {
        delegate!(self, s => s.sign_in_up(tenant_id, contact, new_user_id, now_ms))
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
        delegate!(self, s => s.third_party_sign_in_up(tenant_id, account, email, email_verified, new_user_id, now_ms))
    }

    async fn user_by_contact(&self, tenant_id: &str, contact: &Contact) -> Result<Option<UserRecord>, StoreError> {
        delegate!(self, s => s.user_by_contact(tenant_id, contact))
    }

    async fn create_session(&self, session: &NewSession) -> Result<(), StoreError> {
        delegate!(self, s => s.create_session(session))
    }

    async fn rotate_refresh_token(
        &self,
        token: &str,
        new_salt: &str,
        now_ms: i64,
        new_expires_at_ms: i64,
    ) -> Result<RefreshOutcome, StoreError> {
        delegate!(self, s => s.rotate_refresh_token(token, new_salt, now_ms, new_expires_at_ms))
    }

    async fn use_refresh_token(
        &self,
        session_handle: &str,
        parent_hash: &str,
        child_hash: &str,
        now_ms: i64,
    ) -> Result<RefreshTokenUse, StoreError> {
        delegate!(self, s => s.use_refresh_token(session_handle, parent_hash, child_hash, now_ms))
    }

    async fn session(&self, session_handle: &str, now_ms: i64) -> Result<Option<SessionRecord>, StoreError> {
        delegate!(self, s => s.session(session_handle, now_ms))
    }

    async fn count_hits(&self, hits: &[CounterHit]) -> Result<Vec<i64>, StoreError> {
        delegate!(self, s => s.count_hits(hits))
    }

    async fn revoke_session(&self, session_handle: &str) -> Result<bool, StoreError> {
        delegate!(self, s => s.revoke_session(session_handle))
    }

    async fn latest_signing_key(&self, algorithm: &str) -> Result<Option<SigningKeyRecord>, StoreError> {
        delegate!(self, s => s.latest_signing_key(algorithm))
    }

    async fn insert_signing_key(&self, key: &SigningKeyRecord) -> Result<(), StoreError> {
        delegate!(self, s => s.insert_signing_key(key))
    }

    async fn signing_keys(&self, algorithm: &str) -> Result<Vec<SigningKeyRecord>, StoreError> {
        delegate!(self, s => s.signing_keys(algorithm))
    }

    async fn insert_signing_key_unless_fresh(
        &self,
        key: &SigningKeyRecord,
        fresh_since_ms: i64,
    ) -> Result<bool, StoreError> {
        delegate!(self, s => s.insert_signing_key_unless_fresh(key, fresh_since_ms))
    }

    async fn delete_superseded_signing_keys(
        &self,
        algorithm: &str,
        superseded_before_ms: i64,
    ) -> Result<u64, StoreError> {
        delegate!(self, s => s.delete_superseded_signing_keys(algorithm, superseded_before_ms))
    }

    async fn user(&self, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
        delegate!(self, s => s.user(user_id))
    }

    async fn create_email_verification_token(
        &self,
        token: &super::NewEmailVerificationToken,
    ) -> Result<(), StoreError> {
        delegate!(self, s => s.create_email_verification_token(token))
    }

    async fn use_email_verification_token(
        &self,
        tenant_id: &str,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<super::VerifiedEmail>, StoreError> {
        delegate!(self, s => s.use_email_verification_token(tenant_id, token_hash, now_ms))
    }

    async fn is_email_verified(&self, user_id: &str, email: &str) -> Result<bool, StoreError> {
        delegate!(self, s => s.is_email_verified(user_id, email))
    }

    async fn prune_email_verification_tokens(&self, now_ms: i64) -> Result<u64, StoreError> {
        delegate!(self, s => s.prune_email_verification_tokens(now_ms))
    }
}
