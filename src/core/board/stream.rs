//! The board's side of the event stream: a snapshot, then events applied strictly by `seq`; a
//! duplicate is ignored, a gap buffers what keeps arriving and asks for a fresh snapshot.

use std::sync::Arc;

use log::{debug, info, warn};
use restaurant_protocol::{Order, OrderStatus, ServerMessage, Snapshot};

use super::Board;
use super::saved::SavedBoard;
use crate::core::sorted_map::SortedMap;

/// Voided orders the board keeps for showing, at most.
const VOIDS_KEPT: usize = 20;

/// Where the board stands with the event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Sync {
    /// Applying events as they come.
    Live,
    /// Waiting for a snapshot, buffering events (by seq) meanwhile.
    Resync { fetching: bool, buffer: SortedMap<u64, ServerMessage> },
}

impl Board {
    /// The hub's greeting on a new connection, with its current seq.
    pub fn handle_welcome(&mut self, seq: u64) {
        if self.last_seq.is_some_and(|last| seq < last) {
            warn!("[OrderFeed] hub is at seq {seq}, behind the board's {:?}; resyncing", self.last_seq);
            self.start_resync(true);
        }
        self.drop_unknown_acks(seq);
    }

    /// The hub cannot replay what was missed: a snapshot is needed. Events buffered so far came
    /// before this point of the new connection and are superseded by it.
    pub fn handle_resync(&mut self, seq: u64) {
        info!("[OrderFeed] hub asks for a resync at seq {seq}");
        self.start_resync(true);
        self.drop_unknown_acks(seq);
    }

    /// An order event (`order.*`); anything else is ignored.
    pub fn handle_event(&mut self, event: ServerMessage) {
        let Some(seq) = event.event_seq() else {
            debug!("[OrderFeed] not an order event: {event:?}");
            return;
        };
        if self.last_seq.is_some_and(|last| seq <= last) {
            debug!("[OrderFeed] duplicate event seq {seq} ignored");
            return;
        }
        let limit = self.config.buffer_limit;
        match &mut self.sync {
            Sync::Resync { buffer, .. } => {
                if buffer.len() >= limit {
                    warn!("[OrderFeed] resync buffer full ({limit} events); dropping it for a newer snapshot");
                    buffer.clear();
                }
                buffer.insert(seq, event);
            }
            Sync::Live => {
                let next = self.last_seq.map_or(0, |last| last + 1);
                if seq == next {
                    self.apply_in_order(seq, event);
                } else {
                    warn!("[OrderFeed] gap: expected seq {next}, got {seq}; resyncing");
                    self.start_resync(false);
                    if let Sync::Resync { buffer, .. } = &mut self.sync {
                        buffer.insert(seq, event);
                    }
                }
            }
        }
    }

    /// `true` once per needed snapshot: the caller must now fetch it (all stations: filtering is
    /// done here) and report with `apply_snapshot` or `snapshot_failed`.
    #[must_use = "the board now waits for this snapshot: fetch it"]
    pub fn poll_snapshot_request(&mut self) -> bool {
        match &mut self.sync {
            Sync::Resync { fetching, .. } if !*fetching => {
                *fetching = true;
                true
            }
            _ => false,
        }
    }

    /// A fetched snapshot replaces the confirmed orders; buffered events newer than it follow.
    pub fn apply_snapshot(&mut self, snapshot: Snapshot) {
        let Sync::Resync { mut buffer, .. } = std::mem::replace(&mut self.sync, Sync::Live) else {
            debug!("[OrderFeed] unrequested snapshot at seq {} ignored (board is live)", snapshot.seq);
            return;
        };
        info!("[OrderFeed] snapshot at seq {} with {} orders", snapshot.seq, snapshot.orders.len());
        self.orders.clear();
        // Completed orders may have changed unseen (recalled, rushed, completed again) in the gap
        // the snapshot covers, and it does not list them: a later event about one resyncs.
        self.completed.clear();
        // The hub's recall history, newest first.
        for order in snapshot.recent.into_iter().rev() {
            self.put(Arc::new(order));
        }
        for order in snapshot.orders {
            self.put(Arc::new(order));
        }
        if let Some(sold_out) = snapshot.sold_out {
            self.sold_out = Some((snapshot.seq, sold_out));
        }
        self.last_seq = Some(snapshot.seq);
        self.touch_all();
        // In seq order; what cannot be applied yet stays buffered.
        let mut newer = buffer.split_off(&snapshot.seq.saturating_add(1)).into_iter().peekable();
        while self.sync == Sync::Live {
            let Some(&(seq, _)) = newer.peek() else {
                break;
            };
            if self.last_seq.is_none_or(|last| seq != last + 1) {
                break;
            }
            let Some((seq, event)) = newer.next() else {
                break;
            };
            self.apply_in_order(seq, event);
        }
        let newer: SortedMap<u64, ServerMessage> = newer.collect();
        if !newer.is_empty() {
            match &mut self.sync {
                Sync::Live => {
                    warn!("[OrderFeed] gap after snapshot at seq {:?}; resyncing again", self.last_seq);
                    self.sync = Sync::Resync { fetching: false, buffer: newer };
                }
                Sync::Resync { buffer, .. } => buffer.extend(newer),
            }
        }
        self.prune_acked();
    }

