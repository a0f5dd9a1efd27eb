//! How chosen options read: to a customer ("Large", "No onions", "Add bacon") and to a cook, who
//! reads the choices first, then what comes off, then what goes on ("LARGE", "NO onions",
//! "ADD bacon") — never prices.

use restaurant_protocol::{Allergen, ChosenOption, ModifierKind, OrderItem};

use crate::core::{sort, text};

/// One option as the customer reads it on the cart.
pub fn customer_label(option: &ChosenOption) -> String {
    match option.kind {
        ModifierKind::Choice => option.name.clone(),
        ModifierKind::Remove => format!("No {}", option.name),
        ModifierKind::Add => format!("Add {}", option.name),
    }
}

/// One line of a ticket under its item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookLine {
    pub kind: ModifierKind,
    pub text: String,
}

/// The options of an order line as a cook reads them: choices, then removals, then additions,
/// each keeping the menu's order.
pub fn cook_lines(options: &[ChosenOption]) -> Vec<CookLine> {
    let mut lines = Vec::with_capacity(options.len());
    for kind in [ModifierKind::Choice, ModifierKind::Remove, ModifierKind::Add] {
        for option in options.iter().filter(|o| o.kind == kind) {
            let text = match kind {
                ModifierKind::Choice => text::upper(&option.name),
                ModifierKind::Remove => format!("NO {}", option.name),
                ModifierKind::Add => format!("ADD {}", option.name),
            };
            lines.push(CookLine { kind, text });
        }
    }
    lines
}

/// The ticket's allergy banner: every allergy flagged on its lines, by name ("ALLERGY: TREE
/// NUTS, DAIRY"); `None` when no line has one.
pub fn allergy_banner<'a>(items: impl IntoIterator<Item = &'a OrderItem>) -> Option<String> {
    let mut all: Vec<Allergen> = items.into_iter().flat_map(|i| i.allergies.iter().copied()).collect();
    sort::sort(&mut all);
    all.dedup();
    (!all.is_empty()).then(|| {
        let names: Vec<String> = all.iter().map(|a| text::upper(a.label())).collect();
        format!("ALLERGY: {}", names.join(", "))
    })
}

/// One line's allergies for its badge ("Tree nuts, Dairy").
pub fn allergy_names(allergies: &[Allergen]) -> String {
    allergies.iter().map(|a| a.label()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::item;

    #[test]
    fn the_banner_names_every_flagged_allergy_once() {
        let mut a = item("Burger", "grill", 1);
        let mut b = item("Shake", "drinks", 1);
        assert_eq!(allergy_banner([&a, &b]), None);
        a.allergies = vec![Allergen::Nuts, Allergen::Dairy];
        b.allergies = vec![Allergen::Dairy];
        assert_eq!(allergy_banner([&a, &b]).as_deref(), Some("ALLERGY: DAIRY, TREE NUTS"));
        assert_eq!(allergy_names(&a.allergies), "Tree nuts, Dairy");
    }

    fn option(name: &str, kind: ModifierKind) -> ChosenOption {
        ChosenOption { group_id: "g".into(), option_id: name.into(), name: name.into(), kind, price_cents: 100 }
    }

    #[test]
    fn a_cook_reads_choices_then_removals_then_additions_without_prices() {
        let options = [
            option("bacon", ModifierKind::Add),
            option("onions", ModifierKind::Remove),
            option("Large", ModifierKind::Choice),
            option("pickles", ModifierKind::Remove),
        ];
        let texts: Vec<String> = cook_lines(&options).into_iter().map(|l| l.text).collect();
        assert_eq!(texts, ["LARGE", "NO onions", "NO pickles", "ADD bacon"]);
    }

    #[test]
    fn a_customer_reads_plain_words() {
        assert_eq!(customer_label(&option("Large", ModifierKind::Choice)), "Large");
        assert_eq!(customer_label(&option("onions", ModifierKind::Remove)), "No onions");
        assert_eq!(customer_label(&option("bacon", ModifierKind::Add)), "Add bacon");
    }
}
