//! `use_kiosk_cart`: the kiosk's cart, shared by touch ordering and the voice assistant's
//! function calls.

use leptos::prelude::*;
use restaurant_protocol::{MenuItem, NewOrder, NewOrderItem, OrderSource};

use crate::core::cart::{Cart, CartLine, LineKey};

/// The cart model (in the owner's arena) and its published lines. `Copy`; once the owner is
/// cleaned up every method is a no-op.
#[derive(Clone, Copy)]
pub struct KioskCart {
    cart: StoredValue<Cart, LocalStorage>,
    lines: RwSignal<Vec<CartLine>>,
}

/// Creates an empty cart owned by the current reactive owner.
pub fn use_kiosk_cart() -> KioskCart {
    KioskCart { cart: StoredValue::new_local(Cart::default()), lines: RwSignal::new(Vec::new()) }
}

impl KioskCart {
    /// The cart's lines, updated after every change.
    pub fn lines(&self) -> Signal<Vec<CartLine>> {
        self.lines.into()
    }

    /// Runs `f` on the cart and publishes the result; `None` once the owner is gone.
    pub fn update<R>(&self, f: impl FnOnce(&mut Cart) -> R) -> Option<R> {
        let result = self.cart.try_update_value(f)?;
        let _ = self.lines.try_set(self.cart.with_value(|c| c.lines().to_vec()));
        Some(result)
    }

    pub fn add(&self, item: &MenuItem) {
        if let Some(Err(e)) = self.update(|c| c.add(item, 1, &[], None)) {
            log::error!("[Cart] {} not added: {e}", item.id);
        }
    }

    /// Sets a line's quantity; 0 removes the line.
    pub fn set_quantity(&self, key: &LineKey, quantity: u32) {
        let result = self.update(|c| if quantity == 0 { c.remove_line(key) } else { c.set_quantity(key, quantity) });
        if let Some(Err(e)) = result {
            log::error!("[Cart] {e}");
        }
    }

    pub fn clear(&self) {
        self.update(Cart::clear);
    }

    pub fn is_empty(&self) -> bool {
        self.cart.try_with_value(Cart::is_empty).unwrap_or(true)
    }

    /// The order to submit for the current cart.
    pub fn to_order(&self, source: OrderSource) -> NewOrder {
        let items = self
            .cart
            .try_with_value(|c| {
                c.lines()
                    .iter()
                    .map(|l| NewOrderItem {
                        menu_item_id: l.key.item_id.clone(),
                        quantity: l.quantity,
                        modifiers: l.key.modifiers.clone(),
                        special_instructions: l.special_instructions.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        NewOrder { items, source, customer_name: None, notes: None }
    }
}
