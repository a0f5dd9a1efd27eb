//! The board as a page keeps it across a reload, and its JSON written a slice at a time.
//!
//! A busy kitchen's board is most of a megabyte of JSON (1000 orders of two items: 791 KB), some
//! milliseconds of work to write: in one go, the frame it falls in is late. [`SavedBoardWriter`]
//! writes the same text a few orders at a time, so the page can give the browser its turn between
//! slices.

use std::sync::Arc;

use restaurant_protocol::{Order, SoldOut};
use serde::{Deserialize, Serialize};

/// The board as a page keeps it across a reload (see [`Board::saved`](super::Board::saved)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedBoard {
    pub seq: u64,
    /// Shared with the board: saving copies no order (written as plain orders).
    pub orders: Vec<Arc<Order>>,
    /// Completed orders, newest first (for recall).
    pub recent: Vec<Arc<Order>>,
    pub sold_out: Option<SoldOut>,
    /// When it was saved, on the wall clock (filled in by whoever writes it).
    pub saved_at_unix_ms: u64,
}

/// Writes a [`SavedBoard`] as the text `serde_json::to_string` makes of it, a slice of orders per
/// [`SavedBoardWriter::write`]. The board it holds is a snapshot: its orders are shared with the
/// live board, which copies an order before changing it while the writer holds it (`Arc::make_mut`),
/// so the text is the board as it was when the writer was made, however the live board moves on.
#[derive(Debug)]
pub struct SavedBoardWriter {
    board: SavedBoard,
    json: String,
    /// The next order to write: an index into `orders`, then on into `recent`.
    next: usize,
    limit: usize,
}

/// What a slice of [`SavedBoardWriter::write`] left.
#[derive(Debug)]
pub enum WriteProgress {
    /// Orders are left: the writer for the next slice.
    Writing(SavedBoardWriter),
    /// The whole board, at most the limit long.
    Done(String),
}

/// Why a board was not written.
#[derive(Debug)]
pub enum SaveError {
    /// The text passed the limit at `bytes`; writing stopped there.
    TooLarge {
        bytes: usize,
        limit: usize,
    },
    Json(serde_json::Error),
}

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaveError::TooLarge { bytes, limit } => write!(f, "the board passed {limit} bytes (at {bytes})"),
            SaveError::Json(e) => write!(f, "the board could not be written as JSON: {e}"),
        }
    }
}

impl std::error::Error for SaveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SaveError::TooLarge { .. } => None,
            SaveError::Json(e) => Some(e),
        }
    }
}

impl From<serde_json::Error> for SaveError {
    fn from(e: serde_json::Error) -> SaveError {
        SaveError::Json(e)
    }
}

impl SavedBoardWriter {
    /// A writer that gives up as soon as the text is longer than `limit` bytes.
    #[must_use]
    pub fn new(board: SavedBoard, limit: usize) -> SavedBoardWriter {
        let json = format!("{{\"seq\":{},\"orders\":[", board.seq);
        SavedBoardWriter { board, json, next: 0, limit }
    }

    /// How many orders the board holds, active and recent.
    #[must_use]
    pub fn order_count(&self) -> usize {
        self.board.orders.len() + self.board.recent.len()
    }

    /// Writes up to `orders` more orders (at least one while any is left); the last slice closes
    /// the text with the fields after them.
    pub fn write(mut self, orders: usize) -> Result<WriteProgress, SaveError> {
        let (active, total) = (self.board.orders.len(), self.order_count());
        let end = self.next.saturating_add(orders.max(1)).min(total);
        while self.next < end {
            let order = match self.next.checked_sub(active) {
                None => &self.board.orders[self.next],
                Some(i) => &self.board.recent[i],
            };
            if self.next == active {
                self.json.push_str("],\"recent\":[");
            } else if self.next > 0 {
                self.json.push(',');
            }
            self.json.push_str(&serde_json::to_string(order)?);
            self.next += 1;
            self.check_limit()?;
        }
        if self.next < total {
            return Ok(WriteProgress::Writing(self));
        }
        if self.board.recent.is_empty() {
            self.json.push_str("],\"recent\":[");
        }
        let sold_out = serde_json::to_string(&self.board.sold_out)?;
        self.json
            .push_str(&format!("],\"sold_out\":{sold_out},\"saved_at_unix_ms\":{}}}", self.board.saved_at_unix_ms));
        self.check_limit()?;
        Ok(WriteProgress::Done(self.json))
    }

