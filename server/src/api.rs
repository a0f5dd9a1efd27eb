//! The HTTP API under `/api/v1` (see `docs/protocol.md`). Handlers answer `Result<_, ApiError>`;
//! every error is `{"error":{"code","message"}}`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::{Extension, Json, Router};
use restaurant_protocol::{
    AvailabilityChange, DeviceList, MAX_BODY_BYTES, MenuAvailability, NewOrder, OrderEnvelope, PairRequest,
    PairResponse, PinRequest, PinResponse, Quote, Snapshot, TicketStats, VoidRequest,
};
use restaurant_protocol::{ErrorCode, KitchenAction, ServerMessage};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::PinOutcome;
use crate::devices::DeviceError;
use crate::error::ApiError;
use crate::guard::{ManagerAuth, QUOTES_PER_MINUTE, StationAuth, bearer};
use crate::limits::ClientKey;
use crate::orders::ALL_ORDERS_STATIONS;
use crate::pins::MANAGER;
use crate::settings::is_valid_station;
use crate::state::{AppState, now_ms};

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/menu", get(menu))
        .route("/api/v1/menu/availability", post(change_availability))
        .route("/api/v1/auth/pin", post(pin))
        .route("/api/v1/auth/signout", post(signout))
        .route("/api/v1/devices/pair", post(pair_device))
        .route("/api/v1/devices", get(list_devices))
        .route("/api/v1/devices/{id}", delete(revoke_device))
        .route("/api/v1/orders", get(list_orders).post(create_order))
        .route("/api/v1/orders/quote", post(quote))
        .route("/api/v1/orders/{id}/void", post(void_order))
        .route("/api/v1/stats/tickets", get(ticket_stats))
        .route("/api/{*rest}", any(not_found))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// A JSON request body: `Content-Type: application/json` or `415`; every other failure (too
/// large, unreadable, wrong shape) is a `400`.
pub struct ApiJson<T>(pub T);

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::unsupported_media_type("the body must be JSON (Content-Type: application/json)"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(_) => {
                ApiError::bad_request(format!("the body is over {MAX_BODY_BYTES} bytes or unreadable"))
            }
            other => ApiError::bad_request(other.body_text()),
        })?;
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::bad_request(format!("the body is over {MAX_BODY_BYTES} bytes")));
        }
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }
}

/// `GET /api/v1/menu`: the live menu (what is sold out marked unavailable) with the tax.
async fn menu(State(state): State<Arc<AppState>>) -> Response {
    Json(&*state.live_menu().menu).into_response()
}

/// `POST /api/v1/menu/availability` (kitchen, expo or manager): marks an item or an option sold
/// out or available again.
async fn change_availability(
    State(state): State<Arc<AppState>>,
    StationAuth { station }: StationAuth,
    body: Result<ApiJson<AvailabilityChange>, ApiError>,
) -> Result<Json<MenuAvailability>, ApiError> {
    if station != MANAGER && !ALL_ORDERS_STATIONS.contains(&station.as_str()) {
        return Err(ApiError::forbidden(format!(
            "only the kitchen, expo or manager may change what is sold out (signed in as {station})"
        )));
    }
    let ApiJson(change) = body?;
    Ok(Json(state.change_availability(station, change).await?))
}

async fn pin(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(request): ApiJson<PinRequest>,
) -> Result<Json<PinResponse>, ApiError> {
    if !is_valid_station(&request.station) {
        return Err(ApiError::bad_request(format!("invalid station {:?} (1–32 of a-z 0-9 - _)", request.station)));
    }
    let addr = peer_ip(peer);
    let outcome = state
        .auth
        .login(addr, &request.station, &request.pin, Instant::now())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    match outcome {
        PinOutcome::Token(token) => {
            tracing::info!(%addr, station = %request.station, "signed in");
            Ok(Json(PinResponse { token, station: request.station }))
        }
        PinOutcome::WrongPin => {
            Err(ApiError::unauthorized(format!("wrong PIN for station {} (from {addr})", request.station)))
        }
        PinOutcome::Limited(wait) => Err(pin_limited(addr, &request.station, wait)),
    }
}

fn peer_ip(peer: Option<Extension<ConnectInfo<SocketAddr>>>) -> IpAddr {
    peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |Extension(ConnectInfo(a))| a.ip())
}

