//! `localStorage`, with every failure (private mode, quota, disabled storage) logged, never thrown.

fn storage() -> Option<web_sys::Storage> {
    match web_sys::window()?.local_storage() {
        Ok(Some(s)) => Some(s),
        Ok(None) => {
            log::error!("[Storage] localStorage is not available");
            None
        }
        Err(e) => {
            log::error!("[Storage] localStorage is blocked: {}", super::js_error_message(&e));
            None
        }
    }
}

pub fn get(key: &str) -> Option<String> {
    match storage()?.get_item(key) {
        Ok(v) => v,
        Err(e) => {
            log::error!("[Storage] reading {key:?} failed: {}", super::js_error_message(&e));
            None
        }
    }
}

/// Returns whether the value was stored.
pub fn set(key: &str, value: &str) -> bool {
    let Some(s) = storage() else { return false };
    match s.set_item(key, value) {
        Ok(()) => true,
        Err(e) => {
            log::error!("[Storage] writing {key:?} ({} bytes) failed: {}", value.len(), super::js_error_message(&e));
            false
        }
    }
}

pub fn remove(key: &str) {
    if let Some(s) = storage()
        && let Err(e) = s.remove_item(key)
    {
        log::error!("[Storage] removing {key:?} failed: {}", super::js_error_message(&e));
    }
}