    /// The snapshot could not be fetched; `poll_snapshot_request` will ask again.
    pub fn snapshot_failed(&mut self) {
        if let Sync::Resync { fetching, .. } = &mut self.sync {
            *fetching = false;
        }
    }

    pub fn last_seq(&self) -> Option<u64> {
        self.last_seq
    }

    /// The confirmed board, for keeping in the page's storage: `None` unless it is current
    /// (applying events, at a known seq).
    pub fn saved(&self) -> Option<SavedBoard> {
        let seq = self.last_seq.filter(|_| self.is_live())?;
        Some(SavedBoard {
            seq,
            orders: self.orders.values().cloned().collect(),
            recent: self.completed.iter().cloned().collect(),
            sold_out: self.sold_out.as_ref().map(|(_, s)| s.clone()),
            saved_at_unix_ms: 0,
        })
    }

    /// Shows a board kept by [`Board::saved`] (after a reload while the hub is unreachable): its
    /// orders as of its seq, from which the next connection resumes. Only into an empty board.
    pub fn restore(&mut self, saved: SavedBoard) -> bool {
        if self.last_seq.is_some() {
            warn!("[OrderFeed] a saved board is only restored into an empty one");
            return false;
        }
        info!("[OrderFeed] showing the saved board at seq {} with {} orders", saved.seq, saved.orders.len());
        for order in saved.recent.into_iter().rev() {
            self.put(order);
        }
        for order in saved.orders {
            self.put(order);
        }
        self.sold_out = saved.sold_out.map(|s| (saved.seq, s));
        self.last_seq = Some(saved.seq);
        self.sync = Sync::Live;
        self.touch_all();
        true
    }

    /// Applying events as they come (not waiting for a snapshot).
    pub fn is_live(&self) -> bool {
        self.sync == Sync::Live
    }

    /// Confirmed active orders, by id (without the outbox's optimistic changes).
    pub fn confirmed_orders(&self) -> &SortedMap<Arc<str>, Arc<Order>> {
        self.orders.by_id()
    }

    pub(super) fn start_resync(&mut self, clear_buffer: bool) {
        match &mut self.sync {
            Sync::Resync { buffer, .. } => {
                if clear_buffer {
                    buffer.clear();
                }
            }
            Sync::Live => self.sync = Sync::Resync { fetching: false, buffer: SortedMap::new() },
        }
    }

    /// Applies the event that is exactly next; an event about an order the board does not know
    /// means the board has diverged, which a snapshot repairs.
    fn apply_in_order(&mut self, seq: u64, event: ServerMessage) {
        self.last_seq = Some(seq);
        self.revision += 1;
        match event {
            ServerMessage::OrderCreated { order, .. } | ServerMessage::OrderUpdated { order, .. } => {
                self.touch(&order.id);
                self.put(Arc::new(order));
            }
            ServerMessage::OrderStatusChanged { order_id, status, updated_at, .. } => {
                let known = self.orders.remove(&order_id).or_else(|| self.take_completed(&order_id));
                match known {
                    Some(mut order) => {
                        let changed = Arc::make_mut(&mut order);
                        changed.status = status;
                        changed.updated_at = updated_at;
                        self.touch(&order_id);
                        self.put(order);
                    }
                    None if status.is_active() => {
                        warn!("[OrderFeed] seq {seq}: status of unknown order {order_id}; resyncing");
                        self.start_resync(false);
                    }
                    None => {
                        debug!("[OrderFeed] seq {seq}: unknown order {order_id} left the board")
                    }
                }
            }
            ServerMessage::OrderDeleted { order_id, .. } => {
                self.orders.remove(&order_id);
                self.take_completed(&order_id);
                self.touch(&order_id);
            }
            ServerMessage::MenuUpdated { sold_out, .. } => self.sold_out = Some((seq, sold_out)),
            other => debug!("[OrderFeed] seq {seq}: not an order event: {other:?}"),
        }
        self.prune_acked();
    }

