//! At most one model response at a time: a `response.create` asked for while one is active waits
//! for that response's `response.done`.

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ResponseSequencer {
    active: bool,
    pending: bool,
}

impl ResponseSequencer {
    /// Asks for a response; `true` means send `response.create` now.
    pub fn request(&mut self) -> bool {
        if self.active {
            self.pending = true;
            false
        } else {
            self.active = true;
            true
        }
    }

    pub fn on_created(&mut self) {
        self.active = true;
    }

    /// The active response ended; `true` means send the waiting `response.create` now.
    pub fn on_done(&mut self) -> bool {
        self.active = false;
        if self.pending {
            self.pending = false;
            self.active = true;
            true
        } else {
            false
        }
    }

    /// The server refused a create because a response is already running: the waiting create is
    /// dropped, and that running response's `response.done` will end it.
    pub fn on_already_active(&mut self) {
        self.pending = false;
        self.active = true;
    }

    /// A `response.create` was sent and its `response.done` has not come yet.
    pub fn active(&self) -> bool {
        self.active
    }

    /// Forgets a create waiting for the running response to end (the customer started talking).
    pub fn drop_pending(&mut self) {
        self.pending = false;
    }

    /// A response is running or one is waiting to be created.
    pub fn busy(&self) -> bool {
        self.active || self.pending
    }

    pub fn reset(&mut self) {
        *self = ResponseSequencer::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_while_active_waits_for_done() {
        let mut s = ResponseSequencer::default();
        assert!(s.request());
        assert!(!s.request(), "second create waits");
        assert!(!s.request(), "and is not queued twice");
        assert!(s.on_done(), "sent once the first is done");
        assert!(!s.on_done());
        assert!(!s.busy());
    }

    #[test]
    fn active_response_error_clears_the_pending_create() {
        let mut s = ResponseSequencer::default();
        s.on_created();
        assert!(!s.request());
        s.on_already_active();
        assert!(!s.on_done(), "nothing left to send");
        assert!(!s.busy());
    }
}
