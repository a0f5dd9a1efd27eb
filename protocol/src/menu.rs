//! The menu (items, modifier groups, allergens, availability) and the one set of pricing rules
//! the hub charges by and the kiosk estimates with.
//!
//! Money is whole cents (`i64` in arithmetic, so a negative option can never wrap). Tax is a rate
//! in thousandths of a percent (8.875 % = 8875), exclusive (added on top) or inclusive (already in
//! the prices), applied once to the order's subtotal and rounded half away from zero to the cent.

use serde::{Deserialize, Serialize};

use crate::{MAX_QUANTITY, MIN_QUANTITY, NewOrderItem};

/// Most option ids one order line may carry.
pub const MAX_OPTIONS_PER_LINE: usize = 20;
/// Highest tax rate a hub accepts, in thousandths of a percent (50 %).
pub const MAX_TAX_RATE_MILLIPERCENT: u32 = 50_000;

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A named allergen (the fourteen the EU and the US label between them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Allergen {
    Gluten,
    Dairy,
    Eggs,
    Fish,
    Shellfish,
    Molluscs,
    Peanuts,
    Nuts,
    Soy,
    Sesame,
    Celery,
    Mustard,
    Sulphites,
    Lupin,
}

impl Allergen {
    pub const ALL: [Allergen; 14] = [
        Allergen::Gluten,
        Allergen::Dairy,
        Allergen::Eggs,
        Allergen::Fish,
        Allergen::Shellfish,
        Allergen::Molluscs,
        Allergen::Peanuts,
        Allergen::Nuts,
        Allergen::Soy,
        Allergen::Sesame,
        Allergen::Celery,
        Allergen::Mustard,
        Allergen::Sulphites,
        Allergen::Lupin,
    ];

    /// The wire name (`tree nuts` are `nuts`).
    pub fn as_str(self) -> &'static str {
        match self {
            Allergen::Gluten => "gluten",
            Allergen::Dairy => "dairy",
            Allergen::Eggs => "eggs",
            Allergen::Fish => "fish",
            Allergen::Shellfish => "shellfish",
            Allergen::Molluscs => "molluscs",
            Allergen::Peanuts => "peanuts",
            Allergen::Nuts => "nuts",
            Allergen::Soy => "soy",
            Allergen::Sesame => "sesame",
            Allergen::Celery => "celery",
            Allergen::Mustard => "mustard",
            Allergen::Sulphites => "sulphites",
            Allergen::Lupin => "lupin",
        }
    }

    /// How a label or a person names it ("Tree nuts", "Dairy").
    pub fn label(self) -> &'static str {
        match self {
            Allergen::Gluten => "Gluten",
            Allergen::Dairy => "Dairy",
            Allergen::Eggs => "Eggs",
            Allergen::Fish => "Fish",
            Allergen::Shellfish => "Shellfish",
            Allergen::Molluscs => "Molluscs",
            Allergen::Peanuts => "Peanuts",
            Allergen::Nuts => "Tree nuts",
            Allergen::Soy => "Soy",
            Allergen::Sesame => "Sesame",
            Allergen::Celery => "Celery",
            Allergen::Mustard => "Mustard",
            Allergen::Sulphites => "Sulphites",
            Allergen::Lupin => "Lupin",
        }
    }

    /// The allergen a customer means by `word` ("milk", "tree nut", "shrimp", "wheat", …).
    pub fn from_spoken(word: &str) -> Option<Allergen> {
        let w = word.trim().to_ascii_lowercase();
        let w = w.trim_end_matches(" allergy").trim();
        if let Some(a) = Allergen::ALL.into_iter().find(|a| a.as_str() == w || a.label().eq_ignore_ascii_case(w)) {
            return Some(a);
        }
        Some(match w {
            "wheat" | "bread" | "coeliac" | "celiac" | "glutens" => Allergen::Gluten,
            "milk" | "lactose" | "cheese" | "cream" | "butter" | "dairy products" => Allergen::Dairy,
            "egg" => Allergen::Eggs,
            "fishes" => Allergen::Fish,
            "shrimp" | "prawn" | "prawns" | "crab" | "lobster" | "crustaceans" | "crustacean" => Allergen::Shellfish,
            "mollusc" | "mollusk" | "mollusks" | "clam" | "clams" | "mussels" | "oysters" | "squid" => {
                Allergen::Molluscs
            }
            "peanut" | "groundnut" | "groundnuts" | "peanut butter" => Allergen::Peanuts,
            "nut" | "tree nut" | "tree nuts" | "almond" | "almonds" | "walnut" | "walnuts" | "cashew" | "cashews"
            | "hazelnut" | "hazelnuts" | "pecan" | "pecans" | "pistachio" | "pistachios" => Allergen::Nuts,
            "soya" | "soybean" | "soybeans" | "soy beans" => Allergen::Soy,
            "sesame seed" | "sesame seeds" => Allergen::Sesame,
            "sulfites" | "sulfite" | "sulphite" | "sulfur dioxide" => Allergen::Sulphites,
            "lupine" | "lupins" => Allergen::Lupin,
            _ => return None,
        })
    }
}

