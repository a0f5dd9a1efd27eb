//! The kiosk's cart: lines keyed by menu item, chosen options and flagged allergies, priced with
//! the menu's own rules ([`MenuItem::choose`]). Pure data; the voice session and the touch UI both
//! edit it through the same methods. Its total is an estimate: the hub's quote is what is charged.

use std::fmt;

use restaurant_protocol::{Allergen, ChosenOption, LineProblem, Menu, MenuItem, NewOrderItem, TaxRule, Totals};

use crate::core::sort;

/// The hub's own bounds: a line's quantity, and the longest special instruction it keeps.
pub use restaurant_protocol::{MAX_INSTRUCTIONS_CHARS, MAX_QUANTITY, MIN_QUANTITY};

/// What identifies a line: the same item with the same options and allergies is one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineKey {
    pub item_id: String,
    /// Chosen option ids, defaults included, in menu order.
    pub options: Vec<String>,
    /// Sorted, without duplicates.
    pub allergies: Vec<Allergen>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    pub key: LineKey,
    pub name: String,
    pub options: Vec<ChosenOption>,
    pub unit_price_cents: i64,
    pub quantity: u32,
    pub special_instructions: Option<String>,
}

impl CartLine {
    pub fn line_total_cents(&self) -> i64 {
        self.unit_price_cents * i64::from(self.quantity)
    }

    /// The allergies flagged on this line.
    pub fn allergies(&self) -> &[Allergen] {
        &self.key.allergies
    }

    /// The line as the hub takes it.
    pub fn to_new_item(&self) -> NewOrderItem {
        NewOrderItem {
            menu_item_id: self.key.item_id.clone(),
            quantity: self.quantity,
            options: self.key.options.clone(),
            special_instructions: self.special_instructions.clone(),
            allergies: self.key.allergies.clone(),
            modifiers: vec![],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartError {
    /// A quantity outside `1..=99` (for a merged line: the resulting quantity).
    QuantityOutOfRange { name: String, quantity: u64 },
    /// No line of this item is in the cart.
    NotInCart { name: String },
    /// No line with this key.
    NoSuchLine,
    /// The item cannot be made as asked (a required choice missing, an option sold out, …).
    Options(LineProblem),
    /// The item is sold out.
    SoldOut { name: String },
}

impl fmt::Display for CartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CartError::QuantityOutOfRange { name, quantity } => write!(
                f,
                "{name}: quantity {quantity} is out of range (each line holds {MIN_QUANTITY} to {MAX_QUANTITY})"
            ),
            CartError::NotInCart { name } => write!(f, "{name} is not in the order"),
            CartError::NoSuchLine => write!(f, "that line is not in the order"),
            CartError::Options(problem) => write!(f, "{problem}"),
            CartError::SoldOut { name } => write!(f, "{name} is sold out"),
        }
    }
}

impl std::error::Error for CartError {}

fn check_quantity(name: &str, quantity: u64) -> Result<u32, CartError> {
    match u32::try_from(quantity) {
        Ok(q) if (MIN_QUANTITY..=MAX_QUANTITY).contains(&q) => Ok(q),
        _ => Err(CartError::QuantityOutOfRange { name: name.to_string(), quantity }),
    }
}

/// One thing to put in the cart: an item with its options, allergies and instructions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineRequest {
    pub quantity: u32,
    /// Option ids (untouched groups take their defaults).
    pub options: Vec<String>,
    pub allergies: Vec<Allergen>,
    pub special_instructions: Option<String>,
}

impl LineRequest {
    /// `quantity` of an item with no options chosen.
    pub fn plain(quantity: u32) -> LineRequest {
        LineRequest { quantity, ..LineRequest::default() }
    }
}

