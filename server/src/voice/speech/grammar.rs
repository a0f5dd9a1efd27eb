//! The recognizer's grammar, generated from the menu: every item by its name and aliases with
//! its own options (sizes before it, removals and extras after it), quantities, and the phrases
//! customers use around them ("can I get", "make it large", "cancel the fries", "that's all",
//! "yes please"). Words the model's dictionary lacks get a pronunciation (two dictionary words
//! joined, or espeak-ng's phonemes in the model's phone set); a word nothing can pronounce is left
//! out with a warning naming it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use restaurant_protocol::{Menu, MenuItem, ModifierKind};

/// Number words the grammar and the matcher share (`1` is "one").
pub const NUMBER_WORDS: [&str; 12] =
    ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];

/// Quantities a customer says before an item.
const QUANTITIES: &str = "a | an | one | two | three | four | five | six | seven | eight | nine | ten";
/// Quantities that are numbers (not "a"): enough to start a line of a list without "and".
const NUMBERS: &str = "two | three | four | five | six | seven | eight | nine | ten";
/// A word that may open any turn ("hi, …", "okay, that's all", "no, make it two"). One at most:
/// short words that may repeat let the recognizer explain any noise as a string of them.
const OPENERS: &[&str] = &["hi", "hello", "okay", "actually", "and", "also", "yes", "yeah", "no", "oh", "um"];
/// What comes before an order: one of them at most.
const LEADS: &[&str] = &[
    "can i get",
    "can i have",
    "could i get",
    "could i have",
    "can i please get",
    "i'd like",
    "i would like",
    "i'll have",
    "i'll take",
    "i'll get",
    "i want",
    "give me",
    "let me get",
    "let me have",
    "get me",
    "plus",
    "and then",
    "i'd also like",
    "can i also get",
];
const TAILS: &[&str] = &["please", "thanks", "thank you", "too", "as well"];
const DONE: &[&str] = &[
    "that's all",
    "that's it",
    "that's everything",
    "that'll be all",
    "that will be all",
    "that is all",
    "i'm done",
    "i'm finished",
    "nothing else",
    "check out",
    "checkout",
    "i'm ready to pay",
    "done",
];
const YES: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "sure",
    "go ahead",
    "place it",
    "place the order",
    "that's right",
    "correct",
    "sounds good",
    "ok",
    "okay",
    "yes please",
    "yes that's right",
    "yes go ahead",
    "perfect",
];
const NO: &[&str] = &["no", "nope", "not yet", "wait", "hold on", "no thanks"];
const REVIEW: &[&str] = &["what's in my order", "read it back", "read back my order", "review my order"];
const CANCEL: &[&str] = &["cancel the order", "cancel my order", "cancel everything", "start over"];
const REMOVE: &str = "cancel | remove | take off | delete | drop | scratch | no more";
const REMOVALS: &str = "no | without | with no | hold the | no more";
const ADDITIONS: &str = "with | add | extra | with extra | plus | and extra";
/// Words that refer back to the last line ("make it two", "make that a large").
const CHANGE: &str = "make (it | that | them | those)";

/// Lower-case spoken words of a menu text: digits read out ("4 pieces" is "four pieces"),
/// `&` as "and", punctuation other than apostrophes dropped.
pub fn spoken_words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace('&', " and ")
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.trim_matches('\'').is_empty())
        .map(|w| w.trim_matches('\''))
        .map(|w| match w.parse::<usize>() {
            Ok(n) if (1..=NUMBER_WORDS.len()).contains(&n) => NUMBER_WORDS[n - 1].to_string(),
            _ => w.to_string(),
        })
        .collect()
}

/// The model's pronouncing dictionary: word → phones (the first pronunciation).
pub struct Dictionary {
    words: HashMap<String, String>,
}

