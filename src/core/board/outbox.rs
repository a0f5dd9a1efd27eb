//! The command outbox: a cook's command is shown at once (laid over the confirmed orders), sent
//! once per connection until the hub answers, kept across a reload as JSON, and reverted by
//! removing it when the hub refuses it.

use std::fmt;

use log::{debug, info, warn};
use restaurant_protocol::{ClientMessage, Order};
use serde::{Deserialize, Serialize};

use super::Board;
use crate::core::id::uuid_v4;

/// A change a cook asks for: the protocol's kitchen action (its rules are
/// [`Order::apply_action`], the same the hub runs).
pub use restaurant_protocol::KitchenAction as Command;

/// Lays `command` over `order` as the hub would apply it (a refusal changes nothing: the hub's
/// answer will say why).
pub(super) fn apply_to(command: &Command, order: &mut Order) {
    let at = order.updated_at.clone();
    let _ = order.apply_action(command, "", &at);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    UnknownOrder(String),
    /// The order's state does not allow it (the hub's words for why).
    NotAllowed {
        order_id: String,
        command: &'static str,
        reason: String,
    },
    /// This screen's station may not do it (the hub would refuse it too).
    Forbidden(String),
    /// Not signed in.
    SignedOut,
    OutboxFull,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::UnknownOrder(id) => write!(f, "unknown order {id}"),
            CommandError::NotAllowed { order_id, command, reason } => {
                write!(f, "cannot {command} order {order_id}: {reason}")
            }
            CommandError::Forbidden(why) => write!(f, "{why}"),
            CommandError::SignedOut => write!(f, "not signed in"),
            CommandError::OutboxFull => write!(f, "too many commands waiting for the hub"),
        }
    }
}

impl std::error::Error for CommandError {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxError {
    Malformed(String),
    /// Restoring would exceed the outbox limit; nothing was restored.
    TooMany(usize),
}

impl fmt::Display for OutboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboxError::Malformed(e) => write!(f, "stored outbox is not valid: {e}"),
            OutboxError::TooMany(n) => {
                write!(f, "stored outbox holds {n} commands, more than allowed")
            }
        }
    }
}

impl std::error::Error for OutboxError {}

/// A command the hub refused; its optimistic change has been reverted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFailure {
    pub request_id: String,
    pub order_id: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct OutboxEntry {
    request_id: String,
    pub(super) order_id: String,
    #[serde(deserialize_with = "Command::deserialize_flat")]
    pub(super) command: Command,
    /// Sent on the current connection.
    #[serde(skip)]
    sent: bool,
    /// Acknowledged with this event seq; kept (not re-sent) until the board has applied that seq.
    #[serde(skip)]
    pub(super) acked_seq: Option<u64>,
}

const FAILURE_LIMIT: usize = 10;

impl Board {
    /// Queues `command` for `order_id` under a request id made from `random`, and shows it at once.
    pub fn command(&mut self, order_id: &str, command: Command, random: [u8; 16]) -> Result<String, CommandError> {
        if self.outbox.len() >= self.config.outbox_limit {
            warn!("[OrderFeed] {} on {order_id} refused: outbox full", command.name());
            return Err(CommandError::OutboxFull);
        }
        let Some(order) = self.projected(order_id) else {
            warn!("[OrderFeed] {} on unknown order {order_id} refused", command.name());
            return Err(CommandError::UnknownOrder(order_id.to_string()));
        };
        let mut probe = order.clone();
        if let Err(refused) = probe.apply_action(&command, "", &order.updated_at) {
            let error = CommandError::NotAllowed {
                order_id: order_id.to_string(),
                command: command.name(),
                reason: refused.to_string(),
            };
            warn!("[OrderFeed] {error}");
            return Err(error);
        }
        let request_id = uuid_v4(random);
        info!("[OrderFeed] {} on order #{} queued as {request_id}", command.name(), order.number);
        self.outbox.push(OutboxEntry {
            request_id: request_id.clone(),
            order_id: order_id.to_string(),
            command,
            sent: false,
            acked_seq: None,
        });
        self.touch(order_id);
        self.touch_outbox();
        Ok(request_id)
    }

    /// The commands not yet sent on this connection, marked as sent.
    #[must_use = "the commands are marked as sent: send them"]
    pub fn take_unsent(&mut self) -> Vec<ClientMessage> {
        self.outbox
            .iter_mut()
            .filter(|e| !e.sent && e.acked_seq.is_none())
            .map(|e| {
                e.sent = true;
                ClientMessage::for_action(e.request_id.clone(), e.order_id.clone(), e.command.clone())
            })
            .collect()
    }

    /// The connection is gone: every unanswered command goes out again on the next one.
    pub fn connection_lost(&mut self) {
        for entry in &mut self.outbox {
            entry.sent = false;
        }
    }

    pub fn handle_ack(&mut self, request_id: &str, seq: u64) {
        let Some(index) = self.outbox.iter().position(|e| e.request_id == request_id) else {
            debug!("[OrderFeed] ack for unknown request {request_id}");
            return;
        };
        debug!("[OrderFeed] {request_id} acknowledged at seq {seq}");
        self.outbox[index].acked_seq = Some(seq);
        let order_id = self.outbox[index].order_id.clone();
        self.touch(&order_id);
        self.prune_acked();
        self.touch_outbox();
    }

