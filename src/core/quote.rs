//! The hub's price for the cart (`POST /api/v1/orders/quote`), kept in step with the cart.
//!
//! Each cart change waits a short settle time, then asks once; answers to an older cart are
//! dropped (the customer may tap faster than the hub answers), so the totals on screen are always
//! the hub's numbers for the lines on screen, or plainly marked as the page's own estimate.
//! A hub that cannot be reached is asked again after [`QuoteConfig::retry_after`].

use std::time::Duration;

use log::{info, warn};
use restaurant_protocol::{ApiError, NewOrderItem, Quote, Totals};

use super::time::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteConfig {
    /// Quiet time after a cart change before asking (taps come in bursts).
    pub settle: Duration,
    /// Wait before asking again a hub that did not answer.
    pub retry_after: Duration,
    /// A request unanswered for this long is given up (a hub that accepts and never answers).
    pub answer_within: Duration,
}

impl Default for QuoteConfig {
    fn default() -> QuoteConfig {
        QuoteConfig {
            settle: Duration::from_millis(150),
            retry_after: Duration::from_secs(5),
            answer_within: Duration::from_secs(8),
        }
    }
}

/// Where the totals on screen come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteState {
    /// Nothing in the cart.
    Empty,
    /// Asking the hub about the current lines.
    Pending,
    /// The hub's price for the current lines.
    Quoted(Quote),
    /// The hub could not be asked: the page's own estimate is shown, marked as such.
    Estimate { reason: String },
    /// The hub refuses the lines as they are (a sold-out item, say): its message.
    Refused { message: String },
}

impl QuoteState {
    pub fn as_str(&self) -> &'static str {
        match self {
            QuoteState::Empty => "empty",
            QuoteState::Pending => "pending",
            QuoteState::Quoted(_) => "quoted",
            QuoteState::Estimate { .. } => "estimate",
            QuoteState::Refused { .. } => "refused",
        }
    }

    /// The totals to show: the hub's when quoted, otherwise `estimate`.
    pub fn totals(&self, estimate: Totals) -> Totals {
        match self {
            QuoteState::Quoted(quote) => quote.totals,
            _ => estimate,
        }
    }
}

/// A request to make: POST `lines` and report the answer with `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteRequest {
    pub version: u64,
    pub lines: Vec<NewOrderItem>,
}

#[derive(Debug)]
pub struct QuoteKeeper {
    config: QuoteConfig,
    lines: Vec<NewOrderItem>,
    version: u64,
    /// When to ask about `version` (`None`: nothing to ask).
    due: Option<Millis>,
    /// The version asked about and not answered yet, and when to give up on it.
    in_flight: Option<(u64, Millis)>,
    state: QuoteState,
}

impl QuoteKeeper {
    #[must_use]
    pub fn new(config: QuoteConfig) -> QuoteKeeper {
        QuoteKeeper { config, lines: Vec::new(), version: 0, due: None, in_flight: None, state: QuoteState::Empty }
    }

    pub fn state(&self) -> &QuoteState {
        &self.state
    }

    /// The cart now holds `lines`. Unchanged lines change nothing.
    pub fn handle_cart(&mut self, now: Millis, lines: Vec<NewOrderItem>) {
        if lines == self.lines && self.version > 0 {
            return;
        }
        self.lines = lines;
        self.version += 1;
        if self.lines.is_empty() {
            self.due = None;
            self.state = QuoteState::Empty;
        } else {
            self.due = Some(now + self.config.settle);
            self.state = QuoteState::Pending;
        }
    }

    /// Asks again about the same lines (the menu changed: an item sold out or came back).
    pub fn handle_menu_changed(&mut self, now: Millis) {
        if self.lines.is_empty() {
            return;
        }
        self.version += 1;
        self.due = Some(now + self.config.settle);
        self.state = QuoteState::Pending;
    }

    /// The request to make now, if any (one at a time; a newer cart waits for the answer).
    pub fn poll_request(&mut self, now: Millis) -> Option<QuoteRequest> {
        if self.in_flight.is_some() || self.due.is_none_or(|due| now < due) {
            return None;
        }
        self.due = None;
        self.in_flight = Some((self.version, now + self.config.answer_within));
        Some(QuoteRequest { version: self.version, lines: self.lines.clone() })
    }

    /// When to call [`QuoteKeeper::handle_timeout`] (a request to give up on) or
    /// [`QuoteKeeper::poll_request`] (one to make).
    pub fn poll_timeout(&self) -> Option<Millis> {
        match self.in_flight {
            Some((_, give_up)) => Some(give_up),
            None => self.due,
        }
    }

