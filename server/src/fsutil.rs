//! Files the hub keeps in its data folder.

use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;

/// The JSON value in `path`; `None` when there is no file yet, or — logged as an error, with
/// `consequence` ("kiosks must be paired again") — when it cannot be read or parsed. Never a
/// crash: a damaged file costs a sign-in, not the hub.
pub fn read_json<T: DeserializeOwned>(path: &Path, consequence: &str) -> Option<T> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::error!("cannot read {}: {e}; {consequence}", path.display());
            return None;
        }
    };
    match serde_json::from_slice(&bytes) {
        Ok(value) => Some(value),
        Err(e) => {
            tracing::error!("{} is unreadable ({e}); {consequence}", path.display());
            None
        }
    }
}

/// Writes `bytes` to `path` atomically (a temporary file in the same folder, synced, then
/// renamed over it), readable and writable by the hub's user only on Unix.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}
