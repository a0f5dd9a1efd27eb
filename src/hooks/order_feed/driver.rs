//! The order feed's driver: the [`OrderFeed`] core with its socket, timer, snapshot fetch,
//! connectivity listeners and debug surface.

use std::rc::Rc;

use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use leptos::prelude::*;
use restaurant_protocol::CallMessage;

use super::api::{self, SignInError, StoredSession};
use super::{BOARD_KEY, MAX_SAVED_BOARD_BYTES, OUTBOX_KEY, SESSION_KEY};
use crate::core::board::{Board, BoardConfig, SaveError, SavedBoard, SavedBoardWriter, Station, WriteProgress};
use crate::core::config::RuntimeConfig;
use crate::core::feed::{Banner, FeedCommand, FeedConfig, FeedStatus, OrderFeed};
use crate::core::time::Millis;
use crate::hooks::driver::{After, Driver, DriverRef, Task, socket_command};
use crate::hooks::staff_call::CallSignal;
use crate::web::clock;
use crate::web::debug::DebugObject;
use crate::web::events::{WindowListener, is_online};
use crate::web::frame::{NextFrame, page_hidden};
use crate::web::random::random_bytes;
use crate::web::socket::AttemptSocket;
use crate::web::storage;
use crate::web::timer::{self, DeadlineTimer};

pub(super) type SignInFuture = Shared<LocalBoxFuture<'static, Result<(), SignInError>>>;

/// The signals the page renders from; written only through `try_set` (silent once disposed).
#[derive(Clone, Copy)]
pub(super) struct Published {
    pub status: RwSignal<FeedStatus>,
    pub board: RwSignal<Board>,
    pub station: RwSignal<Option<Station>>,
    /// Wall-clock time (Unix ms) of the last board update.
    pub last_update: RwSignal<Option<f64>>,
}

impl Published {
    pub fn new(board: BoardConfig) -> Published {
        Published {
            status: RwSignal::new(FeedStatus { banner: Banner::SignedOut, last_update: None, board_saved_at: None }),
            board: RwSignal::new(Board::new(board)),
            station: RwSignal::new(None),
            last_update: RwSignal::new(None),
        }
    }
}

/// The longest the page waits for a frame before writing its signals anyway (a hidden tab gets
/// no frames).
const PUBLISH_FALLBACK_MS: u32 = 100;

/// Orders written per task when the board is saved for a reload (0.16–0.23 ms natively for the
/// page bench's two-item orders; more in a tablet's wasm): the browser draws between slices.
const SAVE_SLICE_ORDERS: usize = 50;

/// The board's text, written [`SAVE_SLICE_ORDERS`] orders per task; all that is left at once
/// while the page is hidden (it draws no frames, and its timers are throttled to one a second or
/// less, which would stretch the slices over minutes).
async fn write_in_slices(mut writer: SavedBoardWriter) -> Result<String, SaveError> {
    loop {
        let slice = if page_hidden() { usize::MAX } else { SAVE_SLICE_ORDERS };
        match writer.write(slice)? {
            WriteProgress::Writing(next) => {
                writer = next;
                timer::next_task().await;
            }
            WriteProgress::Done(json) => return Ok(json),
        }
    }
}

pub(super) struct FeedDriver {
    pub feed: OrderFeed,
    socket: AttemptSocket,
    timer: DeadlineTimer,
    /// The pending write of the page's signals (see [`FeedDriver::publish`]).
    frame: Option<NextFrame>,
    /// Set by an input from the person at the screen, for the `drive` that follows it.
    render_now: bool,
    /// The snapshot request in flight; replacing or dropping it aborts it.
    snapshot: Option<Task>,
    /// The board being written for a reload, a slice per task; dropping it stops it.
    board_save: Option<Task>,
    /// The board changed again while it was being written: saved again once that save is done.
    save_again: bool,
    sign_in: Option<SignInFuture>,
    /// The status last published.
    shown: Option<FeedStatus>,
    /// Bumped by sign-out, so a sign-in answered afterwards is not applied.
    session_generation: u64,
    api_base: String,
    ws_url: String,
    station: String,
    published: Published,
    /// Receives the staff call frames of this socket (the page's call, if it has one).
    pub call_subscriber: Option<Rc<dyn Fn(CallSignal)>>,
    me: DriverRef<FeedDriver>,
    _listeners: Vec<WindowListener>,
    _debug: DebugObject,
}

impl Driver for FeedDriver {
    const NAME: &'static str = "OrderFeed";