/// A checked line, not yet in the cart.
fn build_line(item: &MenuItem, request: &LineRequest) -> Result<CartLine, CartError> {
    if !item.available {
        return Err(CartError::SoldOut { name: item.name.clone() });
    }
    let quantity = check_quantity(&item.name, u64::from(request.quantity))?;
    let options = item.choose(&request.options).map_err(CartError::Options)?;
    let mut allergies = request.allergies.clone();
    sort::sort(&mut allergies);
    allergies.dedup();
    let special = request
        .special_instructions
        .as_deref()
        .map(|s| s.trim().chars().take(MAX_INSTRUCTIONS_CHARS).collect::<String>())
        .filter(|s| !s.is_empty());
    Ok(CartLine {
        key: LineKey {
            item_id: item.id.clone(),
            options: options.iter().map(|o| o.option_id.clone()).collect(),
            allergies,
        },
        name: item.name.clone(),
        unit_price_cents: item.unit_price_cents(&options),
        options,
        quantity,
        special_instructions: special,
    })
}

/// Lines in the order they were first added.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cart {
    lines: Vec<CartLine>,
}

impl Cart {
    #[must_use]
    pub fn new() -> Cart {
        Cart::default()
    }

    pub fn lines(&self) -> &[CartLine] {
        &self.lines
    }

    pub fn line(&self, key: &LineKey) -> Option<&CartLine> {
        self.lines.iter().find(|l| &l.key == key)
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Units across all lines.
    pub fn item_count(&self) -> u64 {
        self.lines.iter().map(|l| u64::from(l.quantity)).sum()
    }

    /// The sum of the lines, before tax.
    pub fn subtotal_cents(&self) -> i64 {
        self.lines.iter().map(CartLine::line_total_cents).sum()
    }

    /// The page's own estimate of the totals under `tax` (the hub's quote is what counts).
    pub fn estimate(&self, tax: TaxRule) -> Totals {
        tax.totals(self.subtotal_cents())
    }

    /// Units of one menu item across its lines (any options).
    pub fn quantity_of(&self, item_id: &str) -> u64 {
        self.lines.iter().filter(|l| l.key.item_id == item_id).map(|l| u64::from(l.quantity)).sum()
    }

    /// Adds `request` of `item`, checked against its groups and availability. Merges into the
    /// line with the same options and allergies; a provided `special_instructions` replaces the
    /// line's previous one.
    pub fn add(&mut self, item: &MenuItem, request: &LineRequest) -> Result<LineKey, CartError> {
        let line = build_line(item, request)?;
        let key = line.key.clone();
        if let Some(existing) = self.lines.iter_mut().find(|l| l.key == key) {
            existing.quantity = check_quantity(&item.name, u64::from(existing.quantity) + u64::from(line.quantity))?;
            if line.special_instructions.is_some() {
                existing.special_instructions = line.special_instructions;
            }
        } else {
            self.lines.push(line);
        }
        Ok(key)
    }

    /// Replaces the line `key` by `request` of `item` (an edit from the item sheet), in the same
    /// place; merges into another line that becomes identical. Nothing changes on error.
    pub fn replace(&mut self, key: &LineKey, item: &MenuItem, request: &LineRequest) -> Result<LineKey, CartError> {
        let at = self.lines.iter().position(|l| &l.key == key).ok_or(CartError::NoSuchLine)?;
        let line = build_line(item, request)?;
        let new_key = line.key.clone();
        match self.lines.iter().position(|l| l.key == new_key) {
            Some(other) if other != at => {
                let merged = u64::from(self.lines[other].quantity) + u64::from(line.quantity);
                self.lines[other].quantity = check_quantity(&item.name, merged)?;
                if line.special_instructions.is_some() {
                    self.lines[other].special_instructions = line.special_instructions;
                }
                self.lines.remove(at);
            }
            _ => self.lines[at] = line,
        }
        Ok(new_key)
    }

    /// Removes `quantity` units of an item (all of them when `None`), newest lines first. Returns how
    /// many units were removed (fewer than asked when the cart held fewer).
    pub fn remove_item(&mut self, item: &MenuItem, quantity: Option<u32>) -> Result<u64, CartError> {
        let held = self.quantity_of(&item.id);
        if held == 0 {
            return Err(CartError::NotInCart { name: item.name.clone() });
        }
        let mut to_remove = match quantity {
            Some(q) => u64::from(check_quantity(&item.name, u64::from(q))?).min(held),
            None => held,
        };
        let removed = to_remove;
        for line in self.lines.iter_mut().rev().filter(|l| l.key.item_id == item.id) {
            let take = to_remove.min(u64::from(line.quantity));
            // `take <= line.quantity <= 99`, so the subtraction fits.
            line.quantity -= u32::try_from(take).unwrap_or(line.quantity);
            to_remove -= take;
        }
        self.lines.retain(|l| l.quantity > 0);
        Ok(removed)
    }

    pub fn set_quantity(&mut self, key: &LineKey, quantity: u32) -> Result<(), CartError> {
        let line = self.lines.iter_mut().find(|l| &l.key == key).ok_or(CartError::NoSuchLine)?;
        line.quantity = check_quantity(&line.name, u64::from(quantity))?;
        Ok(())
    }

    pub fn remove_line(&mut self, key: &LineKey) -> Result<(), CartError> {
        let before = self.lines.len();
        self.lines.retain(|l| &l.key != key);
        if self.lines.len() == before { Err(CartError::NoSuchLine) } else { Ok(()) }
    }

    pub fn clear(&mut self) {
        self.lines.clear();
    }

    /// Lines that `menu` can no longer make as they are (the item or an option sold out, or gone),
    /// with the reason for the customer.
    pub fn unavailable(&self, menu: &Menu) -> Vec<(LineKey, String)> {
        self.lines
            .iter()
            .filter_map(|line| {
                let problem = match menu.item(&line.key.item_id) {
                    None => format!("{} is no longer on the menu", line.name),
                    Some(item) => match build_line(
                        item,
                        &LineRequest { quantity: 1, options: line.key.options.clone(), ..LineRequest::default() },
                    ) {
                        Ok(_) => return None,
                        Err(e) => e.to_string(),
                    },
                };
                Some((line.key.clone(), problem))
            })
            .collect()
    }

    /// The order lines for the hub.
    pub fn to_new_items(&self) -> Vec<NewOrderItem> {
        self.lines.iter().map(CartLine::to_new_item).collect()
    }
}

#[cfg(test)]
mod tests {
    use restaurant_protocol::{ModifierKind, format_price};