/// How a cook reads the options of a group: `choice` ("LARGE"), `remove` ("NO onions"),
/// `add` ("ADD bacon").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModifierKind {
    #[default]
    Choice,
    Remove,
    Add,
}

impl ModifierKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ModifierKind::Choice => "choice",
            ModifierKind::Remove => "remove",
            ModifierKind::Add => "add",
        }
    }
}

/// One option of a modifier group. Its id is unique within its item; the same id on several
/// items is the same thing (marking `bacon` sold out takes it off every item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifierOption {
    pub id: String,
    pub name: String,
    /// Added to the item's price per unit; may be 0 or negative.
    #[serde(default)]
    pub price_cents: i32,
    /// Chosen when the customer chooses nothing in the group.
    #[serde(default, skip_serializing_if = "is_false")]
    pub default: bool,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub available: bool,
    /// Other names a customer may say ("big" for Large).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// A modifier group: between `min` and `max` of its options per item (`min` 1 = required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifierGroup {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub kind: ModifierKind,
    #[serde(default)]
    pub min: u32,
    pub max: u32,
    pub options: Vec<ModifierOption>,
}

impl ModifierGroup {
    /// The customer must choose here (and no default chooses for them).
    pub fn is_required(&self) -> bool {
        self.min > 0
    }

    /// The options chosen when the customer chooses none here.
    pub fn defaults(&self) -> impl Iterator<Item = &ModifierOption> {
        self.options.iter().filter(|o| o.default && o.available)
    }

