//! Station sign-in: PINs (checked against [`PinBook`]'s argon2 hashes), the session tokens they
//! buy, and the limits on guessing.
//!
//! - Tokens are 128 random bits (hex) and expire after [`TOKEN_TTL`]. A token is valid only while
//!   the PIN that bought it is still the station's PIN, so setting a new PIN signs that station's
//!   screens out (also across a restart). Signing out revokes the token on the hub.
//! - Each station keeps at most [`MAX_SESSIONS_PER_STATION`] sessions: another sign-in replaces
//!   that station's oldest session, never another station's.
//! - Wrong PINs are counted per address ([`MAX_FAILURES`] a minute; IPv6 addresses by their /64,
//!   IPv4-mapped addresses as IPv4) and per station ([`MAX_STATION_FAILURES`] a minute, so a proxy
//!   or many addresses do not multiply the guesses). When the address table is full, further
//!   addresses share one overflow counter: counting never stops. An attempt counts as a failure
//!   from the moment it starts until its PIN is found right, so parallel guesses cannot slip past.
//!
//! Sessions survive a hub restart: with a data folder they are kept in `sessions.json`, which
//! holds only SHA-256 hashes of the tokens (a copy of the file signs nobody in). Neither PINs nor
//! tokens are ever logged.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::pins::{PinBook, PinError, PinId};
use crate::settings::Settings;

pub const TOKEN_TTL: Duration = Duration::from_secs(12 * 60 * 60);
pub const MAX_TOKENS: usize = 4096;
pub const MAX_SESSIONS_PER_STATION: usize = 16;
/// Failed PIN attempts allowed per address within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// Failed PIN attempts allowed per station (from all addresses together) within [`FAILURE_WINDOW`].
pub const MAX_STATION_FAILURES: usize = 20;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
pub const MAX_TRACKED_ADDRESSES: usize = 10_000;
pub const MAX_TRACKED_STATIONS: usize = 1_000;

#[derive(Debug, PartialEq, Eq)]
pub enum PinOutcome {
    Token(String),
    WrongPin,
    /// Too many failures from this address or for this station: retry after this long.
    Limited(Duration),
}

