//! `use_order_quote`: the hub's price for the cart as it is on screen ([`QuoteKeeper`]), asked
//! with the kiosk's device token after each change settles.

use leptos::prelude::*;

use super::device_pairing::UseDevicePairingReturn;
use super::driver::{After, Driver, DriverHandle, DriverRef, Task, use_driver};
use super::kiosk_cart::KioskCart;
use crate::core::quote::{QuoteConfig, QuoteKeeper, QuoteRequest, QuoteState};
use crate::web::http;
use crate::web::timer::DeadlineTimer;

struct QuoteDriver {
    keeper: QuoteKeeper,
    url: String,
    device: UseDevicePairingReturn,
    state: RwSignal<QuoteState>,
    timer: DeadlineTimer,
    /// The POST in flight; dropping it aborts the request.
    request: Option<Task>,
    me: DriverRef<QuoteDriver>,
}

impl Driver for QuoteDriver {
    const NAME: &'static str = "OrderQuote";

    fn drive(&mut self, after: &mut After) {
        if let Some(request) = self.keeper.poll_request(crate::web::clock::now()) {
            self.post(request);
        }
        self.timer.set_deadline(self.keeper.poll_timeout());
        let (state, shown) = (self.state, self.keeper.state().clone());
        after.push(move || {
            if state.try_with_untracked(|s| s != &shown) == Some(true) {
                let _ = state.try_set(shown);
            }
        });
    }
}

impl QuoteDriver {
    fn post(&mut self, request: QuoteRequest) {
        let url = self.url.clone();
        let token = self.device.current_token();
        let version = request.version;
        let order = restaurant_protocol::NewOrder {
            items: request.lines,
            source: restaurant_protocol::OrderSource::Kiosk,
            customer_name: None,
            notes: None,
        };
        let body = match serde_json::to_string(&order) {
            Ok(body) => body,
            Err(e) => {
                log::error!("[OrderQuote] the cart could not be written as JSON: {e}");
                self.keeper.handle_network_error(crate::web::clock::now(), version, &e.to_string());
                return;
            }
        };
        let work = async move {
            http::send_as("POST", &url, token.as_deref(), &[("Content-Type", "application/json")], Some(&body)).await
        };
        self.request = Some(self.me.spawn(work, move |d, now, result| {
            d.request = None;
            match result {
                Ok(r) => d.keeper.handle_response(now, version, r.status, &r.body),
                Err(e) => d.keeper.handle_network_error(now, version, &e.to_string()),
            }
        }));
    }
}

/// The hub's quote for the cart. `Copy`.
#[derive(Clone, Copy)]
pub struct UseOrderQuoteReturn {
    state: RwSignal<QuoteState>,
    driver: DriverHandle<QuoteDriver>,
}

impl UseOrderQuoteReturn {
    pub fn state(&self) -> Signal<QuoteState> {
        self.state.into()
    }

    /// The menu changed: the same cart may now cost something else, or be refused.
    pub fn menu_changed(&self) {
        self.driver.run(|d, now| d.keeper.handle_menu_changed(now));
    }
}

/// Quotes `cart` at `{api_base}/api/v1/orders/quote` with `device`'s token whenever it changes.
pub fn use_order_quote(api_base: &str, cart: KioskCart, device: UseDevicePairingReturn) -> UseOrderQuoteReturn {
    let state = RwSignal::new(QuoteState::Empty);
    let url = format!("{api_base}/api/v1/orders/quote");
    let driver = use_driver(|me: DriverRef<QuoteDriver>| {
        let fire = me.clone();
        QuoteDriver {
            keeper: QuoteKeeper::new(QuoteConfig::default()),
            url,
            device,
            state,
            timer: DeadlineTimer::new(move || {
                fire.run(|d, now| d.keeper.handle_timeout(now));
            }),
            request: None,
            me,
        }
    });
    let lines = cart.lines();
    Effect::new(move |_| {
        let items: Vec<_> = lines.with(|lines| lines.iter().map(|l| l.to_new_item()).collect());
        driver.run(move |d, now| d.keeper.handle_cart(now, items));
    });
    UseOrderQuoteReturn { state, driver }
}
