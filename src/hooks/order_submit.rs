//! `use_order_submit`: sends the cart as an order through the persisted outbox of
//! [`OrderSubmitter`] (same `Idempotency-Key` until acknowledged; survives a reload), with the
//! kiosk's device token. An order the hub refuses as `device_unpaired` waits for the pairing and
//! is sent as soon as the kiosk has a token.

use leptos::prelude::*;
use restaurant_protocol::OrderSource;

use super::device_pairing::UseDevicePairingReturn;
use super::driver::{After, Driver, DriverHandle, DriverRef, Task, use_driver};
use super::kiosk_cart::KioskCart;
use crate::core::cart::CartLine;
use crate::core::submit::{OrderSubmitter, SubmitCommand, SubmitState};
use crate::core::time::{Millis, parse_retry_after};
use crate::web::random::random_uuid;
use crate::web::timer::DeadlineTimer;
use crate::web::{http, storage};

const STORAGE_KEY: &str = "restaurant.kiosk.pending_order";

struct SubmitDriver {
    submitter: OrderSubmitter,
    url: String,
    state: RwSignal<SubmitState>,
    cart: KioskCart,
    device: UseDevicePairingReturn,
    /// The device token the last POST carried.
    sent_token: Option<String>,
    timer: DeadlineTimer,
    /// The cart lines of the order on its way (`None` for one resumed from an earlier page).
    submitted: Option<Vec<CartLine>>,
    /// The POST in flight; replacing or dropping it aborts the request.
    request: Option<Task>,
    me: DriverRef<SubmitDriver>,
}

impl Driver for SubmitDriver {
    const NAME: &'static str = "OrderSubmit";

    fn drive(&mut self, after: &mut After) {
        while let Some(command) = self.submitter.poll_command() {
            match command {
                SubmitCommand::Persist(Some(json)) => {
                    storage::set(STORAGE_KEY, &json);
                }
                SubmitCommand::Persist(None) => storage::remove(STORAGE_KEY),
                SubmitCommand::StateChanged(state) => {
                    if matches!(state, SubmitState::Sent { .. }) {
                        // The sent lines leave the cart, unless the kiosk started over while the
                        // order was on its way and a new customer's cart is there now.
                        let sent = self.submitted.take();
                        if sent.is_none_or(|lines| self.cart.with(|c| c.lines() == lines.as_slice()).unwrap_or(true)) {
                            self.cart.clear();
                        } else {
                            log::info!(
                                "[OrderSubmit] order acknowledged after a new order was started; its cart is kept"
                            );
                        }
                    }
                    let _ = self.state.try_set(state);
                }
                SubmitCommand::Post { idempotency_key, body } => self.post(idempotency_key, body),
                SubmitCommand::DeviceUnpaired => {
                    let (device, sent, me) = (self.device, self.sent_token.clone(), self.me.clone());
                    after.push(move || {
                        if device.current_token() == sent {
                            device.report_unpaired(sent);
                        } else {
                            // Paired again while the POST was on its way: send with the new token.
                            me.run(|d, now| d.submitter.handle_paired(now));
                        }
                    });
                }
            }
        }
        self.timer.set_deadline(self.submitter.poll_timeout());
    }

    // An unacknowledged order stays in localStorage and is resumed on the next mount.
}

impl SubmitDriver {
    fn post(&mut self, key: String, body: String) {
        let url = self.url.clone();
        self.sent_token = self.device.current_token();
        let token = self.sent_token.clone();
        let request = async move {
            let headers = [("Content-Type", "application/json"), ("Idempotency-Key", key.as_str())];
            http::send_as("POST", &url, token.as_deref(), &headers, Some(&body)).await
        };
        self.request = Some(self.me.spawn(request, |d, now, result| {
            d.request = None;
            match result {
                Ok(r) => {
                    let retry_after = r.retry_after.as_deref().and_then(parse_retry_after);
                    d.submitter.handle_response(now, r.status, &r.body, retry_after);
                }
                Err(e) => d.submitter.handle_network_error(now, &e.to_string()),
            }
        }));
    }

    fn submit(&mut self, now: Millis, source: OrderSource) {
        if self.cart.is_empty() {
            return;
        }
        let order = self.cart.to_order(source);
        match self.submitter.submit(now, order, random_uuid()) {
            Ok(()) => self.submitted = self.cart.with(|c| c.lines().to_vec()),
            Err(e) => log::warn!("[OrderSubmit] not submitted: {e:?}"),
        }
    }
}

/// The kiosk's order submission. `Copy`; every method is a no-op once the page is gone.
#[derive(Clone, Copy)]
pub struct UseOrderSubmitReturn {
    state: RwSignal<SubmitState>,
    driver: DriverHandle<SubmitDriver>,
}

impl UseOrderSubmitReturn {
    pub fn state(&self) -> Signal<SubmitState> {
        self.state.into()
    }

    /// Sends the cart (a fresh idempotency key per order attempt). Refused while one is on its way.
    pub fn submit(&self, source: OrderSource) {
        self.driver.run(move |d, now| d.submit(now, source));
    }

    pub fn retry_now(&self) {
        self.driver.run(|d, now| d.submitter.retry_now(now));
    }

    /// Leaves the confirmation / rejection view.
    pub fn acknowledge(&self) {
        self.driver.run(|d, _| d.submitter.acknowledge());
    }
}

/// Creates the order outbox for `cart`, posting to `{api_base}/api/v1/orders` with `device`'s
/// token. An order left unacknowledged by an earlier page (a reload, a crash) is resumed at once.
pub fn use_order_submit(api_base: &str, cart: KioskCart, device: UseDevicePairingReturn) -> UseOrderSubmitReturn {
    let state = RwSignal::new(SubmitState::Idle);
    let url = format!("{api_base}/api/v1/orders");
    let driver = use_driver(|me: DriverRef<SubmitDriver>| {
        let fire = me.clone();
        SubmitDriver {
            submitter: OrderSubmitter::new(),
            url,
            state,
            cart,
            device,
            sent_token: None,
            timer: DeadlineTimer::new(move || {
                fire.run(|d, now| d.submitter.handle_timeout(now));
            }),
            submitted: None,
            request: None,
            me,
        }
    });
    if let Some(stored) = storage::get(STORAGE_KEY) {
        driver.run(move |d, now| d.submitter.restore(now, &stored));
    }
    // A (new) device token releases an order that waited for the pairing.
    let token = device.token();
    Effect::new(move |_| {
        if token.get().is_some() {
            driver.run(|d, now| d.submitter.handle_paired(now));
        }
    });
    UseOrderSubmitReturn { state, driver }
}
