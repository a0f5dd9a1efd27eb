//! `use_voice_session`: runs the sans-IO [`VoiceSession`] against a real `RTCPeerConnection`.
//!
//! The driver owns the session, the peer (RAII: handlers attached at creation), the microphone,
//! the one deadline timer and the in-flight connect steps. Browser callbacks hold only a `Weak`
//! to it. Its loop, after every input: flush the outbox, execute every command the session emits,
//! re-arm the timer from `poll_timeout()`. On cleanup everything is dropped — the peer closes, the
//! timer is cancelled, pending fetches are aborted — and no signal is written after that.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures::future::{AbortHandle, Abortable};
use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use restaurant_protocol::MenuItem;
use send_wrapper::SendWrapper;
use serde_json::json;

use super::kiosk_cart::KioskCart;
use crate::core::media::MicError;
use crate::core::time::Millis;
use crate::core::voice::{
    EntryStatus, EventChannel, OrderAction, Role, Timeouts, TranscriptUpdate, TurnState, VoiceCommand, VoiceConfig,
    VoiceSession,
};
use crate::web::clock;
use crate::web::debug::{DebugObject, to_js};
use crate::web::media::open_microphone;
use crate::web::peer::{Peer, PeerEvent, PeerOptions};
use crate::web::realtime::VoiceTransport;
use crate::web::timer::DeadlineTimer;

/// Grace period for a `disconnected` peer connection before the session is ended.
const DISCONNECTED_GRACE_MS: u32 = 5_000;

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

pub struct VoiceOptions {
    pub transport: Rc<dyn VoiceTransport>,
    pub timeouts: Timeouts,
    /// Called (outside any borrow) when the assistant confirms, reviews or cancels the order.
    pub on_order: Callback<OrderAction>,
}

/// The reactive face of the voice session plus its actions.
#[derive(Clone)]
pub struct VoiceHandle {
    pub state: RwSignal<TurnState>,
    pub transcript: RwSignal<Vec<TranscriptLine>>,
    pub speaking: RwSignal<bool>,
    pub problem: RwSignal<Option<VoiceProblem>>,
    /// `RTCPeerConnection.connectionState` (or `none`).
    pub connection: RwSignal<String>,
    /// `SendWrapper`: usable in Leptos views; the app is single-threaded.
    driver: SendWrapper<Weak<RefCell<Driver>>>,
}

struct Driver {
    session: VoiceSession,
    cart: KioskCart,
    transport: Rc<dyn VoiceTransport>,
    on_order: Callback<OrderAction>,
    ui: Ui,
    /// Bumped for every connection attempt and teardown: async steps of an older one stop.
    attempt: u64,
    connect_task: Option<AbortHandle>,
    token_task: Option<AbortHandle>,
    token_value: Option<String>,
    peer: Option<Peer>,
    mic: Option<web_sys::MediaStream>,
    timer: Option<DeadlineTimer>,
    grace: Option<Timeout>,
    connection_state: String,
    _debug: Option<DebugObject>,
    me: Weak<RefCell<Driver>>,
}

#[derive(Clone, Copy)]
struct Ui {
    state: RwSignal<TurnState>,
    transcript: RwSignal<Vec<TranscriptLine>>,
    speaking: RwSignal<bool>,
    problem: RwSignal<Option<VoiceProblem>>,
    connection: RwSignal<String>,
}

