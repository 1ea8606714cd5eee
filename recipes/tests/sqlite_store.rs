//! The SQLite store's contract under concurrency and across reopening the same file.

use std::sync::Arc;

use authgen_recipes::Contact;
use authgen_recipes::store::sqlite::SqliteStore;
use authgen_recipes::store::{CodeRecord, FailedAttempt, NewDevice, Store};

async fn open(dir: &tempfile::TempDir) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(dir.path().join("auth.db")).await.expect("open store"))
}

fn device(hash: &str, email: &str) -> (NewDevice, CodeRecord) {
    let device = NewDevice {
        tenant_id: "public".into(),
        device_id_hash: hash.into(),
        contact: Contact::Email(email.into()),
        link_code_salt: "c2FsdA==".into(),
        created_at_ms: 1,
    };
    let code = CodeRecord { code_id: format!("code-{hash}"), link_code_hash: format!("hash-{hash}"), created_at_ms: 1 };
    (device, code)
}

#[tokio::test]
async fn concurrent_sign_ups_of_one_contact_create_one_user() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir).await;
    let contact = Contact::Email("same@example.com".into());
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            let contact = contact.clone();
            tokio::spawn(async move { store.sign_in_up("public", &contact, &format!("user-{i}"), 1).await })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    let mut created = 0;
    for task in tasks {
        let (user, new) = task.await.expect("task").expect("sign_in_up");
        ids.insert(user.user_id);
        created += usize::from(new);
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(created, 1);
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(store.pool()).await.expect("count users");
    assert_eq!(count, 1);
}

#[tokio::test]
async fn concurrent_consumes_of_one_device_succeed_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir).await;
    let (first, first_code) = device("d1", "c@example.com");
    let (second, second_code) = device("d2", "c@example.com");
    let (other, other_code) = device("d3", "other@example.com");
    for (device, code) in [(&first, &first_code), (&second, &second_code), (&other, &other_code)] {
        store.create_device(device, code).await.expect("create device");
    }
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.consume_device("public", "d1").await })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if let Some(contact) = task.await.expect("task").expect("consume") {
            assert_eq!(contact, Contact::Email("c@example.com".into()));
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(store.device("public", "d2").await.expect("device"), None, "same contact: deleted too");
    assert!(store.device("public", "d3").await.expect("device").is_some(), "other contacts are untouched");
}

#[tokio::test]
async fn failed_attempts_count_up_to_the_maximum() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir).await;
    let (device, code) = device("d1", "f@example.com");
    store.create_device(&device, &code).await.expect("create device");
    for expected in 1..=4 {
        assert_eq!(
            store.record_failed_attempt("public", "d1", 5).await.expect("count"),
            FailedAttempt::Counted(expected)
        );
    }
    assert_eq!(store.record_failed_attempt("public", "d1", 5).await.expect("count"), FailedAttempt::Exhausted);
    assert_eq!(store.record_failed_attempt("public", "d1", 5).await.expect("count"), FailedAttempt::DeviceGone);
    assert_eq!(store.device("public", "d1").await.expect("device"), None);
}

#[path = "contract/refresh.rs"]
mod refresh;

/// Two handles on one file, as two processes on one machine would have.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refreshes_with_one_token_get_one_child() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stores = [open(&dir).await, open(&dir).await];
    refresh::concurrent_refreshes_with_one_token_get_one_child(&stores).await;
}

#[tokio::test]
async fn parent_reuse_is_theft_only_after_the_child_is_used() {
    let dir = tempfile::tempdir().expect("temp dir");
    refresh::parent_reuse_is_theft_only_after_the_child_is_used(open(&dir).await).await;
}

