//! The kiosk in a real browser: the voice connection through the real `RTCPeerConnection` wrapper
//! answered by an in-page fake Realtime peer, the push-to-talk turn, the cart, and the order sent
//! to the real hub.
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use restaurant_web::components::kiosk::KioskView;
use restaurant_web::core::config::{RuntimeConfig, VoiceMode};
use restaurant_web::core::secure::MediaAccess;
use restaurant_web::core::voice::outbox::Outbox;
use restaurant_web::core::voice::{EventChannel, Timeouts};
use restaurant_web::hooks::config::provide_runtime_config;
use restaurant_web::hooks::kiosk_cart::use_kiosk_cart;
use restaurant_web::hooks::voice_session::{UseVoiceSessionOptions, UseVoiceSessionReturn, use_voice_session};
use restaurant_web::web::realtime::VoiceTransport;
use support::console::{after_dispose_messages, capture_console, release_console};
use support::kiosk::{
    FakeTransport, fail_microphone, install_peer_counter, menu, peers_created, peers_open, realtime_script, tap_item,
};
use support::{Mounted, all_by_testid, by_testid, click, mount, text_of, wait_until};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, RtcDataChannel, RtcDataChannelInit, RtcDataChannelState};

wasm_bindgen_test_configure!(run_in_browser);

const ORDER_ARGS: &str =
    r#"{"items":[{"name":"Cheeseburger","quantity":2,"options":[]},{"name":"Large Fries","quantity":1,"options":[]}]}"#;

fn config() -> RuntimeConfig {
    support::hub_config()
}

fn quick_timeouts() -> Timeouts {
    Timeouts {
        committing: Duration::from_millis(400),
        awaiting_transcript: Duration::from_millis(400),
        awaiting_response: Duration::from_millis(800),
        ..Timeouts::default()
    }
}

fn mount_kiosk(transport: Rc<FakeTransport>, timeouts: Timeouts) -> Mounted {
    restaurant_web::web::storage::remove("restaurant.kiosk.pending_order");
    mount(move || {
        provide_runtime_config(config());
        let transport: Rc<dyn VoiceTransport> = transport;
        view! { <KioskView menu=menu() transport voice_mode=VoiceMode::Toggle timeouts/> }
    })
}

fn voice_state(root: &Element) -> String {
    by_testid(root, "voice-status").and_then(|e| e.get_attribute("data-state")).unwrap_or_default()
}

async fn wait_state(root: &Element, state: &str, within: Duration) {
    let ok = wait_until(within, || voice_state(root) == state).await;
    assert!(ok, "voice state {state:?} expected, still {:?}; {}", voice_state(root), voice_diagnostics(root));
}

/// What the in-page fake Realtime peer saw and did, for a failure message.
fn fake_side(transport: &FakeTransport) -> String {
    match transport.fake() {
        Some(f) => format!(
            "channel seen {} ({}), greeting frames sent {} (again {}), frames received {:?}, connection {:?}",
            f.channel_seen.get(),
            f.channel_state(),
            f.greeted.get(),
            f.resent.get(),
            f.received.borrow(),
            f.pc.connection_state()
        ),
        None => "none".into(),
    }
}

/// What the page showed and what the driver reports, for a failure message.
fn voice_diagnostics(root: &Element) -> String {
    let status = js_sys::eval("JSON.stringify(window.__voiceClient ? window.__voiceClient.getStatus() : null)")
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    format!("problem shown: {:?}; driver status: {status}", text_of(root, "voice-error"))
}

/// Taps the voice button once the toggle debounce (300 ms) has passed.
async fn tap(root: &Element) {
    support::sleep(320).await;
    click(root, "voice-order-button");
}

