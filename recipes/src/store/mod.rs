//! Persistence behind a backend-neutral trait. Each method is one atomic unit of work, so the recipe logic
//! stays correct under concurrent requests whatever the backend: a store only has to honour the contract
//! written on each method. [`SqlStore`] implements it once, for SQLite ([`sqlite`]: one machine, the embedded
//! default) and PostgreSQL ([`postgres`]: shared by several auth-server instances, so every contract also
//! holds across processes); the few differences between the two are in one place, `dialect.rs`.
//! [`AnyStore`] picks one of them from a database URL.

/// The `users` columns `rows::user_from_row` reads, as a literal for `concat!` (in `sql.rs` and
/// `verification.rs`).
macro_rules! user_columns {
    () => {
        "user_id, tenant_id, email, phone_number, time_joined, recipe_id, third_party_id, third_party_user_id, \
         email_verified"
    };
}

mod any;
mod counters;
mod dialect;
pub mod postgres;
mod rows;
mod sql;
pub mod sqlite;
mod verification;
mod writer;

pub use any::{AnyStore, AnyStoreError, Backend, UnsupportedDatabase};
pub use sql::SqlStore;

use std::future::Future;

use crate::contact::Contact;

/// A failure of the backing database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A row holds a value the recipes never write.
    #[error("corrupt row in `{table}`: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
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

/// A passwordless device to create: one sign-in attempt for a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    /// The tenant.
    pub tenant_id: String,
    /// The `preAuthSessionId`: the hash of the device id, which itself is never stored.
    pub device_id_hash: String,
    /// The normalised contact.
    pub contact: Contact,
    /// The link code salt, standard base64.
    pub link_code_salt: String,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
}

/// A code of a device: only its hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    /// The code id (a UUID).
    pub code_id: String,
    /// The hash of the link code, which also identifies the user input code.
    pub link_code_hash: String,
    /// Creation time, ms since the epoch; the code expires a code lifetime later.
    pub created_at_ms: i64,
}

/// A device as stored, with all its codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// The tenant.
    pub tenant_id: String,
    /// The `preAuthSessionId`.
    pub device_id_hash: String,
    /// The normalised contact.
    pub contact: Contact,
    /// The link code salt, standard base64.
    pub link_code_salt: String,
    /// Wrong codes entered so far.
    pub failed_attempts: u32,
    /// Every code issued for the device (createCode and each resend).
    pub codes: Vec<CodeRecord>,
}

/// How many refresh tokens rotated away a session remembers for theft detection: presenting one of them is
/// theft (the session is revoked); an older one is only unknown (401), as a never-issued token is.
pub const ROTATED_TOKENS_KEPT: i64 = 5;

/// What [`Store::prune_expired`] deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pruned {
    /// Devices whose every code had expired.
    pub devices: u64,
    /// Sessions whose refresh token had expired.
    pub sessions: u64,
}

/// What [`Store::add_code`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddCode {
    /// The code was added.
    Added,
    /// The device no longer exists.
    DeviceGone,
    /// The device already has a code with this hash (the same user input code): pick another code.
    Duplicate,
}

/// What [`Store::record_failed_attempt`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailedAttempt {
    /// The count was incremented to this value, still below the maximum.
    Counted(u32),
    /// The count reached the maximum and the device was deleted.
    Exhausted,
    /// The device no longer exists.
    DeviceGone,
}

/// A user as stored: one login method, either a passwordless contact or an account at a third-party provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The user id (a UUID), also the recipe user id.
    pub user_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The normalised contact; for third-party users the provider's email (or the fake one).
    pub contact: Contact,
    /// The provider account of a third-party user; `None` for passwordless users.
    pub third_party: Option<ThirdPartyAccount>,
    /// Whether the email is verified: always for passwordless users, as the provider said for third-party ones.
    pub email_verified: bool,
    /// Sign-up time, ms since the epoch.
    pub time_joined_ms: i64,
}

