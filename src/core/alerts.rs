//! New-ticket alerts of a kitchen screen: which orders are new, how long they flash, and when the
//! chime plays.
//!
//! An order is new when the board holds it for the first time since the board first loaded: the
//! orders of that first board are not new, nor is a recalled order (it was seen before it was
//! bumped). A new order flashes for [`FLASH`], or until it leaves the board; the chime plays when a
//! new order has a ticket on the screen's station. An order of another station flashes too, so its
//! card flashes if a cook switches to that station, but rings no chime. Tones are spaced
//! [`TONE_GAP`] apart: a burst of orders or rushes rings once, not once per change, and a more
//! urgent tone (a void after a new ticket) cuts into the gap. A tone held back by the gap is not
//! lost: the most urgent one held plays at the first tick after the gap.
//!
//! Pure: the page feeds every board change and its clock in, redraws when the flashing orders
//! change and plays the chime. Instants are on whichever clock the page passes, the same one
//! throughout: the KDS passes the wall clock (Unix ms), which its cards compare with their own build
//! time to pick a flash up where it was.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::board::{Board, BoardMark, Station, VOID_SHOWN};
use super::fast_hash::FastSet;
use super::sort;
use super::time::Millis;

/// Order ids remembered before the set is cut back to the active and recallable orders, so a
/// screen running for days stays small.
pub const SEEN_LIMIT: usize = 2_000;
/// How long a new ticket flashes (the `ticket-flash` animation: 4 × 0.5 s).
pub const FLASH: Duration = Duration::from_secs(2);
/// The least time from one tone to the next of the same or less urgency: the longest tone (void)
/// lasts 0.75 s, so each is heard to its end.
pub const TONE_GAP: Duration = Duration::from_secs(1);

/// Which sound a board change calls for: each reads differently from across a kitchen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tone {
    /// A new ticket for this station.
    New,
    /// A ticket on this station was rushed.
    Rush,
    /// A ticket on this station was voided (the loudest: stop making it).
    Void,
}

impl Tone {
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::New => "new",
            Tone::Rush => "rush",
            Tone::Void => "void",
        }
    }
}

/// A screen's sound settings, kept per station in the page's storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SoundSettings {
    pub muted: bool,
    /// 0–100.
    pub volume: u8,
}

impl Default for SoundSettings {
    fn default() -> SoundSettings {
        SoundSettings { muted: false, volume: 80 }
    }
}

impl SoundSettings {
    /// Reads stored settings; anything unreadable is the defaults (logged), a volume over 100 is 100.
    #[must_use]
    pub fn parse(json: &str) -> SoundSettings {
        match serde_json::from_str::<SoundSettings>(json) {
            Ok(s) => SoundSettings { volume: s.volume.min(100), ..s },
            Err(e) => {
                log::warn!("[Chime] stored sound settings ignored: {e}");
                SoundSettings::default()
            }
        }
    }

    /// The gain a tone plays at (0 when muted).
    pub fn gain(self) -> f32 {
        if self.muted { 0.0 } else { f32::from(self.volume.min(100)) / 100.0 }
    }
}

/// What the screen says about its sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SoundState {
    /// The browser keeps audio locked until the screen is touched.
    Locked,
    Muted,
    On,
}

impl SoundState {
    #[must_use]
    pub fn of(unlocked: bool, settings: SoundSettings) -> SoundState {
        match (unlocked, settings.gain() > 0.0) {
            (false, _) => SoundState::Locked,
            (true, false) => SoundState::Muted,
            (true, true) => SoundState::On,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SoundState::Locked => "locked",
            SoundState::Muted => "muted",
            SoundState::On => "on",
        }
    }
}

/// What a board change (or a tick of the clock) did to the alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[must_use = "the tone and the redraw are the caller's to do"]
pub struct AlertsUpdate {
    /// The tone to play, if any: the most urgent of what happened, unless it came within
    /// [`TONE_GAP`] of a tone as urgent (then it is held for a tick after the gap).
    pub tone: Option<Tone>,
    /// [`NewTicketAlerts::flashing`] changed.
    pub changed: bool,
}

