//! The state every handler shares, and the order and menu operations on it.
//!
//! The order operations are shared by the HTTP API and the WebSocket: each runs on the store
//! thread and publishes its event to the feed there, so events reach clients in `seq` order,
//! after commit. A new order or availability change is answered first
//! ([`StoreHandle::call_publishing`]); a screen's command after, so its event comes before its ack.
//! Availability changes run there too, and new orders are checked there against the live menu,
//! so an order committed after a `menu.updated` never has what it made unavailable.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use restaurant_protocol::kitchen::{MAX_STATION_CHARS, MAX_VOID_REASON_CHARS};
use restaurant_protocol::stats::{MAX_STATS_RANGE_MS, ticket_stats};
use restaurant_protocol::{
    AvailabilityChange, AvailabilityTarget, ItemStatus, KitchenAction, MAX_WS_FRAME_BYTES, MenuAvailability, NewOrder,
    Order, OrderStatus, Quote, ServerMessage, Snapshot, TicketStats, Void,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{Auth, random_hex};
use crate::call::CallRouter;
use crate::devices::{DeviceId, Devices};
use crate::feed::Feed;
use crate::limits::{ClientKey, RateLimit};
use crate::menu::{AvailabilityError, LiveMenu, MenuBook};
use crate::orders::{CheckedOrder, InvalidOrder, check};
use crate::settings::Settings;
use crate::store::{Created, MAX_ORDER_NUMBER, StoreClosed, StoreError, StoreHandle};

/// How long a client refused for the active-order cap is asked to wait.
pub const FULL_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Shared server state.
pub struct AppState {
    pub settings: Settings,
    /// The menu file's menu, checked.
    pub(crate) menu: Arc<MenuBook>,
    /// The menu as it is now; replaced on the store thread after each `menu.updated` commits.
    pub(crate) live_menu: Arc<watch::Sender<Arc<LiveMenu>>>,
    pub(crate) store: StoreHandle,
    pub(crate) feed: Arc<Feed>,
    pub(crate) auth: Auth,
    pub(crate) devices: Devices,
    /// Voice tokens per paired device (`--voice-token-rate`, [`crate::guard::VOICE_TOKENS_PER_MINUTE`] by default).
    pub(crate) voice_token_rate: RateLimit,
    pub(crate) calls: Arc<CallRouter>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tasks: TaskTracker,
    /// Orders created per client ([`crate::settings::Limits::order_rate`] per minute).
    pub(crate) order_rate: Arc<RateLimit<ClientKey>>,
    /// Quotes per client ([`crate::guard::QUOTES_PER_MINUTE`]).
    pub(crate) quote_rate: RateLimit<ClientKey>,
    /// Open `/ws` connections.
    pub(crate) connections: Arc<AtomicUsize>,
}

/// Why an order operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    /// The request is wrong (unknown item, bad quantity, …): the message says how.
    #[error(transparent)]
    Invalid(#[from] InvalidOrder),
    /// The store is closed: the hub is shutting down.
    #[error("the hub is shutting down")]
    Unavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no randomness: {0}")]
    Random(getrandom::Error),
    /// The client created too many orders lately.
    #[error(
        "{client} is over its limit of {per_minute} new orders a minute; retry in {} s",
        crate::error::retry_after_secs(.retry_after)
    )]
    RateLimited { client: ClientKey, per_minute: u32, retry_after: Duration },
    /// The kitchen has as many active orders as the hub accepts.
    #[error("the kitchen has {active} active orders (the most the hub takes); retry later (from {client})")]
    Full { client: ClientKey, active: u64 },
    /// The order's events would not fit a WebSocket frame.
    #[error(
        "the order is too large: its order events would be {bytes} bytes, {} over the {limit}-byte frame limit; \
         shorten its notes or instructions, or split it (from {client})",
        bytes - limit
    )]
    TooLarge { client: ClientKey, bytes: usize, limit: usize },
}

