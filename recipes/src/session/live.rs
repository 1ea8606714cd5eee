//! Whether the session behind an access token is still live. The token alone cannot say: sign-out and theft
//! detection delete the session from the store while its access tokens stay valid for their whole lifetime.
//! [`LiveSessions`] asks the store and reuses each answer for a short time (the session check TTL), so that a
//! busy protected route does not read the store on every request.
//!
//! An access token issued by a refresh names the refresh token it came with, pending until used: the first
//! request with such a token makes the store record that use ([`Store::use_refresh_token`]), after which the
//! old refresh token is theft. Each instance remembers which refresh token it saw current, so that only the
//! first request after a refresh (per instance, per TTL) goes to the store for it.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::tokens::RefreshBinding;
use crate::now_ms;
use crate::store::{RefreshTokenUse, Store, StoreError};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The store operations the check needs, object-safe so that the session verifier need not be generic over
/// the store.
trait SessionLookup: Send + Sync + 'static {
    fn is_live<'a>(&'a self, session_handle: &'a str, now_ms: i64) -> BoxFuture<'a, Result<bool, StoreError>>;

    fn use_refresh_token<'a>(
        &'a self,
        session_handle: &'a str,
        binding: &'a RefreshBinding,
        now_ms: i64,
    ) -> BoxFuture<'a, Result<RefreshTokenUse, StoreError>>;
}

impl<S: Store> SessionLookup for S {
    fn is_live<'a>(&'a self, session_handle: &'a str, now_ms: i64) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { Ok(self.session(session_handle, now_ms).await?.is_some()) })
    }

    fn use_refresh_token<'a>(
        &'a self,
        session_handle: &'a str,
        binding: &'a RefreshBinding,
        now_ms: i64,
    ) -> BoxFuture<'a, Result<RefreshTokenUse, StoreError>> {
        Box::pin(Store::use_refresh_token(
            self,
            session_handle,
            &binding.parent_hash,
            &binding.refresh_token_hash,
            now_ms,
        ))
    }
}

/// What [`LiveSessions::check`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Liveness {
    /// The session is live (and the token's refresh token, if it names one, is current).
    Live,
    /// The session is live, but the refresh token the access token names is no longer current: the client
    /// should refresh.
    Superseded,
    /// The session ended.
    Ended,
}

/// One remembered answer.
#[derive(Debug, Clone)]
struct Answer {
    asked: Instant,
    live: bool,
    /// The hash of the refresh token seen current, when a bound token was checked.
    current: Option<String>,
}

/// The most answers remembered at once: past it, expired answers are dropped, and all of them if that is not
/// enough, so memory stays bounded whatever the number of sessions.
const MAX_REMEMBERED: usize = 100_000;

/// The liveness of sessions, read from the store and remembered for `ttl`.
pub(crate) struct LiveSessions {
    store: Arc<dyn SessionLookup>,
    ttl: Duration,
    /// Per session handle: when the store was asked and what it said.
    answers: Mutex<BTreeMap<String, Answer>>,
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

    /// Whether the session exists and has not expired, and for an access token issued with a pending refresh
    /// token (`binding`), whether that token is current, recording its use: the remembered answer when it is
    /// younger than the TTL, the store's otherwise.
    pub(crate) async fn check(
        &self,
        session_handle: &str,
        binding: Option<&RefreshBinding>,
    ) -> Result<Liveness, StoreError> {
        if !self.ttl.is_zero() {
            let answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(answer) = answers.get(session_handle)
                && answer.asked.elapsed() < self.ttl
            {
                match binding {
                    _ if !answer.live => return Ok(Liveness::Ended),
                    None => return Ok(Liveness::Live),
                    Some(binding) if answer.current.as_deref() == Some(&*binding.refresh_token_hash) => {
                        return Ok(Liveness::Live);
                    }
                    Some(_) => {}
                }
            }
        }
        let Some(binding) = binding else {
            let live = self.store.is_live(session_handle, now_ms()).await?;
            self.remember(session_handle, live, None);
            return Ok(if live { Liveness::Live } else { Liveness::Ended });
        };
        Ok(match self.store.use_refresh_token(session_handle, binding, now_ms()).await? {
            RefreshTokenUse::Current => {
                self.remember(session_handle, true, Some(binding.refresh_token_hash.clone()));
                Liveness::Live
            }
            RefreshTokenUse::Superseded => Liveness::Superseded,
            RefreshTokenUse::Ended => {
                self.remember(session_handle, false, None);
                Liveness::Ended
            }
        })
    }

    /// This instance just ended the session (sign-out, token theft): it is refused here from now on, whatever
    /// was remembered.
    pub(crate) fn ended(&self, session_handle: &str) {
        self.remember(session_handle, false, None);
    }

    fn remember(&self, session_handle: &str, live: bool, current: Option<String>) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        // An ended session never comes back, so a "live" read that raced with the sign-out must not replace
        // the "ended" it wrote.
        if live && answers.get(session_handle).is_some_and(|answer| !answer.live && answer.asked.elapsed() < self.ttl) {
            return;
        }
        if answers.len() >= MAX_REMEMBERED && !answers.contains_key(session_handle) {
            answers.retain(|_, answer| now.duration_since(answer.asked) < self.ttl);
            if answers.len() >= MAX_REMEMBERED {
                answers.clear();
            }
        }
        answers.insert(session_handle.to_owned(), Answer { asked: now, live, current });
    }
}
