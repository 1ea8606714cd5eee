//! Group commit of the rate-limit counters kept in the store: requests that arrive while a batch is being
//! written queue their hits, and the next writer counts all of them in one [`Store::count_hits`] call. Under
//! load a commit counts many requests' hits (on SQLite, where every write takes the one writer connection,
//! this is what keeps the limits' cost small); an idle server writes each hit at once, as before. Every
//! request still gets its answer only after its hit is committed, so a restarted instance keeps counting.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::store::{CounterHit, Store, StoreError};

/// A hit waiting for the next batch, with where its count goes.
struct Queued {
    hit: CounterHit,
    answer: oneshot::Sender<Result<i64, String>>,
}

/// The queue of hits and the turn to write them; one per recipes instance.
#[derive(Default)]
pub(crate) struct HitBatcher {
    queue: Mutex<Vec<Queued>>,
    /// Held while a batch is written: whoever takes it next writes everything queued by then.
    writing: Arc<tokio::sync::Mutex<()>>,
}

impl HitBatcher {
    /// Counts one request under `key` in the window `[window_start_ms, expires_at_ms)`; its count, this request
    /// included, once committed.
    pub(crate) async fn hit<S: Store>(
        &self,
        store: &Arc<S>,
        key: String,
        window_start_ms: i64,
        expires_at_ms: i64,
    ) -> Result<i64, StoreError> {
        let (answer, mut counted) = oneshot::channel();
        let hit = CounterHit { key, window_start_ms, expires_at_ms, hits: 1 };
        self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Queued { hit, answer });
        loop {
            tokio::select! {
                // A batch that took this hit has been written: its answer wins over taking the next turn.
                biased;
                count = &mut counted => {
                    return count
                        .unwrap_or_else(|_| Err("the batch counting this request was dropped".to_owned()))
                        .map_err(|e| StoreError::Database(e.into()));
                }
                turn = self.writing.clone().lock_owned() => {
                    let batch = std::mem::take(&mut *self.queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
                    if batch.is_empty() {
                        continue;
                    }
                    // The batch is written by a task of its own, so a request that goes away (its client hung
                    // up) never leaves the others of its batch without an answer.
                    let store = Arc::clone(store);
                    tokio::spawn(async move {
                        write(&*store, batch).await;
                        drop(turn);
                    });
                }
            }
        }
    }
}

/// Counts a batch in one call and answers each hit with its own count: hits on one counter are counted
/// together and numbered in the order they arrived.
async fn write<S: Store>(store: &S, batch: Vec<Queued>) {
    let mut counters: Vec<CounterHit> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for queued in &batch {
        let hit = &queued.hit;
        match index.get(&hit.key) {
            Some(&i) => {
                let counter = &mut counters[i];
                counter.hits += 1;
                // Hits straddling a window's end count in the later window.
                if hit.window_start_ms > counter.window_start_ms {
                    counter.window_start_ms = hit.window_start_ms;
                    counter.expires_at_ms = hit.expires_at_ms;
                }
            }
            None => {
                index.insert(hit.key.clone(), counters.len());
                counters.push(hit.clone());
            }
        }
    }
    match store.count_hits(&counters).await {
        Ok(totals) => {
            // The first of a counter's hits in this batch gets total - hits + 1, the last the total.
            let mut next: Vec<i64> = counters.iter().zip(&totals).map(|(c, total)| total - c.hits + 1).collect();
            for queued in batch {
                let i = index[&queued.hit.key];
                let _ = queued.answer.send(Ok(next[i]));
                next[i] += 1;
            }
        }
        Err(error) => {
            let text = error.to_string();
            for queued in batch {
                let _ = queued.answer.send(Err(text.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    /// Concurrent requests on two counters, through one batcher: each counter's answers are 1 to n, whatever
    /// batches they fell in, and the store holds n.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_hits_get_every_count_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(SqliteStore::open(dir.path().join("auth.db")).await.expect("store"));
        let batcher = Arc::new(HitBatcher::default());
        let tasks: Vec<_> = (0..90)
            .map(|i| {
                let (store, batcher) = (store.clone(), batcher.clone());
                let key = if i % 3 == 0 { "one" } else { "two" };
                tokio::spawn(async move { (key, batcher.hit(&store, key.to_owned(), 0, 1_000).await.expect("hit")) })
            })
            .collect();
        let mut counts: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for task in tasks {
            let (key, count) = task.await.expect("task");
            counts.entry(key).or_default().push(count);
        }
        for (key, n) in [("one", 30), ("two", 60)] {
            let mut answers = counts.remove(key).expect("answers");
            answers.sort_unstable();
            assert_eq!(answers, (1..=n).collect::<Vec<i64>>(), "{key}");
            assert_eq!(store.count_hit(key, 0, 1_000).await.expect("hit"), n + 1, "{key}: every hit committed");
        }
    }
}
