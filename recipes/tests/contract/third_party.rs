//! The third-party part of the store contract, run against SQLite (`sqlite_store.rs`) and PostgreSQL
//! (`postgres_store.rs`), which include this file with `#[path]`.

#![allow(unreachable_pub, reason = "shared by two test crates")]

use std::sync::Arc;

use authgen_recipes::Contact;
use authgen_recipes::store::{Store, ThirdPartyAccount};

fn account(provider: &str, user: &str) -> ThirdPartyAccount {
    ThirdPartyAccount { third_party_id: provider.into(), third_party_user_id: user.into() }
}

/// Sign-up, sign-in, email updates, verified flags, and separation from passwordless users and other providers.
pub async fn third_party_accounts_sign_in_and_up<S: Store>(store: Arc<S>) {
    let alice = account("my-oidc", "alice");
    let (user, created) =
        store.third_party_sign_in_up("public", &alice, "alice@example.com", false, "u-1", 10).await.expect("sign up");
    assert!(created);
    assert_eq!(user.user_id, "u-1");
    assert_eq!(user.third_party, Some(alice.clone()));
    assert_eq!(user.contact, Contact::Email("alice@example.com".into()));
    assert!(!user.email_verified);
    assert_eq!(user.time_joined_ms, 10);

    // Signing in again finds the same user; the provider now says the email is verified.
    let (again, created) =
        store.third_party_sign_in_up("public", &alice, "alice@example.com", true, "u-2", 20).await.expect("sign in");
    assert!(!created);
    assert_eq!(again.user_id, "u-1");
    assert!(again.email_verified);
    // A verified email stays verified while it does not change ...
    let (again, _) =
        store.third_party_sign_in_up("public", &alice, "alice@example.com", false, "u-3", 30).await.expect("sign in");
    assert!(again.email_verified);
    // ... and a new email takes the provider's flag.
    let (moved, _) =
        store.third_party_sign_in_up("public", &alice, "alice@new.example", false, "u-4", 40).await.expect("sign in");
    assert_eq!((moved.user_id.as_str(), moved.email_verified), ("u-1", false));
    assert_eq!(moved.contact, Contact::Email("alice@new.example".into()));
    assert_eq!(moved.time_joined_ms, 10);

    // The same email at another provider, and as a passwordless contact, are different users.
    let (other, created) = store
        .third_party_sign_in_up("public", &account("google", "alice"), "alice@new.example", true, "u-5", 50)
        .await
        .expect("other provider");
    assert!(created);
    assert_eq!(other.user_id, "u-5");
    let email = Contact::Email("alice@new.example".into());
    assert_eq!(store.user_by_contact("public", &email).await.expect("lookup"), None, "exists is passwordless only");
    let (passwordless, created) = store.sign_in_up("public", &email, "u-6", 60).await.expect("passwordless");
    assert!(created);
    assert_eq!((passwordless.third_party, passwordless.email_verified), (None, true));
    assert_eq!(store.user_by_contact("public", &email).await.expect("lookup").map(|u| u.user_id), Some("u-6".into()));
}

/// Concurrent first sign-ins of one account create exactly one user.
pub async fn concurrent_third_party_sign_ups_create_one_user<S: Store>(store: Arc<S>) {
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .third_party_sign_in_up(
                        "public",
                        &account("github", "42"),
                        "x@example.com",
                        true,
                        &format!("c-{i}"),
                        i,
                    )
                    .await
                    .expect("sign in or up")
            })
        })
        .collect();
    let mut created = 0;
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        let (user, new) = task.await.expect("task");
        created += usize::from(new);
        ids.insert(user.user_id);
    }
    assert_eq!(created, 1);
    assert_eq!(ids.len(), 1);
}