    use super::*;
    use crate::core::test_support::menu_fixture;

    fn item(id: &str) -> MenuItem {
        menu_fixture().into_iter().find(|i| i.id == id).expect("fixture item")
    }

    fn with(quantity: u32, options: &[&str]) -> LineRequest {
        LineRequest { quantity, options: options.iter().map(|s| s.to_string()).collect(), ..LineRequest::default() }
    }

    #[test]
    fn same_item_options_and_allergies_merge_into_one_line() {
        let mut cart = Cart::new();
        cart.add(&item("cheeseburger"), &with(1, &["onions", "cheese"])).unwrap();
        cart.add(&item("cheeseburger"), &with(2, &["cheese", "onions"])).unwrap();
        assert_eq!(cart.lines().len(), 1);
        assert_eq!(cart.lines()[0].quantity, 3);
        assert_eq!(cart.lines()[0].key.options, ["onions", "cheese"], "menu order");
        cart.add(&item("cheeseburger"), &LineRequest::plain(1)).unwrap();
        assert_eq!(cart.lines().len(), 2, "different options make a separate line");
        let nuts = LineRequest { allergies: vec![Allergen::Nuts, Allergen::Nuts], ..LineRequest::plain(1) };
        cart.add(&item("cheeseburger"), &nuts).unwrap();
        assert_eq!(cart.lines().len(), 3, "an allergy makes its own line");
        assert_eq!(cart.lines()[2].allergies(), [Allergen::Nuts]);
    }

