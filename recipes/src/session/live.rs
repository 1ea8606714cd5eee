//! Whether the session behind an access token is still live. The token alone cannot say: sign-out and theft
//! detection delete the session from the store while its access tokens stay valid for their whole lifetime.
//! [`LiveSessions`] asks the store and reuses each answer for a short time (the session check TTL), so that a
//! busy protected route does not read the store on every request.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::now_ms;
use crate::store::{Store, StoreError};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The one store operation the check needs, object-safe so that the session verifier need not be generic
/// over the store.
trait SessionLookup: Send + Sync + 'static {
    fn is_live<'a>(&'a self, session_handle: &'a str, now_ms: i64) -> BoxFuture<'a, Result<bool, StoreError>>;
}

impl<S: Store> SessionLookup for S {
    fn is_live<'a>(&'a self, session_handle: &'a str, now_ms: i64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { Ok(self.session(session_handle, now_ms).await?.is_some()) })
    }
}

/// The most answers remembered at once: past it, expired answers are dropped, and all of them if that is not
/// enough, so memory stays bounded whatever the number of sessions.
const MAX_REMEMBERED: usize = 100_000;

/// The liveness of sessions, read from the store and remembered for `ttl`.
pub(crate) struct LiveSessions {
    store: Arc<dyn SessionLookup>,
    ttl: Duration,
    /// Per session handle: when the store was asked and whether the session was live.
    answers: Mutex<BTreeMap<String, (Instant, bool)>>,
}

impl std::fmt::Debug for LiveSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSessions").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

impl LiveSessions {
    pub(crate) fn new<S: Store>(store: Arc<S>, ttl: Duration) -> Self {
        Self { store, ttl, answers: Mutex::new(BTreeMap::new()) }
    }

    /// Whether the session exists and has not expired: the remembered answer when it is younger than the
    /// TTL, the store's otherwise.
    pub(crate) async fn is_live(&self, session_handle: &str) -> Result<bool, StoreError> {
        if !self.ttl.is_zero() {
            let answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(&(asked, live)) = answers.get(session_handle)
                && asked.elapsed() < self.ttl
            {
                return Ok(live);
            }
        }
        let live = self.store.is_live(session_handle, now_ms()).await?;
        self.remember(session_handle, live);
        Ok(live)
    }

    /// This instance just ended the session (sign-out, token theft): it is refused here from now on, whatever
    /// was remembered.
    pub(crate) fn ended(&self, session_handle: &str) {
        self.remember(session_handle, false);
    }

    fn remember(&self, session_handle: &str, live: bool) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        // An ended session never comes back, so a "live" read that raced with the sign-out must not replace
        // the "ended" it wrote.
        if live && answers.get(session_handle).is_some_and(|&(asked, was_live)| !was_live && asked.elapsed() < self.ttl)
        {
            return;
        }
        if answers.len() >= MAX_REMEMBERED && !answers.contains_key(session_handle) {
            answers.retain(|_, (asked, _)| now.duration_since(*asked) < self.ttl);
            if answers.len() >= MAX_REMEMBERED {
                answers.clear();
            }
        }
        answers.insert(session_handle.to_owned(), (now, live));
    }
}
