//! `use_ticket_stats`: today's ticket times for a kitchen screen ([`StatsKeeper`]), asked with the
//! station's token from `GET /api/v1/stats/tickets`, soon after the board changes and every
//! minute.

use leptos::prelude::*;

use super::driver::{After, Driver, DriverRef, Task, use_driver};
use super::order_feed::UseOrderFeedReturn;
use crate::core::ticket_stats::{StatsConfig, StatsKeeper, StatsView};
use crate::web::clock::{local_midnight_unix_ms, now};
use crate::web::http;
use crate::web::timer::DeadlineTimer;

struct StatsDriver {
    keeper: StatsKeeper,
    api_base: String,
    late_after_min: u32,
    feed: UseOrderFeedReturn,
    view: RwSignal<StatsView>,
    timer: DeadlineTimer,
    /// The GET in flight; dropping it aborts the request.
    request: Option<Task>,
    me: DriverRef<StatsDriver>,
}

impl Driver for StatsDriver {
    const NAME: &'static str = "TicketStats";

    fn drive(&mut self, after: &mut After) {
        if self.keeper.poll_request(now()) {
            self.fetch();
        }
        self.timer.set_deadline(self.keeper.poll_timeout());
        let (view, shown) = (self.view, self.keeper.view().clone());
        after.push(move || {
            if view.try_with_untracked(|v| v != &shown) == Some(true) {
                let _ = view.try_set(shown);
            }
        });
    }
}

impl StatsDriver {
    fn fetch(&mut self) {
        let since = local_midnight_unix_ms() as i64;
        let url =
            format!("{}/api/v1/stats/tickets?since={since}&late_after_min={}", self.api_base, self.late_after_min);
        let token = self.feed.token();
        let work =
            async move { http::send_as("GET", &url, token.as_deref(), &[("Accept", "application/json")], None).await };
        self.request = Some(self.me.spawn(work, move |d, now, result| {
            d.request = None;
            match result {
                Ok(r) => d.keeper.handle_response(now, r.status, &r.body),
                Err(e) => d.keeper.handle_network_error(now, &e.to_string()),
            }
        }));
    }
}

/// Today's ticket times. `Copy`.
#[derive(Clone, Copy)]
pub struct UseTicketStatsReturn {
    view: RwSignal<StatsView>,
}

impl UseTicketStatsReturn {
    pub fn view(&self) -> Signal<StatsView> {
        self.view.into()
    }
}

/// Today's ticket times from `{api_base}`, with `feed`'s station token; a span over
/// `late_after_min` minutes counts as late.
pub fn use_ticket_stats(api_base: &str, feed: UseOrderFeedReturn, late_after_min: u32) -> UseTicketStatsReturn {
    let view = RwSignal::new(StatsView::Loading);
    let api_base = api_base.to_string();
    let driver = use_driver(|me: DriverRef<StatsDriver>| {
        let fire = me.clone();
        StatsDriver {
            keeper: StatsKeeper::new(StatsConfig::default(), now()),
            api_base,
            late_after_min,
            feed,
            view,
            timer: DeadlineTimer::new(move || {
                fire.run(|_, _| {});
            }),
            request: None,
            me,
        }
    });
    let board = feed.board();
    Effect::new(move |previous: Option<u64>| {
        let revision = board.with(|b| b.revision());
        if previous.is_some_and(|p| p != revision) {
            driver.run(|d, now| d.keeper.handle_board_changed(now));
        }
        revision
    });
    // The first request goes out once the driver is built (from a task, outside its construction).
    leptos::task::spawn_local(async move {
        driver.run(|_, _| {});
    });
    UseTicketStatsReturn { view }
}
