//! The grid a station's screen shows, kept as the board changes.
//!
//! A screen looks at its grid after every change, and most changes touch one order of hundreds.
//! [`TicketGrid::update`] visits only the orders the board says a change touched, and builds again
//! only the tickets of orders that changed (each is the board's shared `Arc<Order>`, so an
//! unchanged order is one pointer comparison), and notes in a journal
//! which tickets changed, came or went. The screen then updates only those cards
//! ([`TicketGrid::changed_since`]), sorts the grid only when a ticket came, went or was rushed, and
//! recomputes ages only when the time they are taken at moved.

use std::collections::VecDeque;
use std::sync::Arc;

use restaurant_protocol::Order;

use super::view::shows;
use super::{Board, BoardMark, Station, Ticket, elapsed_since};
use crate::core::fast_hash::{FastMap, FastSet};
use crate::core::sort;
use crate::core::time::Millis;

/// Changes the journal keeps; a screen further behind than this updates every card.
const JOURNAL_LIMIT: usize = 4096;

/// What moved in the grid: each number moves when what it names changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GridVersion {
    /// A ticket changed, came or went (the journal's version).
    pub tickets: u64,
    /// A ticket came or went.
    pub members: u64,
    /// The display order changed: a ticket came, went or was rushed.
    pub order: u64,
}

/// The tickets a screen shows, by order id and in display order, kept by [`TicketGrid::update`].
#[derive(Debug, Default)]
pub struct TicketGrid {
    station: Option<Station>,
    /// The time the ages were taken at.
    at: Option<Millis>,
    entries: FastMap<String, Entry>,
    /// Counts the updates; an entry not seen by the latest is of an order no longer shown.
    updates: u64,
    /// Order ids, rush first, then oldest first.
    order: Vec<String>,
    version: GridVersion,
    /// Which ticket changed at which version (`tickets`), oldest first.
    journal: VecDeque<(u64, String)>,
    /// The journal holds every change after this version.
    journal_since: u64,
    /// The board as of the last update, to ask it what changed since.
    board: Option<BoardMark>,
}

/// What one update found.
struct Pass {
    /// The time the ages are taken at.
    at: Millis,
    /// The journal's version for this update's changes.
    version: u64,
    /// A ticket changed, came or went.
    changed: bool,
    /// A ticket came or went.
    members: bool,
    /// The tickets whose place in the display order changed (rushed or not any more).
    moved: Vec<String>,
}

#[derive(Debug)]
struct Entry {
    /// The order as displayed, which the ticket was built from. Holding it keeps its address from
    /// being reused while the entry lives, and makes the board's `Arc::make_mut` copy the order
    /// rather than change it in place: an order the board changed is a new address.
    source: Arc<Order>,
    pending: bool,
    ticket: Ticket,
    /// The update that last found this order on the board ([`TicketGrid::updates`]).
    seen: u64,
}

