//! The order-feed WebSocket (`/ws`): `hello` with a station token, `welcome` + replay (or
//! `resync`), live order and menu events, heartbeats, KDS commands and staff call signalling
//! (`call.*`, routed by [`crate::call`]). A `hello` with station `kiosk` joins with a device token
//! for calls and the menu: the current `menu.updated` after `welcome` and each new one, no order
//! events, no order commands. One task per connection, owned by the hub's task
//! tracker; it ends on shutdown (close 1001), on a silent peer, or when the peer goes.
//!
//! Limits: at most `--max-connections` connections (more get `503` before the upgrade); a
//! connection without an accepted `hello` after `--hello-ms` is closed with 4003; the station
//! token is checked again on every order command (expired or revoked → `auth_failed`, 4001).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use restaurant_protocol::kitchen::{MAX_STATION_CHARS, MAX_VOID_REASON_CHARS};
use restaurant_protocol::{
    CallMessage, ClientMessage, ErrorCode, FrameError, KIOSK_STATION, KitchenAction, MAX_WS_FRAME_BYTES, ServerMessage,
    close,
};
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::Instrument;

use crate::auth::Auth;
use crate::call::{CallEndpoint, CallError, Role};
use crate::error::ApiError;
use crate::feed::{Catchup, Subscription};
use crate::menu::LiveMenu;
use crate::state::{AppState, OrderError, now_ms};

/// Frames above this are refused by the WebSocket layer itself (the connection drops); frames
/// between [`MAX_WS_FRAME_BYTES`] and this get a proper close 1009.
const TRANSPORT_LIMIT: usize = 1024 * 1024;
const CLOSE_WAIT: Duration = Duration::from_secs(1);
const MAX_REQUEST_ID_CHARS: usize = 128;
/// `Retry-After` of a `/ws` upgrade refused for the connection cap.
const FULL_RETRY_AFTER_SECS: u64 = 5;
/// How much the WebSocket layer reads from the socket at a time. Its reader zeroes this much of
/// its buffer on every read attempt, and the connection's loop makes one each time it wakes (for
/// every event it sends too): the default of 128 KiB made that zeroing most of a send's cost. A
/// longer frame is read in several steps into a buffer reserved for its whole length.
const READ_CHUNK: usize = 4 * 1024;