    /// "Small, Medium or Large" (available options only).
    pub fn option_list(&self) -> String {
        let names: Vec<&str> = self.options.iter().filter(|o| o.available).map(|o| o.name.as_str()).collect();
        match names.as_slice() {
            [] => String::new(),
            [one] => (*one).to_string(),
            [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
        }
    }

    /// What the customer is asked to do here ("choose 1", "choose up to 3", "choose 1–2").
    pub fn rule(&self) -> String {
        match (self.min, self.max) {
            (min, max) if min == max => format!("choose {min}"),
            (0, max) => format!("choose up to {max}"),
            (min, max) => format!("choose {min}–{max}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuItem {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub price_cents: u32,
    pub category: String,
    /// Which prep station makes it (`grill`, `fryer`, `drinks`, …).
    pub station: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// What it contains, by name (shown on the kiosk's item sheet).
    #[serde(default)]
    pub allergens: Vec<Allergen>,
    /// `false`: sold out (86'd) right now, or taken off in the menu file.
    #[serde(default = "yes")]
    pub available: bool,
    #[serde(default)]
    pub modifier_groups: Vec<ModifierGroup>,
}

/// One option as chosen on an order line, with what a ticket and a receipt need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChosenOption {
    pub group_id: String,
    pub option_id: String,
    pub name: String,
    pub kind: ModifierKind,
    pub price_cents: i32,
}

/// Why an order line cannot be made as asked. The message is for people (it is said to the
/// customer by the voice assistant and shown on the kiosk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineProblem {
    UnknownItem(String),
    ItemSoldOut {
        item: String,
    },
    Quantity(u32),
    TooManyOptions(usize),
    UnknownOption {
        item: String,
        option: String,
    },
    OptionSoldOut {
        item: String,
        option: String,
    },
    RepeatedOption {
        item: String,
        option: String,
    },
    /// A group with fewer than `min` choices: lists what there is to choose from.
    TooFew {
        item: String,
        group: String,
        min: u32,
        max: u32,
        choices: String,
    },
    TooMany {
        item: String,
        group: String,
        max: u32,
    },
}

impl std::fmt::Display for LineProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineProblem::UnknownItem(id) => write!(f, "unknown menu item {id:?}"),
            LineProblem::ItemSoldOut { item } => write!(f, "{item} is sold out"),
            LineProblem::Quantity(q) => write!(f, "quantity must be {MIN_QUANTITY}–{MAX_QUANTITY}, got {q}"),
            LineProblem::TooManyOptions(n) => write!(f, "at most {MAX_OPTIONS_PER_LINE} options per line, got {n}"),
            LineProblem::UnknownOption { item, option } => write!(f, "{item} has no option {option:?}"),
            LineProblem::OptionSoldOut { item, option } => write!(f, "{option} is sold out (on {item})"),
            LineProblem::RepeatedOption { item, option } => write!(f, "{item}: {option} is chosen twice"),
            LineProblem::TooFew { item, group, min, max, choices } if min == max && *min == 1 => {
                write!(f, "{item}: {group} needs a choice: {choices}")
            }
            LineProblem::TooFew { item, group, min, choices, .. } => {
                write!(f, "{item}: {group} needs at least {min} of {choices}")
            }
            LineProblem::TooMany { item, group, max } => write!(f, "{item}: {group} takes at most {max}"),
        }
    }
}

impl std::error::Error for LineProblem {}

impl MenuItem {
    /// The options of `ids` in menu order, with each untouched group's defaults added, checked
    /// against the groups' `min`/`max` and availability.
    pub fn choose(&self, ids: &[String]) -> Result<Vec<ChosenOption>, LineProblem> {
        if ids.len() > MAX_OPTIONS_PER_LINE {
            return Err(LineProblem::TooManyOptions(ids.len()));
        }
        for (i, id) in ids.iter().enumerate() {
            if ids[..i].contains(id) {
                let option = self.option(id).map_or(id.as_str(), |(_, o)| o.name.as_str());
                return Err(LineProblem::RepeatedOption { item: self.name.clone(), option: option.to_string() });
            }
            match self.option(id) {
                None => return Err(LineProblem::UnknownOption { item: self.name.clone(), option: id.clone() }),
                Some((_, o)) if !o.available => {
                    return Err(LineProblem::OptionSoldOut { item: self.name.clone(), option: o.name.clone() });
                }
                Some(_) => {}
            }
        }
        let mut chosen = Vec::new();
        for group in &self.modifier_groups {
            let picked: Vec<&ModifierOption> = group.options.iter().filter(|o| ids.contains(&o.id)).collect();
            let picked = if picked.is_empty() { group.defaults().collect() } else { picked };
            let count = u32::try_from(picked.len()).unwrap_or(u32::MAX);
            if count < group.min {
                return Err(LineProblem::TooFew {
                    item: self.name.clone(),
                    group: group.name.clone(),
                    min: group.min,
                    max: group.max,
                    choices: group.option_list(),
                });
            }
            if count > group.max {
                return Err(LineProblem::TooMany {
                    item: self.name.clone(),
                    group: group.name.clone(),
                    max: group.max,
                });
            }
            chosen.extend(picked.into_iter().map(|o| ChosenOption {
                group_id: group.id.clone(),
                option_id: o.id.clone(),
                name: o.name.clone(),
                kind: group.kind,
                price_cents: o.price_cents,
            }));
        }
        Ok(chosen)
    }

    /// The group and option with this id.
    pub fn option(&self, id: &str) -> Option<(&ModifierGroup, &ModifierOption)> {
        self.modifier_groups.iter().find_map(|g| g.options.iter().find(|o| o.id == id).map(|o| (g, o)))
    }

