//! The kiosk's cart: lines keyed by menu item and modifiers, priced from the menu. Pure data; the
//! voice session and the touch UI both edit it through the same methods.

use std::fmt;

use restaurant_protocol::MenuItem;

/// Smallest and largest quantity one cart line can hold.
pub const MIN_QUANTITY: u32 = 1;
pub const MAX_QUANTITY: u32 = 99;

/// What identifies a line: the same item with the same modifiers is one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineKey {
    pub item_id: String,
    /// Normalised: trimmed, lower-case, sorted, without duplicates or empties.
    pub modifiers: Vec<String>,
}

impl LineKey {
    #[must_use]
    pub fn new(item_id: &str, modifiers: &[String]) -> LineKey {
        let mut mods: Vec<String> = modifiers
            .iter()
            .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase())
            .filter(|m| !m.is_empty())
            .collect();
        mods.sort();
        mods.dedup();
        LineKey { item_id: item_id.to_string(), modifiers: mods }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartLine {
    pub key: LineKey,
    pub name: String,
    pub unit_price_cents: u32,
    pub quantity: u32,
    pub special_instructions: Option<String>,
}

impl CartLine {
    pub fn line_total_cents(&self) -> u64 {
        u64::from(self.unit_price_cents) * u64::from(self.quantity)
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

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Units across all lines.
    pub fn item_count(&self) -> u64 {
        self.lines.iter().map(|l| u64::from(l.quantity)).sum()
    }

    pub fn total_cents(&self) -> u64 {
        self.lines.iter().map(CartLine::line_total_cents).sum()
    }

    /// Units of one menu item across its lines (any modifiers).
    pub fn quantity_of(&self, item_id: &str) -> u64 {
        self.lines.iter().filter(|l| l.key.item_id == item_id).map(|l| u64::from(l.quantity)).sum()
    }

    /// Adds `quantity` of `item` (priced from the menu entry). Merges into the line with the same
    /// modifiers; a provided `special_instructions` replaces the line's previous one.
    pub fn add(
        &mut self,
        item: &MenuItem,
        quantity: u32,
        modifiers: &[String],
        special_instructions: Option<String>,
    ) -> Result<LineKey, CartError> {
        check_quantity(&item.name, u64::from(quantity))?;
        let key = LineKey::new(&item.id, modifiers);
        let special = special_instructions.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if let Some(line) = self.lines.iter_mut().find(|l| l.key == key) {
            line.quantity = check_quantity(&item.name, u64::from(line.quantity) + u64::from(quantity))?;
            if special.is_some() {
                line.special_instructions = special;
            }
        } else {
            self.lines.push(CartLine {
                key: key.clone(),
                name: item.name.clone(),
                unit_price_cents: item.price_cents,
                quantity,
                special_instructions: special,
            });
        }
        Ok(key)
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
}

/// `899` → `"$8.99"`.
pub fn format_price(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::menu_fixture;

    fn item(id: &str) -> MenuItem {
        menu_fixture().into_iter().find(|i| i.id == id).expect("fixture item")
    }

    #[test]
    fn same_item_and_modifiers_merge_into_one_line() {
        let mut cart = Cart::new();
        cart.add(&item("cheeseburger"), 1, &["No Onions".into(), "extra cheese".into()], None).unwrap();
        cart.add(&item("cheeseburger"), 2, &["extra  cheese".into(), "no onions".into()], None).unwrap();
        assert_eq!(cart.lines().len(), 1);
        assert_eq!(cart.lines()[0].quantity, 3);
        cart.add(&item("cheeseburger"), 1, &[], None).unwrap();
        assert_eq!(cart.lines().len(), 2, "different modifiers make a separate line");
    }

    #[test]
    fn total_uses_menu_unit_prices() {
        let mut cart = Cart::new();
        cart.add(&item("cheeseburger"), 2, &[], None).unwrap();
        cart.add(&item("fries-large"), 1, &[], None).unwrap();
        assert_eq!(cart.total_cents(), 2 * 899 + 449);
        assert_eq!(cart.item_count(), 3);
        assert_eq!(format_price(cart.total_cents()), "$22.47");
    }

    #[test]
    fn quantity_outside_1_to_99_is_rejected_without_change() {
        let mut cart = Cart::new();
        assert!(matches!(cart.add(&item("cola"), 0, &[], None), Err(CartError::QuantityOutOfRange { .. })));
        assert!(matches!(cart.add(&item("cola"), 100, &[], None), Err(CartError::QuantityOutOfRange { .. })));
        let key = cart.add(&item("cola"), 98, &[], None).unwrap();
        assert!(matches!(
            cart.add(&item("cola"), 2, &[], None),
            Err(CartError::QuantityOutOfRange { quantity: 100, .. })
        ));
        assert_eq!(cart.lines()[0].quantity, 98);
        assert!(cart.set_quantity(&key, 0).is_err());
        cart.set_quantity(&key, 5).unwrap();
        assert_eq!(cart.lines()[0].quantity, 5);
    }

    #[test]
    fn remove_item_takes_units_from_newest_lines_and_drops_empty_lines() {
        let mut cart = Cart::new();
        cart.add(&item("cheeseburger"), 2, &[], None).unwrap();
        cart.add(&item("cheeseburger"), 1, &["no pickles".into()], None).unwrap();
        assert_eq!(cart.remove_item(&item("cheeseburger"), Some(2)).unwrap(), 2);
        assert_eq!(cart.lines().len(), 1);
        assert_eq!(cart.lines()[0].quantity, 1);
        assert!(cart.lines()[0].key.modifiers.is_empty());
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
        let key = cart.add(&item("cola"), 1, &[], None).unwrap();
        cart.add(&item("fries-small"), 1, &[], None).unwrap();
        cart.remove_line(&key).unwrap();
        assert_eq!(cart.remove_line(&key), Err(CartError::NoSuchLine));
        cart.clear();
        assert!(cart.is_empty());
        assert_eq!(cart.total_cents(), 0);
    }

    #[test]
    fn special_instructions_are_kept_and_replaced_when_given() {
        let mut cart = Cart::new();
        cart.add(&item("cola"), 1, &[], Some(" no ice ".into())).unwrap();
        cart.add(&item("cola"), 1, &[], None).unwrap();
        assert_eq!(cart.lines()[0].special_instructions.as_deref(), Some("no ice"));
        cart.add(&item("cola"), 1, &[], Some("light ice".into())).unwrap();
        assert_eq!(cart.lines()[0].special_instructions.as_deref(), Some("light ice"));
    }

    #[test]
    fn format_price_pads_cents() {
        assert_eq!(format_price(899), "$8.99");
        assert_eq!(format_price(5), "$0.05");
        assert_eq!(format_price(1000), "$10.00");
    }
}
