//! Connection limits, the same on both frameworks: how long a client may take to send a request head and a
//! request body, how long a connection may stay open between requests, and how many connections are served
//! at once. A client that sends nothing, or trickles its bytes, holds a connection (and its buffers) only
//! until its deadline; the framework glue (`serve_with` for axum, `actix_server_with_limits` for actix-web)
//! reports each request to a [`ConnectionWatch`] and closes the connection when the watch expires.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::sync::Notify;
use tokio::time::{Instant, Sleep};

/// The largest request head either framework reads: actix-web's fixed limit, set on hyper too (whose default
/// is about 400 KB). A larger head is answered 431. It bounds what a slow client can make a connection buffer
/// before its body.
pub(crate) const MAX_HEAD_BYTES: usize = 128 * 1024;

/// Deadlines and the connection cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a new connection may take to deliver its first complete request head.
    pub header_read_timeout: Duration,
    /// How long a request body may take to arrive in full, from the end of its head. A body still incomplete
    /// then is answered 408 with a JSON `{"message": ...}` and the connection is closed.
    pub body_read_timeout: Duration,
    /// How long a connection may stay open after a response without a complete next request head.
    pub keep_alive: Duration,
    /// Connections served at once; further clients wait in the listen queue until one closes. actix-web
    /// divides it between its workers (each takes at most `max_connections / workers`).
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            keep_alive: Duration::from_secs(75),
            max_connections: 1024,
        }
    }
}

impl ConnectionLimits {
    /// The 408 answer to a request whose body did not arrive within [`Self::body_read_timeout`].
    pub(crate) fn body_timeout_response(&self) -> auth_api::runtime::RawResponse {
        let message = format!("the request body did not arrive within {:?}", self.body_read_timeout);
        auth_api::runtime::error_response(408, &message)
    }
}

/// Connections ended since the process started, counted when their [`ConnectionWatch`] drops.
static CONNECTIONS_ENDED: AtomicUsize = AtomicUsize::new(0);

/// Gives back to the system the memory that a burst of connections (slow clients cut off at their deadlines,
/// say) left free in the allocator: glibc keeps freed memory for reuse, so without this the process would
/// stay at its peak. Checks every second; trims once at least 100 connections have ended since the last
/// trim and none ended in the last second, so a steady stream of connections never pays for it.
pub(crate) async fn release_memory_after_bursts() {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut seen = CONNECTIONS_ENDED.load(Ordering::Relaxed);
    let mut since_trim = 0;
    loop {
        ticks.tick().await;
        let ended = CONNECTIONS_ENDED.load(Ordering::Relaxed);
        let new = ended.wrapping_sub(seen);
        seen = ended;
        since_trim += new;
        if new == 0 && since_trim >= 100 {
            since_trim = 0;
            trim_allocator();
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_allocator() {
    // SAFETY: malloc_trim only returns free pages of the allocator's own heaps to the system.
    let released = unsafe { libc::malloc_trim(0) };
    tracing::debug!(released = released != 0, "returned free allocator memory after a burst of connections");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_allocator() {}

/// The deadline of one connection: while no request is in flight, the next request head must be complete
/// before it (the header-read timeout after the connection opens, the keep-alive after each response).
#[derive(Debug)]
pub(crate) struct ConnectionWatch {
    state: Mutex<WatchState>,
    changed: Notify,
    keep_alive: Duration,
}

#[derive(Debug)]
struct WatchState {
    in_flight: usize,
    deadline: Option<Instant>,
    closed: bool,
}

impl ConnectionWatch {
    /// The watch of a connection that has just been accepted.
    pub(crate) fn new(limits: &ConnectionLimits) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(WatchState {
                in_flight: 0,
                deadline: Some(Instant::now() + limits.header_read_timeout),
                closed: false,
            }),
            changed: Notify::new(),
            keep_alive: limits.keep_alive,
        })
    }

    /// A request head has arrived: no deadline until the returned guard drops with the response.
    pub(crate) fn request(self: &Arc<Self>) -> RequestGuard {
        self.update(|state| {
            state.in_flight += 1;
            state.deadline = None;
        });
        RequestGuard(self.clone())
    }

    /// The connection is gone: [`Self::expired`] completes with `false`.
    pub(crate) fn close(&self) {
        self.update(|state| state.closed = true);
    }

    /// Completes with `true` when the deadline passes without a request, or with `false` once the
    /// connection is closed.
    pub(crate) async fn expired(&self) -> bool {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (deadline, closed) = {
                let state = self.lock();
                (state.deadline, state.closed)
            };
            if closed {
                return false;
            }
            match deadline {
                Some(deadline) => tokio::select! {
                    () = tokio::time::sleep_until(deadline) => return true,
                    () = notified => {}
                },
                None => notified.await,
            }
        }
    }

    fn update(&self, change: impl FnOnce(&mut WatchState)) {
        change(&mut self.lock());
        self.changed.notify_waiters();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WatchState> {
        // The state stays consistent even if a holder panicked: every change is a plain assignment.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for ConnectionWatch {
    fn drop(&mut self) {
        CONNECTIONS_ENDED.fetch_add(1, Ordering::Relaxed);
    }
}

/// A request in flight; dropping it (with the response, or when the request is abandoned) starts the
/// keep-alive deadline once no other request is in flight.
#[derive(Debug)]
pub(crate) struct RequestGuard(Arc<ConnectionWatch>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let keep_alive = self.0.keep_alive;
        self.0.update(|state| {
            state.in_flight = state.in_flight.saturating_sub(1);
            if state.in_flight == 0 {
                state.deadline = Some(Instant::now() + keep_alive);
            }
        });
    }
}

/// A request body (hyper's body on axum, the payload stream on actix-web) that fails with
/// [`io::ErrorKind::TimedOut`] once its deadline has passed, and records that it did.
#[derive(Debug)]
pub(crate) struct BodyDeadline<B> {
    inner: B,
    sleep: Pin<Box<Sleep>>,
    timed_out: Arc<AtomicBool>,
    finished: bool,
}

impl<B> BodyDeadline<B> {
    /// `inner`, which must arrive in full within `timeout` from now; `timed_out` is set when it does not.
    pub(crate) fn new(inner: B, timeout: Duration, timed_out: Arc<AtomicBool>) -> Self {
        Self { inner, sleep: Box::pin(tokio::time::sleep(timeout)), timed_out, finished: false }
    }

    /// Polls the deadline before the body, so that a body trickling steadily is still cut at the deadline.
    fn poll_within<T, E: From<io::Error>>(
        &mut self,
        cx: &mut Context<'_>,
        poll_inner: impl FnOnce(&mut B, &mut Context<'_>) -> Poll<Option<Result<T, E>>>,
    ) -> Poll<Option<Result<T, E>>> {
        if !self.finished && self.sleep.as_mut().poll(cx).is_ready() {
            self.timed_out.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::TimedOut, "request body timed out").into())));
        }
        let next = poll_inner(&mut self.inner, cx);
        if let Poll::Ready(None) = next {
            self.finished = true;
        }
        next
    }
}

impl<B> Body for BodyDeadline<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.get_mut().poll_within(cx, |inner, cx| {
            Pin::new(inner).poll_frame(cx).map(|frame| frame.map(|result| result.map_err(Into::into)))
        })
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<S, E> futures_core::Stream for BodyDeadline<S>
where
    S: futures_core::Stream<Item = Result<Bytes, E>> + Unpin,
    E: From<io::Error>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_within(cx, |inner, cx| futures_core::Stream::poll_next(Pin::new(inner), cx))
    }
}
