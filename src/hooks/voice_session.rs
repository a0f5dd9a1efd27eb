//! `use_voice_session`: runs the sans-IO [`VoiceSession`] against a real `RTCPeerConnection`.
//!
//! The driver owns the session, the peer (RAII: handlers attached at creation), the microphone,
//! the one deadline timer and the in-flight connect steps. After every input it flushes the
//! outbox, executes every command the session emits and re-arms the timer from `poll_timeout()`
//! (see [`super::driver`]). On cleanup everything is dropped — the peer closes, the timer is
//! cancelled, pending fetches are aborted — and no signal is written after that.

use std::rc::Rc;
use std::time::Duration;

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use restaurant_protocol::{Menu, RealtimeToken};

use super::driver::{After, Driver, DriverHandle, DriverRef, Task, page_signals, use_driver};
use super::kiosk_cart::KioskCart;
use crate::core::config::VoiceMode;
use crate::core::media::MicError;
use crate::core::peer::PeerConnectionState;
use crate::core::secure::MediaAccess;
use crate::core::sorted_map::SortedMap;
use crate::core::time::Millis;
use crate::core::voice::session::RECONNECT_HELP;
use crate::core::voice::ui::VoiceBanner;
use crate::core::voice::{
    EntryStatus, EventChannel, OrderAction, Role, Timeouts, TranscriptUpdate, TurnState, VoiceCommand, VoiceConfig,
    VoiceSession,
};
use crate::web::clock;
use crate::web::debug::{DebugObject, to_js};
use crate::web::media::Microphone;
use crate::web::peer::{Peer, PeerEvent, PeerOptions};
use crate::web::random::random_bytes;
use crate::web::realtime::{TokenError, VoiceTransport};
use crate::web::timer::DeadlineTimer;

/// Grace period for a `disconnected` peer connection before the session is ended.
const DISCONNECTED_GRACE: Duration = Duration::from_secs(5);
/// Lines of the conversation the screen keeps.
const TRANSCRIPT_LINES: usize = 12;

/// One line of the live transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    pub item_id: String,
    pub from_customer: bool,
    pub text: String,
    pub is_final: bool,
    pub failed: bool,
}

/// What went wrong, for the error banner, and what the retry button does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceProblem {
    pub title: String,
    pub help: String,
    /// The microphone must be asked for again (never automatically).
    pub mic: bool,
}

/// What the session tells its owner (the kiosk's customer session), outside any borrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceEvent {
    /// Connected and configured: the assistant is ready.
    Ready,
    /// A connection that was ready dropped (the peer closed the channel or the connection).
    Lost,
    /// A connection attempt failed before it was ready (microphone, token, SDP, timeout).
    Failed,
}

pub struct UseVoiceSessionOptions {
    pub transport: Rc<dyn VoiceTransport>,
    /// Push-to-talk (`toggle`, `hold`) or hands-free with server turn detection (`vad`).
    pub mode: VoiceMode,
    /// Fetch a token at once and keep one ready, so a tap connects without waiting for it.
    pub prefetch_token: bool,
    /// Told when the assistant becomes ready, and when a connection is lost or fails.
    pub on_event: Option<Callback<VoiceEvent>>,
    pub timeouts: Timeouts,
    /// Called (outside any borrow) when the assistant confirms, reviews or cancels the order.
    pub on_order: Callback<OrderAction>,
    /// Whether the page may ask for the microphone; when not, connecting never calls
    /// `getUserMedia` and says why instead.
    pub media: MediaAccess,
    /// Called with the device token the request carried when the hub answers the voice token
    /// request with `device_unpaired` (the kiosk must be paired).
    pub on_unpaired: Option<Callback<Option<String>>>,
}

/// The signals the page renders from; written only through `try_set` (silent once disposed).
#[derive(Clone, Copy)]
struct Ui {
    state: RwSignal<TurnState>,
    transcript: RwSignal<Vec<TranscriptLine>>,
    speaking: RwSignal<bool>,
    problem: RwSignal<Option<VoiceProblem>>,
    connection: RwSignal<PeerConnectionState>,
    muted: RwSignal<bool>,
}

