//! Helpers shared by the hub's integration tests (each test file includes this with `mod common;`
//! and uses what it needs).
#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use restaurant_hub::RunningHub;
use restaurant_protocol::{PinResponse, ServerMessage};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Generous bound for anything the hub should do promptly.
pub const WAIT: Duration = Duration::from_secs(10);

/// Signs `station` in with the PIN 1234 (the demo's, or the test's global PIN) and returns its token.
pub async fn station_token(hub: &RunningHub, station: &str) -> String {
    let response = reqwest::Client::new()
        .post(hub.http("/api/v1/auth/pin"))
        .json(&json!({"pin": "1234", "station": station}))
        .send()
        .await
        .expect("the hub answers the sign-in");
    assert_eq!(response.status().as_u16(), 200, "sign-in for {station}");
    response.json::<PinResponse>().await.expect("a sign-in answer").token
}

pub async fn connect(hub: &RunningHub) -> Ws {
    tokio_tungstenite::connect_async(hub.ws_url()).await.expect("WebSocket connects").0
}

pub async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::text(frame.to_string())).await.expect("frame sent");
}

/// The next frame that is not a heartbeat, with its length on the wire.
pub async fn recv_text(ws: &mut Ws) -> (usize, ServerMessage) {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.expect("a frame in time").expect("open").expect("readable") {
            Message::Text(text) => match ServerMessage::parse(text.as_str()).expect("a known frame") {
                ServerMessage::Ping { .. } => continue,
                other => return (text.len(), other),
            },
            Message::Close(close) => panic!("closed: {close:?}"),
            _ => continue,
        }
    }
}

/// The next frame that is not a heartbeat.
pub async fn recv(ws: &mut Ws) -> ServerMessage {
    recv_text(ws).await.1
}

/// Reads until the close frame and returns its code.
pub async fn close_code(ws: &mut Ws) -> u16 {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.expect("a close in time") {
            Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
            Some(Ok(Message::Close(None))) => return 1005,
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("read failed before the close frame: {e}"),
            None => panic!("stream ended without a close frame"),
        }
    }
}

/// A connection that has signed in as `station` (PIN 1234) and been welcomed: it and the `seq`.
pub async fn joined(hub: &RunningHub, station: &str, since: Option<u64>) -> (Ws, u64) {
    let token = station_token(hub, station).await;
    let mut ws = connect(hub).await;
    send(&mut ws, json!({"type": "hello", "token": token, "station": station, "since": since})).await;
    match recv(&mut ws).await {
        ServerMessage::Welcome { seq } => (ws, seq),
        other => panic!("expected welcome, got {other:?}"),
    }
}
