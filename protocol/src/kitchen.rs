//! How a kitchen works an order: each item has its own status at its station, the order's status
//! follows from its items, and the expeditor completes or voids the whole order.
//!
//! One set of rules, run by the hub when it applies a command and by a kitchen screen when it
//! shows the command before the hub has answered (so the two cannot disagree).
//!
//! | action | who | what it does |
//! |---|---|---|
//! | `start {station}` | that station (or `kitchen`) | the station's `new` items → `preparing` |
//! | `bump {station}` | that station (or `kitchen`) | the station's items → `ready` |
//! | `recall {station}` | that station (or `kitchen`) | the station's `ready` items → `preparing` (a completed order comes back) |
//! | `recall` (no station) | `expo`, `kitchen` | a completed order comes back, its items as they were |
//! | `complete {force}` | `expo`, `kitchen` | a `ready` order → `completed`; `force` completes one that is not |
//! | `void {reason}` | `expo`, `kitchen`, the manager | any active order → `cancelled`, with the reason |
//! | `rush` | any station | flags the order |
//!
//! The order's status while it is active is derived: `ready` when every item is ready,
//! `preparing` when any item is started or ready, otherwise `new`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{ALL_ORDERS_STATIONS, Order, OrderItem, OrderStatus};

/// Longest reason of a void.
pub const MAX_VOID_REASON_CHARS: usize = 200;
/// Longest station name a command may carry.
pub const MAX_STATION_CHARS: usize = 64;
/// The station of the expeditor's screen: whole orders, completes and voids them.
pub const EXPO_STATION: &str = "expo";
/// The station of a whole-kitchen screen: may act for every station and as the expeditor.
pub const KITCHEN_STATION: &str = "kitchen";

/// Where one item is in its station's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    #[default]
    New,
    Preparing,
    Ready,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::New => "new",
            ItemStatus::Preparing => "preparing",
            ItemStatus::Ready => "ready",
        }
    }
}

/// Why and by whom an order was voided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Void {
    pub reason: String,
    /// The station (or `manager`) that voided it.
    pub by: String,
    pub at: String,
}

/// A change a kitchen screen (or the manager) asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KitchenAction {
    Start { station: String },
    Bump { station: String },
    Recall { station: Option<String> },
    Complete { force: bool },
    Void { reason: String },
    Rush { rush: bool },
}

impl KitchenAction {
    /// Every action's `kind`, as its JSON names it.
    pub const KINDS: [&'static str; 6] = ["start", "bump", "recall", "complete", "void", "rush"];

    /// This action's `kind` in its JSON (a new action must be named here, and read by
    /// [`KitchenAction::deserialize_flat`]).
    pub fn kind(&self) -> &'static str {
        match self {
            KitchenAction::Start { .. } => "start",
            KitchenAction::Bump { .. } => "bump",
            KitchenAction::Recall { .. } => "recall",
            KitchenAction::Complete { .. } => "complete",
            KitchenAction::Void { .. } => "void",
            KitchenAction::Rush { .. } => "rush",
        }
    }

    /// Reads an action as it is written (`{"kind": "bump", "station": …}`) from one flat set of
    /// fields, for `#[serde(deserialize_with = …)]`. serde's derived decoder for this internally
    /// tagged enum buffers the whole value first and compiles every field's decoder twice: 13 KB
    /// of a kitchen display, which reads its stored commands back. It refuses what the derived
    /// decoder refuses (tested), and also a field of another kind with a wrong type, which that
    /// one ignores (nothing writes one).
    pub fn deserialize_flat<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<KitchenAction, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        struct Fields {
            kind: String,
            station: Option<String>,
            force: Option<bool>,
            reason: Option<String>,
            rush: Option<bool>,
        }
        let Fields { kind, station, force, reason, rush } = Fields::deserialize(deserializer)?;
        let station_of = |station: Option<String>| station.ok_or_else(|| D::Error::missing_field("station"));
        Ok(match kind.as_str() {
            "start" => KitchenAction::Start { station: station_of(station)? },
            "bump" => KitchenAction::Bump { station: station_of(station)? },
            "recall" => KitchenAction::Recall { station },
            "complete" => KitchenAction::Complete { force: force.ok_or_else(|| D::Error::missing_field("force"))? },
            "void" => KitchenAction::Void { reason: reason.ok_or_else(|| D::Error::missing_field("reason"))? },
            "rush" => KitchenAction::Rush { rush: rush.ok_or_else(|| D::Error::missing_field("rush"))? },
            other => return Err(D::Error::unknown_variant(other, &Self::KINDS)),
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            KitchenAction::Start { .. } => "start",
            KitchenAction::Bump { .. } => "bump",
            KitchenAction::Recall { .. } => "recall",
            KitchenAction::Complete { force: false } => "complete",
            KitchenAction::Complete { force: true } => "force-complete",
            KitchenAction::Void { .. } => "void",
            KitchenAction::Rush { .. } => "rush",
        }
    }

