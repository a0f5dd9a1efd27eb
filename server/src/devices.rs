//! Paired devices (kiosks): a manager's PIN pairs one once, and the hub issues it a device token.
//!
//! The token (256 random bits, hex) is what a kiosk sends as `Authorization: Bearer` to place
//! orders and get voice tokens, and as `hello.token` on its call connection. The hub keeps only
//! its SHA-256, with the device's id, name and pairing time, in `devices.json` (a copy of the file
//! pairs nothing). Revoking a device refuses its token from then on.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use restaurant_protocol::DeviceInfo;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::random_hex;

pub const FILE_NAME: &str = "devices.json";
pub const MAX_DEVICES: usize = 256;
pub const MAX_NAME_CHARS: usize = 64;
/// The device requests without a token count as in demo mode.
pub const DEMO_DEVICE: &str = "demo";

/// The paired device a request came from (a request extension set by the guard).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceId(pub String);

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("a device name must be 1–{MAX_NAME_CHARS} characters without control characters")]
    BadName,
    #[error("{MAX_DEVICES} devices are paired already; revoke one first")]
    Full,
    #[error("no randomness for a device token: {0}")]
    Random(#[from] getrandom::Error),
    #[error("cannot save {path}: {source}")]
    Save { path: PathBuf, source: std::io::Error },
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredDevice {
    #[serde(flatten)]
    info: DeviceInfo,
    token_sha256: String,
}

pub struct Devices {
    /// Keyed by the SHA-256 (hex) of the token.
    by_token: Mutex<HashMap<String, DeviceInfo>>,
    file: Option<PathBuf>,
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl Devices {
    /// The devices paired so far (`devices.json` in `data`; none with `None`). An unreadable
    /// file is logged and means pairing again: never a crash, never a device let in by mistake.
    pub fn load(data: Option<&std::path::Path>) -> Devices {
        let file = data.map(|d| d.join(FILE_NAME));
        let by_token = file.as_deref().map(read).unwrap_or_default();
        Devices { by_token: Mutex::new(by_token), file }
    }

    /// Pairs a device called `name`: its token, to be given to it once.
    pub fn pair(&self, name: &str, now_ms: i64) -> Result<(DeviceInfo, String), DeviceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(DeviceError::BadName);
        }
        let mut devices = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        if devices.len() >= MAX_DEVICES {
            return Err(DeviceError::Full);
        }
        let token = random_hex(32)?;
        let info = DeviceInfo { id: format!("dev_{}", random_hex(8)?), name: name.to_string(), paired_at: now_ms };
        devices.insert(token_hash(&token), info.clone());
        if let Err(e) = self.save(&devices) {
            devices.remove(&token_hash(&token));
            return Err(e);
        }
        Ok((info, token))
    }

    /// The device a token belongs to, if it is paired and not revoked.
    pub fn device_of(&self, token: &str) -> Option<DeviceId> {
        let devices = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        devices.get(&token_hash(token)).map(|d| DeviceId(d.id.clone()))
    }

    /// Every paired device, oldest first.
    pub fn list(&self) -> Vec<DeviceInfo> {
        let devices = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        let mut list: Vec<DeviceInfo> = devices.values().cloned().collect();
        list.sort_by(|a, b| (a.paired_at, &a.id).cmp(&(b.paired_at, &b.id)));
        list
    }

    /// Revokes the device `id`: its token is refused from now on. `Ok(None)` when unknown.
    pub fn revoke(&self, id: &str) -> Result<Option<DeviceInfo>, DeviceError> {
        let mut devices = self.by_token.lock().unwrap_or_else(|p| p.into_inner());
        let Some(key) = devices.iter().find(|(_, d)| d.id == id).map(|(k, _)| k.clone()) else {
            return Ok(None);
        };
        let removed = devices.remove(&key);
        if let Err(e) = self.save(&devices) {
            // Not saved means it would come back at the next start: keep the hub's word and say so.
            tracing::error!("{e}: the device stays revoked until the hub restarts");
        }
        Ok(removed)
    }

    fn save(&self, devices: &HashMap<String, DeviceInfo>) -> Result<(), DeviceError> {
        let Some(path) = &self.file else { return Ok(()) };
        let mut stored: Vec<StoredDevice> = devices
            .iter()
            .map(|(hash, info)| StoredDevice { info: info.clone(), token_sha256: hash.clone() })
            .collect();
        stored.sort_by(|a, b| a.info.id.cmp(&b.info.id));
        let bytes = serde_json::to_vec_pretty(&stored).map_err(std::io::Error::other);
        bytes
            .and_then(|b| crate::fsutil::write_private(path, &b))
            .map_err(|source| DeviceError::Save { path: path.clone(), source })
    }
}

fn read(path: &std::path::Path) -> HashMap<String, DeviceInfo> {
    let stored: Vec<StoredDevice> = crate::fsutil::read_json(path, "kiosks must be paired again").unwrap_or_default();
    let devices: HashMap<_, _> = stored.into_iter().take(MAX_DEVICES).map(|d| (d.token_sha256, d.info)).collect();
    tracing::info!(devices = devices.len(), "paired devices loaded");
    devices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paired_device_is_known_by_its_token_until_revoked() {
        let devices = Devices::load(None);
        let (info, token) = devices.pair("  Kiosk 1 ", 1000).unwrap();
        assert_eq!((info.name.as_str(), info.paired_at), ("Kiosk 1", 1000));
        assert_eq!(token.len(), 64);
        assert_eq!(devices.device_of(&token), Some(DeviceId(info.id.clone())));
        assert_eq!(devices.device_of("0".repeat(64).as_str()), None);
        assert_eq!(devices.list(), std::slice::from_ref(&info));
        assert_eq!(devices.revoke(&info.id).unwrap(), Some(info.clone()));
        assert_eq!(devices.device_of(&token), None);
        assert_eq!(devices.revoke(&info.id).unwrap(), None);
    }

    #[test]
    fn devices_survive_a_restart_and_the_file_holds_no_token() {
        let dir = tempfile::tempdir().unwrap();
        let (info, token) = Devices::load(Some(dir.path())).pair("Kiosk", 5).unwrap();
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert!(!text.contains(&token) && text.contains(&info.id), "{text}");
        let again = Devices::load(Some(dir.path()));
        assert_eq!(again.device_of(&token), Some(DeviceId(info.id.clone())));
        again.revoke(&info.id).unwrap();
        assert_eq!(Devices::load(Some(dir.path())).device_of(&token), None, "revocation is saved");
    }

    #[test]
    fn names_and_the_device_count_are_bounded() {
        let devices = Devices::load(None);
        assert!(matches!(devices.pair("", 0), Err(DeviceError::BadName)));
        assert!(matches!(devices.pair(&"x".repeat(MAX_NAME_CHARS + 1), 0), Err(DeviceError::BadName)));
        assert!(matches!(devices.pair("a\u{7}b", 0), Err(DeviceError::BadName)));
        for i in 0..MAX_DEVICES {
            devices.pair(&format!("k{i}"), 0).unwrap();
        }
        assert!(matches!(devices.pair("one more", 0), Err(DeviceError::Full)));
    }

    #[test]
    fn an_unreadable_file_means_pairing_again_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "[{]").unwrap();
        let devices = Devices::load(Some(dir.path()));
        assert!(devices.list().is_empty());
        devices.pair("Kiosk", 0).unwrap();
    }
}
