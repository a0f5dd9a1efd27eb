//! Staff call signalling: routes `call.*` frames between the WebSocket connections by `call_id`.
//!
//! A `call.request` rings every staff screen of the target station (every staff screen when none
//! is named); the first `call.accept` wins and the other ringing screens get `call.taken`. Until
//! then the caller's offer and ICE candidates go to every ringing screen (each keeps them until
//! its user accepts); afterwards offer/answer/ICE/hangup flow only between the two parties. A
//! party leaving ends the call for the other. Calls are bounded in number and lifetime.
//!
//! The hub never looks inside SDP or candidates; it only checks identifiers and who may send what.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use restaurant_protocol::{CallMessage, KIOSK_STATION};
use tokio::sync::mpsc;

use crate::settings::is_valid_station;

/// Calls under way at once, hub-wide; more requests get `call.unavailable`.
pub const MAX_CALLS: usize = 64;
/// A call nobody accepted is dropped after this (the caller itself gives up after 45 s).
pub const MAX_RING: Duration = Duration::from_secs(60);
/// An accepted call is hung up after this.
pub const MAX_CALL: Duration = Duration::from_secs(2 * 60 * 60);
/// How often expired calls are looked for.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// Call frames queued per connection. A connection that stops reading loses frames beyond this
/// and is dropped by the heartbeat, which ends its calls.
const QUEUE: usize = 256;

/// What a connection is allowed to do with calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The kiosk's call-only connection: it can place calls, never rings.
    Kiosk,
    /// A signed-in screen of `station`: rings for calls to its station (or to any staff).
    Staff { station: String },
}

/// Why a call frame was refused (the connection stays open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// No call with this id involves the sender.
    UnknownCall(String),
    /// The frame is not allowed here (invalid, duplicate id, wrong party, …).
    Refused(String),
}

pub struct CallRouter {
    inner: Mutex<Inner>,
    next_id: AtomicU64,
}

#[derive(Default)]
struct Inner {
    endpoints: HashMap<u64, Endpoint>,
    calls: HashMap<String, RoutedCall>,
}

struct Endpoint {
    role: Role,
    peer: String,
    frames: mpsc::Sender<String>,
}

struct RoutedCall {
    caller: u64,
    /// Screens still ringing (empty once accepted).
    ringing: Vec<u64>,
    /// Screens that rang until another accepted: a late accept gets `call.taken`.
    released: Vec<u64>,
    callee: Option<u64>,
    started: Instant,
    answered: Option<Instant>,
    /// The strongest refusal from a ringing screen so far, told to the caller when none is left.
    refusal: Refusal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Refusal {
    /// Screens only went away.
    Gone,
    Busy,
    Declined,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Caller,
    Callee,
    Ringing,
    Released,
}

impl Party {
    fn name(self) -> &'static str {
        match self {
            Party::Caller => "caller",
            Party::Callee => "callee",
            Party::Ringing => "ringing screen",
            Party::Released => "screen no longer ringing",
        }
    }
}

impl Default for CallRouter {
    fn default() -> Self {
        CallRouter { inner: Mutex::new(Inner::default()), next_id: AtomicU64::new(1) }
    }
}

impl CallRouter {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update leaves the maps consistent before anything can panic.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a joined connection; dropping the endpoint leaves (ending its calls).
    pub fn join(self: &Arc<Self>, role: Role, peer: String) -> CallEndpoint {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (frames, rx) = mpsc::channel(QUEUE);
        self.lock().endpoints.insert(id, Endpoint { role, peer, frames });
        CallEndpoint { router: self.clone(), id, rx }
    }