#[wasm_bindgen_test]
async fn a_voice_turn_fills_the_cart_and_the_order_reaches_the_hub_once() {
    let transport = Rc::new(FakeTransport::new(0, realtime_script("two cheeseburgers and a large fries", ORDER_ARGS)));
    let m = mount_kiosk(transport.clone(), Timeouts::default());
    let el = m.el();
    assert_eq!(voice_state(&el), "disconnected");
    assert_eq!(text_of(&el, "voice-status"), "Tap to start");

    click(&el, "voice-order-button");
    wait_state(&el, "idle", Duration::from_secs(10)).await;
    assert!(transport.sent_types().contains(&"session.update".to_string()), "session.update sent on session.created");

    tap(&el).await;
    wait_state(&el, "recording", Duration::from_secs(2)).await;
    let button = by_testid(&el, "voice-order-button").unwrap();
    assert_eq!(button.get_attribute("aria-pressed").as_deref(), Some("true"));
    tap(&el).await;

    assert!(wait_until(Duration::from_secs(5), || all_by_testid(&el, "cart-item").len() == 2).await, "two cart lines");
    let lines: Vec<(String, String)> = all_by_testid(&el, "cart-item")
        .iter()
        .map(|row| (row.get_attribute("data-item-id").unwrap(), text_of(row, "cart-qty")))
        .collect();
    assert_eq!(lines, [("cheeseburger".to_string(), "2".to_string()), ("fries-large".to_string(), "1".to_string())]);
    assert_eq!(text_of(&el, "cart-subtotal"), "$22.47");
    assert!(text_of(&el, "voice-transcript").contains("two cheeseburgers and a large fries"));
    assert!(wait_until(Duration::from_secs(5), || text_of(&el, "assistant-reply").contains("Anything else")).await);
    wait_state(&el, "idle", Duration::from_secs(5)).await;
    let sent = transport.sent_types();
    assert!(sent.contains(&"conversation.item.create".to_string()), "function output sent: {sent:?}");

    // Submit to the real hub.
    click(&el, "submit-order");
    assert!(
        wait_until(Duration::from_secs(10), || by_testid(&el, "order-confirmation").is_some()).await,
        "confirmation shown: {}",
        text_of(&el, "submit-status")
    );
    let number = text_of(&el, "order-number");
    assert!(number.starts_with('#'), "order number shown: {number:?}");
    let snapshot = support::kds::snapshot().await;
    let ours: Vec<_> = snapshot.orders.iter().filter(|o| format!("#{}", o.number) == number).collect();
    assert_eq!(ours.len(), 1, "exactly one order #{number} on the hub");
    assert_eq!(ours[0].source, restaurant_protocol::OrderSource::Voice);
    assert_eq!(ours[0].items.iter().map(|i| i.quantity).sum::<u32>(), 3);
}

#[wasm_bindgen_test]
async fn a_transcript_delta_without_item_created_still_shows_its_text() {
    let transport = Rc::new(FakeTransport::new(0, realtime_script("", ORDER_ARGS)));
    let m = mount_kiosk(transport.clone(), Timeouts::default());
    let el = m.el();
    click(&el, "voice-order-button");
    wait_state(&el, "idle", Duration::from_secs(10)).await;
    let fake = transport.fake().unwrap();
    assert!(fake.send(
        r#"{"type":"conversation.item.input_audio_transcription.delta","event_id":"evt_x1","item_id":"item_never_announced","content_index":0,"delta":"a vanilla shake"}"#
    ));
    assert!(
        wait_until(Duration::from_secs(3), || text_of(&el, "voice-transcript").contains("a vanilla shake")).await,
        "the delta created its entry defensively"
    );
    let line = by_testid(&el, "transcript-customer").unwrap();
    assert_eq!(line.get_attribute("data-final").as_deref(), Some("false"), "partial until completed");
}

