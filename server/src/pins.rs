//! Station PINs, stored as argon2id hashes.
//!
//! `pins.json` in the data folder maps a station name (or [`EVERY_STATION`]) to the PHC string of
//! its PIN; `restaurant-hub set-pin` writes it. The PIN of the station [`MANAGER`] pairs devices.
//! A PIN given on the command line (`--pin`, `--station-pin`) is hashed when the hub starts and
//! overrides the file for that station. No PIN is ever stored or logged in clear.
//!
//! Each hash has a short [`PinId`] (derived from the PHC string, which holds a random salt), so a
//! session remembers which PIN bought it: setting a new PIN for a station invalidates its
//! sessions, also across a restart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, Params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::settings::{Secret, is_valid_station};

/// The station whose PIN pairs kiosks and lists or revokes devices.
pub const MANAGER: &str = "manager";
/// The key of a PIN valid for every station without its own (one global PIN, an explicit choice).
pub const EVERY_STATION: &str = "*";
pub const FILE_NAME: &str = "pins.json";
pub const MIN_PIN_CHARS: usize = 4;
pub const MAX_PIN_CHARS: usize = 64;
/// The PIN of every station and the manager in demo mode.
pub const DEMO_PIN: &str = "1234";

/// Which PIN a session was bought with: changes whenever that PIN is set again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PinId(pub String);

/// Why a PIN cannot be set or the PIN file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PinError {
    #[error("a PIN must be {MIN_PIN_CHARS}–{MAX_PIN_CHARS} characters without spaces or control characters")]
    BadPin,
    #[error("invalid station name {0:?} (1–32 of a-z 0-9 - _, or `manager`)")]
    BadStation(String),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a PIN file ({source}); fix or remove it and set the PINs again")]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("{path} holds an invalid hash for {station:?}; set its PIN again")]
    BadHash { path: PathBuf, station: String },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot hash the PIN: {0}")]
    Hash(String),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PinFile {
    /// Station (or `*`) → PHC string.
    pins: BTreeMap<String, String>,
}

/// The PIN hashes the hub checks against.
#[derive(Debug, Clone, Default)]
pub struct PinBook {
    hashes: BTreeMap<String, String>,
}

/// The argon2id parameters: OWASP's minimum (19 MiB, 2 passes), about 20–40 ms per check here.
fn hasher() -> Argon2<'static> {
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, Params::default())
}

/// Checks a PIN's shape (not its strength).
pub fn check_pin(pin: &str) -> Result<(), PinError> {
    let chars = pin.chars().count();
    if !(MIN_PIN_CHARS..=MAX_PIN_CHARS).contains(&chars) || pin.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(PinError::BadPin);
    }
    Ok(())
}

/// A station name or [`EVERY_STATION`].
fn check_station(station: &str) -> Result<(), PinError> {
    if station == EVERY_STATION || is_valid_station(station) {
        Ok(())
    } else {
        Err(PinError::BadStation(station.to_string()))
    }
}

/// The argon2id PHC string of `pin`, with a fresh random salt.
pub fn hash_pin(pin: &str) -> Result<String, PinError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PinError::Hash(e.to_string()))?;
    hash_pin_with_salt(pin, &salt)
}

/// The hash of a PIN given on the command line (or the demo PIN): its salt comes from the station
/// name, so the same PIN gives the same hash — and the same [`PinId`] — at every start, and
/// sessions survive a restart. (`pins.json`'s hashes keep their random salts: the file persists.)
fn hash_flag_pin(station: &str, pin: &str) -> Result<String, PinError> {
    let digest = Sha256::digest(format!("restaurant-hub command-line PIN salt:{station}").as_bytes());
    hash_pin_with_salt(pin, &digest[..16])
}

fn hash_pin_with_salt(pin: &str, salt: &[u8]) -> Result<String, PinError> {
    check_pin(pin)?;
    let salt = SaltString::encode_b64(salt).map_err(|e| PinError::Hash(e.to_string()))?;
    hasher().hash_password(pin.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| PinError::Hash(e.to_string()))
}

fn pin_id(phc: &str) -> PinId {
    let digest = Sha256::digest(phc.as_bytes());
    PinId(digest.iter().take(8).map(|b| format!("{b:02x}")).collect())
}

