//! One call: a str0m peer driven by a task over its own UDP socket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::VecDeque;
use str0m::channel::ChannelId;
use str0m::crypto::CryptoProvider;
use str0m::format::Codec;
use str0m::ice::StunMessage;
use str0m::media::{Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};

use restaurant_protocol::Menu;
use str0m::{Event, IceConnectionState, IceCreds, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::sleep_until;

use super::MenuSource;
use super::audio::{FRAME, FRAME_TICKS, SILENCE_FRAME};
use super::conversation::{Action, Conversation};
use super::matcher::Matcher;
use super::speech::codec::{CALL_RATE, FRAME_SAMPLES, OpusEncoder};
use super::speech::recognizer::Heard;
use super::speech::vad::VadEvent;
use super::speech::{Ear, Speech, tts};
use super::utterances::Utterances;

/// Label of the Realtime events channel.
pub const EVENTS_CHANNEL: &str = "oai-events";
/// Longest time spent draining a closing peer.
const CLOSE_DRAIN: Duration = Duration::from_millis(300);
/// Time given to a channel reset to reach the client before a closing call ends.
const CLOSE_LINGER: Duration = Duration::from_millis(200);

/// Everything a call task needs.
pub struct Call {
    pub rtc: Rtc,
    pub socket: UdpSocket,
    pub conversation: Conversation,
    pub speech: Speech,
    /// The live menu: a change applies from the next turn.
    pub menu: MenuSource,
    pub utterances: Arc<Utterances>,
    pub idle_timeout: Duration,
    /// The call is closed (after an `error` event) at this age.
    pub max_call: Duration,
    pub close_after: Option<Duration>,
    pub shutdown: watch::Receiver<bool>,
}

/// Why a call ended.
#[derive(Debug)]
enum End {
    ChannelClosed,
    IceDisconnected,
    Idle,
    MaxLength,
    Shutdown,
    CloseFault,
    Failed(String),
}

/// The spoken reply being played.
struct Playback {
    next_at: Instant,
    /// The reply at 48 kHz.
    audio: Vec<i16>,
    /// Frames played so far.
    played: usize,
    frames: usize,
    /// Events to send as the audio reaches them, by frame.
    timeline: VecDeque<(usize, Action)>,
}

/// A synthesized reply: its response id and audio (or why there is none).
type Synthesized = (String, Result<Vec<i16>, String>);

struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    conversation: Conversation,
    utterances: Arc<Utterances>,
    speech: Speech,
    menu_source: MenuSource,
    /// The menu the current grammar and matcher were made from.
    menu: Arc<Menu>,
    ear: Ear,
    heard: mpsc::UnboundedReceiver<Heard>,
    synthesized_tx: mpsc::UnboundedSender<Synthesized>,
    synthesized: mpsc::UnboundedReceiver<Synthesized>,
    encoder: Option<OpusEncoder>,
    events: Option<ChannelId>,
    audio: Option<Mid>,
    playback: Option<Playback>,
    rtp_time: u64,
    /// When the closing sequence takes its next step (channel reset, then the end).
    close_at: Option<Instant>,
    /// Why the call is closing; `None` until a limit or the close fault starts it.
    closing: Option<End>,
    close_after: Option<Duration>,
    /// The call's own ICE credentials: a STUN check carrying them proves the peer is there.
    ice: IceCreds,
    /// Last authenticated inbound traffic; the idle timeout counts from here.
    last_alive: Instant,
    /// Datagrams that did not prove themselves (unknown, failed STUN check, refused by str0m).
    ignored: u64,
}

