//! Remembers the most recent server `event_id`s so a replayed event is applied once.

use std::collections::{HashSet, VecDeque};

pub const DEDUPE_CAPACITY: usize = 1000;

#[derive(Debug, Default)]
pub struct EventIdWindow {
    order: VecDeque<String>,
    seen: HashSet<String>,
}

impl EventIdWindow {
    /// Records `id`; `false` if it is already among the last [`DEDUPE_CAPACITY`] ids.
    pub fn insert(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() == DEDUPE_CAPACITY
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.order.push_back(id.to_string());
        self.seen.insert(id.to_string());
        true
    }

    pub fn clear(&mut self) {
        self.order.clear();
        self.seen.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_id_is_rejected_until_it_leaves_the_window() {
        let mut w = EventIdWindow::default();
        assert!(w.insert("e0"));
        assert!(!w.insert("e0"));
        for i in 1..DEDUPE_CAPACITY {
            assert!(w.insert(&format!("e{i}")));
        }
        assert!(!w.insert("e0"), "still within the last 1000");
        assert!(w.insert("new"));
        assert!(w.insert("e0"), "evicted once 1000 newer ids arrived");
    }
}
