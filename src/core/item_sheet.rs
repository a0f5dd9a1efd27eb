//! The kiosk's item sheet: choosing an item's options, quantity and allergies before it goes in
//! the cart (or when a cart line is edited). Pure: the view renders [`ItemSheet::groups`] and sends
//! the customer's taps here; whether the line can be added is the menu's own rule
//! ([`MenuItem::choose`]), so the sheet and the hub can never disagree.

use restaurant_protocol::{Allergen, LineProblem, MenuItem, ModifierGroup, ModifierKind};

use super::cart::{CartLine, LineKey, LineRequest, MAX_QUANTITY, MIN_QUANTITY};
use crate::core::{sort, text};

/// One option as the sheet shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionView {
    pub id: String,
    pub name: String,
    pub price_cents: i32,
    pub selected: bool,
    /// Sold out, or the group is full and this one is not chosen.
    pub disabled: bool,
    pub sold_out: bool,
}

/// One group as the sheet shows it, required groups first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub kind: ModifierKind,
    /// "Choose 1 (required)", "Choose up to 3".
    pub rule: String,
    pub required: bool,
    /// One choice at most: shown as radio buttons.
    pub single: bool,
    /// Enough is chosen here.
    pub satisfied: bool,
    pub options: Vec<OptionView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSheet {
    item: MenuItem,
    /// Chosen option ids (explicit: defaults are chosen when the sheet opens).
    selected: Vec<String>,
    quantity: u32,
    allergies: Vec<Allergen>,
    note: String,
    /// The cart line being edited, if any.
    editing: Option<LineKey>,
}

impl ItemSheet {
    /// A new line of `item`: one, with each group's defaults chosen.
    #[must_use]
    pub fn new(item: MenuItem) -> ItemSheet {
        let selected =
            item.modifier_groups.iter().flat_map(|g| g.defaults().map(|o| o.id.clone()).collect::<Vec<_>>()).collect();
        ItemSheet { item, selected, quantity: 1, allergies: Vec::new(), note: String::new(), editing: None }
    }

    /// Editing a cart line of `item` as the menu is now: a choice that sold out since is dropped,
    /// so the customer sees what is left to choose.
    #[must_use]
    pub fn edit(item: MenuItem, line: &CartLine) -> ItemSheet {
        let mut sheet = ItemSheet {
            item: item.clone(),
            selected: line.key.options.clone(),
            quantity: line.quantity,
            allergies: line.key.allergies.clone(),
            note: line.special_instructions.clone().unwrap_or_default(),
            editing: Some(line.key.clone()),
        };
        sheet.refresh(item);
        sheet
    }

    pub fn item(&self) -> &MenuItem {
        &self.item
    }

    pub fn editing(&self) -> Option<&LineKey> {
        self.editing.as_ref()
    }

    pub fn quantity(&self) -> u32 {
        self.quantity
    }

    pub fn note(&self) -> &str {
        &self.note
    }

    pub fn allergies(&self) -> &[Allergen] {
        &self.allergies
    }

    pub fn is_selected(&self, option_id: &str) -> bool {
        self.selected.iter().any(|s| s == option_id)
    }

    /// Taps an option: in a one-choice group it replaces the choice (tapping the chosen one
    /// again clears it unless the group is required); elsewhere it toggles, up to the group's
    /// `max`. A sold-out option can only be unchosen; unknown options are ignored.
    pub fn toggle(&mut self, option_id: &str) {
        let Some((group, option)) = self.item.option(option_id) else { return };
        if !option.available {
            self.selected.retain(|s| s != option_id);
            return;
        }
        let in_group = |id: &String| group.options.iter().any(|o| &o.id == id);
        if self.is_selected(option_id) {
            if group.max == 1 && group.is_required() {
                return;
            }
            self.selected.retain(|s| s != option_id);
        } else if group.max == 1 {
            self.selected.retain(|s| !in_group(s));
            self.selected.push(option_id.to_string());
        } else if (self.selected.iter().filter(|s| in_group(s)).count() as u32) < group.max {
            self.selected.push(option_id.to_string());
        }
    }

