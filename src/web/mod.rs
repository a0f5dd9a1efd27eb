//! RAII wrappers around browser APIs, one API per file.
//!
//! Each wrapper owns the `Closure`s it hands to the browser and attaches them when it is
//! constructed, before the underlying object can fire anything; `Drop` detaches them and releases
//! the resource. No wrapper leaks a closure with `forget()`.

pub mod arrange;
pub mod chime;
pub mod clock;
pub mod console_log;
pub mod debug;
pub mod dialog;
pub mod events;
pub mod frame;
pub mod http;
pub mod media;
pub mod peer;
pub mod random;
pub mod realtime;
pub mod secure_context;
pub mod selection;
pub mod socket;
pub mod storage;
pub mod timer;

use wasm_bindgen::{JsCast, JsValue};

/// A readable message for a thrown JS value: `Name: message` for `Error`/`DOMException`.
pub fn js_error_message(value: &JsValue) -> String {
    if let Some(err) = value.dyn_ref::<js_sys::Error>() {
        let name = String::from(err.name());
        let message = String::from(err.message());
        return if message.is_empty() { name } else { format!("{name}: {message}") };
    }
    if let Some(s) = value.as_string() {
        return s;
    }
    format!("{value:?}")
}

/// The `name` of a thrown `DOMException` / `Error` (`NotAllowedError`, `AbortError`, …).
pub fn js_error_name(value: &JsValue) -> Option<String> {
    value.dyn_ref::<js_sys::Error>().map(|e| String::from(e.name()))
}
