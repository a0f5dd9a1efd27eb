//! How the kiosk reaches the Realtime endpoint: an ephemeral token from `token_url`, then the SDP
//! offer POSTed to `realtime_url`. A trait, so tests can answer in-page instead of over HTTP.

use std::future::Future;
use std::pin::Pin;

use restaurant_protocol::RealtimeToken;

use super::http;

pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

pub trait VoiceTransport {
    fn fetch_token(&self) -> LocalFuture<Result<RealtimeToken, String>>;
    /// Sends the offer with the token; resolves to the answer SDP, or a message for people.
    fn exchange_sdp(&self, offer_sdp: String, token: String) -> LocalFuture<Result<String, String>>;
}

pub struct HttpTransport {
    pub token_url: String,
    pub realtime_url: String,
}

impl VoiceTransport for HttpTransport {
    fn fetch_token(&self) -> LocalFuture<Result<RealtimeToken, String>> {
        let url = self.token_url.clone();
        Box::pin(async move {
            let r = http::send("POST", &url, &[("Content-Type", "application/json")], Some(r#"{"context":"kiosk"}"#))
                .await
                .map_err(|e| format!("voice token request failed: {e}"))?;
            if !r.is_success() {
                return Err(format!("voice token refused: {}", error_message(r.status, &r.body)));
            }
            serde_json::from_str::<RealtimeToken>(&r.body).map_err(|e| format!("unreadable voice token: {e}"))
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
