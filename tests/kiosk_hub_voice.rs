//! The kiosk against the hub's real WebRTC voice peer: token, SDP over HTTP, Chromium's fake
//! microphone as the customer's voice, the hub's utterance queue as the recognizer.
#![cfg(target_arch = "wasm32")]

mod support;

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use restaurant_web::components::kiosk::KioskView;
use restaurant_web::core::config::VoiceMode;
use restaurant_web::core::voice::Timeouts;
use restaurant_web::hooks::config::provide_runtime_config;
use restaurant_web::web::http;
use restaurant_web::web::realtime::{HttpTransport, VoiceTransport};
use support::kiosk::menu;
use support::{all_by_testid, by_testid, click, mount, text_of, wait_until};
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

fn voice_state(root: &Element) -> String {
    by_testid(root, "voice-status").and_then(|e| e.get_attribute("data-state")).unwrap_or_default()
}

#[wasm_bindgen_test]
async fn a_spoken_order_through_the_hub_voice_peer_fills_the_cart() {
    let hub = support::hub_url();
    let queued = http::send(
        "POST",
        &format!("{hub}/api/v1/dev/utterances"),
        &[("Content-Type", "application/json")],
        Some(r#"{"text":"two cheeseburgers and a large fries"}"#),
    )
    .await
    .expect("utterance queued");
    assert!(queued.is_success(), "utterance endpoint: {} {}", queued.status, queued.body);

    restaurant_web::web::storage::remove("restaurant.kiosk.pending_order");
    let config = support::hub_config();
    let transport: Rc<dyn VoiceTransport> =
        Rc::new(HttpTransport::new(config.token_url.clone(), config.realtime_url.clone()));
    let page = mount(move || {
        provide_runtime_config(config);
        view! { <KioskView menu=menu() transport voice_mode=VoiceMode::Toggle timeouts=Timeouts::default()/> }
    });
    let el = page.el();

    let t0 = js_sys::Date::now();
    click(&el, "voice-order-button");
    assert!(
        wait_until(Duration::from_secs(15), || voice_state(&el) == "idle").await,
        "connected to the hub voice peer; state {:?}, error {:?}",
        voice_state(&el),
        text_of(&el, "voice-error")
    );
    web_sys::console::log_1(&format!("[kiosk-hub] tap → ready in {:.0} ms", js_sys::Date::now() - t0).into());

    support::sleep(350).await;
    click(&el, "voice-order-button");
    assert!(wait_until(Duration::from_secs(2), || voice_state(&el) == "recording").await);
    support::sleep(1200).await; // the fake microphone speaks
    click(&el, "voice-order-button");

    assert!(
        wait_until(Duration::from_secs(15), || all_by_testid(&el, "cart-item").len() == 2).await,
        "cart filled by the hub's add_to_order call; transcript {:?}, state {:?}, error {:?}",
        text_of(&el, "voice-transcript"),
        voice_state(&el),
        text_of(&el, "voice-error")
    );
    assert_eq!(text_of(&el, "cart-subtotal"), "$22.47");
    assert!(text_of(&el, "voice-transcript").contains("two cheeseburgers and a large fries"));
    assert!(wait_until(Duration::from_secs(15), || voice_state(&el) == "idle").await, "the turn completes");
}
