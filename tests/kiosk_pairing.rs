//! Kiosk pairing and the order outbox against a production hub's answers: the pairing screen of
//! an unpaired kiosk (wrong PIN, a wait, success), the device token on every order, an order
//! refused as `device_unpaired` kept and sent after pairing, and `429` retried after its
//! `Retry-After`. The hub's answers are stubbed in-page where the test hub (a demo hub) would
//! answer otherwise; `pairing_with_the_hub_demo_pin` runs against the hub itself.
#![cfg(target_arch = "wasm32")]

mod support;

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use restaurant_web::components::kiosk::KioskView;
use restaurant_web::core::config::{Mode, RuntimeConfig, VoiceMode};
use restaurant_web::core::voice::Timeouts;
use restaurant_web::hooks::config::provide_runtime_config;
use restaurant_web::hooks::device_pairing::DEVICE_KEY;
use restaurant_web::web::realtime::VoiceTransport;
use restaurant_web::web::storage;
use support::fetch_stub::FetchStub;
use support::kiosk::{FakeTransport, menu, tap_item};
use support::{Mounted, all_by_testid, attr, by_testid, click, hub_config, mount, text_of, type_into, wait_until};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

const SHORT: Duration = Duration::from_secs(10);
const PENDING_KEY: &str = "restaurant.kiosk.pending_order";
const PAIR: &str = "/api/v1/devices/pair";
const ORDERS: &str = "/api/v1/orders";
const JSON: (&str, &str) = ("Content-Type", "application/json");

fn production() -> RuntimeConfig {
    let mut c = hub_config();
    c.mode = Mode::Production;
    c.allow_url_overrides = false;
    c
}

fn paired_json(token: &str) -> String {
    serde_json::json!({
        "device": { "id": "dev_test", "name": "Front kiosk", "paired_at": 1_700_000_000_000u64 },
        "token": token,
    })
    .to_string()
}

fn mount_kiosk(config: RuntimeConfig) -> Mounted {
    storage::remove(PENDING_KEY);
    mount(move || {
        provide_runtime_config(config);
        let transport: Rc<dyn VoiceTransport> = Rc::new(FakeTransport::new(0, Rc::new(|_: &str| Vec::new())));
        view! { <KioskView menu=menu() transport voice_mode=VoiceMode::Toggle timeouts=Timeouts::default()/> }
    })
}

fn input_value(root: &Element, testid: &str) -> String {
    by_testid(root, testid).expect(testid).unchecked_into::<HtmlInputElement>().value()
}

fn pairing_error(root: &Element) -> String {
    by_testid(root, "pairing-error").map(|e| attr(&e, "data-state")).unwrap_or_default()
}

async fn order_one_item(el: &Element) {
    tap_item(el, "fries-small").await;
    assert!(wait_until(SHORT, || all_by_testid(el, "cart-item").len() == 1).await, "one item in the cart");
    click(el, "submit-order");
}

async fn wait_order_number(el: &Element, within: Duration) -> bool {
    wait_until(within, || by_testid(el, "order-number").is_some()).await
}

#[wasm_bindgen_test]
async fn an_unpaired_production_kiosk_is_paired_by_a_manager_then_orders_with_its_token() {
    let stub = FetchStub::install();
    stub.respond("POST", PAIR, 401, &[JSON], r#"{"error":{"code":"wrong_pin","message":"wrong PIN"}}"#);
    stub.respond(
        "POST",
        PAIR,
        429,
        &[JSON, ("Retry-After", "1")],
        r#"{"error":{"code":"rate_limited","message":"wait"}}"#,
    );
    stub.respond("POST", PAIR, 201, &[JSON], &paired_json("tok-abc"));
    let page = mount_kiosk(production());
    let el = page.el();

    assert!(wait_until(SHORT, || by_testid(&el, "pairing").is_some()).await, "the pairing screen shows");
    assert!(text_of(&el, "pairing").contains("This kiosk is not paired — a manager enters the PIN"));
    assert!(by_testid(&el, "menu").unwrap().closest("[hidden]").unwrap().is_some(), "ordering waits for the pairing");
    assert!(
        wait_until(SHORT, || input_value(&el, "pairing-name") == "Kiosk").await,
        "a default name, got {:?}",
        input_value(&el, "pairing-name")
    );

    type_into(&el, "pairing-name", "Front kiosk");
    type_into(&el, "pairing-pin", "9999");
    click(&el, "pairing-submit");
    assert!(wait_until(SHORT, || pairing_error(&el) == "wrong_pin").await, "wrong PIN shown");
    assert!(text_of(&el, "pairing-error").contains("Wrong PIN"));

    type_into(&el, "pairing-pin", "1111");
    click(&el, "pairing-submit");
    assert!(wait_until(SHORT, || pairing_error(&el) == "too_many_attempts").await, "the wait is shown");
    assert!(text_of(&el, "pairing-error").contains("1 s"), "{}", text_of(&el, "pairing-error"));
    assert!(by_testid(&el, "pairing-submit").unwrap().has_attribute("disabled"), "Pair waits");
    assert!(
        wait_until(Duration::from_secs(3), || !by_testid(&el, "pairing-submit").unwrap().has_attribute("disabled"))
            .await,
        "the form opens again after Retry-After"
    );

    type_into(&el, "pairing-pin", "1234");
    click(&el, "pairing-submit");
    assert!(wait_until(SHORT, || by_testid(&el, "pairing").is_none()).await, "paired: back to ordering");
    assert!(storage::get(DEVICE_KEY).is_some_and(|s| s.contains("tok-abc")), "the token is stored");
    let pairs = stub.calls("POST", PAIR);
    assert_eq!(pairs.len(), 3);
    let body: serde_json::Value = serde_json::from_str(pairs[2].body.as_deref().unwrap()).unwrap();
    assert_eq!(body, serde_json::json!({"pin": "1234", "name": "Front kiosk"}));
    assert_eq!(pairs[2].header("content-type"), Some("application/json"));

    // The hub itself answers the order (a demo hub accepts the token too).
    order_one_item(&el).await;
    assert!(wait_order_number(&el, SHORT).await, "ordered; status {:?}", text_of(&el, "submit-status"));
    let orders = stub.calls("POST", ORDERS);
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].header("authorization"), Some("Bearer tok-abc"), "the order carries the device token");
}

