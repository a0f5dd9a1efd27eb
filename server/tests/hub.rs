//! The hub against real sockets: HTTP with reqwest, the order feed with tokio-tungstenite.

mod common;

use common::{WAIT, Ws, close_code, connect, joined, recv, send};

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use restaurant_hub::{Mode, RunningHub, SHUTDOWN_GRACE, Secret, Settings};
use restaurant_protocol::{
    ApiError, ErrorCode, Menu, OrderEnvelope, OrderStatus, PinResponse, ServerMessage, Snapshot,
};
use serde_json::{Value, json};
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message;

fn settings(adjust: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings { memory: true, dist: "/nonexistent-dist".into(), ..Settings::demo() };
    // These tests post thousands of orders from one address; the limits have their own suite
    // (abuse_limits.rs).
    s.limits.order_rate = u32::MAX;
    s.limits.max_active_orders = u64::MAX;
    adjust(&mut s);
    s
}

async fn start(adjust: impl FnOnce(&mut Settings)) -> RunningHub {
    RunningHub::start(settings(adjust)).await.expect("hub starts")
}

fn order_body(item: &str, quantity: u32) -> Value {
    json!({"items":[{"menu_item_id": item, "quantity": quantity, "special_instructions": null}], "source": "kiosk"})
}

async fn post_order(hub: &RunningHub, key: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(hub.http("/api/v1/orders"))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("POST /api/v1/orders");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON answer"))
}

async fn create(hub: &RunningHub, key: &str) -> restaurant_protocol::Order {
    let (status, body) = post_order(hub, key, &order_body("cheeseburger", 1)).await;
    assert_eq!(status, 201, "{body}");
    serde_json::from_value::<OrderEnvelope>(body).unwrap().order
}