/// The reactive face of the voice session plus its actions. `Copy`; every action is a no-op once
/// the page is gone.
#[derive(Clone, Copy)]
pub struct UseVoiceSessionReturn {
    ui: Ui,
    available: bool,
    driver: DriverHandle<VoiceDriver>,
}

struct VoiceDriver {
    session: VoiceSession,
    cart: KioskCart,
    transport: Rc<dyn VoiceTransport>,
    on_order: Callback<OrderAction>,
    media: MediaAccess,
    on_unpaired: Option<Callback<Option<String>>>,
    on_event: Option<Callback<VoiceEvent>>,
    /// The current connection reached the ready state (so losing it is a loss, not a failure).
    ready: bool,
    /// Connect as soon as the current connection is closed ([`UseVoiceSessionReturn::reconnect`]).
    reconnect_pending: bool,
    /// A more specific problem than the session's next error message (the server's words).
    problem_detail: Option<VoiceProblem>,
    /// Events for `on_event`, handed over after the current input.
    events: Vec<VoiceEvent>,
    ui: Ui,
    /// Bumped for every connection attempt and teardown: async steps of an older one stop.
    attempt: u64,
    connect_task: Option<Task>,
    token_task: Option<Task>,
    token_value: Option<String>,
    peer: Option<Peer>,
    /// Stopped when dropped.
    mic: Option<Microphone>,
    timer: DeadlineTimer,
    grace: Option<Timeout>,
    connection_state: PeerConnectionState,
    me: DriverRef<VoiceDriver>,
    _debug: DebugObject,
}

/// The data channel as the session's outbox sees it.
struct PeerChannel<'a>(Option<&'a Peer>);

impl EventChannel for PeerChannel<'_> {
    fn is_open(&self) -> bool {
        self.0.is_some_and(Peer::channel_is_open)
    }

    fn send(&mut self, text: &str) -> Result<(), String> {
        self.0.ok_or_else(|| "no peer connection".to_string())?.send(text)
    }
}

impl Driver for VoiceDriver {
    const NAME: &'static str = "Voice";

    fn drive(&mut self, after: &mut After) {
        loop {
            self.session.flush(clock::now(), &mut PeerChannel(self.peer.as_ref()));
            let Some(command) = self.session.poll_command() else { break };
            self.execute(command, after);
        }
        if self.reconnect_pending && matches!(self.session.state(), TurnState::Disconnected | TurnState::Error) {
            self.reconnect_pending = false;
            self.connect();
        }
        let events = std::mem::take(&mut self.events);
        if let Some(on_event) = self.on_event {
            for event in events {
                after.push(move || on_event.run(event));
            }
        }
        self.timer.set_deadline(self.session.poll_timeout());
    }

    fn dispose(&mut self, _now: Millis) {
        // The peer closes, its tracks stop; fetches on their way are aborted.
        self.attempt += 1;
        self.token_task = None;
        self.close_peer();
    }
}

