//! Which orders a board change touched, for the views that follow the board change by change.
//!
//! A screen derives its grid and its alerts from the board after every change, and at a busy
//! pass most changes touch one order of hundreds. The board notes here the id of each order whose
//! display a change may have touched (its confirmed state or this screen's commands on it), so a
//! view that kept its state can look at those orders only ([`super::Board::changed_since`]) rather
//! than walk them all. A change to every order (a snapshot, a restored board, a sign-out) and a
//! view further behind than the log keeps answer `None`: the view walks the whole board.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Changes the log keeps. A screen reads its board every frame, some tens of changes behind at
/// most; one further behind than this walks the whole board once. Each entry is a shared id, so
/// copying the board (once a frame, for the page) copies no text: it counts each id once more.
const LOG_LIMIT: usize = 1024;

/// Tells boards apart: each [`super::Board::new`] takes the next, and a board's copies keep its
/// own. A sign-out ([`super::Board::clear`]) starts the board again from `Board::new`, so with a
/// lineage of its own: no mark from before it is answered (its new log starts empty).
static NEXT_LINEAGE: AtomicU64 = AtomicU64::new(1);

/// A point in a board's history: what a view saw last, to ask what changed since
/// ([`super::Board::mark`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoardMark {
    lineage: u64,
    revision: u64,
}

#[derive(Debug, Clone)]
pub(super) struct ChangeLog {
    lineage: u64,
    /// The ids of the orders changed, with the board's revision after each change, oldest first.
    entries: VecDeque<(u64, Arc<str>)>,
    /// The log names every order changed after this revision.
    complete_after: u64,
}

impl Default for ChangeLog {
    fn default() -> ChangeLog {
        ChangeLog { lineage: NEXT_LINEAGE.fetch_add(1, Ordering::Relaxed), entries: VecDeque::new(), complete_after: 0 }
    }
}

impl ChangeLog {
    /// The order `id` changed, making the board's revision `revision` (each change has its own).
    pub fn touched(&mut self, revision: u64, id: &str) {
        self.entries.push_back((revision, Arc::from(id)));
        while self.entries.len() > LOG_LIMIT {
            if let Some((dropped, _)) = self.entries.pop_front() {
                self.complete_after = self.complete_after.max(dropped);
            }
        }
    }

    /// Every order may have changed, making the board's revision `revision`.
    pub fn touched_all(&mut self, revision: u64) {
        self.entries.clear();
        self.complete_after = revision;
    }

    pub fn mark(&self, revision: u64) -> BoardMark {
        BoardMark { lineage: self.lineage, revision }
    }

    /// The ids of the orders changed after `mark` (an id may come more than once), or `None` when
    /// the log cannot say: `mark` is of another board, older than the log reaches, or ahead of
    /// `revision` (a mark taken on a later copy of the board).
    pub fn since(&self, mark: BoardMark, revision: u64) -> Option<impl Iterator<Item = &str>> {
        if mark.lineage != self.lineage || mark.revision < self.complete_after || mark.revision > revision {
            return None;
        }
        let first = self.entries.partition_point(|(at, _)| *at <= mark.revision);
        Some(self.entries.range(first..).map(|(_, id)| &**id))
    }
}

#[cfg(test)]
mod tests {
    use restaurant_protocol::{OrderStatus, Snapshot};

    use super::super::{Board, BoardConfig, Command};
    use super::*;
    use crate::core::test_support::{burger, created, live, status};

    /// What `board` says changed since `mark`.
    fn changed(board: &Board, mark: BoardMark) -> Option<Vec<&str>> {
        board.changed_since(mark)
    }

    fn since(log: &ChangeLog, mark: BoardMark, revision: u64) -> Option<Vec<&str>> {
        log.since(mark, revision).map(Iterator::collect)
    }

    #[test]
    fn names_the_orders_changed_after_a_mark_and_no_more() {
        let mut log = ChangeLog::default();
        let start = log.mark(0);
        log.touched(1, "a");
        log.touched(2, "b");
        let middle = log.mark(2);
        log.touched(3, "a");
        assert_eq!(since(&log, start, 3), Some(vec!["a", "b", "a"]));
        assert_eq!(since(&log, middle, 3), Some(vec!["a"]));
        assert_eq!(since(&log, log.mark(3), 3), Some(vec![]));
        // A copy goes on from the same history: a mark of the original is good for it.
        let mut copy = log.clone();
        copy.touched(4, "c");
        assert_eq!(since(&copy, middle, 4), Some(vec!["a", "c"]));
    }