    /// The price of one with these options.
    pub fn unit_price_cents(&self, chosen: &[ChosenOption]) -> i64 {
        i64::from(self.price_cents) + chosen.iter().map(|o| i64::from(o.price_cents)).sum::<i64>()
    }

    /// The lowest unit price any valid choice can reach (a menu is refused when it is negative).
    pub fn lowest_price_cents(&self) -> i64 {
        let mut lowest = i64::from(self.price_cents);
        for group in &self.modifier_groups {
            let mut prices: Vec<i64> = group.options.iter().map(|o| i64::from(o.price_cents)).collect();
            prices.sort_unstable();
            let min = group.min as usize;
            let max = (group.max as usize).min(prices.len());
            // The `min` cheapest are forced; beyond them, only discounts are worth taking.
            lowest += prices.iter().take(min).sum::<i64>();
            lowest += prices.iter().take(max).skip(min).filter(|p| **p < 0).sum::<i64>();
        }
        lowest
    }
}

/// How tax is charged: a rate in thousandths of a percent, added on top (`inclusive: false`) or
/// already in the prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaxRule {
    pub rate_millipercent: u32,
    #[serde(default)]
    pub inclusive: bool,
}

/// Divides, rounding half away from zero (`den > 0`).
fn div_round(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den { q + num.signum() } else { q }
}

impl TaxRule {
    /// The totals of an order whose lines sum to `subtotal_cents`:
    /// - exclusive: tax = round(subtotal × rate), total = subtotal + tax;
    /// - inclusive: the net is round(subtotal ÷ (1 + rate)), tax = subtotal − net, total = subtotal.
    pub fn totals(self, subtotal_cents: i64) -> Totals {
        let rate = i128::from(self.rate_millipercent);
        let subtotal = i128::from(subtotal_cents);
        let tax = if self.inclusive {
            subtotal - div_round(subtotal * 100_000, 100_000 + rate)
        } else {
            div_round(subtotal * rate, 100_000)
        };
        // |tax| ≤ |subtotal| / 2 for rates up to 100 %, so both fit an i64.
        let tax = i64::try_from(tax).unwrap_or(0);
        let total = if self.inclusive { subtotal_cents } else { subtotal_cents.saturating_add(tax) };
        Totals { subtotal_cents, tax_cents: tax, total_cents: total, tax: self }
    }

    /// "8.875%".
    pub fn rate_text(self) -> String {
        let whole = self.rate_millipercent / 1000;
        let frac = self.rate_millipercent % 1000;
        if frac == 0 {
            format!("{whole}%")
        } else {
            let frac = format!("{frac:03}");
            format!("{whole}.{}%", frac.trim_end_matches('0'))
        }
    }
}

/// What an order costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Totals {
    pub subtotal_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    pub tax: TaxRule,
}

/// The price of one line of a quote or order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteLine {
    pub menu_item_id: String,
    pub name: String,
    pub quantity: u32,
    pub options: Vec<ChosenOption>,
    pub unit_price_cents: i64,
    pub line_total_cents: i64,
}

/// `POST /api/v1/orders/quote` → what the order would cost, line by line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub lines: Vec<QuoteLine>,
    pub totals: Totals,
}

/// The menu as the hub serves it (`GET /api/v1/menu`): availability is live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Menu {
    pub items: Vec<MenuItem>,
    #[serde(default)]
    pub tax: TaxRule,
}

/// What is unavailable right now: item ids, and option ids (an option id is unavailable on every
/// item that has it). Sent whole in every `menu.updated`, so any one event tells the full state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SoldOut {
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub options: Vec<String>,
}

impl SoldOut {
    pub fn item(&self, id: &str) -> bool {
        self.items.iter().any(|i| i == id)
    }

    pub fn option(&self, id: &str) -> bool {
        self.options.iter().any(|o| o == id)
    }
}

/// What `POST /api/v1/menu/availability` changes: one item or one option id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AvailabilityTarget {
    Item,
    Option,
}

