//! WebSocket link policy of the order feed: when to open, ping, give up on and reopen the socket.
//!
//! Sans-IO: the driver reports what the socket did (`handle_*`, with the current [`Millis`]) and
//! carries out what the link decides ([`Link::poll_command`]), waking it at [`Link::poll_timeout`].
//! Every socket is identified by the [`AttemptId`] it was opened for, so events of an abandoned
//! socket can never disturb the current one.

use std::collections::VecDeque;
use std::time::Duration;

use log::{debug, error, info, warn};
use restaurant_protocol::{CallMessage, ClientMessage, FrameError, KIOSK_STATION, ServerMessage, close};
use serde::Serialize;

use super::time::{Millis, whole_millis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// A socket that has not opened by then is abandoned.
    pub connect_timeout: Duration,
    /// A ping goes out this long after the last one; a socket silent for twice as long is dead.
    pub ping_interval: Duration,
    /// Delay before the first reconnect; doubles per failed attempt.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Consecutive reconnect attempts before giving up; `None` = never give up.
    pub max_attempts: Option<u32>,
}

impl Default for LinkConfig {
    fn default() -> LinkConfig {
        LinkConfig {
            connect_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(15),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(30),
            max_attempts: None,
        }
    }
}

/// A sans-IO machine fed by one socket attempt at a time (the KDS order feed, the kiosk's call
/// line): the browser side hands it every event of the attempt's socket through these.
pub trait SocketInput {
    /// The link whose attempts these are.
    fn link_mut(&mut self) -> &mut Link;
    /// Runs after every input: turns what the link and the machine now want into commands.
    fn after_input(&mut self);

    fn handle_socket_opened(&mut self, now: Millis, attempt: AttemptId);
    fn handle_frame(&mut self, now: Millis, attempt: AttemptId, text: &str);

    fn handle_socket_closed(&mut self, now: Millis, attempt: AttemptId, code: u16) {
        self.link_mut().handle_close(now, attempt, code);
        self.after_input();
    }

    fn handle_socket_error(&mut self, now: Millis, attempt: AttemptId) {
        self.link_mut().handle_error(now, attempt);
        self.after_input();
    }
}

/// Greets the hub on the just-opened socket of `attempt` as the restricted `kiosk` station with
/// the kiosk's device `token` (empty: none, as a demo hub accepts). The kiosk's call line and its
/// live menu both open this way.
pub fn greet_as_kiosk(link: &mut Link, now: Millis, attempt: AttemptId, token: &str) {
    if link.handle_open(now, attempt) {
        link.send(&ClientMessage::Hello { token: token.to_string(), station: KIOSK_STATION.into(), since: None });
    }
}

/// Identifies one socket: the n-th open the link asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttemptId(pub u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkState {
    /// Never connected.
    Idle,
    Connecting,
    Open,
    /// Waiting to reconnect.
    Backoff,
    /// The hub rejected the token: no reconnect until the next explicit `connect`.
    AuthFailed,
    /// Closed on purpose (or out of attempts): no reconnect until the next explicit `connect`.
    Closed,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Idle => "idle",
            LinkState::Connecting => "connecting",
            LinkState::Open => "open",
            LinkState::Backoff => "backoff",
            LinkState::AuthFailed => "auth_failed",
            LinkState::Closed => "closed",
        }
    }
}

/// What the driver must do with the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketCommand {
    Open { attempt: AttemptId },
    Send { attempt: AttemptId, text: String },
    Close { attempt: AttemptId, code: u16, reason: String },
}

/// A frame the link hands on: the order feed's messages, or staff call signalling (`call.*`),
/// which shares the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
// Made once per frame and matched at once: boxing would only add an allocation per frame. (An
// `allow`, not an `expect`: on wasm32 the sizes stay under the lint's threshold.)
#[allow(clippy::large_enum_variant)]
pub enum Inbound {
    Server(ServerMessage),
    Call(CallMessage),
}

/// The one state of the link, with the data that only exists in that state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Connecting { attempt: AttemptId, deadline: Millis },
    Open { attempt: AttemptId, next_ping: Millis, last_frame: Millis },
    Backoff { until: Millis },
    AuthFailed,
    Closed,
}