    /// Files a confirmed order where its status puts it. The caller notes the change to the order
    /// (`touch`), or to every order after a snapshot or a restored board (`touch_all`: a board of
    /// a thousand orders is not logged order by order only to be forgotten).
    pub(super) fn put(&mut self, order: Arc<Order>) {
        self.take_completed(&order.id);
        if order.status.is_active() {
            self.orders.insert(order);
        } else {
            self.orders.remove(&order.id);
            if order.status == OrderStatus::Completed {
                self.completed.push_front(order);
                while self.completed.len() > self.config.recall_limit {
                    if let Some(oldest) = self.completed.pop_back() {
                        self.touch(&oldest.id);
                    }
                }
            } else if order.void.is_some() {
                self.voided.retain(|o| o.id != order.id);
                self.voided.push_front(order);
                self.voided.truncate(VOIDS_KEPT);
            }
        }
    }

    pub(super) fn take_completed(&mut self, order_id: &str) -> Option<Arc<Order>> {
        let index = self.completed.iter().position(|o| o.id == order_id)?;
        self.completed.remove(index)
    }
}

#[cfg(test)]
mod tests {
    use restaurant_protocol::{Snapshot, SoldOut};

    use super::*;
    use crate::core::board::{BoardConfig, Command, Station};
    use crate::core::test_support::{burger, created, live, status, statuses};