/// `POST /api/v1/menu/availability` (expo, kitchen or manager token) → [`MenuAvailability`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityChange {
    pub target: AvailabilityTarget,
    pub id: String,
    pub available: bool,
}

/// The availability after a change, with the seq of its `menu.updated` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuAvailability {
    pub seq: u64,
    pub sold_out: SoldOut,
}

impl Menu {
    pub fn item(&self, id: &str) -> Option<&MenuItem> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Marks items and options available or not as `sold_out` says (items taken off in the menu
    /// file are listed in it too).
    pub fn apply_sold_out(&mut self, sold_out: &SoldOut) {
        for item in &mut self.items {
            item.available = !sold_out.item(&item.id);
            for option in item.modifier_groups.iter_mut().flat_map(|g| g.options.iter_mut()) {
                option.available = !sold_out.option(&option.id);
            }
        }
    }

    /// What `lines` cost, with the rules the hub charges by; the error names the line (0-based).
    pub fn quote(&self, lines: &[NewOrderItem]) -> Result<Quote, (usize, LineProblem)> {
        quote_with(|id| self.item(id), self.tax, lines)
    }
}

/// Prices `lines` with items found by `item`: each line's options chosen and checked
/// ([`MenuItem::choose`]), its unit price and total, then the order's totals under `tax`.
pub fn quote_with<'a>(
    item: impl Fn(&str) -> Option<&'a MenuItem>,
    tax: TaxRule,
    lines: &[NewOrderItem],
) -> Result<Quote, (usize, LineProblem)> {
    let mut priced = Vec::with_capacity(lines.len());
    let mut subtotal: i64 = 0;
    for (i, line) in lines.iter().enumerate() {
        let at = |problem| (i, problem);
        let menu_item =
            item(&line.menu_item_id).ok_or_else(|| at(LineProblem::UnknownItem(line.menu_item_id.clone())))?;
        if !menu_item.available {
            return Err(at(LineProblem::ItemSoldOut { item: menu_item.name.clone() }));
        }
        if !(MIN_QUANTITY..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(at(LineProblem::Quantity(line.quantity)));
        }
        let options = menu_item.choose(&line.options).map_err(at)?;
        let unit = menu_item.unit_price_cents(&options);
        let total = unit.saturating_mul(i64::from(line.quantity));
        subtotal = subtotal.saturating_add(total);
        priced.push(QuoteLine {
            menu_item_id: menu_item.id.clone(),
            name: menu_item.name.clone(),
            quantity: line.quantity,
            options,
            unit_price_cents: unit,
            line_total_cents: total,
        });
    }
    Ok(Quote { lines: priced, totals: tax.totals(subtotal) })
}

