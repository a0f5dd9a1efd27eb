//! Options as a customer says them ("no onions", "extra cheese", "make it large", "pickels") mapped
//! to the option ids of one menu item.
//!
//! A phrase is matched against each option's name and aliases, ignoring case, punctuation,
//! articles and plural endings. A verb tells the group kind: "no", "without", "hold the" mean a
//! `remove` group, "add", "extra", "with" an `add` group (then a `choice` group); a phrase without
//! one may match any group, and when it matches options of different groups the customer must say
//! which. Words of five letters or more tolerate a small mishearing.

use std::fmt;

use restaurant_protocol::menu::MAX_OPTIONS_PER_LINE;
use restaurant_protocol::{MenuItem, ModifierKind};

use crate::core::text;

/// Longest phrase (in characters) that is matched; longer ones cannot be an option name.
const MAX_PHRASE_CHARS: usize = 120;
/// Longest text echoed back in a message.
const MAX_ECHO_CHARS: usize = 60;

/// Verbs meaning "leave it out", longest first.
const REMOVE_VERBS: &[&[&str]] = &[
    &["leave", "off", "the"],
    &["leave", "out", "the"],
    &["take", "off", "the"],
    &["hold", "the"],
    &["leave", "off"],
    &["leave", "out"],
    &["take", "off"],
    &["skip", "the"],
    &["no", "more"],
    &["no"],
    &["without"],
    &["hold"],
    &["remove"],
    &["minus"],
    &["skip"],
    &["not"],
];

/// Verbs meaning "put it on", longest first.
const ADD_VERBS: &[&[&str]] = &[
    &["add", "extra"],
    &["with", "extra"],
    &["add", "some"],
    &["with", "some"],
    &["add"],
    &["extra"],
    &["with"],
    &["plus"],
];

/// Words around an option name that carry no meaning of their own.
const FILLER_PREFIXES: &[&[&str]] = &[
    &["i", "d", "like"],
    &["i", "want"],
    &["make", "it"],
    &["make", "that"],
    &["make", "them"],
    &["please"],
    &["and"],
    &["a"],
    &["an"],
    &["the"],
    &["some"],
];
const FILLER_SUFFIXES: &[&[&str]] =
    &[&["please"], &["size"], &["sized"], &["one"], &["ones"], &["on", "it"], &["on", "top"]];

/// Why the options asked for one item cannot be mapped. The message is for the assistant to pass on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionMismatch {
    /// No option of the item matches `spoken` (for a removal: what was to be left out);
    /// `choices` are the available options as said.
    Unknown { item: String, spoken: String, removing: bool, choices: Vec<String> },
    /// `spoken` fits several options (as said): the customer must say which.
    Ambiguous { item: String, spoken: String, candidates: Vec<String> },
    /// More options than one line can carry.
    TooMany { item: String, count: usize },
}

impl fmt::Display for OptionMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionMismatch::Unknown { item, choices, .. } if choices.is_empty() => {
                write!(f, "The {item} doesn't come with any options.")
            }
            OptionMismatch::Unknown { item, spoken, removing, choices } => {
                if *removing {
                    write!(f, "The {item} can't be made without {spoken}.")?;
                } else {
                    write!(f, "The {item} doesn't come with {spoken}.")?;
                }
                write!(f, " You can choose: {}.", join_list(choices, "or"))
            }
            OptionMismatch::Ambiguous { item, spoken, candidates } => {
                write!(f, "For the {item}, \"{spoken}\" could mean {} — which one?", join_list(candidates, "or"))
            }
            OptionMismatch::TooMany { item, count } => {
                write!(f, "That's too many changes for one {item} ({count}; at most {MAX_OPTIONS_PER_LINE}).")
            }
        }
    }
}

impl std::error::Error for OptionMismatch {}

/// "a", "a or b", "a, b or c".
pub fn join_list<S: AsRef<str>>(items: &[S], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [rest @ .., last] => {
            let rest: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{} {conjunction} {}", rest.join(", "), last.as_ref())
        }
    }
}

