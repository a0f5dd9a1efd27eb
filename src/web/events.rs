//! Window event listeners that own their closure: `Drop` removes the listener before the closure
//! is released, so the browser can never call into a dropped closure.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::Event;

#[must_use = "dropping the listener detaches it"]
pub struct WindowListener {
    event: &'static str,
    closure: Closure<dyn FnMut(Event)>,
}

impl WindowListener {
    /// Listens for `event` on `window`; `None` (logged) when there is no window.
    pub fn new(event: &'static str, handler: impl FnMut(Event) + 'static) -> Option<WindowListener> {
        let window = web_sys::window()?;
        let closure = Closure::<dyn FnMut(Event)>::new(handler);
        if let Err(e) = window.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref()) {
            log::error!("[Events] cannot listen for {event}: {}", super::js_error_message(&e));
            return None;
        }
        Some(WindowListener { event, closure })
    }
}

impl Drop for WindowListener {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            let _ = window.remove_event_listener_with_callback(self.event, self.closure.as_ref().unchecked_ref());
        }
    }
}

/// `navigator.onLine` (true when unknown).
pub fn is_online() -> bool {
    web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true)
}
