//! Random bytes from the browser's secure generator (`crypto.getRandomValues`).

/// `N` random bytes. Falls back to `Math.random` (logged) only when `crypto` is unavailable.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.get_random_values_with_u8_array(&mut bytes))
        .is_some_and(|r| r.is_ok());
    if !filled {
        log::error!("[Random] crypto.getRandomValues unavailable; using Math.random");
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes
}

/// A fresh random id `{prefix}-{16 hex digits}` for calls and clients.
pub fn random_id(prefix: &str) -> String {
    crate::core::id::prefixed_id(prefix, random_bytes())
}

/// A fresh random UUID v4 (idempotency keys).
pub fn random_uuid() -> String {
    crate::core::id::uuid_v4(random_bytes())
}