fn pin_limited(addr: IpAddr, station: &str, wait: Duration) -> ApiError {
    let seconds = wait.as_secs().max(1);
    ApiError::too_many_requests(
        format!("too many wrong PINs from {addr} or for station {station}; retry in {seconds} s"),
        seconds,
    )
}

/// `POST /api/v1/auth/signout`: ends the session of the bearer token on the hub.
async fn signout(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Result<StatusCode, ApiError> {
    let token = bearer(&headers).ok_or_else(|| ApiError::unauthorized("no station token to sign out"))?;
    match state.auth.logout(token, Instant::now()) {
        Some(station) => {
            tracing::info!(%station, "signed out");
            Ok(StatusCode::NO_CONTENT)
        }
        None => Err(ApiError::unauthorized("the station token is unknown, expired or already signed out")),
    }
}

/// `POST /api/v1/devices/pair`: the manager's PIN pairs a device; its token is answered once.
async fn pair_device(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(request): ApiJson<PairRequest>,
) -> Result<(StatusCode, Json<PairResponse>), ApiError> {
    let addr = peer_ip(peer);
    match state.auth.check_pin(addr, MANAGER, &request.pin, Instant::now()).await {
        Err(wait) => return Err(pin_limited(addr, MANAGER, wait)),
        Ok(None) => return Err(ApiError::unauthorized(format!("wrong manager PIN (from {addr})"))),
        Ok(Some(_)) => {}
    }
    let (device, token) = state.devices.pair(&request.name, now_ms()).map_err(|e| match e {
        DeviceError::BadName => ApiError::bad_request(e.to_string()),
        DeviceError::Full => ApiError::conflict(e.to_string()),
        DeviceError::Random(_) | DeviceError::Save { .. } => ApiError::internal(e.to_string()),
    })?;
    tracing::info!(%addr, id = %device.id, name = %device.name, "device paired");
    Ok((StatusCode::CREATED, Json(PairResponse { device, token })))
}

/// `GET /api/v1/devices` (manager): every paired device.
async fn list_devices(State(state): State<Arc<AppState>>, _: ManagerAuth) -> Json<DeviceList> {
    Json(DeviceList { devices: state.devices.list() })
}

/// `DELETE /api/v1/devices/{id}` (manager): the device's token is refused from now on.
async fn revoke_device(
    State(state): State<Arc<AppState>>,
    _: ManagerAuth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    match state.devices.revoke(&id).map_err(|e| ApiError::internal(e.to_string()))? {
        Some(device) => {
            tracing::info!(id = %device.id, name = %device.name, "device revoked");
            Ok(StatusCode::NO_CONTENT)
        }
        None => Err(ApiError::not_found(format!("no paired device {id}"))),
    }
}

#[derive(Deserialize)]
struct OrdersQuery {
    station: Option<String>,
}

async fn list_orders(
    State(state): State<Arc<AppState>>,
    _: StationAuth,
    query: Result<Query<OrdersQuery>, QueryRejection>,
) -> Result<Json<Snapshot>, ApiError> {
    let Query(query) = query?;
    let station = query.station.filter(|s| !s.is_empty());
    if let Some(s) = station.as_deref().filter(|s| !is_valid_station(s)) {
        return Err(ApiError::bad_request(format!("invalid station {s:?} (1–32 of a-z 0-9 - _)")));
    }
    Ok(Json(state.snapshot(station).await?))
}

/// The `Idempotency-Key` header: required, visible ASCII, 1–[`MAX_IDEMPOTENCY_KEY_CHARS`].
fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .ok_or_else(|| ApiError::bad_request("the Idempotency-Key header is required"))?
        .to_str()
        .map_err(|_| ApiError::bad_request("the Idempotency-Key header must be visible ASCII"))?;
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_CHARS {
        return Err(ApiError::bad_request(format!(
            "the Idempotency-Key header must be 1–{MAX_IDEMPOTENCY_KEY_CHARS} characters"
        )));
    }
    Ok(key.to_string())
}

