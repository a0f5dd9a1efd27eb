//! The menu: the built-in default (`menu.json`) or a file given with `--menu`, checked once at
//! start (every refusal names the item, group or option and its line in the file), and what is
//! available right now ([`LiveMenu`]: the file's menu with the sold-out list applied).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use restaurant_protocol::menu::MAX_OPTIONS_PER_LINE;
use restaurant_protocol::{
    AvailabilityChange, AvailabilityTarget, MAX_WS_FRAME_BYTES, Menu, MenuItem, ModifierGroup, ServerMessage, SoldOut,
    TaxRule,
};

use crate::settings::is_valid_station;

const DEFAULT_MENU: &str = include_str!("../menu.json");

/// Longest id of an item, group or option.
pub const MAX_ID_CHARS: usize = 100;
/// Longest item description.
pub const MAX_DESCRIPTION_CHARS: usize = 300;
/// Most modifier groups one item may have.
pub const MAX_GROUPS_PER_ITEM: usize = 10;
/// Most options one modifier group may have.
pub const MAX_OPTIONS_PER_GROUP: usize = 30;
/// Highest item price, in cents.
pub const MAX_ITEM_PRICE_CENTS: u32 = 1_000_000;
/// Highest option price (up or down), in cents.
pub const MAX_OPTION_PRICE_CENTS: u32 = 100_000;

/// Why a menu cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MenuError {
    #[error("cannot read menu {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("built-in menu{}: {problem}", at_line(problem.line()))]
    BuiltIn { problem: InvalidMenu },
    #[error("menu {}{}: {problem}", path.display(), at_line(problem.line()))]
    File { path: PathBuf, problem: InvalidMenu },
}

fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(" line {l}")).unwrap_or_default()
}

/// ` (line N)` when the line is known.
fn see_line(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

/// What is wrong with a menu's text. [`InvalidMenu::line`] says where.
#[derive(Debug, thiserror::Error)]
pub enum InvalidMenu {
    /// Not JSON of the menu's shape (the message names the line and column).
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the menu has no items")]
    NoItems,
    /// A rule broken by one item, group or option.
    #[error("{place}: {problem}")]
    Rule { line: Option<usize>, place: Box<Place>, problem: String },
    /// The menu as a whole.
    #[error("{0}")]
    Whole(String),
}

impl InvalidMenu {
    /// The line of the offending item, group or option (serde's own errors carry theirs).
    pub fn line(&self) -> Option<usize> {
        match self {
            InvalidMenu::Rule { line, .. } => *line,
            _ => None,
        }
    }
}

/// Where in the menu a rule is broken: `item "a"`, `item "a", group "g"`,
/// `item "a", group "g", option "o"` (by position, 1-based, when the id is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    item: (usize, String),
    group: Option<(usize, String)>,
    option: Option<(usize, String)>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = |f: &mut fmt::Formatter<'_>, kind: &str, (i, id): &(usize, String)| {
            if id.is_empty() { write!(f, "{kind} #{}", i + 1) } else { write!(f, "{kind} {id:?}") }
        };
        name(f, "item", &self.item)?;
        if let Some(group) = &self.group {
            f.write_str(", ")?;
            name(f, "group", group)?;
        }
        if let Some(option) = &self.option {
            f.write_str(", ")?;
            name(f, "option", option)?;
        }
        Ok(())
    }
}

/// A checked menu (as the file has it) with lookup by item id, and what the file itself marks
/// unavailable.
#[derive(Debug)]
pub struct MenuBook {
    menu: Menu,
    by_id: HashMap<String, usize>,
    option_ids: HashSet<String>,
    /// Items and options with `"available": false` in the file (sorted).
    off_in_file: SoldOut,
}