    /// Routes one frame from connection `from`.
    fn handle(&self, from: u64, message: CallMessage, now: Instant) -> Result<(), CallError> {
        message.validate().map_err(|e| CallError::Refused(e.to_string()))?;
        let mut inner = self.lock();
        inner.expire(now);
        if let CallMessage::Request { call_id, to_station, .. } = &message {
            return inner.request(from, call_id, to_station.as_deref(), &message, now);
        }
        let call_id = message.call_id().to_string();
        let unknown = || CallError::UnknownCall(format!("no call {call_id} involves this connection"));
        let call = inner.calls.get_mut(&call_id).ok_or_else(unknown)?;
        let party = if call.caller == from {
            Party::Caller
        } else if call.callee == Some(from) {
            Party::Callee
        } else if call.ringing.contains(&from) {
            Party::Ringing
        } else if call.released.contains(&from) {
            Party::Released
        } else {
            return Err(unknown());
        };
        match (party, &message) {
            (Party::Caller, CallMessage::Offer { .. } | CallMessage::Ice { .. }) if call.callee.is_none() => {
                let ringing = call.ringing.clone();
                inner.deliver(&ringing, &message);
            }
            (
                Party::Caller | Party::Callee,
                CallMessage::Offer { .. } | CallMessage::Answer { .. } | CallMessage::Ice { .. },
            ) => {
                let other = if party == Party::Caller { call.callee } else { Some(call.caller) };
                inner.deliver(other.as_slice(), &message);
            }
            (Party::Caller, CallMessage::Cancel { .. } | CallMessage::Hangup { .. })
            | (Party::Callee, CallMessage::Hangup { .. }) => {
                if let Some(call) = inner.calls.remove(&call_id) {
                    let others: Vec<u64> = call
                        .ringing
                        .iter()
                        .copied()
                        .chain(call.callee)
                        .chain([call.caller])
                        .filter(|id| *id != from)
                        .collect();
                    tracing::info!(%call_id, "call ended by its {}", party.name());
                    inner.deliver(&others, &message);
                }
            }
            (Party::Ringing, CallMessage::Accept { .. }) => {
                call.callee = Some(from);
                call.answered = Some(now);
                call.released = std::mem::take(&mut call.ringing);
                call.released.retain(|id| *id != from);
                let (caller, released) = (call.caller, call.released.clone());
                tracing::info!(%call_id, by = inner.peer(from), "call accepted");
                inner.deliver(&[caller], &message);
                inner.deliver(&released, &CallMessage::Taken { call_id: call_id.clone() });
            }
            (Party::Ringing, CallMessage::Decline { .. }) => inner.refuse(&call_id, from, Refusal::Declined),
            (Party::Ringing, CallMessage::Busy { .. }) => inner.refuse(&call_id, from, Refusal::Busy),
            (Party::Released, CallMessage::Accept { .. }) => {
                inner.deliver(&[from], &CallMessage::Taken { call_id: call_id.clone() });
            }
            // A screen's own decline or hangup crossing the accept of another: nothing to do.
            (Party::Released, CallMessage::Decline { .. } | CallMessage::Busy { .. } | CallMessage::Hangup { .. }) => {}
            (party, message) => {
                return Err(CallError::Refused(format!(
                    "{} is not allowed from the {} of call {call_id}",
                    message.kind(),
                    party.name()
                )));
            }
        }
        Ok(())
    }

    /// A connection left: its calls end for the other parties.
    fn leave(&self, id: u64) {
        let mut inner = self.lock();
        let involved: Vec<String> = inner
            .calls
            .iter()
            .filter(|(_, c)| {
                c.caller == id || c.callee == Some(id) || c.ringing.contains(&id) || c.released.contains(&id)
            })
            .map(|(call_id, _)| call_id.clone())
            .collect();
        for call_id in involved {
            let Some(call) = inner.calls.get_mut(&call_id) else { continue };
            call.released.retain(|r| *r != id);
            if call.ringing.contains(&id) {
                inner.refuse(&call_id, id, Refusal::Gone);
            } else if call.caller == id || call.callee == Some(id) {
                tracing::info!(%call_id, left = inner.peer(id), "call ended: a party left");
                inner.end(&call_id);
            }
        }
        inner.endpoints.remove(&id);
    }

    /// Ends calls older than their limit.
    pub fn sweep(&self, now: Instant) {
        self.lock().expire(now);
    }

    #[cfg(test)]
    fn call_count(&self) -> usize {
        self.lock().calls.len()
    }
}

impl Inner {
    fn peer(&self, id: u64) -> &str {
        self.endpoints.get(&id).map_or("a closed connection", |e| e.peer.as_str())
    }

