//! The staff call (kiosk ↔ KDS audio) as a sans-IO state machine.
//!
//! Caller: `Idle → Requesting → Offering → Connected → Ended`; callee: `Idle → Ringing → Accepting
//! → Connected → Ended`. The driver feeds signalling frames ([`CallMessage`]), user actions and
//! peer-connection events in through `handle_*`, each with the current [`Millis`], then drains
//! [`Call::poll_command`] and arms one timer at [`Call::poll_timeout`].
//!
//! Ordering guarantees the peer connection depends on:
//! - the callee keeps an offer that arrives while it is still ringing (`pending_offer`) and applies
//!   it only once its peer connection exists ([`Call::handle_peer_created`]);
//! - remote ICE candidates are queued until the remote description is applied
//!   ([`Call::handle_remote_description_set`]) and then flushed in arrival order;
//! - frames of another call (stale or unknown `call_id`) never touch the current one.
//!
//! Glare (both sides sent an offer): the side whose client id sorts lower is polite — it answers
//! the remote offer (the browser rolls its own offer back); the other side ignores the remote
//! offer and waits for the answer to its own.

use std::collections::VecDeque;
use std::time::Duration;

use restaurant_protocol::{CallMessage, IceCandidate};

use crate::core::time::Millis;

/// A ringing screen stops ringing (and declines) after this long.
pub const RING_TIMEOUT: Duration = Duration::from_secs(30);
/// The caller gives up when no answer has arrived this long after the call started.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(45);
/// After accepting (callee) or applying the answer (caller), the connection must come up within this.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Remote ICE candidates kept while waiting for the remote description; more are dropped.
pub const MAX_QUEUED_ICE: usize = 64;
/// Remote ICE candidates remembered per call to drop duplicates.
const MAX_SEEN_ICE: usize = 256;

/// Where the call is. `as_str` is the name the UI shows in `data-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallState {
    Idle,
    /// Caller: request sent, peer connection and microphone being set up.
    Requesting,
    /// Caller: offer sent, waiting for the answer and the connection.
    Offering,
    /// Callee: an incoming call rings.
    Ringing,
    /// Callee: accepted, setting up the peer connection and answering.
    Accepting,
    Connected,
    Ended,
}

impl CallState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Idle => "idle",
            CallState::Requesting => "requesting",
            CallState::Offering => "offering",
            CallState::Ringing => "ringing",
            CallState::Accepting => "accepting",
            CallState::Connected => "connected",
            CallState::Ended => "ended",
        }
    }

    /// A call is under way (anything but `Idle`/`Ended`).
    pub fn is_active(self) -> bool {
        !matches!(self, CallState::Idle | CallState::Ended)
    }

    /// This side has joined the call (calling, accepting or connected): mute and hang-up apply.
    /// A ringing screen has not: it accepts or declines.
    pub fn is_joined(self) -> bool {
        matches!(self, CallState::Requesting | CallState::Offering | CallState::Accepting | CallState::Connected)
    }
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// This side hung up (or cancelled its own request).
    HungUp,
    /// The other side hung up, or the caller cancelled.
    RemoteHungUp,
    /// This side declined the incoming call.
    Declined,
    /// The callee declined.
    RemoteDeclined,
    /// The callee is in another call.
    Busy,
    /// No staff screen could take the call.
    Unavailable,
    /// Another screen accepted the call.
    Taken,
    /// Nobody accepted within the ring timeout.
    Missed,
    /// The caller got no answer within [`ANSWER_TIMEOUT`].
    NoAnswer,
    /// The peer connection failed, closed, or could not be set up.
    Failed,
}

impl EndReason {
    /// What the UI shows.
    pub fn message(self) -> &'static str {
        match self {
            EndReason::HungUp | EndReason::RemoteHungUp => "Call ended",
            EndReason::Declined => "Call declined",
            EndReason::RemoteDeclined => "Staff could not take the call",
            EndReason::Busy => "Staff are busy",
            EndReason::Unavailable => "No staff available",
            EndReason::Taken => "Answered on another screen",
            EndReason::Missed => "Missed call",
            EndReason::NoAnswer => "No answer",
            EndReason::Failed => "Call failed",
        }
    }
}

/// Connection states of the peer connection the machine reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    Connected,
    Failed,
    Closed,
}

/// What the UI shows after a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallView {
    pub state: CallState,
    pub call_id: Option<String>,
    /// The remote party's client id, once known.
    pub remote: Option<String>,
    /// When the call connected: the timer shows `now - connected_since`.
    pub connected_since: Option<Millis>,
    pub muted: bool,
    pub ended: Option<EndReason>,
}

impl CallView {
    /// The words of the status line.
    pub fn status_text(&self) -> &'static str {
        match self.state {
            CallState::Idle => "",
            CallState::Requesting | CallState::Offering => "Calling staff…",
            CallState::Ringing => "Incoming call",
            CallState::Accepting => "Connecting…",
            CallState::Connected => "On a call",
            CallState::Ended => self.ended.map_or("Call ended", EndReason::message),
        }
    }
}

/// What the driver must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallCommand {
    /// Send this frame on the hub WebSocket.
    Send(CallMessage),
    /// Get the microphone and create the peer connection with its audio track; report with
    /// [`Call::handle_peer_created`] or [`Call::handle_peer_failed`].
    CreatePeer,
    /// `createOffer` + `setLocalDescription`; report with [`Call::handle_local_offer`].
    CreateOffer,
    /// `setRemoteDescription(offer)`, then `createAnswer` + `setLocalDescription`; report with
    /// [`Call::handle_remote_description_set`] and [`Call::handle_local_answer`].
    ApplyOfferAndAnswer {
        sdp: String,
    },
    /// `setRemoteDescription(answer)`; report with [`Call::handle_remote_description_set`].
    ApplyAnswer {
        sdp: String,
    },
    AddIceCandidate(IceCandidate),
    /// Enable/disable the outgoing audio track.
    SetMuted(bool),
    /// Close the peer connection and stop the microphone.
    ClosePeer,
    StartRingTone,
    StopRingTone,
    Ui(CallView),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Caller,
    Callee,
}

/// The remote description, as far as this side knows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Remote {
    None,
    /// Callee: an offer received before the peer connection exists.
    Stored(String),
    /// Handed to the peer connection, not yet confirmed.
    Applying,
    Applied,
}

#[derive(Debug)]
struct Active {
    id: String,
    role: Role,
    remote_id: Option<String>,
    /// `CreatePeer` was issued (so `ClosePeer` is due at the end).
    peer_requested: bool,
    peer_ready: bool,
    /// This side sent an offer that has not been answered.
    local_offer_pending: bool,
    remote: Remote,
    queued_ice: Vec<IceCandidate>,
    seen_ice: Vec<IceCandidate>,
    /// Caller: the callee accepted.
    accepted: bool,
    deadline: Option<Millis>,
    connected_since: Option<Millis>,
}

