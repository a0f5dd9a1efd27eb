//! The kiosk's voice tools (the Realtime API's `session.tools` format) and instructions, made from
//! the menu. One definition: the kiosk sends them in `session.update` (again when availability
//! changes), and the hub puts them in the session it asks OpenAI to mint.

use serde_json::{Value, json};

use crate::menu::{Allergen, Menu, format_price};

/// The assistant's instructions: how to take an order, and the menu with prices, option groups
/// and what is sold out right now.
pub fn kiosk_instructions(menu: &Menu) -> String {
    let mut text = String::from(
        "You are the friendly voice of a restaurant ordering kiosk. Keep replies short. Only sell \
         items from the menu below; use add_to_order, remove_from_order and confirm_order to change \
         the order, and read back what changed. Pass options by their names (\"Large\", \"no onions\", \
         \"add bacon\"). When an item has a required choice the customer did not make, ask for it. If \
         the customer mentions an allergy, pass it in `allergies`. If a tool reports a problem, tell \
         the customer and ask how to go on. Never offer a sold-out item. After each change, say what \
         changed in a few words (\"Two cheeseburgers, added.\"). When the customer is done, call \
         confirm_order with checkout: the kiosk answers with a read-back of the order ending in \
         \"Shall I place it?\"; say exactly that and wait. Only when the customer says yes, call \
         confirm_order with checkout again to place it.\n\nMenu:\n",
    );
    for item in &menu.items {
        text.push_str(&format!("- {} ({}), {}", item.name, item.category, format_price(item.price_cents.into())));
        if !item.available {
            text.push_str(" SOLD OUT today");
        }
        if !item.aliases.is_empty() {
            text.push_str(&format!("; also called: {}", item.aliases.join(", ")));
        }
        if !item.allergens.is_empty() {
            let names: Vec<&str> = item.allergens.iter().map(|a| a.as_str()).collect();
            text.push_str(&format!("; contains {}", names.join(", ")));
        }
        text.push('\n');
        for group in &item.modifier_groups {
            let options: Vec<String> = group
                .options
                .iter()
                .map(|o| {
                    let mut s = o.name.clone();
                    if o.price_cents != 0 {
                        s.push_str(&format!(
                            " {}{}",
                            if o.price_cents > 0 { "+" } else { "" },
                            format_price(o.price_cents.into())
                        ));
                    }
                    if o.default {
                        s.push_str(" (default)");
                    }
                    if !o.available {
                        s.push_str(" (sold out)");
                    }
                    s
                })
                .collect();
            text.push_str(&format!("  {} ({}): {}\n", group.name, group.rule(), options.join(", ")));
        }
    }
    text
}

/// `add_to_order`, `remove_from_order` and `confirm_order`, with the menu's item names.
pub fn kiosk_tools(menu: &Menu) -> Value {
    let names: Vec<&str> = menu.items.iter().map(|i| i.name.as_str()).collect();
    let allergens: Vec<&str> = Allergen::ALL.iter().map(|a| a.as_str()).collect();
    json!([
        {
            "type": "function",
            "name": "add_to_order",
            "description": "Add one or more menu items to the customer's order.",
            "parameters": {
                "type": "object",
                "properties": {
                    "items": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "name": {
                                    "type": "string",
                                    "description": format!("Menu item name as on the menu: {}", names.join(", "))
                                },
                                "quantity": {"type": "integer", "minimum": 1, "maximum": 99},
                                "options": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                    "description": "Option names from the item's groups, e.g. Large, no onions, add bacon"
                                },
                                "allergies": {
                                    "type": "array",
                                    "items": {"type": "string", "enum": allergens},
                                    "description": "Allergies the customer mentioned for this item"
                                },
                                "special_instructions": {"type": "string"}
                            },
                            "required": ["name", "quantity"]
                        }
                    }
                },
                "required": ["items"]
            }
        },
        {
            "type": "function",
            "name": "remove_from_order",
            "description": "Remove a menu item from the order (all of it unless a quantity is given).",
            "parameters": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1, "maximum": 99}
                },
                "required": ["name"]
            }
        },
        {
            "type": "function",
            "name": "confirm_order",
            "description": "checkout: when the customer is done. The first checkout shows the order and returns a read-back ending in \"Shall I place it?\": say it and wait; call checkout again only when the customer says yes, which places the order. review: show the order on screen; cancel: start over.",
            "parameters": {
                "type": "object",
                "properties": {"action": {"type": "string", "enum": ["checkout", "review", "cancel"]}},
                "required": ["action"]
            }
        }
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::menu::MenuItem;

    fn menu() -> Menu {
        let burger: MenuItem = serde_json::from_value(json!({
            "id": "burger", "name": "Burger", "price_cents": 800, "category": "Burgers", "station": "grill",
            "allergens": ["gluten"],
            "modifier_groups": [{"id": "size", "name": "Size", "min": 1, "max": 1, "options": [
                {"id": "small", "name": "Small"}, {"id": "large", "name": "Large", "price_cents": 200}]}]
        }))
        .unwrap();
        let shake: MenuItem = serde_json::from_value(json!({
            "id": "shake", "name": "Shake", "price_cents": 500, "category": "Desserts", "station": "drinks",
            "available": false
        }))
        .unwrap();
        Menu { items: vec![burger, shake], tax: Default::default() }
    }

    #[test]
    fn instructions_name_prices_groups_allergens_and_what_is_sold_out() {
        let text = kiosk_instructions(&menu());
        assert!(text.contains("- Burger (Burgers), $8.00; contains gluten"), "{text}");
        assert!(text.contains("  Size (choose 1): Small, Large +$2.00"), "{text}");
        assert!(text.contains("- Shake (Desserts), $5.00 SOLD OUT today"), "{text}");
    }

    #[test]
    fn tools_list_the_item_names_and_allergens() {
        let tools = kiosk_tools(&menu());
        let item = &tools[0]["parameters"]["properties"]["items"]["items"]["properties"];
        assert!(item["name"]["description"].as_str().unwrap().ends_with("Burger, Shake"));
        assert_eq!(item["allergies"]["items"]["enum"].as_array().unwrap().len(), Allergen::ALL.len());
        assert_eq!(item["options"]["type"], "array");
    }
}
