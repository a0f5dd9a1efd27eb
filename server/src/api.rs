//! The HTTP API under `/api/v1` (see `docs/protocol.md`). Errors are `{"error":{"code","message"}}`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Extension, Json, Router};
use restaurant_protocol::{ApiError, MAX_BODY_BYTES, NewOrder, OrderEnvelope, PinRequest, PinResponse};
use serde::Deserialize;

use crate::auth::PinOutcome;
use crate::settings::is_valid_station;
use crate::state::AppState;
use crate::state::OrderError;

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

/// A JSON error response, logged with its context.
pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let message = message.into();
    if status.is_server_error() {
        tracing::error!("[Api] {} {code}: {message}", status.as_u16());
    } else {
        tracing::warn!("[Api] {} {code}: {message}", status.as_u16());
    }
    (status, Json(ApiError::new(code, message))).into_response()
}

fn bad_request(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, "bad_request", message)
}

fn order_error(e: OrderError) -> Response {
    match e {
        OrderError::Invalid(e) => bad_request(e.to_string()),
        OrderError::Unavailable => error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the hub is shutting down"),
        e @ (OrderError::Store(_) | OrderError::Random(_)) => {
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        }
    }
}

/// Parses a JSON body, turning every failure (too large, unreadable, wrong shape) into a 400.
/// The error message is for a `400`.
pub fn json_body<T: serde::de::DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, String> {
    let bytes = body.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(_) => format!("the body is over {MAX_BODY_BYTES} bytes or unreadable"),
        other => other.body_text(),
    })?;
    if bytes.len() > MAX_BODY_BYTES {
        return Err(format!("the body is over {MAX_BODY_BYTES} bytes"));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("invalid JSON body: {e}"))
}

async fn menu(State(state): State<Arc<AppState>>) -> Response {
    Json(state.menu.menu()).into_response()
}

async fn pin(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request: PinRequest = match json_body(body) {
        Ok(r) => r,
        Err(message) => return bad_request(message),
    };
    if !is_valid_station(&request.station) {
        return bad_request(format!("invalid station {:?} (1–32 of a-z 0-9 - _)", request.station));
    }
    let addr = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |Extension(ConnectInfo(a))| a.ip());
    match state.auth.login(addr, &request.station, &request.pin, Instant::now()) {
        Ok(PinOutcome::Token(token)) => {
            tracing::info!("[Auth] {addr} signed in at station {}", request.station);
            Json(PinResponse { token, station: request.station }).into_response()
        }
        Ok(PinOutcome::WrongPin) => error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            format!("wrong PIN for station {} (from {addr})", request.station),
        ),
        Ok(PinOutcome::Limited(wait)) => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!("too many wrong PINs from {addr}; retry in {} s", wait.as_secs().max(1)),
            );
            if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("no randomness for a token: {e}")),
    }
}

#[derive(Deserialize)]
struct OrdersQuery {
    station: Option<String>,
}

async fn list_orders(
    State(state): State<Arc<AppState>>,
    query: Result<Query<OrdersQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let station = match query {
        Ok(Query(q)) => q.station.filter(|s| !s.is_empty()),
        Err(e) => return bad_request(e.body_text()),
    };
    if let Some(s) = station.as_deref().filter(|s| !is_valid_station(s)) {
        return bad_request(format!("invalid station {s:?} (1–32 of a-z 0-9 - _)"));
    }
    match state.snapshot(station).await {
        Ok(snapshot) => Json(snapshot).into_response(),
        Err(e) => order_error(e),
    }
}

async fn create_order(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let key = match headers.get(IDEMPOTENCY_KEY).map(|v| v.to_str()) {
        None => return bad_request("the Idempotency-Key header is required"),
        Some(Err(_)) => return bad_request("the Idempotency-Key header must be visible ASCII"),
        Some(Ok(k)) if k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY_CHARS => {
            return bad_request(format!("the Idempotency-Key header must be 1–{MAX_IDEMPOTENCY_KEY_CHARS} characters"));
        }
        Some(Ok(k)) => k.to_string(),
    };
    let new: NewOrder = match json_body(body) {
        Ok(n) => n,
        Err(message) => return bad_request(message),
    };
    match state.create_order(key, new).await {
        Ok((true, order)) => {
            tracing::info!("[Orders] created #{} ({}) from {}", order.number, order.id, order.source.as_str());
            (StatusCode::CREATED, Json(OrderEnvelope { order })).into_response()
        }
        Ok((false, order)) => (StatusCode::OK, Json(OrderEnvelope { order })).into_response(),
        Err(e) => order_error(e),
    }
}

async fn not_found(uri: axum::http::Uri) -> Response {
    error(StatusCode::NOT_FOUND, "not_found", format!("no API endpoint {}", uri.path()))
}