#[derive(Debug, Default)]
pub struct NewTicketAlerts {
    /// Every order id seen since the board first loaded (`None` until then).
    seen: Option<FastSet<String>>,
    /// Orders flashing, with when their flash started.
    flashing: HashMap<String, Millis>,
    /// The rushed orders last seen on the station's tickets.
    rushed: FastSet<String>,
    /// The board and the station as of the last change: the next looks at what changed since.
    mark: Option<BoardMark>,
    station: Option<Station>,
    /// Voided orders, with when this screen heard of them.
    voided: HashMap<String, Millis>,
    /// How many voids were showing at the last tick.
    voids_shown: usize,
    /// The last tone returned to be played, and when (the page may not play it, muted or with
    /// audio locked; it starts the gap all the same).
    last_tone: Option<(Millis, Tone)>,
    /// The most urgent tone held back by the gap, for the first tick after it.
    held: Option<Tone>,
}

impl NewTicketAlerts {
    #[must_use]
    pub fn new() -> NewTicketAlerts {
        NewTicketAlerts::default()
    }

    /// The board changed at `now` (which becomes the flash start of the orders it brings);
    /// `station` is the one the screen shows. After the first board, only the orders the board
    /// says changed are looked at ([`Board::changed_since`]); every order when it cannot say, or
    /// when the station changed.
    pub fn handle_board(&mut self, now: Millis, board: &Board, station: &Station) -> AlertsUpdate {
        if board.last_seq().is_none() {
            return AlertsUpdate::default();
        }
        let orders = board.confirmed_orders();
        let switched = self.station.as_ref() != Some(station);
        let changed_orders = self.mark.filter(|_| !switched).and_then(|mark| board.changed_since(mark));
        self.mark = Some(board.mark());
        if switched {
            self.station = Some(station.clone());
        }
        let Some(seen) = &mut self.seen else {
            self.seen = Some(orders.keys().map(|id| id.to_string()).collect());
            // Voids and rushes from before the screen loaded are not news.
            self.voided = board.voided_orders().map(|o| (o.id.clone(), Millis(0))).collect();
            self.rushed = board.ticket_ids_where(station, |o| o.rush).into_iter().collect();
            return AlertsUpdate::default();
        };
        let fresh: Vec<String> = match &changed_orders {
            Some(ids) => ids
                .iter()
                .filter(|id| orders.contains_key(**id) && !seen.contains(**id))
                .map(|id| id.to_string())
                .collect(),
            None => orders.keys().filter(|id| !seen.contains(&***id)).map(|id| id.to_string()).collect(),
        };
        seen.extend(fresh.iter().cloned());
        if seen.len() > SEEN_LIMIT {
            let recallable: HashSet<String> = board.recallable(&Station::Expo).into_iter().map(|o| o.id).collect();
            seen.retain(|id| orders.contains_key(id.as_str()) || recallable.contains(id));
        }
        let new = fresh.iter().any(|id| board.shown_order(station, id).is_some());
        // A ticket on the station rushed since the last change, unless it is news already (a new
        // ticket rushed rings as new). The rushed tickets of a station switched to are not news.
        let rush = match &changed_orders {
            Some(ids) => {
                let mut rush = false;
                for id in ids {
                    if board.shown_order(station, id).is_some_and(|o| o.rush) {
                        rush |= self.rushed.insert((*id).to_string()) && !fresh.iter().any(|f| f == id);
                    } else {
                        self.rushed.remove(*id);
                    }
                }
                rush
            }
            None => {
                let rushed: FastSet<String> = board.ticket_ids_where(station, |o| o.rush).into_iter().collect();
                let rush = !switched && rushed.iter().any(|id| !self.rushed.contains(id) && !fresh.contains(id));
                self.rushed = rushed;
                rush
            }
        };
        let mut void = false;
        let mut voids_changed = false;
        let kept: HashSet<&str> = board.voided_orders().map(|o| o.id.as_str()).collect();
        self.voided.retain(|id, _| kept.contains(id.as_str()));
        for order in board.voided_orders() {
            if !self.voided.contains_key(&order.id) {
                self.voided.insert(order.id.clone(), now);
                voids_changed = true;
                void |= !board.voided_tickets(station, std::slice::from_ref(&order.id), now).is_empty();
            }
        }
        let tone = [(void, Tone::Void), (rush, Tone::Rush), (new, Tone::New)]
            .into_iter()
            .find(|(on, _)| *on)
            .map(|(_, t)| t)
            .and_then(|t| self.sound(now, t));
        let flashing = self.flashing.len();
        self.flashing.retain(|id, _| orders.contains_key(id.as_str()));
        let changed = !fresh.is_empty() || self.flashing.len() != flashing || voids_changed;
        self.flashing.extend(fresh.into_iter().map(|id| (id, now)));
        self.voids_shown = self.voids_showing(now).len();
        AlertsUpdate { tone, changed }
    }

