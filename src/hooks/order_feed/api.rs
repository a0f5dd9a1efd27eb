//! The order feed's HTTP calls: the PIN sign-in, the snapshot of active orders and the sign-out.

use std::fmt;

use restaurant_protocol::{ApiError, PinRequest, PinResponse, Snapshot};
use serde::{Deserialize, Serialize};

use crate::web::http;

/// Why signing in did not work, worded for the cook at the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInError {
    WrongPin,
    TooManyAttempts,
    /// The hub refused the request (e.g. an invalid station name).
    Rejected(String),
    Unreachable(String),
    /// The page was closed before the answer arrived.
    Closed,
}

impl fmt::Display for SignInError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignInError::WrongPin => write!(f, "Wrong PIN"),
            SignInError::TooManyAttempts => write!(f, "Too many wrong PINs — wait a minute and try again"),
            SignInError::Rejected(m) => write!(f, "Sign-in refused: {m}"),
            SignInError::Unreachable(m) => write!(f, "Cannot reach the hub ({m})"),
            SignInError::Closed => write!(f, "Sign-in cancelled"),
        }
    }
}

/// A station's session as kept in local storage, so a reloaded screen reconnects by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct StoredSession {
    pub token: String,
    pub station: String,
}

/// `GET {api_base}/api/v1/orders` with the station's token.
pub(super) async fn fetch_snapshot(api_base: &str, token: Option<&str>) -> Result<Snapshot, String> {
    let url = format!("{api_base}/api/v1/orders");
    let response =
        http::send_as("GET", &url, token, &[("Accept", "application/json")], None).await.map_err(|e| e.to_string())?;
    if !response.is_success() {
        return Err(format!("GET {url} answered {}: {}", response.status, response.body));
    }
    serde_json::from_str(&response.body).map_err(|e| format!("snapshot from {url} is not valid: {e}"))
}

/// `POST {api_base}/api/v1/auth/pin`: the station's token.
pub(super) async fn request_token(api_base: &str, station: &str, pin: &str) -> Result<String, SignInError> {
    let url = format!("{api_base}/api/v1/auth/pin");
    let body = serde_json::to_string(&PinRequest { pin: pin.to_string(), station: station.to_string() })
        .map_err(|e| SignInError::Rejected(e.to_string()))?;
    let response = http::send("POST", &url, &[("Content-Type", "application/json")], Some(&body))
        .await
        .map_err(|e| SignInError::Unreachable(e.to_string()))?;
    let api_message = || {
        serde_json::from_str::<ApiError>(&response.body)
            .map(|e| e.error.message)
            .unwrap_or_else(|_| format!("HTTP {}", response.status))
    };
    let result = match response.status {
        200 => serde_json::from_str::<PinResponse>(&response.body)
            .map(|r| r.token)
            .map_err(|e| SignInError::Rejected(format!("unexpected answer: {e}"))),
        401 => Err(SignInError::WrongPin),
        429 => Err(SignInError::TooManyAttempts),
        _ => Err(SignInError::Rejected(api_message())),
    };
    if let Err(e) = &result {
        log::warn!("[OrderFeed] sign-in as {station} failed: {e}");
    }
    result
}

/// `POST {api_base}/api/v1/auth/signout`: revokes the station's token on the hub. Best effort: a
/// failure is logged (the screen has forgotten the token either way).
pub(super) async fn sign_out(api_base: &str, station: &str, token: &str) {
    let url = format!("{api_base}/api/v1/auth/signout");
    match http::send_as("POST", &url, Some(token), &[("Content-Type", "application/json")], Some("{}")).await {
        Ok(r) if r.is_success() => log::info!("[OrderFeed] station {station} signed out on the hub"),
        Ok(r) => log::warn!(
            "[OrderFeed] the hub answered the sign-out of station {station} with HTTP {}: {}",
            r.status,
            r.body.chars().take(200).collect::<String>()
        ),
        Err(e) => log::warn!("[OrderFeed] the sign-out of station {station} did not reach the hub: {e}"),
    }
}
