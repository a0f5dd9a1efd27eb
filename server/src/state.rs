//! The state every handler shares, and the order operations on it.
//!
//! The order operations are shared by the HTTP API and the WebSocket: each runs on the store
//! thread and publishes its event to the feed there, so events reach clients in `seq` order,
//! after commit.

use std::sync::Arc;

use restaurant_protocol::{NewOrder, Order, ServerMessage, Snapshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{Auth, random_hex};
use crate::call::CallRouter;
use crate::devices::Devices;
use crate::feed::Feed;
use crate::guard::PerKeyRate;
use crate::menu::MenuBook;
use crate::orders::{InvalidOrder, check};
use crate::settings::Settings;
use crate::store::{Change, Created, StoreClosed, StoreError, StoreHandle};

/// Shared server state.
pub struct AppState {
    pub settings: Settings,
    pub(crate) menu: MenuBook,
    pub(crate) store: StoreHandle,
    pub(crate) feed: Arc<Feed>,
    pub(crate) auth: Auth,
    pub(crate) devices: Devices,
    /// Voice tokens per paired device ([`crate::guard::VOICE_TOKENS_PER_MINUTE`]).
    pub(crate) voice_token_rate: PerKeyRate,
    pub(crate) calls: Arc<CallRouter>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tasks: TaskTracker,
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
        menu: MenuBook,
        store: StoreHandle,
        feed: Arc<Feed>,
    ) -> AppState {
        AppState {
            settings,
            menu,
            store,
            feed,
            auth,
            devices,
            voice_token_rate: PerKeyRate::new(
                crate::guard::VOICE_TOKENS_PER_MINUTE,
                std::time::Duration::from_secs(60),
                crate::devices::MAX_DEVICES + 1,
            ),
            calls: Arc::new(CallRouter::default()),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }

    /// Creates an order once per idempotency `key`. `Ok((true, order))` when new.
    pub async fn create_order(&self, key: String, new: NewOrder) -> Result<(bool, Order), OrderError> {
        let checked = check(&self.menu, &new)?;
        let id = format!("ord_{}", random_hex(8).map_err(OrderError::Random)?);
        let feed: Arc<Feed> = self.feed.clone();
        let now = now_ms();
        let created = self
            .store
            .call(move |store| {
                let created = store.create_order(&key, id, checked, now)?;
                if let Created::New { event, .. } = &created {
                    feed.publish(event);
                }
                Ok::<_, StoreError>(created)
            })
            .await??;
        Ok(match created {
            Created::New { order, .. } => (true, order),
            Created::Existing(order) => (false, order),
        })
    }

    /// Applies a KDS command; the answer is the `ack` or `error` frame for the client.
    pub async fn apply(
        &self,
        request_id: String,
        order_id: String,
        change: Change,
    ) -> Result<ServerMessage, OrderError> {
        let feed = self.feed.clone();
        let now = now_ms();
        let answered = self
            .store
            .call(move |store| {
                let answered = store.apply(&request_id, &order_id, change, now)?;
                if let Some(event) = &answered.event {
                    feed.publish(event);
                }
                Ok::<_, StoreError>(answered)
            })
            .await??;
        Ok(answered.answer)
    }

    pub async fn snapshot(&self, station: Option<String>) -> Result<Snapshot, OrderError> {
        Ok(self.store.call(move |store| store.snapshot(station.as_deref())).await??)
    }
}
