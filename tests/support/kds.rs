//! Helpers for the kitchen-display tests: mounting against the test hub, driving the page by
//! `data-testid`, creating orders over HTTP, reading the debug counters.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use restaurant_protocol::{Order, OrderEnvelope, Snapshot};
use restaurant_web::components::kds::KdsPage;
use restaurant_web::core::config::RuntimeConfig;
use restaurant_web::hooks::config::provide_runtime_config;
use restaurant_web::hooks::order_feed::{BOARD_KEY, OUTBOX_KEY, SESSION_KEY, UseOrderFeedReturn, use_order_feed};
use restaurant_web::web::{http, storage};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

use super::{Mounted, all_by_testid, attr, by_testid, click, hub_url, mount, type_into, wait_until};

pub const PIN: &str = "1234";
pub const LONG: Duration = Duration::from_secs(40);
pub const SHORT: Duration = Duration::from_secs(10);

pub fn config(station: &str) -> RuntimeConfig {
    let mut c = super::hub_config();
    c.station = station.into();
    c
}

/// Forgets the stored session, outbox and board, so a test starts signed out.
pub fn clear_storage() {
    storage::remove(SESSION_KEY);
    storage::remove(OUTBOX_KEY);
    storage::remove(BOARD_KEY);
}

/// Mounts the KDS page for `station`.
pub fn mount_page(station: &str) -> Mounted {
    let cfg = config(station);
    mount(move || {
        provide_runtime_config(cfg);
        view! { <KdsPage/> }
    })
}

/// A signed-in KDS page for `station` (storage cleared first) showing a new order.
pub async fn live_page_with_order(station: &str) -> (Mounted, Element, Order) {
    clear_storage();
    let page = mount_page(station);
    let el = page.el();
    sign_in_via_form(&el).await;
    let order = post_simple_order().await;
    assert!(wait_ticket(&el, &order.id, "new", SHORT).await, "the new order shows on the board");
    (page, el, order)
}

/// Mounts a bare component running `use_order_feed` and hands its handle out.
pub fn mount_feed(station: &str) -> (Mounted, UseOrderFeedReturn) {
    let cfg = config(station);
    let slot = Rc::new(RefCell::new(None));
    let out = slot.clone();
    let mounted = mount(move || {
        let feed = use_order_feed(&cfg);
        *out.borrow_mut() = Some(feed);
        view! { <p>"feed"</p> }
    });
    let feed = slot.borrow_mut().take().expect("component ran");
    (mounted, feed)
}

pub fn counter(field: &str) -> f64 {
    let window = web_sys::window().unwrap();
    js_sys::Reflect::get(&window, &"__dbgWS".into())
        .ok()
        .filter(|o| o.is_object())
        .and_then(|o| js_sys::Reflect::get(&o, &field.into()).ok())
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0)
}

pub fn connect_count() -> f64 {
    counter("connectCount")
}

pub fn open_sockets() -> f64 {
    counter("openSockets")
}

/// `window.__wsService.getStatus()` as JSON (`Null` when not installed).
pub fn ws_status() -> serde_json::Value {
    let window = web_sys::window().unwrap();
    let Ok(service) = js_sys::Reflect::get(&window, &"__wsService".into()) else {
        return serde_json::Value::Null;
    };
    if !service.is_object() {
        return serde_json::Value::Null;
    }
    let f: js_sys::Function = js_sys::Reflect::get(&service, &"getStatus".into()).unwrap().unchecked_into();
    let value = f.call0(&service).unwrap();
    let text: String = js_sys::JSON::stringify(&value).unwrap().into();
    serde_json::from_str(&text).unwrap()
}

pub fn banner_state(root: &Element) -> String {
    by_testid(root, "connection-status").and_then(|b| b.get_attribute("data-state")).unwrap_or_default()
}

pub async fn wait_banner(root: &Element, state: &str, timeout: Duration) -> bool {
    wait_until(timeout, || banner_state(root) == state).await
}

pub fn click_in(el: &Element, testid: &str) {
    let target: HtmlElement =
        by_testid(el, testid).unwrap_or_else(|| panic!("no {testid} in the card")).unchecked_into();
    target.click();
}

/// Signs in through the PIN form and waits for the banner to say Live.
pub async fn sign_in_via_form(root: &Element) {
    type_into(root, "pin-input", PIN);
    click(root, "login-submit");
    assert!(wait_banner(root, "live", LONG).await, "live after sign-in (banner {})", banner_state(root));
}

pub fn ticket(root: &Element, order_id: &str) -> Option<Element> {
    all_by_testid(root, "ticket").into_iter().find(|t| t.get_attribute("data-order-id").as_deref() == Some(order_id))
}

/// Waits until the ticket of `order_id` shows `status`, confirmed (no pending marker).
pub async fn wait_ticket(root: &Element, order_id: &str, status: &str, timeout: Duration) -> bool {
    wait_until(timeout, || {
        ticket(root, order_id).is_some_and(|t| attr(&t, "data-status") == status && attr(&t, "data-pending") == "false")
    })
    .await
}

/// Creates an order on the hub.
pub async fn post_order(body: serde_json::Value) -> Order {
    let key = format!("kds-test-{}", js_sys::Math::random());
    let response = http::send(
        "POST",
        &format!("{}/api/v1/orders", hub_url()),
        &[("Content-Type", "application/json"), ("Idempotency-Key", &key)],
        Some(&body.to_string()),
    )
    .await
    .expect("hub reachable");
    assert_eq!(response.status, 201, "order created: {}", response.body);
    serde_json::from_str::<OrderEnvelope>(&response.body).expect("order JSON").order
}

pub async fn post_simple_order() -> Order {
    post_order(serde_json::json!({
        "items": [
            {"menu_item_id": "cheeseburger", "quantity": 2, "options": ["onions", "bacon"], "special_instructions": "well done", "allergies": ["nuts"]},
            {"menu_item_id": "fries-large", "quantity": 1}
        ],
        "source": "kiosk",
        "customer_name": "Ada"
    }))
    .await
}

/// A station token from the test hub (`POST /api/v1/auth/pin` with the demo PIN).
pub async fn station_token(station: &str) -> String {
    let body = serde_json::json!({ "pin": PIN, "station": station }).to_string();
    let response = http::send(
        "POST",
        &format!("{}/api/v1/auth/pin", hub_url()),
        &[("Content-Type", "application/json")],
        Some(&body),
    )
    .await
    .expect("hub reachable");
    assert_eq!(response.status, 200, "sign-in: {}", response.body);
    serde_json::from_str::<restaurant_protocol::PinResponse>(&response.body).expect("token JSON").token
}

/// The hub's snapshot of active orders, read with a station token (the hub requires one).
pub async fn snapshot() -> Snapshot {
    let token = station_token("kitchen").await;
    let response = http::send_as(
        "GET",
        &format!("{}/api/v1/orders", hub_url()),
        Some(&token),
        &[("Accept", "application/json")],
        None,
    )
    .await
    .expect("hub reachable");
    assert_eq!(response.status, 200, "snapshot: {}", response.body);
    serde_json::from_str(&response.body).expect("snapshot JSON")
}