#[derive(Debug)]
pub struct Link {
    config: LinkConfig,
    phase: Phase,
    /// Id of the latest socket asked for (0 = none yet).
    last_attempt: u64,
    /// Consecutive failed attempts since the last successful open.
    failures: u32,
    last_heartbeat: Option<Millis>,
    rng: SplitMix64,
    commands: VecDeque<SocketCommand>,
}

impl Link {
    /// `seed` drives the backoff jitter, so a test run is exactly reproducible.
    #[must_use]
    pub fn new(config: LinkConfig, seed: u64) -> Link {
        Link {
            config,
            phase: Phase::Idle,
            last_attempt: 0,
            failures: 0,
            last_heartbeat: None,
            rng: SplitMix64(seed),
            commands: VecDeque::new(),
        }
    }

    /// Opens a socket unless one is already opening or open, whose attempt is then returned.
    /// Cancels a scheduled reconnect (connecting now instead) and re-enables auto-reconnect after
    /// a manual close or an auth failure.
    pub fn connect(&mut self, now: Millis) -> AttemptId {
        match self.phase {
            Phase::Connecting { attempt, .. } | Phase::Open { attempt, .. } => {
                debug!("[Link] connect ignored: attempt {} already in flight", attempt.0);
                attempt
            }
            Phase::Backoff { .. } => {
                info!("[Link] connecting now instead of waiting for the scheduled reconnect");
                self.start_attempt(now)
            }
            Phase::Idle | Phase::AuthFailed | Phase::Closed => {
                self.failures = 0;
                self.start_attempt(now)
            }
        }
    }

    /// Intentional close: closes the socket, cancels a pending reconnect and stays closed until the
    /// next `connect`.
    pub fn disconnect(&mut self) {
        if let Some(attempt) = self.socket_attempt() {
            self.close_socket(attempt, close::NORMAL, "client disconnect");
        }
        if self.phase != Phase::Closed {
            info!("[Link] disconnected");
        }
        self.phase = Phase::Closed;
        self.failures = 0;
    }

    /// The socket of `attempt` opened.
    #[must_use = "`true`: the socket is up and must be greeted"]
    pub fn handle_open(&mut self, now: Millis, attempt: AttemptId) -> bool {
        match self.phase {
            Phase::Connecting { attempt: current, .. } if current == attempt => {
                info!("[Link] open (attempt {})", attempt.0);
                self.phase = Phase::Open { attempt, next_ping: now + self.config.ping_interval, last_frame: now };
                self.failures = 0;
                true
            }
            Phase::Open { attempt: current, .. } if current == attempt => {
                debug!("[Link] repeated open of attempt {} ignored", attempt.0);
                false
            }
            _ => {
                warn!("[Link] socket of stale attempt {} opened; closing it", attempt.0);
                self.close_socket(attempt, close::NORMAL, "stale attempt");
                false
            }
        }
    }

    /// The socket of `attempt` closed with `code`.
    pub fn handle_close(&mut self, now: Millis, attempt: AttemptId, code: u16) {
        if self.socket_attempt() != Some(attempt) {
            debug!("[Link] close {code} of attempt {} ignored (not the live socket)", attempt.0);
            return;
        }
        if code == close::AUTH_FAILED {
            warn!("[Link] closed with {code}: sign-in rejected, not reconnecting");
            self.phase = Phase::AuthFailed;
        } else {
            self.schedule_reconnect(now, &format!("socket closed with {code}"));
        }
    }

    /// The socket of `attempt` reported an error (a close usually follows; either one suffices).
    pub fn handle_error(&mut self, now: Millis, attempt: AttemptId) {
        if self.socket_attempt() != Some(attempt) {
            debug!("[Link] error of attempt {} ignored (not the live socket)", attempt.0);
            return;
        }
        self.close_socket(attempt, close::UNRESPONSIVE, "socket error");
        self.schedule_reconnect(now, "socket error");
    }

