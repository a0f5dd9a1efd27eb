//! Checking and pricing a new order against the live menu, building the stored [`Order`], and
//! station filtering. Prices come from [`restaurant_protocol::menu::quote_with`], the one set of
//! pricing rules the kiosk estimates with too.

use restaurant_protocol::menu::{MAX_OPTIONS_PER_LINE, quote_with};
use restaurant_protocol::time::format_rfc3339_millis;
use restaurant_protocol::{
    Allergen, ItemStatus, LineProblem, NewOrder, Order, OrderItem, OrderSource, OrderStatus, Quote, QuoteLine, Totals,
};

use crate::menu::{LiveMenu, MAX_ID_CHARS};

pub const MAX_LINES: usize = 100;
pub use restaurant_protocol::{ALL_ORDERS_STATIONS, MAX_INSTRUCTIONS_CHARS};
pub const MAX_NAME_CHARS: usize = 60;
pub const MAX_NOTES_CHARS: usize = 500;

/// A new order that passed every check, priced; the store gives it an id, a number and times.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedOrder {
    source: OrderSource,
    customer_name: Option<String>,
    notes: String,
    /// Lines with everything but their id.
    lines: Vec<OrderItem>,
    totals: Totals,
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
    /// A problem with one line of `items` (0-based).
    #[error("items[{line}]: {problem}")]
    Line { line: usize, problem: LineError },
    /// Lines whose item or an option of it is sold out: every one of them.
    #[error("{}", sold_out_message(.0))]
    SoldOut(Vec<(usize, LineProblem)>),
}

/// What is wrong with one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error(transparent)]
    Menu(#[from] LineProblem),
    #[error("{field} is longer than {max_chars} characters")]
    TooLong { field: &'static str, max_chars: usize },
    #[error("at most {max} allergies per line (one of each), got {got}")]
    TooManyAllergies { got: usize, max: usize },
    /// A kiosk from before modifier groups: its order would lose what the customer asked for.
    #[error("free-text modifiers are not taken: choose the item's options (reload the kiosk page)")]
    FreeTextModifiers,
}

fn sold_out_message(lines: &[(usize, LineProblem)]) -> String {
    let each: Vec<String> = lines.iter().map(|(i, problem)| format!("items[{i}]: {problem}")).collect();
    each.join("; ")
}

/// Checks every line against the live menu and the size limits, and prices the order.
///
/// Sold-out lines are found first and named together ([`InvalidOrder::SoldOut`]); otherwise the
/// first problem is named with its line.
pub fn check(menu: &LiveMenu, order: &NewOrder) -> Result<CheckedOrder, InvalidOrder> {
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
    let mut instructions = Vec::with_capacity(order.items.len());
    for (i, line) in order.items.iter().enumerate() {
        let at = |problem: LineError| InvalidOrder::Line { line: i, problem };
        let too_long = |field| at(LineError::TooLong { field, max_chars: MAX_ID_CHARS });
        if line.menu_item_id.chars().count() > MAX_ID_CHARS {
            return Err(too_long("menu_item_id"));
        }
        if line.options.len() > MAX_OPTIONS_PER_LINE {
            return Err(at(LineProblem::TooManyOptions(line.options.len()).into()));
        }
        if line.options.iter().any(|id| id.chars().count() > MAX_ID_CHARS) {
            return Err(too_long("an option id"));
        }
        if line.allergies.len() > Allergen::ALL.len() {
            return Err(at(LineError::TooManyAllergies { got: line.allergies.len(), max: Allergen::ALL.len() }));
        }
        if !line.modifiers.is_empty() {
            return Err(at(LineError::FreeTextModifiers));
        }
        instructions.push(match line.special_instructions.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                limited("special_instructions", text, MAX_INSTRUCTIONS_CHARS)
                    .map_err(|_| {
                        at(LineError::TooLong { field: "special_instructions", max_chars: MAX_INSTRUCTIONS_CHARS })
                    })?
                    .to_string(),
            ),
        });
    }
    let sold_out: Vec<(usize, LineProblem)> = order
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let item = menu.item(&line.menu_item_id)?;
            if !item.available {
                return Some((i, LineProblem::ItemSoldOut { item: item.name.clone() }));
            }
            let (_, option) = line.options.iter().filter_map(|id| item.option(id)).find(|(_, o)| !o.available)?;
            Some((i, LineProblem::OptionSoldOut { item: item.name.clone(), option: option.name.clone() }))
        })
        .collect();
    if !sold_out.is_empty() {
        return Err(InvalidOrder::SoldOut(sold_out));
    }
    let quote = quote_with(|id| menu.item(id), menu.menu.tax, &order.items)
        .map_err(|(line, problem)| InvalidOrder::Line { line, problem: problem.into() })?;
    let lines = quote
        .lines
        .into_iter()
        .zip(&order.items)
        .zip(instructions)
        .map(|((priced, line), special_instructions)| {
            let item = menu.item(&priced.menu_item_id);
            let mut allergies = line.allergies.clone();
            allergies.sort();
            allergies.dedup();
            OrderItem {
                id: String::new(),
                menu_item_id: priced.menu_item_id,
                name: priced.name,
                quantity: priced.quantity,
                options: priced.options,
                special_instructions,
                station: item.map(|i| i.station.clone()).unwrap_or_default(),
                allergens: item.map(|i| i.allergens.clone()).unwrap_or_default(),
                allergies,
                unit_price_cents: priced.unit_price_cents,
                line_total_cents: priced.line_total_cents,
                status: ItemStatus::New,
                started_at: None,
                ready_at: None,
                modifiers: Vec::new(),
            }
        })
        .collect();
    Ok(CheckedOrder { source: order.source, customer_name, notes, lines, totals: quote.totals })
}