/// One of the `--max-connections` places; given back when dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(open: &Arc<AtomicUsize>, max: usize) -> Option<Slot> {
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1)).ok()?;
        Some(Slot(open.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if state.shutdown.is_cancelled() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    let peer = peer.map_or_else(|| "unknown peer".to_string(), |Extension(ConnectInfo(a))| a.to_string());
    let max = state.settings.limits.max_connections;
    let Some(slot) = Slot::take(&state.connections, max) else {
        let message = format!("the hub has its maximum of {max} WebSocket connections; refused {peer}");
        return ApiError::busy(message, FULL_RETRY_AFTER_SECS).into_response();
    };
    // If the upgrade fails, the closure (and the slot) is dropped.
    upgrade.read_buffer_size(READ_CHUNK).max_message_size(TRANSPORT_LIMIT).max_frame_size(TRANSPORT_LIMIT).on_upgrade(
        move |socket| {
            // Everything the connection logs names its peer, and its station once `hello` is accepted.
            let span = tracing::info_span!(
                parent: None,
                "ws",
                %peer,
                station = tracing::field::Empty,
                device = tracing::field::Empty
            );
            let tasks = state.tasks.clone();
            tasks.track_future(
                async move {
                    Connection::run(socket, state, peer).await;
                    drop(slot);
                }
                .instrument(span),
            )
        },
    )
}

/// Why a connection ends.
enum Stop {
    /// Send this close frame first.
    Close(u16, &'static str),
    /// The peer is gone or closed: nothing more to send.
    Gone,
}

struct Connection {
    sink: SplitSink<WebSocket, Message>,
    state: Arc<AppState>,
    peer: String,
    /// The order feed: staff screens only.
    subscription: Option<Subscription>,
    /// Set by an accepted `hello` (staff screen or kiosk).
    calls: Option<CallEndpoint>,
    /// The station token and station of an accepted staff `hello`, checked again on every command.
    signed_in: Option<(String, String)>,
    /// The live menu: kiosks only (staff get `menu.updated` in the feed).
    menu: Option<watch::Receiver<Arc<LiveMenu>>>,
}

impl Connection {
    async fn run(socket: WebSocket, state: Arc<AppState>, peer: String) {
        let heartbeat = state.settings.heartbeat_timeout;
        let (sink, mut stream) = socket.split();
        let mut conn = Connection { sink, state, peer, subscription: None, calls: None, signed_in: None, menu: None };
        tracing::debug!("connected");
        let hello_timeout = conn.state.settings.limits.hello_timeout;
        let hello_by = Instant::now() + hello_timeout;
        let mut last_heard = Instant::now();
        let ping_every = heartbeat / 3;
        let mut ping = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        // Made once and kept across the loop's turns: a turn for each event sent (hundreds of
        // screens, each woken for every order event) registers no timer or shutdown waiter
        // again, and those registrations share locks across the runtime's threads.
        let shutdown = conn.state.shutdown.clone();
        let shutting_down = shutdown.cancelled();
        let silent = tokio::time::sleep_until(last_heard + heartbeat);
        let no_hello = tokio::time::sleep_until(hello_by);
        tokio::pin!(shutting_down, silent, no_hello);
        let stop = loop {
            let step = tokio::select! {
                _ = &mut shutting_down => Err(Stop::Close(close::GOING_AWAY, "server shutting down")),
                _ = &mut silent => {
                    tracing::warn!(?heartbeat, "silent for the heartbeat timeout: dropped");
                    Err(Stop::Close(close::IDLE, "heartbeat timeout"))
                }
                _ = &mut no_hello, if conn.calls.is_none() => {
                    tracing::warn!(?hello_timeout, "no accepted hello in time: closing 4003");
                    Err(Stop::Close(close::HELLO_TIMEOUT, "hello timeout"))
                }
                _ = ping.tick() => conn.send(vec![ServerMessage::Ping { ts: now_ms() }.into()]).await,
                _ = queued(conn.subscription.as_ref()) => conn.flush_queue().await,
                _ = menu_changed(conn.menu.as_mut()) => conn.send_menu().await,
                Some(frame) = call_frame(conn.calls.as_mut()) => conn.send(vec![Frame(Utf8Bytes::from(frame))]).await,
                frame = stream.next() => match frame {
                    None => Err(Stop::Gone),
                    Some(Err(e)) => {
                        tracing::warn!("read failed (a frame over {TRANSPORT_LIMIT} bytes or a broken socket): {e}");
                        Err(Stop::Gone)
                    }
                    Some(Ok(message)) => {
                        last_heard = Instant::now();
                        silent.as_mut().reset(last_heard + heartbeat);
                        conn.on_message(message).await
                    }
                },
            };
            if let Err(stop) = step {
                break stop;
            }
        };
        conn.subscription = None;
        conn.calls = None;
        conn.menu = None;
        if let Stop::Close(code, reason) = stop {
            let frame = Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }));
            if tokio::time::timeout(CLOSE_WAIT, conn.sink.send(frame)).await.is_err() {
                tracing::debug!("the close frame was not taken in time");
            }
        }
        tracing::debug!("disconnected");
    }

    /// Writes frames (flushing once), giving up on a peer that takes longer than the heartbeat
    /// timeout or on shutdown.
    async fn send(&mut self, frames: Vec<Frame>) -> Result<(), Stop> {
        let heartbeat = self.state.settings.heartbeat_timeout;
        let sink = &mut self.sink;
        let write = async move {
            for frame in frames {
                sink.feed(Message::Text(frame.0)).await?;
            }
            sink.flush().await
        };
        // The write first: one that completes at once (the usual case) registers neither its
        // timeout nor a shutdown waiter.
        tokio::select! {
            biased;
            written = tokio::time::timeout(heartbeat, write) => match written {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => {
                    tracing::debug!("write failed: {e}");
                    Err(Stop::Gone)
                }
                Err(_) => {
                    tracing::warn!(?heartbeat, "not reading for the heartbeat timeout: dropped");
                    Err(Stop::Gone)
                }
            },
            _ = self.state.shutdown.cancelled() => Err(Stop::Close(close::GOING_AWAY, "server shutting down")),
        }
    }

    /// `menu.updated` with the menu's current state (marked seen): the seq of its last menu
    /// event, or the current seq when there was none.
    fn menu_updated(&self, menu: &mut watch::Receiver<Arc<LiveMenu>>) -> ServerMessage {
        let live = menu.borrow_and_update().clone();
        let seq = live.seq.unwrap_or_else(|| self.state.feed.last_seq());
        ServerMessage::MenuUpdated { seq, sold_out: live.sold_out.clone() }
    }

    /// A kiosk's `menu.updated` after the menu changed.
    async fn send_menu(&mut self) -> Result<(), Stop> {
        let Some(mut menu) = self.menu.take() else { return Ok(()) };
        let frame = self.menu_updated(&mut menu);
        self.menu = Some(menu);
        tracing::debug!("menu.updated sent to the kiosk");
        self.send(vec![frame.into()]).await
    }

    /// The feed's frames queued for this client (shared bytes: each event is encoded once).
    fn queued_frames(&self) -> Vec<Frame> {
        match &self.subscription {
            Some(sub) => sub.queue().take().into_iter().map(Frame).collect(),
            None => Vec::new(),
        }
    }

    async fn flush_queue(&mut self) -> Result<(), Stop> {
        let frames = self.queued_frames();
        if frames.is_empty() {
            return Ok(());
        }
        self.send(frames).await
    }

    async fn on_message(&mut self, message: Message) -> Result<(), Stop> {
        let text = match message {
            Message::Text(text) if text.len() > MAX_WS_FRAME_BYTES => return self.too_big(text.len()),
            Message::Text(text) => text,
            Message::Binary(bytes) if bytes.len() > MAX_WS_FRAME_BYTES => return self.too_big(bytes.len()),
            Message::Binary(_) => {
                return self.bad_request(None, "binary frames are not supported; send JSON text").await;
            }
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
            Message::Close(_) => return Err(Stop::Gone),
        };
        match ClientMessage::parse(text.as_str()) {
            Err(FrameError::UnknownType(kind)) if CallMessage::is_call_type(&kind) => self.call(text.as_str()).await,
            Err(e) => {
                let message = e.to_string();
                self.bad_request(request_id_of(text.as_str(), &e), &message).await
            }
            Ok(ClientMessage::Ping { ts }) => self.send(vec![ServerMessage::Pong { ts }.into()]).await,
            Ok(ClientMessage::Pong { .. }) => Ok(()),
            Ok(ClientMessage::Hello { token, station, since }) => self.hello(&token, &station, since).await,
            Ok(command) => match command.command() {
                Some((request_id, order_id, action)) => {
                    self.command(request_id.to_string(), order_id.to_string(), action).await
                }
                None => Ok(()),
            },
        }
    }

    fn too_big(&self, bytes: usize) -> Result<(), Stop> {
        tracing::warn!(bytes, limit = MAX_WS_FRAME_BYTES, "frame too large: closing 1009");
        Err(Stop::Close(close::TOO_BIG, "frame too large"))
    }

    async fn bad_request(&mut self, request_id: Option<String>, message: &str) -> Result<(), Stop> {
        tracing::warn!("bad frame: {message}");
        let error = ServerMessage::Error { request_id, code: ErrorCode::BadRequest, message: message.to_string() };
        self.send(vec![error.into()]).await
    }

    async fn auth_failed(&mut self, reason: &str) -> Result<(), Stop> {
        tracing::warn!("auth failed: {reason}");
        self.send(vec![ServerMessage::AuthFailed { reason: reason.to_string() }.into()]).await?;
        Err(Stop::Close(close::AUTH_FAILED, "auth failed"))
    }

    async fn hello(&mut self, token: &str, station: &str, since: Option<u64>) -> Result<(), Stop> {
        if self.calls.is_some() {
            return self.bad_request(None, "hello was already accepted on this connection").await;
        }
        if station == KIOSK_STATION {
            // A kiosk is a paired device without a PIN: it may place calls and nothing else.
            let device = match self.state.device(Some(token)) {
                Some(device) => device.0,
                None => {
                    return self
                        .auth_failed("this kiosk is not paired with the hub (unknown or revoked device token)")
                        .await;
                }
            };
            tracing::Span::current().record("device", device.as_str());
            self.calls = Some(self.state.calls.join(Role::Kiosk, self.peer.clone()));
            tracing::Span::current().record("station", KIOSK_STATION);
            tracing::info!("joined as a kiosk (calls and the menu)");
            let mut menu = self.state.live_menu.subscribe();
            let current = self.menu_updated(&mut menu);
            self.menu = Some(menu);
            return self.send(vec![ServerMessage::Welcome { seq: 0 }.into(), current.into()]).await;
        }
        match self.state.auth.station_of(token, std::time::Instant::now()) {
            None => return self.auth_failed("unknown or expired token").await,
            Some(s) if s != station => return self.auth_failed(&format!("the token is for station {s}")).await,
            Some(_) => {}
        }
        let (seq, catchup, subscription) = self.state.feed.subscribe(since);
        self.subscription = Some(subscription);
        self.signed_in = Some((token.to_string(), station.to_string()));
        self.calls = Some(self.state.calls.join(Role::Staff { station: station.to_string() }, self.peer.clone()));
        tracing::Span::current().record("station", station);
        tracing::info!(seq, ?since, "joined");
        let mut frames = vec![ServerMessage::Welcome { seq }.into()];
        match catchup {
            Catchup::Replay(events) => frames.extend(events.into_iter().map(Frame)),
            Catchup::Resync(seq) => frames.push(ServerMessage::Resync { seq }.into()),
        }
        self.send(frames).await
    }

    async fn command(&mut self, request_id: String, order_id: String, action: KitchenAction) -> Result<(), Stop> {
        if self.calls.is_some() && self.subscription.is_none() {
            tracing::warn!("order command from a kiosk: refused");
            let message = "a kiosk connection may only send call messages".to_string();
            let error = ServerMessage::Error { request_id: Some(request_id), code: ErrorCode::BadRequest, message };
            return self.send(vec![error.into()]).await;
        }
        if self.subscription.is_none() {
            return self.auth_failed("send hello with a station token first").await;
        }
        if request_id.is_empty() || request_id.chars().count() > MAX_REQUEST_ID_CHARS {
            return self.bad_request(None, &format!("request_id must be 1–{MAX_REQUEST_ID_CHARS} characters")).await;
        }
        // A session ends on its expiry, sign-out or a PIN change, not only at the next `hello`.
        if !still_signed_in(&self.state.auth, self.signed_in.as_ref(), std::time::Instant::now()) {
            return self.auth_failed("the station token expired or was revoked; sign in again").await;
        }
        if let Err(problem) = check_action(&action) {
            tracing::warn!(%order_id, "{} refused: {problem}", action.name());
            return self.bad_request(Some(request_id), &problem).await;
        }
        let station = self.signed_in.as_ref().map(|(_, station)| station.clone()).unwrap_or_default();
        if let Err(forbidden) = action.allowed_for(&station) {
            tracing::warn!(%order_id, %request_id, "{forbidden}");
            let message = forbidden.to_string();
            let error = ServerMessage::Error { request_id: Some(request_id), code: ErrorCode::Forbidden, message };
            return self.send(vec![error.into()]).await;
        }
        match self.state.apply(request_id, order_id, action, station).await {
            Ok(answer) => {
                // The event (already queued by the store) goes out before its ack, in one write.
                let mut frames = self.queued_frames();
                frames.push(answer.into());
                self.send(frames).await
            }
            Err(OrderError::Unavailable) => Err(Stop::Close(close::GOING_AWAY, "server shutting down")),
            Err(e) => {
                tracing::error!("command failed: {e}");
                Err(Stop::Close(close::INTERNAL_ERROR, "internal error"))
            }
        }
    }

    /// A `call.*` frame: routed by call id once `hello` was accepted.
    async fn call(&mut self, text: &str) -> Result<(), Stop> {
        let message = match CallMessage::parse(text) {
            Ok(message) => message,
            Err(e) => return self.bad_request(None, &e.to_string()).await,
        };
        let Some(calls) = &self.calls else {
            return self.auth_failed("send hello before call messages").await;
        };
        let (code, reason) = match calls.handle(message) {
            Ok(()) => return Ok(()),
            Err(CallError::UnknownCall(reason)) => (ErrorCode::NotFound, reason),
            Err(CallError::Refused(reason)) => (ErrorCode::BadRequest, reason),
        };
        tracing::warn!("call frame refused: {reason}");
        self.send(vec![ServerMessage::Error { request_id: None, code, message: reason }.into()]).await
    }
}