    /// A text frame arrived. Heartbeats and sign-in failures are handled here; every other valid
    /// message, and every valid `call.*` frame, is returned. Frames that are too large, malformed
    /// or of an unknown type are logged and dropped, and the link stays up.
    #[must_use = "the message the frame carried is dropped otherwise"]
    pub fn handle_frame(&mut self, now: Millis, attempt: AttemptId, text: &str) -> Option<Inbound> {
        self.handle_frame_of::<{ ServerMessage::ALL }>(now, attempt, text)
    }

    /// [`Link::handle_frame`] on a connection sent only the server frames in `KINDS` (see
    /// [`ServerMessage::parse_only`]): another is logged and dropped as unexpected, and its
    /// decoder is not compiled in. A kiosk's links take [`restaurant_protocol::KIOSK_SERVER_FRAMES`].
    #[must_use = "the message the frame carried is dropped otherwise"]
    pub fn handle_frame_of<const KINDS: u32>(
        &mut self,
        now: Millis,
        attempt: AttemptId,
        text: &str,
    ) -> Option<Inbound> {
        let Phase::Open { attempt: current, next_ping, .. } = self.phase else {
            debug!("[Link] frame of attempt {} ignored (link not open)", attempt.0);
            return None;
        };
        if current != attempt {
            debug!("[Link] frame of stale attempt {} ignored", attempt.0);
            return None;
        }
        self.phase = Phase::Open { attempt, next_ping, last_frame: now };
        self.last_heartbeat = Some(now);
        match ServerMessage::parse_only::<KINDS>(text) {
            Err(FrameError::UnknownType(kind)) if CallMessage::is_call_type(&kind) => match CallMessage::parse(text) {
                Ok(message) => Some(Inbound::Call(message)),
                Err(e) => {
                    warn!("[Link] dropped call frame: {e}");
                    None
                }
            },
            Err(e) => {
                warn!("[Link] dropped frame: {e}");
                None
            }
            Ok(ServerMessage::Ping { ts }) => {
                self.send(&ClientMessage::Pong { ts });
                None
            }
            Ok(ServerMessage::Pong { .. }) => None,
            Ok(ServerMessage::AuthFailed { reason }) => {
                warn!("[Link] sign-in rejected: {reason}; not reconnecting");
                self.close_socket(attempt, close::NORMAL, "auth failed");
                self.phase = Phase::AuthFailed;
                None
            }
            Ok(message) => Some(Inbound::Server(message)),
        }
    }

    /// Runs whatever is due at `now`: connect timeout, reconnect, ping, heartbeat timeout.
    pub fn handle_timeout(&mut self, now: Millis) {
        match self.phase {
            Phase::Connecting { attempt, deadline } if now >= deadline => {
                warn!(
                    "[Link] attempt {} did not open within {} ms",
                    attempt.0,
                    whole_millis(self.config.connect_timeout)
                );
                self.close_socket(attempt, close::UNRESPONSIVE, "connect timeout");
                self.schedule_reconnect(now, "connect timeout");
            }
            Phase::Backoff { until } if now >= until => {
                self.start_attempt(now);
            }
            Phase::Open { attempt, last_frame, .. } if now >= last_frame + self.dead_after() => {
                warn!(
                    "[Link] no frame for {} ms on attempt {}; socket presumed dead",
                    whole_millis(now.since(last_frame)),
                    attempt.0
                );
                self.close_socket(attempt, close::UNRESPONSIVE, "heartbeat timeout");
                self.schedule_reconnect(now, "heartbeat timeout");
            }
            Phase::Open { attempt, next_ping, last_frame } if now >= next_ping => {
                self.send(&ClientMessage::Ping { ts: i64::try_from(now.0).unwrap_or(i64::MAX) });
                self.phase = Phase::Open { attempt, next_ping: now + self.config.ping_interval, last_frame };
            }
            _ => {}
        }
    }

    /// Queues `message` on the open socket; `false` (and nothing sent) when the link is not open.
    pub fn send(&mut self, message: &impl Serialize) -> bool {
        let Phase::Open { attempt, .. } = self.phase else {
            return false;
        };
        match serde_json::to_string(message) {
            Ok(text) => {
                self.commands.push_back(SocketCommand::Send { attempt, text });
                true
            }
            Err(e) => {
                error!("[Link] could not serialize an outgoing message: {e}");
                false
            }
        }
    }