/// An account at a third-party provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThirdPartyAccount {
    /// The `thirdPartyId`, e.g. `google`.
    pub third_party_id: String,
    /// The provider's id of the user.
    pub third_party_user_id: String,
}

/// A session to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The session handle (a UUID).
    pub session_handle: String,
    /// The user.
    pub user_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The hash of the current refresh token.
    pub refresh_token_hash: String,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
    /// When the refresh token expires, ms since the epoch.
    pub expires_at_ms: i64,
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session handle.
    pub session_handle: String,
    /// The user.
    pub user_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
    /// When the refresh token expires, ms since the epoch.
    pub expires_at_ms: i64,
}

/// What [`Store::rotate_refresh_token`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token is the session's current one, or its pending child (which this refresh used, so it is
    /// current now): here is its child, pending until used.
    Rotated(Rotation),
    /// The token was rotated away (its child was used): token theft. The session has been revoked.
    TheftDetected(SessionRecord),
    /// No live session has this token (never issued, revoked or expired).
    Unknown,
}

/// A refresh of a live session: the child token to hand out.
#[derive(Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The session, with its extended expiry.
    pub session: SessionRecord,
    /// The child of the presented token: pending until used (by a request with an access token issued with
    /// it, or a refresh), the same for every refresh with the presented token until then.
    pub refresh_token: String,
    /// The hash of `refresh_token`.
    pub refresh_token_hash: String,
    /// The hash of the presented token, the session's current token now.
    pub parent_hash: String,
}

impl std::fmt::Debug for Rotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rotation")
            .field("session", &self.session)
            .field("refresh_token_hash", &self.refresh_token_hash)
            .field("parent_hash", &self.parent_hash)
            .finish_non_exhaustive()
    }
}

/// What [`Store::use_refresh_token`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshTokenUse {
    /// The session is live and the child token is its current one (made so by this call, or before).
    Current,
    /// The session is live but has moved past the child token (another child, or a later generation, is
    /// current): access tokens issued with it are refused until the client refreshes.
    Superseded,
    /// No live session with this handle.
    Ended,
}

/// A JWT signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// The key id (`kid`).
    pub key_id: String,
    /// The JWS algorithm, e.g. `ES256`.
    pub algorithm: String,
    /// The private key bytes (for ES256: the 32-byte scalar).
    pub private_key: Vec<u8>,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
}

/// Requests counted under one rate-limit counter (see [`Store::count_hits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterHit {
    /// The counter: a limit's name and its subject.
    pub key: String,
    /// When the window these requests fall in starts (ms since the epoch).
    pub window_start_ms: i64,
    /// When that window ends.
    pub expires_at_ms: i64,
    /// How many requests.
    pub hits: i64,
}

/// An email verification token to store: only the hash of the token, which itself is sent and never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEmailVerificationToken {
    /// The SHA-256 hash of the token (URL-safe base64).
    pub token_hash: String,
    /// The tenant of the session that asked for it; the token is used through this tenant only.
    pub tenant_id: String,
    /// The user whose email it verifies.
    pub user_id: String,
    /// The email it verifies.
    pub email: String,
    /// Creation time, ms since the epoch.
    pub created_at_ms: i64,
    /// When the token expires, ms since the epoch.
    pub expires_at_ms: i64,
}

/// The (user, email) pair an email verification token verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEmail {
    /// The user.
    pub user_id: String,
    /// The email, verified for this user.
    pub email: String,
}