    #[test]
    fn duplicate_events_are_ignored() {
        let mut board = live(5, vec![burger("a", 1)]);
        board.handle_event(status(6, "a", OrderStatus::Preparing));
        let revision = board.revision();
        board.handle_event(status(6, "a", OrderStatus::Ready));
        board.handle_event(created(3, burger("z", 9)));
        assert_eq!(board.revision(), revision);
        assert_eq!(board.last_seq(), Some(6));
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::Preparing, false)]);
    }

    #[test]
    fn gap_requests_a_snapshot_then_applies_buffered_newer_events() {
        let mut board = live(5, vec![burger("a", 1)]);
        board.handle_event(created(8, burger("c", 3)));
        assert!(!board.is_live());
        assert!(board.poll_snapshot_request());
        assert!(!board.poll_snapshot_request(), "one fetch at a time");
        board.handle_event(created(9, burger("d", 4)));
        // The snapshot already contains seq 6–8; event 8 in the buffer is older and skipped.
        board.apply_snapshot(Snapshot {
            seq: 8,
            orders: vec![burger("a", 1), burger("b", 2), burger("c", 3)],
            sold_out: None,
            recent: vec![],
        });
        assert!(board.is_live());
        assert_eq!(board.last_seq(), Some(9));
        let ids: Vec<String> = board.confirmed_orders().keys().map(|id| id.to_string()).collect();
        assert_eq!(ids, ["a", "b", "c", "d"]);
    }

    #[test]
    fn snapshot_older_than_the_buffer_resyncs_again() {
        let mut board = live(5, vec![]);
        board.handle_event(created(9, burger("d", 4)));
        assert!(board.poll_snapshot_request());
        board.apply_snapshot(Snapshot { seq: 7, orders: vec![], sold_out: None, recent: vec![] });
        assert!(!board.is_live(), "seq 8 is still missing");
        assert!(board.poll_snapshot_request());
        board.apply_snapshot(Snapshot { seq: 8, orders: vec![], sold_out: None, recent: vec![] });
        assert!(board.is_live());
        assert_eq!(board.last_seq(), Some(9));
    }

    #[test]
    fn the_sold_out_list_follows_menu_events_in_order_and_snapshots() {
        let out = |ids: &[&str]| SoldOut { items: ids.iter().map(|s| s.to_string()).collect(), options: vec![] };
        let mut board = live(5, vec![]);
        assert_eq!(board.sold_out(), None);
        board.handle_event(ServerMessage::MenuUpdated { seq: 6, sold_out: out(&["cola"]) });
        board.handle_event(created(7, burger("a", 1)));
        assert_eq!(board.sold_out(), Some(&out(&["cola"])));
        assert_eq!(board.last_seq(), Some(7), "a menu event counts in the sequence");
        // A gap: the event after it waits for the snapshot, which carries the list as of its seq.
        board.handle_event(ServerMessage::MenuUpdated { seq: 10, sold_out: out(&[]) });
        assert!(board.poll_snapshot_request());
        board.apply_snapshot(Snapshot {
            seq: 9,
            orders: vec![],
            sold_out: Some(out(&["cola", "fries"])),
            recent: vec![],
        });
        assert_eq!(board.sold_out(), Some(&out(&[])), "the buffered newer event wins");
        board.handle_resync(12);
        assert!(board.poll_snapshot_request());
        board.apply_snapshot(Snapshot { seq: 12, orders: vec![], sold_out: Some(out(&["pie"])), recent: vec![] });
        assert_eq!(board.sold_out_as_of(), Some((12, &out(&["pie"]))));
    }

    #[test]
    fn failed_snapshot_is_requested_again() {
        let mut board = Board::new(BoardConfig::default());
        assert!(board.poll_snapshot_request());
        board.snapshot_failed();
        assert!(board.poll_snapshot_request());
    }

    #[test]
    fn status_of_an_unknown_active_order_resyncs() {
        let mut board = live(1, vec![]);
        board.handle_event(status(2, "ghost", OrderStatus::Preparing));
        assert!(!board.is_live());
    }

    #[test]
    fn hub_resync_message_needs_a_snapshot() {
        let mut board = live(4, vec![burger("a", 1)]);
        board.handle_resync(10);
        assert!(board.poll_snapshot_request());
        board.apply_snapshot(Snapshot { seq: 10, orders: vec![], sold_out: None, recent: vec![] });
        assert!(board.confirmed_orders().is_empty());
    }

    #[test]
    fn completed_orders_leave_the_grid_and_can_be_recalled() {
        let mut board = live(1, vec![burger("a", 1)]);
        board.handle_event(status(2, "a", OrderStatus::Preparing));
        board.handle_event(status(3, "a", OrderStatus::Ready));
        board.handle_event(status(4, "a", OrderStatus::Completed));
        assert!(statuses(&board).is_empty());
        assert_eq!(board.recallable(&Station::Expo).len(), 1);
        board.command("a", Command::Recall { station: None }, [1; 16]).expect("recall allowed");
        // Its items (from an event that carried only the status) are new: it comes back new.
        assert_eq!(statuses(&board), vec![("a".into(), OrderStatus::New, true)]);
        assert!(board.recallable(&Station::Expo).is_empty());
    }

    #[test]
    fn a_saved_board_comes_back_at_its_seq_and_resumes_from_there() {
        let mut board = live(4, vec![burger("a", 1), burger("b", 2)]);
        board.handle_event(status(5, "b", OrderStatus::Completed));
        let saved = board.saved().expect("a live board saves");
        assert_eq!((saved.seq, saved.orders.len(), saved.recent.len()), (5, 1, 1));
        let json = serde_json::to_string(&saved).unwrap();

        let mut reloaded = Board::new(BoardConfig::default());
        assert!(reloaded.saved().is_none(), "nothing to save before the first snapshot");
        assert!(reloaded.restore(serde_json::from_str(&json).unwrap()));
        assert!(reloaded.is_live() && reloaded.last_seq() == Some(5));
        assert_eq!(statuses(&reloaded), vec![("a".into(), OrderStatus::New, false)]);
        assert_eq!(reloaded.recallable(&Station::Expo).len(), 1);
        reloaded.handle_event(created(6, burger("c", 3)));
        assert_eq!(statuses(&reloaded).len(), 2, "the next event applies on top");
        assert!(!reloaded.restore(saved), "never over a board that has one");
    }
}