impl Dictionary {
    pub fn load(path: &Path) -> Result<Dictionary, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Dictionary::parse(&text))
    }

    pub fn parse(text: &str) -> Dictionary {
        let mut words = HashMap::new();
        for line in text.lines() {
            let Some((word, phones)) = line.split_once(char::is_whitespace) else { continue };
            // Alternates are "word(2)"; the first one listed is kept.
            if !word.contains('(') {
                words.entry(word.to_string()).or_insert_with(|| phones.trim().to_string());
            }
        }
        Dictionary { words }
    }

    pub fn phones(&self, word: &str) -> Option<&str> {
        self.words.get(word).map(String::as_str)
    }

    /// `word` as two dictionary words joined ("cheeseburger" = "cheese" + "burger").
    fn compound(&self, word: &str) -> Option<String> {
        (3..word.len().saturating_sub(2)).filter(|&i| word.is_char_boundary(i)).find_map(|i| {
            let (a, b) = word.split_at(i);
            Some(format!("{} {}", self.phones(a)?, self.phones(b)?))
        })
    }
}

/// The generated grammar and the words it needed added to the dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grammar {
    pub jsgf: String,
    /// Pronunciations to add before the grammar is loaded: `(word, phones)`.
    pub added: Vec<(String, String)>,
    /// Words nothing could pronounce; phrases using them are left out.
    pub unknown: Vec<String>,
}

/// Builds the grammar for `menu`. `pronounce` gives the model's phones for a word the
/// dictionary lacks (espeak-ng in the hub; anything in tests).
pub fn build(menu: &Menu, dict: &Dictionary, pronounce: &dyn Fn(&str) -> Option<String>) -> Grammar {
    let mut known = Known { dict, pronounce, added: BTreeMap::new(), unknown: BTreeSet::new() };
    let mut g = String::from("#JSGF V1.0;\ngrammar kiosk;\n");
    let mut item_rules = Vec::new();
    let mut short_rules = Vec::new();
    let mut any_name = Vec::new();
    let mut any_choice = BTreeSet::new();
    for (k, item) in menu.items.iter().enumerate() {
        // A one-syllable alias ("tea", "pie", "water") is left out: the recognizer would hear it
        // in any short noise or word ("yes", "that's it"). The item is still heard by its name
        // and longer aliases, and the matcher still knows the short ones.
        let mut names = known.phrases(std::iter::once(&item.name));
        let mut short = Vec::new();
        for alias in known.phrases(item.aliases.iter()) {
            if names.contains(&alias) {
                continue;
            }
            if alias.contains(' ') || known.syllables(&alias) > 1 { names.push(alias) } else { short.push(alias) }
        }
        if names.is_empty() {
            continue;
        }
        any_name.extend(names.iter().cloned());
        let rule = format!("item{k}");
        let (choices, removals, additions) = options(item, &mut known);
        // A short alias is heard after a quantity or a size ("a pie", "a large coke"), not alone.
        if !short.is_empty() {
            let before = if choices.is_empty() { String::new() } else { format!("[{}] ", alt(&choices)) };
            short_rules.push(format!("{before}({})", short.join(" | ")));
        }
        let short = if short.is_empty() || choices.is_empty() {
            String::new()
        } else {
            format!(" | {} ({})", alt(&choices), short.join(" | "))
        };
        any_choice.extend(choices.iter().cloned());
        let mut mods = Vec::new();
        if !removals.is_empty() {
            mods.push(format!("({REMOVALS}) ({})", removals.join(" | ")));
        }
        if !additions.is_empty() {
            mods.push(format!("({ADDITIONS}) ({})", additions.join(" | ")));
        }
        if !choices.is_empty() {
            mods.push(format!("[with | in] [a | an] ({})", choices.join(" | ")));
        }
        let before = if choices.is_empty() { String::new() } else { format!("[{}] ", alt(&choices)) };
        let after = if mods.is_empty() {
            String::new()
        } else {
            let _ = writeln!(g, "<mod{k}> = {};", mods.join(" | "));
            format!(" [<mod{k}> ([and] <mod{k}>)*]")
        };
        // A size said twice ("a large coke large") is not a thing people say; once before is.
        let _ = writeln!(g, "<{rule}> = ({before}({}){short}){after};", names.join(" | "));
        item_rules.push(format!("<{rule}>"));
    }
    let mut bodies = Vec::new();
    if !item_rules.is_empty() {
        let _ = writeln!(g, "<items> = {};", item_rules.join(" | "));
        let _ = writeln!(g, "<quantity> = {QUANTITIES};");
        let _ = writeln!(g, "<number> = {NUMBERS};");
        let counted = if short_rules.is_empty() {
            "<quantity> <items>".to_string()
        } else {
            let _ = writeln!(g, "<short> = {};", short_rules.join(" | "));
            "<quantity> (<items> | <short>)".to_string()
        };
        // An order opens with a lead ("can I get") or a quantity; lines follow one another after
        // "and", or with a number of their own ("a cheeseburger, two small fries"). A bare name
        // right after another is not a line: that keeps noise and long names from being heard as
        // strings of short ones.
        let _ = writeln!(
            g,
            "<order> = (<lead> [<quantity>] <items> | {counted}) ((and | and also | plus | with) {counted} | <number> <items> | and <items>)*;"
        );
        let _ = writeln!(g, "<name> = {};", any_name.join(" | "));
        let _ =
            writeln!(g, "<remove> = ({REMOVE}) [the | my | a | an | <quantity>] <name> | take [the | my] <name> off;");
        bodies.extend(["<order>", "<remove>"]);
        // "Make it two", "make that a large"; not "make it a" (one is "one"): with "a" as a
        // quantity, "make it two" was heard as "make it a too".
        let choice = if any_choice.is_empty() {
            String::new()
        } else {
            format!(" | [a | an] ({})", any_choice.iter().cloned().collect::<Vec<_>>().join(" | "))
        };
        let _ = writeln!(g, "<change> = {CHANGE} (one | <number>{choice});");
        bodies.push("<change>");
    }
    for (rule, phrases) in [("done", DONE), ("yes", YES), ("no", NO), ("review", REVIEW), ("cancel", CANCEL)] {
        let _ = writeln!(g, "<{rule}> = {};", phrases.join(" | "));
        bodies.push(match rule {
            "done" => "<done>",
            "yes" => "<yes>",
            "no" => "<no>",
            "review" => "<review>",
            _ => "<cancel>",
        });
    }
    let _ = writeln!(g, "<opener> = {};", OPENERS.join(" | "));
    let _ = writeln!(g, "<lead> = {};", LEADS.join(" | "));
    let _ = writeln!(g, "<tail> = {};", TAILS.join(" | "));
    let _ = writeln!(g, "public <turn> = [<opener>] ({}) [<done>] [<tail>];", bodies.join(" | "));
    Grammar { jsgf: g, added: known.added.into_iter().collect(), unknown: known.unknown.into_iter().collect() }
}