fn now() -> Millis {
    Millis(clock::now_ms().max(0.0) as u64)
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

/// Runs `f` on the driver if it still exists. A callback that arrives while the driver is busy
/// (it cannot, with the handlers used here, but the browser is not ours to reason about) is retried
/// on the next tick instead of panicking.
fn with_driver(weak: &Weak<RefCell<Driver>>, f: impl FnOnce(&mut Driver) + 'static) {
    let Some(rc) = weak.upgrade() else { return };
    match rc.try_borrow_mut() {
        Ok(mut d) => {
            f(&mut d);
            let deferred = d.run();
            drop(d);
            for action in deferred {
                action();
            }
        }
        Err(_) => {
            let weak = weak.clone();
            wasm_bindgen_futures::spawn_local(async move { with_driver(&weak, f) });
        }
    }
}

impl Driver {
    /// Flushes the outbox, executes the session's commands, re-arms the timer. Returns actions
    /// to run once the driver is no longer borrowed (callbacks into the page).
    fn run(&mut self) -> Vec<Box<dyn FnOnce()>> {
        let mut deferred: Vec<Box<dyn FnOnce()>> = Vec::new();
        loop {
            let t = now();
            self.session.flush(t, &mut PeerChannel(self.peer.as_ref()));
            let Some(command) = self.session.poll_command() else { break };
            if let Some(action) = self.execute(command) {
                deferred.push(action);
            }
        }
        let deadline = self.session.poll_timeout().map(|m| m.0 as f64);
        if let Some(timer) = self.timer.as_mut() {
            timer.set_deadline(deadline);
        }
        deferred
    }

    fn execute(&mut self, command: VoiceCommand) -> Option<Box<dyn FnOnce()>> {
        match command {
            VoiceCommand::StartConnection => self.start_connection(),
            VoiceCommand::CloseConnection => self.close_connection(),
            VoiceCommand::SetMicEnabled(on) => {
                if let Some(p) = &self.peer {
                    p.set_mic_enabled(on);
                }
            }
            VoiceCommand::RefreshToken => self.refresh_token(),
            VoiceCommand::StateChanged { to, .. } => {
                let _ = self.ui.state.try_set(to);
                if to == TurnState::Recording {
                    let _ = self.ui.problem.try_set(None);
                }
            }
            VoiceCommand::Transcript(update) => self.show_transcript(update),
            VoiceCommand::AssistantSpeaking(on) => {
                let _ = self.ui.speaking.try_set(on);
            }
            // The session changed the shared cart in place: publish the new lines.
            VoiceCommand::CartChanged => self.cart.update(|_| ()),
            VoiceCommand::Order(action) => {
                let cb = self.on_order;
                return Some(Box::new(move || cb.run(action)));
            }
            VoiceCommand::Rejected { command, state } => {
                log::warn!("[Voice] {command} ignored while {}", state.as_snake_case());
            }
            VoiceCommand::Error { message } => {
                let _ = self.ui.problem.try_set(Some(VoiceProblem { title: message, help: String::new(), mic: false }));
            }
        }
        None
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
            // The screen shows the recent conversation only.
            let excess = lines.len().saturating_sub(12);
            lines.drain(..excess);
        });
    }

    /// Creates the peer (every handler attached before the offer exists), adds the microphone
    /// disabled, then runs the SDP exchange.
    fn start_connection(&mut self) {
        // A previous peer (if any) goes; the microphone just acquired for this attempt stays.
        self.grace = None;
        self.peer = None;
        let Some(token) = self.token_value.take() else {
            log::error!("[Voice] connection requested without a token");
            self.session.handle_connection_failed(now(), "no token");
            return;
        };
        let me = self.me.clone();
        let peer = match Peer::new(PeerOptions { data_channel: Some("oai-events") }, move |event| {
            with_driver(&me, move |d| d.on_peer_event(event))
        }) {
            Ok(p) => p,
            Err(e) => {
                log::error!("[Voice] {e}");
                self.session.handle_connection_failed(now(), &e);
                return;
            }
        };
        if let Some(stream) = &self.mic {
            peer.add_local_audio(stream);
        }
        let offer = peer.create_offer();
        self.peer = Some(peer);
        self.set_connection("new");
        let attempt = self.attempt;
        let (transport, me) = (self.transport.clone(), self.me.clone());
        self.spawn_connect(async move {
            let result = async {
                let offer_sdp = offer.await?;
                let answer = transport.exchange_sdp(offer_sdp, token).await?;
                let apply = match me.upgrade() {
                    Some(rc) => match rc.try_borrow() {
                        Ok(d) if d.attempt == attempt => d.peer.as_ref().map(|p| p.apply_answer(&answer)),
                        _ => None,
                    },
                    None => None,
                };
                match apply {
                    Some(step) => step.await,
                    None => Ok(()), // superseded: nothing to apply
                }
            }
            .await;
            with_driver(&me, move |d| {
                d.connect_task = None;
                if d.attempt != attempt {
                    return;
                }
                if let Err(e) = result {
                    log::error!("[Voice] connecting failed: {e}");
                    let _ = d.ui.problem.try_set(Some(VoiceProblem {
                        title: "Could not connect to the voice assistant".into(),
                        help: e.clone(),
                        mic: false,
                    }));
                    d.session.handle_connection_failed(now(), &e);
                }
            });
        });
    }

    fn spawn_connect(&mut self, fut: impl std::future::Future<Output = ()> + 'static) {
        let (handle, registration) = AbortHandle::new_pair();
        if let Some(old) = self.connect_task.replace(handle) {
            old.abort();
        }
        wasm_bindgen_futures::spawn_local(async move {
            let _ = Abortable::new(fut, registration).await;
        });
    }

    fn close_peer(&mut self) {
        if let Some(t) = self.connect_task.take() {
            t.abort();
        }
        self.grace = None;
        if self.peer.take().is_some() {
            self.set_connection("closed");
        }
        // The peer stopped the microphone's tracks; a new connection asks for it again.
        self.mic = None;
    }

    fn close_connection(&mut self) {
        self.attempt += 1;
        self.close_peer();
        // The session tracks Disconnecting until the channel reports closed; ours is gone now.
        self.session.handle_channel_closed(now());
    }

    fn set_connection(&mut self, state: &str) {
        self.connection_state = state.to_string();
        let _ = self.ui.connection.try_set(state.to_string());
    }

    fn on_peer_event(&mut self, event: PeerEvent) {
        let t = now();
        match event {
            PeerEvent::ChannelMessage(text) => {
                let cart = self.cart.clone();
                let session = &mut self.session;
                // Errors are logged by the session and never change its state.
                let _ = cart.update(|c| session.handle_server_frame(t, &text, c));
            }
            PeerEvent::ChannelOpen => {
                let peer = self.peer.as_ref();
                if let Err(e) = self.session.handle_channel_open(t, &mut PeerChannel(peer)) {
                    log::error!("[Voice] channel open: {e}");
                }
            }
            PeerEvent::ChannelClosed => self.session.handle_channel_closed(t),
            PeerEvent::ChannelError(e) => log::error!("[Voice] data channel error: {e}"),
            PeerEvent::ConnectionState(state) => {
                self.set_connection(&state);
                match state.as_str() {
                    "connected" => self.grace = None,
                    "disconnected" => {
                        let me = self.me.clone();
                        self.grace = Some(Timeout::new(DISCONNECTED_GRACE_MS, move || {
                            with_driver(&me, |d| {
                                d.grace = None;
                                if d.connection_state == "disconnected" {
                                    d.connection_ended("The connection to the voice assistant was lost.");
                                }
                            })
                        }));
                    }
                    "failed" | "closed" => self.connection_ended("The connection to the voice assistant was lost."),
                    _ => {}
                }
            }
            PeerEvent::IceConnectionState(state) => log::info!("[Voice] ICE {state}"),
            // The Realtime endpoint takes the offer's candidates; nothing is trickled.
            PeerEvent::IceCandidate(_) => {}
            PeerEvent::RemoteAudio => log::info!("[Voice] assistant audio connected"),
        }
    }

    fn connection_ended(&mut self, message: &str) {
        self.grace = None;
        let _ = self.ui.problem.try_set(Some(VoiceProblem {
            title: message.into(),
            help: "Tap Reconnect to talk again, or keep ordering by touch.".into(),
            mic: false,
        }));
        self.session.handle_connection_failed(now(), message);
    }

    fn refresh_token(&mut self) {
        if self.token_task.is_some() {
            return;
        }
        let (transport, me) = (self.transport.clone(), self.me.clone());
        let (handle, registration) = AbortHandle::new_pair();
        self.token_task = Some(handle);
        wasm_bindgen_futures::spawn_local(async move {
            let Ok(result) = Abortable::new(transport.fetch_token(), registration).await else { return };
            with_driver(&me, move |d| {
                d.token_task = None;
                match result {
                    Ok(token) => {
                        let _ = d.session.handle_token(now(), token.expires_at, Millis(clock::unix_ms() as u64));
                        d.token_value = Some(token.value);
                    }
                    Err(e) => log::error!("[Voice] token refresh failed: {e}"),
                }
            });
        });
    }

    fn status(&self) -> serde_json::Value {
        let channel = self.peer.as_ref().and_then(|p| p.channel());
        json!({
            "connectionState": self.connection_state,
            "turnState": self.session.state().as_snake_case(),
            "transcriptMapSize": self.session.transcript().len(),
            "hasDataChannel": channel.is_some(),
            "dataChannelReady": self.peer.as_ref().is_some_and(Peer::channel_is_open),
            "eventsReceived": self.session.event_counts(),
            "isStuck": self.session.is_stuck(now()),
            "queuedEvents": self.session.queued_events(),
        })
    }
}

