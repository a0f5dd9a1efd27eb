//! What the tests of the cores share: draining a core's commands, and what they start from (orders,
//! events, boards, the menu, a data channel).

use std::time::Duration;

use restaurant_protocol::time::format_rfc3339_millis;
use restaurant_protocol::{ItemStatus, MenuItem, Order, OrderItem, OrderSource, OrderStatus, ServerMessage, Snapshot};

use super::board::{Board, BoardConfig, Station};
use super::time::Millis;
use super::voice::EventChannel;

/// Everything a core has queued, in order: `drain(|| core.poll_command())`.
pub(crate) fn drain<T>(poll: impl FnMut() -> Option<T>) -> Vec<T> {
    std::iter::from_fn(poll).collect()
}

/// The commands of one kind, in order, each mapped to what the test looks at:
/// `picked!(commands, CallCommand::Send(m) => m.clone())`.
macro_rules! picked {
    ($commands:expr, $kind:pat => $value:expr) => {
        $commands
            .iter()
            .filter_map(|command| match command {
                $kind => Some($value),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
}
pub(crate) use picked;

pub(crate) const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(crate) const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Wall-clock origin of the tests (Unix ms): orders are created minutes after it.
pub(crate) const T0: Millis = Millis(1_795_000_000_000);

pub(crate) fn item(name: &str, station: &str, quantity: u32) -> OrderItem {
    OrderItem {
        id: format!("{name}-{station}"),
        menu_item_id: name.to_lowercase(),
        name: name.to_string(),
        quantity,
        options: Vec::new(),
        special_instructions: None,
        station: station.to_string(),
        allergens: Vec::new(),
        allergies: Vec::new(),
        unit_price_cents: 500,
        line_total_cents: 500 * i64::from(quantity),
        modifiers: Vec::new(),
        status: ItemStatus::New,
        started_at: None,
        ready_at: None,
    }
}

pub(crate) fn order(id: &str, number: u32, created_min: i64, items: Vec<OrderItem>) -> Order {
    let created = format_rfc3339_millis(T0.0 as i64 + created_min * 60_000);
    Order {
        id: id.to_string(),
        number,
        source: OrderSource::Kiosk,
        status: OrderStatus::New,
        rush: false,
        items,
        notes: String::new(),
        customer_name: None,
        totals: Default::default(),
        created_at: created.clone(),
        updated_at: created,
        started_at: None,
        ready_at: None,
        completed_at: None,
        void: None,
    }
}

pub(crate) fn burger(id: &str, number: u32) -> Order {
    order(id, number, 0, vec![item("Burger", "grill", 1)])
}

pub(crate) fn created(seq: u64, order: Order) -> ServerMessage {
    ServerMessage::OrderCreated { seq, order }
}

pub(crate) fn status(seq: u64, id: &str, status: OrderStatus) -> ServerMessage {
    ServerMessage::OrderStatusChanged { seq, order_id: id.into(), status, updated_at: format!("t{seq}") }
}

/// A live board at seq `seq` holding `orders`.
pub(crate) fn live(seq: u64, orders: Vec<Order>) -> Board {
    let mut board = Board::new(BoardConfig::default());
    assert!(board.poll_snapshot_request());
    board.apply_snapshot(Snapshot { seq, orders, sold_out: None, recent: vec![] });
    assert!(board.is_live());
    board
}

/// What the kitchen sees: each ticket's id, status and whether a command on it is pending.
pub(crate) fn statuses(board: &Board) -> Vec<(String, OrderStatus, bool)> {
    board.tickets(&Station::Kitchen, T0).into_iter().map(|t| (t.order.id.clone(), t.order.status, t.pending)).collect()
}

/// A few entries shaped like the default menu (`server/menu.json`): a burger with optional
/// Remove/Extras groups, one with a required Size, plain sides, a drink whose Size has a default.
pub(crate) fn menu_fixture() -> Vec<MenuItem> {
    let json = r#"[
      {"id": "cheeseburger", "name": "Cheeseburger", "price_cents": 899, "category": "Burgers", "station": "grill",
       "aliases": ["cheese burger", "cheeseburgers"], "allergens": ["gluten", "dairy", "sesame"],
       "modifier_groups": [
         {"id": "remove", "name": "Remove", "kind": "remove", "max": 4, "options": [
           {"id": "onions", "name": "onions"}, {"id": "pickles", "name": "pickles"},
           {"id": "lettuce", "name": "lettuce"}, {"id": "tomato", "name": "tomato"}]},
         {"id": "extras", "name": "Extras", "kind": "add", "max": 3, "options": [
           {"id": "cheese", "name": "extra cheese", "price_cents": 75},
           {"id": "bacon", "name": "bacon", "price_cents": 150},
           {"id": "avocado", "name": "avocado", "price_cents": 125}]}]},
      {"id": "double-cheeseburger", "name": "Double Cheeseburger", "price_cents": 1199, "category": "Burgers", "station": "grill",
       "aliases": ["double cheese burger", "double"], "allergens": ["gluten", "dairy", "sesame"]},
      {"id": "classic-burger", "name": "Classic Burger", "price_cents": 799, "category": "Burgers", "station": "grill",
       "aliases": ["hamburger", "burger", "plain burger"], "allergens": ["gluten", "sesame"],
       "modifier_groups": [
         {"id": "size", "name": "Size", "min": 1, "max": 1, "options": [
           {"id": "small", "name": "Small"}, {"id": "medium", "name": "Medium", "price_cents": 100},
           {"id": "large", "name": "Large", "price_cents": 200}]},
         {"id": "remove", "name": "Remove", "kind": "remove", "max": 4, "options": [
           {"id": "onions", "name": "onions"}, {"id": "pickles", "name": "pickles"},
           {"id": "lettuce", "name": "lettuce"}, {"id": "tomato", "name": "tomato"}]},
         {"id": "extras", "name": "Extras", "kind": "add", "max": 3, "options": [
           {"id": "cheese", "name": "extra cheese", "price_cents": 75},
           {"id": "bacon", "name": "bacon", "price_cents": 150},
           {"id": "avocado", "name": "avocado", "price_cents": 125}]}]},
      {"id": "fries-small", "name": "Small Fries", "price_cents": 299, "category": "Sides", "station": "fryer", "aliases": ["small fry", "small french fries"]},
      {"id": "fries-large", "name": "Large Fries", "price_cents": 449, "category": "Sides", "station": "fryer", "aliases": ["large fry", "large french fries", "big fries"]},
      {"id": "cola", "name": "Cola", "price_cents": 249, "category": "Drinks", "station": "drinks", "aliases": ["coke", "soda", "coca cola"],
       "modifier_groups": [
         {"id": "drink-size", "name": "Size", "min": 1, "max": 1, "options": [
           {"id": "drink-small", "name": "Small", "price_cents": -50},
           {"id": "drink-medium", "name": "Medium", "default": true},
           {"id": "drink-large", "name": "Large", "price_cents": 50}]},
         {"id": "ice", "name": "Ice", "kind": "remove", "max": 1, "options": [{"id": "ice", "name": "ice"}]}]},
      {"id": "chocolate-shake", "name": "Chocolate Shake", "price_cents": 549, "category": "Desserts", "station": "drinks",
       "aliases": ["chocolate milkshake", "shake", "milkshake"], "allergens": ["dairy"]}
    ]"#;
    serde_json::from_str(json).expect("fixture parses")
}

/// A channel that records what it sent and can close itself after `close_after` sends.
#[derive(Debug, Default)]
pub(crate) struct FakeChannel {
    pub open: bool,
    pub sent: Vec<String>,
    pub close_after: Option<usize>,
    pub fail_next_send: bool,
}

impl EventChannel for FakeChannel {
    fn is_open(&self) -> bool {
        self.open
    }
    fn send(&mut self, text: &str) -> Result<(), String> {
        if !self.open {
            return Err("closed".into());
        }
        if self.fail_next_send {
            self.fail_next_send = false;
            return Err("send failed: InvalidStateError".into());
        }
        self.sent.push(text.to_string());
        if self.close_after == Some(self.sent.len()) {
            self.open = false;
        }
        Ok(())
    }
}
