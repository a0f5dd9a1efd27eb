//! A value a page loads once before it can show anything (its configuration, the menu):
//! [`use_load`] runs the load, holds its result in a signal and runs it again on *Retry*.
//!
//! This is what Leptos' `LocalResource` read under `<Suspense>` did for these pages, with none
//! of the asynchronous machinery they bring (about 30 KB of each page's wasm): a load here has one
//! reader, no dependencies to track and no transition to hold.

use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;

use super::driver::{Task, spawn_task};

/// The page's handle on a load: `Copy`, inert once its owner is cleaned up.
pub struct UseLoadReturn<T: 'static> {
    value: RwSignal<Option<T>, LocalStorage>,
    start: StoredValue<Rc<dyn Fn()>, LocalStorage>,
}

impl<T> Clone for UseLoadReturn<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for UseLoadReturn<T> {}

impl<T: Clone + 'static> UseLoadReturn<T> {
    /// The loaded value, `None` while it loads (tracked).
    pub fn get(&self) -> Option<T> {
        self.value.try_get().flatten()
    }
}

impl<T: 'static> UseLoadReturn<T> {
    /// Forgets the value and loads it again; a load still under way is cancelled.
    pub fn reload(&self) {
        if self.value.try_set(None).is_some() {
            return;
        }
        let _ = self.start.try_with_value(|start| start());
    }
}

/// Runs `load` now, and again on each [`UseLoadReturn::reload`]. Its result is written when it
/// completes, unless a newer load replaced it or the owner was cleaned up first: either drops
/// the task, which cancels it.
pub fn use_load<T, F>(load: impl Fn() -> F + 'static) -> UseLoadReturn<T>
where
    T: 'static,
    F: Future<Output = T> + 'static,
{
    let value = RwSignal::new_local(None::<T>);
    let task = StoredValue::new_local(None::<Task>);
    let start: Rc<dyn Fn()> = Rc::new(move || {
        let work = load();
        let spawned = spawn_task(Box::pin(async move {
            let loaded = work.await;
            let _ = value.try_set(Some(loaded));
        }));
        // The load it replaces, if any, is dropped here: cancelled.
        let _ = task.try_update_value(|t| *t = Some(spawned));
    });
    start();
    UseLoadReturn { value, start: StoredValue::new_local(start) }
}
