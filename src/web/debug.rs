//! Read-only debug surfaces on `window` (`__voiceClient`, `__wsService`, `__dbgWS`) for tests and
//! for people at a DevTools console.
//!
//! An installed object owns its method closures and removes itself from `window` on drop (only if
//! it is still the installed one), so an unmounted page leaves nothing behind.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

type Method = Closure<dyn Fn() -> JsValue>;
/// A method of a debug object: its name and what it returns.
pub type DebugMethod = (&'static str, Box<dyn Fn() -> JsValue>);

#[must_use = "dropping it removes the window property"]
pub struct DebugObject {
    name: &'static str,
    object: js_sys::Object,
    _methods: Vec<Method>,
}

impl DebugObject {
    pub fn install(name: &'static str, methods: Vec<DebugMethod>) -> DebugObject {
        let object = js_sys::Object::new();
        let mut owned = Vec::with_capacity(methods.len());
        for (method, f) in methods {
            let closure: Method = Closure::wrap(f);
            let _ = js_sys::Reflect::set(&object, &method.into(), closure.as_ref().unchecked_ref());
            owned.push(closure);
        }
        if let Some(window) = web_sys::window()
            && js_sys::Reflect::set(&window, &name.into(), &object).is_err()
        {
            log::error!("[Debug] cannot install window.{name}");
        }
        DebugObject { name, object, _methods: owned }
    }
}

impl Drop for DebugObject {
    fn drop(&mut self) {
        let Some(window) = web_sys::window() else { return };
        let current = js_sys::Reflect::get(&window, &self.name.into()).unwrap_or(JsValue::UNDEFINED);
        if current == JsValue::from(self.object.clone()) {
            let _ = js_sys::Reflect::delete_property(&window, &self.name.into());
        }
    }
}

/// `window[object][field] += delta` (creating both as needed); returns the new value.
pub fn bump_counter(object: &str, field: &str, delta: f64) -> f64 {
    let Some(window) = web_sys::window() else { return 0.0 };
    let mut target = js_sys::Reflect::get(&window, &object.into()).unwrap_or(JsValue::UNDEFINED);
    if !target.is_object() {
        target = js_sys::Object::new().into();
        let _ = js_sys::Reflect::set(&window, &object.into(), &target);
    }
    let current = js_sys::Reflect::get(&target, &field.into()).ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    let next = current + delta;
    let _ = js_sys::Reflect::set(&target, &field.into(), &next.into());
    next
}

/// A value as a plain JS object, through its JSON (for `getStatus()` results); `null` when it
/// cannot be written.
pub fn to_js<T: serde::Serialize + ?Sized>(value: &T) -> JsValue {
    serde_json::to_string(value).ok().and_then(|json| js_sys::JSON::parse(&json).ok()).unwrap_or(JsValue::NULL)
}
