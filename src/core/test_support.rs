//! What the tests of the cores share: draining a core's commands, and the orders, events and boards
//! they start from.

use std::time::Duration;

use restaurant_protocol::time::format_rfc3339_millis;
use restaurant_protocol::{Order, OrderItem, OrderSource, OrderStatus, ServerMessage, Snapshot};

use super::board::{Board, BoardConfig, Station};
use super::time::Millis;

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
        modifiers: Vec::new(),
        special_instructions: None,
        station: station.to_string(),
        allergy: false,
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
        created_at: created.clone(),
        updated_at: created,
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
    board.apply_snapshot(Snapshot { seq, orders });
    assert!(board.is_live());
    board
}

/// What the kitchen sees: each ticket's id, status and whether a command on it is pending.
pub(crate) fn statuses(board: &Board) -> Vec<(String, OrderStatus, bool)> {
    board.tickets(&Station::Kitchen, T0).into_iter().map(|t| (t.order.id.clone(), t.order.status, t.pending)).collect()
}
