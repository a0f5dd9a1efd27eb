//! `use_order_submitter`: sends the cart as an order through the persisted outbox of
//! [`OrderSubmitter`] (same `Idempotency-Key` until acknowledged; survives a reload).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use futures::future::{AbortHandle, Abortable};
use leptos::prelude::*;
use restaurant_protocol::OrderSource;
use send_wrapper::SendWrapper;

use super::kiosk_cart::KioskCart;
use crate::core::id::uuid_v4;
use crate::core::submit::{OrderSubmitter, SubmitCommand, SubmitState};
use crate::core::time::Millis;
use crate::web::random::random_bytes;
use crate::web::timer::DeadlineTimer;
use crate::web::{clock, http, storage};

const STORAGE_KEY: &str = "restaurant.kiosk.pending_order";

struct Driver {
    submitter: OrderSubmitter,
    url: String,
    state: RwSignal<SubmitState>,
    cart: KioskCart,
    timer: Option<DeadlineTimer>,
    request: Option<AbortHandle>,
    me: Weak<RefCell<Driver>>,
}

fn now() -> Millis {
    Millis(clock::now_ms().max(0.0) as u64)
}

fn with_driver(weak: &Weak<RefCell<Driver>>, f: impl FnOnce(&mut Driver)) {
    if let Some(rc) = weak.upgrade() {
        if let Ok(mut d) = rc.try_borrow_mut() {
            f(&mut d);
            d.run();
        }
    }
}

impl Driver {
    fn run(&mut self) {
        while let Some(cmd) = self.submitter.poll_command() {
            match cmd {
                SubmitCommand::Persist(Some(json)) => {
                    storage::set(STORAGE_KEY, &json);
                }
                SubmitCommand::Persist(None) => storage::remove(STORAGE_KEY),
                SubmitCommand::StateChanged(state) => {
                    if matches!(state, SubmitState::Sent { .. }) {
                        self.cart.clear();
                    }
                    let _ = self.state.try_set(state);
                }
                SubmitCommand::Post { idempotency_key, body } => self.post(idempotency_key, body),
            }
        }
        let deadline = self.submitter.poll_timeout().map(|m| m.0 as f64);
        if let Some(t) = self.timer.as_mut() {
            t.set_deadline(deadline);
        }
    }

    fn post(&mut self, key: String, body: String) {
        let (url, me) = (self.url.clone(), self.me.clone());
        let (handle, registration) = AbortHandle::new_pair();
        if let Some(old) = self.request.replace(handle) {
            old.abort();
        }
        wasm_bindgen_futures::spawn_local(async move {
            let headers = [("Content-Type", "application/json"), ("Idempotency-Key", key.as_str())];
            let request = http::send("POST", &url, &headers, Some(&body));
            let Ok(result) = Abortable::new(request, registration).await else { return };
            with_driver(&me, move |d| {
                d.request = None;
                match result {
                    Ok(r) => d.submitter.handle_response(now(), r.status, &r.body),
                    Err(e) => d.submitter.handle_network_error(now(), &e.to_string()),
                }
            });
        });
    }
}

#[derive(Clone)]
pub struct SubmitHandle {
    pub state: RwSignal<SubmitState>,
    /// `SendWrapper`: usable in Leptos views; the app is single-threaded.
    driver: SendWrapper<Weak<RefCell<Driver>>>,
}

impl SubmitHandle {
    /// Sends the cart (a fresh idempotency key per order attempt). Refused while one is on its way.
    pub fn submit(&self, source: OrderSource) {
        with_driver(&self.driver, |d| {
            if d.cart.is_empty() {
                return;
            }
            let order = d.cart.to_order(source);
            if let Err(e) = d.submitter.submit(now(), order, uuid_v4(random_bytes())) {
                log::warn!("[OrderSubmit] not submitted: {e:?}");
            }
        });
    }

    pub fn retry_now(&self) {
        with_driver(&self.driver, |d| d.submitter.retry_now(now()));
    }

    /// Leaves the confirmation / rejection view.
    pub fn acknowledge(&self) {
        with_driver(&self.driver, |d| d.submitter.acknowledge());
    }
}

pub fn use_order_submitter(api_base: &str, cart: KioskCart) -> SubmitHandle {
    let state = RwSignal::new(SubmitState::Idle);
    let driver = Rc::new_cyclic(|me: &Weak<RefCell<Driver>>| {
        let fire = me.clone();
        RefCell::new(Driver {
            submitter: OrderSubmitter::new(),
            url: format!("{api_base}/api/v1/orders"),
            state,
            cart,
            timer: Some(DeadlineTimer::new(move || with_driver(&fire, |d| d.submitter.handle_timeout(now())))),
            request: None,
            me: me.clone(),
        })
    });
    if let Some(stored) = storage::get(STORAGE_KEY) {
        with_driver(&Rc::downgrade(&driver), |d| d.submitter.restore(now(), &stored));
    }
    let handle = SubmitHandle { state, driver: SendWrapper::new(Rc::downgrade(&driver)) };
    let owned = SendWrapper::new(driver);
    on_cleanup(move || {
        let driver = owned.take();
        if let Ok(mut d) = driver.try_borrow_mut() {
            if let Some(r) = d.request.take() {
                r.abort();
            }
            d.timer = None;
        }
        // An unacknowledged order stays in localStorage and is resumed on the next mount.
        drop(driver);
    });
    handle
}
