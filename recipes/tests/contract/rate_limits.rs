//! The rate-limit counters of the store contract, run against SQLite (`sqlite_store.rs`) and PostgreSQL
//! (`postgres_store.rs`, two pools): concurrent hits are each counted once, a later window starts again, a
//! hit stamped with an earlier window (an instance whose clock is behind) keeps counting, and pruning deletes
//! counters whose window has ended.

#![allow(unreachable_pub, reason = "shared by two test crates")]

use std::sync::Arc;

use authgen_recipes::store::Store;

/// 40 concurrent hits, spread over `stores` (pools, or instances, sharing one database), count 1 to 40.
pub async fn concurrent_hits_are_each_counted_once<S: Store>(stores: Vec<Arc<S>>) {
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            tokio::spawn(async move { store.count_hit("limit:subject", 60_000, 120_000).await.expect("hit") })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.expect("task"));
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=40).collect::<Vec<i64>>());
}

/// Windows: a later one starts at 1, an earlier one counts on in the current one; other keys are apart;
/// pruning deletes ended windows only.
pub async fn windows_restart_and_end<S: Store>(store: Arc<S>) {
    assert_eq!(store.count_hit("a", 0, 1_000).await.expect("hit"), 1);
    assert_eq!(store.count_hit("a", 0, 1_000).await.expect("hit"), 2);
    assert_eq!(store.count_hit("b", 0, 1_000).await.expect("hit"), 1);
    assert_eq!(store.count_hit("a", 1_000, 2_000).await.expect("hit"), 1, "a new window starts again");
    assert_eq!(store.count_hit("a", 0, 1_000).await.expect("hit"), 2, "a late hit counts in the current window");
    assert_eq!(store.count_hit("c", 5_000, 10_000).await.expect("hit"), 1);
    store.prune_expired(2_000, 1).await.expect("prune");
    assert_eq!(store.count_hit("a", 1_000, 2_000).await.expect("hit"), 1, "the ended window was pruned");
    assert_eq!(store.count_hit("b", 1_000, 2_000).await.expect("hit"), 1);
    assert_eq!(store.count_hit("c", 5_000, 10_000).await.expect("hit"), 2, "a live window is kept");
}