    /// The last tone's gap, if `now` is within it. A clock that went back (the wall clock set
    /// back) ends it.
    fn gap(&self, now: Millis) -> Option<Tone> {
        self.last_tone.filter(|&(at, _)| at <= now && now < at.after(TONE_GAP)).map(|(_, tone)| tone)
    }

    /// `tone` at `now`: returned to be played after [`TONE_GAP`], or sooner when it is more
    /// urgent than the last; otherwise held (the most urgent held) for a tick after the gap.
    fn sound(&mut self, now: Millis, tone: Tone) -> Option<Tone> {
        if self.gap(now).is_some_and(|last| tone <= last) {
            self.held = self.held.max(Some(tone));
            return None;
        }
        self.last_tone = Some((now, tone));
        if self.held.is_some_and(|held| held <= tone) {
            self.held = None;
        }
        Some(tone)
    }

    /// The clock moved on to `now`: flashes that have run for [`FLASH`] end, and a tone held back
    /// by the gap plays once it is over.
    pub fn handle_tick(&mut self, now: Millis) -> AlertsUpdate {
        let flashing = self.flashing.len();
        self.flashing.retain(|_, started| now < started.after(FLASH));
        let voids = self.voids_showing(now).len();
        let changed = self.flashing.len() != flashing || voids != self.voids_shown;
        self.voids_shown = voids;
        let tone = match self.held {
            Some(held) if self.gap(now).is_none() => {
                self.held = None;
                self.last_tone = Some((now, held));
                Some(held)
            }
            _ => None,
        };
        AlertsUpdate { tone, changed }
    }

    /// When the next flash or void showing ends, or a held tone may play: [`NewTicketAlerts::handle_tick`]
    /// is due then.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        let flashes = self.flashing.values().map(|started| started.after(FLASH));
        let voids = self.voided.values().map(|heard| heard.after(VOID_SHOWN)).filter(|&end| end > Millis(0));
        let held = self.held.and(self.last_tone).map(|(at, _)| at.after(TONE_GAP));
        flashes.chain(voids).chain(held).min()
    }

    /// The voided orders to show struck through at `now`: those heard of less than
    /// [`VOID_SHOWN`] ago, newest first.
    pub fn voids_showing(&self, now: Millis) -> Vec<String> {
        let mut showing: Vec<(&String, Millis)> =
            self.voided.iter().filter(|(_, heard)| now < heard.after(VOID_SHOWN)).map(|(id, at)| (id, *at)).collect();
        sort::sort_by(&mut showing, |a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        showing.into_iter().map(|(id, _)| id.clone()).collect()
    }

    /// The orders flashing, by id, with when their flash started.
    pub fn flashing(&self) -> &HashMap<String, Millis> {
        &self.flashing
    }

    /// Forgets which board it saw last: the next change walks every order, as the first after
    /// a board it cannot follow does (a test and a benchmark compare the two ways).
    #[cfg(any(test, feature = "bench"))]
    pub fn forget_board(&mut self) {
        self.mark = None;
    }

    /// How many order ids are remembered as seen.
    pub fn remembered(&self) -> usize {
        self.seen.as_ref().map_or(0, FastSet::len)
    }
}

#[cfg(test)]
mod tests {
    use restaurant_protocol::{Order, OrderStatus, ServerMessage};

    use super::*;
    use crate::core::board::BoardConfig;
    use crate::core::test_support::{T0, burger, created, item, live, ms, order, status};

    /// Alerts that have seen `board` load.
    fn loaded(board: &Board, station: &Station) -> NewTicketAlerts {
        let mut alerts = NewTicketAlerts::new();
        assert_eq!(alerts.handle_board(T0, board, station), AlertsUpdate::default());
        alerts
    }

    fn flashing(alerts: &NewTicketAlerts) -> Vec<(&str, Millis)> {
        let mut flashing: Vec<(&str, Millis)> = alerts.flashing().iter().map(|(id, at)| (id.as_str(), *at)).collect();
        flashing.sort_unstable();
        flashing
    }

