//! One customer at a time at a self-order kiosk: the attract screen, ordering, the "are you still
//! there?" warning, the order-number screen, and the reset that hands the kiosk to the next
//! customer. Also each customer's voice session: opened when they start, closed when they leave,
//! reconnected once automatically if it drops. Pure: the driver feeds inputs (`handle_*`, with the
//! current time), drains [`CustomerSession::poll_command`] and re-arms its single timer from
//! [`CustomerSession::poll_timeout`].

use std::collections::VecDeque;
use std::time::Duration;

use super::time::{Millis, whole_millis};

/// How long each screen waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerConfig {
    /// Without activity this long, an ordering customer is asked whether they are still there.
    pub idle: Duration,
    /// The warning counts down this long, then the kiosk resets for the next customer.
    pub warning: Duration,
    /// The order-number screen is shown this long after the hub acknowledged an order.
    pub number_shown: Duration,
    /// Busy (talking, the assistant answering) holds the idle timer off at most this long: a
    /// lost "reply finished" event must not keep a session open after the customer has gone.
    pub max_busy: Duration,
}

impl Default for CustomerConfig {
    fn default() -> CustomerConfig {
        CustomerConfig {
            idle: Duration::from_secs(60),
            warning: Duration::from_secs(15),
            number_shown: Duration::from_secs(15),
            max_busy: Duration::from_secs(120),
        }
    }
}

/// The screen the kiosk shows. `as_str` is the name the UI shows in `data-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Nobody is ordering: the attract screen invites the next customer.
    Attract,
    /// A customer is ordering.
    Active,
    /// A customer went quiet: "Are you still there?" with a countdown to the reset.
    Warning,
    /// The hub acknowledged an order: its number is shown.
    Placed,
}

impl Phase {
    /// The name in `data-state`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Attract => "attract",
            Phase::Active => "active",
            Phase::Warning => "warning",
            Phase::Placed => "placed",
        }
    }
}

/// A line about the voice assistant shown to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notice {
    /// The voice connection dropped; the kiosk is connecting again on its own.
    Reconnecting,
    /// The voice connection dropped again; the customer may reconnect by hand or keep touching.
    VoiceLost,
}

impl Notice {
    /// The name in `data-state`.
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::Reconnecting => "reconnecting",
            Notice::VoiceLost => "voice_lost",
        }
    }

    /// What the customer reads.
    pub fn text(self) -> &'static str {
        match self {
            Notice::Reconnecting => "Reconnecting the voice assistant…",
            Notice::VoiceLost => "Voice stopped. Tap Reconnect, or keep ordering by touch.",
        }
    }
}

/// What the driver (and through it the page) must do, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerCommand {
    /// The kiosk shows this screen now.
    PhaseChanged(Phase),
    /// Open a fresh voice session (a new Realtime conversation) for this customer.
    ConnectVoice,
    /// Close the voice session (this customer's conversation ends; never reused).
    DisconnectVoice,
    /// Clear this customer's cart, transcript, item sheet, review screen. Never touches an order
    /// already submitted.
    ClearOrder,
    /// The voice connection dropped mid-session: connect again (fresh token), keeping the cart.
    ReconnectVoice,
    /// The voice notice shown to the customer changed (`None`: no notice).
    NoticeChanged(Option<Notice>),
}

/// The kiosk's current customer, from the tap on the attract screen to the reset after they leave.
#[derive(Debug)]
pub struct CustomerSession {
    config: CustomerConfig,
    phase: Phase,
    notice: Option<Notice>,
    /// Active: the idle deadline (`None` while busy). Warning: the reset. Placed: the end of the
    /// number screen. Attract: `None`.
    deadline: Option<Millis>,
    /// Recording, or the assistant is producing or speaking a reply (Active/Warning/Placed only).
    busy: bool,
    /// When the current busy spell began.
    busy_since: Millis,
    /// This customer has a voice session (`ConnectVoice` was emitted for them).
    voice: bool,
    /// This customer's one automatic reconnect has been used.
    reconnected: bool,
    /// The latest time handed in; an earlier `now` is taken as this.
    last: Millis,
    commands: VecDeque<CustomerCommand>,
}