fn alt(phrases: &[String]) -> String {
    format!("({})", phrases.join(" | "))
}

/// The spoken phrases of `item`'s available options: (choices, removals, additions).
fn options(item: &MenuItem, known: &mut Known) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut choices, mut removals, mut additions) = (Vec::new(), Vec::new(), Vec::new());
    for group in &item.modifier_groups {
        for option in group.options.iter().filter(|o| o.available) {
            let mut phrases = known.phrases(std::iter::once(&option.name).chain(&option.aliases));
            // "four pieces" is also "four piece"; "extra cheese" is also "cheese".
            let extra: Vec<String> = phrases
                .iter()
                .filter_map(|p| p.strip_suffix('s').filter(|_| p.contains(' ')).map(str::to_string))
                .chain(phrases.iter().filter_map(|p| p.strip_prefix("extra ").map(str::to_string)))
                .collect();
            phrases.extend(known.phrases(extra.iter()));
            let into = match group.kind {
                ModifierKind::Choice => &mut choices,
                ModifierKind::Remove => &mut removals,
                ModifierKind::Add => &mut additions,
            };
            for p in phrases {
                if !into.contains(&p) {
                    into.push(p);
                }
            }
        }
    }
    (choices, removals, additions)
}

struct Known<'a> {
    dict: &'a Dictionary,
    pronounce: &'a dyn Fn(&str) -> Option<String>,
    added: BTreeMap<String, String>,
    unknown: BTreeSet<String>,
}