impl Call {
    /// Drives the call until it ends; always leaves the peer closed.
    pub async fn run(self) {
        let Call {
            mut rtc,
            socket,
            conversation,
            speech,
            menu: menu_source,
            utterances,
            idle_timeout,
            max_call,
            close_after,
            mut shutdown,
        } = self;
        let local = match socket.local_addr() {
            Ok(a) => a,
            Err(e) => {
                tracing::error!("socket has no address: {e}");
                return;
            }
        };
        let ice = rtc.direct_api().local_ice_credentials();
        let started = Instant::now();
        let menu = menu_source.current();
        let (heard_tx, heard) = mpsc::unbounded_channel();
        let (synthesized_tx, synthesized) = mpsc::unbounded_channel();
        let mut ear = speech.ear(Arc::clone(&menu), heard_tx);
        ear.set_turn_detection(conversation.turn_detection());
        ear.begin_turn();
        let encoder = OpusEncoder::new().map_err(|e| tracing::error!("replies are sent as silence: {e}")).ok();
        let mut peer = Peer {
            rtc,
            socket,
            local,
            conversation,
            utterances,
            speech,
            menu_source,
            menu,
            ear,
            heard,
            synthesized_tx,
            synthesized,
            encoder,
            events: None,
            audio: None,
            playback: None,
            rtp_time: 0,
            close_at: None,
            closing: None,
            close_after,
            ice,
            last_alive: started,
            ignored: 0,
        };
        let end = peer.drive(&mut shutdown, idle_timeout, max_call).await;
        let ignored = peer.ignored;
        let undecodable = peer.ear.decode_errors();
        match &end {
            End::Failed(e) => tracing::error!(ignored, undecodable, "call failed: {e}"),
            other => tracing::info!(end = ?other, after = ?started.elapsed(), ignored, undecodable, "call ended"),
        }
        peer.close().await;
    }
}