impl TicketGrid {
    /// Brings the grid up to `board` as `station` shows it, with ages taken at `at`. After the
    /// first look, only the orders the board says changed since the last are visited
    /// ([`Board::changed_since`]), and every ticket only when the ages' time moved; the whole
    /// board is walked when the board cannot say.
    pub fn update(&mut self, board: &Board, station: &Station, at: Millis) -> GridVersion {
        if self.station.as_ref() != Some(station) {
            // Another station: every card is another one, nothing is kept.
            let version = self.version.tickets + 1;
            *self = TicketGrid {
                station: Some(station.clone()),
                version: GridVersion {
                    tickets: version,
                    members: self.version.members + 1,
                    order: self.version.order + 1,
                },
                journal_since: version,
                ..TicketGrid::default()
            };
        }
        let aged = self.at != Some(at);
        self.at = Some(at);
        self.updates += 1;
        let mut pass =
            Pass { at, version: self.version.tickets + 1, changed: false, members: false, moved: Vec::new() };
        match self.board.and_then(|mark| board.changed_since(mark)) {
            Some(ids) => {
                for id in ids {
                    let shown = board.active_displayed_order(id).filter(|(order, _)| shows(station, order));
                    let kept =
                        shown.is_some_and(|(order, pending)| self.visit(board, station, order, pending, &mut pass));
                    if !kept && let Some((id, _)) = self.entries.remove_entry(id) {
                        self.journal.push_back((pass.version, id));
                        (pass.changed, pass.members) = (true, true);
                    }
                }
            }
            None => {
                for (order, pending) in board.active_displayed().filter(|(order, _)| shows(station, order)) {
                    self.visit(board, station, order, pending, &mut pass);
                }
                // What the walk did not find is no longer shown.
                let (update, before) = (self.updates, self.entries.len());
                let (journal, version) = (&mut self.journal, pass.version);
                self.entries.retain(|id, entry| {
                    let shown = entry.seen == update;
                    if !shown {
                        journal.push_back((version, id.clone()));
                    }
                    shown
                });
                if self.entries.len() != before {
                    (pass.changed, pass.members) = (true, true);
                }
            }
        }
        self.board = Some(board.mark());
        if aged {
            for (id, entry) in &mut self.entries {
                let before = entry.ticket.age;
                entry.ticket.elapsed = elapsed_since(entry.ticket.created_unix_ms, at);
                entry.ticket.age = board.age_level(entry.ticket.elapsed);
                if entry.ticket.age != before {
                    self.journal.push_back((pass.version, id.clone()));
                    pass.changed = true;
                }
            }
        }
        let Pass { version, changed, members, moved, .. } = pass;
        if changed {
            self.version.tickets = version;
        }
        if members {
            self.version.members += 1;
        }
        if members || (!moved.is_empty() && !self.move_in_order(&moved)) {
            let mut order: Vec<(&Ticket, &String)> = self.entries.iter().map(|(id, e)| (&e.ticket, id)).collect();
            sort::sort_by(&mut order, |a, b| display_cmp(*a, *b));
            if order.len() != self.order.len() || order.iter().zip(&self.order).any(|((_, id), was)| *id != was) {
                self.order = order.into_iter().map(|(_, id)| id.clone()).collect();
                self.version.order += 1;
            }
        }
        while self.journal.len() > JOURNAL_LIMIT {
            if let Some((dropped, _)) = self.journal.pop_front() {
                self.journal_since = self.journal_since.max(dropped);
            }
        }
        self.version
    }

    /// `order`, as displayed and shown by `station`, is on the board: its ticket is built again
    /// unless the order and its pending command are the ones it was built from. `false` when the
    /// station has no ticket for it after all (the caller's pass drops the entry).
    fn visit(&mut self, board: &Board, station: &Station, order: Arc<Order>, pending: bool, pass: &mut Pass) -> bool {
        let update = self.updates;
        if let Some(entry) = self.entries.get_mut(order.id.as_str())
            && Arc::ptr_eq(&entry.source, &order)
            && entry.pending == pending
        {
            entry.seen = update;
            return true;
        }
        let Some(ticket) = board.ticket(station, Arc::clone(&order), pending, pass.at) else {
            return false;
        };
        match self.entries.get_mut(order.id.as_str()) {
            Some(entry) => {
                if display_key(&entry.ticket) != display_key(&ticket) {
                    pass.moved.push(order.id.clone());
                }
                if entry.ticket != ticket {
                    self.journal.push_back((pass.version, order.id.clone()));
                    pass.changed = true;
                }
                *entry = Entry { source: order, pending, ticket, seen: update };
            }
            None => {
                self.journal.push_back((pass.version, order.id.clone()));
                self.entries.insert(order.id.clone(), Entry { source: order, pending, ticket, seen: update });
                (pass.changed, pass.members) = (true, true);
            }
        }
        true
    }

