//! `use_customer_session`: one customer at a time at the kiosk. Runs the sans-IO
//! [`CustomerSession`] (attract → ordering → "are you still there?" → reset; placed → number
//! screen → attract) and carries out what it decides: a fresh voice session per customer, closed
//! at the end, one automatic reconnect, and clearing everything of the customer's on a reset.

use leptos::prelude::*;

use super::driver::{After, Driver, DriverHandle, DriverRef, use_driver};
use super::voice_session::{UseVoiceSessionReturn, VoiceEvent};
use crate::core::customer::{CustomerCommand, CustomerConfig, CustomerSession, Notice, Phase};
use crate::core::time::Millis;
use crate::web::timer::DeadlineTimer;

pub struct UseCustomerSessionOptions {
    pub config: CustomerConfig,
    /// Voice ordering can work on this kiosk (a secure page): a start connects it.
    pub voice_enabled: bool,
    /// Clears the customer's cart, item sheet and review screen (never an order already sent).
    pub on_clear: Callback<()>,
}

#[derive(Clone, Copy)]
struct Ui {
    phase: RwSignal<Phase>,
    /// Counts resets: the customer now ordering is told apart from the one before.
    generation: RwSignal<u64>,
    countdown: RwSignal<Option<u32>>,
    notice: RwSignal<Option<Notice>>,
}

/// The customer session's signals and inputs. `Copy`; inert once the page is gone.
#[derive(Clone, Copy)]
pub struct UseCustomerSessionReturn {
    ui: Ui,
    driver: DriverHandle<CustomerDriver>,
}

struct CustomerDriver {
    core: CustomerSession,
    voice_enabled: bool,
    voice: Option<UseVoiceSessionReturn>,
    on_clear: Callback<()>,
    ui: Ui,
    timer: DeadlineTimer,
}

impl Driver for CustomerDriver {
    const NAME: &'static str = "Customer";

    fn drive(&mut self, after: &mut After) {
        while let Some(command) = self.core.poll_command() {
            let voice = self.voice;
            match command {
                CustomerCommand::PhaseChanged(phase) => {
                    if phase == Phase::Attract {
                        let _ = self.ui.generation.try_update(|g| *g += 1);
                    }
                    let _ = self.ui.phase.try_set(phase);
                }
                CustomerCommand::NoticeChanged(notice) => {
                    let _ = self.ui.notice.try_set(notice);
                }
                CustomerCommand::ClearOrder => {
                    let on_clear = self.on_clear;
                    after.push(move || on_clear.run(()));
                }
                CustomerCommand::ConnectVoice => after.push(move || voice.into_iter().for_each(|v| v.connect())),
                CustomerCommand::DisconnectVoice => {
                    after.push(move || voice.into_iter().for_each(|v| v.end_customer()));
                }
                CustomerCommand::ReconnectVoice => after.push(move || voice.into_iter().for_each(|v| v.reconnect())),
            }
        }
        let now = crate::web::clock::now();
        let countdown = self.core.countdown(now);
        if self.ui.countdown.try_get_untracked() != Some(countdown) {
            let _ = self.ui.countdown.try_set(countdown);
        }
        self.timer.set_deadline(self.core.poll_timeout());
    }
}

impl UseCustomerSessionReturn {
    pub fn phase(&self) -> Signal<Phase> {
        self.ui.phase.into()
    }

    /// Which customer is ordering: it changes with every reset.
    pub fn generation(&self) -> Signal<u64> {
        self.ui.generation.into()
    }

    /// Seconds left before the reset while "Are you still there?" is shown.
    pub fn countdown(&self) -> Signal<Option<u32>> {
        self.ui.countdown.into()
    }

    /// A short line about the voice connection (reconnecting, or lost).
    pub fn notice(&self) -> Signal<Option<Notice>> {
        self.ui.notice.into()
    }

    /// The voice session this customer session opens and closes.
    pub fn bind_voice(&self, voice: UseVoiceSessionReturn) {
        self.driver.run(move |d, _| d.voice = Some(voice));
    }

    /// A tap on the attract screen: a new customer, with a fresh voice session.
    pub fn start(&self) {
        self.driver.run(|d, now| {
            let voice = d.voice_enabled;
            d.core.handle_start(now, voice);
        });
    }

    /// The voice button asked to connect, or Reconnect was tapped: a new customer with voice
    /// (also from the number screen), voice for a touch customer, or a reconnect.
    pub fn connect_voice(&self) {
        self.driver.run(|d, now| d.core.handle_voice_requested(now));
    }

    /// A touch on the menu: starts a touch-only session when none runs (or the number screen
    /// is up), else counts as activity.
    pub fn touched(&self) {
        self.driver.run(|d, now| d.core.handle_touch(now));
    }

    /// Something happened that shows the customer is still there (no session is started).
    pub fn activity(&self) {
        self.driver.run(|d, now| d.core.handle_activity(now));
    }

    /// The customer is talking or the assistant is answering: the idle timer waits.
    pub fn set_busy(&self, busy: bool) {
        self.driver.run(move |d, now| d.core.handle_busy(now, busy));
    }

    /// The hub acknowledged an order: the number screen.
    pub fn placed(&self) {
        self.driver.run(|d, now| d.core.handle_placed(now));
    }

    /// "Start over" or "Start a new order": everything of this customer goes.
    pub fn start_over(&self) {
        self.driver.run(|d, now| d.core.handle_start_over(now));
    }

    /// "I'm still here".
    pub fn still_here(&self) {
        self.driver.run(|d, now| d.core.handle_still_here(now));
    }

    /// What the voice session reports.
    pub fn voice_event(&self, event: VoiceEvent) {
        self.driver.run(move |d, now| match event {
            VoiceEvent::Ready => d.core.handle_voice_ready(now),
            VoiceEvent::Lost => d.core.handle_voice_lost(now),
            VoiceEvent::Failed => d.core.handle_voice_failed(now),
        });
    }
}

pub fn use_customer_session(options: UseCustomerSessionOptions) -> UseCustomerSessionReturn {
    let ui = Ui {
        phase: RwSignal::new(Phase::Attract),
        generation: RwSignal::new(0),
        countdown: RwSignal::new(None),
        notice: RwSignal::new(None),
    };
    let driver = use_driver(|me: DriverRef<CustomerDriver>| CustomerDriver {
        core: CustomerSession::new(options.config),
        voice_enabled: options.voice_enabled,
        voice: None,
        on_clear: options.on_clear,
        ui,
        timer: DeadlineTimer::new(move || {
            me.run(|d, now: Millis| d.core.handle_timeout(now));
        }),
    });
    UseCustomerSessionReturn { ui, driver }
}
