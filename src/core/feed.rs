//! The order feed of a kitchen screen: the [`Link`] and the [`Board`] composed into the one sans-IO
//! driver the page runs.
//!
//! The page reports sign-in, socket events, fetched snapshots, connectivity, user commands and the
//! clock through the `login`/`handle_*`/`command` inputs, and carries out [`FeedCommand`]s from
//! [`OrderFeed::poll_command`], waking the feed at [`OrderFeed::poll_timeout`]. Commands leave only
//! on a socket the hub has greeted (`welcome`/`resync`), so they never race the sign-in.

use std::collections::VecDeque;
use std::time::Duration;

use log::{info, warn};
use restaurant_protocol::{CallMessage, ClientMessage, ErrorCode, ServerMessage, Snapshot};
use serde::Serialize;

use super::board::{Board, BoardConfig, Command, CommandError, OutboxError, SavedBoard, Station};
use super::link::{AttemptId, Inbound, Link, LinkConfig, LinkState, SocketCommand, SocketInput};
use super::time::{Millis, whole_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedConfig {
    pub link: LinkConfig,
    pub board: BoardConfig,
    /// Wait before fetching a snapshot again after a failed fetch.
    pub snapshot_retry: Duration,
    /// The confirmed board is saved (for a reload during an outage) at most this often. How stale
    /// it is does not matter (the next connection resumes from its seq); writing a big board too
    /// often would cost a busy screen frames.
    pub save_board_every: Duration,
    /// A saved board older than this is not shown after a reload (the hub may have been replaced
    /// meanwhile; a session does not last longer either).
    pub saved_board_max_age: Duration,
}

impl Default for FeedConfig {
    fn default() -> FeedConfig {
        FeedConfig {
            link: LinkConfig::default(),
            board: BoardConfig::default(),
            snapshot_retry: Duration::from_secs(2),
            save_board_every: Duration::from_secs(5),
            saved_board_max_age: Duration::from_secs(12 * 60 * 60),
        }
    }
}

/// What the page must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedCommand {
    /// Open, send on or close the link's socket.
    Socket(SocketCommand),
    /// `GET /api/v1/orders` for all stations (the board filters locally, since the socket carries
    /// every order's events); answer with [`OrderFeed::handle_snapshot`].
    FetchSnapshot,
    /// Store this outbox JSON (local storage) and hand it to [`OrderFeed::restore_outbox`] on reload.
    PersistOutbox(String),
    /// Save the confirmed board ([`Board::saved`]) for [`OrderFeed::restore_board`] after a
    /// reload; at most every [`FeedConfig::save_board_every`], only while it is current.
    PersistBoard,
    /// The banner or the board changed.
    UiChanged,
    /// A staff call frame arrived on the greeted socket.
    Call(CallMessage),
    /// The greeted socket is gone: the hub has ended every call it carried.
    CallsLost,
}

/// The connection banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Banner {
    SignedOut,
    Connecting,
    /// Connected and greeted, but the board is still loading the hub's snapshot (first sign-in,
    /// or after a gap): what is on screen may be incomplete.
    Syncing,
    /// Connected and the board is current.
    Live,
    Reconnecting {
        attempt: u32,
    },
    Offline,
    SignInFailed,
}

