//! The abuse suite: each limit of the hub attempted against the real hub (in this process, or the
//! hub binary where a signal or a crash is the point), refused with its documented status or
//! frame, and nothing acknowledged lost.

mod common;

use common::{WAIT, Ws, close_code, connect, joined, recv, recv_text, send};

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use restaurant_hub::{RunningHub, Settings};
use restaurant_protocol::{ApiError, MAX_WS_FRAME_BYTES, Order, OrderEnvelope, ServerMessage, Snapshot, close};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;

/// The hub settings of every in-process test, built in one place: demo mode, so orders come from
/// the one demo device (the doors themselves are abuse_auth.rs's subject) and the limits apply as
/// in production.
fn settings(adjust: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings { memory: true, dist: "/nonexistent-dist".into(), ..Settings::demo() };
    adjust(&mut s);
    s
}

async fn start(adjust: impl FnOnce(&mut Settings)) -> RunningHub {
    RunningHub::start(settings(adjust)).await.expect("hub starts")
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

fn order_body(item: &str) -> Value {
    json!({"items": [{"menu_item_id": item, "quantity": 1}], "source": "kiosk"})
}

/// An answer: status, `Retry-After`, JSON body.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

impl Answer {
    fn order(&self) -> Order {
        serde_json::from_value::<OrderEnvelope>(self.body.clone()).expect("an order").order
    }

    fn error(&self) -> ApiError {
        serde_json::from_value(self.body.clone()).expect("an error body")
    }
}

async fn post_order(base: &str, key: &str, body: &Value) -> Answer {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/orders"))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("POST /api/v1/orders");
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    Answer { status, retry_after, body: response.json().await.expect("JSON answer") }
}

async fn create(hub: &RunningHub, key: &str) -> Order {
    let answer = post_order(&hub.http(""), key, &order_body("cheeseburger")).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.order()
}

async fn snapshot_at(base: &str) -> Snapshot {
    let client = reqwest::Client::new();
    let sign_in = client.post(format!("{base}/api/v1/auth/pin")).json(&json!({"station": "expo", "pin": "1234"}));
    let token: Value = sign_in.send().await.expect("sign-in").json().await.expect("a token");
    let response = client
        .get(format!("{base}/api/v1/orders"))
        .bearer_auth(token["token"].as_str().expect("a token"))
        .send()
        .await
        .expect("GET /api/v1/orders");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("a snapshot")
}

async fn snapshot(hub: &RunningHub) -> Snapshot {
    snapshot_at(&hub.http("")).await
}

/// The snapshot holds exactly these orders, unchanged.
async fn assert_intact(hub: &RunningHub, orders: &[Order]) {
    assert_eq!(snapshot(hub).await.orders, orders, "every acknowledged order is there, unchanged");
}

// ---------------------------------------------------------------------------------------------
// WebSocket helpers

/// Sends a command and returns the event it produced (frame length and message), then its ack.
async fn command(ws: &mut Ws, frame: Value) -> Option<(usize, ServerMessage)> {
    send(ws, frame).await;
    let mut event = None;
    loop {
        match recv_text(ws).await {
            (_, ServerMessage::Ack { .. }) => return event,
            (_, m @ ServerMessage::Error { .. }) => panic!("command refused: {m:?}"),
            other => event = Some(other),
        }
    }
}

/// Sends `order.<kind>` (start, bump, complete, void) as the kitchen, for every station.
async fn kitchen(ws: &mut Ws, request_id: &str, order_id: &str, kind: &str) {
    let frame = json!({"type": format!("order.{kind}"), "request_id": request_id, "order_id": order_id,
        "station": "kitchen", "reason": "customer left"});
    command(ws, frame).await;
}

// ---------------------------------------------------------------------------------------------
// Order creation

#[tokio::test]
async fn orders_over_the_rate_get_429_with_retry_after_and_a_replay_still_gets_its_order() {
    let hub = start(|s| s.limits.order_rate = 3).await;
    let placed = vec![create(&hub, "a").await, create(&hub, "b").await, create(&hub, "c").await];

    let refused = post_order(&hub.http(""), "d", &order_body("fries-small")).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.error().error.code, "too_many_requests");
    assert!(refused.error().error.message.contains("3 new orders a minute"), "{}", refused.body);
    let wait = refused.retry_after.expect("Retry-After");
    assert!((1..=20).contains(&wait), "one order every 20 s comes back: Retry-After {wait}");

    // The kiosk retrying an order the hub already took gets it back, limit or not.
    let replay = post_order(&hub.http(""), "b", &order_body("cheeseburger")).await;
    assert_eq!((replay.status, replay.order()), (200, placed[1].clone()));
    // A refused order was not stored: the same key is still free.
    assert_intact(&hub, &placed).await;
    assert_eq!(post_order(&hub.http(""), "d", &order_body("fries-small")).await.status, 429);

    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_full_kitchen_gets_503_with_retry_after_until_an_order_is_finished() {
    let hub = start(|s| s.limits.max_active_orders = 2).await;
    let first = create(&hub, "a").await;
    let second = create(&hub, "b").await;

    let refused = post_order(&hub.http(""), "c", &order_body("cola")).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.error().error.code, "unavailable");
    assert!(refused.error().error.message.contains("2 active orders"), "{}", refused.body);
    assert_eq!(refused.retry_after, Some(30));
    let replay = post_order(&hub.http(""), "a", &order_body("cheeseburger")).await;
    assert_eq!((replay.status, replay.order()), (200, first.clone()), "a replay is never refused");
    assert_intact(&hub, &[first.clone(), second.clone()]).await;

    // Cancelled (or completed) orders are not active: the kiosk's retry is taken.
    let (mut ws, _) = joined(&hub, "kitchen", None).await;
    kitchen(&mut ws, "r1", &first.id, "void").await;
    let third = post_order(&hub.http(""), "c", &order_body("cola")).await;
    assert_eq!(third.status, 201, "{}", third.body);
    assert_intact(&hub, &[second, third.order()]).await;
    hub.stop().await.unwrap();
}

