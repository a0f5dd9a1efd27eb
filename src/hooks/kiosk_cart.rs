//! The kiosk's cart, shared by touch ordering and the voice assistant's function calls.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use restaurant_protocol::{MenuItem, NewOrder, NewOrderItem, OrderSource};
use send_wrapper::SendWrapper;

use crate::core::cart::{Cart, CartError, CartLine, LineKey};

/// `cart` is the model; `lines` is its published view, updated after every change.
/// `Send + Sync` only so it can live in Leptos views: the app is single-threaded (wasm) and the
/// wrapper panics rather than allow access from another thread.
#[derive(Clone)]
pub struct KioskCart {
    cart: SendWrapper<Rc<RefCell<Cart>>>,
    pub lines: RwSignal<Vec<CartLine>>,
}

impl Default for KioskCart {
    fn default() -> Self {
        KioskCart { cart: SendWrapper::new(Rc::default()), lines: RwSignal::new(Vec::new()) }
    }
}

impl KioskCart {
    /// Runs `f` on the cart and publishes the result (a disposed view is left alone).
    pub fn update<R>(&self, f: impl FnOnce(&mut Cart) -> R) -> R {
        let result = f(&mut self.cart.borrow_mut());
        let _ = self.lines.try_set(self.cart.borrow().lines().to_vec());
        result
    }

    pub fn add(&self, item: &MenuItem) -> Result<LineKey, CartError> {
        self.update(|c| c.add(item, 1, &[], None)).inspect_err(|e| log::error!("[Cart] {e}"))
    }

    pub fn set_quantity(&self, key: &LineKey, quantity: u32) {
        if let Err(e) = self.update(|c| if quantity == 0 { c.remove_line(key) } else { c.set_quantity(key, quantity) })
        {
            log::error!("[Cart] {e}");
        }
    }

    pub fn clear(&self) {
        self.update(Cart::clear);
    }

    pub fn is_empty(&self) -> bool {
        self.cart.borrow().is_empty()
    }

    /// The order to submit for the current cart.
    pub fn to_order(&self, source: OrderSource) -> NewOrder {
        let items = self
            .cart
            .borrow()
            .lines()
            .iter()
            .map(|l| NewOrderItem {
                menu_item_id: l.key.item_id.clone(),
                quantity: l.quantity,
                modifiers: l.key.modifiers.clone(),
                special_instructions: l.special_instructions.clone(),
            })
            .collect();
        NewOrder { items, source, customer_name: None, notes: None }
    }
}
