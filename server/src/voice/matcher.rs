//! Turns a transcript into a call of one of the kiosk's tools, matching words against the menu:
//! item names and aliases, and the options of each item's groups ("a large cola", "a
//! cheeseburger with no onions and bacon").

use std::collections::HashMap;

use restaurant_protocol::{MenuItem, ModifierKind};
use serde_json::{Value, json};

use super::speech::grammar::spoken_words;

/// A change to the last line said ("actually make that two", "make it a large").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The line's new quantity.
    Quantity(u32),
    /// A choice replacing the line's choice in the same group: what the tool call says for it.
    Choice { said: String, group: String },
}

/// A tool call the peer makes for an utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub name: &'static str,
    /// The JSON arguments object.
    pub arguments: Value,
}

/// One matched order line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    name: String,
    quantity: u32,
    /// Options by name, as the kiosk's tool takes them ("Large", "no onions", "add bacon").
    options: Vec<String>,
}

/// One way of saying an option of an item.
#[derive(Debug, Clone)]
struct OptionPhrase {
    words: Vec<String>,
    kind: ModifierKind,
    /// The option's group (its id).
    group: String,
    /// What the tool call says for it.
    said: String,
}

/// Menu phrases (names and aliases) in normalized word form.
pub struct Matcher {
    /// `(words, menu item name)`, longest phrases first.
    phrases: Vec<(Vec<String>, String)>,
    names: Vec<String>,
    /// Per item name: its options' names, aliases and ids as phrases, longest first.
    options: HashMap<String, Vec<OptionPhrase>>,
}

const REMOVE_WORDS: [&str; 4] = ["remove", "delete", "cancel", "drop"];
/// Normalized: "that's it" is "that it", "that'll be all" is "thatll be all".
const CHECKOUT_PHRASES: [&str; 14] = [
    "checkout",
    "check out",
    "that all",
    "thats all",
    "that is all",
    "that it",
    "that everything",
    "thatll be all",
    "that will be all",
    "nothing else",
    "im finished",
    "ready to pay",
    "pay",
    "place the order",
];
const REVIEW_PHRASES: [&str; 4] = ["review", "read back", "what in my order", "whats in my order"];
const CANCEL_PHRASES: [&str; 3] = ["cancel the order", "cancel my order", "cancel everything"];
/// A yes to "Shall I place it?" (normalized: "that's right" is "that right", "sounds" is "sound").
const YES_PHRASES: [&str; 10] =
    ["yes", "yeah", "yep", "yup", "sure", "go ahead", "place it", "that right", "correct", "sound good"];
/// A no: "no", "not yet", "wait", "don't". Any of them also keeps a yes from counting ("not sure").
const NO_PHRASES: [&str; 8] = ["no", "nope", "nah", "not", "dont", "wait", "hold on", "stop"];
/// Words that take the next word off the current line ("no onions").
const WITHOUT_WORDS: [&str; 2] = ["no", "without"];
/// Words that add the next word to the current line ("extra bacon", "with cheese").
const WITH_WORDS: [&str; 3] = ["extra", "add", "with"];

/// What the tool call says for an option: a choice by its name ("Large"), a removal as
/// "no <name>", an addition as "add <name>" (or its name when that already says "extra …").
fn said(kind: ModifierKind, name: &str) -> String {
    match kind {
        ModifierKind::Choice => name.to_string(),
        ModifierKind::Remove => format!("no {name}"),
        ModifierKind::Add if name.to_lowercase().starts_with("extra ") => name.to_string(),
        ModifierKind::Add => format!("add {name}"),
    }
}

