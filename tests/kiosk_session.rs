//! One customer after another at the kiosk, in a real browser: the attract screen, a fresh
//! Realtime session per customer (closed at the end), the idle warning and reset, barge-in, the
//! three push-to-talk modes by pointer and keyboard, microphone errors by name, a lost connection,
//! a lost `input_audio_buffer.committed`, and confirm-before-placing against the hub's voice peer.
#![cfg(target_arch = "wasm32")]

mod support;

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use restaurant_web::components::kiosk::KioskView;
use restaurant_web::core::config::VoiceMode;
use restaurant_web::core::customer::CustomerConfig;
use restaurant_web::core::voice::Timeouts;
use restaurant_web::hooks::config::provide_runtime_config;
use restaurant_web::web::http;
use restaurant_web::web::realtime::{HttpTransport, VoiceTransport};
use serde_json::Value;
use support::fake_realtime::Respond;
use support::kiosk::{FakeTransport, fail_microphone, menu, realtime_script, tap_item};
use support::{Mounted, all_by_testid, attr, by_testid, click, mount, text_of, wait_until};
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

const COLA_ARGS: &str = r#"{"items":[{"name":"Cola","quantity":1,"options":[]}]}"#;
const PENDING_ORDER_KEY: &str = "restaurant.kiosk.pending_order";

fn long_customer() -> CustomerConfig {
    CustomerConfig { idle: Duration::from_secs(600), ..CustomerConfig::default() }
}

fn mount_with(
    transport: Rc<dyn VoiceTransport>,
    mode: VoiceMode,
    customer: CustomerConfig,
    timeouts: Timeouts,
) -> Mounted {
    restaurant_web::web::storage::remove(PENDING_ORDER_KEY);
    let config = support::hub_config();
    mount(move || {
        provide_runtime_config(config);
        view! { <KioskView menu=menu() transport voice_mode=mode timeouts customer/> }
    })
}

fn mount_fake(transport: Rc<FakeTransport>, mode: VoiceMode) -> Mounted {
    mount_with(transport, mode, long_customer(), Timeouts::default())
}

fn hub_transport() -> Rc<dyn VoiceTransport> {
    let config = support::hub_config();
    Rc::new(HttpTransport::new(config.token_url, config.realtime_url))
}

fn voice_state(root: &Element) -> String {
    by_testid(root, "voice-status").and_then(|e| e.get_attribute("data-state")).unwrap_or_default()
}

