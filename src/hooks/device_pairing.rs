//! `use_device_pairing`: the kiosk's device token, kept in local storage, and the pairing flow of
//! [`Pairing`] (the manager's PIN exchanged for a token at `POST /api/v1/devices/pair`).

use leptos::prelude::*;

use super::driver::{After, Driver, DriverHandle, DriverRef, Task, use_driver};
use crate::core::config::Mode;
use crate::core::device::{Pairing, PairingCommand, PairingState, PairingView};
use crate::core::time::parse_retry_after;
use crate::web::timer::DeadlineTimer;
use crate::web::{http, storage};

/// Local-storage key of the device token (with the device's id and name).
pub const DEVICE_KEY: &str = "restaurant.device";

struct PairingDriver {
    pairing: Pairing,
    url: String,
    view: RwSignal<PairingView>,
    token: RwSignal<Option<String>>,
    timer: DeadlineTimer,
    /// The pairing request in flight; dropping it aborts it.
    request: Option<Task>,
    me: DriverRef<PairingDriver>,
}

impl Driver for PairingDriver {
    const NAME: &'static str = "Pairing";

    fn drive(&mut self, _after: &mut After) {
        while let Some(command) = self.pairing.poll_command() {
            match command {
                PairingCommand::Post { body } => self.post(body),
                PairingCommand::Persist(Some(json)) => {
                    if !storage::set(DEVICE_KEY, &json) {
                        log::error!(
                            "[Pairing] the device token could not be stored; this kiosk will ask again after a reload"
                        );
                    }
                }
                PairingCommand::Persist(None) => storage::remove(DEVICE_KEY),
                PairingCommand::Ui(view) => {
                    let _ = self.view.try_set(view);
                }
            }
        }
        let token = self.pairing.token().map(str::to_string);
        if self.token.try_get_untracked().is_some_and(|shown| shown != token) {
            let _ = self.token.try_set(token);
        }
        self.timer.set_deadline(self.pairing.poll_timeout());
    }
}

impl PairingDriver {
    fn post(&mut self, body: String) {
        let url = self.url.clone();
        let request =
            async move { http::send("POST", &url, &[("Content-Type", "application/json")], Some(&body)).await };
        self.request = Some(self.me.spawn(request, |d, now, result| {
            d.request = None;
            match result {
                Ok(r) => {
                    let retry_after = r.retry_after.as_deref().and_then(parse_retry_after);
                    d.pairing.handle_response(now, r.status, &r.body, retry_after);
                }
                Err(e) => d.pairing.handle_network_error(&e.to_string()),
            }
        }));
    }
}

/// The kiosk's pairing. `Copy`; every method is a no-op once the page is gone.
#[derive(Clone, Copy)]
pub struct UseDevicePairingReturn {
    view: RwSignal<PairingView>,
    token: RwSignal<Option<String>>,
    driver: DriverHandle<PairingDriver>,
}

impl UseDevicePairingReturn {
    pub fn view(&self) -> Signal<PairingView> {
        self.view.into()
    }

    pub fn state(&self) -> Signal<PairingState> {
        let view = self.view;
        Signal::derive(move || view.with(|v| v.state))
    }

    /// The device token (changes when the kiosk is paired or loses its pairing).
    pub fn token(&self) -> Signal<Option<String>> {
        self.token.into()
    }

    /// The device token now, for a request about to be sent (not tracked).
    pub fn current_token(&self) -> Option<String> {
        self.token.try_get_untracked().flatten()
    }

    /// The manager entered the PIN and a name for this kiosk.
    pub fn pair(&self, pin: String, name: String) {
        self.driver.run(move |d, now| {
            if let Err(e) = d.pairing.pair(now, &pin, &name) {
                log::warn!("[Pairing] not sent: {}", e.message());
            }
        });
    }

    /// The hub answered `device_unpaired` to a request that carried `sent_token`.
    pub fn report_unpaired(&self, sent_token: Option<String>) {
        self.driver.run(move |d, _| d.pairing.handle_unpaired(sent_token.as_deref()));
    }
}

/// The kiosk's device pairing against `{api_base}/api/v1/devices/pair`. The stored token (if
/// any) is used at once; a production kiosk without one shows its pairing screen.
pub fn use_device_pairing(api_base: &str, mode: Mode) -> UseDevicePairingReturn {
    let pairing = Pairing::new(mode, storage::get(DEVICE_KEY).as_deref());
    let view = RwSignal::new(pairing.view());
    let token = RwSignal::new(pairing.token().map(str::to_string));
    let url = format!("{api_base}/api/v1/devices/pair");
    let driver = use_driver(|me: DriverRef<PairingDriver>| {
        let fire = me.clone();
        PairingDriver {
            pairing,
            url,
            view,
            token,
            timer: DeadlineTimer::new(move || {
                fire.run(|d, now| d.pairing.handle_timeout(now));
            }),
            request: None,
            me,
        }
    });
    // Carries out what the core queued while it started (e.g. forgetting an unreadable token).
    driver.run(|_, _| ());
    UseDevicePairingReturn { view, token, driver }
}
