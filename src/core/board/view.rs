//! What a station's screen derives from the board: the tickets of the grid (the confirmed orders
//! with the outbox laid over them, filtered to the station), the recallable orders and the
//! all-day counts.

use std::sync::Arc;
use std::time::Duration;

use restaurant_protocol::kitchen::{EXPO_STATION, KITCHEN_STATION};
use restaurant_protocol::time::parse_rfc3339_millis;
use restaurant_protocol::{ItemStatus, Order, OrderStatus};

use super::grid::display_cmp;
use super::{Board, Command, active, outbox};
use crate::core::sort;
use crate::core::sorted_map::{SortedMap, SortedSet};
use crate::core::time::Millis;

/// The stations every screen can switch to.
const ALWAYS_SHOWN: [&str; 2] = ["kitchen", "expo"];

/// Which part of the kitchen a screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Station {
    /// Every prep item of every order.
    Kitchen,
    /// Whole orders; only `ready` ones can be completed here.
    Expo,
    /// One prep station (`grill`, `fryer`, …): its items, on the orders that have any.
    Prep(String),
}

impl Station {
    #[must_use]
    pub fn parse(name: &str) -> Station {
        match name.trim() {
            "kitchen" => Station::Kitchen,
            "expo" => Station::Expo,
            other => Station::Prep(other.to_string()),
        }
    }

    /// The station's name on the wire.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Station::Kitchen => KITCHEN_STATION,
            Station::Expo => EXPO_STATION,
            Station::Prep(name) => name,
        }
    }

    /// Start, for a ticket whose part here is `new` (not at expo).
    #[must_use]
    pub fn start_command(&self, status: OrderStatus) -> Option<Command> {
        match (self, status) {
            (Station::Expo, _) => None,
            (_, OrderStatus::New) => Some(Command::Start { station: self.name().to_string() }),
            _ => None,
        }
    }

    /// What the bump button does for a ticket whose part here is `status`: a station bumps its
    /// items (new or started); expo, and the whole-kitchen screen (which may be the only one),
    /// completes a ready order.
    #[must_use]
    pub fn bump_command(&self, status: OrderStatus) -> Option<Command> {
        match (self, status) {
            (Station::Expo | Station::Kitchen, OrderStatus::Ready) => Some(Command::Complete { force: false }),
            (Station::Expo, _) => None,
            (_, OrderStatus::New | OrderStatus::Preparing) => Some(Command::Bump { station: self.name().to_string() }),
            _ => None,
        }
    }

    /// How this screen brings a bumped ticket back: a station its items, expo (or the whole
    /// kitchen) a completed order.
    #[must_use]
    pub fn recall_command(&self) -> Command {
        match self {
            Station::Prep(name) => Command::Recall { station: Some(name.clone()) },
            Station::Kitchen | Station::Expo => Command::Recall { station: None },
        }
    }

    /// Whether this screen completes and voids whole orders.
    #[must_use]
    pub fn is_expediting(&self) -> bool {
        matches!(self, Station::Kitchen | Station::Expo)
    }

    fn shows_item(&self, item_station: &str) -> bool {
        match self {
            Station::Kitchen | Station::Expo => true,
            Station::Prep(name) => name == item_station,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgeLevel {
    Ok,
    Warning,
    Urgent,
}

impl AgeLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AgeLevel::Ok => "ok",
            AgeLevel::Warning => "warning",
            AgeLevel::Urgent => "urgent",
        }
    }
}

/// One station's part of an order, as expo sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationProgress {
    pub station: String,
    pub status: ItemStatus,
    /// When its items were all ready (Unix ms), while they are.
    pub ready_unix_ms: Option<i64>,
}

/// How long a voided ticket stays on screen, struck through, before it goes.
pub const VOID_SHOWN: Duration = Duration::from_secs(8);

/// One card of the grid: the order as displayed (items already filtered to the station).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Shared with the board while unchanged: deriving the grid copies no order.
    pub order: Arc<Order>,
    /// Where this screen's part is: a prep station's items, the whole order elsewhere.
    pub status: OrderStatus,
    /// Each station's part (the order's stations in order); on expo and kitchen screens.
    pub progress: Arc<[StationProgress]>,
    /// A command on it is still waiting for the hub's answer.
    pub pending: bool,
    /// When the order was created (Unix ms), as the hub stamped it; `None` if unreadable.
    pub created_unix_ms: Option<i64>,
    /// Since the order was created.
    pub elapsed: Duration,
    pub age: AgeLevel,
}

impl Ticket {
    /// Where it goes in the grid before rush is applied: oldest first, then by number.
    #[must_use]
    pub fn age_order(&self) -> (i64, u32) {
        (self.created_unix_ms.unwrap_or(i64::MAX), self.order.number)
    }
}

/// One line of the all-day panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllDayCount {
    pub name: String,
    pub quantity: u32,
}