impl Banner {
    /// The banner's `data-state`.
    pub fn as_str(self) -> &'static str {
        match self {
            Banner::SignedOut => "signed_out",
            Banner::Connecting => "connecting",
            Banner::Syncing => "syncing",
            Banner::Live => "live",
            Banner::Reconnecting { .. } => "reconnecting",
            Banner::Offline => "offline",
            Banner::SignInFailed => "auth_failed",
        }
    }

    /// The banner's words for people.
    pub fn text(self) -> String {
        match self {
            Banner::SignedOut => "Not signed in".into(),
            Banner::Connecting => "Connecting…".into(),
            Banner::Syncing => "Loading orders…".into(),
            Banner::Live => "Live".into(),
            Banner::Reconnecting { attempt } => format!("Reconnecting (attempt {attempt})"),
            Banner::Offline => "Offline".into(),
            Banner::SignInFailed => "Sign-in failed".into(),
        }
    }

    /// A station is signed in (the board shows, not the sign-in form), connected or not.
    pub fn is_signed_in(self) -> bool {
        !matches!(self, Banner::SignedOut | Banner::SignInFailed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedStatus {
    pub banner: Banner,
    /// When the board last received orders (snapshot or event), on the feed's clock.
    pub last_update: Option<Millis>,
    /// The board on screen is one saved before a reload, as of this wall-clock time (Unix ms),
    /// until the hub has brought it up to date.
    pub board_saved_at: Option<u64>,
}

/// The page's debug surface (`window.__wsService.getStatus()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DebugStatus {
    pub state: &'static str,
    pub reconnect_attempts: u32,
    pub is_reconnecting: bool,
    pub last_heartbeat: Option<u64>,
    pub last_seq: Option<u64>,
    pub pending_commands: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Session {
    token: String,
    station_name: String,
    station: Station,
}

#[derive(Debug)]
pub struct OrderFeed {
    config: FeedConfig,
    link: Link,
    board: Board,
    session: Option<Session>,
    online: bool,
    /// The socket the hub has greeted; commands and snapshot requests wait for it.
    greeted: Option<AttemptId>,
    snapshot_retry_at: Option<Millis>,
    last_update: Option<Millis>,
    commands: VecDeque<FeedCommand>,
    /// What the page last heard about: the status and the board's revision.
    shown: Option<(FeedStatus, u64)>,
    persisted_outbox: u64,
    /// When the board is next saved, and the revision last saved.
    save_board_at: Option<Millis>,
    saved_revision: u64,
    /// See [`FeedStatus::board_saved_at`].
    restored_from: Option<u64>,
}

impl OrderFeed {
    /// `seed` drives the reconnect jitter.
    #[must_use]
    pub fn new(config: FeedConfig, seed: u64) -> OrderFeed {
        let link = Link::new(config.link.clone(), seed);
        let board = Board::new(config.board.clone());
        let persisted_outbox = board.outbox_revision();
        OrderFeed {
            config,
            link,
            board,
            session: None,
            online: true,
            greeted: None,
            snapshot_retry_at: None,
            last_update: None,
            commands: VecDeque::new(),
            shown: None,
            persisted_outbox,
            save_board_at: None,
            saved_revision: 0,
            restored_from: None,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Inputs

    /// Signs in `station` with `token` and connects. Repeating the same sign-in while connecting
    /// or connected changes nothing (one socket); a different one replaces the connection.
    pub fn login(&mut self, now: Millis, token: String, station: &str) {
        let session = Session { token, station_name: station.to_string(), station: Station::parse(station) };
        if self.session.as_ref().is_some_and(|current| *current != session) {
            info!("[OrderFeed] signing in again as station {station}");
            self.link.disconnect();
        }
        self.session = Some(session);
        self.link.connect(now);
        self.pump();
    }

    /// Shows a board saved before a reload ([`FeedCommand::PersistBoard`]) until the hub is
    /// reached: the next connection resumes from its seq. Before `login`, into an empty board.
    /// `now_unix` is the wall clock (Unix ms): a board saved longer than
    /// [`FeedConfig::saved_board_max_age`] ago (or in the future) is not shown.
    pub fn restore_board(&mut self, saved: SavedBoard, now_unix: u64) -> bool {
        if self.session.is_some() {
            warn!("[OrderFeed] a saved board is only restored before signing in");
            return false;
        }
        let age = now_unix.checked_sub(saved.saved_at_unix_ms).map(Duration::from_millis);
        if age.is_none_or(|age| age > self.config.saved_board_max_age) {
            warn!(
                "[OrderFeed] the saved board is from {} (Unix ms), too old to show: not restored",
                saved.saved_at_unix_ms
            );
            return false;
        }
        let saved_at = saved.saved_at_unix_ms;
        let restored = self.board.restore(saved);
        if restored {
            self.restored_from = Some(saved_at);
            self.saved_revision = self.board.revision();
        }
        self.pump();
        restored
    }

    /// Disconnects and forgets the board, including unanswered commands.
    pub fn logout(&mut self) {
        info!("[OrderFeed] signing out");
        self.link.disconnect();
        self.session = None;
        self.board.clear();
        self.snapshot_retry_at = None;
        self.last_update = None;
        self.save_board_at = None;
        self.restored_from = None;
        self.pump();
    }

    /// The answer to [`FeedCommand::FetchSnapshot`].
    pub fn handle_snapshot(&mut self, now: Millis, result: Result<Snapshot, String>) {
        if self.session.is_none() {
            info!("[OrderFeed] snapshot arrived after sign-out; ignored");
            return;
        }
        match result {
            Ok(snapshot) => {
                self.board.apply_snapshot(snapshot);
                self.last_update = Some(now);
                self.schedule_board_save(now);
            }
            Err(e) => {
                warn!(
                    "[OrderFeed] snapshot fetch failed: {e}; retrying in {} ms",
                    whole_millis(self.config.snapshot_retry)
                );
                self.board.snapshot_failed();
                self.snapshot_retry_at = Some(now + self.config.snapshot_retry);
            }
        }
        self.pump();
    }

    /// The browser's connectivity changed; coming back online retries at once instead of waiting.
    pub fn handle_online(&mut self, now: Millis, online: bool) {
        self.online = online;
        if online && self.link.state() == LinkState::Backoff {
            self.link.connect(now);
        }
        self.pump();
    }

    /// A cook's command on `order_id`; `random` (16 bytes from a secure source) makes its request id.
    /// Refused here, as the hub would, when the signed-in station may not send it (a grill
    /// screen looking at the fryer's tickets cannot bump them).
    pub fn command(&mut self, order_id: &str, command: Command, random: [u8; 16]) -> Result<String, CommandError> {
        let Some(session) = &self.session else {
            warn!("[OrderFeed] {} on {order_id} refused: not signed in", command.name());
            return Err(CommandError::SignedOut);
        };
        if let Err(forbidden) = command.allowed_for(&session.station_name) {
            warn!("[OrderFeed] {} on {order_id} refused: {forbidden}", command.name());
            return Err(CommandError::Forbidden(forbidden.to_string()));
        }
        let result = self.board.command(order_id, command, random);
        self.pump();
        result
    }

    /// Restores the outbox stored from [`FeedCommand::PersistOutbox`] (after a reload).
    pub fn restore_outbox(&mut self, json: &str) -> Result<usize, OutboxError> {
        let result = self.board.restore_outbox(json);
        self.pump();
        result
    }

    pub fn dismiss_failures(&mut self) {
        self.board.dismiss_failures();
        self.pump();
    }

    /// Sends a staff call frame on the greeted socket; `false` (logged, nothing queued) when there
    /// is none: call signalling is live, a frame kept for later would be stale.
    pub fn send_call(&mut self, message: &CallMessage) -> bool {
        let sent = self.greeted.is_some() && self.link.send(message);
        if !sent {
            warn!("[OrderFeed] {} for call {} not sent: not connected", message.kind(), message.call_id());
        }
        self.pump();
        sent
    }

    pub fn handle_timeout(&mut self, now: Millis) {
        self.link.handle_timeout(now);
        if self.snapshot_retry_at.is_some_and(|at| now >= at) {
            self.snapshot_retry_at = None;
        }
        if self.save_board_at.is_some_and(|at| now >= at) {
            self.save_board_at = None;
            if self.session.is_some() && self.board.is_live() {
                self.saved_revision = self.board.revision();
                self.commands.push_back(FeedCommand::PersistBoard);
            }
        }
        self.pump();
    }

    /// The board changed at `now`: save it once the interval since the last save is over.
    fn schedule_board_save(&mut self, now: Millis) {
        if self.save_board_at.is_none() && self.board.is_live() && self.board.revision() != self.saved_revision {
            self.save_board_at = Some(now + self.config.save_board_every);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Outputs

    #[must_use = "the command must be carried out"]
    pub fn poll_command(&mut self) -> Option<FeedCommand> {
        self.commands.pop_front()
    }

    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        [self.link.poll_timeout(), self.snapshot_retry_at, self.save_board_at].into_iter().flatten().min()
    }

    pub fn status(&self) -> FeedStatus {
        FeedStatus { banner: self.banner(), last_update: self.last_update, board_saved_at: self.restored_from }
    }

    pub fn debug_status(&self) -> DebugStatus {
        DebugStatus {
            state: self.link.state().as_str(),
            reconnect_attempts: self.link.reconnect_attempts(),
            is_reconnecting: self.link.is_reconnecting(),
            last_heartbeat: self.link.last_heartbeat().map(|t| t.0),
            last_seq: self.board.last_seq(),
            pending_commands: self.board.pending_commands(),
        }
    }

    pub fn board(&self) -> &Board {
        &self.board
    }

    pub fn link(&self) -> &Link {
        &self.link
    }

    /// The signed-in station.
    pub fn station(&self) -> Option<&Station> {
        self.session.as_ref().map(|s| &s.station)
    }

    /// The signed-in station's token (for the HTTP requests made on its behalf).
    pub fn token(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.token.as_str())
    }

    // -----------------------------------------------------------------------------------------

    fn banner(&self) -> Banner {
        if self.session.is_none() {
            return Banner::SignedOut;
        }
        let attempts = self.link.reconnect_attempts();
        match self.link.state() {
            LinkState::AuthFailed => Banner::SignInFailed,
            _ if !self.online => Banner::Offline,
            LinkState::Open if self.greeted.is_some() && self.board.is_live() => Banner::Live,
            LinkState::Open if self.greeted.is_some() => Banner::Syncing,
            LinkState::Backoff => Banner::Reconnecting { attempt: attempts },
            LinkState::Connecting | LinkState::Open if attempts > 0 => Banner::Reconnecting { attempt: attempts },
            LinkState::Connecting | LinkState::Open => Banner::Connecting,
            LinkState::Idle | LinkState::Closed => Banner::Offline,
        }
    }

    fn dispatch(&mut self, now: Millis, attempt: AttemptId, message: ServerMessage) {
        match message {
            ServerMessage::Welcome { seq } => {
                info!("[OrderFeed] welcomed at seq {seq}");
                self.greeted = Some(attempt);
                self.board.handle_welcome(seq);
            }
            ServerMessage::Resync { seq } => {
                self.greeted = Some(attempt);
                self.board.handle_resync(seq);
            }
            ServerMessage::Ack { request_id, seq } => self.board.handle_ack(&request_id, seq),
            ServerMessage::Error { request_id: Some(request_id), code, message } => {
                self.board.handle_command_error(&request_id, error_code(code), &message);
            }
            ServerMessage::Error { request_id: None, code, message } => {
                warn!("[OrderFeed] hub reported {}: {message}", error_code(code));
            }
            event @ (ServerMessage::OrderCreated { .. }
            | ServerMessage::OrderUpdated { .. }
            | ServerMessage::OrderStatusChanged { .. }
            | ServerMessage::OrderDeleted { .. }
            | ServerMessage::MenuUpdated { .. }) => {
                self.board.handle_event(event);
                self.last_update = Some(now);
            }
            ServerMessage::AuthFailed { .. } | ServerMessage::Ping { .. } | ServerMessage::Pong { .. } => {}
        }
    }

    /// Moves everything the inputs decided into the command queue.
    fn pump(&mut self) {
        if self.restored_from.is_some() && self.banner() == Banner::Live {
            info!("[OrderFeed] the saved board is up to date again");
            self.restored_from = None;
        }
        let live_socket = self.link.socket_attempt().filter(|_| self.link.state() == LinkState::Open);
        if self.greeted.is_some() && self.greeted != live_socket {
            self.greeted = None;
            self.board.connection_lost();
            self.commands.push_back(FeedCommand::CallsLost);
        }
        if self.greeted.is_some() {
            for message in self.board.take_unsent() {
                self.link.send(&message);
            }
            if self.snapshot_retry_at.is_none() && self.board.poll_snapshot_request() {
                info!("[OrderFeed] fetching a snapshot");
                self.commands.push_back(FeedCommand::FetchSnapshot);
            }
        }
        while let Some(command) = self.link.poll_command() {
            self.commands.push_back(FeedCommand::Socket(command));
        }
        if self.board.outbox_revision() != self.persisted_outbox {
            self.persisted_outbox = self.board.outbox_revision();
            self.commands.push_back(FeedCommand::PersistOutbox(self.board.outbox_json()));
        }
        let shown = Some((self.status(), self.board.revision()));
        if shown != self.shown {
            self.shown = shown;
            self.commands.push_back(FeedCommand::UiChanged);
        }
    }
}

impl SocketInput for OrderFeed {
    fn link_mut(&mut self) -> &mut Link {
        &mut self.link
    }

    fn after_input(&mut self) {
        self.pump();
    }

    fn handle_socket_opened(&mut self, now: Millis, attempt: AttemptId) {
        if self.link.handle_open(now, attempt)
            && let Some(session) = &self.session
        {
            let hello = ClientMessage::Hello {
                token: session.token.clone(),
                station: session.station_name.clone(),
                since: self.board.last_seq(),
            };
            self.link.send(&hello);
        }
        self.pump();
    }

    fn handle_frame(&mut self, now: Millis, attempt: AttemptId, text: &str) {
        match self.link.handle_frame(now, attempt, text) {
            Some(Inbound::Server(message)) => {
                self.dispatch(now, attempt, message);
                self.schedule_board_save(now);
            }
            Some(Inbound::Call(message)) if self.greeted == Some(attempt) => {
                self.commands.push_back(FeedCommand::Call(message))
            }
            Some(Inbound::Call(message)) => {
                warn!("[OrderFeed] dropped {} before the hub greeted the socket", message.kind())
            }
            None => {}
        }
        self.pump();
    }
}

fn error_code(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NotFound => "not_found",
        ErrorCode::InvalidTransition => "invalid_transition",
        ErrorCode::BadRequest => "bad_request",
        ErrorCode::Forbidden => "forbidden",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use crate::core::sorted_map::SortedMap;

    use proptest::prelude::*;
    use restaurant_protocol::{Order, OrderStatus};

    use super::*;
    use crate::core::test_support::{drain, item, ms, order, secs};
    use restaurant_protocol::close;

    /// Events the simulated hub can still replay.
    const REPLAY: usize = 6;

    struct Conn {
        attempt: AttemptId,
        greeted: bool,
        inflight: VecDeque<String>,
    }

    /// A hub in memory, speaking the wire protocol to one feed, with a clock.
    struct Hub {
        now: Millis,
        up: bool,
        seq: u64,
        /// Every order it knows, active or not.
        orders: BTreeMap<String, Order>,
        log: VecDeque<(u64, String)>,
        answers: HashMap<String, String>,
        conn: Option<Conn>,
        fetches: usize,
        /// How many times the feed asked for its board to be saved.
        board_saves: usize,
        opened: usize,
        received: Vec<ClientMessage>,
        last_delivered: Option<(AttemptId, String)>,
        next_order: u32,
    }

    fn frame(message: &ServerMessage) -> String {
        serde_json::to_string(message).expect("serializable")
    }

    impl Hub {
        fn new() -> Hub {
            Hub {
                now: Millis(0),
                up: true,
                seq: 0,
                orders: BTreeMap::new(),
                log: VecDeque::new(),
                answers: HashMap::new(),
                conn: None,
                fetches: 0,
                board_saves: 0,
                opened: 0,
                received: Vec::new(),
                last_delivered: None,
                next_order: 1,
            }
        }

        fn active(&self) -> SortedMap<std::sync::Arc<str>, std::sync::Arc<Order>> {
            self.orders
                .iter()
                .filter(|(_, o)| o.status.is_active())
                .map(|(k, o)| (std::sync::Arc::from(k.as_str()), std::sync::Arc::new(o.clone())))
                .collect()
        }

        fn snapshot(&self) -> Snapshot {
            Snapshot {
                seq: self.seq,
                orders: self.active().into_values().map(std::sync::Arc::unwrap_or_clone).collect(),
                sold_out: None,
                recent: Vec::new(),
            }
        }

        /// Carries out everything the feed asked for, until it asks for nothing more.
        fn serve(&mut self, feed: &mut OrderFeed) {
            while let Some(command) = feed.poll_command() {
                match command {
                    FeedCommand::Socket(SocketCommand::Open { attempt }) => {
                        if self.up {
                            self.opened += 1;
                            self.conn = Some(Conn { attempt, greeted: false, inflight: VecDeque::new() });
                            feed.handle_socket_opened(self.now, attempt);
                        } else {
                            feed.handle_socket_closed(self.now, attempt, 1006);
                        }
                    }
                    FeedCommand::Socket(SocketCommand::Send { attempt, text }) => {
                        if self.conn.as_ref().is_some_and(|c| c.attempt == attempt) {
                            self.receive(&text);
                        }
                    }
                    FeedCommand::Socket(SocketCommand::Close { attempt, code, .. }) => {
                        if self.conn.as_ref().is_some_and(|c| c.attempt == attempt) {
                            self.conn = None;
                        }
                        feed.handle_socket_closed(self.now, attempt, code);
                    }
                    FeedCommand::FetchSnapshot => self.fetches += 1,
                    FeedCommand::PersistBoard => self.board_saves += 1,
                    FeedCommand::PersistOutbox(_)
                    | FeedCommand::UiChanged
                    | FeedCommand::Call(_)
                    | FeedCommand::CallsLost => {}
                }
            }
        }

        fn push(&mut self, text: String) {
            if let Some(conn) = &mut self.conn {
                conn.inflight.push_back(text);
            }
        }

        fn receive(&mut self, text: &str) {
            let message = ClientMessage::parse(text).expect("the feed sends valid frames");
            self.received.push(message.clone());
            match message {
                ClientMessage::Hello { since, .. } => {
                    let seq = self.seq;
                    self.push(frame(&ServerMessage::Welcome { seq }));
                    if let Some(since) = since {
                        let oldest = self.log.front().map_or(seq + 1, |(s, _)| *s);
                        if since >= seq || since + 1 >= oldest {
                            let replay: Vec<String> =
                                self.log.iter().filter(|(s, _)| *s > since).map(|(_, t)| t.clone()).collect();
                            replay.into_iter().for_each(|t| self.push(t));
                        } else {
                            self.push(frame(&ServerMessage::Resync { seq }));
                        }
                    }
                    if let Some(conn) = &mut self.conn {
                        conn.greeted = true;
                    }
                }
                ClientMessage::Ping { ts } => self.push(frame(&ServerMessage::Pong { ts })),
                ClientMessage::Pong { .. } => {}
                command => {
                    let (request_id, order_id, action) = command.command().expect("a kitchen command");
                    let (request_id, order_id) = (request_id.to_string(), order_id.to_string());
                    // The hub's own rules.
                    self.answer(request_id, &order_id, |o| {
                        let at = o.updated_at.clone();
                        o.apply_action(&action, "kitchen", &at).ok().map(|_| ())
                    });
                }
            }
        }

        /// Applies a command once per request id; a repeat gets the original answer.
        fn answer(&mut self, request_id: String, order_id: &str, change: impl FnOnce(&mut Order) -> Option<()>) {
            if let Some(answer) = self.answers.get(&request_id).cloned() {
                self.push(answer);
                return;
            }
            let answer = match self.mutate(order_id, change) {
                Some(seq) => ServerMessage::Ack { request_id: request_id.clone(), seq },
                None => ServerMessage::Error {
                    request_id: Some(request_id.clone()),
                    code: ErrorCode::InvalidTransition,
                    message: "not allowed".into(),
                },
            };
            let text = frame(&answer);
            self.answers.insert(request_id, text.clone());
            self.push(text);
        }

        /// Changes an order and broadcasts it; the event's seq, or `None` when nothing changed.
        fn mutate(&mut self, order_id: &str, change: impl FnOnce(&mut Order) -> Option<()>) -> Option<u64> {
            let mut order = self.orders.get(order_id)?.clone();
            change(&mut order)?;
            let seq = self.seq + 1;
            order.updated_at = format!("t{seq}");
            let event = ServerMessage::OrderUpdated { seq, order: order.clone() };
            self.orders.insert(order.id.clone(), order);
            self.broadcast(event);
            Some(seq)
        }

        fn broadcast(&mut self, event: ServerMessage) {
            self.seq = event.event_seq().expect("an order event");
            let text = frame(&event);
            self.log.push_back((self.seq, text.clone()));
            if self.log.len() > REPLAY {
                self.log.pop_front();
            }
            if self.conn.as_ref().is_some_and(|c| c.greeted) {
                self.push(text);
            }
        }

        fn create(&mut self) -> String {
            let number = self.next_order;
            self.next_order += 1;
            let order = order(&format!("o{number}"), number, i64::from(number), vec![item("Burger", "grill", 1)]);
            self.orders.insert(order.id.clone(), order.clone());
            self.broadcast(ServerMessage::OrderCreated { seq: self.seq + 1, order: order.clone() });
            order.id
        }

        fn delete(&mut self, order_id: &str) {
            if self.orders.remove(order_id).is_some() {
                self.broadcast(ServerMessage::OrderDeleted { seq: self.seq + 1, order_id: order_id.into() });
            }
        }

        fn nth_order(&self, n: u8) -> Option<String> {
            let len = self.orders.len();
            (len > 0).then(|| self.orders.keys().nth(usize::from(n) % len).cloned()).flatten()
        }

        /// Delivers up to `n` frames in order.
        fn deliver(&mut self, feed: &mut OrderFeed, n: usize) {
            for _ in 0..n {
                let Some(conn) = &mut self.conn else { return };
                let Some(text) = conn.inflight.pop_front() else {
                    return;
                };
                let attempt = conn.attempt;
                feed.handle_frame(self.now, attempt, &text);
                self.last_delivered = Some((attempt, text));
                self.serve(feed);
            }
        }

        fn answer_fetches(&mut self, feed: &mut OrderFeed) {
            while self.fetches > 0 {
                self.fetches -= 1;
                let result = if self.up { Ok(self.snapshot()) } else { Err("hub unreachable".to_string()) };
                feed.handle_snapshot(self.now, result);
                self.serve(feed);
            }
        }

        /// The socket dies under the feed (network cut, hub crash).
        fn drop_socket(&mut self, feed: &mut OrderFeed) {
            if let Some(conn) = self.conn.take() {
                feed.handle_socket_closed(self.now, conn.attempt, 1006);
                self.serve(feed);
            }
        }

        fn advance(&mut self, feed: &mut OrderFeed, by: Duration) {
            self.now = self.now + by;
            feed.handle_timeout(self.now);
            self.serve(feed);
        }

        /// Lets everything in flight land: hub up, fetches answered, frames delivered, timers run.
        fn settle(&mut self, feed: &mut OrderFeed) {
            self.up = true;
            for _ in 0..400 {
                self.answer_fetches(feed);
                self.deliver(feed, usize::MAX);
                self.advance(feed, ms(500));
            }
            self.answer_fetches(feed);
            self.deliver(feed, usize::MAX);
        }
    }

    /// Signed in, connected and greeted; the snapshot fetch is still unanswered.
    fn greeted(mut hub: Hub) -> (Hub, OrderFeed) {
        let mut feed = OrderFeed::new(FeedConfig::default(), 42);
        feed.login(hub.now, "tok".into(), "kitchen");
        hub.serve(&mut feed);
        hub.deliver(&mut feed, usize::MAX);
        (hub, feed)
    }

    fn signed_in() -> (Hub, OrderFeed) {
        let (mut hub, mut feed) = greeted(Hub::new());
        hub.answer_fetches(&mut feed);
        (hub, feed)
    }

    fn sent_commands(hub: &Hub) -> Vec<&ClientMessage> {
        hub.received.iter().filter(|m| !matches!(m, ClientMessage::Hello { .. } | ClientMessage::Ping { .. })).collect()
    }

    #[test]
    fn repeated_login_opens_one_socket() {
        let mut hub = Hub::new();
        let mut feed = OrderFeed::new(FeedConfig::default(), 1);
        for _ in 0..3 {
            feed.login(Millis(0), "tok".into(), "grill");
        }
        hub.serve(&mut feed);
        assert_eq!(hub.opened, 1);
        feed.login(Millis(1), "tok".into(), "grill");
        hub.serve(&mut feed);
        assert_eq!(hub.opened, 1, "signing in again with the same credentials keeps the socket");
    }

    #[test]
    fn first_connection_fetches_the_snapshot_after_welcome_and_goes_live() {
        let mut hub = Hub::new();
        hub.create();
        let mut feed = OrderFeed::new(FeedConfig::default(), 1);
        feed.login(hub.now, "tok".into(), "kitchen");
        assert_eq!(feed.status().banner, Banner::Connecting);
        hub.serve(&mut feed);
        assert_eq!(hub.fetches, 0, "no fetch before the hub greets the socket");
        assert!(matches!(&hub.received[..], [ClientMessage::Hello { since: None, .. }]));
        hub.deliver(&mut feed, usize::MAX);
        assert_eq!(hub.fetches, 1);
        assert_eq!(feed.status().banner, Banner::Syncing, "not live before the board holds the snapshot");
        hub.answer_fetches(&mut feed);
        assert_eq!(feed.status().banner, Banner::Live);
        assert_eq!(feed.board().confirmed_orders(), &hub.active());
        assert_eq!(feed.status().last_update, Some(hub.now));
    }

    #[test]
    fn a_failed_snapshot_keeps_the_banner_at_syncing_until_a_retry_loads_it() {
        let mut hub = Hub::new();
        hub.create();
        let (mut hub, mut feed) = greeted(hub);
        hub.up = false;
        hub.answer_fetches(&mut feed);
        assert_eq!(feed.status().banner, Banner::Syncing, "an empty board is never called live");
        assert!(feed.board().confirmed_orders().is_empty());
        hub.up = true;
        hub.advance(&mut feed, FeedConfig::default().snapshot_retry);
        hub.answer_fetches(&mut feed);
        assert_eq!(feed.status().banner, Banner::Live);
        assert_eq!(feed.board().confirmed_orders(), &hub.active());
    }

    #[test]
    fn reconnect_resumes_from_the_last_seq() {
        let (mut hub, mut feed) = signed_in();
        hub.create();
        hub.deliver(&mut feed, usize::MAX);
        hub.drop_socket(&mut feed);
        hub.create();
        hub.advance(&mut feed, ms(1_250));
        assert!(matches!(hub.received.last(), Some(ClientMessage::Hello { since: Some(1), .. })));
        hub.deliver(&mut feed, usize::MAX);
        assert_eq!(hub.fetches, 0, "replayed, no snapshot needed");
        assert_eq!(feed.board().last_seq(), Some(2));
        assert_eq!(feed.board().confirmed_orders(), &hub.active());
    }

    #[test]
    fn outbox_replays_once_after_reconnect() {
        let (mut hub, mut feed) = signed_in();
        let id = hub.create();
        hub.deliver(&mut feed, usize::MAX);
        hub.up = false;
        hub.drop_socket(&mut feed);
        let request_id =
            feed.command(&id, Command::Start { station: "kitchen".into() }, [9; 16]).expect("start allowed");
        hub.serve(&mut feed);
        assert!(sent_commands(&hub).is_empty(), "nothing goes out while disconnected");
        assert_eq!(feed.debug_status().pending_commands, 1);
        hub.up = true;
        hub.advance(&mut feed, ms(1_250));
        assert!(sent_commands(&hub).is_empty(), "commands wait for the hub's welcome");
        hub.deliver(&mut feed, 1);
        assert_eq!(sent_commands(&hub).len(), 1);
        hub.deliver(&mut feed, usize::MAX);
        hub.advance(&mut feed, secs(20));
        hub.deliver(&mut feed, usize::MAX);
        assert_eq!(sent_commands(&hub).len(), 1, "sent exactly once");
        assert_eq!(feed.debug_status().pending_commands, 0, "the ack removed it");
        assert_eq!(hub.orders[&id].status, OrderStatus::Preparing);
        assert_eq!(feed.board().confirmed_orders()[id.as_str()].status, OrderStatus::Preparing);
        assert!(hub.answers.contains_key(&request_id));
    }

    #[test]
    fn unanswered_command_is_resent_after_reconnect_and_applied_once() {
        let (mut hub, mut feed) = signed_in();
        let id = hub.create();
        hub.deliver(&mut feed, usize::MAX);
        feed.command(&id, Command::Start { station: "kitchen".into() }, [8; 16]).expect("start allowed");
        hub.serve(&mut feed);
        assert_eq!(sent_commands(&hub).len(), 1);
        let applied_seq = hub.seq;
        hub.drop_socket(&mut feed); // the answer never arrives
        hub.advance(&mut feed, ms(1_250));
        hub.deliver(&mut feed, usize::MAX);
        assert_eq!(sent_commands(&hub).len(), 2, "re-sent on the new connection");
        assert_eq!(hub.seq, applied_seq, "the hub applied it once");
        assert_eq!(feed.debug_status().pending_commands, 0);
    }

    #[test]
    fn a_screen_cannot_queue_what_its_station_may_not_do() {
        let mut hub = Hub::new();
        let mut feed = OrderFeed::new(FeedConfig::default(), 42);
        let id = hub.create();
        assert_eq!(feed.command(&id, Command::Rush { rush: true }, [1; 16]), Err(CommandError::SignedOut));
        feed.login(hub.now, "tok".into(), "grill");
        hub.serve(&mut feed);
        hub.deliver(&mut feed, usize::MAX);
        hub.answer_fetches(&mut feed);
        let refused = feed.command(&id, Command::Bump { station: "fryer".into() }, [2; 16]);
        assert_eq!(refused, Err(CommandError::Forbidden("station grill may not bump fryer's items".into())));
        assert!(matches!(
            feed.command(&id, Command::Complete { force: false }, [3; 16]),
            Err(CommandError::Forbidden(_))
        ));
        assert_eq!(feed.debug_status().pending_commands, 0, "nothing queued or shown");
        feed.command(&id, Command::Bump { station: "grill".into() }, [4; 16]).expect("its own items");
    }

    #[test]
    fn command_error_reverts_and_reports() {
        let (mut hub, mut feed) = signed_in();
        let id = hub.create();
        hub.deliver(&mut feed, usize::MAX);
        hub.mutate(&id, |o| act(o, &Command::Void { reason: "customer left".into() }));
        feed.command(&id, Command::Start { station: "kitchen".into() }, [6; 16])
            .expect("the board has not seen the cancel yet");
        hub.serve(&mut feed);
        hub.deliver(&mut feed, usize::MAX);
        assert!(feed.board().tickets(&Station::Kitchen, Millis(0)).is_empty());
        assert_eq!(feed.board().failures().count(), 1);
        assert_eq!(feed.debug_status().pending_commands, 0);
    }

    #[test]
    fn banner_follows_the_connection() {
        let mut feed = OrderFeed::new(FeedConfig::default(), 3);
        let mut hub = Hub::new();
        assert_eq!(feed.status().banner, Banner::SignedOut);
        feed.login(hub.now, "tok".into(), "expo");
        assert_eq!(feed.status().banner, Banner::Connecting);
        hub.serve(&mut feed);
        hub.deliver(&mut feed, usize::MAX);
        assert_eq!(feed.status().banner, Banner::Syncing);
        hub.answer_fetches(&mut feed);
        assert_eq!(feed.status().banner, Banner::Live);
        hub.up = false;
        hub.drop_socket(&mut feed);
        assert_eq!(feed.status().banner, Banner::Reconnecting { attempt: 1 });
        hub.advance(&mut feed, ms(1_250));
        assert_eq!(feed.status().banner, Banner::Reconnecting { attempt: 2 });
        feed.handle_online(hub.now, false);
        assert_eq!(feed.status().banner, Banner::Offline);
        hub.up = true;
        feed.handle_online(hub.now, true);
        hub.serve(&mut feed);
        hub.deliver(&mut feed, usize::MAX);
        assert_eq!(feed.status().banner, Banner::Live, "back online reconnects at once");
        let debug = feed.debug_status();
        assert_eq!((debug.state, debug.reconnect_attempts, debug.is_reconnecting), ("open", 0, false));
    }

    #[test]
    fn banner_words_name_the_reconnect_attempt() {
        assert_eq!(Banner::Reconnecting { attempt: 3 }.text(), "Reconnecting (attempt 3)");
        assert_eq!(Banner::Live.text(), "Live");
        assert_eq!(Banner::SignInFailed.text(), "Sign-in failed");
    }

    #[test]
    fn only_a_signed_out_or_refused_station_shows_the_sign_in_form() {
        assert!(!Banner::SignedOut.is_signed_in());
        assert!(!Banner::SignInFailed.is_signed_in());
        for banner in
            [Banner::Connecting, Banner::Syncing, Banner::Live, Banner::Reconnecting { attempt: 1 }, Banner::Offline]
        {
            assert!(banner.is_signed_in(), "{banner:?}");
        }
    }

    #[test]
    fn call_frames_share_the_greeted_socket_and_its_loss_is_reported() {
        let mut feed = OrderFeed::new(FeedConfig::default(), 3);
        feed.login(Millis(0), "tok".into(), "grill");
        let attempt = feed.link().socket_attempt().expect("connecting");
        feed.handle_socket_opened(Millis(1), attempt);
        let hangup = CallMessage::Hangup { call_id: "c1".into() };
        assert!(!feed.send_call(&hangup), "nothing leaves before the hub greets the socket");
        feed.handle_frame(Millis(2), attempt, r#"{"type":"call.cancel","call_id":"c0"}"#);
        let early = drain(|| feed.poll_command());
        assert!(!early.iter().any(|c| matches!(c, FeedCommand::Call(_))), "{early:?}");

        feed.handle_frame(Millis(3), attempt, r#"{"type":"welcome","seq":0}"#);
        feed.handle_frame(Millis(4), attempt, r#"{"type":"call.request","call_id":"c1","from":"kiosk-1"}"#);
        feed.handle_frame(Millis(5), attempt, r#"{"type":"call.ring","call_id":"c1"}"#);
        let commands = drain(|| feed.poll_command());
        let calls: Vec<&FeedCommand> = commands.iter().filter(|c| matches!(c, FeedCommand::Call(_))).collect();
        assert_eq!(
            calls,
            vec![&FeedCommand::Call(CallMessage::Request {
                call_id: "c1".into(),
                from: "kiosk-1".into(),
                to_station: None
            })]
        );
        assert!(feed.send_call(&hangup));
        assert_eq!(
            feed.poll_command(),
            Some(FeedCommand::Socket(SocketCommand::Send {
                attempt,
                text: r#"{"type":"call.hangup","call_id":"c1"}"#.into()
            }))
        );

        feed.handle_socket_closed(Millis(6), attempt, 1006);
        let commands = drain(|| feed.poll_command());
        assert_eq!(commands.iter().filter(|c| **c == FeedCommand::CallsLost).count(), 1);
        assert!(!feed.send_call(&hangup));
    }

    #[test]
    fn auth_failure_shows_sign_in_failed_and_stays_down() {
        let mut hub = Hub::new();
        let mut feed = OrderFeed::new(FeedConfig::default(), 3);
        feed.login(hub.now, "bad".into(), "grill");
        let attempt = feed.link().socket_attempt().expect("connecting");
        feed.handle_socket_opened(hub.now, attempt);
        feed.handle_frame(hub.now, attempt, r#"{"type":"auth_failed","reason":"bad token"}"#);
        feed.handle_socket_closed(hub.now, attempt, close::AUTH_FAILED);
        drain(|| feed.poll_command());
        hub.advance(&mut feed, secs(120));
        assert_eq!(feed.status().banner, Banner::SignInFailed);
        assert_eq!(feed.poll_timeout(), None);
    }

    #[test]
    fn the_board_is_saved_at_most_every_interval_and_a_reload_shows_it_until_the_hub_is_back() {
        let (mut hub, mut feed) = signed_in();
        hub.answer_fetches(&mut feed);
        assert!(feed.board().is_live());
        hub.advance(&mut feed, Duration::from_secs(3));
        let saves = hub.board_saves;
        for _ in 0..5 {
            hub.create();
            hub.deliver(&mut feed, usize::MAX);
            hub.advance(&mut feed, Duration::from_millis(300));
        }
        assert_eq!(hub.board_saves, saves, "1.5 s of changes: not yet");
        hub.advance(&mut feed, Duration::from_millis(3_600));
        assert_eq!(hub.board_saves, saves + 1, "then once");
        hub.advance(&mut feed, Duration::from_secs(5));
        assert_eq!(hub.board_saves, saves + 1, "nothing changed since");
        let mut saved = feed.board().saved().expect("current");
        saved.saved_at_unix_ms = 1_795_000_000_000;
        let seq = saved.seq;

        // Reloaded while the hub is down: the saved board shows, not live, and says since when.
        hub.up = false;
        hub.drop_socket(&mut feed);
        let mut reloaded = OrderFeed::new(FeedConfig::default(), 7);
        let day = 24 * 60 * 60 * 1000;
        assert!(!OrderFeed::new(FeedConfig::default(), 7).restore_board(saved.clone(), 1_795_000_000_000 + day));
        assert!(!OrderFeed::new(FeedConfig::default(), 7).restore_board(saved.clone(), 1_794_999_000_000));
        assert!(reloaded.restore_board(saved, 1_795_000_060_000));
        assert_eq!(reloaded.status().board_saved_at, Some(1_795_000_000_000));
        reloaded.login(hub.now, "token".into(), "kitchen");
        hub.serve(&mut reloaded);
        assert_eq!(reloaded.board().tickets(&Station::Kitchen, Millis(0)).len(), 5);
        assert_ne!(reloaded.status().banner, Banner::Live);
        let id = reloaded.board().tickets(&Station::Kitchen, Millis(0))[0].order.id.clone();
        reloaded.command(&id, Command::Bump { station: "kitchen".into() }, [3; 16]).expect("a bump goes to the outbox");

        // The hub is back: the feed resumes from the saved seq, the bump is applied once.
        hub.up = true;
        hub.advance(&mut reloaded, Duration::from_secs(30));
        hub.settle(&mut reloaded);
        assert!(hub.received.iter().any(|m| matches!(m, ClientMessage::Hello { since: Some(s), .. } if *s == seq)));
        assert_eq!(reloaded.status().banner, Banner::Live);
        assert_eq!(reloaded.status().board_saved_at, None, "up to date again");
        assert_eq!(reloaded.debug_status().pending_commands, 0);
        assert_eq!(hub.orders[&id].status, OrderStatus::Ready);
    }

    #[test]
    fn logout_closes_the_socket_and_clears_the_board() {
        let (mut hub, mut feed) = signed_in();
        let id = hub.create();
        hub.deliver(&mut feed, usize::MAX);
        feed.command(&id, Command::Rush { rush: true }, [1; 16]).expect("rush allowed");
        drain(|| feed.poll_command());
        feed.logout();
        let commands = drain(|| feed.poll_command());
        assert!(commands.iter().any(|c| matches!(c, FeedCommand::Socket(SocketCommand::Close { code: 1000, .. }))));
        assert!(commands.contains(&FeedCommand::PersistOutbox("[]".into())));
        assert!(commands.contains(&FeedCommand::UiChanged));
        assert!(feed.board().confirmed_orders().is_empty());
        assert_eq!(feed.status().banner, Banner::SignedOut);
        feed.handle_snapshot(hub.now, Ok(hub.snapshot()));
        assert!(feed.board().confirmed_orders().is_empty(), "a late snapshot does not refill the board");
    }

    #[test]
    fn failed_snapshot_fetch_is_retried_after_a_delay() {
        let mut hub = Hub::new();
        let mut feed = OrderFeed::new(FeedConfig::default(), 5);
        feed.login(hub.now, "tok".into(), "kitchen");
        hub.serve(&mut feed);
        hub.deliver(&mut feed, usize::MAX);
        assert_eq!(hub.fetches, 1);
        hub.fetches = 0;
        feed.handle_snapshot(hub.now, Err("503".into()));
        hub.serve(&mut feed);
        assert_eq!(hub.fetches, 0);
        assert_eq!(feed.poll_timeout(), Some(hub.now + secs(2)));
        hub.advance(&mut feed, secs(2));
        assert_eq!(hub.fetches, 1);
    }

    #[test]
    fn outbox_changes_are_persisted_and_restored() {
        let (mut hub, mut feed) = signed_in();
        let id = hub.create();
        hub.deliver(&mut feed, usize::MAX);
        hub.up = false;
        hub.drop_socket(&mut feed);
        feed.command(&id, Command::Start { station: "kitchen".into() }, [4; 16]).expect("start allowed");
        let stored = drain(|| feed.poll_command())
            .into_iter()
            .find_map(|c| match c {
                FeedCommand::PersistOutbox(json) => Some(json),
                _ => None,
            })
            .expect("persisted");
        let mut reloaded = OrderFeed::new(FeedConfig::default(), 6);
        assert_eq!(reloaded.restore_outbox(&stored), Ok(1));
        hub.up = true;
        reloaded.login(hub.now, "tok".into(), "kitchen");
        hub.serve(&mut reloaded);
        hub.settle(&mut reloaded);
        assert_eq!(hub.orders[&id].status, OrderStatus::Preparing);
        assert_eq!(reloaded.debug_status().pending_commands, 0);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Create,
        Advance(u8),
        Recall(u8),
        Rush(u8),
        Delete(u8),
        Deliver(u8),
        Duplicate,
        LoseEvent,
        SlowClientResync,
        DropSocket,
        HubDown,
        HubUp,
        Wait(u16),
        AnswerFetches,
        UserCommand(u8, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Create),
            3 => any::<u8>().prop_map(Op::Advance),
            1 => any::<u8>().prop_map(Op::Recall),
            1 => any::<u8>().prop_map(Op::Rush),
            1 => any::<u8>().prop_map(Op::Delete),
            5 => (1u8..8).prop_map(Op::Deliver),
            1 => Just(Op::Duplicate),
            2 => Just(Op::LoseEvent),
            1 => Just(Op::SlowClientResync),
            1 => Just(Op::DropSocket),
            1 => Just(Op::HubDown),
            1 => Just(Op::HubUp),
            2 => (0u16..40_000).prop_map(Op::Wait),
            2 => Just(Op::AnswerFetches),
            3 => (any::<u8>(), 0u8..5).prop_map(|(o, c)| Op::UserCommand(o, c)),
        ]
    }

    /// What moves an order one step on, as another screen would.
    fn next_action(status: OrderStatus) -> Option<Command> {
        let kitchen = || "kitchen".to_string();
        match status {
            OrderStatus::New => Some(Command::Start { station: kitchen() }),
            OrderStatus::Preparing => Some(Command::Bump { station: kitchen() }),
            OrderStatus::Ready => Some(Command::Complete { force: false }),
            OrderStatus::Completed | OrderStatus::Cancelled => None,
        }
    }

    /// Applies `action` on the hub side, by the hub's rules.
    fn act(o: &mut Order, action: &Command) -> Option<()> {
        let at = o.updated_at.clone();
        o.apply_action(action, "kitchen", &at).ok().map(|_| ())
    }

    fn is_event(text: &str) -> bool {
        ServerMessage::parse(text).is_ok_and(|m| m.event_seq().is_some())
    }

    fn run_op(hub: &mut Hub, feed: &mut OrderFeed, op: Op, random: &mut u128) {
        match op {
            Op::Create => {
                hub.create();
            }
            Op::Advance(n) => {
                if let Some(id) = hub.nth_order(n) {
                    hub.mutate(&id, |o| next_action(o.status).and_then(|a| act(o, &a)));
                }
            }
            Op::Recall(n) => {
                if let Some(id) = hub.nth_order(n) {
                    hub.mutate(&id, |o| act(o, &Command::Recall { station: None }));
                }
            }
            Op::Rush(n) => {
                if let Some(id) = hub.nth_order(n) {
                    hub.mutate(&id, |o| act(o, &Command::Rush { rush: !o.rush }));
                }
            }
            Op::Delete(n) => {
                if let Some(id) = hub.nth_order(n) {
                    hub.delete(&id);
                }
            }
            Op::Deliver(n) => hub.deliver(feed, usize::from(n)),
            Op::Duplicate => {
                if let Some((attempt, text)) = hub.last_delivered.clone() {
                    feed.handle_frame(hub.now, attempt, &text);
                }
            }
            Op::LoseEvent => {
                // A frame lost mid-stream: the next event reveals the gap.
                if let Some(conn) = &mut hub.conn {
                    let events: Vec<usize> =
                        (0..conn.inflight.len()).filter(|&i| is_event(&conn.inflight[i])).collect();
                    if let [first, _, ..] = events[..] {
                        conn.inflight.remove(first);
                    }
                }
            }
            Op::SlowClientResync => {
                let seq = hub.seq;
                if let Some(conn) = &mut hub.conn
                    && conn.greeted
                {
                    conn.inflight.retain(|t| !is_event(t));
                    conn.inflight.push_back(frame(&ServerMessage::Resync { seq }));
                }
            }
            Op::DropSocket => hub.drop_socket(feed),
            Op::HubDown => {
                hub.up = false;
                hub.drop_socket(feed);
            }
            Op::HubUp => hub.up = true,
            Op::Wait(n) => hub.advance(feed, ms(u64::from(n))),
            Op::AnswerFetches => hub.answer_fetches(feed),
            Op::UserCommand(n, kind) => {
                let tickets = feed.board().tickets(&Station::Kitchen, Millis(0));
                if !tickets.is_empty() {
                    let id = tickets[usize::from(n) % tickets.len()].order.id.clone();
                    let command = match kind {
                        0 => Command::Start { station: "kitchen".into() },
                        1 => Command::Bump { station: "kitchen".into() },
                        2 => Command::Complete { force: false },
                        3 => Command::Recall { station: None },
                        _ => Command::Rush { rush: true },
                    };
                    *random += 1;
                    let _ = feed.command(&id, command, random.to_le_bytes());
                }
            }
        }
        hub.serve(feed);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn board_converges_to_the_hub_state_once_the_stream_settles(ops in proptest::collection::vec(op(), 1..80)) {
            let (mut hub, mut feed) = signed_in();
            let mut random = 0u128;
            for op in ops {
                run_op(&mut hub, &mut feed, op, &mut random);
            }
            hub.settle(&mut feed);
            prop_assert_eq!(feed.status().banner, Banner::Live);
            prop_assert!(feed.board().is_live());
            prop_assert_eq!(feed.board().confirmed_orders(), &hub.active());
            prop_assert_eq!(feed.debug_status().pending_commands, 0);
            let shown: SortedMap<std::sync::Arc<str>, std::sync::Arc<Order>> = feed
                .board()
                .tickets(&Station::Kitchen, Millis(0))
                .into_iter()
                .map(|t| (std::sync::Arc::from(t.order.id.as_str()), t.order))
                .collect();
            prop_assert_eq!(shown, hub.active());
        }
    }
}