    pub fn set_quantity(&mut self, quantity: u32) {
        self.quantity = quantity.clamp(MIN_QUANTITY, MAX_QUANTITY);
    }

    pub fn toggle_allergy(&mut self, allergen: Allergen) {
        if let Some(at) = self.allergies.iter().position(|a| *a == allergen) {
            self.allergies.remove(at);
        } else {
            self.allergies.push(allergen);
            sort::sort(&mut self.allergies);
        }
    }

    pub fn set_note(&mut self, note: &str) {
        self.note = note.to_string();
    }

    fn group_view(&self, group: &ModifierGroup) -> GroupView {
        let chosen = group.options.iter().filter(|o| self.is_selected(&o.id)).count() as u32;
        let full = chosen >= group.max;
        let single = group.max == 1;
        let rule = group.rule();
        let mut rule = text::capitalize(&rule);
        if group.is_required() {
            rule.push_str(" (required)");
        }
        GroupView {
            id: group.id.clone(),
            name: group.name.clone(),
            kind: group.kind,
            rule,
            required: group.is_required(),
            single,
            satisfied: chosen >= group.min,
            options: group
                .options
                .iter()
                .map(|o| {
                    let selected = self.is_selected(&o.id);
                    OptionView {
                        id: o.id.clone(),
                        name: o.name.clone(),
                        price_cents: o.price_cents,
                        selected,
                        disabled: (!o.available && !selected) || (full && !selected && !single),
                        sold_out: !o.available,
                    }
                })
                .collect(),
        }
    }

    /// The groups to show: required ones first, each keeping the menu's order.
    pub fn groups(&self) -> Vec<GroupView> {
        let (required, optional): (Vec<&ModifierGroup>, Vec<&ModifierGroup>) =
            self.item.modifier_groups.iter().partition(|g| g.is_required());
        required.into_iter().chain(optional).map(|g| self.group_view(g)).collect()
    }

    /// Whether the line can go in the cart, and why not: every required group chosen on the sheet
    /// itself (what is on screen is what is ordered: no default fills a group the customer
    /// emptied), then the menu's own rule on the chosen options.
    pub fn check(&self) -> Result<(), LineProblem> {
        if !self.item.available {
            return Err(LineProblem::ItemSoldOut { item: self.item.name.clone() });
        }
        if let Some(group) = self
            .item
            .modifier_groups
            .iter()
            .find(|g| (g.options.iter().filter(|o| self.is_selected(&o.id)).count() as u32) < g.min)
        {
            return Err(LineProblem::TooFew {
                item: self.item.name.clone(),
                group: group.name.clone(),
                min: group.min,
                max: group.max,
                choices: group.option_list(),
            });
        }
        self.item.choose(&self.selected).map(|_| ())
    }

    /// The price of one as chosen, by the menu's own pricing once the choice is complete (the
    /// item's price plus what is ticked while it is not).
    pub fn unit_price_cents(&self) -> i64 {
        if self.check().is_ok()
            && let Ok(chosen) = self.item.choose(&self.selected)
        {
            return self.item.unit_price_cents(&chosen);
        }
        let ticked: i64 = self
            .item
            .modifier_groups
            .iter()
            .flat_map(|g| g.options.iter().filter(|o| self.is_selected(&o.id)))
            .map(|o| i64::from(o.price_cents))
            .sum();
        i64::from(self.item.price_cents) + ticked
    }

    pub fn total_cents(&self) -> i64 {
        self.unit_price_cents() * i64::from(self.quantity)
    }

    /// What goes in the cart.
    pub fn request(&self) -> LineRequest {
        let note = self.note.trim();
        LineRequest {
            quantity: self.quantity,
            options: self.selected.clone(),
            allergies: self.allergies.clone(),
            special_instructions: (!note.is_empty()).then(|| note.to_string()),
        }
    }