/// The persistence the recipes need. Every method is atomic on its own; concurrent callers must observe
/// the outcomes documented per method (for example, of many concurrent [`Store::consume_device`] calls
/// for one device exactly one gets `Some`).
pub trait Store: Send + Sync + 'static {
    /// Creates a device with its first code.
    fn create_device(
        &self,
        device: &NewDevice,
        code: &CodeRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Adds a code to an existing device (resend) and drops its oldest codes beyond the newest `keep`, in one
    /// atomic unit: a resend never leaves the device with more than `keep` codes, nor with none.
    fn add_code(
        &self,
        tenant_id: &str,
        device_id_hash: &str,
        code: &CodeRecord,
        keep: u32,
    ) -> impl Future<Output = Result<AddCode, StoreError>> + Send;

    /// A device with its codes.
    fn device(
        &self,
        tenant_id: &str,
        device_id_hash: &str,
    ) -> impl Future<Output = Result<Option<DeviceRecord>, StoreError>> + Send;

    /// Counts a wrong code: increments the device's failed attempts and, when the count reaches
    /// `max_attempts`, deletes the device instead.
    fn record_failed_attempt(
        &self,
        tenant_id: &str,
        device_id_hash: &str,
        max_attempts: u32,
    ) -> impl Future<Output = Result<FailedAttempt, StoreError>> + Send;

    /// Consumes a device after a correct code: deletes it and every other device of the same contact in
    /// the tenant. Returns the contact when this call deleted the device, `None` when it was already gone,
    /// so that exactly one of many concurrent consumers succeeds.
    fn consume_device(
        &self,
        tenant_id: &str,
        device_id_hash: &str,
    ) -> impl Future<Output = Result<Option<Contact>, StoreError>> + Send;

    /// Signs a contact in or up: returns its user, creating it with `new_user_id` when there is none.
    /// The flag is true when this call created the user; concurrent calls for one new contact create
    /// exactly one user and all return it.
    fn sign_in_up(
        &self,
        tenant_id: &str,
        contact: &Contact,
        new_user_id: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<(UserRecord, bool), StoreError>> + Send;

    /// Signs a third-party account in or up: returns its user, creating it with `new_user_id`, `email` and
    /// `email_verified` when there is none. An existing user gets `email` (the provider's current one); its
    /// verified flag becomes `email_verified` when the email changed, and stays true once true otherwise.
    /// The flag returned is true when this call created the user; concurrent calls for one new account create
    /// exactly one user.
    fn third_party_sign_in_up(
        &self,
        tenant_id: &str,
        account: &ThirdPartyAccount,
        email: &str,
        email_verified: bool,
        new_user_id: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<(UserRecord, bool), StoreError>> + Send;

    /// The passwordless user with this contact.
    fn user_by_contact(
        &self,
        tenant_id: &str,
        contact: &Contact,
    ) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send;

    /// Creates a session.
    fn create_session(&self, session: &NewSession) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Refreshes with a refresh token, as SuperTokens' core does, so that concurrent refreshes with one token
    /// are not theft:
    /// - the session's **current** token gets its child (derived from `token` and the session's secret salt,
    ///   which is `new_salt` for a session that has none yet), which is **pending** until used; presenting the
    ///   current token again gets the same child;
    /// - the **pending** child, presented, is used: it becomes the current token, the previous current token is
    ///   remembered as rotated (the newest [`ROTATED_TOKENS_KEPT`] per session are), and the child's own child
    ///   is returned;
    /// - a **rotated** token is theft: its session is revoked.
    ///
    /// Either way the session is extended to `new_expires_at_ms`. Sessions past their expiry count as unknown.
    /// Atomic: concurrent refreshes with one token all get the same child, and a rotation is never lost.
    fn rotate_refresh_token(
        &self,
        token: &str,
        new_salt: &str,
        now_ms: i64,
        new_expires_at_ms: i64,
    ) -> impl Future<Output = Result<RefreshOutcome, StoreError>> + Send;

    /// A request was authenticated with an access token issued with the child `child_hash` of `parent_hash`:
    /// when the child is the session's pending token (and `parent_hash` its current one), the child is used,
    /// as by [`Store::rotate_refresh_token`]: it becomes current and the parent is rotated away, so that
    /// presenting the parent again is theft. Atomic like a refresh with the child.
    fn use_refresh_token(
        &self,
        session_handle: &str,
        parent_hash: &str,
        child_hash: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<RefreshTokenUse, StoreError>> + Send;

    /// A live session.
    fn session(
        &self,
        session_handle: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<SessionRecord>, StoreError>> + Send;

    /// Deletes what can no longer be used: devices with no code younger than `code_lifetime_ms` (with their
    /// codes) and sessions whose refresh token expired (with their rotated tokens).
    fn prune_expired(
        &self,
        now_ms: i64,
        code_lifetime_ms: i64,
    ) -> impl Future<Output = Result<Pruned, StoreError>> + Send;

    /// Counts requests under rate-limit counters, in one statement per 256 counters (on SQLite one commit: the
    /// batch is how concurrent requests share the cost of counting). Each [`CounterHit`] adds its `hits` to the
    /// counter `key` in the window that starts at `window_start_ms` and ends at `expires_at_ms` (a counter of an
    /// earlier window starts again; one of a later window keeps counting in its own); the answer holds each
    /// counter's count after its hits, in the order given. Keys must be distinct. Atomic across every process
    /// sharing the database: concurrent calls with overlapping keys each see their own hits counted once.
    fn count_hits(&self, hits: &[CounterHit]) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;

    /// [`Store::count_hits`] for one request: the count so far, this request included.
    fn count_hit(
        &self,
        key: &str,
        window_start_ms: i64,
        expires_at_ms: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send {
        let hit = CounterHit { key: key.to_owned(), window_start_ms, expires_at_ms, hits: 1 };
        async move {
            let counts = self.count_hits(std::slice::from_ref(&hit)).await?;
            counts.first().copied().ok_or_else(|| StoreError::Corrupt {
                table: "rate_limits",
                detail: format!("no count came back for `{}`", hit.key),
            })
        }
    }

    /// Revokes a session; true when it existed.
    fn revoke_session(&self, session_handle: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The newest signing key of an algorithm.
    fn latest_signing_key(
        &self,
        algorithm: &str,
    ) -> impl Future<Output = Result<Option<SigningKeyRecord>, StoreError>> + Send;

    /// Stores a signing key.
    fn insert_signing_key(&self, key: &SigningKeyRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every signing key of an algorithm, newest first.
    fn signing_keys(&self, algorithm: &str) -> impl Future<Output = Result<Vec<SigningKeyRecord>, StoreError>> + Send;

    /// Stores `key` unless a key of its algorithm created at or after `fresh_since_ms` exists; true when
    /// stored. Atomic: of concurrent calls (from any number of processes sharing the database) with the same
    /// cutoff, at most one stores its key, so instances that rotate at the same moment rotate once.
    fn insert_signing_key_unless_fresh(
        &self,
        key: &SigningKeyRecord,
        fresh_since_ms: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes every key of `algorithm` superseded before `superseded_before_ms`, that is every key for which a
    /// newer key of the algorithm was created before that time. Returns how many were deleted.
    fn delete_superseded_signing_keys(
        &self,
        algorithm: &str,
        superseded_before_ms: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The user with this id.
    fn user(&self, user_id: &str) -> impl Future<Output = Result<Option<UserRecord>, StoreError>> + Send;

    /// Stores an email verification token.
    fn create_email_verification_token(
        &self,
        token: &NewEmailVerificationToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Uses the email verification token of `token_hash` in `tenant_id`: deletes it and, when it had not
    /// expired at `now_ms`, records its (user, email) as verified and deletes every other token of that pair,
    /// returning the pair. `None` for a token unknown, of another tenant, already used or expired. Single use:
    /// of concurrent calls with one token, at most one gets `Some`.
    fn use_email_verification_token(
        &self,
        tenant_id: &str,
        token_hash: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<Option<VerifiedEmail>, StoreError>> + Send;

    /// Whether `email` was verified for `user_id` with a token.
    fn is_email_verified(&self, user_id: &str, email: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Deletes the email verification tokens expired at `now_ms`; how many.
    fn prune_email_verification_tokens(&self, now_ms: i64) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
