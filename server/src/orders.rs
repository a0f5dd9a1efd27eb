//! Checking a new order against the menu, building the stored [`Order`], and station filtering.

use restaurant_protocol::time::format_rfc3339_millis;
use restaurant_protocol::{MAX_QUANTITY, MIN_QUANTITY, NewOrder, Order, OrderItem, OrderSource, OrderStatus};

use crate::menu::MenuBook;

pub const MAX_LINES: usize = 100;
pub const MAX_MODIFIERS: usize = 20;
pub const MAX_MODIFIER_CHARS: usize = 100;
pub const MAX_INSTRUCTIONS_CHARS: usize = 500;
pub const MAX_NAME_CHARS: usize = 60;
pub const MAX_NOTES_CHARS: usize = 500;

/// Stations that see every order (the whole kitchen, the expeditor).
pub const ALL_ORDERS_STATIONS: [&str; 2] = ["kitchen", "expo"];

/// A new order that passed every check; the store gives it an id, a number and times.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedOrder {
    source: OrderSource,
    customer_name: Option<String>,
    notes: String,
    /// Lines with everything but their id.
    lines: Vec<OrderItem>,
}

/// Why a new order is refused; the message names the offending line and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOrder {
    #[error("an order needs at least one item")]
    NoItems,
    #[error("an order has at most {MAX_LINES} lines, got {0}")]
    TooManyLines(usize),
    #[error("{field} is longer than {max_chars} characters")]
    TooLong { field: &'static str, max_chars: usize },
    #[error("unknown menu item {0:?}")]
    UnknownItem(String),
    #[error("quantity must be {MIN_QUANTITY}–{MAX_QUANTITY}, got {0}")]
    Quantity(u32),
    #[error("at most {MAX_MODIFIERS} modifiers")]
    TooManyModifiers,
    /// A problem with one line of `items`.
    #[error("items[{line}]: {problem}")]
    Line { line: usize, problem: Box<InvalidOrder> },
}

/// Checks every line against the menu and the size limits.
pub fn check(menu: &MenuBook, order: &NewOrder) -> Result<CheckedOrder, InvalidOrder> {
    if order.items.is_empty() {
        return Err(InvalidOrder::NoItems);
    }
    if order.items.len() > MAX_LINES {
        return Err(InvalidOrder::TooManyLines(order.items.len()));
    }
    let customer_name = match order.customer_name.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(name) => Some(limited("customer_name", name, MAX_NAME_CHARS)?.to_string()),
    };
    let notes = limited("notes", order.notes.as_deref().unwrap_or("").trim(), MAX_NOTES_CHARS)?.to_string();
    let mut lines = Vec::with_capacity(order.items.len());
    for (i, line) in order.items.iter().enumerate() {
        let at = |problem: InvalidOrder| InvalidOrder::Line { line: i, problem: Box::new(problem) };
        let item =
            menu.item(&line.menu_item_id).ok_or_else(|| at(InvalidOrder::UnknownItem(line.menu_item_id.clone())))?;
        if !(MIN_QUANTITY..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(at(InvalidOrder::Quantity(line.quantity)));
        }
        if line.modifiers.len() > MAX_MODIFIERS {
            return Err(at(InvalidOrder::TooManyModifiers));
        }
        let mut modifiers = Vec::with_capacity(line.modifiers.len());
        for m in &line.modifiers {
            let m = limited("modifier", m.trim(), MAX_MODIFIER_CHARS).map_err(at)?;
            if !m.is_empty() {
                modifiers.push(m.to_string());
            }
        }
        let special_instructions = match line.special_instructions.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(limited("special_instructions", text, MAX_INSTRUCTIONS_CHARS).map_err(at)?.to_string()),
        };
        lines.push(OrderItem {
            id: String::new(),
            menu_item_id: item.id.clone(),
            name: item.name.clone(),
            quantity: line.quantity,
            modifiers,
            special_instructions,
            station: item.station.clone(),
            allergy: item.allergy,
        });
    }
    Ok(CheckedOrder { source: order.source, customer_name, notes, lines })
}

fn limited<'a>(field: &'static str, text: &'a str, max_chars: usize) -> Result<&'a str, InvalidOrder> {
    if text.chars().count() > max_chars { Err(InvalidOrder::TooLong { field, max_chars }) } else { Ok(text) }
}