impl Known<'_> {
    /// The phrases among `texts` whose every word can be pronounced, as spoken words.
    fn phrases<'t>(&mut self, texts: impl Iterator<Item = &'t String>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for text in texts {
            let words = spoken_words(text);
            if words.is_empty() || !words.iter().all(|w| self.knows(w)) {
                continue;
            }
            let phrase = words.join(" ");
            if !out.contains(&phrase) {
                out.push(phrase);
            }
        }
        out
    }

    /// Vowels in the pronunciation of a known one-word phrase.
    fn syllables(&self, word: &str) -> usize {
        let phones = self.dict.phones(word).or_else(|| self.added.get(word).map(String::as_str)).unwrap_or("");
        phones.split_whitespace().filter(|p| p.starts_with(['A', 'E', 'I', 'O', 'U'])).count()
    }

    fn knows(&mut self, word: &str) -> bool {
        if self.dict.phones(word).is_some() || self.added.contains_key(word) {
            return true;
        }
        if self.unknown.contains(word) {
            return false;
        }
        match self.dict.compound(word).or_else(|| (self.pronounce)(word)) {
            Some(phones) => {
                self.added.insert(word.to_string(), phones);
                true
            }
            None => {
                self.unknown.insert(word.to_string());
                false
            }
        }
    }
}

