//! The kiosk's order submission: one `Idempotency-Key` per order attempt, the order kept (and
//! persisted) until the hub acknowledges it, retried with the same key on network or server
//! failures — never lost, never duplicated. A hub that is busy (`429`, `503`) says how long to
//! wait (`Retry-After`) and the order is sent again after that. A hub that does not know this
//! kiosk (`401 device_unpaired`) keeps the order waiting until the kiosk is paired, then it is
//! sent. Pure: the driver performs the POST and persists the JSON this module hands out.

use std::collections::VecDeque;
use std::time::Duration;

use restaurant_protocol::{ApiError, NewOrder, OrderReceipt};
use serde::{Deserialize, Serialize};

use super::device::is_device_unpaired;
use super::time::{Millis, whole_millis};

/// Wait before the first retry; doubles per failed attempt.
const RETRY_BASE: Duration = Duration::from_secs(1);
const RETRY_CAP: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured as such (a longer one is shortened to this).
const RETRY_AFTER_CAP: Duration = Duration::from_secs(5 * 60);

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
    /// The last attempt failed for a reason worth retrying; the next one is scheduled in `wait`.
    Retrying {
        attempt: u32,
        reason: String,
        wait: Duration,
    },
    /// The hub does not know this kiosk: the order is kept and sent once the kiosk is paired.
    WaitingForPairing,
    /// Acknowledged by the hub.
    Sent {
        number: u32,
        order_id: String,
        /// What the hub charged.
        total_cents: i64,
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
            SubmitState::WaitingForPairing => "waiting_for_pairing",
            SubmitState::Sent { .. } => "sent",
            SubmitState::Rejected { .. } => "rejected",
        }
    }

    /// A POST is in flight or scheduled: the submit button waits.
    pub fn is_sending(&self) -> bool {
        matches!(self, SubmitState::Sending { .. } | SubmitState::Retrying { .. } | SubmitState::WaitingForPairing)
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
    /// The hub answered `device_unpaired` to the last POST: the kiosk must be paired.
    DeviceUnpaired,
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
    /// The order waits for the kiosk to be paired.
    awaiting_device: bool,
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

    /// The hub answered `status` with `body` (and a `Retry-After` of `retry_after`, if any).
    pub fn handle_response(&mut self, now: Millis, status: u16, body: &str, retry_after: Option<Duration>) {
        self.in_flight = false;
        if self.pending.is_none() {
            return;
        }
        if is_device_unpaired(status, body) {
            log::warn!("[OrderSubmit] the hub does not know this kiosk; the order is kept until it is paired");
            self.awaiting_device = true;
            self.retry_at = None;
            self.commands.push_back(SubmitCommand::DeviceUnpaired);
            self.set_state(SubmitState::WaitingForPairing);
            return;
        }
        match status {
            200 | 201 => match serde_json::from_str::<OrderReceipt>(body) {
                Ok(env) => {
                    self.pending = None;
                    self.retry_at = None;
                    self.commands.push_back(SubmitCommand::Persist(None));
                    self.set_state(SubmitState::Sent {
                        number: env.order.number,
                        order_id: env.order.id,
                        total_cents: env.order.totals.total_cents,
                    });
                }
                Err(e) => self.retry(now, format!("unreadable answer from the hub ({e})")),
            },
            429 | 503 => {
                let reason = format!("the hub is busy (HTTP {status})");
                self.retry_after(now, reason, retry_after.map(|wait| wait.min(RETRY_AFTER_CAP)));
            }
            408 | 425 | 500..=599 => self.retry(now, format!("the hub answered HTTP {status}")),
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

    /// Retry now (the network came back, or the person tapped "Try again"). An order waiting for
    /// the kiosk to be paired keeps waiting.
    pub fn retry_now(&mut self, now: Millis) {
        if self.pending.is_some() && !self.in_flight && !self.awaiting_device {
            self.send(now);
        }
    }

    /// The kiosk has (again) a device token: an order that waited for it is sent now.
    pub fn handle_paired(&mut self, now: Millis) {
        if std::mem::take(&mut self.awaiting_device) && self.pending.is_some() && !self.in_flight {
            log::info!("[OrderSubmit] the kiosk is paired; sending the order that waited");
            self.attempt = 0;
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
        self.retry_after(now, reason, None);
    }

    /// Schedules the next attempt after `wait` (the hub's `Retry-After`), else after the backoff.
    fn retry_after(&mut self, now: Millis, reason: String, wait: Option<Duration>) {
        let backoff = RETRY_BASE.saturating_mul(1 << self.attempt.saturating_sub(1).min(10)).min(RETRY_CAP);
        let delay = wait.unwrap_or(backoff);
        log::warn!(
            "[OrderSubmit] attempt {} failed: {reason}; retrying in {} ms with the same key",
            self.attempt,
            whole_millis(delay)
        );
        self.retry_at = Some(now + delay);
        self.set_state(SubmitState::Retrying { attempt: self.attempt, reason, wait: delay });
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
            items: vec![NewOrderItem::plain("cheeseburger", 2)],
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
        s.handle_response(Millis(50), 201, CREATED, None);
        let cmds = drain(|| s.poll_command());
        assert!(cmds.contains(&SubmitCommand::Persist(None)));
        assert_eq!(s.state(), SubmitState::Sent { number: 42, order_id: "o-1".into(), total_cents: 0 });
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
        s.handle_response(Millis(1_020), 503, "", None);
        assert_eq!(s.poll_timeout(), Some(Millis(3_020)), "backoff doubles");
        s.handle_timeout(Millis(3_020));
        assert_eq!(posts(&drain(|| s.poll_command())), ["key-1"]);
        s.handle_response(Millis(3_100), 200, CREATED, None);
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
        s.handle_response(Millis(5), 400, r#"{"error":{"code":"bad_request","message":"unknown menu item"}}"#, None);
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
    fn busy_answers_retry_after_the_wait_the_hub_asks_for() {
        for status in [429, 503] {
            let mut s = OrderSubmitter::new();
            s.submit(Millis(0), order(), "key-1".into()).unwrap();
            drain(|| s.poll_command());
            s.handle_response(Millis(100), status, "", Some(Duration::from_secs(7)));
            assert_eq!(s.poll_timeout(), Some(Millis(7_100)), "HTTP {status}: Retry-After, not the backoff");
            assert!(
                matches!(s.state(), SubmitState::Retrying { wait, .. } if wait == Duration::from_secs(7)),
                "{:?}",
                s.state()
            );
            assert!(s.pending().is_some(), "the order is kept");
            let cmds = drain(|| s.poll_command());
            assert!(!cmds.contains(&SubmitCommand::Persist(None)), "the stored order stays");
            s.handle_timeout(Millis(7_099));
            assert!(posts(&drain(|| s.poll_command())).is_empty(), "not before the wait is over");
            s.handle_timeout(Millis(7_100));
            assert_eq!(posts(&drain(|| s.poll_command())), ["key-1"], "same key");
            s.handle_response(Millis(7_200), 201, CREATED, None);
            assert!(matches!(s.state(), SubmitState::Sent { number: 42, .. }));
        }
    }

    #[test]
    fn a_busy_answer_without_retry_after_backs_off_and_a_huge_one_is_capped() {
        let mut s = OrderSubmitter::new();
        s.submit(Millis(0), order(), "key-1".into()).unwrap();
        s.handle_response(Millis(0), 429, "", None);
        assert_eq!(s.poll_timeout(), Some(Millis(1_000)));
        s.handle_timeout(Millis(1_000));
        s.handle_response(Millis(1_000), 503, "", Some(Duration::from_secs(86_400)));
        assert_eq!(s.poll_timeout(), Some(Millis(1_000) + RETRY_AFTER_CAP));
    }

    #[test]
    fn an_unpaired_kiosk_keeps_the_order_until_it_is_paired() {
        let mut s = OrderSubmitter::new();
        s.submit(Millis(0), order(), "key-1".into()).unwrap();
        drain(|| s.poll_command());
        let unpaired = r#"{"error":{"code":"device_unpaired","message":"pair this kiosk"}}"#;
        s.handle_response(Millis(10), 401, unpaired, None);
        let cmds = drain(|| s.poll_command());
        assert!(cmds.contains(&SubmitCommand::DeviceUnpaired));
        assert!(!cmds.contains(&SubmitCommand::Persist(None)), "the stored order stays");
        assert_eq!(s.state(), SubmitState::WaitingForPairing);
        assert!(s.state().is_sending());
        assert_eq!(s.poll_timeout(), None, "no retry until paired");
        s.retry_now(Millis(20));
        assert!(posts(&drain(|| s.poll_command())).is_empty(), "Try now does not send it unpaired");
        assert_eq!(s.submit(Millis(21), order(), "key-2".into()), Err(SubmitError::InFlight));

        s.handle_paired(Millis(30));
        assert_eq!(posts(&drain(|| s.poll_command())), ["key-1"], "sent after pairing, with its key");
        s.handle_response(Millis(40), 201, CREATED, None);
        assert!(matches!(s.state(), SubmitState::Sent { number: 42, .. }));
        s.handle_paired(Millis(50));
        assert!(posts(&drain(|| s.poll_command())).is_empty(), "nothing more to send");
    }

    #[test]
    fn another_401_is_a_rejection() {
        let mut s = OrderSubmitter::new();
        s.submit(Millis(0), order(), "key-1".into()).unwrap();
        s.handle_response(Millis(1), 401, r#"{"error":{"code":"auth_failed","message":"no"}}"#, None);
        assert_eq!(s.state(), SubmitState::Rejected { message: "no".into() });
    }

    #[test]
    fn empty_orders_are_refused() {
        let mut s = OrderSubmitter::new();
        let mut o = order();
        o.items.clear();
        assert_eq!(s.submit(Millis(0), o, "k".into()), Err(SubmitError::EmptyOrder));
    }
}