    /// The hub refused a command: it leaves the outbox, which reverts its optimistic change.
    pub fn handle_command_error(&mut self, request_id: &str, code: &str, message: &str) {
        let Some(index) = self.outbox.iter().position(|e| e.request_id == request_id) else {
            warn!("[OrderFeed] error {code} for unknown request {request_id}: {message}");
            return;
        };
        let entry = self.outbox.remove(index);
        self.touch(&entry.order_id);
        let number =
            self.projected(&entry.order_id).map_or_else(|| entry.order_id.clone(), |o| format!("#{}", o.number));
        let text = format!("Could not {} order {number}: {message} ({code})", entry.command.name());
        warn!("[OrderFeed] {text} [{request_id}]");
        self.failures.push_back(CommandFailure {
            request_id: entry.request_id,
            order_id: entry.order_id,
            message: text,
        });
        while self.failures.len() > FAILURE_LIMIT {
            self.failures.pop_front();
        }
        self.touch_outbox();
    }

    /// Refused commands, oldest first (at most the last ten).
    pub fn failures(&self) -> impl Iterator<Item = &CommandFailure> {
        self.failures.iter()
    }

    pub fn dismiss_failures(&mut self) {
        if !self.failures.is_empty() {
            self.failures.clear();
            self.revision += 1;
        }
    }

    /// Commands still waiting for the hub's answer.
    pub fn pending_commands(&self) -> usize {
        self.outbox.iter().filter(|e| e.acked_seq.is_none()).count()
    }

    /// Changes whenever the persisted outbox would change.
    pub fn outbox_revision(&self) -> u64 {
        self.outbox_revision
    }

    /// The unanswered commands as JSON, for local storage.
    pub fn outbox_json(&self) -> String {
        let unanswered: Vec<&OutboxEntry> = self.outbox.iter().filter(|e| e.acked_seq.is_none()).collect();
        serde_json::to_string(&unanswered).unwrap_or_else(|e| {
            warn!("[OrderFeed] could not serialize the outbox: {e}");
            "[]".to_string()
        })
    }

    /// Adds the commands stored by `outbox_json` (skipping ones already queued); returns how many.
    pub fn restore_outbox(&mut self, json: &str) -> Result<usize, OutboxError> {
        let stored: Vec<OutboxEntry> = serde_json::from_str(json).map_err(|e| {
            warn!("[OrderFeed] stored outbox ignored: {e}");
            OutboxError::Malformed(e.to_string())
        })?;
        let fresh: Vec<OutboxEntry> = stored
            .into_iter()
            .filter(|s| !s.request_id.is_empty() && !s.order_id.is_empty())
            .filter(|s| !self.outbox.iter().any(|e| e.request_id == s.request_id))
            .collect();
        if self.outbox.len() + fresh.len() > self.config.outbox_limit {
            warn!("[OrderFeed] stored outbox of {} commands exceeds the limit; ignored", fresh.len());
            return Err(OutboxError::TooMany(fresh.len()));
        }
        let count = fresh.len();
        for entry in &fresh {
            self.touch(&entry.order_id);
        }
        self.outbox.extend(fresh);
        if count > 0 {
            info!("[OrderFeed] restored {count} unanswered commands");
            self.touch_outbox();
        }
        Ok(count)
    }

    fn touch_outbox(&mut self) {
        self.revision += 1;
        self.outbox_revision += 1;
    }

    /// An acked command stays laid over the board until its event is applied, so the card never
    /// flickers back to the old state in between.
    pub(super) fn prune_acked(&mut self) {
        let Some(last) = self.last_seq else { return };
        self.remove_commands(|e| e.acked_seq.is_some_and(|seq| seq <= last));
    }

    /// Acks for seqs the hub no longer has (it restarted empty) will never be applied.
    pub(super) fn drop_unknown_acks(&mut self, hub_seq: u64) {
        self.remove_commands(|e| e.acked_seq.is_some_and(|seq| seq > hub_seq));
    }