    /// Forgets which board it saw last: the next update walks every order, as the first after a
    /// board it cannot follow does (a benchmark compares the two ways).
    #[cfg(any(test, feature = "bench"))]
    pub fn forget_board(&mut self) {
        self.board = None;
    }

    pub fn version(&self) -> GridVersion {
        self.version
    }

    /// Puts the `moved` tickets (the same tickets as before, a few of them rushed or no longer)
    /// back in their places in the display order: each taken out, then put back where it now
    /// sorts, among the others, which kept their order. A rush costs that, not a sort of the whole
    /// grid. `false` (nothing changed) when one of them is not in the order: sort it all.
    fn move_in_order(&mut self, moved: &[String]) -> bool {
        let place = |id: &String| self.order.iter().position(|o| o == id).filter(|_| self.entries.contains_key(id));
        let Some(was) = moved.iter().map(place).collect::<Option<Vec<_>>>() else {
            return false;
        };
        self.order.retain(|id| !moved.contains(id));
        let entries = &self.entries;
        for id in moved {
            let Some(entry) = entries.get(id.as_str()) else { continue }; // Checked above.
            let at = self.order.partition_point(|other| {
                entries
                    .get(other.as_str())
                    .is_some_and(|e| display_cmp((&e.ticket, other), (&entry.ticket, id)).is_lt())
            });
            self.order.insert(at, id.clone());
        }
        if moved.iter().zip(was).any(|(id, was)| self.order.get(was) != Some(id)) {
            self.version.order += 1;
        }
        true
    }

    /// The ticket of order `id`, if the grid shows it.
    pub fn get(&self, id: &str) -> Option<&Ticket> {
        self.entries.get(id).map(|e| &e.ticket)
    }

    /// The order ids in display order: rush first, then oldest first.
    pub fn display_order(&self) -> &[String] {
        &self.order
    }