impl Matcher {
    pub fn new(menu: &[MenuItem]) -> Matcher {
        let mut phrases: Vec<(Vec<String>, String)> = menu
            .iter()
            .flat_map(|item| {
                std::iter::once(&item.name).chain(item.aliases.iter()).map(|p| (words(p), item.name.clone()))
            })
            .filter(|(w, _)| !w.is_empty())
            .collect();
        phrases.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        let options = menu
            .iter()
            .map(|item| {
                let mut said_as: Vec<OptionPhrase> = item
                    .modifier_groups
                    .iter()
                    .flat_map(|group| group.options.iter().map(move |o| (group, o)))
                    .flat_map(|(group, o)| {
                        let said = said(group.kind, &o.name);
                        let (kind, group) = (group.kind, group.id.clone());
                        std::iter::once(o.name.clone())
                            .chain(o.aliases.iter().cloned())
                            .chain(std::iter::once(o.id.replace('-', " ")))
                            // Digits as they are said: "4 pieces" is also "four pieces".
                            .flat_map(|p| [spoken_words(&p).join(" "), p])
                            .map(move |p| OptionPhrase {
                                words: words(&p),
                                kind,
                                group: group.clone(),
                                said: said.clone(),
                            })
                    })
                    .filter(|p| !p.words.is_empty())
                    .collect();
                said_as.sort_by_key(|p| std::cmp::Reverse(p.words.len()));
                (item.name.clone(), said_as)
            })
            .collect();
        Matcher { phrases, names: menu.iter().map(|i| i.name.clone()).collect(), options }
    }

    /// The tool call for `transcript`, or `None` when it asks for nothing the menu knows.
    /// `cart` lists the names ordered so far in this conversation; a vague removal
    /// ("remove the fries") picks from it first.
    pub fn match_utterance(&self, transcript: &str, cart: &[String]) -> Option<ToolCall> {
        let w = words(transcript);
        let removing = w.iter().any(|x| REMOVE_WORDS.contains(&x.as_str())) || contains_phrase(&w, &["take off"]);
        if contains_phrase(&w, &CANCEL_PHRASES) {
            return Some(confirm("cancel"));
        }
        if removing {
            return self.removal(&w, cart);
        }
        let lines = self.lines(&w);
        if !lines.is_empty() {
            let items: Vec<Value> = lines
                .into_iter()
                .map(|l| json!({"name": l.name, "quantity": l.quantity, "options": l.options}))
                .collect();
            return Some(ToolCall { name: "add_to_order", arguments: json!({ "items": items }) });
        }
        if contains_phrase(&w, &REVIEW_PHRASES) {
            return Some(confirm("review"));
        }
        if contains_phrase(&w, &CHECKOUT_PHRASES) || w.iter().any(|x| x == "done") {
            return Some(confirm("checkout"));
        }
        // A yes to "Shall I place it?" is a checkout: the kiosk places the order if it asked,
        // or asks first. A no never is.
        if contains_phrase(&w, &YES_PHRASES) && !contains_phrase(&w, &NO_PHRASES) {
            return Some(confirm("checkout"));
        }
        None
    }

    /// Whether `transcript` only declines ("no", "not yet", "wait"): no tool call, and the peer
    /// asks what to change. Anything [`Matcher::match_utterance`] matches is not a decline.
    pub fn is_decline(&self, transcript: &str, cart: &[String]) -> bool {
        contains_phrase(&words(transcript), &NO_PHRASES) && self.match_utterance(transcript, cart).is_none()
    }

    /// The checkout a plain "no" ("nope", "no thanks") asks for as the answer to "Anything
    /// else?"; `None` for anything more ("no, wait", "no onions", "not yet").
    pub fn no_more(&self, transcript: &str) -> Option<ToolCall> {
        let w = words(transcript);
        let plain = w.iter().all(|x| {
            matches!(
                x.as_str(),
                "no" | "nope" | "nah" | "thank" | "thanks" | "you" | "um" | "oh" | "okay" | "ok" | "im" | "good"
            )
        });
        (plain && w.iter().any(|x| matches!(x.as_str(), "no" | "nope" | "nah"))).then(|| confirm("checkout"))
    }

    /// A change to a line of `item` ("make it two", "make that a large"), if `transcript` asks
    /// for one.
    pub fn change(&self, transcript: &str, item: &str) -> Option<Change> {
        let w = words(transcript);
        let at = w
            .windows(2)
            .position(|p| p[0] == "make" && matches!(p[1].as_str(), "it" | "that" | "them" | "those" | "thi"))?
            + 2;
        let next = w.get(at)?;
        let article = matches!(next.as_str(), "a" | "an");
        let rest = w.get(at + usize::from(article)..)?;
        // A choice first: "six pieces" is a choice, not a quantity of six.
        let choice = self
            .options
            .get(item)
            .and_then(|all| all.iter().find(|p| p.kind == ModifierKind::Choice && rest.starts_with(&p.words)));
        match choice {
            Some(p) => Some(Change::Choice { said: p.said.clone(), group: p.group.clone() }),
            None if !article => number(next).map(Change::Quantity),
            None => None,
        }
    }

