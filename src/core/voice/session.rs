//! One voice session: the connection lifecycle, the push-to-talk turn, and everything the server
//! says, as a sans-IO state machine. The driver feeds inputs (`handle_*`, commands), then calls
//! [`VoiceSession::flush`], drains [`VoiceSession::poll_command`] and re-arms its single timer from
//! [`VoiceSession::poll_timeout`].

use std::collections::{HashSet, VecDeque};
use std::fmt;

use restaurant_protocol::Menu;
use serde_json::{Value, json};

use super::client::ClientEvent;
use super::dedupe::EventIdWindow;
use super::events::{Item, ParseError, ServerEventKind, parse_server_event};
use super::outbox::{EventChannel, FlushReport, Outbox};
use super::sequencer::ResponseSequencer;
use super::token::{TokenStatus, token_status};
use super::tools::{CallAccumulator, CallOutcome, OrderAction, instructions, run_call, tool_definitions};
use super::transcript::{Role, TranscriptEntry, TranscriptMap, TranscriptUpdate};
use super::turn::{Timeouts, TurnState};
use crate::core::cart::{Cart, CartLine};
use crate::core::sorted_map::SortedMap;
use crate::core::time::Millis;

/// What to do after a failed turn.
pub const TRY_AGAIN_HELP: &str = "Tap the button to try again, or keep ordering by touch.";
/// What to do after the connection is lost.
pub const RECONNECT_HELP: &str = "Tap Reconnect to talk again, or keep ordering by touch.";

/// Distinct event types counted by name; further unknown types share one bucket.
const MAX_COUNTED_TYPES: usize = 128;
const OTHER_UNKNOWN_TYPES: &str = "(other unknown types)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceConfig {
    pub timeouts: Timeouts,
    /// Let the server detect the end of speech. Off (push-to-talk only) by default: the kiosk then
    /// asks for a response itself once the audio is committed.
    pub server_vad: bool,
    pub transcription_model: String,
    /// Makes client `event_id`s unique across sessions (the driver passes a random value).
    pub id_seed: u64,
    /// Keep a token ready: fetch the next one as soon as a connection spends one (and refresh it
    /// before it expires), so a tap connects without waiting for a token.
    pub prefetch_token: bool,
}

impl Default for VoiceConfig {
    fn default() -> VoiceConfig {
        VoiceConfig {
            timeouts: Timeouts::default(),
            server_vad: false,
            transcription_model: "gpt-4o-mini-transcribe".to_string(),
            id_seed: 0,
            prefetch_token: true,
        }
    }
}