impl VoiceHandle {
    /// Single-flight: while a connection is being made or exists, this does nothing.
    /// Microphone, then token, then the connection.
    pub fn connect(&self) {
        let Some(rc) = self.driver.upgrade() else { return };
        let Ok(mut d) = rc.try_borrow_mut() else { return };
        let state = d.session.state();
        if d.connect_task.is_some() || !matches!(state, TurnState::Disconnected | TurnState::Error) {
            return;
        }
        let _ = d.ui.problem.try_set(None);
        d.attempt += 1;
        let attempt = d.attempt;
        let (transport, me, need_mic) = (d.transport.clone(), d.me.clone(), d.mic.is_none());
        let _ = d.ui.state.try_set(TurnState::Connecting);
        d.spawn_connect(async move {
            let mic = if need_mic { Some(open_microphone().await) } else { None };
            let token = transport.fetch_token().await;
            with_driver(&me, move |d| {
                d.connect_task = None;
                if d.attempt != attempt {
                    return;
                }
                match mic {
                    Some(Err(e)) => return d.mic_failed(e),
                    Some(Ok(stream)) => d.mic = Some(stream),
                    None => {}
                }
                match token {
                    Ok(token) => {
                        if d.session.handle_token(now(), token.expires_at, Millis(clock::unix_ms() as u64)).is_ok() {
                            d.token_value = Some(token.value);
                            if let Err(e) = d.session.handle_connect_requested(now()) {
                                log::error!("[Voice] connect refused: {e}");
                            }
                        }
                    }
                    Err(e) => {
                        // Token failures are shown, never retried automatically.
                        log::error!("[Voice] {e}");
                        let _ = d.ui.problem.try_set(Some(VoiceProblem {
                            title: "Voice ordering is unavailable".into(),
                            help: format!("{e}. You can still order by touch."),
                            mic: false,
                        }));
                    }
                }
                let _ = d.ui.state.try_set(d.session.state());
            });
        });
    }

