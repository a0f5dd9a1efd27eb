//! `use_staff_call`: runs the sans-IO [`Call`] against a real `RTCPeerConnection`, and
//! `use_kiosk_call`: the same over the kiosk's own call-only connection ([`CallLink`]).
//!
//! The driver owns the call, the peer (RAII, created on `CreatePeer` once the microphone is
//! granted: on accept for the callee, on call for the caller), the one deadline timer, the ring
//! tone and the in-flight peer steps. Browser callbacks hold only a `Weak` to it. Its loop, after
//! every input: carry out every command the call emits, re-arm the timer from `poll_timeout()`;
//! frames to send and page callbacks run once the driver is released. On cleanup the call is hung
//! up (the other side is told), the peer closes, the timer is cancelled and no signal is written
//! after that.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures::future::{AbortHandle, Abortable};
use gloo_timers::callback::Interval;
use leptos::prelude::*;
use restaurant_protocol::{CallMessage, IceCandidate};
use send_wrapper::SendWrapper;
use serde_json::json;
use wasm_bindgen::JsCast;

use crate::core::call::{Call, CallCommand, CallState, CallView, PeerState};
use crate::core::call_link::{CallLink, CallLinkCommand};
use crate::core::link::{AttemptId, LinkConfig, SocketInput};
use crate::core::time::Millis;
use crate::web::chime::RingTone;
use crate::web::clock;
use crate::web::debug::{DebugObject, to_js};
use crate::web::media::open_microphone;
use crate::web::peer::{Peer, PeerEvent, PeerOptions};
use crate::web::random::random_bytes;
use crate::web::socket::AttemptSocket;
use crate::web::timer::DeadlineTimer;

/// What a page's signalling connection hands to its call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallSignal {
    Message(CallMessage),
    /// The connection carrying the call is gone; the hub has ended the call.
    Lost,
}

pub struct CallOptions {
    /// This screen's client id (`from`; compared on glare).
    pub local_id: String,
    /// Sends a frame on the page's signalling connection.
    pub send: Rc<dyn Fn(CallMessage)>,
    /// Runs after every input that leaves no call under way (the kiosk closes its connection).
    pub on_idle: Option<Rc<dyn Fn()>>,
    /// Whether incoming calls ring (staff screens).
    pub ring: bool,
    /// `window` name of the debug surface (`getStatus()`, `audioBytes()`).
    pub debug_name: &'static str,
}

/// The reactive face of the call plus its actions. Every action is a no-op once the page is gone.
#[derive(Clone)]
pub struct StaffCallHandle {
    pub view: RwSignal<CallView>,
    /// Whole seconds since the call connected.
    pub elapsed_secs: RwSignal<u64>,
    driver: SendWrapper<Weak<RefCell<Driver>>>,
}

type Deferred = Vec<Box<dyn FnOnce()>>;

struct Driver {
    call: Call,
    send: Rc<dyn Fn(CallMessage)>,
    on_idle: Option<Rc<dyn Fn()>>,
    peer: Option<Peer>,
    /// Bumped whenever the peer is closed: async steps of an older peer stop.
    generation: u64,
    tasks: Vec<AbortHandle>,
    timer: Option<DeadlineTimer>,
    ring: Option<RingTone>,
    ticker: Option<Interval>,
    view: RwSignal<CallView>,
    elapsed_secs: RwSignal<u64>,
    me: Weak<RefCell<Driver>>,
    _debug: Option<DebugObject>,
}

fn now() -> Millis {
    Millis(clock::now_ms().max(0.0) as u64)
}

/// Runs `f` on the driver if it still exists, then its loop, then (released) what it deferred. A
/// callback arriving while the driver is busy is retried on the next tick instead of panicking.
fn with_driver(weak: &Weak<RefCell<Driver>>, f: impl FnOnce(&mut Driver) + 'static) {
    let Some(rc) = weak.upgrade() else { return };
    let Ok(mut d) = rc.try_borrow_mut() else {
        let weak = weak.clone();
        wasm_bindgen_futures::spawn_local(async move { with_driver(&weak, f) });
        return;
    };
    f(&mut d);
    let deferred = d.run();
    drop(d);
    deferred.into_iter().for_each(|action| action());
}