    #[test]
    fn cannot_say_for_another_board_a_change_to_every_order_or_past_its_limit() {
        let mut log = ChangeLog::default();
        let other = ChangeLog::default();
        assert_eq!(since(&log, other.mark(0), 0), None, "another board's mark");
        assert_eq!(since(&log, log.mark(5), 0), None, "a mark from ahead of the board");
        let start = log.mark(0);
        log.touched(1, "a");
        log.touched_all(2);
        assert_eq!(since(&log, start, 2), None, "every order changed after the mark");
        assert_eq!(since(&log, log.mark(2), 2), Some(vec![]));
        let before = log.mark(2);
        for revision in 3..3 + LOG_LIMIT as u64 {
            log.touched(revision, "b");
        }
        assert_eq!(since(&log, before, 2 + LOG_LIMIT as u64).map(|ids| ids.len()), Some(LOG_LIMIT));
        log.touched(3 + LOG_LIMIT as u64, "c");
        assert_eq!(since(&log, before, 3 + LOG_LIMIT as u64), None, "the oldest change was let go");
        let recent = log.mark(2 + LOG_LIMIT as u64);
        assert_eq!(since(&log, recent, 3 + LOG_LIMIT as u64), Some(vec!["c"]));
    }

    #[test]
    fn the_board_names_what_its_changes_touched_and_says_when_it_cannot() {
        let mut board = live(1, vec![burger("a", 1), burger("b", 2)]);
        let mark = board.mark();
        assert_eq!(changed(&board, mark), Some(vec![]));
        board.handle_event(created(2, burger("c", 3)));
        board.handle_event(status(3, "a", OrderStatus::Completed));
        let request = board.command("b", Command::Rush { rush: true }, [1; 16]).unwrap();
        assert_eq!(changed(&board, mark), Some(vec!["a", "b", "c"]));
        // The screen's command acked, refused or stored and restored: its order each time.
        let stored = board.outbox_json();
        let after_command = board.mark();
        board.handle_command_error(&request, "not_allowed", "no");
        assert_eq!(changed(&board, after_command), Some(vec!["b"]));
        let mut restored = live(3, vec![burger("b", 2), burger("c", 3)]);
        let before_restore = restored.mark();
        assert_eq!(restored.restore_outbox(&stored), Ok(1));
        assert_eq!(changed(&restored, before_restore), Some(vec!["b"]));
        // A snapshot changes every order; so does a sign-out, after which no old mark is answered.
        let before_snapshot = board.mark();
        board.handle_resync(4);
        assert!(board.poll_snapshot_request());
        board.apply_snapshot(Snapshot { seq: 4, orders: vec![burger("b", 2)], sold_out: None, recent: vec![] });
        assert_eq!(changed(&board, before_snapshot), None);
        let after_snapshot = board.mark();
        assert_eq!(changed(&board, after_snapshot), Some(vec![]));
        board.clear();
        assert_eq!(changed(&board, after_snapshot), None, "signed out");
        assert_eq!(changed(&board, board.mark()), Some(vec![]));
        // A board restored from storage after a reload changes every order too.
        let saved = restored.saved().unwrap();
        let mut reloaded = Board::new(BoardConfig::default());
        let empty = reloaded.mark();
        assert!(reloaded.restore(saved));
        assert_eq!(changed(&reloaded, empty), None);
    }

    #[test]
    fn an_order_pushed_out_of_the_recall_list_is_named() {
        let mut board = Board::new(BoardConfig { recall_limit: 1, ..BoardConfig::default() });
        assert!(board.poll_snapshot_request());
        board.apply_snapshot(Snapshot {
            seq: 1,
            orders: vec![burger("a", 1), burger("b", 2)],
            sold_out: None,
            recent: vec![],
        });
        board.handle_event(status(2, "a", OrderStatus::Completed));
        let mark = board.mark();
        board.handle_event(status(3, "b", OrderStatus::Completed));
        assert_eq!(changed(&board, mark), Some(vec!["a", "b"]), "a left the recall list for b");
    }
}
