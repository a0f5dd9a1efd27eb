//! How the kiosk reaches the Realtime endpoint: an ephemeral token from `token_url`, then the SDP
//! offer POSTed to `realtime_url`. A trait, so tests can answer in-page instead of over HTTP.
//! The token request carries the kiosk's device token; a hub that does not know the kiosk
//! answers `device_unpaired` ([`TokenError::DeviceUnpaired`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use restaurant_protocol::RealtimeToken;

use super::http;
use crate::core::device::is_device_unpaired;

pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Why no voice token was obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The hub does not know this kiosk: it must be paired. `sent_token` is the device token the
    /// request carried.
    DeviceUnpaired { sent_token: Option<String> },
    /// Anything else, worded for people.
    Failed(String),
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::DeviceUnpaired { .. } => write!(f, "this kiosk is not paired with the hub"),
            TokenError::Failed(m) => f.write_str(m),
        }
    }
}

/// The kiosk's current device token, read when a request is made.
pub type DeviceToken = Rc<dyn Fn() -> Option<String>>;

pub trait VoiceTransport {
    fn fetch_token(&self) -> LocalFuture<Result<RealtimeToken, TokenError>>;
    /// Sends the offer with the token; resolves to the answer SDP, or a message for people.
    fn exchange_sdp(&self, offer_sdp: String, token: String) -> LocalFuture<Result<String, String>>;
}

pub struct HttpTransport {
    pub token_url: String,
    pub realtime_url: String,
    /// Sent as `Authorization: Bearer …` with the token request (none: no header).
    pub device_token: DeviceToken,
}

impl HttpTransport {
    /// A transport without a device token (a demo hub accepts that).
    pub fn new(token_url: impl Into<String>, realtime_url: impl Into<String>) -> HttpTransport {
        HttpTransport { token_url: token_url.into(), realtime_url: realtime_url.into(), device_token: Rc::new(|| None) }
    }
}

impl VoiceTransport for HttpTransport {
    fn fetch_token(&self) -> LocalFuture<Result<RealtimeToken, TokenError>> {
        let url = self.token_url.clone();
        let device = (self.device_token)();
        Box::pin(async move {
            let json = [("Content-Type", "application/json")];
            let r = http::send_as("POST", &url, device.as_deref(), &json, Some(r#"{"context":"kiosk"}"#))
                .await
                .map_err(|e| TokenError::Failed(format!("voice token request failed: {e}")))?;
            if is_device_unpaired(r.status, &r.body) {
                return Err(TokenError::DeviceUnpaired { sent_token: device });
            }
            if !r.is_success() {
                return Err(TokenError::Failed(format!("voice token refused: {}", error_message(r.status, &r.body))));
            }
            serde_json::from_str::<RealtimeToken>(&r.body)
                .map_err(|e| TokenError::Failed(format!("unreadable voice token: {e}")))
        })
    }

    fn exchange_sdp(&self, offer_sdp: String, token: String) -> LocalFuture<Result<String, String>> {
        let url = self.realtime_url.clone();
        Box::pin(async move {
            let auth = format!("Bearer {token}");
            let r = http::send(
                "POST",
                &url,
                &[("Authorization", auth.as_str()), ("Content-Type", "application/sdp")],
                Some(&offer_sdp),
            )
            .await
            .map_err(|e| format!("voice connection request failed: {e}"))?;
            match r.status {
                // Only a success body is SDP; anything else is an explanation, never an answer.
                200 | 201 if r.body.trim_start().starts_with("v=") => Ok(r.body),
                200 | 201 => Err("the voice service answered without a session description".into()),
                status => Err(format!("the voice service refused the call: {}", error_message(status, &r.body))),
            }
        })
    }
}

/// The human part of an error body: `{"error":{"message"}}` (hub and OpenAI alike), else the text.
pub fn error_message(status: u16, body: &str) -> String {
    let from_json = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.pointer("/error/message").and_then(|m| m.as_str()).map(str::to_string));
    match from_json {
        Some(m) => format!("{m} (HTTP {status})"),
        None if body.trim().is_empty() => format!("HTTP {status}"),
        None => format!("{} (HTTP {status})", body.trim().chars().take(200).collect::<String>()),
    }
}
