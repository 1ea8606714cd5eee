//! The rate-limit counters of the store contract, run against SQLite (`sqlite_store.rs`) and PostgreSQL
//! (`postgres_store.rs`, two pools): concurrent hits are each counted once, a later window starts again, a
//! hit stamped with an earlier window (an instance whose clock is behind) keeps counting, and pruning deletes
//! counters whose window has ended.

#![allow(unreachable_pub, reason = "shared by two test crates")]

use std::sync::Arc;

use authgen_recipes::store::{CounterHit, Store};

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

/// A batch counts several hits per counter, each counter in its own window, and answers in the order given.
pub async fn batches_count_each_counter<S: Store>(store: Arc<S>) {
    let hit = |key: &str, start: i64, hits: i64| CounterHit {
        key: key.to_owned(),
        window_start_ms: start,
        expires_at_ms: start + 1_000,
        hits,
    };
    assert_eq!(store.count_hit("z", 0, 1_000).await.expect("hit"), 1);
    let counts = store.count_hits(&[hit("z", 0, 3), hit("y", 0, 1), hit("x", 0, 2)]).await.expect("batch");
    assert_eq!(counts, [4, 1, 2], "in the order given, z counting on from its earlier hit");
    let counts = store.count_hits(&[hit("y", 1_000, 2), hit("z", 0, 1)]).await.expect("batch");
    assert_eq!(counts, [2, 5], "y starts again in its next window");
    assert_eq!(store.count_hits(&[]).await.expect("empty batch"), Vec::<i64>::new());
}

/// Concurrent batches over the same counters, named in opposite orders and spread over `stores`, neither
/// deadlock nor lose a hit: each counter's counts are 1 to 2 × 20.
pub async fn concurrent_batches_count_every_hit<S: Store>(stores: Vec<Arc<S>>) {
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = stores[i % stores.len()].clone();
            tokio::spawn(async move {
                let hit = |key: &str| CounterHit {
                    key: key.to_owned(),
                    window_start_ms: 60_000,
                    expires_at_ms: 120_000,
                    hits: 2,
                };
                let (first, second) = if i % 2 == 0 { ("p", "q") } else { ("q", "p") };
                let counts = store.count_hits(&[hit(first), hit(second)]).await.expect("batch");
                if i % 2 == 0 { counts } else { vec![counts[1], counts[0]] }
            })
        })
        .collect();
    let (mut p, mut q) = (Vec::new(), Vec::new());
    for task in tasks {
        let counts = task.await.expect("task");
        p.push(counts[0]);
        q.push(counts[1]);
    }
    p.sort_unstable();
    q.sort_unstable();
    let expected: Vec<i64> = (1..=20).map(|i| 2 * i).collect();
    assert_eq!(p, expected);
    assert_eq!(q, expected);
}