    #[test]
    fn the_orders_of_the_first_loaded_board_are_not_new() {
        let mut alerts = NewTicketAlerts::new();
        let loading = Board::new(BoardConfig::default());
        assert_eq!(alerts.handle_board(T0, &loading, &Station::Kitchen), AlertsUpdate::default());
        assert_eq!(alerts.remembered(), 0, "nothing is seen before the board loads");
        let board = live(1, vec![burger("a", 1), burger("b", 2)]);
        assert_eq!(alerts.handle_board(T0, &board, &Station::Kitchen), AlertsUpdate::default());
        assert!(alerts.flashing().is_empty());
        assert_eq!(alerts.remembered(), 2);
        assert_eq!(alerts.poll_timeout(), None);
    }

    #[test]
    fn a_new_order_on_the_station_flashes_and_chimes_once() {
        let mut board = live(1, vec![burger("a", 1)]);
        let mut alerts = loaded(&board, &Station::Kitchen);
        board.handle_event(created(2, burger("b", 2)));
        let at = T0 + ms(500);
        assert_eq!(
            alerts.handle_board(at, &board, &Station::Kitchen),
            AlertsUpdate { tone: Some(Tone::New), changed: true }
        );
        assert_eq!(flashing(&alerts), [("b", at)]);
        assert_eq!(
            alerts.handle_board(at + ms(100), &board, &Station::Kitchen),
            AlertsUpdate::default(),
            "seen: not new again"
        );
    }

    #[test]
    fn a_burst_rings_once_and_a_more_urgent_tone_cuts_into_the_gap() {
        let mut board = live(1, vec![burger("a", 1)]);
        let mut alerts = loaded(&board, &Station::Kitchen);
        let tone = |alerts: &mut NewTicketAlerts, board: &Board, at: Millis| {
            alerts.handle_board(at, board, &Station::Kitchen).tone
        };
        board.handle_event(created(2, burger("b", 2)));
        assert_eq!(tone(&mut alerts, &board, T0), Some(Tone::New));
        board.handle_event(created(3, burger("c", 3)));
        assert_eq!(tone(&mut alerts, &board, T0 + ms(300)), None, "a new ticket within the gap");
        let rushed = |seq, order: Order| ServerMessage::OrderUpdated { seq, order: Order { rush: true, ..order } };
        board.handle_event(rushed(4, burger("c", 3)));
        assert_eq!(tone(&mut alerts, &board, T0 + ms(400)), Some(Tone::Rush), "more urgent: rings");
        board.handle_event(rushed(5, burger("b", 2)));
        assert_eq!(tone(&mut alerts, &board, T0 + ms(900)), None, "a rush within the rush's gap");
        // Held, not lost: it plays at the first tick after the gap, once.
        let gap_over = T0 + ms(400) + TONE_GAP;
        assert_eq!(alerts.poll_timeout(), Some(gap_over));
        assert_eq!(alerts.handle_tick(T0 + ms(1_399)).tone, None, "still in the gap");
        assert_eq!(alerts.handle_tick(gap_over).tone, Some(Tone::Rush));
        assert_eq!(alerts.handle_tick(gap_over + TONE_GAP).tone, None, "played once");
        board.handle_event(created(6, burger("d", 6)));
        let next_gap_over = gap_over + TONE_GAP;
        assert_eq!(tone(&mut alerts, &board, next_gap_over), Some(Tone::New), "the gap is over");
        // A wall clock set back ends the gap rather than muting the screen until it catches up.
        board.handle_event(created(7, burger("e", 7)));
        assert_eq!(tone(&mut alerts, &board, T0), Some(Tone::New));
    }

    #[test]
    fn a_recalled_order_is_not_new() {
        let mut board = live(1, vec![burger("a", 1)]);
        let mut alerts = loaded(&board, &Station::Kitchen);
        board.handle_event(status(2, "a", OrderStatus::Completed));
        assert_eq!(alerts.handle_board(T0, &board, &Station::Kitchen), AlertsUpdate::default());
        board.handle_event(status(3, "a", OrderStatus::Preparing));
        assert_eq!(alerts.handle_board(T0, &board, &Station::Kitchen), AlertsUpdate::default());
        assert!(alerts.flashing().is_empty());
    }

