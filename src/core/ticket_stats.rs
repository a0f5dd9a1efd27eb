//! Today's ticket times on a kitchen screen: when to ask the hub (`GET /api/v1/stats/tickets`),
//! what to show meanwhile, and which figures belong to the screen's station.
//!
//! The figures are asked for when the screen opens, again a few seconds after the board changes
//! (a bump finishes a ticket: the strip should say so soon, but a rush of bumps is one request),
//! and every minute otherwise (the hour moves on). One request at a time; a failed one keeps the
//! last figures on screen, marked stale, and is retried.

use std::time::Duration;

use log::warn;
use restaurant_protocol::{TicketFigures, TicketStats};

use crate::core::board::Station;
use crate::core::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsConfig {
    /// Asked again this long after the last answer, changed or not.
    pub refresh_every: Duration,
    /// Asked this long after the board changed (changes meanwhile are one request).
    pub after_change: Duration,
    /// Asked again this long after a failure.
    pub retry_after: Duration,
}

impl Default for StatsConfig {
    fn default() -> StatsConfig {
        StatsConfig {
            refresh_every: Duration::from_secs(60),
            after_change: Duration::from_secs(2),
            retry_after: Duration::from_secs(15),
        }
    }
}

/// What the strip shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatsView {
    Loading,
    Ready(TicketStats),
    /// The last request failed: the last figures (if any) with why.
    Stale {
        last: Option<TicketStats>,
        message: String,
    },
}

impl StatsView {
    pub fn as_str(&self) -> &'static str {
        match self {
            StatsView::Loading => "loading",
            StatsView::Ready(_) => "ready",
            StatsView::Stale { .. } => "stale",
        }
    }

    /// The figures to draw, fresh or not.
    pub fn stats(&self) -> Option<&TicketStats> {
        match self {
            StatsView::Loading => None,
            StatsView::Ready(stats) => Some(stats),
            StatsView::Stale { last, .. } => last.as_ref(),
        }
    }
}

/// `station`'s figures: its own at a prep station, the whole orders' at kitchen and expo.
/// A station with nothing ready today has empty figures.
pub fn figures_for<'a>(stats: &'a TicketStats, station: &Station) -> Option<&'a TicketFigures> {
    match station {
        Station::Prep(name) => stats.stations.iter().find(|s| &s.station == name).map(|s| &s.figures),
        Station::Kitchen | Station::Expo => Some(&stats.overall),
    }
}

#[derive(Debug, Clone)]
pub struct StatsKeeper {
    config: StatsConfig,
    view: StatsView,
    /// When to ask next (`None` while a request is in flight).
    due: Option<Millis>,
    in_flight: bool,
    /// The board changed while a request was in flight: ask again soon after its answer.
    changed_meanwhile: bool,
}

impl StatsKeeper {
    /// A keeper that asks at once.
    #[must_use]
    pub fn new(config: StatsConfig, now: Millis) -> StatsKeeper {
        StatsKeeper { config, view: StatsView::Loading, due: Some(now), in_flight: false, changed_meanwhile: false }
    }

    pub fn view(&self) -> &StatsView {
        &self.view
    }

    /// The board changed (a ticket may have finished).
    pub fn handle_board_changed(&mut self, now: Millis) {
        if self.in_flight {
            self.changed_meanwhile = true;
            return;
        }
        let soon = now + self.config.after_change;
        self.due = Some(self.due.map_or(soon, |due| due.min(soon)));
    }

    /// `true` once per request to make now: the caller asks the hub and reports the answer.
    #[must_use = "a request is now in flight: make it"]
    pub fn poll_request(&mut self, now: Millis) -> bool {
        if self.in_flight || self.due.is_none_or(|due| due > now) {
            return false;
        }
        self.in_flight = true;
        self.due = None;
        true
    }

    /// When [`StatsKeeper::poll_request`] will next say yes.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.due
    }

    /// The hub's answer: `status` and body.
    pub fn handle_response(&mut self, now: Millis, status: u16, body: &str) {
        if status != 200 {
            let message =
                restaurant_protocol::ApiError::message_of(body).unwrap_or_else(|| format!("the hub answered {status}"));
            return self.failed(now, message);
        }
        match serde_json::from_str::<TicketStats>(body) {
            Ok(stats) => {
                self.view = StatsView::Ready(stats);
                self.answered(now, self.config.refresh_every);
            }
            Err(e) => self.failed(now, format!("unreadable ticket times: {e}")),
        }
    }

    /// The request did not reach the hub.
    pub fn handle_network_error(&mut self, now: Millis, message: &str) {
        self.failed(now, format!("the hub is unreachable: {message}"));
    }

    fn failed(&mut self, now: Millis, message: String) {
        warn!("[TicketStats] {message}");
        let last = self.view.stats().cloned();
        self.view = StatsView::Stale { last, message };
        self.answered(now, self.config.retry_after);
    }

    fn answered(&mut self, now: Millis, next: Duration) {
        self.in_flight = false;
        let next = if std::mem::take(&mut self.changed_meanwhile) { self.config.after_change.min(next) } else { next };
        self.due = Some(now + next);
    }
}

