//! Staff call signalling through a real hub: kiosk and KDS screens on `/ws` with tokio-tungstenite.

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use restaurant_hub::{RunningHub, Settings};
use restaurant_protocol::{CallMessage, ErrorCode, IceCandidate, ServerMessage};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Generous bound for anything the hub should do promptly.
const WAIT: Duration = Duration::from_secs(10);

async fn start() -> RunningHub {
    let settings = Settings { memory: true, dist: "/nonexistent-dist".into(), ..Settings::demo() };
    RunningHub::start(settings).await.expect("hub starts")
}

async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::text(frame.to_string())).await.expect("frame sent");
}

async fn send_call(ws: &mut Ws, message: &CallMessage) {
    send(ws, serde_json::to_value(message).unwrap()).await;
}

/// One frame the hub sent (heartbeat pings skipped).
#[derive(Debug, PartialEq)]
#[expect(clippy::large_enum_variant, reason = "one per frame read in a test")]
enum Frame {
    Call(CallMessage),
    Server(ServerMessage),
}

async fn recv(ws: &mut Ws) -> Frame {
    loop {
        let frame =
            tokio::time::timeout(WAIT, ws.next()).await.expect("a frame in time").expect("open").expect("readable");
        let text = match frame {
            Message::Text(text) => text,
            Message::Close(close) => panic!("closed: {close:?}"),
            _ => continue,
        };
        if let Ok(call) = CallMessage::parse(text.as_str()) {
            return Frame::Call(call);
        }
        match ServerMessage::parse(text.as_str()).expect("a known frame") {
            ServerMessage::Ping { .. } => continue,
            other => return Frame::Server(other),
        }
    }
}

async fn recv_call(ws: &mut Ws) -> CallMessage {
    match recv(ws).await {
        Frame::Call(call) => call,
        other => panic!("expected a call frame, got {other:?}"),
    }
}

/// Proves nothing else was queued for `ws`: a ping's pong is the very next frame.
async fn nothing_pending(ws: &mut Ws) {
    send(ws, json!({"type":"ping","ts": 4242})).await;
    assert_eq!(recv(ws).await, Frame::Server(ServerMessage::Pong { ts: 4242 }));
}

async fn join_kiosk(hub: &RunningHub) -> Ws {
    let mut ws = tokio_tungstenite::connect_async(hub.ws_url()).await.expect("WebSocket connects").0;
    send(&mut ws, json!({"type":"hello","token":"","station":"kiosk","since":null})).await;
    assert!(matches!(recv(&mut ws).await, Frame::Server(ServerMessage::Welcome { .. })));
    // Then what is sold out now (nothing, in these tests).
    assert!(
        matches!(recv(&mut ws).await, Frame::Server(ServerMessage::MenuUpdated { sold_out, .. }) if sold_out == Default::default())
    );
    ws
}

async fn join_kds(hub: &RunningHub, station: &str) -> Ws {
    let token = common::station_token(hub, station).await;
    let mut ws = tokio_tungstenite::connect_async(hub.ws_url()).await.expect("WebSocket connects").0;
    send(&mut ws, json!({"type":"hello","token": token,"station": station,"since":null})).await;
    assert!(matches!(recv(&mut ws).await, Frame::Server(ServerMessage::Welcome { .. })));
    ws
}

fn request(id: &str, to: Option<&str>) -> CallMessage {
    CallMessage::Request { call_id: id.into(), from: "kiosk-1".into(), to_station: to.map(str::to_string) }
}

fn accept(id: &str, from: &str) -> CallMessage {
    CallMessage::Accept { call_id: id.into(), from: from.into() }
}

fn offer(id: &str) -> CallMessage {
    CallMessage::Offer { call_id: id.into(), sdp: "v=0 offer".into() }
}

fn ice(id: &str, n: u32) -> CallMessage {
    CallMessage::Ice {
        call_id: id.into(),
        candidate: IceCandidate {
            candidate: format!("candidate:{n} 1 udp 2122260223 10.0.0.{n} 5000 typ host"),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        },
    }
}

