//! The incident this product exists for: the Realtime data channel opens within ~50–100 ms and the
//! server speaks first. A handler attached after `open` loses `session.created` and the first
//! `conversation.item.created`. `web::peer::Peer` attaches every handler in its constructor, before
//! an offer exists — these tests run the real race, in a real browser, many times.
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use restaurant_web::web::peer::{Peer, PeerEvent, PeerOptions};
use support::fake_realtime::{FakeRealtime, ITEM_CREATED, SESSION_CREATED};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;
use web_sys::{Event, MessageEvent, RtcDataChannelInit, RtcPeerConnection};

wasm_bindgen_test_configure!(run_in_browser);

const RUNS: usize = 100;

fn greeting() -> Vec<String> {
    vec![SESSION_CREATED.to_string(), ITEM_CREATED.to_string()]
}

/// A run of the race: what the peer wrapper delivered, what the browser dispatched on the channel
/// (seen by a listener added right after the wrapper's constructor returned, before any offer
/// exists), every other peer event, and what the fake side did (for diagnosis).
struct Session {
    frames: Vec<String>,
    dispatched: usize,
    events: Vec<PeerEvent>,
    fake_side: String,
}

/// One session: waits up to 10 s after the answer for the two greeting frames.
async fn one_session(delay_ms: u32) -> Session {
    let frames: Rc<RefCell<Vec<String>>> = Rc::default();
    let events: Rc<RefCell<Vec<PeerEvent>>> = Rc::default();
    let (sink, other) = (frames.clone(), events.clone());
    let peer = Peer::new(PeerOptions { data_channel: Some("oai-events") }, move |e| match e {
        PeerEvent::ChannelMessage(text) => sink.borrow_mut().push(text),
        PeerEvent::IceCandidate(_) => {}
        e => other.borrow_mut().push(e),
    })
    .expect("peer");
    let dispatched = Rc::new(std::cell::Cell::new(0usize));
    let count = dispatched.clone();
    let oracle = Closure::<dyn FnMut(Event)>::new(move |_: Event| count.set(count.get() + 1));
    let channel = peer.channel().expect("the peer has its data channel").clone();
    channel.add_event_listener_with_callback("message", oracle.as_ref().unchecked_ref()).unwrap();
    let fake = FakeRealtime::new(greeting());
    let offer = peer.create_offer().await.expect("offer");
    let answer = fake.answer(&offer, delay_ms).await.expect("answer");
    peer.apply_answer(&answer).await.expect("apply answer");
    support::wait_until(Duration::from_secs(10), || frames.borrow().len() >= 2).await;
    let fake_side = format!(
        "fake peer: channel seen {}, greeting frames sent {}, connection {:?}",
        fake.channel_seen.get(),
        fake.greeted.get(),
        fake.pc.connection_state()
    );
    let _ = channel.remove_event_listener_with_callback("message", oracle.as_ref().unchecked_ref());
    drop(peer);
    drop(fake);
    Session { frames: frames.take(), dispatched: dispatched.get(), events: events.take(), fake_side }
}

/// Sessions in which the browser itself never dispatched the greeting may be run again, up to
/// this many per test. Chrome, with both peers in one page, now and then accepts a send on an open
/// channel and never delivers it (about once in 500 sessions on a loaded machine). That is not the
/// race under test: the question is whether the client saw every frame the browser dispatched.
const MAX_UNDELIVERED: usize = 3;

async fn every_session_sees_the_first_events(delay_ms: u32) {
    let started = js_sys::Date::now();
    let (mut lost, mut undelivered, mut run) = (0, 0, 0);
    assert!(support::rtc::collect_closed_peers(), "the test browser exposes gc (webdriver.json)");
    while run < RUNS {
        let Session { frames, dispatched, events, fake_side } = one_session(delay_ms).await;
        // Each session leaves two closed peers behind; the three tests make over 600 of them.
        support::rtc::collect_closed_peers();
        let ok = frames.first().map(String::as_str) == Some(SESSION_CREATED)
            && frames.get(1).map(String::as_str) == Some(ITEM_CREATED);
        if !ok && dispatched < 2 && undelivered < MAX_UNDELIVERED {
            undelivered += 1;
            web_sys::console::warn_1(
                &format!("run {run} at {delay_ms} ms: the browser dispatched {dispatched} of 2 frames; run again. {fake_side}").into(),
            );
            continue;
        }
        if !ok {
            lost += 1;
            web_sys::console::error_1(
                &format!("run {run} at {delay_ms} ms: got {frames:?} of {dispatched} dispatched; peer events {events:?}; {fake_side}")
                    .into(),
            );
        }
        run += 1;
    }
    let per_session = (js_sys::Date::now() - started) / RUNS as f64;
    web_sys::console::log_1(
        &format!(
            "[race] delay {delay_ms} ms: {} / {RUNS} sessions saw both events ({per_session:.0} ms per session; {undelivered} run again, not delivered by the browser)",
            RUNS - lost
        )
            .into(),
    );
    assert_eq!(lost, 0, "sessions that lost session.created or conversation.item.created at {delay_ms} ms");
}

