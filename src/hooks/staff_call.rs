//! `use_staff_call`: runs the sans-IO [`Call`] against a real `RTCPeerConnection`.
//!
//! The driver owns the call, the peer (RAII, created on `CreatePeer` once the microphone is
//! granted: on accept for the callee, on call for the caller), the one deadline timer, the ring
//! tone and the in-flight peer steps. Frames to send and page callbacks run once the driver is
//! released (see [`super::driver`]). On cleanup the call is hung up (the other side is told), the
//! peer closes, the timer is cancelled and no signal is written after that. The kiosk's own
//! signalling connection is [`super::kiosk_call`].

use std::rc::Rc;

use gloo_timers::callback::Interval;
use leptos::prelude::*;
use restaurant_protocol::{CallMessage, IceCandidate};
use wasm_bindgen::JsCast;

use super::driver::{After, Driver, DriverHandle, DriverRef, Task, page_signals, use_driver};
use crate::core::call::{Call, CallCommand, CallState, CallView, PeerState};
use crate::core::peer::PeerConnectionState;
use crate::core::secure::MediaAccess;
use crate::core::time::Millis;
use crate::web::chime::RingTone;
use crate::web::clock;
use crate::web::debug::{DebugObject, to_js};
use crate::web::media::open_microphone;
use crate::web::peer::{Peer, PeerEvent, PeerOptions};
use crate::web::random::random_id;
use crate::web::timer::DeadlineTimer;

/// What a page's signalling connection hands to its call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallSignal {
    Message(CallMessage),
    /// The connection carrying the call is gone; the hub has ended the call.
    Lost,
}

pub struct UseStaffCallOptions {
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
    /// Whether the page may ask for the microphone; when not, calls are neither placed nor
    /// answered here and `getUserMedia` is never called.
    pub media: MediaAccess,
}

/// The reactive face of the call plus its actions. `Copy`; every action is a no-op once the page
/// is gone.
#[derive(Clone, Copy)]
pub struct UseStaffCallReturn {
    view: RwSignal<CallView>,
    elapsed_secs: RwSignal<u64>,
    available: bool,
    driver: DriverHandle<CallDriver>,
}

struct CallDriver {
    call: Call,
    send: Rc<dyn Fn(CallMessage)>,
    on_idle: Option<Rc<dyn Fn()>>,
    media: MediaAccess,
    peer: Option<Peer>,
    /// Bumped whenever the peer is closed: async steps of an older peer stop.
    generation: u64,
    /// Steps of the current peer; dropped (aborted) with it.
    tasks: Vec<Task>,
    timer: DeadlineTimer,
    ring: Option<RingTone>,
    ticker: Option<Interval>,
    view: RwSignal<CallView>,
    elapsed_secs: RwSignal<u64>,
    me: DriverRef<CallDriver>,
    _debug: DebugObject,
}

impl Driver for CallDriver {
    const NAME: &'static str = "StaffCall";

    fn drive(&mut self, after: &mut After) {
        while let Some(command) = self.call.poll_command() {
            self.execute(command, after);
        }
        self.timer.set_deadline(self.call.poll_timeout());
        if !self.call.state().is_active()
            && let Some(on_idle) = self.on_idle.clone()
        {
            after.push(move || on_idle());
        }
    }

    /// Hangs up first, so the other side hears of it; dropping the driver releases the rest.
    fn dispose(&mut self, now: Millis) {
        self.call.handle_hangup(now);
    }
}