    /// Takes the commands that `remove` picks out of the outbox; their orders' display changes.
    fn remove_commands(&mut self, mut remove: impl FnMut(&OutboxEntry) -> bool) {
        let mut touched = Vec::new();
        self.outbox.retain(|e| {
            let keep = !remove(e);
            if !keep {
                touched.push(e.order_id.clone());
            }
            keep
        });
        for order_id in touched {
            self.touch(&order_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use restaurant_protocol::{OrderStatus, ServerMessage, Snapshot};

    use super::*;
    use crate::core::test_support::{burger, live, status, statuses};

    #[test]
    fn command_is_optimistic_and_pending_until_acked_and_applied() {
        let mut board = live(1, vec![burger("a", 1)]);
        let id = board.command("a", Command::Start { station: "kitchen".into() }, [7; 16]).expect("start allowed");
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::Preparing, true)]);
        assert_eq!(board.pending_commands(), 1);
        let sent = board.take_unsent();
        assert_eq!(
            sent,
            vec![ClientMessage::Start { request_id: id.clone(), order_id: "a".into(), station: "kitchen".into() }]
        );
        assert!(board.take_unsent().is_empty(), "sent once per connection");
        // The ack can overtake the event: the card keeps the new status meanwhile.
        board.handle_ack(&id, 2);
        assert_eq!(board.pending_commands(), 0);
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::Preparing, false)]);
        board.handle_event(status(2, "a", OrderStatus::Preparing));
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::Preparing, false)]);
        assert_eq!(board.outbox_json(), "[]");
    }

    #[test]
    fn ack_removes_the_command() {
        let mut board = live(1, vec![burger("a", 1)]);
        board.handle_event(status(2, "a", OrderStatus::Preparing));
        let id = board.command("a", Command::Rush { rush: true }, [2; 16]).expect("rush allowed");
        assert_eq!(board.take_unsent().len(), 1);
        board.handle_event(ServerMessage::OrderUpdated {
            seq: 3,
            order: Order { rush: true, status: OrderStatus::Preparing, ..burger("a", 1) },
        });
        board.handle_ack(&id, 3);
        assert_eq!(board.pending_commands(), 0);
        assert_eq!(board.outbox_json(), "[]");
        connection_cycle_sends_nothing(&mut board);
    }

    fn connection_cycle_sends_nothing(board: &mut Board) {
        board.connection_lost();
        assert!(board.take_unsent().is_empty());
    }

    #[test]
    fn acked_command_covered_by_a_snapshot_stops_overlaying() {
        let mut board = live(1, vec![burger("a", 1)]);
        let id = board.command("a", Command::Start { station: "kitchen".into() }, [6; 16]).expect("start allowed");
        assert_eq!(board.take_unsent().len(), 1);
        board.handle_resync(1);
        board.handle_ack(&id, 2);
        assert!(board.poll_snapshot_request());
        // By the time of the snapshot the order moved on to ready.
        let mut ready = burger("a", 1);
        ready.status = OrderStatus::Ready;
        board.apply_snapshot(Snapshot { seq: 3, orders: vec![ready], sold_out: None, recent: vec![] });
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::Ready, false)]);
    }

    #[test]
    fn error_reverts_the_optimistic_change_with_a_message() {
        let mut board = live(1, vec![burger("a", 7)]);
        let id = board.command("a", Command::Start { station: "kitchen".into() }, [3; 16]).expect("start allowed");
        assert_eq!(board.take_unsent().len(), 1);
        board.handle_command_error(&id, "invalid_transition", "order is cancelled");
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::New, false)]);
        assert_eq!(board.pending_commands(), 0);
        let failure = board.failures().next().expect("a failure");
        assert_eq!(failure.request_id, id);
        assert!(
            failure.message.contains("#7") && failure.message.contains("order is cancelled"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn unanswered_commands_are_resent_after_the_connection_is_lost() {
        let mut board = live(1, vec![burger("a", 1)]);
        board.command("a", Command::Start { station: "kitchen".into() }, [4; 16]).expect("start allowed");
        assert_eq!(board.take_unsent().len(), 1);
        board.connection_lost();
        assert_eq!(board.take_unsent().len(), 1);
        assert!(board.take_unsent().is_empty());
    }

    #[test]
    fn invalid_commands_are_refused_locally() {
        let mut board = live(1, vec![burger("a", 1)]);
        assert!(matches!(
            board.command("a", Command::Complete { force: false }, [0; 16]),
            Err(CommandError::NotAllowed { .. })
        ));
        assert_eq!(
            board.command("nope", Command::Start { station: "kitchen".into() }, [0; 16]),
            Err(CommandError::UnknownOrder("nope".into()))
        );
        board.command("a", Command::Start { station: "kitchen".into() }, [0; 16]).expect("start allowed");
        assert!(
            matches!(
                board.command("a", Command::Start { station: "kitchen".into() }, [1; 16]),
                Err(CommandError::NotAllowed { .. })
            ),
            "a double tap does not queue twice"
        );
        assert_eq!(board.pending_commands(), 1);
    }

    #[test]
    fn outbox_survives_a_reload_through_json() {
        let mut board = live(1, vec![burger("a", 1)]);
        let id = board.command("a", Command::Start { station: "kitchen".into() }, [5; 16]).expect("start allowed");
        assert_eq!(board.take_unsent().len(), 1);
        let stored = board.outbox_json();

        let mut reloaded = live(1, vec![burger("a", 1)]);
        assert_eq!(reloaded.restore_outbox(&stored), Ok(1));
        assert_eq!(reloaded.restore_outbox(&stored), Ok(0), "already queued");
        assert_eq!(statuses(&reloaded), vec![("a".into(), OrderStatus::Preparing, true)]);
        assert!(matches!(&reloaded.take_unsent()[..], [ClientMessage::Start { request_id, .. }] if *request_id == id));
        assert!(matches!(reloaded.restore_outbox("{not json"), Err(OutboxError::Malformed(_))));
    }
}