    #[must_use = "the command must be carried out"]
    pub fn poll_command(&mut self) -> Option<SocketCommand> {
        self.commands.pop_front()
    }

    /// When `handle_timeout` must next run, if anything is pending.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        match self.phase {
            Phase::Connecting { deadline, .. } => Some(deadline),
            Phase::Backoff { until } => Some(until),
            Phase::Open { next_ping, last_frame, .. } => Some(next_ping.min(last_frame + self.dead_after())),
            Phase::Idle | Phase::AuthFailed | Phase::Closed => None,
        }
    }

    pub fn state(&self) -> LinkState {
        match self.phase {
            Phase::Idle => LinkState::Idle,
            Phase::Connecting { .. } => LinkState::Connecting,
            Phase::Open { .. } => LinkState::Open,
            Phase::Backoff { .. } => LinkState::Backoff,
            Phase::AuthFailed => LinkState::AuthFailed,
            Phase::Closed => LinkState::Closed,
        }
    }

    /// The socket currently opening or open.
    pub fn socket_attempt(&self) -> Option<AttemptId> {
        match self.phase {
            Phase::Connecting { attempt, .. } | Phase::Open { attempt, .. } => Some(attempt),
            _ => None,
        }
    }

    /// Consecutive failed attempts since the last successful open.
    pub fn reconnect_attempts(&self) -> u32 {
        self.failures
    }

    /// Waiting to reconnect, or connecting again after a failure.
    pub fn is_reconnecting(&self) -> bool {
        match self.phase {
            Phase::Backoff { .. } => true,
            Phase::Connecting { .. } => self.failures > 0,
            _ => false,
        }
    }

    /// When the last frame arrived.
    pub fn last_heartbeat(&self) -> Option<Millis> {
        self.last_heartbeat
    }

    /// Silence after which the socket is presumed dead: two missed pings.
    fn dead_after(&self) -> Duration {
        self.config.ping_interval.saturating_mul(2)
    }

    fn start_attempt(&mut self, now: Millis) -> AttemptId {
        self.last_attempt += 1;
        let attempt = AttemptId(self.last_attempt);
        info!("[Link] opening socket (attempt {})", attempt.0);
        self.phase = Phase::Connecting { attempt, deadline: now + self.config.connect_timeout };
        self.commands.push_back(SocketCommand::Open { attempt });
        attempt
    }

    fn close_socket(&mut self, attempt: AttemptId, code: u16, reason: &str) {
        self.commands.push_back(SocketCommand::Close { attempt, code, reason: reason.to_string() });
    }

    /// Schedules the next attempt; a no-op when one is already scheduled or the link must stay down.
    fn schedule_reconnect(&mut self, now: Millis, why: &str) {
        match self.phase {
            Phase::Connecting { .. } | Phase::Open { .. } => {}
            Phase::Backoff { .. } => {
                debug!("[Link] reconnect already scheduled ({why})");
                return;
            }
            Phase::Idle | Phase::AuthFailed | Phase::Closed => {
                debug!("[Link] not reconnecting after {why}: link is {:?}", self.state());
                return;
            }
        }
        if self.config.max_attempts.is_some_and(|max| self.failures >= max) {
            error!("[Link] {why}; giving up after {} attempts", self.failures);
            self.phase = Phase::Closed;
            return;
        }
        self.failures = self.failures.saturating_add(1);
        let delay = self.backoff(self.failures);
        info!("[Link] {why}; reconnect attempt {} in {} ms", self.failures, whole_millis(delay));
        self.phase = Phase::Backoff { until: now + delay };
    }

    /// `min(base · 2^(n-1), cap)` plus 0–25 % jitter.
    fn backoff(&mut self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
        let delay = self.config.backoff_base.saturating_mul(factor).min(self.config.backoff_cap);
        delay + Duration::from_millis(self.rng.next() % (whole_millis(delay) / 4 + 1))
    }
}