impl VoiceDriver {
    fn execute(&mut self, command: VoiceCommand, after: &mut After) {
        match command {
            VoiceCommand::StartConnection => self.start_connection(),
            VoiceCommand::CloseConnection => self.close_connection(),
            VoiceCommand::SetMicEnabled(on) => {
                if let Some(p) = &self.peer {
                    p.set_mic_enabled(on);
                }
            }
            VoiceCommand::RefreshToken => self.refresh_token(),
            VoiceCommand::StateChanged { from, to } => {
                let _ = self.ui.state.try_set(to);
                if to == TurnState::Recording {
                    let _ = self.ui.problem.try_set(None);
                }
                let connecting = matches!(
                    from,
                    TurnState::Connecting | TurnState::AwaitingSessionCreated | TurnState::AwaitingSessionReady
                );
                if to == TurnState::Idle && connecting {
                    // Ready: whatever went wrong before is over.
                    self.ready = true;
                    let _ = self.ui.problem.try_set(None);
                    self.tell(VoiceEvent::Ready);
                } else if to == TurnState::Error {
                    let event = if std::mem::take(&mut self.ready) { VoiceEvent::Lost } else { VoiceEvent::Failed };
                    self.tell(event);
                }
            }
            VoiceCommand::Transcript(update) => self.show_transcript(update),
            VoiceCommand::AssistantSpeaking(on) => {
                let _ = self.ui.speaking.try_set(on);
            }
            // The session changed the shared cart in place: publish the new lines.
            VoiceCommand::CartChanged => {
                self.cart.update(|_| ());
            }
            VoiceCommand::Order(action) => {
                let on_order = self.on_order;
                after.push(move || on_order.run(action));
            }
            VoiceCommand::Rejected { command, state } => {
                log::warn!("[Voice] {command} ignored while {}", state.as_str());
            }
            VoiceCommand::Error { message, help } => match self.problem_detail.take() {
                Some(detail) => {
                    let _ = self.ui.problem.try_set(Some(detail));
                }
                None => self.show_problem(message, help, false),
            },
        }
    }

    /// Queues `event` for the owner; [`Driver::drive`] hands it over once this driver is released.
    fn tell(&mut self, event: VoiceEvent) {
        self.events.push(event);
    }

    fn show_problem(&self, title: impl Into<String>, help: impl Into<String>, mic: bool) {
        let _ = self.ui.problem.try_set(Some(VoiceProblem { title: title.into(), help: help.into(), mic }));
    }

    fn show_transcript(&mut self, u: TranscriptUpdate) {
        let line = TranscriptLine {
            from_customer: u.role == Role::User,
            is_final: u.status == EntryStatus::Final,
            failed: u.status == EntryStatus::Failed,
            item_id: u.item_id,
            text: u.text,
        };
        let _ = self.ui.transcript.try_update(|lines| {
            match lines.iter_mut().find(|l| l.item_id == line.item_id) {
                Some(existing) => *existing = line,
                None => lines.push(line),
            }
            let excess = lines.len().saturating_sub(TRANSCRIPT_LINES);
            lines.drain(..excess);
        });
    }

    /// Microphone, then token, then the connection. Single-flight: while a connection is being
    /// made or exists, this does nothing.
    fn connect(&mut self) {
        let state = self.session.state();
        if self.connect_task.is_some() || !matches!(state, TurnState::Disconnected | TurnState::Error) {
            return;
        }
        if let Some(message) = self.media.message() {
            // Browsers refuse the microphone here: ask for nothing, say where it works.
            log::warn!("[Voice] not connecting: {message}");
            self.show_problem("Voice ordering needs a secure connection", message, false);
            return;
        }
        let _ = self.ui.problem.try_set(None);
        self.attempt += 1;
        self.ready = false;
        let attempt = self.attempt;
        let (transport, need_mic) = (self.transport.clone(), self.mic.is_none());
        // The token fetched ahead is used when it is still good; otherwise one is fetched now.
        let need_token = !(self.token_value.is_some() && self.session.has_token(clock::now()));
        let _ = self.ui.state.try_set(TurnState::Connecting);
        let steps = async move {
            let mic = if need_mic { Some(Microphone::open().await) } else { None };
            let token = if need_token { Some(transport.fetch_token().await) } else { None };
            (mic, token)
        };
        self.connect_task = Some(self.me.spawn(steps, move |d, now, (mic, token)| {
            d.connect_task = None;
            if d.attempt == attempt {
                d.connect_with(now, mic, token);
            }
        }));
    }

