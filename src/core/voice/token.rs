//! When an ephemeral Realtime token must be refreshed. `expires_at` is Unix time in **seconds**;
//! the wall clock is passed in as Unix milliseconds.

use std::time::Duration;

use crate::core::time::Millis;

/// Refresh this long before expiry.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    /// Usable; refresh after `refresh_in`.
    Valid {
        refresh_in: Duration,
    },
    /// Still usable for `expires_in`, but fetch a new one now.
    RefreshDue {
        expires_in: Duration,
    },
    Expired,
}

/// Where a token expiring at `expires_at_secs` stands at `unix_now` (the wall clock).
#[must_use]
pub fn token_status(expires_at_secs: u64, unix_now: Millis) -> TokenStatus {
    let expires = Millis(expires_at_secs.saturating_mul(1000));
    let expires_in = expires.since(unix_now);
    if expires_in.is_zero() {
        TokenStatus::Expired
    } else if expires_in <= REFRESH_MARGIN {
        TokenStatus::RefreshDue { expires_in }
    } else {
        TokenStatus::Valid { refresh_in: expires_in - REFRESH_MARGIN }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_at_is_read_as_seconds() {
        // 1_700_000_060 s, now 1_700_000_000_000 ms: 60 s left, refresh in 50 s.
        assert_eq!(
            token_status(1_700_000_060, Millis(1_700_000_000_000)),
            TokenStatus::Valid { refresh_in: Duration::from_secs(50) }
        );
    }

    #[test]
    fn refresh_is_due_10_seconds_before_expiry() {
        assert_eq!(token_status(100, Millis(90_000)), TokenStatus::RefreshDue { expires_in: Duration::from_secs(10) });
        assert!(matches!(token_status(100, Millis(89_999)), TokenStatus::Valid { .. }));
        assert_eq!(token_status(100, Millis(100_000)), TokenStatus::Expired);
        assert_eq!(token_status(100, Millis(200_000)), TokenStatus::Expired);
    }
}
