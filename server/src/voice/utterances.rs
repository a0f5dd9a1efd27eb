//! A dev knob: transcripts queued for the next turns (`POST /api/v1/dev/utterances`), for tests
//! that need exact text. A queued transcript stands in for what the recognizer would hear.

use std::collections::VecDeque;
use std::sync::Mutex;

/// Queued utterances kept at once.
pub const MAX_QUEUED: usize = 64;
/// Longest utterance accepted.
pub const MAX_UTTERANCE_CHARS: usize = 1000;

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

    /// The oldest queued utterance, if any.
    pub fn next(&self) -> Option<String> {
        self.lock().queue.pop_front()
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
    fn queued_utterances_come_out_in_order_and_then_there_are_none() {
        let u = Utterances::default();
        assert_eq!(u.enqueue("  a cola "), Ok(1));
        assert_eq!(u.enqueue("yes"), Ok(2));
        assert_eq!(u.next().as_deref(), Some("a cola"));
        assert_eq!(u.next().as_deref(), Some("yes"));
        assert_eq!(u.next(), None, "no scripted line stands in for speech");
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
