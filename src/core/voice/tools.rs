//! The model's tools: their definitions, menu-name matching, streamed-argument accumulation, and
//! running a finished call against the cart. Every call produces a `function_call_output` text the
//! model can read, including when the arguments or the item name are wrong, so it can ask again.

use std::collections::HashMap;

use restaurant_protocol::{Menu, MenuItem};
use serde::Deserialize;
use serde_json::{Value, json};

use restaurant_protocol::format_price;

use crate::core::cart::{Cart, LineRequest};

/// Accumulated arguments per call are capped; the `.done` event carries the full text anyway.
pub const MAX_ARGUMENT_BYTES: usize = 64 * 1024;
/// Calls tracked at once (a response rarely has more than a few).
pub const MAX_OPEN_CALLS: usize = 32;

/// What the customer asked the kiosk to do with the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    /// Submit the order.
    Checkout,
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
            MatchError::Unknown { name } => write!(f, "\"{name}\" is not on the menu"),
            MatchError::Ambiguous { name, candidates } => {
                write!(f, "\"{name}\" could be any of: {}", candidates.join(", "))
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
    pub(crate) fn error(message: String) -> CallOutcome {
        log::warn!("[VoiceTools] call failed: {message}");
        CallOutcome { output: json!({ "ok": false, "error": message }).to_string(), cart_changed: false, action: None }
    }

    fn success(message: String, cart: &Cart, cart_changed: bool, action: Option<OrderAction>) -> CallOutcome {
        let output = json!({ "ok": true, "message": message, "order": cart_summary(cart) }).to_string();
        CallOutcome { output, cart_changed, action }
    }
}

fn cart_summary(cart: &Cart) -> Value {
    let lines: Vec<Value> = cart
        .lines()
        .iter()
        .map(|l| {
            json!({
                "name": l.name,
                "quantity": l.quantity,
                "options": l.options.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
                "special_instructions": l.special_instructions,
                "line_total": format_price(l.line_total_cents()),
            })
        })
        .collect();
    json!({ "items": lines, "total": format_price(cart.subtotal_cents()) })
}

fn default_quantity() -> i64 {
    1
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
    #[serde(default)]
    options: Vec<String>,
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
        .filter(|q| (1..=99).contains(q))
        .ok_or_else(|| format!("{name}: quantity must be between 1 and 99 (got {q})"))
}

/// Runs a finished call against `cart`. Never panics; every failure becomes an error output and
/// leaves the cart unchanged.
pub fn run_call(name: &str, arguments: &str, menu: &[MenuItem], cart: &mut Cart) -> CallOutcome {
    let result = match name {
        "add_to_order" => add_to_order(arguments, menu, cart),
        "remove_from_order" => remove_from_order(arguments, menu, cart),
        "confirm_order" => confirm_order(arguments, cart),
        other => Err(format!("unknown function \"{other}\"")),
    };
    result.unwrap_or_else(CallOutcome::error)
}