/// At most [`MAX_ECHO_CHARS`] of `text`, trimmed, for messages that quote what was said.
pub fn clip(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_ECHO_CHARS {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(MAX_ECHO_CHARS).collect();
        cut.push('…');
        cut
    }
}

/// Words (letters and digits) in the form they are compared in ([`text::fold`]), everything else
/// a separator.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(text::fold).collect()
}

/// The form two words are compared by: a plural ending dropped ("onions" → "onion", "tomatoes" →
/// "tomato"), and a final "y" with "ies" ("berries" and "berry" → "berr").
fn stem(word: &str) -> &str {
    let n = word.chars().count();
    if n > 4 && word.ends_with("ies") {
        return &word[..word.len() - 3];
    }
    for ending in ["oes", "ches", "shes", "sses", "xes"] {
        if n > ending.len() + 1 && word.ends_with(ending) {
            return &word[..word.len() - 2];
        }
    }
    if n > 3 && word.ends_with('s') && !word.ends_with("ss") {
        return &word[..word.len() - 1];
    }
    if n > 2 && word.ends_with('y') {
        return &word[..word.len() - 1];
    }
    word
}

/// Optimal string alignment distance (a swap of two neighbours counts one), or `None` when it
/// exceeds `max`.
fn distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best =
                (d[(i - 1) * width + j] + 1).min(d[i * width + j - 1] + 1).min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    let result = d[a.len() * width + b.len()];
    (result <= max).then_some(result)
}

/// How far a heard word may be from an option's word: none below five letters, one edit up to
/// seven, two from eight.
fn tolerance(option_word: &str) -> usize {
    match option_word.chars().count() {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    }
}

/// The cost of hearing `heard` for `option` word by word (0 = same stems), or `None`.
fn word_cost(heard: &str, option: &str) -> Option<usize> {
    if stem(heard) == stem(option) {
        return Some(0);
    }
    let max = tolerance(option);
    if max == 0 || heard.chars().count() < 4 || heard.chars().count() > 40 {
        return None;
    }
    let whole = distance(heard, option, max);
    let stems = distance(stem(heard), stem(option), max);
    match (whole, stems) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn strip_prefix<'a>(w: &'a [String], lists: &[&[&str]]) -> Option<&'a [String]> {
    lists.iter().find_map(|p| {
        let matches = w.len() > p.len() && w.iter().zip(p.iter()).all(|(a, b)| a == b);
        matches.then(|| &w[p.len()..])
    })
}

fn strip_suffix<'a>(w: &'a [String], lists: &[Vec<String>]) -> Option<&'a [String]> {
    // An empty suffix (a name or alias with no letters or digits) strips nothing: it must never
    // count as a match, or `parse` would loop forever.
    lists.iter().filter(|s| !s.is_empty()).find_map(|s| {
        let matches = w.len() > s.len() && w[w.len() - s.len()..] == s[..];
        matches.then(|| &w[..w.len() - s.len()])
    })
}

/// What a phrase says: the group kind its verb points at, and the words naming the option.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Phrase {
    verb: Option<ModifierKind>,
    core: Vec<String>,
}

/// Strips fillers, verbs (a "remove" verb wins over an "add" one: "with no onions") and the
/// trailing `suffixes` (e.g. the item's own name: "large coke").
fn parse(words: &[String], suffixes: &[Vec<String>]) -> Phrase {
    let mut w = words;
    let mut verb = None;
    loop {
        if let Some(rest) = strip_prefix(w, FILLER_PREFIXES) {
            w = rest;
        } else if let Some(rest) = strip_prefix(w, REMOVE_VERBS) {
            verb = Some(ModifierKind::Remove);
            w = rest;
        } else if let Some(rest) = strip_prefix(w, ADD_VERBS) {
            if verb.is_none() {
                verb = Some(ModifierKind::Add);
            }
            w = rest;
        } else if let Some(rest) = strip_suffix(w, suffixes) {
            w = rest;
        } else {
            break;
        }
    }
    Phrase { verb, core: w.to_vec() }
}

