//! The menu: the built-in default (`menu.json`) or a file given with `--menu`, checked once at start.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use restaurant_protocol::{Menu, MenuItem};

use crate::settings::is_valid_station;

const DEFAULT_MENU: &str = include_str!("../menu.json");

/// Why a menu cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MenuError {
    #[error("cannot read menu {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("built-in menu: {0}")]
    BuiltIn(InvalidMenu),
    #[error("menu {}: {problem}", path.display())]
    File { path: PathBuf, problem: InvalidMenu },
}

/// What is wrong with a menu's text.
#[derive(Debug, thiserror::Error)]
pub enum InvalidMenu {
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the menu has no items")]
    NoItems,
    #[error("item {0:?} needs a non-empty id and name")]
    Unnamed(String),
    #[error("duplicate item id {0:?}")]
    Duplicate(String),
    #[error("item {item:?}: invalid station {station:?} (a-z 0-9 - _)")]
    Station { item: String, station: String },
}

/// A checked menu with lookup by item id.
#[derive(Debug)]
pub struct MenuBook {
    menu: Menu,
    by_id: HashMap<String, usize>,
}

impl MenuBook {
    /// Reads `path`, or the built-in menu when `None`.
    pub fn load(path: Option<&Path>) -> Result<MenuBook, MenuError> {
        match path {
            None => MenuBook::parse(DEFAULT_MENU).map_err(MenuError::BuiltIn),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| MenuError::Read { path: path.to_path_buf(), source })?;
                MenuBook::parse(&text).map_err(|problem| MenuError::File { path: path.to_path_buf(), problem })
            }
        }
    }

    /// Parses and checks a menu: at least one item, unique non-empty ids, valid station names.
    pub fn parse(text: &str) -> Result<MenuBook, InvalidMenu> {
        let menu: Menu = serde_json::from_str(text)?;
        if menu.items.is_empty() {
            return Err(InvalidMenu::NoItems);
        }
        let mut seen = HashSet::new();
        for item in &menu.items {
            if item.id.is_empty() || item.name.is_empty() {
                return Err(InvalidMenu::Unnamed(item.id.clone()));
            }
            if !seen.insert(item.id.as_str()) {
                return Err(InvalidMenu::Duplicate(item.id.clone()));
            }
            if !is_valid_station(&item.station) {
                return Err(InvalidMenu::Station { item: item.id.clone(), station: item.station.clone() });
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
        let refused = |text: &str| MenuBook::parse(text).unwrap_err().to_string();
        assert!(refused("{").contains("invalid JSON"));
        assert!(refused(r#"{"items":[]}"#).contains("no items"));
        let dup = r#"{"items":[
            {"id":"a","name":"A","price_cents":1,"category":"c","station":"grill"},
            {"id":"a","name":"B","price_cents":1,"category":"c","station":"grill"}]}"#;
        assert!(refused(dup).contains("duplicate"));
        let station = r#"{"items":[{"id":"a","name":"A","price_cents":1,"category":"c","station":"Hot Line"}]}"#;
        assert!(refused(station).contains("station"));
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
}