    fn request(
        &mut self,
        from: u64,
        call_id: &str,
        to_station: Option<&str>,
        message: &CallMessage,
        now: Instant,
    ) -> Result<(), CallError> {
        if let Some(station) = to_station.filter(|s| !is_valid_station(s) || *s == KIOSK_STATION) {
            return Err(CallError::Refused(format!("to_station {station:?} is not a staff station")));
        }
        if self.calls.contains_key(call_id) {
            return Err(CallError::Refused(format!("call_id {call_id} is already in use")));
        }
        if self.calls.values().any(|c| c.caller == from) {
            return Err(CallError::Refused("this connection already has a call under way".into()));
        }
        let unavailable = CallMessage::Unavailable { call_id: call_id.to_string() };
        if self.calls.len() >= MAX_CALLS {
            tracing::warn!(%call_id, from = self.peer(from), "call refused: {MAX_CALLS} calls under way");
            self.deliver(&[from], &unavailable);
            return Ok(());
        }
        let targets: Vec<u64> = self
            .endpoints
            .iter()
            .filter(|(id, e)| {
                **id != from && matches!(&e.role, Role::Staff { station } if to_station.is_none_or(|s| s == station))
            })
            .map(|(id, _)| *id)
            .collect();
        let target = to_station.unwrap_or("any staff");
        if targets.is_empty() {
            tracing::info!(%call_id, from = self.peer(from), "no screen of {target} connected");
            self.deliver(&[from], &unavailable);
            return Ok(());
        }
        tracing::info!(%call_id, from = self.peer(from), "call rings {} screens of {target}", targets.len());
        self.deliver(&targets, message);
        self.calls.insert(
            call_id.to_string(),
            RoutedCall {
                caller: from,
                ringing: targets,
                released: Vec::new(),
                callee: None,
                started: now,
                answered: None,
                refusal: Refusal::Gone,
            },
        );
        Ok(())
    }

    /// A ringing screen refused or left; when none is left, the caller hears why.
    fn refuse(&mut self, call_id: &str, screen: u64, refusal: Refusal) {
        let Some(call) = self.calls.get_mut(call_id) else { return };
        call.ringing.retain(|id| *id != screen);
        call.refusal = call.refusal.max(refusal);
        if !call.ringing.is_empty() {
            return;
        }
        let (caller, refusal) = (call.caller, call.refusal);
        self.calls.remove(call_id);
        let call_id = call_id.to_string();
        let answer = match refusal {
            Refusal::Declined => CallMessage::Decline { call_id },
            Refusal::Busy => CallMessage::Busy { call_id },
            Refusal::Gone => CallMessage::Unavailable { call_id },
        };
        tracing::info!(call_id = answer.call_id(), ?refusal, "call refused by every screen");
        self.deliver(&[caller], &answer);
    }

    /// Removes a call and tells everyone still in it `call.hangup`.
    fn end(&mut self, call_id: &str) {
        let Some(call) = self.calls.remove(call_id) else { return };
        let everyone: Vec<u64> = call.ringing.iter().copied().chain(call.callee).chain([call.caller]).collect();
        self.deliver(&everyone, &CallMessage::Hangup { call_id: call_id.to_string() });
    }

    fn expire(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .calls
            .iter()
            .filter(|(_, c)| match c.answered {
                None => now.saturating_duration_since(c.started) >= MAX_RING,
                Some(at) => now.saturating_duration_since(at) >= MAX_CALL,
            })
            .map(|(id, _)| id.clone())
            .collect();
        for call_id in expired {
            tracing::info!(%call_id, "call expired");
            self.end(&call_id);
        }
    }

    /// Queues `message` for each connection; a gone connection is skipped, a full queue drops it.
    fn deliver(&self, to: &[u64], message: &CallMessage) {
        if to.is_empty() {
            return;
        }
        let text = match serde_json::to_string(message) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!("cannot encode {}: {e}", message.kind());
                return;
            }
        };
        for id in to {
            let Some(endpoint) = self.endpoints.get(id) else { continue };
            match endpoint.frames.try_send(text.clone()) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => tracing::warn!(
                    call_id = message.call_id(),
                    peer = %endpoint.peer,
                    "{QUEUE} call frames unread: {} dropped",
                    message.kind()
                ),
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    tracing::debug!(peer = %endpoint.peer, "closing: {} not delivered", message.kind())
                }
            }
        }
    }
}

/// A connection's place in the call router: its incoming call frames, and the way to send.
/// Dropping it leaves the router, ending the connection's calls.
pub struct CallEndpoint {
    router: Arc<CallRouter>,
    id: u64,
    rx: mpsc::Receiver<String>,
}

impl CallEndpoint {
    /// Routes a frame this connection sent.
    pub fn handle(&self, message: CallMessage) -> Result<(), CallError> {
        self.router.handle(self.id, message, Instant::now())
    }

    /// The next frame for this connection.
    pub async fn recv(&mut self) -> Option<String> {
        self.rx.recv().await
    }
}