impl Peer {
    async fn drive(&mut self, shutdown: &mut watch::Receiver<bool>, idle_timeout: Duration, max_call: Duration) -> End {
        let max_at = Instant::now() + max_call;
        let mut buf = vec![0u8; 2000];
        loop {
            let deadline = match self.poll().await {
                Ok(d) => d,
                Err(end) => return end,
            };
            let idle_at = self.last_alive + idle_timeout;
            let expiring = self.closing.is_none();
            let frame_at = self.playback.as_ref().map(|p| p.next_at);
            let close_at = self.close_at;
            tokio::select! {
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        return End::Shutdown;
                    }
                }
                received = self.socket.recv_from(&mut buf) => {
                    let (n, source) = match received {
                        Ok(r) => r,
                        Err(e) => {
                            // ICMP port-unreachable and the like surface here; the peer may recover.
                            tracing::debug!("recv error: {e}");
                            continue;
                        }
                    };
                    let now = Instant::now();
                    let datagram = &buf[..n];
                    match stun_check(datagram, &self.ice) {
                        StunCheck::Authenticated => self.last_alive = now,
                        StunCheck::Refused => self.ignore(source, "STUN without this call's ICE credentials"),
                        StunCheck::NotARequest => {}
                    }
                    let Ok(contents) = datagram.try_into() else {
                        self.ignore(source, "not STUN, DTLS or RTP");
                        continue;
                    };
                    let input =
                        Input::Receive(now, Receive { proto: Protocol::Udp, source, destination: self.local, contents });
                    if let Err(e) = self.rtc.handle_input(input) {
                        self.ignore(source, &e.to_string());
                    }
                }
                _ = sleep_until(deadline.into()) => {
                    if let Err(e) = self.rtc.handle_input(Input::Timeout(Instant::now())) {
                        return End::Failed(format!("timeout handling: {e}"));
                    }
                }
                _ = sleep_until(frame_at.unwrap_or(idle_at).into()), if frame_at.is_some() => self.play_frame(),
                Some(heard) = self.heard.recv() => {
                    let actions = self.conversation.transcribed(&heard.item_id, &heard.transcript);
                    self.apply(actions);
                }
                Some((response_id, audio)) = self.synthesized.recv() => self.start_playback(&response_id, audio),
                _ = sleep_until(close_at.unwrap_or(idle_at).into()), if close_at.is_some() => {
                    // First reset the channel and let that reach the client, then end the call.
                    let Some(cid) = self.events.take() else {
                        return self.closing.take().unwrap_or(End::CloseFault);
                    };
                    self.rtc.direct_api().close_data_channel(cid);
                    self.close_at = Some(Instant::now() + CLOSE_LINGER);
                }
                _ = sleep_until(max_at.into()), if expiring => {
                    tracing::warn!(max = ?max_call, "call reached its maximum length; closing it");
                    let actions = self.conversation.session_expired(max_call);
                    self.apply(actions);
                    self.closing = Some(End::MaxLength);
                    // The error goes out before the channel is reset.
                    self.close_at = Some(Instant::now() + CLOSE_LINGER);
                }
                _ = sleep_until(idle_at.into()) => return End::Idle,
            }
        }
    }

    /// Sends what str0m wants sent and handles its events; returns its next deadline.
    async fn poll(&mut self) -> Result<Instant, End> {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => return Ok(t),
                Ok(Output::Transmit(t)) => {
                    if let Err(e) = self.socket.send_to(&t.contents, t.destination).await {
                        tracing::debug!(destination = %t.destination, "send failed: {e}");
                    }
                }
                Ok(Output::Event(e)) => self.on_event(e)?,
                Err(e) => return Err(End::Failed(format!("poll: {e}"))),
            }
        }
    }

    /// Counts a datagram that did not prove itself; the first of a call is logged, the total
    /// when the call ends (a flood must not flood the log).
    fn ignore(&mut self, source: SocketAddr, why: &str) {
        self.ignored += 1;
        if self.ignored == 1 {
            tracing::warn!(%source, "ignored a datagram: {why} (further ones are counted)");
        }
    }

    fn on_event(&mut self, event: Event) -> Result<(), End> {
        // Only what str0m decrypted (DTLS, SCTP, SRTP) proves the peer is still there.
        if matches!(event, Event::Connected | Event::ChannelOpen(..) | Event::ChannelData(_) | Event::MediaData(_)) {
            self.last_alive = Instant::now();
        }
        match event {
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => return Err(End::IceDisconnected),
            Event::MediaAdded(m) if m.kind == MediaKind::Audio => self.audio = Some(m.mid),
            Event::ChannelOpen(cid, label) if label == EVENTS_CHANNEL => {
                self.events = Some(cid);
                if self.closing.is_none() {
                    self.close_at = self.close_after.map(|d| Instant::now() + d);
                }
                let created = self.conversation.session_created();
                self.send_event(&created);
            }
            Event::ChannelOpen(_, label) => {
                tracing::warn!(?label, "ignoring a data channel");
            }
            Event::ChannelClose(cid) if Some(cid) == self.events => return Err(End::ChannelClosed),
            Event::ChannelData(d) if Some(d.id) == self.events => {
                let actions = match std::str::from_utf8(&d.data) {
                    Ok(text) if !d.binary => self.conversation.handle_text(text),
                    _ => {
                        tracing::warn!("binary or non-UTF-8 frame on {EVENTS_CHANNEL}");
                        self.conversation.handle_text("")
                    }
                };
                // A session.update may have switched between push-to-talk and turn detection.
                self.ear.set_turn_detection(self.conversation.turn_detection());
                self.apply(actions);
            }
            Event::MediaData(m) if Some(m.mid) == self.audio => {
                self.conversation.handle_audio(&m.data);
                for event in self.ear.packet(&m.data) {
                    let actions = match event {
                        VadEvent::Started { audio_start_ms } => {
                            self.follow_menu();
                            self.ear.begin_turn_at(audio_start_ms);
                            self.conversation.speech_started(audio_start_ms)
                        }
                        VadEvent::Stopped { audio_end_ms } => self.conversation.speech_stopped(audio_end_ms),
                    };
                    self.apply(actions);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn apply(&mut self, actions: Vec<Action>) {
        let mut actions: VecDeque<Action> = actions.into();
        while let Some(action) = actions.pop_front() {
            match action {
                Action::Send(event) => self.send_event(&event),
                Action::Transcribe { item_id } => match self.utterances.next() {
                    // A queued transcript (the dev knob) stands in for what was heard.
                    Some(text) => actions.extend(self.conversation.transcribed(&item_id, &text)),
                    None => self.ear.finish_turn(item_id),
                },
                Action::BeginTurn => {
                    if self.conversation.turn_detection().is_none() {
                        self.follow_menu();
                        self.ear.begin_turn();
                    }
                }
                Action::Speak { response_id, text } => {
                    let (voice, tx) = (self.speech.voice.clone(), self.synthesized_tx.clone());
                    tokio::spawn(async move {
                        let began = std::time::Instant::now();
                        let audio = tts::synthesize(&text, &voice).await;
                        tracing::debug!(ms = began.elapsed().as_millis() as u64, "reply synthesized");
                        let _ = tx.send((response_id, audio));
                    });
                }
                Action::StopReply => self.playback = None,
            }
        }
    }

    /// A changed menu changes what is heard and understood from the next turn on.
    fn follow_menu(&mut self) {
        let menu = self.menu_source.current();
        if Arc::ptr_eq(&menu, &self.menu) {
            return;
        }
        if menu.items != self.menu.items {
            self.conversation.set_matcher(Arc::new(Matcher::new(&menu.items)));
            self.ear.menu(Arc::clone(&menu));
        }
        self.menu = menu;
    }

    /// The reply `response_id` is synthesized: it plays unless it was cancelled meanwhile.
    fn start_playback(&mut self, response_id: &str, audio: Result<Vec<i16>, String>) {
        let audio = audio.unwrap_or_else(|e| {
            tracing::error!("the reply could not be spoken, silence is sent in its place: {e}");
            vec![0; CALL_RATE as usize]
        });
        let frames = audio.len().div_ceil(FRAME_SAMPLES).max(1);
        let timeline = self.conversation.reply_audio(response_id, frames);
        if timeline.is_empty() {
            return;
        }
        self.playback = Some(Playback { next_at: Instant::now(), audio, played: 0, frames, timeline: timeline.into() });
    }

    fn send_event(&mut self, event: &serde_json::Value) {
        let Some(cid) = self.events else { return };
        let text = event.to_string();
        let accepted = self.rtc.channel(cid).map(|mut ch| ch.write(false, text.as_bytes()));
        match accepted {
            Some(Ok(true)) => {}
            Some(Ok(false)) => {
                tracing::warn!(event = %event["type"], "channel buffer full: event dropped")
            }
            Some(Err(e)) => tracing::warn!(event = %event["type"], "cannot send: {e}"),
            None => tracing::warn!(event = %event["type"], "channel gone: event dropped"),
        }
    }

    /// Writes one reply frame (and the events due with it); after the last one, finishes the
    /// response.
    fn play_frame(&mut self) {
        let Some(p) = self.playback.as_mut() else { return };
        let mut due = Vec::new();
        while p.timeline.front().is_some_and(|(at, _)| *at <= p.played) {
            due.extend(p.timeline.pop_front().map(|(_, a)| a));
        }
        let start = (p.played * FRAME_SAMPLES).min(p.audio.len());
        let end = (start + FRAME_SAMPLES).min(p.audio.len());
        let payload = match self.encoder.as_mut().map(|e| e.encode(&p.audio[start..end])) {
            Some(Ok(packet)) => packet,
            Some(Err(code)) => {
                tracing::warn!(code, "a reply frame did not encode: silence sent");
                SILENCE_FRAME.to_vec()
            }
            None => SILENCE_FRAME.to_vec(),
        };
        p.played += 1;
        p.next_at += FRAME;
        let done = p.played >= p.frames;
        self.apply(due);
        if let Some(mid) = self.audio
            && let Some(writer) = self.rtc.writer(mid)
        {
            let pt = writer.payload_params().find(|p| p.spec().codec == Codec::Opus).map(|p| p.pt());
            if let Some(pt) = pt {
                let time = MediaTime::new(self.rtp_time, Frequency::FORTY_EIGHT_KHZ);
                if let Err(e) = writer.write(pt, Instant::now(), time, payload) {
                    tracing::debug!("audio frame not written: {e}");
                }
            }
        }
        self.rtp_time += FRAME_TICKS;
        if done {
            self.playback = None;
            let actions = self.conversation.reply_finished();
            self.apply(actions);
        }
    }

    /// Closes the peer (SCTP shutdown, DTLS close_notify) and drains it within a bound.
    async fn close(&mut self) {
        if let Some(cid) = self.events.take() {
            // Resets the channel's stream so the client sees it close, then the association ends.
            self.rtc.direct_api().close_data_channel(cid);
        }
        if let Err(e) = self.rtc.close() {
            tracing::debug!("close: {e}");
        }
        let give_up = Instant::now() + CLOSE_DRAIN;
        while self.rtc.is_alive() && Instant::now() < give_up {
            match self.rtc.poll_output() {
                Ok(Output::Transmit(t)) => {
                    let _ = self.socket.send_to(&t.contents, t.destination).await;
                }
                Ok(Output::Event(_)) => {}
                Ok(Output::Timeout(t)) => {
                    tokio::time::sleep_until(t.min(give_up).into()).await;
                    if self.rtc.handle_input(Input::Timeout(Instant::now())).is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
}

/// What a datagram says about the peer being there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StunCheck {
    /// A STUN binding request to this call's ICE username with a valid MESSAGE-INTEGRITY: only
    /// the peer that received the answer SDP can send it.
    Authenticated,
    /// A binding request that is not (wrong username, bad or missing integrity).
    Refused,
    /// Anything else (DTLS, RTP, a STUN response, junk): proves nothing by itself.
    NotARequest,
}

fn stun_check(datagram: &[u8], creds: &IceCreds) -> StunCheck {
    // RFC 7983: STUN starts with 0..=3.
    if !matches!(datagram.first(), Some(0..=3)) {
        return StunCheck::NotARequest;
    }
    let Ok(message) = StunMessage::parse(datagram) else { return StunCheck::NotARequest };
    if !message.is_binding_request() {
        return StunCheck::NotARequest;
    }
    let ours = message.split_username().is_some_and(|(local, _)| local == creds.ufrag);
    let Some(crypto) = CryptoProvider::get_default() else { return StunCheck::Refused };
    let hmac = |key: &[u8], payloads: &[&[u8]]| crypto.sha1_hmac_provider.sha1_hmac(key, payloads);
    if ours && message.verify(creds.pass.as_bytes(), hmac) { StunCheck::Authenticated } else { StunCheck::Refused }
}

#[cfg(test)]
mod tests {
    use str0m::ice::TransId;

    use super::*;

    fn check(username: &str, password: &[u8]) -> Vec<u8> {
        str0m::crypto::from_feature_flags().install_process_default();
        let crypto = CryptoProvider::get_default().unwrap();
        let message = StunMessage::binding_request(username, TransId::new(), true, 1, 100, false);
        let mut buf = vec![0u8; 1500];
        let n = message.to_bytes(Some(password), &mut buf, |k, p| crypto.sha1_hmac_provider.sha1_hmac(k, p)).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn only_a_check_signed_with_the_call_s_credentials_proves_the_peer() {
        let creds = IceCreds { ufrag: "hub1".into(), pass: "a-password-of-22-chars".into() };
        assert_eq!(stun_check(&check("hub1:kiosk", b"a-password-of-22-chars"), &creds), StunCheck::Authenticated);
        assert_eq!(stun_check(&check("hub1:kiosk", b"a-guessed-password-000"), &creds), StunCheck::Refused);
        assert_eq!(stun_check(&check("other:kiosk", b"a-password-of-22-chars"), &creds), StunCheck::Refused);
        let mut tampered = check("hub1:kiosk", b"a-password-of-22-chars");
        tampered[8] ^= 1;
        assert_eq!(stun_check(&tampered, &creds), StunCheck::Refused);
        for junk in [&[0x80u8, 0, 0, 1][..], &[23, 0xfe, 0xfd, 0, 0][..], &[0xAB; 32][..], &[][..]] {
            assert_eq!(stun_check(junk, &creds), StunCheck::NotARequest);
        }
    }
}