/// An order of `lines` lines whose special instructions total `chars` characters (≤ 500 a line).
fn big_order(lines: usize, chars: usize) -> Value {
    let items: Vec<Value> = (0..lines)
        .map(|i| {
            let n = (chars / lines + usize::from(i < chars % lines)).min(500);
            json!({"menu_item_id": "cheeseburger", "quantity": 1, "special_instructions": "x".repeat(n)})
        })
        .collect();
    json!({"items": items, "source": "kiosk"})
}

/// `"… would be N bytes, D over …"` → D.
fn bytes_over(message: &str) -> usize {
    let (_, rest) = message.split_once(" bytes, ").expect("the message says the size");
    rest.split_whitespace().next().and_then(|d| d.parse().ok()).expect("and by how much it is over")
}

#[tokio::test]
async fn an_order_whose_events_would_not_fit_a_frame_gets_413_and_nothing_is_stored() {
    let hub = start(|_| {}).await;
    let before = create(&hub, "before").await;
    let (mut ws, _) = joined(&hub, "kitchen", None).await;
    let seq_before = snapshot(&hub).await.seq;

    // A legal body (under 64 KiB) whose order.created would be far over the frame limit.
    let lines = 100;
    let chars = 100 * 500;
    let body = big_order(lines, chars);
    assert!(body.to_string().len() < restaurant_protocol::MAX_BODY_BYTES);
    let refused = post_order(&hub.http(""), "big", &body).await;
    assert_eq!(refused.status, 413, "{}", refused.body);
    assert_eq!(refused.error().error.code, "order_too_large");
    let over = bytes_over(&refused.error().error.message);
    assert!(over > 1000, "{}", refused.body);

    // One character more than fits: refused, 1 byte over. Exactly what fits: accepted.
    let refused = post_order(&hub.http(""), "big", &big_order(lines, chars - over + 1)).await;
    assert_eq!(refused.status, 413, "{}", refused.body);
    assert_eq!(bytes_over(&refused.error().error.message), 1);
    assert_eq!(snapshot(&hub).await.seq, seq_before, "nothing stored, no event");
    let largest = post_order(&hub.http(""), "big", &big_order(lines, chars - over)).await;
    assert_eq!(largest.status, 201, "{}", largest.body);
    let largest = largest.order();

    // Its events on the feed fit the frame limit, also the largest kind: order.updated with every
    // item started, rushed, then voided with the longest reason in 4-byte characters.
    let (len, created) = recv_text(&mut ws).await;
    assert!(matches!(created, ServerMessage::OrderCreated { ref order, .. } if *order == largest));
    assert!(len <= MAX_WS_FRAME_BYTES, "order.created is {len} bytes");
    kitchen(&mut ws, "r1", &largest.id, "start").await;
    let rush = json!({"type": "order.rush", "request_id": "r2", "order_id": largest.id, "rush": true});
    let (len, updated) = command(&mut ws, rush).await.expect("an order.updated");
    assert!(matches!(updated, ServerMessage::OrderUpdated { ref order, .. } if order.rush));
    assert!(len <= MAX_WS_FRAME_BYTES, "order.updated is {len} bytes");
    let reason = "🍔".repeat(restaurant_protocol::kitchen::MAX_VOID_REASON_CHARS);
    let void = json!({"type": "order.void", "request_id": "r3", "order_id": largest.id, "reason": reason});
    let (len, voided) = command(&mut ws, void).await.expect("an order.updated");
    assert!(matches!(voided, ServerMessage::OrderUpdated { ref order, .. } if order.void.is_some()));
    assert!(len <= MAX_WS_FRAME_BYTES, "the voided order.updated is {len} bytes");
    // A reconnecting client gets the same frames replayed.
    let (mut replaying, _) = joined(&hub, "kitchen", Some(seq_before)).await;
    for _ in 0..4 {
        let (len, _) = recv_text(&mut replaying).await;
        assert!(len <= MAX_WS_FRAME_BYTES, "replayed frame of {len} bytes");
    }

    let after = create(&hub, "after").await;
    let snap = snapshot(&hub).await;
    let ids: Vec<&str> = snap.orders.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, [before.id.as_str(), after.id.as_str()], "the voided order left");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn an_oversized_request_id_is_not_echoed_so_the_error_frame_stays_small() {
    let hub = start(|_| {}).await;
    let (mut ws, _) = joined(&hub, "kitchen", None).await;
    let request_id = "r".repeat(MAX_WS_FRAME_BYTES - 100);
    send(&mut ws, json!({"type": "order.rush", "request_id": request_id, "order_id": 7})).await;
    match recv_text(&mut ws).await {
        (len, ServerMessage::Error { request_id: None, .. }) => assert!(len < 1024, "{len} bytes"),
        other => panic!("expected a bad_request without request_id, got {other:?}"),
    }
    hub.stop().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// The WebSocket

#[tokio::test]
async fn connections_over_the_cap_get_503_before_the_upgrade_and_a_closed_one_frees_its_place() {
    let hub = start(|s| s.limits.max_connections = 2).await;
    let order = create(&hub, "a").await;
    let (mut first, _) = joined(&hub, "kitchen", None).await;
    let _second = connect(&hub).await;
    match tokio_tungstenite::connect_async(hub.ws_url()).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 503);
            assert!(response.headers().contains_key("retry-after"));
            let body = response.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default();
            assert!(body.contains("maximum of 2 WebSocket connections"), "{body}");
        }
        Ok(_) => panic!("a third connection was accepted"),
        Err(e) => panic!("expected 503, got {e}"),
    }
    // The connections already open keep working.
    send(&mut first, json!({"type": "ping", "ts": 1})).await;
    assert_eq!(recv(&mut first).await, ServerMessage::Pong { ts: 1 });
    first.close(None).await.unwrap();
    drop(first);
    let deadline = Instant::now() + WAIT;
    loop {
        match tokio_tungstenite::connect_async(hub.ws_url()).await {
            Ok(_) => break,
            Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("the place of a closed connection was not given back: {e}"),
        }
    }
    assert_intact(&hub, &[order]).await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_connection_without_hello_is_closed_4003_at_the_deadline_and_one_with_hello_stays() {
    let hub = start(|s| s.limits.hello_timeout = Duration::from_millis(300)).await;
    let (mut staff, _) = joined(&hub, "kitchen", None).await;
    let mut kiosk = connect(&hub).await;
    send(&mut kiosk, json!({"type": "hello", "token": "", "station": "kiosk", "since": null})).await;
    assert_eq!(recv(&mut kiosk).await, ServerMessage::Welcome { seq: 0 });
    assert!(matches!(recv(&mut kiosk).await, ServerMessage::MenuUpdated { .. }));

    let started = Instant::now();
    let mut silent = connect(&hub).await;
    assert_eq!(close_code(&mut silent).await, close::HELLO_TIMEOUT);
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(250) && waited < Duration::from_secs(3), "closed after {waited:?}");
    // Frames other than hello do not count.
    let mut chatty = connect(&hub).await;
    for ts in 0..3 {
        send(&mut chatty, json!({"type": "ping", "ts": ts})).await;
        tokio::time::sleep(Duration::from_millis(80)).await;
    }
    assert_eq!(close_code(&mut chatty).await, close::HELLO_TIMEOUT);

    for ws in [&mut staff, &mut kiosk] {
        send(ws, json!({"type": "ping", "ts": 9})).await;
        assert_eq!(recv(ws).await, ServerMessage::Pong { ts: 9 }, "a joined connection outlives the deadline");
    }
    hub.stop().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Storage

