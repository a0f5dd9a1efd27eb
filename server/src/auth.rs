//! Station PINs, the session tokens they buy, and per-address rate limiting of PIN attempts.
//!
//! Tokens are 128 random bits (hex), expire after [`TOKEN_TTL`], and the map holding them is
//! bounded. Neither PINs nor tokens are ever logged.
//!
//! Sessions survive a hub restart: with a data folder they are kept in `sessions.json`, which
//! holds only SHA-256 hashes of the tokens (a copy of the file signs nobody in), each with its
//! station and expiry.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::settings::{Secret, Settings};

pub const TOKEN_TTL: Duration = Duration::from_secs(12 * 60 * 60);
pub const MAX_TOKENS: usize = 4096;
/// Failed PIN attempts allowed per address within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
const MAX_TRACKED_ADDRESSES: usize = 10_000;

#[derive(Debug, PartialEq, Eq)]
pub enum PinOutcome {
    Token(String),
    WrongPin,
    /// Too many failures from this address: retry after this long.
    Limited(Duration),
}

pub struct Auth {
    pin: Secret,
    station_pins: HashMap<String, Secret>,
    /// Keyed by the SHA-256 (hex) of the token.
    tokens: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<IpAddr, Vec<Instant>>>,
    /// `sessions.json` in the data folder; `None` with `--memory`.
    sessions_file: Option<PathBuf>,
}

struct Session {
    station: String,
    expires: Instant,
}

/// One line of `sessions.json`.
#[derive(Serialize, Deserialize)]
struct StoredSession {
    token_sha256: String,
    station: String,
    expires_unix: u64,
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Auth {
    pub fn new(settings: &Settings) -> Auth {
        let sessions_file = (!settings.memory).then(|| settings.data.join("sessions.json"));
        let tokens = sessions_file.as_ref().map(|p| load_sessions(p, Instant::now())).unwrap_or_default();
        Auth {
            pin: settings.pin.clone(),
            station_pins: settings.station_pins.iter().cloned().collect(),
            tokens: Mutex::new(tokens),
            failures: Mutex::new(HashMap::new()),
            sessions_file,
        }
    }

    /// Writes the live sessions (hashes only) next to the orders; a failure is logged, and the
    /// sessions keep working until the hub restarts.
    fn persist(&self, tokens: &HashMap<String, Session>, now: Instant) {
        let Some(path) = &self.sessions_file else { return };
        let unix = unix_now();
        let stored: Vec<StoredSession> = tokens
            .iter()
            .filter(|(_, s)| s.expires > now)
            .map(|(hash, s)| StoredSession {
                token_sha256: hash.clone(),
                station: s.station.clone(),
                expires_unix: unix + s.expires.saturating_duration_since(now).as_secs(),
            })
            .collect();
        let tmp = path.with_extension("json.tmp");
        // Small and rare (a PIN sign-in): written in place of a round trip to the store thread.
        let result = serde_json::to_vec(&stored)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = result {
            tracing::error!("cannot save sessions to {}: {e}", path.display());
        }
    }

    /// Checks a PIN for `station` (already validated) from `addr`; a right PIN buys a token.
    pub fn login(&self, addr: IpAddr, station: &str, pin: &str, now: Instant) -> Result<PinOutcome, getrandom::Error> {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures.retain(|_, times| {
            times.retain(|t| now.saturating_duration_since(*t) < FAILURE_WINDOW);
            !times.is_empty()
        });
        if let Some(times) = failures.get(&addr).filter(|t| t.len() >= MAX_FAILURES) {
            let oldest = times.iter().min().copied().unwrap_or(now);
            return Ok(PinOutcome::Limited(FAILURE_WINDOW.saturating_sub(now.saturating_duration_since(oldest))));
        }
        let expected = self.station_pins.get(station).unwrap_or(&self.pin);
        if !constant_time_eq(expected.0.as_bytes(), pin.as_bytes()) {
            if failures.len() < MAX_TRACKED_ADDRESSES || failures.contains_key(&addr) {
                failures.entry(addr).or_default().push(now);
            }
            return Ok(PinOutcome::WrongPin);
        }
        failures.remove(&addr);
        drop(failures);
        let token = random_hex(16)?;
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.retain(|_, s| s.expires > now);
        if tokens.len() >= MAX_TOKENS {
            let oldest = tokens.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                tokens.remove(&oldest);
            }
        }
        tokens.insert(token_hash(&token), Session { station: station.to_string(), expires: now + TOKEN_TTL });
        self.persist(&tokens, now);
        Ok(PinOutcome::Token(token))
    }

