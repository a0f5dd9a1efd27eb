//! Fan-out of order and menu events to every connected staff WebSocket client, with a replay window bounded in
//! events and in bytes ([`ReplayLimits`]; the oldest events leave first).
//!
//! Publishing never waits for a client: each client has a bounded queue, and a client whose queue
//! is full has it emptied and replaced by one `resync` frame (it reloads the snapshot).
//! Subscribing and publishing share one lock, so a new client gets every event exactly once:
//! either in its replay or in its queue.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ws::Utf8Bytes;
use restaurant_protocol::ServerMessage;
use tokio::sync::Notify;

use crate::store::Event;
use crate::sync::relock;

/// Bounds of a replay window: at most `events` events and `bytes` bytes of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayLimits {
    pub events: usize,
    pub bytes: usize,
}

impl ReplayLimits {
    /// Whether a window of `events` events totalling `bytes` is within both bounds.
    pub fn hold(&self, events: usize, bytes: usize) -> bool {
        events <= self.events && bytes <= self.bytes
    }
}

pub struct Feed {
    inner: Mutex<FeedInner>,
    replay_limits: ReplayLimits,
    client_queue: usize,
    next_id: AtomicU64,
    /// Dev mode: when each recent event was published (see [`Feed::with_publish_log`]).
    published: Option<Mutex<VecDeque<Published>>>,
}

/// When an event was published: its commit was done and the fan-out to the clients began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Published {
    pub seq: u64,
    /// On the wall clock, in ns since the Unix epoch.
    pub at_unix_ns: u64,
}

/// Publish times a dev hub keeps, at most (the oldest leave first).
pub const PUBLISH_LOG_LIMIT: usize = 65_536;

struct FeedInner {
    last_seq: u64,
    replay: VecDeque<(u64, Utf8Bytes)>,
    /// Total length of the frames in `replay`.
    replay_bytes: usize,
    clients: HashMap<u64, Arc<ClientQueue>>,
}

impl FeedInner {
    /// Drops the oldest events until the window is within `limits`.
    fn trim(&mut self, limits: ReplayLimits) {
        while !limits.hold(self.replay.len(), self.replay_bytes) {
            match self.replay.pop_front() {
                Some((_, frame)) => self.replay_bytes -= frame.len(),
                None => break,
            }
        }
    }
}

/// What a client (re)joining with `since` gets after `welcome`.
#[derive(Debug, PartialEq)]
pub enum Catchup {
    /// The events after `since`, in order (possibly none).
    Replay(Vec<Utf8Bytes>),
    /// `since` is older than the replay window (or unknown): send `resync` with this seq.
    Resync(u64),
}

impl Feed {
    /// A feed whose last event is `last_seq`, preloaded with `recent` (oldest first).
    pub fn new(last_seq: u64, recent: Vec<Event>, replay_limits: ReplayLimits, client_queue: usize) -> Feed {
        let replay: VecDeque<(u64, Utf8Bytes)> = recent.into_iter().map(|e| (e.seq, Utf8Bytes::from(e.json))).collect();
        let replay_bytes = replay.iter().map(|(_, f)| f.len()).sum();
        let mut inner = FeedInner { last_seq, replay, replay_bytes, clients: HashMap::new() };
        inner.trim(replay_limits);
        Feed {
            inner: Mutex::new(inner),
            replay_limits,
            client_queue: client_queue.max(1),
            next_id: AtomicU64::new(1),
            published: None,
        }
    }

    /// Also notes when each event is published, the last [`PUBLISH_LOG_LIMIT`] of them: a dev
    /// hub's fan-out is timed from there (`GET /api/v1/dev/published`).
    #[must_use]
    pub fn with_publish_log(self) -> Feed {
        Feed { published: Some(Mutex::new(VecDeque::new())), ..self }
    }

    /// The publish times noted, oldest first (empty unless [`Feed::with_publish_log`]).
    pub fn published(&self) -> Vec<Published> {
        self.published.as_ref().map_or_else(Vec::new, |log| relock(log).iter().copied().collect())
    }

