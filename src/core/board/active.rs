//! The board's confirmed active orders, with a running tally of what they hold: which stations
//! have items on them and how many of each item are still to make. A screen asks for both on
//! every change (the station list, the all-day panel); kept as orders come and go, they cost a
//! few map updates per event instead of a walk over every order on every change.

use std::sync::Arc;

use restaurant_protocol::{ItemStatus, Order};

use crate::core::sort;
use crate::core::sorted_map::SortedMap;

/// The active orders by id. Every change goes through here, so the tally cannot drift from them.
#[derive(Debug, Clone, Default)]
pub(super) struct ActiveOrders {
    /// Keyed by shared ids: the page copies the board every frame, and a copy of a shared id is a
    /// count, where a copy of a `String` is an allocation (1000 of them a frame at 1000 orders).
    by_id: SortedMap<Arc<str>, Arc<Order>>,
    /// Active orders with items at each station.
    stations: SortedMap<String, i64>,
    /// Items not yet ready, by station, then by item name.
    open: SortedMap<String, SortedMap<String, OpenItems>>,
}

/// Order lines of one item at one station that are not ready yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct OpenItems {
    /// How many lines (an entry is kept while there is one, even of quantity 0).
    pub lines: i64,
    pub quantity: i64,
}

impl ActiveOrders {
    pub fn get(&self, id: &str) -> Option<&Arc<Order>> {
        self.by_id.get(id)
    }

    pub fn values(&self) -> impl Iterator<Item = &Arc<Order>> {
        self.by_id.values()
    }

    pub fn by_id(&self) -> &SortedMap<Arc<str>, Arc<Order>> {
        &self.by_id
    }

    pub fn insert(&mut self, order: Arc<Order>) {
        self.tally(&order, 1);
        // An order already here keeps its key.
        let old = match self.by_id.get_mut(order.id.as_str()) {
            Some(kept) => Some(std::mem::replace(kept, order)),
            None => self.by_id.insert(Arc::from(order.id.as_str()), order),
        };
        if let Some(old) = old {
            self.tally(&old, -1);
        }
    }

    pub fn remove(&mut self, id: &str) -> Option<Arc<Order>> {
        let order = self.by_id.remove(id)?;
        self.tally(&order, -1);
        Some(order)
    }

    pub fn clear(&mut self) {
        *self = ActiveOrders::default();
    }

    /// The stations with items on an active order, by name.
    pub fn stations(&self) -> impl Iterator<Item = &str> {
        self.stations.keys().map(String::as_str)
    }

    /// The items not yet ready at each station, by station, then by item name.
    pub fn open_items(&self) -> &SortedMap<String, SortedMap<String, OpenItems>> {
        &self.open
    }

    /// Adds (`sign` 1) or takes away (-1) what `order` holds.
    fn tally(&mut self, order: &Order, sign: i64) {
        let mut stations: Vec<&str> = order.items.iter().map(|item| item.station.as_str()).collect();
        sort::sort(&mut stations);
        stations.dedup();
        for station in stations {
            adjust(&mut self.stations, station, |count| *count += sign, |count| *count == 0);
        }
        for (station, name, quantity) in open_lines(order) {
            let names = self.open.entry_or_default(station, str::to_string);
            adjust(
                names,
                name,
                |open| {
                    open.lines += sign;
                    open.quantity += sign * i64::from(quantity);
                },
                |open| open.lines == 0,
            );
            if names.is_empty() {
                self.open.remove(station);
            }
        }
    }
}

/// The lines of `order` still to make: (station, item name, quantity).
pub(super) fn open_lines(order: &Order) -> impl Iterator<Item = (&str, &str, u32)> {
    order
        .items
        .iter()
        .filter(|item| item.status != ItemStatus::Ready)
        .map(|item| (item.station.as_str(), item.name.as_str(), item.quantity))
}

/// Changes the entry `key` of `map` (made when missing) and removes it once `gone` says so.
fn adjust<V: Default>(
    map: &mut SortedMap<String, V>,
    key: &str,
    change: impl FnOnce(&mut V),
    gone: impl FnOnce(&V) -> bool,
) {
    let value = map.entry_or_default(key, str::to_string);
    change(value);
    if gone(value) {
        map.remove(key);
    }
}
