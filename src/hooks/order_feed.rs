//! `use_order_feed`: runs the kitchen screen's [`OrderFeed`] against the browser.
//!
//! One driver per mounted page owns the feed, its socket, its timer, the in-flight snapshot fetch,
//! the connectivity listeners and the `window.__wsService` debug surface. After every input it
//! drains [`OrderFeed::poll_command`], carries each command out, re-arms the timer from
//! [`OrderFeed::poll_timeout`] and, once the driver is released, publishes what changed to the
//! page's signals. Browser callbacks hold only a `Weak` to the driver, so once the page's owner is
//! cleaned up (which drops the driver and with it every socket, timer and listener) nothing runs
//! and no signal is written.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::rc::{Rc, Weak};

use futures::FutureExt;
use futures::future::{AbortHandle, Abortable, LocalBoxFuture, Shared};
use leptos::prelude::*;
use restaurant_protocol::{ApiError, CallMessage, PinRequest, PinResponse, ServerMessage, Snapshot};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use crate::core::board::{Board, BoardConfig, Command, CommandError, Station};
use crate::core::config::RuntimeConfig;
use crate::core::feed::{Banner, FeedCommand, FeedConfig, FeedStatus, OrderFeed};
use crate::core::link::{AttemptId, SocketInput};
use crate::core::time::Millis;
use crate::hooks::staff_call::CallSignal;
use crate::web::clock::{now_ms, unix_ms};
use crate::web::debug::{DebugObject, to_js};
use crate::web::events::{WindowListener, is_online};
use crate::web::random::random_bytes;
use crate::web::socket::AttemptSocket;
use crate::web::timer::DeadlineTimer;
use crate::web::{http, storage};

/// Local-storage key of the commands the hub has not answered yet.
pub const OUTBOX_KEY: &str = "kds.outbox";
/// Local-storage key of the signed-in station's token, so a reloaded screen reconnects by itself.
pub const SESSION_KEY: &str = "kds.session";

/// Why signing in did not work, worded for the cook at the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInError {
    WrongPin,
    TooManyAttempts,
    /// The hub refused the request (e.g. an invalid station name).
    Rejected(String),
    Unreachable(String),
    /// The page was closed before the answer arrived.
    Closed,
}

