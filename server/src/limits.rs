//! Rate limits per client: [`RateLimit`], a token bucket per key with a bounded key table, and
//! [`ClientKey`], the key a request is counted under.
//!
//! Time is an argument (`now`), so the limiter is tested in simulated time.
//!
//! # A full key table
//!
//! The table holds at most `max_keys` keys. A key whose bucket is full again (it has been idle
//! long enough to have every token back) carries no information and is dropped when room is
//! needed. When every tracked key is still counting, a new key is **not** given a fresh bucket
//! (that would let an attacker with more keys than the table escape the limit by cycling them) and
//! no counting key is evicted (that would reset its count): every key that does not fit shares
//! one overflow bucket with the same rate. While the table is full of busy keys, new clients are
//! therefore limited together; clients already tracked keep their own buckets.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// How many keys a limiter tracks unless told otherwise.
pub const DEFAULT_MAX_KEYS: usize = 10_000;

/// A token bucket per key: `burst` requests at once, refilled at `burst` per `period`
/// (a generic cell rate algorithm: one instant per key).
pub struct RateLimit<K = String> {
    /// Time to earn one token back.
    interval: Duration,
    /// `burst × interval`: how far ahead of `now` a key's schedule may run.
    window: Duration,
    max_keys: usize,
    table: Mutex<Table<K>>,
}

struct Table<K> {
    /// Per key: the instant at which its bucket is full again ("theoretical arrival time").
    keys: HashMap<K, Instant>,
    /// The bucket shared by every key that found the table full of counting keys.
    overflow: Option<Instant>,
    /// No tracked key is idle before this instant, so a sweep before it would find nothing.
    next_idle: Option<Instant>,
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    /// `burst` requests per `period` per key (both at least 1 / 1 ms), tracking at most `max_keys` keys.
    pub fn new(burst: u32, period: Duration, max_keys: usize) -> RateLimit<K> {
        let burst = burst.max(1);
        let period = period.max(Duration::from_millis(1));
        let interval = period / burst;
        RateLimit {
            interval,
            window: interval * burst,
            max_keys: max_keys.max(1),
            table: Mutex::new(Table { keys: HashMap::new(), overflow: None, next_idle: None }),
        }
    }

    /// `n` requests per minute per key, [`DEFAULT_MAX_KEYS`] keys.
    pub fn per_minute(n: u32) -> RateLimit<K> {
        RateLimit::new(n, Duration::from_secs(60), DEFAULT_MAX_KEYS)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table<K>> {
        // Every update is a single insert or assignment: a poisoned table is still consistent.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one request of `key` at `now`: `Ok` when allowed, else how long until it would be.
    /// A refused request is not counted.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        self.take(key, now, true)
    }

    /// Whether a request of `key` at `now` would be allowed, without counting it.
    pub fn peek(&self, key: &K, now: Instant) -> Result<(), Duration> {
        self.take(key, now, false)
    }

    fn take(&self, key: &K, now: Instant, count: bool) -> Result<(), Duration> {
        let mut table = self.lock();
        let table = &mut *table;
        if !table.keys.contains_key(key) && table.keys.len() >= self.max_keys {
            table.sweep(now);
        }
        let slot = if table.keys.contains_key(key) || table.keys.len() < self.max_keys {
            if !count && !table.keys.contains_key(key) {
                return Ok(());
            }
            table.keys.entry(key.clone()).or_insert(now)
        } else {
            table.overflow.get_or_insert(now)
        };
        let tat = (*slot).max(now);
        let next = tat + self.interval;
        let ahead = next.saturating_duration_since(now);
        if ahead > self.window {
            return Err(ahead - self.window);
        }
        if count {
            *slot = next;
            table.next_idle = Some(table.next_idle.map_or(next, |n| n.min(next)));
        }
        Ok(())
    }

    /// How many keys have their own bucket (tests, diagnostics).
    pub fn tracked(&self) -> usize {
        self.lock().keys.len()
    }
}

impl<K> Table<K> {
    /// Drops the keys whose bucket is full again (forgetting them changes nothing).
    fn sweep(&mut self, now: Instant) {
        if self.next_idle.is_some_and(|n| n > now) {
            return;
        }
        self.keys.retain(|_, tat| *tat > now);
        self.next_idle = self.keys.values().min().copied();
        if self.overflow.is_some_and(|tat| tat <= now) {
            self.overflow = None;
        }
    }
}

/// The key a request is limited under. The device guard inserts it (the paired device's id) into
/// the request's extensions; without it the peer's IP address is the key. Extracting it never fails.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientKey(pub String);

impl ClientKey {
    /// The key of a request: its [`ClientKey`] extension, else `ip:<peer address>`.
    pub fn of(parts: &Parts) -> ClientKey {
        if let Some(key) = parts.extensions.get::<ClientKey>() {
            return key.clone();
        }
        match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(addr)) => ClientKey(format!("ip:{}", addr.ip())),
            None => ClientKey("ip:unknown".into()),
        }
    }
}