    /// The group of `item`'s option said as `said` (as tool calls say it).
    pub fn group_of(&self, item: &str, said: &str) -> Option<&str> {
        self.options.get(item)?.iter().find(|p| p.said == said).map(|p| p.group.as_str())
    }

    fn removal(&self, w: &[String], cart: &[String]) -> Option<ToolCall> {
        let (name, quantity) = match self.lines(w).into_iter().next() {
            Some(line) => {
                let quantity = explicit_quantity(w, &line_start(w, &self.phrases, &line.name));
                (line.name, quantity)
            }
            None => {
                // No full phrase: a word contained in a name, the cart first ("the fries").
                let pos = w.iter().position(|x| {
                    !is_filler(x)
                        && !is_yes_or_no(x)
                        && number(x).is_none()
                        && !REMOVE_WORDS.contains(&x.as_str())
                        && x != "take"
                        && x != "off"
                })?;
                let contains = |n: &&String| words(n).contains(&w[pos]);
                let name = cart.iter().rev().find(contains).or_else(|| {
                    let mut hits = self.names.iter().filter(contains);
                    match (hits.next(), hits.next()) {
                        (Some(n), None) => Some(n),
                        _ => None,
                    }
                })?;
                (name.clone(), explicit_quantity(w, &Some(pos)))
            }
        };
        let mut arguments = json!({ "name": name });
        if let Some(q) = quantity {
            arguments["quantity"] = json!(q);
        }
        Some(ToolCall { name: "remove_from_order", arguments })
    }

    /// The option of `item` said at `w[at..]` whose kind is one of `kinds`: what to say and how
    /// many words it took.
    fn option_at(&self, item: &str, w: &[String], at: usize, kinds: &[ModifierKind]) -> Option<(String, usize)> {
        let rest = w.get(at..)?;
        self.options
            .get(item)?
            .iter()
            .find(|p| kinds.contains(&p.kind) && rest.starts_with(&p.words))
            .map(|p| (p.said.clone(), p.words.len()))
    }

    /// Every menu phrase in `w`, longest match first at each position, with its quantity and
    /// the options said right before it ("a large cola") and after it ("… with no onions").
    fn lines(&self, w: &[String]) -> Vec<Line> {
        const CHOSEN: [ModifierKind; 2] = [ModifierKind::Choice, ModifierKind::Add];
        let mut lines: Vec<Line> = Vec::new();
        // Words before this belong to a line already.
        let mut taken = 0;
        let mut i = 0;
        while i < w.len() {
            if let Some((phrase, name)) = self.phrases.iter().find(|(p, _)| w[i..].starts_with(p)) {
                let mut start = i;
                let mut options = Vec::new();
                while let Some(p) = self.options.get(name).and_then(|all| {
                    all.iter().find(|p| {
                        CHOSEN.contains(&p.kind) && start >= taken + p.words.len() && w[..start].ends_with(&p.words)
                    })
                }) {
                    options.insert(0, p.said.clone());
                    start -= p.words.len();
                }
                let quantity = start.checked_sub(1).filter(|j| *j >= taken).and_then(|j| number(&w[j])).unwrap_or(1);
                lines.push(Line { name: name.clone(), quantity, options });
                i += phrase.len();
                taken = i;
                continue;
            }
            let Some(line) = lines.last_mut() else {
                i += 1;
                continue;
            };
            let word = w[i].as_str();
            let next = w.get(i + 1).filter(|x| !is_filler(x));
            let found = if WITHOUT_WORDS.contains(&word) && next.is_some() {
                // A removal the item does not have is passed on as said: the kiosk answers it.
                Some(match self.option_at(&line.name, w, i + 1, &[ModifierKind::Remove]) {
                    Some((said, len)) => (said, len + 1),
                    None => (format!("no {}", w[i + 1]), 2),
                })
            } else if WITH_WORDS.contains(&word)
                && let Some((said, len)) = self.option_at(&line.name, w, i + 1, &CHOSEN)
            {
                Some((said, len + 1))
            } else if let Some(found) = self.option_at(&line.name, w, i, &CHOSEN)
                // "… and a large diet coke": a choice right before an item is that item's.
                && !self.phrases.iter().any(|(p, _)| w[i + found.1..].starts_with(p))
            {
                Some(found)
            } else if word == "extra"
                && let Some(what) = next
            {
                Some((format!("extra {what}"), 2))
            } else {
                None
            };
            match found {
                Some((said, len)) => {
                    if !line.options.contains(&said) {
                        line.options.push(said);
                    }
                    i += len;
                    taken = i;
                }
                None => i += 1,
            }
        }
        lines
    }
}

