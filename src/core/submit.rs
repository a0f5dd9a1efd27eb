//! The kiosk's order submission: one `Idempotency-Key` per order attempt, the order kept (and
//! persisted) until the hub acknowledges it, retried with the same key on network or server
//! failures — never lost, never duplicated. Pure: the driver performs the POST and persists the
//! JSON this module hands out.

use std::collections::VecDeque;
use std::time::Duration;

use restaurant_protocol::{ApiError, NewOrder, OrderEnvelope};
use serde::{Deserialize, Serialize};

use super::time::{Millis, whole_millis};

/// Wait before the first retry; doubles per failed attempt.
const RETRY_BASE: Duration = Duration::from_secs(1);
const RETRY_CAP: Duration = Duration::from_secs(30);

/// What is persisted while an order is unacknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingOrder {
    pub idempotency_key: String,
    pub order: NewOrder,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitState {
    Idle,
    /// A POST is in flight (`attempt` counts from 1).
    Sending {
        attempt: u32,
    },
    /// The last attempt failed for a reason worth retrying; the next one is scheduled.
    Retrying {
        attempt: u32,
        reason: String,
    },
    /// Acknowledged by the hub.
    Sent {
        number: u32,
        order_id: String,
    },
    /// The hub refused the order (it would refuse it again): shown, not retried.
    Rejected {
        message: String,
    },
}