#[wasm_bindgen_test]
async fn an_empty_turn_gets_no_transcript_and_the_button_works_again_after_the_timeout() {
    // A server that never answers a commit (the stuck-in-waiting incident).
    let silent: support::kiosk::Respond = Rc::new(|frame: &str| {
        if frame.contains(r#""type":"session.update""#) {
            vec![r#"{"type":"session.updated","event_id":"evt_s1","session":{"id":"sess_1"}}"#.to_string()]
        } else {
            Vec::new()
        }
    });
    let m = mount_kiosk(Rc::new(FakeTransport::new(0, silent)), quick_timeouts());
    let el = m.el();
    click(&el, "voice-order-button");
    wait_state(&el, "idle", Duration::from_secs(10)).await;
    tap(&el).await;
    wait_state(&el, "recording", Duration::from_secs(2)).await;
    tap(&el).await;
    assert!(wait_until(Duration::from_secs(2), || voice_state(&el) != "recording").await);
    wait_state(&el, "idle", Duration::from_secs(3)).await;
    assert!(all_by_testid(&el, "transcript-customer").is_empty(), "no transcript for an empty turn");
    assert!(by_testid(&el, "voice-error").is_some(), "the customer is told to try again");
    tap(&el).await;
    wait_state(&el, "recording", Duration::from_secs(2)).await;
}

#[wasm_bindgen_test]
async fn a_blocked_microphone_says_how_to_allow_it_touch_ordering_still_works_and_retry_connects() {
    let transport = Rc::new(FakeTransport::new(0, realtime_script("", ORDER_ARGS)));
    let m = mount_kiosk(transport.clone(), Timeouts::default());
    let el = m.el();
    fail_microphone(Some("NotAllowedError"));
    click(&el, "voice-order-button");
    let shown = wait_until(Duration::from_secs(5), || by_testid(&el, "voice-error").is_some()).await;
    fail_microphone(None);
    assert!(shown, "error shown");
    assert_eq!(text_of(&el, "voice-error-title"), "Microphone blocked");
    assert!(text_of(&el, "voice-error").contains("Allow microphone access"));
    assert_eq!(voice_state(&el), "disconnected");
    assert_eq!(transport.exchanges.get(), 0, "no connection attempted without a microphone");

    tap_item(&el, "fries-small").await;
    assert!(
        wait_until(Duration::from_secs(2), || all_by_testid(&el, "cart-item").len() == 1).await,
        "touch ordering works"
    );

    click(&el, "voice-retry");
    wait_state(&el, "idle", Duration::from_secs(10)).await;
    assert!(by_testid(&el, "voice-error").is_none());
}

#[wasm_bindgen_test]
async fn unmounting_during_connect_is_silent_and_leaves_no_peer_connection_open() {
    install_peer_counter();
    capture_console();
    let transport = Rc::new(FakeTransport::new(300, realtime_script("", ORDER_ARGS)));
    let mut m = mount_kiosk(transport.clone(), Timeouts::default());
    let el = m.el();
    click(&el, "voice-order-button");
    assert!(wait_until(Duration::from_secs(5), || transport.exchanges.get() == 1).await, "connect in flight");
    m.unmount();
    support::sleep(800).await;
    transport.current.borrow_mut().take();
    support::sleep(50).await;
    let messages = release_console();
    let bad = after_dispose_messages(&messages);
    assert!(bad.is_empty(), "messages after unmount: {bad:?}");
    assert_eq!(peers_open(), 0, "every peer connection closed");
    assert!(js_sys::eval("window.__voiceClient === undefined").unwrap().is_truthy(), "debug surface removed");
}

/// Mounts only the hook, for driving it directly.
fn mount_hook(transport: Rc<FakeTransport>) -> (Mounted, Rc<RefCell<Option<UseVoiceSessionReturn>>>) {
    let slot: Rc<RefCell<Option<UseVoiceSessionReturn>>> = Rc::default();
    let out = slot.clone();
    let mounted = mount(move || {
        let voice = use_voice_session(
            menu(),
            use_kiosk_cart(),
            UseVoiceSessionOptions {
                transport,
                mode: VoiceMode::Toggle,
                prefetch_token: false,
                on_event: None,
                timeouts: Timeouts::default(),
                on_order: Callback::new(|_| {}),
                media: MediaAccess::Available,
                on_unpaired: None,
            },
        );
        let state = voice.state();
        *out.borrow_mut() = Some(voice);
        view! { <p data-testid="voice-status" data-state=move || state.get().as_str()></p> }
    });
    (mounted, slot)
}

#[wasm_bindgen_test]
async fn twenty_connect_disconnect_cycles_leave_no_peer_connection_open() {
    install_peer_counter();
    let transport = Rc::new(FakeTransport::new(0, realtime_script("", ORDER_ARGS)));
    let (m, slot) = mount_hook(transport.clone());
    let el = m.el();
    let voice = slot.borrow().unwrap();
    for cycle in 0..20 {
        voice.connect();
        let ready = wait_until(Duration::from_secs(10), || voice_state(&el) == "idle").await;
        assert!(
            ready,
            "cycle {cycle}: idle expected, still {:?}; {}; fake peer: {}",
            voice_state(&el),
            voice_diagnostics(&el),
            fake_side(&transport)
        );
        voice.disconnect();
        wait_state(&el, "disconnected", Duration::from_secs(5)).await;
        assert_eq!(transport.exchanges.get(), cycle + 1);
    }
    transport.current.borrow_mut().take();
    support::sleep(50).await;
    assert_eq!(peers_open(), 0, "open peer connections after 20 cycles");
    let live = js_sys::eval("window.__dbgRTC.live").unwrap().as_f64().unwrap();
    assert_eq!(live, 0.0, "live Peer wrappers");
}

#[wasm_bindgen_test]
async fn a_double_tap_on_connect_creates_one_peer_connection() {
    install_peer_counter();
    let before = peers_created();
    let transport = Rc::new(FakeTransport::new(500, realtime_script("", ORDER_ARGS)));
    let m = mount_kiosk(transport.clone(), Timeouts::default());
    let el = m.el();
    // The kiosk fetches a token ahead, at mount.
    assert!(wait_until(Duration::from_secs(2), || voice_diagnostics(&el).contains("\"hasToken\":true")).await);
    assert_eq!(transport.tokens.get(), 1, "one token fetched ahead");
    click(&el, "voice-order-button");
    click(&el, "voice-order-button"); // bounce
    tap(&el).await; // a deliberate second tap while connecting
    wait_state(&el, "idle", Duration::from_secs(10)).await;
    assert_eq!(transport.exchanges.get(), 1, "one SDP exchange");
    assert_eq!(transport.tokens.get(), 2, "the one fetched ahead was used, and the next one fetched once");
    assert_eq!(peers_created() - before, 2, "the kiosk's peer connection and the fake server's");
}

/// The outbox over real data channels: a channel that closes mid-flush keeps the rest queued in
/// order, and a new channel receives exactly the rest — nothing lost, nothing twice.
#[wasm_bindgen_test]
async fn a_channel_closed_mid_flush_requeues_and_a_new_channel_gets_the_rest_once() {
    struct Channel {
        dc: RtcDataChannel,
        close_after: Option<usize>,
        sent: usize,
    }
    impl EventChannel for Channel {
        fn is_open(&self) -> bool {
            self.dc.ready_state() == RtcDataChannelState::Open
        }
        fn send(&mut self, text: &str) -> Result<(), String> {
            self.dc.send_with_str(text).map_err(|e| format!("{e:?}"))?;
            self.sent += 1;
            if self.close_after == Some(self.sent) {
                self.dc.close(); // the connection drops in the middle of the flush
            }
            Ok(())
        }
    }
    type OnMessage = wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>;
    async fn pair() -> (support::rtc::Loopback, RtcDataChannel, OnMessage, Rc<RefCell<Vec<String>>>) {
        let lb = support::rtc::Loopback::new();
        let init = RtcDataChannelInit::new();
        init.set_negotiated(true);
        init.set_id(0);
        let a = lb.offerer.create_data_channel_with_data_channel_dict("oai-events", &init);
        let b = lb.answerer.create_data_channel_with_data_channel_dict("oai-events", &init);
        let got: Rc<RefCell<Vec<String>>> = Rc::default();
        let log = got.clone();
        let on =
            wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                log.borrow_mut().push(e.data().as_string().unwrap_or_default())
            });
        b.set_onmessage(Some(on.as_ref().unchecked_ref()));
        lb.negotiate().await.unwrap();
        (lb, a, on, got)
    }

    let mut outbox = Outbox::default();
    let (_first, a, _on_first, got_first) = pair().await;
    for i in 0..5 {
        outbox.push(format!("e{i}")).unwrap();
    }
    let mut ch = Channel { dc: a.clone(), close_after: None, sent: 0 };
    outbox.flush(&mut ch); // still connecting: nothing sent, nothing lost
    assert_eq!(outbox.len(), 5);
    assert!(wait_until(Duration::from_secs(5), || a.ready_state() == RtcDataChannelState::Open).await);
    ch.close_after = Some(2);
    outbox.flush(&mut ch);
    assert_eq!(outbox.len(), 3, "the rest stays queued");
    assert!(wait_until(Duration::from_secs(2), || got_first.borrow().len() == 2).await);

    let (_second, a2, _on_second, got_second) = pair().await;
    assert!(wait_until(Duration::from_secs(5), || a2.ready_state() == RtcDataChannelState::Open).await);
    outbox.flush(&mut Channel { dc: a2, close_after: None, sent: 0 });
    assert!(wait_until(Duration::from_secs(2), || got_second.borrow().len() == 3).await);
    support::sleep(100).await;
    assert_eq!(*got_first.borrow(), ["e0", "e1"]);
    assert_eq!(*got_second.borrow(), ["e2", "e3", "e4"]);
    assert!(outbox.is_empty());
}