    /// `token`: a freshly fetched one, or `None` to use the one held.
    fn connect_with(
        &mut self,
        now: Millis,
        mic: Option<Result<Microphone, MicError>>,
        token: Option<Result<RealtimeToken, TokenError>>,
    ) {
        match mic {
            Some(Err(e)) => {
                log::error!("[Voice] microphone: {}", e.title());
                self.show_problem(e.title(), e.help(), true);
                let _ = self.ui.state.try_set(self.session.state());
                self.tell(VoiceEvent::Failed);
                return;
            }
            Some(Ok(stream)) => self.mic = Some(stream),
            None => {}
        }
        match token {
            None => {
                if let Err(e) = self.session.handle_connect_requested(now) {
                    log::error!("[Voice] connect refused: {e}");
                }
            }
            Some(Ok(token)) => {
                if self.session.handle_token(now, token.expires_at, Millis(clock::unix_ms() as u64)).is_ok() {
                    self.token_value = Some(token.value);
                    if let Err(e) = self.session.handle_connect_requested(now) {
                        log::error!("[Voice] connect refused: {e}");
                    }
                }
            }
            Some(Err(TokenError::DeviceUnpaired { sent_token })) => {
                log::warn!("[Voice] the hub does not know this kiosk; it must be paired");
                self.show_problem(
                    "This kiosk is not paired",
                    "A manager enters the PIN to pair it; you can still order by touch.",
                    false,
                );
                self.report_unpaired(sent_token);
                self.tell(VoiceEvent::Failed);
            }
            Some(Err(TokenError::Failed(e))) => {
                // Token failures are shown, never retried in a loop.
                log::error!("[Voice] {e}");
                self.show_problem(
                    "Voice ordering is unavailable",
                    format!("{}. You can still order by touch.", e.trim_end_matches('.')),
                    false,
                );
                self.tell(VoiceEvent::Failed);
            }
        }
        let _ = self.ui.state.try_set(self.session.state());
    }

    /// Creates the peer (every handler attached before the offer exists), adds the microphone
    /// disabled, then runs the SDP exchange.
    fn start_connection(&mut self) {
        // A previous peer (if any) goes; the microphone just acquired for this attempt stays.
        self.grace = None;
        self.peer = None;
        let Some(token) = self.token_value.take() else {
            log::error!("[Voice] connection requested without a token");
            self.session.handle_connection_failed(clock::now(), "no token");
            return;
        };
        let me = self.me.clone();
        let created = Peer::new(PeerOptions { data_channel: Some("oai-events") }, move |event| {
            me.run(move |d, now| d.on_peer_event(now, event));
        });
        let peer = match created {
            Ok(p) => p,
            Err(e) => {
                log::error!("[Voice] {e}");
                self.session.handle_connection_failed(clock::now(), &e);
                return;
            }
        };
        if let Some(mic) = &self.mic {
            peer.add_local_audio(mic.stream());
        }
        let offer = peer.create_offer();
        self.peer = Some(peer);
        self.set_connection(PeerConnectionState::New);
        let attempt = self.attempt;
        let (transport, me) = (self.transport.clone(), self.me.clone());
        let exchange = async move {
            let offer_sdp = offer.await?;
            let answer = transport.exchange_sdp(offer_sdp, token).await?;
            // Applied to the peer of this attempt only; a superseded one has nothing to apply.
            let apply = me.with(|d| (d.attempt == attempt).then(|| d.peer.as_ref().map(|p| p.apply_answer(&answer))));
            match apply.flatten().flatten() {
                Some(step) => step.await,
                None => Ok(()),
            }
        };
        self.connect_task = Some(self.me.spawn(exchange, move |d, now, result| {
            d.connect_task = None;
            if d.attempt != attempt {
                return;
            }
            if let Err(e) = result {
                log::error!("[Voice] connecting failed: {e}");
                // Shown instead of the session's general message: the server's own words.
                d.problem_detail = Some(VoiceProblem {
                    title: "Could not connect to the voice assistant".into(),
                    help: format!("{}. {RECONNECT_HELP}", e.trim_end_matches('.')),
                    mic: false,
                });
                d.session.handle_connection_failed(now, &e);
            }
        }));
    }

    fn close_peer(&mut self) {
        self.connect_task = None;
        self.grace = None;
        if self.peer.take().is_some() {
            self.set_connection(PeerConnectionState::Closed);
        }
        // The peer stopped the microphone's tracks; a new connection asks for it again.
        self.mic = None;
    }