impl std::fmt::Display for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<ClientKey, Self::Rejection> {
        Ok(ClientKey::of(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_key_gets_its_burst_then_waits_for_the_next_token() {
        let limit = RateLimit::<&str>::new(3, MINUTE, 10);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.check(&"a", t0), Ok(()));
        }
        assert_eq!(limit.check(&"a", t0), Err(secs(20)), "one token every 20 s");
        assert_eq!(limit.check(&"a", t0 + secs(5)), Err(secs(15)), "a refusal is not counted");
        assert_eq!(limit.check(&"a", t0 + secs(20)), Ok(()));
        assert_eq!(limit.check(&"a", t0 + secs(20)), Err(secs(20)));
        assert_eq!(limit.check(&"b", t0), Ok(()), "keys are counted apart");
    }

    #[test]
    fn an_idle_key_gets_its_whole_burst_back_and_no_more() {
        let limit = RateLimit::<&str>::new(2, MINUTE, 10);
        let t0 = Instant::now();
        assert!(limit.check(&"a", t0).is_ok() && limit.check(&"a", t0).is_ok());
        let later = t0 + secs(3600);
        assert!(limit.check(&"a", later).is_ok() && limit.check(&"a", later).is_ok());
        assert_eq!(limit.check(&"a", later), Err(secs(30)));
    }

    #[test]
    fn a_steady_client_at_the_rate_is_never_refused() {
        let limit = RateLimit::<&str>::new(30, MINUTE, 10);
        let t0 = Instant::now();
        for i in 0..600 {
            assert_eq!(limit.check(&"a", t0 + secs(2) * i), Ok(()), "request {i}");
        }
    }

    #[test]
    fn peek_does_not_count() {
        let limit = RateLimit::<&str>::new(1, MINUTE, 10);
        let t0 = Instant::now();
        assert_eq!(limit.peek(&"a", t0), Ok(()));
        assert_eq!(limit.tracked(), 0);
        assert_eq!(limit.check(&"a", t0), Ok(()));
        assert_eq!(limit.peek(&"a", t0), Err(MINUTE));
        assert_eq!(limit.peek(&"a", t0 + MINUTE), Ok(()));
    }

    #[test]
    fn keys_beyond_a_full_table_share_one_bucket_so_many_keys_do_not_escape() {
        let limit = RateLimit::<u32>::new(5, MINUTE, 100);
        let t0 = Instant::now();
        for key in 0..100 {
            for _ in 0..5 {
                assert_eq!(limit.check(&key, t0), Ok(()));
            }
        }
        // An attacker with 10 000 more keys gets 5 requests a minute between them all.
        let allowed = (100..10_100).filter(|key| limit.check(key, t0).is_ok()).count();
        assert_eq!(allowed, 5);
        assert_eq!(limit.tracked(), 100);
        // The tracked keys keep their own buckets: nobody was evicted or reset.
        assert_eq!(limit.check(&7, t0), Err(secs(12)));
        // 12 s later each bucket earned one token back, the shared one too.
        let later = t0 + secs(12);
        assert_eq!((20_000..30_000).filter(|key| limit.check(key, later).is_ok()).count(), 1);
        assert_eq!(limit.check(&7, later), Ok(()));
        assert_eq!(limit.check(&7, later), Err(secs(12)));
    }

    #[test]
    fn idle_keys_make_room_in_a_full_table() {
        let limit = RateLimit::<u32>::new(2, MINUTE, 3);
        let t0 = Instant::now();
        for key in 0..3 {
            assert_eq!(limit.check(&key, t0), Ok(()));
        }
        assert_eq!(limit.check(&3, t0), Ok(()), "overflow bucket");
        assert_eq!(limit.tracked(), 3);
        // 30 s later every bucket is full again: the new key gets its own.
        let later = t0 + secs(30);
        assert_eq!(limit.check(&4, later), Ok(()));
        assert_eq!(limit.check(&4, later), Ok(()));
        assert_eq!(limit.check(&4, later), Err(secs(30)));
        assert_eq!(limit.tracked(), 1);
    }

    #[test]
    fn the_client_key_is_the_extension_else_the_peer_ip() {
        let (mut parts, ()) = axum::http::Request::new(()).into_parts();
        assert_eq!(ClientKey::of(&parts), ClientKey("ip:unknown".into()));
        parts.extensions.insert(ConnectInfo::<SocketAddr>("10.0.0.7:5000".parse().unwrap()));
        assert_eq!(ClientKey::of(&parts), ClientKey("ip:10.0.0.7".into()));
        parts.extensions.insert(ClientKey("dev_1".into()));
        assert_eq!(ClientKey::of(&parts), ClientKey("dev_1".into()));
    }
}