#[wasm_bindgen_test]
async fn an_order_sent_while_the_hub_is_down_is_kept_and_placed_exactly_once() {
    let transport = Rc::new(FakeTransport::new(0, realtime_script("", ORDER_ARGS)));
    let m = mount_kiosk(transport, Timeouts::default());
    let el = m.el();
    let count_orders = || async { support::kds::snapshot().await.orders.len() };
    let before = count_orders().await;
    tap_item(&el, "fries-small").await;
    tap_item(&el, "fries-small").await;
    assert!(wait_until(Duration::from_secs(2), || text_of(&el, "cart-qty") == "2").await);

    support::hub_control("stop").await;
    click(&el, "submit-order");
    let retrying = wait_until(Duration::from_secs(5), || {
        by_testid(&el, "submit-status").and_then(|e| e.get_attribute("data-state")).as_deref() == Some("retrying")
    })
    .await;
    let stored = restaurant_web::web::storage::get("restaurant.kiosk.pending_order");
    support::hub_control("start").await;
    assert!(retrying, "the order waits for the hub");
    assert!(stored.is_some(), "the pending order is persisted while unacknowledged");
    click(&el, "submit-retry");
    assert!(wait_until(Duration::from_secs(10), || by_testid(&el, "order-confirmation").is_some()).await);
    assert_eq!(count_orders().await, before + 1, "placed exactly once");
    assert!(restaurant_web::web::storage::get("restaurant.kiosk.pending_order").is_none());
}
