//! Rate limits on the endpoints an attacker drives: sending codes (per contact and per client address),
//! guessing codes (per client address, across devices) and third-party sign-in (per client address).
//!
//! Each limit is a fixed window: at most `max` requests per `window`, counted under a key (the limit's name
//! and a SHA-256 of its subject, so no contact is stored) in a counter every instance shares: the store's
//! `rate_limits` table (PostgreSQL for several instances, the SQLite file for one), or Redis when
//! [`Config::rate_limit_redis`](crate::Config::rate_limit_redis) is set. A counter lives in the database, so a
//! restarted instance keeps counting.

mod batch;
pub(crate) use batch::HitBatcher;

use std::time::Duration;

use sha2::{Digest as _, Sha256};

/// At most `max` requests per `window`; `max` 0 turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed per window.
    pub max: u32,
    /// The window.
    pub window: Duration,
}

impl Limit {
    /// `max` requests per `window`.
    pub const fn new(max: u32, window: Duration) -> Self {
        Self { max, window }
    }

    /// No limit.
    pub const OFF: Limit = Limit::new(0, Duration::from_secs(1));

    /// Whether the limit counts anything.
    pub fn is_on(&self) -> bool {
        self.max > 0 && !self.window.is_zero()
    }

    /// Parses `MAX/SECONDS`, e.g. `5/900`; `0` (or `0/…`) is off.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "0" {
            return Ok(Self::OFF);
        }
        let (max, seconds) =
            text.split_once('/').ok_or_else(|| format!("`{text}`: expected MAX/SECONDS, e.g. 5/900, or 0 for off"))?;
        let max: u32 = max.trim().parse().map_err(|_| format!("`{text}`: MAX must be a whole number"))?;
        let seconds: u64 = seconds.trim().parse().map_err(|_| format!("`{text}`: SECONDS must be a whole number"))?;
        if max > 0 && seconds == 0 {
            return Err(format!("`{text}`: the window must be at least one second"));
        }
        Ok(Self::new(max, Duration::from_secs(seconds.max(1))))
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_on() { write!(f, "{}/{}", self.max, self.window.as_secs()) } else { f.write_str("0") }
    }
}

/// The limits of every rate-limited endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// createCode and resendCode per contact (email or phone number): messages one inbox or phone receives.
    pub codes_per_contact: Limit,
    /// createCode and resendCode per client address: messages one client can have sent to anyone.
    pub codes_per_client: Limit,
    /// consumeCode per client address, across devices: code guesses.
    pub consume_per_client: Limit,
    /// Third-party signinup per client address.
    pub sign_in_up_per_client: Limit,
    /// The authorisation URL per client address.
    pub authorisation_url_per_client: Limit,
}

impl RateLimits {
    /// Every limit off: the library's default, so that an application turns on the limits it wants.
    pub const OFF: RateLimits = RateLimits {
        codes_per_contact: Limit::OFF,
        codes_per_client: Limit::OFF,
        consume_per_client: Limit::OFF,
        sign_in_up_per_client: Limit::OFF,
        authorisation_url_per_client: Limit::OFF,
    };

    /// The auth server's defaults: 5 codes per contact and 30 per client address per 15 minutes, 30 code
    /// guesses per client address per 15 minutes, 30 third-party sign-ins and 60 authorisation URLs per client
    /// address per 15 minutes.
    pub const RECOMMENDED: RateLimits = RateLimits {
        codes_per_contact: Limit::new(5, Duration::from_secs(900)),
        codes_per_client: Limit::new(30, Duration::from_secs(900)),
        consume_per_client: Limit::new(30, Duration::from_secs(900)),
        sign_in_up_per_client: Limit::new(30, Duration::from_secs(900)),
        authorisation_url_per_client: Limit::new(60, Duration::from_secs(900)),
    };
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::OFF
    }
}

/// Where the counters of several instances meet in Redis: a `redis://` URL and the prefix of their keys.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisCounters {
    /// The URL, e.g. `redis://127.0.0.1:6379/0`.
    pub url: String,
    /// Prepended to every key.
    pub prefix: String,
}

impl std::fmt::Debug for RedisCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        let url = url::Url::parse(&self.url).map_or_else(
            |_| "<invalid URL>".to_owned(),
            |mut u| {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                u.to_string()
            },
        );
        f.debug_struct("RedisCounters").field("url", &url).field("prefix", &self.prefix).finish()
    }
}

/// The open connection to the Redis counters.
#[derive(Clone)]
pub(crate) struct RedisConnection {
    connection: redis::aio::ConnectionManager,
    prefix: String,
}

impl RedisConnection {
    /// Connects (and keeps reconnecting) to the Redis of `counters`.
    pub(crate) async fn open(counters: &RedisCounters) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(counters.url.as_str())?;
        let connection = client.get_connection_manager().await?;
        Ok(Self { connection, prefix: counters.prefix.clone() })
    }

    /// Counts a request in the window starting at `window_start_ms`; the count so far, this one included.
    pub(crate) async fn hit(
        &self,
        key: &str,
        window_start_ms: i64,
        expires_at_ms: i64,
    ) -> Result<i64, redis::RedisError> {
        let key = format!("{}{key}:{window_start_ms}", self.prefix);
        let mut connection = self.connection.clone();
        let (count,): (i64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .pexpire_at(&key, expires_at_ms)
            .ignore()
            .query_async(&mut connection)
            .await?;
        Ok(count)
    }
}

/// The counter key of `limit_name` for `subject`: the subject hashed, so no contact or address is stored.
pub(crate) fn counter_key(limit_name: &str, subject: &str) -> String {
    let digest = Sha256::digest(subject.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{limit_name}:{hex}")
}

/// The window of `limit` that `now_ms` falls in: its start and its end.
pub(crate) fn window(limit: Limit, now_ms: i64) -> (i64, i64) {
    let length = i64::try_from(limit.window.as_millis()).unwrap_or(i64::MAX).max(1);
    let start = now_ms - now_ms.rem_euclid(length);
    (start, start.saturating_add(length))
}

/// Whole seconds from `now_ms` to `end_ms`, at least 1: the `Retry-After` of a refused request.
pub(crate) fn retry_after_s(now_ms: i64, end_ms: i64) -> i64 {
    ((end_ms - now_ms + 999) / 1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_print() {
        assert_eq!(Limit::parse("5/900"), Ok(Limit::new(5, Duration::from_secs(900))));
        assert_eq!(Limit::parse(" 30 / 60 ").map(|l| l.to_string()), Ok("30/60".to_owned()));
        assert!(!Limit::parse("0").expect("off").is_on());
        assert!(!Limit::parse("0/60").expect("off").is_on());
        for bad in ["5", "5/0", "x/60", "5/x", "-1/60", ""] {
            assert!(Limit::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn windows_are_aligned_and_retry_after_rounds_up() {
        let limit = Limit::new(1, Duration::from_secs(60));
        assert_eq!(window(limit, 125_000), (120_000, 180_000));
        assert_eq!(window(limit, 120_000), (120_000, 180_000));
        assert_eq!(retry_after_s(125_000, 180_000), 55);
        assert_eq!(retry_after_s(179_999, 180_000), 1);
        assert_eq!(retry_after_s(180_000, 180_000), 1);
        assert_ne!(counter_key("a", "x@example.com"), counter_key("b", "x@example.com"));
        assert!(!counter_key("a", "x@example.com").contains("example"));
    }
}
