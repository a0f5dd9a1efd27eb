//! Where transcripts come from offline: queued utterances, else a rotating demo script.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Queued utterances kept at once.
pub const MAX_QUEUED: usize = 64;
/// Longest utterance accepted.
pub const MAX_UTTERANCE_CHARS: usize = 1000;

pub const DEMO_SCRIPT: [&str; 6] = [
    "two cheeseburgers and a large fries",
    "a vanilla shake",
    "remove the fries",
    "add an apple pie",
    "that's all, checkout",
    // The kiosk reads the order back and asks "Shall I place it?" before placing it.
    "yes please",
];

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnqueueError {
    #[error("text is empty")]
    Empty,
    #[error("text is too long")]
    TooLong,
    #[error("utterance queue is full")]
    Full,
}

#[derive(Default)]
pub struct Utterances {
    inner: Mutex<State>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<String>,
    next_demo: usize,
}

impl Utterances {
    pub fn enqueue(&self, text: &str) -> Result<usize, EnqueueError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(EnqueueError::Empty);
        }
        if text.chars().count() > MAX_UTTERANCE_CHARS {
            return Err(EnqueueError::TooLong);
        }
        let mut s = self.lock();
        if s.queue.len() >= MAX_QUEUED {
            return Err(EnqueueError::Full);
        }
        s.queue.push_back(text.to_string());
        Ok(s.queue.len())
    }

    /// The oldest queued utterance, else the next line of the demo script.
    pub fn next(&self) -> String {
        let mut s = self.lock();
        if let Some(t) = s.queue.pop_front() {
            return t;
        }
        let line = DEMO_SCRIPT[s.next_demo % DEMO_SCRIPT.len()];
        s.next_demo = s.next_demo.wrapping_add(1);
        line.to_string()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is a single push/pop.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_utterances_come_first_then_the_demo_script_rotates() {
        let u = Utterances::default();
        assert_eq!(u.enqueue("  a cola "), Ok(1));
        assert_eq!(u.next(), "a cola");
        let script: Vec<String> = (0..DEMO_SCRIPT.len() + 1).map(|_| u.next()).collect();
        assert_eq!(script[0], DEMO_SCRIPT[0]);
        assert_eq!(script[DEMO_SCRIPT.len()], DEMO_SCRIPT[0]);
    }

    #[test]
    fn bad_utterances_are_refused_and_the_queue_is_bounded() {
        let u = Utterances::default();
        assert_eq!(u.enqueue("   "), Err(EnqueueError::Empty));
        assert_eq!(u.enqueue(&"x".repeat(MAX_UTTERANCE_CHARS + 1)), Err(EnqueueError::TooLong));
        for _ in 0..MAX_QUEUED {
            u.enqueue("a cola").unwrap();
        }
        assert_eq!(u.enqueue("a cola"), Err(EnqueueError::Full));
    }
}