impl Driver {
    fn run(&mut self) -> Deferred {
        let mut deferred: Deferred = Vec::new();
        while let Some(command) = self.call.poll_command() {
            self.execute(command, &mut deferred);
        }
        if let Some(timer) = self.timer.as_mut() {
            timer.set_deadline(self.call.poll_timeout().map(|m| m.0 as f64));
        }
        if !self.call.state().is_active()
            && let Some(on_idle) = self.on_idle.clone()
        {
            deferred.push(Box::new(move || on_idle()));
        }
        deferred
    }

    fn execute(&mut self, command: CallCommand, deferred: &mut Deferred) {
        match command {
            CallCommand::Send(message) => {
                let send = self.send.clone();
                deferred.push(Box::new(move || send(message)));
            }
            CallCommand::CreatePeer => self.create_peer(),
            CallCommand::CreateOffer => {
                let Some(step) = self.peer.as_ref().map(Peer::create_offer) else {
                    return;
                };
                self.spawn(step, |d, result| match result {
                    Ok(sdp) => d.call.handle_local_offer(now(), sdp),
                    Err(e) => d.call.handle_peer_failed(now(), &e),
                });
            }
            CallCommand::ApplyOfferAndAnswer { sdp } => {
                let Some(step) = self.peer.as_ref().map(|p| p.answer(&sdp)) else {
                    return;
                };
                self.spawn(step, |d, result| match result {
                    Ok(answer) => {
                        d.call.handle_remote_description_set(now());
                        d.call.handle_local_answer(now(), answer);
                    }
                    Err(e) => d.call.handle_peer_failed(now(), &e),
                });
            }
            CallCommand::ApplyAnswer { sdp } => {
                let Some(step) = self.peer.as_ref().map(|p| p.apply_answer(&sdp)) else {
                    return;
                };
                self.spawn(step, |d, result| match result {
                    Ok(()) => d.call.handle_remote_description_set(now()),
                    Err(e) => d.call.handle_peer_failed(now(), &e),
                });
            }
            CallCommand::AddIceCandidate(candidate) => {
                let json = match serde_json::to_string(&candidate) {
                    Ok(json) => json,
                    Err(e) => {
                        return log::error!("[StaffCall] ICE candidate not serialisable: {e}");
                    }
                };
                let Some(step) = self.peer.as_ref().map(|p| p.add_ice_candidate(&json)) else {
                    return;
                };
                self.spawn(step, |_, result| {
                    if let Err(e) = result {
                        log::warn!("[StaffCall] remote ICE candidate not added: {e}");
                    }
                });
            }
            CallCommand::SetMuted(muted) => {
                if let Some(peer) = &self.peer {
                    peer.set_sending(!muted);
                }
            }
            CallCommand::ClosePeer => self.close_peer(),
            CallCommand::StartRingTone => {
                if let Some(ring) = self.ring.as_mut() {
                    ring.start();
                }
            }
            CallCommand::StopRingTone => {
                if let Some(ring) = self.ring.as_mut() {
                    ring.stop();
                }
            }
            CallCommand::Ui(view) => self.show(view),
        }
    }

    fn show(&mut self, view: CallView) {
        match (view.state, view.connected_since) {
            (CallState::Connected, Some(since)) => {
                if self.ticker.is_none() {
                    let elapsed = self.elapsed_secs;
                    let tick = move || {
                        let _ = elapsed.try_set(now().since(since).as_secs());
                    };
                    tick();
                    self.ticker = Some(Interval::new(250, tick));
                }
            }
            _ => self.ticker = None,
        }
        let _ = self.view.try_set(view);
    }