impl MenuBook {
    /// Reads `path`, or the built-in menu when `None`.
    pub fn load(path: Option<&Path>) -> Result<MenuBook, MenuError> {
        match path {
            None => MenuBook::parse(DEFAULT_MENU).map_err(|problem| MenuError::BuiltIn { problem }),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| MenuError::Read { path: path.to_path_buf(), source })?;
                MenuBook::parse(&text).map_err(|problem| MenuError::File { path: path.to_path_buf(), problem })
            }
        }
    }

    /// Parses and checks a menu (see [`validate`] for the rules).
    pub fn parse(text: &str) -> Result<MenuBook, InvalidMenu> {
        let menu: Menu = serde_json::from_str(text)?;
        validate(&menu, &Lines::of(text))?;
        let by_id = menu.items.iter().enumerate().map(|(i, item)| (item.id.clone(), i)).collect();
        let options = || menu.items.iter().flat_map(|i| &i.modifier_groups).flat_map(|g| &g.options);
        let option_ids = options().map(|o| o.id.clone()).collect();
        let mut off_in_file = SoldOut {
            items: menu.items.iter().filter(|i| !i.available).map(|i| i.id.clone()).collect(),
            options: options().filter(|o| !o.available).map(|o| o.id.clone()).collect(),
        };
        normalize(&mut off_in_file);
        Ok(MenuBook { menu, by_id, option_ids, off_in_file })
    }

    /// The menu as the file has it.
    pub fn menu(&self) -> &Menu {
        &self.menu
    }

    pub fn item(&self, id: &str) -> Option<&MenuItem> {
        self.by_id.get(id).map(|&i| &self.menu.items[i])
    }

    /// What the file itself marks unavailable.
    pub fn off_in_file(&self) -> &SoldOut {
        &self.off_in_file
    }

    fn knows(&self, target: AvailabilityTarget, id: &str) -> bool {
        match target {
            AvailabilityTarget::Item => self.by_id.contains_key(id),
            AvailabilityTarget::Option => self.option_ids.contains(id),
        }
    }

    /// The ids of `sold_out` this menu has (a stored list may name ids a previous menu had).
    pub fn known(&self, sold_out: &SoldOut) -> SoldOut {
        let mut known = SoldOut {
            items: sold_out.items.iter().filter(|id| self.knows(AvailabilityTarget::Item, id)).cloned().collect(),
            options: sold_out.options.iter().filter(|id| self.knows(AvailabilityTarget::Option, id)).cloned().collect(),
        };
        normalize(&mut known);
        known
    }

    /// Everything unavailable: what the file marks so, and the `sold_out` ids this menu has
    /// (sorted, each once).
    pub fn effective(&self, sold_out: &SoldOut) -> SoldOut {
        let mut all = self.known(sold_out);
        all.items.extend(self.off_in_file.items.iter().cloned());
        all.options.extend(self.off_in_file.options.iter().cloned());
        normalize(&mut all);
        all
    }

    /// The sold-out list (as marked at run time, without the file's) after `change`; `None` when
    /// the change changes nothing.
    pub fn apply_change(
        &self,
        sold_out: &SoldOut,
        change: &AvailabilityChange,
    ) -> Result<Option<SoldOut>, AvailabilityError> {
        let id = change.id.as_str();
        if !self.knows(change.target, id) {
            return Err(AvailabilityError::Unknown { target: change.target, id: clip(id) });
        }
        let off_in_file = match change.target {
            AvailabilityTarget::Item => self.off_in_file.item(id),
            AvailabilityTarget::Option => self.off_in_file.option(id),
        };
        if off_in_file {
            return match change.available {
                true => Err(AvailabilityError::OffInFile { target: change.target, id: id.to_string() }),
                false => Ok(None),
            };
        }
        let mut after = sold_out.clone();
        let list = match change.target {
            AvailabilityTarget::Item => &mut after.items,
            AvailabilityTarget::Option => &mut after.options,
        };
        let listed = list.iter().any(|x| x == id);
        match (change.available, listed) {
            (true, false) | (false, true) => return Ok(None),
            (true, true) => list.retain(|x| x != id),
            (false, false) => list.push(id.to_string()),
        }
        normalize(&mut after);
        Ok(Some(after))
    }
}

/// Sorts both lists and drops repeats.
fn normalize(sold_out: &mut SoldOut) {
    for list in [&mut sold_out.items, &mut sold_out.options] {
        list.sort();
        list.dedup();
    }
}

/// At most 100 characters of an id for a message (a client may send anything).
fn clip(id: &str) -> String {
    id.chars().take(MAX_ID_CHARS).collect()
}

/// Why an availability change cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvailabilityError {
    #[error("the menu has no {} {id:?}", kind(*.target))]
    Unknown { target: AvailabilityTarget, id: String },
    #[error(
        "{} {id:?} is marked unavailable in the menu file: it cannot be made available until the file changes",
        kind(*.target)
    )]
    OffInFile { target: AvailabilityTarget, id: String },
}

fn kind(target: AvailabilityTarget) -> &'static str {
    match target {
        AvailabilityTarget::Item => "item",
        AvailabilityTarget::Option => "option",
    }
}

/// The menu as it is right now: the file's, with the sold-out list applied and the hub's tax.
#[derive(Debug)]
pub struct LiveMenu {
    /// The seq of the last `menu.updated` event; `None` before the first.
    pub seq: Option<u64>,
    /// Everything unavailable (the file's and the sold-out list), sorted.
    pub sold_out: SoldOut,
    pub menu: Arc<Menu>,
    by_id: HashMap<String, usize>,
}

impl LiveMenu {
    /// `book`'s menu with everything in `sold_out` unavailable and `tax` set.
    pub fn new(book: &MenuBook, seq: Option<u64>, sold_out: &SoldOut, tax: TaxRule) -> LiveMenu {
        let sold_out = book.effective(sold_out);
        let mut menu = book.menu().clone();
        menu.apply_sold_out(&sold_out);
        menu.tax = tax;
        LiveMenu { seq, sold_out, menu: Arc::new(menu), by_id: book.by_id.clone() }
    }

    pub fn item(&self, id: &str) -> Option<&MenuItem> {
        self.by_id.get(id).and_then(|&i| self.menu.items.get(i))
    }
}

// ---------------------------------------------------------------------------------------------
// Checking a menu

