//! Dev mode only: `POST /api/v1/dev/update-load {"per_second":100,"seconds":30}` makes the hub
//! change its active orders at a steady rate — rush on, rush off, round robin — through the same
//! path as a KDS command (store commit, then `order.updated` on the feed), so a kitchen display can
//! be measured under a known load. Answers when the run is over with what was sent.
//!
//! Also dev mode only: `GET /api/v1/dev/published` lists when each recent event was published
//! (its commit done), for timing the fan-out from there.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::time::MissedTickBehavior;

use crate::api::ApiJson;
use crate::auth::random_hex;
use crate::error::ApiError;
use crate::feed::Published;
use crate::state::{AppState, OrderError};
use restaurant_protocol::KitchenAction;

pub const MAX_PER_SECOND: u32 = 1000;
pub const MAX_SECONDS: u32 = 600;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadRequest {
    per_second: u32,
    seconds: u32,
}

#[derive(Debug, Serialize)]
struct LoadReport {
    /// Active orders the updates went round.
    orders: usize,
    /// Updates committed and sent on the feed.
    updates: u64,
    /// Updates the store refused (an order completed meanwhile, …).
    refused: u64,
    seconds: f64,
    /// How far the latest update started behind its schedule.
    max_lag_ms: f64,
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/api/v1/dev/update-load", post(update_load)).route("/api/v1/dev/published", get(published))
}

/// The publish times of the recent events.
#[derive(Debug, Serialize)]
struct PublishLog {
    published: Vec<Published>,
}

/// `GET /api/v1/dev/published`: when each recent event was published, its commit done and its
/// fan-out begun (the last [`PUBLISH_LOG_LIMIT`](crate::feed::PUBLISH_LOG_LIMIT), oldest first),
/// on the wall clock: what the fan-out bench times the screens' receipt from.
async fn published(_: DevOnly, State(state): State<Arc<AppState>>) -> Json<PublishLog> {
    Json(PublishLog { published: state.feed.published() })
}

/// Passes only with `--dev`: dev endpoints take it first, so without it they answer 404 before
/// looking at the body.
pub struct DevOnly;

impl FromRequestParts<Arc<AppState>> for DevOnly {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, state: &Arc<AppState>) -> Result<DevOnly, ApiError> {
        if state.settings.mode.is_demo() { Ok(DevOnly) } else { Err(ApiError::not_found("dev endpoints are off")) }
    }
}

async fn update_load(
    _: DevOnly,
    State(state): State<Arc<AppState>>,
    ApiJson(request): ApiJson<LoadRequest>,
) -> Result<Json<LoadReport>, ApiError> {
    if !(1..=MAX_PER_SECOND).contains(&request.per_second) || !(1..=MAX_SECONDS).contains(&request.seconds) {
        return Err(ApiError::bad_request(format!(
            "per_second must be 1–{MAX_PER_SECOND} and seconds 1–{MAX_SECONDS}"
        )));
    }
    let orders = state.snapshot(None).await.map_err(|e| ApiError::unavailable(format!("no snapshot: {e}")))?.orders;
    if orders.is_empty() {
        return Err(ApiError::conflict("there are no active orders to update"));
    }
    let run = random_hex(4).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    let mut rush: Vec<(String, bool)> = orders.into_iter().map(|o| (o.id, o.rush)).collect();
    let total = u64::from(request.per_second) * u64::from(request.seconds);
    let period = Duration::from_secs_f64(1.0 / f64::from(request.per_second));
    tracing::info!(
        per_second = request.per_second,
        seconds = request.seconds,
        orders = rush.len(),
        "update load started"
    );
    let started = Instant::now();
    let mut ticks = tokio::time::interval(period);
    // Late ticks fire at once: the run keeps its total rate.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let (mut updates, mut refused, mut max_lag) = (0u64, 0u64, Duration::ZERO);
    for k in 0..total {
        tokio::select! {
            _ = state.shutdown.cancelled() => break,
            _ = ticks.tick() => {}
        }
        let due = period.mul_f64(k as f64);
        max_lag = max_lag.max(started.elapsed().saturating_sub(due));
        let slot = (k % rush.len() as u64) as usize;
        let (id, on) = &mut rush[slot];
        *on = !*on;
        match state
            .apply(format!("load-{run}-{k}"), id.clone(), KitchenAction::Rush { rush: *on }, "kitchen".into())
            .await
        {
            Ok(restaurant_protocol::ServerMessage::Ack { .. }) => updates += 1,
            Ok(_) => refused += 1,
            Err(OrderError::Unavailable) => break,
            Err(e) => {
                tracing::error!(order = %id, "update failed: {e}");
                refused += 1;
            }
        }
    }
    let report = LoadReport {
        orders: rush.len(),
        updates,
        refused,
        seconds: started.elapsed().as_secs_f64(),
        max_lag_ms: max_lag.as_secs_f64() * 1000.0,
    };
    tracing::info!(?report, "update load done");
    Ok(Json(report))
}