impl SubmitState {
    /// `data-state` of the submit status line.
    pub fn as_str(&self) -> &'static str {
        match self {
            SubmitState::Idle => "idle",
            SubmitState::Sending { .. } => "sending",
            SubmitState::Retrying { .. } => "retrying",
            SubmitState::Sent { .. } => "sent",
            SubmitState::Rejected { .. } => "rejected",
        }
    }

    /// A POST is in flight or scheduled: the submit button waits.
    pub fn is_sending(&self) -> bool {
        matches!(self, SubmitState::Sending { .. } | SubmitState::Retrying { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitCommand {
    /// `POST /api/v1/orders` with this key and JSON body.
    Post {
        idempotency_key: String,
        body: String,
    },
    /// Store this (or remove the stored value on `None`).
    Persist(Option<String>),
    StateChanged(SubmitState),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitError {
    /// An order is already on its way; the same order is not sent twice.
    InFlight,
    EmptyOrder,
}

#[derive(Debug, Default)]
pub struct OrderSubmitter {
    pending: Option<PendingOrder>,
    state: Option<SubmitState>,
    attempt: u32,
    in_flight: bool,
    retry_at: Option<Millis>,
    commands: VecDeque<SubmitCommand>,
}

impl OrderSubmitter {
    #[must_use]
    pub fn new() -> OrderSubmitter {
        OrderSubmitter::default()
    }

    pub fn state(&self) -> SubmitState {
        self.state.clone().unwrap_or(SubmitState::Idle)
    }

    pub fn pending(&self) -> Option<&PendingOrder> {
        self.pending.as_ref()
    }

    #[must_use = "the command must be carried out"]
    pub fn poll_command(&mut self) -> Option<SubmitCommand> {
        self.commands.pop_front()
    }

    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.retry_at
    }

    /// Restores an order persisted by an earlier page load and sends it again with its key.
    pub fn restore(&mut self, now: Millis, stored: &str) {
        match serde_json::from_str::<PendingOrder>(stored) {
            Ok(p) => {
                log::info!("[OrderSubmit] resuming unacknowledged order {}", p.idempotency_key);
                self.pending = Some(p);
                self.attempt = 0;
                self.send(now);
            }
            Err(e) => {
                log::error!("[OrderSubmit] discarding unreadable stored order: {e}");
                self.commands.push_back(SubmitCommand::Persist(None));
            }
        }
    }

    /// Starts an order attempt. `idempotency_key` is a fresh UUID for this attempt.
    pub fn submit(&mut self, now: Millis, order: NewOrder, idempotency_key: String) -> Result<(), SubmitError> {
        if self.pending.is_some() {
            return Err(SubmitError::InFlight);
        }
        if order.items.is_empty() {
            return Err(SubmitError::EmptyOrder);
        }
        let pending = PendingOrder { idempotency_key, order };
        let json = serde_json::to_string(&pending).expect("a pending order serializes");
        self.commands.push_back(SubmitCommand::Persist(Some(json)));
        self.pending = Some(pending);
        self.attempt = 0;
        self.send(now);
        Ok(())
    }

    /// The hub answered `status` with `body`.
    pub fn handle_response(&mut self, now: Millis, status: u16, body: &str) {
        self.in_flight = false;
        if self.pending.is_none() {
            return;
        }
        match status {
            200 | 201 => match serde_json::from_str::<OrderEnvelope>(body) {
                Ok(env) => {
                    self.pending = None;
                    self.retry_at = None;
                    self.commands.push_back(SubmitCommand::Persist(None));
                    self.set_state(SubmitState::Sent { number: env.order.number, order_id: env.order.id });
                }
                Err(e) => self.retry(now, format!("unreadable answer from the hub ({e})")),
            },
            408 | 425 | 429 | 500..=599 => self.retry(now, format!("the hub answered HTTP {status}")),
            _ => {
                let message = serde_json::from_str::<ApiError>(body)
                    .map(|e| e.error.message)
                    .unwrap_or_else(|_| format!("the hub refused the order (HTTP {status})"));
                log::error!("[OrderSubmit] order rejected: HTTP {status}: {message}");
                self.pending = None;
                self.retry_at = None;
                self.commands.push_back(SubmitCommand::Persist(None));
                self.set_state(SubmitState::Rejected { message });
            }
        }
    }

    /// The POST produced no response (offline, hub down).
    pub fn handle_network_error(&mut self, now: Millis, reason: &str) {
        self.in_flight = false;
        if self.pending.is_some() {
            self.retry(now, reason.to_string());
        }
    }

    /// Retry now (the network came back, or the person tapped "Try again").
    pub fn retry_now(&mut self, now: Millis) {
        if self.pending.is_some() && !self.in_flight {
            self.send(now);
        }
    }

    pub fn handle_timeout(&mut self, now: Millis) {
        if self.retry_at.is_some_and(|t| now >= t) {
            self.retry_now(now);
        }
    }

    /// Back to Idle after a confirmation or rejection was shown (a pending order is kept).
    pub fn acknowledge(&mut self) {
        if self.pending.is_none() {
            self.set_state(SubmitState::Idle);
        }
    }

    fn send(&mut self, _now: Millis) {
        let Some(p) = &self.pending else { return };
        self.attempt += 1;
        self.in_flight = true;
        self.retry_at = None;
        let body = serde_json::to_string(&p.order).expect("an order serializes");
        self.commands.push_back(SubmitCommand::Post { idempotency_key: p.idempotency_key.clone(), body });
        self.set_state(SubmitState::Sending { attempt: self.attempt });
    }

    fn retry(&mut self, now: Millis, reason: String) {
        let delay = RETRY_BASE.saturating_mul(1 << self.attempt.saturating_sub(1).min(10)).min(RETRY_CAP);
        log::warn!(
            "[OrderSubmit] attempt {} failed: {reason}; retrying in {} ms with the same key",
            self.attempt,
            whole_millis(delay)
        );
        self.retry_at = Some(now + delay);
        self.set_state(SubmitState::Retrying { attempt: self.attempt, reason });
    }

    fn set_state(&mut self, state: SubmitState) {
        if self.state.as_ref() != Some(&state) {
            self.state = Some(state.clone());
            self.commands.push_back(SubmitCommand::StateChanged(state));
        }
    }
}

#[cfg(test)]
mod tests {
    use restaurant_protocol::{NewOrderItem, OrderSource};

    use super::*;
    use crate::core::test_support::{drain, picked};

    fn order() -> NewOrder {
        NewOrder {
            items: vec![NewOrderItem {
                menu_item_id: "cheeseburger".into(),
                quantity: 2,
                modifiers: vec![],
                special_instructions: None,
            }],
            source: OrderSource::Voice,
            customer_name: None,
            notes: None,
        }
    }

    fn posts(cmds: &[SubmitCommand]) -> Vec<String> {
        picked!(cmds, SubmitCommand::Post { idempotency_key, .. } => idempotency_key.clone())
    }

    const CREATED: &str = r#"{"order":{"id":"o-1","number":42,"source":"voice","status":"new","rush":false,
        "items":[],"notes":"","created_at":"2026-11-21T00:00:00Z","updated_at":"2026-11-21T00:00:00Z"}}"#;

    #[test]
    fn submit_persists_then_posts_and_an_ack_clears_it() {
        let mut s = OrderSubmitter::new();
        s.submit(Millis(0), order(), "key-1".into()).unwrap();
        let cmds = drain(|| s.poll_command());
        assert!(
            matches!(&cmds[0], SubmitCommand::Persist(Some(json)) if json.contains("key-1")),
            "persist before sending"
        );
        assert_eq!(posts(&cmds), ["key-1"]);
        s.handle_response(Millis(50), 201, CREATED);
        let cmds = drain(|| s.poll_command());
        assert!(cmds.contains(&SubmitCommand::Persist(None)));
        assert_eq!(s.state(), SubmitState::Sent { number: 42, order_id: "o-1".into() });
        assert!(s.pending().is_none());
    }

    #[test]
    fn network_failure_retries_with_the_same_key_and_backoff() {
        let mut s = OrderSubmitter::new();
        s.submit(Millis(0), order(), "key-1".into()).unwrap();
        drain(|| s.poll_command());
        s.handle_network_error(Millis(10), "offline");
        assert_eq!(s.poll_timeout(), Some(Millis(1_010)));
        s.handle_timeout(Millis(500));
        assert!(posts(&drain(|| s.poll_command())).is_empty(), "not before the deadline");
        s.handle_timeout(Millis(1_010));
        assert_eq!(posts(&drain(|| s.poll_command())), ["key-1"]);
        s.handle_response(Millis(1_020), 503, "");
        assert_eq!(s.poll_timeout(), Some(Millis(3_020)), "backoff doubles");
        s.handle_timeout(Millis(3_020));
        assert_eq!(posts(&drain(|| s.poll_command())), ["key-1"]);
        s.handle_response(Millis(3_100), 200, CREATED);
        assert!(matches!(s.state(), SubmitState::Sent { number: 42, .. }));
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn a_second_submit_while_pending_is_refused_not_duplicated() {
        let mut s = OrderSubmitter::new();
        s.submit(Millis(0), order(), "key-1".into()).unwrap();
        assert_eq!(s.submit(Millis(1), order(), "key-2".into()), Err(SubmitError::InFlight));
        assert_eq!(posts(&drain(|| s.poll_command())), ["key-1"]);
    }

    #[test]
    fn a_rejected_order_is_reported_and_not_retried() {
        let mut s = OrderSubmitter::new();
        s.submit(Millis(0), order(), "key-1".into()).unwrap();
        drain(|| s.poll_command());
        s.handle_response(Millis(5), 400, r#"{"error":{"code":"bad_request","message":"unknown menu item"}}"#);
        assert_eq!(s.state(), SubmitState::Rejected { message: "unknown menu item".into() });
        assert_eq!(s.poll_timeout(), None);
        assert!(drain(|| s.poll_command()).contains(&SubmitCommand::Persist(None)));
    }

    #[test]
    fn an_order_restored_after_a_reload_is_sent_again_with_its_key() {
        let mut first = OrderSubmitter::new();
        first.submit(Millis(0), order(), "key-7".into()).unwrap();
        let stored = drain(|| first.poll_command())
            .into_iter()
            .find_map(|c| match c {
                SubmitCommand::Persist(Some(json)) => Some(json),
                _ => None,
            })
            .unwrap();
        let mut reloaded = OrderSubmitter::new();
        reloaded.restore(Millis(0), &stored);
        assert_eq!(posts(&drain(|| reloaded.poll_command())), ["key-7"]);
    }

    #[test]
    fn unreadable_stored_order_is_discarded_with_a_log() {
        let mut s = OrderSubmitter::new();
        s.restore(Millis(0), "{not json");
        assert_eq!(drain(|| s.poll_command()), [SubmitCommand::Persist(None)]);
        assert_eq!(s.state(), SubmitState::Idle);
    }

    #[test]
    fn empty_orders_are_refused() {
        let mut s = OrderSubmitter::new();
        let mut o = order();
        o.items.clear();
        assert_eq!(s.submit(Millis(0), o, "k".into()), Err(SubmitError::EmptyOrder));
    }
}
