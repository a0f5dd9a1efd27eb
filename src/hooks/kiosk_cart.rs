//! `use_kiosk_cart`: the kiosk's cart, shared by touch ordering and the voice assistant's
//! function calls.

use leptos::prelude::*;
use restaurant_protocol::{MenuItem, NewOrder, OrderSource};

use crate::core::cart::{Cart, CartError, CartLine, LineKey, LineRequest};

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

    /// Runs `f` on the cart and publishes the result when the lines changed (so a change is seen
    /// once, and a look that changed nothing re-renders nothing); `None` once the owner is gone.
    pub fn update<R>(&self, f: impl FnOnce(&mut Cart) -> R) -> Option<R> {
        let result = self.cart.try_update_value(f)?;
        let changed = self.cart.with_value(|c| self.lines.try_with_untracked(|l| l.as_slice() != c.lines()));
        if changed.unwrap_or(false) {
            let _ = self.lines.try_set(self.cart.with_value(|c| c.lines().to_vec()));
        }
        Some(result)
    }

    /// Adds `request` of `item`; the error says why the menu cannot make it.
    pub fn add(&self, item: &MenuItem, request: &LineRequest) -> Result<LineKey, CartError> {
        let result = self.update(|c| c.add(item, request)).unwrap_or(Err(CartError::NoSuchLine));
        if let Err(e) = &result {
            log::warn!("[Cart] {} not added: {e}", item.id);
        }
        result
    }

    /// Replaces the line `key` (an edit from the item sheet).
    pub fn replace(&self, key: &LineKey, item: &MenuItem, request: &LineRequest) -> Result<LineKey, CartError> {
        let result = self.update(|c| c.replace(key, item, request)).unwrap_or(Err(CartError::NoSuchLine));
        if let Err(e) = &result {
            log::warn!("[Cart] {} not changed: {e}", item.id);
        }
        result
    }

    /// The cart as it is now (`None` once the owner is gone).
    pub fn with<R>(&self, f: impl FnOnce(&Cart) -> R) -> Option<R> {
        self.cart.try_with_value(f)
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
        let items = self.cart.try_with_value(Cart::to_new_items).unwrap_or_default();
        NewOrder { items, source, customer_name: None, notes: None }
    }
}
