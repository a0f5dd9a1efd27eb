//! Locking shared by the hub's modules.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, poisoned or not. For the locks whose every update is a single step (a push, a
/// pop, an insert), so a panic while one was held cannot have left what it guards inconsistent.
pub fn relock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