    /// Runs a peer step of the current peer; its result is applied only if the peer still exists.
    fn spawn<T: 'static>(
        &mut self,
        step: impl std::future::Future<Output = T> + 'static,
        then: impl FnOnce(&mut Driver, T) + 'static,
    ) {
        let (generation, me) = (self.generation, self.me.clone());
        let (handle, registration) = AbortHandle::new_pair();
        self.tasks.retain(|t| !t.is_aborted());
        self.tasks.push(handle);
        wasm_bindgen_futures::spawn_local(async move {
            let Ok(result) = Abortable::new(step, registration).await else {
                return;
            };
            with_driver(&me, move |d| {
                if d.generation == generation {
                    then(d, result);
                }
            });
        });
    }

    /// The microphone, then the peer connection with the microphone's track. Not abortable: a
    /// microphone granted after the call ended is stopped at once instead of left running.
    fn create_peer(&mut self) {
        self.close_peer();
        let (generation, me) = (self.generation, self.me.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let mic = open_microphone().await;
            if me.strong_count() == 0 {
                if let Ok(stream) = &mic {
                    stop_tracks(stream);
                }
                return;
            }
            with_driver(&me, move |d| match mic {
                Ok(stream) if d.generation != generation => stop_tracks(&stream),
                Err(_) if d.generation != generation => {}
                Ok(stream) => d.peer_with(stream),
                Err(e) => {
                    log::error!("[StaffCall] no microphone: {}", e.title());
                    d.call.handle_peer_failed(now(), &e.title());
                }
            });
        });
    }

    fn peer_with(&mut self, stream: web_sys::MediaStream) {
        let (generation, me) = (self.generation, self.me.clone());
        let created = Peer::new(PeerOptions { data_channel: None }, move |event| {
            with_driver(&me, move |d| {
                if d.generation == generation {
                    d.on_peer_event(event);
                }
            })
        });
        match created {
            Ok(peer) => {
                peer.add_local_audio(&stream);
                peer.set_mic_enabled(true);
                self.peer = Some(peer);
                self.call.handle_peer_created(now());
            }
            Err(e) => {
                stop_tracks(&stream);
                log::error!("[StaffCall] {e}");
                self.call.handle_peer_failed(now(), &e);
            }
        }
    }

    fn on_peer_event(&mut self, event: PeerEvent) {
        let t = now();
        match event {
            PeerEvent::IceCandidate(Some(json)) => match serde_json::from_str::<IceCandidate>(&json) {
                Ok(candidate) => self.call.handle_local_ice(t, candidate),
                Err(e) => log::error!("[StaffCall] local ICE candidate unreadable: {e}"),
            },
            PeerEvent::IceCandidate(None) => log::info!("[StaffCall] ICE gathering complete"),
            PeerEvent::ConnectionState(state) => {
                log::info!("[StaffCall] peer connection {state}");
                match state.as_str() {
                    "connected" => self.call.handle_connection_state(t, PeerState::Connected),
                    "failed" => self.call.handle_connection_state(t, PeerState::Failed),
                    "closed" => self.call.handle_connection_state(t, PeerState::Closed),
                    // `disconnected` may recover; a hang-up arrives over the signalling anyway.
                    _ => {}
                }
            }
            PeerEvent::IceConnectionState(state) => log::info!("[StaffCall] ICE {state}"),
            PeerEvent::RemoteAudio => log::info!("[StaffCall] remote audio playing"),
            PeerEvent::ChannelOpen
            | PeerEvent::ChannelMessage(_)
            | PeerEvent::ChannelClosed
            | PeerEvent::ChannelError(_) => {}
        }
    }

    fn close_peer(&mut self) {
        self.generation += 1;
        for task in self.tasks.drain(..) {
            task.abort();
        }
        // Dropping the peer closes the connection, stops the microphone and removes the audio.
        self.peer = None;
    }

    fn status(&self) -> serde_json::Value {
        let view = self.call.view();
        json!({
            "state": view.state.as_str(),
            "callId": view.call_id,
            "remote": view.remote,
            "muted": view.muted,
            "ended": view.ended.map(|r| r.message()),
            "ringing": self.ring.as_ref().is_some_and(RingTone::is_ringing),
            "hasPeer": self.peer.is_some(),
        })
    }
}

fn stop_tracks(stream: &web_sys::MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// A fresh random id of `A-Z a-z 0-9 -` for calls and clients.
pub fn random_id(prefix: &str) -> String {
    let hex: String = random_bytes::<8>().iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}")
}