fn limited<'a>(field: &'static str, text: &'a str, max_chars: usize) -> Result<&'a str, InvalidOrder> {
    if text.chars().count() > max_chars { Err(InvalidOrder::TooLong { field, max_chars }) } else { Ok(text) }
}

impl CheckedOrder {
    /// What the order costs, line by line (`POST /api/v1/orders/quote`).
    pub fn quote(&self) -> Quote {
        let lines = self
            .lines
            .iter()
            .map(|line| QuoteLine {
                menu_item_id: line.menu_item_id.clone(),
                name: line.name.clone(),
                quantity: line.quantity,
                options: line.options.clone(),
                unit_price_cents: line.unit_price_cents,
                line_total_cents: line.line_total_cents,
            })
            .collect();
        Quote { lines, totals: self.totals }
    }

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
            totals: self.totals,
            created_at: time.clone(),
            updated_at: time,
            started_at: None,
            ready_at: None,
            completed_at: None,
            void: None,
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
    use restaurant_protocol::{Allergen, ModifierKind, NewOrderItem, SoldOut, TaxRule};

    use super::*;
    use crate::menu::MenuBook;

    fn live(sold_out: SoldOut, tax: TaxRule) -> LiveMenu {
        LiveMenu::new(&MenuBook::load(None).unwrap(), None, &sold_out, tax)
    }

    fn menu() -> LiveMenu {
        live(SoldOut::default(), TaxRule::default())
    }

    fn line(id: &str, quantity: u32) -> NewOrderItem {
        NewOrderItem::plain(id, quantity)
    }

    fn with(id: &str, options: &[&str]) -> NewOrderItem {
        NewOrderItem { options: options.iter().map(|o| o.to_string()).collect(), ..line(id, 1) }
    }

    fn new_order(items: Vec<NewOrderItem>) -> NewOrder {
        NewOrder { items, source: OrderSource::Kiosk, customer_name: None, notes: None }
    }

    fn refused(menu: &LiveMenu, items: Vec<NewOrderItem>) -> String {
        check(menu, &new_order(items)).unwrap_err().to_string()
    }

