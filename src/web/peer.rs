//! RAII `RTCPeerConnection` with its data channel and remote audio.
//!
//! The constructor creates the connection **and** the data channel and attaches every handler
//! (channel: open/message/close/error; connection: connectionstatechange, iceconnectionstatechange,
//! icecandidate, track) before any offer exists, so nothing the remote peer sends can arrive before a
//! handler is there. Incoming frames go straight to the `on_event` sink given to the constructor —
//! there is no intermediate "ready" event a consumer must subscribe to in time.
//!
//! `Drop` first detaches every handler, then closes the channel and the connection, stops the local
//! tracks and removes the remote audio element. No closure is leaked.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Event, HtmlAudioElement, MediaStream, MediaStreamTrack, MessageEvent, RtcDataChannel, RtcDataChannelInit,
    RtcDataChannelState, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcRtpSender, RtcRtpTransceiverDirection,
    RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

use super::debug::bump_counter;
use super::js_error_message;
pub use crate::core::peer::PeerConnectionState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    ChannelOpen,
    ChannelMessage(String),
    ChannelClosed,
    ChannelError(String),
    /// `connectionState` changed.
    ConnectionState(PeerConnectionState),
    IceConnectionState(String),
    /// A local ICE candidate as JSON (`RTCIceCandidate.toJSON()`), or `None` at the end of gathering.
    IceCandidate(Option<String>),
    /// Remote audio arrived and is playing in the peer's hidden `<audio>` element.
    RemoteAudio,
}

/// Audio RTP payload bytes so far, from `getStats()` (`inbound-rtp` / `outbound-rtp`, kind audio).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AudioBytes {
    pub inbound: u64,
    pub outbound: u64,
}

pub struct PeerOptions {
    /// Label of the data channel created in the constructor (`oai-events` for the Realtime API).
    pub data_channel: Option<&'static str>,
}

type EventHandler = Closure<dyn FnMut(Event)>;

/// Owned only to keep the closures alive as long as the browser may call them.
struct Handlers {
    _channel: Option<[EventHandler; 3]>,
    _channel_message: Option<Closure<dyn FnMut(MessageEvent)>>,
    _connection_state: Closure<dyn FnMut(Event)>,
    _ice_state: Closure<dyn FnMut(Event)>,
    _ice_candidate: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _track: Closure<dyn FnMut(RtcTrackEvent)>,
}

#[must_use = "dropping the peer closes the connection and stops its tracks"]
pub struct Peer {
    pc: RtcPeerConnection,
    channel: Option<RtcDataChannel>,
    audio: HtmlAudioElement,
    local_tracks: RefCell<Vec<MediaStreamTrack>>,
    /// The sender of each local track, in the same order.
    senders: RefCell<Vec<RtcRtpSender>>,
    _handlers: Handlers,
}

impl Peer {
    pub fn new(options: PeerOptions, on_event: impl Fn(PeerEvent) + 'static) -> Result<Peer, String> {
        let sink: Rc<dyn Fn(PeerEvent)> = Rc::new(on_event);
        let pc = RtcPeerConnection::new()
            .map_err(|e| format!("cannot create RTCPeerConnection: {}", js_error_message(&e)))?;
        bump_counter("__dbgRTC", "created", 1.0);
        bump_counter("__dbgRTC", "live", 1.0);

        let audio: HtmlAudioElement = HtmlAudioElement::new().map_err(|e| js_error_message(&e))?;
        audio.set_autoplay(true);
        let _ = audio.set_attribute("data-testid", "remote-audio");
        let _ = audio.set_attribute("hidden", "");
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            let _ = body.append_child(&audio);
        }