    fn check_limit(&self) -> Result<(), SaveError> {
        match self.json.len() {
            bytes if bytes > self.limit => Err(SaveError::TooLarge { bytes, limit: self.limit }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::burger;

    fn board(active: usize, recent: usize, sold_out: Option<SoldOut>) -> SavedBoard {
        let order = |n: usize| Arc::new(burger(&format!("o{n}"), n as u32));
        SavedBoard {
            seq: 41,
            orders: (0..active).map(order).collect(),
            recent: (active..active + recent).map(order).collect(),
            sold_out,
            saved_at_unix_ms: 1_795_000_000_123,
        }
    }

    /// Writes `board` in slices of `slice`: the text (or why not) and how many slices it took.
    fn written(board: SavedBoard, limit: usize, slice: usize) -> (Result<String, SaveError>, usize) {
        let (mut writer, mut slices) = (SavedBoardWriter::new(board, limit), 1);
        loop {
            match writer.write(slice) {
                Ok(WriteProgress::Writing(next)) => (writer, slices) = (next, slices + 1),
                Ok(WriteProgress::Done(json)) => return (Ok(json), slices),
                Err(e) => return (Err(e), slices),
            }
        }
    }

    #[test]
    fn a_board_is_written_a_slice_at_a_time() {
        let board = board(7, 3, None);
        let (json, slices) = written(board.clone(), usize::MAX, 3);
        assert_eq!(slices, 4, "ten orders, three at a time");
        let json = json.expect("written");
        assert_eq!(json, serde_json::to_string(&board).unwrap());
        assert_eq!(serde_json::from_str::<SavedBoard>(&json).unwrap(), board);
        // An empty board is one slice; a slice of 0 still writes an order.
        assert_eq!(written(self::board(0, 0, None), usize::MAX, 1).1, 1);
        assert_eq!(written(self::board(2, 0, None), usize::MAX, 0).1, 2);
    }

    #[test]
    fn writing_stops_as_soon_as_the_text_passes_the_limit() {
        let board = board(50, 0, None);
        let whole = serde_json::to_string(&board).unwrap().len();
        assert_eq!(written(board.clone(), whole, 10).0.expect("at the limit").len(), whole);
        match written(board.clone(), whole - 1, 10).0 {
            Err(SaveError::TooLarge { bytes, .. }) => assert_eq!(bytes, whole, "only the closing fields went over"),
            other => panic!("over the limit by a byte: {other:?}"),
        }
        // A limit met early: the first slice stops after the order that passed it.
        let (last, slices) = written(board, 10, 10);
        assert_eq!(slices, 1);
        match last {
            Err(e @ SaveError::TooLarge { bytes, limit: 10 }) => {
                assert!(bytes < whole / 10, "{bytes} of {whole}");
                assert_eq!(e.to_string(), format!("the board passed 10 bytes (at {bytes})"));
            }
            other => panic!("over the limit: {other:?}"),
        }
    }

    proptest::proptest! {
        /// Whatever the board and the slice, the text is serde's and reads back as the board.
        #[test]
        fn the_sliced_text_is_the_whole_boards(
            active in 0..9usize,
            recent in 0..5usize,
            sold_out in proptest::option::of(proptest::collection::vec("[a-z\"\\\\é]{0,6}", 0..3)),
            slice in 0..12usize,
        ) {
            let sold_out = sold_out.map(|items| SoldOut { items, options: vec!["x".into()] });
            let board = board(active, recent, sold_out);
            let (json, slices) = written(board.clone(), usize::MAX, slice);
            let json = json.expect("written");
            proptest::prop_assert_eq!(&json, &serde_json::to_string(&board).unwrap());
            proptest::prop_assert_eq!(serde_json::from_str::<SavedBoard>(&json).unwrap(), board);
            proptest::prop_assert_eq!(slices, (active + recent).div_ceil(slice.max(1)).max(1));
        }
    }
}
