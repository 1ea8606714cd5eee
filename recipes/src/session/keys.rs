//! The access-token signing keys of an instance, shared with every other instance through the store.
//!
//! Keys live in the store's `signing_keys` table; each instance keeps the set in memory ([`KeyRing`]) and
//!
//! - **signs** with the newest key it has loaded;
//! - **rotates** on a schedule: once the newest key is older than the rotation interval, it adds a new key with
//!   [`Store::insert_signing_key_unless_fresh`], which adds at most one key however many instances try at once;
//! - **reloads** the set every [`KeyRing::reload_interval`] (at most a minute), so it signs with a key another
//!   instance added soon after, and immediately (rate-limited) when a token names a key id it does not know;
//! - **verifies** with every key whose tokens may still be alive: the newest key, and an older key until the
//!   access-token lifetime (plus [`GRACE`]) has passed since the key that replaced it was created, since an
//!   instance signs with a key at most until it picks up its successor;
//! - **prunes** keys from the store one rotation interval after that, so that the table stays small.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::tokens::{self, AccessTokenVerifier, InvalidKey, PublicKey, SigningKey};
use crate::ids::RandomError;
use crate::now_ms;
use crate::store::{SigningKeyRecord, Store, StoreError};

/// How long after its successor appears an old key's tokens are still accepted, on top of the access-token
/// lifetime: covers an instance that keeps signing with the old key until its next reload, and clock skew
/// between instances.
pub const GRACE: Duration = Duration::from_secs(120);

/// The longest time between two reloads of the key set.
const MAX_RELOAD_INTERVAL: Duration = Duration::from_secs(60);

/// The shortest time between two reloads caused by unknown key ids, so that tokens with made-up key ids
/// cannot make every request query the store.
const UNKNOWN_KEY_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// How the keys rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    /// How long a key is the signing key before a new one replaces it.
    pub rotation_interval: Duration,
    /// The access-token lifetime: how long after a key stops signing its tokens may still arrive.
    pub access_token_lifetime: Duration,
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl KeyPolicy {
    /// A key created before this instant (ms) is due for rotation at `now`.
    fn fresh_since(&self, now: i64) -> i64 {
        now.saturating_sub(millis(self.rotation_interval))
    }

    /// Tokens of a key replaced at `superseded_at` (ms) are accepted until this instant (ms).
    fn accepted_until(&self, superseded_at: i64) -> i64 {
        superseded_at.saturating_add(millis(self.access_token_lifetime)).saturating_add(millis(GRACE))
    }

    /// Keys replaced before this instant (ms) are deleted from the store at `now`.
    fn prune_before(&self, now: i64) -> i64 {
        now.saturating_sub(millis(self.access_token_lifetime))
            .saturating_sub(millis(GRACE))
            .saturating_sub(millis(self.rotation_interval))
    }
}

/// Why the keys could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The newest stored key does not decode.
    #[error(transparent)]
    Invalid(#[from] InvalidKey),
    /// No randomness for a new key.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// The store holds no key even after one was added.
    #[error("no signing key could be stored or read back")]
    Missing,
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The key operations of a [`Store`], object-safe so that the key ring (and the session verifier holding it)
/// need not be generic over the store.
trait KeyStore: Send + Sync + 'static {
    fn load(&self) -> BoxFuture<'_, Result<Vec<SigningKeyRecord>, StoreError>>;
    fn insert_unless_fresh(
        &self,
        key: SigningKeyRecord,
        fresh_since_ms: i64,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;
    fn prune(&self, superseded_before_ms: i64) -> BoxFuture<'_, Result<u64, StoreError>>;
}

impl<S: Store> KeyStore for S {
    fn load(&self) -> BoxFuture<'_, Result<Vec<SigningKeyRecord>, StoreError>> {
        Box::pin(self.signing_keys(tokens::ALGORITHM))
    }

    fn insert_unless_fresh(
        &self,
        key: SigningKeyRecord,
        fresh_since_ms: i64,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move { self.insert_signing_key_unless_fresh(&key, fresh_since_ms).await })
    }

    fn prune(&self, superseded_before_ms: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(self.delete_superseded_signing_keys(tokens::ALGORITHM, superseded_before_ms))
    }
}