        let (channel, channel_handlers, channel_message) = match options.data_channel {
            None => (None, None, None),
            Some(label) => {
                let init = RtcDataChannelInit::new();
                init.set_ordered(true);
                let dc = pc.create_data_channel_with_data_channel_dict(label, &init);
                let s = sink.clone();
                let on_message =
                    Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| match e.data().as_string() {
                        Some(text) => s(PeerEvent::ChannelMessage(text)),
                        None => log::error!("[Peer] dropped a non-text data-channel frame"),
                    });
                let s = sink.clone();
                let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| s(PeerEvent::ChannelOpen));
                let s = sink.clone();
                let on_close = Closure::<dyn FnMut(Event)>::new(move |_: Event| s(PeerEvent::ChannelClosed));
                let s = sink.clone();
                let on_error = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
                    let detail =
                        js_sys::Reflect::get(&e, &"error".into()).map(|v| js_error_message(&v)).unwrap_or_default();
                    s(PeerEvent::ChannelError(detail))
                });
                // onmessage first: it must exist before the channel can possibly open.
                dc.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
                dc.set_onopen(Some(on_open.as_ref().unchecked_ref()));
                dc.set_onclose(Some(on_close.as_ref().unchecked_ref()));
                dc.set_onerror(Some(on_error.as_ref().unchecked_ref()));
                (Some(dc), Some([on_open, on_close, on_error]), Some(on_message))
            }
        };

        let s = sink.clone();
        let pc_ref = pc.clone();
        let connection_state = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let state = js_sys::Reflect::get(&pc_ref, &"connectionState".into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default();
            s(PeerEvent::ConnectionState(PeerConnectionState::parse(&state)))
        });
        let s = sink.clone();
        let pc_ref = pc.clone();
        let ice_state = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let state = js_sys::Reflect::get(&pc_ref, &"iceConnectionState".into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default();
            s(PeerEvent::IceConnectionState(state))
        });
        let s = sink.clone();
        let ice_candidate =
            Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(move |e: RtcPeerConnectionIceEvent| {
                let json = e.candidate().and_then(|c| js_sys::JSON::stringify(&c.to_json()).ok()).map(String::from);
                s(PeerEvent::IceCandidate(json))
            });
        let s = sink;
        let audio_ref = audio.clone();
        let track = Closure::<dyn FnMut(RtcTrackEvent)>::new(move |e: RtcTrackEvent| {
            if e.track().kind() != "audio" {
                return;
            }
            let stream = e.streams().get(0).dyn_into::<MediaStream>().ok().or_else(|| {
                let s = MediaStream::new().ok()?;
                s.add_track(&e.track());
                Some(s)
            });
            audio_ref.set_src_object(stream.as_ref());
            s(PeerEvent::RemoteAudio)
        });
        pc.set_onconnectionstatechange(Some(connection_state.as_ref().unchecked_ref()));
        pc.set_oniceconnectionstatechange(Some(ice_state.as_ref().unchecked_ref()));
        pc.set_onicecandidate(Some(ice_candidate.as_ref().unchecked_ref()));
        pc.set_ontrack(Some(track.as_ref().unchecked_ref()));

        Ok(Peer {
            pc,
            channel,
            audio,
            local_tracks: RefCell::new(Vec::new()),
            senders: RefCell::new(Vec::new()),
            _handlers: Handlers {
                _channel: channel_handlers,
                _channel_message: channel_message,
                _connection_state: connection_state,
                _ice_state: ice_state,
                _ice_candidate: ice_candidate,
                _track: track,
            },
        })
    }

    pub fn connection(&self) -> &RtcPeerConnection {
        &self.pc
    }

    pub fn channel(&self) -> Option<&RtcDataChannel> {
        self.channel.as_ref()
    }

    pub fn channel_is_open(&self) -> bool {
        self.channel.as_ref().is_some_and(|c| c.ready_state() == RtcDataChannelState::Open)
    }

    /// Sends a text frame on the data channel; fails (without throwing) when it is not open.
    pub fn send(&self, text: &str) -> Result<(), String> {
        let channel = self.channel.as_ref().ok_or("no data channel")?;
        if channel.ready_state() != RtcDataChannelState::Open {
            return Err("data channel is not open".into());
        }
        channel.send_with_str(text).map_err(|e| js_error_message(&e))
    }

    /// Adds the stream's audio tracks **disabled**; push-to-talk flips `enabled` (no renegotiation).
    pub fn add_local_audio(&self, stream: &MediaStream) {
        for track in stream.get_audio_tracks().iter() {
            let Ok(track) = track.dyn_into::<MediaStreamTrack>() else { continue };
            track.set_enabled(false);
            let sender = self.pc.add_track_0(&track, stream);
            self.local_tracks.borrow_mut().push(track);
            self.senders.borrow_mut().push(sender);
        }
    }

    /// Whether the microphone's tracks are on (`None` without a microphone).
    pub fn mic_enabled(&self) -> Option<bool> {
        let tracks = self.local_tracks.borrow();
        (!tracks.is_empty()).then(|| tracks.iter().all(MediaStreamTrack::enabled))
    }

    pub fn set_mic_enabled(&self, enabled: bool) {
        for track in self.local_tracks.borrow().iter() {
            track.set_enabled(enabled);
        }
    }

    /// Starts or stops sending the microphone: the track is enabled/disabled **and** detached from
    /// its sender (`replaceTrack(null)`), so no RTP leaves while muted (a disabled track alone still
    /// sends silence). No renegotiation.
    pub fn set_sending(&self, enabled: bool) {
        self.set_mic_enabled(enabled);
        let tracks = self.local_tracks.borrow();
        for (track, sender) in tracks.iter().zip(self.senders.borrow().iter()) {
            let promise = sender.replace_track(enabled.then_some(track));
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = JsFuture::from(promise).await {
                    log::error!("[Peer] replaceTrack failed: {}", js_error_message(&e));
                }
            });
        }
    }

    /// Audio bytes received and sent so far, from `getStats()`.
    pub fn audio_bytes(&self) -> impl Future<Output = Result<AudioBytes, String>> + 'static + use<> {
        let pc = self.pc.clone();
        async move {
            let report =
                JsFuture::from(pc.get_stats()).await.map_err(|e| format!("getStats: {}", js_error_message(&e)))?;
            let report: js_sys::Map = report.unchecked_into();
            let mut bytes = AudioBytes::default();
            let field =
                |stat: &JsValue, name: &str| js_sys::Reflect::get(stat, &name.into()).unwrap_or(JsValue::UNDEFINED);
            report.for_each(&mut |stat, _| {
                if field(&stat, "kind").as_string().as_deref() != Some("audio") {
                    return;
                }
                match field(&stat, "type").as_string().as_deref() {
                    Some("inbound-rtp") => {
                        bytes.inbound += field(&stat, "bytesReceived").as_f64().unwrap_or(0.0) as u64
                    }
                    Some("outbound-rtp") => bytes.outbound += field(&stat, "bytesSent").as_f64().unwrap_or(0.0) as u64,
                    _ => {}
                }
            });
            Ok(bytes)
        }
    }

    pub fn has_local_audio(&self) -> bool {
        !self.local_tracks.borrow().is_empty()
    }

    /// Creates the offer and applies it locally; resolves to its SDP. Without a local track, an
    /// audio transceiver is added receive-only so the offer still negotiates audio.
    ///
    /// The returned future holds only a handle to the connection, not this owner: dropping the
    /// `Peer` closes the connection at once and the pending step fails.
    pub fn create_offer(&self) -> impl Future<Output = Result<String, String>> + 'static + use<> {
        if !self.has_local_audio() {
            let init = RtcRtpTransceiverInit::new();
            init.set_direction(RtcRtpTransceiverDirection::Recvonly);
            self.pc.add_transceiver_with_str_and_init("audio", &init);
        }
        let pc = self.pc.clone();
        async move {
            let offer = JsFuture::from(pc.create_offer())
                .await
                .map_err(|e| format!("createOffer: {}", js_error_message(&e)))?;
            let sdp = sdp_of(&offer).ok_or("createOffer returned no SDP")?;
            set_description(&pc, RtcSdpType::Offer, &sdp, true).await?;
            Ok(sdp)
        }
    }

    /// Applies a remote offer; resolves to the local answer SDP (already applied).
    pub fn answer(&self, offer_sdp: &str) -> impl Future<Output = Result<String, String>> + 'static + use<> {
        let (pc, offer_sdp) = (self.pc.clone(), offer_sdp.to_string());
        async move {
            set_description(&pc, RtcSdpType::Offer, &offer_sdp, false).await?;
            let answer = JsFuture::from(pc.create_answer())
                .await
                .map_err(|e| format!("createAnswer: {}", js_error_message(&e)))?;
            let sdp = sdp_of(&answer).ok_or("createAnswer returned no SDP")?;
            set_description(&pc, RtcSdpType::Answer, &sdp, true).await?;
            Ok(sdp)
        }
    }

    pub fn apply_answer(&self, answer_sdp: &str) -> impl Future<Output = Result<(), String>> + 'static + use<> {
        let (pc, sdp) = (self.pc.clone(), answer_sdp.to_string());
        async move { set_description(&pc, RtcSdpType::Answer, &sdp, false).await }
    }

    /// Adds a remote ICE candidate given as `RTCIceCandidateInit` JSON.
    pub fn add_ice_candidate(
        &self,
        candidate_json: &str,
    ) -> impl Future<Output = Result<(), String>> + 'static + use<> {
        let pc = self.pc.clone();
        let parsed =
            js_sys::JSON::parse(candidate_json).map_err(|e| format!("bad candidate JSON: {}", js_error_message(&e)));
        async move {
            let init: web_sys::RtcIceCandidateInit = parsed?.unchecked_into();
            JsFuture::from(pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)))
                .await
                .map(|_| ())
                .map_err(|e| format!("addIceCandidate: {}", js_error_message(&e)))
        }
    }

    pub fn remote_audio(&self) -> &HtmlAudioElement {
        &self.audio
    }
}

