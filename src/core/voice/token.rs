//! When an ephemeral Realtime token must be refreshed. `expires_at` is Unix time in **seconds**;
//! the wall clock is passed in as Unix milliseconds.

use std::time::Duration;

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

pub fn token_status(expires_at_secs: u64, unix_now_ms: u64) -> TokenStatus {
    let expires_ms = expires_at_secs.saturating_mul(1000);
    let margin_ms = REFRESH_MARGIN.as_millis() as u64;
    if unix_now_ms >= expires_ms {
        TokenStatus::Expired
    } else if unix_now_ms + margin_ms >= expires_ms {
        TokenStatus::RefreshDue { expires_in: Duration::from_millis(expires_ms - unix_now_ms) }
    } else {
        TokenStatus::Valid { refresh_in: Duration::from_millis(expires_ms - margin_ms - unix_now_ms) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_at_is_read_as_seconds() {
        // 1_700_000_060 s, now 1_700_000_000_000 ms: 60 s left, refresh in 50 s.
        assert_eq!(
            token_status(1_700_000_060, 1_700_000_000_000),
            TokenStatus::Valid { refresh_in: Duration::from_secs(50) }
        );
    }

    #[test]
    fn refresh_is_due_10_seconds_before_expiry() {
        assert_eq!(token_status(100, 90_000), TokenStatus::RefreshDue { expires_in: Duration::from_secs(10) });
        assert!(matches!(token_status(100, 89_999), TokenStatus::Valid { .. }));
        assert_eq!(token_status(100, 100_000), TokenStatus::Expired);
        assert_eq!(token_status(100, 200_000), TokenStatus::Expired);
    }
}