impl Board {
    /// Every confirmed order, active then recently completed, as displayed: with this screen's
    /// commands laid over it, and whether one is still unanswered. Each order comes once (the
    /// board keeps an order in one of the two), and only one with a command is copied: a screen
    /// derives its views from this on every change.
    fn displayed(&self) -> impl Iterator<Item = (Arc<Order>, bool)> + '_ {
        let with_commands = self.with_commands();
        self.orders.values().chain(&self.completed).map(move |order| self.overlay_if(order, &with_commands))
    }

    /// [`Board::overlay`] for an order in `with_commands`; the order itself, shared, otherwise.
    fn overlay_if(&self, order: &Arc<Order>, with_commands: &SortedSet<&str>) -> (Arc<Order>, bool) {
        match with_commands.contains_key(order.id.as_str()) {
            true => self.overlay(order),
            false => (Arc::clone(order), false),
        }
    }

    /// The confirmed order `order_id` (active or recently completed) as displayed.
    fn displayed_order(&self, order_id: &str) -> Option<Arc<Order>> {
        let order = self.orders.get(order_id).or_else(|| self.completed.iter().find(|o| o.id == order_id))?;
        Some(self.overlay(order).0)
    }

    /// The orders this screen has commands on in the outbox.
    fn with_commands(&self) -> SortedSet<&str> {
        self.outbox.iter().map(|e| (e.order_id.as_str(), ())).collect()
    }

    /// `order` with this screen's commands on it laid over it, in the order they were given, and
    /// whether one is still unanswered. Copy-on-write: only an order with a command is copied.
    fn overlay(&self, order: &Arc<Order>) -> (Arc<Order>, bool) {
        let (mut shown, mut pending) = (Arc::clone(order), false);
        for entry in self.outbox.iter().filter(|e| e.order_id == order.id) {
            outbox::apply_to(&entry.command, Arc::make_mut(&mut shown));
            pending |= entry.acked_seq.is_none();
        }
        (shown, pending)
    }

    /// Active orders as displayed.
    pub(super) fn active_displayed(&self) -> impl Iterator<Item = (Arc<Order>, bool)> + '_ {
        self.displayed().filter(|(order, _)| order.status.is_active())
    }

    /// The order `order_id` as [`Board::active_displayed`] gives it, if it is there.
    pub(super) fn active_displayed_order(&self, order_id: &str) -> Option<(Arc<Order>, bool)> {
        let order = self.orders.get(order_id).or_else(|| self.completed.iter().find(|o| o.id == order_id))?;
        Some(self.overlay(order)).filter(|(order, _)| order.status.is_active())
    }

    /// The order `order_id` as displayed, if `station`'s grid has a ticket for it: one of those
    /// [`Board::ticket_ids_where`] walks the board for.
    pub fn shown_order(&self, station: &Station, order_id: &str) -> Option<Arc<Order>> {
        self.active_displayed_order(order_id).map(|(order, _)| order).filter(|order| shows(station, order))
    }

    /// An order as displayed, active or recently completed.
    pub(super) fn projected(&self, order_id: &str) -> Option<Order> {
        self.displayed_order(order_id).map(Arc::unwrap_or_clone)
    }

    /// The tickets `station` shows at `now_unix` (the wall clock, since orders carry their creation
    /// time from the hub): rush first, then oldest first (then by order id). A prep station's
    /// ticket leaves its grid once its items there are all ready (bumped); it can be recalled from
    /// there. Built afresh: a screen keeps its grid with [`super::TicketGrid`], which builds again only
    /// what a change touched.
    pub fn tickets(&self, station: &Station, now_unix: Millis) -> Vec<Ticket> {
        let mut tickets: Vec<Ticket> = self
            .active_displayed()
            .filter(|(order, _)| shows(station, order))
            .filter_map(|(order, pending)| self.ticket(station, order, pending, now_unix))
            .collect();
        sort::sort_by(&mut tickets, |a, b| display_cmp((a, &a.order.id), (b, &b.order.id)));
        tickets
    }

    /// `order` as `station` shows it, if it has anything there.
    pub(super) fn ticket(
        &self,
        station: &Station,
        mut order: Arc<Order>,
        pending: bool,
        now_unix: Millis,
    ) -> Option<Ticket> {
        let status = match station {
            Station::Prep(name) => match order.station_status(name)? {
                ItemStatus::New => OrderStatus::New,
                ItemStatus::Preparing => OrderStatus::Preparing,
                ItemStatus::Ready => OrderStatus::Ready,
            },
            Station::Kitchen | Station::Expo => order.status,
        };
        let progress = if station.is_expediting() {
            order
                .stations()
                .into_iter()
                .filter_map(|name| {
                    Some(StationProgress {
                        station: name.to_string(),
                        status: order.station_status(name)?,
                        ready_unix_ms: order.station_ready_at(name).and_then(parse_rfc3339_millis),
                    })
                })
                .collect()
        } else {
            Arc::default()
        };
        if !order.items.iter().all(|item| station.shows_item(&item.station)) {
            Arc::make_mut(&mut order).items.retain(|item| station.shows_item(&item.station));
        }
        if order.items.is_empty() {
            return None;
        }
        let created_unix_ms = created_unix_ms(&order);
        let elapsed = elapsed_since(created_unix_ms, now_unix);
        let age = self.age_level(elapsed);
        Some(Ticket { order, status, progress, pending, created_unix_ms, elapsed, age })
    }

    /// The ids of the tickets `station` shows (those [`Board::tickets`] gives) whose order passes
    /// `pick`, without building the tickets: cheap when `pick` is narrow (the rushed orders, the
    /// new ones), which a screen asks on every board change.
    pub fn ticket_ids_where(&self, station: &Station, mut pick: impl FnMut(&Order) -> bool) -> Vec<String> {
        self.displayed()
            .filter(|(order, _)| pick(order) && shows(station, order))
            .map(|(order, _)| order.id.clone())
            .collect()
    }

    /// What `station` can recall, newest first: at a prep station the orders whose items there
    /// are all ready (bumped, or the order completed); elsewhere the completed orders. What this
    /// screen just bumped comes first, before the hub has confirmed it.
    pub fn recallable(&self, station: &Station) -> Vec<Order> {
        let done = |o: &Order| match station {
            Station::Prep(name) => {
                o.status != OrderStatus::Cancelled && o.station_status(name) == Some(ItemStatus::Ready)
            }
            Station::Kitchen | Station::Expo => o.status == OrderStatus::Completed,
        };
        // Newest first: this screen's own commands (latest first), then the confirmed history
        // (at a prep station, by when its items there were ready, then by id).
        let confirmed: Vec<Arc<Order>> = match station {
            Station::Prep(name) => {
                let mut ready: Vec<Arc<Order>> =
                    self.displayed().map(|(o, _)| o).filter(|o| o.station_ready_at(name).is_some()).collect();
                sort::sort_by(&mut ready, |a, b| {
                    b.station_ready_at(name).cmp(&a.station_ready_at(name)).then_with(|| a.id.cmp(&b.id))
                });
                ready
            }
            Station::Kitchen | Station::Expo => {
                let with_commands = self.with_commands();
                self.completed.iter().map(|o| self.overlay_if(o, &with_commands).0).collect()
            }
        };
        let own = self.outbox.iter().rev().filter_map(|e| self.displayed_order(&e.order_id));
        let mut seen = SortedSet::new();
        own.chain(confirmed)
            .filter(|o| seen.insert_key(o.id.clone()))
            .filter(|o| done(o))
            .map(Arc::unwrap_or_clone)
            .collect()
    }

    /// The voided orders the board keeps (newest first), for the alerts to time their showing.
    pub fn voided_orders(&self) -> impl Iterator<Item = &Arc<Order>> {
        self.voided.iter()
    }

    /// The voided orders among `ids` as `station` shows them (nothing for one it had no items
    /// for), newest first: struck through for a few seconds ([`VOID_SHOWN`], timed by the
    /// alerts from when this screen heard of them, not by clocks that may disagree).
    pub fn voided_tickets(&self, station: &Station, ids: &[String], now_unix: Millis) -> Vec<Ticket> {
        self.voided
            .iter()
            .filter(|o| ids.iter().any(|id| *id == o.id))
            .filter_map(|o| self.ticket(station, Arc::clone(o), false, now_unix))
            .collect()
    }

    /// The first instant after `now_unix` at which an active order's age level changes (it turns
    /// warning or urgent); `None` when none will. Between now and then every ticket's level stays
    /// as it is, so a screen recomputes its grid only then, not on every tick of its clock.
    pub fn next_age_change(&self, now_unix: Millis) -> Option<Millis> {
        let now = i64::try_from(now_unix.0).unwrap_or(i64::MAX);
        let thresholds = [self.config.warning_after, self.config.urgent_after]
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        // Completed orders too: one this screen recalls is shown again before the hub confirms it.
        self.orders
            .values()
            .chain(&self.completed)
            .filter_map(|o| created_unix_ms(o))
            .filter_map(|created| {
                thresholds.iter().map(|&after| created.saturating_add(after)).filter(|&at| at > now).min()
            })
            .min()
            .and_then(|at| u64::try_from(at).ok())
            .map(Millis)
    }

    /// How late a ticket `elapsed` old is.
    pub fn age_level(&self, elapsed: Duration) -> AgeLevel {
        if elapsed >= self.config.urgent_after {
            AgeLevel::Urgent
        } else if elapsed >= self.config.warning_after {
            AgeLevel::Warning
        } else {
            AgeLevel::Ok
        }
    }

    /// The stations a screen whose own station is `home` can switch to, by name: kitchen and expo,
    /// `home`, and every station an active order has items for.
    pub fn stations(&self, home: &str) -> Vec<String> {
        let mut names: Vec<&str> = ALWAYS_SHOWN.to_vec();
        names.push(home);
        names.extend(self.orders.stations());
        sort::sort(&mut names);
        names.dedup();
        names.into_iter().map(str::to_string).collect()
    }

    /// Item name × total quantity over the active tickets `station` shows, most first.
    pub fn all_day(&self, station: &Station) -> Vec<AllDayCount> {
        // The orders this screen has commands on count as displayed: each one's confirmed lines
        // are taken out of the tally, and its lines as displayed put in if it is active so.
        let mut changes: Vec<(Arc<Order>, i64)> = Vec::new();
        for (id, ()) in self.with_commands() {
            if let Some(confirmed) = self.orders.get(id) {
                changes.push((Arc::clone(confirmed), -1));
            }
            if let Some(shown) = self.displayed_order(id).filter(|o| o.status.is_active()) {
                changes.push((shown, 1));
            }
        }
        // Item name → (lines, quantity).
        let mut totals: SortedMap<&str, (i64, i64)> = SortedMap::new();
        for (item_station, names) in self.orders.open_items() {
            if station.shows_item(item_station) {
                for (name, open) in names {
                    let total = totals.entry_or_default(&name.as_str(), |name| *name);
                    total.0 += open.lines;
                    total.1 += open.quantity;
                }
            }
        }
        for (order, sign) in &changes {
            for (_, name, quantity) in active::open_lines(order).filter(|(s, _, _)| station.shows_item(s)) {
                let total = totals.entry_or_default(&name, |name| *name);
                total.0 += sign;
                total.1 += sign * i64::from(quantity);
            }
        }
        let mut counts: Vec<AllDayCount> = totals
            .into_iter()
            .filter(|(_, (lines, _))| *lines > 0)
            .map(|(name, (_, quantity))| AllDayCount {
                name: name.to_string(),
                quantity: u32::try_from(quantity.max(0)).unwrap_or(u32::MAX),
            })
            .collect();
        sort::sort_by(&mut counts, |a, b| b.quantity.cmp(&a.quantity).then_with(|| a.name.cmp(&b.name)));
        counts
    }
}