/// The keys loaded at one moment: the one to sign with and the ones to verify with.
#[derive(Debug, Clone)]
pub struct KeySet {
    signing: SigningKey,
    signing_created_at_ms: i64,
    verifier: AccessTokenVerifier,
    loaded_at: Instant,
}

impl KeySet {
    /// The key new tokens are signed with (the newest).
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The verifier for every key whose tokens may still be alive.
    pub fn verifier(&self) -> &AccessTokenVerifier {
        &self.verifier
    }

    /// The keys published in the JWKS at `now_s`: those still accepted.
    pub fn published(&self, now_s: i64) -> Vec<&PublicKey> {
        self.verifier.keys().iter().filter(|key| key.is_valid_at(now_s)).collect()
    }

    /// The set from stored records (any order), under `policy`. Keys that do not decode are skipped (and
    /// logged), unless the newest does not: then nothing can be signed.
    fn from_records(mut records: Vec<SigningKeyRecord>, policy: &KeyPolicy) -> Result<Self, KeyError> {
        records.retain(|record| record.algorithm == tokens::ALGORITHM);
        records.sort_by(|a, b| b.created_at_ms.cmp(&a.created_at_ms).then_with(|| a.key_id.cmp(&b.key_id)));
        let newest = records.first().ok_or(KeyError::Missing)?;
        let signing = SigningKey::from_record(newest)?;
        let mut public = Vec::with_capacity(records.len());
        let mut successor_created_at: Option<i64> = None;
        for record in &records {
            let valid_until_s = successor_created_at.map(|at| policy.accepted_until(at) / 1000);
            successor_created_at = Some(record.created_at_ms);
            match SigningKey::from_record(record) {
                Ok(key) => public.push(key.public_key(valid_until_s)),
                Err(e) => tracing::error!(error = %e, "skipping a stored signing key"),
            }
        }
        Ok(Self {
            signing,
            signing_created_at_ms: newest.created_at_ms,
            verifier: AccessTokenVerifier::new(public),
            loaded_at: Instant::now(),
        })
    }
}

/// The keys of one instance, reloaded from (and rotated in) the store. Cheap to share behind an [`Arc`].
pub struct KeyRing {
    store: Arc<dyn KeyStore>,
    policy: KeyPolicy,
    current: RwLock<Arc<KeySet>>,
    /// When an unknown key id last caused a reload; also serialises on-demand reloads.
    unknown_key_reload: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("policy", &self.policy).field("current", &self.current()).finish()
    }
}

impl KeyRing {
    /// Loads the keys from `store`, first adding a key when there is none or the newest is due for rotation
    /// (concurrently starting instances add one key between them).
    pub async fn open<S: Store>(store: Arc<S>, policy: KeyPolicy) -> Result<Self, KeyError> {
        let store: Arc<dyn KeyStore> = store;
        let now = now_ms();
        let records = store.load().await?;
        let newest = records.iter().map(|record| record.created_at_ms).max();
        let records = if newest.is_none_or(|created| created < policy.fresh_since(now)) {
            let key = SigningKey::generate()?.to_record(now);
            store.insert_unless_fresh(key, policy.fresh_since(now)).await?;
            // Read back rather than use the new key: an instance that raced this one may have won.
            store.load().await?
        } else {
            records
        };
        let set = KeySet::from_records(records, &policy)?;
        Ok(Self {
            store,
            policy,
            current: RwLock::new(Arc::new(set)),
            unknown_key_reload: tokio::sync::Mutex::new(None),
        })
    }