#[tokio::test]
async fn refreshing_with_the_child_uses_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    refresh::refreshing_with_the_child_uses_it(open(&dir).await).await;
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir).await;
    let contact = Contact::Email("keep@example.com".into());
    let (user, created) = store.sign_in_up("public", &contact, "kept-user", 5).await.expect("sign up");
    assert!(created);
    store.close().await;
    drop(store);

    let store = open(&dir).await;
    let journal: String =
        sqlx::query_scalar("PRAGMA journal_mode").fetch_one(store.pool()).await.expect("journal mode");
    assert_eq!(journal, "wal");
    assert_eq!(store.user_by_contact("public", &contact).await.expect("lookup"), Some(user.clone()));
    let (again, created) = store.sign_in_up("public", &contact, "other-id", 6).await.expect("sign in");
    assert!(!created);
    assert_eq!(again, user);
}

#[path = "contract/third_party.rs"]
mod third_party;

#[path = "contract/resend.rs"]
mod resend;

#[path = "contract/tenants.rs"]
mod tenants;

#[path = "contract/prune.rs"]
mod prune;

#[path = "contract/rate_limits.rs"]
mod rate_limits;

#[tokio::test]
async fn concurrent_rate_limit_hits_are_each_counted_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    rate_limits::concurrent_hits_are_each_counted_once(vec![open(&dir).await]).await;
}

#[tokio::test]
async fn rate_limit_windows_restart_and_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    rate_limits::windows_restart_and_end(open(&dir).await).await;
}

#[tokio::test]
async fn rate_limit_batches_count_each_counter() {
    let dir = tempfile::tempdir().expect("temp dir");
    rate_limits::batches_count_each_counter(open(&dir).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rate_limit_batches_count_every_hit() {
    let dir = tempfile::tempdir().expect("temp dir");
    rate_limits::concurrent_batches_count_every_hit(vec![open(&dir).await]).await;
}

#[tokio::test]
async fn a_session_remembers_its_newest_rotated_tokens() {
    let dir = tempfile::tempdir().expect("temp dir");
    prune::a_session_remembers_its_newest_rotated_tokens(open(&dir).await).await;
}

#[tokio::test]
async fn expired_devices_and_sessions_are_pruned() {
    let dir = tempfile::tempdir().expect("temp dir");
    prune::expired_devices_and_sessions_are_pruned(open(&dir).await).await;
}

#[tokio::test]
async fn expired_devices_and_codes_go_on_the_schedule() {
    let dir = tempfile::tempdir().expect("temp dir");
    prune::expired_devices_and_codes_go_on_the_schedule(open(&dir).await, |store| async move {
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).fetch_one(store.pool());
        let devices = count("SELECT COUNT(*) FROM passwordless_devices").await;
        let codes = count("SELECT COUNT(*) FROM passwordless_codes").await;
        (devices.expect("count"), codes.expect("count"))
    })
    .await;
}

/// The recipes prune on their schedule: a device whose code expired is gone after one interval.
#[tokio::test]
async fn the_recipes_prune_on_a_schedule() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir).await;
    let device = NewDevice {
        tenant_id: "public".into(),
        device_id_hash: "old".into(),
        contact: Contact::Email("old@example.com".into()),
        link_code_salt: "c2FsdA==".into(),
        created_at_ms: 1,
    };
    let code = CodeRecord { code_id: "c".into(), link_code_hash: "h".into(), created_at_ms: 1 };
    store.create_device(&device, &code).await.expect("create device");
    let config = authgen_recipes::Config::new("http://localhost:3000", "http://localhost:3001")
        .expect("valid domains")
        .with_prune_interval(std::time::Duration::from_secs(1));
    let delivery = Arc::new(authgen_recipes::delivery::LogDelivery);
    let recipes = authgen_recipes::AuthRecipes::new(config, (*store).clone(), delivery).await.expect("recipes");
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert_eq!(store.device("public", "old").await.expect("device"), None, "pruned by the schedule");
    drop(recipes);
}

#[tokio::test]
async fn resends_keep_only_the_newest_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    resend::resends_keep_only_the_newest_codes(open(&dir).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_resends_keep_the_cap() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir).await;
    resend::concurrent_resends_keep_the_cap([store.clone(), store]).await;
}

