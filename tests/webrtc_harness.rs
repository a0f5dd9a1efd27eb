//! The browser harness can do WebRTC: two in-page peer connections open a data channel and pass
//! messages both ways.
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use support::rtc::Loopback;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_sys::{MessageEvent, RtcDataChannelInit, RtcDataChannelState};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn two_peer_connections_exchange_data_channel_messages() {
    let pair = Loopback::new();

    // Negotiated channels: both ends exist (with their handlers) before the offer.
    let init = RtcDataChannelInit::new();
    init.set_negotiated(true);
    init.set_id(0);
    let a = pair.offerer.create_data_channel_with_data_channel_dict("harness", &init);
    let b = pair.answerer.create_data_channel_with_data_channel_dict("harness", &init);

    let received_by_b: Rc<RefCell<Vec<String>>> = Rc::default();
    let received_by_a: Rc<RefCell<Vec<String>>> = Rc::default();
    let on_b = {
        let log = received_by_b.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            log.borrow_mut().push(e.data().as_string().unwrap_or_default())
        })
    };
    let on_a = {
        let log = received_by_a.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            log.borrow_mut().push(e.data().as_string().unwrap_or_default())
        })
    };
    b.set_onmessage(Some(on_b.as_ref().unchecked_ref()));
    a.set_onmessage(Some(on_a.as_ref().unchecked_ref()));

    let t0 = js_sys::Date::now();
    pair.negotiate().await.expect("offer/answer");
    assert!(
        support::wait_until(Duration::from_secs(10), || a.ready_state() == RtcDataChannelState::Open).await,
        "data channel did not open within 10 s"
    );
    let open_ms = js_sys::Date::now() - t0;
    web_sys::console::log_1(&format!("[harness] data channel open after {open_ms:.0} ms").into());

    a.send_with_str("ping from offerer").unwrap();
    assert!(support::wait_until(Duration::from_secs(5), || !received_by_b.borrow().is_empty()).await);
    b.send_with_str("pong from answerer").unwrap();
    assert!(support::wait_until(Duration::from_secs(5), || !received_by_a.borrow().is_empty()).await);
    assert_eq!(*received_by_b.borrow(), ["ping from offerer"]);
    assert_eq!(*received_by_a.borrow(), ["pong from answerer"]);

    a.set_onmessage(None);
    b.set_onmessage(None);
    drop(pair);
    assert!(
        support::wait_until(Duration::from_secs(2), || a.ready_state() == RtcDataChannelState::Closed).await,
        "closing the pair closes its channels"
    );
}
