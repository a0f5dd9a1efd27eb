//! The model's tools: their definitions, menu-name matching, streamed-argument accumulation, and
//! running a finished call against the cart. Every call produces a `function_call_output` text the
//! model can read, including when the arguments or the item name are wrong, so it can ask again.

use std::collections::HashMap;

use restaurant_protocol::{Allergen, LineProblem, Menu, MenuItem, ModifierKind, format_price};
use serde::Deserialize;
use serde_json::{Value, json};

use super::options::{clip, join_list, map_options, spoken_option};
use crate::core::cart::{Cart, CartError, LineRequest, MAX_QUANTITY, MIN_QUANTITY};
use crate::core::text;

/// Accumulated arguments per call are capped; the `.done` event carries the full text anyway.
pub const MAX_ARGUMENT_BYTES: usize = 64 * 1024;
/// Calls tracked at once (a response rarely has more than a few).
pub const MAX_OPEN_CALLS: usize = 32;

/// What the customer asked the kiosk to do with the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    /// Submit the order (the customer said yes to the read-back).
    Checkout,
    /// Show the order and ask "Shall I place it?": the first checkout never places the order.
    Confirm,
    /// Show the cart.
    Review,
    /// Start over (the cart has been cleared).
    Cancel,
}

/// The kiosk's tools, as sent in `session.update` (shared with the hub's OpenAI session).
pub fn tool_definitions(menu: &Menu) -> Value {
    restaurant_protocol::voice::kiosk_tools(menu)
}

/// The assistant's instructions, with the menu, prices, options and what is sold out.
pub fn instructions(menu: &Menu) -> String {
    restaurant_protocol::voice::kiosk_instructions(menu)
}

// ---------------------------------------------------------------------------------------------
// Menu matching

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Exact,
    Alias,
    Contains,
}

impl MatchKind {
    pub fn confidence(self) -> f32 {
        match self {
            MatchKind::Exact => 1.0,
            MatchKind::Alias => 0.9,
            MatchKind::Contains => 0.6,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MenuMatch<'a> {
    pub item: &'a MenuItem,
    pub kind: MatchKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchError {
    Unknown { name: String },
    Ambiguous { name: String, candidates: Vec<String> },
}

impl std::fmt::Display for MatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MatchError::Unknown { name } => write!(f, "\"{}\" is not on the menu", clip(name)),
            MatchError::Ambiguous { name, candidates } => {
                write!(f, "\"{}\" could be any of: {}", clip(name), candidates.join(", "))
            }
        }
    }
}

/// Lower-case words separated by single spaces (punctuation dropped).
fn normalize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_alphanumeric() { c.to_ascii_lowercase() } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `true` if `needle`'s words appear as consecutive whole words in `hay`.
fn contains_words(hay: &str, needle: &str) -> bool {
    !needle.is_empty() && format!(" {hay} ").contains(&format!(" {needle} "))
}