    fn lock(&self) -> MutexGuard<'_, FeedInner> {
        relock(&self.inner)
    }

    /// Sends an event (events must arrive in `seq` order) to every client and the replay window.
    pub fn publish(&self, event: &Event) {
        if let Some(log) = &self.published {
            let at_unix_ns = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
            let mut log = relock(log);
            if log.len() == PUBLISH_LOG_LIMIT {
                log.pop_front();
            }
            log.push_back(Published { seq: event.seq, at_unix_ns });
        }
        let frame = Utf8Bytes::from(event.json.clone());
        let mut inner = self.lock();
        inner.last_seq = event.seq;
        inner.replay_bytes += frame.len();
        inner.replay.push_back((event.seq, frame.clone()));
        inner.trim(self.replay_limits);
        for client in inner.clients.values() {
            client.push_event(event.seq, frame.clone());
        }
    }

    /// Registers a client. Returns the `welcome` seq, what to send before the live events, and
    /// the client's queue (which leaves the feed when dropped).
    pub fn subscribe(self: &Arc<Self>, since: Option<u64>) -> (u64, Catchup, Subscription) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let queue = Arc::new(ClientQueue::new(self.client_queue));
        let mut inner = self.lock();
        let last = inner.last_seq;
        let catchup = match since {
            None => Catchup::Replay(Vec::new()),
            Some(since) if since == last => Catchup::Replay(Vec::new()),
            Some(since) => {
                let oldest = inner.replay.front().map(|(seq, _)| *seq);
                match oldest {
                    Some(oldest) if since < last && since + 1 >= oldest => Catchup::Replay(
                        inner.replay.iter().filter(|(seq, _)| *seq > since).map(|(_, f)| f.clone()).collect(),
                    ),
                    _ => Catchup::Resync(last),
                }
            }
        };
        inner.clients.insert(id, queue.clone());
        drop(inner);
        (last, catchup, Subscription { feed: self.clone(), id, queue })
    }

    /// The seq of the last event published (or loaded at start).
    pub fn last_seq(&self) -> u64 {
        self.lock().last_seq
    }

    /// Drops the replay events up to and including `seq` (their orders were removed): a client
    /// asking for `since` before them gets `resync`.
    pub fn forget_through(&self, seq: u64) {
        let mut inner = self.lock();
        while inner.replay.front().is_some_and(|(s, _)| *s <= seq) {
            if let Some((_, frame)) = inner.replay.pop_front() {
                inner.replay_bytes -= frame.len();
            }
        }
    }

    #[cfg(test)]
    fn client_count(&self) -> usize {
        self.lock().clients.len()
    }
}

/// A client's place in the feed; dropping it unsubscribes.
pub struct Subscription {
    feed: Arc<Feed>,
    id: u64,
    queue: Arc<ClientQueue>,
}

impl Subscription {
    pub fn queue(&self) -> &ClientQueue {
        &self.queue
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.feed.lock().clients.remove(&self.id);
    }
}

/// Bounded queue of frames for one client.
pub struct ClientQueue {
    frames: Mutex<VecDeque<Utf8Bytes>>,
    capacity: usize,
    ready: Notify,
}

impl ClientQueue {
    fn new(capacity: usize) -> ClientQueue {
        ClientQueue { frames: Mutex::new(VecDeque::new()), capacity, ready: Notify::new() }
    }

    fn push_event(&self, seq: u64, frame: Utf8Bytes) {
        let mut frames = relock(&self.frames);
        if frames.len() >= self.capacity {
            frames.clear();
            let resync = ServerMessage::Resync { seq };
            match serde_json::to_string(&resync) {
                Ok(text) => frames.push_back(Utf8Bytes::from(text)),
                Err(e) => tracing::error!("cannot encode resync: {e}"),
            }
            tracing::warn!(behind = self.capacity, seq, "a client fell behind: sent resync");
        } else {
            frames.push_back(frame);
        }
        drop(frames);
        self.ready.notify_one();
    }

    /// Waits until at least one frame may be queued.
    pub async fn ready(&self) {
        self.ready.notified().await
    }

    /// Takes every queued frame.
    pub fn take(&self) -> VecDeque<Utf8Bytes> {
        std::mem::take(&mut *relock(&self.frames))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64) -> Event {
        Event { seq, json: format!("e{seq}") }
    }

    fn events(n: usize) -> ReplayLimits {
        ReplayLimits { events: n, bytes: usize::MAX }
    }

    fn texts(frames: impl IntoIterator<Item = Utf8Bytes>) -> Vec<String> {
        frames.into_iter().map(|f| f.to_string()).collect()
    }

    #[test]
    fn a_client_gets_the_events_after_since_then_live_events() {
        let feed = Arc::new(Feed::new(3, (1..=3).map(event).collect(), events(10), 10));
        let (welcome, catchup, sub) = feed.subscribe(Some(1));
        assert_eq!(welcome, 3);
        let Catchup::Replay(frames) = catchup else { panic!("expected a replay") };
        assert_eq!(texts(frames), ["e2", "e3"]);
        feed.publish(&event(4));
        assert_eq!(texts(sub.queue().take()), ["e4"]);
    }

