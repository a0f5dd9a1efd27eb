//! Helpers shared by the browser tests (each test file includes this with `mod support;`).
#![allow(dead_code)]

pub mod console;
pub mod fake_realtime;
pub mod fetch_stub;
pub mod kds;
pub mod kiosk;
pub mod rtc;

use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};

/// A fresh, attached container for one test's DOM. Installs the app's console logger, so a
/// failing test's captured console shows the `[Component]` errors the app logged.
pub fn test_root() -> HtmlElement {
    restaurant_web::web::console_log::init();
    let document = web_sys::window().unwrap().document().unwrap();
    let root: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&root).unwrap();
    root
}

/// A mounted test component. `unmount` cleans its reactive owner up (a page closing: its stored
/// state stays, so a test can mount again and resume); dropping it — also when a test fails —
/// unmounts, removes the container and clears local storage, so no test leaks into the next.
pub struct Mounted {
    pub root: HtmlElement,
    handle: Option<Box<dyn std::any::Any>>,
}

/// Mounts `view` into a fresh container.
pub fn mount<V: IntoView + 'static>(view: impl FnOnce() -> V + 'static) -> Mounted {
    let root = test_root();
    let handle = leptos::mount::mount_to(root.clone(), view);
    Mounted { root, handle: Some(Box::new(handle)) }
}

impl Mounted {
    pub fn el(&self) -> Element {
        self.root.clone().unchecked_into()
    }

    /// Cleans the component's owner up, as closing the page would; local storage stays.
    pub fn unmount(&mut self) {
        drop(self.handle.take());
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        drop(self.handle.take());
        self.root.remove();
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.clear();
        }
    }
}

/// The app's stylesheet (`style/main.css`) on the test page while the guard lives: for the tests
/// of what the stylesheet decides (where a card is shown).
#[must_use = "the stylesheet is removed when the guard is dropped"]
pub struct Stylesheet(Element);

pub fn page_stylesheet() -> Stylesheet {
    let document = web_sys::window().unwrap().document().unwrap();
    let style = document.create_element("style").unwrap();
    style.set_text_content(Some(include_str!("../../style/main.css")));
    document.head().unwrap().append_child(&style).unwrap();
    Stylesheet(style)
}

impl Drop for Stylesheet {
    fn drop(&mut self) {
        self.0.remove();
    }
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

pub fn click(root: &Element, testid: &str) {
    let el: HtmlElement = by_testid(root, testid).unwrap_or_else(|| panic!("no {testid}")).unchecked_into();
    el.click();
}

pub fn click_element(el: &Element) {
    el.unchecked_ref::<HtmlElement>().click();
}

pub fn type_into(root: &Element, testid: &str, value: &str) {
    let input: HtmlInputElement = by_testid(root, testid).unwrap_or_else(|| panic!("no {testid}")).unchecked_into();
    input.set_value(value);
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
}

pub fn select(root: &Element, testid: &str, value: &str) {
    let el: HtmlSelectElement = by_testid(root, testid).unwrap_or_else(|| panic!("no {testid}")).unchecked_into();
    el.set_value(value);
    el.dispatch_event(&web_sys::Event::new("change").unwrap()).unwrap();
}

pub fn attr(el: &Element, name: &str) -> String {
    el.get_attribute(name).unwrap_or_default()
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

/// Replaces the page URL (path and query) without a navigation.
pub fn set_location(path_and_query: &str) {
    let window = web_sys::window().unwrap();
    window.history().unwrap().replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path_and_query)).unwrap();
}

/// Sets the page URL for a test and restores the previous one when dropped (also on failure).
pub struct Location(String);

impl Location {
    pub fn set(path_and_query: &str) -> Location {
        let location = web_sys::window().unwrap().location();
        let previous = format!("{}{}", location.pathname().unwrap(), location.search().unwrap());
        set_location(path_and_query);
        Location(previous)
    }
}

impl Drop for Location {
    fn drop(&mut self) {
        set_location(&self.0);
    }
}

/// The configuration the test hub's `config.json` gives: everything on the hub, demo mode (the
/// hub `cargo xtask test` starts is a demo hub).
pub fn hub_config() -> restaurant_web::core::config::RuntimeConfig {
    use restaurant_web::core::config::{Mode, Origin, RuntimeConfig};
    let mut c = RuntimeConfig::defaults(&Origin::parse(hub_url()).expect("hub URL"));
    c.mode = Mode::Demo;
    c.allow_url_overrides = true;
    c
}

/// Set at compile time by `cargo xtask test`, which starts the hub.
const HUB_URL: Option<&str> = option_env!("HUB_URL");
const HUB_CONTROL_URL: Option<&str> = option_env!("HUB_CONTROL_URL");

/// The hub started by `cargo xtask test` for the browser tests.
pub fn hub_url() -> &'static str {
    HUB_URL.expect("HUB_URL is set by `cargo xtask test` (run the browser tests through it)")
}

/// Stops (`stop`: graceful, `kill`: crash), starts or restarts the test hub.
pub async fn hub_control(action: &str) {
    let base = HUB_CONTROL_URL.expect("HUB_CONTROL_URL is set by `cargo xtask test`");
    let response = restaurant_web::web::http::send("POST", &format!("{base}/{action}"), &[], None)
        .await
        .unwrap_or_else(|e| panic!("hub control {action}: {e}"));
    assert_eq!(response.status, 200, "hub control {action}: {}", response.body);
}