fn add_to_order(arguments: &str, menu: &[MenuItem], cart: &mut Cart) -> Result<CallOutcome, String> {
    let args: AddArgs = parse_args("add_to_order", arguments)?;
    if args.items.is_empty() {
        return Err("add_to_order: no items given".into());
    }
    // Applied to a copy so a failure part-way leaves the real cart untouched.
    let mut next = cart.clone();
    let mut problems = Vec::new();
    let mut added = Vec::new();
    for req in &args.items {
        let found = match match_menu_item(menu, &req.name) {
            Ok(m) => m,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        let outcome = quantity(&found.item.name, req.quantity).and_then(|q| {
            let request = LineRequest {
                quantity: q,
                options: req.options.clone(),
                allergies: Vec::new(),
                special_instructions: req.special_instructions.clone(),
            };
            next.add(found.item, &request).map(|_| q).map_err(|e| e.to_string())
        });
        match outcome {
            Ok(q) => added.push(format!("{q} × {}", found.item.name)),
            Err(e) => problems.push(e),
        }
    }
    if !problems.is_empty() {
        return Err(format!("nothing was added: {}", problems.join("; ")));
    }
    *cart = next;
    Ok(CallOutcome::success(format!("Added {}.", added.join(", ")), cart, true, None))
}

fn remove_from_order(arguments: &str, menu: &[MenuItem], cart: &mut Cart) -> Result<CallOutcome, String> {
    let args: RemoveArgs = parse_args("remove_from_order", arguments)?;
    let found = match_menu_item(menu, &args.name).map_err(|e| e.to_string())?;
    let q = args.quantity.map(|q| quantity(&found.item.name, q)).transpose()?;
    let removed = cart.remove_item(found.item, q).map_err(|e| e.to_string())?;
    Ok(CallOutcome::success(format!("Removed {removed} × {}.", found.item.name), cart, true, None))
}

fn confirm_order(arguments: &str, cart: &mut Cart) -> Result<CallOutcome, String> {
    let args: ConfirmArgs = parse_args("confirm_order", arguments)?;
    match args.action.as_str() {
        "checkout" if cart.is_empty() => Err("the order is empty; nothing to check out".into()),
        "checkout" => {
            Ok(CallOutcome::success("Submitting the order.".into(), cart, false, Some(OrderAction::Checkout)))
        }
        "review" => {
            Ok(CallOutcome::success("Showing the order on screen.".into(), cart, false, Some(OrderAction::Review)))
        }
        "cancel" => {
            cart.clear();
            Ok(CallOutcome::success("The order was cancelled.".into(), cart, true, Some(OrderAction::Cancel)))
        }
        other => Err(format!("confirm_order: unknown action \"{other}\" (use checkout, review or cancel)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::menu_fixture;

    fn output(o: &CallOutcome) -> Value {
        serde_json::from_str(&o.output).unwrap()
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
        let menu = menu_fixture();
        let mut cart = Cart::new();
        let o = run_call(
            "add_to_order",
            r#"{"items":[{"name":"cheeseburgers","quantity":2,"modifiers":["no onions"]},{"name":"Large Fries","quantity":1}]}"#,
            &menu,
            &mut cart,
        );
        assert!(o.cart_changed);
        assert_eq!(cart.subtotal_cents(), 2 * 899 + 449);
        let out = output(&o);
        assert_eq!(out["ok"], true);
        assert_eq!(out["order"]["total"], "$22.47");
    }

    #[test]
    fn unknown_menu_item_adds_nothing_and_explains() {
        let menu = menu_fixture();
        let mut cart = Cart::new();
        let o = run_call(
            "add_to_order",
            r#"{"items":[{"name":"Cola","quantity":1},{"name":"pizza","quantity":1}]}"#,
            &menu,
            &mut cart,
        );
        assert!(!o.cart_changed);
        assert!(cart.is_empty(), "all or nothing");
        let out = output(&o);
        assert_eq!(out["ok"], false);
        assert!(out["error"].as_str().unwrap().contains("\"pizza\" is not on the menu"));
    }

    #[test]
    fn bad_arguments_json_is_an_error_output() {
        let menu = menu_fixture();
        let mut cart = Cart::new();
        for (name, args) in [
            ("add_to_order", "{\"items\":[{\"name\":"),
            ("add_to_order", r#"{"items":[{"name":"Cola","quantity":0}]}"#),
            ("remove_from_order", r#"{"quantity":1}"#),
            ("confirm_order", r#"{"action":"maybe"}"#),
            ("order_pizza", "{}"),
        ] {
            let o = run_call(name, args, &menu, &mut cart);
            assert_eq!(output(&o)["ok"], false, "{name} {args}");
            assert!(cart.is_empty());
        }
    }

    #[test]
    fn removing_an_item_not_in_the_order_says_so() {
        let menu = menu_fixture();
        let mut cart = Cart::new();
        let o = run_call("remove_from_order", r#"{"name":"big fries"}"#, &menu, &mut cart);
        assert_eq!(output(&o)["error"], "Large Fries is not in the order");
    }

    #[test]
    fn confirm_order_actions() {
        let menu = menu_fixture();
        let mut cart = Cart::new();
        assert_eq!(output(&run_call("confirm_order", r#"{"action":"checkout"}"#, &menu, &mut cart))["ok"], false);
        run_call("add_to_order", r#"{"items":[{"name":"cola","quantity":1}]}"#, &menu, &mut cart);
        let o = run_call("confirm_order", r#"{"action":"checkout"}"#, &menu, &mut cart);
        assert_eq!(o.action, Some(OrderAction::Checkout));
        assert_eq!(
            run_call("confirm_order", r#"{"action":"review"}"#, &menu, &mut cart).action,
            Some(OrderAction::Review)
        );
        let o = run_call("confirm_order", r#"{"action":"cancel"}"#, &menu, &mut cart);
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
        let text = instructions(&Menu { items: menu_fixture(), tax: Default::default() });
        assert!(text.contains("- Cheeseburger (Burgers), $8.99; also called: cheese burger, cheeseburgers"));
    }
}
