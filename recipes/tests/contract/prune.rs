//! The pruning part of the store contract, run against SQLite (`sqlite_store.rs`) and PostgreSQL
//! (`postgres_store.rs`), which include this file with `#[path]`: expired devices and sessions are deleted
//! with what hangs off them, and nothing that can still be used.

#![allow(unreachable_pub, reason = "shared by two test crates")]

use std::sync::Arc;

use authgen_recipes::store::{CodeRecord, NewDevice, NewSession, Pruned, ROTATED_TOKENS_KEPT, RefreshOutcome, Store};
use authgen_recipes::{Contact, ids};

const LIFETIME: i64 = 1_000;

async fn device_with_codes<S: Store>(store: &S, hash: &str, created_at_ms: i64, codes: &[i64]) {
    let device = NewDevice {
        tenant_id: "public".into(),
        device_id_hash: hash.into(),
        contact: Contact::Email(format!("{hash}@example.com")),
        link_code_salt: "c2FsdA==".into(),
        created_at_ms,
    };
    let code = |i: usize, at: i64| CodeRecord {
        code_id: format!("{hash}-{i}"),
        link_code_hash: format!("{hash}-hash-{i}"),
        created_at_ms: at,
    };
    store.create_device(&device, &code(0, codes[0])).await.expect("create device");
    for (i, at) in codes.iter().enumerate().skip(1) {
        store.add_code("public", hash, &code(i, *at), 10).await.expect("add code");
    }
}

/// At `now` 10,000 with a code lifetime of 1,000: a device whose codes are all older than 9,000 goes, one with
/// a younger code stays; sessions expired at or before 10,000 go with their rotated tokens, live ones stay.
pub async fn expired_devices_and_sessions_are_pruned<S: Store>(store: Arc<S>) {
    let now = 10_000;
    device_with_codes(&*store, "stale", 100, &[100, 8_000]).await;
    device_with_codes(&*store, "resent", 100, &[100, 9_500]).await;
    device_with_codes(&*store, "fresh", 9_900, &[9_900]).await;

    let (user, _) = store.sign_in_up("public", &Contact::Email("u@example.com".into()), "u1", 1).await.expect("user");
    for (handle, expires_at_ms) in [("expired", 10_000), ("live", 20_000)] {
        let session = NewSession {
            session_handle: handle.into(),
            user_id: user.user_id.clone(),
            tenant_id: "public".into(),
            refresh_token_hash: ids::refresh_token_hash(&format!("{handle}-r0")),
            created_at_ms: 1,
            expires_at_ms,
        };
        store.create_session(&session).await.expect("session");
    }
    // A refresh, then one with its child (which uses the child), leaves a rotated token behind for the live
    // session.
    let RefreshOutcome::Rotated(child) =
        store.rotate_refresh_token("live-r0", "salt", 5_000, 20_000).await.expect("rotate")
    else {
        panic!("the current token is refreshed")
    };
    let used = store.rotate_refresh_token(&child.refresh_token, "salt", 5_001, 20_000).await.expect("rotate");
    assert!(matches!(used, RefreshOutcome::Rotated(_)), "{used:?}");

    let pruned = store.prune_expired(now, LIFETIME).await.expect("prune");
    assert_eq!(pruned, Pruned { devices: 1, sessions: 1 });
    assert_eq!(store.device("public", "stale").await.expect("device"), None);
    assert!(store.device("public", "resent").await.expect("device").is_some(), "a young code keeps its device");
    assert!(store.device("public", "fresh").await.expect("device").is_some());
    assert_eq!(store.session("expired", 0).await.expect("session"), None);
    assert!(store.session("live", 0).await.expect("session").is_some());
    // Theft detection still works for the live session after pruning.
    let reused = store.rotate_refresh_token("live-r0", "salt", 6_000, 20_000).await.expect("reuse");
    assert!(matches!(reused, RefreshOutcome::TheftDetected(_)), "{reused:?}");

    assert_eq!(store.prune_expired(now, LIFETIME).await.expect("prune again"), Pruned::default());
}

/// The recipes delete expired devices with their codes on their own schedule (`prune_interval`, one second
/// here), with nothing else calling the store: a device whose every code is older than the code lifetime goes
/// with its codes, a device with a live code stays. `rows` counts the devices and codes in the database.
pub async fn expired_devices_and_codes_go_on_the_schedule<S, F, Fut>(store: Arc<S>, rows: F)
where
    S: Store + Clone,
    F: Fn(Arc<S>) -> Fut,
    Fut: std::future::Future<Output = (i64, i64)>,
{
    let now =
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis())
            .expect("ms fit");
    device_with_codes(&*store, "expired", 1, &[1, 2]).await;
    device_with_codes(&*store, "live", now, &[now]).await;
    assert_eq!(rows(store.clone()).await, (2, 3));

    let config = authgen_recipes::Config::new("http://localhost:3000", "http://localhost:3001")
        .expect("valid domains")
        .with_prune_interval(std::time::Duration::from_secs(1));
    let delivery = Arc::new(authgen_recipes::delivery::LogDelivery);
    let recipes = authgen_recipes::AuthRecipes::new(config, (*store).clone(), delivery).await.expect("recipes");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while rows(store.clone()).await != (1, 1) {
        assert!(std::time::Instant::now() < deadline, "not pruned in time: {:?}", rows(store.clone()).await);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(store.device("public", "expired").await.expect("device"), None);
    assert!(store.device("public", "live").await.expect("device").is_some(), "a live code keeps its device");
    drop(recipes);
}

/// 100 refreshes, each with the child of the one before (so each uses the child it presents), leave the newest
/// few rotated tokens: reusing one of them is theft, an older one is unknown.
pub async fn a_session_remembers_its_newest_rotated_tokens<S: Store>(store: Arc<S>) {
    let (user, _) = store.sign_in_up("public", &Contact::Email("r@example.com".into()), "u2", 1).await.expect("user");
    let session = NewSession {
        session_handle: "rotating".into(),
        user_id: user.user_id.clone(),
        tenant_id: "public".into(),
        refresh_token_hash: ids::refresh_token_hash("t0"),
        created_at_ms: 1,
        expires_at_ms: 1_000_000,
    };
    store.create_session(&session).await.expect("session");
    let mut tokens = vec!["t0".to_owned()];
    for i in 1..=100 {
        let outcome = store.rotate_refresh_token(&tokens[i - 1], "salt", 10 + i as i64, 1_000_000).await;
        let RefreshOutcome::Rotated(rotation) = outcome.expect("rotate") else { panic!("{i}: not rotated") };
        assert_eq!(rotation.parent_hash, ids::refresh_token_hash(&tokens[i - 1]), "{i}");
        tokens.push(rotation.refresh_token);
    }
    // t99 is current (used by the last refresh), t100 pending; t0..t98 were rotated away, the newest few kept.
    let oldest_kept = 99 - ROTATED_TOKENS_KEPT as usize;
    let forgotten = store.rotate_refresh_token(&tokens[oldest_kept - 1], "salt", 200, 1_000_000).await;
    assert!(matches!(forgotten.expect("reuse"), RefreshOutcome::Unknown), "older tokens are forgotten");
    assert!(store.session("rotating", 200).await.expect("session").is_some(), "and revoke nothing");
    let stolen = store.rotate_refresh_token(&tokens[oldest_kept], "salt", 200, 1_000_000).await;
    assert!(matches!(stolen.expect("reuse"), RefreshOutcome::TheftDetected(_)), "the newest are theft");
    assert_eq!(store.session("rotating", 200).await.expect("session"), None);
}
