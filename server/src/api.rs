//! The HTTP API under `/api/v1` (see `docs/protocol.md`). Handlers answer `Result<_, ApiError>`;
//! every error is `{"error":{"code","message"}}`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Extension, Json, Router};
use restaurant_protocol::{MAX_BODY_BYTES, NewOrder, OrderEnvelope, PinRequest, PinResponse, Snapshot};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::PinOutcome;
use crate::error::ApiError;
use crate::limits::ClientKey;
use crate::settings::is_valid_station;
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/menu", get(menu))
        .route("/api/v1/auth/pin", post(pin))
        .route("/api/v1/orders", get(list_orders).post(create_order))
        .route("/api/{*rest}", any(not_found))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// A JSON request body. Every failure (too large, unreadable, wrong shape) is a `400`; the
/// `Content-Type` is not checked.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
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

async fn menu(State(state): State<Arc<AppState>>) -> Response {
    Json(state.menu.menu()).into_response()
}

async fn pin(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(request): ApiJson<PinRequest>,
) -> Result<Json<PinResponse>, ApiError> {
    if !is_valid_station(&request.station) {
        return Err(ApiError::bad_request(format!("invalid station {:?} (1–32 of a-z 0-9 - _)", request.station)));
    }
    let addr = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |Extension(ConnectInfo(a))| a.ip());
    let outcome = state
        .auth
        .login(addr, &request.station, &request.pin, Instant::now())
        .map_err(|e| ApiError::internal(format!("no randomness for a token: {e}")))?;
    match outcome {
        PinOutcome::Token(token) => {
            tracing::info!(%addr, station = %request.station, "signed in");
            Ok(Json(PinResponse { token, station: request.station }))
        }
        PinOutcome::WrongPin => {
            Err(ApiError::unauthorized(format!("wrong PIN for station {} (from {addr})", request.station)))
        }
        PinOutcome::Limited(wait) => {
            let seconds = wait.as_secs().max(1);
            Err(ApiError::too_many_requests(format!("too many wrong PINs from {addr}; retry in {seconds} s"), seconds))
        }
    }
}

#[derive(Deserialize)]
struct OrdersQuery {
    station: Option<String>,
}

async fn list_orders(
    State(state): State<Arc<AppState>>,
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

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no API endpoint {}", uri.path()))
}