fn sdp_of(description: &JsValue) -> Option<String> {
    js_sys::Reflect::get(description, &"sdp".into()).ok().and_then(|v| v.as_string())
}

async fn set_description(pc: &RtcPeerConnection, kind: RtcSdpType, sdp: &str, local: bool) -> Result<(), String> {
    let init = RtcSessionDescriptionInit::new(kind);
    init.set_sdp(sdp);
    let promise = if local { pc.set_local_description(&init) } else { pc.set_remote_description(&init) };
    JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| format!("set{}Description: {}", if local { "Local" } else { "Remote" }, js_error_message(&e)))
}

impl Drop for Peer {
    fn drop(&mut self) {
        // 1. Detach every handler: nothing may call back into a dropped owner.
        if let Some(dc) = &self.channel {
            dc.set_onmessage(None);
            dc.set_onopen(None);
            dc.set_onclose(None);
            dc.set_onerror(None);
        }
        self.pc.set_onconnectionstatechange(None);
        self.pc.set_oniceconnectionstatechange(None);
        self.pc.set_onicecandidate(None);
        self.pc.set_ontrack(None);
        // 2. Close the channel and the connection.
        if let Some(dc) = &self.channel {
            dc.close();
        }
        self.pc.close();
        // 3. Release the microphone and the audio element.
        for track in self.local_tracks.borrow().iter() {
            track.stop();
        }
        self.audio.set_src_object(None);
        self.audio.remove();
        bump_counter("__dbgRTC", "live", -1.0);
    }
}
