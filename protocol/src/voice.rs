//! The kiosk's voice tools, in the Realtime API's `session.tools` format. One definition: the kiosk
//! sends it in `session.update`, and the hub puts it in the session it asks OpenAI to mint.

use serde_json::{Value, json};

/// `add_to_order`, `remove_from_order` and `confirm_order`.
pub fn kiosk_tools() -> Value {
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
                                "name": {"type": "string", "description": "Menu item name as on the menu"},
                                "quantity": {"type": "integer", "minimum": 1, "maximum": 99},
                                "modifiers": {"type": "array", "items": {"type": "string"}},
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
            "description": "checkout: submit the order; review: show the order on screen; cancel: start over.",
            "parameters": {
                "type": "object",
                "properties": {"action": {"type": "string", "enum": ["checkout", "review", "cancel"]}},
                "required": ["action"]
            }
        }
    ])
}