/// The line of each item, group and option of a menu's text: of its `"id"` key, else of the `{`
/// that opens it. Keyed by path (`items/3`, `items/3/modifier_groups/1/options/2`).
#[derive(Debug, Default)]
struct Lines(HashMap<String, usize>);

impl Lines {
    /// Walks JSON text that parsed (anything else gives no lines).
    fn of(text: &str) -> Lines {
        let mut walk = Walk { bytes: text.as_bytes(), pos: 0, line: 1, lines: HashMap::new() };
        let mut path = Vec::new();
        walk.value(&mut path, 0);
        Lines(walk.lines)
    }

    fn item(&self, i: usize) -> Option<usize> {
        self.0.get(&format!("items/{i}")).copied()
    }

    fn group(&self, i: usize, g: usize) -> Option<usize> {
        self.0.get(&format!("items/{i}/modifier_groups/{g}")).copied()
    }

    fn option(&self, i: usize, g: usize, o: usize) -> Option<usize> {
        self.0.get(&format!("items/{i}/modifier_groups/{g}/options/{o}")).copied()
    }
}

/// A minimal walk over valid JSON, noting where objects and their `"id"` keys are.
struct Walk<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    lines: HashMap<String, usize>,
}

/// Deeper than any menu: the walk stops there rather than recurse without bound.
const MAX_DEPTH: usize = 64;

impl Walk<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn bump(&mut self) {
        if self.peek() == Some(b'\n') {
            self.line += 1;
        }
        self.pos += 1;
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.bump();
        }
    }

    fn string(&mut self) -> String {
        let mut raw = Vec::new();
        self.bump(); // the opening quote
        while let Some(b) = self.peek() {
            self.bump();
            match b {
                b'"' => break,
                b'\\' => {
                    raw.push(b);
                    if let Some(escaped) = self.peek() {
                        raw.push(escaped);
                        self.bump();
                    }
                }
                _ => raw.push(b),
            }
        }
        String::from_utf8_lossy(&raw).into_owned()
    }

    fn value(&mut self, path: &mut Vec<String>, depth: usize) {
        self.skip_ws();
        if depth > MAX_DEPTH {
            self.pos = self.bytes.len();
            return;
        }
        match self.peek() {
            Some(b'{') => {
                self.lines.entry(path.join("/")).or_insert(self.line);
                self.bump();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b'"') => {}
                        Some(b',') => {
                            self.bump();
                            continue;
                        }
                        Some(b'}') => {
                            self.bump();
                            return;
                        }
                        _ => {
                            self.pos = self.bytes.len();
                            return;
                        }
                    }
                    let key_line = self.line;
                    let key = self.string();
                    if key == "id" {
                        self.lines.insert(path.join("/"), key_line);
                    }
                    self.skip_ws();
                    if self.peek() == Some(b':') {
                        self.bump();
                    }
                    path.push(key);
                    self.value(path, depth + 1);
                    path.pop();
                }
            }
            Some(b'[') => {
                self.bump();
                let mut index = 0;
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.bump();
                            return;
                        }
                        Some(b',') => {
                            self.bump();
                            index += 1;
                        }
                        None => return,
                        Some(_) => {
                            path.push(index.to_string());
                            self.value(path, depth + 1);
                            path.pop();
                        }
                    }
                }
            }
            Some(b'"') => {
                self.string();
            }
            Some(_) => {
                while !matches!(self.peek(), None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')) {
                    self.bump();
                }
            }
            None => {}
        }
    }
}

