//! The tenant part of the store contract, run against SQLite (`sqlite_store.rs`) and PostgreSQL
//! (`postgres_store.rs`), which include this file with `#[path]`: a device, a code, a user and a third-party
//! account of one tenant are not found, used or changed through another.

#![allow(unreachable_pub, reason = "shared by two test crates")]

use std::sync::Arc;

use authgen_recipes::Contact;
use authgen_recipes::store::{AddCode, CodeRecord, FailedAttempt, NewDevice, Store, ThirdPartyAccount};

fn code(name: &str) -> CodeRecord {
    CodeRecord { code_id: format!("code-{name}"), link_code_hash: format!("hash-{name}"), created_at_ms: 0 }
}

async fn new_device<S: Store>(store: &S, tenant: &str, hash: &str, email: &str) {
    let device = NewDevice {
        tenant_id: tenant.into(),
        device_id_hash: hash.into(),
        contact: Contact::Email(email.into()),
        link_code_salt: "c2FsdA==".into(),
        created_at_ms: 0,
    };
    store.create_device(&device, &code(hash)).await.expect("create device");
}

/// Nothing of tenant `a` is usable through tenant `b`, and one email on two tenants is two users.
pub async fn nothing_of_one_tenant_is_found_on_another<S: Store>(store: Arc<S>) {
    let email = Contact::Email("ann@example.com".into());
    new_device(&*store, "a", "device-a", "ann@example.com").await;
    new_device(&*store, "b", "device-b", "ann@example.com").await;

    // Tenant b cannot read, extend, count against or consume a's device.
    assert_eq!(store.device("b", "device-a").await.expect("device"), None);
    assert_eq!(store.add_code("b", "device-a", &code("extra"), 3).await.expect("add"), AddCode::DeviceGone);
    assert_eq!(store.record_failed_attempt("b", "device-a", 5).await.expect("attempt"), FailedAttempt::DeviceGone);
    assert_eq!(store.consume_device("b", "device-a").await.expect("consume"), None);
    let device = store.device("a", "device-a").await.expect("device").expect("a's device is untouched");
    assert_eq!((device.failed_attempts, device.codes.len()), (0, 1));

    // Consuming a's device removes a's devices of that email, not b's.
    assert_eq!(store.consume_device("a", "device-a").await.expect("consume"), Some(email.clone()));
    assert!(store.device("b", "device-b").await.expect("device").is_some(), "b's device of the same email stays");

    // One email, two tenants: two users, each found only on its own tenant.
    let (ann_a, created_a) = store.sign_in_up("a", &email, "user-a", 1).await.expect("sign up on a");
    let (ann_b, created_b) = store.sign_in_up("b", &email, "user-b", 2).await.expect("sign up on b");
    assert!(created_a && created_b);
    assert_eq!((ann_a.tenant_id.as_str(), ann_b.tenant_id.as_str()), ("a", "b"));
    assert_ne!(ann_a.user_id, ann_b.user_id);
    assert_eq!(store.user_by_contact("a", &email).await.expect("lookup").map(|u| u.user_id), Some("user-a".into()));
    assert_eq!(store.user_by_contact("c", &email).await.expect("lookup"), None);

    // One provider account, two tenants: two users as well.
    let account = ThirdPartyAccount { third_party_id: "sso".into(), third_party_user_id: "ann".into() };
    let (sso_a, _) = store.third_party_sign_in_up("a", &account, "ann@example.com", true, "sso-a", 3).await.expect("a");
    let (sso_b, created) =
        store.third_party_sign_in_up("b", &account, "ann@example.com", true, "sso-b", 4).await.expect("b");
    assert!(created, "a's account does not sign anyone in on b");
    assert_eq!((sso_a.user_id.as_str(), sso_b.user_id.as_str()), ("sso-a", "sso-b"));
    assert_eq!(sso_b.tenant_id, "b");
}
