//! The hub under a whole restaurant, run by `cargo xtask bench` against its demo hub on loopback:
//! `N` kitchen screens (WebSockets signed in as `kitchen`) watch while orders are placed over
//! HTTP at 5 a second and each is bumped and then completed from another screen (10 commands a
//! second). Every event must reach every screen, in order; the figures are how long after the
//! order's POST (or the command's send) each screen read it, the POST's answer time and the
//! command's ack time. Prints `BENCH {json}` lines.
//!
//! `HUB_BENCH_SOCKETS=50,200` and `HUB_BENCH_SECONDS=20` change the runs.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use restaurant_e2e::{hub, percentile, station_token};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const ORDERS_PER_SECOND: u32 = 5;
/// The marker in every bench order's notes: `fanout-{run}-{k}`.
const MARKER: &str = "fanout-";

fn ws_url() -> String {
    format!("{}/ws", hub().replacen("http://", "ws://", 1).replacen("https://", "wss://", 1))
}

/// A kitchen screen: connected, said hello, got its welcome.
async fn screen(token: &str) -> Socket {
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url()).await.expect("WebSocket to the hub");
    let hello = json!({"type": "hello", "token": token, "station": "kitchen", "since": null});
    ws.send(Message::text(hello.to_string())).await.expect("hello sent");
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) if text.contains("\"welcome\"") => return ws,
            Some(Ok(Message::Text(text))) if text.contains("auth_failed") => panic!("hello refused: {text}"),
            Some(Ok(_)) => {}
            other => panic!("the hub closed a screen before its welcome: {other:?}"),
        }
    }
}

/// Answers the hub's heartbeat, as a screen must to stay connected.
async fn answer_ping(ws: &mut Socket, text: &str) {
    if text.starts_with("{\"type\":\"ping\"") {
        let ts = serde_json::from_str::<Value>(text).ok().and_then(|v| v["ts"].as_i64()).unwrap_or(0);
        let _ = ws.send(Message::text(json!({"type": "pong", "ts": ts}).to_string())).await;
    }
}

/// The bench order `k` of `run` in a frame, if the frame is one (cheap: no JSON parsing, so the
/// screens cost the machine little next to the hub).
fn order_mark(text: &str, run: &str) -> Option<usize> {
    let at = text.find(MARKER)? + MARKER.len();
    let rest = text[at..].strip_prefix(run)?.strip_prefix('-')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse().ok()
}

/// The event's `seq` (the hub numbers every event it sends on the feed).
fn event_seq(text: &str) -> Option<u64> {
    let at = text.find("\"seq\":")? + 6;
    let digits = text[at..].bytes().take_while(u8::is_ascii_digit).count();
    text[at..at + digits].parse().ok()
}

/// What one screen read: for each bench order, each of its events' `seq` and arrival time, in
/// arrival order (the hub's pings are answered on the way).
async fn watch(mut ws: Socket, run: String, mut stop: oneshot::Receiver<()>) -> HashMap<usize, Vec<(u64, Instant)>> {
    let mut seen: HashMap<usize, Vec<(u64, Instant)>> = HashMap::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let at = Instant::now();
                    if let Some(k) = order_mark(&text, &run) {
                        seen.entry(k).or_default().push((event_seq(&text).unwrap_or(0), at));
                    } else {
                        answer_ping(&mut ws, &text).await;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("a screen lost its socket: {other:?}"),
            },
        }
    }
    let _ = ws.close(None).await;
    seen
}

/// The commanding screen: sends each command it is given and reports when its ack came.
async fn command_screen(
    mut ws: Socket,
    mut commands: mpsc::UnboundedReceiver<(String, Value)>,
    acks: mpsc::UnboundedSender<(String, Instant)>,
) {
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some((_, frame)) => ws.send(Message::text(frame.to_string())).await.expect("command sent"),
                None => break,
            },
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let at = Instant::now();
                    if text.starts_with("{\"type\":\"ack\"") || text.starts_with("{\"type\":\"error\"") {
                        let v: Value = serde_json::from_str(&text).expect("JSON from the hub");
                        assert_eq!(v["type"], "ack", "a command was refused: {text}");
                        let _ = acks.send((v["request_id"].as_str().unwrap_or_default().to_string(), at));
                    } else {
                        answer_ping(&mut ws, &text).await;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the commanding screen lost its socket: {other:?}"),
            },
        }
    }
    let _ = ws.close(None).await;
}