    #[test]
    fn a_valid_order_takes_names_stations_allergens_and_prices_from_the_menu() {
        let menu = live(SoldOut::default(), TaxRule { rate_millipercent: 8875, inclusive: false });
        let mut order = new_order(vec![line("cheeseburger", 2), line("fries-small", 1)]);
        order.items[0].options = vec!["bacon".into(), "onions".into()];
        order.items[0].allergies = vec![Allergen::Nuts, Allergen::Dairy, Allergen::Nuts];
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
        assert_eq!(first.allergens, [Allergen::Gluten, Allergen::Dairy, Allergen::Sesame]);
        assert_eq!(first.allergies, [Allergen::Dairy, Allergen::Nuts], "sorted, each once");
        let options: Vec<(&str, ModifierKind, i32)> =
            first.options.iter().map(|o| (o.option_id.as_str(), o.kind, o.price_cents)).collect();
        assert_eq!(options, [("onions", ModifierKind::Remove, 0), ("bacon", ModifierKind::Add, 150)]);
        assert_eq!((first.unit_price_cents, first.line_total_cents), (1049, 2098));
        assert_eq!(first.special_instructions.as_deref(), Some("well done"));
        assert_eq!(built.items[1].station, "fryer");
        assert!(built.items[1].allergens.is_empty());
        // 2098 + 299 = 2397; 8.875 % of it is 212.73… → 213.
        assert_eq!((built.totals.subtotal_cents, built.totals.tax_cents, built.totals.total_cents), (2397, 213, 2610));
    }

    #[test]
    fn defaults_fill_untouched_groups_and_a_negative_option_lowers_the_price() {
        let menu = menu();
        let checked =
            check(&menu, &new_order(vec![line("cola", 1), with("lemonade", &["drink-small", "ice"])])).unwrap();
        let order = checked.into_order("o".into(), 1, 0);
        assert_eq!(order.items[0].options.iter().map(|o| o.option_id.as_str()).collect::<Vec<_>>(), ["drink-medium"]);
        assert_eq!(order.items[0].unit_price_cents, 249);
        let ids: Vec<&str> = order.items[1].options.iter().map(|o| o.option_id.as_str()).collect();
        assert_eq!(ids, ["drink-small", "ice"]);
        assert_eq!(order.items[1].unit_price_cents, 299 - 50);
        assert_eq!(order.totals.total_cents, 249 + 249);
    }

    #[test]
    fn line_rules_are_refused_naming_the_line() {
        let menu = menu();
        let fries = line("fries-small", 1);
        assert_eq!(
            refused(&menu, vec![fries.clone(), line("classic-burger", 1)]),
            "items[1]: Classic Burger: Size needs a choice: Small, Medium or Large"
        );
        assert_eq!(
            refused(&menu, vec![fries.clone(), with("classic-burger", &["small", "large"])]),
            "items[1]: Classic Burger: Size takes at most 1"
        );
        assert_eq!(
            refused(&menu, vec![with("cheeseburger", &["ketchup"])]),
            "items[0]: Cheeseburger has no option \"ketchup\""
        );
        assert_eq!(
            refused(&menu, vec![with("cheeseburger", &["bacon", "bacon"])]),
            "items[0]: Cheeseburger: bacon is chosen twice"
        );
        let many: Vec<String> = (0..=MAX_OPTIONS_PER_LINE).map(|i| format!("o{i}")).collect();
        let mut oversize = line("cheeseburger", 1);
        oversize.options = many;
        assert_eq!(refused(&menu, vec![oversize]), "items[0]: at most 20 options per line, got 21");
        assert!(refused(&menu, vec![line("unicorn", 1)]).starts_with("items[0]: unknown menu item \"unicorn\""));
        for q in [0, 100] {
            let err = refused(&menu, vec![line("cheeseburger", 1), line("cheeseburger", q)]);
            assert!(err.starts_with("items[1]: quantity must be 1–99"), "{err}");
        }
        assert!(check(&menu, &new_order(vec![line("cheeseburger", 99)])).is_ok());
        assert!(refused(&menu, vec![]).contains("at least one"));
        assert!(refused(&menu, vec![line("cheeseburger", 1); MAX_LINES + 1]).contains("at most"));
    }