    fn drive(&mut self, after: &mut After) {
        let mut changed = false;
        let mut signals = Vec::new();
        while let Some(command) = self.feed.poll_command() {
            match command {
                FeedCommand::Socket(command) => {
                    let me = self.me.clone();
                    socket_command(&me, self, command, |d| (&mut d.socket, &mut d.feed, &d.ws_url));
                }
                FeedCommand::FetchSnapshot => self.fetch_snapshot(),
                FeedCommand::PersistOutbox(json) => {
                    storage::set(OUTBOX_KEY, &json);
                }
                FeedCommand::PersistBoard => self.save_board(),
                FeedCommand::UiChanged => changed = true,
                FeedCommand::Call(message) => signals.push(CallSignal::Message(message)),
                FeedCommand::CallsLost => signals.push(CallSignal::Lost),
            }
        }
        self.timer.set_deadline(self.feed.poll_timeout());
        let status = self.feed.status();
        // The hub keeps sessions across restarts; a rejected token means signing in with the PIN.
        if status.banner == Banner::SignInFailed {
            storage::remove(SESSION_KEY);
            self.forget_saved_board();
        }
        if changed || self.shown != Some(status) {
            self.shown = Some(status);
            self.publish(after);
        }
        self.render_now = false;
        if !signals.is_empty() {
            // Released first: the call may answer on this socket right away.
            let subscriber = self.call_subscriber.clone();
            after.push(move || match subscriber {
                Some(subscriber) => signals.into_iter().for_each(|signal| subscriber(signal)),
                None => signals.iter().for_each(|signal| {
                    if let CallSignal::Message(message) = signal {
                        log::warn!("[OrderFeed] no staff call on this page; dropped {}", message.kind());
                    }
                }),
            });
        }
    }
}

impl FeedDriver {
    pub fn new(config: &RuntimeConfig, published: Published, me: DriverRef<FeedDriver>) -> FeedDriver {
        let feed_config = FeedConfig {
            board: BoardConfig::with_thresholds_min(config.ticket_warning_min, config.ticket_urgent_min),
            ..FeedConfig::default()
        };
        let mut feed = OrderFeed::new(feed_config, u64::from_le_bytes(random_bytes::<8>()));
        if let Some(stored) = storage::get(OUTBOX_KEY)
            && let Err(e) = feed.restore_outbox(&stored)
        {
            log::error!("[OrderFeed] stored outbox not restored: {e}");
        }
        if !is_online() {
            feed.handle_online(clock::now(), false);
        }
        let fire = me.clone();
        let timer = DeadlineTimer::new(move || {
            fire.run(|d, now| d.feed.handle_timeout(now));
        });
        let listeners = [("online", true), ("offline", false)]
            .into_iter()
            .filter_map(|(event, online)| {
                let me = me.clone();
                WindowListener::new(event, move |_| {
                    me.run(move |d, now| d.feed.handle_online(now, online));
                })
            })
            .collect();
        FeedDriver {
            feed,
            socket: AttemptSocket::new("OrderFeed"),
            timer,
            frame: None,
            render_now: false,
            snapshot: None,
            board_save: None,
            save_again: false,
            sign_in: None,
            shown: None,
            session_generation: 0,
            api_base: config.api_base.clone(),
            ws_url: config.ws_url.clone(),
            station: config.station.clone(),
            published,
            call_subscriber: None,
            _debug: super::debug::install(me.clone()),
            me,
            _listeners: listeners,
        }
    }

    /// The next change is written to the page at once rather than at the next frame: for what
    /// the person at the screen just did.
    pub fn render_now(&mut self) {
        self.render_now = true;
    }

    /// Writes the page's signals at the next frame, from the state then: events arriving faster
    /// than frames are rendered once per frame, so a busy kitchen cannot queue up renders. What
    /// the person at the screen did ([`FeedDriver::render_now`]) is written at once.
    fn publish(&mut self, after: &mut After) {
        if self.render_now {
            self.frame = None;
            after.push(self.published());
            return;
        }
        if self.frame.as_ref().is_some_and(NextFrame::is_pending) {
            return;
        }
        let me = self.me.clone();
        self.frame = Some(NextFrame::new(PUBLISH_FALLBACK_MS, move || {
            // Read under the driver, written once it is released (a write may call back in).
            if let Some(write) = me.run(|d, _| d.published()) {
                write();
            }
        }));
    }

    /// Writes the current status, board and station to the page's signals.
    fn published(&self) -> impl FnOnce() + use<> {
        let status = self.feed.status();
        let (to, board, station) = (self.published, self.feed.board().clone(), self.feed.station().cloned());
        // The feed's clock is monotonic; the banner shows wall-clock time.
        let last_update = status.last_update.map(|t| clock::unix_ms() - (clock::now_ms() - t.0 as f64));
        move || {
            // Each written only when it changed (the status holds the time of the last update,
            // so it changes with nearly every event; the station seldom does). The wall-clock
            // time of the last update is written when the feed's own changed: worked out again
            // from two clocks, it would differ by a fraction of a millisecond every time.
            let updated = to.status.try_with_untracked(|s| s.last_update != status.last_update) == Some(true);
            let _ = to.status.try_maybe_update(|s| (std::mem::replace(s, status) != status, ()));
            let _ = to.board.try_set(board);
            let _ = to.station.try_maybe_update(|s| (std::mem::replace(s, station.clone()) != station, ()));
            if updated {
                let _ = to.last_update.try_set(last_update);
            }
        }
    }

    fn fetch_snapshot(&mut self) {
        let api_base = self.api_base.clone();
        let token = self.feed.token().map(str::to_string);
        let fetch = async move { api::fetch_snapshot(&api_base, token.as_deref()).await };
        self.snapshot = Some(self.me.spawn(fetch, |d, now, result| {
            d.snapshot = None;
            d.feed.handle_snapshot(now, result);
        }));
    }