fn filler_suffixes() -> Vec<Vec<String>> {
    FILLER_SUFFIXES.iter().map(|s| s.iter().map(|w| (*w).to_string()).collect()).collect()
}

/// How the customer says an option of a group of `kind` ("no onions", "add bacon", "Large").
pub fn spoken_option(kind: ModifierKind, name: &str) -> String {
    let phrase = parse(&words(name), &[]);
    match kind {
        ModifierKind::Remove if phrase.verb != Some(ModifierKind::Remove) => format!("no {name}"),
        ModifierKind::Add if phrase.verb.is_none() => format!("add {name}"),
        _ => name.to_string(),
    }
}

/// The item's available options, as said.
pub fn spoken_choices(item: &MenuItem) -> Vec<String> {
    item.modifier_groups
        .iter()
        .flat_map(|g| g.options.iter().filter(|o| o.available).map(|o| spoken_option(g.kind, &o.name)))
        .collect()
}

/// One option of the item: group and option index, its kind and its names parsed.
struct Candidate<'a> {
    at: (usize, usize),
    kind: ModifierKind,
    id: &'a str,
    spoken: String,
    /// Each name and alias: all its words, and its core.
    keys: Vec<(Vec<String>, Vec<String>)>,
}

fn candidates(item: &MenuItem) -> Vec<Candidate<'_>> {
    let mut all = Vec::new();
    for (gi, group) in item.modifier_groups.iter().enumerate() {
        for (oi, option) in group.options.iter().enumerate() {
            let keys = std::iter::once(&option.name)
                .chain(option.aliases.iter())
                .map(|name| {
                    let w = words(name);
                    let core = parse(&w, &filler_suffixes()).core;
                    (w, core)
                })
                .filter(|(w, _)| !w.is_empty())
                .collect();
            all.push(Candidate {
                at: (gi, oi),
                kind: group.kind,
                id: &option.id,
                spoken: spoken_option(group.kind, &option.name),
                keys,
            });
        }
    }
    all
}

/// The options one phrase means: exactly one, several (ambiguous) or none.
enum Found<'c, 'a> {
    One(&'c Candidate<'a>),
    Several(Vec<&'c Candidate<'a>>),
    None,
}

/// The cheapest hits. Several in one group are settled by a name said in full ("extra cheese"
/// beside "cheese"); hits in different groups never are.
fn pick<'c, 'a>(mut hits: Vec<(usize, &'c Candidate<'a>)>, heard: &[String]) -> Found<'c, 'a> {
    let Some(best) = hits.iter().map(|(cost, _)| *cost).min() else { return Found::None };
    hits.retain(|(cost, _)| *cost == best);
    let hits: Vec<&Candidate> = hits.into_iter().map(|(_, c)| c).collect();
    if let [one] = hits.as_slice() {
        return Found::One(one);
    }
    let one_group = hits.windows(2).all(|w| w[0].at.0 == w[1].at.0);
    let said_in_full: Vec<&&Candidate> = hits.iter().filter(|c| c.keys.iter().any(|(w, _)| w == heard)).collect();
    match said_in_full.as_slice() {
        [one] if one_group => Found::One(one),
        _ => Found::Several(hits),
    }
}

/// The group kinds a verb may point at, tried in order.
fn passes(verb: Option<ModifierKind>) -> Vec<Vec<ModifierKind>> {
    use ModifierKind::{Add, Choice, Remove};
    match verb {
        Some(Remove) => vec![vec![Remove]],
        Some(Add) => vec![vec![Add], vec![Choice]],
        _ => vec![vec![Choice, Remove, Add]],
    }
}