    pub fn disconnect(&self) {
        with_driver(&self.driver, |d| {
            d.attempt += 1;
            if let Some(t) = d.connect_task.take() {
                t.abort();
            }
            d.session.disconnect(now());
            let _ = d.ui.state.try_set(d.session.state());
        });
    }

    pub fn start_talking(&self) {
        with_driver(&self.driver, |d| {
            if let Err(e) = d.session.start_recording(now()) {
                log::warn!("[Voice] {e}");
            }
        });
    }

    pub fn stop_talking(&self) {
        with_driver(&self.driver, |d| {
            if let Err(e) = d.session.stop_recording(now()) {
                log::warn!("[Voice] {e}");
            }
        });
    }

    pub fn force_reset(&self) {
        with_driver(&self.driver, |d| d.session.force_reset(now()));
    }

    pub fn dismiss_problem(&self) {
        let _ = self.problem.try_set(None);
    }
}

impl Driver {
    fn mic_failed(&mut self, e: MicError) {
        let _ = self.ui.problem.try_set(Some(VoiceProblem { title: e.title(), help: e.help(), mic: true }));
        let _ = self.ui.state.try_set(self.session.state());
    }
}

/// Starts the voice session machinery for this component. Nothing connects until
/// [`VoiceHandle::connect`] (a tap: browsers require a gesture for the microphone).
pub fn use_voice_session(menu: Vec<MenuItem>, cart: KioskCart, options: VoiceOptions) -> VoiceHandle {
    let ui = Ui {
        state: RwSignal::new(TurnState::Disconnected),
        transcript: RwSignal::new(Vec::new()),
        speaking: RwSignal::new(false),
        problem: RwSignal::new(None),
        connection: RwSignal::new("none".into()),
    };
    let config = VoiceConfig {
        timeouts: options.timeouts,
        id_seed: u64::from_le_bytes(crate::web::random::random_bytes()),
        ..VoiceConfig::default()
    };
    let driver = Rc::new_cyclic(|me: &Weak<RefCell<Driver>>| {
        let fire = me.clone();
        RefCell::new(Driver {
            session: VoiceSession::new(config, menu),
            cart,
            transport: options.transport,
            on_order: options.on_order,
            ui,
            attempt: 0,
            connect_task: None,
            token_task: None,
            token_value: None,
            peer: None,
            mic: None,
            timer: Some(DeadlineTimer::new(move || with_driver(&fire, |d| d.session.handle_timeout(now())))),
            grace: None,
            connection_state: "none".into(),
            _debug: None,
            me: me.clone(),
        })
    });

    let (status_of, reset_of) = (Rc::downgrade(&driver), Rc::downgrade(&driver));
    let debug = DebugObject::install(
        "__voiceClient",
        vec![
            (
                "getStatus",
                Box::new(move || match status_of.upgrade() {
                    Some(rc) => rc.try_borrow().map(|d| to_js(&d.status())).unwrap_or(wasm_bindgen::JsValue::NULL),
                    None => wasm_bindgen::JsValue::NULL,
                }),
            ),
            (
                "forceReset",
                Box::new(move || {
                    with_driver(&reset_of, |d| d.session.force_reset(now()));
                    wasm_bindgen::JsValue::UNDEFINED
                }),
            ),
        ],
    );
    driver.borrow_mut()._debug = Some(debug);

    let handle = VoiceHandle {
        state: ui.state,
        transcript: ui.transcript,
        speaking: ui.speaking,
        problem: ui.problem,
        connection: ui.connection,
        driver: SendWrapper::new(Rc::downgrade(&driver)),
    };
    let owned = SendWrapper::new(driver);
    on_cleanup(move || {
        let driver = owned.take();
        // Tear down while the driver still exists, then drop it: the peer closes, the timer is
        // cancelled, in-flight fetches are aborted, the debug surface is removed.
        if let Ok(mut d) = driver.try_borrow_mut() {
            d.attempt += 1;
            if let Some(t) = d.token_task.take() {
                t.abort();
            }
            d.close_peer();
            d.timer = None;
            d._debug = None;
        }
        drop(driver);
    });
    handle
}