async fn snapshot(hub: &RunningHub, query: &str) -> Snapshot {
    let token = token(hub, "expo").await;
    let response = reqwest::Client::new()
        .get(hub.http(&format!("/api/v1/orders{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

/// A production hub whose every station (and the manager) has the PIN 1234.
fn production(s: &mut Settings) {
    s.mode = Mode::Production;
    s.pin = Some(Secret("1234".into()));
}

async fn token(hub: &RunningHub, station: &str) -> String {
    common::station_token(hub, station).await
}

async fn command(ws: &mut Ws, frame: Value) -> ServerMessage {
    send(ws, frame).await;
    loop {
        match recv(ws).await {
            m @ (ServerMessage::Ack { .. } | ServerMessage::Error { .. }) => return m,
            _ => continue,
        }
    }
}

#[tokio::test]
async fn menu_has_the_default_twenty_items_and_unknown_api_paths_are_json_404() {
    let hub = start(|_| {}).await;
    let menu: Menu = reqwest::get(hub.http("/api/v1/menu")).await.unwrap().json().await.unwrap();
    assert_eq!(menu.items.len(), 20);
    let response = reqwest::get(hub.http("/api/v1/nothing")).await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.json::<ApiError>().await.unwrap().error.code, "not_found");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn hello_gets_welcome_then_the_events_after_since_then_live_events() {
    let hub = start(|_| {}).await;
    let orders = [create(&hub, "a").await, create(&hub, "b").await, create(&hub, "c").await];
    let (mut ws, seq) = joined(&hub, "grill", Some(1)).await;
    assert_eq!(seq, 3);
    for expected in &orders[1..] {
        match recv(&mut ws).await {
            ServerMessage::OrderCreated { order, .. } => assert_eq!(&order, expected),
            other => panic!("expected a replayed order.created, got {other:?}"),
        }
    }
    let live = create(&hub, "d").await;
    assert_eq!(recv(&mut ws).await, ServerMessage::OrderCreated { seq: 4, order: live });
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn since_older_than_the_replay_window_gets_resync_and_the_snapshot_has_everything() {
    let hub = start(|s| s.replay_events = 2).await;
    for key in ["a", "b", "c", "d", "e"] {
        create(&hub, key).await;
    }
    let (mut ws, seq) = joined(&hub, "kitchen", Some(1)).await;
    assert_eq!(seq, 5);
    assert_eq!(recv(&mut ws).await, ServerMessage::Resync { seq: 5 });
    let snap = snapshot(&hub, "?station=kitchen").await;
    assert_eq!((snap.seq, snap.orders.len()), (5, 5));
    let (_, seq) = joined(&hub, "kitchen", Some(3)).await;
    assert_eq!(seq, 5, "still inside the window");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_bad_token_gets_auth_failed_and_close_4001() {
    let hub = start(|_| {}).await;
    let mut ws = connect(&hub).await;
    send(&mut ws, json!({"type":"hello","token":"0123456789abcdef","station":"grill","since":null})).await;
    assert!(matches!(recv(&mut ws).await, ServerMessage::AuthFailed { .. }));
    assert_eq!(close_code(&mut ws).await, 4001);

    let grill = token(&hub, "grill").await;
    let mut ws = connect(&hub).await;
    send(&mut ws, json!({"type":"hello","token": grill,"station":"fryer","since":null})).await;
    assert!(matches!(recv(&mut ws).await, ServerMessage::AuthFailed { reason } if reason.contains("grill")));
    assert_eq!(close_code(&mut ws).await, 4001);

    let mut ws = connect(&hub).await;
    send(&mut ws, json!({"type":"order.recall","request_id":"r","order_id":"o"})).await;
    assert!(matches!(recv(&mut ws).await, ServerMessage::AuthFailed { .. }));
    assert_eq!(close_code(&mut ws).await, 4001, "commands need a hello first");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn pin_sign_in_checks_station_pins_and_rate_limits_failures() {
    let hub = start(|s| s.station_pins = vec![("bar".into(), Secret("9999".into()))]).await;
    let client = reqwest::Client::new();
    let attempt = |pin: &'static str, station: &'static str| {
        client.post(hub.http("/api/v1/auth/pin")).json(&json!({"pin": pin, "station": station})).send()
    };
    assert_eq!(attempt("1234", "bar").await.unwrap().status().as_u16(), 401);
    let ok = attempt("9999", "bar").await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.json::<PinResponse>().await.unwrap().station, "bar");
    assert_eq!(attempt("1234", "Not A Station").await.unwrap().status().as_u16(), 400);
    // The wrong PIN for bar was the first of the five failures this address may make a minute.
    for _ in 0..4 {
        assert_eq!(attempt("0000", "grill").await.unwrap().status().as_u16(), 401);
    }
    let limited = attempt("1234", "grill").await.unwrap();
    assert_eq!(limited.status().as_u16(), 429, "even the right PIN waits once limited");
    assert!(limited.headers().contains_key("retry-after"));
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_order_without_a_duplicate() {
    let hub = start(|_| {}).await;
    let (first_status, first) = post_order(&hub, "key-1", &order_body("cheeseburger", 2)).await;
    let (again_status, again) = post_order(&hub, "key-1", &order_body("cheeseburger", 2)).await;
    assert_eq!((first_status, again_status), (201, 200));
    assert_eq!(first, again);
    let snap = snapshot(&hub, "").await;
    assert_eq!((snap.seq, snap.orders.len()), (1, 1));
    let response = reqwest::Client::new()
        .post(hub.http("/api/v1/orders"))
        .json(&order_body("cheeseburger", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400, "the key is required");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn invalid_orders_get_400_with_a_reason() {
    let hub = start(|_| {}).await;
    for (body, needle) in [
        (order_body("unicorn-steak", 1), "unknown menu item"),
        (order_body("cheeseburger", 0), "quantity"),
        (order_body("cheeseburger", 100), "quantity"),
        (json!({"items": [], "source": "kiosk"}), "at least one"),
        (json!({"items": [{"menu_item_id": "cheeseburger", "quantity": 1}], "source": "fax"}), "invalid JSON"),
    ] {
        let (status, answer) = post_order(&hub, "k", &body).await;
        assert_eq!(status, 400, "{body}");
        let error: ApiError = serde_json::from_value(answer).unwrap();
        assert_eq!(error.error.code, "bad_request");
        assert!(error.error.message.contains(needle), "{}", error.error.message);
    }
    let big = format!(r#"{{"items":[],"source":"kiosk","notes":"{}"}}"#, "x".repeat(70 * 1024));
    let response = reqwest::Client::new()
        .post(hub.http("/api/v1/orders"))
        .header("Idempotency-Key", "big")
        .header("Content-Type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(response.json::<ApiError>().await.unwrap().error.code, "bad_request");
    assert_eq!(snapshot(&hub, "").await.seq, 0, "nothing was stored");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn every_command_s_event_reaches_the_commanding_screen_before_its_ack() {
    // The protocol's promise, checked many times over: a hub that answered before publishing
    // would sometimes send the ack first.
    let hub = start(|_| {}).await;
    let order = create(&hub, "a").await;
    let (mut ws, _) = joined(&hub, "kitchen", None).await;
    for i in 0..300u64 {
        let request_id = format!("rush-{i}");
        send(&mut ws, json!({"type":"order.rush","request_id": request_id,"order_id": order.id,"rush": i % 2 == 0}))
            .await;
        // The order's own event, if it was published after this screen joined.
        let first = loop {
            match recv(&mut ws).await {
                ServerMessage::OrderCreated { .. } => continue,
                other => break other,
            }
        };
        assert!(
            matches!(&first, ServerMessage::OrderUpdated { seq, order } if *seq == i + 2 && order.rush == (i % 2 == 0)),
            "command {i}: {first:?} came first"
        );
        assert_eq!(recv(&mut ws).await, ServerMessage::Ack { request_id, seq: i + 2 });
    }
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn commands_follow_the_transitions_and_a_repeated_request_id_changes_nothing() {
    let hub = start(|_| {}).await;
    let order = create(&hub, "a").await;
    let (mut ws, _) = joined(&hub, "grill", None).await;
    let start = |rid: &str| json!({"type":"order.start","request_id": rid,"order_id": order.id,"station":"grill"});

    let skip = command(&mut ws, json!({"type":"order.complete","request_id":"r1","order_id": order.id})).await;
    assert!(
        matches!(&skip, ServerMessage::Error { code: ErrorCode::Forbidden, request_id: Some(r), .. } if r == "r1"),
        "only expo completes: {skip:?}"
    );
    let skip =
        command(&mut ws, json!({"type":"order.recall","request_id":"r1b","order_id": order.id,"station":"grill"}))
            .await;
    assert!(
        matches!(skip, ServerMessage::Error { code: ErrorCode::InvalidTransition, request_id: Some(r), .. } if r == "r1b")
    );
    let fryer =
        command(&mut ws, json!({"type":"order.bump","request_id":"r2","order_id": order.id,"station":"fryer"})).await;
    assert!(
        matches!(&fryer, ServerMessage::Error { code: ErrorCode::Forbidden, message, .. } if message == "station grill may not bump fryer's items"),
        "{fryer:?}"
    );
    let missing =
        command(&mut ws, json!({"type":"order.rush","request_id":"r3","order_id":"ord_nope","rush":true})).await;
    assert!(matches!(missing, ServerMessage::Error { code: ErrorCode::NotFound, .. }));

    send(&mut ws, start("r4")).await;
    assert!(matches!(
        recv(&mut ws).await,
        ServerMessage::OrderUpdated { seq: 2, order } if order.status == OrderStatus::Preparing
    ));
    assert_eq!(recv(&mut ws).await, ServerMessage::Ack { request_id: "r4".into(), seq: 2 });

    // The same request_id again, even with another action: the first answer, no event.
    let bump = json!({"type":"order.bump","request_id":"r4","order_id": order.id,"station":"grill"});
    assert_eq!(command(&mut ws, bump).await, ServerMessage::Ack { request_id: "r4".into(), seq: 2 });
    let snap = snapshot(&hub, "").await;
    assert_eq!((snap.seq, snap.orders[0].status), (2, OrderStatus::Preparing));

    send(&mut ws, json!({"type":"order.rush","request_id":"r5","order_id": order.id,"rush":true})).await;
    assert!(matches!(recv(&mut ws).await, ServerMessage::OrderUpdated { seq: 3, order } if order.rush));
    assert_eq!(recv(&mut ws).await, ServerMessage::Ack { request_id: "r5".into(), seq: 3 });
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn every_client_gets_every_event_and_the_snapshot_filters_by_station() {
    let hub = start(|_| {}).await;
    let (mut fryer, _) = joined(&hub, "fryer", None).await;
    let burger = create(&hub, "a").await;
    let (_, fries) = post_order(&hub, "b", &order_body("fries-small", 1)).await;
    assert!(matches!(recv(&mut fryer).await, ServerMessage::OrderCreated { order, .. } if order == burger));
    assert!(matches!(recv(&mut fryer).await, ServerMessage::OrderCreated { seq: 2, .. }));
    let ids = |s: Snapshot| s.orders.into_iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(ids(snapshot(&hub, "?station=grill").await), [burger.id.as_str()]);
    assert_eq!(ids(snapshot(&hub, "?station=fryer").await), [fries["order"]["id"].as_str().unwrap().to_string()]);
    assert_eq!(snapshot(&hub, "?station=expo").await.orders.len(), 2);
    let expo = token(&hub, "expo").await;
    let get = |query: &str, token: Option<&str>| {
        let request = reqwest::Client::new().get(hub.http(&format!("/api/v1/orders{query}")));
        let request = match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get("?station=No%20Such", Some(&expo)).await, 400);
    assert_eq!(get("", None).await, 401, "the orders need a station's sign-in");
    assert_eq!(get("", Some("0123456789abcdef0123456789abcdef")).await, 401);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_restart_with_the_same_data_folder_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let on_disk = |s: &mut Settings| {
        s.memory = false;
        s.data = data.clone();
    };
    let hub = start(on_disk).await;
    let order = create(&hub, "key-1").await;
    let (mut ws, _) = joined(&hub, "grill", None).await;
    let start_cmd = json!({"type":"order.start","request_id":"r1","order_id": order.id,"station":"grill"});
    assert_eq!(command(&mut ws, start_cmd.clone()).await, ServerMessage::Ack { request_id: "r1".into(), seq: 2 });
    drop(ws);
    hub.stop().await.unwrap();

    let hub = start(on_disk).await;
    let snap = snapshot(&hub, "").await;
    assert_eq!(snap.seq, 2);
    assert_eq!(snap.orders.len(), 1);
    assert_eq!((snap.orders[0].id.as_str(), snap.orders[0].status), (order.id.as_str(), OrderStatus::Preparing));
    let (again_status, again) = post_order(&hub, "key-1", &order_body("cheeseburger", 1)).await;
    assert_eq!(again_status, 200, "the idempotency key survived");
    assert_eq!(serde_json::from_value::<OrderEnvelope>(again).unwrap().order.id, order.id);
    let (mut ws, seq) = joined(&hub, "grill", Some(0)).await;
    assert_eq!(seq, 2);
    assert!(matches!(recv(&mut ws).await, ServerMessage::OrderCreated { seq: 1, .. }), "the event log survived");
    assert!(matches!(recv(&mut ws).await, ServerMessage::OrderUpdated { seq: 2, .. }));
    assert_eq!(
        command(&mut ws, start_cmd).await,
        ServerMessage::Ack { request_id: "r1".into(), seq: 2 },
        "the request id survived"
    );
    let next = create(&hub, "key-2").await;
    assert_eq!(next.number, order.number + 1);
    assert!(matches!(recv(&mut ws).await, ServerMessage::OrderCreated { seq: 3, .. }));
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_slow_client_gets_resync_and_does_not_hold_up_the_others() {
    // Neither client sends anything after its hello, and on a busy machine the 300 orders can
    // take longer than the default heartbeat timeout: the heartbeat must not end this test.
    let hub = start(|s| {
        s.client_queue = 8;
        s.heartbeat_timeout = Duration::from_secs(600);
    })
    .await;
    let station = "kitchen";
    let slow_token = token(&hub, station).await;
    // A client with a tiny receive buffer that stops reading after its welcome.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(hub.addr).await.unwrap();
    let (mut slow, _) = tokio_tungstenite::client_async(hub.ws_url(), MaybeTlsStream::Plain(stream)).await.unwrap();
    send(&mut slow, json!({"type":"hello","token": slow_token,"station": station,"since": null})).await;
    assert!(matches!(recv(&mut slow).await, ServerMessage::Welcome { .. }));
    let (mut fast, _) = joined(&hub, station, None).await;
    let count = 300u64;
    // The fast client reads while the orders are created.
    let fast_reader = tokio::spawn(async move {
        for expected in 1..=count {
            match recv(&mut fast).await {
                ServerMessage::OrderCreated { seq, .. } => assert_eq!(seq, expected, "the fast client misses nothing"),
                other => panic!("fast client got {other:?}"),
            }
        }
    });

    // Big orders (≈50 KB per event) fill the slow client's socket buffers quickly.
    let line = json!({"menu_item_id":"cheeseburger","quantity":1,"special_instructions":"x".repeat(250)});
    let big = json!({"items": vec![line; 100], "source": "counter"});
    for i in 0..count {
        let (status, _) = post_order(&hub, &format!("big-{i}"), &big).await;
        assert_eq!(status, 201);
    }
    tokio::time::timeout(WAIT, fast_reader).await.expect("the fast client keeps up").unwrap();
    // Now the slow client reads: some events, then a resync, then events continue after it.
    let mut resync = None;
    let mut last = 0;
    while resync.is_none() {
        match recv(&mut slow).await {
            ServerMessage::Resync { seq } => resync = Some(seq),
            ServerMessage::OrderCreated { seq, .. } => last = seq,
            other => panic!("slow client got {other:?}"),
        }
    }
    let resync = resync.unwrap();
    assert!(resync > last && resync <= count, "resync {resync} after {last}");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_silent_client_is_dropped_after_the_heartbeat_timeout_and_a_live_one_stays() {
    const HEARTBEAT: Duration = Duration::from_millis(600);
    let hub = start(|s| s.heartbeat_timeout = HEARTBEAT).await;
    let silent_token = token(&hub, "grill").await;
    let mut silent = connect(&hub).await;
    // The hub hears the silent client last when its hello arrives, which is after this instant:
    // its drop cannot come sooner than HEARTBEAT after it, however slow the machine is.
    let before_last_frame = Instant::now();
    send(&mut silent, json!({"type":"hello","token": silent_token,"station":"grill","since": null})).await;
    assert!(matches!(recv(&mut silent).await, ServerMessage::Welcome { .. }));
    let (mut live, _) = joined(&hub, "grill", None).await;
    // `close_code` reads (and ignores) the hub's pings but never answers them.
    let silent_dropped = async {
        assert_eq!(close_code(&mut silent).await, 4002);
        before_last_frame.elapsed()
    };
    // A ping every 100 ms leaves the live client 500 ms of slack on a busy machine.
    let live_answers = async {
        for ts in 0..10 {
            send(&mut live, json!({"type":"ping","ts": ts})).await;
            assert_eq!(recv(&mut live).await, ServerMessage::Pong { ts });
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (dropped_after, ()) = tokio::join!(silent_dropped, live_answers);
    assert!(dropped_after >= HEARTBEAT, "dropped {dropped_after:?} after its last frame");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_malformed_frame_gets_bad_request_and_the_connection_stays_open() {
    let hub = start(|_| {}).await;
    let (mut ws, _) = joined(&hub, "grill", None).await;
    for frame in ["{nope", r#"{"type":"order.explode"}"#, r#"{"type":"order.rush","request_id":"r9"}"#] {
        ws.send(Message::text(frame)).await.unwrap();
        match recv(&mut ws).await {
            ServerMessage::Error { code: ErrorCode::BadRequest, request_id, .. } => {
                assert_eq!(request_id.is_some(), frame.contains("r9"), "{frame}");
            }
            other => panic!("expected bad_request for {frame}, got {other:?}"),
        }
    }
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert!(matches!(recv(&mut ws).await, ServerMessage::Error { code: ErrorCode::BadRequest, .. }));
    send(&mut ws, json!({"type":"ping","ts": 7})).await;
    assert_eq!(recv(&mut ws).await, ServerMessage::Pong { ts: 7 });
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_frame_over_64_kib_closes_the_connection_with_1009() {
    let hub = start(|_| {}).await;
    let (mut ws, _) = joined(&hub, "grill", None).await;
    let big = format!(r#"{{"type":"ping","ts":1,"pad":"{}"}}"#, "x".repeat(65 * 1024));
    ws.send(Message::text(big)).await.unwrap();
    assert_eq!(close_code(&mut ws).await, 1009);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_with_clients_connected_finishes_within_10_s_and_they_get_1001() {
    let hub = start(|_| {}).await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(joined(&hub, "grill", None).await.0);
    }
    let mut unauthenticated = connect(&hub).await;
    tokio::time::timeout(SHUTDOWN_GRACE, hub.stop()).await.expect("stops within 10 s").unwrap();
    for ws in &mut clients {
        assert_eq!(close_code(ws).await, 1001);
    }
    assert_eq!(close_code(&mut unauthenticated).await, 1001);
}

#[tokio::test]
async fn update_load_toggles_rush_round_robin_at_the_asked_rate_in_dev_mode_only() {
    let off = start(production).await;
    let status = reqwest::Client::new()
        .post(off.http("/api/v1/dev/update-load"))
        .json(&json!({"per_second": 10, "seconds": 1}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 404, "dev endpoints are off outside demo mode");
    let status = reqwest::get(off.http("/api/v1/dev/published")).await.unwrap().status();
    assert_eq!(status.as_u16(), 404, "no publish log outside demo mode");
    off.stop().await.unwrap();

    let hub = start(|_| {}).await;
    let load = |body: Value| {
        let url = hub.http("/api/v1/dev/update-load");
        async move {
            let r = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(load(json!({"per_second": 10, "seconds": 1})).await.0, 409, "no active orders yet");
    assert_eq!(load(json!({"per_second": 0, "seconds": 1})).await.0, 400);
    assert_eq!(load(json!({"per_second": 10, "seconds": 1, "extra": 1})).await.0, 400);
    let (a, b) = (create(&hub, "a").await, create(&hub, "b").await);
    let (mut ws, _) = joined(&hub, "expo", None).await;
    let (status, report) = load(json!({"per_second": 40, "seconds": 1})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["updates"], 40, "{report}");
    assert_eq!(report["orders"], 2);
    assert!(report["seconds"].as_f64().unwrap() >= 0.95, "paced over the second: {report}");
    let mut seen = Vec::new();
    for _ in 0..40 {
        match recv(&mut ws).await {
            ServerMessage::OrderUpdated { order, .. } => seen.push((order.id, order.rush)),
            other => panic!("expected order.updated, got {other:?}"),
        }
    }
    // a on, b on, a off, b off, …
    for (k, (id, rush)) in seen.iter().enumerate() {
        assert_eq!(id, if k % 2 == 0 { &a.id } else { &b.id }, "round robin at {k}");
        assert_eq!(*rush, (k / 2) % 2 == 0, "toggled at {k}");
    }
    // A dev hub notes when it published each event: the two orders, then the 40 updates.
    let log: Value = reqwest::get(hub.http("/api/v1/dev/published")).await.unwrap().json().await.unwrap();
    let log = log["published"].as_array().unwrap();
    let seqs: Vec<u64> = log.iter().map(|p| p["seq"].as_u64().unwrap()).collect();
    let times: Vec<u64> = log.iter().map(|p| p["at_unix_ns"].as_u64().unwrap()).collect();
    assert!(seqs.len() >= 42 && seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(times.windows(2).all(|w| w[0] <= w[1]) && times[0] > 0, "{times:?}");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let hub = start(|s| {
        production(s);
        s.allow_origins = vec!["http://kiosk.local".into()];
    })
    .await;
    let client = reqwest::Client::new();
    let allowed = client.get(hub.http("/api/v1/menu")).header("Origin", "http://kiosk.local").send().await.unwrap();
    assert_eq!(allowed.headers().get("access-control-allow-origin").unwrap(), "http://kiosk.local");
    let other = client.get(hub.http("/api/v1/menu")).header("Origin", "http://evil.example").send().await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    hub.stop().await.unwrap();

    let closed = start(production).await;
    let response = client.get(closed.http("/api/v1/menu")).header("Origin", "http://kiosk.local").send().await.unwrap();
    assert!(response.headers().get("access-control-allow-origin").is_none(), "no CORS without configuration");
    closed.stop().await.unwrap();
}

/// `cargo test -p restaurant-hub --release -- --ignored --nocapture broadcast_throughput`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn broadcast_throughput() {
    const CLIENTS: usize = 50;
    const EVENTS: u64 = 2000;
    const POSTERS: u64 = 8;
    for (label, on_disk) in [("in-memory store", false), ("durable file store", true)] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_path_buf();
        let hub = start(|s| {
            s.memory = !on_disk;
            s.data = data;
        })
        .await;
        let mut readers = tokio::task::JoinSet::new();
        for _ in 0..CLIENTS {
            let (mut ws, _) = joined(&hub, "kitchen", None).await;
            readers.spawn(async move {
                let mut got = 0;
                while got < EVENTS {
                    if let ServerMessage::OrderCreated { .. } = recv(&mut ws).await {
                        got += 1;
                    }
                }
                Instant::now()
            });
        }
        let started = Instant::now();
        let mut posters = tokio::task::JoinSet::new();
        for p in 0..POSTERS {
            let url = hub.http("/api/v1/orders");
            posters.spawn(async move {
                let client = reqwest::Client::new();
                for i in (p..EVENTS).step_by(POSTERS as usize) {
                    let r = client
                        .post(&url)
                        .header("Idempotency-Key", format!("k{i}"))
                        .json(&order_body("cheeseburger", 1))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 201);
                }
            });
        }
        posters.join_all().await;
        let last = readers.join_all().await.into_iter().max().unwrap();
        let secs = last.duration_since(started).as_secs_f64();
        println!(
            "broadcast_throughput [{label}]: {EVENTS} events to {CLIENTS} clients in {secs:.2} s = {:.0} events/s ({:.0} frames/s delivered)",
            EVENTS as f64 / secs,
            (EVENTS * CLIENTS as u64) as f64 / secs
        );
        hub.stop().await.unwrap();
    }
}
