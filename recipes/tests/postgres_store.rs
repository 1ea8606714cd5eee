//! The PostgreSQL store's contract under concurrency across connection pools: every race runs over two stores
//! with pools of their own, as two auth-server processes would, so only PostgreSQL can decide the outcome.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use authgen_recipes::Contact;
use authgen_recipes::store::postgres::PostgresStore;
use authgen_recipes::store::{AddCode, CodeRecord, FailedAttempt, NewDevice, NewSession, RefreshOutcome, Store};
use support::TestSchema;

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

/// Two stores on one schema, each with its own pool.
async fn two_stores(schema: &TestSchema) -> [Arc<PostgresStore>; 2] {
    [Arc::new(schema.store().await), Arc::new(schema.store().await)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sign_ups_of_one_contact_create_one_user() {
    let Some(schema) = TestSchema::create("concurrent_sign_ups_of_one_contact_create_one_user").await else { return };
    let stores = two_stores(&schema).await;
    let contact = Contact::Email("same@example.com".into());
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = stores[i % 2].clone();
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
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(stores[0].pool()).await.expect("count");
    assert_eq!(count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_consumes_of_one_device_succeed_once() {
    let Some(schema) = TestSchema::create("concurrent_consumes_of_one_device_succeed_once").await else { return };
    let stores = two_stores(&schema).await;
    for (hash, email) in [("d1", "c@example.com"), ("d2", "c@example.com"), ("d3", "other@example.com")] {
        let (device, code) = device(hash, email);
        stores[0].create_device(&device, &code).await.expect("create device");
    }
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let store = stores[i % 2].clone();
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
    assert_eq!(stores[1].device("public", "d2").await.expect("device"), None, "same contact: deleted too");
    assert!(stores[1].device("public", "d3").await.expect("device").is_some(), "other contacts are untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_consumes_of_every_device_of_one_contact_grant_once_without_errors() {
    let Some(schema) =
        TestSchema::create("concurrent_consumes_of_every_device_of_one_contact_grant_once_without_errors").await
    else {
        return;
    };
    let stores = two_stores(&schema).await;
    // Ten rounds of twenty devices of one contact, all consumed at once over both pools.
    for _round in 0..10 {
        for i in 0..20 {
            let (device, code) = device(&format!("d{i}"), "many@example.com");
            stores[i % 2].create_device(&device, &code).await.expect("create device");
        }
        // Each consume deletes its device and then every other device of the contact. Two of them could each hold
        // one row and wait for the other's (a deadlock PostgreSQL breaks with an error); the store's advisory lock
        // on the contact queues them instead. Any error fails the test.
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = stores[i % 2].clone();
                tokio::spawn(async move { store.consume_device("public", &format!("d{i}")).await })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.expect("task").expect("no deadlock error").is_some());
        }
        assert_eq!(winners, 1);
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passwordless_devices")
            .fetch_one(stores[0].pool())
            .await
            .expect("count");
        assert_eq!(left, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_attempts_are_each_counted_once() {
    let Some(schema) = TestSchema::create("concurrent_wrong_attempts_are_each_counted_once").await else { return };
    let stores = two_stores(&schema).await;
    let (first, code) = device("d1", "f@example.com");
    stores[0].create_device(&first, &code).await.expect("create device");

    // Far below the maximum: 50 concurrent increments over two pools give each count from 1 to 50 once.
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = stores[i % 2].clone();
            tokio::spawn(async move { store.record_failed_attempt("public", "d1", 1000).await })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        match task.await.expect("task").expect("count") {
            FailedAttempt::Counted(count) => counts.push(count),
            other => panic!("{other:?}"),
        }
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=50).collect::<Vec<_>>());

    // At the maximum: of 20 concurrent attempts with 5 allowed, four count, one exhausts, the rest find it gone.
    let (device, code) = device("d2", "g@example.com");
    stores[0].create_device(&device, &code).await.expect("create device");
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = stores[i % 2].clone();
            tokio::spawn(async move { store.record_failed_attempt("public", "d2", 5).await })
        })
        .collect();
    let mut outcomes = BTreeMap::new();
    for task in tasks {
        let key = match task.await.expect("task").expect("count") {
            FailedAttempt::Counted(count) => format!("counted {count}"),
            FailedAttempt::Exhausted => "exhausted".to_owned(),
            FailedAttempt::DeviceGone => "gone".to_owned(),
        };
        *outcomes.entry(key).or_insert(0) += 1;
    }
    let expected: BTreeMap<String, i32> = [
        ("counted 1".to_owned(), 1),
        ("counted 2".to_owned(), 1),
        ("counted 3".to_owned(), 1),
        ("counted 4".to_owned(), 1),
        ("exhausted".to_owned(), 1),
        ("gone".to_owned(), 15),
    ]
    .into();
    assert_eq!(outcomes, expected);
    assert_eq!(stores[0].device("public", "d2").await.expect("device"), None);
}

#[path = "contract/refresh.rs"]
mod refresh;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refreshes_with_one_token_over_two_pools_get_one_child() {
    let name = "concurrent_refreshes_with_one_token_over_two_pools_get_one_child";
    let Some(schema) = TestSchema::create(name).await else { return };
    refresh::concurrent_refreshes_with_one_token_get_one_child(&two_stores(&schema).await).await;
}

#[tokio::test]
async fn parent_reuse_is_theft_only_after_the_child_is_used() {
    let Some(schema) = TestSchema::create("parent_reuse_is_theft_only_after_the_child_is_used").await else { return };
    refresh::parent_reuse_is_theft_only_after_the_child_is_used(Arc::new(schema.store().await)).await;
}

#[tokio::test]
async fn refreshing_with_the_child_uses_it() {
    let Some(schema) = TestSchema::create("refreshing_with_the_child_uses_it").await else { return };
    refresh::refreshing_with_the_child_uses_it(Arc::new(schema.store().await)).await;
}

#[tokio::test]
async fn codes_sessions_and_expiry_behave_as_on_sqlite() {
    let Some(schema) = TestSchema::create("codes_sessions_and_expiry_behave_as_on_sqlite").await else { return };
    let store = schema.store().await;
    let (device, first) = device("d1", "r@example.com");
    store.create_device(&device, &first).await.expect("create device");
    let second = CodeRecord { code_id: "code-2".into(), link_code_hash: "hash-2".into(), created_at_ms: 2 };
    assert_eq!(store.add_code("public", "d1", &second, 3).await.expect("add"), AddCode::Added);
    let duplicate = CodeRecord { code_id: "code-3".into(), link_code_hash: "hash-2".into(), created_at_ms: 3 };
    assert_eq!(store.add_code("public", "d1", &duplicate, 3).await.expect("add"), AddCode::Duplicate);
    assert_eq!(store.add_code("public", "nope", &duplicate, 3).await.expect("add"), AddCode::DeviceGone);
    let stored = store.device("public", "d1").await.expect("device").expect("exists");
    assert_eq!(stored.codes, vec![first, second]);
    assert_eq!(stored.contact, Contact::Email("r@example.com".into()));
    assert_eq!(stored.failed_attempts, 0);

    let (user, created) = store.sign_in_up("public", &stored.contact, "u1", 5).await.expect("user");
    assert!(created);
    assert_eq!(store.user_by_contact("public", &stored.contact).await.expect("lookup"), Some(user.clone()));
    let session = NewSession {
        session_handle: "s1".into(),
        user_id: user.user_id.clone(),
        tenant_id: "public".into(),
        refresh_token_hash: authgen_recipes::ids::refresh_token_hash("r0"),
        created_at_ms: 10,
        expires_at_ms: 100,
    };
    store.create_session(&session).await.expect("session");
    assert!(store.session("s1", 50).await.expect("session").is_some());
    // Past its expiry the session is unknown, and presenting its token drops it.
    assert_eq!(store.rotate_refresh_token("r0", "salt", 100, 200).await.expect("rotate"), RefreshOutcome::Unknown);
    assert_eq!(store.session("s1", 0).await.expect("session"), None);
    assert!(!store.revoke_session("s1").await.expect("revoke"));
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
    let Some(schema) = TestSchema::create("concurrent_rate_limit_hits_are_each_counted_once").await else { return };
    let stores = vec![Arc::new(schema.store().await), Arc::new(schema.store().await)];
    rate_limits::concurrent_hits_are_each_counted_once(stores).await;
}

#[tokio::test]
async fn rate_limit_windows_restart_and_end() {
    let Some(schema) = TestSchema::create("rate_limit_windows_restart_and_end").await else { return };
    rate_limits::windows_restart_and_end(Arc::new(schema.store().await)).await;
}

#[tokio::test]
async fn rate_limit_batches_count_each_counter() {
    let Some(schema) = TestSchema::create("rate_limit_batches_count_each_counter").await else { return };
    rate_limits::batches_count_each_counter(Arc::new(schema.store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rate_limit_batches_count_every_hit() {
    let Some(schema) = TestSchema::create("concurrent_rate_limit_batches_count_every_hit").await else { return };
    let stores = vec![Arc::new(schema.store().await), Arc::new(schema.store().await)];
    rate_limits::concurrent_batches_count_every_hit(stores).await;
}

#[tokio::test]
async fn a_session_remembers_its_newest_rotated_tokens() {
    let Some(schema) = TestSchema::create("a_session_remembers_its_newest_rotated_tokens").await else { return };
    prune::a_session_remembers_its_newest_rotated_tokens(Arc::new(schema.store().await)).await;
}

#[tokio::test]
async fn expired_devices_and_codes_go_on_the_schedule() {
    let Some(schema) = TestSchema::create("expired_devices_and_codes_go_on_the_schedule").await else { return };
    let store = Arc::new(schema.store().await);
    prune::expired_devices_and_codes_go_on_the_schedule(store, |store| async move {
        let mut connection = store.pool().acquire().await.expect("connection");
        let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
        let devices = count("SELECT COUNT(*) FROM passwordless_devices").fetch_one(&mut *connection).await;
        let codes = count("SELECT COUNT(*) FROM passwordless_codes").fetch_one(&mut *connection).await;
        (devices.expect("count"), codes.expect("count"))
    })
    .await;
}

#[tokio::test]
async fn expired_devices_and_sessions_are_pruned() {
    let Some(schema) = TestSchema::create("expired_devices_and_sessions_are_pruned").await else { return };
    prune::expired_devices_and_sessions_are_pruned(Arc::new(schema.store().await)).await;
}

#[tokio::test]
async fn resends_keep_only_the_newest_codes() {
    let Some(schema) = TestSchema::create("resends_keep_only_the_newest_codes").await else { return };
    resend::resends_keep_only_the_newest_codes(Arc::new(schema.store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_resends_keep_the_cap() {
    let Some(schema) = TestSchema::create("concurrent_resends_keep_the_cap").await else { return };
    resend::concurrent_resends_keep_the_cap(two_stores(&schema).await).await;
}

#[tokio::test]
async fn third_party_accounts_sign_in_and_up() {
    let Some(schema) = TestSchema::create("third_party_accounts_sign_in_and_up").await else { return };
    third_party::third_party_accounts_sign_in_and_up(Arc::new(schema.store().await)).await;
}

#[tokio::test]
async fn nothing_of_one_tenant_is_found_on_another() {
    let Some(schema) = TestSchema::create("nothing_of_one_tenant_is_found_on_another").await else { return };
    tenants::nothing_of_one_tenant_is_found_on_another(Arc::new(schema.store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_third_party_sign_ups_create_one_user() {
    let Some(schema) = TestSchema::create("concurrent_third_party_sign_ups_create_one_user").await else { return };
    let [first, second] = two_stores(&schema).await;
    third_party::concurrent_third_party_sign_ups_create_one_user(first).await;
    let (user, created) = second
        .third_party_sign_in_up(
            "public",
            &authgen_recipes::store::ThirdPartyAccount {
                third_party_id: "github".into(),
                third_party_user_id: "42".into(),
            },
            "x@example.com",
            true,
            "late",
            99,
        )
        .await
        .expect("sign in from the other instance");
    assert!(!created);
    assert_ne!(user.user_id, "late");
}

#[path = "contract/email_verification.rs"]
mod email_verification;

#[tokio::test]
async fn a_verification_token_verifies_once_in_its_tenant_before_it_expires() {
    let Some(schema) = TestSchema::create("a_verification_token_verifies_once").await else { return };
    email_verification::a_token_verifies_once_in_its_tenant_before_it_expires(Arc::new(schema.store().await)).await;
}

#[tokio::test]
async fn expired_verification_tokens_are_pruned() {
    let Some(schema) = TestSchema::create("expired_verification_tokens_are_pruned").await else { return };
    email_verification::expired_tokens_are_pruned(Arc::new(schema.store().await)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_uses_of_one_verification_token_verify_once() {
    let Some(schema) = TestSchema::create("concurrent_uses_of_one_verification_token").await else { return };
    email_verification::concurrent_uses_of_one_token_verify_once(two_stores(&schema).await.to_vec()).await;
}
