//! Work that runs on a schedule for as long as the recipes live: signing-key maintenance and the pruning of
//! expired rows; and for as long as an SQLite store lives, its WAL checkpoints. Each is a task on the current tokio runtime, stopped when its handle is dropped.

use std::future::Future;
use std::time::Duration;

/// A task that runs `work` every `interval` until dropped.
#[derive(Debug)]
pub(crate) struct Periodic(Option<tokio::task::JoinHandle<()>>);

impl Periodic {
    /// Starts the schedule on the current tokio runtime. Outside one there is no schedule, and `what` is
    /// logged as not running. A failed run is logged and retried at the next interval.
    pub(crate) fn start<F, Fut, E>(interval: Duration, what: &'static str, work: F) -> Self
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), E>> + Send,
        E: std::fmt::Display,
    {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no tokio runtime: {what} will not run on a schedule");
            return Self(None);
        };
        Self(Some(runtime.spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                if let Err(error) = work().await {
                    tracing::warn!(%error, "{what} failed; retrying at the next interval");
                }
            }
        })))
    }
}

impl Periodic {
    /// Stops the schedule now, as dropping it does.
    pub(crate) fn stop(&self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}