impl PinBook {
    /// The PINs of a hub: `pins.json` (when there is a data folder), then the command line's PINs
    /// over it, and in demo mode [`DEMO_PIN`] for every station that still has none.
    pub fn load(
        data: Option<&Path>,
        global: Option<&Secret>,
        stations: &[(String, Secret)],
        demo: bool,
    ) -> Result<PinBook, PinError> {
        let mut book = match data {
            Some(folder) => PinBook::read(&folder.join(FILE_NAME))?,
            None => PinBook::default(),
        };
        if let Some(pin) = global {
            book.hashes.insert(EVERY_STATION.into(), hash_flag_pin(EVERY_STATION, &pin.0)?);
        }
        for (station, pin) in stations {
            check_station(station)?;
            book.hashes.insert(station.clone(), hash_flag_pin(station, &pin.0)?);
        }
        if demo && !book.hashes.contains_key(EVERY_STATION) {
            book.hashes.insert(EVERY_STATION.into(), hash_flag_pin(EVERY_STATION, DEMO_PIN)?);
        }
        Ok(book)
    }

    /// The hashes in `path`; no file means no PINs.
    pub fn read(path: &Path) -> Result<PinBook, PinError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PinBook::default()),
            Err(source) => return Err(PinError::Read { path: path.into(), source }),
        };
        let file: PinFile =
            serde_json::from_slice(&bytes).map_err(|source| PinError::Parse { path: path.into(), source })?;
        for (station, phc) in &file.pins {
            check_station(station)?;
            if PasswordHash::new(phc).is_err() {
                return Err(PinError::BadHash { path: path.into(), station: station.clone() });
            }
        }
        Ok(PinBook { hashes: file.pins })
    }

    /// Sets `station`'s PIN in the data folder's `pins.json` (created if missing), atomically.
    pub fn set_in_folder(folder: &Path, station: &str, pin: &str) -> Result<(), PinError> {
        check_station(station)?;
        let path = folder.join(FILE_NAME);
        let mut book = PinBook::read(&path)?;
        book.hashes.insert(station.to_string(), hash_pin(pin)?);
        let write = |source| PinError::Write { path: path.clone(), source };
        std::fs::create_dir_all(folder).map_err(write)?;
        let bytes = serde_json::to_vec_pretty(&PinFile { pins: book.hashes }).map_err(|e| write(e.into()))?;
        crate::fsutil::write_private(&path, &bytes).map_err(write)
    }

    /// Adds `other`'s hashes over these.
    pub fn extend(&mut self, other: &PinBook) {
        self.hashes.extend(other.hashes.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    /// The hash a PIN for `station` is checked against: its own, else the one for every station.
    /// The manager has no fallback unless the global PIN was chosen explicitly.
    fn hash_for(&self, station: &str) -> Option<&str> {
        self.hashes.get(station).or_else(|| self.hashes.get(EVERY_STATION)).map(String::as_str)
    }

    /// Which PIN signs `station` in now; `None` when it has none.
    pub fn pin_id(&self, station: &str) -> Option<PinId> {
        self.hash_for(station).map(pin_id)
    }

    /// Checks `pin` for `station`, in constant time per hash (argon2). Slow by design: call it
    /// off the async threads. A station without a PIN is checked against a dummy hash so the
    /// answer takes as long.
    pub fn verify(&self, station: &str, pin: &str) -> Option<PinId> {
        let Some(phc) = self.hash_for(station) else {
            let _ = hasher().hash_password(pin.as_bytes(), &SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").ok()?);
            return None;
        };
        let parsed = PasswordHash::new(phc).ok()?;
        hasher().verify_password(pin.as_bytes(), &parsed).ok().map(|()| pin_id(phc))
    }

    /// True when the manager and at least one kitchen station can sign in.
    pub fn is_complete(&self) -> bool {
        self.hash_for(MANAGER).is_some() && self.hashes.keys().any(|k| k != MANAGER)
    }

    /// Stations with a PIN of their own (and `*` for the global one).
    pub fn stations(&self) -> impl Iterator<Item = &str> {
        self.hashes.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_is_stored_as_an_argon2id_hash_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        PinBook::set_in_folder(dir.path(), "grill", "482916").unwrap();
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert!(text.contains("$argon2id$") && !text.contains("482916"), "{text}");
        let book = PinBook::read(&dir.path().join(FILE_NAME)).unwrap();
        assert!(book.verify("grill", "482916").is_some());
        assert_eq!(book.verify("grill", "482917"), None);
        assert_eq!(book.verify("fryer", "482916"), None, "no PIN for fryer and no global PIN");
        assert!(!book.is_complete(), "no manager PIN yet");
    }

    #[test]
    fn setting_a_pin_again_changes_its_id_and_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        PinBook::set_in_folder(dir.path(), "grill", "1111").unwrap();
        PinBook::set_in_folder(dir.path(), MANAGER, "9999").unwrap();
        let before = PinBook::read(&dir.path().join(FILE_NAME)).unwrap();
        PinBook::set_in_folder(dir.path(), "grill", "1111").unwrap();
        let after = PinBook::read(&dir.path().join(FILE_NAME)).unwrap();
        assert_ne!(before.pin_id("grill"), after.pin_id("grill"), "a new salt, a new id, even for the same PIN");
        assert_eq!(before.pin_id(MANAGER), after.pin_id(MANAGER));
        assert!(after.is_complete());
    }

    #[test]
    fn the_global_pin_covers_stations_without_their_own() {
        let book =
            PinBook::load(None, Some(&Secret("5555".into())), &[("bar".into(), Secret("7777".into()))], false).unwrap();
        assert!(book.verify("grill", "5555").is_some() && book.verify(MANAGER, "5555").is_some());
        assert_eq!(book.verify("bar", "5555"), None, "bar has its own PIN");
        assert!(book.verify("bar", "7777").is_some());
    }

    #[test]
    fn command_line_and_demo_pins_keep_their_id_across_starts_so_sessions_survive_a_restart() {
        let flags = [("grill".to_string(), Secret("4826".into()))];
        let (a, b) =
            (PinBook::load(None, None, &flags, true).unwrap(), PinBook::load(None, None, &flags, true).unwrap());
        assert_eq!(a.pin_id("grill"), b.pin_id("grill"));
        assert_eq!(a.pin_id("kitchen"), b.pin_id("kitchen"), "the demo PIN");
        let other = PinBook::load(None, None, &[("grill".to_string(), Secret("4827".into()))], true).unwrap();
        assert_ne!(a.pin_id("grill"), other.pin_id("grill"), "another PIN, another id");
    }

    #[test]
    fn demo_mode_falls_back_to_the_demo_pin_and_production_has_none() {
        let demo = PinBook::load(None, None, &[], true).unwrap();
        assert!(demo.verify("kitchen", DEMO_PIN).is_some() && demo.is_complete());
        let production = PinBook::load(None, None, &[], false).unwrap();
        assert_eq!(production.verify("kitchen", DEMO_PIN), None);
        assert!(!production.is_complete());
    }

    #[test]
    fn bad_pins_stations_and_files_are_refused_with_a_message() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(PinBook::set_in_folder(dir.path(), "grill", "12"), Err(PinError::BadPin)));
        assert!(matches!(PinBook::set_in_folder(dir.path(), "grill", "12 34"), Err(PinError::BadPin)));
        assert!(matches!(PinBook::set_in_folder(dir.path(), "Grill", "1234"), Err(PinError::BadStation(_))));
        std::fs::write(dir.path().join(FILE_NAME), "{not json").unwrap();
        let e = PinBook::read(&dir.path().join(FILE_NAME)).unwrap_err();
        assert!(e.to_string().contains("pins.json"), "{e}");
        std::fs::write(dir.path().join(FILE_NAME), r#"{"pins":{"grill":"plain-text-pin"}}"#).unwrap();
        assert!(matches!(PinBook::read(&dir.path().join(FILE_NAME)), Err(PinError::BadHash { .. })));
    }

    #[cfg(unix)]
    #[test]
    fn the_pin_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        PinBook::set_in_folder(dir.path(), "grill", "1234").unwrap();
        let mode = std::fs::metadata(dir.path().join(FILE_NAME)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
}