fn confirm(action: &str) -> ToolCall {
    ToolCall { name: "confirm_order", arguments: json!({ "action": action }) }
}

/// Where the phrase for `name` starts in `w`.
fn line_start(w: &[String], phrases: &[(Vec<String>, String)], name: &str) -> Option<usize> {
    (0..w.len()).find(|&i| phrases.iter().any(|(p, n)| n == name && w[i..].starts_with(p)))
}

/// A quantity stated right before position `at` in digits or words ("a"/"the" do not count).
fn explicit_quantity(w: &[String], at: &Option<usize>) -> Option<u32> {
    let j = at.and_then(|i| i.checked_sub(1))?;
    if matches!(w[j].as_str(), "a" | "an") { None } else { number(&w[j]) }
}

fn contains_phrase(w: &[String], phrases: &[&str]) -> bool {
    let padded = format!(" {} ", w.join(" "));
    phrases.iter().any(|p| padded.contains(&format!(" {p} ")))
}

fn is_filler(w: &str) -> bool {
    matches!(w, "the" | "a" | "an" | "my" | "of" | "please" | "that" | "those" | "this" | "these" | "one" | "all")
}

/// A word that answers rather than names something ("yes, remove the fries").
fn is_yes_or_no(w: &str) -> bool {
    matches!(
        w,
        "yes" | "yeah" | "yep" | "yup" | "sure" | "ok" | "okay" | "no" | "nope" | "nah" | "not" | "dont" | "wait"
    )
}

/// `one`..`twelve`, digits 1..=99, `a`/`an` = 1.
fn number(w: &str) -> Option<u32> {
    const WORDS: [&str; 12] =
        ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];
    if matches!(w, "a" | "an") {
        return Some(1);
    }
    if let Some(i) = WORDS.iter().position(|x| *x == w) {
        return Some(i as u32 + 1);
    }
    w.parse::<u32>().ok().filter(|n| (1..=99).contains(n))
}