impl CustomerSession {
    /// A kiosk on its attract screen, with no timers.
    #[must_use]
    pub fn new(config: CustomerConfig) -> CustomerSession {
        CustomerSession {
            config,
            phase: Phase::Attract,
            notice: None,
            deadline: None,
            busy: false,
            busy_since: Millis(0),
            voice: false,
            reconnected: false,
            last: Millis(0),
            commands: VecDeque::new(),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Getters

    /// The screen shown now.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The voice notice shown now, if any.
    pub fn notice(&self) -> Option<Notice> {
        self.notice
    }

    /// Whole seconds left in the warning countdown (ceil), None outside Warning. `0` only when
    /// the deadline has passed and [`CustomerSession::handle_timeout`] has not been called yet.
    pub fn countdown(&self, now: Millis) -> Option<u32> {
        if self.phase != Phase::Warning {
            return None;
        }
        let deadline = self.deadline?;
        let left = whole_millis(deadline.since(now.max(self.last)));
        Some(u32::try_from(left.div_ceil(1_000)).unwrap_or(u32::MAX))
    }

    // -----------------------------------------------------------------------------------------
    // Inputs

    /// A tap on the attract screen. `voice`: voice ordering is possible on this kiosk (else only
    /// touch; no `ConnectVoice`). While ordering it is activity; on the number screen it is ignored.
    pub fn handle_start(&mut self, now: Millis, voice: bool) {
        let now = self.clock(now);
        match self.phase {
            Phase::Attract => {
                self.voice = voice;
                self.reconnected = false;
                self.busy = false;
                self.deadline = Some(now.after(self.config.idle));
                self.set_phase(Phase::Active, if voice { "started (voice)" } else { "started (touch only)" });
                if voice {
                    self.commands.push_back(CustomerCommand::ConnectVoice);
                }
            }
            Phase::Active | Phase::Warning => self.activity(now, "start tapped"),
            Phase::Placed => log::info!("[Customer] start ignored: the order number is shown"),
        }
    }

    /// The customer touched something, spoke, or the assistant is talking/working: Active again
    /// (from Warning), idle timer restarts. In Attract a touch does nothing (handle_start starts).
    /// In Placed nothing.
    pub fn handle_activity(&mut self, now: Millis) {
        let now = self.clock(now);
        match self.phase {
            Phase::Active | Phase::Warning => self.activity(now, "activity"),
            Phase::Attract | Phase::Placed => {
                log::info!("[Customer] activity ignored while {}", self.phase.as_str());
            }
        }
    }

    /// While `busy` (recording, the assistant producing or speaking a reply; an item sheet open is
    /// NOT busy) the idle timer does not run out; when busy ends the idle timer restarts from then.
    /// Busy that starts during the warning is activity: Active again. Busy holds the timer off
    /// for at most `max_busy`.
    pub fn handle_busy(&mut self, now: Millis, busy: bool) {
        let now = self.clock(now);
        if self.phase == Phase::Attract {
            log::info!("[Customer] busy={busy} ignored: nobody is ordering");
            return;
        }
        if self.busy == busy {
            return;
        }
        self.busy = busy;
        if busy {
            self.busy_since = now;
        }
        match self.phase {
            Phase::Active => self.deadline = Some(self.idle_deadline(now)),
            // Never busy in Warning (busy → Active), so this is busy starting.
            Phase::Warning => self.activity(now, "busy"),
            // The number screen's timer runs regardless; a reset clears the flag.
            Phase::Placed | Phase::Attract => {}
        }
    }

    /// The hub acknowledged an order (may come in ANY phase, even Attract after a reset, because
    /// the order's outbox survives resets): → Placed, number screen shown for `number_shown`. Does
    /// not clear the order (the submitter already cleared the cart). Emits `DisconnectVoice` only
    /// when leaving Placed. Again in Placed: the number screen's timer restarts.
    pub fn handle_placed(&mut self, now: Millis) {
        let now = self.clock(now);
        self.deadline = Some(now.after(self.config.number_shown));
        if self.phase == Phase::Placed {
            log::info!("[Customer] another order acknowledged: the number screen stays longer");
        } else {
            self.set_phase(Phase::Placed, "order acknowledged");
        }
    }

    /// "Start a new order" on the number screen, or "Start over" in Active/Warning: reset → Attract
    /// (`ClearOrder` + `DisconnectVoice`). In Attract: nothing.
    pub fn handle_start_over(&mut self, now: Millis) {
        let _ = self.clock(now);
        if self.phase == Phase::Attract {
            log::info!("[Customer] start over ignored: nobody is ordering");
        } else {
            self.reset("start over");
        }
    }

    /// "I'm still here" in Warning → Active (same as activity).
    pub fn handle_still_here(&mut self, now: Millis) {
        let now = self.clock(now);
        match self.phase {
            Phase::Active | Phase::Warning => self.activity(now, "still here"),
            Phase::Attract | Phase::Placed => {
                log::info!("[Customer] \"still here\" ignored while {}", self.phase.as_str());
            }
        }
    }

    /// The voice connection was lost. In Active/Warning: the first time in this customer session →
    /// `ReconnectVoice` + [`Notice::Reconnecting`]; afterwards → [`Notice::VoiceLost`] (no
    /// reconnect; the page offers a Reconnect button). In Attract/Placed: ignored (logged).
    pub fn handle_voice_lost(&mut self, now: Millis) {
        let _ = self.clock(now);
        if !matches!(self.phase, Phase::Active | Phase::Warning) {
            log::info!("[Customer] voice loss ignored while {}", self.phase.as_str());
            return;
        }
        if !self.voice {
            log::info!("[Customer] voice loss ignored: this customer orders by touch");
            return;
        }
        if self.reconnected {
            log::info!("[Customer] voice lost again: no automatic reconnect; the customer may reconnect");
            self.set_notice(Some(Notice::VoiceLost));
        } else {
            log::info!("[Customer] voice lost: reconnecting once, keeping the cart");
            self.reconnected = true;
            self.commands.push_back(CustomerCommand::ReconnectVoice);
            self.set_notice(Some(Notice::Reconnecting));
        }
    }

    /// A connection attempt failed before it was ready. While the automatic reconnect was under
    /// way this is the second loss: [`Notice::VoiceLost`], and the page offers Reconnect.
    pub fn handle_voice_failed(&mut self, now: Millis) {
        let _ = self.clock(now);
        if self.notice == Some(Notice::Reconnecting) {
            log::info!("[Customer] the automatic reconnect failed; the customer may reconnect");
            self.set_notice(Some(Notice::VoiceLost));
        }
    }

    /// The voice button asked to connect (or a Reconnect was tapped). In Attract: a new customer
    /// with voice. Ordering: voice for a touch customer (`ConnectVoice`), or a manual reconnect
    /// (`ReconnectVoice`). On the number screen: the last customer's session ends and a new
    /// customer starts with a fresh one (never the last customer's conversation).
    pub fn handle_voice_requested(&mut self, now: Millis) {
        let now = self.clock(now);
        match self.phase {
            Phase::Attract => self.handle_start(now, true),
            Phase::Placed => {
                self.reset("a new customer asked for voice");
                self.handle_start(now, true);
            }
            Phase::Active | Phase::Warning => {
                self.activity(now, "voice requested");
                if self.voice {
                    log::info!("[Customer] reconnecting the voice session on request");
                    self.commands.push_back(CustomerCommand::ReconnectVoice);
                } else {
                    log::info!("[Customer] voice started during a touch session");
                    self.voice = true;
                    self.commands.push_back(CustomerCommand::ConnectVoice);
                }
            }
        }
    }

    /// A touch on the menu: a new touch customer in Attract, or on the number screen (the last
    /// customer's screen goes first); otherwise activity.
    pub fn handle_touch(&mut self, now: Millis) {
        let now = self.clock(now);
        match self.phase {
            Phase::Attract => self.handle_start(now, false),
            Phase::Placed => {
                self.reset("a new customer touched the menu");
                self.handle_start(now, false);
            }
            Phase::Active | Phase::Warning => self.activity(now, "touch"),
        }
    }

    /// The voice session is ready (connected and configured): clears [`Notice::Reconnecting`] /
    /// [`Notice::VoiceLost`].
    pub fn handle_voice_ready(&mut self, now: Millis) {
        let _ = self.clock(now);
        if self.notice.is_some() {
            log::info!("[Customer] voice ready again");
            self.set_notice(None);
        }
    }

    /// The time [`CustomerSession::poll_timeout`] asked for (or any later one) has come.
    pub fn handle_timeout(&mut self, now: Millis) {
        let now = self.clock(now);
        let Some(deadline) = self.deadline else { return };
        if now < deadline {
            // A countdown tick (or an early call): only `countdown` changes.
            return;
        }
        match self.phase {
            Phase::Active => {
                if self.busy {
                    log::warn!(
                        "[Customer] busy for {} s with no end; asking whether anyone is there",
                        self.config.max_busy.as_secs()
                    );
                    self.busy = false;
                }
                self.deadline = Some(now.after(self.config.warning));
                self.set_phase(Phase::Warning, "idle");
            }
            Phase::Warning => self.reset("no answer to the warning"),
            Phase::Placed => self.reset("number screen done"),
            Phase::Attract => {}
        }
    }

    // -----------------------------------------------------------------------------------------
    // Outputs

    /// The next thing the driver must do.
    #[must_use = "the command must be carried out"]
    pub fn poll_command(&mut self) -> Option<CustomerCommand> {
        self.commands.pop_front()
    }

    /// When [`CustomerSession::handle_timeout`] is next due. In Warning also every whole second
    /// of the countdown, so the page can show the number going down.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        let deadline = self.deadline?;
        if self.phase != Phase::Warning {
            return Some(deadline);
        }
        let left = whole_millis(deadline.since(self.last));
        if left == 0 {
            return Some(deadline);
        }
        // The countdown shows ceil(left / 1 s); it drops by one at the next multiple of 1 s left.
        let next_shown = left.div_ceil(1_000) - 1;
        Some(Millis(deadline.0.saturating_sub(next_shown.saturating_mul(1_000))))
    }

    // -----------------------------------------------------------------------------------------
    // Internals

    /// When an ordering customer is asked whether they are still there: `idle` after `now`, or
    /// while busy `max_busy` after busy began.
    fn idle_deadline(&self, now: Millis) -> Millis {
        match self.busy {
            true => self.busy_since.after(self.config.max_busy).max(now),
            false => now.after(self.config.idle),
        }
    }

    /// The time of an input: never earlier than the latest one seen.
    fn clock(&mut self, now: Millis) -> Millis {
        if now < self.last {
            log::debug!("[Customer] time went back from {} to {} ms; using the later", self.last.0, now.0);
        }
        self.last = self.last.max(now);
        self.last
    }

    /// The customer is there: Active, and the idle timer restarts (unless busy).
    fn activity(&mut self, now: Millis, what: &str) {
        self.deadline = Some(self.idle_deadline(now));
        if self.phase == Phase::Warning {
            self.set_phase(Phase::Active, what);
        }
    }

    /// The customer is gone: everything of theirs is cleared and the attract screen comes back.
    fn reset(&mut self, why: &str) {
        self.commands.push_back(CustomerCommand::ClearOrder);
        self.commands.push_back(CustomerCommand::DisconnectVoice);
        self.set_notice(None);
        self.deadline = None;
        self.busy = false;
        self.voice = false;
        self.reconnected = false;
        self.set_phase(Phase::Attract, why);
    }

    fn set_phase(&mut self, phase: Phase, why: &str) {
        if self.phase != phase {
            log::info!("[Customer] {} → {} ({why})", self.phase.as_str(), phase.as_str());
            self.phase = phase;
            self.commands.push_back(CustomerCommand::PhaseChanged(phase));
        }
    }

    fn set_notice(&mut self, notice: Option<Notice>) {
        if self.notice != notice {
            log::info!("[Customer] notice: {}", notice.map_or("none", Notice::as_str));
            self.notice = notice;
            self.commands.push_back(CustomerCommand::NoticeChanged(notice));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::{drain, ms, secs};

    use CustomerCommand::{ClearOrder, ConnectVoice, DisconnectVoice, NoticeChanged, PhaseChanged, ReconnectVoice};

    const RESET: [CustomerCommand; 3] = [ClearOrder, DisconnectVoice, PhaseChanged(Phase::Attract)];

    fn session() -> CustomerSession {
        CustomerSession::new(CustomerConfig::default())
    }

    fn cmds(s: &mut CustomerSession) -> Vec<CustomerCommand> {
        drain(|| s.poll_command())
    }

    /// A customer who started at `t` (with voice).
    fn started(t: Millis) -> CustomerSession {
        let mut s = session();
        s.handle_start(t, true);
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Active), ConnectVoice]);
        s
    }

