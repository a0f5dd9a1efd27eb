//! Helpers shared by the browser tests (each test file includes this with `mod support;`).
#![allow(dead_code)]

pub mod fake_realtime;
pub mod kds;
pub mod kiosk;
pub mod rtc;

use std::time::Duration;

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

/// A fresh, attached container for one test's DOM. Installs the app's console logger, so a
/// failing test's captured console shows the `[Component]` errors the app logged.
pub fn test_root() -> HtmlElement {
    restaurant_web::web::console_log::init();
    let document = web_sys::window().unwrap().document().unwrap();
    let root: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&root).unwrap();
    root
}

/// The element with `data-testid="{id}"` inside `root`.
pub fn by_testid(root: &Element, id: &str) -> Option<Element> {
    root.query_selector(&format!("[data-testid=\"{id}\"]")).unwrap()
}

pub fn all_by_testid(root: &Element, id: &str) -> Vec<Element> {
    let list = root.query_selector_all(&format!("[data-testid=\"{id}\"]")).unwrap();
    (0..list.length()).filter_map(|i| list.item(i)?.dyn_into().ok()).collect()
}

pub fn text_of(root: &Element, id: &str) -> String {
    by_testid(root, id).and_then(|e| e.text_content()).unwrap_or_default()
}

pub async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
pub async fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = js_sys::Date::now() + timeout.as_millis() as f64;
    loop {
        if condition() {
            return true;
        }
        if js_sys::Date::now() > deadline {
            return false;
        }
        sleep(10).await;
    }
}

/// Replaces the page URL (path and query) without a navigation; returns the previous one.
pub fn set_location(path_and_query: &str) -> String {
    let window = web_sys::window().unwrap();
    let location = window.location();
    let previous = format!("{}{}", location.pathname().unwrap(), location.search().unwrap());
    window.history().unwrap().replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path_and_query)).unwrap();
    previous
}

/// The hub started by `cargo xtask test` for the browser tests.
pub fn hub_url() -> &'static str {
    option_env!("HUB_URL").expect("HUB_URL is set by `cargo xtask test` (run the browser tests through it)")
}

/// Stops (`stop`: graceful, `kill`: crash), starts or restarts the test hub.
pub async fn hub_control(action: &str) {
    let base = option_env!("HUB_CONTROL_URL").expect("HUB_CONTROL_URL is set by `cargo xtask test`");
    let response = restaurant_web::web::http::send("POST", &format!("{base}/{action}"), &[], None)
        .await
        .unwrap_or_else(|e| panic!("hub control {action}: {e}"));
    assert_eq!(response.status, 200, "hub control {action}: {}", response.body);
}