impl StaffCallHandle {
    /// Calls staff (`to_station`: one station's screens, `None`: every staff screen).
    pub fn call(&self, to_station: Option<String>) {
        with_driver(&self.driver, move |d| d.call.handle_call(now(), random_id("call"), to_station));
    }

    pub fn accept(&self) {
        with_driver(&self.driver, |d| d.call.handle_accept(now()));
    }

    pub fn decline(&self) {
        with_driver(&self.driver, |d| d.call.handle_decline(now()));
    }

    pub fn hangup(&self) {
        with_driver(&self.driver, |d| d.call.handle_hangup(now()));
    }

    pub fn set_muted(&self, muted: bool) {
        with_driver(&self.driver, move |d| d.call.handle_mute(now(), muted));
    }

    /// A frame (or the loss of the connection) from the page's signalling connection.
    pub fn receive(&self, signal: CallSignal) {
        with_driver(&self.driver, move |d| match signal {
            CallSignal::Message(message) => d.call.handle_message(now(), message),
            CallSignal::Lost if d.call.state().is_active() => {
                d.call.handle_peer_failed(now(), "the connection to the hub was lost")
            }
            CallSignal::Lost => {}
        });
    }
}

/// Starts the staff call machinery for this component. Nothing happens until a call comes in
/// ([`StaffCallHandle::receive`]) or is made ([`StaffCallHandle::call`]).
pub fn use_staff_call(options: CallOptions) -> StaffCallHandle {
    let call = Call::new(options.local_id);
    let view = RwSignal::new(call.view());
    let elapsed_secs = RwSignal::new(0);
    let driver = Rc::new_cyclic(|me: &Weak<RefCell<Driver>>| {
        let fire = me.clone();
        RefCell::new(Driver {
            call,
            send: options.send,
            on_idle: options.on_idle,
            peer: None,
            generation: 0,
            tasks: Vec::new(),
            timer: Some(DeadlineTimer::new(move || with_driver(&fire, |d| d.call.handle_timeout(now())))),
            ring: options.ring.then(RingTone::new),
            ticker: None,
            view,
            elapsed_secs,
            me: me.clone(),
            _debug: None,
        })
    });
    driver.borrow_mut()._debug = Some(install_debug(options.debug_name, Rc::downgrade(&driver)));

    let handle = StaffCallHandle { view, elapsed_secs, driver: SendWrapper::new(Rc::downgrade(&driver)) };
    let owned = SendWrapper::new(driver);
    on_cleanup(move || {
        let driver = owned.take();
        let Ok(mut d) = driver.try_borrow_mut() else {
            log::error!("[StaffCall] page closed while the call was busy; dropping it");
            return;
        };
        // Hang up first, so the other side hears of it, then release everything.
        d.call.handle_hangup(now());
        let deferred = d.run();
        d.close_peer();
        d.timer = None;
        d.ticker = None;
        d.ring = None;
        d._debug = None;
        drop(d);
        deferred.into_iter().for_each(|action| action());
        drop(driver);
    });
    handle
}

fn install_debug(name: &'static str, driver: Weak<RefCell<Driver>>) -> DebugObject {
    let status_of = driver.clone();
    DebugObject::install(
        name,
        vec![
            (
                "getStatus",
                Box::new(move || match status_of.upgrade() {
                    Some(rc) => rc.try_borrow().map(|d| to_js(&d.status())).unwrap_or(wasm_bindgen::JsValue::NULL),
                    None => wasm_bindgen::JsValue::NULL,
                }),
            ),
            (
                "audioBytes",
                Box::new(move || {
                    let step = driver
                        .upgrade()
                        .and_then(|rc| rc.try_borrow().ok().and_then(|d| d.peer.as_ref().map(Peer::audio_bytes)));
                    wasm_bindgen_futures::future_to_promise(async move {
                        let Some(step) = step else {
                            return Ok(wasm_bindgen::JsValue::NULL);
                        };
                        let bytes = step.await.map_err(|e| wasm_bindgen::JsValue::from_str(&e))?;
                        Ok(to_js(&json!({ "inbound": bytes.inbound, "outbound": bytes.outbound })))
                    })
                    .into()
                }),
            ),
        ],
    )
}

