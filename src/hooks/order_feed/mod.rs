//! `use_order_feed`: runs the kitchen screen's [`OrderFeed`](crate::core::feed::OrderFeed)
//! against the browser.
//!
//! One driver per mounted page ([`driver`]) owns the feed, its socket, its timer, the in-flight
//! snapshot fetch, the connectivity listeners and the `window.__wsService` debug surface
//! ([`debug`]); [`api`] holds the two HTTP calls. Cleaning the page's owner up drops the driver
//! and with it every socket, timer and listener; nothing runs and no signal is written after that.

mod api;
mod debug;
mod driver;

use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;
use restaurant_protocol::CallMessage;

pub use self::api::SignInError;
use self::driver::{FeedDriver, Published};
use crate::core::board::{Board, BoardConfig, Command, CommandError, Station};
use crate::core::config::RuntimeConfig;
use crate::core::feed::FeedStatus;
use crate::hooks::driver::{DriverHandle, use_driver};
use crate::hooks::staff_call::CallSignal;
use crate::web::random::random_bytes;

/// Local-storage key of the commands the hub has not answered yet.
pub const OUTBOX_KEY: &str = "kds.outbox";
/// Local-storage key of the signed-in station's token, so a reloaded screen reconnects by itself.
pub const SESSION_KEY: &str = "kds.session";
/// Local-storage key of the last current board, shown after a reload while the hub is unreachable.
pub const BOARD_KEY: &str = "kds.board";
/// A saved board larger than this is not written (local storage holds a few MiB per origin; the
/// session and outbox must still fit).
pub const MAX_SAVED_BOARD_BYTES: usize = 2 * 1024 * 1024;

/// The page's handle on its order feed. `Copy`; every method is a no-op (or an error) once the
/// page is unmounted.
#[derive(Clone, Copy)]
pub struct UseOrderFeedReturn {
    published: Published,
    driver: DriverHandle<FeedDriver>,
}

/// Creates the page's order feed, owned by the current reactive owner: cleaning the owner up
/// closes the socket, cancels the timer and the snapshot fetch, removes the listeners and
/// `window.__wsService`. A station token stored by an earlier sign-in reconnects by itself, once
/// the page is still mounted after the current task (so a page unmounted right away opens nothing).
pub fn use_order_feed(config: &RuntimeConfig) -> UseOrderFeedReturn {
    let published =
        Published::new(BoardConfig::with_thresholds_min(config.ticket_warning_min, config.ticket_urgent_min));
    let driver = use_driver(|me| FeedDriver::new(config, published, me));
    if let Some(resume) = driver.get_ref() {
        leptos::task::spawn_local(async move {
            resume.run(|d, now| d.resume(now));
        });
    }
    UseOrderFeedReturn { published, driver }
}

impl UseOrderFeedReturn {
    pub fn status(&self) -> Signal<FeedStatus> {
        self.published.status.into()
    }

    /// The board as of the last change (tickets are derived per station and time).
    pub fn board(&self) -> Signal<Board> {
        self.published.board.into()
    }

    /// The signed-in station (`None` when signed out).
    pub fn station(&self) -> Signal<Option<Station>> {
        self.published.station.into()
    }

    /// Wall-clock time (Unix ms) the board last received orders.
    pub fn last_update(&self) -> Signal<Option<f64>> {
        self.published.last_update.into()
    }

    /// Signs this page's station in with `pin` and connects. Single-flight: while a sign-in is on
    /// its way every call shares it, and once signed in (and not rejected) a call changes nothing,
    /// so concurrent calls make one PIN request and open one socket.
    pub fn sign_in(&self, pin: &str) -> impl Future<Output = Result<(), SignInError>> + 'static {
        let pin = pin.to_string();
        let flight = self.driver.run(move |d, _| d.sign_in_flight(pin)).ok_or(SignInError::Closed);
        async move {
            match flight {
                Ok(Some(flight)) => flight.await,
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            }
        }
    }

    /// Disconnects, forgets the board and the stored session, and cancels a sign-in on its way.
    pub fn logout(&self) {
        self.driver.run(|d, _| d.logout());
    }

    /// Queues a cook's command on `order_id` (shown at once, sent when connected).
    pub fn command(&self, order_id: &str, command: Command) -> Result<(), CommandError> {
        let id = order_id.to_string();
        self.driver
            .run(move |d, _| {
                // The cook's own action shows at once, not at the next frame.
                d.render_now();
                d.feed.command(&id, command, random_bytes::<16>()).map(|_| ())
            })
            .unwrap_or_else(|| Err(CommandError::UnknownOrder(order_id.to_string())))
    }

    /// The signed-in station's token, for an HTTP request on its behalf (not tracked).
    pub fn token(&self) -> Option<String> {
        self.driver.with(|d| d.feed.token().map(str::to_string)).flatten()
    }

    pub fn dismiss_failures(&self) {
        self.driver.run(|d, _| {
            d.render_now();
            d.feed.dismiss_failures();
        });
    }

    /// Sends a staff call frame on the feed's socket; `false` when it is not connected.
    pub fn send_call(&self, message: &CallMessage) -> bool {
        let message = message.clone();
        self.driver.run(move |d, _| d.send_call(&message)).unwrap_or(false)
    }

    /// Hands every staff call frame arriving on the feed's socket (and the loss of the socket) to
    /// `subscriber`, replacing any earlier one. It runs outside the feed's borrow, so it may send.
    pub fn subscribe_calls(&self, subscriber: impl Fn(CallSignal) + 'static) {
        let subscriber: Rc<dyn Fn(CallSignal)> = Rc::new(subscriber);
        self.driver.run(move |d, _| d.call_subscriber = Some(subscriber));
    }
}
