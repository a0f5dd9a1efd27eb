//! The staff call end to end in a real browser: the kiosk view and a signed-in kitchen display
//! mounted side by side in one page (each with its own hub connection), signalling through the real
//! hub, audio between two real `RTCPeerConnection`s with fake microphones.
#![cfg(target_arch = "wasm32")]

mod support;

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use restaurant_web::components::kiosk::KioskView;
use restaurant_web::core::config::VoiceMode;
use restaurant_web::core::voice::Timeouts;
use restaurant_web::hooks::config::provide_runtime_config;
use restaurant_web::web::realtime::VoiceTransport;
use support::kds::{LONG, SHORT, clear_storage, connect_count, mount_page, open_sockets, sign_in_via_form};
use support::kiosk::{FakeTransport, install_peer_counter, menu, peers_open};
use support::{Mounted, by_testid, click, mount, text_of, wait_until};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

const KIOSK: &str = "__kioskCall";
const KDS: &str = "__kdsCall";

fn mount_kiosk() -> Mounted {
    mount(move || {
        provide_runtime_config(support::hub_config());
        let transport: Rc<dyn VoiceTransport> = Rc::new(FakeTransport::new(0, Rc::new(|_: &str| Vec::new())));
        view! { <KioskView menu=menu() transport voice_mode=VoiceMode::Toggle timeouts=Timeouts::default()/> }
    })
}

fn call_state(root: &Element) -> String {
    by_testid(root, "call-status").and_then(|e| e.get_attribute("data-state")).unwrap_or_default()
}

async fn wait_call_state(root: &Element, state: &str, within: Duration, who: &str) {
    let ok = wait_until(within, || call_state(root) == state).await;
    assert!(ok, "{who}: call state {state:?} expected, still {:?}", call_state(root));
}

/// `window[name].getStatus()` as JSON.
fn call_status(name: &str) -> serde_json::Value {
    let value = js_sys::eval(&format!("JSON.stringify(window.{name} ? window.{name}.getStatus() : null)")).unwrap();
    serde_json::from_str(&value.as_string().unwrap()).unwrap()
}

/// `(inbound, outbound)` audio bytes of `name`'s peer connection.
async fn audio_bytes(name: &str) -> (u64, u64) {
    let promise: js_sys::Promise = js_sys::eval(&format!("window.{name}.audioBytes()")).unwrap().unchecked_into();
    let value = JsFuture::from(promise).await.expect("getStats");
    assert!(!value.is_null(), "{name} has a peer connection");
    let field = |f: &str| js_sys::Reflect::get(&value, &JsValue::from_str(f)).unwrap().as_f64().unwrap_or(0.0) as u64;
    (field("inbound"), field("outbound"))
}

async fn wait_inbound_audio(name: &str) -> (u64, u64) {
    let deadline = js_sys::Date::now() + 10_000.0;
    loop {
        let bytes = audio_bytes(name).await;
        if bytes.0 > 0 || js_sys::Date::now() > deadline {
            return bytes;
        }
        support::sleep(100).await;
    }
}

/// Signs a kitchen screen in, mounts the kiosk, calls staff and waits for the screen to ring.
async fn ringing() -> (Mounted, Mounted) {
    install_peer_counter();
    clear_storage();
    let kds = mount_page("grill");
    sign_in_via_form(&kds.el()).await;
    let kiosk = mount_kiosk();
    click(&kiosk.el(), "call-staff-button");
    assert!(wait_until(LONG, || by_testid(&kds.el(), "incoming-call").is_some()).await, "the kitchen screen rings");
    (kds, kiosk)
}

