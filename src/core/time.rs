//! Time as plain values. Core state machines never read a clock: the driver passes the current
//! [`Millis`] into every input, and deadlines come back out as `Millis`. Every span of time (a
//! timeout, an interval, an age) is a [`Duration`]; only instants are `Millis`.

use std::ops::Add;
use std::time::Duration;

/// An instant, in milliseconds. On the monotonic clock (the browser's `performance.now()`, or a
/// test's counter) unless the parameter says otherwise: ticket ages and token expiry are measured
/// against timestamps from the hub, so those inputs take the wall clock (Unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    /// `self + d`, saturating instead of overflowing.
    #[must_use]
    pub fn after(self, d: Duration) -> Millis {
        Millis(self.0.saturating_add(whole_millis(d)))
    }

    /// Time elapsed from `earlier` to `self` (zero if `earlier` is later).
    #[must_use]
    pub fn since(self, earlier: Millis) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Millis {
    type Output = Millis;

    /// `self + d`, saturating (the same as [`Millis::after`]).
    fn add(self, d: Duration) -> Millis {
        self.after(d)
    }
}

/// `d` in whole milliseconds, saturating at `u64::MAX`.
#[must_use]
pub fn whole_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A span as a stopwatch shows it, `MM:SS`; minutes keep counting past the hour (a cook reads
/// `72:05`). Ticket ages and the call timer.
#[must_use]
pub fn clock_text(d: Duration) -> String {
    let seconds = d.as_secs();
    format!("{:02}:{:02}", seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_and_add_saturate_instead_of_overflowing() {
        assert_eq!(Millis(u64::MAX - 1).after(Duration::from_secs(1)), Millis(u64::MAX));
        assert_eq!(Millis(5).after(Duration::from_millis(10)), Millis(15));
        assert_eq!(Millis(u64::MAX) + Duration::from_millis(1), Millis(u64::MAX));
        assert_eq!(Millis(5) + Duration::from_millis(10), Millis(15));
    }

    #[test]
    fn since_is_zero_when_earlier_is_later() {
        assert_eq!(Millis(5).since(Millis(10)), Duration::ZERO);
        assert_eq!(Millis(15).since(Millis(10)), Duration::from_millis(5));
    }

    #[test]
    fn clock_text_is_minutes_and_seconds_past_the_hour() {
        assert_eq!(clock_text(Duration::ZERO), "00:00");
        assert_eq!(clock_text(Duration::from_millis(61_999)), "01:01");
        assert_eq!(clock_text(Duration::from_secs(72 * 60 + 5)), "72:05");
    }

    #[test]
    fn whole_millis_truncates_and_saturates() {
        assert_eq!(whole_millis(Duration::from_micros(1_999)), 1);
        assert_eq!(whole_millis(Duration::MAX), u64::MAX);
    }
}

/// The wait an HTTP `Retry-After` header asks for. Only the delta-seconds form (what the hub
/// sends); an HTTP date or anything unreadable is `None` (the caller falls back to its backoff).
#[must_use]
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod retry_after_tests {
    use super::*;

    #[test]
    fn retry_after_reads_delta_seconds_only() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after(""), None);
        assert_eq!(parse_retry_after("1.5"), None);
    }
}