/// SplitMix64: tiny, seeded, good enough to spread reconnects of many screens apart.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::{drain, ms, picked, secs};

    fn link() -> Link {
        Link::new(LinkConfig::default(), 7)
    }

    fn opens(commands: &[SocketCommand]) -> Vec<AttemptId> {
        picked!(commands, SocketCommand::Open { attempt } => *attempt)
    }

    /// Connects and opens the socket at `now`.
    fn open_link(link: &mut Link, now: Millis) -> AttemptId {
        let attempt = link.connect(now);
        assert!(link.handle_open(now, attempt));
        drain(|| link.poll_command());
        attempt
    }

    /// Fails the live socket at `now` and returns the backoff delay chosen.
    fn fail(link: &mut Link, now: Millis) -> Duration {
        let attempt = link.socket_attempt().expect("a live socket");
        link.handle_close(now, attempt, 1006);
        assert_eq!(link.state(), LinkState::Backoff);
        link.poll_timeout().expect("reconnect scheduled").since(now)
    }

    /// Fails `n` attempts in a row (never opening), returning the delays.
    fn failure_delays(link: &mut Link, n: usize) -> Vec<Duration> {
        let mut now = Millis(0);
        link.connect(now);
        let mut delays = Vec::new();
        for _ in 0..n {
            let delay = fail(link, now);
            delays.push(delay);
            now = now + delay;
            link.handle_timeout(now);
            assert_eq!(link.state(), LinkState::Connecting);
        }
        delays
    }

    #[test]
    fn concurrent_connect_yields_one_socket_command() {
        let mut link = link();
        let a = link.connect(Millis(0));
        let b = link.connect(Millis(1));
        let c = link.connect(Millis(2));
        assert_eq!((a, b), (b, c));
        assert_eq!(opens(&drain(|| link.poll_command())), vec![a]);
        assert!(link.handle_open(Millis(3), a));
        assert_eq!(link.connect(Millis(4)), a, "connect while open returns the open attempt");
        assert!(drain(|| link.poll_command()).is_empty());
    }

    #[test]
    fn scheduled_reconnect_is_guarded() {
        let mut link = link();
        let attempt = open_link(&mut link, Millis(0));
        link.handle_error(Millis(10), attempt);
        let first = link.poll_timeout();
        link.handle_close(Millis(11), attempt, 1006);
        link.handle_error(Millis(12), attempt);
        assert_eq!(link.poll_timeout(), first, "a second failure report does not reschedule");
        assert_eq!(link.reconnect_attempts(), 1);
        drain(|| link.poll_command());
        link.handle_timeout(first.expect("scheduled"));
        link.handle_timeout(first.expect("scheduled") + ms(1));
        assert_eq!(opens(&drain(|| link.poll_command())).len(), 1, "exactly one reconnect");
    }

    #[test]
    fn backoff_sequence_doubles_to_the_cap_with_jitter_from_the_seed() {
        let delays = failure_delays(&mut link(), 9);
        let bases = [1, 2, 4, 8, 16, 30, 30, 30, 30].map(secs);
        for (n, (delay, base)) in delays.iter().zip(bases).enumerate() {
            assert!((base..=base + base / 4).contains(delay), "attempt {}: {delay:?} not in {base:?} + 25 %", n + 1);
        }
        assert_eq!(failure_delays(&mut link(), 9), delays, "same seed, same sequence");
        assert_ne!(failure_delays(&mut Link::new(LinkConfig::default(), 8), 9), delays, "the seed drives the jitter");
        assert!(delays.iter().zip(bases).any(|(d, b)| *d != b), "jitter is applied");
    }

    #[test]
    fn attempt_counter_resets_after_a_successful_open() {
        let mut link = link();
        failure_delays(&mut link, 4);
        assert_eq!(link.reconnect_attempts(), 4);
        assert!(link.is_reconnecting());
        let attempt = link.socket_attempt().expect("connecting");
        assert!(link.handle_open(Millis(100_000), attempt));
        assert_eq!(link.reconnect_attempts(), 0);
        assert!(!link.is_reconnecting());
        let delay = fail(&mut link, Millis(100_000));
        assert!((ms(1_000)..=ms(1_250)).contains(&delay), "back to the first delay, got {delay:?}");
    }

    #[test]
    fn unlimited_attempts_survive_1000_failures() {
        let mut link = link();
        let delays = failure_delays(&mut link, 1000);
        assert_eq!(link.reconnect_attempts(), 1000);
        assert!(delays[999] >= secs(30) && delays[999] <= ms(37_500));
    }

    #[test]
    fn configured_attempt_limit_gives_up() {
        let mut link = Link::new(LinkConfig { max_attempts: Some(3), ..LinkConfig::default() }, 1);
        failure_delays(&mut link, 3);
        let attempt = link.socket_attempt().expect("connecting");
        link.handle_close(Millis(1_000_000), attempt, 1006);
        assert_eq!(link.state(), LinkState::Closed);
        assert_eq!(link.poll_timeout(), None);
    }

    #[test]
    fn disconnect_cancels_a_pending_reconnect() {
        let mut link = link();
        open_link(&mut link, Millis(0));
        fail(&mut link, Millis(5));
        link.disconnect();
        assert_eq!(link.state(), LinkState::Closed);
        assert_eq!(link.poll_timeout(), None);
        link.handle_timeout(Millis(1_000_000));
        assert!(opens(&drain(|| link.poll_command())).is_empty());
    }

    #[test]
    fn disconnect_closes_the_socket_and_ignores_its_late_close() {
        let mut link = link();
        let attempt = open_link(&mut link, Millis(0));
        link.disconnect();
        assert_eq!(
            drain(|| link.poll_command()),
            vec![SocketCommand::Close { attempt, code: close::NORMAL, reason: "client disconnect".into() }]
        );
        link.handle_close(Millis(1), attempt, close::NORMAL);
        assert_eq!(link.state(), LinkState::Closed);
        assert_eq!(link.poll_timeout(), None);
    }

    #[test]
    fn connect_after_manual_close_reenables_auto_reconnect() {
        let mut link = link();
        open_link(&mut link, Millis(0));
        link.disconnect();
        let attempt = open_link(&mut link, Millis(10));
        link.handle_close(Millis(20), attempt, 1006);
        assert_eq!(link.state(), LinkState::Backoff);
        link.handle_timeout(Millis(20) + ms(1_250));
        assert_eq!(opens(&drain(|| link.poll_command())).len(), 1);
    }

    #[test]
    fn no_reconnect_after_auth_failure() {
        let mut link = link();
        let attempt = open_link(&mut link, Millis(0));
        assert_eq!(link.handle_frame(Millis(1), attempt, r#"{"type":"auth_failed","reason":"bad token"}"#), None);
        assert_eq!(link.state(), LinkState::AuthFailed);
        link.handle_close(Millis(2), attempt, close::AUTH_FAILED);
        link.handle_timeout(Millis(1_000_000));
        assert_eq!(link.state(), LinkState::AuthFailed);
        assert!(opens(&drain(|| link.poll_command())).is_empty());

        let mut by_code = self::link();
        let attempt = open_link(&mut by_code, Millis(0));
        by_code.handle_close(Millis(1), attempt, close::AUTH_FAILED);
        assert_eq!(by_code.state(), LinkState::AuthFailed);
        assert_eq!(by_code.poll_timeout(), None);
        by_code.connect(Millis(2));
        assert_eq!(by_code.state(), LinkState::Connecting, "a new sign-in connects again");
    }

    #[test]
    fn connect_timeout_closes_and_reconnects() {
        let mut link = link();
        let attempt = link.connect(Millis(0));
        drain(|| link.poll_command());
        assert_eq!(link.poll_timeout(), Some(Millis(10_000)));
        link.handle_timeout(Millis(10_000));
        assert_eq!(
            drain(|| link.poll_command()),
            vec![SocketCommand::Close { attempt, code: close::UNRESPONSIVE, reason: "connect timeout".into() }]
        );
        assert_eq!(link.state(), LinkState::Backoff);
        assert!(!link.handle_open(Millis(10_001), attempt), "the abandoned socket opening late is refused");
    }

    #[test]
    fn heartbeat_pings_every_interval_and_timeout_reconnects() {
        let mut link = link();
        let attempt = open_link(&mut link, Millis(0));
        link.handle_timeout(Millis(15_000));
        assert!(
            matches!(&drain(|| link.poll_command())[..], [SocketCommand::Send { text, .. }] if text.contains(r#""type":"ping""#))
        );
        assert_eq!(link.handle_frame(Millis(15_050), attempt, r#"{"type":"pong","ts":15000}"#), None);
        assert_eq!(link.last_heartbeat(), Some(Millis(15_050)));
        // The socket goes silent without an error: pings keep going out, nothing comes back.
        link.handle_timeout(Millis(30_000));
        assert_eq!(link.state(), LinkState::Open);
        assert_eq!(link.poll_timeout(), Some(Millis(45_000)));
        link.handle_timeout(Millis(45_050));
        assert_eq!(link.state(), LinkState::Backoff);
        let commands = drain(|| link.poll_command());
        assert!(commands.contains(&SocketCommand::Close {
            attempt,
            code: close::UNRESPONSIVE,
            reason: "heartbeat timeout".into()
        }));
    }

    #[test]
    fn server_ping_is_answered_with_pong() {
        let mut link = link();
        let attempt = open_link(&mut link, Millis(0));
        assert_eq!(link.handle_frame(Millis(1), attempt, r#"{"type":"ping","ts":99}"#), None);
        assert_eq!(
            drain(|| link.poll_command()),
            vec![SocketCommand::Send { attempt, text: r#"{"type":"pong","ts":99}"#.into() }]
        );
    }

    #[test]
    fn bad_frames_are_dropped_and_the_link_stays_up() {
        let mut link = link();
        let attempt = open_link(&mut link, Millis(0));
        let huge = format!(r#"{{"type":"welcome","seq":1,"pad":"{}"}}"#, "x".repeat(70 * 1024));
        for bad in ["{nope", r#"{"type":"order.exploded"}"#, r#"{"type":"order.deleted"}"#, huge.as_str()] {
            assert_eq!(link.handle_frame(Millis(1), attempt, bad), None);
        }
        assert_eq!(link.state(), LinkState::Open);
        assert!(drain(|| link.poll_command()).is_empty());
        assert_eq!(
            link.handle_frame(Millis(2), attempt, r#"{"type":"welcome","seq":4}"#),
            Some(Inbound::Server(ServerMessage::Welcome { seq: 4 }))
        );
    }

    #[test]
    fn call_frames_are_handed_on_and_bad_ones_dropped() {
        let mut link = link();
        let attempt = open_link(&mut link, Millis(0));
        assert_eq!(
            link.handle_frame(Millis(1), attempt, r#"{"type":"call.hangup","call_id":"c1"}"#),
            Some(Inbound::Call(CallMessage::Hangup { call_id: "c1".into() }))
        );
        for bad in [r#"{"type":"call.ring","call_id":"c1"}"#, r#"{"type":"call.offer","call_id":"c1"}"#] {
            assert_eq!(link.handle_frame(Millis(2), attempt, bad), None);
        }
        assert_eq!(link.state(), LinkState::Open);
        assert_eq!(link.last_heartbeat(), Some(Millis(2)), "call frames count as signs of life");
        assert!(link.send(&CallMessage::Busy { call_id: "c2".into() }));
        assert_eq!(
            drain(|| link.poll_command()),
            vec![SocketCommand::Send { attempt, text: r#"{"type":"call.busy","call_id":"c2"}"#.into() }]
        );
    }

    #[test]
    fn events_of_a_stale_attempt_are_ignored() {
        let mut link = link();
        let old = open_link(&mut link, Millis(0));
        link.handle_close(Millis(1), old, 1006);
        link.handle_timeout(Millis(2_000));
        let new = link.socket_attempt().expect("reconnecting");
        assert_ne!(old, new);
        link.handle_close(Millis(2_001), old, 1006);
        link.handle_error(Millis(2_002), old);
        assert_eq!(link.handle_frame(Millis(2_003), old, r#"{"type":"welcome","seq":1}"#), None);
        assert_eq!(link.state(), LinkState::Connecting);
        assert_eq!(link.socket_attempt(), Some(new));
    }
}