impl Drop for CallEndpoint {
    fn drop(&mut self) {
        self.router.leave(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(station: &str) -> Role {
        Role::Staff { station: station.into() }
    }

    fn frames(endpoint: &mut CallEndpoint) -> Vec<CallMessage> {
        std::iter::from_fn(|| endpoint.rx.try_recv().ok())
            .map(|t| CallMessage::parse(&t).expect("the hub sends valid frames"))
            .collect()
    }

    fn request(id: &str, to: Option<&str>) -> CallMessage {
        CallMessage::Request { call_id: id.into(), from: "kiosk-1".into(), to_station: to.map(str::to_string) }
    }

    #[test]
    fn an_unanswered_call_expires_and_everyone_is_told() {
        let router = Arc::new(CallRouter::default());
        let mut kiosk = router.join(Role::Kiosk, "kiosk".into());
        let mut grill = router.join(staff("grill"), "grill".into());
        let start = Instant::now();
        router.handle(kiosk.id, request("c1", Some("grill")), start).unwrap();
        assert_eq!(frames(&mut grill), [request("c1", Some("grill"))]);
        router.sweep(start + MAX_RING - Duration::from_millis(1));
        assert_eq!(router.call_count(), 1);
        router.sweep(start + MAX_RING);
        assert_eq!(router.call_count(), 0);
        let hangup = CallMessage::Hangup { call_id: "c1".into() };
        assert_eq!(frames(&mut kiosk), std::slice::from_ref(&hangup));
        assert_eq!(frames(&mut grill), [hangup]);
    }

    #[test]
    fn an_accepted_call_is_hung_up_after_the_lifetime_limit() {
        let router = Arc::new(CallRouter::default());
        let mut kiosk = router.join(Role::Kiosk, "kiosk".into());
        let grill = router.join(staff("grill"), "grill".into());
        let start = Instant::now();
        router.handle(kiosk.id, request("c1", None), start).unwrap();
        router.handle(grill.id, CallMessage::Accept { call_id: "c1".into(), from: "kds".into() }, start).unwrap();
        router.sweep(start + MAX_RING + Duration::from_secs(1));
        assert_eq!(router.call_count(), 1, "accepted calls outlive the ring limit");
        router.sweep(start + MAX_CALL);
        assert_eq!(router.call_count(), 0);
        assert_eq!(frames(&mut kiosk).last(), Some(&CallMessage::Hangup { call_id: "c1".into() }));
    }

    #[test]
    fn the_number_of_calls_is_bounded() {
        let router = Arc::new(CallRouter::default());
        let _grill = router.join(staff("grill"), "grill".into());
        let now = Instant::now();
        let mut kiosks: Vec<_> = (0..=MAX_CALLS).map(|i| router.join(Role::Kiosk, format!("kiosk {i}"))).collect();
        for (i, kiosk) in kiosks.iter().enumerate() {
            router.handle(kiosk.id, request(&format!("c{i}"), None), now).unwrap();
        }
        assert_eq!(router.call_count(), MAX_CALLS);
        let last = kiosks.last_mut().unwrap();
        assert_eq!(frames(last), [CallMessage::Unavailable { call_id: format!("c{MAX_CALLS}") }]);
    }

    #[test]
    fn every_screen_declining_or_leaving_tells_the_caller_the_strongest_reason() {
        let router = Arc::new(CallRouter::default());
        let mut kiosk = router.join(Role::Kiosk, "kiosk".into());
        let a = router.join(staff("grill"), "a".into());
        let b = router.join(staff("grill"), "b".into());
        let now = Instant::now();
        router.handle(kiosk.id, request("c1", Some("grill")), now).unwrap();
        router.handle(a.id, CallMessage::Busy { call_id: "c1".into() }, now).unwrap();
        assert!(frames(&mut kiosk).is_empty(), "b still rings");
        drop(b);
        assert_eq!(frames(&mut kiosk), [CallMessage::Busy { call_id: "c1".into() }]);
        assert_eq!(router.call_count(), 0);
    }

    #[test]
    fn a_kiosk_never_rings_and_a_caller_has_one_call_at_a_time() {
        let router = Arc::new(CallRouter::default());
        let mut kiosk = router.join(Role::Kiosk, "kiosk".into());
        let other_kiosk = router.join(Role::Kiosk, "kiosk 2".into());
        let now = Instant::now();
        router.handle(other_kiosk.id, request("c1", None), now).unwrap();
        assert!(frames(&mut kiosk).is_empty());
        let mut other_kiosk = other_kiosk;
        assert_eq!(frames(&mut other_kiosk), [CallMessage::Unavailable { call_id: "c1".into() }]);
        let _grill = router.join(staff("grill"), "grill".into());
        router.handle(kiosk.id, request("c2", None), now).unwrap();
        assert!(matches!(router.handle(kiosk.id, request("c3", None), now), Err(CallError::Refused(_))));
        assert!(matches!(router.handle(other_kiosk.id, request("c2", None), now), Err(CallError::Refused(_))));
        assert!(matches!(router.handle(kiosk.id, request("c4", Some("kiosk")), now), Err(CallError::Refused(_))));
    }
}
