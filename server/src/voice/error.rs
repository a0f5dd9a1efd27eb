//! Errors of the voice routes, in OpenAI's shape `{"error":{"type","code","message"}}` so the
//! kiosk reads them exactly as it reads OpenAI's. Each is logged where it becomes a response.

use std::borrow::Cow;
use std::fmt;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A refused voice request: status, OpenAI-style `code`, and the message sent to the client.
#[derive(Debug)]
pub struct RealtimeError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    /// Logged with the error, never sent (the upstream answer, the rejected body, …).
    detail: Option<String>,
    /// Sent as `Retry-After`, in seconds.
    retry_after: Option<u32>,
}

impl RealtimeError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<Cow<'static, str>>) -> RealtimeError {
        RealtimeError { status, code, message: message.into(), detail: None, retry_after: None }
    }

    /// `400 bad_request`.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> RealtimeError {
        RealtimeError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// `401 invalid_api_key`: no usable bearer token.
    pub fn invalid_api_key(message: impl Into<Cow<'static, str>>) -> RealtimeError {
        RealtimeError::new(StatusCode::UNAUTHORIZED, "invalid_api_key", message)
    }

    /// `404 not_found` for the dev endpoints outside dev mode.
    pub fn dev_only() -> RealtimeError {
        RealtimeError::new(StatusCode::NOT_FOUND, "not_found", "dev endpoints are off")
    }

    /// Adds what the log should say beyond the message.
    pub fn with_detail(mut self, detail: impl fmt::Display) -> RealtimeError {
        self.detail = Some(detail.to_string());
        self
    }

    /// Tells the client when to try again (`Retry-After: <secs>`).
    pub fn with_retry_after(mut self, secs: u32) -> RealtimeError {
        self.retry_after = Some(secs);
        self
    }

    /// OpenAI's error `type` for the status.
    fn kind(&self) -> &'static str {
        if self.status.is_client_error() { "invalid_request_error" } else { "server_error" }
    }
}

impl fmt::Display for RealtimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)?;
        match &self.detail {
            Some(detail) => write!(f, " ({detail})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for RealtimeError {}

impl IntoResponse for RealtimeError {
    fn into_response(self) -> Response {
        let (status, code, detail) = (self.status.as_u16(), self.code, self.detail.as_deref());
        if self.status.is_server_error() {
            tracing::error!(status, code, detail, "{}", self.message);
        } else {
            tracing::warn!(status, code, detail, "{}", self.message);
        }
        let body = json!({ "error": { "type": self.kind(), "code": self.code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// A JSON body that could not be read: `400 bad_request` with axum's reason.
impl From<JsonRejection> for RealtimeError {
    fn from(rejection: JsonRejection) -> RealtimeError {
        RealtimeError::bad_request(rejection.body_text())
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn body(error: RealtimeError) -> (u16, serde_json::Value) {
        let response = error.into_response();
        let status = response.status().as_u16();
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn client_and_server_errors_carry_openai_s_type_and_never_the_detail() {
        let (status, v) =
            body(RealtimeError::invalid_api_key("token expired").with_detail("the upstream said no")).await;
        assert_eq!(status, 401);
        assert_eq!(
            v,
            json!({"error": {"type": "invalid_request_error", "code": "invalid_api_key", "message": "token expired"}})
        );
        assert!(!v.to_string().contains("upstream"));
        let (status, v) = body(RealtimeError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "no capacity")).await;
        assert_eq!((status, v["error"]["type"].as_str()), (503, Some("server_error")));
    }

    #[test]
    fn retry_after_becomes_a_header() {
        let response = RealtimeError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "busy")
            .with_retry_after(1)
            .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }
}