/// Each candidate of `kinds` whose core matches the phrase's, with its cost (0 = same stems;
/// `fuzzy`: the sum of the words' edit distances).
fn core_hits<'c, 'a>(
    all: &'c [Candidate<'a>],
    kinds: &[ModifierKind],
    phrase: &Phrase,
    fuzzy: bool,
) -> Vec<(usize, &'c Candidate<'a>)> {
    all.iter()
        .filter(|c| kinds.contains(&c.kind))
        .filter_map(|c| {
            let cost = c
                .keys
                .iter()
                .filter(|(_, core)| core.len() == phrase.core.len())
                .filter_map(|(_, core)| {
                    phrase.core.iter().zip(core).try_fold(0, |sum, (h, o)| {
                        let cost = if fuzzy { word_cost(h, o)? } else { (stem(h) == stem(o)).then_some(0)? };
                        Some(sum + cost)
                    })
                })
                .min()?;
            Some((cost, c))
        })
        .collect()
}

/// What one phrase means: the core by the verb's group kinds; the whole phrase as some option's
/// name ("No ice" in a choice group); an option id as it is; then the core again, misheard.
fn find<'c, 'a>(all: &'c [Candidate<'a>], spoken: &str, suffixes: &[Vec<String>]) -> (Found<'c, 'a>, Phrase) {
    let trimmed = spoken.trim();
    let heard = words(trimmed);
    if heard.is_empty() {
        return (Found::None, Phrase::default());
    }
    let phrase = parse(&heard, suffixes);
    for kinds in passes(phrase.verb) {
        match pick(core_hits(all, &kinds, &phrase, false), &heard) {
            Found::None => {}
            found => return (found, phrase),
        }
    }
    let named: Vec<(usize, &Candidate)> =
        all.iter().filter(|c| c.keys.iter().any(|(w, _)| *w == heard)).map(|c| (0, c)).collect();
    if !named.is_empty() {
        return (pick(named, &heard), phrase);
    }
    if let Some(c) = all.iter().find(|c| c.id.eq_ignore_ascii_case(trimmed)) {
        return (Found::One(c), phrase);
    }
    for kinds in passes(phrase.verb) {
        match pick(core_hits(all, &kinds, &phrase, true), &heard) {
            Found::None => {}
            found => return (found, phrase),
        }
    }
    (Found::None, phrase)
}

/// Splits "no onions and pickles" into "no onions", "no pickles" (a part without a verb takes the
/// previous part's). Fewer than two parts: nothing to split.
fn split_list(spoken: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut verb: Vec<String> = Vec::new();
    for piece in spoken.split([',', ';', '&', '/']) {
        for w in words(piece).split(|w| w == "and") {
            if w.is_empty() {
                continue;
            }
            let phrase = parse(w, &[]);
            if phrase.verb.is_some() {
                verb = w[..w.len() - phrase.core.len()].to_vec();
                parts.push(w.join(" "));
            } else {
                parts.push(verb.iter().chain(w.iter()).cloned().collect::<Vec<_>>().join(" "));
            }
        }
    }
    if parts.len() < 2 { Vec::new() } else { parts }
}