#[wasm_bindgen_test]
async fn an_order_refused_as_device_unpaired_is_kept_and_sent_after_pairing() {
    storage::set(DEVICE_KEY, &paired_json("tok-old"));
    let stub = FetchStub::install();
    stub.respond("POST", ORDERS, 401, &[JSON], r#"{"error":{"code":"device_unpaired","message":"pair this kiosk"}}"#);
    stub.respond("POST", PAIR, 201, &[JSON], &paired_json("tok-new"));
    let page = mount_kiosk(production());
    let el = page.el();
    assert!(wait_until(SHORT, || by_testid(&el, "menu-item").is_some()).await);
    assert!(by_testid(&el, "pairing").is_none(), "a stored token: ordering at once");

    order_one_item(&el).await;
    assert!(wait_until(SHORT, || by_testid(&el, "pairing").is_some()).await, "the hub's refusal asks for pairing");
    assert_eq!(attr(&by_testid(&el, "submit-status").unwrap(), "data-state"), "waiting_for_pairing");
    assert!(storage::get(PENDING_KEY).is_some(), "the order is kept in the outbox");
    assert!(storage::get(DEVICE_KEY).is_none(), "the dead token is forgotten");

    type_into(&el, "pairing-pin", "1234");
    click(&el, "pairing-submit");
    assert!(wait_order_number(&el, SHORT).await, "sent after pairing; status {:?}", text_of(&el, "submit-status"));
    let orders = stub.calls("POST", ORDERS);
    assert_eq!(orders.len(), 2, "sent once more, not dropped or duplicated");
    assert_eq!(orders[0].header("authorization"), Some("Bearer tok-old"));
    assert_eq!(orders[1].header("authorization"), Some("Bearer tok-new"));
    assert_eq!(orders[0].header("idempotency-key"), orders[1].header("idempotency-key"), "the same order");
    assert!(storage::get(PENDING_KEY).is_none(), "acknowledged, so no longer kept");
}

#[wasm_bindgen_test]
async fn the_outbox_waits_out_a_429_retry_after_and_sends_the_same_order() {
    let stub = FetchStub::install();
    stub.respond(
        "POST",
        ORDERS,
        429,
        &[JSON, ("Retry-After", "2")],
        r#"{"error":{"code":"rate_limited","message":"too many orders"}}"#,
    );
    let page = mount_kiosk(hub_config());
    let el = page.el();
    assert!(wait_until(SHORT, || by_testid(&el, "menu-item").is_some()).await);
    order_one_item(&el).await;
    assert!(
        wait_until(SHORT, || attr(&by_testid(&el, "submit-status").unwrap(), "data-state") == "retrying").await,
        "the order waits"
    );
    assert!(text_of(&el, "submit-status").contains("2 s"), "{}", text_of(&el, "submit-status"));
    assert!(storage::get(PENDING_KEY).is_some(), "kept");
    assert!(wait_order_number(&el, SHORT).await, "sent after the wait; status {:?}", text_of(&el, "submit-status"));
    let orders = stub.calls("POST", ORDERS);
    assert_eq!(orders.len(), 2);
    assert_eq!(orders[0].header("idempotency-key"), orders[1].header("idempotency-key"));
    let gap = orders[1].at - orders[0].at;
    assert!(gap >= 1_900.0, "retried after Retry-After (2 s), not the 1 s backoff: {gap} ms");
}

/// Needs a hub with device pairing (`POST /api/v1/devices/pair`, demo manager PIN 1234).
#[wasm_bindgen_test]
async fn pairing_with_the_hub_demo_pin() {
    let page = mount_kiosk(production());
    let el = page.el();
    assert!(wait_until(SHORT, || by_testid(&el, "pairing").is_some()).await);
    type_into(&el, "pairing-name", "Browser test kiosk");
    type_into(&el, "pairing-pin", "1234");
    click(&el, "pairing-submit");
    assert!(
        wait_until(SHORT, || by_testid(&el, "pairing").is_none()).await,
        "paired by the hub; error {:?}",
        text_of(&el, "pairing-error")
    );
    let stored: serde_json::Value = serde_json::from_str(&storage::get(DEVICE_KEY).unwrap()).unwrap();
    let token = stored["token"].as_str().unwrap();
    assert!(token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()), "a device token: {token}");
    assert_eq!(stored["device"]["name"], "Browser test kiosk");
    order_one_item(&el).await;
    assert!(wait_order_number(&el, SHORT).await, "ordered with the token; status {:?}", text_of(&el, "submit-status"));
}