impl CallDriver {
    fn execute(&mut self, command: CallCommand, after: &mut After) {
        match command {
            CallCommand::Send(message) => {
                let send = self.send.clone();
                after.push(move || send(message));
            }
            CallCommand::CreatePeer => self.create_peer(),
            CallCommand::CreateOffer => {
                let Some(step) = self.peer.as_ref().map(Peer::create_offer) else {
                    return;
                };
                self.spawn(step, |d, now, result| match result {
                    Ok(sdp) => d.call.handle_local_offer(now, sdp),
                    Err(e) => d.call.handle_peer_failed(now, &e),
                });
            }
            CallCommand::ApplyOfferAndAnswer { sdp } => {
                let Some(step) = self.peer.as_ref().map(|p| p.answer(&sdp)) else {
                    return;
                };
                self.spawn(step, |d, now, result| match result {
                    Ok(answer) => {
                        d.call.handle_remote_description_set(now);
                        d.call.handle_local_answer(now, answer);
                    }
                    Err(e) => d.call.handle_peer_failed(now, &e),
                });
            }
            CallCommand::ApplyAnswer { sdp } => {
                let Some(step) = self.peer.as_ref().map(|p| p.apply_answer(&sdp)) else {
                    return;
                };
                self.spawn(step, |d, now, result| match result {
                    Ok(()) => d.call.handle_remote_description_set(now),
                    Err(e) => d.call.handle_peer_failed(now, &e),
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
                self.spawn(step, |_, _, result| {
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
                        let _ = elapsed.try_set(clock::now().since(since).as_secs());
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
        then: impl FnOnce(&mut CallDriver, Millis, T) + 'static,
    ) {
        let generation = self.generation;
        let task = self.me.spawn(step, move |d, now, result| {
            if d.generation == generation {
                then(d, now, result);
            }
        });
        self.tasks.push(task);
    }

    /// The microphone, then the peer connection with the microphone's track. Not abortable: a
    /// microphone granted after the call ended is stopped at once instead of left running.
    fn create_peer(&mut self) {
        self.close_peer();
        if let Some(message) = self.media.message() {
            // Never reached through the page (placing and answering are refused first); the
            // microphone is not asked for either way.
            log::error!("[StaffCall] no microphone on this page: {message}");
            self.call.handle_peer_failed(clock::now(), "voice and calls need a secure connection");
            return;
        }
        let (generation, me) = (self.generation, self.me.clone());
        leptos::task::spawn_local(async move {
            let mic = open_microphone().await;
            if !me.is_alive() {
                // Granted after the page closed: stopped at once instead of left running.
                if let Ok(stream) = &mic {
                    stop_tracks(stream);
                }
                return;
            }
            me.run(move |d, now| match mic {
                Ok(stream) if d.generation != generation => stop_tracks(&stream),
                Err(_) if d.generation != generation => {}
                Ok(stream) => d.peer_with(now, stream),
                Err(e) => {
                    log::error!("[StaffCall] no microphone: {}", e.title());
                    d.call.handle_peer_failed(now, &e.title());
                }
            });
        });
    }

    fn peer_with(&mut self, now: Millis, stream: web_sys::MediaStream) {
        let (generation, me) = (self.generation, self.me.clone());
        let created = Peer::new(PeerOptions { data_channel: None }, move |event| {
            me.run(move |d, now| {
                if d.generation == generation {
                    d.on_peer_event(now, event);
                }
            });
        });
        match created {
            Ok(peer) => {
                peer.add_local_audio(&stream);
                peer.set_mic_enabled(true);
                self.peer = Some(peer);
                self.call.handle_peer_created(now);
            }
            Err(e) => {
                stop_tracks(&stream);
                log::error!("[StaffCall] {e}");
                self.call.handle_peer_failed(now, &e);
            }
        }
    }

    fn on_peer_event(&mut self, t: Millis, event: PeerEvent) {
        match event {
            PeerEvent::IceCandidate(Some(json)) => match serde_json::from_str::<IceCandidate>(&json) {
                Ok(candidate) => self.call.handle_local_ice(t, candidate),
                Err(e) => log::error!("[StaffCall] local ICE candidate unreadable: {e}"),
            },
            PeerEvent::IceCandidate(None) => log::info!("[StaffCall] ICE gathering complete"),
            PeerEvent::ConnectionState(state) => {
                log::info!("[StaffCall] peer connection {}", state.as_str());
                match state {
                    PeerConnectionState::Connected => self.call.handle_connection_state(t, PeerState::Connected),
                    PeerConnectionState::Failed => self.call.handle_connection_state(t, PeerState::Failed),
                    PeerConnectionState::Closed => self.call.handle_connection_state(t, PeerState::Closed),
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
        // Dropping the tasks aborts the steps of the old peer.
        self.tasks.clear();
        // Dropping the peer closes the connection, stops the microphone and removes the audio.
        self.peer = None;
    }

    /// Whether `action` must be refused because the page may not use the microphone.
    fn refused(&self, action: &str) -> bool {
        match self.media.message() {
            Some(message) => {
                log::warn!("[StaffCall] {action} refused: {message}");
                true
            }
            None => false,
        }
    }

    fn status(&self) -> CallStatus {
        let view = self.call.view();
        CallStatus {
            state: view.state.as_str(),
            call_id: view.call_id,
            remote: view.remote,
            muted: view.muted,
            ended: view.ended.map(|r| r.message()),
            ringing: self.ring.as_ref().is_some_and(RingTone::is_ringing),
            has_peer: self.peer.is_some(),
        }
    }
}

/// `__kdsCall.getStatus()` / `__kioskCall.getStatus()`: the call as a test reads it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CallStatus {
    state: &'static str,
    call_id: Option<String>,
    remote: Option<String>,
    muted: bool,
    ended: Option<&'static str>,
    ringing: bool,
    has_peer: bool,
}

fn stop_tracks(stream: &web_sys::MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
            track.stop();
        }
    }
}

impl UseStaffCallReturn {
    /// The call as the page shows it.
    pub fn view(&self) -> Signal<CallView> {
        self.view.into()
    }

    /// Whole seconds since the call connected.
    pub fn elapsed_secs(&self) -> Signal<u64> {
        self.elapsed_secs.into()
    }

    /// Whether calls can be placed and answered on this page (a secure context).
    pub fn available(&self) -> bool {
        self.available
    }

    /// Calls staff (`to_station`: one station's screens, `None`: every staff screen). Refused,
    /// with a log, where the microphone is unavailable.
    pub fn call(&self, to_station: Option<String>) {
        self.driver.run(move |d, now| {
            if d.refused("call") {
                return;
            }
            d.call.handle_call(now, random_id("call"), to_station)
        });
    }

    /// Answers the ringing call. Refused, with a log, where the microphone is unavailable (the
    /// call keeps ringing for the other screens).
    pub fn accept(&self) {
        self.driver.run(|d, now| {
            if d.refused("accept") {
                return;
            }
            d.call.handle_accept(now)
        });
    }

    pub fn decline(&self) {
        self.driver.run(|d, now| d.call.handle_decline(now));
    }

    pub fn hangup(&self) {
        self.driver.run(|d, now| d.call.handle_hangup(now));
    }

    pub fn set_muted(&self, muted: bool) {
        self.driver.run(move |d, now| d.call.handle_mute(now, muted));
    }

    /// A frame (or the loss of the connection) from the page's signalling connection.
    pub fn receive(&self, signal: CallSignal) {
        self.driver.run(move |d, now| match signal {
            CallSignal::Message(message) => d.call.handle_message(now, message),
            CallSignal::Lost if d.call.state().is_active() => {
                d.call.handle_peer_failed(now, "the connection to the hub was lost")
            }
            CallSignal::Lost => {}
        });
    }
}

/// Starts the staff call machinery for this component. Nothing happens until a call comes in
/// ([`UseStaffCallReturn::receive`]) or is made ([`UseStaffCallReturn::call`]).
pub fn use_staff_call(options: UseStaffCallOptions) -> UseStaffCallReturn {
    let call = Call::new(options.local_id);
    let (view, elapsed_secs) = page_signals(|| (RwSignal::new(call.view()), RwSignal::new(0)));
    let available = options.media.allows_microphone();
    let driver = use_driver(|me: DriverRef<CallDriver>| {
        let fire = me.clone();
        CallDriver {
            call,
            send: options.send,
            on_idle: options.on_idle,
            media: options.media,
            peer: None,
            generation: 0,
            tasks: Vec::new(),
            timer: DeadlineTimer::new(move || {
                fire.run(|d, now| d.call.handle_timeout(now));
            }),
            ring: options.ring.then(RingTone::new),
            ticker: None,
            view,
            elapsed_secs,
            _debug: install_debug(options.debug_name, me.clone()),
            me,
        }
    });
    UseStaffCallReturn { view, elapsed_secs, available, driver }
}

fn install_debug(name: &'static str, driver: DriverRef<CallDriver>) -> DebugObject {
    let status_of = driver.clone();
    DebugObject::install(
        name,
        vec![
            (
                "getStatus",
                Box::new(move || status_of.with(|d| to_js(&d.status())).unwrap_or(wasm_bindgen::JsValue::NULL)),
            ),
            (
                "audioBytes",
                Box::new(move || {
                    let step = driver.with(|d| d.peer.as_ref().map(Peer::audio_bytes)).flatten();
                    wasm_bindgen_futures::future_to_promise(async move {
                        let Some(step) = step else {
                            return Ok(wasm_bindgen::JsValue::NULL);
                        };
                        let bytes = step.await.map_err(|e| wasm_bindgen::JsValue::from_str(&e))?;
                        Ok(to_js(&bytes))
                    })
                    .into()
                }),
            ),
        ],
    )
}