    /// The keys as last loaded.
    pub fn current(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn install(&self, set: KeySet) {
        let set = Arc::new(set);
        match self.current.write() {
            Ok(mut current) => *current = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }

    /// How often [`KeyRing::maintain`] should run: every minute, or four times per rotation interval when that
    /// is shorter.
    pub fn reload_interval(&self) -> Duration {
        (self.policy.rotation_interval / 4).clamp(Duration::from_millis(100), MAX_RELOAD_INTERVAL)
    }

    /// Reloads the keys from the store.
    pub async fn reload(&self) -> Result<(), KeyError> {
        let set = KeySet::from_records(self.store.load().await?, &self.policy)?;
        self.install(set);
        Ok(())
    }

    /// Reloads the keys unless they were loaded less than `max_age` ago (concurrent callers reload once).
    pub async fn reload_if_older_than(&self, max_age: Duration) -> Result<(), KeyError> {
        if self.current().loaded_at.elapsed() < max_age {
            return Ok(());
        }
        let _serialised = self.unknown_key_reload.lock().await;
        if self.current().loaded_at.elapsed() < max_age {
            return Ok(());
        }
        self.reload().await
    }

    /// Rotates when the newest key is due (at most one instance adds a key), prunes keys whose tokens have all
    /// expired, and reloads.
    pub async fn maintain(&self) -> Result<(), KeyError> {
        let now = now_ms();
        let fresh_since = self.policy.fresh_since(now);
        if self.current().signing_created_at_ms < fresh_since {
            let key = SigningKey::generate()?;
            let key_id = key.key_id().to_owned();
            if self.store.insert_unless_fresh(key.to_record(now), fresh_since).await? {
                tracing::info!(key_id, "rotated the access-token signing key");
            }
        }
        let pruned = self.store.prune(self.policy.prune_before(now)).await?;
        if pruned > 0 {
            tracing::info!(pruned, "deleted signing keys whose tokens have all expired");
        }
        self.reload().await
    }

    /// Called when a token names a key id this instance does not know: reloads the keys unless a reload for
    /// this reason happened within the last second, and tells whether the key is known now.
    pub async fn reload_for_unknown_key(&self, key_id: &str) -> bool {
        let mut last = self.unknown_key_reload.lock().await;
        // Another request may have reloaded while this one waited.
        if self.current().verifier().knows(key_id) {
            return true;
        }
        if last.is_some_and(|at| at.elapsed() < UNKNOWN_KEY_RELOAD_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        if let Err(error) = self.reload().await {
            tracing::warn!(%error, "reloading the signing keys for an unknown key id failed");
            return false;
        }
        self.current().verifier().knows(key_id)
    }
}

/// Runs [`KeyRing::maintain`] every [`KeyRing::reload_interval`] until dropped. Outside a tokio runtime there
/// is no schedule (logged): keys are then only reloaded for unknown key ids and for the JWKS, and never rotated
/// while running.
pub(crate) fn maintenance(ring: Arc<KeyRing>) -> crate::schedule::Periodic {
    let interval = ring.reload_interval();
    crate::schedule::Periodic::start(interval, "signing key maintenance", move || {
        let ring = ring.clone();
        async move { ring.maintain().await }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(created_at_ms: i64) -> SigningKeyRecord {
        SigningKey::generate().expect("randomness").to_record(created_at_ms)
    }

    #[test]
    fn signs_with_the_newest_and_accepts_older_keys_until_their_tokens_expire() {
        let policy =
            KeyPolicy { rotation_interval: Duration::from_secs(100), access_token_lifetime: Duration::from_secs(10) };
        let (old, middle, new) = (record(1_000_000), record(2_000_000), record(3_000_000));
        let set = KeySet::from_records(vec![middle.clone(), new.clone(), old.clone()], &policy).expect("keys");
        assert_eq!(set.signing_key().key_id(), new.key_id);
        let keys = set.verifier().keys();
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[0].valid_until_s(), None);
        // Replaced at 3000 s: accepted for the access-token lifetime plus the grace after that.
        assert_eq!(keys[1].valid_until_s(), Some(3_000 + 10 + 120));
        assert_eq!(keys[2].valid_until_s(), Some(2_000 + 10 + 120));
        assert_eq!(set.published(2_500).len(), 2);
        assert_eq!(policy.prune_before(5_000_000), 5_000_000 - 10_000 - 120_000 - 100_000);
    }
}