impl Active {
    fn new(id: String, role: Role, remote_id: Option<String>) -> Active {
        Active {
            id,
            role,
            remote_id,
            peer_requested: false,
            peer_ready: false,
            local_offer_pending: false,
            remote: Remote::None,
            queued_ice: Vec::new(),
            seen_ice: Vec::new(),
            accepted: false,
            deadline: None,
            connected_since: None,
        }
    }
}

/// One screen's staff call. Holds at most one call at a time; the last one stays visible as
/// `Ended` until the next starts.
#[derive(Debug)]
pub struct Call {
    local_id: String,
    state: CallState,
    call: Option<Active>,
    ended: Option<EndReason>,
    muted: bool,
    commands: VecDeque<CallCommand>,
}

impl Call {
    /// `local_id` is this screen's client id (sent as `from`; compared for glare).
    #[must_use]
    pub fn new(local_id: impl Into<String>) -> Call {
        Call {
            local_id: local_id.into(),
            state: CallState::Idle,
            call: None,
            ended: None,
            muted: false,
            commands: VecDeque::new(),
        }
    }

    pub fn state(&self) -> CallState {
        self.state
    }

    pub fn call_id(&self) -> Option<&str> {
        self.call.as_ref().map(|c| c.id.as_str())
    }

    pub fn end_reason(&self) -> Option<EndReason> {
        self.ended
    }

    pub fn view(&self) -> CallView {
        CallView {
            state: self.state,
            call_id: self.call.as_ref().map(|c| c.id.clone()),
            remote: self.call.as_ref().and_then(|c| c.remote_id.clone()),
            connected_since: self.call.as_ref().and_then(|c| c.connected_since),
            muted: self.muted,
            ended: self.ended,
        }
    }

    /// The next thing the driver must do.
    #[must_use = "the command must be carried out"]
    pub fn poll_command(&mut self) -> Option<CallCommand> {
        self.commands.pop_front()
    }

