//! Client events waiting for the data channel, sent by one flush routine that re-checks the channel
//! before every send. A send that fails or finds the channel closed stops the flush and keeps the
//! unsent rest, in order, for the next flush: nothing is sent twice, nothing is lost.
//!
//! `flush` takes `&mut self`, so it cannot be re-entered while it runs (the channel it calls has no
//! way back into the outbox).

use std::collections::VecDeque;

/// The data channel as the outbox sees it.
pub trait EventChannel {
    fn is_open(&self) -> bool;
    /// Sends one text frame. `Err` means it was not sent.
    fn send(&mut self, text: &str) -> Result<(), String>;
}

pub const OUTBOX_CAPACITY: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxFull;

/// Why a flush stopped before emptying the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlushStop {
    ChannelClosed,
    SendFailed(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlushReport {
    pub sent: usize,
    pub stopped: Option<FlushStop>,
}

#[derive(Debug, Default)]
pub struct Outbox {
    queue: VecDeque<String>,
}

impl Outbox {
    pub fn push(&mut self, text: String) -> Result<(), OutboxFull> {
        if self.queue.len() >= OUTBOX_CAPACITY {
            return Err(OutboxFull);
        }
        self.queue.push_back(text);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn clear(&mut self) {
        self.queue.clear();
    }

    pub fn flush(&mut self, channel: &mut dyn EventChannel) -> FlushReport {
        let mut report = FlushReport::default();
        while let Some(text) = self.queue.pop_front() {
            if !channel.is_open() {
                self.queue.push_front(text);
                report.stopped = Some(FlushStop::ChannelClosed);
                break;
            }
            if let Err(e) = channel.send(&text) {
                self.queue.push_front(text);
                report.stopped = Some(FlushStop::SendFailed(e));
                break;
            }
            report.sent += 1;
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::test_support::FakeChannel;

    fn outbox_with(n: usize) -> Outbox {
        let mut o = Outbox::default();
        for i in 0..n {
            o.push(format!("m{i}")).unwrap();
        }
        o
    }

    #[test]
    fn events_queue_while_closed_and_flush_in_order_once_open() {
        let mut o = outbox_with(3);
        let mut ch = FakeChannel::default();
        assert_eq!(o.flush(&mut ch).stopped, Some(FlushStop::ChannelClosed));
        assert_eq!(o.len(), 3);
        ch.open = true;
        assert_eq!(o.flush(&mut ch), FlushReport { sent: 3, stopped: None });
        assert_eq!(ch.sent, ["m0", "m1", "m2"]);
        assert!(o.is_empty());
    }

    #[test]
    fn channel_closing_mid_flush_requeues_the_rest_in_order_without_duplicates() {
        let mut o = outbox_with(5);
        let mut ch = FakeChannel { open: true, close_after: Some(2), ..FakeChannel::default() };
        let report = o.flush(&mut ch);
        assert_eq!(report, FlushReport { sent: 2, stopped: Some(FlushStop::ChannelClosed) });
        assert_eq!(o.len(), 3);
        ch.open = true;
        ch.close_after = None;
        o.flush(&mut ch);
        assert_eq!(ch.sent, ["m0", "m1", "m2", "m3", "m4"]);
    }

    #[test]
    fn failed_send_keeps_the_message_for_the_next_flush() {
        let mut o = outbox_with(2);
        let mut ch = FakeChannel { open: true, fail_next_send: true, ..FakeChannel::default() };
        assert!(matches!(o.flush(&mut ch).stopped, Some(FlushStop::SendFailed(_))));
        assert_eq!(o.len(), 2);
        o.flush(&mut ch);
        assert_eq!(ch.sent, ["m0", "m1"]);
    }

    #[test]
    fn full_outbox_refuses_more() {
        let mut o = outbox_with(OUTBOX_CAPACITY);
        assert_eq!(o.push("x".into()), Err(OutboxFull));
        assert_eq!(o.len(), OUTBOX_CAPACITY);
    }
}