/// Exact name, then alias, then whole-word containment either way (longest term wins; a tie between
/// different items is ambiguous). All comparisons ignore case and punctuation.
pub fn match_menu_item<'a>(menu: &'a [MenuItem], name: &str) -> Result<MenuMatch<'a>, MatchError> {
    let query = normalize(name);
    let unknown = || MatchError::Unknown { name: name.trim().to_string() };
    if query.is_empty() {
        return Err(unknown());
    }
    if let Some(item) = menu.iter().find(|i| normalize(&i.name) == query) {
        return Ok(MenuMatch { item, kind: MatchKind::Exact });
    }
    if let Some(item) = menu.iter().find(|i| i.aliases.iter().any(|a| normalize(a) == query)) {
        return Ok(MenuMatch { item, kind: MatchKind::Alias });
    }
    let mut best: Vec<(usize, &MenuItem)> = Vec::new();
    for item in menu {
        let score = std::iter::once(&item.name)
            .chain(item.aliases.iter())
            .map(|term| normalize(term))
            .filter_map(|term| {
                if contains_words(&query, &term) {
                    Some(term.len())
                } else if contains_words(&term, &query) {
                    Some(query.len())
                } else {
                    None
                }
            })
            .max();
        if let Some(score) = score {
            match best.first().map(|(s, _)| *s) {
                Some(top) if score < top => {}
                Some(top) if score == top => best.push((score, item)),
                _ => best = vec![(score, item)],
            }
        }
    }
    match best.as_slice() {
        [] => Err(unknown()),
        [(_, item)] => Ok(MenuMatch { item, kind: MatchKind::Contains }),
        many => Err(MatchError::Ambiguous {
            name: name.trim().to_string(),
            candidates: many.iter().map(|(_, i)| i.name.clone()).collect(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Streamed calls

/// Names and streamed argument text of calls in progress, keyed by `call_id`.
#[derive(Debug, Default)]
pub struct CallAccumulator {
    calls: HashMap<String, OpenCall>,
}

#[derive(Debug, Default)]
struct OpenCall {
    name: Option<String>,
    arguments: String,
}

impl CallAccumulator {
    fn open(&mut self, call_id: &str) -> Option<&mut OpenCall> {
        if !self.calls.contains_key(call_id) && self.calls.len() >= MAX_OPEN_CALLS {
            log::error!("[VoiceTools] too many open function calls; ignoring {call_id}");
            return None;
        }
        Some(self.calls.entry(call_id.to_string()).or_default())
    }

    /// A function-call item was announced (`response.output_item.added` / `conversation.item.added`).
    pub fn named(&mut self, call_id: &str, name: &str) {
        if let Some(call) = self.open(call_id) {
            call.name = Some(name.to_string());
        }
    }

    pub fn delta(&mut self, call_id: &str, delta: &str) {
        if let Some(call) = self.open(call_id) {
            if call.arguments.len() + delta.len() > MAX_ARGUMENT_BYTES {
                log::error!("[VoiceTools] arguments of {call_id} exceed {MAX_ARGUMENT_BYTES} bytes; dropping delta");
                return;
            }
            call.arguments.push_str(delta);
        }
    }

    /// Closes the call: its name (from the event or the announcement) and its full arguments (the
    /// event's, or the accumulated text when the event's are empty).
    pub fn finish(&mut self, call_id: &str, name: Option<String>, arguments: String) -> (Option<String>, String) {
        let open = self.calls.remove(call_id).unwrap_or_default();
        let arguments = if arguments.trim().is_empty() { open.arguments } else { arguments };
        (name.or(open.name), arguments)
    }

    pub fn clear(&mut self) {
        self.calls.clear();
    }
}

// ---------------------------------------------------------------------------------------------
// Running calls

/// The result of one call: the `function_call_output` text and what changed.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutcome {
    pub output: String,
    pub cart_changed: bool,
    pub action: Option<OrderAction>,
}

impl CallOutcome {
    /// Sets `flag: true` in the output object (`placed`, `needs_confirmation`).
    fn mark(&mut self, flag: &str) {
        if let Ok(mut v) = serde_json::from_str::<Value>(&self.output) {
            v[flag] = json!(true);
            self.output = v.to_string();
        }
    }

    pub(crate) fn error(message: String) -> CallOutcome {
        log::warn!("[VoiceTools] call failed: {message}");
        CallOutcome { output: json!({ "ok": false, "error": message }).to_string(), cart_changed: false, action: None }
    }

    fn success(
        message: String,
        menu: &Menu,
        cart: &Cart,
        cart_changed: bool,
        action: Option<OrderAction>,
    ) -> CallOutcome {
        CallOutcome::success_warning(message, Vec::new(), menu, cart, cart_changed, action)
    }

    /// `warnings` are things the assistant must tell the customer (an allergen in the item, an
    /// allergy the kiosk cannot record).
    fn success_warning(
        message: String,
        warnings: Vec<String>,
        menu: &Menu,
        cart: &Cart,
        cart_changed: bool,
        action: Option<OrderAction>,
    ) -> CallOutcome {
        let mut output = json!({ "ok": true, "message": message, "order": cart_summary(cart, menu) });
        if !warnings.is_empty() {
            for w in &warnings {
                log::info!("[VoiceTools] warning for the customer: {w}");
            }
            output["warnings"] = json!(warnings);
        }
        CallOutcome { output: output.to_string(), cart_changed, action }
    }
}

/// The question before placing: "That's 2 × Cheeseburger (no onions) and 1 × Cola, $12.47.
/// Shall I place it?"
pub fn read_back(cart: &Cart, menu: &Menu) -> String {
    let lines: Vec<String> = cart
        .lines()
        .iter()
        .map(|l| {
            let options: Vec<String> = l.options.iter().map(|o| spoken_option(o.kind, &o.name)).collect();
            match options.is_empty() {
                true => format!("{} × {}", l.quantity, l.name),
                false => format!("{} × {} ({})", l.quantity, l.name, options.join(", ")),
            }
        })
        .collect();
    let total = cart.estimate(menu.tax).total_cents;
    format!("That's {}, {}. Shall I place it?", join_list(&lines, "and"), format_price(total))
}

/// The order as the assistant reads it back: each line with its options as said, the allergies
/// flagged on it and its price, then the estimated totals.
pub fn cart_summary(cart: &Cart, menu: &Menu) -> Value {
    let lines: Vec<Value> = cart
        .lines()
        .iter()
        .map(|l| {
            json!({
                "name": l.name,
                "quantity": l.quantity,
                "options": l.options.iter().map(|o| spoken_option(o.kind, &o.name)).collect::<Vec<_>>(),
                "allergies": l.allergies().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "special_instructions": l.special_instructions,
                "line_total": format_price(l.line_total_cents()),
            })
        })
        .collect();
    let totals = cart.estimate(menu.tax);
    json!({
        "items": lines,
        "subtotal": format_price(totals.subtotal_cents),
        "tax": format_price(totals.tax_cents),
        "total": format_price(totals.total_cents),
        "total_is_estimate": true,
    })
}

fn default_quantity() -> i64 {
    1
}

/// A list the model may also send as one string (or `null`).
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

#[derive(Deserialize)]
struct AddArgs {
    items: Vec<AddItem>,
}

#[derive(Deserialize)]
struct AddItem {
    name: String,
    #[serde(default = "default_quantity")]
    quantity: i64,
    /// Option names as the customer said them (`modifiers` in older prompts).
    #[serde(default, alias = "modifiers", deserialize_with = "one_or_many")]
    options: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    allergies: Vec<String>,
    #[serde(default)]
    special_instructions: Option<String>,
}

#[derive(Deserialize)]
struct RemoveArgs {
    name: String,
    #[serde(default)]
    quantity: Option<i64>,
}

#[derive(Deserialize)]
struct ConfirmArgs {
    action: String,
}

fn parse_args<'de, T: Deserialize<'de>>(tool: &str, arguments: &'de str) -> Result<T, String> {
    serde_json::from_str(arguments).map_err(|e| format!("{tool}: could not read the arguments ({e})"))
}

fn quantity(name: &str, q: i64) -> Result<u32, String> {
    u32::try_from(q)
        .ok()
        .filter(|q| (MIN_QUANTITY..=MAX_QUANTITY).contains(q))
        .ok_or_else(|| format!("{name}: quantity must be between {MIN_QUANTITY} and {MAX_QUANTITY} (got {q})"))
}

/// Runs a finished call against `cart`. Never panics; every failure becomes an error output and
/// leaves the cart unchanged. `confirmation_asked`: the customer has been asked "Shall I place
/// it?" about this very cart, so a checkout now places the order; otherwise a checkout asks.
pub fn run_call(name: &str, arguments: &str, menu: &Menu, cart: &mut Cart, confirmation_asked: bool) -> CallOutcome {
    let result = match name {
        "add_to_order" => add_to_order(arguments, menu, cart),
        "remove_from_order" => remove_from_order(arguments, menu, cart),
        "confirm_order" => confirm_order(arguments, menu, cart, confirmation_asked),
        other => Err(format!("unknown function \"{}\"", clip(other))),
    };
    result.unwrap_or_else(CallOutcome::error)
}

/// The article-led name used in sentences ("the Cheeseburger").
fn the(item: &str) -> String {
    format!("the {item}")
}

/// Capitalises the first letter ("The Cheeseburger …").
fn sentence(text: String) -> String {
    text::capitalize(&text)
}

/// "We're out of the Chocolate Shake today.", with what else the category still has.
fn item_sold_out(menu: &Menu, item: &MenuItem) -> String {
    let mut text = format!("We're out of {} today.", the(&item.name));
    let others: Vec<&str> = menu
        .items
        .iter()
        .filter(|i| i.available && i.id != item.id && i.category == item.category)
        .map(|i| i.name.as_str())
        .collect();
    if !others.is_empty() {
        text.push_str(&format!(" We still have {}.", join_list(&others, "and")));
    }
    text
}

/// A problem with a line, as the assistant should put it to the customer.
fn explain(menu: &Menu, item: &MenuItem, ids: &[String], error: &CartError) -> String {
    let group_named = |name: &str| item.modifier_groups.iter().find(|g| g.name == name);
    let text = match error {
        CartError::SoldOut { .. } | CartError::Options(LineProblem::ItemSoldOut { .. }) => {
            return item_sold_out(menu, item);
        }
        CartError::Options(LineProblem::OptionSoldOut { option, .. }) => {
            let mut text = format!("We're out of {option} today.");
            let group =
                item.modifier_groups.iter().find(|g| g.options.iter().any(|o| o.name == *option && !o.available));
            if let Some(group) = group.filter(|g| g.kind != ModifierKind::Remove) {
                let others: Vec<&str> = group
                    .options
                    .iter()
                    .filter(|o| o.available && !ids.contains(&o.id))
                    .map(|o| o.name.as_str())
                    .collect();
                if !others.is_empty() {
                    text.push_str(&format!(" We still have {}.", join_list(&others, "and")));
                }
            }
            return text;
        }
        CartError::Options(LineProblem::TooFew { group, min, choices, .. }) => {
            let group_word = text::lower(group);
            if choices.is_empty() {
                format!("{} can't be made right now: every {group_word} option is sold out.", the(&item.name))
            } else if *min == 1 {
                format!("{} comes in {choices} — which {group_word} would you like?", the(&item.name))
            } else {
                format!("{} needs at least {min} {group_word}: choose from {choices}.", the(&item.name))
            }
        }
        CartError::Options(LineProblem::TooMany { group, max, .. }) => {
            let group_data = group_named(group);
            let asked: Vec<String> = group_data
                .map(|g| {
                    g.options.iter().filter(|o| ids.contains(&o.id)).map(|o| spoken_option(g.kind, &o.name)).collect()
                })
                .unwrap_or_default();
            let asked =
                if asked.is_empty() { String::new() } else { format!(" (asked: {})", join_list(&asked, "and")) };
            match group_data.map(|g| g.kind) {
                Some(ModifierKind::Remove) if *max == 1 => {
                    format!("{} can leave out only one thing{asked}.", the(&item.name))
                }
                Some(ModifierKind::Remove) => {
                    format!("{} can leave out at most {max} things{asked}.", the(&item.name))
                }
                _ if *max == 1 => {
                    format!("{} takes only one {}{asked} — which one?", the(&item.name), text::lower(group))
                }
                _ => format!("{} takes at most {max} {}{asked}.", the(&item.name), text::lower(group)),
            }
        }
        CartError::Options(LineProblem::UnknownOption { option, .. }) => {
            format!("{} doesn't come with {}.", the(&item.name), clip(option))
        }
        CartError::Options(LineProblem::RepeatedOption { option, .. }) => {
            format!("{option} was asked for twice on {}.", the(&item.name))
        }
        CartError::Options(LineProblem::TooManyOptions(n)) => {
            format!("That's too many changes for one {} ({n}).", item.name)
        }
        CartError::QuantityOutOfRange { quantity, .. } => format!(
            "One line of the order holds at most {MAX_QUANTITY} of {} this way; that would make {quantity}.",
            the(&item.name)
        ),
        other => format!("{other}."),
    };
    sentence(text)
}

/// Allergies as the model passed them: the ones the kiosk knows, and the words it does not.
/// Allergies of one line the answer names back to the model at most (the arguments are untrusted:
/// thousands of made-up words must not make a reply too large to send).
pub const MAX_UNKNOWN_ALLERGIES: usize = 5;

fn allergies(said: &[String]) -> (Vec<Allergen>, Vec<String>) {
    let mut known = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for word in said.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
        match Allergen::from_spoken(word) {
            Some(a) if !known.contains(&a) => known.push(a),
            Some(_) => {}
            None if unknown.len() < MAX_UNKNOWN_ALLERGIES && !unknown.iter().any(|u| u.eq_ignore_ascii_case(word)) => {
                unknown.push(clip(word))
            }
            None => {}
        }
    }
    (known, unknown)
}

/// One item of an `add_to_order` call, added to `cart`: what was added ("2 × Cheeseburger (no
/// onions)") and the warnings for the customer, or the problem.
fn add_one(menu: &Menu, req: &AddItem, cart: &mut Cart, warnings: &mut Vec<String>) -> Result<String, String> {
    let item = match_menu_item(&menu.items, &req.name).map_err(|e| format!("{e}."))?.item;
    if !item.available {
        return Err(item_sold_out(menu, item));
    }
    let q = quantity(&item.name, req.quantity)?;
    let ids = map_options(item, &req.options).map_err(|e| e.to_string())?;
    let (flagged, unknown) = allergies(&req.allergies);
    let request = LineRequest {
        quantity: q,
        options: ids.clone(),
        allergies: flagged.clone(),
        special_instructions: req.special_instructions.clone(),
    };
    let key = cart.add(item, &request).map_err(|e| {
        log::warn!("[VoiceTools] {} with {ids:?}: {e}", item.id);
        explain(menu, item, &ids, &e)
    })?;
    for word in unknown {
        log::warn!("[VoiceTools] allergy {word:?} is not one the kiosk can record");
        warnings.push(format!(
            "The kiosk cannot record an allergy to \"{word}\": tell the customer to speak to a member of staff \
             about \"{word}\" before ordering."
        ));
    }
    let contained: Vec<String> =
        item.allergens.iter().filter(|a| flagged.contains(a)).map(|a| text::lower(a.label())).collect();
    if !contained.is_empty() {
        warnings.push(format!(
            "{} contains {} — the customer flagged this allergy: tell them before they confirm.",
            sentence(the(&item.name)),
            join_list(&contained, "and")
        ));
    }
    let chosen: Vec<String> =
        cart.line(&key).map(|l| l.options.iter().map(|o| spoken_option(o.kind, &o.name)).collect()).unwrap_or_default();
    let options = if chosen.is_empty() { String::new() } else { format!(" ({})", chosen.join(", ")) };
    Ok(format!("{q} × {}{options}", item.name))
}

fn add_to_order(arguments: &str, menu: &Menu, cart: &mut Cart) -> Result<CallOutcome, String> {
    let args: AddArgs = parse_args("add_to_order", arguments)?;
    if args.items.is_empty() {
        return Err("add_to_order: no items given".into());
    }
    // Applied to a copy so a failure part-way leaves the real cart untouched.
    let mut next = cart.clone();
    let mut problems = Vec::new();
    let mut added = Vec::new();
    let mut warnings = Vec::new();
    for req in &args.items {
        match add_one(menu, req, &mut next, &mut warnings) {
            Ok(line) => added.push(line),
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        let mut text = format!("Nothing was added. {}", problems.join(" "));
        if !added.is_empty() {
            text.push_str(&format!(
                " Once that is settled, add everything again ({} could be added as asked).",
                join_list(&added, "and")
            ));
        }
        return Err(text);
    }
    *cart = next;
    Ok(CallOutcome::success_warning(format!("Added {}.", added.join(", ")), warnings, menu, cart, true, None))
}

fn remove_from_order(arguments: &str, menu: &Menu, cart: &mut Cart) -> Result<CallOutcome, String> {
    let args: RemoveArgs = parse_args("remove_from_order", arguments)?;
    let found = match_menu_item(&menu.items, &args.name).map_err(|e| e.to_string())?;
    let q = args.quantity.map(|q| quantity(&found.item.name, q)).transpose()?;
    let removed = cart.remove_item(found.item, q).map_err(|e| e.to_string())?;
    Ok(CallOutcome::success(format!("Removed {removed} × {}.", found.item.name), menu, cart, true, None))
}

fn confirm_order(arguments: &str, menu: &Menu, cart: &mut Cart, asked: bool) -> Result<CallOutcome, String> {
    let args: ConfirmArgs = parse_args("confirm_order", arguments)?;
    match args.action.as_str() {
        "checkout" if cart.is_empty() => Err("the order is empty; nothing to check out".into()),
        "checkout" if asked => {
            let mut o =
                CallOutcome::success("Placing the order.".into(), menu, cart, false, Some(OrderAction::Checkout));
            o.mark("placed");
            Ok(o)
        }
        "checkout" => {
            let mut o = CallOutcome::success(read_back(cart, menu), menu, cart, false, Some(OrderAction::Confirm));
            o.mark("needs_confirmation");
            Ok(o)
        }
        "review" => Ok(CallOutcome::success(
            "Showing the order on screen.".into(),
            menu,
            cart,
            false,
            Some(OrderAction::Review),
        )),
        "cancel" => {
            cart.clear();
            Ok(CallOutcome::success("The order was cancelled.".into(), menu, cart, true, Some(OrderAction::Cancel)))
        }
        other => Err(format!("confirm_order: unknown action \"{}\" (use checkout, review or cancel)", clip(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::menu_fixture;
    use restaurant_protocol::{SoldOut, TaxRule};

    fn output(o: &CallOutcome) -> Value {
        serde_json::from_str(&o.output).unwrap()
    }

    fn menu() -> Menu {
        Menu { items: menu_fixture(), tax: TaxRule::default() }
    }

    fn sold_out(items: &[&str], options: &[&str]) -> Menu {
        let mut menu = menu();
        menu.apply_sold_out(&SoldOut {
            items: items.iter().map(|s| s.to_string()).collect(),
            options: options.iter().map(|s| s.to_string()).collect(),
        });
        menu
    }

    /// `add_to_order` with one item given as JSON; the output and the cart after it.
    fn add(menu: &Menu, item: Value) -> (Value, Cart) {
        let mut cart = Cart::new();
        let o = run_call("add_to_order", &json!({ "items": [item] }).to_string(), menu, &mut cart, false);
        assert_eq!(o.cart_changed, !cart.is_empty());
        (output(&o), cart)
    }

    fn error_of(menu: &Menu, item: Value) -> String {
        let (out, cart) = add(menu, item);
        assert_eq!(out["ok"], false, "{out}");
        assert!(cart.is_empty(), "nothing added on a problem");
        out["error"].as_str().unwrap().to_string()
    }

    #[test]
    fn matching_prefers_exact_then_alias_then_contains() {
        let menu = menu_fixture();
        let m = match_menu_item(&menu, "  CHEESEBURGER ").unwrap();
        assert_eq!((m.item.id.as_str(), m.kind), ("cheeseburger", MatchKind::Exact));
        let m = match_menu_item(&menu, "cheeseburgers").unwrap();
        assert_eq!((m.item.id.as_str(), m.kind), ("cheeseburger", MatchKind::Alias));
        let m = match_menu_item(&menu, "big fries").unwrap();
        assert_eq!((m.item.id.as_str(), m.kind), ("fries-large", MatchKind::Alias));
        let m = match_menu_item(&menu, "a large fries please").unwrap();
        assert_eq!((m.item.id.as_str(), m.kind), ("fries-large", MatchKind::Contains));
        assert!(m.kind.confidence() < MatchKind::Alias.confidence());
        let m = match_menu_item(&menu, "double cheeseburger with bacon").unwrap();
        assert_eq!(m.item.id, "double-cheeseburger", "the longest contained term wins");
    }

    #[test]
    fn ambiguous_and_unknown_names_are_errors() {
        let menu = menu_fixture();
        assert!(
            matches!(match_menu_item(&menu, "fries"), Err(MatchError::Ambiguous { candidates, .. }) if candidates.len() == 2)
        );
        assert_eq!(match_menu_item(&menu, "pizza"), Err(MatchError::Unknown { name: "pizza".into() }));
        assert!(match_menu_item(&menu, "  ").is_err());
    }

    #[test]
    fn add_to_order_adds_every_item_and_reports_the_order() {
        let menu = menu();
        let mut cart = Cart::new();
        let o = run_call(
            "add_to_order",
            r#"{"items":[{"name":"cheeseburgers","quantity":2,"modifiers":["no onions"]},{"name":"Large Fries","quantity":1}]}"#,
            &menu,
            &mut cart,
            false,
        );
        assert!(o.cart_changed);
        assert_eq!(cart.subtotal_cents(), 2 * 899 + 449);
        assert_eq!(cart.lines()[0].key.options, ["onions"], "`modifiers` is read as `options`");
        let out = output(&o);
        assert_eq!(out["ok"], true);
        assert_eq!(out["message"], "Added 2 × Cheeseburger (no onions), 1 × Large Fries.");
        assert_eq!(out["order"]["total"], "$22.47");
        assert!(out.get("warnings").is_none());
    }

    #[test]
    fn spoken_options_become_the_line_options_and_are_read_back_as_said() {
        let (out, cart) = add(
            &menu(),
            json!({"name": "hamburger", "quantity": 2, "options": ["make it large", "no onion", "add bacn"]}),
        );
        assert_eq!(out["ok"], true, "{out}");
        assert_eq!(cart.lines()[0].key.options, ["large", "onions", "bacon"]);
        assert_eq!(cart.lines()[0].unit_price_cents, 799 + 200 + 150);
        let line = &out["order"]["items"][0];
        assert_eq!(line["options"], json!(["Large", "no onions", "add bacon"]));
        assert_eq!(line["line_total"], "$22.98");
        // A single string is taken as a list of one; the default size is read back too.
        let (out, cart) = add(&menu(), json!({"name": "cola", "quantity": 1, "options": "no ice"}));
        assert_eq!(cart.lines()[0].key.options, ["drink-medium", "ice"]);
        assert_eq!(out["order"]["items"][0]["options"], json!(["Medium", "no ice"]));
        assert_eq!(out["message"], "Added 1 × Cola (Medium, no ice).");
    }

    #[test]
    fn a_missing_required_choice_asks_for_it() {
        let error = error_of(&menu(), json!({"name": "Classic Burger", "quantity": 1, "options": ["no onions"]}));
        assert_eq!(
            error,
            "Nothing was added. The Classic Burger comes in Small, Medium or Large — which size would you like?"
        );
    }

    #[test]
    fn a_sold_out_item_says_so_and_what_the_category_still_has() {
        let menu = sold_out(&["chocolate-shake", "cheeseburger"], &[]);
        assert_eq!(
            error_of(&menu, json!({"name": "shake", "quantity": 1})),
            "Nothing was added. We're out of the Chocolate Shake today."
        );
        assert_eq!(
            error_of(&menu, json!({"name": "Cheeseburger", "quantity": 1, "options": ["ketchup"]})),
            "Nothing was added. We're out of the Cheeseburger today. We still have Double Cheeseburger and Classic Burger."
        );
    }

    #[test]
    fn a_sold_out_option_says_so_and_what_the_group_still_has() {
        let menu = sold_out(&[], &["bacon"]);
        assert_eq!(
            error_of(&menu, json!({"name": "Cheeseburger", "quantity": 1, "options": ["add bacon"]})),
            "Nothing was added. We're out of bacon today. We still have extra cheese and avocado."
        );
        let menu = sold_out(&[], &["drink-large"]);
        assert_eq!(
            error_of(&menu, json!({"name": "Cola", "quantity": 1, "options": ["large"]})),
            "Nothing was added. We're out of Large today. We still have Small and Medium."
        );
    }

    #[test]
    fn an_option_the_item_does_not_have_lists_what_it_has() {
        assert_eq!(
            error_of(&menu(), json!({"name": "Cheeseburger", "quantity": 1, "options": ["ketchup"]})),
            "Nothing was added. The Cheeseburger doesn't come with ketchup. You can choose: no onions, no pickles, \
             no lettuce, no tomato, extra cheese, add bacon or add avocado."
        );
        assert_eq!(
            error_of(&menu(), json!({"name": "Cheeseburger", "quantity": 1, "options": ["no cheese"]})),
            "Nothing was added. The Cheeseburger can't be made without cheese. You can choose: no onions, \
             no pickles, no lettuce, no tomato, extra cheese, add bacon or add avocado."
        );
    }

    #[test]
    fn too_many_options_in_a_group_names_the_limit() {
        let mut menu = menu();
        let burger = menu.items.iter_mut().find(|i| i.id == "cheeseburger").unwrap();
        burger.modifier_groups[1].max = 2;
        burger.modifier_groups[0].max = 1;
        assert_eq!(
            error_of(
                &menu,
                json!({"name": "Cheeseburger", "quantity": 1, "options": ["extra cheese", "bacon", "avocado"]})
            ),
            "Nothing was added. The Cheeseburger takes at most 2 extras (asked: extra cheese, add bacon and add avocado)."
        );
        assert_eq!(
            error_of(&menu, json!({"name": "Cheeseburger", "quantity": 1, "options": ["no onions", "no pickles"]})),
            "Nothing was added. The Cheeseburger can leave out only one thing (asked: no onions and no pickles)."
        );
        assert_eq!(
            error_of(&menu, json!({"name": "Classic Burger", "quantity": 1, "options": ["Small", "Large"]})),
            "Nothing was added. The Classic Burger takes only one size (asked: Small and Large) — which one?"
        );
    }

    #[test]
    fn an_option_that_fits_two_groups_asks_which() {
        let mut menu = menu();
        let burger = menu.items.iter_mut().find(|i| i.id == "cheeseburger").unwrap();
        burger.modifier_groups[0]
            .options
            .push(serde_json::from_value(json!({"id": "no-cheese", "name": "cheese"})).unwrap());
        assert_eq!(
            error_of(&menu, json!({"name": "Cheeseburger", "quantity": 1, "options": ["cheese"]})),
            "Nothing was added. For the Cheeseburger, \"cheese\" could mean no cheese or extra cheese — which one?"
        );
    }

    #[test]
    fn one_problem_adds_nothing_and_says_what_else_was_fine() {
        let menu = menu();
        let mut cart = Cart::new();
        let o = run_call(
            "add_to_order",
            r#"{"items":[{"name":"Cola","quantity":1},{"name":"Classic Burger","quantity":1}]}"#,
            &menu,
            &mut cart,
            false,
        );
        assert!(!o.cart_changed);
        assert!(cart.is_empty(), "all or nothing");
        let error = output(&o)["error"].as_str().unwrap().to_string();
        assert!(error.starts_with("Nothing was added. The Classic Burger comes in"), "{error}");
        assert!(error.ends_with("add everything again (1 × Cola (Medium) could be added as asked)."), "{error}");
    }

    #[test]
    fn a_flood_of_unknown_allergies_is_named_back_a_few_times_only() {
        let words: Vec<String> = (0..2_000).map(|i| format!("fruit{i}")).collect();
        let (out, cart) = add(&menu(), json!({"name": "Large Fries", "quantity": 1, "allergies": words}));
        assert_eq!(out["ok"], true, "{out}");
        assert_eq!(cart.lines().len(), 1);
        let warnings = out["warnings"].as_array().unwrap();
        assert!(warnings.len() <= MAX_UNKNOWN_ALLERGIES, "{} warnings", warnings.len());
        assert!(out.to_string().len() < 4_096, "the answer stays small: {} bytes", out.to_string().len());
    }

    #[test]
    fn allergies_are_recorded_on_the_line_and_an_allergen_in_the_item_is_a_warning() {
        let (out, cart) =
            add(&menu(), json!({"name": "Cheeseburger", "quantity": 1, "allergies": ["milk", "peanuts"]}));
        assert_eq!(out["ok"], true);
        assert_eq!(cart.lines()[0].allergies(), [Allergen::Dairy, Allergen::Peanuts]);
        assert_eq!(out["order"]["items"][0]["allergies"], json!(["dairy", "peanuts"]));
        assert_eq!(
            out["warnings"],
            json!([
                "The Cheeseburger contains dairy — the customer flagged this allergy: tell them before they confirm."
            ])
        );
        let (out, _) = add(&menu(), json!({"name": "Large Fries", "quantity": 1, "allergies": ["sesame"]}));
        assert!(out.get("warnings").is_none(), "the fries have no sesame: {out}");
    }

    #[test]
    fn an_allergy_the_kiosk_cannot_record_is_sent_to_staff_and_the_call_still_succeeds() {
        let (out, cart) = add(&menu(), json!({"name": "Cola", "quantity": 1, "allergies": ["kiwi", "soy"]}));
        assert_eq!(out["ok"], true);
        assert_eq!(cart.lines()[0].allergies(), [Allergen::Soy], "the unknown word is not recorded");
        let warnings = out["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1);
        let warning = warnings[0].as_str().unwrap();
        assert!(warning.contains("speak to a member of staff about \"kiwi\""), "{warning}");
    }

    #[test]
    fn the_summary_has_each_line_and_the_estimated_totals() {
        let mut menu = menu();
        menu.tax = TaxRule { rate_millipercent: 10_000, inclusive: false };
        let mut cart = Cart::new();
        run_call(
            "add_to_order",
            r#"{"items":[{"name":"Cheeseburger","quantity":1,"options":["no pickles","extra cheese"],"allergies":["sesame"],"special_instructions":"well done"}]}"#,
            &menu,
            &mut cart,
            false,
        );
        let o = run_call("confirm_order", r#"{"action":"review"}"#, &menu, &mut cart, false);
        let order = &output(&o)["order"];
        assert_eq!(
            order["items"][0],
            json!({"name": "Cheeseburger", "quantity": 1, "options": ["no pickles", "extra cheese"],
                   "allergies": ["sesame"], "special_instructions": "well done", "line_total": "$9.74"})
        );
        assert_eq!((order["subtotal"].as_str(), order["tax"].as_str()), (Some("$9.74"), Some("$0.97")));
        assert_eq!(order["total"], "$10.71");
        assert_eq!(order["total_is_estimate"], true);
    }

    #[test]
    fn unknown_menu_item_adds_nothing_and_explains() {
        let menu = menu();
        let mut cart = Cart::new();
        let o = run_call(
            "add_to_order",
            r#"{"items":[{"name":"Cola","quantity":1},{"name":"pizza","quantity":1}]}"#,
            &menu,
            &mut cart,
            false,
        );
        assert!(!o.cart_changed);
        assert!(cart.is_empty(), "all or nothing");
        let out = output(&o);
        assert_eq!(out["ok"], false);
        assert!(out["error"].as_str().unwrap().contains("\"pizza\" is not on the menu."));
    }

    #[test]
    fn bad_arguments_json_is_an_error_output() {
        let menu = menu();
        let mut cart = Cart::new();
        for (name, args) in [
            ("add_to_order", "{\"items\":[{\"name\":"),
            ("add_to_order", r#"{"items":[{"name":"Cola","quantity":0}]}"#),
            ("add_to_order", r#"{"items":[{"name":"Cola","quantity":1,"options":[1,2]}]}"#),
            ("add_to_order", r#"{"items":[{"name":"Cola","quantity":1,"allergies":{"a":1}}]}"#),
            ("add_to_order", r#"{"items":[]}"#),
            ("remove_from_order", r#"{"quantity":1}"#),
            ("confirm_order", r#"{"action":"maybe"}"#),
            ("order_pizza", "{}"),
        ] {
            let o = run_call(name, args, &menu, &mut cart, false);
            assert_eq!(output(&o)["ok"], false, "{name} {args}");
            assert!(cart.is_empty());
        }
        let (out, _) = add(&menu, json!({"name": "Cola", "quantity": 1, "options": null, "allergies": null}));
        assert_eq!(out["ok"], true, "null lists are empty lists");
    }

    #[test]
    fn hostile_names_are_clipped_in_the_output() {
        let menu = menu();
        let long = "z".repeat(40_000);
        let mut cart = Cart::new();
        let args = json!({"items": [{"name": long, "quantity": 1}, {"name": "Cola", "quantity": 1,
            "options": [long], "allergies": [long]}]});
        let o = run_call("add_to_order", &args.to_string(), &menu, &mut cart, false);
        assert!(o.output.len() < 2_000, "{} bytes", o.output.len());
        assert!(cart.is_empty());
    }

    #[test]
    fn removing_an_item_not_in_the_order_says_so() {
        let menu = menu();
        let mut cart = Cart::new();
        let o = run_call("remove_from_order", r#"{"name":"big fries"}"#, &menu, &mut cart, false);
        assert_eq!(output(&o)["error"], "Large Fries is not in the order");
    }

    #[test]
    fn removing_an_item_takes_it_whatever_its_options() {
        let menu = menu();
        let mut cart = Cart::new();
        run_call(
            "add_to_order",
            r#"{"items":[{"name":"Cheeseburger","quantity":1},{"name":"Cheeseburger","quantity":2,"options":["no onions"]},{"name":"Cola","quantity":1}]}"#,
            &menu,
            &mut cart,
            false,
        );
        assert_eq!(cart.lines().len(), 3);
        let o = run_call("remove_from_order", r#"{"name":"cheeseburger","quantity":2}"#, &menu, &mut cart, false);
        assert_eq!(output(&o)["message"], "Removed 2 × Cheeseburger.");
        assert_eq!(cart.quantity_of("cheeseburger"), 1);
        let o = run_call("remove_from_order", r#"{"name":"cheeseburger"}"#, &menu, &mut cart, false);
        assert!(o.cart_changed);
        assert_eq!(cart.quantity_of("cheeseburger"), 0);
        assert_eq!(cart.lines().len(), 1);
    }

    #[test]
    fn confirm_order_actions() {
        let menu = menu();
        let mut cart = Cart::new();
        assert_eq!(output(&run_call("confirm_order", r#"{"action":"checkout"}"#, &menu, &mut cart, true))["ok"], false);
        run_call("add_to_order", r#"{"items":[{"name":"cola","quantity":1}]}"#, &menu, &mut cart, false);
        // The first checkout asks; only a checkout after the question places the order.
        let o = run_call("confirm_order", r#"{"action":"checkout"}"#, &menu, &mut cart, false);
        assert_eq!(o.action, Some(OrderAction::Confirm));
        assert_eq!(output(&o)["needs_confirmation"], true);
        assert!(output(&o)["message"].as_str().unwrap().ends_with("Shall I place it?"), "{}", o.output);
        let o = run_call("confirm_order", r#"{"action":"checkout"}"#, &menu, &mut cart, true);
        assert_eq!(o.action, Some(OrderAction::Checkout));
        assert_eq!(output(&o)["placed"], true);
        assert_eq!(
            run_call("confirm_order", r#"{"action":"review"}"#, &menu, &mut cart, false).action,
            Some(OrderAction::Review)
        );
        let o = run_call("confirm_order", r#"{"action":"cancel"}"#, &menu, &mut cart, false);
        assert_eq!((o.action, o.cart_changed), (Some(OrderAction::Cancel), true));
        assert!(cart.is_empty());
    }

    #[test]
    fn arguments_streamed_over_many_deltas_are_joined() {
        let mut acc = CallAccumulator::default();
        acc.named("c1", "add_to_order");
        let args = r#"{"items":[{"name":"Cola","quantity":3}]}"#;
        for ch in args.chars() {
            acc.delta("c1", &ch.to_string());
        }
        assert_eq!(acc.finish("c1", None, String::new()), (Some("add_to_order".into()), args.to_string()));
        let (_, from_done) = acc.finish("c2", Some("x".into()), "{}".into());
        assert_eq!(from_done, "{}");
    }

    #[test]
    fn instructions_list_the_menu_with_prices() {
        let text = instructions(&menu());
        assert!(text.contains("- Cheeseburger (Burgers), $8.99; also called: cheese burger, cheeseburgers"));
    }
}