    fn close_connection(&mut self) {
        self.attempt += 1;
        self.close_peer();
        // The session tracks Disconnecting until the channel reports closed; ours is gone now.
        self.session.handle_channel_closed(clock::now());
    }

    fn set_connection(&mut self, state: PeerConnectionState) {
        self.connection_state = state;
        let _ = self.ui.connection.try_set(state);
    }

    fn on_peer_event(&mut self, now: Millis, event: PeerEvent) {
        match event {
            PeerEvent::ChannelMessage(text) => {
                let session = &mut self.session;
                // Errors are logged by the session and never change its state.
                self.cart.update(|c| session.handle_server_frame(now, &text, c));
            }
            PeerEvent::ChannelOpen => {
                let peer = self.peer.as_ref();
                if let Err(e) = self.session.handle_channel_open(now, &mut PeerChannel(peer)) {
                    log::error!("[Voice] channel open: {e}");
                }
            }
            PeerEvent::ChannelClosed => self.session.handle_channel_closed(now),
            PeerEvent::ChannelError(e) => log::error!("[Voice] data channel error: {e}"),
            PeerEvent::ConnectionState(state) => {
                self.set_connection(state);
                match state {
                    PeerConnectionState::Connected => self.grace = None,
                    PeerConnectionState::Disconnected => {
                        let me = self.me.clone();
                        self.grace = Some(Timeout::new(DISCONNECTED_GRACE.as_millis() as u32, move || {
                            me.run(|d, now| {
                                d.grace = None;
                                if d.connection_state == PeerConnectionState::Disconnected {
                                    d.connection_ended(now, "The connection to the voice assistant was lost.");
                                }
                            });
                        }));
                    }
                    PeerConnectionState::Failed | PeerConnectionState::Closed => {
                        self.connection_ended(now, "The connection to the voice assistant was lost.")
                    }
                    _ => {}
                }
            }
            PeerEvent::IceConnectionState(state) => log::info!("[Voice] ICE {state}"),
            // The Realtime endpoint takes the offer's candidates; nothing is trickled.
            PeerEvent::IceCandidate(_) => {}
            PeerEvent::RemoteAudio => log::info!("[Voice] assistant audio connected"),
        }
    }

    fn connection_ended(&mut self, now: Millis, message: &str) {
        self.grace = None;
        self.show_problem(message, "Tap Reconnect to talk again, or keep ordering by touch.", false);
        self.session.handle_connection_failed(now, message);
    }

    fn refresh_token(&mut self) {
        if self.token_task.is_some() {
            return;
        }
        let transport = self.transport.clone();
        let fetch = async move { transport.fetch_token().await };
        self.token_task = Some(self.me.spawn(fetch, |d, now, result| {
            d.token_task = None;
            match result {
                Ok(token) => {
                    let _ = d.session.handle_token(now, token.expires_at, Millis(clock::unix_ms() as u64));
                    d.token_value = Some(token.value);
                }
                Err(TokenError::DeviceUnpaired { sent_token }) => {
                    log::warn!("[Voice] token refresh refused: this kiosk is not paired");
                    d.report_unpaired(sent_token);
                }
                Err(TokenError::Failed(e)) => log::error!("[Voice] token refresh failed: {e}"),
            }
        }));
    }

    /// Tells the page's pairing (another driver, so no borrow of this one is involved).
    fn report_unpaired(&self, sent_token: Option<String>) {
        if let Some(on_unpaired) = self.on_unpaired {
            on_unpaired.run(sent_token);
        }
    }

    fn disconnect(&mut self, now: Millis) {
        self.attempt += 1;
        self.connect_task = None;
        self.ready = false;
        self.session.disconnect(now);
        let _ = self.ui.state.try_set(self.session.state());
    }

    /// The customer is gone: the connection closes and nothing of theirs stays on screen.
    fn end_customer(&mut self, now: Millis) {
        self.disconnect(now);
        // A microphone opened for a connection that never came (a refused token) goes too.
        self.mic = None;
        self.reconnect_pending = false;
        self.session.forget_customer();
        let _ = self.ui.transcript.try_set(Vec::new());
        let _ = self.ui.problem.try_set(None);
        let _ = self.ui.muted.try_set(false);
    }