    #[test]
    fn an_order_for_another_station_flashes_without_the_chime() {
        let grill = Station::parse("grill");
        let mut board = live(1, vec![]);
        let mut alerts = loaded(&board, &grill);
        board.handle_event(created(2, order("f", 2, 0, vec![item("Fries", "fryer", 1)])));
        assert_eq!(alerts.handle_board(T0, &board, &grill), AlertsUpdate { tone: None, changed: true });
        assert_eq!(flashing(&alerts), [("f", T0)]);
        board.handle_event(created(3, order("g", 3, 0, vec![item("Fries", "fryer", 1), item("Burger", "grill", 1)])));
        assert_eq!(alerts.handle_board(T0, &board, &grill), AlertsUpdate { tone: Some(Tone::New), changed: true });
    }

    #[test]
    fn a_flash_ends_after_two_seconds_or_when_the_order_leaves_the_board() {
        let mut board = live(1, vec![]);
        let mut alerts = loaded(&board, &Station::Kitchen);
        board.handle_event(created(2, burger("a", 1)));
        let _ = alerts.handle_board(T0, &board, &Station::Kitchen);
        // After the first tone's gap, so no tone is held for a tick.
        board.handle_event(created(3, burger("b", 2)));
        let _ = alerts.handle_board(T0 + ms(1_100), &board, &Station::Kitchen);
        assert_eq!(alerts.poll_timeout(), Some(T0 + FLASH));
        assert!(!alerts.handle_tick(T0 + (FLASH - ms(1))).changed);
        assert!(alerts.handle_tick(T0 + FLASH).changed);
        assert_eq!(flashing(&alerts), [("b", T0 + ms(1_100))]);
        assert_eq!(alerts.poll_timeout(), Some(T0 + ms(1_100) + FLASH));

        board.handle_event(status(4, "b", OrderStatus::Cancelled));
        assert_eq!(
            alerts.handle_board(T0 + ms(2_100), &board, &Station::Kitchen),
            AlertsUpdate { tone: None, changed: true }
        );
        assert!(alerts.flashing().is_empty());
        assert_eq!(alerts.poll_timeout(), None);
        assert!(!alerts.handle_tick(T0 + ms(10_000)).changed);
    }

    #[test]
    fn past_the_limit_only_active_and_recallable_orders_are_remembered() {
        let ids: Vec<String> = (0..SEEN_LIMIT).map(|n| format!("o{n}")).collect();
        let orders: Vec<Order> = ids.iter().zip(1..).map(|(id, n)| burger(id, n)).collect();
        let mut board = live(1, orders);
        let mut alerts = loaded(&board, &Station::Kitchen);
        assert_eq!(alerts.remembered(), SEEN_LIMIT);
        for (id, seq) in ids.iter().zip(2..) {
            board.handle_event(status(seq, id, OrderStatus::Completed));
        }
        let mut seq = board.last_seq().expect("live") + 1;
        board.handle_event(created(seq, burger("new", 9_999)));
        let _ = alerts.handle_board(T0, &board, &Station::Kitchen);
        let recall_limit = BoardConfig::default().recall_limit;
        assert_eq!(alerts.remembered(), 1 + recall_limit, "the new order and the recallable ones");

        // Recalling a remembered order is still no news; one forgotten and back is new again.
        let (recallable, forgotten) = (&ids[SEEN_LIMIT - 1], &ids[0]);
        seq += 1;
        board.handle_event(status(seq, recallable, OrderStatus::Preparing));
        assert_eq!(alerts.handle_board(T0, &board, &Station::Kitchen), AlertsUpdate::default());
        seq += 1;
        board.handle_event(ServerMessage::OrderUpdated { seq, order: burger(forgotten, 1) });
        assert!(alerts.handle_board(T0, &board, &Station::Kitchen).changed);
        assert!(alerts.flashing().contains_key(forgotten.as_str()));
    }