impl CheckedOrder {
    /// The stored order: status `new`, item ids `<order id>-<line number>`.
    pub fn into_order(self, id: String, number: u32, now_ms: i64) -> Order {
        let time = format_rfc3339_millis(now_ms);
        let items = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, item)| OrderItem { id: format!("{id}-{}", i + 1), ..item })
            .collect();
        Order {
            id,
            number,
            source: self.source,
            status: OrderStatus::New,
            rush: false,
            items,
            notes: self.notes,
            customer_name: self.customer_name,
            created_at: time.clone(),
            updated_at: time,
        }
    }
}

/// Whether a KDS of `station` shows `order`: every order for `kitchen`, `expo` or no station,
/// otherwise orders with at least one item made at that station.
pub fn shown_at(order: &Order, station: Option<&str>) -> bool {
    match station {
        None => true,
        Some(s) if ALL_ORDERS_STATIONS.contains(&s) => true,
        Some(s) => order.items.iter().any(|item| item.station == s),
    }
}

#[cfg(test)]
mod tests {
    use restaurant_protocol::NewOrderItem;

    use super::*;

    fn line(id: &str, quantity: u32) -> NewOrderItem {
        NewOrderItem { menu_item_id: id.into(), quantity, modifiers: vec![], special_instructions: None }
    }

    fn new_order(items: Vec<NewOrderItem>) -> NewOrder {
        NewOrder { items, source: OrderSource::Kiosk, customer_name: None, notes: None }
    }

    #[test]
    fn a_valid_order_takes_names_stations_and_allergens_from_the_menu() {
        let menu = MenuBook::load(None).unwrap();
        let mut order = new_order(vec![line("cheeseburger", 2), line("fries-small", 1)]);
        order.items[0].modifiers = vec![" no onions ".into(), "  ".into()];
        order.items[0].special_instructions = Some("  well done ".into());
        order.customer_name = Some(" Ada ".into());
        let built = check(&menu, &order).unwrap().into_order("ord_1".into(), 7, 0);
        assert_eq!(built.number, 7);
        assert_eq!(built.status, OrderStatus::New);
        assert_eq!(built.customer_name.as_deref(), Some("Ada"));
        assert_eq!(built.created_at, "1970-01-01T00:00:00.000Z");
        let first = &built.items[0];
        assert_eq!(
            (first.id.as_str(), first.name.as_str(), first.station.as_str()),
            ("ord_1-1", "Cheeseburger", "grill")
        );
        assert!(first.allergy);
        assert_eq!(first.modifiers, ["no onions"]);
        assert_eq!(first.special_instructions.as_deref(), Some("well done"));
        assert_eq!(built.items[1].station, "fryer");
    }

    #[test]
    fn unknown_items_and_out_of_range_quantities_are_refused() {
        let menu = MenuBook::load(None).unwrap();
        let refused = |order: NewOrder| check(&menu, &order).unwrap_err().to_string();
        assert!(refused(new_order(vec![line("unicorn", 1)])).contains("unknown menu item"));
        for q in [0, 100] {
            let err = refused(new_order(vec![line("cheeseburger", 1), line("cheeseburger", q)]));
            assert!(err.starts_with("items[1]: quantity must be 1–99"), "{err}");
        }
        assert!(check(&menu, &new_order(vec![line("cheeseburger", 99)])).is_ok());
        assert!(refused(new_order(vec![])).contains("at least one"));
        assert!(refused(new_order(vec![line("cheeseburger", 1); MAX_LINES + 1])).contains("at most"));
    }

    #[test]
    fn oversize_text_fields_are_refused() {
        let menu = MenuBook::load(None).unwrap();
        let mut order = new_order(vec![line("cheeseburger", 1)]);
        order.items[0].special_instructions = Some("x".repeat(MAX_INSTRUCTIONS_CHARS + 1));
        assert!(check(&menu, &order).unwrap_err().to_string().contains("special_instructions"));
        let mut order = new_order(vec![line("cheeseburger", 1)]);
        order.customer_name = Some("n".repeat(MAX_NAME_CHARS + 1));
        assert!(check(&menu, &order).unwrap_err().to_string().contains("customer_name"));
    }

    #[test]
    fn stations_see_orders_with_their_items_and_kitchen_sees_all() {
        let menu = MenuBook::load(None).unwrap();
        let order = check(&menu, &new_order(vec![line("cheeseburger", 1)])).unwrap().into_order("o".into(), 1, 0);
        assert!(shown_at(&order, Some("grill")) && shown_at(&order, Some("kitchen")) && shown_at(&order, Some("expo")));
        assert!(shown_at(&order, None));
        assert!(!shown_at(&order, Some("fryer")));
    }
}