    /// The tickets in display order.
    pub fn tickets(&self) -> impl Iterator<Item = &Ticket> {
        self.order.iter().filter_map(|id| self.get(id))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The order ids oldest first, which rush does not change (a keyed list's order).
    pub fn ids_by_age(&self) -> Vec<String> {
        let mut ids: Vec<(&Ticket, &String)> = self.entries.iter().map(|(id, e)| (&e.ticket, id)).collect();
        sort::sort_by(&mut ids, |(a, a_id), (b, b_id)| a.age_order().cmp(&b.age_order()).then_with(|| a_id.cmp(b_id)));
        ids.into_iter().map(|(_, id)| id.clone()).collect()
    }

    /// The oldest ticket's order id.
    pub fn oldest(&self) -> Option<&str> {
        self.entries.iter().min_by_key(|(id, e)| (e.ticket.age_order(), *id)).map(|(id, _)| id.as_str())
    }

    /// The ids of the tickets that changed, came or went after `version` (a
    /// [`GridVersion::tickets`] from before), each once; `None` when the journal does not go
    /// back that far (or the station changed since): then any ticket may have.
    pub fn changed_since(&self, version: u64) -> Option<Vec<&str>> {
        if version < self.journal_since {
            return None;
        }
        let mut seen = FastSet::default();
        Some(
            self.journal
                .iter()
                .rev()
                .take_while(|(at, _)| *at > version)
                .map(|(_, id)| id.as_str())
                .filter(|id| seen.insert(*id))
                .collect(),
        )
    }
}

/// Where a ticket goes in the display order: rush first, then oldest first.
fn display_key(ticket: &Ticket) -> (bool, (i64, u32)) {
    (!ticket.order.rush, ticket.age_order())
}

/// The display order of two tickets, each with its order id (the last tie-break).
pub(super) fn display_cmp(a: (&Ticket, &String), b: (&Ticket, &String)) -> std::cmp::Ordering {
    display_key(a.0).cmp(&display_key(b.0)).then_with(|| a.1.cmp(b.1))
}

#[cfg(test)]
mod tests {
    use restaurant_protocol::ServerMessage;

    use super::*;
    use crate::core::test_support::{T0, burger, live};

    /// Rushes `id` on and off again `times` times, each as the hub's event, the grid looking after
    /// each; returns the seq reached.
    fn toggle(board: &mut Board, grid: &mut TicketGrid, mut seq: u64, id: &str, times: usize) -> u64 {
        let mut order = Order::clone(&board.confirmed_orders()[id]);
        for _ in 0..times {
            seq += 1;
            order.rush = !order.rush;
            board.handle_event(ServerMessage::OrderUpdated { seq, order: order.clone() });
            grid.update(board, &Station::Kitchen, T0);
        }
        seq
    }

    #[test]
    fn a_screen_further_behind_than_the_journal_is_told_to_look_at_every_ticket() {
        let mut board = live(1, vec![burger("a", 1), burger("b", 2)]);
        let mut grid = TicketGrid::default();
        let start = grid.update(&board, &Station::Kitchen, T0).tickets;
        let seq = toggle(&mut board, &mut grid, 1, "a", 3);
        assert_eq!(grid.changed_since(start), Some(vec!["a"]), "three changes to one ticket, named once");
        let seq = toggle(&mut board, &mut grid, seq, "a", JOURNAL_LIMIT);
        assert_eq!(grid.changed_since(start), None, "the journal no longer reaches back");
        let recent = grid.version().tickets;
        toggle(&mut board, &mut grid, seq, "b", 1);
        assert_eq!(grid.changed_since(recent), Some(vec!["b"]));
        assert_eq!(grid.changed_since(grid.version().tickets), Some(vec![]));
    }

    #[test]
    fn a_rush_moves_its_ticket_alone_and_says_so_only_when_the_order_changed() {
        let mut board = live(1, (1..=6).map(|n| burger(&format!("o{n}"), n)).collect());
        let mut grid = TicketGrid::default();
        let first = grid.update(&board, &Station::Kitchen, T0);
        let ids = |grid: &TicketGrid| grid.display_order().to_vec();
        assert_eq!(ids(&grid), ["o1", "o2", "o3", "o4", "o5", "o6"]);
        // The oldest, rushed, stays first.
        let seq = toggle(&mut board, &mut grid, 1, "o1", 1);
        assert_eq!(ids(&grid), ["o1", "o2", "o3", "o4", "o5", "o6"]);
        assert_eq!(grid.version().order, first.order, "the same order is not announced");
        // Two more rushed: each goes first among the rushed, oldest first.
        let seq = toggle(&mut board, &mut grid, seq, "o5", 1);
        let seq = toggle(&mut board, &mut grid, seq, "o3", 1);
        assert_eq!(ids(&grid), ["o1", "o3", "o5", "o2", "o4", "o6"]);
        assert!(grid.version().order > first.order);
        // Unrushed, the oldest goes back to its place among the others.
        let before = grid.version().order;
        toggle(&mut board, &mut grid, seq, "o1", 1);
        assert_eq!(ids(&grid), ["o3", "o5", "o1", "o2", "o4", "o6"]);
        assert!(grid.version().order > before);
        let afresh: Vec<String> = board.tickets(&Station::Kitchen, T0).iter().map(|t| t.order.id.clone()).collect();
        assert_eq!(ids(&grid), afresh);
    }

    #[test]
    fn another_station_starts_the_grid_again() {
        let board = live(1, vec![burger("a", 1)]);
        let mut grid = TicketGrid::default();
        let seen = grid.update(&board, &Station::Kitchen, T0);
        let expo = grid.update(&board, &Station::Expo, T0);
        assert_eq!(grid.changed_since(seen.tickets), None);
        assert!(expo.members != seen.members && expo.order != seen.order);
        assert_eq!(grid.display_order(), ["a".to_string()]);
    }
}