    #[test]
    fn a_rush_from_before_the_screen_loaded_or_on_a_station_switched_to_is_not_news() {
        let rushed = |id: &str, number| Order { rush: true, ..burger(id, number) };
        let mut board = live(1, vec![rushed("a", 1), burger("b", 2)]);
        let mut alerts = loaded(&board, &Station::Kitchen);
        board
            .handle_event(ServerMessage::OrderUpdated { seq: 2, order: Order { notes: "x".into(), ..burger("b", 2) } });
        assert_eq!(alerts.handle_board(T0, &board, &Station::Kitchen).tone, None, "a was rushed when the board loaded");
        let fries = |id: &str, number| order(id, number, 0, vec![item("Fries", "fryer", 1)]);
        board.handle_event(created(3, Order { rush: true, ..fries("c", 3) }));
        // On the kitchen screen, c is a new ticket (it rings as new, not as a rush).
        assert_eq!(alerts.handle_board(T0 + TONE_GAP, &board, &Station::Kitchen).tone, Some(Tone::New));
        let fryer = Station::parse("fryer");
        let later = T0 + TONE_GAP + TONE_GAP;
        assert_eq!(alerts.handle_board(later, &board, &fryer).tone, None, "switched to the fryer: c's rush is old");
        board.handle_event(created(4, Order { rush: true, ..fries("d", 4) }));
        board.handle_event(ServerMessage::OrderUpdated { seq: 5, order: Order { notes: "x".into(), ..fries("c", 3) } });
        assert_eq!(alerts.handle_board(later + TONE_GAP, &board, &fryer).tone, Some(Tone::New), "d is new");
        let later = later + TONE_GAP + TONE_GAP;
        board.handle_event(ServerMessage::OrderUpdated { seq: 6, order: Order { rush: true, ..fries("c", 3) } });
        assert_eq!(alerts.handle_board(later, &board, &fryer).tone, Some(Tone::Rush), "rushed again");
    }

    #[test]
    fn a_rush_and_a_void_on_the_station_each_have_their_tone_once() {
        let mut board = live(1, vec![burger("a", 1), burger("b", 2)]);
        let mut alerts = loaded(&board, &Station::Kitchen);
        let rushed = Order { rush: true, ..burger("a", 1) };
        board.handle_event(ServerMessage::OrderUpdated { seq: 2, order: rushed.clone() });
        assert_eq!(alerts.handle_board(T0, &board, &Station::Kitchen).tone, Some(Tone::Rush));
        board.handle_event(ServerMessage::OrderUpdated { seq: 3, order: Order { notes: "x".into(), ..rushed } });
        assert_eq!(alerts.handle_board(T0 + TONE_GAP, &board, &Station::Kitchen).tone, None, "still rushed: no tone");
        let mut voided = burger("b", 2);
        voided
            .apply_action(
                &crate::core::board::Command::Void { reason: "left".into() },
                "expo",
                &restaurant_protocol::time::format_rfc3339_millis(T0.0 as i64),
            )
            .unwrap();
        board.handle_event(ServerMessage::OrderUpdated { seq: 4, order: voided });
        // Heard of long after its own time (this tablet's clock is off): shown from now on.
        let heard = T0 + ms(600_000);
        assert_eq!(alerts.handle_board(heard, &board, &Station::Kitchen).tone, Some(Tone::Void));
        assert_eq!(alerts.voids_showing(heard), ["b"]);
        let later = heard + TONE_GAP + ms(1);
        assert_eq!(alerts.handle_board(later, &board, &Station::Kitchen).tone, None, "once");
        assert_eq!(alerts.poll_timeout(), Some(heard + VOID_SHOWN));
        assert!(!alerts.handle_tick(heard + ms(7_900)).changed);
        assert!(alerts.handle_tick(heard + VOID_SHOWN).changed, "it goes after a few seconds");
        assert!(alerts.voids_showing(heard + VOID_SHOWN).is_empty());
        assert_eq!(
            loaded(&board, &Station::parse("fryer")).handle_board(T0, &board, &Station::parse("fryer")).tone,
            None,
            "nothing for a station without its items"
        );
    }

    #[test]
    fn sound_settings_read_back_safely_and_say_what_the_screen_does() {
        assert_eq!(SoundSettings::parse(r#"{"muted":true,"volume":40}"#), SoundSettings { muted: true, volume: 40 });
        assert_eq!(SoundSettings::parse(r#"{"muted":false,"volume":250}"#).volume, 100);
        assert_eq!(SoundSettings::parse("nonsense"), SoundSettings::default());
        assert_eq!(SoundSettings { muted: false, volume: 50 }.gain(), 0.5);
        assert_eq!(SoundSettings { muted: true, volume: 50 }.gain(), 0.0);
        assert_eq!(SoundState::of(false, SoundSettings::default()), SoundState::Locked);
        assert_eq!(SoundState::of(true, SoundSettings { muted: false, volume: 0 }), SoundState::Muted);
        assert_eq!(SoundState::of(true, SoundSettings::default()).as_str(), "on");
    }
}