#[wasm_bindgen_test]
async fn a_call_accepted_after_a_wait_connects_carries_audio_mutes_and_hangs_up_on_both_sides() {
    let sockets_before = connect_count();
    let (mut kds, kiosk) = ringing().await;
    let (k, s) = (kiosk.el(), kds.el());
    assert_eq!(call_status(KDS)["ringing"], true, "the ring tone runs");
    wait_call_state(&k, "offering", SHORT, "kiosk").await;

    // Staff take their time: the offer (sent at once) must survive until they accept.
    support::sleep(2_100).await;
    assert_eq!(call_state(&s), "ringing");
    let accepted_at = js_sys::Date::now();
    click(&s, "call-accept");
    assert!(wait_until(SHORT, || by_testid(&s, "incoming-call").is_none()).await, "the prompt closes on accept");
    assert_eq!(call_status(KDS)["ringing"], false, "the ring tone stops");
    let both = wait_until(LONG, || call_state(&k) == "connected" && call_state(&s) == "connected").await;
    let connected_ms = js_sys::Date::now() - accepted_at;
    assert!(both, "both sides connected (kiosk {:?}, kds {:?})", call_state(&k), call_state(&s));
    web_sys::console::log_1(&format!("[call] accept → connected: {connected_ms:.0} ms").into());
    assert_eq!(text_of(&k, "call-status"), "On a call");
    assert!(
        wait_until(SHORT, || text_of(&k, "call-timer").starts_with("00:0") && text_of(&s, "call-timer").len() == 5)
            .await,
        "both timers show mm:ss"
    );
    // The kitchen screen used its order-feed socket; the kiosk opened one for the call, besides
    // the connection that keeps its menu live.
    assert_eq!(connect_count() - sockets_before, 3.0, "the feed, the kiosk's live menu and its call line");

    let kiosk_audio = wait_inbound_audio(KIOSK).await;
    let kds_audio = wait_inbound_audio(KDS).await;
    assert!(kiosk_audio.0 > 0, "the kiosk receives audio: {kiosk_audio:?}");
    assert!(kds_audio.0 > 0, "the kitchen screen receives audio: {kds_audio:?}");

    // Mute on the kiosk: its outbound audio stops; unmuting resumes it.
    click(&k, "call-mute");
    assert!(wait_until(SHORT, || call_status(KIOSK)["muted"] == true).await);
    assert!(
        wait_until(SHORT, || by_testid(&k, "call-mute").and_then(|b| b.get_attribute("aria-pressed")).as_deref()
            == Some("true"))
        .await,
        "the mute button shows it is pressed"
    );
    support::sleep(500).await;
    let (_, muted_from) = audio_bytes(KIOSK).await;
    support::sleep(1_500).await;
    let (_, muted_to) = audio_bytes(KIOSK).await;
    assert_eq!(muted_to, muted_from, "no audio leaves a muted kiosk");
    click(&k, "call-mute");
    support::sleep(1_000).await;
    let (_, unmuted) = audio_bytes(KIOSK).await;
    assert!(unmuted > muted_to, "audio flows again after unmuting ({muted_to} → {unmuted})");

    // Hang up on the kitchen screen: both sides end, both peer connections close.
    click(&s, "call-hangup");
    wait_call_state(&s, "ended", SHORT, "kds").await;
    wait_call_state(&k, "ended", SHORT, "kiosk").await;
    assert_eq!(text_of(&k, "call-status"), "Call ended");
    assert!(wait_until(SHORT, || peers_open() == 0).await, "every peer connection closed ({} open)", peers_open());
    assert!(wait_until(SHORT, || by_testid(&k, "call-hangup").is_none()).await, "no hang-up once ended");
    assert!(
        wait_until(SHORT, || call_status(KIOSK)["hasPeer"] == false && call_status(KDS)["hasPeer"] == false).await,
        "both drivers dropped their peer"
    );

    drop(kiosk);
    kds.unmount();
    assert!(wait_until(SHORT, || open_sockets() == 0.0).await, "no socket left ({})", open_sockets());
}

#[wasm_bindgen_test]
async fn declining_ends_the_callers_call_with_a_message() {
    let (mut kds, kiosk) = ringing().await;
    let (k, s) = (kiosk.el(), kds.el());
    click(&s, "call-decline");
    wait_call_state(&s, "ended", SHORT, "kds").await;
    wait_call_state(&k, "ended", SHORT, "kiosk").await;
    assert_eq!(text_of(&k, "call-status"), "Staff could not take the call");
    assert!(wait_until(SHORT, || by_testid(&s, "incoming-call").is_none()).await, "the prompt closes");
    assert!(wait_until(SHORT, || peers_open() == 0).await, "the kiosk's peer connection closed");
    let button = by_testid(&k, "call-staff-button").unwrap();
    assert!(wait_until(SHORT, || button.get_attribute("disabled").is_none()).await, "the kiosk can call again");
    drop(kiosk);
    kds.unmount();
}

#[wasm_bindgen_test]
async fn unmounting_the_kiosk_during_a_call_ends_it_on_the_kitchen_screen() {
    let (mut kds, mut kiosk) = ringing().await;
    let s = kds.el();
    click(&s, "call-accept");
    let k = kiosk.el();
    assert!(wait_until(LONG, || call_state(&k) == "connected" && call_state(&s) == "connected").await, "connected");
    kiosk.unmount();
    wait_call_state(&s, "ended", SHORT, "kds").await;
    assert_eq!(text_of(&s, "call-status"), "Call ended");
    assert!(wait_until(SHORT, || peers_open() == 0).await, "both peer connections closed ({} open)", peers_open());
    drop(kiosk);
    kds.unmount();
}