    fn set_muted(&mut self, now: Millis, muted: bool) {
        if let Err(e) = self.session.set_muted(now, muted) {
            log::warn!("[Voice] {e}");
        }
        let _ = self.ui.muted.try_set(self.session.is_muted());
    }

    fn status(&self) -> VoiceStatus<'_> {
        let channel = self.peer.as_ref().and_then(|p| p.channel());
        VoiceStatus {
            connection_state: self.connection_state.as_str(),
            turn_state: self.session.state().as_str(),
            transcript_map_size: self.session.transcript().len(),
            has_data_channel: channel.is_some(),
            data_channel_ready: self.peer.as_ref().is_some_and(Peer::channel_is_open),
            events_received: self.session.event_counts(),
            is_stuck: self.session.is_stuck(clock::now()),
            queued_events: self.session.queued_events(),
            session_id: self.session.session_id(),
            has_token: self.token_value.is_some() && self.session.has_token(clock::now()),
            muted: self.session.is_muted(),
            mic_enabled: self.peer.as_ref().and_then(Peer::mic_enabled),
            speaking: self.session.assistant_speaking(),
        }
    }
}

/// `__voiceClient.getStatus()`: the session as a test reads it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct VoiceStatus<'a> {
    connection_state: &'static str,
    turn_state: &'static str,
    transcript_map_size: usize,
    has_data_channel: bool,
    data_channel_ready: bool,
    events_received: &'a SortedMap<String, u64>,
    is_stuck: bool,
    queued_events: usize,
    session_id: Option<&'a str>,
    has_token: bool,
    muted: bool,
    mic_enabled: Option<bool>,
    speaking: bool,
}

impl UseVoiceSessionReturn {
    pub fn state(&self) -> Signal<TurnState> {
        self.ui.state.into()
    }

    /// The recent conversation, oldest first.
    pub fn transcript(&self) -> Signal<Vec<TranscriptLine>> {
        self.ui.transcript.into()
    }

    /// The assistant is speaking.
    pub fn speaking(&self) -> Signal<bool> {
        self.ui.speaking.into()
    }

    /// Whether voice ordering can work on this page at all (a secure context).
    pub fn available(&self) -> bool {
        self.available
    }

    pub fn problem(&self) -> Signal<Option<VoiceProblem>> {
        self.ui.problem.into()
    }

    /// `RTCPeerConnection.connectionState` (`None` before a connection exists).
    pub fn connection(&self) -> Signal<PeerConnectionState> {
        self.ui.connection.into()
    }

    /// The connection banner, from the turn state and the peer connection.
    pub fn banner(&self) -> Signal<VoiceBanner> {
        let (state, connection) = (self.ui.state, self.ui.connection);
        Signal::derive(move || VoiceBanner::of(state.get(), connection.get()))
    }

    /// Single-flight: while a connection is being made or exists, this does nothing.
    /// Microphone, then token, then the connection.
    pub fn connect(&self) {
        self.driver.run(|d, _| d.connect());
    }

    pub fn disconnect(&self) {
        self.driver.run(|d, now| d.disconnect(now));
    }

    /// Ends this customer's conversation: the connection closes (the next connection is a new
    /// Realtime session) and the transcript, the pending confirmation and any error are cleared.
    pub fn end_customer(&self) {
        self.driver.run(|d, now| d.end_customer(now));
    }

    /// Connects again (a fresh Realtime session), keeping the transcript on screen: at once when
    /// there is no connection, else once the current one is closed.
    pub fn reconnect(&self) {
        self.driver.run(|d, now| {
            let _ = d.ui.problem.try_set(None);
            d.reconnect_pending = true;
            if !matches!(d.session.state(), TurnState::Disconnected | TurnState::Error) {
                d.disconnect(now);
            }
        });
    }