/// Why an availability change failed.
#[derive(Debug, thiserror::Error)]
pub enum AvailabilityFailure {
    #[error("{error} (from {who})")]
    Refused { who: String, error: AvailabilityError },
    #[error("the hub is shutting down")]
    Unavailable,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreClosed> for OrderError {
    fn from(_: StoreClosed) -> Self {
        OrderError::Unavailable
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl AppState {
    /// The state of a hub whose menu is loaded and whose store and feed are open.
    pub(crate) fn new(
        settings: Settings,
        auth: Auth,
        devices: Devices,
        menu: (Arc<MenuBook>, Arc<watch::Sender<Arc<LiveMenu>>>),
        store: StoreHandle,
        feed: Arc<Feed>,
    ) -> AppState {
        let order_rate = Arc::new(RateLimit::per_minute(settings.limits.order_rate));
        let voice_token_rate = RateLimit::per_minute(settings.limits.voice_token_rate);
        let (menu, live_menu) = menu;
        AppState {
            order_rate,
            quote_rate: RateLimit::per_minute(crate::guard::QUOTES_PER_MINUTE),
            settings,
            menu,
            live_menu,
            store,
            feed,
            auth,
            devices,
            voice_token_rate,
            calls: Arc::new(CallRouter::default()),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            connections: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The paired device a token belongs to. In demo mode every device is paired: a token the hub
    /// does not know (or none) is the device `demo`.
    pub fn device(&self, token: Option<&str>) -> Option<DeviceId> {
        token
            .and_then(|t| self.devices.device_of(t))
            .or_else(|| self.settings.mode.is_demo().then(|| DeviceId(crate::devices::DEMO_DEVICE.into())))
    }

    /// The menu as it is now.
    pub fn live_menu(&self) -> Arc<LiveMenu> {
        self.live_menu.borrow().clone()
    }

    /// What `new` would cost with the live menu (no side effects).
    pub fn quote(&self, new: &NewOrder) -> Result<Quote, InvalidOrder> {
        Ok(check(&self.live_menu(), new)?.quote())
    }

    /// Creates an order once per idempotency `key` for `client`. `Ok((true, order))` when new.
    ///
    /// A key that already created an order gets that order back before anything else is checked
    /// (a client retrying an order it placed never loses it, even if an item sold out since). A
    /// new order is checked and priced against the live menu ([`OrderError::Invalid`]) and
    /// refused, with nothing stored, when its events would not fit a frame
    /// ([`OrderError::TooLarge`]), when the kitchen is full ([`OrderError::Full`]) or when
    /// `client` is over its rate ([`OrderError::RateLimited`]). The checks and the insert run on
    /// the store thread together, so neither the cap nor an availability change can be raced.
    pub async fn create_order(
        &self,
        client: ClientKey,
        key: String,
        new: NewOrder,
    ) -> Result<(bool, Order), OrderError> {
        let id = format!("ord_{}", random_hex(8).map_err(OrderError::Random)?);
        let live_menu = self.live_menu.clone();
        let max_active = self.settings.limits.max_active_orders;
        let rate = self.order_rate.clone();
        let per_minute = self.settings.limits.order_rate;
        let created = self
            .store
            .call_publishing(&self.feed, move |store, committed| {
                // Stamped on the store thread, as the change is made: a request that waited behind
                // others is stamped when it is made, and (while the wall clock does not step back)
                // the orders' times follow the events' `seq`.
                let now = now_ms();
                if let Some(order) = store.order_for_key(&key, now)? {
                    return Ok(Ok(Created::Existing(order)));
                }
                // Availability changes only on this thread: the menu read here is the one in force
                // when the order commits.
                let menu = live_menu.borrow().clone();
                let checked = match check(&menu, &new) {
                    Ok(checked) => checked,
                    Err(invalid) => return Ok(Err(OrderError::Invalid(invalid))),
                };
                let bytes = largest_event_bytes(&checked, &id, now);
                if bytes > MAX_WS_FRAME_BYTES {
                    return Ok(Err(OrderError::TooLarge { client, bytes, limit: MAX_WS_FRAME_BYTES }));
                }
                let active = store.active_orders()?;
                if active >= max_active {
                    return Ok(Err(OrderError::Full { client, active }));
                }
                if let Err(retry_after) = rate.check(&client, Instant::now()) {
                    return Ok(Err(OrderError::RateLimited { client, per_minute, retry_after }));
                }
                let created = store.create_order(&key, id, checked, now)?;
                if let Created::New { event, .. } = &created {
                    committed.push(event.clone());
                }
                Ok::<_, StoreError>(Ok(created))
            })
            .await???;
        Ok(match created {
            Created::New { order, .. } => (true, order),
            Created::Existing(order) => (false, order),
        })
    }

    /// Marks an item or option sold out or available again, for `who` (a station or the manager).
    /// A change is committed with its `menu.updated` event (the whole list), then the live menu
    /// and the feed get it; a change that changes nothing answers the current state, no event.
    pub async fn change_availability(
        &self,
        who: String,
        change: AvailabilityChange,
    ) -> Result<MenuAvailability, AvailabilityFailure> {
        let book = self.menu.clone();
        let live_menu = self.live_menu.clone();
        let tax = self.settings.tax;
        let (target, id, available) = (change.target, change.id.clone(), change.available);
        let answer = self
            .store
            .call_publishing(&self.feed, move |store, committed| {
                let after = match book.apply_change(store.sold_out(), &change) {
                    Err(refused) => return Ok(Err(refused)),
                    Ok(after) => after,
                };
                let Some(after) = after else {
                    let live = live_menu.borrow().clone();
                    let seq = live.seq.unwrap_or(store.last_seq());
                    return Ok(Ok((false, MenuAvailability { seq, sold_out: live.sold_out.clone() })));
                };
                let effective = book.effective(&after);
                let event = store.set_sold_out(after.clone(), effective)?;
                let live = Arc::new(LiveMenu::new(&book, Some(event.seq), &after, tax));
                let seq = event.seq;
                live_menu.send_replace(live.clone());
                committed.push(event);
                Ok::<_, StoreError>(Ok((true, MenuAvailability { seq, sold_out: live.sold_out.clone() })))
            })
            .await
            .map_err(|_| AvailabilityFailure::Unavailable)?
            .map_err(AvailabilityFailure::Store)?;
        let (changed, availability) =
            answer.map_err(|error| AvailabilityFailure::Refused { who: who.clone(), error })?;
        let target = match target {
            AvailabilityTarget::Item => "item",
            AvailabilityTarget::Option => "option",
        };
        if changed {
            tracing::info!(
                %who,
                target,
                %id,
                available,
                seq = availability.seq,
                sold_out = ?availability.sold_out,
                "menu availability changed"
            );
        } else {
            tracing::info!(%who, target, %id, available, "availability already so: no change");
        }
        Ok(availability)
    }

    /// Applies a kitchen action asked for by `by` (a station already allowed to, or `manager`);
    /// the answer is the `ack` or `error` frame for the client.
    pub async fn apply(
        &self,
        request_id: String,
        order_id: String,
        action: KitchenAction,
        by: String,
    ) -> Result<ServerMessage, OrderError> {
        let feed = self.feed.clone();
        // Published before the answer, unlike an order or an availability change: the protocol
        // promises the commanding screen its event before the ack (`ws` sends the two in one
        // write), so the event must be in its queue when the answer comes.
        let answered = self
            .store
            .call(move |store| {
                // Stamped as the change is made (see `create_order`).
                let answered = store.apply(&request_id, &order_id, &action, &by, now_ms())?;
                if let Some(event) = &answered.event {
                    feed.publish(event);
                }
                Ok::<_, StoreError>(answered)
            })
            .await??;
        Ok(answered.answer)
    }

    /// Today's ticket times (spans ready in `[since_ms, now)`), late over `late_after_s`.
    pub async fn ticket_stats(&self, since_ms: i64, late_after_s: u32) -> Result<TicketStats, OrderError> {
        let until = now_ms();
        let since = since_ms.max(until.saturating_sub(MAX_STATS_RANGE_MS));
        let samples = self.store.call(move |store| store.ticket_samples(since, until)).await??;
        Ok(ticket_stats(&samples, since, until, late_after_s))
    }

    /// One order, active or finished.
    pub async fn order(&self, id: &str) -> Result<Option<Order>, OrderError> {
        let id = id.to_string();
        Ok(self.store.call(move |store| store.order(&id)).await??)
    }

    pub async fn snapshot(&self, station: Option<String>) -> Result<Snapshot, OrderError> {
        let book = self.menu.clone();
        Ok(self
            .store
            .call(move |store| {
                let snapshot = store.snapshot(station.as_deref(), now_ms())?;
                Ok::<_, StoreError>(Snapshot { sold_out: Some(book.effective(store.sold_out())), ..snapshot })
            })
            .await??)
    }
}

/// The largest frame any event of this order can be: `order.created` and `order.updated` with
/// the longest `seq` and order number, in the state with the most text: every item started and
/// ready (with the longest item status), every order time set, rushed, and voided with the
/// longest reason by the longest station name. Every other field keeps its length (the id, and
/// the times, which are RFC 3339 with milliseconds).
pub fn largest_event_bytes(checked: &CheckedOrder, id: &str, now_ms: i64) -> usize {
    let mut order = checked.clone().into_order(id.to_string(), MAX_ORDER_NUMBER, now_ms);
    let at = Some(order.created_at.clone());
    for item in &mut order.items {
        (item.status, item.started_at, item.ready_at) = (ItemStatus::Preparing, at.clone(), at.clone());
    }
    let mut largest = 0;
    for status in OrderStatus::ALL {
        let order = Order {
            status,
            rush: true,
            started_at: at.clone(),
            ready_at: at.clone(),
            completed_at: at.clone(),
            void: Some(Void {
                reason: "x".repeat(MAX_VOID_REASON_CHARS * 4),
                by: "x".repeat(MAX_STATION_CHARS),
                at: order.created_at.clone(),
            }),
            ..order.clone()
        };
        let created = ServerMessage::OrderCreated { seq: u64::MAX, order: order.clone() };
        let updated = ServerMessage::OrderUpdated { seq: u64::MAX, order };
        largest = largest.max(json_len(&created)).max(json_len(&updated));
    }
    largest
}

/// The length of `message` as JSON, without building the text.
fn json_len(message: &ServerMessage) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Plain structs with string keys: serializing cannot fail; if it did, the order is refused.
    match serde_json::to_writer(&mut count, message) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}