/// Lower-case words without punctuation; apostrophes vanish ("that's" → "thats"); a plural `s`
/// is dropped so "cheeseburgers" and "Cheeseburger" meet.
fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .replace(['\'', '’'], "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| match w.strip_suffix('s') {
            Some(stem) if w.len() > 3 && !stem.ends_with('s') && stem != "thi" => stem.to_string(),
            _ => w.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> Matcher {
        let menu: restaurant_protocol::Menu =
            serde_json::from_str(include_str!("../../menu.json")).expect("menu.json parses");
        Matcher::new(&menu.items)
    }

    fn call(text: &str) -> Option<ToolCall> {
        matcher().match_utterance(text, &[])
    }

    #[test]
    fn numbers_and_plurals_become_add_to_order_lines() {
        let c = call("Two cheeseburgers and a large fries").unwrap();
        assert_eq!(c.name, "add_to_order");
        assert_eq!(
            c.arguments,
            json!({"items": [
                {"name": "Cheeseburger", "quantity": 2, "options": []},
                {"name": "Large Fries", "quantity": 1, "options": []},
            ]})
        );
    }

    #[test]
    fn longest_phrase_wins_and_digits_count() {
        let c = call("3 double cheeseburgers, twelve cokes").unwrap();
        assert_eq!(c.arguments["items"][0], json!({"name": "Double Cheeseburger", "quantity": 3, "options": []}));
        assert_eq!(c.arguments["items"][1], json!({"name": "Cola", "quantity": 12, "options": []}));
    }

    #[test]
    fn aliases_match_and_default_quantity_is_one() {
        let c = call("I'd like a vanilla shake and chicken fingers").unwrap();
        let names: Vec<_> = c.arguments["items"].as_array().unwrap().iter().map(|i| i["name"].clone()).collect();
        assert_eq!(names, vec![json!("Vanilla Shake"), json!("Chicken Tenders")]);
        assert_eq!(c.arguments["items"][1]["quantity"], 1);
    }

    #[test]
    fn options_attach_to_the_preceding_item_by_their_names() {
        let c = call("a cheeseburger with no onions and extra bacon").unwrap();
        assert_eq!(c.arguments["items"][0]["options"], json!(["no onions", "add bacon"]));
        let c = call("a cheeseburger without tomatoes, with cheese and avocado").unwrap();
        assert_eq!(c.arguments["items"][0]["options"], json!(["no tomato", "extra cheese", "add avocado"]));
        // Something the item does not have is passed on as said: the kiosk's tool answers it.
        let c = call("a cheeseburger with no ketchup and extra pickles").unwrap();
        assert_eq!(c.arguments["items"][0]["options"], json!(["no ketchup", "extra pickle"]));
    }

    #[test]
    fn choices_are_heard_before_or_after_the_item() {
        let c = call("two large colas and a classic burger medium with bacon").unwrap();
        assert_eq!(
            c.arguments["items"],
            json!([
                {"name": "Cola", "quantity": 2, "options": ["Large"]},
                {"name": "Classic Burger", "quantity": 1, "options": ["Medium", "add bacon"]},
            ])
        );
        let c = call("six piece chicken tenders with bbq and a lemonade no ice").unwrap();
        assert_eq!(
            c.arguments["items"],
            json!([
                {"name": "Chicken Tenders", "quantity": 1, "options": ["6 pieces", "BBQ"]},
                {"name": "Lemonade", "quantity": 1, "options": ["no ice"]},
            ])
        );
        // A word that is no option of the item is not one ("large" is no size of a cheeseburger).
        let c = call("a large cheeseburger").unwrap();
        assert_eq!(c.arguments["items"], json!([{"name": "Cheeseburger", "quantity": 1, "options": []}]));
    }

    #[test]
    fn vague_removal_picks_the_item_from_the_cart() {
        let m = matcher();
        let cart = vec!["Cheeseburger".to_string(), "Large Fries".to_string()];
        let c = m.match_utterance("remove the fries", &cart).unwrap();
        assert_eq!(c, ToolCall { name: "remove_from_order", arguments: json!({"name": "Large Fries"}) });
    }

    #[test]
    fn removal_with_a_quantity_and_a_full_name() {
        let c = call("take off two cheeseburgers").unwrap();
        assert_eq!(c.arguments, json!({"name": "Cheeseburger", "quantity": 2}));
        assert_eq!(call("remove a cola").unwrap().arguments, json!({"name": "Cola"}));
    }

    #[test]
    fn ambiguous_removal_outside_the_cart_matches_nothing() {
        assert_eq!(call("remove the fries"), None);
    }

    #[test]
    fn confirmations() {
        assert_eq!(call("that's all, checkout").unwrap(), confirm("checkout"));
        assert_eq!(call("I'm done").unwrap(), confirm("checkout"));
        for done in ["that's it", "that's everything", "that'll be all", "nothing else thanks", "I'm finished"] {
            assert_eq!(call(done), Some(confirm("checkout")), "{done}");
        }
        assert_eq!(call("can you review my order").unwrap(), confirm("review"));
        assert_eq!(call("cancel my order").unwrap(), confirm("cancel"));
    }

    #[test]
    fn a_spoken_yes_is_a_checkout() {
        for yes in [
            "yes",
            "Yes please.",
            "yeah",
            "yep!",
            "sure",
            "Go ahead",
            "place it",
            "That's right",
            "correct",
            "yes, go ahead and place it",
            "Yeah, that's right.",
            "sounds good",
        ] {
            assert_eq!(call(yes), Some(confirm("checkout")), "{yes}");
            assert!(!matcher().is_decline(yes, &[]), "{yes}");
        }
    }

    #[test]
    fn a_yes_that_names_items_still_adds_them() {
        let c = call("yes and a cola").unwrap();
        assert_eq!(
            c,
            ToolCall {
                name: "add_to_order",
                arguments: json!({"items": [{"name": "Cola", "quantity": 1, "options": []}]})
            }
        );
        assert_eq!(call("yeah, two cheeseburgers please").unwrap().name, "add_to_order");
        // Other intents keep their meaning after a yes.
        assert_eq!(call("yes, cancel my order"), Some(confirm("cancel")));
        assert_eq!(call("yes, what's in my order"), Some(confirm("review")));
        let m = matcher();
        let cart = vec!["Large Fries".to_string()];
        assert_eq!(m.match_utterance("yes remove the fries", &cart).unwrap().name, "remove_from_order");
    }

    #[test]
    fn a_spoken_no_is_no_tool_call_but_a_decline() {
        let m = matcher();
        for no in [
            "no",
            "No.",
            "not yet",
            "wait",
            "Wait!",
            "nope",
            "no, not yet",
            "hold on",
            "don't place it",
            "yes... no, wait",
        ] {
            assert_eq!(m.match_utterance(no, &[]), None, "{no}");
            assert!(m.is_decline(no, &[]), "{no}");
        }
        // A negation keeps a yes word from counting; "not sure" is no yes.
        assert_eq!(call("I'm not sure"), None);
        assert_eq!(call("that's not correct"), None);
        // A no with an item, a removal or "that's all" is what it asks for, not a decline.
        assert_eq!(call("no, a cola").unwrap().name, "add_to_order");
        assert!(!m.is_decline("no, a cola", &[]));
        assert_eq!(call("no, that's all"), Some(confirm("checkout")));
        assert!(!m.is_decline("no, that's all", &[]));
        let cart = vec!["Large Fries".to_string()];
        assert!(!m.is_decline("no, remove the fries", &cart));
        // Neither a yes nor a no.
        assert!(!m.is_decline("hello there", &[]) && !m.is_decline("", &[]));
    }

    #[test]
    fn a_plain_no_is_no_more_and_anything_more_is_not() {
        let m = matcher();
        for no in ["no", "No.", "nope", "nah", "no thanks", "no, thank you", "um, no", "no, I'm good"] {
            assert_eq!(m.no_more(no), Some(confirm("checkout")), "{no}");
        }
        for not in ["not yet", "no, wait", "hold on", "no onions", "no, a cola", "yes", "", "thanks"] {
            assert_eq!(m.no_more(not), None, "{not}");
        }
    }

    #[test]
    fn a_choice_before_the_next_item_is_that_item_s() {
        let c = call("a small iced tea and a large diet coke").unwrap();
        assert_eq!(
            c.arguments,
            json!({"items": [
                {"name": "Iced Tea", "quantity": 1, "options": ["Small"]},
                {"name": "Diet Cola", "quantity": 1, "options": ["Large"]}
            ]})
        );
        // After the item, it is still the item's own.
        let c = call("an iced tea large please").unwrap();
        assert_eq!(c.arguments["items"][0]["options"], json!(["Large"]));
    }

    #[test]
    fn changes_to_the_last_line() {
        let m = matcher();
        assert_eq!(m.change("actually make that two", "Cheeseburger"), Some(Change::Quantity(2)));
        assert_eq!(m.change("make it 3 please", "Cola"), Some(Change::Quantity(3)));
        let large = Some(Change::Choice { said: "Large".into(), group: "drink-size".into() });
        assert_eq!(m.change("make that large", "Cola"), large);
        assert_eq!(m.change("no make it a large", "Cola"), large);
        assert_eq!(m.group_of("Cola", "Medium"), Some("drink-size"));
        // Spoken digits meet the menu's: "6 pieces" is said "six pieces" or "six piece".
        assert_eq!(
            m.change("make it six piece", "Chicken Tenders"),
            Some(Change::Choice { said: "6 pieces".into(), group: "pieces".into() })
        );
        // A choice the item does not have, or no "make it", is no change.
        assert_eq!(m.change("make it large", "Cheeseburger"), None);
        assert_eq!(m.change("two please", "Cola"), None);
        assert_eq!(m.change("make it", "Cola"), None);
    }

    #[test]
    fn spoken_numbers_meet_digits_in_option_names() {
        let c = call("a six piece chicken tenders with honey mustard").unwrap();
        assert_eq!(
            c.arguments,
            json!({"items": [{"name": "Chicken Tenders", "quantity": 1, "options": ["6 pieces", "Honey mustard"]}]})
        );
    }

    #[test]
    fn unrelated_or_empty_speech_matches_nothing() {
        assert_eq!(call("what's the weather like"), None);
        assert_eq!(call(""), None);
        assert_eq!(call("!!! ??"), None);
    }
}
