//! The order board: the hub's orders as of a sequence number, the commands still on their way, and
//! what a station's screen derives from both.
//!
//! Orders arrive as a snapshot (`{seq, orders}`) and then as events numbered by `seq`; a duplicate
//! is ignored, the next one applied, and a gap makes the board ask for a fresh snapshot while it
//! buffers what keeps arriving. Commands go through an outbox: shown optimistically at once (the
//! displayed orders are the confirmed ones with the outbox laid over them), sent once per
//! connection until answered, and reverted by removing them when the hub says no.

mod active;
mod changes;
mod grid;
mod outbox;
mod saved;
mod stream;
mod view;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use restaurant_protocol::{Order, SoldOut};

pub use changes::BoardMark;
pub use grid::{GridVersion, TicketGrid};
pub use outbox::{Command, CommandError, CommandFailure, OutboxError};
pub use saved::{SaveError, SavedBoard, SavedBoardWriter, WriteProgress};
pub use view::{
    AgeLevel, AllDayCount, ShownElapsed, Station, StationProgress, Ticket, VOID_SHOWN, created_unix_ms, elapsed_since,
};

use crate::core::sorted_map::SortedMap;
use active::ActiveOrders;
use changes::ChangeLog;
use outbox::OutboxEntry;
use stream::Sync;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardConfig {
    /// A ticket older than this is `warning`.
    pub warning_after: Duration,
    /// A ticket older than this is `urgent`.
    pub urgent_after: Duration,
    /// How many completed orders stay available for recall.
    pub recall_limit: usize,
    /// Commands waiting for an answer, at most.
    pub outbox_limit: usize,
    /// Events buffered during a resync, at most (beyond it the buffer restarts from the snapshot).
    pub buffer_limit: usize,
}

impl BoardConfig {
    /// The thresholds as deployments set them, in minutes (`ticket_warning_min`, `ticket_urgent_min`).
    #[must_use]
    pub fn with_thresholds_min(warning_min: u32, urgent_min: u32) -> BoardConfig {
        BoardConfig { warning_after: minutes(warning_min), urgent_after: minutes(urgent_min), ..BoardConfig::default() }
    }
}

impl Default for BoardConfig {
    fn default() -> BoardConfig {
        BoardConfig {
            warning_after: minutes(10),
            urgent_after: minutes(15),
            recall_limit: restaurant_protocol::RECALL_HISTORY,
            outbox_limit: 200,
            buffer_limit: 10_000,
        }
    }
}

fn minutes(n: u32) -> Duration {
    Duration::from_secs(u64::from(n) * 60)
}

#[derive(Debug, Clone)]
pub struct Board {
    config: BoardConfig,
    /// Confirmed active orders. Shared (`Arc`): every view derived from the board, and every
    /// published copy of it, points at the same orders; a change replaces one.
    orders: ActiveOrders,
    /// Confirmed completed orders, newest first, for recall.
    completed: VecDeque<Arc<Order>>,
    /// Confirmed voided orders, newest first (shown struck through for a few seconds).
    voided: VecDeque<Arc<Order>>,
    last_seq: Option<u64>,
    sync: Sync,
    outbox: Vec<OutboxEntry>,
    failures: VecDeque<CommandFailure>,
    revision: u64,
    outbox_revision: u64,
    /// Which orders each change touched, for the views that follow the board change by change.
    changes: ChangeLog,
    /// What the last `menu.updated` (or snapshot) said is sold out, with its seq (`None`: none
    /// heard since the page loaded).
    sold_out: Option<(u64, SoldOut)>,
}

impl Board {
    #[must_use]
    pub fn new(config: BoardConfig) -> Board {
        Board {
            config,
            orders: ActiveOrders::default(),
            completed: VecDeque::new(),
            voided: VecDeque::new(),
            last_seq: None,
            sync: Sync::Resync { fetching: false, buffer: SortedMap::new() },
            outbox: Vec::new(),
            failures: VecDeque::new(),
            revision: 0,
            outbox_revision: 0,
            changes: ChangeLog::default(),
            sold_out: None,
        }
    }

    /// Forgets every order and command (sign-out).
    pub fn clear(&mut self) {
        let (revision, outbox_revision) = (self.revision + 1, self.outbox_revision + 1);
        *self = Board { revision, outbox_revision, ..Board::new(self.config.clone()) };
    }

    /// What the hub last said is sold out, in event order with the orders.
    pub fn sold_out(&self) -> Option<&SoldOut> {
        self.sold_out.as_ref().map(|(_, s)| s)
    }

    /// [`Board::sold_out`] with the seq it is as of.
    pub fn sold_out_as_of(&self) -> Option<(u64, &SoldOut)> {
        self.sold_out.as_ref().map(|(seq, s)| (*seq, s))
    }

    /// Changes whenever what the board displays changes.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Where the board is now, to ask later what changed since ([`Board::changed_since`]).
    pub fn mark(&self) -> BoardMark {
        self.changes.mark(self.revision)
    }

    /// The ids of the orders whose display a change after `mark` may have touched (their
    /// confirmed state, or this screen's commands on them), each once, in id order. `None` when
    /// the board cannot say: every order may have changed (a snapshot, a restored board, a
    /// sign-out), or `mark` is older than the board remembers, ahead of it, or of another board.
    /// A copy of the board shares its history: a mark taken on one copy is good for a later copy
    /// of the same board as it moves on (not for a copy changed apart from it).
    pub fn changed_since(&self, mark: BoardMark) -> Option<Vec<&str>> {
        let mut ids: Vec<&str> = self.changes.since(mark, self.revision)?.collect();
        crate::core::sort::sort(&mut ids);
        ids.dedup();
        Some(ids)
    }

    /// The order `order_id`'s display may have changed.
    fn touch(&mut self, order_id: &str) {
        self.revision += 1;
        self.changes.touched(self.revision, order_id);
    }

    /// Every order's display may have changed.
    fn touch_all(&mut self) {
        self.revision += 1;
        self.changes.touched_all(self.revision);
    }
}
