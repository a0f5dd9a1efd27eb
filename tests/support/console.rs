//! Captures `console.warn` / `console.error` during a test (the originals still run).

use wasm_bindgen::JsValue;

/// Records every `console.warn` / `console.error` from now on.
pub fn capture_console() {
    run_js(
        "window.__captured = [];
         if (!window.__consoleOriginal) { window.__consoleOriginal = { warn: console.warn, error: console.error }; }
         const o = window.__consoleOriginal;
         console.warn = function (...a) { window.__captured.push('warn: ' + a.map(String).join(' ')); o.warn.apply(console, a); };
         console.error = function (...a) { window.__captured.push('error: ' + a.map(String).join(' ')); o.error.apply(console, a); };",
    );
}

/// Restores the console and returns what was captured.
pub fn release_console() -> Vec<String> {
    run_js(
        "if (window.__consoleOriginal) { console.warn = window.__consoleOriginal.warn; console.error = window.__consoleOriginal.error; }",
    );
    let window = web_sys::window().unwrap();
    let captured = js_sys::Reflect::get(&window, &"__captured".into()).unwrap_or(JsValue::UNDEFINED);
    js_sys::Array::from(&captured).iter().filter_map(|v| v.as_string()).collect()
}

/// Messages that mean something ran after its component was gone.
pub fn after_dispose_messages(captured: &[String]) -> Vec<String> {
    captured
        .iter()
        .filter(|m| {
            let m = m.to_lowercase();
            m.contains("disposed")
                || m.contains("after being dropped")
                || m.contains("already been dropped")
                || m.contains("closure invoked")
                || m.contains("destroyed")
                || m.contains("update failed")
                || m.contains("panicked")
        })
        .cloned()
        .collect()
}

pub(crate) fn run_js(source: &str) {
    js_sys::Function::new_no_args(source).call0(&JsValue::NULL).expect("test script runs");
}
