//! Pure, sans-IO logic: state machines and data types with no browser imports.
//!
//! Nothing in this module touches `web_sys`, `js_sys`, `wasm_bindgen` or `leptos`: inputs go in as
//! plain values (including the current time), decisions come out as plain values. That is what lets
//! every behaviour here be tested natively, in simulated time.

pub mod alerts;
pub mod arrange;
pub mod board;
pub mod call;
pub mod call_link;
pub mod cart;
pub mod config;
pub mod customer;
pub mod device;
pub mod fast_hash;
pub mod feed;
pub mod id;
pub mod item_sheet;
pub mod keymap;
pub mod link;
pub mod media;
pub mod menu_link;
pub mod modifiers;
pub mod peer;
pub mod quote;
pub mod secure;
pub mod sort;
pub mod sorted_map;
pub mod submit;
pub mod text;
pub mod ticket_stats;
pub mod time;
pub mod voice;

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod purity {
    //! The architecture rule above, enforced: a browser import in `src/core` fails the build's tests.
    use std::path::Path;

    fn visit(dir: &Path, offenders: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read src/core") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                visit(&path, offenders);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source");
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    for forbidden in ["web_sys", "js_sys", "wasm_bindgen", "leptos", "gloo"] {
                        let hit = code.match_indices(forbidden).any(|(i, _)| {
                            let before = code[..i].chars().last();
                            let after = code[i + forbidden.len()..].chars().next();
                            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '"')
                                && matches!(
                                    after,
                                    Some(':') | Some(';') | Some(' ') | Some(',') | Some('}') | Some(')')
                                )
                        });
                        if hit {
                            offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn core_has_no_browser_or_framework_imports() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
        let mut offenders = Vec::new();
        visit(&root, &mut offenders);
        assert!(offenders.is_empty(), "src/core must stay pure:\n{}", offenders.join("\n"));
    }
}