/// `window.__voiceClient.getStatus()`.
fn status() -> Value {
    js_sys::eval("JSON.stringify(window.__voiceClient ? window.__voiceClient.getStatus() : null)")
        .ok()
        .and_then(|v| v.as_string())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

fn received(event_type: &str) -> u64 {
    status()["eventsReceived"][event_type].as_u64().unwrap_or(0)
}

async fn wait_state(root: &Element, state: &str, within: Duration) {
    let ok = wait_until(within, || voice_state(root) == state).await;
    assert!(
        ok,
        "voice state {state:?} expected, still {:?}; problem {:?}; status {}",
        voice_state(root),
        text_of(root, "voice-error"),
        status()
    );
}

fn phase(root: &Element) -> String {
    by_testid(root, "kiosk-layout").map(|e| attr(&e, "data-phase")).unwrap_or_default()
}

async fn wait_phase(root: &Element, want: &str, within: Duration) {
    let ok = wait_until(within, || phase(root) == want).await;
    assert!(ok, "phase {want:?} expected, still {:?}", phase(root));
}

fn live_peers() -> f64 {
    js_sys::eval("(window.__dbgRTC && window.__dbgRTC.live) || 0").unwrap().as_f64().unwrap_or(0.0)
}

/// Dispatches a DOM event built by `constructor` on the voice button (what a finger or a key
/// does, including the properties a synthetic `click()` cannot set).
fn on_button(root: &Element, constructor: &str) {
    let button = by_testid(root, "voice-order-button").expect("the voice button");
    let window = web_sys::window().unwrap();
    js_sys::Reflect::set(&window, &"__voiceButton".into(), &button).unwrap();
    js_sys::eval(&format!("window.__voiceButton.dispatchEvent({constructor})")).expect("dispatch");
}

fn pointer(root: &Element, kind: &str, id: u32, primary: bool) {
    on_button(
        root,
        &format!(
            "new PointerEvent('{kind}', {{pointerId: {id}, isPrimary: {primary}, pointerType: 'touch', bubbles: true, cancelable: true}})"
        ),
    );
}

fn key(root: &Element, kind: &str, key: &str) {
    on_button(root, &format!("new KeyboardEvent('{kind}', {{key: '{key}', bubbles: true, cancelable: true}})"));
}

async fn post_json(path: &str, body: &str) {
    let r = http::send(
        "POST",
        &format!("{}{path}", support::hub_url()),
        &[("Content-Type", "application/json")],
        Some(body),
    )
    .await
    .expect("hub reachable");
    assert!(r.is_success(), "{path}: {} {}", r.status, r.body);
}

async fn say(text: &str) {
    post_json("/api/v1/dev/utterances", &serde_json::json!({ "text": text }).to_string()).await;
}

/// One toggle-mode turn against the hub peer: tap, let the fake microphone speak, tap.
async fn talk(root: &Element) {
    wait_state(root, "idle", Duration::from_secs(15)).await;
    support::sleep(350).await;
    click(root, "voice-order-button");
    wait_state(root, "recording", Duration::from_secs(2)).await;
    support::sleep(1200).await;
    click(root, "voice-order-button");
}

/// A kiosk answered by the in-page fake peer, with a customer started and the assistant ready.
async fn started_fake(respond: Respond, mode: VoiceMode) -> (Rc<FakeTransport>, Mounted, Element) {
    let transport = Rc::new(FakeTransport::new(0, respond));
    let m = mount_fake(transport.clone(), mode);
    let el = m.el();
    click(&el, "attract-start");
    wait_state(&el, "idle", Duration::from_secs(10)).await;
    (transport, m, el)
}

/// A toggle-mode turn with the in-page peer: tap, tap (each after the 300 ms debounce).
async fn fake_turn(el: &Element) {
    support::sleep(320).await;
    click(el, "voice-order-button");
    support::sleep(320).await;
    click(el, "voice-order-button");
}

#[wasm_bindgen_test]
async fn two_customers_in_a_row_get_their_own_realtime_session_and_see_nothing_of_the_last() {
    post_json("/api/v1/dev/voice-faults", "{}").await;
    let m = mount_with(hub_transport(), VoiceMode::Toggle, long_customer(), Timeouts::default());
    let el = m.el();
    assert!(by_testid(&el, "attract-start").is_some(), "an idle kiosk shows the attract screen");
    let baseline = live_peers();

    // The first customer: a tap starts their session and connects the voice assistant.
    say("a cola").await;
    click(&el, "attract-start");
    wait_phase(&el, "active", Duration::from_secs(2)).await;
    talk(&el).await;
    assert!(wait_until(Duration::from_secs(15), || all_by_testid(&el, "cart-item").len() == 1).await, "a cola");
    assert!(text_of(&el, "voice-transcript").contains("a cola"));
    let first_session = status()["sessionId"].as_str().unwrap_or_default().to_string();
    assert!(first_session.starts_with("sess_"), "a Realtime session id: {}", status());
    assert_eq!(live_peers(), baseline + 1.0);

    click(&el, "submit-order");
    assert!(wait_until(Duration::from_secs(10), || by_testid(&el, "order-confirmation").is_some()).await);
    wait_phase(&el, "placed", Duration::from_secs(2)).await;
    click(&el, "new-order");
    wait_phase(&el, "attract", Duration::from_secs(2)).await;
    assert!(
        wait_until(Duration::from_secs(5), || live_peers() == baseline).await,
        "the first customer's peer connection is closed: {} live, baseline {baseline}",
        live_peers()
    );
    assert_eq!(voice_state(&el), "disconnected");

    // The second customer: a new peer connection and a new Realtime session, nothing of the first.
    click(&el, "attract-start");
    wait_state(&el, "idle", Duration::from_secs(15)).await;
    let second_session = status()["sessionId"].as_str().unwrap_or_default().to_string();
    assert!(
        second_session.starts_with("sess_") && second_session != first_session,
        "{first_session} → {second_session}"
    );
    assert_eq!(live_peers(), baseline + 1.0, "one peer connection: the second customer's");
    assert!(all_by_testid(&el, "transcript-customer").is_empty(), "{}", text_of(&el, "voice-transcript"));
    assert!(all_by_testid(&el, "cart-item").is_empty());
    assert!(by_testid(&el, "order-confirmation").is_none());
    click(&el, "start-over");
    wait_phase(&el, "attract", Duration::from_secs(2)).await;
    assert!(wait_until(Duration::from_secs(5), || live_peers() == baseline).await);
}

#[wasm_bindgen_test]
async fn an_idle_kiosk_asks_then_starts_over_and_an_order_on_its_way_still_arrives_once() {
    let transport = Rc::new(FakeTransport::new(0, realtime_script("", COLA_ARGS)));
    let customer = CustomerConfig {
        idle: Duration::from_millis(1500),
        warning: Duration::from_secs(3),
        number_shown: Duration::from_secs(2),
        ..CustomerConfig::default()
    };
    let m = mount_with(transport.clone(), VoiceMode::Toggle, customer, Timeouts::default());
    let el = m.el();
    let count_orders = || async { support::kds::snapshot().await.orders.len() };
    let before = count_orders().await;

    // Still there: the warning counts down, a tap keeps the order.
    click(&el, "attract-start");
    tap_item(&el, "fries-small").await;
    assert!(wait_until(Duration::from_secs(5), || by_testid(&el, "idle-warning").is_some()).await, "the warning");
    let first = text_of(&el, "idle-countdown");
    assert!(wait_until(Duration::from_secs(3), || text_of(&el, "idle-countdown") != first).await, "it counts down");
    click(&el, "still-here");
    wait_phase(&el, "active", Duration::from_secs(1)).await;
    assert_eq!(all_by_testid(&el, "cart-item").len(), 1, "the order is kept");

    // The order goes while the hub is down, then the customer walks away.
    support::hub_control("stop").await;
    click(&el, "submit-order");
    let waiting = wait_until(Duration::from_secs(5), || {
        by_testid(&el, "submit-status").and_then(|e| e.get_attribute("data-state")).as_deref() == Some("retrying")
    })
    .await;
    let reset = wait_until(Duration::from_secs(10), || phase(&el) == "attract").await;
    let cleared = all_by_testid(&el, "cart-item").is_empty();
    let kept = restaurant_web::web::storage::get(PENDING_ORDER_KEY).is_some();
    let voice_after_reset = voice_state(&el);
    support::hub_control("start").await;
    assert!(waiting, "the order waits for the hub");
    assert!(reset, "no touch for the idle time and the countdown: back to the attract screen");
    assert!(cleared, "the customer's cart is cleared");
    assert!(kept, "the order on its way survives the reset");
    assert_eq!(voice_after_reset, "disconnected");

    // The hub is back: the order arrives once and its number is shown.
    click(&el, "submit-retry");
    assert!(
        wait_until(Duration::from_secs(15), || by_testid(&el, "order-confirmation").is_some()).await,
        "the number screen still shows"
    );
    wait_phase(&el, "placed", Duration::from_secs(2)).await;
    assert_eq!(count_orders().await, before + 1, "placed exactly once");
    assert!(restaurant_web::web::storage::get(PENDING_ORDER_KEY).is_none());
    wait_phase(&el, "attract", Duration::from_secs(5)).await;
    assert!(by_testid(&el, "order-confirmation").is_none(), "the number screen goes after a while");
    assert_eq!(count_orders().await, before + 1);
}

#[wasm_bindgen_test]
async fn the_next_customer_keeps_their_own_order_while_the_last_ones_is_still_on_its_way() {
    let transport = Rc::new(FakeTransport::new(0, realtime_script("", COLA_ARGS)));
    let m = mount_with(transport.clone(), VoiceMode::Toggle, long_customer(), Timeouts::default());
    let el = m.el();
    let count_orders = || async { support::kds::snapshot().await.orders.len() };
    let before = count_orders().await;

    // The first customer orders while the hub is down and walks away.
    click(&el, "attract-start");
    tap_item(&el, "fries-small").await;
    support::hub_control("stop").await;
    click(&el, "submit-order");
    let waiting = wait_until(Duration::from_secs(5), || {
        by_testid(&el, "submit-status").and_then(|e| e.get_attribute("data-state")).as_deref() == Some("retrying")
    })
    .await;
    click(&el, "start-over");
    let reset = waiting && wait_until(Duration::from_secs(2), || phase(&el) == "attract").await;

    // The next customer orders; their order has to wait for the first one, and they are told.
    click(&el, "attract-start");
    tap_item(&el, "cola").await;
    let told = text_of(&el, "submit-status");
    let blocked = by_testid(&el, "submit-order").is_some_and(|b| b.has_attribute("disabled"));
    support::hub_control("start").await;
    assert!(reset, "the first customer's session was reset");
    assert!(told.contains("previous order is still being sent"), "{told}");
    assert!(blocked, "one order at a time");

    // The first order arrives: the second customer sees nothing of it and keeps their cart.
    click(&el, "submit-retry");
    assert!(wait_until(Duration::from_secs(15), || submit_is_idle(&el)).await, "the first order went");
    support::sleep(300).await;
    assert_eq!(count_orders().await, before + 1);
    assert_eq!(phase(&el), "active", "not the first customer's number screen");
    assert!(by_testid(&el, "order-confirmation").is_none());
    let lines: Vec<String> = all_by_testid(&el, "cart-item").iter().map(|e| attr(e, "data-item-id")).collect();
    assert_eq!(lines, ["cola"], "the second customer's cart is kept");

    // And their own order goes, with their number.
    click(&el, "submit-order");
    assert!(wait_until(Duration::from_secs(10), || by_testid(&el, "order-confirmation").is_some()).await);
    wait_phase(&el, "placed", Duration::from_secs(2)).await;
    assert_eq!(count_orders().await, before + 2);
}

/// The submit status no longer shows an order on its way (sent, and acknowledged quietly).
fn submit_is_idle(root: &Element) -> bool {
    by_testid(root, "submit-status").and_then(|e| e.get_attribute("data-state")).as_deref() == Some("idle")
}

#[wasm_bindgen_test]
async fn a_press_while_the_assistant_speaks_stops_the_reply_and_records() {
    post_json("/api/v1/dev/voice-faults", "{}").await;
    let m = mount_with(hub_transport(), VoiceMode::Toggle, long_customer(), Timeouts::default());
    let el = m.el();
    say("a cola").await;
    click(&el, "attract-start");
    talk(&el).await;
    // The peer calls add_to_order, then speaks its reply (a second of audio).
    assert!(
        wait_until(Duration::from_secs(15), || status()["speaking"] == Value::Bool(true)).await,
        "the assistant speaks: {}",
        status()
    );
    // Past the button's 300 ms debounce since the tap that sent the turn (the reply lasts 1 s).
    support::sleep(320).await;
    assert_eq!(status()["speaking"], Value::Bool(true), "still speaking: {}", status());
    let (cleared, stopped) = (received("output_audio_buffer.cleared"), received("output_audio_buffer.stopped"));
    let pressed = js_sys::Date::now();
    click(&el, "voice-order-button");
    assert!(
        wait_until(Duration::from_secs(2), || received("output_audio_buffer.cleared") > cleared).await,
        "the peer stopped the reply: {}",
        status()
    );
    let stop_ms = js_sys::Date::now() - pressed;
    web_sys::console::log_1(&format!("[barge-in] press → output_audio_buffer.cleared in {stop_ms:.0} ms").into());
    assert_eq!(voice_state(&el), "recording", "recording started");
    assert_eq!(status()["speaking"], Value::Bool(false));
    assert_eq!(received("output_audio_buffer.stopped"), stopped, "the reply never played to its end");
    assert!(by_testid(&el, "voice-error").is_none(), "a cancelled reply is not an error");
    assert!(stop_ms < 1000.0, "the one-second reply was cut short ({stop_ms:.0} ms)");
    support::sleep(300).await;
    click(&el, "voice-order-button");
    wait_state(&el, "idle", Duration::from_secs(15)).await;
}

#[wasm_bindgen_test]
async fn toggle_mode_by_pointer_and_keyboard_and_pointercancel_never_ends_a_recording() {
    let (transport, _m, el) = started_fake(realtime_script("a cola", COLA_ARGS), VoiceMode::Toggle).await;
    support::sleep(320).await;
    click(&el, "voice-order-button");
    wait_state(&el, "recording", Duration::from_secs(2)).await;
    pointer(&el, "pointercancel", 1, true);
    support::sleep(100).await;
    assert_eq!(voice_state(&el), "recording", "pointercancel never ends a toggle recording");
    support::sleep(320).await;
    click(&el, "voice-order-button");
    assert!(wait_until(Duration::from_secs(5), || all_by_testid(&el, "cart-item").len() == 1).await);
    wait_state(&el, "idle", Duration::from_secs(5)).await;

    // The keyboard: Enter starts, Space sends.
    support::sleep(320).await;
    key(&el, "keydown", "Enter");
    key(&el, "keyup", "Enter");
    wait_state(&el, "recording", Duration::from_secs(2)).await;
    support::sleep(320).await;
    key(&el, "keydown", " ");
    key(&el, "keyup", " ");
    assert!(wait_until(Duration::from_secs(2), || voice_state(&el) != "recording").await, "Space sends the turn");
    assert!(transport.sent_types().iter().filter(|t| *t == "input_audio_buffer.commit").count() >= 2);
}

#[wasm_bindgen_test]
async fn hold_mode_follows_the_finger_not_the_button_and_ignores_a_second_touch() {
    let (_transport, _m, el) = started_fake(realtime_script("a cola", COLA_ARGS), VoiceMode::Hold).await;
    assert_eq!(attr(&by_testid(&el, "voice-order-button").unwrap(), "data-mode"), "hold");

    pointer(&el, "pointerdown", 7, true);
    wait_state(&el, "recording", Duration::from_secs(2)).await;
    // Sliding off the button does not end the turn; a second finger neither starts nor ends one.
    pointer(&el, "pointerleave", 7, true);
    pointer(&el, "pointerout", 7, true);
    pointer(&el, "pointerdown", 8, false);
    pointer(&el, "pointerup", 8, false);
    support::sleep(150).await;
    assert_eq!(voice_state(&el), "recording", "still recording while the finger is down");
    pointer(&el, "pointerup", 7, true);
    assert!(wait_until(Duration::from_secs(5), || all_by_testid(&el, "cart-item").len() == 1).await);
    wait_state(&el, "idle", Duration::from_secs(5)).await;

    // The browser takes the finger away mid-turn: the held turn ends as if released.
    support::sleep(150).await;
    pointer(&el, "pointerdown", 9, true);
    wait_state(&el, "recording", Duration::from_secs(2)).await;
    pointer(&el, "pointercancel", 9, true);
    assert!(wait_until(Duration::from_secs(2), || voice_state(&el) != "recording").await);
    wait_state(&el, "idle", Duration::from_secs(5)).await;

    // The keyboard: Space or Enter held down talks, released sends; key repeat changes nothing.
    support::sleep(150).await;
    key(&el, "keydown", " ");
    wait_state(&el, "recording", Duration::from_secs(2)).await;
    on_button(&el, "new KeyboardEvent('keydown', {key: ' ', repeat: true, bubbles: true})");
    support::sleep(100).await;
    assert_eq!(voice_state(&el), "recording");
    key(&el, "keyup", " ");
    assert!(wait_until(Duration::from_secs(2), || voice_state(&el) != "recording").await, "released: sent");
    wait_state(&el, "idle", Duration::from_secs(5)).await;
    support::sleep(150).await;
    key(&el, "keydown", "Enter");
    wait_state(&el, "recording", Duration::from_secs(2)).await;
    key(&el, "keyup", "Enter");
    assert!(wait_until(Duration::from_secs(2), || voice_state(&el) != "recording").await);
}

/// A server with its own turn detection: answers `session.update`; the test speaks for it.
fn vad_server() -> Respond {
    Rc::new(|frame: &str| {
        let v: Value = serde_json::from_str(frame).unwrap_or(Value::Null);
        match v["type"].as_str() {
            Some("session.update") => vec![r#"{"type":"session.updated","session":{}}"#.to_string()],
            _ => Vec::new(),
        }
    })
}

#[wasm_bindgen_test]
async fn hands_free_mode_listens_mutes_by_pointer_and_keyboard_and_follows_the_servers_turns() {
    let (transport, _m, el) = started_fake(vad_server(), VoiceMode::Vad).await;
    let update: Value = transport
        .fake()
        .unwrap()
        .received
        .borrow()
        .iter()
        .filter_map(|t| serde_json::from_str::<Value>(t).ok())
        .find(|v| v["type"] == "session.update")
        .expect("session.update");
    let td = update["session"]["turn_detection"].clone();
    let td = if td.is_null() { update["session"]["audio"]["input"]["turn_detection"].clone() } else { td };
    assert_eq!(td["type"], "server_vad", "the session uses server turn detection: {update}");
    let button = || by_testid(&el, "voice-order-button").unwrap();
    assert_eq!(attr(&button(), "data-muted"), "false");
    assert_eq!(status()["micEnabled"], Value::Bool(true), "listening once ready: {}", status());
    assert!(text_of(&el, "voice-status").starts_with("Listening"), "{}", text_of(&el, "voice-status"));

    // The button only mutes and unmutes, by pointer and by keyboard.
    support::sleep(320).await;
    click(&el, "voice-order-button");
    assert!(wait_until(Duration::from_secs(1), || attr(&button(), "data-muted") == "true").await);
    assert_eq!(attr(&button(), "aria-pressed"), "true");
    assert_eq!(status()["micEnabled"], Value::Bool(false), "muted means the track is off: {}", status());
    assert_eq!(voice_state(&el), "idle", "muting is not a turn");
    support::sleep(320).await;
    key(&el, "keydown", "Enter");
    key(&el, "keyup", "Enter");
    assert!(wait_until(Duration::from_secs(1), || attr(&button(), "data-muted") == "false").await);
    support::sleep(320).await;
    key(&el, "keydown", " ");
    key(&el, "keyup", " ");
    assert!(wait_until(Duration::from_secs(1), || attr(&button(), "data-muted") == "true").await);
    support::sleep(320).await;
    click(&el, "voice-order-button");
    assert!(wait_until(Duration::from_secs(1), || attr(&button(), "data-muted") == "false").await);
    assert_eq!(status()["micEnabled"], Value::Bool(true));

    // The server hears the customer start and stop, commits and answers by itself.
    let fake = transport.fake().unwrap();
    fake.send(r#"{"type":"input_audio_buffer.speech_started","event_id":"v1"}"#);
    wait_state(&el, "recording", Duration::from_secs(2)).await;
    fake.send(r#"{"type":"input_audio_buffer.speech_stopped","event_id":"v2"}"#);
    fake.send(r#"{"type":"input_audio_buffer.committed","event_id":"v3","item_id":"u1"}"#);
    fake.send(r#"{"type":"response.created","event_id":"v4","response":{"id":"r1"}}"#);
    fake.send(r#"{"type":"conversation.item.input_audio_transcription.completed","event_id":"v5","item_id":"u1","transcript":"a cola"}"#);
    let args = serde_json::to_string(COLA_ARGS).unwrap();
    fake.send(&format!(
        r#"{{"type":"response.function_call_arguments.done","event_id":"v6","call_id":"c1","name":"add_to_order","arguments":{args}}}"#
    ));
    fake.send(r#"{"type":"response.done","event_id":"v7","response":{"id":"r1","status":"completed"}}"#);
    assert!(wait_until(Duration::from_secs(5), || all_by_testid(&el, "cart-item").len() == 1).await);
    assert!(
        wait_until(Duration::from_secs(2), || transport.sent_types().iter().any(|t| t == "conversation.item.create"))
            .await,
        "the call's output goes back: {:?}",
        transport.sent_types()
    );
    let sent = transport.sent_types();
    assert!(!sent.iter().any(|t| t == "input_audio_buffer.commit"), "the kiosk never commits: {sent:?}");
}

#[wasm_bindgen_test]
async fn each_microphone_error_has_its_own_message_and_touch_ordering_still_works() {
    for (name, title, help) in [
        ("NotAllowedError", "Microphone blocked", "Allow microphone access"),
        ("NotFoundError", "No microphone found", "Connect a microphone"),
        ("NotReadableError", "Microphone in use", "Close other applications"),
        ("AbortError", "Microphone error (AbortError)", "Permission denied"),
    ] {
        let transport = Rc::new(FakeTransport::new(0, realtime_script("", COLA_ARGS)));
        let mut m = mount_fake(transport.clone(), VoiceMode::Toggle);
        let el = m.el();
        fail_microphone(Some(name));
        click(&el, "attract-start");
        let shown = wait_until(Duration::from_secs(5), || by_testid(&el, "voice-error").is_some()).await;
        fail_microphone(None);
        assert!(shown, "{name}: an error is shown");
        assert_eq!(text_of(&el, "voice-error-title"), title, "{name}");
        assert!(text_of(&el, "voice-error-help").contains(help), "{name}: {}", text_of(&el, "voice-error-help"));
        assert_eq!(transport.exchanges.get(), 0, "{name}: no connection without a microphone");
        tap_item(&el, "fries-small").await;
        assert!(
            wait_until(Duration::from_secs(2), || all_by_testid(&el, "cart-item").len() == 1).await,
            "{name}: touch ordering works"
        );
        assert_eq!(phase(&el), "active");
        m.unmount();
    }
}

#[wasm_bindgen_test]
async fn a_lost_connection_reconnects_once_by_itself_keeping_the_cart_then_offers_reconnect() {
    let (transport, _m, el) = started_fake(realtime_script("a cola", COLA_ARGS), VoiceMode::Toggle).await;
    fake_turn(&el).await;
    assert!(wait_until(Duration::from_secs(5), || all_by_testid(&el, "cart-item").len() == 1).await);
    wait_state(&el, "idle", Duration::from_secs(5)).await;
    assert_eq!(transport.exchanges.get(), 1);

    // The peer closes the data channel: one automatic reconnect with a fresh token.
    transport.fake().unwrap().close_channel();
    assert!(
        wait_until(Duration::from_secs(2), || by_testid(&el, "voice-notice").is_some()).await,
        "the customer is told"
    );
    assert_eq!(attr(&by_testid(&el, "voice-notice").unwrap(), "data-state"), "reconnecting");
    wait_state(&el, "idle", Duration::from_secs(10)).await;
    assert_eq!(transport.exchanges.get(), 2, "reconnected once");
    assert!(wait_until(Duration::from_secs(2), || by_testid(&el, "voice-notice").is_none()).await);
    assert!(by_testid(&el, "voice-error").is_none(), "nothing left on screen once it works again");
    assert_eq!(all_by_testid(&el, "cart-item").len(), 1, "the cart is kept");
    assert!(text_of(&el, "voice-transcript").contains("a cola"), "so is the transcript");

    // Lost again (the whole connection this time): no second automatic reconnect.
    transport.fake().unwrap().pc.close();
    assert!(wait_until(Duration::from_secs(8), || by_testid(&el, "voice-error").is_some()).await);
    assert_eq!(attr(&by_testid(&el, "voice-notice").unwrap(), "data-state"), "voice_lost");
    assert!(!text_of(&el, "voice-error-help").is_empty(), "a help line");
    assert_eq!(text_of(&el, "voice-retry"), "Reconnect");
    support::sleep(500).await;
    assert_eq!(transport.exchanges.get(), 2, "not by itself");
    click(&el, "voice-retry");
    wait_state(&el, "idle", Duration::from_secs(10)).await;
    assert_eq!(transport.exchanges.get(), 3);
    assert!(by_testid(&el, "voice-error").is_none());
    assert_eq!(all_by_testid(&el, "cart-item").len(), 1);
}

#[wasm_bindgen_test]
async fn a_turn_whose_committed_never_arrives_still_gets_its_reply() {
    let script = realtime_script("a cola", COLA_ARGS);
    // The same server, but `input_audio_buffer.committed` is lost on the way.
    let lossy: Respond = Rc::new(move |frame: &str| {
        script(frame).into_iter().filter(|f| !f.contains("\"input_audio_buffer.committed\"")).collect()
    });
    let (transport, _m, el) = started_fake(lossy, VoiceMode::Toggle).await;
    fake_turn(&el).await;
    assert!(
        wait_until(Duration::from_secs(5), || all_by_testid(&el, "cart-item").len() == 1).await,
        "the transcript alone moves the turn on; sent {:?}",
        transport.sent_types()
    );
    assert_eq!(received("input_audio_buffer.committed"), 0);
    wait_state(&el, "idle", Duration::from_secs(5)).await;
}

#[wasm_bindgen_test]
async fn a_spoken_order_is_read_back_flashes_its_line_and_is_placed_only_on_a_yes() {
    post_json("/api/v1/dev/voice-faults", "{}").await;
    let m = mount_with(hub_transport(), VoiceMode::Toggle, long_customer(), Timeouts::default());
    let el = m.el();
    let count_orders = || async { support::kds::snapshot().await.orders.len() };
    let before = count_orders().await;
    click(&el, "attract-start");

    say("two cheeseburgers").await;
    talk(&el).await;
    assert!(wait_until(Duration::from_secs(15), || all_by_testid(&el, "cart-item").len() == 1).await);
    let row = by_testid(&el, "cart-item").unwrap();
    assert_eq!(attr(&row, "data-changed"), "true", "the changed line flashes");
    assert!(row.class_list().contains("flash"));
    let replies = || {
        all_by_testid(&el, "assistant-reply").iter().map(|e| e.text_content().unwrap_or_default()).collect::<Vec<_>>()
    };
    assert!(
        wait_until(Duration::from_secs(10), || replies().iter().any(|r| r.contains("Cheeseburger"))).await,
        "the reply names what changed: {:?}",
        replies()
    );

    say("that's all").await;
    talk(&el).await;
    assert!(
        wait_until(Duration::from_secs(15), || by_testid(&el, "confirm-question").is_some()).await,
        "asked before placing; replies {:?}",
        replies()
    );
    assert!(
        wait_until(Duration::from_secs(10), || replies().iter().any(|r| r.contains("Shall I place it?"))).await,
        "asked aloud: {:?}",
        replies()
    );
    support::sleep(500).await;
    assert!(by_testid(&el, "order-confirmation").is_none(), "never placed on the first checkout alone");
    assert_eq!(count_orders().await, before);

    say("yes please").await;
    talk(&el).await;
    assert!(
        wait_until(Duration::from_secs(15), || by_testid(&el, "order-confirmation").is_some()).await,
        "placed on a spoken yes; replies {:?}",
        replies()
    );
    assert_eq!(count_orders().await, before + 1);
}

#[wasm_bindgen_test]
async fn token_and_sdp_errors_show_the_servers_message_and_touch_ordering_still_works() {
    let quick_connect = Timeouts { connecting: Duration::from_secs(3), ..Timeouts::default() };
    for (faults, title, says) in [
        (r#"{"token_status":401}"#, "Voice ordering is unavailable", "Incorrect API key provided. (HTTP 401)"),
        (
            r#"{"token_status":500}"#,
            "Voice ordering is unavailable",
            "The server had an error while processing your request. (HTTP 500)",
        ),
        (
            r#"{"token_status":503}"#,
            "Voice ordering is unavailable",
            "The voice service is temporarily unavailable. (HTTP 503)",
        ),
        (r#"{"sdp_status":400}"#, "Could not connect to the voice assistant", "Invalid SDP offer. (HTTP 400)"),
        (
            r#"{"sdp_status":503}"#,
            "Could not connect to the voice assistant",
            "The voice service is temporarily unavailable. (HTTP 503)",
        ),
        (r#"{"sdp_hang":true}"#, "Could not connect to the voice assistant.", "Tap Reconnect"),
    ] {
        post_json("/api/v1/dev/voice-faults", faults).await;
        let mut m = mount_with(hub_transport(), VoiceMode::Toggle, long_customer(), quick_connect);
        let el = m.el();
        click(&el, "attract-start");
        let shown = wait_until(Duration::from_secs(8), || by_testid(&el, "voice-error").is_some()).await;
        let (got_title, got_help) = (text_of(&el, "voice-error-title"), text_of(&el, "voice-error-help"));
        post_json("/api/v1/dev/voice-faults", "{}").await;
        assert!(shown, "{faults}: an error is shown; state {:?}", voice_state(&el));
        assert_eq!(got_title, title, "{faults}");
        assert!(got_help.contains(says), "{faults}: the server's message in {got_help:?}");
        assert_eq!(text_of(&el, "voice-retry"), "Reconnect", "{faults}");
        tap_item(&el, "fries-small").await;
        assert!(
            wait_until(Duration::from_secs(2), || all_by_testid(&el, "cart-item").len() == 1).await,
            "{faults}: touch ordering works"
        );
        // With the fault gone, Reconnect works.
        click(&el, "voice-retry");
        wait_state(&el, "idle", Duration::from_secs(15)).await;
        assert!(by_testid(&el, "voice-error").is_none(), "{faults}");
        m.unmount();
    }
}
