//! Ephemeral `ek_…` tokens: random, expiring, single-use, bounded in number.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Tokens kept at once; minting beyond it (after dropping expired ones) is refused.
pub const MAX_TOKENS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub enum TokenError {
    /// Never minted, already used, or dropped after expiry.
    Unknown,
    Expired,
    /// Too many live tokens.
    Full,
    /// The system random source failed.
    Random,
}

impl TokenError {
    pub fn message(self) -> &'static str {
        match self {
            TokenError::Unknown => "unknown or already used token",
            TokenError::Expired => "token expired",
            TokenError::Full => "too many outstanding tokens",
            TokenError::Random => "no randomness available",
        }
    }
}

#[derive(Debug, Default)]
pub struct TokenStore {
    expiry: HashMap<String, Instant>,
}

impl TokenStore {
    /// A new token valid until `now + ttl`, from 192 random bits.
    pub fn mint(&mut self, now: Instant, ttl: Duration) -> Result<String, TokenError> {
        self.expiry.retain(|_, at| *at > now);
        if self.expiry.len() >= MAX_TOKENS {
            return Err(TokenError::Full);
        }
        let mut bytes = [0u8; 24];
        getrandom::fill(&mut bytes).map_err(|_| TokenError::Random)?;
        let token = format!("ek_{}", hex(&bytes));
        self.expiry.insert(token.clone(), now + ttl);
        Ok(token)
    }

    /// Whether `token` would be accepted now, without using it.
    pub fn check(&self, token: &str, now: Instant) -> Result<(), TokenError> {
        match self.expiry.get(token) {
            None => Err(TokenError::Unknown),
            Some(at) if *at <= now => Err(TokenError::Expired),
            Some(_) => Ok(()),
        }
    }

    /// Uses `token` up: a second use fails.
    pub fn consume(&mut self, token: &str, now: Instant) -> Result<(), TokenError> {
        let result = self.check(token, now);
        self.expiry.remove(token);
        result
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.expiry.len()
    }

    /// Tokens that would be accepted at `now`.
    pub fn outstanding(&self, now: Instant) -> usize {
        self.expiry.values().filter(|at| **at > now).count()
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(600);

    #[test]
    fn token_is_single_use() {
        let (mut s, now) = (TokenStore::default(), Instant::now());
        let t = s.mint(now, TTL).unwrap();
        assert!(t.starts_with("ek_") && t.len() == 3 + 48);
        assert_eq!(s.consume(&t, now), Ok(()));
        assert_eq!(s.consume(&t, now), Err(TokenError::Unknown));
    }

    #[test]
    fn token_expires_after_its_ttl() {
        let (mut s, now) = (TokenStore::default(), Instant::now());
        let t = s.mint(now, TTL).unwrap();
        assert_eq!(s.check(&t, now + TTL - Duration::from_secs(1)), Ok(()));
        assert_eq!(s.consume(&t, now + TTL), Err(TokenError::Expired));
    }

    #[test]
    fn tokens_are_distinct_and_the_store_is_bounded() {
        let (mut s, now) = (TokenStore::default(), Instant::now());
        let a = s.mint(now, TTL).unwrap();
        let b = s.mint(now, TTL).unwrap();
        assert_ne!(a, b);
        while s.len() < MAX_TOKENS {
            s.mint(now, TTL).unwrap();
        }
        assert_eq!(s.mint(now, TTL), Err(TokenError::Full));
        // Expired tokens make room again.
        assert!(s.mint(now + TTL, TTL).is_ok());
        assert_eq!(s.len(), 1);
    }
}