async fn create_order(
    State(state): State<Arc<AppState>>,
    client: ClientKey,
    headers: HeaderMap,
    body: Result<ApiJson<NewOrder>, ApiError>,
) -> Result<impl IntoResponse, ApiError> {
    // The header is checked before the body, so a request wrong in both hears about the header.
    let key = idempotency_key(&headers)?;
    let ApiJson(new) = body?;
    let (created, order) = state.create_order(client.clone(), key, new).await?;
    if created {
        tracing::info!(number = order.number, id = %order.id, source = order.source.as_str(), %client, "order created");
    } else {
        tracing::info!(number = order.number, id = %order.id, %client, "order already created: answered again");
    }
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(OrderEnvelope { order })))
}

/// `POST /api/v1/orders/quote` (a paired device): what the order would cost, no side effects.
async fn quote(
    State(state): State<Arc<AppState>>,
    client: ClientKey,
    body: Result<ApiJson<NewOrder>, ApiError>,
) -> Result<Json<Quote>, ApiError> {
    if let Err(wait) = state.quote_rate.check(&client, Instant::now()) {
        let seconds = crate::error::retry_after_secs(&wait);
        return Err(ApiError::too_many_requests(
            format!("{client} is over its limit of {QUOTES_PER_MINUTE} quotes a minute; retry in {seconds} s"),
            seconds,
        ));
    }
    let ApiJson(new) = body?;
    Ok(Json(state.quote(&new)?))
}

/// `POST /api/v1/orders/{id}/void` (manager, expo or kitchen): cancels an active order with a
/// reason, as `order.void` does on the feed. An `Idempotency-Key` makes a retry safe.
async fn void_order(
    State(state): State<Arc<AppState>>,
    StationAuth { station }: StationAuth,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<ApiJson<VoidRequest>, ApiError>,
) -> Result<Json<OrderEnvelope>, ApiError> {
    let action = KitchenAction::Void { reason: body?.0.reason };
    if station != MANAGER {
        action.allowed_for(&station).map_err(|e| ApiError::forbidden(e.to_string()))?;
    }
    crate::ws::check_action(&action).map_err(ApiError::bad_request)?;
    // Named after the order too: the same key for another order is another void.
    let key = match headers.get(IDEMPOTENCY_KEY) {
        Some(_) => idempotency_key(&headers)?,
        None => crate::auth::random_hex(16).map_err(|e| ApiError::internal(e.to_string()))?,
    };
    let request_id = format!("http:void:{id}:{key}");
    match state.apply(request_id, id.clone(), action, station.clone()).await? {
        ServerMessage::Ack { .. } => {
            let order = state.order(&id).await?.ok_or_else(|| ApiError::not_found(format!("no order {id:?}")))?;
            if order.void.is_none() {
                return Err(ApiError::conflict(format!("order #{} is not voided (it was brought back)", order.number)));
            }
            tracing::info!(number = order.number, %id, by = %station, "order voided");
            Ok(Json(OrderEnvelope { order }))
        }
        ServerMessage::Error { code: ErrorCode::NotFound, message, .. } => Err(ApiError::not_found(message)),
        ServerMessage::Error { code: ErrorCode::InvalidTransition, message, .. } => Err(ApiError::conflict(message)),
        ServerMessage::Error { message, .. } => Err(ApiError::bad_request(message)),
        other => Err(ApiError::internal(format!("unexpected answer to a void: {other:?}"))),
    }
}

#[derive(Deserialize)]
struct StatsQuery {
    since: i64,
    late_after_min: Option<u32>,
}

/// Longest `late_after_min` (4 hours).
const MAX_LATE_AFTER_MIN: u32 = 240;

/// `GET /api/v1/stats/tickets?since=MS&late_after_min=N` (any signed-in station or the manager):
/// ticket times of the spans ready since `since` (the screen's local midnight), at most 48 h back.
async fn ticket_stats(
    State(state): State<Arc<AppState>>,
    _: StationAuth,
    query: Result<Query<StatsQuery>, QueryRejection>,
) -> Result<Json<TicketStats>, ApiError> {
    let Query(query) = query?;
    let late_after_min = query.late_after_min.unwrap_or(15);
    if !(1..=MAX_LATE_AFTER_MIN).contains(&late_after_min) {
        return Err(ApiError::bad_request(format!("late_after_min must be 1–{MAX_LATE_AFTER_MIN}")));
    }
    Ok(Json(state.ticket_stats(query.since, late_after_min * 60).await?))
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no API endpoint {}", uri.path()))
}
