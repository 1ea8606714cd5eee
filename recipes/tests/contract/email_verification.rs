//! The email verification part of the store contract, run against SQLite (`sqlite_store.rs`) and PostgreSQL
//! (`postgres_store.rs`), which include this file with `#[path]`: a token verifies its (user, email) once,
//! within its tenant and before it expires, and takes the pair's other tokens with it.

#![allow(unreachable_pub, reason = "shared by two test crates")]

use std::sync::Arc;

use authgen_recipes::Contact;
use authgen_recipes::store::{NewEmailVerificationToken, Store, ThirdPartyAccount, VerifiedEmail};

fn token(hash: &str, user_id: &str, email: &str, expires_at_ms: i64) -> NewEmailVerificationToken {
    NewEmailVerificationToken {
        token_hash: hash.into(),
        tenant_id: "public".into(),
        user_id: user_id.into(),
        email: email.into(),
        created_at_ms: 1,
        expires_at_ms,
    }
}

async fn third_party_user<S: Store>(store: &S, email: &str) -> String {
    let account = ThirdPartyAccount { third_party_id: "custom".into(), third_party_user_id: email.into() };
    let (user, created) =
        store.third_party_sign_in_up("public", &account, email, false, &format!("u-{email}"), 1).await.expect("user");
    assert!(created && !user.email_verified);
    user.user_id
}

/// At `now` 1,000: an expired token, a token of another tenant and an unknown one verify nothing; a live one
/// verifies its pair once and its sibling goes with it; a pair verified stays verified, another email of the
/// same user is not.
pub async fn a_token_verifies_once_in_its_tenant_before_it_expires<S: Store>(store: Arc<S>) {
    let now = 1_000;
    let user = third_party_user(&*store, "ev@example.com").await;
    let found = store.user(&user).await.expect("user by id").expect("the user exists");
    assert_eq!(found.contact, Contact::Email("ev@example.com".into()));
    assert_eq!(store.user("nobody").await.expect("user by id"), None);

    for t in [token("live", &user, "ev@example.com", 2_000), token("sibling", &user, "ev@example.com", 2_000)] {
        store.create_email_verification_token(&t).await.expect("create token");
    }
    store.create_email_verification_token(&token("expired", &user, "ev@example.com", now)).await.expect("create");
    let mut other_tenant = token("tenant", &user, "ev@example.com", 2_000);
    other_tenant.tenant_id = "customer-1".into();
    store.create_email_verification_token(&other_tenant).await.expect("create");

    assert!(!store.is_email_verified(&user, "ev@example.com").await.expect("verified?"));
    assert_eq!(store.use_email_verification_token("public", "expired", now).await.expect("use"), None);
    assert_eq!(store.use_email_verification_token("public", "tenant", now).await.expect("use"), None);
    assert_eq!(store.use_email_verification_token("public", "unknown", now).await.expect("use"), None);
    assert!(!store.is_email_verified(&user, "ev@example.com").await.expect("verified?"));

    let verified = store.use_email_verification_token("public", "live", now).await.expect("use");
    assert_eq!(verified, Some(VerifiedEmail { user_id: user.clone(), email: "ev@example.com".into() }));
    assert!(store.is_email_verified(&user, "ev@example.com").await.expect("verified?"));
    assert!(!store.is_email_verified(&user, "other@example.com").await.expect("verified?"));
    assert_eq!(store.use_email_verification_token("public", "live", now).await.expect("use again"), None);
    assert_eq!(store.use_email_verification_token("public", "sibling", now).await.expect("sibling"), None);

    // A second verification of the same pair (a token asked for before the first was used) changes nothing.
    store.create_email_verification_token(&token("again", &user, "ev@example.com", 2_000)).await.expect("create");
    assert!(store.use_email_verification_token("public", "again", now).await.expect("use").is_some());
    assert!(store.is_email_verified(&user, "ev@example.com").await.expect("verified?"));
}

/// Pruning deletes the expired tokens only.
pub async fn expired_tokens_are_pruned<S: Store>(store: Arc<S>) {
    let user = third_party_user(&*store, "prune@example.com").await;
    for (hash, expires_at_ms) in [("old", 500), ("edge", 1_000), ("young", 1_001)] {
        store
            .create_email_verification_token(&token(hash, &user, "prune@example.com", expires_at_ms))
            .await
            .expect("create");
    }
    assert_eq!(store.prune_email_verification_tokens(1_000).await.expect("prune"), 2);
    assert!(store.use_email_verification_token("public", "young", 1_000).await.expect("use").is_some());
}

/// Of concurrent uses of one token (over every store given, as instances sharing a database), exactly one
/// verifies.
pub async fn concurrent_uses_of_one_token_verify_once<S: Store>(stores: Vec<Arc<S>>) {
    let user = third_party_user(&*stores[0], "race@example.com").await;
    stores[0]
        .create_email_verification_token(&token("race", &user, "race@example.com", i64::MAX))
        .await
        .expect("create");
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            tokio::spawn(async move { store.use_email_verification_token("public", "race", 1_000).await })
        })
        .collect();
    let mut verified = 0;
    for task in tasks {
        verified += usize::from(task.await.expect("task").expect("use").is_some());
    }
    assert_eq!(verified, 1);
    assert!(stores[0].is_email_verified(&user, "race@example.com").await.expect("verified?"));
}