    #[test]
    fn lines_are_priced_with_their_options_and_defaults() {
        let mut cart = Cart::new();
        cart.add(&item("classic-burger"), &with(2, &["large", "bacon", "onions"])).unwrap();
        cart.add(&item("cola"), &LineRequest::plain(1)).unwrap();
        cart.add(&item("cola"), &with(1, &["drink-small"])).unwrap();
        let [burger, medium, small] = cart.lines() else { panic!("three lines") };
        assert_eq!(burger.unit_price_cents, 799 + 200 + 150);
        let kinds: Vec<ModifierKind> = burger.options.iter().map(|o| o.kind).collect();
        assert_eq!(kinds, [ModifierKind::Choice, ModifierKind::Remove, ModifierKind::Add]);
        assert_eq!(medium.key.options, ["drink-medium"], "the default size is chosen");
        assert_eq!(small.unit_price_cents, 249 - 50, "a negative option lowers the price");
        assert_eq!(cart.subtotal_cents(), 2 * 1149 + 249 + 199);
        assert_eq!(format_price(cart.subtotal_cents()), "$27.46");
        let totals = cart.estimate(TaxRule { rate_millipercent: 8875, inclusive: false });
        assert_eq!((totals.tax_cents, totals.total_cents), (244, 2990));
    }

    #[test]
    fn a_line_the_menu_cannot_make_is_refused_with_the_reason() {
        let mut cart = Cart::new();
        let err = cart.add(&item("classic-burger"), &LineRequest::plain(1)).unwrap_err();
        assert_eq!(err.to_string(), "Classic Burger: Size needs a choice: Small, Medium or Large");
        let err = cart.add(&item("cheeseburger"), &with(1, &["ketchup"])).unwrap_err();
        assert!(matches!(err, CartError::Options(LineProblem::UnknownOption { .. })), "{err}");
        let mut shake = item("chocolate-shake");
        shake.available = false;
        assert_eq!(cart.add(&shake, &LineRequest::plain(1)).unwrap_err().to_string(), "Chocolate Shake is sold out");
        assert!(cart.is_empty());
    }

    #[test]
    fn quantity_outside_1_to_99_is_rejected_without_change() {
        let mut cart = Cart::new();
        let cola = item("cola");
        assert!(matches!(cart.add(&cola, &LineRequest::plain(0)), Err(CartError::QuantityOutOfRange { .. })));
        assert!(matches!(cart.add(&cola, &LineRequest::plain(100)), Err(CartError::QuantityOutOfRange { .. })));
        let key = cart.add(&cola, &LineRequest::plain(98)).unwrap();
        assert!(matches!(
            cart.add(&cola, &LineRequest::plain(2)),
            Err(CartError::QuantityOutOfRange { quantity: 100, .. })
        ));
        assert_eq!(cart.lines()[0].quantity, 98);
        assert!(cart.set_quantity(&key, 0).is_err());
        cart.set_quantity(&key, 5).unwrap();
        assert_eq!(cart.lines()[0].quantity, 5);
    }

    #[test]
    fn editing_a_line_keeps_its_place_and_merges_into_an_identical_one() {
        let mut cart = Cart::new();
        let plain = cart.add(&item("cheeseburger"), &LineRequest::plain(1)).unwrap();
        cart.add(&item("cola"), &LineRequest::plain(1)).unwrap();
        let bacon = cart.add(&item("cheeseburger"), &with(2, &["bacon"])).unwrap();
        let edited = cart.replace(&plain, &item("cheeseburger"), &with(1, &["onions"])).unwrap();
        assert_eq!(cart.lines()[0].key, edited, "same place");
        assert_eq!(cart.lines()[0].unit_price_cents, 899);
        // Editing it into the bacon line merges the two.
        cart.replace(&edited, &item("cheeseburger"), &with(3, &["bacon"])).unwrap();
        assert_eq!(cart.lines().len(), 2);
        assert_eq!(cart.line(&bacon).unwrap().quantity, 5);
        // A bad edit changes nothing.
        let before = cart.clone();
        assert!(cart.replace(&bacon, &item("cheeseburger"), &with(1, &["nope"])).is_err());
        assert!(cart.replace(&plain, &item("cheeseburger"), &with(1, &[])).is_err(), "no such line any more");
        assert_eq!(cart, before);
    }