/// The option ids `spoken` means on `item`, in the order said, without repeats. An option id is
/// accepted when no name fits. The first phrase that fits no option, or several, is the error.
pub fn map_options(item: &MenuItem, spoken: &[String]) -> Result<Vec<String>, OptionMismatch> {
    if spoken.len() > MAX_OPTIONS_PER_LINE {
        return Err(OptionMismatch::TooMany { item: item.name.clone(), count: spoken.len() });
    }
    let all = candidates(item);
    let mut suffixes = filler_suffixes();
    suffixes.extend(std::iter::once(&item.name).chain(item.aliases.iter()).map(|n| words(n)));
    let mut ids: Vec<String> = Vec::new();
    for said in spoken {
        if said.trim().is_empty() {
            continue;
        }
        let unknown = |phrase: &Phrase| {
            let removing = phrase.verb == Some(ModifierKind::Remove);
            OptionMismatch::Unknown {
                item: item.name.clone(),
                spoken: if removing { clip(&phrase.core.join(" ")) } else { clip(said) },
                removing,
                choices: spoken_choices(item),
            }
        };
        if said.chars().count() > MAX_PHRASE_CHARS {
            log::warn!("[VoiceOptions] {}: option phrase of {} chars refused", item.id, said.chars().count());
            return Err(unknown(&Phrase::default()));
        }
        let (found, phrase) = find(&all, said, &suffixes);
        let mut matched: Vec<&Candidate> = match found {
            Found::One(c) => vec![c],
            Found::Several(several) => {
                return Err(OptionMismatch::Ambiguous {
                    item: item.name.clone(),
                    spoken: clip(said),
                    candidates: several.iter().map(|c| c.spoken.clone()).collect(),
                });
            }
            Found::None => Vec::new(),
        };
        if matched.is_empty() {
            // "no onions and pickles": every part must fit.
            let parts = split_list(said);
            for part in &parts {
                match find(&all, part, &suffixes).0 {
                    Found::One(c) => matched.push(c),
                    _ => {
                        matched.clear();
                        break;
                    }
                }
            }
        }
        if matched.is_empty() {
            log::warn!("[VoiceOptions] {}: no option matches {:?}", item.id, clip(said));
            return Err(unknown(&phrase));
        }
        for c in matched {
            if !ids.iter().any(|id| id == c.id) {
                ids.push(c.id.to_string());
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::menu_fixture;
    use serde_json::json;

    fn item(id: &str) -> MenuItem {
        menu_fixture().into_iter().find(|i| i.id == id).expect("fixture item")
    }

    fn map(item: &MenuItem, spoken: &[&str]) -> Result<Vec<String>, OptionMismatch> {
        map_options(item, &spoken.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    /// A burger with "cheese" both to leave out and to add, and "onions" both ways.
    fn both_ways() -> MenuItem {
        serde_json::from_value(json!({
            "id": "melt", "name": "Patty Melt", "price_cents": 900, "category": "Burgers", "station": "grill",
            "modifier_groups": [
                {"id": "remove", "name": "Remove", "kind": "remove", "max": 3, "options": [
                    {"id": "no-cheese", "name": "cheese"}, {"id": "no-onions", "name": "onions"}]},
                {"id": "extras", "name": "Extras", "kind": "add", "max": 3, "options": [
                    {"id": "extra-cheese", "name": "extra cheese"}, {"id": "grilled-onions", "name": "onions"},
                    {"id": "jalapenos", "name": "jalapeños", "aliases": ["hot peppers"]}]}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn spoken_options_map_to_ids() {
        let cheeseburger = item("cheeseburger");
        let classic = item("classic-burger");
        let cola = item("cola");
        let cases: &[(&MenuItem, &str, &str)] = &[
            // Remove groups: with or without the verb, singular or plural.
            (&cheeseburger, "no onions", "onions"),
            (&cheeseburger, "No Onions", "onions"),
            (&cheeseburger, "no onion", "onions"),
            (&cheeseburger, "without onions", "onions"),
            (&cheeseburger, "hold the pickles", "pickles"),
            (&cheeseburger, "hold the pickle", "pickles"),
            (&cheeseburger, "pickle", "pickles"),
            (&cheeseburger, "onions", "onions"),
            (&cheeseburger, "no tomatoes", "tomato"),
            (&cheeseburger, "with no lettuce", "lettuce"),
            (&cheeseburger, "  no   onions! ", "onions"),
            // Add groups.
            (&cheeseburger, "add bacon", "bacon"),
            (&cheeseburger, "extra bacon", "bacon"),
            (&cheeseburger, "with bacon", "bacon"),
            (&cheeseburger, "bacon", "bacon"),
            (&cheeseburger, "extra cheese", "cheese"),
            (&cheeseburger, "add extra cheese", "cheese"),
            (&cheeseburger, "with cheese", "cheese"),
            (&cheeseburger, "cheese", "cheese"),
            (&cheeseburger, "an avocado", "avocado"),
            // Choice groups.
            (&classic, "Large", "large"),
            (&classic, "large", "large"),
            (&classic, "Large size", "large"),
            (&classic, "make it large", "large"),
            (&classic, "a large", "large"),
            (&classic, "a large one please", "large"),
            (&classic, "large burger", "large"),
            (&cola, "large coke", "drink-large"),
            (&cola, "Small", "drink-small"),
            (&cola, "no ice", "ice"),
            // Mishearings.
            (&cheeseburger, "no pickels", "pickles"),
            (&cheeseburger, "pickels", "pickles"),
            (&cheeseburger, "bacn", "bacon"),
            (&cheeseburger, "add bacoon", "bacon"),
            (&cheeseburger, "extra chese", "cheese"),
            (&cheeseburger, "no onoins", "onions"),
            (&cheeseburger, "avacado", "avocado"),
            (&classic, "medum", "medium"),
            // Option ids.
            (&cola, "drink-large", "drink-large"),
            (&cheeseburger, "Bacon", "bacon"),
        ];
        for (item, said, id) in cases {
            assert_eq!(map(item, &[said]), Ok(vec![id.to_string()]), "{said:?} on {}", item.name);
        }
    }

    #[test]
    fn an_item_named_without_letters_or_digits_still_maps_its_options() {
        let mut odd = item("cheeseburger");
        odd.name = "🍔".into();
        odd.aliases = vec![String::new(), "!!".into()];
        assert_eq!(map(&odd, &["no onions", "extra cheese"]).unwrap(), ["onions", "cheese"]);
    }

    #[test]
    fn several_options_keep_their_order_and_repeats_collapse() {
        let burger = item("classic-burger");
        assert_eq!(map(&burger, &["Large", "no onions", "add bacon"]).unwrap(), ["large", "onions", "bacon"]);
        assert_eq!(map(&burger, &["no onions", "onions", "without onion"]).unwrap(), ["onions"]);
        assert_eq!(map(&burger, &["no onions and pickles"]).unwrap(), ["onions", "pickles"]);
        assert_eq!(map(&burger, &["no onions, no pickles, add bacon"]).unwrap(), ["onions", "pickles", "bacon"]);
        assert_eq!(map(&burger, &[]).unwrap(), Vec::<String>::new());
        assert_eq!(map(&burger, &["", "  "]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn unknown_options_name_what_the_item_has() {
        let cheeseburger = item("cheeseburger");
        let err = map(&cheeseburger, &["ketchup"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "The Cheeseburger doesn't come with ketchup. You can choose: no onions, no pickles, no lettuce, \
             no tomato, extra cheese, add bacon or add avocado."
        );
        let fries = item("fries-large");
        assert_eq!(
            map(&fries, &["no salt"]).unwrap_err().to_string(),
            "The Large Fries doesn't come with any options."
        );
    }

    #[test]
    fn a_verb_never_lands_in_the_wrong_kind_of_group() {
        let cheeseburger = item("cheeseburger");
        // "cheese" is only something to add here: leaving it out is not an option.
        let err = map(&cheeseburger, &["no cheese"]).unwrap_err();
        assert!(matches!(&err, OptionMismatch::Unknown { removing: true, .. }), "{err:?}");
        assert!(err.to_string().starts_with("The Cheeseburger can't be made without cheese."), "{err}");
        // Onions can only be left out.
        let err = map(&cheeseburger, &["extra onions"]).unwrap_err();
        assert!(err.to_string().starts_with("The Cheeseburger doesn't come with extra onions."), "{err}");
        assert!(map(&cheeseburger, &["add pickels"]).is_err(), "no fuzzy match across kinds");
        assert!(map(&item("cola"), &["add ice"]).is_err());
        // A size is not something to remove.
        assert!(map(&item("classic-burger"), &["no large"]).is_err());
    }

    #[test]
    fn a_phrase_that_fits_options_of_different_groups_asks_which() {
        let melt = both_ways();
        let err = map(&melt, &["cheese"]).unwrap_err();
        assert_eq!(err.to_string(), "For the Patty Melt, \"cheese\" could mean no cheese or extra cheese — which one?");
        assert!(matches!(map(&melt, &["onions"]), Err(OptionMismatch::Ambiguous { .. })));
        assert!(matches!(map(&melt, &["chese"]), Err(OptionMismatch::Ambiguous { .. })), "misheard too");
        // The verb settles it.
        assert_eq!(map(&melt, &["no cheese"]).unwrap(), ["no-cheese"]);
        assert_eq!(map(&melt, &["extra cheese"]).unwrap(), ["extra-cheese"]);
        assert_eq!(map(&melt, &["add cheese"]).unwrap(), ["extra-cheese"]);
        assert_eq!(map(&melt, &["hold the onions"]).unwrap(), ["no-onions"]);
        assert_eq!(map(&melt, &["with onions"]).unwrap(), ["grilled-onions"]);
        assert_eq!(map(&melt, &["add hot peppers"]).unwrap(), ["jalapenos"], "an alias");
        assert_eq!(map(&melt, &["Jalapeños"]).unwrap(), ["jalapenos"]);
    }

    #[test]
    fn short_or_distant_words_are_not_guessed() {
        let cheeseburger = item("cheeseburger");
        for said in ["bac", "pickled eggs", "no tomatillo sauce", "avocados toast", "xxxxxxx", "tomb"] {
            assert!(map(&cheeseburger, &[said]).is_err(), "{said:?}");
        }
        let classic = item("classic-burger");
        // "Large" tolerates one edit; two is too many.
        assert!(map(&classic, &["lrg"]).is_err());
        assert!(map(&classic, &["barge"]).is_ok_and(|ids| ids == ["large"]));
        assert!(map(&classic, &["xxrge"]).is_err());
    }

    #[test]
    fn hostile_input_is_refused_without_panicking() {
        let cheeseburger = item("cheeseburger");
        let long = "no ".repeat(10_000);
        assert!(matches!(map(&cheeseburger, &[&long]), Err(OptionMismatch::Unknown { .. })));
        let message = map(&cheeseburger, &[&long]).unwrap_err().to_string();
        assert!(message.len() < 400, "the echo is clipped: {message}");
        let many: Vec<String> = (0..=MAX_OPTIONS_PER_LINE).map(|i| format!("o{i}")).collect();
        assert!(matches!(map_options(&cheeseburger, &many), Err(OptionMismatch::TooMany { .. })));
        for said in ["ñññññ", "🍔🍔", "no", "with", "add extra", "-", "no no no", "ß", "İstanbul"] {
            let _ = map(&cheeseburger, &[said]);
        }
    }

    #[test]
    fn options_are_said_with_their_group_verb() {
        assert_eq!(spoken_option(ModifierKind::Remove, "onions"), "no onions");
        assert_eq!(spoken_option(ModifierKind::Remove, "no onions"), "no onions");
        assert_eq!(spoken_option(ModifierKind::Add, "bacon"), "add bacon");
        assert_eq!(spoken_option(ModifierKind::Add, "extra cheese"), "extra cheese");
        assert_eq!(spoken_option(ModifierKind::Choice, "Large"), "Large");
        assert_eq!(join_list(&["a", "b", "c"], "and"), "a, b and c");
        for (a, b) in
            [("onions", "onion"), ("tomatoes", "tomato"), ("berries", "berry"), ("fries", "fry"), ("peaches", "peach")]
        {
            assert_eq!(stem(a), stem(b), "{a} {b}");
        }
        assert_ne!(stem("glass"), stem("glas"));
        assert_eq!(distance("pickels", "pickles", 2), Some(1));
        assert_eq!(distance("bacn", "bacon", 1), Some(1));
        assert_eq!(distance("abc", "xyz", 1), None);
    }
}
