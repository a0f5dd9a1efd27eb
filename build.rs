//! Generates the pages' case-mapping tables (`src/core/text.rs`) from the compiler's own Unicode
//! data: the same mappings as `char::to_lowercase` / `char::to_uppercase`, stored as runs of
//! characters that map by the same offset instead of one entry per character.

use std::fmt::Write as _;
use std::path::Path;

/// Bit set in a run's last character when the run takes every other character.
const STEP2: u32 = 1 << 31;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let mut out = String::new();
    table(&mut out, "LOWER", |c| c.to_lowercase().collect());
    table(&mut out, "UPPER", |c| c.to_uppercase().collect());
    let dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&dir).join("case_tables.rs"), out).expect("write the case tables");
}

/// `{NAME}_RUNS`: `(first, last | STEP2?, offset)` sorted and disjoint, for every character that
/// maps to one other character; `{NAME}_MULTI`: the characters that map to several, sorted.
fn table(out: &mut String, name: &str, map: impl Fn(char) -> Vec<char>) {
    let mut points: Vec<(u32, i64)> = Vec::new();
    let mut multi: Vec<(char, String)> = Vec::new();
    for c in (0..=char::MAX as u32).filter_map(char::from_u32) {
        match map(c).as_slice() {
            [one] if *one == c => {}
            [one] => points.push((c as u32, i64::from(*one as u32) - i64::from(c as u32))),
            many => multi.push((c, many.iter().collect())),
        }
    }
    let mapped: std::collections::HashSet<u32> = points.iter().map(|p| p.0).collect();
    let mut runs: Vec<(u32, u32, i64)> = Vec::new();
    let mut i = 0;
    while i < points.len() {
        let (first, delta) = points[i];
        // Consecutive characters with one offset...
        let mut j = i;
        while j + 1 < points.len() && points[j + 1] == (points[j].0 + 1, delta) {
            j += 1;
        }
        if j > i {
            runs.push((first, points[j].0, delta));
            i = j + 1;
            continue;
        }
        // ...or every other one, with nothing mapped in between (so runs never overlap).
        let (mut last, mut k) = (first, i);
        while k + 1 < points.len() && points[k + 1] == (last + 2, delta) && !mapped.contains(&(last + 1)) {
            k += 1;
            last += 2;
        }
        runs.push((first, if last > first { last | STEP2 } else { last }, delta));
        i = k + 1;
    }
    writeln!(out, "pub(super) const {name}_RUNS: &[(u32, u32, i32)] = &[").unwrap();
    for (first, last, delta) in runs {
        writeln!(out, "    ({first:#x}, {last:#x}, {delta}),").unwrap();
    }
    writeln!(out, "];").unwrap();
    writeln!(out, "pub(super) const {name}_MULTI: &[(char, &str)] = &[").unwrap();
    for (c, to) in multi {
        writeln!(out, "    ({c:?}, {to:?}),").unwrap();
    }
    writeln!(out, "];").unwrap();
}