    /// Why no order can be placed now (`None`: it can): a checkout by voice is answered with it.
    pub fn set_order_blocked(&self, reason: Option<String>) {
        self.driver.run(move |d, _| d.session.set_order_blocked(reason));
    }

    /// Hands-free mode: the microphone is muted.
    pub fn muted(&self) -> Signal<bool> {
        self.ui.muted.into()
    }

    /// Hands-free mode: mutes or unmutes the microphone.
    pub fn set_muted(&self, muted: bool) {
        self.driver.run(move |d, now| d.set_muted(now, muted));
    }

    pub fn start_talking(&self) {
        self.driver.run(|d, now| {
            if let Err(e) = d.session.start_recording(now) {
                log::warn!("[Voice] {e}");
            }
        });
    }

    pub fn stop_talking(&self) {
        self.driver.run(|d, now| {
            if let Err(e) = d.session.stop_recording(now) {
                log::warn!("[Voice] {e}");
            }
        });
    }

    pub fn force_reset(&self) {
        self.driver.run(|d, now| d.session.force_reset(now));
    }

    /// The menu changed (e.g. a `menu.updated` made something sold out): the assistant is told
    /// at once when connected, the next connection uses it otherwise, and function calls are
    /// checked against it from now on. A no-op once the page is gone.
    pub fn set_menu(&self, menu: Menu) {
        self.driver.run(move |d, now| d.session.handle_menu_changed(now, menu));
    }

    pub fn dismiss_problem(&self) {
        let _ = self.ui.problem.try_set(None);
    }
}

/// Starts the voice session machinery for this component. Nothing connects until
/// [`UseVoiceSessionReturn::connect`] (a tap: browsers require a gesture for the microphone).
pub fn use_voice_session(menu: Menu, cart: KioskCart, options: UseVoiceSessionOptions) -> UseVoiceSessionReturn {
    let ui = page_signals(|| Ui {
        state: RwSignal::new(TurnState::Disconnected),
        transcript: RwSignal::new(Vec::new()),
        speaking: RwSignal::new(false),
        problem: RwSignal::new(None),
        connection: RwSignal::new(PeerConnectionState::None),
        muted: RwSignal::new(false),
    });
    let config = VoiceConfig {
        timeouts: options.timeouts,
        server_vad: options.mode == VoiceMode::Vad,
        prefetch_token: options.prefetch_token,
        id_seed: u64::from_le_bytes(random_bytes()),
        ..VoiceConfig::default()
    };
    let available = options.media.allows_microphone();
    let driver = use_driver(|me: DriverRef<VoiceDriver>| {
        let fire = me.clone();
        VoiceDriver {
            session: VoiceSession::new(config, menu),
            cart,
            transport: options.transport,
            on_order: options.on_order,
            media: options.media,
            on_unpaired: options.on_unpaired,
            on_event: options.on_event,
            ready: false,
            events: Vec::new(),
            problem_detail: None,
            reconnect_pending: false,
            ui,
            attempt: 0,
            connect_task: None,
            token_task: None,
            token_value: None,
            peer: None,
            mic: None,
            timer: DeadlineTimer::new(move || {
                fire.run(|d, now| d.session.handle_timeout(now));
            }),
            grace: None,
            connection_state: PeerConnectionState::None,
            _debug: install_debug(me.clone()),
            me,
        }
    });
    if available && options.prefetch_token {
        driver.run(|d, _| d.refresh_token());
    }
    UseVoiceSessionReturn { ui, available, driver }
}

/// `window.__voiceClient`: `getStatus()` and `forceReset()`.
fn install_debug(driver: DriverRef<VoiceDriver>) -> DebugObject {
    let status_of = driver.clone();
    DebugObject::install(
        "__voiceClient",
        vec![
            (
                "getStatus",
                Box::new(move || status_of.with(|d| to_js(&d.status())).unwrap_or(wasm_bindgen::JsValue::NULL)),
            ),
            (
                "forceReset",
                Box::new(move || {
                    driver.run(|d, now| d.session.force_reset(now));
                    wasm_bindgen::JsValue::UNDEFINED
                }),
            ),
        ],
    )
}
