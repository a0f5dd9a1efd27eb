//! Order operations shared by the HTTP API and the WebSocket: each runs on the store thread and
//! publishes its event to the feed there, so events reach clients in `seq` order, after commit.

use std::sync::Arc;

use restaurant_protocol::{NewOrder, Order, ServerMessage, Snapshot};

use crate::AppState;
use crate::auth::random_hex;
use crate::feed::Feed;
use crate::orders::check;
use crate::store::{Change, Created, StoreError};

#[derive(Debug, PartialEq)]
pub enum OrderError {
    /// The request is wrong (unknown item, bad quantity, …): the message says how.
    Invalid(String),
    /// The store is closed: the hub is shutting down.
    Unavailable,
    Internal(String),
}

impl From<StoreError> for OrderError {
    fn from(e: StoreError) -> Self {
        OrderError::Internal(e.0)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl AppState {
    /// Creates an order once per idempotency `key`. `Ok((true, order))` when new.
    pub async fn create_order(&self, key: String, new: NewOrder) -> Result<(bool, Order), OrderError> {
        let checked = check(&self.menu, &new).map_err(OrderError::Invalid)?;
        let id = format!("ord_{}", random_hex(8).map_err(|e| OrderError::Internal(format!("no randomness: {e}")))?);
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
            .await
            .map_err(|_| OrderError::Unavailable)??;
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
            .await
            .map_err(|_| OrderError::Unavailable)??;
        Ok(answered.answer)
    }

    pub async fn snapshot(&self, station: Option<String>) -> Result<Snapshot, OrderError> {
        Ok(self
            .store
            .call(move |store| store.snapshot(station.as_deref()))
            .await
            .map_err(|_| OrderError::Unavailable)??)
    }
}
