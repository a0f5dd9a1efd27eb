//! One re-armable timer: the single deadline a sans-IO core asks for (`poll_timeout`).
//!
//! Owns its `gloo_timers::callback::Timeout`; re-arming replaces it and dropping the timer cancels
//! it, so a disposed component can never be called back.

use std::cell::Cell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;

use crate::core::time::Millis;

#[must_use = "dropping the timer cancels it"]
pub struct DeadlineTimer {
    pending: Option<Timeout>,
    armed_for: Option<Millis>,
    /// Set when the pending timeout has run: it no longer counts as armed, so asking again for
    /// the same deadline (a timeout that fired a little early) arms a new one.
    fired: Rc<Cell<bool>>,
    on_fire: Rc<dyn Fn()>,
}

impl DeadlineTimer {
    /// `on_fire` runs (at most once per arming) when the deadline passes.
    pub fn new(on_fire: impl Fn() + 'static) -> DeadlineTimer {
        DeadlineTimer { pending: None, armed_for: None, fired: Rc::new(Cell::new(false)), on_fire: Rc::new(on_fire) }
    }

    /// Arms for `deadline` on the [`super::clock::now`] clock; `None` clears. Re-arming for the
    /// same deadline keeps the running timer.
    pub fn set_deadline(&mut self, deadline: Option<Millis>) {
        match deadline {
            None => self.clear(),
            Some(d) if self.armed_for == Some(d) && self.is_armed() => {}
            Some(d) => {
                // setTimeout takes an i32 of milliseconds.
                let delay = u32::try_from(d.since(super::clock::now()).as_millis())
                    .map_or(i32::MAX as u32, |ms| ms.min(i32::MAX as u32));
                let on_fire = self.on_fire.clone();
                let fired = Rc::new(Cell::new(false));
                self.fired = fired.clone();
                self.pending = Some(Timeout::new(delay, move || {
                    fired.set(true);
                    on_fire()
                }));
                self.armed_for = Some(d);
            }
        }
    }

    pub fn clear(&mut self) {
        // Dropping a gloo Timeout cancels it.
        self.pending = None;
        self.armed_for = None;
    }

    /// A timeout is pending and has not run yet.
    pub fn is_armed(&self) -> bool {
        self.pending.is_some() && !self.fired.get()
    }
}

/// Resolves in a later task (a `setTimeout` of 0): long work split into slices awaits it between
/// them, so the browser can draw a frame and handle input in between. Dropping it cancels the
/// timeout.
pub async fn next_task() {
    gloo_timers::future::TimeoutFuture::new(0).await;
}