    /// Gives up on a request unanswered past its deadline: the estimate is shown and the hub is
    /// asked again later (an answer that still comes for the current cart is taken).
    pub fn handle_timeout(&mut self, now: Millis) {
        let Some((version, give_up)) = self.in_flight else { return };
        if now < give_up {
            return;
        }
        self.in_flight = None;
        warn!("[Quote] no answer within {} ms", self.config.answer_within.as_millis());
        if version == self.version {
            self.unavailable(now, "the hub did not answer".into());
        } else {
            // The cart changed meanwhile: ask about it now.
            self.due = Some(now);
        }
    }

    /// The hub's answer to the request `version`: the HTTP status and body.
    pub fn handle_response(&mut self, now: Millis, version: u64, status: u16, body: &str) {
        if !self.answered(version) {
            return;
        }
        match status {
            200 => match serde_json::from_str::<Quote>(body) {
                Ok(quote) => self.state = QuoteState::Quoted(quote),
                Err(e) => {
                    warn!("[Quote] unreadable quote: {e}");
                    self.unavailable(now, format!("the hub's answer could not be read ({e})"));
                }
            },
            400 | 404 | 409 | 422 => {
                let message = serde_json::from_str::<ApiError>(body)
                    .map(|e| e.error.message)
                    .unwrap_or_else(|_| format!("the hub refused the order (HTTP {status})"));
                info!("[Quote] refused: {message}");
                self.state = QuoteState::Refused { message };
            }
            _ => {
                warn!("[Quote] HTTP {status} from the hub");
                self.unavailable(now, format!("the hub answered HTTP {status}"));
            }
        }
    }

    /// The request `version` failed before any answer (the hub is unreachable).
    pub fn handle_network_error(&mut self, now: Millis, version: u64, error: &str) {
        if !self.answered(version) {
            return;
        }
        warn!("[Quote] no answer: {error}");
        self.unavailable(now, "the hub cannot be reached".into());
    }

    /// Clears `in_flight`; `false` for an answer about an older cart (asked again if needed).
    fn answered(&mut self, version: u64) -> bool {
        if self.in_flight.is_some_and(|(v, _)| v == version) {
            self.in_flight = None;
        }
        if version != self.version {
            info!("[Quote] answer for cart {version} dropped: the cart is at {}", self.version);
            return false;
        }
        true
    }

    fn unavailable(&mut self, now: Millis, reason: String) {
        self.state = QuoteState::Estimate { reason };
        self.due = Some(now + self.config.retry_after);
    }
}

#[cfg(test)]
mod tests {
    use restaurant_protocol::{QuoteLine, TaxRule};

    use super::*;

    fn line(id: &str, quantity: u32) -> NewOrderItem {
        NewOrderItem::plain(id, quantity)
    }

    fn quote_json(total: i64) -> String {
        let quote = Quote {
            lines: vec![QuoteLine {
                menu_item_id: "cola".into(),
                name: "Cola".into(),
                quantity: 1,
                options: vec![],
                unit_price_cents: total,
                line_total_cents: total,
            }],
            totals: TaxRule::default().totals(total),
        };
        serde_json::to_string(&quote).unwrap()
    }

    fn keeper() -> QuoteKeeper {
        QuoteKeeper::new(QuoteConfig::default())
    }

    const T: Millis = Millis(1_000);

    #[test]
    fn a_change_is_asked_about_once_it_settles() {
        let mut k = keeper();
        assert_eq!(k.state(), &QuoteState::Empty);
        k.handle_cart(T, vec![line("cola", 1)]);
        assert_eq!(k.state().as_str(), "pending");
        assert_eq!(k.poll_timeout(), Some(T + Duration::from_millis(150)));
        assert!(k.poll_request(T).is_none(), "not before it settles");
        k.handle_cart(T + Duration::from_millis(100), vec![line("cola", 2)]);
        let request = k.poll_request(T + Duration::from_millis(260)).expect("asked");
        assert_eq!(request.lines, [line("cola", 2)]);
        assert!(k.poll_request(T + Duration::from_secs(9)).is_none(), "one at a time");
        k.handle_response(T, request.version, 200, &quote_json(498));
        let QuoteState::Quoted(q) = k.state() else { panic!("{:?}", k.state()) };
        assert_eq!(q.totals.total_cents, 498);
        k.handle_cart(T, vec![line("cola", 2)]);
        assert_eq!(k.state().as_str(), "quoted", "the same lines ask nothing");
        k.handle_cart(T, vec![]);
        assert_eq!(k.state(), &QuoteState::Empty);
        assert_eq!(k.poll_timeout(), None);
    }