#[tokio::test]
async fn the_replay_window_is_bounded_in_bytes_and_an_older_since_gets_resync() {
    // An order.created of one cheeseburger is about 620 bytes: 1 500 bytes hold two.
    let hub = start(|s| s.limits.replay_bytes = 1_500).await;
    let mut orders = Vec::new();
    for i in 0..6 {
        orders.push(create(&hub, &format!("k{i}")).await);
    }
    let (mut ws, seq) = joined(&hub, "kitchen", Some(1)).await;
    assert_eq!((seq, recv(&mut ws).await), (6, ServerMessage::Resync { seq: 6 }));
    let (mut ws, _) = joined(&hub, "kitchen", Some(4)).await;
    for expected in &orders[4..] {
        assert!(matches!(recv(&mut ws).await, ServerMessage::OrderCreated { ref order, .. } if order == expected));
    }
    assert_intact(&hub, &orders).await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn finished_orders_older_than_the_retention_are_removed_at_start_and_seq_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let on_disk = |d: &Path| settings(|s| (s.memory, s.data) = (false, d.to_path_buf()));
    let hub = RunningHub::start(on_disk(&data)).await.unwrap();
    let done = create(&hub, "done").await;
    let active = create(&hub, "active").await;
    let (mut ws, _) = joined(&hub, "kitchen", None).await;
    for (i, kind) in ["start", "bump", "complete"].into_iter().enumerate() {
        kitchen(&mut ws, &format!("r{i}"), &done.id, kind).await;
    }
    drop(ws);
    let seq = snapshot(&hub).await.seq;
    hub.stop().await.unwrap();

    // Restarted keeping finished orders for 1 ms: the completed order goes, the active one stays.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let mut retain_briefly = on_disk(&data);
    retain_briefly.limits.retain_finished = Duration::from_millis(1);
    let hub = RunningHub::start(retain_briefly).await.unwrap();
    let snap = snapshot(&hub).await;
    assert_eq!((snap.seq, snap.orders), (seq, vec![active.clone()]));
    // Its events left the replay window: a client from before gets resync.
    let (mut ws, _) = joined(&hub, "kitchen", Some(1)).await;
    assert_eq!(recv(&mut ws).await, ServerMessage::Resync { seq });
    // Its idempotency key went with it; seq goes on from where it was.
    let again = create(&hub, "done").await;
    assert_ne!(again.id, done.id);
    assert_eq!(snapshot(&hub).await.seq, seq + 1);
    drop(ws);
    hub.stop().await.unwrap();

    let db = rusqlite::Connection::open(data.join("hub.sqlite3")).unwrap();
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM orders"), 2, "the active order and the new one");
    assert_eq!(count(&format!("SELECT COUNT(*) FROM orders WHERE id = '{}'", done.id)), 0);
    assert_eq!(count(&format!("SELECT COUNT(*) FROM idempotency WHERE order_id = '{}'", done.id)), 0);
    assert_eq!(count(&format!("SELECT COUNT(*) FROM events WHERE body LIKE '%{}%'", done.id)), 0);
}