    /// The station whose items this action changes (`None`: the whole order).
    pub fn item_station(&self) -> Option<&str> {
        match self {
            KitchenAction::Start { station } | KitchenAction::Bump { station } => Some(station),
            KitchenAction::Recall { station } => station.as_deref(),
            _ => None,
        }
    }

    /// Whether a screen signed in as `signed_in` may send this action. A prep station acts on its
    /// own items only; `kitchen` acts for every station and as the expeditor; `expo` completes,
    /// recalls and voids whole orders; anyone may rush.
    pub fn allowed_for(&self, signed_in: &str) -> Result<(), Forbidden> {
        let forbidden = |what: String| Err(Forbidden { signed_in: signed_in.to_string(), what });
        if signed_in == KITCHEN_STATION {
            return Ok(());
        }
        match self {
            KitchenAction::Rush { .. } => Ok(()),
            KitchenAction::Start { station } | KitchenAction::Bump { station } if station == EXPO_STATION => {
                forbidden(format!("{} items at expo (expo has no items)", self.name()))
            }
            KitchenAction::Start { station }
            | KitchenAction::Bump { station }
            | KitchenAction::Recall { station: Some(station) } => {
                if station == signed_in || (signed_in == EXPO_STATION && station == EXPO_STATION) {
                    Ok(())
                } else {
                    forbidden(format!("{} {station}'s items", self.name()))
                }
            }
            KitchenAction::Recall { station: None } | KitchenAction::Complete { .. } | KitchenAction::Void { .. } => {
                if signed_in == EXPO_STATION {
                    Ok(())
                } else {
                    forbidden(format!("{} whole orders (only expo or the whole kitchen can)", self.name()))
                }
            }
        }
    }
}

/// A station asked for something only another station (or expo) may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    pub signed_in: String,
    pub what: String,
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "station {} may not {}", self.signed_in, self.what)
    }
}

impl std::error::Error for Forbidden {}

