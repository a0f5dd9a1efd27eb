//! The monotonic clock handed to the sans-IO cores (`performance.now()`, milliseconds).

pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or_else(js_sys::Date::now)
}

/// Wall-clock Unix milliseconds (for RFC 3339 timestamps and token expiry).
pub fn unix_ms() -> f64 {
    js_sys::Date::now()
}
