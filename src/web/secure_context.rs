//! `window.isSecureContext` and the page's own address: whether the browser will offer the
//! microphone here, and what to show when it will not.

/// `window.isSecureContext` (`false` without a window).
pub fn is_secure_context() -> bool {
    web_sys::window().is_some_and(|w| w.is_secure_context())
}

/// `location.href` (empty without a window).
pub fn page_url() -> String {
    web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default()
}