/// Why an order cannot take an action in its present state (the hub answers `invalid_transition`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Voided {
        number: u32,
        reason: String,
    },
    Completed {
        number: u32,
    },
    NoItemsAt {
        number: u32,
        station: String,
    },
    AlreadyStarted {
        number: u32,
        station: String,
    },
    AlreadyReady {
        number: u32,
        station: String,
    },
    NothingToRecall {
        number: u32,
        station: String,
    },
    NotCompleted {
        number: u32,
    },
    /// Not every item is ready: these stations are still working on it.
    NotReady {
        number: u32,
        waiting: Vec<String>,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Voided { number, reason } => write!(f, "order #{number} was voided: {reason}"),
            Refusal::Completed { number } => write!(f, "order #{number} is already completed"),
            Refusal::NoItemsAt { number, station } => write!(f, "order #{number} has no {station} items"),
            Refusal::AlreadyStarted { number, station } => {
                write!(f, "the {station} items of order #{number} are already started")
            }
            Refusal::AlreadyReady { number, station } => {
                write!(f, "the {station} items of order #{number} are already ready")
            }
            Refusal::NothingToRecall { number, station } => {
                write!(f, "the {station} items of order #{number} are not ready: nothing to recall")
            }
            Refusal::NotCompleted { number } => write!(f, "order #{number} is not completed: nothing to recall"),
            Refusal::NotReady { number, waiting } => {
                write!(f, "order #{number} is not ready: waiting for {}", waiting.join(", "))
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// Whether `item` is made at `station` (`kitchen` and `expo` see every item).
pub fn item_at(item: &OrderItem, station: &str) -> bool {
    station == KITCHEN_STATION || station == EXPO_STATION || item.station == station
}

impl Order {
    /// The stations this order's items are made at, in the order they first appear.
    pub fn stations(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for item in &self.items {
            if !names.contains(&item.station.as_str()) {
                names.push(&item.station);
            }
        }
        names
    }

    /// Where `station`'s part of the order is: `ready` when all its items are, `preparing` when
    /// any is started, else `new`; `None` when it has no items there.
    pub fn station_status(&self, station: &str) -> Option<ItemStatus> {
        let mut items = self.items.iter().filter(|i| item_at(i, station)).peekable();
        items.peek()?;
        let (mut all_ready, mut any_started) = (true, false);
        for item in items {
            all_ready &= item.status == ItemStatus::Ready;
            any_started |= item.status != ItemStatus::New;
        }
        Some(if all_ready {
            ItemStatus::Ready
        } else if any_started {
            ItemStatus::Preparing
        } else {
            ItemStatus::New
        })
    }

    /// The latest `ready_at` of `station`'s items, when they are all ready.
    pub fn station_ready_at(&self, station: &str) -> Option<&str> {
        if self.station_status(station) != Some(ItemStatus::Ready) {
            return None;
        }
        self.items.iter().filter(|i| item_at(i, station)).filter_map(|i| i.ready_at.as_deref()).max()
    }

    /// The status an active order has because of its items.
    pub fn derived_status(&self) -> OrderStatus {
        match self.station_status(KITCHEN_STATION) {
            Some(ItemStatus::Ready) => OrderStatus::Ready,
            Some(ItemStatus::Preparing) => OrderStatus::Preparing,
            // An order without items has nothing to make: it is ready.
            None => OrderStatus::Ready,
            Some(ItemStatus::New) => OrderStatus::New,
        }
    }

    /// Applies `action` by `by` at `at` (RFC 3339). `Ok(false)`: nothing to change (a rush
    /// already set). On `Err` the order is unchanged.
    pub fn apply_action(&mut self, action: &KitchenAction, by: &str, at: &str) -> Result<bool, Refusal> {
        let number = self.number;
        if let Some(void) = &self.void {
            return Err(Refusal::Voided { number, reason: void.reason.clone() });
        }
        if self.status == OrderStatus::Cancelled {
            return Err(Refusal::Voided { number, reason: "cancelled".to_string() });
        }
        let completed = self.status == OrderStatus::Completed;
        let station_of = |station: &str| station.to_string();
        match action {
            KitchenAction::Rush { rush } => {
                if completed {
                    return Err(Refusal::Completed { number });
                }
                if self.rush == *rush {
                    return Ok(false);
                }
                self.rush = *rush;
            }
            KitchenAction::Start { station } | KitchenAction::Bump { station } => {
                if completed {
                    return Err(Refusal::Completed { number });
                }
                let status = self
                    .station_status(station)
                    .ok_or_else(|| Refusal::NoItemsAt { number, station: station_of(station) })?;
                let bump = matches!(action, KitchenAction::Bump { .. });
                match (bump, status) {
                    (false, ItemStatus::New) => {}
                    (false, _) => return Err(Refusal::AlreadyStarted { number, station: station_of(station) }),
                    (true, ItemStatus::Ready) => {
                        return Err(Refusal::AlreadyReady { number, station: station_of(station) });
                    }
                    (true, _) => {}
                }
                for item in self.items.iter_mut().filter(|i| item_at(i, station)) {
                    match (bump, item.status) {
                        (false, ItemStatus::New) => {
                            item.status = ItemStatus::Preparing;
                            item.started_at = Some(at.to_string());
                        }
                        (true, ItemStatus::New | ItemStatus::Preparing) => {
                            item.started_at.get_or_insert_with(|| at.to_string());
                            item.status = ItemStatus::Ready;
                            item.ready_at = Some(at.to_string());
                        }
                        _ => {}
                    }
                }
            }
            KitchenAction::Recall { station: Some(station) } if station != EXPO_STATION => {
                if self.station_status(station).is_none() {
                    return Err(Refusal::NoItemsAt { number, station: station_of(station) });
                }
                if !self.items.iter().any(|i| item_at(i, station) && i.status == ItemStatus::Ready) {
                    return Err(Refusal::NothingToRecall { number, station: station_of(station) });
                }
                for item in self.items.iter_mut().filter(|i| item_at(i, station) && i.status == ItemStatus::Ready) {
                    item.status = ItemStatus::Preparing;
                    item.ready_at = None;
                }
                self.completed_at = None;
            }
            KitchenAction::Recall { .. } => {
                if !completed {
                    return Err(Refusal::NotCompleted { number });
                }
                self.completed_at = None;
            }
            KitchenAction::Complete { force } => {
                if completed {
                    return Err(Refusal::Completed { number });
                }
                let waiting: Vec<String> = self
                    .stations()
                    .into_iter()
                    .filter(|s| self.station_status(s) != Some(ItemStatus::Ready))
                    .map(str::to_string)
                    .collect();
                if !waiting.is_empty() && !force {
                    return Err(Refusal::NotReady { number, waiting });
                }
                self.status = OrderStatus::Completed;
                self.completed_at = Some(at.to_string());
                self.updated_at = at.to_string();
                return Ok(true);
            }
            KitchenAction::Void { reason } => {
                if completed {
                    return Err(Refusal::Completed { number });
                }
                self.status = OrderStatus::Cancelled;
                self.void = Some(Void { reason: reason.clone(), by: by.to_string(), at: at.to_string() });
                self.updated_at = at.to_string();
                return Ok(true);
            }
        }
        self.settle(at);
        Ok(true)
    }

    /// An order stored before items had statuses has every item `new` whatever its own status:
    /// its items take the status it had (ready for a ready or completed order, preparing for a
    /// preparing one), so it reads and moves on as it was.
    pub fn give_items_their_status(&mut self) {
        let item_status = match self.status {
            OrderStatus::Preparing => ItemStatus::Preparing,
            OrderStatus::Ready | OrderStatus::Completed => ItemStatus::Ready,
            OrderStatus::New | OrderStatus::Cancelled => return,
        };
        if self.items.iter().all(|i| i.status == ItemStatus::New && i.started_at.is_none()) {
            for item in &mut self.items {
                item.status = item_status;
            }
        }
    }

    /// Derives the status (an active order) and the order's own times from its items.
    fn settle(&mut self, at: &str) {
        self.status = self.derived_status();
        if self.started_at.is_none() && self.items.iter().any(|i| i.status != ItemStatus::New) {
            self.started_at = Some(at.to_string());
        }
        self.ready_at = match self.status {
            OrderStatus::Ready => self.ready_at.take().or_else(|| Some(at.to_string())),
            _ => None,
        };
        self.updated_at = at.to_string();
    }
}

/// Whether `station` sees every order (`kitchen`, `expo`).
pub fn sees_every_order(station: &str) -> bool {
    ALL_ORDERS_STATIONS.contains(&station)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OrderSource, Totals};

    #[test]
    fn an_action_read_flat_is_the_action_written_and_refused_where_the_derived_decoder_refuses() {
        #[derive(Deserialize)]
        struct Flat(#[serde(deserialize_with = "KitchenAction::deserialize_flat")] KitchenAction);
        let actions = [
            KitchenAction::Start { station: "grill".into() },
            KitchenAction::Bump { station: "fryer".into() },
            KitchenAction::Recall { station: Some("grill".into()) },
            KitchenAction::Recall { station: None },
            KitchenAction::Complete { force: true },
            KitchenAction::Complete { force: false },
            KitchenAction::Void { reason: "walked out".into() },
            KitchenAction::Rush { rush: true },
        ];
        for action in actions {
            let text = serde_json::to_string(&action).unwrap();
            assert!(KitchenAction::KINDS.contains(&action.kind()), "{text}");
            assert!(text.contains(&format!(r#""kind":"{}""#, action.kind())), "{text}");
            assert_eq!(serde_json::from_str::<Flat>(&text).unwrap().0, action, "{text}");
        }
        let every: std::collections::BTreeSet<&str> = actions_of_every_kind().iter().map(KitchenAction::kind).collect();
        assert_eq!(every.len(), KitchenAction::KINDS.len());
        for text in [
            r#"{"kind":"start"}"#,
            r#"{"kind":"bump","station":null}"#,
            r#"{"kind":"complete"}"#,
            r#"{"kind":"void"}"#,
            r#"{"kind":"rush","rush":"yes"}"#,
            r#"{"kind":"explode"}"#,
            r#"{"station":"grill"}"#,
        ] {
            assert!(serde_json::from_str::<KitchenAction>(text).is_err(), "{text}");
            assert!(serde_json::from_str::<Flat>(text).is_err(), "{text}");
        }
        let recall = serde_json::from_str::<Flat>(r#"{"kind":"recall","extra":1}"#).unwrap().0;
        assert_eq!(recall, KitchenAction::Recall { station: None });
    }

    fn actions_of_every_kind() -> Vec<KitchenAction> {
        KitchenAction::KINDS
            .iter()
            .map(|kind| {
                let text = match *kind {
                    "start" | "bump" => format!(r#"{{"kind":"{kind}","station":"grill"}}"#),
                    "complete" => format!(r#"{{"kind":"{kind}","force":false}}"#),
                    "void" => format!(r#"{{"kind":"{kind}","reason":"r"}}"#),
                    "rush" => format!(r#"{{"kind":"{kind}","rush":true}}"#),
                    _ => format!(r#"{{"kind":"{kind}"}}"#),
                };
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
            })
            .collect()
    }

    const T1: &str = "2026-11-29T12:00:01.000Z";
    const T2: &str = "2026-11-29T12:00:02.000Z";
    const T3: &str = "2026-11-29T12:00:03.000Z";

    fn item(id: &str, station: &str) -> OrderItem {
        OrderItem {
            id: id.into(),
            menu_item_id: id.into(),
            name: id.into(),
            quantity: 1,
            options: vec![],
            special_instructions: None,
            station: station.into(),
            allergens: vec![],
            allergies: vec![],
            unit_price_cents: 100,
            line_total_cents: 100,
            modifiers: vec![],
            status: ItemStatus::New,
            started_at: None,
            ready_at: None,
        }
    }

    fn order() -> Order {
        Order {
            id: "o1".into(),
            number: 12,
            source: OrderSource::Kiosk,
            status: OrderStatus::New,
            rush: false,
            items: vec![item("burger", "grill"), item("fries", "fryer"), item("steak", "grill")],
            notes: String::new(),
            customer_name: None,
            totals: Totals::default(),
            created_at: "2026-11-29T12:00:00.000Z".into(),
            updated_at: "2026-11-29T12:00:00.000Z".into(),
            started_at: None,
            ready_at: None,
            completed_at: None,
            void: None,
        }
    }

    fn start(station: &str) -> KitchenAction {
        KitchenAction::Start { station: station.into() }
    }

    fn bump(station: &str) -> KitchenAction {
        KitchenAction::Bump { station: station.into() }
    }

    #[test]
    fn a_station_bump_changes_only_its_items_and_the_order_follows_them() {
        let mut o = order();
        assert!(o.apply_action(&start("grill"), "grill", T1).unwrap());
        assert_eq!(o.status, OrderStatus::Preparing);
        assert_eq!(o.started_at.as_deref(), Some(T1));
        assert_eq!(o.items[1].status, ItemStatus::New, "the fryer's item is untouched");
        o.apply_action(&bump("grill"), "grill", T2).unwrap();
        assert_eq!(o.status, OrderStatus::Preparing, "the fryer is still working");
        assert_eq!(o.station_status("grill"), Some(ItemStatus::Ready));
        assert_eq!(o.station_status("fryer"), Some(ItemStatus::New));
        assert_eq!(o.station_ready_at("grill"), Some(T2));
        assert_eq!(o.ready_at, None);
        // The fryer bumps without starting: its item is started and ready at once.
        o.apply_action(&bump("fryer"), "fryer", T3).unwrap();
        assert_eq!(o.status, OrderStatus::Ready);
        assert_eq!(o.ready_at.as_deref(), Some(T3));
        assert_eq!((o.items[1].started_at.as_deref(), o.items[1].ready_at.as_deref()), (Some(T3), Some(T3)));
        assert_eq!(o.started_at.as_deref(), Some(T1), "first start is kept");
    }

    #[test]
    fn repeated_and_foreign_actions_are_refused_without_changing_anything() {
        let mut o = order();
        o.apply_action(&start("grill"), "grill", T1).unwrap();
        let before = o.clone();
        assert_eq!(
            o.apply_action(&start("grill"), "grill", T2).unwrap_err().to_string(),
            "the grill items of order #12 are already started"
        );
        assert_eq!(
            o.apply_action(&bump("drinks"), "drinks", T2).unwrap_err(),
            Refusal::NoItemsAt { number: 12, station: "drinks".into() }
        );
        assert_eq!(
            o.apply_action(&KitchenAction::Complete { force: false }, "expo", T2).unwrap_err().to_string(),
            "order #12 is not ready: waiting for grill, fryer"
        );
        assert_eq!(o, before);
        o.apply_action(&bump("grill"), "grill", T2).unwrap();
        assert!(matches!(o.apply_action(&bump("grill"), "grill", T3), Err(Refusal::AlreadyReady { .. })));
    }

    #[test]
    fn expo_completes_a_ready_order_or_forces_one_that_is_not() {
        let mut o = order();
        o.apply_action(&bump("kitchen"), "kitchen", T1).unwrap();
        assert_eq!(o.status, OrderStatus::Ready, "kitchen bumps every item");
        o.apply_action(&KitchenAction::Complete { force: false }, "expo", T2).unwrap();
        assert_eq!((o.status, o.completed_at.as_deref()), (OrderStatus::Completed, Some(T2)));
        assert_eq!(o.apply_action(&bump("grill"), "grill", T3).unwrap_err(), Refusal::Completed { number: 12 });

        let mut forced = order();
        forced.apply_action(&KitchenAction::Complete { force: true }, "expo", T1).unwrap();
        assert_eq!(forced.status, OrderStatus::Completed);
    }

    #[test]
    fn recall_at_a_station_reopens_its_items_and_at_expo_the_order() {
        let mut o = order();
        o.apply_action(&bump("kitchen"), "kitchen", T1).unwrap();
        o.apply_action(&KitchenAction::Complete { force: false }, "expo", T2).unwrap();
        let mut at_expo = o.clone();
        at_expo.apply_action(&KitchenAction::Recall { station: None }, "expo", T3).unwrap();
        assert_eq!(at_expo.status, OrderStatus::Ready, "back on expo's screen as it was");
        assert_eq!(at_expo.completed_at, None);

        o.apply_action(&KitchenAction::Recall { station: Some("fryer".into()) }, "fryer", T3).unwrap();
        assert_eq!(o.status, OrderStatus::Preparing);
        assert_eq!(o.items[1].status, ItemStatus::Preparing);
        assert_eq!(o.items[1].ready_at, None);
        assert_eq!(o.items[0].status, ItemStatus::Ready, "the grill's items stay ready");
        assert_eq!(o.ready_at, None);
        assert!(matches!(
            o.apply_action(&KitchenAction::Recall { station: Some("fryer".into()) }, "fryer", T3),
            Err(Refusal::NothingToRecall { .. })
        ));
        assert!(matches!(
            o.apply_action(&KitchenAction::Recall { station: None }, "expo", T3),
            Err(Refusal::NotCompleted { .. })
        ));
    }

    #[test]
    fn a_voided_order_refuses_everything_with_its_reason() {
        let mut o = order();
        o.apply_action(&KitchenAction::Void { reason: "customer left".into() }, "expo", T1).unwrap();
        assert_eq!(o.status, OrderStatus::Cancelled);
        assert_eq!(o.void, Some(Void { reason: "customer left".into(), by: "expo".into(), at: T1.into() }));
        let before = o.clone();
        for action in [bump("grill"), start("fryer"), KitchenAction::Rush { rush: true }] {
            assert_eq!(
                o.apply_action(&action, "grill", T2).unwrap_err().to_string(),
                "order #12 was voided: customer left"
            );
        }
        assert_eq!(o, before);
    }

    #[test]
    fn rush_is_idempotent() {
        let mut o = order();
        assert!(o.apply_action(&KitchenAction::Rush { rush: true }, "grill", T1).unwrap());
        assert!(!o.apply_action(&KitchenAction::Rush { rush: true }, "grill", T2).unwrap());
        assert_eq!(o.updated_at, T1);
    }

    #[test]
    fn who_may_do_what() {
        let ok = |a: KitchenAction, who: &str| a.allowed_for(who).is_ok();
        assert!(ok(bump("grill"), "grill"));
        assert!(ok(bump("fryer"), "kitchen"));
        assert!(!ok(bump("fryer"), "grill"));
        assert_eq!(
            bump("fryer").allowed_for("grill").unwrap_err().to_string(),
            "station grill may not bump fryer's items"
        );
        assert!(!ok(bump("grill"), "expo"));
        assert!(!ok(bump("expo"), "expo"));
        assert!(ok(KitchenAction::Complete { force: true }, "expo"));
        assert!(!ok(KitchenAction::Complete { force: false }, "grill"));
        assert!(!ok(KitchenAction::Void { reason: "x".into() }, "fryer"));
        assert!(ok(KitchenAction::Void { reason: "x".into() }, "kitchen"));
        assert!(ok(KitchenAction::Recall { station: None }, "expo"));
        assert!(ok(KitchenAction::Recall { station: Some("expo".into()) }, "expo"));
        assert!(!ok(KitchenAction::Recall { station: None }, "grill"));
        assert!(ok(KitchenAction::Recall { station: Some("grill".into()) }, "grill"));
        assert!(ok(KitchenAction::Rush { rush: true }, "drinks"));
    }

    #[test]
    fn an_order_stored_before_item_statuses_reads_with_new_items() {
        let json = r#"{"id":"i","menu_item_id":"m","name":"M","quantity":1,"station":"grill"}"#;
        let item: OrderItem = serde_json::from_str(json).unwrap();
        assert_eq!((item.status, &item.started_at), (ItemStatus::New, &None));
        let text = serde_json::to_string(&item).unwrap();
        assert!(text.contains(r#""status":"new""#) && !text.contains("started_at"), "{text}");
    }

    #[test]
    fn an_order_stored_before_item_statuses_takes_its_items_from_its_own_status() {
        let mut ready = Order { status: OrderStatus::Ready, ..order() };
        ready.give_items_their_status();
        assert!(ready.items.iter().all(|i| i.status == ItemStatus::Ready));
        ready.apply_action(&KitchenAction::Complete { force: false }, "expo", T1).unwrap();
        let mut preparing = Order { status: OrderStatus::Preparing, ..order() };
        preparing.give_items_their_status();
        assert_eq!(preparing.station_status("grill"), Some(ItemStatus::Preparing));
        let mut started = order();
        started.apply_action(&start("grill"), "grill", T1).unwrap();
        let before = started.clone();
        started.give_items_their_status();
        assert_eq!(started, before, "an order with item statuses is left as it is");
    }
}