/// Why a sign-in could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no randomness for a token: {0}")]
    Random(#[from] getrandom::Error),
    #[error("the PIN check did not finish: {0}")]
    Check(#[from] tokio::task::JoinError),
}

pub struct Auth {
    /// The file's hashes with the command line's over them.
    pins: RwLock<Arc<PinBook>>,
    /// The command line's PINs, hashed once at start (so a reload does not change their ids).
    flag_pins: PinBook,
    pins_file: Option<PathBuf>,
    /// Keyed by the SHA-256 (hex) of the token.
    tokens: Mutex<HashMap<String, Session>>,
    attempts: Mutex<Attempts>,
    /// `sessions.json` in the data folder; `None` with `--memory`.
    sessions_file: Option<PathBuf>,
}

#[derive(Clone)]
struct Session {
    station: String,
    pin: PinId,
    expires: Instant,
}

/// One line of `sessions.json`.
#[derive(Serialize, Deserialize)]
struct StoredSession {
    token_sha256: String,
    station: String,
    /// Sessions from before PIN ids existed have none and are dropped.
    #[serde(default)]
    pin: Option<PinId>,
    expires_unix: u64,
}

/// Failure times in the window, per address, per station, and for addresses beyond the table.
#[derive(Default)]
struct Attempts {
    by_address: HashMap<IpAddr, VecDeque<Instant>>,
    overflow: VecDeque<Instant>,
    by_station: HashMap<String, VecDeque<Instant>>,
    station_overflow: VecDeque<Instant>,
}

/// An attempt counted as a failure until [`Auth::succeeded`] takes it back.
struct Attempt {
    address: IpAddr,
    station: String,
    at: Instant,
}

/// The key an address is counted under: IPv4 as is (also when mapped into IPv6), IPv6 by its /64.
pub fn address_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn prune(times: &mut VecDeque<Instant>, now: Instant) {
    while times.front().is_some_and(|t| now.saturating_duration_since(*t) >= FAILURE_WINDOW) {
        times.pop_front();
    }
}

/// How long until `times` has room for another failure, if it has none now.
fn wait(times: &VecDeque<Instant>, max: usize, now: Instant) -> Option<Duration> {
    (times.len() >= max).then(|| {
        let oldest = times.front().copied().unwrap_or(now);
        FAILURE_WINDOW.saturating_sub(now.saturating_duration_since(oldest)).max(Duration::from_secs(1))
    })
}

impl Attempts {
    /// The counter of `address`, or the shared overflow counter when the table is full.
    fn address(&mut self, address: IpAddr) -> &mut VecDeque<Instant> {
        if self.by_address.len() < MAX_TRACKED_ADDRESSES || self.by_address.contains_key(&address) {
            self.by_address.entry(address).or_default()
        } else {
            &mut self.overflow
        }
    }

    fn station(&mut self, station: &str) -> &mut VecDeque<Instant> {
        if self.by_station.len() < MAX_TRACKED_STATIONS || self.by_station.contains_key(station) {
            self.by_station.entry(station.to_string()).or_default()
        } else {
            &mut self.station_overflow
        }
    }

    fn prune(&mut self, now: Instant) {
        self.by_address.retain(|_, t| {
            prune(t, now);
            !t.is_empty()
        });
        self.by_station.retain(|_, t| {
            prune(t, now);
            !t.is_empty()
        });
        prune(&mut self.overflow, now);
        prune(&mut self.station_overflow, now);
    }

    /// Starts an attempt (counted as a failure) unless a limit is reached.
    fn begin(&mut self, address: IpAddr, station: &str, now: Instant) -> Result<Attempt, Duration> {
        self.prune(now);
        let by_address = wait(self.address(address), MAX_FAILURES, now);
        let by_station = wait(self.station(station), MAX_STATION_FAILURES, now);
        if let Some(limit) = by_address.into_iter().chain(by_station).max() {
            return Err(limit);
        }
        self.address(address).push_back(now);
        self.station(station).push_back(now);
        Ok(Attempt { address, station: station.to_string(), at: now })
    }

    /// Takes back an attempt whose PIN was right.
    fn succeeded(&mut self, attempt: &Attempt) {
        let forget = |times: &mut VecDeque<Instant>| {
            if let Some(i) = times.iter().position(|t| *t == attempt.at) {
                times.remove(i);
            }
        };
        forget(self.address(attempt.address));
        forget(self.station(&attempt.station));
    }
}

impl Auth {
    /// The sign-in state of a hub: its PINs and the sessions that survived the last run.
    pub fn new(settings: &Settings) -> Result<Auth, PinError> {
        let data = (!settings.memory).then_some(settings.data.as_path());
        let flag_pins = PinBook::load(None, settings.pin.as_ref(), &settings.station_pins, settings.mode.is_demo())?;
        let pins_file = data.map(|d| d.join(crate::pins::FILE_NAME));
        let pins = merged(pins_file.as_deref(), &flag_pins)?;
        let sessions_file = data.map(|d| d.join("sessions.json"));
        let mut tokens = sessions_file.as_ref().map(|p| load_sessions(p, Instant::now())).unwrap_or_default();
        tokens.retain(|_, s| pins.pin_id(&s.station).as_ref() == Some(&s.pin));
        Ok(Auth {
            pins: RwLock::new(Arc::new(pins)),
            flag_pins,
            pins_file,
            tokens: Mutex::new(tokens),
            attempts: Mutex::new(Attempts::default()),
            sessions_file,
        })
    }

    fn pins(&self) -> Arc<PinBook> {
        self.pins.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// True when the manager and at least one station have a PIN.
    pub fn has_pins(&self) -> bool {
        self.pins().is_complete()
    }

    /// Reads `pins.json` again (after `restaurant-hub set-pin`); the sessions of every station
    /// whose PIN changed end. Returns the stations whose PIN changed.
    pub fn reload_pins(&self) -> Result<Vec<String>, PinError> {
        let fresh = merged(self.pins_file.as_deref(), &self.flag_pins)?;
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        let mut changed: Vec<String> = tokens
            .values()
            .filter(|s| fresh.pin_id(&s.station).as_ref() != Some(&s.pin))
            .map(|s| s.station.clone())
            .collect();
        changed.sort();
        changed.dedup();
        tokens.retain(|_, s| fresh.pin_id(&s.station).as_ref() == Some(&s.pin));
        *self.pins.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
        if !changed.is_empty() {
            self.persist(&tokens, Instant::now());
        }
        Ok(changed)
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
                pin: Some(s.pin.clone()),
                expires_unix: unix + s.expires.saturating_duration_since(now).as_secs(),
            })
            .collect();
        // Small and rare (a sign-in or sign-out): written in place of a round trip to the store thread.
        let result = serde_json::to_vec(&stored)
            .map_err(std::io::Error::other)
            .and_then(|bytes| crate::fsutil::write_private(path, &bytes));
        if let Err(e) = result {
            tracing::error!("cannot save sessions to {}: {e}", path.display());
        }
    }

    /// Checks a PIN for `station` (already validated) from `addr`. The PIN's argon2 check runs on
    /// a blocking thread; the attempt counts against the limits from its start.
    pub async fn check_pin(
        &self,
        addr: IpAddr,
        station: &str,
        pin: &str,
        now: Instant,
    ) -> Result<Option<PinId>, Duration> {
        let attempt = self.attempts.lock().unwrap_or_else(|p| p.into_inner()).begin(address_key(addr), station, now)?;
        let pins = self.pins();
        let (station_owned, pin_owned) = (station.to_string(), pin.to_string());
        let verified = match tokio::task::spawn_blocking(move || pins.verify(&station_owned, &pin_owned)).await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!("the PIN check for station {station} did not finish: {e}");
                None
            }
        };
        if verified.is_some() {
            self.attempts.lock().unwrap_or_else(|p| p.into_inner()).succeeded(&attempt);
        }
        Ok(verified)
    }

    /// Signs `station` in with `pin` from `addr`: a right PIN buys a session token.
    pub async fn login(&self, addr: IpAddr, station: &str, pin: &str, now: Instant) -> Result<PinOutcome, AuthError> {
        let pin_id = match self.check_pin(addr, station, pin, now).await {
            Err(wait) => return Ok(PinOutcome::Limited(wait)),
            Ok(None) => return Ok(PinOutcome::WrongPin),
            Ok(Some(id)) => id,
        };
        let token = random_hex(16)?;
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.retain(|_, s| s.expires > now);
        let oldest_of = |tokens: &HashMap<String, Session>, station: Option<&str>| {
            tokens
                .iter()
                .filter(|(_, s)| station.is_none_or(|st| s.station == st))
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
        };
        if tokens.values().filter(|s| s.station == station).count() >= MAX_SESSIONS_PER_STATION {
            if let Some(oldest) = oldest_of(&tokens, Some(station)) {
                tracing::info!(station, "session limit of the station reached: its oldest session ends");
                tokens.remove(&oldest);
            }
        } else if tokens.len() >= MAX_TOKENS
            && let Some(oldest) = oldest_of(&tokens, None)
        {
            tracing::warn!("session table full ({MAX_TOKENS}): the oldest session ends");
            tokens.remove(&oldest);
        }
        let session = Session { station: station.to_string(), pin: pin_id, expires: now + TOKEN_TTL };
        tokens.insert(token_hash(&token), session);
        self.persist(&tokens, now);
        Ok(PinOutcome::Token(token))
    }

    /// Ends the session of `token`. Returns its station when it was live.
    pub fn logout(&self, token: &str, now: Instant) -> Option<String> {
        let station = self.station_of(token, now)?;
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.remove(&token_hash(token));
        self.persist(&tokens, now);
        Some(station)
    }

    /// The station a live token was issued for (not expired, not signed out, its PIN unchanged).
    pub fn station_of(&self, token: &str, now: Instant) -> Option<String> {
        let pins = self.pins();
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens
            .get(&token_hash(token))
            .filter(|s| s.expires > now && pins.pin_id(&s.station).as_ref() == Some(&s.pin))
            .map(|s| s.station.clone())
    }
}