/// espeak-ng's phoneme mnemonics (`espeak-ng -x`, English) in the model's phone set, or `None`
/// for one it has no counterpart for.
pub fn espeak_to_phones(mnemonics: &str) -> Option<String> {
    // Longest first at each position.
    const TABLE: &[(&str, &str)] = &[
        ("aI@", "AY ER"),
        ("aU@", "AW ER"),
        ("aI3", "AY ER"),
        ("eI", "EY"),
        ("aI", "AY"),
        ("aU", "AW"),
        ("oU", "OW"),
        ("OI", "OY"),
        ("e@", "EH R"),
        ("i@", "IH R"),
        ("I@", "IH R"),
        ("U@", "UH R"),
        ("A@", "AA R"),
        ("O@", "AO R"),
        ("o@", "AO R"),
        ("3:", "ER"),
        ("@L", "AH L"),
        ("i:", "IY"),
        ("u:", "UW"),
        ("A:", "AA"),
        ("O:", "AO"),
        ("a#", "AH"),
        ("I2", "IH"),
        ("I#", "IH"),
        ("E2", "EH"),
        ("@2", "AH"),
        ("@5", "AH"),
        ("tS", "CH"),
        ("dZ", "JH"),
        ("t#", "T"),
        ("d#", "D"),
        ("z#", "Z"),
        ("r-", "R"),
        ("n-", "N"),
        ("l-", "L"),
        ("m-", "M"),
        ("@", "AH"),
        ("3", "ER"),
        ("a", "AE"),
        ("A", "AA"),
        ("E", "EH"),
        ("I", "IH"),
        ("i", "IY"),
        ("O", "AO"),
        ("0", "AA"),
        ("U", "UH"),
        ("V", "AH"),
        ("u", "UW"),
        ("e", "EH"),
        ("o", "OW"),
        ("T", "TH"),
        ("D", "DH"),
        ("S", "SH"),
        ("Z", "ZH"),
        ("N", "NG"),
        ("j", "Y"),
        ("r", "R"),
        ("l", "L"),
        ("n", "N"),
        ("m", "M"),
        ("w", "W"),
        ("h", "HH"),
        ("b", "B"),
        ("p", "P"),
        ("t", "T"),
        ("d", "D"),
        ("k", "K"),
        ("g", "G"),
        ("f", "F"),
        ("v", "V"),
        ("s", "S"),
        ("z", "Z"),
        ("x", "K"),
    ];
    let mut rest = mnemonics.trim();
    let mut phones = Vec::new();
    while let Some(c) = rest.chars().next() {
        if matches!(c, '\'' | ',' | ';' | '_' | ':' | '%' | '=' | '-' | '#' | '!' | ' ') {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let (from, to) = TABLE.iter().find(|(from, _)| rest.starts_with(from))?;
        phones.push(*to);
        rest = &rest[from.len()..];
    }
    (!phones.is_empty()).then(|| phones.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dict() -> Dictionary {
        Dictionary::parse(
            "cheese CH IY Z\nburger B ER G ER\nburger(2) B ER G AH\ncola K OW L AH\nlarge L AA R JH\nsmall S M AO L\n\
             onions AH N Y AH N Z\nfour F AO R\npieces P IY S AH Z\npiece P IY S\n",
        )
    }

    fn menu(json: &str) -> Menu {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn spoken_words_read_digits_and_drop_punctuation() {
        assert_eq!(spoken_words("4 Pieces"), ["four", "pieces"]);
        assert_eq!(spoken_words("Mac & Cheese!"), ["mac", "and", "cheese"]);
        assert_eq!(spoken_words("Chef's 'Special'"), ["chef's", "special"]);
    }

    #[test]
    fn the_first_pronunciation_counts_and_compounds_are_joined() {
        let d = dict();
        assert_eq!(d.phones("burger"), Some("B ER G ER"));
        assert_eq!(d.compound("cheeseburger").as_deref(), Some("CH IY Z B ER G ER"));
        assert_eq!(d.compound("xyzzy"), None);
    }

    #[test]
    fn espeak_mnemonics_become_model_phones() {
        assert_eq!(espeak_to_phones("v,IneIgr'Et").as_deref(), Some("V IH N EY G R EH T"));
        assert_eq!(espeak_to_phones("k,eIs@d'i:;@").as_deref(), Some("K EY S AH D IY AH"));
        assert_eq!(espeak_to_phones("dZaI'oUz@").as_deref(), Some("JH AY OW Z AH"));
        assert_eq!(espeak_to_phones("q"), None);
        assert_eq!(espeak_to_phones(""), None);
    }

    #[test]
    fn items_options_and_unpronounceable_words() {
        let m = menu(
            r#"{"items": [
              {"id": "cb", "name": "Cheeseburger", "price_cents": 100, "category": "B", "station": "grill",
               "aliases": ["zqx burger"],
               "modifier_groups": [{"id": "r", "name": "Remove", "kind": "remove", "min": 0, "max": 1, "options": [{"id": "o", "name": "onions"}]}]},
              {"id": "c", "name": "Cola", "price_cents": 100, "category": "D", "station": "drinks",
               "modifier_groups": [{"id": "s", "name": "Size", "min": 1, "max": 1, "options": [
                 {"id": "s", "name": "Small"}, {"id": "l", "name": "Large", "available": false}]}]},
              {"id": "t", "name": "Tenders", "price_cents": 100, "category": "M", "station": "fry",
               "modifier_groups": [{"id": "p", "name": "Pieces", "min": 1, "max": 1, "options": [{"id": "4", "name": "4 pieces"}]}]}
            ]}"#,
        );
        let pronounce = |w: &str| (w == "tenders").then(|| "T EH N D ER Z".to_string());
        let g = build(&m, &dict(), &pronounce);
        assert!(g.jsgf.contains("<item0> = ((cheeseburger)) [<mod0> ([and] <mod0>)*];"), "{}", g.jsgf);
        assert!(g.jsgf.contains("<mod0> = (no | without | with no | hold the | no more) (onions);"), "{}", g.jsgf);
        // A sold-out option is not offered; the item still is (the kiosk says it is sold out).
        assert!(g.jsgf.contains("<item1> = ([(small)] (cola))"), "{}", g.jsgf);
        assert!(!g.jsgf.contains("large"), "{}", g.jsgf);
        assert!(g.jsgf.contains("([(four pieces | four piece)] (tenders))"), "{}", g.jsgf);
        assert_eq!(
            g.added,
            vec![
                ("cheeseburger".to_string(), "CH IY Z B ER G ER".to_string()),
                ("tenders".to_string(), "T EH N D ER Z".to_string())
            ]
        );
        assert_eq!(g.unknown, vec!["zqx".to_string()]);
        assert!(g.jsgf.contains("public <turn> = [<opener>] (<order> | <remove> | <change> | <done> | <yes>"));
        // A change names a number or a choice: "make it a" has nothing for a "too" to follow.
        assert!(g.jsgf.contains("<change> = make (it | that | them | those) (one | <number> | [a | an] (four piece | four pieces | small));"), "{}", g.jsgf);
    }
}