    #[test]
    fn sold_out_lines_are_all_named_in_one_message() {
        let menu = live(SoldOut { items: vec!["cola".into()], options: vec!["bacon".into()] }, TaxRule::default());
        let err =
            check(&menu, &new_order(vec![line("cola", 1), line("fries-small", 1), with("cheeseburger", &["bacon"])]))
                .unwrap_err();
        assert!(matches!(&err, InvalidOrder::SoldOut(lines) if lines.len() == 2));
        assert_eq!(err.to_string(), "items[0]: Cola is sold out; items[2]: bacon is sold out (on Cheeseburger)");
        assert!(check(&menu, &new_order(vec![with("cheeseburger", &["cheese"])])).is_ok());
    }

    #[test]
    fn a_sold_out_default_must_be_chosen_otherwise() {
        let menu = live(SoldOut { items: vec![], options: vec!["drink-medium".into()] }, TaxRule::default());
        assert_eq!(refused(&menu, vec![line("cola", 1)]), "items[0]: Cola: Size needs a choice: Small or Large");
        assert!(check(&menu, &new_order(vec![with("cola", &["drink-large"])])).is_ok());
    }

    #[test]
    fn oversize_text_fields_and_ids_are_refused() {
        let menu = menu();
        let mut order = new_order(vec![line("cheeseburger", 1)]);
        order.items[0].special_instructions = Some("x".repeat(MAX_INSTRUCTIONS_CHARS + 1));
        assert_eq!(
            check(&menu, &order).unwrap_err().to_string(),
            "items[0]: special_instructions is longer than 500 characters"
        );
        let mut order = new_order(vec![line("cheeseburger", 1)]);
        order.customer_name = Some("n".repeat(MAX_NAME_CHARS + 1));
        assert!(check(&menu, &order).unwrap_err().to_string().contains("customer_name"));
        let mut order = new_order(vec![line("cheeseburger", 1)]);
        order.notes = Some("n".repeat(MAX_NOTES_CHARS + 1));
        assert!(check(&menu, &order).unwrap_err().to_string().contains("notes"));
        assert_eq!(
            refused(&menu, vec![line(&"x".repeat(MAX_ID_CHARS + 1), 1)]),
            "items[0]: menu_item_id is longer than 100 characters"
        );
        assert_eq!(
            refused(&menu, vec![with("cheeseburger", &[&"x".repeat(MAX_ID_CHARS + 1)])]),
            "items[0]: an option id is longer than 100 characters"
        );
    }

    #[test]
    fn the_quote_is_the_orders_prices() {
        let menu = live(SoldOut::default(), TaxRule { rate_millipercent: 20_000, inclusive: true });
        let checked =
            check(&menu, &new_order(vec![with("classic-burger", &["large", "bacon"]), line("cola", 3)])).unwrap();
        let quote = checked.quote();
        let order = checked.into_order("o".into(), 1, 0);
        assert_eq!(quote.totals, order.totals);
        assert_eq!(quote.lines[0].unit_price_cents, 799 + 200 + 150);
        assert_eq!(quote.lines[1].line_total_cents, 3 * 249);
        assert_eq!(order.totals.total_cents, 1149 + 747);
        assert_eq!(order.totals.tax_cents, 1896 - 1580, "20 % included: net 1580");
        for (q, o) in quote.lines.iter().zip(&order.items) {
            assert_eq!(
                (q.unit_price_cents, q.line_total_cents, &q.options),
                (o.unit_price_cents, o.line_total_cents, &o.options)
            );
        }
    }

    #[test]
    fn stations_see_orders_with_their_items_and_kitchen_sees_all() {
        let order = check(&menu(), &new_order(vec![line("cheeseburger", 1)])).unwrap().into_order("o".into(), 1, 0);
        assert!(shown_at(&order, Some("grill")) && shown_at(&order, Some("kitchen")) && shown_at(&order, Some("expo")));
        assert!(shown_at(&order, None));
        assert!(!shown_at(&order, Some("fryer")));
    }
}
