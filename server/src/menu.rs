//! The menu: the built-in default (`menu.json`) or a file given with `--menu`, checked once at start.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use restaurant_protocol::{Menu, MenuItem};

use crate::settings::is_valid_station;

const DEFAULT_MENU: &str = include_str!("../menu.json");

/// A checked menu with lookup by item id.
#[derive(Debug)]
pub struct MenuBook {
    menu: Menu,
    by_id: HashMap<String, usize>,
}

impl MenuBook {
    /// Reads `path`, or the built-in menu when `None`.
    pub fn load(path: Option<&Path>) -> Result<MenuBook, String> {
        match path {
            None => MenuBook::parse(DEFAULT_MENU).map_err(|e| format!("built-in menu: {e}")),
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| format!("cannot read menu {}: {e}", path.display()))?;
                MenuBook::parse(&text).map_err(|e| format!("menu {}: {e}", path.display()))
            }
        }
    }

    /// Parses and checks a menu: at least one item, unique non-empty ids, valid station names.
    pub fn parse(text: &str) -> Result<MenuBook, String> {
        let menu: Menu = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
        if menu.items.is_empty() {
            return Err("the menu has no items".into());
        }
        let mut seen = HashSet::new();
        for item in &menu.items {
            if item.id.is_empty() || item.name.is_empty() {
                return Err(format!("item {:?} needs a non-empty id and name", item.id));
            }
            if !seen.insert(item.id.as_str()) {
                return Err(format!("duplicate item id {:?}", item.id));
            }
            if !is_valid_station(&item.station) {
                return Err(format!("item {:?}: invalid station {:?} (a-z 0-9 - _)", item.id, item.station));
            }
        }
        let by_id = menu.items.iter().enumerate().map(|(i, item)| (item.id.clone(), i)).collect();
        Ok(MenuBook { menu, by_id })
    }

    pub fn menu(&self) -> &Menu {
        &self.menu
    }

    pub fn item(&self, id: &str) -> Option<&MenuItem> {
        self.by_id.get(id).map(|&i| &self.menu.items[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_menu_has_twenty_items_with_stations() {
        let book = MenuBook::load(None).unwrap();
        assert_eq!(book.menu().items.len(), 20);
        assert_eq!(book.item("cheeseburger").unwrap().station, "grill");
        assert!(book.item("nope").is_none());
    }

    #[test]
    fn bad_menus_are_refused_with_the_reason() {
        assert!(MenuBook::parse("{").unwrap_err().contains("invalid JSON"));
        assert!(MenuBook::parse(r#"{"items":[]}"#).unwrap_err().contains("no items"));
        let dup = r#"{"items":[
            {"id":"a","name":"A","price_cents":1,"category":"c","station":"grill"},
            {"id":"a","name":"B","price_cents":1,"category":"c","station":"grill"}]}"#;
        assert!(MenuBook::parse(dup).unwrap_err().contains("duplicate"));
        let station = r#"{"items":[{"id":"a","name":"A","price_cents":1,"category":"c","station":"Hot Line"}]}"#;
        assert!(MenuBook::parse(station).unwrap_err().contains("station"));
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
        assert!(MenuBook::load(Some(&dir.path().join("missing.json"))).unwrap_err().contains("cannot read"));
    }
}