/// `seconds` as `m:ss` (or `h:mm:ss` from an hour).
#[must_use]
pub fn duration_text(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

#[cfg(test)]
mod tests {
    use restaurant_protocol::stats::{TicketSample, ticket_stats};

    use super::*;
    use crate::core::test_support::{ms, secs};

    const T: Millis = Millis(1_000_000);

    fn answer(samples: &[TicketSample]) -> String {
        serde_json::to_string(&ticket_stats(samples, 0, 3_600_000, 900)).unwrap()
    }

    fn sample(station: Option<&str>, seconds: i64) -> TicketSample {
        TicketSample { station: station.map(str::to_string), placed_ms: 0, ready_ms: seconds * 1000 }
    }

    #[test]
    fn asks_at_once_then_every_minute_and_soon_after_a_change() {
        let mut keeper = StatsKeeper::new(StatsConfig::default(), T);
        assert!(keeper.poll_request(T));
        assert!(!keeper.poll_request(T), "one request at a time");
        assert_eq!(keeper.view().as_str(), "loading");
        keeper.handle_response(T + secs(1), 200, &answer(&[sample(None, 300)]));
        assert_eq!(keeper.view().stats().unwrap().overall.count, 1);
        assert_eq!(keeper.poll_timeout(), Some(T + secs(61)));
        keeper.handle_board_changed(T + secs(10));
        keeper.handle_board_changed(T + secs(11));
        assert_eq!(keeper.poll_timeout(), Some(T + secs(12)), "the first change sets when");
        assert!(!keeper.poll_request(T + secs(11)));
        assert!(keeper.poll_request(T + secs(12)));
    }

    #[test]
    fn a_change_during_a_request_asks_again_soon_after_it() {
        let mut keeper = StatsKeeper::new(StatsConfig::default(), T);
        assert!(keeper.poll_request(T));
        keeper.handle_board_changed(T + ms(100));
        assert_eq!(keeper.poll_timeout(), None, "nothing while in flight");
        keeper.handle_response(T + ms(200), 200, &answer(&[]));
        assert_eq!(keeper.poll_timeout(), Some(T + ms(2_200)));
    }

    #[test]
    fn a_failure_keeps_the_last_figures_marked_stale_and_retries() {
        let mut keeper = StatsKeeper::new(StatsConfig::default(), T);
        assert!(keeper.poll_request(T));
        keeper.handle_response(T, 200, &answer(&[sample(Some("grill"), 90)]));
        keeper.handle_board_changed(T);
        assert!(keeper.poll_request(T + secs(2)));
        keeper.handle_network_error(T + secs(3), "offline");
        let StatsView::Stale { last, message } = keeper.view() else { panic!("stale") };
        assert_eq!(last.as_ref().unwrap().stations[0].station, "grill");
        assert!(message.contains("offline"), "{message}");
        assert_eq!(keeper.poll_timeout(), Some(T + secs(18)));
        assert!(keeper.poll_request(T + secs(18)));
        keeper.handle_response(T + secs(19), 401, r#"{"error":{"code":"unauthorized","message":"sign in"}}"#);
        assert!(matches!(keeper.view(), StatsView::Stale { message, .. } if message == "sign in"));
        assert!(keeper.poll_request(T + secs(34)));
        keeper.handle_response(T + secs(35), 200, "{not json");
        assert!(matches!(keeper.view(), StatsView::Stale { message, .. } if message.starts_with("unreadable")));
    }

    #[test]
    fn a_station_sees_its_own_figures_and_expo_the_whole_orders() {
        let stats: TicketStats =
            serde_json::from_str(&answer(&[sample(None, 600), sample(Some("grill"), 240), sample(Some("fryer"), 120)]))
                .unwrap();
        assert_eq!(figures_for(&stats, &Station::parse("grill")).unwrap().average_s, 240);
        assert_eq!(figures_for(&stats, &Station::Expo).unwrap().average_s, 600);
        assert!(figures_for(&stats, &Station::parse("drinks")).is_none());
    }

    #[test]
    fn durations_read_as_minutes_and_seconds() {
        assert_eq!(duration_text(0), "0:00");
        assert_eq!(duration_text(431), "7:11");
        assert_eq!(duration_text(3_725), "1:02:05");
    }
}
