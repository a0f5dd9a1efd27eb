//! The clocks: [`now`] is the monotonic time every core and wrapper works in; [`unix_ms`] is
//! wall-clock time, only for what a person reads or a server compares (timestamps, token expiry).

use crate::core::time::Millis;

/// Monotonic time (`performance.now()`), the one clock handed to the sans-IO cores.
pub fn now() -> Millis {
    Millis(now_ms().max(0.0) as u64)
}

/// `performance.now()` with its sub-millisecond part, for measurements.
pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or_else(js_sys::Date::now)
}

/// Wall-clock Unix milliseconds (for RFC 3339 timestamps and token expiry).
pub fn unix_ms() -> f64 {
    js_sys::Date::now()
}

/// Wall-clock Unix milliseconds of today's local midnight (the start of "today" on this screen).
pub fn local_midnight_unix_ms() -> f64 {
    let today = js_sys::Date::new_0();
    today.set_hours(0);
    today.set_minutes(0);
    today.set_seconds(0);
    today.set_milliseconds(0);
    today.get_time()
}

/// The local hour (0–23) of wall-clock Unix milliseconds, for labelling.
pub fn local_hour(unix_ms: f64) -> u32 {
    js_sys::Date::new(&unix_ms.into()).get_hours()
}