/// The rules a menu must follow:
///
/// - at least one item; item, group and option ids and names non-empty (ids at most
///   [`MAX_ID_CHARS`]); item ids unique; group ids unique within their item; option ids unique
///   within their item;
/// - a valid station, a non-empty category, a description of at most [`MAX_DESCRIPTION_CHARS`],
///   a price of at most [`MAX_ITEM_PRICE_CENTS`], at most [`MAX_GROUPS_PER_ITEM`] groups;
/// - per group: `max` ≥ 1, `min` ≤ `max`, `max` ≤ its number of options (at most
///   [`MAX_OPTIONS_PER_GROUP`]), at most `max` defaults, and a required group has no default or
///   enough to meet `min`; option prices within ±[`MAX_OPTION_PRICE_CENTS`];
/// - no choice can bring an item below 0 ([`MenuItem::lowest_price_cents`]), and the choices an
///   item needs fit one order line ([`MAX_OPTIONS_PER_LINE`]);
/// - an option id on several items has the same name (and availability) on each: it is one thing;
/// - a `menu.updated` listing every id fits a feed frame.
fn validate(menu: &Menu, lines: &Lines) -> Result<(), InvalidMenu> {
    if menu.items.is_empty() {
        return Err(InvalidMenu::NoItems);
    }
    let mut items: HashMap<&str, usize> = HashMap::new();
    // Option id → (name, available, item index, group index, option index) where first seen.
    let mut options: HashMap<&str, (&str, bool, usize, usize, usize)> = HashMap::new();
    for (i, item) in menu.items.iter().enumerate() {
        let place = Place { item: (i, item.id.clone()), group: None, option: None };
        let broken =
            |problem: String| InvalidMenu::Rule { line: lines.item(i), place: Box::new(place.clone()), problem };
        check_id_and_name(&item.id, &item.name).map_err(broken)?;
        check_aliases(&item.aliases).map_err(broken)?;
        if let Some(first) = items.insert(&item.id, i) {
            return Err(broken(format!("another item has the same id{}", see_line(lines.item(first)))));
        }
        if !is_valid_station(&item.station) {
            return Err(broken(format!("invalid station {:?} (1–32 of a-z 0-9 - _)", item.station)));
        }
        if restaurant_protocol::ALL_ORDERS_STATIONS.contains(&item.station.as_str()) {
            return Err(broken(format!(
                "station {:?} is a screen that sees every order, not a place where items are made",
                item.station
            )));
        }
        if item.category.trim().is_empty() {
            return Err(broken("the category is empty".into()));
        }
        let description = item.description.chars().count();
        if description > MAX_DESCRIPTION_CHARS {
            return Err(broken(format!("the description is {description} characters, over {MAX_DESCRIPTION_CHARS}")));
        }
        if item.price_cents > MAX_ITEM_PRICE_CENTS {
            return Err(broken(format!("price {} is over {MAX_ITEM_PRICE_CENTS} cents", item.price_cents)));
        }
        if item.modifier_groups.len() > MAX_GROUPS_PER_ITEM {
            return Err(broken(format!("{} modifier groups, over {MAX_GROUPS_PER_ITEM}", item.modifier_groups.len())));
        }
        let mut groups: HashMap<&str, usize> = HashMap::new();
        let mut item_options: HashMap<&str, usize> = HashMap::new();
        for (g, group) in item.modifier_groups.iter().enumerate() {
            let place = Place { group: Some((g, group.id.clone())), ..place.clone() };
            let broken = |problem: String| InvalidMenu::Rule {
                line: lines.group(i, g),
                place: Box::new(place.clone()),
                problem,
            };
            check_id_and_name(&group.id, &group.name).map_err(broken)?;
            if let Some(first) = groups.insert(&group.id, g) {
                return Err(broken(format!(
                    "another group of the item has the same id{}",
                    see_line(lines.group(i, first))
                )));
            }
            check_group(group).map_err(broken)?;
            for (o, option) in group.options.iter().enumerate() {
                let place = Place { option: Some((o, option.id.clone())), ..place.clone() };
                let broken = |problem: String| InvalidMenu::Rule {
                    line: lines.option(i, g, o),
                    place: Box::new(place.clone()),
                    problem,
                };
                check_id_and_name(&option.id, &option.name).map_err(broken)?;
                check_aliases(&option.aliases).map_err(broken)?;
                if let Some(first) = item_options.insert(&option.id, g) {
                    let other = &item.modifier_groups[first].id;
                    return Err(broken(format!("the item already has this option id (in group {other:?})")));
                }
                if option.price_cents.unsigned_abs() > MAX_OPTION_PRICE_CENTS {
                    return Err(broken(format!(
                        "price {} is beyond ±{MAX_OPTION_PRICE_CENTS} cents",
                        option.price_cents
                    )));
                }
                match options.get(option.id.as_str()) {
                    None => {
                        options.insert(&option.id, (&option.name, option.available, i, g, o));
                    }
                    Some(&(name, available, fi, fg, fo)) if name != option.name || available != option.available => {
                        let first = &menu.items[fi].id;
                        let state = |a: bool| if a { "available" } else { "unavailable" };
                        return Err(broken(format!(
                            "{:?} ({}) here but {name:?} ({}) on item {first:?}{}: an option id is one thing on every item",
                            option.name,
                            state(option.available),
                            state(available),
                            see_line(lines.option(fi, fg, fo))
                        )));
                    }
                    Some(_) => {}
                }
            }
        }
        let lowest = item.lowest_price_cents();
        if lowest < 0 {
            return Err(broken(format!("its cheapest choice costs {lowest} cents: an item cannot cost less than 0")));
        }
        let needed: u32 =
            item.modifier_groups.iter().filter(|g| !g.options.iter().any(|o| o.default)).map(|g| g.min).sum();
        if needed as usize > MAX_OPTIONS_PER_LINE {
            return Err(broken(format!(
                "it needs {needed} choices, more than an order line carries ({MAX_OPTIONS_PER_LINE})"
            )));
        }
    }
    let everything = SoldOut {
        items: menu.items.iter().map(|i| i.id.clone()).collect(),
        options: options.keys().map(|id| id.to_string()).collect(),
    };
    let bytes = serde_json::to_string(&ServerMessage::MenuUpdated { seq: u64::MAX, sold_out: everything })
        .map_or(usize::MAX, |s| s.len());
    if bytes > MAX_WS_FRAME_BYTES {
        return Err(InvalidMenu::Whole(format!(
            "the menu has so many ids that a menu.updated listing them all would be {bytes} bytes, over the \
             {MAX_WS_FRAME_BYTES}-byte frame limit"
        )));
    }
    Ok(())
}