/// Whether `station`'s grid has a ticket for `order` (as displayed): the one definition that
/// [`Board::tickets`], [`Board::ticket_ids_where`] and [`super::TicketGrid`] use. A prep station's ticket leaves
/// its grid once its items there are all ready.
pub(super) fn shows(station: &Station, order: &Order) -> bool {
    order.status.is_active()
        && order.items.iter().any(|item| station.shows_item(&item.station))
        && match station {
            Station::Prep(name) => order.station_status(name).is_some_and(|s| s != ItemStatus::Ready),
            Station::Kitchen | Station::Expo => true,
        }
}

/// When `order` was created, on the wall clock (Unix ms); `None` when its `created_at` is unreadable.
#[must_use]
pub fn created_unix_ms(order: &Order) -> Option<i64> {
    parse_rfc3339_millis(&order.created_at)
}

/// How long before `now_unix` an order created at `created` (see [`created_unix_ms`]) was created:
/// zero when that is unknown or later.
#[must_use]
pub fn elapsed_since(created: Option<i64>, now_unix: Millis) -> Duration {
    let now = i64::try_from(now_unix.0).unwrap_or(i64::MAX);
    let elapsed_ms = created.map_or(0, |c| now.saturating_sub(c));
    Duration::from_millis(u64::try_from(elapsed_ms).unwrap_or(0))
}

