//! Signing keys shared through the store, on SQLite and (when reachable) PostgreSQL: at most one key per
//! rotation however many instances try, pruning of keys whose tokens have expired, instances picking up a key
//! another instance added (on an unknown `kid`), and the scheduled rotation of a running `AuthRecipes`.

mod support;

use std::sync::Arc;
use std::time::Duration;

use authgen_recipes::delivery::LogDelivery;
use authgen_recipes::session::AccessTokenSources;
use authgen_recipes::session::keys::{KeyPolicy, KeyRing};
use authgen_recipes::session::tokens::{self, AccessTokenClaims, SigningKey};
use authgen_recipes::store::sqlite::SqliteStore;
use authgen_recipes::store::{AnyStore, Store};
use authgen_recipes::{AntiCsrf, AuthRecipes, Config, SessionRejection, SessionVerifier};
use support::TestSchema;

/// Two stores on one database, each with its own pool, as two instances would have: an SQLite file in `dir`,
/// or a schema of `schema`.
async fn two_stores(dir: &tempfile::TempDir, schema: Option<&TestSchema>) -> [Arc<AnyStore>; 2] {
    match schema {
        Some(schema) => [Arc::new(schema.store().await.into()), Arc::new(schema.store().await.into())],
        None => {
            let path = dir.path().join("auth.db");
            let first = SqliteStore::open(&path).await.expect("open");
            let second = SqliteStore::open(&path).await.expect("open");
            [Arc::new(first.into()), Arc::new(second.into())]
        }
    }
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock");
    i64::try_from(since.as_millis()).expect("time fits")
}