// ---------------------------------------------------------------------------------------------
// Health, signals, crashes: the hub binary

#[tokio::test]
async fn healthz_answers_ok_while_the_store_answers() {
    let hub = start(|_| {}).await;
    let response = reqwest::get(hub.http("/healthz")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
    hub.stop().await.unwrap();
}

/// The hub binary (built by cargo for this package's tests) on a free port.
struct HubProcess {
    child: Child,
    base: String,
}

impl HubProcess {
    /// Its command line, in one place: a data folder (or memory) and the test's extra flags.
    fn start(data: Option<&Path>, extra: &[&str]) -> HubProcess {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_restaurant-hub"));
        cmd.args(["--demo", "--host", "127.0.0.1", "--port", &port.to_string(), "--dist", "/nonexistent-dist"]);
        match data {
            Some(dir) => cmd.arg("--data").arg(dir),
            None => cmd.arg("--memory"),
        };
        cmd.args(extra).env("RUST_LOG", "restaurant_hub=info").stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = cmd.spawn().expect("the hub binary starts");
        HubProcess { child, base: format!("http://127.0.0.1:{port}") }
    }

    async fn ready(&mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(r) = reqwest::get(format!("{}/healthz", self.base)).await
                && r.status().is_success()
            {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the hub exited before it served: {status}");
            }
            assert!(Instant::now() < deadline, "the hub did not answer /healthz within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the process to end; its exit status and everything it wrote.
    fn wait(self, within: Duration) -> (std::process::ExitStatus, String) {
        let mut child = self.child;
        let deadline = Instant::now() + within;
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the hub did not exit within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        (output.status, text)
    }
}

#[tokio::test]
async fn sighup_shuts_the_hub_down_cleanly_like_sigterm() {
    let mut hub = HubProcess::start(None, &[]);
    hub.ready().await;
    let pid = hub.child.id().to_string();
    let sent = Command::new("kill").args(["-HUP", &pid]).status().expect("kill runs");
    assert!(sent.success());
    let (status, log) = hub.wait(restaurant_hub::SHUTDOWN_GRACE + Duration::from_secs(5));
    assert!(status.success(), "exit status {status}; log:\n{log}");
    assert!(log.contains("SIGHUP") && log.contains("stopped"), "logged:\n{log}");
}

#[tokio::test]
async fn kill_9_after_a_201_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut hub = HubProcess::start(Some(&data), &[]);
    hub.ready().await;
    let placed = post_order(&hub.base, "crash-1", &order_body("cheeseburger")).await;
    assert_eq!(placed.status, 201, "{}", placed.body);
    hub.child.kill().expect("SIGKILL"); // no shutdown, no flush
    let _ = hub.wait(WAIT);

    let mut hub = HubProcess::start(Some(&data), &[]);
    hub.ready().await;
    assert_eq!(snapshot_at(&hub.base).await.orders, [placed.order()]);
    let replay = post_order(&hub.base, "crash-1", &order_body("cheeseburger")).await;
    assert_eq!((replay.status, replay.order()), (200, placed.order()), "the kiosk's retry gets the same order");
    hub.child.kill().unwrap();
    let _ = hub.wait(WAIT);
}