// ---------------------------------------------------------------------------------------------
// The kiosk's connection

/// The kiosk's [`CallLink`] over a real socket: owned by the kiosk's call (through its `send`),
/// handing frames to it through a `Weak`-backed handle.
struct KioskLine {
    link: CallLink,
    socket: AttemptSocket,
    timer: Option<DeadlineTimer>,
    ws_url: String,
    call: Option<StaffCallHandle>,
    me: Weak<RefCell<KioskLine>>,
}

fn with_line(weak: &Weak<RefCell<KioskLine>>, f: impl FnOnce(&mut KioskLine, Millis) + 'static) {
    let Some(rc) = weak.upgrade() else { return };
    let Ok(mut line) = rc.try_borrow_mut() else {
        let weak = weak.clone();
        wasm_bindgen_futures::spawn_local(async move { with_line(&weak, f) });
        return;
    };
    f(&mut line, now());
    let signals = line.drive();
    let call = line.call.clone();
    drop(line);
    // Outside the borrow: the call may answer on this line at once.
    if let Some(call) = call {
        signals.into_iter().for_each(|signal| call.receive(signal));
    }
}

impl KioskLine {
    fn drive(&mut self) -> Vec<CallSignal> {
        let mut signals = Vec::new();
        while let Some(command) = self.link.poll_command() {
            match command {
                CallLinkCommand::OpenSocket { attempt } => self.open(attempt),
                CallLinkCommand::SendFrame { attempt, text } => self.socket.send(attempt, &text),
                CallLinkCommand::CloseSocket { attempt, code, reason } => self.socket.close(attempt, code, &reason),
                CallLinkCommand::Call(message) => signals.push(CallSignal::Message(message)),
                CallLinkCommand::Lost => signals.push(CallSignal::Lost),
            }
        }
        if let Some(timer) = self.timer.as_mut() {
            timer.set_deadline(self.link.poll_timeout().map(|t| t.0 as f64));
        }
        signals
    }

    fn open(&mut self, attempt: AttemptId) {
        let weak = self.me.clone();
        let opened = self.socket.open(&self.ws_url, attempt, move |event| {
            with_line(&weak, move |line, now| line.socket.deliver(&mut line.link, now, attempt, event))
        });
        if let Err(e) = opened {
            log::error!("[KioskCall] {e}");
            self.link.handle_socket_error(now(), attempt);
        }
    }
}

/// The kiosk's staff call. The kiosk opens its hub connection only while a call is being made or
/// is live, and closes it as soon as the call is over: a public kiosk then holds no idle
/// connection to the hub (which sends it nothing but heartbeats), and a hub restart between calls
/// costs nothing. The extra connect (one round trip) is paid once per call, while the microphone
/// prompt and the staff's answer take far longer.
pub fn use_kiosk_call(ws_url: &str) -> StaffCallHandle {
    let line = Rc::new_cyclic(|me: &Weak<RefCell<KioskLine>>| {
        let fire = me.clone();
        RefCell::new(KioskLine {
            link: CallLink::new(LinkConfig::default(), u64::from_le_bytes(random_bytes::<8>())),
            socket: AttemptSocket::new("KioskCall"),
            timer: Some(DeadlineTimer::new(move || with_line(&fire, |l, now| l.link.handle_timeout(now)))),
            ws_url: ws_url.to_string(),
            call: None,
            me: me.clone(),
        })
    });
    // The call owns the line (its `send`), so the hang-up on unmount still goes out on it; the
    // line knows the call only through the handle's `Weak`.
    let (sender, closer) = (line.clone(), line.clone());
    let call = use_staff_call(CallOptions {
        local_id: random_id("kiosk"),
        send: Rc::new(move |message| with_line(&Rc::downgrade(&sender), move |l, now| l.link.send(now, message))),
        on_idle: Some(Rc::new(move || {
            if closer.try_borrow().is_ok_and(|l| l.link.is_connected()) {
                with_line(&Rc::downgrade(&closer), |l, _| l.link.close());
            }
        })),
        ring: false,
        debug_name: "__kioskCall",
    });
    line.borrow_mut().call = Some(call.clone());
    call
}