    /// The station a live token was issued for.
    pub fn station_of(&self, token: &str, now: Instant) -> Option<String> {
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.get(&token_hash(token)).filter(|s| s.expires > now).map(|s| s.station.clone())
    }
}

fn load_sessions(path: &std::path::Path, now: Instant) -> HashMap<String, Session> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return HashMap::new(),
        Err(e) => {
            tracing::error!("cannot read {}: {e}; stations must sign in again", path.display());
            return HashMap::new();
        }
    };
    let stored: Vec<StoredSession> = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("{} is unreadable ({e}); stations must sign in again", path.display());
            return HashMap::new();
        }
    };
    let unix = unix_now();
    let sessions: HashMap<String, Session> = stored
        .into_iter()
        .filter(|s| s.expires_unix > unix)
        .take(MAX_TOKENS)
        .map(|s| {
            let left = Duration::from_secs(s.expires_unix - unix);
            (s.token_sha256, Session { station: s.station, expires: now + left })
        })
        .collect();
    tracing::info!(sessions = sessions.len(), "station sessions restored");
    sessions
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `bytes` random bytes from the OS, as lowercase hex.
pub fn random_hex(bytes: usize) -> Result<String, getrandom::Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn auth() -> Auth {
        let settings = Settings {
            pin: Secret("1234".into()),
            station_pins: vec![("bar".into(), Secret("9999".into()))],
            memory: true,
            ..Settings::default()
        };
        Auth::new(&settings)
    }

    const ADDR: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn the_right_pin_buys_a_128_bit_token_for_that_station() {
        let auth = auth();
        let now = Instant::now();
        let PinOutcome::Token(token) = auth.login(ADDR, "grill", "1234", now).unwrap() else {
            panic!("expected a token")
        };
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(auth.station_of(&token, now).as_deref(), Some("grill"));
        assert_eq!(auth.station_of("nope", now), None);
        assert_eq!(auth.station_of(&token, now + TOKEN_TTL), None, "tokens expire");
    }

    #[test]
    fn a_station_pin_overrides_the_default() {
        let auth = auth();
        let now = Instant::now();
        assert_eq!(auth.login(ADDR, "bar", "1234", now).unwrap(), PinOutcome::WrongPin);
        assert!(matches!(auth.login(ADDR, "bar", "9999", now).unwrap(), PinOutcome::Token(_)));
    }

    #[test]
    fn five_failures_a_minute_lock_the_address_out_until_the_window_passes() {
        let auth = auth();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(auth.login(ADDR, "grill", "0000", now).unwrap(), PinOutcome::WrongPin);
        }
        assert!(
            matches!(auth.login(ADDR, "grill", "1234", now).unwrap(), PinOutcome::Limited(d) if d == FAILURE_WINDOW)
        );
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(matches!(auth.login(other, "grill", "1234", now).unwrap(), PinOutcome::Token(_)));
        assert!(matches!(auth.login(ADDR, "grill", "1234", now + FAILURE_WINDOW).unwrap(), PinOutcome::Token(_)));
    }

    #[test]
    fn sessions_survive_a_restart_with_the_same_data_folder_and_the_file_holds_no_token() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings { data: dir.path().to_path_buf(), memory: false, ..Settings::default() };
        let now = Instant::now();
        let PinOutcome::Token(token) = Auth::new(&settings).login(ADDR, "grill", "1234", now).unwrap() else {
            panic!("expected a token")
        };
        let file = std::fs::read_to_string(dir.path().join("sessions.json")).unwrap();
        assert!(!file.contains(&token), "only a hash of the token is stored");
        let restarted = Auth::new(&settings);
        assert_eq!(restarted.station_of(&token, Instant::now()).as_deref(), Some("grill"));
        assert_eq!(restarted.station_of("0123456789abcdef0123456789abcdef", Instant::now()), None);
    }

    #[test]
    fn an_unreadable_sessions_file_means_signing_in_again_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sessions.json"), "{not json").unwrap();
        let settings = Settings { data: dir.path().to_path_buf(), memory: false, ..Settings::default() };
        let auth = Auth::new(&settings);
        assert!(matches!(auth.login(ADDR, "grill", "1234", Instant::now()).unwrap(), PinOutcome::Token(_)));
    }

    #[test]
    fn the_token_map_is_bounded() {
        let auth = auth();
        let now = Instant::now();
        for i in 0..(MAX_TOKENS + 10) {
            auth.login(ADDR, "grill", "1234", now + Duration::from_millis(i as u64)).unwrap();
        }
        assert_eq!(auth.tokens.lock().unwrap().len(), MAX_TOKENS);
    }
}