    #[test]
    fn remove_item_takes_units_from_newest_lines_and_drops_empty_lines() {
        let mut cart = Cart::new();
        cart.add(&item("cheeseburger"), &LineRequest::plain(2)).unwrap();
        cart.add(&item("cheeseburger"), &with(1, &["pickles"])).unwrap();
        assert_eq!(cart.remove_item(&item("cheeseburger"), Some(2)).unwrap(), 2);
        assert_eq!(cart.lines().len(), 1);
        assert_eq!(cart.lines()[0].quantity, 1);
        assert!(cart.lines()[0].key.options.is_empty());
        assert_eq!(cart.remove_item(&item("cheeseburger"), None).unwrap(), 1);
        assert!(cart.is_empty());
    }

    #[test]
    fn removing_an_item_not_in_the_cart_names_it() {
        let mut cart = Cart::new();
        let err = cart.remove_item(&item("fries-large"), None).unwrap_err();
        assert_eq!(err.to_string(), "Large Fries is not in the order");
    }

    #[test]
    fn remove_line_and_clear() {
        let mut cart = Cart::new();
        let key = cart.add(&item("cola"), &LineRequest::plain(1)).unwrap();
        cart.add(&item("fries-small"), &LineRequest::plain(1)).unwrap();
        cart.remove_line(&key).unwrap();
        assert_eq!(cart.remove_line(&key), Err(CartError::NoSuchLine));
        cart.clear();
        assert!(cart.is_empty());
        assert_eq!(cart.subtotal_cents(), 0);
    }

    #[test]
    fn special_instructions_are_kept_trimmed_bounded_and_replaced_when_given() {
        let mut cart = Cart::new();
        let cola = item("cola");
        let said = |text: &str| LineRequest { special_instructions: Some(text.into()), ..LineRequest::plain(1) };
        cart.add(&cola, &said(" extra lemon ")).unwrap();
        cart.add(&cola, &LineRequest::plain(1)).unwrap();
        assert_eq!(cart.lines()[0].special_instructions.as_deref(), Some("extra lemon"));
        cart.add(&cola, &said("no straw")).unwrap();
        assert_eq!(cart.lines()[0].special_instructions.as_deref(), Some("no straw"));
        cart.add(&cola, &said(&"x".repeat(MAX_INSTRUCTIONS_CHARS + 10))).unwrap();
        assert_eq!(cart.lines()[0].special_instructions.as_ref().unwrap().chars().count(), MAX_INSTRUCTIONS_CHARS);
    }

    #[test]
    fn lines_the_menu_can_no_longer_make_are_named() {
        let mut cart = Cart::new();
        cart.add(&item("cheeseburger"), &with(1, &["bacon"])).unwrap();
        cart.add(&item("cola"), &LineRequest::plain(1)).unwrap();
        cart.add(&item("chocolate-shake"), &LineRequest::plain(1)).unwrap();
        let mut menu = Menu { items: menu_fixture(), tax: TaxRule::default() };
        assert!(cart.unavailable(&menu).is_empty());
        menu.apply_sold_out(&restaurant_protocol::SoldOut {
            items: vec!["chocolate-shake".into()],
            options: vec!["bacon".into()],
        });
        let problems: Vec<String> = cart.unavailable(&menu).into_iter().map(|(_, p)| p).collect();
        assert_eq!(problems, ["bacon is sold out (on Cheeseburger)", "Chocolate Shake is sold out"]);
    }

    #[test]
    fn the_order_lines_carry_option_ids_and_allergies() {
        let mut cart = Cart::new();
        let request = LineRequest {
            quantity: 2,
            options: vec!["large".into()],
            allergies: vec![Allergen::Sesame],
            special_instructions: Some("well done".into()),
        };
        cart.add(&item("classic-burger"), &request).unwrap();
        let lines = cart.to_new_items();
        assert_eq!(lines[0].menu_item_id, "classic-burger");
        assert_eq!(lines[0].options, ["large"]);
        assert_eq!(lines[0].allergies, [Allergen::Sesame]);
        assert_eq!(lines[0].special_instructions.as_deref(), Some("well done"));
    }
}