    /// When [`Call::handle_timeout`] is next due.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.active().and_then(|c| c.deadline)
    }

    // -----------------------------------------------------------------------------------------
    // User actions

    /// Starts a call with the caller-chosen (random) `call_id` to `to_station` (`None`: any staff).
    pub fn handle_call(&mut self, now: Millis, call_id: String, to_station: Option<String>) {
        if self.state.is_active() {
            log::warn!("[Call] call {call_id} not started: already {}", self.state.as_str());
            return;
        }
        let request = CallMessage::Request { call_id: call_id.clone(), from: self.local_id.clone(), to_station };
        if let Err(e) = request.validate() {
            log::error!("[Call] call {call_id} not started: {e}");
            return;
        }
        log::info!("[Call] calling as {} (call {call_id})", self.local_id);
        let mut call = Active::new(call_id, Role::Caller, None);
        call.deadline = Some(now.after(ANSWER_TIMEOUT));
        call.peer_requested = true;
        self.begin(call, CallState::Requesting);
        self.push(CallCommand::Send(request));
        self.push(CallCommand::CreatePeer);
        self.push_view();
    }

    pub fn handle_accept(&mut self, now: Millis) {
        if self.state != CallState::Ringing {
            log::warn!("[Call] accept ignored: the call is {}", self.state.as_str());
            if self.state == CallState::Ended {
                // The caller cancelled while the screen still showed the call: say so again.
                self.push_view();
            }
            return;
        }
        let local_id = self.local_id.clone();
        let Some(call) = self.call.as_mut() else { return };
        call.deadline = Some(now.after(CONNECT_TIMEOUT));
        call.peer_requested = true;
        let accept = CallMessage::Accept { call_id: call.id.clone(), from: local_id };
        log::info!("[Call] accepted call {}", call.id);
        self.state = CallState::Accepting;
        self.push(CallCommand::StopRingTone);
        self.push(CallCommand::Send(accept));
        self.push(CallCommand::CreatePeer);
        self.push_view();
    }

    pub fn handle_decline(&mut self, _now: Millis) {
        if self.state != CallState::Ringing {
            log::warn!("[Call] decline ignored: the call is {}", self.state.as_str());
            return;
        }
        let decline = self.call.as_ref().map(|c| CallMessage::Decline { call_id: c.id.clone() });
        self.end(EndReason::Declined, decline);
    }

    /// Hangs up (or cancels an unanswered request) from this side.
    pub fn handle_hangup(&mut self, _now: Millis) {
        if self.active().is_none() {
            log::debug!("[Call] hangup with no call under way");
            return;
        }
        let reason = if self.state == CallState::Ringing { EndReason::Declined } else { EndReason::HungUp };
        let farewell = self.farewell();
        self.end(reason, farewell);
    }

    pub fn handle_mute(&mut self, _now: Millis, muted: bool) {
        if self.muted == muted {
            return;
        }
        self.muted = muted;
        if self.active().is_some_and(|c| c.peer_requested) {
            self.push(CallCommand::SetMuted(muted));
        }
        self.push_view();
    }

    // -----------------------------------------------------------------------------------------
    // Peer-connection events

    /// The microphone was granted and the peer connection exists.
    pub fn handle_peer_created(&mut self, _now: Millis) {
        let muted = self.muted;
        let Some(call) = self.active_mut().filter(|c| c.peer_requested && !c.peer_ready) else {
            log::warn!("[Call] peer created with no call waiting for one: dropped");
            return;
        };
        call.peer_ready = true;
        let role = call.role;
        let stored = match std::mem::replace(&mut call.remote, Remote::None) {
            Remote::Stored(sdp) => {
                call.remote = Remote::Applying;
                Some(sdp)
            }
            other => {
                call.remote = other;
                None
            }
        };
        if muted {
            self.push(CallCommand::SetMuted(true));
        }
        match (role, stored) {
            (Role::Caller, _) => self.push(CallCommand::CreateOffer),
            (Role::Callee, Some(sdp)) => self.push(CallCommand::ApplyOfferAndAnswer { sdp }),
            (Role::Callee, None) => log::info!("[Call] peer ready; waiting for the caller's offer"),
        }
    }

    /// The microphone was refused or the peer connection could not be created or negotiated.
    pub fn handle_peer_failed(&mut self, _now: Millis, reason: &str) {
        let Some(call) = self.active() else {
            log::warn!("[Call] peer failure with no call under way: {reason}");
            return;
        };
        log::error!("[Call] call {} failed: {reason}", call.id);
        let hangup = self.farewell();
        self.end(EndReason::Failed, hangup);
    }

    pub fn handle_local_offer(&mut self, _now: Millis, sdp: String) {
        let Some(call) = self.active_mut().filter(|c| c.peer_ready) else {
            log::warn!("[Call] local offer with no peer connection under way: dropped");
            return;
        };
        call.local_offer_pending = true;
        let offer = CallMessage::Offer { call_id: call.id.clone(), sdp };
        if self.state == CallState::Requesting {
            self.state = CallState::Offering;
            self.push(CallCommand::Send(offer));
            self.push_view();
        } else {
            self.push(CallCommand::Send(offer));
        }
    }

    pub fn handle_local_answer(&mut self, _now: Millis, sdp: String) {
        let Some(call) = self.active().filter(|c| c.peer_ready && c.remote != Remote::None) else {
            log::warn!("[Call] local answer with no remote offer: dropped");
            return;
        };
        let answer = CallMessage::Answer { call_id: call.id.clone(), sdp };
        self.push(CallCommand::Send(answer));
    }

    pub fn handle_local_ice(&mut self, _now: Millis, candidate: IceCandidate) {
        let Some(call) = self.active().filter(|c| c.peer_ready) else {
            log::debug!("[Call] local ICE candidate with no call under way: dropped");
            return;
        };
        let ice = CallMessage::Ice { call_id: call.id.clone(), candidate };
        self.push(CallCommand::Send(ice));
    }

    /// The remote offer or answer handed over by `ApplyOfferAndAnswer`/`ApplyAnswer` is set:
    /// the queued remote ICE candidates go in now.
    pub fn handle_remote_description_set(&mut self, _now: Millis) {
        let Some(call) = self.active_mut().filter(|c| c.remote == Remote::Applying) else {
            log::warn!("[Call] remote description set with none being applied: dropped");
            return;
        };
        call.remote = Remote::Applied;
        let queued = std::mem::take(&mut call.queued_ice);
        if !queued.is_empty() {
            log::info!("[Call] adding {} queued ICE candidates", queued.len());
        }
        for candidate in queued {
            self.push(CallCommand::AddIceCandidate(candidate));
        }
    }

    pub fn handle_connection_state(&mut self, now: Millis, state: PeerState) {
        let Some(call) = self.active_mut().filter(|c| c.peer_ready) else {
            log::debug!("[Call] peer connection {state:?} with no call under way");
            return;
        };
        match state {
            PeerState::Connected => {
                if call.connected_since.is_some() {
                    return;
                }
                call.connected_since = Some(now);
                call.deadline = None;
                log::info!("[Call] call {} connected", call.id);
                self.state = CallState::Connected;
                self.push_view();
            }
            PeerState::Failed | PeerState::Closed => {
                log::warn!("[Call] call {}: peer connection {state:?}", call.id);
                let hangup = self.farewell();
                self.end(EndReason::Failed, hangup);
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Millis) {
        let Some(call) = self.active() else { return };
        if call.deadline.is_none_or(|d| now < d) {
            return;
        }
        let id = call.id.clone();
        match self.state {
            CallState::Ringing => {
                log::info!("[Call] call {id} rang for {RING_TIMEOUT:?} unanswered");
                self.end(EndReason::Missed, Some(CallMessage::Decline { call_id: id }));
            }
            CallState::Requesting | CallState::Offering if call.remote == Remote::None => {
                log::info!("[Call] call {id}: no answer within {ANSWER_TIMEOUT:?}");
                let farewell = self.farewell();
                self.end(EndReason::NoAnswer, farewell);
            }
            _ => {
                log::warn!("[Call] call {id}: not connected within {CONNECT_TIMEOUT:?}");
                let farewell = self.farewell();
                self.end(EndReason::Failed, farewell);
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Signalling

    pub fn handle_message(&mut self, now: Millis, message: CallMessage) {
        if let Err(e) = message.validate() {
            log::warn!("[Call] dropped {}: {e}", message.kind());
            return;
        }
        if let CallMessage::Request { call_id, from, .. } = message {
            self.incoming(now, call_id, from);
            return;
        }
        let Some(call) = self.active().filter(|c| c.id == message.call_id()) else {
            let why = match &self.call {
                Some(c) if c.id == message.call_id() => "it has ended",
                _ => "not the current call",
            };
            log::warn!("[Call] dropped {} for call {}: {why}", message.kind(), message.call_id());
            return;
        };
        let role = call.role;
        match (role, message) {
            (_, CallMessage::Offer { sdp, .. }) => self.remote_offer(sdp),
            (Role::Caller, CallMessage::Answer { sdp, .. }) => self.remote_answer(now, sdp),
            (_, CallMessage::Ice { candidate, .. }) => self.remote_ice(candidate),
            (Role::Caller, CallMessage::Accept { from, .. }) => {
                if let Some(call) = self.active_mut().filter(|c| !c.accepted) {
                    log::info!("[Call] call {} accepted by {from}", call.id);
                    call.accepted = true;
                    call.remote_id = Some(from);
                    self.push_view();
                }
            }
            (Role::Caller, CallMessage::Decline { .. }) => self.end(EndReason::RemoteDeclined, None),
            (Role::Caller, CallMessage::Busy { .. }) => self.end(EndReason::Busy, None),
            (Role::Caller, CallMessage::Unavailable { .. }) => self.end(EndReason::Unavailable, None),
            (Role::Callee, CallMessage::Taken { .. }) if self.state == CallState::Ringing => {
                self.end(EndReason::Taken, None)
            }
            (_, CallMessage::Cancel { .. } | CallMessage::Hangup { .. }) => self.end(EndReason::RemoteHungUp, None),
            (_, other) => {
                log::warn!(
                    "[Call] dropped {} for call {}: unexpected while {}",
                    other.kind(),
                    other.call_id(),
                    self.state.as_str()
                )
            }
        }
    }

    fn incoming(&mut self, now: Millis, call_id: String, from: String) {
        if self.call.as_ref().is_some_and(|c| c.id == call_id) {
            log::warn!("[Call] dropped a repeated call.request for call {call_id}");
            return;
        }
        if self.state.is_active() {
            log::info!("[Call] call {call_id} from {from} refused: busy");
            self.push(CallCommand::Send(CallMessage::Busy { call_id }));
            return;
        }
        log::info!("[Call] incoming call {call_id} from {from}");
        let mut call = Active::new(call_id, Role::Callee, Some(from));
        call.deadline = Some(now.after(RING_TIMEOUT));
        self.begin(call, CallState::Ringing);
        self.push(CallCommand::StartRingTone);
        self.push_view();
    }

    fn remote_offer(&mut self, sdp: String) {
        let polite = self.is_polite();
        let Some(call) = self.active_mut() else { return };
        if call.local_offer_pending {
            if !polite {
                log::info!("[Call] glare on call {}: impolite side ignores the remote offer", call.id);
                return;
            }
            log::info!("[Call] glare on call {}: polite side answers the remote offer", call.id);
            call.local_offer_pending = false;
        } else if call.remote != Remote::None || call.role == Role::Caller && !call.peer_ready {
            log::warn!("[Call] dropped a duplicate or early call.offer for call {}", call.id);
            return;
        }
        if call.peer_ready {
            call.remote = Remote::Applying;
            self.push(CallCommand::ApplyOfferAndAnswer { sdp });
        } else {
            log::info!("[Call] offer for call {} stored until the peer connection exists", call.id);
            call.remote = Remote::Stored(sdp);
        }
    }

    fn remote_answer(&mut self, now: Millis, sdp: String) {
        let Some(call) = self.active_mut() else { return };
        if !call.local_offer_pending {
            log::warn!("[Call] dropped call.answer for call {}: no offer of ours is waiting", call.id);
            return;
        }
        call.local_offer_pending = false;
        call.remote = Remote::Applying;
        if call.connected_since.is_none() {
            call.deadline = Some(now.after(CONNECT_TIMEOUT));
        }
        self.push(CallCommand::ApplyAnswer { sdp });
    }

    fn remote_ice(&mut self, candidate: IceCandidate) {
        let Some(call) = self.active_mut() else { return };
        if call.seen_ice.contains(&candidate) {
            log::debug!("[Call] dropped a duplicate ICE candidate for call {}", call.id);
            return;
        }
        if call.seen_ice.len() < MAX_SEEN_ICE {
            call.seen_ice.push(candidate.clone());
        }
        if call.remote == Remote::Applied {
            self.push(CallCommand::AddIceCandidate(candidate));
        } else if call.queued_ice.len() < MAX_QUEUED_ICE {
            call.queued_ice.push(candidate);
        } else {
            log::warn!("[Call] dropped an ICE candidate for call {}: {MAX_QUEUED_ICE} already queued", call.id);
        }
    }

    // -----------------------------------------------------------------------------------------

    fn active(&self) -> Option<&Active> {
        self.call.as_ref().filter(|_| self.state.is_active())
    }

    fn active_mut(&mut self) -> Option<&mut Active> {
        self.call.as_mut().filter(|_| self.state.is_active())
    }

    /// Lower client id is polite; unknown remote → not polite (the remote id is known after accept).
    fn is_polite(&self) -> bool {
        self.active().and_then(|c| c.remote_id.as_deref()).is_some_and(|remote| self.local_id.as_str() < remote)
    }

    /// What this side tells the other when it ends an active call on its own.
    fn farewell(&self) -> Option<CallMessage> {
        let call = self.active()?;
        let call_id = call.id.clone();
        Some(match (self.state, call.role) {
            (CallState::Ringing, _) => CallMessage::Decline { call_id },
            (_, Role::Caller) if !call.accepted => CallMessage::Cancel { call_id },
            _ => CallMessage::Hangup { call_id },
        })
    }

    fn begin(&mut self, call: Active, state: CallState) {
        self.call = Some(call);
        self.state = state;
        self.ended = None;
        self.muted = false;
    }

    fn end(&mut self, reason: EndReason, send: Option<CallMessage>) {
        let Some(call) = self.active_mut() else { return };
        call.deadline = None;
        call.queued_ice.clear();
        log::info!("[Call] call {} ended: {reason:?}", call.id);
        let close = call.peer_requested;
        let ringing = self.state == CallState::Ringing;
        self.state = CallState::Ended;
        self.ended = Some(reason);
        if ringing {
            self.push(CallCommand::StopRingTone);
        }
        if let Some(message) = send {
            self.push(CallCommand::Send(message));
        }
        if close {
            self.push(CallCommand::ClosePeer);
        }
        self.push_view();
    }

    fn push(&mut self, command: CallCommand) {
        self.commands.push_back(command);
    }

    fn push_view(&mut self) {
        let view = self.view();
        self.push(CallCommand::Ui(view));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::{drain, ms, picked, secs};

    const KIOSK: &str = "kiosk-1";
    const KDS: &str = "kds-grill-1";

    fn sent(commands: &[CallCommand]) -> Vec<CallMessage> {
        picked!(commands, CallCommand::Send(m) => m.clone())
    }

    fn ice(n: u32) -> IceCandidate {
        IceCandidate {
            candidate: format!("candidate:{n} 1 udp 2122260223 10.0.0.{n} 5000{n} typ host"),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        }
    }

    fn added_ice(commands: &[CallCommand]) -> Vec<IceCandidate> {
        picked!(commands, CallCommand::AddIceCandidate(i) => i.clone())
    }

    fn request(id: &str) -> CallMessage {
        CallMessage::Request { call_id: id.into(), from: KIOSK.into(), to_station: Some("grill".into()) }
    }

    fn offer(id: &str) -> CallMessage {
        CallMessage::Offer { call_id: id.into(), sdp: "v=0 offer".into() }
    }

    fn ringing_kds(id: &str) -> Call {
        let mut kds = Call::new(KDS);
        kds.handle_message(Millis(0), request(id));
        let commands = drain(|| kds.poll_command());
        assert!(commands.contains(&CallCommand::StartRingTone));
        assert_eq!(kds.state(), CallState::Ringing);
        kds
    }

    /// A kiosk whose offer is out: returns it with the offer frame.
    fn offering_kiosk(id: &str) -> Call {
        let mut kiosk = Call::new(KIOSK);
        kiosk.handle_call(Millis(0), id.into(), Some("grill".into()));
        let commands = drain(|| kiosk.poll_command());
        assert_eq!(sent(&commands), [request(id)]);
        assert!(commands.contains(&CallCommand::CreatePeer));
        assert_eq!(kiosk.state(), CallState::Requesting);
        kiosk.handle_peer_created(Millis(300));
        assert_eq!(drain(|| kiosk.poll_command()), [CallCommand::CreateOffer]);
        kiosk.handle_local_offer(Millis(350), "v=0 offer".into());
        assert_eq!(sent(&drain(|| kiosk.poll_command())), [offer(id)]);
        assert_eq!(kiosk.state(), CallState::Offering);
        kiosk
    }

    #[test]
    fn an_offer_before_accept_is_stored_and_answered_when_staff_accept_3s_later() {
        let mut kds = ringing_kds("c1");
        kds.handle_message(Millis(100), offer("c1"));
        let early = drain(|| kds.poll_command());
        assert!(
            !early.iter().any(|c| matches!(c, CallCommand::ApplyOfferAndAnswer { .. })),
            "no peer connection yet: the offer must wait, got {early:?}"
        );
        assert_eq!(kds.state(), CallState::Ringing);

        kds.handle_accept(Millis(3_100));
        let commands = drain(|| kds.poll_command());
        assert_eq!(
            sent(&commands),
            [CallMessage::Accept { call_id: "c1".into(), from: KDS.into() }],
            "accept goes out at once"
        );
        assert!(commands.contains(&CallCommand::StopRingTone) && commands.contains(&CallCommand::CreatePeer));
        assert_eq!(kds.state(), CallState::Accepting);

        kds.handle_peer_created(Millis(3_400));
        assert_eq!(drain(|| kds.poll_command()), [CallCommand::ApplyOfferAndAnswer { sdp: "v=0 offer".into() }]);
        kds.handle_remote_description_set(Millis(3_410));
        kds.handle_local_answer(Millis(3_420), "v=0 answer".into());
        assert_eq!(
            sent(&drain(|| kds.poll_command())),
            [CallMessage::Answer { call_id: "c1".into(), sdp: "v=0 answer".into() }]
        );
        kds.handle_connection_state(Millis(3_900), PeerState::Connected);
        assert_eq!(kds.state(), CallState::Connected);
        assert_eq!(kds.view().connected_since, Some(Millis(3_900)));
        assert_eq!(kds.poll_timeout(), None, "a connected call has no deadline");
    }

    #[test]
    fn ice_before_the_offer_is_queued_until_the_remote_description_is_set() {
        let mut kds = ringing_kds("c1");
        kds.handle_message(Millis(10), CallMessage::Ice { call_id: "c1".into(), candidate: ice(1) });
        kds.handle_message(Millis(20), CallMessage::Ice { call_id: "c1".into(), candidate: ice(2) });
        kds.handle_accept(Millis(2_000));
        kds.handle_peer_created(Millis(2_100));
        assert!(added_ice(&drain(|| kds.poll_command())).is_empty(), "no remote description yet");
        kds.handle_message(Millis(2_200), offer("c1"));
        let commands = drain(|| kds.poll_command());
        assert_eq!(commands, [CallCommand::ApplyOfferAndAnswer { sdp: "v=0 offer".into() }]);
        kds.handle_remote_description_set(Millis(2_250));
        assert_eq!(added_ice(&drain(|| kds.poll_command())), [ice(1), ice(2)], "flushed in arrival order");
        kds.handle_message(Millis(2_300), CallMessage::Ice { call_id: "c1".into(), candidate: ice(3) });
        assert_eq!(added_ice(&drain(|| kds.poll_command())), [ice(3)], "later candidates go straight in");
    }

    #[test]
    fn ice_after_the_offer_but_before_accept_is_queued_then_flushed() {
        let mut kds = ringing_kds("c1");
        kds.handle_message(Millis(10), offer("c1"));
        kds.handle_message(Millis(20), CallMessage::Ice { call_id: "c1".into(), candidate: ice(1) });
        assert!(drain(|| kds.poll_command()).is_empty());
        kds.handle_accept(Millis(5_000));
        kds.handle_peer_created(Millis(5_200));
        let commands = drain(|| kds.poll_command());
        assert!(added_ice(&commands).is_empty(), "the offer is being applied: candidates still wait");
        kds.handle_remote_description_set(Millis(5_210));
        assert_eq!(added_ice(&drain(|| kds.poll_command())), [ice(1)]);
    }

    #[test]
    fn declining_stops_the_ring_and_tells_the_caller() {
        let mut kds = ringing_kds("c1");
        kds.handle_decline(Millis(1_000));
        let commands = drain(|| kds.poll_command());
        assert_eq!(sent(&commands), [CallMessage::Decline { call_id: "c1".into() }]);
        assert!(commands.contains(&CallCommand::StopRingTone));
        assert!(!commands.contains(&CallCommand::ClosePeer), "no peer was created");
        assert_eq!((kds.state(), kds.end_reason()), (CallState::Ended, Some(EndReason::Declined)));

        let mut kiosk = offering_kiosk("c2");
        kiosk.handle_message(Millis(1_000), CallMessage::Decline { call_id: "c2".into() });
        let commands = drain(|| kiosk.poll_command());
        assert!(sent(&commands).is_empty() && commands.contains(&CallCommand::ClosePeer));
        assert_eq!(kiosk.end_reason(), Some(EndReason::RemoteDeclined));
    }

    #[test]
    fn a_cancel_while_ringing_stops_the_ring_and_ends_the_call() {
        let mut kds = ringing_kds("c1");
        kds.handle_message(Millis(5_000), CallMessage::Cancel { call_id: "c1".into() });
        let commands = drain(|| kds.poll_command());
        assert!(commands.contains(&CallCommand::StopRingTone));
        assert!(sent(&commands).is_empty());
        assert_eq!(kds.state(), CallState::Ended);
        assert_eq!(kds.end_reason().map(EndReason::message), Some("Call ended"));
        assert_eq!(kds.poll_timeout(), None);
    }

    #[test]
    fn accepting_after_the_caller_cancelled_shows_call_ended_and_sends_nothing() {
        let mut kds = ringing_kds("c1");
        kds.handle_message(Millis(100), offer("c1"));
        kds.handle_message(Millis(5_000), CallMessage::Cancel { call_id: "c1".into() });
        drain(|| kds.poll_command());
        kds.handle_accept(Millis(5_050));
        let commands = drain(|| kds.poll_command());
        assert!(sent(&commands).is_empty() && !commands.contains(&CallCommand::CreatePeer), "{commands:?}");
        let Some(CallCommand::Ui(view)) = commands.last() else { panic!("the UI is told again, got {commands:?}") };
        assert_eq!(view.state, CallState::Ended);
        assert_eq!(view.ended.map(EndReason::message), Some("Call ended"));

        // The accept crossed the cancel on the wire: the callee already set up its peer.
        let mut kds = ringing_kds("c2");
        kds.handle_accept(Millis(1_000));
        kds.handle_peer_created(Millis(1_100));
        drain(|| kds.poll_command());
        kds.handle_message(Millis(1_200), CallMessage::Cancel { call_id: "c2".into() });
        let commands = drain(|| kds.poll_command());
        assert!(commands.contains(&CallCommand::ClosePeer));
        assert_eq!(kds.end_reason().map(EndReason::message), Some("Call ended"));
    }

    #[test]
    fn duplicated_and_reordered_messages_change_nothing() {
        let mut kds = ringing_kds("c1");
        kds.handle_message(Millis(1), request("c1"));
        assert!(drain(|| kds.poll_command()).is_empty(), "a repeated request does not ring twice or answer busy");
        kds.handle_message(Millis(2), CallMessage::Ice { call_id: "c1".into(), candidate: ice(1) });
        kds.handle_message(Millis(3), offer("c1"));
        kds.handle_message(Millis(4), offer("c1"));
        kds.handle_message(Millis(5), CallMessage::Ice { call_id: "c1".into(), candidate: ice(1) });
        kds.handle_accept(Millis(2_000));
        kds.handle_accept(Millis(2_001));
        let commands = drain(|| kds.poll_command());
        assert_eq!(sent(&commands).len(), 1, "one accept: {commands:?}");
        assert_eq!(commands.iter().filter(|c| **c == CallCommand::CreatePeer).count(), 1);
        kds.handle_peer_created(Millis(2_100));
        kds.handle_peer_created(Millis(2_101));
        let commands = drain(|| kds.poll_command());
        assert_eq!(commands.iter().filter(|c| matches!(c, CallCommand::ApplyOfferAndAnswer { .. })).count(), 1);
        kds.handle_remote_description_set(Millis(2_200));
        assert_eq!(added_ice(&drain(|| kds.poll_command())), [ice(1)], "the duplicate candidate is dropped");
        kds.handle_message(Millis(2_300), offer("c1"));
        assert!(drain(|| kds.poll_command()).is_empty(), "an offer already applied is not applied again");

        // Caller: the answer overtakes the accept; a second answer is ignored.
        let mut kiosk = offering_kiosk("c2");
        let answer = CallMessage::Answer { call_id: "c2".into(), sdp: "v=0 answer".into() };
        kiosk.handle_message(Millis(1_000), answer.clone());
        kiosk.handle_message(Millis(1_001), answer);
        kiosk.handle_message(Millis(1_002), CallMessage::Accept { call_id: "c2".into(), from: KDS.into() });
        let commands = drain(|| kiosk.poll_command());
        assert_eq!(commands.iter().filter(|c| matches!(c, CallCommand::ApplyAnswer { .. })).count(), 1);
        assert_eq!(kiosk.view().remote.as_deref(), Some(KDS));
        kiosk.handle_connection_state(Millis(1_500), PeerState::Connected);
        kiosk.handle_connection_state(Millis(1_600), PeerState::Connected);
        assert_eq!(kiosk.view().connected_since, Some(Millis(1_500)));
    }

    #[test]
    fn frames_with_a_stale_or_unknown_call_id_are_dropped() {
        let mut kds = ringing_kds("c1");
        kds.handle_message(Millis(10), offer("old"));
        kds.handle_message(Millis(11), CallMessage::Hangup { call_id: "old".into() });
        kds.handle_message(Millis(12), CallMessage::Ice { call_id: "other".into(), candidate: ice(1) });
        assert!(drain(|| kds.poll_command()).is_empty());
        assert_eq!(kds.state(), CallState::Ringing);
        kds.handle_message(Millis(20), CallMessage::Cancel { call_id: "c1".into() });
        drain(|| kds.poll_command());
        kds.handle_message(Millis(30), offer("c1"));
        kds.handle_message(Millis(31), CallMessage::Hangup { call_id: "c1".into() });
        assert!(drain(|| kds.poll_command()).is_empty(), "frames of the ended call are stale");
        kds.handle_message(Millis(40), CallMessage::Hangup { call_id: "bad id!".into() });
        assert!(drain(|| kds.poll_command()).is_empty(), "an invalid id is dropped");
        assert_eq!(kds.end_reason(), Some(EndReason::RemoteHungUp));
    }

    #[test]
    fn a_second_incoming_call_while_busy_is_answered_busy() {
        let mut kds = ringing_kds("c1");
        kds.handle_message(Millis(10), request("c2"));
        assert_eq!(sent(&drain(|| kds.poll_command())), [CallMessage::Busy { call_id: "c2".into() }]);
        assert_eq!((kds.state(), kds.call_id()), (CallState::Ringing, Some("c1")));

        let mut kiosk = offering_kiosk("c3");
        kiosk.handle_message(Millis(10), request("c4"));
        assert_eq!(sent(&drain(|| kiosk.poll_command())), [CallMessage::Busy { call_id: "c4".into() }]);
        kiosk.handle_message(Millis(20), CallMessage::Busy { call_id: "c3".into() });
        drain(|| kiosk.poll_command());
        assert_eq!(kiosk.end_reason().map(EndReason::message), Some("Staff are busy"));
    }

    #[test]
    fn glare_is_resolved_by_the_lower_client_id_answering() {
        // Both sides have sent an offer for the same call and receive the other's.
        let mut kiosk = offering_kiosk("c1");
        kiosk.handle_message(Millis(400), CallMessage::Accept { call_id: "c1".into(), from: KDS.into() });
        let mut kds = ringing_kds("c1");
        kds.handle_accept(Millis(400));
        kds.handle_peer_created(Millis(450));
        kds.handle_local_offer(Millis(460), "v=0 kds offer".into());
        drain(|| kds.poll_command());
        drain(|| kiosk.poll_command());
        assert!(KDS < KIOSK, "the KDS id sorts lower: it is the polite side");

        kiosk.handle_message(Millis(500), CallMessage::Offer { call_id: "c1".into(), sdp: "v=0 kds offer".into() });
        assert!(drain(|| kiosk.poll_command()).is_empty(), "the impolite side ignores the remote offer");
        kds.handle_message(Millis(500), offer("c1"));
        assert_eq!(drain(|| kds.poll_command()), [CallCommand::ApplyOfferAndAnswer { sdp: "v=0 offer".into() }]);
        kds.handle_remote_description_set(Millis(510));
        kds.handle_local_answer(Millis(520), "v=0 answer".into());
        let answer = sent(&drain(|| kds.poll_command()));
        assert_eq!(answer, [CallMessage::Answer { call_id: "c1".into(), sdp: "v=0 answer".into() }]);
        kiosk.handle_message(Millis(530), answer[0].clone());
        assert_eq!(drain(|| kiosk.poll_command()), [CallCommand::ApplyAnswer { sdp: "v=0 answer".into() }]);
    }

    #[test]
    fn an_unanswered_ring_stops_after_30_seconds_and_declines() {
        let mut kds = ringing_kds("c1");
        assert_eq!(kds.poll_timeout(), Some(Millis(30_000)));
        kds.handle_timeout(Millis(29_999));
        assert!(drain(|| kds.poll_command()).is_empty());
        kds.handle_timeout(Millis(30_000));
        let commands = drain(|| kds.poll_command());
        assert!(commands.contains(&CallCommand::StopRingTone));
        assert_eq!(sent(&commands), [CallMessage::Decline { call_id: "c1".into() }]);
        assert_eq!(kds.end_reason(), Some(EndReason::Missed));
        assert_eq!(kds.poll_timeout(), None);
    }

    #[test]
    fn the_caller_gives_up_after_45_seconds_without_an_answer() {
        let mut kiosk = offering_kiosk("c1");
        kiosk.handle_message(Millis(2_000), CallMessage::Accept { call_id: "c1".into(), from: KDS.into() });
        drain(|| kiosk.poll_command());
        assert_eq!(kiosk.poll_timeout(), Some(Millis(45_000)));
        kiosk.handle_timeout(Millis(44_999));
        assert!(drain(|| kiosk.poll_command()).is_empty());
        kiosk.handle_timeout(Millis(45_000));
        let commands = drain(|| kiosk.poll_command());
        assert_eq!(sent(&commands), [CallMessage::Hangup { call_id: "c1".into() }], "accepted: hang up");
        assert!(commands.contains(&CallCommand::ClosePeer));
        assert_eq!(kiosk.end_reason().map(EndReason::message), Some("No answer"));

        let mut kiosk = offering_kiosk("c2");
        kiosk.handle_timeout(Millis(45_000));
        assert_eq!(
            sent(&drain(|| kiosk.poll_command())),
            [CallMessage::Cancel { call_id: "c2".into() }],
            "unanswered: cancel"
        );
    }

    #[test]
    fn a_refused_microphone_ends_the_call_and_tells_the_other_side() {
        let mut kiosk = Call::new(KIOSK);
        kiosk.handle_call(Millis(0), "c1".into(), None);
        drain(|| kiosk.poll_command());
        kiosk.handle_peer_failed(Millis(100), "NotAllowedError: permission denied");
        let commands = drain(|| kiosk.poll_command());
        assert_eq!(sent(&commands), [CallMessage::Cancel { call_id: "c1".into() }]);
        assert_eq!(kiosk.end_reason(), Some(EndReason::Failed));
    }

    #[test]
    fn another_screen_taking_the_call_stops_the_ring() {
        let mut kds = ringing_kds("c1");
        kds.handle_message(Millis(900), CallMessage::Taken { call_id: "c1".into() });
        let commands = drain(|| kds.poll_command());
        assert!(commands.contains(&CallCommand::StopRingTone) && sent(&commands).is_empty());
        assert_eq!(kds.end_reason().map(EndReason::message), Some("Answered on another screen"));
    }

    #[test]
    fn mute_reaches_the_track_and_the_ui() {
        let mut kiosk = offering_kiosk("c1");
        kiosk.handle_mute(Millis(10), true);
        let commands = drain(|| kiosk.poll_command());
        assert_eq!(commands[0], CallCommand::SetMuted(true));
        assert!(matches!(&commands[1], CallCommand::Ui(v) if v.muted));
        kiosk.handle_mute(Millis(11), true);
        assert!(drain(|| kiosk.poll_command()).is_empty());
    }

    /// Runs two machines against each other, forwarding frames 1:1 and playing the browser's part
    /// for every peer command (in order, instantly).
    struct Pair {
        kiosk: Call,
        kds: Call,
        now: Millis,
        kiosk_closed: bool,
        kds_closed: bool,
    }

    impl Pair {
        fn new() -> Pair {
            Pair {
                kiosk: Call::new(KIOSK),
                kds: Call::new(KDS),
                now: Millis(0),
                kiosk_closed: false,
                kds_closed: false,
            }
        }

        fn pump(&mut self) {
            for _ in 0..100 {
                let a = drain(|| self.kiosk.poll_command());
                let b = drain(|| self.kds.poll_command());
                if a.is_empty() && b.is_empty() {
                    return;
                }
                let now = self.now;
                self.kiosk_closed |= Self::play(&mut self.kiosk, &mut self.kds, a, now);
                self.kds_closed |= Self::play(&mut self.kds, &mut self.kiosk, b, now);
            }
            panic!("the two machines never went quiet");
        }

        /// Returns whether `ClosePeer` was among the commands.
        fn play(own: &mut Call, other: &mut Call, commands: Vec<CallCommand>, now: Millis) -> bool {
            let mut closed = false;
            for command in commands {
                match command {
                    CallCommand::Send(m) => other.handle_message(now, m),
                    CallCommand::CreatePeer => own.handle_peer_created(now),
                    CallCommand::CreateOffer => own.handle_local_offer(now, "v=0 offer".into()),
                    CallCommand::ApplyOfferAndAnswer { .. } => {
                        own.handle_remote_description_set(now);
                        own.handle_local_answer(now, "v=0 answer".into());
                        own.handle_local_ice(now, ice(7));
                    }
                    CallCommand::ApplyAnswer { .. } => own.handle_remote_description_set(now),
                    CallCommand::ClosePeer => closed = true,
                    _ => {}
                }
            }
            closed
        }

        fn connect(&mut self) {
            self.kiosk.handle_call(self.now, "c1".into(), Some("grill".into()));
            self.pump();
            assert_eq!(self.kds.state(), CallState::Ringing);
            assert_eq!(self.kiosk.state(), CallState::Offering);
            self.now = self.now + secs(2);
            self.kds.handle_accept(self.now);
            self.pump();
            self.now = self.now + ms(300);
            self.kiosk.handle_connection_state(self.now, PeerState::Connected);
            self.kds.handle_connection_state(self.now, PeerState::Connected);
            assert_eq!((self.kiosk.state(), self.kds.state()), (CallState::Connected, CallState::Connected));
        }
    }

    #[test]
    fn the_kiosk_hanging_up_ends_the_call_on_both_sides() {
        let mut pair = Pair::new();
        pair.connect();
        pair.kiosk.handle_hangup(pair.now + secs(60));
        pair.pump();
        assert_eq!(
            (pair.kiosk.end_reason(), pair.kds.end_reason()),
            (Some(EndReason::HungUp), Some(EndReason::RemoteHungUp))
        );
        assert!(pair.kiosk_closed && pair.kds_closed, "both peer connections close");
    }

    #[test]
    fn the_kds_hanging_up_ends_the_call_on_both_sides() {
        let mut pair = Pair::new();
        pair.connect();
        pair.kds.handle_hangup(pair.now + secs(60));
        pair.pump();
        assert_eq!(
            (pair.kiosk.end_reason(), pair.kds.end_reason()),
            (Some(EndReason::RemoteHungUp), Some(EndReason::HungUp))
        );
        assert!(pair.kiosk_closed && pair.kds_closed);
    }

    #[test]
    fn a_failed_connection_hangs_up_the_other_side() {
        let mut pair = Pair::new();
        pair.connect();
        pair.kds.handle_connection_state(pair.now + secs(5), PeerState::Failed);
        pair.pump();
        assert_eq!(pair.kds.end_reason(), Some(EndReason::Failed));
        assert_eq!(pair.kiosk.end_reason(), Some(EndReason::RemoteHungUp));
    }

    #[test]
    fn a_new_call_can_follow_an_ended_one() {
        let mut pair = Pair::new();
        pair.connect();
        pair.kiosk.handle_hangup(pair.now);
        pair.pump();
        pair.kiosk.handle_call(pair.now + secs(1), "c2".into(), None);
        pair.pump();
        assert_eq!((pair.kds.state(), pair.kds.call_id()), (CallState::Ringing, Some("c2")));
        assert_eq!(pair.kds.end_reason(), None);
    }

    #[test]
    fn status_line_names_the_end_reason() {
        let view =
            |state, ended| CallView { state, call_id: None, remote: None, connected_since: None, muted: false, ended };
        assert_eq!(
            view(CallState::Ended, Some(EndReason::RemoteDeclined)).status_text(),
            "Staff could not take the call"
        );
        assert_eq!(view(CallState::Ended, None).status_text(), "Call ended");
        assert_eq!(view(CallState::Offering, None).status_text(), "Calling staff…");
        assert_eq!(view(CallState::Idle, None).status_text(), "");
    }

    const ALL_STATES: [CallState; 7] = [
        CallState::Idle,
        CallState::Requesting,
        CallState::Offering,
        CallState::Ringing,
        CallState::Accepting,
        CallState::Connected,
        CallState::Ended,
    ];

    #[test]
    fn only_a_joined_call_can_be_muted_or_hung_up() {
        let joined: Vec<CallState> = ALL_STATES.into_iter().filter(|s| s.is_joined()).collect();
        assert_eq!(joined, [CallState::Requesting, CallState::Offering, CallState::Accepting, CallState::Connected]);
    }

    #[test]
    fn state_names_are_snake_case() {
        let names: Vec<_> = ALL_STATES.map(CallState::as_str).into();
        assert_eq!(names, ["idle", "requesting", "offering", "ringing", "accepting", "connected", "ended"]);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        #[derive(Debug, Clone)]
        enum Input {
            Message(CallMessage),
            Call(&'static str),
            Accept,
            Decline,
            Hangup,
            Mute(bool),
            PeerCreated,
            PeerFailed,
            LocalOffer,
            LocalAnswer,
            LocalIce(u32),
            RemoteDescriptionSet,
            Connection(PeerState),
            Wait(u64),
        }

        fn call_id() -> impl Strategy<Value = &'static str> {
            prop_oneof![Just("c1"), Just("c2"), Just("bad id")]
        }

        fn message() -> impl Strategy<Value = CallMessage> {
            (call_id(), 0u8..11, 0u32..4, prop_oneof![Just(KIOSK), Just(KDS), Just("zz-remote")]).prop_map(
                |(id, kind, n, from)| {
                    let call_id = id.to_string();
                    match kind {
                        0 => CallMessage::Request { call_id, from: from.into(), to_station: None },
                        1 => CallMessage::Offer { call_id, sdp: format!("v=0 offer {n}") },
                        2 => CallMessage::Answer { call_id, sdp: format!("v=0 answer {n}") },
                        3 => CallMessage::Ice { call_id, candidate: ice(n) },
                        4 => CallMessage::Accept { call_id, from: from.into() },
                        5 => CallMessage::Decline { call_id },
                        6 => CallMessage::Cancel { call_id },
                        7 => CallMessage::Hangup { call_id },
                        8 => CallMessage::Busy { call_id },
                        9 => CallMessage::Taken { call_id },
                        _ => CallMessage::Unavailable { call_id },
                    }
                },
            )
        }

        fn input() -> impl Strategy<Value = Input> {
            prop_oneof![
                4 => message().prop_map(Input::Message),
                1 => call_id().prop_map(Input::Call),
                1 => Just(Input::Accept),
                1 => Just(Input::Decline),
                1 => Just(Input::Hangup),
                1 => any::<bool>().prop_map(Input::Mute),
                2 => Just(Input::PeerCreated),
                1 => Just(Input::PeerFailed),
                1 => Just(Input::LocalOffer),
                1 => Just(Input::LocalAnswer),
                1 => (0u32..4).prop_map(Input::LocalIce),
                2 => Just(Input::RemoteDescriptionSet),
                1 => prop_oneof![Just(PeerState::Connected), Just(PeerState::Failed), Just(PeerState::Closed)]
                    .prop_map(Input::Connection),
                2 => prop_oneof![0u64..2_000, 20_000u64..50_000].prop_map(Input::Wait),
            ]
        }

        /// What the peer connection has been told, to check the ordering guarantees.
        #[derive(Default)]
        struct Peer {
            created: bool,
            applying: bool,
            remote_set: bool,
        }

        fn apply(call: &mut Call, now: Millis, input: Input) {
            match input {
                Input::Message(m) => call.handle_message(now, m),
                Input::Call(id) => call.handle_call(now, id.into(), None),
                Input::Accept => call.handle_accept(now),
                Input::Decline => call.handle_decline(now),
                Input::Hangup => call.handle_hangup(now),
                Input::Mute(m) => call.handle_mute(now, m),
                Input::PeerCreated => call.handle_peer_created(now),
                Input::PeerFailed => call.handle_peer_failed(now, "simulated"),
                Input::LocalOffer => call.handle_local_offer(now, "v=0 local offer".into()),
                Input::LocalAnswer => call.handle_local_answer(now, "v=0 local answer".into()),
                Input::LocalIce(n) => call.handle_local_ice(now, ice(n)),
                Input::RemoteDescriptionSet => call.handle_remote_description_set(now),
                Input::Connection(s) => call.handle_connection_state(now, s),
                Input::Wait(_) => call.handle_timeout(now),
            }
        }

        /// Drains the commands, checking that the peer connection only gets remote SDP after it
        /// exists and remote ICE only after a remote description is set.
        fn check(call: &mut Call, peer: &mut Peer, input: &Input) -> Result<(), TestCaseError> {
            if matches!(input, Input::PeerCreated) && call.state().is_active() {
                peer.created = true;
            }
            if matches!(input, Input::RemoteDescriptionSet) {
                peer.remote_set |= peer.applying;
            }
            for command in drain(|| call.poll_command()) {
                match command {
                    CallCommand::CreatePeer => *peer = Peer::default(),
                    CallCommand::ApplyOfferAndAnswer { .. } | CallCommand::ApplyAnswer { .. } => {
                        prop_assert!(peer.created, "remote SDP before the peer connection exists");
                        peer.applying = true;
                    }
                    CallCommand::AddIceCandidate(_) => {
                        prop_assert!(peer.remote_set, "remote ICE before the remote description is set");
                    }
                    CallCommand::Send(m) => prop_assert!(m.validate().is_ok(), "sent an invalid frame {m:?}"),
                    _ => {}
                }
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn random_interleavings_never_panic_and_every_call_ends(
                inputs in proptest::collection::vec(input(), 0..60),
                local in prop_oneof![Just(KIOSK), Just(KDS)],
            ) {
                let mut call = Call::new(local);
                let mut peer = Peer::default();
                let mut now = Millis(0);
                for input in inputs {
                    if let Input::Wait(n) = input {
                        now = now + ms(n);
                    }
                    apply(&mut call, now, input.clone());
                    check(&mut call, &mut peer, &input)?;
                    prop_assert_eq!(call.poll_timeout().is_some(), call.state().is_active() && call.state() != CallState::Connected);
                }
                // Inputs stop: only the clock moves. No call stays in a transitional state.
                for _ in 0..3 {
                    let Some(deadline) = call.poll_timeout() else { break };
                    prop_assert!(deadline <= now.after(ANSWER_TIMEOUT), "deadline too far: {deadline:?}");
                    now = now.max(deadline);
                    call.handle_timeout(now);
                    drain(|| call.poll_command());
                }
                prop_assert!(matches!(call.state(), CallState::Idle | CallState::Ended | CallState::Connected), "stuck in {:?}", call.state());
                prop_assert_eq!(call.poll_timeout(), None);
                // A connected call ends when this side hangs up.
                call.handle_hangup(now);
                drain(|| call.poll_command());
                prop_assert!(matches!(call.state(), CallState::Idle | CallState::Ended));
            }
        }
    }
}