#[wasm_bindgen_test]
async fn first_events_are_received_in_100_of_100_sessions_with_no_answer_delay() {
    every_session_sees_the_first_events(0).await;
}

#[wasm_bindgen_test]
async fn first_events_are_received_in_100_of_100_sessions_with_50ms_answer_delay() {
    every_session_sees_the_first_events(50).await;
}

#[wasm_bindgen_test]
async fn first_events_are_received_in_100_of_100_sessions_with_100ms_answer_delay() {
    every_session_sees_the_first_events(100).await;
}

/// The broken pattern from the incident, kept as a test of the test: the channel's `onmessage` is
/// attached only when something reacts to `open` ("channel ready" → an orchestrator subscribes
/// ~50 ms later). The same check as above must catch it losing the first events.
#[wasm_bindgen_test]
async fn the_check_detects_a_handler_attached_after_open() {
    const BROKEN_RUNS: usize = 20;
    let mut lost = 0;
    for _ in 0..BROKEN_RUNS {
        let pc = RtcPeerConnection::new().unwrap();
        let init = RtcDataChannelInit::new();
        init.set_ordered(true);
        let dc = pc.create_data_channel_with_data_channel_dict("oai-events", &init);
        let frames: Rc<RefCell<Vec<String>>> = Rc::default();
        let late_handler: support::fake_realtime::MessageHandler = Rc::default();
        let on_open = {
            let (dc, frames, late_handler) = (dc.clone(), frames.clone(), late_handler.clone());
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                let (dc, frames, late_handler) = (dc.clone(), frames.clone(), late_handler.clone());
                // "dataChannelReady" is emitted; the consumer attaches its handler a moment later.
                wasm_bindgen_futures::spawn_local(async move {
                    support::sleep(50).await;
                    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |m: MessageEvent| {
                        frames.borrow_mut().push(m.data().as_string().unwrap_or_default())
                    });
                    dc.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
                    *late_handler.borrow_mut() = Some(on_message);
                });
            })
        };
        dc.set_onopen(Some(on_open.as_ref().unchecked_ref()));

        let fake = FakeRealtime::new(greeting());
        let offer = wasm_bindgen_futures::JsFuture::from(pc.create_offer()).await.unwrap();
        let offer_sdp = js_sys::Reflect::get(&offer, &"sdp".into()).unwrap().as_string().unwrap();
        let local = web_sys::RtcSessionDescriptionInit::new(web_sys::RtcSdpType::Offer);
        local.set_sdp(&offer_sdp);
        wasm_bindgen_futures::JsFuture::from(pc.set_local_description(&local)).await.unwrap();
        let answer = fake.answer(&offer_sdp, 0).await.unwrap();
        let remote = web_sys::RtcSessionDescriptionInit::new(web_sys::RtcSdpType::Answer);
        remote.set_sdp(&answer);
        wasm_bindgen_futures::JsFuture::from(pc.set_remote_description(&remote)).await.unwrap();
        support::wait_until(Duration::from_millis(1500), || frames.borrow().len() >= 2).await;
        if frames.borrow().len() < 2 {
            lost += 1;
        }
        dc.set_onopen(None);
        dc.set_onmessage(None);
        dc.close();
        pc.close();
        drop(fake);
    }
    web_sys::console::log_1(
        &format!("[race] broken pattern lost the first events in {lost} / {BROKEN_RUNS} sessions").into(),
    );
    assert!(
        lost * 2 >= BROKEN_RUNS,
        "the late-handler pattern lost events in only {lost} of {BROKEN_RUNS} runs: the race check is too weak"
    );
}