/// What the driver (and through it the UI) must do.
#[derive(Debug, Clone, PartialEq)]
pub enum VoiceCommand {
    /// Create the peer connection and data channel and exchange SDP using the token handed in
    /// last (which is then spent: the next connect needs a new one).
    StartConnection,
    /// Close the peer connection (idempotent for the driver).
    CloseConnection,
    SetMicEnabled(bool),
    /// Fetch a new ephemeral token and hand it in with [`VoiceSession::handle_token`].
    RefreshToken,
    StateChanged {
        from: TurnState,
        to: TurnState,
    },
    /// A transcript entry (customer or assistant) changed.
    Transcript(TranscriptUpdate),
    AssistantSpeaking(bool),
    /// The cart passed to `handle_server_frame` was changed.
    CartChanged,
    Order(OrderAction),
    /// A command was refused in the current state.
    Rejected {
        command: &'static str,
        state: TurnState,
    },
    /// Something went wrong; `message` and `help` (what to do now) are for people.
    Error {
        message: String,
        help: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoiceError {
    Rejected { command: &'static str, state: TurnState },
    NoToken,
    TokenExpired,
    Parse(ParseError),
    EventTooLarge { event_type: &'static str, bytes: usize },
    OutboxFull { event_type: &'static str },
}

impl fmt::Display for VoiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VoiceError::Rejected { command, state } => {
                write!(f, "cannot {command} while {}", state.as_str())
            }
            VoiceError::NoToken => write!(f, "no voice token yet"),
            VoiceError::TokenExpired => write!(f, "the voice token has expired"),
            VoiceError::Parse(e) => write!(f, "bad server event: {e}"),
            VoiceError::EventTooLarge { event_type, bytes } => {
                write!(f, "{event_type} of {bytes} bytes is too large to send")
            }
            VoiceError::OutboxFull { event_type } => {
                write!(f, "outgoing queue is full; {event_type} dropped")
            }
        }
    }
}

impl std::error::Error for VoiceError {}

/// The current token's lifetime on the monotonic clock.
#[derive(Debug, Clone, Copy)]
struct TokenClock {
    expires: Millis,
    refresh_at: Millis,
    refresh_requested: bool,
}

pub struct VoiceSession {
    config: VoiceConfig,
    menu: Menu,
    state: TurnState,
    deadline: Option<Millis>,
    token: Option<TokenClock>,
    outbox: Outbox,
    dedupe: EventIdWindow,
    transcripts: TranscriptMap,
    calls: CallAccumulator,
    sequencer: ResponseSequencer,
    counts: SortedMap<String, u64>,
    logged_unknown: HashSet<String>,
    commands: VecDeque<VoiceCommand>,
    last_error: Option<String>,
    next_event_id: u64,
    /// The server speaks the GA API (decides the `session.update` shape).
    ga: bool,
    mic_on: bool,
    assistant_speaking: bool,
    /// A response finished since the current turn's audio was committed.
    response_done_this_turn: bool,
    /// This connection's first `session.update` is queued: later menu changes send their own.
    session_configured: bool,
    /// The cart the customer was asked "Shall I place it?" about; a checkout places the order
    /// only while the cart is still exactly this.
    confirmation_for: Option<Vec<CartLine>>,
    /// Server turn detection only: the customer muted the microphone.
    muted: bool,
    /// Completed customer turns (transcripts) on this connection: a placing checkout needs one
    /// after the question was asked.
    user_turns: u64,
    /// `user_turns` when "Shall I place it?" was asked.
    asked_at_turn: u64,
    /// Why no order can be placed now (an earlier order is still on its way).
    order_blocked: Option<String>,
    /// A barge-in cancelled the response under way: its remaining events (`response.created`,
    /// function calls, `response.done`) belong to it, not to the customer's new turn.
    cancelled_response: bool,
    /// The Realtime session id of the current connection.
    session_id: Option<String>,
}

impl VoiceSession {
    #[must_use]
    pub fn new(config: VoiceConfig, menu: Menu) -> VoiceSession {
        VoiceSession {
            config,
            menu,
            state: TurnState::Disconnected,
            deadline: None,
            token: None,
            outbox: Outbox::default(),
            dedupe: EventIdWindow::default(),
            transcripts: TranscriptMap::default(),
            calls: CallAccumulator::default(),
            sequencer: ResponseSequencer::default(),
            counts: SortedMap::new(),
            logged_unknown: HashSet::new(),
            commands: VecDeque::new(),
            last_error: None,
            next_event_id: 0,
            ga: false,
            mic_on: false,
            assistant_speaking: false,
            response_done_this_turn: false,
            session_configured: false,
            confirmation_for: None,
            muted: false,
            user_turns: 0,
            asked_at_turn: 0,
            order_blocked: None,
            cancelled_response: false,
            session_id: None,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Getters

    pub fn state(&self) -> TurnState {
        self.state
    }

    /// The menu the assistant sells from and function calls are checked against.
    pub fn menu(&self) -> &Menu {
        &self.menu
    }

    pub fn transcript(&self) -> Vec<&TranscriptEntry> {
        self.transcripts.entries()
    }

    /// Received events by (GA) type name.
    pub fn event_counts(&self) -> &SortedMap<String, u64> {
        &self.counts
    }

    pub fn event_count(&self, event_type: &str) -> u64 {
        self.counts.get(event_type).copied().unwrap_or(0)
    }

    pub fn last_error(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// The server's id of the current Realtime session (from `session.created`).
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The assistant's reply audio is playing.
    pub fn assistant_speaking(&self) -> bool {
        self.assistant_speaking
    }

    /// Server turn detection only: the microphone is muted by the customer.
    pub fn is_muted(&self) -> bool {
        self.muted
    }

    /// Holds a token it can connect with at `now` (fetched ahead of the tap).
    pub fn has_token(&self, now: Millis) -> bool {
        self.token.is_some_and(|t| now < t.expires)
    }

    /// The customer has been asked "Shall I place it?" about `cart` as it is now.
    pub fn awaiting_confirmation(&self, cart: &Cart) -> bool {
        self.confirmation_for.as_deref() == Some(cart.lines())
    }

    /// The customer was asked about `cart` as it is now and has spoken since: a checkout places.
    fn confirmed(&self, cart: &Cart) -> bool {
        self.awaiting_confirmation(cart) && self.user_turns > self.asked_at_turn
    }

    pub fn queued_events(&self) -> usize {
        self.outbox.len()
    }

    /// In a state that must end by a deadline, and the deadline is missing or already past (the
    /// driver did not deliver the timeout).
    pub fn is_stuck(&self, now: Millis) -> bool {
        self.config.timeouts.for_state(self.state).is_some() && self.deadline.is_none_or(|d| now >= d)
    }

    #[must_use = "the command must be carried out"]
    pub fn poll_command(&mut self) -> Option<VoiceCommand> {
        self.commands.pop_front()
    }

    /// When to call [`VoiceSession::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        let refresh = self.token.filter(|t| !t.refresh_requested).map(|t| t.refresh_at);
        match (self.deadline, refresh) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Token and connection

    /// A freshly fetched token: `expires_at_secs` is Unix seconds, `unix_now` the wall clock.
    pub fn handle_token(&mut self, now: Millis, expires_at_secs: u64, unix_now: Millis) -> Result<(), VoiceError> {
        let (expires_in, refresh_in) = match token_status(expires_at_secs, unix_now) {
            TokenStatus::Expired => {
                self.token = None;
                self.report_error(
                    "[VoiceSession] received an already expired token",
                    "Voice is unavailable right now.",
                );
                self.commands.push_back(VoiceCommand::RefreshToken);
                return Err(VoiceError::TokenExpired);
            }
            TokenStatus::RefreshDue { expires_in } => (expires_in, std::time::Duration::ZERO),
            TokenStatus::Valid { refresh_in } => (refresh_in + super::token::REFRESH_MARGIN, refresh_in),
        };
        self.token = Some(TokenClock {
            expires: now.after(expires_in),
            refresh_at: now.after(refresh_in),
            refresh_requested: false,
        });
        Ok(())
    }

    pub fn handle_connect_requested(&mut self, now: Millis) -> Result<(), VoiceError> {
        if !matches!(self.state, TurnState::Disconnected | TurnState::Error) {
            return Err(self.reject("connect"));
        }
        let token_error = match self.token {
            None => Some(VoiceError::NoToken),
            Some(t) if now >= t.expires => Some(VoiceError::TokenExpired),
            Some(_) => None,
        };
        if let Some(e) = token_error {
            self.token = None;
            self.report_error(
                &format!("[VoiceSession] connect refused: {e}"),
                "Voice is starting up, please try again in a moment.",
            );
            self.commands.push_back(VoiceCommand::RefreshToken);
            return Err(e);
        }
        // The driver spends the token on this connection's SDP exchange, and fetches the next one
        // now, so the next connection (the next customer, or a reconnect) starts without waiting.
        self.token = None;
        self.reset_connection();
        self.commands.push_back(VoiceCommand::StartConnection);
        if self.config.prefetch_token {
            self.commands.push_back(VoiceCommand::RefreshToken);
        }
        self.enter(now, TurnState::Connecting);
        Ok(())
    }

    /// The data channel exists (open or about to open). Flushes anything queued.
    pub fn handle_channel_open(&mut self, now: Millis, channel: &mut dyn EventChannel) -> Result<(), VoiceError> {
        match self.state {
            TurnState::Connecting => self.enter(now, TurnState::AwaitingSessionCreated),
            s if s.is_connected() => {}
            _ => return Err(self.reject("use a data channel")),
        }
        self.flush(now, channel);
        Ok(())
    }

    pub fn handle_channel_closed(&mut self, now: Millis) {
        match self.state {
            TurnState::Disconnected | TurnState::Error => {}
            TurnState::Disconnecting => self.enter(now, TurnState::Disconnected),
            _ => self.fail(now, "[VoiceSession] data channel closed unexpectedly", "The voice connection was lost."),
        }
    }

    pub fn handle_connection_failed(&mut self, now: Millis, reason: &str) {
        match self.state {
            TurnState::Disconnected | TurnState::Error => {
                log::warn!("[VoiceSession] connection failure after teardown ignored: {reason}");
            }
            TurnState::Disconnecting => self.enter(now, TurnState::Disconnected),
            _ => self.fail(
                now,
                &format!("[VoiceSession] connection failed: {reason}"),
                "Could not connect to the voice assistant.",
            ),
        }
    }

    /// Hangs up. Idempotent: disconnecting while disconnected or disconnecting does nothing.
    pub fn disconnect(&mut self, now: Millis) {
        match self.state {
            TurnState::Disconnected | TurnState::Disconnecting => {}
            TurnState::Error => self.enter(now, TurnState::Disconnected),
            _ => {
                self.reset_connection();
                self.commands.push_back(VoiceCommand::CloseConnection);
                self.enter(now, TurnState::Disconnecting);
            }
        }
    }

    /// Escape hatch: back to Idle (Disconnected when there is no channel), timers cleared.
    pub fn force_reset(&mut self, now: Millis) {
        log::warn!("[VoiceSession] force reset from {}", self.state.as_str());
        self.set_mic(false);
        self.sequencer.reset();
        self.calls.clear();
        if self.state.is_connected() {
            self.enter(now, TurnState::Idle);
        } else {
            if !matches!(self.state, TurnState::Disconnected) {
                self.reset_connection();
                self.commands.push_back(VoiceCommand::CloseConnection);
            }
            self.enter(now, TurnState::Disconnected);
        }
    }

    /// The customer is done (placed, walked away, started over): forgets their conversation and
    /// the pending confirmation. The connection itself is ended with [`VoiceSession::disconnect`].
    pub fn forget_customer(&mut self) {
        self.transcripts = TranscriptMap::default();
        self.confirmation_for = None;
        self.muted = false;
        self.user_turns = 0;
        self.asked_at_turn = 0;
    }

    /// Why an order cannot be placed right now (`None`: it can). A checkout asked for meanwhile
    /// is answered with this reason instead of being confirmed or placed.
    pub fn set_order_blocked(&mut self, reason: Option<String>) {
        if self.order_blocked != reason {
            log::info!("[VoiceSession] placing orders {}", reason.as_deref().unwrap_or("possible again"));
            self.order_blocked = reason;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Menu

    /// The menu changed (availability, prices, options). Function calls are checked against the
    /// new one at once. A configured session gets a `session.update` with the new instructions
    /// and tools, queued behind whatever is already waiting; before that, the connection's own
    /// `session.update` carries the new menu.
    pub fn handle_menu_changed(&mut self, _now: Millis, menu: Menu) {
        if menu == self.menu {
            log::info!("[VoiceSession] menu unchanged; nothing to update");
            return;
        }
        self.menu = menu;
        if self.session_configured && self.state.is_connected() {
            log::info!("[VoiceSession] menu changed; updating the session");
            let session = self.session_update_for_menu();
            self.send(ClientEvent::SessionUpdate { session });
        } else {
            log::info!("[VoiceSession] menu changed; the next session will use it");
        }
    }

    // -----------------------------------------------------------------------------------------
    // Push-to-talk

    /// Starts the customer's turn. Pressing while the assistant speaks or is still producing its
    /// answer interrupts it (barge-in): `response.cancel` when a response is under way,
    /// `output_audio_buffer.clear` to stop the audio, then recording starts.
    pub fn start_recording(&mut self, now: Millis) -> Result<(), VoiceError> {
        if self.config.server_vad {
            return Err(self.reject("start recording with server turn detection"));
        }
        if !matches!(self.state, TurnState::Idle | TurnState::AwaitingTranscript | TurnState::AwaitingResponse) {
            return Err(self.reject("start recording"));
        }
        self.interrupt();
        self.send(ClientEvent::InputAudioBufferClear);
        self.set_mic(true);
        self.response_done_this_turn = false;
        self.enter(now, TurnState::Recording);
        Ok(())
    }

    pub fn stop_recording(&mut self, now: Millis) -> Result<(), VoiceError> {
        if self.state != TurnState::Recording {
            return Err(self.reject("stop recording"));
        }
        self.stop_and_commit(now);
        Ok(())
    }

    /// Server turn detection only: mutes or unmutes the microphone (the button's only job then).
    pub fn set_muted(&mut self, now: Millis, muted: bool) -> Result<(), VoiceError> {
        if !self.config.server_vad {
            return Err(self.reject("mute without server turn detection"));
        }
        if self.muted != muted {
            log::info!("[VoiceSession] microphone {}", if muted { "muted" } else { "unmuted" });
            self.muted = muted;
        }
        self.hands_free_mic();
        let _ = now;
        Ok(())
    }

    /// With server turn detection the microphone is open whenever the session is ready and the
    /// customer has not muted it.
    fn hands_free_mic(&mut self) {
        if self.config.server_vad {
            let ready = matches!(
                self.state,
                TurnState::Idle
                    | TurnState::Recording
                    | TurnState::Committing
                    | TurnState::AwaitingTranscript
                    | TurnState::AwaitingResponse
            );
            self.set_mic(ready && !self.muted);
        }
    }

    /// Stops the assistant's answer: cancels the response under way and clears its audio.
    fn interrupt(&mut self) {
        let responding = self.sequencer.active();
        if responding {
            log::info!("[VoiceSession] barge-in: cancelling the response under way");
            self.send(ClientEvent::ResponseCancel);
            self.cancelled_response = true;
        }
        if responding || self.assistant_speaking {
            self.send(ClientEvent::OutputAudioBufferClear);
        }
        self.sequencer.reset();
        self.set_speaking(false);
    }

    fn stop_and_commit(&mut self, now: Millis) {
        if !self.config.server_vad {
            self.set_mic(false);
        }
        self.send(ClientEvent::InputAudioBufferCommit);
        self.enter(now, TurnState::Committing);
    }

    // -----------------------------------------------------------------------------------------
    // Time and output

    pub fn handle_timeout(&mut self, now: Millis) {
        if let Some(token) = self.token.as_mut()
            && !token.refresh_requested
            && now >= token.refresh_at
        {
            token.refresh_requested = true;
            log::info!("[VoiceSession] token refresh due");
            self.commands.push_back(VoiceCommand::RefreshToken);
        }
        if self.deadline.is_none_or(|d| now < d) {
            return;
        }
        let state = self.state;
        log::warn!("[VoiceSession] timeout in state {}", state.as_str());
        match state {
            TurnState::Connecting => {
                self.fail(now, "[VoiceSession] connect timed out", "Could not connect to the voice assistant.")
            }
            TurnState::AwaitingSessionCreated => {
                self.fail(now, "[VoiceSession] no session.created in time", "The voice assistant did not start.")
            }
            TurnState::AwaitingSessionReady => self.enter(now, TurnState::Idle),
            TurnState::Recording => self.stop_and_commit(now),
            TurnState::Committing | TurnState::AwaitingTranscript | TurnState::AwaitingResponse => {
                if self.sequencer.busy() {
                    self.send(ClientEvent::ResponseCancel);
                    self.sequencer.reset();
                }
                self.report_error(
                    &format!("[VoiceSession] turn timed out in {}", state.as_str()),
                    "Sorry, that took too long. Please try again.",
                );
                self.enter(now, TurnState::Idle);
            }
            TurnState::Disconnecting | TurnState::Error => self.enter(now, TurnState::Disconnected),
            TurnState::Idle | TurnState::Disconnected => self.deadline = None,
        }
    }

    /// Sends queued client events while the channel stays open. No-op when closed or empty.
    pub fn flush(&mut self, _now: Millis, channel: &mut dyn EventChannel) -> FlushReport {
        if self.outbox.is_empty() {
            return FlushReport::default();
        }
        let report = self.outbox.flush(channel);
        if let Some(stop) = &report.stopped {
            log::warn!(
                "[VoiceSession] flush stopped after {} sent ({stop:?}); {} kept queued",
                report.sent,
                self.outbox.len()
            );
        }
        report
    }

    // -----------------------------------------------------------------------------------------
    // Server events

    /// One text frame from the data channel. Function calls act on `cart`.
    pub fn handle_server_frame(&mut self, now: Millis, text: &str, cart: &mut Cart) -> Result<(), VoiceError> {
        let event = parse_server_event(text).map_err(|e| {
            let preview: String = text.chars().take(120).collect();
            log::error!("[VoiceSession] dropped server frame: {e} (starts with {preview:?})");
            VoiceError::Parse(e)
        })?;
        if matches!(self.state, TurnState::Disconnected | TurnState::Disconnecting | TurnState::Error) {
            log::info!("[VoiceSession] {} ignored while {}", event.kind.name(), self.state.as_str());
            return Ok(());
        }
        if let Some(id) = &event.event_id
            && !self.dedupe.insert(id)
        {
            log::info!("[VoiceSession] duplicate event {id} ({}) ignored", event.kind.name());
            return Ok(());
        }
        self.count(&event.kind);
        self.apply(now, event.kind, cart);
        Ok(())
    }

    fn count(&mut self, kind: &ServerEventKind) {
        if let ServerEventKind::Unknown { event_type } = kind
            && self.logged_unknown.insert(event_type.clone())
        {
            log::warn!("[VoiceSession] unknown server event type {event_type:?} ignored");
        }
        let mut name = kind.name();
        if !self.counts.contains_key(name) && self.counts.len() >= MAX_COUNTED_TYPES {
            name = OTHER_UNKNOWN_TYPES;
        }
        *self.counts.entry_or_default(name, str::to_string) += 1;
    }

    fn apply(&mut self, now: Millis, kind: ServerEventKind, cart: &mut Cart) {
        use ServerEventKind as K;
        match kind {
            K::SessionCreated { ga, id } => {
                self.ga = ga;
                self.session_id = id;
                if matches!(self.state, TurnState::Connecting | TurnState::AwaitingSessionCreated) {
                    let session = self.session_config();
                    self.send(ClientEvent::SessionUpdate { session });
                    self.session_configured = true;
                    self.enter(now, TurnState::AwaitingSessionReady);
                }
            }
            K::SessionUpdated => {
                if self.state == TurnState::AwaitingSessionReady {
                    self.enter(now, TurnState::Idle);
                }
            }
            K::InputCommitted => {
                if matches!(self.state, TurnState::Recording | TurnState::Committing) {
                    self.response_done_this_turn = false;
                    self.enter(now, TurnState::AwaitingTranscript);
                    if !self.config.server_vad {
                        self.set_mic(false);
                        self.request_response(now);
                    }
                }
            }
            // Server turn detection: the server heard the customer start (it interrupts its own
            // answer) and stop (it commits the audio and answers by itself).
            K::SpeechStarted if self.config.server_vad => {
                if matches!(self.state, TurnState::Idle | TurnState::AwaitingTranscript | TurnState::AwaitingResponse) {
                    // The server cancels its own answer; a create waiting behind it would answer
                    // over the customer.
                    self.sequencer.drop_pending();
                    self.set_speaking(false);
                    self.response_done_this_turn = false;
                    self.enter(now, TurnState::Recording);
                }
            }
            K::SpeechStopped if self.config.server_vad => {
                if self.state == TurnState::Recording {
                    self.enter(now, TurnState::Committing);
                }
            }
            K::ItemAdded(item) | K::ItemDone(item) | K::OutputItemAdded(item) | K::OutputItemDone(item) => {
                self.note_item(&item)
            }
            K::TranscriptionDelta { item_id, delta } => {
                let update = self.transcripts.append(&item_id, Role::User, &delta);
                self.commands.push_back(VoiceCommand::Transcript(update));
            }
            K::TranscriptionCompleted { item_id, transcript } => {
                self.user_turns += 1;
                let update = self.transcripts.complete(&item_id, Role::User, &transcript);
                self.commands.push_back(VoiceCommand::Transcript(update));
                self.user_turn_transcribed(now);
            }
            K::TranscriptionFailed { item_id, message } => {
                log::warn!("[VoiceSession] transcription of {item_id} failed: {message}");
                let update = self.transcripts.fail(&item_id, Role::User);
                self.commands.push_back(VoiceCommand::Transcript(update));
                self.user_turn_transcribed(now);
            }
            K::ResponseCreated if self.cancelled_response => {
                log::info!("[VoiceSession] response.created of the cancelled response");
            }
            K::ResponseCreated => self.sequencer.on_created(),
            K::ResponseDone { status, .. } if self.cancelled_response => {
                log::info!("[VoiceSession] the cancelled response ended ({status})");
                self.cancelled_response = false;
            }
            K::ResponseDone { status, reason } => self.response_done(now, &status, reason.as_deref()),
            K::AssistantDelta { item_id, delta } => {
                let update = self.transcripts.append(&item_id, Role::Assistant, &delta);
                self.commands.push_back(VoiceCommand::Transcript(update));
            }
            K::AssistantDone { item_id, text } => {
                let update = self.transcripts.complete(&item_id, Role::Assistant, &text);
                self.commands.push_back(VoiceCommand::Transcript(update));
            }
            K::FunctionArgumentsDelta { call_id, delta } => self.calls.delta(&call_id, &delta),
            K::FunctionArgumentsDone { call_id, name, arguments } => {
                self.function_call_done(now, &call_id, name, arguments, cart)
            }
            K::OutputAudioStarted => self.set_speaking(true),
            K::OutputAudioStopped | K::OutputAudioCleared => self.set_speaking(false),
            K::Error { code, message } => self.server_error(now, code.as_deref(), &message),
            K::SpeechStarted | K::SpeechStopped | K::InputCleared | K::RateLimitsUpdated | K::Unknown { .. } => {}
        }
    }

    fn note_item(&mut self, item: &Item) {
        match (item.item_type.as_str(), item.role.as_deref()) {
            ("message", Some("user")) => self.transcripts.create(&item.id, Role::User),
            ("message", Some("assistant")) => self.transcripts.create(&item.id, Role::Assistant),
            ("function_call", _) => {
                if let (Some(call_id), Some(name)) = (&item.call_id, &item.name) {
                    self.calls.named(call_id, name);
                }
            }
            _ => {}
        }
    }

    /// The customer's words are known (or failed): wait for the reply if one is coming.
    fn user_turn_transcribed(&mut self, now: Millis) {
        if !matches!(self.state, TurnState::Committing | TurnState::AwaitingTranscript) {
            return;
        }
        if self.state == TurnState::Committing && !self.config.server_vad {
            // The transcript of this turn arrived without `input_audio_buffer.committed` (lost or
            // late): the audio was evidently committed, so the reply is asked for now rather than
            // never (the original silent stall was exactly one lost event).
            log::warn!("[VoiceSession] transcript arrived before input_audio_buffer.committed; going on without it");
            self.response_done_this_turn = false;
            self.request_response(now);
        }
        let reply_coming = self.sequencer.busy() || (self.config.server_vad && !self.response_done_this_turn);
        self.enter(now, if reply_coming { TurnState::AwaitingResponse } else { TurnState::Idle });
    }

    fn response_done(&mut self, now: Millis, status: &str, reason: Option<&str>) {
        let in_turn =
            matches!(self.state, TurnState::Committing | TurnState::AwaitingTranscript | TurnState::AwaitingResponse);
        if status == "cancelled" {
            // Cancelled by a barge-in (ours) or by the server's turn detection: not a failure.
            log::info!("[VoiceSession] response cancelled ({})", reason.unwrap_or("no reason given"));
        } else if status != "completed" {
            let detail = reason.map(|r| format!(": {r}")).unwrap_or_default();
            self.report_error(
                &format!("[VoiceSession] response ended with status {status}{detail}"),
                "Sorry, something went wrong. Please try again.",
            );
        }
        let send_next = self.sequencer.on_done();
        if send_next {
            self.send(ClientEvent::ResponseCreate);
        }
        if !in_turn {
            return;
        }
        self.response_done_this_turn = true;
        if status != "completed" && status != "cancelled" {
            self.enter(now, TurnState::Idle);
        } else if send_next && self.state == TurnState::AwaitingResponse {
            self.enter(now, TurnState::AwaitingResponse);
        } else if !self.sequencer.busy() {
            self.enter(now, TurnState::Idle);
        }
    }

    fn function_call_done(
        &mut self,
        now: Millis,
        call_id: &str,
        name: Option<String>,
        arguments: String,
        cart: &mut Cart,
    ) {
        let (name, arguments) = self.calls.finish(call_id, name, arguments);
        if self.cancelled_response {
            // The customer interrupted this answer: nothing of it changes the order.
            log::info!("[VoiceSession] function call {call_id} of the cancelled response not run");
            let output =
                json!({ "ok": false, "error": "interrupted by the customer; nothing was changed" }).to_string();
            self.send(ClientEvent::FunctionCallOutput { call_id: call_id.to_string(), output });
            return;
        }
        if let Some(blocked) = self.order_blocked.clone()
            && name.as_deref() == Some("confirm_order")
            && serde_json::from_str::<Value>(&arguments).is_ok_and(|v| v["action"] == "checkout")
        {
            log::warn!("[VoiceSession] checkout refused: {blocked}");
            let output = json!({ "ok": false, "error": blocked }).to_string();
            self.send(ClientEvent::FunctionCallOutput { call_id: call_id.to_string(), output });
            self.request_response(now);
            return;
        }
        let asked = self.confirmed(cart);
        let outcome = match name {
            Some(name) => {
                log::info!("[VoiceSession] function call {name} ({call_id})");
                run_call(&name, &arguments, &self.menu, cart, asked)
            }
            None => CallOutcome::error(format!("function call {call_id} has no name")),
        };
        if outcome.cart_changed {
            self.commands.push_back(VoiceCommand::CartChanged);
        }
        match outcome.action {
            Some(OrderAction::Confirm) => {
                self.confirmation_for = Some(cart.lines().to_vec());
                self.asked_at_turn = self.user_turns;
            }
            Some(OrderAction::Checkout | OrderAction::Cancel) => self.confirmation_for = None,
            Some(OrderAction::Review) | None => {}
        }
        if let Some(action) = outcome.action {
            self.commands.push_back(VoiceCommand::Order(action));
        }
        self.send(ClientEvent::FunctionCallOutput { call_id: call_id.to_string(), output: outcome.output });
        // A call that finished as the customer pressed to talk again is answered by their turn.
        if self.state != TurnState::Recording {
            self.request_response(now);
        }
    }

    fn request_response(&mut self, now: Millis) {
        if self.sequencer.request() {
            self.send(ClientEvent::ResponseCreate);
            if self.state == TurnState::AwaitingResponse {
                self.enter(now, TurnState::AwaitingResponse);
            }
        }
    }

    fn server_error(&mut self, now: Millis, code: Option<&str>, message: &str) {
        match code {
            Some("conversation_already_has_active_response") => {
                log::warn!("[VoiceSession] server already has an active response; pending create dropped");
                self.sequencer.on_already_active();
            }
            Some("response_cancel_not_active") => {
                // A barge-in raced the response's end: nothing was left to cancel.
                log::info!("[VoiceSession] nothing to cancel: {message}");
            }
            Some("input_audio_buffer_commit_empty") => {
                self.report_error(
                    &format!("[VoiceSession] empty audio commit: {message}"),
                    "I didn't hear anything. Hold the button while you speak.",
                );
                if self.state == TurnState::Committing {
                    self.enter(now, TurnState::Idle);
                }
            }
            _ => self.report_error(
                &format!("[VoiceSession] server error {}: {message}", code.unwrap_or("(no code)")),
                &format!("Voice assistant error: {message}"),
            ),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Internals

    fn session_config(&self) -> Value {
        let turn_detection = if self.config.server_vad { json!({ "type": "server_vad" }) } else { Value::Null };
        let transcription = json!({ "model": self.config.transcription_model });
        let mut session = json!({
            "instructions": instructions(&self.menu),
            "tools": tool_definitions(&self.menu),
            "tool_choice": "auto",
        });
        if self.ga {
            session["type"] = json!("realtime");
            session["audio"] = json!({ "input": { "transcription": transcription, "turn_detection": turn_detection } });
        } else {
            session["input_audio_transcription"] = transcription;
            session["turn_detection"] = turn_detection;
        }
        session
    }

    /// The parts of the session that come from the menu (the rest stays as configured).
    fn session_update_for_menu(&self) -> Value {
        let mut session = json!({
            "instructions": instructions(&self.menu),
            "tools": tool_definitions(&self.menu),
        });
        if self.ga {
            session["type"] = json!("realtime");
        }
        session
    }

    /// Queues a client event with a fresh `event_id`. Failures are logged and reported.
    fn send(&mut self, event: ClientEvent) {
        self.next_event_id += 1;
        let id = format!("evt_{:x}_{}", self.config.id_seed, self.next_event_id);
        let event_type = event.event_type();
        let error = match event.to_json(&id) {
            Err(bytes) => Some(VoiceError::EventTooLarge { event_type, bytes }),
            Ok(text) => self.outbox.push(text).err().map(|_| VoiceError::OutboxFull { event_type }),
        };
        if let Some(e) = error {
            self.report_error(&format!("[VoiceSession] {e}"), "The voice assistant could not be reached.");
        }
    }

    fn enter(&mut self, now: Millis, state: TurnState) {
        let from = self.state;
        self.state = state;
        self.deadline = self.config.timeouts.for_state(state).map(|d| now.after(d));
        if from != state {
            log::info!("[VoiceSession] {} → {}", from.as_str(), state.as_str());
            self.commands.push_back(VoiceCommand::StateChanged { from, to: state });
        }
        self.hands_free_mic();
    }

    fn reject(&mut self, command: &'static str) -> VoiceError {
        let state = self.state;
        log::warn!("[VoiceSession] rejected: cannot {command} while {}", state.as_str());
        self.commands.push_back(VoiceCommand::Rejected { command, state });
        VoiceError::Rejected { command, state }
    }

    fn report_error(&mut self, log_line: &str, message: &str) {
        self.report_error_with(log_line, message, TRY_AGAIN_HELP);
    }

    fn report_error_with(&mut self, log_line: &str, message: &str, help: &'static str) {
        log::error!("{log_line}");
        self.last_error = Some(message.to_string());
        self.commands.push_back(VoiceCommand::Error { message: message.to_string(), help });
    }

    fn fail(&mut self, now: Millis, log_line: &str, message: &str) {
        self.report_error_with(log_line, message, RECONNECT_HELP);
        self.reset_connection();
        self.commands.push_back(VoiceCommand::CloseConnection);
        self.enter(now, TurnState::Error);
    }

    fn set_mic(&mut self, on: bool) {
        if self.mic_on != on {
            self.mic_on = on;
            self.commands.push_back(VoiceCommand::SetMicEnabled(on));
        }
    }

    fn set_speaking(&mut self, speaking: bool) {
        if self.assistant_speaking != speaking {
            self.assistant_speaking = speaking;
            self.commands.push_back(VoiceCommand::AssistantSpeaking(speaking));
        }
    }

    /// Forgets everything tied to one connection (queued events would reach the wrong session).
    fn reset_connection(&mut self) {
        self.set_mic(false);
        self.set_speaking(false);
        self.outbox.clear();
        self.dedupe.clear();
        self.calls.clear();
        self.sequencer.reset();
        self.ga = false;
        self.response_done_this_turn = false;
        self.session_configured = false;
        self.session_id = None;
        self.cancelled_response = false;
    }
}