/// An alias is something a customer says: it needs a letter or a digit.
fn check_aliases(aliases: &[String]) -> Result<(), String> {
    match aliases.iter().find(|a| !a.chars().any(char::is_alphanumeric)) {
        Some(alias) => Err(format!("the alias {alias:?} has no letter or digit")),
        None => Ok(()),
    }
}

fn check_id_and_name(id: &str, name: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err("the id is empty".into());
    }
    if id.chars().count() > MAX_ID_CHARS {
        return Err(format!("the id is longer than {MAX_ID_CHARS} characters"));
    }
    if name.trim().is_empty() {
        return Err("the name is empty".into());
    }
    Ok(())
}

fn check_group(group: &ModifierGroup) -> Result<(), String> {
    let options = group.options.len();
    if options > MAX_OPTIONS_PER_GROUP {
        return Err(format!("{options} options, over {MAX_OPTIONS_PER_GROUP}"));
    }
    if group.max < 1 {
        return Err("max must be at least 1".into());
    }
    if group.min > group.max {
        return Err(format!("min {} is over max {}", group.min, group.max));
    }
    if group.max as usize > options {
        return Err(format!("max {} is over its {options} options", group.max));
    }
    let defaults = group.options.iter().filter(|o| o.default).count();
    if defaults > group.max as usize {
        return Err(format!("{defaults} defaults are over max {}", group.max));
    }
    if !group.is_required() && defaults > 0 {
        // An empty optional group means "none of these": a default there could never be refused.
        return Err("only a required group (min ≥ 1) may have defaults: the customer could never leave them out".into());
    }
    if group.is_required() && defaults > 0 && defaults < group.min as usize {
        return Err(format!(
            "{defaults} default(s) cannot meet min {}: give none (the customer chooses) or at least {}",
            group.min, group.min
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use restaurant_protocol::ModifierKind;
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn the_built_in_menu_has_twenty_items_with_stations_groups_and_allergens() {
        let book = MenuBook::load(None).unwrap();
        assert_eq!(book.menu().items.len(), 20);
        assert_eq!(book.item("cheeseburger").unwrap().station, "grill");
        assert!(book.item("nope").is_none());
        assert!(book.menu().items.iter().all(|i| i.available && !i.description.is_empty()));
        let classic = book.item("classic-burger").unwrap();
        let size = &classic.modifier_groups[0];
        assert_eq!((size.id.as_str(), size.kind, size.min, size.max), ("size", ModifierKind::Choice, 1, 1));
        assert!(size.defaults().next().is_none(), "the customer must choose a size");
        for id in ["cheeseburger", "double-cheeseburger"] {
            assert!(book.item(id).unwrap().modifier_groups.iter().all(|g| !g.is_required()), "{id}");
        }
        assert_eq!(book.off_in_file(), &SoldOut::default());
    }

    /// A menu of one item, changed by `edit` (on its JSON), as text with one field a line.
    fn menu_text(edit: impl FnOnce(&mut Value)) -> String {
        let mut menu = json!({"items": [
            {"id": "fries", "name": "Fries", "price_cents": 300, "category": "Sides", "station": "fryer"},
            {"id": "burger", "name": "Burger", "price_cents": 800, "category": "Burgers", "station": "grill",
             "modifier_groups": [
                {"id": "size", "name": "Size", "min": 1, "max": 1, "options": [
                    {"id": "small", "name": "Small"}, {"id": "large", "name": "Large", "price_cents": 200}]},
                {"id": "extras", "name": "Extras", "kind": "add", "max": 2, "options": [
                    {"id": "bacon", "name": "bacon", "price_cents": 150}, {"id": "cheese", "name": "cheese"}]}
             ]}
        ]});
        edit(&mut menu);
        serde_json::to_string_pretty(&menu).unwrap()
    }

    fn refused(edit: impl FnOnce(&mut Value)) -> String {
        let text = menu_text(edit);
        let problem = MenuBook::parse(&text).expect_err("refused");
        let path = PathBuf::from("x.json");
        MenuError::File { path, problem }.to_string()
    }

    /// The 1-based line of the `n`th (0-based) line containing `needle`.
    fn line_of(edit: impl FnOnce(&mut Value), needle: &str, n: usize) -> usize {
        let text = menu_text(edit);
        text.lines().enumerate().filter(|(_, l)| l.contains(needle)).nth(n).unwrap().0 + 1
    }

    fn burger(menu: &mut Value) -> &mut Value {
        &mut menu["items"][1]
    }

    fn group(menu: &mut Value, g: usize) -> &mut Value {
        &mut menu["items"][1]["modifier_groups"][g]
    }

    #[test]
    fn the_example_menu_is_accepted() {
        assert!(MenuBook::parse(&menu_text(|_| {})).is_ok());
    }

    #[test]
    fn json_errors_keep_their_line_and_column() {
        let e =
            MenuError::File { path: "x.json".into(), problem: MenuBook::parse("{\n  \"items\": [\n  }").unwrap_err() };
        assert!(e.to_string().starts_with("menu x.json: invalid JSON:"), "{e}");
        assert!(e.to_string().contains("line 3"), "{e}");
        let e =
            MenuBook::parse(r#"{"items":[{"id":"a","name":"A","price_cents":-1,"category":"c","station":"grill"}]}"#);
        assert!(e.unwrap_err().to_string().contains("column"));
    }

    #[test]
    fn an_empty_menu_is_refused() {
        assert_eq!(refused(|m| m["items"] = json!([])), "menu x.json: the menu has no items");
    }

    #[test]
    fn a_group_rule_names_the_item_the_group_and_the_line() {
        let edit = |m: &mut Value| group(m, 0)["min"] = json!(2);
        let line = line_of(edit, r#""id": "size""#, 0);
        assert_eq!(
            refused(edit),
            format!(r#"menu x.json line {line}: item "burger", group "size": min 2 is over max 1"#)
        );
    }

    #[test]
    fn ids_and_names_must_not_be_empty() {
        let e = refused(|m| m["items"][0]["id"] = json!(""));
        assert!(e.contains("item #1: the id is empty"), "{e}");
        let e = refused(|m| burger(m)["name"] = json!(" "));
        assert!(e.contains(r#"item "burger": the name is empty"#), "{e}");
        let e = refused(|m| group(m, 1)["id"] = json!(""));
        assert!(e.contains(r#"item "burger", group #2: the id is empty"#), "{e}");
        let e = refused(|m| group(m, 1)["name"] = json!(""));
        assert!(e.contains(r#"group "extras": the name is empty"#), "{e}");
        let e = refused(|m| group(m, 0)["options"][1]["id"] = json!(""));
        assert!(e.contains(r#"group "size", option #2: the id is empty"#), "{e}");
        let e = refused(|m| group(m, 0)["options"][1]["name"] = json!(""));
        assert!(e.contains(r#"option "large": the name is empty"#), "{e}");
        let e = refused(|m| burger(m)["id"] = json!("b".repeat(MAX_ID_CHARS + 1)));
        assert!(e.contains("longer than 100"), "{e}");
    }

    #[test]
    fn item_ids_are_unique_and_the_message_names_both_lines() {
        let edit = |m: &mut Value| burger(m)["id"] = json!("fries");
        let first = line_of(edit, r#""id": "fries""#, 0);
        let second = line_of(edit, r#""id": "fries""#, 1);
        assert_eq!(
            refused(edit),
            format!(r#"menu x.json line {second}: item "fries": another item has the same id (line {first})"#)
        );
    }

    #[test]
    fn group_ids_are_unique_within_an_item() {
        let edit = |m: &mut Value| group(m, 1)["id"] = json!("size");
        let second = line_of(edit, r#""id": "size""#, 1);
        let e = refused(edit);
        assert!(
            e.starts_with(&format!(r#"menu x.json line {second}: item "burger", group "size": another group"#)),
            "{e}"
        );
    }

    #[test]
    fn option_ids_are_unique_within_an_item() {
        let edit = |m: &mut Value| group(m, 1)["options"][1]["id"] = json!("small");
        let line = line_of(edit, r#""id": "small""#, 1);
        assert_eq!(
            refused(edit),
            format!(
                r#"menu x.json line {line}: item "burger", group "extras", option "small": the item already has this option id (in group "size")"#
            )
        );
    }

    #[test]
    fn group_bounds_are_checked() {
        let e = refused(|m| group(m, 1)["max"] = json!(0));
        assert!(e.ends_with(r#"group "extras": max must be at least 1"#), "{e}");
        let e = refused(|m| group(m, 1)["max"] = json!(3));
        assert!(e.ends_with("max 3 is over its 2 options"), "{e}");
        let e = refused(|m| {
            group(m, 1)["options"][0]["default"] = json!(true);
            group(m, 1)["options"][1]["default"] = json!(true);
            group(m, 1)["max"] = json!(1);
        });
        assert!(e.ends_with("2 defaults are over max 1"), "{e}");
    }

    #[test]
    fn a_required_group_has_no_default_or_enough_defaults() {
        let e = refused(|m| {
            group(m, 1)["min"] = json!(2);
            group(m, 1)["options"][0]["default"] = json!(true);
        });
        assert!(e.contains(r#"group "extras": 1 default(s) cannot meet min 2"#), "{e}");
        assert!(MenuBook::parse(&menu_text(|m| group(m, 0)["options"][0]["default"] = json!(true))).is_ok());
    }

    #[test]
    fn an_optional_group_has_no_default() {
        let e = refused(|m| group(m, 1)["options"][0]["default"] = json!(true));
        assert!(e.contains(r#"group "extras": only a required group (min ≥ 1) may have defaults"#), "{e}");
    }

    #[test]
    fn an_alias_says_something() {
        let e = refused(|m| m["items"][0]["aliases"] = json!(["burger", " "]));
        assert!(e.ends_with(r#"the alias " " has no letter or digit"#), "{e}");
        let e = refused(|m| group(m, 1)["options"][0]["aliases"] = json!(["🥓"]));
        assert!(e.contains(r#"option "bacon": the alias "🥓" has no letter or digit"#), "{e}");
    }

    #[test]
    fn prices_are_bounded() {
        let e = refused(|m| group(m, 1)["options"][0]["price_cents"] = json!(-100_001));
        assert!(e.ends_with(r#"option "bacon": price -100001 is beyond ±100000 cents"#), "{e}");
        assert!(refused(|m| group(m, 1)["options"][0]["price_cents"] = json!(100_001)).contains("beyond"));
        let e = refused(|m| burger(m)["price_cents"] = json!(1_000_001));
        assert!(e.ends_with(r#"item "burger": price 1000001 is over 1000000 cents"#), "{e}");
    }

    #[test]
    fn no_choice_may_bring_an_item_below_zero() {
        let e = refused(|m| group(m, 1)["options"][1]["price_cents"] = json!(-900));
        assert!(
            e.ends_with(r#"item "burger": its cheapest choice costs -100 cents: an item cannot cost less than 0"#),
            "{e}"
        );
    }

    #[test]
    fn the_station_and_the_category_are_checked() {
        assert!(refused(|m| burger(m)["station"] = json!("Hot Line")).contains(r#"invalid station "Hot Line""#));
        assert!(refused(|m| burger(m)["station"] = json!("expo")).contains(r#"station "expo" is a screen"#));
        assert!(refused(|m| burger(m)["station"] = json!("kitchen")).contains(r#"station "kitchen" is a screen"#));
        assert!(refused(|m| burger(m)["category"] = json!("")).ends_with(r#"item "burger": the category is empty"#));
    }

    #[test]
    fn descriptions_are_bounded() {
        assert!(MenuBook::parse(&menu_text(|m| burger(m)["description"] = json!("d".repeat(300)))).is_ok());
        let e = refused(|m| burger(m)["description"] = json!("d".repeat(301)));
        assert!(e.ends_with("the description is 301 characters, over 300"), "{e}");
    }

    #[test]
    fn an_item_has_at_most_ten_groups_and_a_group_thirty_options() {
        let e = refused(|m| {
            let groups: Vec<Value> = (0..11)
                .map(|g| json!({"id": format!("g{g}"), "name": "G", "max": 1, "options": [{"id": format!("o{g}"), "name": "O"}]}))
                .collect();
            burger(m)["modifier_groups"] = json!(groups);
        });
        assert!(e.ends_with("11 modifier groups, over 10"), "{e}");
        let e = refused(|m| {
            let options: Vec<Value> = (0..31).map(|o| json!({"id": format!("o{o}"), "name": "O"})).collect();
            group(m, 1)["options"] = json!(options);
        });
        assert!(e.ends_with(r#"group "extras": 31 options, over 30"#), "{e}");
    }

    #[test]
    fn the_choices_an_item_needs_fit_one_order_line() {
        let e = refused(|m| {
            let groups: Vec<Value> = (0..10)
                .map(|g| {
                    let options: Vec<Value> = (0..3).map(|o| json!({"id": format!("o{g}-{o}"), "name": "O"})).collect();
                    json!({"id": format!("g{g}"), "name": "G", "min": 3, "max": 3, "options": options})
                })
                .collect();
            burger(m)["modifier_groups"] = json!(groups);
        });
        assert!(e.ends_with("it needs 30 choices, more than an order line carries (20)"), "{e}");
    }

    #[test]
    fn an_option_id_on_several_items_has_one_name() {
        let edit = |m: &mut Value| {
            m["items"][0]["modifier_groups"] = json!([{"id": "extras", "name": "Extras", "kind": "add", "max": 1, "options": [{"id": "bacon", "name": "Bacon"}]}]);
        };
        let first = line_of(edit, r#""id": "bacon""#, 0);
        let e = refused(edit);
        assert!(
            e.contains(&format!(
                r#"option "bacon": "bacon" (available) here but "Bacon" (available) on item "fries" (line {first})"#
            )),
            "{e}"
        );
        let e = refused(|m| {
            m["items"][0]["modifier_groups"] = json!([{"id": "extras", "name": "Extras", "max": 1,
                "options": [{"id": "bacon", "name": "bacon", "available": false}]}]);
        });
        assert!(e.contains("(available) here but \"bacon\" (unavailable)"), "{e}");
    }

    #[test]
    fn a_menu_whose_ids_would_not_fit_a_menu_updated_frame_is_refused() {
        let e = refused(|m| {
            let items: Vec<Value> = (0..700)
                .map(|i| json!({"id": format!("{i:0>98}"), "name": "I", "price_cents": 1, "category": "c", "station": "grill"}))
                .collect();
            m["items"] = json!(items);
        });
        assert!(e.starts_with("menu x.json: the menu has so many ids"), "{e}");
    }

    #[test]
    fn lines_are_found_in_compact_text_too() {
        let text = "{\"items\": [\n{\"id\": \"a\", \"name\": \"A\", \"price_cents\": 1, \"category\": \"c\", \"station\": \"grill\",\n\"modifier_groups\": [{\"name\": \"G\",\n \"id\": \"g\", \"max\": 1, \"min\": 2, \"options\": [{\"id\": \"o\", \"name\": \"O\"}]}]}]}";
        let problem = MenuBook::parse(text).unwrap_err();
        assert_eq!(problem.line(), Some(4), "{problem}");
        assert_eq!(Lines::of(text).item(0), Some(2));
        assert_eq!(Lines::of(text).option(0, 0, 0), Some(4));
        assert_eq!(Lines::of("[[[").item(0), None, "no panic on text that is not JSON");
    }

    #[test]
    fn a_menu_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("menu.json");
        std::fs::write(
            &path,
            r#"{"items":[{"id":"tea","name":"Tea","price_cents":150,"category":"Drinks","station":"drinks"}]}"#,
        )
        .unwrap();
        assert_eq!(MenuBook::load(Some(&path)).unwrap().item("tea").unwrap().price_cents, 150);
        let missing = MenuBook::load(Some(&dir.path().join("missing.json"))).unwrap_err();
        assert!(missing.to_string().contains("cannot read"), "{missing}");
    }

    fn change(target: AvailabilityTarget, id: &str, available: bool) -> AvailabilityChange {
        AvailabilityChange { target, id: id.into(), available }
    }

    #[test]
    fn availability_changes_add_and_remove_ids_and_a_no_op_changes_nothing() {
        let book = MenuBook::load(None).unwrap();
        let none = SoldOut::default();
        let cola = change(AvailabilityTarget::Item, "cola", false);
        let after = book.apply_change(&none, &cola).unwrap().unwrap();
        assert_eq!(after.items, ["cola"]);
        assert_eq!(book.apply_change(&after, &cola).unwrap(), None, "already sold out");
        let bacon = change(AvailabilityTarget::Option, "bacon", false);
        let after = book.apply_change(&after, &bacon).unwrap().unwrap();
        assert_eq!(
            (after.items.as_slice(), after.options.as_slice()),
            (&["cola".to_string()][..], &["bacon".to_string()][..])
        );
        let back = book.apply_change(&after, &change(AvailabilityTarget::Item, "cola", true)).unwrap().unwrap();
        assert!(back.items.is_empty());
        assert_eq!(book.apply_change(&none, &change(AvailabilityTarget::Item, "cola", true)).unwrap(), None);
    }

    #[test]
    fn unknown_ids_and_items_off_in_the_file_are_refused() {
        let text = menu_text(|m| {
            burger(m)["available"] = json!(false);
            group(m, 1)["options"][0]["available"] = json!(false);
        });
        let book = MenuBook::parse(&text).unwrap();
        assert_eq!(book.off_in_file(), &SoldOut { items: vec!["burger".into()], options: vec!["bacon".into()] });
        let none = SoldOut::default();
        let err = book.apply_change(&none, &change(AvailabilityTarget::Item, "pizza", false)).unwrap_err();
        assert_eq!(err.to_string(), r#"the menu has no item "pizza""#);
        let err = book.apply_change(&none, &change(AvailabilityTarget::Option, "fries", false)).unwrap_err();
        assert!(matches!(err, AvailabilityError::Unknown { .. }), "an item id is not an option id");
        let err = book.apply_change(&none, &change(AvailabilityTarget::Item, "burger", true)).unwrap_err();
        assert!(err.to_string().contains("marked unavailable in the menu file"), "{err}");
        assert!(matches!(
            book.apply_change(&none, &change(AvailabilityTarget::Option, "bacon", true)),
            Err(AvailabilityError::OffInFile { .. })
        ));
        assert_eq!(book.apply_change(&none, &change(AvailabilityTarget::Item, "burger", false)).unwrap(), None);
        // The live menu lists the file's too, and ids a previous menu had are dropped.
        let stored = SoldOut { items: vec!["fries".into(), "gone".into()], options: vec!["old".into()] };
        let live = LiveMenu::new(&book, Some(3), &stored, TaxRule::default());
        assert_eq!(
            live.sold_out,
            SoldOut { items: vec!["burger".into(), "fries".into()], options: vec!["bacon".into()] }
        );
        assert!(!live.item("fries").unwrap().available && !live.item("burger").unwrap().available);
        assert!(!live.item("burger").unwrap().option("bacon").unwrap().1.available);
        assert!(live.item("burger").unwrap().option("cheese").unwrap().1.available);
    }

    #[test]
    fn a_long_unknown_id_is_clipped_in_the_message() {
        let book = MenuBook::load(None).unwrap();
        let err = book
            .apply_change(&SoldOut::default(), &change(AvailabilityTarget::Item, &"x".repeat(10_000), false))
            .unwrap_err();
        assert!(err.to_string().len() < 200);
    }
}
