//! Benchmark (run by `cargo xtask bench`): event loss at channel open against the hub's real
//! WebRTC voice peer, with 0–100 ms of random latency before each answer. A session counts as
//! lossy when `session.created` (sent the instant the channel opens) or the first
//! `conversation.item.created` never reaches the `Peer`'s handler. Prints one `BENCH {json}` line.
#![cfg(all(target_arch = "wasm32", feature = "bench"))]

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures::StreamExt;
use restaurant_web::web::http;
use restaurant_web::web::peer::{Peer, PeerEvent, PeerOptions};
use restaurant_web::web::realtime::{HttpTransport, VoiceTransport};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{MediaStream, MediaStreamTrack};

wasm_bindgen_test_configure!(run_in_browser);

struct Outcome {
    session_created: bool,
    item_created: bool,
    open_ms: f64,
    error: Option<String>,
}

async fn set_faults(body: &str) {
    let r = http::send(
        "POST",
        &format!("{}/api/v1/dev/voice-faults", support::hub_url()),
        &[("Content-Type", "application/json")],
        Some(body),
    )
    .await
    .expect("hub");
    assert!(r.is_success(), "voice faults: {} {}", r.status, r.body);
}

async fn one_session(transport: Rc<HttpTransport>, mic: MediaStreamTrack) -> Outcome {
    let types: Rc<RefCell<Vec<String>>> = Rc::default();
    let sink = types.clone();
    let peer = Peer::new(PeerOptions { data_channel: Some("oai-events") }, move |e| {
        if let PeerEvent::ChannelMessage(text) = e {
            let t = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["type"].as_str().map(str::to_string))
                .unwrap_or_default();
            sink.borrow_mut().push(t);
        }
    })
    .expect("peer");
    // `mic` is this session's own clone of the microphone track; the peer stops it on drop.
    let stream = MediaStream::new().unwrap();
    stream.add_track(&mic);
    peer.add_local_audio(&stream);
    peer.set_mic_enabled(true);
    let seen = |t: &str| types.borrow().iter().any(|x| x == t);
    let fail = |e: String| Outcome { session_created: false, item_created: false, open_ms: 0.0, error: Some(e) };

    let t0 = js_sys::Date::now();
    let token = match transport.fetch_token().await {
        Ok(t) => t.value,
        Err(e) => return fail(e.to_string()),
    };
    let offer = match peer.create_offer().await {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let answer = match transport.exchange_sdp(offer, token).await {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    if let Err(e) = peer.apply_answer(&answer).await {
        return fail(e);
    }
    let session_created = support::wait_until(Duration::from_secs(10), || seen("session.created")).await;
    let open_ms = js_sys::Date::now() - t0;
    let mut item_created = false;
    if session_created {
        support::sleep(200).await; // audio flows from the fake microphone
        let _ = peer.send(r#"{"type":"input_audio_buffer.commit","event_id":"bench_commit"}"#);
        item_created = support::wait_until(Duration::from_secs(5), || seen("conversation.item.created")).await;
    }
    drop(peer);
    Outcome { session_created, item_created, open_ms, error: None }
}

#[wasm_bindgen_test]
async fn bench_event_loss_at_channel_open() {
    let sessions: usize = option_env!("BENCH_SESSIONS").and_then(|s| s.parse().ok()).unwrap_or(1000);
    let concurrency = 8;
    set_faults(r#"{"answer_latency_ms":{"min":0,"max":100}}"#).await;
    let devices = web_sys::window().unwrap().navigator().media_devices().unwrap();
    let constraints = web_sys::MediaStreamConstraints::new();
    constraints.set_audio(&true.into());
    let stream: MediaStream =
        wasm_bindgen_futures::JsFuture::from(devices.get_user_media_with_constraints(&constraints).unwrap())
            .await
            .expect("fake microphone")
            .unchecked_into();
    let mic: MediaStreamTrack = stream.get_audio_tracks().get(0).unchecked_into();
    let hub = support::hub_url();
    let transport =
        Rc::new(HttpTransport::new(format!("{hub}/api/v1/realtime/session"), format!("{hub}/v1/realtime/calls")));

    let started = js_sys::Date::now();
    let outcomes: Vec<Outcome> = futures::stream::iter(0..sessions)
        .map(|_| one_session(transport.clone(), mic.clone())) // MediaStreamTrack::clone: a new JS track
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let seconds = (js_sys::Date::now() - started) / 1000.0;
    mic.stop();
    set_faults("{}").await;

    let errors: Vec<&String> = outcomes.iter().filter_map(|o| o.error.as_ref()).collect();
    let lost_created = outcomes.iter().filter(|o| o.error.is_none() && !o.session_created).count();
    let lost_item = outcomes.iter().filter(|o| o.error.is_none() && o.session_created && !o.item_created).count();
    let mut open: Vec<f64> = outcomes.iter().filter(|o| o.session_created).map(|o| o.open_ms).collect();
    open.sort_by(f64::total_cmp);
    let pct = |p: f64| open.get(((open.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    let line = serde_json::json!({
        "bench": "event_loss",
        "sessions": sessions,
        "concurrency": concurrency,
        "lost_session_created": lost_created,
        "lost_item_created": lost_item,
        "setup_errors": errors.len(),
        "first_error": errors.first(),
        "open_ms_p50": pct(0.5),
        "open_ms_p99": pct(0.99),
        "seconds": seconds,
    });
    web_sys::console::log_1(&format!("BENCH {line}").into());
    assert!(errors.len() * 10 < sessions, "too many sessions failed to set up: {errors:?}");
}

fn voice_state(root: &web_sys::Element) -> String {
    support::by_testid(root, "voice-status").and_then(|e| e.get_attribute("data-state")).unwrap_or_default()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN)
}

/// "Tap → assistant ready" on the kiosk against the hub's voice peer: from the tap on the attract
/// screen to the voice session being ready (`session.updated`), one customer after another, on
/// the kiosk as it ships (a token fetched ahead) and on the same kiosk fetching its token at the
/// tap (the baseline, measured in the same run against the same hub). Prints one `BENCH` line.
#[wasm_bindgen_test]
async fn bench_tap_to_assistant_ready() {
    const CUSTOMERS: usize = 20;
    set_faults("{}").await;
    let ahead = tap_to_ready(true, CUSTOMERS).await;
    let at_tap = tap_to_ready(false, CUSTOMERS).await;
    let line = serde_json::json!({
        "bench": "tap_to_ready",
        "customers": CUSTOMERS,
        "p50_ms": percentile(&ahead, 0.5),
        "p95_ms": percentile(&ahead, 0.95),
        "baseline_p50_ms": percentile(&at_tap, 0.5),
        "baseline_p95_ms": percentile(&at_tap, 0.95),
    });
    web_sys::console::log_1(&format!("BENCH {line}").into());
}

/// Sorted tap → ready times of `customers` customers on one kiosk; "Start over" ends each.
async fn tap_to_ready(prefetch_token: bool, customers: usize) -> Vec<f64> {
    use leptos::prelude::*;
    use restaurant_web::components::kiosk::KioskView;
    use restaurant_web::core::config::VoiceMode;
    use restaurant_web::core::customer::CustomerConfig;
    use restaurant_web::core::voice::Timeouts;
    use restaurant_web::hooks::config::provide_runtime_config;

    let config = support::hub_config();
    let transport: Rc<dyn VoiceTransport> =
        Rc::new(HttpTransport::new(config.token_url.clone(), config.realtime_url.clone()));
    let kiosk = support::mount(move || {
        provide_runtime_config(config);
        let customer = CustomerConfig { idle: Duration::from_secs(600), ..CustomerConfig::default() };
        view! {
            <KioskView menu=support::kiosk::menu() transport voice_mode=VoiceMode::Toggle
                timeouts=Timeouts::default() customer prefetch_token/>
        }
    });
    let el = kiosk.el();
    let mut times = Vec::new();
    for n in 0..customers {
        support::sleep(300).await; // the token for this customer arrives while the last one leaves
        let t0 = js_sys::Date::now();
        support::click(&el, "attract-start");
        let ready = support::wait_until(Duration::from_secs(15), || voice_state(&el) == "idle").await;
        assert!(ready, "customer {n} (prefetch {prefetch_token}): never ready ({})", voice_state(&el));
        times.push(js_sys::Date::now() - t0);
        support::click(&el, "start-over");
        assert!(support::wait_until(Duration::from_secs(5), || voice_state(&el) == "disconnected").await);
    }
    drop(kiosk);
    times.sort_by(f64::total_cmp);
    times
}
