//! Monotonic time as a plain value. Core state machines never read a clock: the driver passes the
//! current `Millis` into every input, and deadlines come back out as `Millis`.

use std::ops::Add;
use std::time::Duration;

/// Milliseconds on a monotonic clock (the browser's `performance.now()`, or a test's counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    /// `self + d`, saturating instead of overflowing.
    pub fn after(self, d: Duration) -> Millis {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Millis(self.0.saturating_add(ms))
    }

    /// Time elapsed from `earlier` to `self` (zero if `earlier` is later).
    pub fn since(self, earlier: Millis) -> Duration {
        Duration::from_millis(self.saturating_sub(earlier))
    }

    /// Milliseconds from `earlier` to `self`, or 0 when `earlier` is later.
    pub fn saturating_sub(self, earlier: Millis) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<u64> for Millis {
    type Output = Millis;

    /// `self + ms`, saturating.
    fn add(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_and_add_saturate_instead_of_overflowing() {
        assert_eq!(Millis(u64::MAX - 1).after(Duration::from_secs(1)), Millis(u64::MAX));
        assert_eq!(Millis(5).after(Duration::from_millis(10)), Millis(15));
        assert_eq!(Millis(u64::MAX) + 1, Millis(u64::MAX));
    }

    #[test]
    fn since_is_zero_when_earlier_is_later() {
        assert_eq!(Millis(5).since(Millis(10)), Duration::ZERO);
        assert_eq!(Millis(15).since(Millis(10)), Duration::from_millis(5));
        assert_eq!(Millis(15).saturating_sub(Millis(10)), 5);
    }
}