/// The elapsed time a card shows, in whole seconds since its order was created. It turns over
/// once a second at that order's own phase within the second (its creation time's milliseconds),
/// so a screen that looks often and sets only the cards whose time turned changes a few cards
/// at a time, spread over the second, instead of every card on screen in one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownElapsed {
    created: Option<i64>,
    second: u64,
}

impl ShownElapsed {
    /// The time shown for an order created at `created` (see [`created_unix_ms`]), as of `now_unix`.
    #[must_use]
    pub fn new(created: Option<i64>, now_unix: Millis) -> ShownElapsed {
        ShownElapsed { created, second: elapsed_since(created, now_unix).as_secs() }
    }

    /// Whether the time shown has changed by `now_unix` (a second turned, or the wall clock was
    /// set back); takes the new one if so.
    pub fn turn(&mut self, now_unix: Millis) -> bool {
        let second = elapsed_since(self.created, now_unix).as_secs();
        std::mem::replace(&mut self.second, second) != second
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    #[test]
    fn cards_turn_their_seconds_spread_over_the_second_each_once_a_second_and_on_time() {
        // 300 orders created over a minute, at every phase within the second.
        let start = 1_700_000_000_000_i64;
        let created: Vec<i64> = (0..300).map(|i| start + i * 200 + (i * 37) % 1000).collect();
        let first = Millis(u64::try_from(start).unwrap() + 600_000);
        let mut shown: Vec<ShownElapsed> = created.iter().map(|&c| ShownElapsed::new(Some(c), first)).collect();
        let mut turns = vec![0u32; shown.len()];
        const TICK_MS: u64 = 100;
        for tick in 1..=100 {
            let now = Millis(first.0 + tick * TICK_MS);
            let mut this_tick = 0;
            for (i, card) in shown.iter_mut().enumerate() {
                if card.turn(now) {
                    turns[i] += 1;
                    this_tick += 1;
                }
                // After each look, every card shows its time as of then.
                assert_eq!(card.second, elapsed_since(Some(created[i]), now).as_secs());
            }
            assert!(this_tick <= 50, "tick {tick} turned {this_tick} of 300 cards at once");
        }
        // Ten seconds of looks: each card turned ten times.
        assert!(turns.iter().all(|&n| n == 10), "{turns:?}");
        // Looked at once a second instead, every card turns on the same look.
        let later = Millis(first.0 + 100 * TICK_MS + 1000);
        assert_eq!(shown.iter_mut().map(|card| card.turn(later)).filter(|&turned| turned).count(), 300);
    }

    #[test]
    fn a_clock_set_back_turns_the_time_shown_and_an_unknown_creation_never_turns() {
        let mut card = ShownElapsed::new(Some(10_000), Millis(75_500));
        assert!(!card.turn(Millis(75_999)), "65 s either way");
        assert!(card.turn(Millis(76_000)));
        assert!(card.turn(Millis(70_000)), "the wall clock set back");
        assert_eq!(card.second, 60);
        let mut unknown = ShownElapsed::new(None, Millis(75_500));
        assert!(!unknown.turn(Millis(999_999)), "shown as 00:00 throughout");
    }
    use crate::core::alerts::NewTicketAlerts;
    use crate::core::board::BoardConfig;
    use crate::core::test_support::{T0, item, live, ms, order, secs, status};
    use restaurant_protocol::{OrderItem, ServerMessage};

    /// The all-day counts worked out by walking every order as displayed (what the board's
    /// running tally must always agree with).
    fn all_day_walked(board: &Board, station: &Station) -> Vec<AllDayCount> {
        let mut totals: BTreeMap<String, u32> = BTreeMap::new();
        for (order, _) in board.active_displayed() {
            for item in order.items.iter().filter(|i| station.shows_item(&i.station) && i.status != ItemStatus::Ready) {
                let total = totals.entry(item.name.clone()).or_default();
                *total = total.saturating_add(item.quantity);
            }
        }
        let mut counts: Vec<AllDayCount> =
            totals.into_iter().map(|(name, quantity)| AllDayCount { name, quantity }).collect();
        counts.sort_unstable_by(|a, b| b.quantity.cmp(&a.quantity).then_with(|| a.name.cmp(&b.name)));
        counts
    }

    /// A screen as the page keeps one: its grid, and each card's copy of its ticket, updated
    /// only for the tickets the grid's journal names.
    #[derive(Default)]
    struct Screen {
        grid: crate::core::board::TicketGrid,
        cards: BTreeMap<String, Ticket>,
        seen: crate::core::board::GridVersion,
        order: Vec<String>,
    }

    impl Screen {
        fn update(
            &mut self,
            board: &Board,
            station: &Station,
            now: Millis,
        ) -> Result<(), proptest::test_runner::TestCaseError> {
            let version = self.grid.update(board, station, now);
            let afresh = board.tickets(station, now);
            let kept: Vec<Ticket> = self.grid.tickets().cloned().collect();
            proptest::prop_assert_eq!(&kept, &afresh, "the kept grid of {:?}", station);
            proptest::prop_assert_eq!(self.grid.len(), afresh.len());
            let by_age: Vec<String> = {
                let mut by_age: Vec<&Ticket> = afresh.iter().collect();
                by_age.sort_unstable_by(|a, b| {
                    a.age_order().cmp(&b.age_order()).then_with(|| a.order.id.cmp(&b.order.id))
                });
                by_age.into_iter().map(|t| t.order.id.clone()).collect()
            };
            proptest::prop_assert_eq!(self.grid.ids_by_age(), by_age.clone());
            proptest::prop_assert_eq!(self.grid.oldest(), by_age.first().map(String::as_str));
            for id in self.cards.keys() {
                if self.grid.get(id).is_none() {
                    proptest::prop_assert!(version.members != self.seen.members, "{id} went unannounced");
                }
            }
            let order: Vec<String> = afresh.iter().map(|t| t.order.id.clone()).collect();
            if order != self.order {
                proptest::prop_assert!(version.order != self.seen.order, "the order changed unannounced");
            }
            // The cards, as the page updates them.
            match self.grid.changed_since(self.seen.tickets) {
                Some(ids) => {
                    for id in ids {
                        match self.grid.get(id) {
                            Some(ticket) => self.cards.insert(id.to_string(), ticket.clone()),
                            None => self.cards.remove(id),
                        };
                    }
                }
                None => self.cards = afresh.iter().map(|t| (t.order.id.clone(), t.clone())).collect(),
            }
            // What a card shows: all but the elapsed time, which its own clock keeps.
            let shown = |t: &Ticket| (t.order.clone(), t.status, t.progress.clone(), t.pending, t.age);
            let cards: Vec<_> = self.cards.values().map(shown).collect();
            let mut expected: Vec<&Ticket> = afresh.iter().collect();
            expected.sort_by(|a, b| a.order.id.cmp(&b.order.id));
            let expected: Vec<_> = expected.into_iter().map(shown).collect();
            proptest::prop_assert_eq!(cards, expected, "the cards of {:?}", station);
            (self.seen, self.order) = (version, order);
            Ok(())
        }
    }

    /// The station list worked out by walking every confirmed active order.
    fn stations_walked(board: &Board, home: &str) -> Vec<String> {
        let mut names: BTreeSet<&str> = ALWAYS_SHOWN.into_iter().collect();
        names.insert(home);
        names.extend(board.orders.values().flat_map(|o| &o.items).map(|item| item.station.as_str()));
        names.into_iter().map(str::to_string).collect()
    }

    proptest::proptest! {
        /// The tickets picked out without building the grid are the grid's own; the grid kept
        /// change by change is the grid built afresh, and a screen that updates only the cards
        /// its journal names shows every ticket as it is; the all-day counts and station list
        /// kept as orders change are the ones walked from every order, and so are the new-ticket
        /// alerts that look only at the orders the board says changed: for every station,
        /// through commands laid over confirmed and completed orders, acked (before or after
        /// their event) or refused, new orders, the hub's changes, snapshots and reconnections,
        /// and time passing.
        #[test]
        fn ticket_ids_where_and_the_kept_grid_match_the_grid(
            orders in proptest::collection::vec(
                (proptest::bool::ANY, 0..4u8, proptest::collection::vec((0..3u8, 0..3u8), 1..4)),
                0..12,
            ),
            commands in proptest::collection::vec((0..12usize, 0..16u8), 0..16),
        ) {
            let stations = ["grill", "fryer", "drinks"];
            let item_statuses = [ItemStatus::New, ItemStatus::Preparing, ItemStatus::Ready];
            let statuses = [OrderStatus::New, OrderStatus::Preparing, OrderStatus::Ready, OrderStatus::Completed];
            let orders: Vec<Order> = orders
                .iter()
                .enumerate()
                .map(|(n, (rush, status, items))| {
                    let items = items
                        .iter()
                        .enumerate()
                        .map(|(k, &(station, item_status))| OrderItem {
                            id: format!("{n}-{k}"),
                            status: item_statuses[usize::from(item_status)],
                            ..item(["Fries", "Burger", "Cola"][(n + k) % 3], stations[usize::from(station)], 1 + k as u32)
                        })
                        .collect();
                    Order { rush: *rush, status: statuses[usize::from(*status)], ..order(&format!("o{n}"), n as u32, n as i64, items) }
                })
                .collect();
            let mut board = live(1, orders.clone());
            let stations = ["kitchen", "expo", "grill", "fryer", "drinks"].map(Station::parse);
            // One grid per screen, kept through every change, with the cards it shows (a screen
            // that switches station starts its grid again: the last one uses a single grid for
            // all stations).
            let mut screens: Vec<Screen> = stations.iter().map(|_| Screen::default()).collect();
            let mut shared = Screen::default();
            let mut alerts: Vec<(NewTicketAlerts, NewTicketAlerts)> = stations.iter().map(|_| Default::default()).collect();
            let (mut now, mut seq, mut queued) = (T0, 1, Vec::new());
            for (step, &(at, kind)) in commands.iter().enumerate() {
                let Some(target) = orders.get(at) else { continue };
                let command = match kind {
                    0 => Some(Command::Rush { rush: !target.rush }),
                    1 => Some(Command::Recall { station: None }),
                    2 => Some(Command::Recall { station: Some("grill".into()) }),
                    3 => Some(Command::Bump { station: "grill".into() }),
                    4 => Some(Command::Start { station: "fryer".into() }),
                    5 => Some(Command::Complete { force: true }),
                    // The hub's word: a confirmed change replaces the order.
                    6 => {
                        seq += 1;
                        board.handle_event(status(seq, &target.id, OrderStatus::Preparing));
                        None
                    }
                    9 => {
                        seq += 1;
                        board.handle_event(status(seq, &target.id, OrderStatus::Completed));
                        None
                    }
                    // The hub changes an order's items (one ready, one more of another)…
                    10 => {
                        seq += 1;
                        let mut changed = target.clone();
                        if let Some(first) = changed.items.first_mut() {
                            first.status = ItemStatus::Ready;
                        }
                        if let Some(last) = changed.items.last_mut() {
                            last.quantity += 1;
                        }
                        board.handle_event(ServerMessage::OrderUpdated { seq, order: changed });
                        None
                    }
                    // …or deletes it.
                    11 => {
                        seq += 1;
                        board.handle_event(ServerMessage::OrderDeleted { seq, order_id: target.id.clone() });
                        None
                    }
                    // The hub acks the oldest command waiting (its event applied, or still to come), or
                    // refuses it (it is taken back).
                    7 | 8 | 14 if !queued.is_empty() => {
                        let request_id: String = queued.remove(0);
                        match kind {
                            7 => board.handle_ack(&request_id, seq),
                            14 => board.handle_ack(&request_id, seq + 1),
                            _ => board.handle_command_error(&request_id, "not_allowed", "refused"),
                        }
                        None
                    }
                    // A new order, like this one, rushed or not.
                    12 => {
                        seq += 1;
                        let fresh = Order { id: format!("n{step}"), rush: step % 2 == 0, ..target.clone() };
                        board.handle_event(ServerMessage::OrderCreated { seq, order: fresh });
                        None
                    }
                    // A snapshot after a gap, this order gone from it.
                    13 => {
                        seq += 1;
                        board.handle_resync(seq);
                        proptest::prop_assert!(board.poll_snapshot_request());
                        let orders = board.confirmed_orders().values().filter(|o| o.id != target.id).map(|o| Order::clone(o)).collect();
                        board.apply_snapshot(restaurant_protocol::Snapshot { seq, orders, sold_out: None, recent: vec![] });
                        None
                    }
                    // A new connection: acks of events the hub does not have are dropped.
                    15 => {
                        board.handle_welcome(seq);
                        None
                    }
                    // Time passes: ages move on.
                    _ => {
                        now = now + secs(6 * 60);
                        None
                    }
                };
                // Refused commands (not allowed in the order's state) change nothing.
                if let Some(Ok(request_id)) = command.map(|c| board.command(&target.id, c, [step as u8; 16])) {
                    queued.push(request_id);
                }
                // The screens see the copies the page publishes.
                let published = board.clone();
                for ((station, screen), (alerts, walking)) in stations.iter().zip(&mut screens).zip(&mut alerts) {
                    screen.update(&published, station, now)?;
                    // Alerts that follow the board's changes, and alerts that walk every order.
                    walking.forget_board();
                    let (update, walked) = (alerts.handle_board(now, &published, station), walking.handle_board(now, &published, station));
                    proptest::prop_assert_eq!(update, walked, "alerts of {:?}", station);
                    proptest::prop_assert_eq!(alerts.flashing(), walking.flashing());
                    proptest::prop_assert_eq!(alerts.remembered(), walking.remembered());
                }
                shared.update(&published, &stations[at % stations.len()], now)?;
                for station in &stations {
                    proptest::prop_assert_eq!(board.all_day(station), all_day_walked(&board, station), "all day at {:?}", station);
                }
                proptest::prop_assert_eq!(board.stations("pass"), stations_walked(&board, "pass"));
            }
            for station in stations {
                let tickets = board.tickets(&station, T0);
                let ids = |rushed: bool| -> BTreeSet<String> {
                    tickets.iter().filter(|t| !rushed || t.order.rush).map(|t| t.order.id.clone()).collect()
                };
                let all: BTreeSet<String> = board.ticket_ids_where(&station, |_| true).into_iter().collect();
                let rushed: BTreeSet<String> = board.ticket_ids_where(&station, |o| o.rush).into_iter().collect();
                proptest::prop_assert_eq!(&all, &ids(false), "every ticket of {:?}", station);
                proptest::prop_assert_eq!(&rushed, &ids(true), "the rushed tickets of {:?}", station);
            }
        }
    }

    #[test]
    fn sort_puts_rush_first_then_oldest() {
        let mut rushed = order("r", 3, 8, vec![item("Fries", "fryer", 1)]);
        rushed.rush = true;
        let board = live(
            1,
            vec![
                order("new", 1, 9, vec![item("Fries", "fryer", 1)]),
                order("old", 2, 1, vec![item("Fries", "fryer", 1)]),
                rushed,
            ],
        );
        let ids: Vec<String> = board.tickets(&Station::Kitchen, T0).into_iter().map(|t| t.order.id.clone()).collect();
        assert_eq!(ids, ["r", "old", "new"]);
    }

    #[test]
    fn age_levels_follow_the_configured_thresholds() {
        let board = live(1, vec![order("a", 1, 0, vec![item("Fries", "fryer", 1)])]);
        let age_at = |min: u64| board.tickets(&Station::Kitchen, T0 + secs(min * 60))[0].age;
        assert_eq!(age_at(9), AgeLevel::Ok);
        assert_eq!(age_at(10), AgeLevel::Warning);
        assert_eq!(age_at(15), AgeLevel::Urgent);
        assert_eq!(board.tickets(&Station::Kitchen, T0 + ms(90_500))[0].elapsed, ms(90_500));

        // The next change is the first threshold still ahead, and nothing changes before it.
        assert_eq!(board.next_age_change(T0 + secs(60)), Some(T0 + secs(10 * 60)));
        assert_eq!(board.next_age_change(T0 + secs(10 * 60)), Some(T0 + secs(15 * 60)));
        assert_eq!(board.next_age_change(T0 + secs(15 * 60)), None, "urgent stays urgent");
        let later = live(
            1,
            vec![order("a", 1, 0, vec![item("Fries", "fryer", 1)]), order("b", 2, 3, vec![item("Fries", "fryer", 1)])],
        );
        assert_eq!(later.next_age_change(T0 + secs(11 * 60)), Some(T0 + secs(13 * 60)), "b turns warning first");
        for t in [60, 9 * 60 + 59, 10 * 60, 12 * 60, 14 * 60, 20 * 60] {
            let (now, next) = (T0 + secs(t), later.next_age_change(T0 + secs(t)));
            let levels = |at| later.tickets(&Station::Kitchen, at).iter().map(|t| t.age).collect::<Vec<_>>();
            if let Some(next) = next {
                assert_eq!(levels(now), levels(Millis(next.0 - 1)), "no change before the next one ({t} s)");
                assert_ne!(levels(now), levels(next), "a change at it ({t} s)");
            }
        }

        let custom = Board::new(BoardConfig::with_thresholds_min(2, 4));
        assert_eq!(custom.age_level(secs(2 * 60)), AgeLevel::Warning);
        assert_eq!(custom.age_level(secs(4 * 60)), AgeLevel::Urgent);
    }

    #[test]
    fn all_day_counts_sum_quantities_over_active_tickets_by_station() {
        let mut done = order("done", 4, 0, vec![item("Burger", "grill", 9)]);
        done.status = OrderStatus::Completed;
        let board = live(
            1,
            vec![
                order("a", 1, 0, vec![item("Burger", "grill", 2), item("Fries", "fryer", 1)]),
                order("b", 2, 1, vec![item("Burger", "grill", 1), item("Cola", "drinks", 3)]),
                done,
            ],
        );
        let count = |name: &str, quantity| AllDayCount { name: name.into(), quantity };
        assert_eq!(board.all_day(&Station::Kitchen), vec![count("Burger", 3), count("Cola", 3), count("Fries", 1)]);
        assert_eq!(board.all_day(&Station::parse("grill")), vec![count("Burger", 3)]);
    }

    #[test]
    fn elapsed_is_zero_for_an_unknown_or_future_creation_time() {
        let created = created_unix_ms(&order("a", 1, 0, vec![]));
        assert_eq!(created, Some(T0.0 as i64));
        assert_eq!(elapsed_since(created, T0 + ms(1_500)), ms(1_500));
        assert_eq!(elapsed_since(created, Millis(0)), Duration::ZERO);
        assert_eq!(elapsed_since(None, T0), Duration::ZERO);
    }

    #[test]
    fn a_screen_can_switch_to_kitchen_expo_its_home_and_every_station_with_orders() {
        let mut board = live(1, vec![order("a", 1, 0, vec![item("Burger", "grill", 1), item("Fries", "fryer", 1)])]);
        assert_eq!(board.stations("drinks"), ["drinks", "expo", "fryer", "grill", "kitchen"]);
        assert_eq!(board.stations("grill"), ["expo", "fryer", "grill", "kitchen"]);
        board.handle_event(status(2, "a", OrderStatus::Cancelled));
        assert_eq!(board.stations("kitchen"), ["expo", "kitchen"], "a station without active orders goes");
    }

    #[test]
    fn station_filter_shows_its_items_and_expo_completes_only_ready() {
        let board = live(
            1,
            vec![
                order("a", 1, 0, vec![item("Burger", "grill", 2), item("Fries", "fryer", 1)]),
                order("b", 2, 1, vec![item("Cola", "drinks", 1)]),
            ],
        );
        let grill = board.tickets(&Station::parse("grill"), T0);
        assert_eq!(grill.len(), 1);
        assert_eq!(grill[0].order.items.len(), 1);
        assert_eq!(board.tickets(&Station::parse("expo"), T0)[0].order.items.len(), 2);
        assert_eq!(board.tickets(&Station::Kitchen, T0).len(), 2);
        assert_eq!(Station::Expo.bump_command(OrderStatus::Ready), Some(Command::Complete { force: false }));
        assert_eq!(Station::Expo.bump_command(OrderStatus::Preparing), None);
        assert_eq!(Station::Expo.start_command(OrderStatus::New), None);
        let grill = Station::parse("grill");
        assert_eq!(grill.bump_command(OrderStatus::Preparing), Some(Command::Bump { station: "grill".into() }));
        assert_eq!(grill.bump_command(OrderStatus::New), Some(Command::Bump { station: "grill".into() }));
        assert_eq!(grill.start_command(OrderStatus::New), Some(Command::Start { station: "grill".into() }));
        assert_eq!(grill.recall_command(), Command::Recall { station: Some("grill".into()) });
        assert_eq!(Station::Kitchen.bump_command(OrderStatus::Ready), Some(Command::Complete { force: false }));
    }

    #[test]
    fn a_station_bump_leaves_its_grid_expo_sees_progress_and_a_void_is_kept_for_showing() {
        use restaurant_protocol::ServerMessage;
        let mut order = order("a", 1, 0, vec![item("Burger", "grill", 1), item("Fries", "fryer", 1)]);
        let mut board = live(1, vec![order.clone()]);
        let grill = Station::parse("grill");
        board.command("a", grill.bump_command(OrderStatus::New).unwrap(), [1; 16]).unwrap();
        assert!(board.tickets(&grill, T0).is_empty(), "bumped at the grill: gone from its grid");
        assert_eq!(board.recallable(&grill).len(), 1, "and recallable there");
        let fryer = board.tickets(&Station::parse("fryer"), T0);
        assert_eq!((fryer.len(), fryer[0].status), (1, OrderStatus::New), "the fryer's part is untouched");
        let expo = board.tickets(&Station::Expo, T0);
        assert_eq!(expo[0].status, OrderStatus::Preparing);
        let parts: Vec<(&str, ItemStatus)> = expo[0].progress.iter().map(|p| (p.station.as_str(), p.status)).collect();
        assert_eq!(parts, [("grill", ItemStatus::Ready), ("fryer", ItemStatus::New)]);

        let at = T0.0 as i64 + 60_000;
        let void = Command::Void { reason: "customer left".into() };
        order.apply_action(&void, "expo", &restaurant_protocol::time::format_rfc3339_millis(at)).unwrap();
        board.handle_event(ServerMessage::OrderUpdated { seq: 2, order });
        assert!(board.tickets(&Station::Expo, T0 + secs(61)).is_empty());
        let ids = ["a".to_string()];
        assert_eq!(board.voided_orders().count(), 1);
        assert_eq!(board.voided_tickets(&Station::Expo, &ids, T0).len(), 1);
        assert_eq!(board.voided_tickets(&Station::parse("drinks"), &ids, T0).len(), 0, "a station it had nothing for");
        assert_eq!(board.voided_tickets(&Station::Expo, &[], T0).len(), 0);
    }

    #[test]
    fn what_this_screen_just_bumped_is_recalled_first_before_the_hub_confirms_it() {
        let mut older = order("old", 1, 0, vec![item("Burger", "grill", 1)]);
        older
            .apply_action(&Command::Bump { station: "kitchen".into() }, "kitchen", "2026-01-01T00:00:00.000Z")
            .unwrap();
        older.apply_action(&Command::Complete { force: false }, "expo", "2026-01-01T00:00:01.000Z").unwrap();
        let mut board = live(1, vec![order("new", 2, 1, vec![item("Burger", "grill", 1)])]);
        board.handle_event(restaurant_protocol::ServerMessage::OrderUpdated { seq: 2, order: older });
        board.command("new", Command::Bump { station: "grill".into() }, [1; 16]).unwrap();
        let ids = |b: &Board, s: &Station| b.recallable(s).into_iter().map(|o| o.id).collect::<Vec<_>>();
        assert_eq!(ids(&board, &Station::parse("grill")), ["new", "old"]);
        board.command("new", Command::Complete { force: false }, [2; 16]).unwrap();
        assert_eq!(ids(&board, &Station::Expo), ["new", "old"]);
    }
}