    /// The sheet for the menu as it is now (an option or the item may have sold out meanwhile):
    /// sold-out choices are dropped, so the customer sees what is left to choose.
    pub fn refresh(&mut self, item: MenuItem) {
        self.selected.retain(|id| item.option(id).is_some_and(|(_, o)| o.available));
        self.item = item;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::cart::{Cart, LineRequest};
    use crate::core::test_support::menu_fixture;

    fn item(id: &str) -> MenuItem {
        menu_fixture().into_iter().find(|i| i.id == id).expect("fixture item")
    }

    #[test]
    fn required_groups_come_first_and_defaults_are_chosen() {
        let mut burger = item("classic-burger");
        burger.modifier_groups.rotate_left(1); // Size last in the menu…
        let sheet = ItemSheet::new(burger);
        let groups = sheet.groups();
        assert_eq!(groups[0].id, "size", "…first on the sheet");
        assert_eq!(groups[0].rule, "Choose 1 (required)");
        assert!(groups[0].single && !groups[0].satisfied);
        assert_eq!(groups[1].rule, "Choose up to 4");
        let cola = ItemSheet::new(item("cola"));
        assert!(cola.is_selected("drink-medium"));
        assert!(cola.check().is_ok());
    }

    #[test]
    fn add_is_refused_until_the_required_groups_are_satisfied() {
        let mut sheet = ItemSheet::new(item("classic-burger"));
        assert_eq!(
            sheet.check().unwrap_err().to_string(),
            "Classic Burger: Size needs a choice: Small, Medium or Large"
        );
        sheet.toggle("large");
        assert!(sheet.check().is_ok());
        assert!(sheet.groups()[0].satisfied);
    }

    #[test]
    fn one_choice_groups_replace_and_required_ones_cannot_be_emptied() {
        let mut sheet = ItemSheet::new(item("classic-burger"));
        sheet.toggle("small");
        sheet.toggle("large");
        assert!(!sheet.is_selected("small") && sheet.is_selected("large"));
        sheet.toggle("large");
        assert!(sheet.is_selected("large"), "a required single choice stays chosen");
        let mut cola = ItemSheet::new(item("cola"));
        cola.toggle("ice");
        cola.toggle("ice");
        assert!(!cola.is_selected("ice"), "an optional single choice can be cleared");
    }

    #[test]
    fn a_full_group_disables_the_rest_until_one_is_unchosen() {
        let mut sheet = ItemSheet::new(item("cheeseburger"));
        for id in ["cheese", "bacon", "avocado"] {
            sheet.toggle(id);
        }
        let extras = sheet.groups().into_iter().find(|g| g.id == "extras").unwrap();
        assert!(extras.options.iter().all(|o| o.selected && !o.disabled));
        let mut fourth = item("cheeseburger");
        fourth.modifier_groups[1].max = 2;
        let mut sheet = ItemSheet::new(fourth);
        sheet.toggle("cheese");
        sheet.toggle("bacon");
        sheet.toggle("avocado");
        assert!(!sheet.is_selected("avocado"), "max 2");
        let extras = sheet.groups().into_iter().find(|g| g.id == "extras").unwrap();
        assert!(extras.options[2].disabled && !extras.options[0].disabled);
        sheet.toggle("bacon");
        sheet.toggle("avocado");
        assert!(sheet.is_selected("avocado"));
    }

    #[test]
    fn sold_out_options_are_shown_but_cannot_be_chosen() {
        let mut burger = item("cheeseburger");
        burger.modifier_groups[1].options[1].available = false;
        let mut sheet = ItemSheet::new(burger.clone());
        sheet.toggle("bacon");
        assert!(!sheet.is_selected("bacon"));
        let bacon = &sheet.groups()[1].options[1];
        assert!(bacon.sold_out && bacon.disabled);
        // Selling out a chosen option while the sheet is open drops it.
        let mut sheet = ItemSheet::new(item("cheeseburger"));
        sheet.toggle("bacon");
        sheet.refresh(burger);
        assert!(!sheet.is_selected("bacon"));
        let mut gone = item("cheeseburger");
        gone.available = false;
        sheet.refresh(gone);
        assert_eq!(sheet.check().unwrap_err().to_string(), "Cheeseburger is sold out");
    }

    #[test]
    fn an_emptied_required_group_blocks_adding_even_with_a_default() {
        let mut sauces = item("cola");
        // A required pick-up-to-2 group whose default could otherwise come back silently.
        sauces.modifier_groups[0].max = 2;
        let mut sheet = ItemSheet::new(sauces);
        sheet.toggle("drink-medium");
        assert!(!sheet.is_selected("drink-medium"));
        assert!(matches!(sheet.check(), Err(LineProblem::TooFew { .. })), "nothing chosen on screen, nothing added");
        assert_eq!(sheet.unit_price_cents(), 249);
    }

    #[test]
    fn an_edited_line_whose_option_sold_out_can_be_changed_and_saved() {
        let mut cart = Cart::new();
        let key = cart
            .add(&item("cheeseburger"), &LineRequest { options: vec!["bacon".into()], ..LineRequest::plain(1) })
            .unwrap();
        let line = cart.line(&key).unwrap().clone();
        let mut no_bacon = item("cheeseburger");
        no_bacon.modifier_groups[1].options[1].available = false;
        let mut sheet = ItemSheet::edit(no_bacon.clone(), &line);
        assert!(!sheet.is_selected("bacon"), "the sold-out choice is dropped");
        assert!(sheet.check().is_ok());
        // Were it still chosen, tapping it unchooses it.
        let mut stale = ItemSheet::edit(item("cheeseburger"), &line);
        stale.item = no_bacon;
        let bacon = stale.groups()[1].options[1].clone();
        assert!(bacon.selected && !bacon.disabled, "a chosen sold-out option can be unticked");
        stale.toggle("bacon");
        assert!(!stale.is_selected("bacon") && stale.check().is_ok());
        sheet.toggle("cheese");
        assert!(cart.replace(&key, sheet.item(), &sheet.request()).is_ok());
    }

    #[test]
    fn the_price_follows_the_choices_and_the_quantity() {
        let mut sheet = ItemSheet::new(item("classic-burger"));
        assert_eq!(sheet.unit_price_cents(), 799);
        sheet.toggle("large");
        sheet.toggle("bacon");
        sheet.set_quantity(2);
        assert_eq!(sheet.total_cents(), 2 * (799 + 200 + 150));
        sheet.set_quantity(0);
        assert_eq!(sheet.quantity(), 1);
        sheet.set_quantity(500);
        assert_eq!(sheet.quantity(), 99);
        let mut small = ItemSheet::new(item("cola"));
        small.toggle("drink-small");
        assert_eq!(small.unit_price_cents(), 199);
    }

    #[test]
    fn the_request_matches_what_the_cart_prices_and_an_edit_starts_from_the_line() {
        let mut sheet = ItemSheet::new(item("classic-burger"));
        sheet.toggle("medium");
        sheet.toggle("onions");
        sheet.toggle_allergy(Allergen::Sesame);
        sheet.toggle_allergy(Allergen::Dairy);
        sheet.set_note("  cut in half ");
        let mut cart = Cart::new();
        let key = cart.add(sheet.item(), &sheet.request()).unwrap();
        let line = cart.line(&key).unwrap().clone();
        assert_eq!(line.unit_price_cents, sheet.unit_price_cents());
        assert_eq!(line.allergies(), [Allergen::Dairy, Allergen::Sesame]);
        assert_eq!(line.special_instructions.as_deref(), Some("cut in half"));
        let edit = ItemSheet::edit(item("classic-burger"), &line);
        assert_eq!(edit.editing(), Some(&key));
        assert!(edit.is_selected("medium") && edit.is_selected("onions"));
        assert_eq!(edit.note(), "cut in half");
        assert_eq!(edit.allergies(), [Allergen::Dairy, Allergen::Sesame]);
        let mut edit = edit;
        edit.toggle_allergy(Allergen::Dairy);
        assert_eq!(edit.allergies(), [Allergen::Sesame]);
    }
}