/// The limits of a command's text: a station name of 1–[`MAX_STATION_CHARS`] characters, a void
/// reason of 1–[`MAX_VOID_REASON_CHARS`] characters without control characters.
pub fn check_action(action: &KitchenAction) -> Result<(), String> {
    if let Some(station) = action.item_station()
        && (station.trim().is_empty() || station.chars().count() > MAX_STATION_CHARS)
    {
        return Err(format!("station must be 1–{MAX_STATION_CHARS} characters"));
    }
    if let KitchenAction::Void { reason } = action {
        if reason.trim().is_empty() || reason.chars().count() > MAX_VOID_REASON_CHARS {
            return Err(format!("a void needs a reason of 1–{MAX_VOID_REASON_CHARS} characters"));
        }
        if reason.chars().any(char::is_control) {
            return Err("a void reason may not contain control characters".to_string());
        }
    }
    Ok(())
}

/// Whether the `(token, station)` of an accepted `hello` is still a live session of that station.
fn still_signed_in(auth: &Auth, signed_in: Option<&(String, String)>, now: std::time::Instant) -> bool {
    signed_in.is_some_and(|(token, station)| auth.station_of(token, now).is_some_and(|s| &s == station))
}

/// The next call frame for this connection; never before `hello`.
async fn call_frame(calls: Option<&mut CallEndpoint>) -> Option<String> {
    match calls {
        Some(calls) => calls.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the live menu changed; never without a kiosk's receiver (or once the hub's
/// menu is gone, at shutdown).
async fn menu_changed(menu: Option<&mut watch::Receiver<Arc<LiveMenu>>>) {
    let changed = match menu {
        Some(menu) => menu.changed().await.is_ok(),
        None => false,
    };
    if !changed {
        std::future::pending::<()>().await;
    }
}

/// Resolves when the client's queue may have frames; never without a subscription.
async fn queued(subscription: Option<&Subscription>) {
    match subscription {
        Some(sub) => sub.queue().ready().await,
        None => std::future::pending().await,
    }
}

/// The `request_id` of a command whose other fields were wrong, so the error can be matched.
fn request_id_of(text: &str, error: &FrameError) -> Option<String> {
    if !matches!(error, FrameError::Invalid { .. }) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    // Only a valid one is echoed: the error frame must stay small whatever the client sent.
    let id = value.get("request_id")?.as_str()?;
    (!id.is_empty() && id.chars().count() <= MAX_REQUEST_ID_CHARS).then(|| id.to_string())
}

/// One outgoing text frame.
struct Frame(Utf8Bytes);

impl From<ServerMessage> for Frame {
    fn from(message: ServerMessage) -> Frame {
        // Serializing these plain structs cannot fail (string keys, no maps with other keys).
        Frame(Utf8Bytes::from(serde_json::to_string(&message).unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::auth::{PinOutcome, TOKEN_TTL};
    use crate::settings::Settings;

    #[tokio::test]
    async fn a_command_needs_a_session_that_is_still_live_for_its_station() {
        let auth = Auth::new(&Settings { memory: true, ..Settings::demo() }).unwrap();
        let t0 = std::time::Instant::now();
        let PinOutcome::Token(token) = auth.login(IpAddr::V4(Ipv4Addr::LOCALHOST), "grill", "1234", t0).await.unwrap()
        else {
            panic!("the demo PIN signs in")
        };
        let grill = (token.clone(), "grill".to_string());
        assert!(still_signed_in(&auth, Some(&grill), t0));
        assert!(still_signed_in(&auth, Some(&grill), t0 + TOKEN_TTL - Duration::from_secs(1)));
        assert!(!still_signed_in(&auth, Some(&grill), t0 + TOKEN_TTL), "expired");
        assert!(!still_signed_in(&auth, Some(&(token.clone(), "fryer".to_string())), t0), "another station");
        assert!(!still_signed_in(&auth, Some(&("0".repeat(32), "grill".to_string())), t0), "unknown token");
        assert!(!still_signed_in(&auth, None, t0), "no hello");
        auth.logout(&token, t0);
        assert!(!still_signed_in(&auth, Some(&grill), t0), "signed out");
    }
}
