//! The refresh part of the store contract, run against SQLite (`sqlite_store.rs`, two handles on one file)
//! and PostgreSQL (`postgres_store.rs`, two pools on one schema, as two instances have), which include this
//! file with `#[path]`: concurrent refresh as SuperTokens' core does it. A refresh with the current token gets a
//! child that stays pending until used; the current token may be presented again meanwhile (the same child
//! comes back) and that is no theft; once the child is used (a refresh with it, or a request with an access
//! token issued with it), presenting the old token is theft.

#![allow(unreachable_pub, reason = "shared by two test crates")]

use std::collections::BTreeSet;
use std::sync::Arc;

use authgen_recipes::store::{NewSession, RefreshOutcome, RefreshTokenUse, Rotation, Store};
use authgen_recipes::{Contact, ids};

const LONG_AGO: i64 = 1;
const NOW: i64 = 1_000;
const LATER: i64 = 1_000_000;

async fn session<S: Store>(store: &S, handle: &str, first_token: &str) {
    let email = Contact::Email(format!("{handle}@example.com"));
    let (user, _) = store.sign_in_up("public", &email, &format!("user-{handle}"), LONG_AGO).await.expect("user");
    let session = NewSession {
        session_handle: handle.into(),
        user_id: user.user_id,
        tenant_id: "public".into(),
        refresh_token_hash: ids::refresh_token_hash(first_token),
        created_at_ms: LONG_AGO,
        expires_at_ms: LATER,
    };
    store.create_session(&session).await.expect("session");
}

async fn refresh<S: Store>(store: &S, token: &str) -> Rotation {
    match store.rotate_refresh_token(token, &ids::refresh_token_salt().expect("salt"), NOW, LATER).await {
        Ok(RefreshOutcome::Rotated(rotation)) => rotation,
        other => panic!("refresh refused: {other:?}"),
    }
}

async fn is_theft<S: Store>(store: &S, token: &str) -> bool {
    let outcome = store.rotate_refresh_token(token, "salt", NOW, LATER).await.expect("refresh");
    matches!(outcome, RefreshOutcome::TheftDetected(_))
}

/// Twenty refreshes with one token at once, spread over `stores` (handles on one database, as instances
/// are): all of them succeed with the same child, nothing is theft; then the child is used, and the old token
/// presented again is theft, which revokes the session.
pub async fn concurrent_refreshes_with_one_token_get_one_child<S: Store>(stores: &[Arc<S>]) {
    session(&*stores[0], "crowd", "p0").await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            tokio::spawn(async move {
                let salt = ids::refresh_token_salt().expect("salt");
                store.rotate_refresh_token("p0", &salt, NOW + i as i64, LATER).await
            })
        })
        .collect();
    let mut children = BTreeSet::new();
    for task in tasks {
        match task.await.expect("task").expect("refresh") {
            RefreshOutcome::Rotated(rotation) => {
                assert_eq!(rotation.session.session_handle, "crowd");
                assert_eq!(rotation.parent_hash, ids::refresh_token_hash("p0"));
                assert_eq!(rotation.refresh_token_hash, ids::refresh_token_hash(&rotation.refresh_token));
                children.insert(rotation.refresh_token);
            }
            other => panic!("a concurrent refresh with the current token was refused: {other:?}"),
        }
    }
    assert_eq!(children.len(), 1, "every concurrent refresh got the same child");
    assert!(stores[1 % stores.len()].session("crowd", NOW).await.expect("session").is_some(), "no theft");
    let child = children.pop_first().expect("one child");

    // The child, used on another handle: it becomes current, and the old token is theft from now on.
    let grandchild = refresh(&*stores[1 % stores.len()], &child).await;
    assert_eq!(grandchild.parent_hash, ids::refresh_token_hash(&child));
    assert!(is_theft(&*stores[0], "p0").await, "the parent after its child was used");
    for store in stores {
        assert_eq!(store.session("crowd", NOW).await.expect("session"), None, "theft revoked the session");
    }
    let after = stores[0].rotate_refresh_token(&grandchild.refresh_token, "salt", NOW, LATER).await;
    assert_eq!(after.expect("refresh"), RefreshOutcome::Unknown, "the revoked session's tokens are dead");
}

/// Sequentially: the parent presented again before its child is used gets the same child (no theft, however
/// often); after the child was used by a request (`use_refresh_token`), the parent is theft.
pub async fn parent_reuse_is_theft_only_after_the_child_is_used<S: Store>(store: Arc<S>) {
    session(&*store, "tabs", "p0").await;
    let first = refresh(&*store, "p0").await;
    for _ in 0..3 {
        let again = refresh(&*store, "p0").await;
        assert_eq!(again.refresh_token, first.refresh_token, "the same child while it is unused");
        assert_eq!(again.parent_hash, first.parent_hash);
    }
    assert_ne!(first.refresh_token, "p0");

    // A request with the child's access token uses it; again (another instance, or after its cache) is a no-op.
    let child_hash = first.refresh_token_hash.as_str();
    let used = store.use_refresh_token("tabs", &first.parent_hash, child_hash, NOW).await.expect("use");
    assert_eq!(used, RefreshTokenUse::Current);
    let again = store.use_refresh_token("tabs", &first.parent_hash, child_hash, NOW).await.expect("use");
    assert_eq!(again, RefreshTokenUse::Current);
    assert!(store.session("tabs", NOW).await.expect("session").is_some());

    assert!(is_theft(&*store, "p0").await, "the parent after a request used its child");
    assert_eq!(store.session("tabs", NOW).await.expect("session"), None, "theft revoked the session");
    let ended = store.use_refresh_token("tabs", &first.parent_hash, child_hash, NOW).await.expect("use");
    assert_eq!(ended, RefreshTokenUse::Ended);
}

/// A refresh with the child uses it too; an access token of a child the session has moved past is superseded
/// (the client refreshes), not theft; the child's own child, presented twice, is again no theft.
pub async fn refreshing_with_the_child_uses_it<S: Store>(store: Arc<S>) {
    session(&*store, "chain", "p0").await;
    let child = refresh(&*store, "p0").await;
    let grandchild = refresh(&*store, &child.refresh_token).await;
    assert_eq!(refresh(&*store, &child.refresh_token).await, grandchild, "the child is current: same grandchild");
    let used = store.use_refresh_token("chain", &grandchild.parent_hash, &grandchild.refresh_token_hash, NOW).await;
    assert_eq!(used.expect("use"), RefreshTokenUse::Current);
    // An access token issued with the first child, used late (a slow request of another tab): the session is
    // live, but that token's refresh token is no longer current.
    let late = store.use_refresh_token("chain", &child.parent_hash, &child.refresh_token_hash, NOW).await;
    assert_eq!(late.expect("use"), RefreshTokenUse::Superseded);
    assert!(store.session("chain", NOW).await.expect("session").is_some(), "superseded is no theft");

    assert!(is_theft(&*store, &child.refresh_token).await, "the child after the grandchild was used");
    assert_eq!(store.session("chain", NOW).await.expect("session"), None);
}
