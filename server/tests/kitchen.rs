//! A kitchen with stations against the hub: per-station start and bump, the order derived from
//! its items, expo gating, voids (on the feed and by the manager over HTTP), who may do what,
//! the limits of the command text, and ticket times that survive a restart.

mod common;

use common::{Ws, joined, recv, send, station_token};

use std::time::{SystemTime, UNIX_EPOCH};

use restaurant_hub::{RunningHub, Settings};
use restaurant_protocol::kitchen::MAX_VOID_REASON_CHARS;
use restaurant_protocol::{ErrorCode, ItemStatus, Order, OrderEnvelope, OrderStatus, ServerMessage, TicketStats};
use serde_json::{Value, json};

fn settings(adjust: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings { memory: true, dist: "/nonexistent-dist".into(), ..Settings::demo() };
    adjust(&mut s);
    s
}

/// A burger (grill) and small fries (fryer).
async fn burger_and_fries(hub: &RunningHub, key: &str) -> Order {
    let body = json!({"items": [{"menu_item_id": "cheeseburger", "quantity": 1},
        {"menu_item_id": "fries-small", "quantity": 2}], "source": "kiosk"});
    let response = reqwest::Client::new()
        .post(hub.http("/api/v1/orders"))
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    response.json::<OrderEnvelope>().await.unwrap().order
}

/// Sends `frame` and reads until its answer (`ack` or `error`); the order events before it are
/// returned too.
async fn command(ws: &mut Ws, frame: Value) -> (ServerMessage, Vec<Order>) {
    send(ws, frame).await;
    let mut orders = Vec::new();
    loop {
        match recv(ws).await {
            ServerMessage::OrderUpdated { order, .. } => orders.push(order),
            answer @ (ServerMessage::Ack { .. } | ServerMessage::Error { .. }) => return (answer, orders),
            _ => {}
        }
    }
}

fn frame(kind: &str, request_id: &str, order: &Order, extra: Value) -> Value {
    let mut frame = json!({"type": format!("order.{kind}"), "request_id": request_id, "order_id": order.id});
    if let (Some(frame), Some(extra)) = (frame.as_object_mut(), extra.as_object()) {
        frame.extend(extra.clone());
    }
    frame
}