impl fmt::Display for SignInError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignInError::WrongPin => write!(f, "Wrong PIN"),
            SignInError::TooManyAttempts => {
                write!(f, "Too many wrong PINs — wait a minute and try again")
            }
            SignInError::Rejected(m) => write!(f, "Sign-in refused: {m}"),
            SignInError::Unreachable(m) => write!(f, "Cannot reach the hub ({m})"),
            SignInError::Closed => write!(f, "Sign-in cancelled"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredSession {
    token: String,
    station: String,
}

type SignInFuture = Shared<LocalBoxFuture<'static, Result<(), SignInError>>>;

/// The signals the page renders from; written only through `try_set` (silent once disposed).
#[derive(Clone, Copy)]
struct Published {
    status: RwSignal<FeedStatus>,
    board: RwSignal<Board>,
    station: RwSignal<Option<Station>>,
    /// Wall-clock time (Unix ms) of the last board update.
    last_update: RwSignal<Option<f64>>,
}

/// What changed, gathered while the driver is borrowed and written after it is released.
struct View {
    status: FeedStatus,
    board: Board,
    station: Option<Station>,
    last_update: Option<f64>,
}

impl View {
    fn publish(self, to: Published) {
        let _ = to.status.try_set(self.status);
        let _ = to.board.try_set(self.board);
        let _ = to.station.try_set(self.station);
        let _ = to.last_update.try_set(self.last_update);
    }
}

struct Driver {
    feed: OrderFeed,
    socket: AttemptSocket,
    timer: DeadlineTimer,
    /// The snapshot request in flight; aborted when replaced or dropped.
    snapshot: Option<AbortOnDrop>,
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
    call_subscriber: Option<Rc<dyn Fn(CallSignal)>>,
    /// Call signals gathered while the driver is borrowed, handed on once it is released.
    call_signals: Vec<CallSignal>,
    me: Weak<RefCell<Driver>>,
    _listeners: Vec<WindowListener>,
    _debug: DebugObject,
}

struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn now() -> Millis {
    Millis(now_ms().max(0.0) as u64)
}

/// Feeds one input to the driver, carries out what it decided and publishes the result. `None`
/// when the driver is busy (an input arriving from inside another, which the browser never does).
fn run<R>(driver: &Rc<RefCell<Driver>>, input: impl FnOnce(&mut Driver, Millis) -> R) -> Option<R> {
    let Ok(mut d) = driver.try_borrow_mut() else {
        log::error!("[OrderFeed] input arrived while the driver was busy; dropped");
        return None;
    };
    let result = input(&mut d, now());
    let view = d.drive();
    let published = d.published;
    let signals = std::mem::take(&mut d.call_signals);
    let subscriber = d.call_subscriber.clone();
    drop(d);
    if let Some(view) = view {
        view.publish(published);
    }
    // Outside the borrow: the call may answer on this socket right away.
    match subscriber {
        Some(subscriber) => signals.into_iter().for_each(|signal| subscriber(signal)),
        None => signals.iter().for_each(|signal| {
            if let CallSignal::Message(message) = signal {
                log::warn!("[OrderFeed] no staff call on this page; dropped {}", message.kind());
            }
        }),
    }
    Some(result)
}

/// Like [`run`], for callbacks that only hold a `Weak` (silently nothing once the page is gone).
fn run_weak(driver: &Weak<RefCell<Driver>>, input: impl FnOnce(&mut Driver, Millis)) {
    if let Some(driver) = driver.upgrade() {
        run(&driver, input);
    }
}

impl Driver {
    fn new(config: &RuntimeConfig, published: Published, me: Weak<RefCell<Driver>>) -> Driver {
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
            feed.handle_online(now(), false);
        }
        let weak = me.clone();
        let timer = DeadlineTimer::new(move || run_weak(&weak, |d, now| d.feed.handle_timeout(now)));
        let listeners = [("online", true), ("offline", false)]
            .into_iter()
            .filter_map(|(event, online)| {
                let weak = me.clone();
                WindowListener::new(event, move |_| run_weak(&weak, |d, now| d.feed.handle_online(now, online)))
            })
            .collect();
        let debug = install_debug(me.clone());
        Driver {
            feed,
            socket: AttemptSocket::new("OrderFeed"),
            timer,
            snapshot: None,
            sign_in: None,
            shown: None,
            session_generation: 0,
            api_base: config.api_base.clone(),
            ws_url: config.ws_url.clone(),
            station: config.station.clone(),
            published,
            call_subscriber: None,
            call_signals: Vec::new(),
            me,
            _listeners: listeners,
            _debug: debug,
        }
    }

    /// Carries out every queued command and re-arms the timer; returns the view if it changed.
    fn drive(&mut self) -> Option<View> {
        let mut changed = false;
        while let Some(command) = self.feed.poll_command() {
            match command {
                FeedCommand::OpenSocket { attempt } => self.open_socket(attempt),
                FeedCommand::SendFrame { attempt, text } => self.socket.send(attempt, &text),
                FeedCommand::CloseSocket { attempt, code, reason } => self.socket.close(attempt, code, &reason),
                FeedCommand::FetchSnapshot => self.fetch_snapshot(),
                FeedCommand::PersistOutbox(json) => {
                    storage::set(OUTBOX_KEY, &json);
                }
                FeedCommand::UiChanged => changed = true,
                FeedCommand::Call(message) => self.call_signals.push(CallSignal::Message(message)),
                FeedCommand::CallsLost => self.call_signals.push(CallSignal::Lost),
            }
        }
        self.timer.set_deadline(self.feed.poll_timeout().map(|t| t.0 as f64));
        let status = self.feed.status();
        // The hub keeps sessions across restarts; a rejected token means signing in with the PIN.
        if status.banner == Banner::SignInFailed {
            storage::remove(SESSION_KEY);
        }
        if !changed && self.shown == Some(status) {
            return None;
        }
        self.shown = Some(status);
        // The feed's clock is monotonic; the banner shows wall-clock time.
        let last_update = status.last_update.map(|t| unix_ms() - (now_ms() - t.0 as f64));
        Some(View { status, board: self.feed.board().clone(), station: self.feed.station().cloned(), last_update })
    }

    /// Starts a PIN sign-in; on success the feed logs in with the new token.
    fn start_sign_in(&mut self, pin: String) -> SignInFuture {
        let (api_base, station) = (self.api_base.clone(), self.station.clone());
        let (weak, generation) = (self.me.clone(), self.session_generation);
        let flight: SignInFuture = async move {
            let token = request_token(&api_base, &station, &pin).await;
            let Some(driver) = weak.upgrade() else {
                return Err(SignInError::Closed);
            };
            run(&driver, |d, now| {
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
        flight
    }

    fn open_socket(&mut self, attempt: AttemptId) {
        let weak = self.me.clone();
        let opened = self.socket.open(&self.ws_url, attempt, move |event| {
            run_weak(&weak, |d, now| d.socket.deliver(&mut d.feed, now, attempt, event))
        });
        if let Err(e) = opened {
            log::error!("[OrderFeed] {e}");
            self.feed.handle_socket_error(now(), attempt);
        }
    }

    fn fetch_snapshot(&mut self) {
        let url = format!("{}/api/v1/orders", self.api_base);
        let weak = self.me.clone();
        let (handle, registration) = AbortHandle::new_pair();
        let request = Abortable::new(
            async move {
                let result = fetch_snapshot(&url).await;
                run_weak(&weak, |d, now| {
                    d.snapshot = None;
                    d.feed.handle_snapshot(now, result);
                });
            },
            registration,
        );
        self.snapshot = Some(AbortOnDrop(handle));
        leptos::task::spawn_local(async move {
            let _ = request.await;
        });
    }
}

async fn fetch_snapshot(url: &str) -> Result<Snapshot, String> {
    let response = http::get(url).await.map_err(|e| e.to_string())?;
    if !response.is_success() {
        return Err(format!("GET {url} answered {}: {}", response.status, response.body));
    }
    serde_json::from_str(&response.body).map_err(|e| format!("snapshot from {url} is not valid: {e}"))
}

async fn request_token(api_base: &str, station: &str, pin: &str) -> Result<String, SignInError> {
    let url = format!("{api_base}/api/v1/auth/pin");
    let body = serde_json::to_string(&PinRequest { pin: pin.to_string(), station: station.to_string() })
        .map_err(|e| SignInError::Rejected(e.to_string()))?;
    let response = http::send("POST", &url, &[("Content-Type", "application/json")], Some(&body))
        .await
        .map_err(|e| SignInError::Unreachable(e.to_string()))?;
    let api_message = || {
        serde_json::from_str::<ApiError>(&response.body)
            .map(|e| e.error.message)
            .unwrap_or_else(|_| format!("HTTP {}", response.status))
    };
    let result = match response.status {
        200 => serde_json::from_str::<PinResponse>(&response.body)
            .map(|r| r.token)
            .map_err(|e| SignInError::Rejected(format!("unexpected answer: {e}"))),
        401 => Err(SignInError::WrongPin),
        429 => Err(SignInError::TooManyAttempts),
        _ => Err(SignInError::Rejected(api_message())),
    };
    if let Err(e) = &result {
        log::warn!("[OrderFeed] sign-in as {station} failed: {e}");
    }
    result
}

fn install_debug(driver: Weak<RefCell<Driver>>) -> DebugObject {
    let get_status = move || {
        driver
            .upgrade()
            .and_then(|d| d.try_borrow().ok().map(|d| d.feed.debug_status()))
            .and_then(|status| serde_json::to_value(status).ok())
            .map_or(JsValue::NULL, |value| to_js(&value))
    };
    let get_subscriptions =
        || ServerMessage::TYPES.iter().map(|t| JsValue::from_str(t)).collect::<js_sys::Array>().into();
    DebugObject::install(
        "__wsService",
        vec![
            ("getStatus", Box::new(get_status) as Box<dyn Fn() -> JsValue>),
            ("getSubscriptions", Box::new(get_subscriptions)),
        ],
    )
}

/// The page's handle on its order feed. `Copy`; every method is a no-op (or an error) once the
/// page is unmounted.
#[derive(Clone, Copy)]
pub struct OrderFeedHandle {
    published: Published,
    driver: StoredValue<Option<Rc<RefCell<Driver>>>, LocalStorage>,
}

/// Creates the page's order feed, owned by the current reactive owner: cleaning the owner up
/// closes the socket, cancels the timer and the snapshot fetch, removes the listeners and
/// `window.__wsService`. A station token stored by an earlier sign-in reconnects by itself, once
/// the page is still mounted after the current task (so a page unmounted right away opens nothing).
pub fn use_order_feed(config: &RuntimeConfig) -> OrderFeedHandle {
    let board_config = BoardConfig::with_thresholds_min(config.ticket_warning_min, config.ticket_urgent_min);
    let published = Published {
        status: RwSignal::new(FeedStatus { banner: Banner::SignedOut, last_update: None }),
        board: RwSignal::new(Board::new(board_config)),
        station: RwSignal::new(None),
        last_update: RwSignal::new(None),
    };
    let driver = Rc::new_cyclic(|me| RefCell::new(Driver::new(config, published, me.clone())));
    let resume = Rc::downgrade(&driver);
    let slot = StoredValue::new_local(Some(driver));
    on_cleanup(move || {
        // Dropping the driver releases the socket, timer, fetch, listeners and debug surface.
        if let Some(driver) = slot.try_update_value(Option::take).flatten() {
            log::info!("[OrderFeed] page closed; disconnecting");
            drop(driver);
        }
    });
    leptos::task::spawn_local(async move {
        if let Some(driver) = resume.upgrade() {
            run(&driver, |d, now| d.resume(now));
        }
    });
    OrderFeedHandle { published, driver: slot }
}

/// The sign-in on its way (joined, or started now); `None` when already signed in.
fn sign_in_flight(driver: &Rc<RefCell<Driver>>, pin: &str) -> Result<Option<SignInFuture>, SignInError> {
    let Ok(mut d) = driver.try_borrow_mut() else {
        log::error!("[OrderFeed] sign-in requested while the driver was busy");
        return Err(SignInError::Closed);
    };
    if d.feed.station().is_some() && d.feed.status().banner != Banner::SignInFailed {
        return Ok(None);
    }
    if let Some(flight) = &d.sign_in {
        return Ok(Some(flight.clone()));
    }
    Ok(Some(d.start_sign_in(pin.to_string())))
}

impl Driver {
    /// Signs in with the stored token of this page's station, if any.
    fn resume(&mut self, now: Millis) {
        if self.feed.station().is_some() {
            return;
        }
        let Some(text) = storage::get(SESSION_KEY) else {
            return;
        };
        match serde_json::from_str::<StoredSession>(&text) {
            Ok(session) if session.station == self.station => {
                log::info!("[OrderFeed] resuming the stored session of station {}", session.station);
                self.feed.login(now, session.token, &session.station);
            }
            Ok(_) => storage::remove(SESSION_KEY),
            Err(e) => {
                log::error!("[OrderFeed] stored session ignored: {e}");
                storage::remove(SESSION_KEY);
            }
        }
    }
}

impl OrderFeedHandle {
    fn driver(&self) -> Option<Rc<RefCell<Driver>>> {
        self.driver.try_with_value(Clone::clone).flatten()
    }

    pub fn status(&self) -> ReadSignal<FeedStatus> {
        self.published.status.read_only()
    }

    /// The board as of the last change (tickets are derived per station and time).
    pub fn board(&self) -> ReadSignal<Board> {
        self.published.board.read_only()
    }

    /// The signed-in station (`None` when signed out).
    pub fn station(&self) -> ReadSignal<Option<Station>> {
        self.published.station.read_only()
    }

    /// Wall-clock time (Unix ms) the board last received orders.
    pub fn last_update(&self) -> ReadSignal<Option<f64>> {
        self.published.last_update.read_only()
    }

    /// Signs this page's station in with `pin` and connects. Single-flight: while a sign-in is on
    /// its way every call shares it, and once signed in (and not rejected) a call changes nothing,
    /// so concurrent calls make one PIN request and open one socket.
    pub fn sign_in(&self, pin: &str) -> impl Future<Output = Result<(), SignInError>> + 'static {
        let flight = match self.driver() {
            Some(driver) => sign_in_flight(&driver, pin),
            None => Err(SignInError::Closed),
        };
        async move {
            match flight {
                Ok(Some(flight)) => flight.await,
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            }
        }
    }

    /// Disconnects, forgets the board and the stored session, and cancels a sign-in on its way.
    pub fn logout(&self) {
        if let Some(driver) = self.driver() {
            run(&driver, |d, _| {
                d.session_generation += 1;
                d.sign_in = None;
                d.snapshot = None;
                storage::remove(SESSION_KEY);
                d.feed.logout();
            });
        }
    }

    /// Queues a cook's command on `order_id` (shown at once, sent when connected).
    pub fn command(&self, order_id: &str, command: Command) -> Result<(), CommandError> {
        let driver = self.driver().ok_or(CommandError::UnknownOrder(order_id.to_string()))?;
        run(&driver, |d, _| d.feed.command(order_id, command, random_bytes::<16>()).map(|_| ()))
            .unwrap_or(Err(CommandError::UnknownOrder(order_id.to_string())))
    }

    pub fn dismiss_failures(&self) {
        if let Some(driver) = self.driver() {
            run(&driver, |d, _| d.feed.dismiss_failures());
        }
    }

    /// Sends a staff call frame on the feed's socket; `false` when it is not connected.
    pub fn send_call(&self, message: &CallMessage) -> bool {
        self.driver().and_then(|driver| run(&driver, |d, _| d.feed.send_call(message))).unwrap_or(false)
    }

    /// Hands every staff call frame arriving on the feed's socket (and the loss of the socket) to
    /// `subscriber`, replacing any earlier one. It runs outside the feed's borrow, so it may send.
    pub fn subscribe_calls(&self, subscriber: impl Fn(CallSignal) + 'static) {
        if let Some(driver) = self.driver()
            && let Ok(mut d) = driver.try_borrow_mut()
        {
            d.call_subscriber = Some(Rc::new(subscriber));
        }
    }
}