/// `$12.34` (`-$0.50`).
pub fn format_price(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}${}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn burger() -> MenuItem {
        serde_json::from_value(json!({
            "id": "burger", "name": "Burger", "price_cents": 800, "category": "Burgers", "station": "grill",
            "allergens": ["gluten", "dairy"],
            "modifier_groups": [
                {"id": "size", "name": "Size", "min": 1, "max": 1, "options": [
                    {"id": "small", "name": "Small"},
                    {"id": "medium", "name": "Medium", "price_cents": 100},
                    {"id": "large", "name": "Large", "price_cents": 200}]},
                {"id": "remove", "name": "Remove", "kind": "remove", "max": 2, "options": [
                    {"id": "onions", "name": "onions"}, {"id": "pickles", "name": "pickles"}]},
                {"id": "extras", "name": "Extras", "kind": "add", "max": 3, "options": [
                    {"id": "cheese", "name": "cheese", "price_cents": 75},
                    {"id": "bacon", "name": "bacon", "price_cents": 150},
                    {"id": "no-bun", "name": "lettuce wrap", "price_cents": -50}]}
            ]
        }))
        .unwrap()
    }

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn line(id: &str, quantity: u32, options: &[&str]) -> NewOrderItem {
        NewOrderItem { options: ids(options), ..NewOrderItem::plain(id, quantity) }
    }

    #[test]
    fn options_come_back_in_menu_order_with_their_groups_and_prices() {
        let b = burger();
        let chosen = b.choose(&ids(&["bacon", "large", "onions"])).unwrap();
        let names: Vec<(&str, ModifierKind, i32)> =
            chosen.iter().map(|o| (o.name.as_str(), o.kind, o.price_cents)).collect();
        assert_eq!(
            names,
            [
                ("Large", ModifierKind::Choice, 200),
                ("onions", ModifierKind::Remove, 0),
                ("bacon", ModifierKind::Add, 150)
            ]
        );
        assert_eq!(b.unit_price_cents(&chosen), 800 + 200 + 150);
    }

    #[test]
    fn every_line_rule_is_enforced_with_a_message_for_people() {
        let b = burger();
        let err = |o: &[&str]| b.choose(&ids(o)).unwrap_err().to_string();
        assert_eq!(err(&[]), "Burger: Size needs a choice: Small, Medium or Large");
        assert_eq!(err(&["small", "large"]), "Burger: Size takes at most 1");
        assert_eq!(err(&["small", "ketchup"]), "Burger has no option \"ketchup\"");
        assert_eq!(err(&["small", "bacon", "bacon"]), "Burger: bacon is chosen twice");
        let many: Vec<String> = (0..=MAX_OPTIONS_PER_LINE).map(|i| format!("o{i}")).collect();
        assert!(b.choose(&many).unwrap_err().to_string().starts_with("at most 20 options"));
        let mut out = b.clone();
        out.modifier_groups[2].options[1].available = false;
        assert_eq!(out.choose(&ids(&["small", "bacon"])).unwrap_err().to_string(), "bacon is sold out (on Burger)");
        assert!(out.choose(&ids(&["small", "cheese"])).is_ok());
    }

    #[test]
    fn defaults_fill_an_untouched_group_only() {
        let mut b = burger();
        b.modifier_groups[0].options[1].default = true;
        let chosen = b.choose(&[]).unwrap();
        assert_eq!(chosen.iter().map(|o| o.option_id.as_str()).collect::<Vec<_>>(), ["medium"]);
        let chosen = b.choose(&ids(&["large"])).unwrap();
        assert_eq!(chosen.iter().map(|o| o.option_id.as_str()).collect::<Vec<_>>(), ["large"]);
        // A sold-out default does not choose itself: the customer has to.
        b.modifier_groups[0].options[1].available = false;
        assert!(matches!(b.choose(&[]), Err(LineProblem::TooFew { .. })));
    }

    #[test]
    fn the_lowest_price_takes_forced_choices_and_every_discount() {
        let b = burger();
        assert_eq!(b.lowest_price_cents(), 800 - 50);
        let mut cheap = b.clone();
        cheap.price_cents = 20;
        assert!(cheap.lowest_price_cents() < 0);
    }

    #[test]
    fn exclusive_tax_is_added_and_rounded_half_away_from_zero() {
        let tax = TaxRule { rate_millipercent: 8875, inclusive: false };
        // 1000 × 8.875 % = 88.75 → 89.
        assert_eq!(tax.totals(1000), Totals { subtotal_cents: 1000, tax_cents: 89, total_cents: 1089, tax });
        // 200 × 8.875 % = 17.75 → 18; 4 × 12.5 % = 0.5 → 1 (half goes up).
        assert_eq!(tax.totals(200).tax_cents, 18);
        let eighth = TaxRule { rate_millipercent: 12_500, inclusive: false };
        assert_eq!(eighth.totals(4).tax_cents, 1);
        assert_eq!(eighth.totals(3).tax_cents, 0);
        assert_eq!(eighth.totals(-4).tax_cents, -1, "a refund rounds the same way, mirrored");
        assert_eq!(TaxRule::default().totals(1234).total_cents, 1234);
    }

    #[test]
    fn inclusive_tax_is_taken_out_of_the_total() {
        let vat = TaxRule { rate_millipercent: 20_000, inclusive: true };
        // 1200 includes 20 %: net 1000, tax 200.
        assert_eq!(vat.totals(1200), Totals { subtotal_cents: 1200, tax_cents: 200, total_cents: 1200, tax: vat });
        // 999 / 1.2 = 832.5 → net 833, tax 166.
        assert_eq!(vat.totals(999).tax_cents, 166);
        assert_eq!(vat.rate_text(), "20%");
        assert_eq!(TaxRule { rate_millipercent: 8875, inclusive: false }.rate_text(), "8.875%");
        assert_eq!(TaxRule { rate_millipercent: 7250, inclusive: false }.rate_text(), "7.25%");
    }

    #[test]
    fn a_quote_prices_each_line_then_taxes_the_subtotal() {
        let mut fries: MenuItem = serde_json::from_value(json!({
            "id": "fries", "name": "Fries", "price_cents": 300, "category": "Sides", "station": "fryer"
        }))
        .unwrap();
        let menu =
            Menu { items: vec![burger(), fries.clone()], tax: TaxRule { rate_millipercent: 10_000, inclusive: false } };
        let quote = menu.quote(&[line("burger", 2, &["large", "no-bun", "onions"]), line("fries", 3, &[])]).unwrap();
        assert_eq!(quote.lines[0].unit_price_cents, 800 + 200 - 50);
        assert_eq!(quote.lines[0].line_total_cents, 1900);
        assert_eq!(quote.lines[1].line_total_cents, 900);
        assert_eq!((quote.totals.subtotal_cents, quote.totals.tax_cents, quote.totals.total_cents), (2800, 280, 3080));

        let err = menu.quote(&[line("fries", 1, &[]), line("burger", 1, &[])]).unwrap_err();
        assert_eq!(err.0, 1);
        assert_eq!(menu.quote(&[line("fries", 0, &[])]).unwrap_err().1, LineProblem::Quantity(0));
        assert_eq!(menu.quote(&[line("pizza", 1, &[])]).unwrap_err().1, LineProblem::UnknownItem("pizza".into()));
        fries.available = false;
        let menu = Menu { items: vec![fries], tax: TaxRule::default() };
        assert_eq!(menu.quote(&[line("fries", 1, &[])]).unwrap_err().1.to_string(), "Fries is sold out");
    }

    #[test]
    fn sold_out_lists_apply_to_items_and_to_every_item_with_the_option() {
        let mut menu = Menu { items: vec![burger(), burger()], tax: TaxRule::default() };
        menu.items[1].id = "burger2".into();
        menu.apply_sold_out(&SoldOut { items: vec!["burger2".into()], options: vec!["bacon".into()] });
        assert!(menu.items[0].available && !menu.items[1].available);
        assert!(menu.items.iter().all(|i| !i.option("bacon").unwrap().1.available));
        menu.apply_sold_out(&SoldOut::default());
        assert!(menu.items.iter().all(|i| i.available && i.option("bacon").unwrap().1.available));
    }

    #[test]
    fn allergens_are_named_and_understood_as_people_say_them() {
        assert_eq!(serde_json::to_value(Allergen::Nuts).unwrap(), json!("nuts"));
        for (said, meant) in [
            ("nuts", Allergen::Nuts),
            ("Tree nuts", Allergen::Nuts),
            ("almonds", Allergen::Nuts),
            ("peanut", Allergen::Peanuts),
            ("milk", Allergen::Dairy),
            ("lactose", Allergen::Dairy),
            ("wheat", Allergen::Gluten),
            ("shrimp", Allergen::Shellfish),
            (" Sesame seeds ", Allergen::Sesame),
            ("egg allergy", Allergen::Eggs),
        ] {
            assert_eq!(Allergen::from_spoken(said), Some(meant), "{said}");
        }
        assert_eq!(Allergen::from_spoken("kiwi"), None);
        for a in Allergen::ALL {
            assert_eq!(Allergen::from_spoken(a.as_str()), Some(a));
        }
    }

    #[test]
    fn prices_are_formatted_with_their_sign() {
        assert_eq!(format_price(0), "$0.00");
        assert_eq!(format_price(2247), "$22.47");
        assert_eq!(format_price(-50), "-$0.50");
    }
}