    #[test]
    fn an_answer_about_an_older_cart_is_never_shown() {
        let mut k = keeper();
        k.handle_cart(T, vec![line("cola", 1)]);
        let first = k.poll_request(T + Duration::from_secs(1)).unwrap();
        // The customer adds another while the hub answers about one.
        k.handle_cart(T + Duration::from_secs(1), vec![line("cola", 2)]);
        k.handle_response(T + Duration::from_secs(1), first.version, 200, &quote_json(249));
        assert_eq!(k.state().as_str(), "pending", "the stale total is not shown");
        let second = k.poll_request(T + Duration::from_secs(2)).expect("the newer cart is asked about");
        assert_eq!(second.lines, [line("cola", 2)]);
        k.handle_response(T + Duration::from_secs(2), second.version, 200, &quote_json(498));
        assert_eq!(k.state().totals(Totals::default()).total_cents, 498);
    }

    #[test]
    fn an_unreachable_hub_shows_the_estimate_and_is_asked_again() {
        let mut k = keeper();
        k.handle_cart(T, vec![line("cola", 1)]);
        let r = k.poll_request(T + Duration::from_secs(1)).unwrap();
        k.handle_network_error(T + Duration::from_secs(1), r.version, "TypeError: Failed to fetch");
        assert_eq!(k.state(), &QuoteState::Estimate { reason: "the hub cannot be reached".into() });
        let estimate = TaxRule::default().totals(249);
        assert_eq!(k.state().totals(estimate), estimate);
        assert!(k.poll_request(T + Duration::from_secs(3)).is_none());
        let again = k.poll_request(T + Duration::from_secs(6)).expect("asked again");
        k.handle_response(T + Duration::from_secs(6), again.version, 503, "");
        assert_eq!(k.state(), &QuoteState::Estimate { reason: "the hub answered HTTP 503".into() });
        let third = k.poll_request(T + Duration::from_secs(11)).unwrap();
        k.handle_response(T + Duration::from_secs(11), third.version, 200, &quote_json(249));
        assert_eq!(k.state().as_str(), "quoted");
    }

    #[test]
    fn a_hub_that_never_answers_is_given_up_on_and_asked_again() {
        let mut k = keeper();
        k.handle_cart(T, vec![line("cola", 1)]);
        let r = k.poll_request(T + Duration::from_secs(1)).unwrap();
        let give_up = k.poll_timeout().expect("a deadline while asking");
        assert_eq!(give_up, T + Duration::from_secs(9));
        k.handle_timeout(Millis(give_up.0 - 1));
        assert_eq!(k.state().as_str(), "pending");
        k.handle_timeout(give_up);
        assert_eq!(k.state(), &QuoteState::Estimate { reason: "the hub did not answer".into() });
        // A later change is asked about (nothing is stuck behind the lost request)…
        k.handle_cart(give_up, vec![line("cola", 2)]);
        let again = k.poll_request(give_up + Duration::from_secs(1)).expect("asked");
        assert_eq!(again.lines, [line("cola", 2)]);
        // …and the lost request's late answer, about an older cart, is not shown.
        k.handle_response(give_up, r.version, 200, &quote_json(249));
        assert_eq!(k.state().as_str(), "pending");
    }

    #[test]
    fn a_menu_change_asks_again_about_the_same_lines() {
        let mut k = keeper();
        k.handle_menu_changed(T);
        assert_eq!(k.poll_timeout(), None, "an empty cart asks nothing");
        k.handle_cart(T, vec![line("shake", 1)]);
        let r = k.poll_request(T + Duration::from_secs(1)).unwrap();
        k.handle_response(T, r.version, 400, r#"{"error":{"code":"sold_out","message":"sold out"}}"#);
        k.handle_menu_changed(T + Duration::from_secs(2));
        assert_eq!(k.state().as_str(), "pending");
        let again = k.poll_request(T + Duration::from_secs(3)).expect("asked again");
        assert_eq!(again.lines, [line("shake", 1)]);
        k.handle_response(T, again.version, 200, &quote_json(549));
        assert_eq!(k.state().as_str(), "quoted");
    }

    #[test]
    fn a_refusal_carries_the_hubs_message_and_garbage_is_not_a_price() {
        let mut k = keeper();
        k.handle_cart(T, vec![line("shake", 1)]);
        let r = k.poll_request(T + Duration::from_secs(1)).unwrap();
        let body = r#"{"error":{"code":"sold_out","message":"items[0]: Chocolate Shake is sold out"}}"#;
        k.handle_response(T, r.version, 400, body);
        assert_eq!(k.state(), &QuoteState::Refused { message: "items[0]: Chocolate Shake is sold out".into() });
        k.handle_cart(T, vec![line("cola", 1)]);
        let r = k.poll_request(T + Duration::from_secs(1)).unwrap();
        k.handle_response(T, r.version, 200, "{not json");
        assert_eq!(k.state().as_str(), "estimate");
        k.handle_cart(T, vec![line("cola", 3)]);
        let r = k.poll_request(T + Duration::from_secs(2)).unwrap();
        k.handle_response(T, r.version, 400, "<html>");
        assert_eq!(k.state(), &QuoteState::Refused { message: "the hub refused the order (HTTP 400)".into() });
    }
}