#[tokio::test]
async fn a_kiosk_request_rings_every_kds_screen_of_the_station_and_no_other() {
    let hub = start().await;
    let (mut grill_a, mut grill_b, mut fryer) =
        (join_kds(&hub, "grill").await, join_kds(&hub, "grill").await, join_kds(&hub, "fryer").await);
    let mut kiosk = join_kiosk(&hub).await;
    send_call(&mut kiosk, &request("c1", Some("grill"))).await;
    assert_eq!(recv_call(&mut grill_a).await, request("c1", Some("grill")));
    assert_eq!(recv_call(&mut grill_b).await, request("c1", Some("grill")));
    nothing_pending(&mut fryer).await;

    let mut other_kiosk = join_kiosk(&hub).await;
    send_call(&mut other_kiosk, &request("c2", None)).await;
    for screen in [&mut grill_a, &mut grill_b, &mut fryer] {
        assert_eq!(recv_call(screen).await, request("c2", None), "no station: every staff screen rings");
    }
    nothing_pending(&mut kiosk).await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_first_accept_wins_and_the_other_screens_get_taken() {
    let hub = start().await;
    let (mut a, mut b, mut c) =
        (join_kds(&hub, "grill").await, join_kds(&hub, "grill").await, join_kds(&hub, "grill").await);
    let mut kiosk = join_kiosk(&hub).await;
    send_call(&mut kiosk, &request("c1", Some("grill"))).await;
    for screen in [&mut a, &mut b, &mut c] {
        recv_call(screen).await;
    }
    send_call(&mut b, &accept("c1", "kds-b")).await;
    assert_eq!(recv_call(&mut kiosk).await, accept("c1", "kds-b"));
    let taken = CallMessage::Taken { call_id: "c1".into() };
    assert_eq!(recv_call(&mut a).await, taken);
    assert_eq!(recv_call(&mut c).await, taken);
    send_call(&mut a, &accept("c1", "kds-a")).await;
    assert_eq!(recv_call(&mut a).await, taken, "a late accept is told the call was taken");
    nothing_pending(&mut kiosk).await;
    nothing_pending(&mut b).await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn an_offer_sent_before_accept_is_delivered_not_dropped() {
    let hub = start().await;
    let (mut a, mut b) = (join_kds(&hub, "grill").await, join_kds(&hub, "grill").await);
    let mut kiosk = join_kiosk(&hub).await;
    send_call(&mut kiosk, &request("c1", Some("grill"))).await;
    send_call(&mut kiosk, &offer("c1")).await;
    send_call(&mut kiosk, &ice("c1", 1)).await;
    for screen in [&mut a, &mut b] {
        assert_eq!(recv_call(screen).await, request("c1", Some("grill")));
        assert_eq!(recv_call(screen).await, offer("c1"), "every ringing screen keeps the offer until accept");
        assert_eq!(recv_call(screen).await, ice("c1", 1));
    }
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    send_call(&mut a, &accept("c1", "kds-a")).await;
    assert_eq!(recv_call(&mut kiosk).await, accept("c1", "kds-a"));
    let answer = CallMessage::Answer { call_id: "c1".into(), sdp: "v=0 answer".into() };
    send_call(&mut a, &answer).await;
    assert_eq!(recv_call(&mut kiosk).await, answer);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn after_accept_offer_answer_and_ice_reach_only_the_other_party() {
    let hub = start().await;
    let (mut a, mut b) = (join_kds(&hub, "grill").await, join_kds(&hub, "grill").await);
    let mut kiosk = join_kiosk(&hub).await;
    send_call(&mut kiosk, &request("c1", None)).await;
    recv_call(&mut a).await;
    recv_call(&mut b).await;
    send_call(&mut a, &accept("c1", "kds-a")).await;
    recv_call(&mut kiosk).await;
    assert_eq!(recv_call(&mut b).await, CallMessage::Taken { call_id: "c1".into() });

    send_call(&mut kiosk, &offer("c1")).await;
    send_call(&mut kiosk, &ice("c1", 1)).await;
    assert_eq!(recv_call(&mut a).await, offer("c1"));
    assert_eq!(recv_call(&mut a).await, ice("c1", 1));
    let answer = CallMessage::Answer { call_id: "c1".into(), sdp: "v=0 answer".into() };
    send_call(&mut a, &answer).await;
    send_call(&mut a, &ice("c1", 2)).await;
    assert_eq!(recv_call(&mut kiosk).await, answer);
    assert_eq!(recv_call(&mut kiosk).await, ice("c1", 2));
    nothing_pending(&mut b).await;

    send_call(&mut b, &ice("c1", 3)).await;
    assert!(
        matches!(recv(&mut b).await, Frame::Server(ServerMessage::Error { code: ErrorCode::BadRequest, .. })),
        "a screen that only rang cannot inject frames"
    );
    nothing_pending(&mut kiosk).await;
    nothing_pending(&mut a).await;
    let hangup = CallMessage::Hangup { call_id: "c1".into() };
    send_call(&mut a, &hangup).await;
    assert_eq!(recv_call(&mut kiosk).await, hangup);
    nothing_pending(&mut b).await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_kiosk_disconnecting_ends_the_call_for_the_kds() {
    let hub = start().await;
    let (mut a, mut b) = (join_kds(&hub, "grill").await, join_kds(&hub, "fryer").await);
    let mut kiosk_ws = join_kiosk(&hub).await;
    send_call(&mut kiosk_ws, &request("c1", None)).await;
    recv_call(&mut a).await;
    recv_call(&mut b).await;
    send_call(&mut a, &accept("c1", "kds-a")).await;
    recv_call(&mut kiosk_ws).await;
    recv_call(&mut b).await;
    kiosk_ws.close(None).await.unwrap();
    drop(kiosk_ws);
    assert_eq!(recv_call(&mut a).await, CallMessage::Hangup { call_id: "c1".into() });
    nothing_pending(&mut b).await;

    // Before accept, the ringing screens hear it too.
    let mut kiosk_ws = join_kiosk(&hub).await;
    send_call(&mut kiosk_ws, &request("c2", Some("grill"))).await;
    recv_call(&mut a).await;
    drop(kiosk_ws);
    assert_eq!(recv_call(&mut a).await, CallMessage::Hangup { call_id: "c2".into() });
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn kiosk_connections_get_no_order_events_and_cannot_send_order_commands() {
    let hub = start().await;
    let mut kiosk = join_kiosk(&hub).await;
    let mut grill = join_kds(&hub, "grill").await;
    let body = json!({"items":[{"menu_item_id":"cheeseburger","quantity":1,"options":["onions"]}],"source":"kiosk"});
    let response = reqwest::Client::new()
        .post(hub.http("/api/v1/orders"))
        .header("Idempotency-Key", "k1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert!(matches!(recv(&mut grill).await, Frame::Server(ServerMessage::OrderCreated { .. })));
    nothing_pending(&mut kiosk).await;

    send(&mut kiosk, json!({"type":"order.recall","request_id":"r1","order_id":"whatever"})).await;
    match recv(&mut kiosk).await {
        Frame::Server(ServerMessage::Error { request_id, code: ErrorCode::BadRequest, message }) => {
            assert_eq!(request_id.as_deref(), Some("r1"));
            assert!(message.contains("kiosk"), "{message}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    nothing_pending(&mut kiosk).await;

    // A kiosk never rings.
    let mut other_kiosk = join_kiosk(&hub).await;
    send_call(&mut grill, &request("c1", None)).await;
    assert_eq!(recv_call(&mut grill).await, CallMessage::Unavailable { call_id: "c1".into() });
    nothing_pending(&mut other_kiosk).await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn an_unknown_call_id_gets_an_error_and_the_connection_stays_open() {
    let hub = start().await;
    let mut kiosk = join_kiosk(&hub).await;
    send_call(&mut kiosk, &CallMessage::Hangup { call_id: "nope".into() }).await;
    assert!(matches!(
        recv(&mut kiosk).await,
        Frame::Server(ServerMessage::Error { code: ErrorCode::NotFound, message, .. }) if message.contains("nope")
    ));
    send(&mut kiosk, json!({"type":"call.offer","call_id":"bad id!","sdp":"v=0"})).await;
    assert!(matches!(recv(&mut kiosk).await, Frame::Server(ServerMessage::Error { code: ErrorCode::BadRequest, .. })));
    send(&mut kiosk, json!({"type":"call.ring","call_id":"c"})).await;
    assert!(matches!(recv(&mut kiosk).await, Frame::Server(ServerMessage::Error { code: ErrorCode::BadRequest, .. })));
    send_call(&mut kiosk, &request("c1", Some("grill"))).await;
    assert_eq!(recv_call(&mut kiosk).await, CallMessage::Unavailable { call_id: "c1".into() }, "no grill screen");
    nothing_pending(&mut kiosk).await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn call_frames_before_hello_are_refused_like_commands() {
    let hub = start().await;
    let mut ws = tokio_tungstenite::connect_async(hub.ws_url()).await.expect("WebSocket connects").0;
    send_call(&mut ws, &request("c1", None)).await;
    assert!(matches!(recv(&mut ws).await, Frame::Server(ServerMessage::AuthFailed { .. })));
    hub.stop().await.unwrap();
}