async fn at_most_one_key_per_rotation(stores: [Arc<AnyStore>; 2]) {
    let cutoff = 1_000;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = stores[i % 2].clone();
            tokio::spawn(async move {
                let key =
                    SigningKey::generate().expect("randomness").to_record(5_000 + i64::try_from(i).expect("small"));
                store.insert_signing_key_unless_fresh(&key, cutoff).await
            })
        })
        .collect();
    let mut inserted = 0;
    for task in tasks {
        inserted += usize::from(task.await.expect("task").expect("insert"));
    }
    assert_eq!(inserted, 1);

    // Keys come newest first; a key is deleted once its successor is older than the cutoff.
    let old = SigningKey::generate().expect("randomness").to_record(100);
    let older = SigningKey::generate().expect("randomness").to_record(50);
    stores[0].insert_signing_key(&old).await.expect("insert");
    stores[1].insert_signing_key(&older).await.expect("insert");
    let keys = stores[1].signing_keys(tokens::ALGORITHM).await.expect("keys");
    assert_eq!(keys.len(), 3);
    assert_eq!((keys[1].key_id.as_str(), keys[2].key_id.as_str()), (old.key_id.as_str(), older.key_id.as_str()));
    // `older` was superseded at 100, `old` only at 5000.
    assert_eq!(stores[0].delete_superseded_signing_keys(tokens::ALGORITHM, 1_000).await.expect("prune"), 1);
    let left: Vec<String> =
        stores[0].signing_keys(tokens::ALGORITHM).await.expect("keys").into_iter().map(|k| k.key_id).collect();
    assert_eq!(left, vec![keys[0].key_id.clone(), old.key_id.clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_most_one_key_per_rotation_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    at_most_one_key_per_rotation(two_stores(&dir, None).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_most_one_key_per_rotation_on_postgres() {
    let Some(schema) = TestSchema::create("at_most_one_key_per_rotation_on_postgres").await else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    at_most_one_key_per_rotation(two_stores(&dir, Some(&schema)).await).await;
}

fn policy(rotation: Duration) -> KeyPolicy {
    KeyPolicy { rotation_interval: rotation, access_token_lifetime: Duration::from_secs(3600) }
}

fn token(key: &SigningKey) -> String {
    let now = now_ms() / 1000;
    let claims = AccessTokenClaims {
        user_id: "u".into(),
        session_handle: "h".into(),
        tenant_id: "public".into(),
        issued_at_s: now,
        expires_at_s: now + 60,
        issuer: "http://localhost:3001/auth".into(),
    };
    key.sign(&claims.to_payload())
}

fn bearer(token: &str) -> AccessTokenSources<'_> {
    AccessTokenSources { bearer: Some(token), ..AccessTokenSources::default() }
}

async fn instances_pick_up_a_key_another_instance_added(stores: [Arc<AnyStore>; 2]) {
    // Two instances start on an empty database: one key between them.
    let x = Arc::new(KeyRing::open(stores[0].clone(), policy(Duration::from_secs(3600))).await.expect("ring"));
    let y = Arc::new(KeyRing::open(stores[1].clone(), policy(Duration::from_secs(3600))).await.expect("ring"));
    let first = x.current().signing_key().clone();
    assert_eq!(y.current().signing_key().key_id(), first.key_id());

    // A third instance, configured to rotate every second, starts a second later and rotates.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let z = KeyRing::open(stores[0].clone(), policy(Duration::from_secs(1))).await.expect("ring");
    let second = z.current().signing_key().clone();
    assert_ne!(second.key_id(), first.key_id());

    // Y has not reloaded yet: the plain check rejects the new kid, the reloading one fetches it.
    let verifier = SessionVerifier::with_key_ring(y.clone(), AntiCsrf::None);
    let new_token = token(&second);
    assert_eq!(verifier.verify(bearer(&new_token), now_ms() / 1000), Err(SessionRejection::TryRefreshToken));
    let session = verifier.verify_reloading(bearer(&new_token), now_ms() / 1000).await.expect("verifies");
    assert_eq!(session.map(|s| s.user_id).as_deref(), Some("u"));
    // The old key still verifies (its tokens are alive), and both are published.
    let old_token = token(&first);
    assert!(verifier.verify(bearer(&old_token), now_ms() / 1000).expect("verifies").is_some());
    let published: Vec<String> = y.current().published(now_ms() / 1000).iter().map(|k| k.key_id().to_owned()).collect();
    assert_eq!(published, vec![second.key_id().to_owned(), first.key_id().to_owned()]);
    // Y now signs with the new key too.
    assert_eq!(y.current().signing_key().key_id(), second.key_id());

    // A made-up kid does not verify (and reloads for unknown kids happen at most once a second).
    let stranger = token(&SigningKey::generate().expect("randomness"));
    assert_eq!(
        verifier.verify_reloading(bearer(&stranger), now_ms() / 1000).await,
        Err(SessionRejection::TryRefreshToken)
    );
    assert!(!y.reload_for_unknown_key("made-up").await, "a made-up kid stays unknown");
}

#[tokio::test]
async fn instances_pick_up_a_key_another_instance_added_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    instances_pick_up_a_key_another_instance_added(two_stores(&dir, None).await).await;
}

#[tokio::test]
async fn instances_pick_up_a_key_another_instance_added_on_postgres() {
    let Some(schema) = TestSchema::create("instances_pick_up_a_key_another_instance_added_on_postgres").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    instances_pick_up_a_key_another_instance_added(two_stores(&dir, Some(&schema)).await).await;
}

#[tokio::test]
async fn running_recipes_rotate_on_schedule_and_keep_verifying_old_tokens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("auth.db")).await.expect("store");
    let config = Config::new("http://localhost:3000", "http://localhost:3001")
        .expect("valid domains")
        .with_signing_key_rotation_interval(Duration::from_secs(1));
    let recipes = AuthRecipes::new(config, store.clone(), Arc::new(LogDelivery)).await.expect("recipes");
    let first = recipes.keys().current().signing_key().clone();
    let old_token = token(&first);
    // The schedule runs four times per interval; give it two intervals.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while recipes.keys().current().signing_key().key_id() == first.key_id() {
        assert!(std::time::Instant::now() < deadline, "no rotation within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let verifier = recipes.session_verifier();
    assert!(verifier.verify(bearer(&old_token), now_ms() / 1000).expect("old token verifies").is_some());
    let stored = store.signing_keys(tokens::ALGORITHM).await.expect("keys");
    assert!(stored.len() >= 2, "rotation keeps the old key: {stored:?}");
}