fn percentiles(mut ms: Vec<f64>) -> Value {
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| percentile(&ms, p);
    json!({"n": ms.len(), "p50_ms": at(0.5), "p99_ms": at(0.99), "p999_ms": at(0.999), "max_ms": at(1.0)})
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run_with(sockets: usize, seconds: u32) {
    let token = station_token("kitchen").await;
    let run = format!("{}{}", std::process::id(), sockets);
    let mut stops = Vec::new();
    let mut watchers = Vec::new();
    for _ in 0..sockets {
        let ws = screen(&token).await;
        let (stop, stopped) = oneshot::channel();
        stops.push(stop);
        watchers.push(tokio::spawn(watch(ws, run.clone(), stopped)));
    }
    let (command_tx, command_rx) = mpsc::unbounded_channel();
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let commander = tokio::spawn(command_screen(screen(&token).await, command_rx, ack_tx));
    // Kiosks keep their connection, as browsers do.
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("HTTP client");
    let orders = (ORDERS_PER_SECOND * seconds) as usize;
    let period = Duration::from_secs_f64(1.0 / f64::from(ORDERS_PER_SECOND));
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    // Per order: its id, and when each of its three events was caused (POST, bump, complete).
    let mut ids: Vec<String> = Vec::with_capacity(orders);
    let mut caused: Vec<[Option<Instant>; 3]> = vec![[None; 3]; orders];
    let mut sent_commands: HashMap<String, Instant> = HashMap::new();
    let mut post_ms = Vec::with_capacity(orders);
    let started = Instant::now();
    let command = |kind: &str, k: usize, id: &str, extra: Value| {
        let request_id = format!("fanout-{run}-{k}-{kind}");
        let mut frame = json!({"type": kind, "request_id": request_id, "order_id": id});
        if let (Some(frame), Value::Object(extra)) = (frame.as_object_mut(), extra) {
            frame.extend(extra);
        }
        (request_id, frame)
    };
    for tick in 0..orders + 2 {
        ticks.tick().await;
        if tick < orders {
            let body = json!({
                "items": [{"menu_item_id": "cheeseburger", "quantity": 1 + tick % 3}, {"menu_item_id": "fries-large", "quantity": 1}],
                "source": "counter",
                "notes": format!("{MARKER}{run}-{tick}"),
            });
            let sent = Instant::now();
            let response = http
                .post(format!("{}/api/v1/orders", hub()))
                .header("Idempotency-Key", format!("fanout-{run}-{tick}"))
                .json(&body)
                .send()
                .await
                .expect("hub reachable");
            post_ms.push(millis(sent.elapsed()));
            assert_eq!(response.status().as_u16(), 201, "order {tick} refused");
            let v: Value = response.json().await.expect("the order");
            ids.push(v["order"]["id"].as_str().expect("an order id").to_string());
            caused[tick][0] = Some(sent);
        }
        // The order placed one tick ago is bumped, the one before it completed.
        for (back, kind, extra) in
            [(1, "order.bump", json!({"station": "kitchen"})), (2, "order.complete", json!({"force": false}))]
        {
            let Some(k) = tick.checked_sub(back).filter(|k| *k < orders) else { continue };
            let (request_id, frame) = command(kind, k, &ids[k], extra);
            let now = Instant::now();
            caused[k][back] = Some(now);
            sent_commands.insert(request_id.clone(), now);
            command_tx.send((request_id, frame)).expect("commanding screen running");
        }
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(command_tx);
    commander.await.expect("commanding screen");
    let mut ack_ms = Vec::new();
    while let Ok((request_id, at)) = ack_rx.try_recv() {
        if let Some(sent) = sent_commands.remove(&request_id) {
            ack_ms.push(millis(at - sent));
        }
    }
    for stop in stops {
        let _ = stop.send(());
    }
    let (mut delivery_ms, mut missing, mut unexpected, mut out_of_order) = (Vec::new(), 0usize, 0usize, 0usize);
    for watcher in watchers {
        let seen = watcher.await.expect("screen");
        for (k, causes) in caused.iter().enumerate() {
            let mut arrived = seen.get(&k).cloned().unwrap_or_default();
            missing += 3usize.saturating_sub(arrived.len());
            unexpected += arrived.len().saturating_sub(3);
            // The hub numbers its events: a screen must read them in that order.
            out_of_order += arrived.windows(2).filter(|w| w[1].0 <= w[0].0).count();
            // An order's three events are caused in turn (POST, bump, complete, each sent a tick
            // after the one before), so in seq order they are its events in that order.
            arrived.sort_by_key(|(seq, _)| *seq);
            for (cause, (_, at)) in causes.iter().zip(&arrived) {
                if let Some(cause) = cause {
                    delivery_ms.push(millis(at.saturating_duration_since(*cause)));
                }
            }
        }
    }
    let line = json!({
        "bench": "hub_fanout",
        "sockets": sockets,
        "seconds": elapsed.as_secs_f64(),
        "orders": orders,
        "commands": orders * 2,
        "deliveries_expected": orders * 3 * sockets,
        "missing": missing,
        "unexpected": unexpected,
        "out_of_order": out_of_order,
        "unanswered_commands": sent_commands.len(),
        "delivery": percentiles(delivery_ms),
        "post": percentiles(post_ms),
        "ack": percentiles(ack_ms),
    });
    println!("BENCH {line}");
}

#[tokio::main]
async fn main() {
    let sockets: Vec<usize> = std::env::var("HUB_BENCH_SOCKETS")
        .unwrap_or_else(|_| "50,200".into())
        .split(',')
        .map(|n| n.trim().parse().expect("HUB_BENCH_SOCKETS: numbers"))
        .collect();
    let seconds: u32 = std::env::var("HUB_BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    for n in sockets {
        run_with(n, seconds).await;
    }
}