    /// The sign-in on its way (joined, or started now); `None` when already signed in.
    pub fn sign_in_flight(&mut self, pin: String) -> Option<SignInFuture> {
        if self.feed.station().is_some() && self.feed.status().banner != Banner::SignInFailed {
            return None;
        }
        if let Some(flight) = &self.sign_in {
            return Some(flight.clone());
        }
        let (api_base, station) = (self.api_base.clone(), self.station.clone());
        let (me, generation) = (self.me.clone(), self.session_generation);
        let flight: SignInFuture = async move {
            let token = api::request_token(&api_base, &station, &pin).await;
            me.run(move |d, now| {
                d.sign_in = None;
                if d.session_generation != generation {
                    return Err(SignInError::Closed);
                }
                let token = token?;
                let session = StoredSession { token: token.clone(), station: station.clone() };
                if let Ok(json) = serde_json::to_string(&session) {
                    storage::set(SESSION_KEY, &json);
                }
                d.feed.login(now, token, &station);
                Ok(())
            })
            .unwrap_or(Err(SignInError::Closed))
        }
        .boxed_local()
        .shared();
        self.sign_in = Some(flight.clone());
        Some(flight)
    }

    /// Disconnects, forgets the board and the stored session, cancels a sign-in on its way, and
    /// asks the hub to revoke the token. The revocation is not tied to the page: it completes
    /// (or logs why not) even if the page closes right after.
    pub fn logout(&mut self) {
        self.session_generation += 1;
        self.sign_in = None;
        self.snapshot = None;
        storage::remove(SESSION_KEY);
        self.forget_saved_board();
        if let Some(token) = self.feed.token().map(str::to_string) {
            let (api_base, station) = (self.api_base.clone(), self.station.clone());
            leptos::task::spawn_local(async move { api::sign_out(&api_base, &station, &token).await });
        }
        self.feed.logout();
    }

    /// Signs in with the stored token of this page's station, if any.
    pub fn resume(&mut self, now: Millis) {
        if self.feed.station().is_some() {
            return;
        }
        let Some(text) = storage::get(SESSION_KEY) else {
            return;
        };
        match serde_json::from_str::<StoredSession>(&text) {
            Ok(session) if session.station == self.station => {
                log::info!("[OrderFeed] resuming the stored session of station {}", session.station);
                self.restore_board();
                self.feed.login(now, session.token, &session.station);
            }
            Ok(_) => {
                storage::remove(SESSION_KEY);
                self.forget_saved_board();
            }
            Err(e) => {
                log::error!("[OrderFeed] stored session ignored: {e}");
                storage::remove(SESSION_KEY);
                self.forget_saved_board();
            }
        }
    }

    /// Writes the current board to local storage (a reload during an outage shows it), a slice of
    /// orders per task so that a large board never holds up a frame. A save on its way is not
    /// dropped for a newer board (dropping each for the next could leave none finished): the
    /// newer board is saved when it is done.
    fn save_board(&mut self) {
        if self.board_save.is_some() {
            self.save_again = true;
            return;
        }
        let Some(mut saved) = self.feed.board().saved() else { return };
        saved.saved_at_unix_ms = clock::unix_ms().max(0.0) as u64;
        let writer = SavedBoardWriter::new(saved, MAX_SAVED_BOARD_BYTES);
        self.board_save = Some(self.me.spawn(write_in_slices(writer), |d, _, written| {
            d.board_save = None;
            match written {
                Ok(json) => {
                    if !storage::set(BOARD_KEY, &json) {
                        log::warn!("[OrderFeed] the board ({} bytes) could not be saved for a reload", json.len());
                    }
                }
                Err(e @ SaveError::TooLarge { .. }) => {
                    log::warn!("[OrderFeed] not saved for a reload: {e}");
                    storage::remove(BOARD_KEY);
                }
                Err(e) => log::error!("[OrderFeed] not saved for a reload: {e}"),
            }
            if std::mem::take(&mut d.save_again) {
                d.save_board();
            }
        }));
    }

    /// Stops a save on its way and removes the saved board (sign-out, a refused session).
    fn forget_saved_board(&mut self) {
        self.board_save = None;
        self.save_again = false;
        storage::remove(BOARD_KEY);
    }

    /// Shows the board saved before the reload, if there is one, until the hub is reached.
    fn restore_board(&mut self) {
        let Some(text) = storage::get(BOARD_KEY) else { return };
        match serde_json::from_str::<SavedBoard>(&text) {
            Ok(saved) => {
                if !self.feed.restore_board(saved, clock::unix_ms().max(0.0) as u64) {
                    storage::remove(BOARD_KEY);
                }
            }
            Err(e) => {
                log::error!("[OrderFeed] saved board ignored: {e}");
                storage::remove(BOARD_KEY);
            }
        }
    }

    /// Sends a staff call frame on the feed's socket; `false` when it is not connected.
    pub fn send_call(&mut self, message: &CallMessage) -> bool {
        self.feed.send_call(message)
    }
}
