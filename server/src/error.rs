//! The hub's HTTP error: a status, one of the documented codes and a message, answered as
//! `{"error":{"code","message"}}` (the wire type [`restaurant_protocol::ApiError`], see
//! `docs/protocol.md`) and logged where it becomes a response: 4xx as warnings, 5xx as errors.

use std::fmt;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::menu::AvailabilityError;
use crate::orders::InvalidOrder;
use crate::state::{AvailabilityFailure, FULL_RETRY_AFTER, OrderError};

/// A refused or failed API request. Build it with the constructor of its status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// `Retry-After`, in seconds.
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), retry_after: None }
    }

    /// `400 bad_request`: malformed JSON, wrong field types, invalid order, bad header, …
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// `400 sold_out`: an order or quote with sold-out lines (the message names every one).
    pub fn sold_out(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "sold_out", message)
    }

    /// `401 unauthorized`: a wrong PIN.
    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// `401 device_unpaired`: the device has no (valid) token; a kiosk shows its pairing screen.
    pub fn device_unpaired(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "device_unpaired", message)
    }

    /// `403 forbidden`: signed in, but not as someone who may do this.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// `403 origin_refused`: a state-changing request from a page of another origin.
    pub fn origin_refused(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "origin_refused", message)
    }

    /// `415 unsupported_media_type`: a JSON endpoint sent something else.
    pub fn unsupported_media_type(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message)
    }

    /// `404 not_found`.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// `409 conflict`: the request cannot apply to the current state.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// `429 too_many_requests` with `Retry-After: <retry_after_secs>`.
    pub fn too_many_requests(message: impl Into<String>, retry_after_secs: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after_secs),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
        }
    }

    /// `413 order_too_large`: the order's events would not fit a WebSocket frame.
    pub fn order_too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "order_too_large", message)
    }

    /// `500 internal`: a storage failure or the like.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// `503 unavailable`: the hub is shutting down.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// `503 unavailable` with `Retry-After: <retry_after_secs>`: the hub is at a capacity limit.
    pub fn busy(message: impl Into<String>, retry_after_secs: u64) -> ApiError {
        ApiError { retry_after: Some(retry_after_secs), ..ApiError::unavailable(message) }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = (self.status.as_u16(), self.code);
        if self.status.is_server_error() {
            tracing::error!(status, code, "{}", self.message);
        } else {
            tracing::warn!(status, code, "{}", self.message);
        }
        let mut response = (self.status, Json(restaurant_protocol::ApiError::new(code, self.message))).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<OrderError> for ApiError {
    fn from(e: OrderError) -> ApiError {
        match e {
            OrderError::Invalid(e) => e.into(),
            OrderError::Unavailable => ApiError::unavailable(e.to_string()),
            OrderError::Store(_) | OrderError::Random(_) => ApiError::internal(e.to_string()),
            OrderError::RateLimited { retry_after, .. } => {
                ApiError::too_many_requests(e.to_string(), retry_after_secs(&retry_after))
            }
            OrderError::Full { .. } => ApiError::busy(e.to_string(), retry_after_secs(&FULL_RETRY_AFTER)),
            OrderError::TooLarge { .. } => ApiError::order_too_large(e.to_string()),
        }
    }
}

impl From<InvalidOrder> for ApiError {
    fn from(e: InvalidOrder) -> ApiError {
        match e {
            InvalidOrder::SoldOut(_) => ApiError::sold_out(e.to_string()),
            _ => ApiError::bad_request(e.to_string()),
        }
    }
}

impl From<AvailabilityFailure> for ApiError {
    fn from(e: AvailabilityFailure) -> ApiError {
        match e {
            AvailabilityFailure::Refused { error: AvailabilityError::Unknown { .. }, .. } => {
                ApiError::not_found(e.to_string())
            }
            AvailabilityFailure::Refused { error: AvailabilityError::OffInFile { .. }, .. } => {
                ApiError::conflict(e.to_string())
            }
            AvailabilityFailure::Unavailable => ApiError::unavailable(e.to_string()),
            AvailabilityFailure::Store(_) => ApiError::internal(e.to_string()),
        }
    }
}

/// Whole seconds for `Retry-After`, rounded up (at least 1: `0` would invite an immediate retry).
pub fn retry_after_secs(wait: &Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::bad_request(rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn answer(error: ApiError) -> (u16, Option<String>, restaurant_protocol::ApiError) {
        let response = error.into_response();
        let status = response.status().as_u16();
        let retry_after = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_string());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, retry_after, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn errors_answer_the_documented_body() {
        let (status, retry_after, body) = answer(ApiError::bad_request("the body is over 65536 bytes")).await;
        assert_eq!((status, retry_after), (400, None));
        assert_eq!(body, restaurant_protocol::ApiError::new("bad_request", "the body is over 65536 bytes"));
        let (status, retry_after, body) = answer(ApiError::too_many_requests("slow down", 42)).await;
        assert_eq!((status, retry_after.as_deref(), body.error.code.as_str()), (429, Some("42"), "too_many_requests"));
    }

    #[tokio::test]
    async fn order_errors_map_to_their_status() {
        assert_eq!(answer(OrderError::Unavailable.into()).await.0, 503);
        let limited = OrderError::RateLimited {
            client: crate::limits::ClientKey("dev_1".into()),
            per_minute: 30,
            retry_after: Duration::from_millis(1_500),
        };
        let (status, retry_after, body) = answer(limited.into()).await;
        assert_eq!((status, retry_after.as_deref(), body.error.code.as_str()), (429, Some("2"), "too_many_requests"));
        assert!(body.error.message.contains("dev_1"), "{}", body.error.message);
        let (status, retry_after, body) =
            answer(OrderError::Full { client: crate::limits::ClientKey("ip:10.0.0.9".into()), active: 500 }.into())
                .await;
        assert_eq!((status, retry_after.as_deref(), body.error.code.as_str()), (503, Some("30"), "unavailable"));
        let (status, retry_after, body) = answer(
            OrderError::TooLarge { client: crate::limits::ClientKey("dev_1".into()), bytes: 65_600, limit: 65_536 }
                .into(),
        )
        .await;
        assert_eq!((status, retry_after, body.error.code.as_str()), (413, None, "order_too_large"));
        assert!(body.error.message.contains("64 over"), "{}", body.error.message);
        let sold_out =
            InvalidOrder::SoldOut(vec![(2, restaurant_protocol::LineProblem::ItemSoldOut { item: "Cola".into() })]);
        let (status, _, body) = answer(OrderError::Invalid(sold_out).into()).await;
        assert_eq!(
            (status, body.error.code.as_str(), body.error.message.as_str()),
            (400, "sold_out", "items[2]: Cola is sold out")
        );
        let (status, _, body) = answer(OrderError::Invalid(InvalidOrder::NoItems).into()).await;
        assert_eq!((status, body.error.code.as_str()), (400, "bad_request"));
        let (status, _, body) = answer(OrderError::Store(crate::store::StoreError::NotAnEvent).into()).await;
        assert_eq!(
            (status, body.error.code.as_str(), body.error.message.as_str()),
            (500, "internal", "not an order event")
        );
    }

    #[tokio::test]
    async fn availability_errors_map_to_their_status() {
        use restaurant_protocol::AvailabilityTarget::Item;
        let refused = |error| AvailabilityFailure::Refused { who: "expo".into(), error };
        let (status, _, body) =
            answer(refused(AvailabilityError::Unknown { target: Item, id: "pizza".into() }).into()).await;
        assert_eq!((status, body.error.message.as_str()), (404, r#"the menu has no item "pizza" (from expo)"#));
        let off = refused(AvailabilityError::OffInFile { target: Item, id: "pie".into() });
        let (status, _, body) = answer(off.into()).await;
        assert_eq!((status, body.error.code.as_str()), (409, "conflict"));
        assert_eq!(answer(AvailabilityFailure::Unavailable.into()).await.0, 503);
    }
}
