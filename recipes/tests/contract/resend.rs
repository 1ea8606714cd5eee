//! The resend part of the store contract, run against SQLite (`sqlite_store.rs`) and PostgreSQL
//! (`postgres_store.rs`), which include this file with `#[path]`: a resend adds a code and keeps only the
//! newest few, so resending cannot multiply the codes an attacker may guess against.

#![allow(unreachable_pub, reason = "shared by two test crates")]

use std::sync::Arc;

use authgen_recipes::Contact;
use authgen_recipes::store::{AddCode, CodeRecord, NewDevice, Store};

fn code(i: usize) -> CodeRecord {
    CodeRecord { code_id: format!("code-{i:03}"), link_code_hash: format!("hash-{i:03}"), created_at_ms: i as i64 }
}

async fn new_device<S: Store>(store: &S, hash: &str) {
    let device = NewDevice {
        tenant_id: "public".into(),
        device_id_hash: hash.into(),
        contact: Contact::Email(format!("{hash}@example.com")),
        link_code_salt: "c2FsdA==".into(),
        created_at_ms: 0,
    };
    store.create_device(&device, &code(0)).await.expect("create device");
}

/// 300 resends leave the `keep` newest codes; the older ones are gone, a duplicate hash is still refused,
/// and a code for a device that does not exist is not added.
pub async fn resends_keep_only_the_newest_codes<S: Store>(store: Arc<S>) {
    new_device(&*store, "resent").await;
    for i in 1..=300 {
        assert_eq!(store.add_code("public", "resent", &code(i), 3).await.expect("add"), AddCode::Added, "{i}");
    }
    let device = store.device("public", "resent").await.expect("device").expect("exists");
    assert_eq!(device.codes, vec![code(298), code(299), code(300)], "only the newest 3 codes are live");
    let duplicate = CodeRecord { code_id: "other".into(), ..code(300) };
    assert_eq!(store.add_code("public", "resent", &duplicate, 3).await.expect("add"), AddCode::Duplicate);
    assert_eq!(store.add_code("public", "missing", &code(301), 3).await.expect("add"), AddCode::DeviceGone);
    let device = store.device("public", "resent").await.expect("device").expect("exists");
    assert_eq!(device.codes.len(), 3, "a refused code changes nothing");

    // With `keep` 1 a resend replaces the code.
    assert_eq!(store.add_code("public", "resent", &code(302), 1).await.expect("add"), AddCode::Added);
    let device = store.device("public", "resent").await.expect("device").expect("exists");
    assert_eq!(device.codes, vec![code(302)]);
}

/// 50 concurrent resends of one device: every one is added, and the device ends with exactly `keep` codes.
pub async fn concurrent_resends_keep_the_cap<S: Store>(stores: [Arc<S>; 2]) {
    new_device(&*stores[0], "raced").await;
    let tasks: Vec<_> = (1..=50)
        .map(|i| {
            let store = stores[i % 2].clone();
            tokio::spawn(async move { store.add_code("public", "raced", &code(i), 3).await.expect("add") })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task"), AddCode::Added);
    }
    let device = stores[1].device("public", "raced").await.expect("device").expect("exists");
    assert_eq!(device.codes.len(), 3, "{:?}", device.codes);
}
