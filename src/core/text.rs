//! Upper- and lower-case text, as the standard library's `char::to_uppercase` and
//! `char::to_lowercase` give it, from smaller tables.
//!
//! The standard library stores one entry per character (about 24 KB of tables in a page's wasm,
//! with the lookups for the final-sigma rule). Here `build.rs` reads the same mappings from the
//! compiler's own Unicode data and stores them as runs of characters that map by one offset
//! (`A`–`Z`, `À`–`Þ`, `Ā`, `Ă`, `Ą`… every other one), a few hundred runs in all. The mapping is
//! the same for every character: the tests compare the two over all of Unicode.
//!
//! [`lower`] writes a capital sigma at the end of a word as `ς`, as `str::to_lowercase` does
//! (a word here is letters, where the standard library also skips apostrophes and the like
//! within one). Words are compared in [`fold`]ed form, where every sigma is `σ`: "ΟΔΟΣ" and
//! "Οδος" are then the same word.

mod tables {
    include!(concat!(env!("OUT_DIR"), "/case_tables.rs"));
}

use tables::{LOWER_MULTI, LOWER_RUNS, UPPER_MULTI, UPPER_RUNS};

/// Set in a run's last character when the run takes every other character.
const STEP2: u32 = 1 << 31;

/// `text` in lower case.
pub fn lower(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // The final-sigma rule: a capital sigma ending a word (after a letter, before none).
        if c == 'Σ' && previous.is_some_and(char::is_alphabetic) && !chars.peek().is_some_and(|n| n.is_alphabetic()) {
            out.push('ς');
        } else {
            push_mapped(&mut out, c, LOWER_RUNS, LOWER_MULTI);
        }
        previous = Some(c);
    }
    out
}

/// `text` in the form words are compared in: lower case, with every sigma `σ`.
pub fn fold(text: &str) -> String {
    let mut out = lower(text);
    if out.contains('ς') {
        out = out.replace('ς', "σ");
    }
    out
}

/// `text` in upper case ("ß" becomes "SS", as with `str::to_uppercase`).
pub fn upper(text: &str) -> String {
    convert(text, UPPER_RUNS, UPPER_MULTI)
}

/// `text` with its first letter in upper case ("the Cheeseburger" → "The Cheeseburger").
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => {
            let mut out = String::with_capacity(text.len() + 2);
            push_mapped(&mut out, first, UPPER_RUNS, UPPER_MULTI);
            out.push_str(chars.as_str());
            out
        }
        None => String::new(),
    }
}

fn convert(text: &str, runs: &[(u32, u32, i32)], multi: &[(char, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_mapped(&mut out, c, runs, multi);
    }
    out
}

fn push_mapped(out: &mut String, c: char, runs: &[(u32, u32, i32)], multi: &[(char, &str)]) {
    match multi.binary_search_by_key(&c, |&(from, _)| from) {
        Ok(i) => out.push_str(multi[i].1),
        Err(_) => out.push(map_one(c, runs)),
    }
}

/// The one character `c` maps to (itself when no run holds it).
fn map_one(c: char, runs: &[(u32, u32, i32)]) -> char {
    let code = c as u32;
    let at = runs.partition_point(|&(first, _, _)| first <= code);
    let Some(&(first, last, delta)) = at.checked_sub(1).and_then(|i| runs.get(i)) else {
        return c;
    };
    let step = if last & STEP2 == 0 { 1 } else { 2 };
    if code > last & !STEP2 || !(code - first).is_multiple_of(step) {
        return c;
    }
    char::from_u32(code.wrapping_add_signed(delta)).unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_char() -> impl Iterator<Item = char> {
        (0..=char::MAX as u32).filter_map(char::from_u32)
    }

    #[test]
    fn every_character_maps_as_the_standard_library_maps_it() {
        let mut wrong = Vec::new();
        for c in every_char() {
            let one = c.to_string();
            let (want_lower, want_upper) = (c.to_lowercase().collect::<String>(), c.to_uppercase().collect::<String>());
            if lower(&one) != want_lower || upper(&one) != want_upper {
                wrong.push(c);
            }
        }
        assert!(wrong.is_empty(), "{} characters differ, the first {:?}", wrong.len(), &wrong[..wrong.len().min(10)]);
    }

    #[test]
    fn the_tables_are_runs_not_characters() {
        // About 1 400 characters map each way; the runs hold them in a few hundred entries.
        let mapped = every_char().filter(|c| c.to_lowercase().ne([*c])).count();
        assert!(mapped > 1_300, "{mapped}");
        assert!(LOWER_RUNS.len() < 250 && UPPER_RUNS.len() < 250, "{} and {}", LOWER_RUNS.len(), UPPER_RUNS.len());
        for runs in [LOWER_RUNS, UPPER_RUNS] {
            for pair in runs.windows(2) {
                assert!(pair[0].1 & !STEP2 < pair[1].0, "runs overlap: {pair:?}");
            }
        }
    }

    #[test]
    fn words_in_other_alphabets() {
        assert_eq!(lower("Crème BRÛLÉE"), "crème brûlée");
        assert_eq!(upper("Jalapeño"), "JALAPEÑO");
        assert_eq!(upper("Weißbier"), "WEISSBIER");
        assert_eq!(lower("ПЕЛЬМЕНИ"), "пельмени");
        assert_eq!(upper("çiğ köfte"), "ÇIĞ KÖFTE");
        assert_eq!(lower("İSKENDER"), "i\u{307}skender");
        assert_eq!(capitalize("ñoquis"), "Ñoquis");
        assert_eq!(capitalize("ßa"), "SSa");
        assert_eq!(capitalize(""), "");
        assert_eq!(lower(""), "");
    }

    #[test]
    fn a_final_sigma_is_written_as_one_and_folded_as_any_other() {
        for word in ["ΟΔΟΣ", "ΟΔΟΣ ΣΑΛΤΣΑΣ", "ΣΑΛΤΣΑΣ, ΟΔΟΣ.", "Σ", "ΑΣΑ", "ΟΔΟΣ2"] {
            assert_eq!(lower(word), word.to_lowercase(), "{word}");
        }
        assert_eq!(fold("ΟΔΟΣ"), fold("Οδος"));
        assert_eq!(fold("Οδος"), "οδοσ");
        assert_eq!(fold("Crème"), "crème");
    }
}