#[tokio::test]
async fn third_party_accounts_sign_in_and_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    third_party::third_party_accounts_sign_in_and_up(open(&dir).await).await;
}

#[tokio::test]
async fn nothing_of_one_tenant_is_found_on_another() {
    let dir = tempfile::tempdir().expect("temp dir");
    tenants::nothing_of_one_tenant_is_found_on_another(open(&dir).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_third_party_sign_ups_create_one_user() {
    let dir = tempfile::tempdir().expect("temp dir");
    third_party::concurrent_third_party_sign_ups_create_one_user(open(&dir).await).await;
}

/// Committed pages reach the database file while the store is open: the scheduled checkpoints copy the WAL
/// (the writer alone would wait for 20000 pages), and the readers, read-only, still see every commit at once.
#[tokio::test]
async fn the_wal_is_checkpointed_on_a_schedule_and_readers_see_every_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir).await;
    let file_size = || std::fs::metadata(dir.path().join("auth.db")).expect("database file").len();
    let before = file_size();
    for i in 0..300 {
        let contact = Contact::Email(format!("checkpoint-{i}@example.com"));
        store.sign_in_up("public", &contact, &format!("user-{i}"), 1).await.expect("sign up");
        let read = store.user_by_contact("public", &contact).await.expect("read");
        assert_eq!(read.map(|user| user.user_id), Some(format!("user-{i}")), "a reader sees the commit");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while file_size() <= before {
        assert!(std::time::Instant::now() < deadline, "no checkpoint copied the WAL into the database file");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(store.pool()).await.expect("count");
    assert_eq!(count, 300);
}

/// The readers are read-only (every write goes through the writer), and once the store is closed, writes fail
/// with an error instead of waiting or panicking.
#[tokio::test]
async fn readers_are_read_only_and_a_closed_store_refuses_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir).await;
    let write = sqlx::query("DELETE FROM users").execute(store.pool()).await;
    assert!(write.is_err(), "a reader connection wrote: {write:?}");
    store.close().await;
    let contact = Contact::Email("closed@example.com".into());
    assert!(store.sign_in_up("public", &contact, "u", 1).await.is_err());
}

#[path = "contract/email_verification.rs"]
mod email_verification;

#[tokio::test]
async fn a_verification_token_verifies_once_in_its_tenant_before_it_expires() {
    let dir = tempfile::tempdir().expect("temp dir");
    email_verification::a_token_verifies_once_in_its_tenant_before_it_expires(open(&dir).await).await;
}

#[tokio::test]
async fn expired_verification_tokens_are_pruned() {
    let dir = tempfile::tempdir().expect("temp dir");
    email_verification::expired_tokens_are_pruned(open(&dir).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_uses_of_one_verification_token_verify_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    email_verification::concurrent_uses_of_one_token_verify_once(vec![open(&dir).await]).await;
}

/// The recipes prune expired email verification tokens on their schedule, and leave live ones.
#[tokio::test]
async fn the_recipes_prune_expired_verification_tokens_on_a_schedule() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open(&dir).await;
    for (hash, expires_at_ms) in [("expired", 1), ("live", i64::MAX)] {
        let token = authgen_recipes::store::NewEmailVerificationToken {
            token_hash: hash.into(),
            tenant_id: "public".into(),
            user_id: "u".into(),
            email: "u@example.com".into(),
            created_at_ms: 1,
            expires_at_ms,
        };
        store.create_email_verification_token(&token).await.expect("create token");
    }
    let config = authgen_recipes::Config::new("http://localhost:3000", "http://localhost:3001")
        .expect("valid domains")
        .with_prune_interval(std::time::Duration::from_secs(1));
    let delivery = Arc::new(authgen_recipes::delivery::LogDelivery);
    let recipes = authgen_recipes::AuthRecipes::new(config, (*store).clone(), delivery).await.expect("recipes");
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let left: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM email_verification_tokens")
        .fetch_all(store.pool())
        .await
        .expect("tokens");
    assert_eq!(left, ["live"], "pruned by the schedule");
    drop(recipes);
}