fn refused(answer: &ServerMessage) -> (ErrorCode, &str) {
    match answer {
        ServerMessage::Error { code, message, .. } => (*code, message.as_str()),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// The next `order.updated` a watching screen hears.
async fn next_update(ws: &mut Ws) -> Order {
    loop {
        if let ServerMessage::OrderUpdated { order, .. } = recv(ws).await {
            return order;
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn stats(hub: &RunningHub, token: &str, query: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(hub.http(&format!("/api/v1/stats/tickets{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn grill_and_fryer_bump_their_own_items_and_expo_completes_only_a_ready_order() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let on_disk = |s: &mut Settings| (s.memory, s.data) = (false, data.clone());
    let hub = RunningHub::start(settings(on_disk)).await.unwrap();
    let (mut grill, _) = joined(&hub, "grill", None).await;
    let (mut fryer, _) = joined(&hub, "fryer", None).await;
    let (mut expo, _) = joined(&hub, "expo", None).await;
    let order = burger_and_fries(&hub, "a").await;
    for ws in [&mut grill, &mut fryer, &mut expo] {
        assert!(matches!(recv(ws).await, ServerMessage::OrderCreated { .. }));
    }

    let (answer, _) = command(&mut grill, frame("start", "g1", &order, json!({"station": "grill"}))).await;
    assert!(matches!(answer, ServerMessage::Ack { .. }), "{answer:?}");
    let started = next_update(&mut expo).await;
    assert_eq!(started.status, OrderStatus::Preparing);
    assert_eq!(started.station_status("fryer"), Some(ItemStatus::New), "the fryer's items are untouched");

    let (answer, _) = command(&mut grill, frame("bump", "g2", &order, json!({"station": "fryer"}))).await;
    assert_eq!(refused(&answer), (ErrorCode::Forbidden, "station grill may not bump fryer's items"));
    let (answer, _) = command(&mut grill, frame("bump", "g3", &order, json!({"station": "grill"}))).await;
    assert!(matches!(answer, ServerMessage::Ack { .. }));
    let grill_done = next_update(&mut expo).await;
    assert_eq!(grill_done.status, OrderStatus::Preparing, "the fryer is still working");
    assert_eq!(grill_done.station_status("grill"), Some(ItemStatus::Ready));

    let (answer, _) = command(&mut expo, frame("complete", "e1", &order, json!({}))).await;
    assert_eq!(
        refused(&answer),
        (ErrorCode::InvalidTransition, &*format!("order #{} is not ready: waiting for fryer", order.number))
    );
    let (answer, _) = command(&mut fryer, frame("complete", "f0", &order, json!({}))).await;
    assert_eq!(refused(&answer).0, ErrorCode::Forbidden, "only expo completes");

    let (answer, _) = command(&mut fryer, frame("bump", "f1", &order, json!({"station": "fryer"}))).await;
    assert!(matches!(answer, ServerMessage::Ack { .. }));
    for ws in [&mut grill, &mut expo] {
        assert_eq!(next_update(ws).await.status, OrderStatus::Ready, "one event tells every screen");
    }
    let (answer, updates) = command(&mut expo, frame("complete", "e2", &order, json!({}))).await;
    assert!(matches!(answer, ServerMessage::Ack { .. }));
    assert_eq!(updates[0].status, OrderStatus::Completed);
    assert!(updates[0].completed_at.is_some());

    let token = station_token(&hub, "expo").await;
    let since = now_ms() - 3_600_000;
    let (status, body) = stats(&hub, &token, &format!("?since={since}&late_after_min=15")).await;
    assert_eq!(status, 200, "{body}");
    let figures: TicketStats = serde_json::from_value(body).unwrap();
    assert_eq!(figures.overall.count, 1);
    let stations: Vec<(&str, u32)> = figures.stations.iter().map(|s| (s.station.as_str(), s.figures.count)).collect();
    assert_eq!(stations, [("fryer", 1), ("grill", 1)]);
    drop((grill, fryer, expo));
    hub.stop().await.unwrap();

    let hub = RunningHub::start(settings(on_disk)).await.unwrap();
    let token = station_token(&hub, "grill").await;
    let (_, body) = stats(&hub, &token, &format!("?since={since}")).await;
    let after: TicketStats = serde_json::from_value(body).unwrap();
    assert_eq!((after.overall.count, after.stations.len()), (1, 2), "the figures survive a restart");
    let recent = after.overall.hourly.iter().map(|h| h.count).sum::<u32>();
    assert_eq!(recent, 1, "in its hour");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_void_reaches_every_screen_and_a_late_bump_of_it_is_refused_with_the_reason() {
    let hub = RunningHub::start(settings(|_| {})).await.unwrap();
    let (mut grill, _) = joined(&hub, "grill", None).await;
    let (mut expo, _) = joined(&hub, "expo", None).await;
    let order = burger_and_fries(&hub, "a").await;
    for ws in [&mut grill, &mut expo] {
        assert!(matches!(recv(ws).await, ServerMessage::OrderCreated { .. }));
    }
    let (answer, _) = command(&mut grill, frame("void", "g1", &order, json!({"reason": "no"}))).await;
    assert_eq!(refused(&answer).0, ErrorCode::Forbidden, "a prep station cannot void");
    for (reason, why) in [
        (String::new(), "empty"),
        ("   ".to_string(), "blank"),
        ("x".repeat(MAX_VOID_REASON_CHARS + 1), "too long"),
        ("left\u{7}".to_string(), "control character"),
    ] {
        let (answer, _) = command(&mut expo, frame("void", "e0", &order, json!({"reason": reason}))).await;
        assert_eq!(refused(&answer).0, ErrorCode::BadRequest, "{why}");
    }
    let (answer, _) = command(&mut grill, frame("bump", "g2", &order, json!({"station": ""}))).await;
    assert_eq!(refused(&answer).0, ErrorCode::BadRequest, "an empty station");

    let reason = "x".repeat(MAX_VOID_REASON_CHARS);
    let (answer, updates) = command(&mut expo, frame("void", "e1", &order, json!({"reason": reason}))).await;
    assert!(matches!(answer, ServerMessage::Ack { .. }), "{answer:?}");
    assert_eq!(updates[0].status, OrderStatus::Cancelled);
    let heard = next_update(&mut grill).await;
    assert_eq!(heard.void.as_ref().map(|v| (v.reason.as_str(), v.by.as_str())), Some((&*reason, "expo")));

    let (answer, updates) = command(&mut grill, frame("bump", "g3", &order, json!({"station": "grill"}))).await;
    assert!(updates.is_empty());
    assert_eq!(
        refused(&answer),
        (ErrorCode::InvalidTransition, &*format!("order #{} was voided: {reason}", order.number))
    );
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_manager_voids_over_http_and_a_prep_station_or_no_token_may_not() {
    let hub = RunningHub::start(settings(|_| {})).await.unwrap();
    let (mut expo, _) = joined(&hub, "expo", None).await;
    let order = burger_and_fries(&hub, "a").await;
    assert!(matches!(recv(&mut expo).await, ServerMessage::OrderCreated { .. }));
    let void = |token: Option<String>, reason: &str| {
        let request = reqwest::Client::new()
            .post(hub.http(&format!("/api/v1/orders/{}/void", order.id)))
            .header("Idempotency-Key", "void-1")
            .json(&json!({"reason": reason}));
        let request = match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(void(None, "x").await.0, 401);
    let grill = station_token(&hub, "grill").await;
    assert_eq!(void(Some(grill), "x").await.0, 403);
    let manager = station_token(&hub, "manager").await;
    assert_eq!(void(Some(manager.clone()), "").await.0, 400);
    let (status, body) = void(Some(manager.clone()), "wrong order").await;
    assert_eq!(status, 200, "{body}");
    let voided: OrderEnvelope = serde_json::from_value(body).unwrap();
    assert_eq!(voided.order.void.map(|v| v.by), Some("manager".into()));
    assert_eq!(next_update(&mut expo).await.status, OrderStatus::Cancelled, "every screen hears it");
    let (status, _) = void(Some(manager.clone()), "wrong order").await;
    assert_eq!(status, 200, "the same key again is the same answer");
    let missing = reqwest::Client::new()
        .post(hub.http("/api/v1/orders/ord_nope/void"))
        .bearer_auth(&manager)
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn ticket_stats_need_a_sign_in_and_a_sane_query() {
    let hub = RunningHub::start(settings(|_| {})).await.unwrap();
    let token = station_token(&hub, "grill").await;
    let unsigned = reqwest::Client::new().get(hub.http("/api/v1/stats/tickets?since=0")).send().await.unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    assert_eq!(stats(&hub, &token, "").await.0, 400, "since is required");
    assert_eq!(stats(&hub, &token, "?since=abc").await.0, 400);
    assert_eq!(stats(&hub, &token, "?since=0&late_after_min=0").await.0, 400);
    assert_eq!(stats(&hub, &token, "?since=0&late_after_min=241").await.0, 400);
    let (status, body) = stats(&hub, &token, "?since=0").await;
    assert_eq!(status, 200);
    let empty: TicketStats = serde_json::from_value(body).unwrap();
    assert_eq!(empty.overall.count, 0);
    assert_eq!(empty.overall.hourly.len(), 48, "at most 48 hours back");
    hub.stop().await.unwrap();
}