/// `pins.json` (if any) with the command line's (and demo mode's) hashes over it.
fn merged(file: Option<&std::path::Path>, flags: &PinBook) -> Result<PinBook, PinError> {
    let mut book = match file {
        Some(path) => PinBook::read(path)?,
        None => PinBook::default(),
    };
    book.extend(flags);
    Ok(book)
}

fn load_sessions(path: &std::path::Path, now: Instant) -> HashMap<String, Session> {
    let stored: Vec<StoredSession> = crate::fsutil::read_json(path, "stations must sign in again").unwrap_or_default();
    let unix = unix_now();
    let sessions: HashMap<String, Session> = stored
        .into_iter()
        .filter(|s| s.expires_unix > unix)
        .filter_map(|s| {
            let left = Duration::from_secs(s.expires_unix - unix);
            let session = Session { station: s.station, pin: s.pin?, expires: now + left };
            Some((s.token_sha256, session))
        })
        .take(MAX_TOKENS)
        .collect();
    tracing::info!(sessions = sessions.len(), "station sessions restored");
    sessions
}

/// `bytes` random bytes from the OS, as lowercase hex.
pub fn random_hex(bytes: usize) -> Result<String, getrandom::Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::pins::MANAGER;
    use crate::settings::Secret;

    fn settings() -> Settings {
        Settings {
            pin: Some(Secret("1234".into())),
            station_pins: vec![("bar".into(), Secret("9999".into()))],
            memory: true,
            ..Settings::default()
        }
    }

    fn auth() -> Auth {
        Auth::new(&settings()).unwrap()
    }

    const ADDR: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    async fn token(auth: &Auth, addr: IpAddr, station: &str, pin: &str, now: Instant) -> String {
        match auth.login(addr, station, pin, now).await.unwrap() {
            PinOutcome::Token(t) => t,
            other => panic!("expected a token, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_right_pin_buys_a_128_bit_token_for_that_station() {
        let auth = auth();
        let now = Instant::now();
        let token = token(&auth, ADDR, "grill", "1234", now).await;
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(auth.station_of(&token, now).as_deref(), Some("grill"));
        assert_eq!(auth.station_of("nope", now), None);
        assert_eq!(auth.station_of(&token, now + TOKEN_TTL), None, "tokens expire");
    }

    #[tokio::test]
    async fn a_station_pin_overrides_the_global_one() {
        let auth = auth();
        let now = Instant::now();
        assert_eq!(auth.login(ADDR, "bar", "1234", now).await.unwrap(), PinOutcome::WrongPin);
        assert!(matches!(auth.login(ADDR, "bar", "9999", now).await.unwrap(), PinOutcome::Token(_)));
    }

    #[tokio::test]
    async fn without_a_global_pin_a_station_without_its_own_cannot_sign_in() {
        let auth = Auth::new(&Settings { pin: None, ..settings() }).unwrap();
        assert_eq!(auth.login(ADDR, "grill", "1234", Instant::now()).await.unwrap(), PinOutcome::WrongPin);
        assert!(!auth.has_pins(), "no manager PIN");
    }

    #[tokio::test]
    async fn signing_out_revokes_the_token() {
        let auth = auth();
        let now = Instant::now();
        let token = token(&auth, ADDR, "grill", "1234", now).await;
        assert_eq!(auth.logout(&token, now).as_deref(), Some("grill"));
        assert_eq!(auth.station_of(&token, now), None);
        assert_eq!(auth.logout(&token, now), None, "already signed out");
    }

    #[tokio::test]
    async fn five_failures_a_minute_lock_the_address_out_until_the_window_passes() {
        let auth = auth();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(auth.login(ADDR, "grill", "0000", now).await.unwrap(), PinOutcome::WrongPin);
        }
        assert_eq!(auth.login(ADDR, "grill", "1234", now).await.unwrap(), PinOutcome::Limited(FAILURE_WINDOW));
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(matches!(auth.login(other, "grill", "1234", now).await.unwrap(), PinOutcome::Token(_)));
        assert!(matches!(auth.login(ADDR, "grill", "1234", now + FAILURE_WINDOW).await.unwrap(), PinOutcome::Token(_)));
    }

    #[tokio::test]
    async fn many_addresses_do_not_multiply_the_guesses_at_one_station() {
        let auth = auth();
        let now = Instant::now();
        for i in 0..MAX_STATION_FAILURES {
            let addr = IpAddr::V4(Ipv4Addr::new(10, 0, (i / 250) as u8, (i % 250) as u8 + 1));
            assert_eq!(auth.login(addr, "bar", "0000", now).await.unwrap(), PinOutcome::WrongPin);
        }
        let fresh = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 9));
        assert!(matches!(auth.login(fresh, "bar", "9999", now).await.unwrap(), PinOutcome::Limited(_)));
        assert!(
            matches!(auth.login(fresh, "grill", "1234", now).await.unwrap(), PinOutcome::Token(_)),
            "other stations are not affected"
        );
    }

    #[tokio::test]
    async fn ipv6_addresses_of_one_network_count_as_one() {
        let auth = auth();
        let now = Instant::now();
        for i in 0..MAX_FAILURES {
            let addr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, i as u16 + 1));
            assert_eq!(auth.login(addr, "grill", "0000", now).await.unwrap(), PinOutcome::WrongPin);
        }
        let same_net = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0xffff, 0, 0, 77));
        assert!(matches!(auth.login(same_net, "grill", "1234", now).await.unwrap(), PinOutcome::Limited(_)));
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(address_key(mapped), ADDR);
    }

    #[tokio::test]
    async fn a_full_address_table_keeps_counting() {
        let auth = auth();
        let now = Instant::now();
        {
            let mut attempts = auth.attempts.lock().unwrap();
            for i in 0..MAX_TRACKED_ADDRESSES {
                let addr = IpAddr::V6(Ipv6Addr::new(0xfd00, i as u16, 0, 0, 0, 0, 0, 0));
                attempts.by_address.insert(addr, VecDeque::from([now]));
            }
        }
        let stations = ["a1", "a2", "a3", "a4", "a5"];
        for (i, station) in stations.iter().enumerate() {
            let addr = IpAddr::V4(Ipv4Addr::new(172, 16, 0, i as u8 + 1));
            assert_eq!(auth.login(addr, station, "0000", now).await.unwrap(), PinOutcome::WrongPin);
        }
        let another = IpAddr::V4(Ipv4Addr::new(172, 16, 0, 99));
        assert!(
            matches!(auth.login(another, "a6", "1234", now).await.unwrap(), PinOutcome::Limited(_)),
            "addresses beyond the table share one counter"
        );
    }

    #[tokio::test]
    async fn parallel_guesses_cannot_slip_past_the_limit() {
        let auth = Arc::new(auth());
        let now = Instant::now();
        let guesses = (0..20).map(|_| {
            let auth = auth.clone();
            tokio::spawn(async move { auth.login(ADDR, "grill", "0000", now).await.unwrap() })
        });
        let outcomes = futures_util::future::join_all(guesses).await;
        let checked = outcomes.iter().filter(|o| matches!(o, Ok(PinOutcome::WrongPin))).count();
        assert_eq!(checked, MAX_FAILURES, "{outcomes:?}");
    }

    #[tokio::test]
    async fn sign_ins_of_one_station_cannot_evict_another_stations_sessions() {
        let auth = auth();
        let now = Instant::now();
        let grill = token(&auth, ADDR, "grill", "1234", now).await;
        let mut bar = Vec::new();
        for i in 0..(MAX_SESSIONS_PER_STATION + 5) {
            bar.push(token(&auth, ADDR, "bar", "9999", now + Duration::from_millis(i as u64)).await);
        }
        assert_eq!(auth.station_of(&grill, now).as_deref(), Some("grill"));
        let live = bar.iter().filter(|t| auth.station_of(t, now).is_some()).count();
        assert_eq!(live, MAX_SESSIONS_PER_STATION);
        assert!(auth.station_of(&bar[0], now).is_none() && auth.station_of(bar.last().unwrap(), now).is_some());
    }

    #[tokio::test]
    async fn setting_a_new_pin_signs_that_station_out_also_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        crate::pins::PinBook::set_in_folder(dir.path(), "grill", "1111").unwrap();
        crate::pins::PinBook::set_in_folder(dir.path(), "fryer", "2222").unwrap();
        crate::pins::PinBook::set_in_folder(dir.path(), MANAGER, "3333").unwrap();
        let settings = Settings { data: dir.path().to_path_buf(), memory: false, pin: None, ..Settings::default() };
        let auth = Auth::new(&settings).unwrap();
        assert!(auth.has_pins());
        let now = Instant::now();
        let grill = token(&auth, ADDR, "grill", "1111", now).await;
        let fryer = token(&auth, ADDR, "fryer", "2222", now).await;
        crate::pins::PinBook::set_in_folder(dir.path(), "grill", "4444").unwrap();
        assert_eq!(auth.reload_pins().unwrap(), ["grill"]);
        assert_eq!(auth.station_of(&grill, now), None, "the old PIN's session ended");
        assert_eq!(auth.station_of(&fryer, now).as_deref(), Some("fryer"));
        assert!(matches!(auth.login(ADDR, "grill", "4444", now).await.unwrap(), PinOutcome::Token(_)));
        // A PIN changed while the hub was stopped ends the sessions too.
        crate::pins::PinBook::set_in_folder(dir.path(), "fryer", "5555").unwrap();
        let restarted = Auth::new(&settings).unwrap();
        assert_eq!(restarted.station_of(&fryer, Instant::now()), None);
    }

    #[tokio::test]
    async fn sessions_survive_a_restart_with_the_same_data_folder_and_the_file_holds_no_token() {
        let dir = tempfile::tempdir().unwrap();
        crate::pins::PinBook::set_in_folder(dir.path(), "grill", "1234").unwrap();
        let settings = Settings { data: dir.path().to_path_buf(), memory: false, ..Settings::default() };
        let token = token(&Auth::new(&settings).unwrap(), ADDR, "grill", "1234", Instant::now()).await;
        let file = std::fs::read_to_string(dir.path().join("sessions.json")).unwrap();
        assert!(!file.contains(&token), "only a hash of the token is stored");
        let restarted = Auth::new(&settings).unwrap();
        assert_eq!(restarted.station_of(&token, Instant::now()).as_deref(), Some("grill"));
        assert_eq!(restarted.station_of("0123456789abcdef0123456789abcdef", Instant::now()), None);
    }

    #[tokio::test]
    async fn an_unreadable_sessions_file_means_signing_in_again_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sessions.json"), "{not json").unwrap();
        let settings = Settings { data: dir.path().to_path_buf(), memory: false, ..settings() };
        let auth = Auth::new(&settings).unwrap();
        assert!(matches!(auth.login(ADDR, "grill", "1234", Instant::now()).await.unwrap(), PinOutcome::Token(_)));
    }

    #[tokio::test]
    async fn the_token_map_is_bounded() {
        let auth = auth();
        let now = Instant::now();
        let pin = auth.pins().pin_id("grill").unwrap();
        {
            let mut tokens = auth.tokens.lock().unwrap();
            for i in 0..MAX_TOKENS {
                let session = Session { station: format!("s{i}"), pin: pin.clone(), expires: now + TOKEN_TTL };
                tokens.insert(format!("{i:064x}"), session);
            }
        }
        let newest = token(&auth, ADDR, "grill", "1234", now).await;
        assert_eq!(auth.tokens.lock().unwrap().len(), MAX_TOKENS);
        assert_eq!(auth.station_of(&newest, now).as_deref(), Some("grill"));
    }
}