    #[test]
    fn attract_start_idle_warning_countdown_then_reset() {
        let mut s = session();
        assert_eq!(s.phase(), Phase::Attract);
        assert_eq!(s.poll_timeout(), None, "no timers on the attract screen");
        assert_eq!(s.countdown(Millis(0)), None);
        s.handle_start(Millis(1_000), true);
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Active), ConnectVoice]);
        assert_eq!(s.poll_timeout(), Some(Millis(61_000)));
        s.handle_timeout(Millis(60_999));
        assert_eq!(cmds(&mut s), [], "not before the idle deadline");
        assert_eq!(s.phase(), Phase::Active);

        s.handle_timeout(Millis(61_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Warning)]);
        assert_eq!(s.countdown(Millis(61_000)), Some(15));
        let mut shown = vec![15];
        loop {
            let t = s.poll_timeout().expect("the warning has a timer");
            s.handle_timeout(t);
            if s.phase() != Phase::Warning {
                assert_eq!(t, Millis(76_000), "the reset comes 15 s after the warning");
                break;
            }
            assert_eq!(cmds(&mut s), [], "a tick changes only the countdown");
            shown.push(s.countdown(t).unwrap());
        }
        assert_eq!(shown, (1..=15).rev().collect::<Vec<u32>>());
        assert_eq!(cmds(&mut s), RESET);
        assert_eq!(s.phase(), Phase::Attract);
        assert_eq!(s.poll_timeout(), None);
        assert_eq!(s.countdown(Millis(76_000)), None);
    }

    #[test]
    fn countdown_rounds_up_and_ticks_land_on_whole_seconds() {
        let mut s = started(Millis(0));
        s.handle_timeout(Millis(60_250));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Warning)]);
        assert_eq!(s.poll_timeout(), Some(Millis(61_250)));
        assert_eq!(s.countdown(Millis(60_251)), Some(15));
        s.handle_timeout(Millis(61_700));
        assert_eq!(s.countdown(Millis(61_700)), Some(14));
        assert_eq!(s.poll_timeout(), Some(Millis(62_250)), "the next whole second of the countdown");
        s.handle_timeout(Millis(75_249));
        assert_eq!(s.countdown(Millis(75_249)), Some(1));
        assert_eq!(s.poll_timeout(), Some(Millis(75_250)), "the last tick is the deadline");
        assert_eq!(cmds(&mut s), []);
    }

    #[test]
    fn activity_during_warning_returns_to_active() {
        let mut s = started(Millis(0));
        s.handle_timeout(Millis(60_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Warning)]);
        s.handle_activity(Millis(65_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Active)]);
        assert_eq!(s.countdown(Millis(65_000)), None);
        assert_eq!(s.poll_timeout(), Some(Millis(125_000)), "a new idle deadline");
        s.handle_activity(Millis(66_000));
        assert_eq!(cmds(&mut s), [], "activity while Active only restarts the timer");
        assert_eq!(s.poll_timeout(), Some(Millis(126_000)));

        s.handle_timeout(Millis(126_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Warning)]);
        s.handle_still_here(Millis(130_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Active)]);
        assert_eq!(s.poll_timeout(), Some(Millis(190_000)));

        s.handle_timeout(Millis(190_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Warning)]);
        s.handle_start(Millis(191_000), true);
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Active)], "a tap is activity, not a second voice session");
    }

    #[test]
    fn busy_holds_off_the_timeout_and_the_timer_restarts_when_busy_ends() {
        let mut s = started(Millis(0));
        s.handle_busy(Millis(10_000), true);
        assert_eq!(s.poll_timeout(), Some(Millis(130_000)), "busy holds the timer off for max_busy (120 s)");
        s.handle_timeout(Millis(100_000));
        assert_eq!(cmds(&mut s), []);
        assert_eq!(s.phase(), Phase::Active);
        s.handle_activity(Millis(110_000));
        assert_eq!(s.poll_timeout(), Some(Millis(130_000)), "activity while busy keeps the busy limit");
        s.handle_busy(Millis(120_000), true);
        assert_eq!(cmds(&mut s), [], "idempotent");
        s.handle_busy(Millis(125_000), false);
        assert_eq!(s.poll_timeout(), Some(Millis(185_000)), "restarts from when busy ended");
        s.handle_busy(Millis(126_000), false);
        assert_eq!(s.poll_timeout(), Some(Millis(185_000)), "a repeated not-busy changes nothing");
        assert_eq!(cmds(&mut s), []);

        // Speaking during the warning brings the customer back.
        s.handle_timeout(Millis(185_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Warning)]);
        s.handle_busy(Millis(190_000), true);
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Active)]);
        s.handle_busy(Millis(200_000), false);
        assert_eq!(s.poll_timeout(), Some(Millis(260_000)));
    }

    #[test]
    fn a_busy_that_never_ends_still_asks_and_resets() {
        // A lost "reply finished" leaves the kiosk busy: the session still ends.
        let mut s = started(Millis(0));
        s.handle_busy(Millis(1_000), true);
        s.handle_timeout(Millis(121_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Warning)]);
        s.handle_timeout(Millis(136_000));
        assert_eq!(s.phase(), Phase::Attract);
    }

    #[test]
    fn placed_shows_the_number_then_attract_after_15_s_or_on_tap() {
        let mut s = started(Millis(0));
        s.handle_placed(Millis(30_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Placed)], "no clear, no disconnect yet");
        assert_eq!(s.poll_timeout(), Some(Millis(45_000)));
        s.handle_activity(Millis(40_000));
        s.handle_still_here(Millis(40_000));
        s.handle_start(Millis(40_000), true);
        assert_eq!(cmds(&mut s), [], "the number screen ignores touches");
        assert_eq!(s.poll_timeout(), Some(Millis(45_000)));
        s.handle_placed(Millis(41_000));
        assert_eq!(cmds(&mut s), []);
        assert_eq!(s.poll_timeout(), Some(Millis(56_000)), "a second acknowledgement restarts the timer");
        s.handle_timeout(Millis(56_000));
        assert_eq!(cmds(&mut s), RESET);
        assert_eq!(s.phase(), Phase::Attract);

        let mut s = started(Millis(0));
        s.handle_placed(Millis(30_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Placed)]);
        s.handle_start_over(Millis(33_000));
        assert_eq!(cmds(&mut s), RESET, "\"Start a new order\"");
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn placed_arriving_in_attract_after_a_reset_still_shows_the_number() {
        let mut s = started(Millis(0));
        s.handle_timeout(Millis(60_000));
        s.handle_timeout(Millis(75_000));
        assert_eq!(
            cmds(&mut s),
            [PhaseChanged(Phase::Warning), ClearOrder, DisconnectVoice, PhaseChanged(Phase::Attract)]
        );
        // The order was still being sent; the hub acknowledges it now.
        s.handle_placed(Millis(80_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Placed)]);
        assert_eq!(s.phase(), Phase::Placed);
        assert_eq!(s.poll_timeout(), Some(Millis(95_000)));
        s.handle_timeout(Millis(95_000));
        assert_eq!(cmds(&mut s), RESET);
    }

    #[test]
    fn start_over_resets_from_active_and_warning_and_is_nothing_in_attract() {
        let mut s = session();
        s.handle_start_over(Millis(0));
        assert_eq!(cmds(&mut s), [], "nothing to start over");

        let mut s = started(Millis(0));
        s.handle_start_over(Millis(5_000));
        assert_eq!(cmds(&mut s), RESET);
        assert_eq!(s.poll_timeout(), None);
        s.handle_start_over(Millis(6_000));
        assert_eq!(cmds(&mut s), [], "already reset");

        let mut s = started(Millis(0));
        s.handle_timeout(Millis(60_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Warning)]);
        s.handle_start_over(Millis(61_000));
        assert_eq!(cmds(&mut s), RESET);
        assert_eq!(s.countdown(Millis(61_000)), None);
    }

    #[test]
    fn voice_lost_reconnects_once_then_shows_voice_lost_and_a_new_customer_gets_a_new_allowance() {
        let mut s = started(Millis(0));
        s.handle_voice_lost(Millis(1_000));
        assert_eq!(cmds(&mut s), [ReconnectVoice, NoticeChanged(Some(Notice::Reconnecting))]);
        assert_eq!(s.notice(), Some(Notice::Reconnecting));
        s.handle_voice_ready(Millis(2_000));
        assert_eq!(cmds(&mut s), [NoticeChanged(None)]);
        s.handle_voice_ready(Millis(2_500));
        assert_eq!(cmds(&mut s), [], "idempotent");

        s.handle_voice_lost(Millis(3_000));
        assert_eq!(cmds(&mut s), [NoticeChanged(Some(Notice::VoiceLost))], "no second automatic reconnect");
        assert_eq!(s.notice().map(Notice::text), Some("Voice stopped. Tap Reconnect, or keep ordering by touch."));
        s.handle_voice_lost(Millis(3_500));
        assert_eq!(cmds(&mut s), [], "idempotent");
        s.handle_voice_ready(Millis(4_000));
        assert_eq!(cmds(&mut s), [NoticeChanged(None)], "the customer reconnected by hand");
        s.handle_voice_lost(Millis(5_000));
        assert_eq!(cmds(&mut s), [NoticeChanged(Some(Notice::VoiceLost))]);

        // The reset clears the notice, in its place in the sequence.
        s.handle_start_over(Millis(6_000));
        assert_eq!(cmds(&mut s), [ClearOrder, DisconnectVoice, NoticeChanged(None), PhaseChanged(Phase::Attract)]);
        assert_eq!(s.notice(), None);
        s.handle_voice_lost(Millis(6_500));
        assert_eq!(cmds(&mut s), [], "ignored on the attract screen");

        s.handle_start(Millis(7_000), true);
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Active), ConnectVoice]);
        s.handle_voice_lost(Millis(8_000));
        assert_eq!(
            cmds(&mut s),
            [ReconnectVoice, NoticeChanged(Some(Notice::Reconnecting))],
            "the next customer has their own reconnect"
        );

        // On the number screen a loss does not matter.
        s.handle_voice_ready(Millis(9_000));
        s.handle_placed(Millis(9_000));
        assert_eq!(cmds(&mut s), [NoticeChanged(None), PhaseChanged(Phase::Placed)]);
        s.handle_voice_lost(Millis(9_500));
        assert_eq!(cmds(&mut s), []);
    }

    #[test]
    fn a_failed_automatic_reconnect_offers_reconnect() {
        let mut s = CustomerSession::new(CustomerConfig::default());
        s.handle_start(Millis(0), true);
        s.handle_voice_failed(Millis(1));
        assert_eq!(s.notice(), None, "a failure that is not the reconnect says nothing here");
        s.handle_voice_lost(Millis(2));
        assert_eq!(s.notice(), Some(Notice::Reconnecting));
        s.handle_voice_failed(Millis(3));
        assert_eq!(s.notice(), Some(Notice::VoiceLost));
        s.handle_voice_ready(Millis(4));
        assert_eq!(s.notice(), None);
    }

    #[test]
    fn a_touch_customer_who_starts_voice_gets_the_reconnect_too() {
        let mut s = CustomerSession::new(CustomerConfig::default());
        s.handle_start(Millis(0), false);
        s.handle_voice_lost(Millis(1));
        assert_eq!(s.notice(), None, "no voice yet");
        s.handle_voice_requested(Millis(2));
        assert_eq!(drain(|| s.poll_command()).last(), Some(&CustomerCommand::ConnectVoice));
        s.handle_voice_lost(Millis(3));
        assert_eq!(s.notice(), Some(Notice::Reconnecting));
        // A Reconnect tapped afterwards reconnects the same customer's voice.
        let _ = drain(|| s.poll_command());
        s.handle_voice_requested(Millis(4));
        assert_eq!(drain(|| s.poll_command()), [CustomerCommand::ReconnectVoice]);
    }

    #[test]
    fn on_the_number_screen_a_touch_or_voice_starts_the_next_customer_afresh() {
        for voice in [false, true] {
            let mut s = CustomerSession::new(CustomerConfig::default());
            s.handle_start(Millis(0), true);
            s.handle_placed(Millis(1_000));
            let _ = drain(|| s.poll_command());
            if voice {
                s.handle_voice_requested(Millis(2_000))
            } else {
                s.handle_touch(Millis(2_000))
            }
            let mut expected = vec![
                CustomerCommand::ClearOrder,
                CustomerCommand::DisconnectVoice,
                CustomerCommand::PhaseChanged(Phase::Attract),
                CustomerCommand::PhaseChanged(Phase::Active),
            ];
            if voice {
                expected.push(CustomerCommand::ConnectVoice);
            }
            assert_eq!(drain(|| s.poll_command()), expected, "voice {voice}");
        }
    }

    #[test]
    fn no_voice_means_no_connect_and_no_reconnect() {
        let mut s = session();
        s.handle_start(Millis(0), false);
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Active)]);
        s.handle_voice_lost(Millis(1_000));
        assert_eq!(cmds(&mut s), [], "no voice session to lose");
        s.handle_start_over(Millis(2_000));
        assert_eq!(cmds(&mut s), RESET);
    }

    #[test]
    fn an_earlier_now_or_the_end_of_time_never_panics() {
        let mut s = started(Millis(100_000));
        s.handle_activity(Millis(5));
        assert_eq!(s.poll_timeout(), Some(Millis(160_000)), "an earlier time counts as the latest");
        s.handle_timeout(Millis(160_000));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Warning)]);
        assert_eq!(s.countdown(Millis(0)), Some(15), "never more than the warning");
        s.handle_timeout(Millis(0));
        assert_eq!(cmds(&mut s), []);

        let end = Millis(u64::MAX - 500);
        let mut s = started(end);
        assert_eq!(s.poll_timeout(), Some(Millis(u64::MAX)));
        s.handle_timeout(Millis(u64::MAX));
        assert_eq!(cmds(&mut s), [PhaseChanged(Phase::Warning)]);
        assert_eq!(s.countdown(Millis(u64::MAX)), Some(0));
        assert_eq!(s.poll_timeout(), Some(Millis(u64::MAX)));
        s.handle_timeout(Millis(u64::MAX));
        assert_eq!(cmds(&mut s), RESET);
    }

    #[test]
    fn labels_and_defaults() {
        let phases = [Phase::Attract, Phase::Active, Phase::Warning, Phase::Placed];
        assert_eq!(phases.map(Phase::as_str), ["attract", "active", "warning", "placed"]);
        assert_eq!(Notice::Reconnecting.as_str(), "reconnecting");
        assert_eq!(Notice::VoiceLost.as_str(), "voice_lost");
        assert_eq!(Notice::Reconnecting.text(), "Reconnecting the voice assistant…");
        let config = CustomerConfig::default();
        assert_eq!((config.idle, config.warning, config.number_shown), (secs(60), secs(15), secs(15)));
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        #[derive(Debug, Clone, Copy)]
        enum Input {
            Start(bool),
            Activity,
            Busy(bool),
            Placed,
            StartOver,
            StillHere,
            VoiceLost,
            VoiceReady,
            VoiceFailed,
            VoiceRequested,
            Touch,
            /// Only the clock moves, this many ms; the driver's timer fires on the way.
            Wait(u64),
        }

        fn input() -> impl Strategy<Value = Input> {
            prop_oneof![
                2 => any::<bool>().prop_map(Input::Start),
                2 => Just(Input::Activity),
                2 => any::<bool>().prop_map(Input::Busy),
                1 => Just(Input::Placed),
                1 => Just(Input::StartOver),
                1 => Just(Input::StillHere),
                2 => Just(Input::VoiceLost),
                1 => Just(Input::VoiceReady),
                1 => Just(Input::VoiceFailed),
                1 => Just(Input::VoiceRequested),
                1 => Just(Input::Touch),
                4 => prop_oneof![0u64..1_500, 10_000u64..90_000].prop_map(Input::Wait),
            ]
        }

        fn config() -> impl Strategy<Value = CustomerConfig> {
            prop_oneof![
                3 => Just(CustomerConfig::default()),
                1 => (0u64..5_000, 0u64..5_000, 0u64..5_000).prop_map(|(idle, warning, number_shown)| {
                    CustomerConfig { idle: ms(idle), warning: ms(warning), number_shown: ms(number_shown), max_busy: ms(idle * 2) }
                }),
            ]
        }

        /// What the driver has been told, to check the guarantees across commands.
        #[derive(Debug, Default)]
        struct Seen {
            /// A voice session is open (connected, or being reconnected).
            voice_open: bool,
            phase: Option<Phase>,
            notice: Option<Notice>,
        }

        fn check(s: &mut CustomerSession, seen: &mut Seen, now: Millis) -> Result<(), TestCaseError> {
            let commands = drain(|| s.poll_command());
            for (i, command) in commands.iter().enumerate() {
                match *command {
                    ConnectVoice => {
                        prop_assert!(!seen.voice_open, "a second voice session while one is open: {commands:?}");
                        seen.voice_open = true;
                    }
                    DisconnectVoice => seen.voice_open = false,
                    ReconnectVoice => prop_assert!(seen.voice_open, "reconnect without a session: {commands:?}"),
                    PhaseChanged(phase) => {
                        prop_assert_ne!(seen.phase.unwrap_or(Phase::Attract), phase, "a repeated phase");
                        seen.phase = Some(phase);
                        if phase == Phase::Attract {
                            let before: Vec<_> =
                                commands[..i].iter().filter(|c| !matches!(c, NoticeChanged(None))).collect();
                            prop_assert!(
                                before.ends_with(&[&ClearOrder, &DisconnectVoice]),
                                "a reset without ClearOrder, DisconnectVoice: {commands:?}"
                            );
                        }
                    }
                    NoticeChanged(notice) => {
                        prop_assert_ne!(seen.notice, notice, "a repeated notice");
                        seen.notice = notice;
                    }
                    ClearOrder => {}
                }
            }
            let phase = s.phase();
            prop_assert_eq!(seen.phase.unwrap_or(Phase::Attract), phase, "the page shows what the session is in");
            prop_assert_eq!(seen.notice, s.notice());
            prop_assert_eq!(phase == Phase::Warning, s.countdown(now).is_some());
            if let Some(n) = s.countdown(now) {
                prop_assert!(u64::from(n) <= s.config.warning.as_millis().div_ceil(1_000) as u64);
            }
            match phase {
                Phase::Attract => {
                    prop_assert_eq!(s.poll_timeout(), None);
                    prop_assert!(!seen.voice_open, "the attract screen keeps a voice session open");
                    prop_assert_eq!(s.notice(), None);
                }
                Phase::Active if s.busy => prop_assert!(
                    s.poll_timeout().is_some_and(|t| t <= s.busy_since.after(s.config.max_busy).max(s.last)),
                    "busy holds the timer off only so long: {:?}",
                    s.poll_timeout()
                ),
                _ => prop_assert!(s.poll_timeout().is_some(), "{phase:?} without a timer"),
            }
            Ok(())
        }

        /// The driver's loop: fire the timer while it is due at `now`; then it is in the future.
        fn run_timers(s: &mut CustomerSession, seen: &mut Seen, now: Millis) -> Result<(), TestCaseError> {
            for _ in 0..4 {
                match s.poll_timeout() {
                    Some(t) if t <= now => {
                        s.handle_timeout(now);
                        check(s, seen, now)?;
                    }
                    _ => return Ok(()),
                }
            }
            prop_assert!(
                s.poll_timeout().is_none_or(|t| t > now),
                "a timer stays due: {:?} at {now:?}",
                s.poll_timeout()
            );
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            #[test]
            fn random_interleavings_keep_the_invariants(
                config in config(),
                inputs in proptest::collection::vec(input(), 0..80),
            ) {
                let mut s = CustomerSession::new(config);
                let mut seen = Seen::default();
                let mut now = Millis(0);
                for input in inputs {
                    match input {
                        Input::Start(voice) => s.handle_start(now, voice),
                        Input::Activity => s.handle_activity(now),
                        Input::Busy(busy) => s.handle_busy(now, busy),
                        Input::Placed => s.handle_placed(now),
                        Input::StartOver => s.handle_start_over(now),
                        Input::StillHere => s.handle_still_here(now),
                        Input::VoiceLost => s.handle_voice_lost(now),
                        Input::VoiceReady => s.handle_voice_ready(now),
                        Input::VoiceFailed => s.handle_voice_failed(now),
                        Input::VoiceRequested => s.handle_voice_requested(now),
                        Input::Touch => s.handle_touch(now),
                        Input::Wait(n) => {
                            // The driver sleeps until its timer (or the next input), whichever is first.
                            let until = now + ms(n);
                            while let Some(t) = s.poll_timeout().filter(|&t| t <= until) {
                                now = now.max(t);
                                run_timers(&mut s, &mut seen, now)?;
                            }
                            now = until;
                        }
                    }
                    check(&mut s, &mut seen, now)?;
                    run_timers(&mut s, &mut seen, now)?;
                    if let Some(t) = s.poll_timeout() {
                        prop_assert!(t > now, "a timer in the past: {t:?} at {now:?}");
                    }
                }
                // Inputs stop and nobody is busy: the kiosk always comes back to the attract screen.
                s.handle_busy(now, false);
                check(&mut s, &mut seen, now)?;
                for _ in 0..40 {
                    let Some(t) = s.poll_timeout() else { break };
                    now = now.max(t);
                    run_timers(&mut s, &mut seen, now)?;
                }
                prop_assert_eq!(s.phase(), Phase::Attract);
                prop_assert!(!seen.voice_open);
            }
        }
    }
}