    #[test]
    fn since_older_than_the_window_or_from_the_future_gets_resync() {
        let feed = Arc::new(Feed::new(0, vec![], events(3), 10));
        for seq in 1..=5 {
            feed.publish(&event(seq));
        }
        assert_eq!(feed.subscribe(Some(1)).1, Catchup::Resync(5), "events 2 is gone");
        assert!(matches!(feed.subscribe(Some(2)).1, Catchup::Replay(f) if texts(f.clone()) == ["e3", "e4", "e5"]));
        assert_eq!(feed.subscribe(Some(9)).1, Catchup::Resync(5));
        assert_eq!(feed.subscribe(Some(5)).1, Catchup::Replay(vec![]));
        assert_eq!(feed.subscribe(None).1, Catchup::Replay(vec![]));
    }

    #[test]
    fn the_replay_window_is_bounded_in_bytes_too() {
        // "e1".."e9" are 2 bytes each: 6 bytes hold three events.
        let feed = Arc::new(Feed::new(0, vec![], ReplayLimits { events: 100, bytes: 6 }, 10));
        for seq in 1..=5 {
            feed.publish(&event(seq));
        }
        assert!(matches!(feed.subscribe(Some(2)).1, Catchup::Replay(f) if texts(f.clone()) == ["e3", "e4", "e5"]));
        assert_eq!(feed.subscribe(Some(1)).1, Catchup::Resync(5), "e2 left for the bytes");
        let preloaded = Feed::new(5, (1..=5).map(event).collect(), ReplayLimits { events: 100, bytes: 4 }, 10);
        assert_eq!(Arc::new(preloaded).subscribe(Some(2)).1, Catchup::Resync(5));
    }

    #[test]
    fn forgotten_events_leave_the_window() {
        let feed = Arc::new(Feed::new(4, (1..=4).map(event).collect(), events(10), 10));
        feed.forget_through(2);
        assert_eq!(feed.subscribe(Some(1)).1, Catchup::Resync(4));
        assert!(matches!(feed.subscribe(Some(2)).1, Catchup::Replay(f) if texts(f.clone()) == ["e3", "e4"]));
        feed.forget_through(4);
        assert_eq!(feed.subscribe(Some(3)).1, Catchup::Resync(4));
        assert_eq!(feed.subscribe(Some(4)).1, Catchup::Replay(vec![]));
    }

    #[test]
    fn a_full_queue_is_replaced_by_resync_and_later_events_follow() {
        let feed = Arc::new(Feed::new(0, vec![], events(100), 2));
        let (_, _, slow) = feed.subscribe(None);
        let (_, _, fast) = feed.subscribe(None);
        for seq in 1..=3 {
            feed.publish(&event(seq));
            if seq < 3 {
                assert_eq!(texts(fast.queue().take()), [format!("e{seq}")]);
            }
        }
        feed.publish(&event(4));
        assert_eq!(texts(slow.queue().take()), [r#"{"type":"resync","seq":3}"#, "e4"]);
        assert_eq!(texts(fast.queue().take()), ["e3", "e4"]);
    }

    #[test]
    fn dropping_a_subscription_leaves_the_feed() {
        let feed = Arc::new(Feed::new(0, vec![], events(10), 10));
        let (_, _, sub) = feed.subscribe(None);
        assert_eq!(feed.client_count(), 1);
        drop(sub);
        assert_eq!(feed.client_count(), 0);
    }

    #[test]
    fn a_dev_feed_notes_each_publish_time_keeping_the_latest() {
        let off = Feed::new(0, vec![], events(10), 10);
        off.publish(&event(1));
        assert!(off.published().is_empty(), "off unless asked for");

        let feed = Feed::new(0, vec![], events(10), 10).with_publish_log();
        let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
        for seq in 1..=PUBLISH_LOG_LIMIT as u64 + 2 {
            feed.publish(&event(seq));
        }
        let after = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
        let log = feed.published();
        assert_eq!(log.len(), PUBLISH_LOG_LIMIT, "the oldest leave at the limit");
        assert_eq!((log[0].seq, log[log.len() - 1].seq), (3, PUBLISH_LOG_LIMIT as u64 + 2));
        assert!(log.windows(2).all(|w| w[0].seq + 1 == w[1].seq && w[0].at_unix_ns <= w[1].at_unix_ns));
        assert!(before <= log[0].at_unix_ns && log[log.len() - 1].at_unix_ns <= after);
    }
}
