//! Errors of the voice routes, in OpenAI's shape `{"error":{"type","code","message"}}` so the
//! kiosk reads them exactly as it reads OpenAI's. Each is logged where it becomes a response.

use std::borrow::Cow;
use std::fmt;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The voice routes a fault can make fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /api/v1/realtime/session`
    Session,
    /// `POST /v1/realtime/calls`
    Calls,
}

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

    /// What OpenAI answers a request to `endpoint` with `status` (the `token_status` and
    /// `sdp_status` faults): a specific, human message the kiosk can show as is.
    pub fn as_openai(status: StatusCode, endpoint: Endpoint) -> RealtimeError {
        let (code, message): (&'static str, Cow<'static, str>) = match (status.as_u16(), endpoint) {
            (400, Endpoint::Calls) => ("invalid_offer", "Invalid SDP offer.".into()),
            (401, _) => ("invalid_api_key", "Incorrect API key provided.".into()),
            (429, _) => {
                ("rate_limit_exceeded", "Rate limit reached for requests. Please try again in a few seconds.".into())
            }
            (500, _) => ("server_error", "The server had an error while processing your request.".into()),
            (503, _) => ("service_unavailable", "The voice service is temporarily unavailable.".into()),
            (n, _) => {
                let named = match status.canonical_reason() {
                    Some(reason) => format!("{n} {reason}"),
                    None => n.to_string(),
                };
                if status.is_client_error() {
                    ("request_refused", format!("The voice service refused the request ({named}).").into())
                } else {
                    ("server_error", format!("The voice service failed ({named}).").into())
                }
            }
        };
        RealtimeError::new(status, code, message)
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

    #[tokio::test]
    async fn openai_style_errors_have_specific_messages_per_status_and_endpoint() {
        let answer =
            |status: u16, endpoint| body(RealtimeError::as_openai(StatusCode::from_u16(status).unwrap(), endpoint));
        let expected = [
            (401, Endpoint::Session, "invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
            (401, Endpoint::Calls, "invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
            (
                429,
                Endpoint::Session,
                "invalid_request_error",
                "rate_limit_exceeded",
                "Rate limit reached for requests. Please try again in a few seconds.",
            ),
            (
                500,
                Endpoint::Session,
                "server_error",
                "server_error",
                "The server had an error while processing your request.",
            ),
            (
                503,
                Endpoint::Session,
                "server_error",
                "service_unavailable",
                "The voice service is temporarily unavailable.",
            ),
            (
                503,
                Endpoint::Calls,
                "server_error",
                "service_unavailable",
                "The voice service is temporarily unavailable.",
            ),
            (400, Endpoint::Calls, "invalid_request_error", "invalid_offer", "Invalid SDP offer."),
            (
                400,
                Endpoint::Session,
                "invalid_request_error",
                "request_refused",
                "The voice service refused the request (400 Bad Request).",
            ),
            (
                404,
                Endpoint::Calls,
                "invalid_request_error",
                "request_refused",
                "The voice service refused the request (404 Not Found).",
            ),
            (502, Endpoint::Session, "server_error", "server_error", "The voice service failed (502 Bad Gateway)."),
            (599, Endpoint::Calls, "server_error", "server_error", "The voice service failed (599)."),
        ];
        for (status, endpoint, kind, code, message) in expected {
            let (got, v) = answer(status, endpoint).await;
            assert_eq!(got, status);
            assert_eq!(v, json!({"error": {"type": kind, "code": code, "message": message}}), "{status} {endpoint:?}");
        }
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
