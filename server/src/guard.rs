//! The hub's door: who may do what, checked before any handler runs.
//!
//! - [`guard`] (middleware on every route): a state-changing request (`POST`/`PUT`/`PATCH`/
//!   `DELETE`) or a `/ws` upgrade whose `Origin` is neither the hub's own nor one of
//!   `--allow-origin` is refused with `403 origin_refused` (demo mode allows any); the routes
//!   in [`DEVICE_ROUTES`] need a paired device's token (`401 device_unpaired`; in demo mode a
//!   request without a known token is the device `demo`), and the device is put in the request's extensions
//!   (as [`DeviceId`], and as the [`ClientKey`] the limits count by); voice tokens are limited per
//!   device.
//! - [`StationAuth`] / [`ManagerAuth`]: extractors for a station's (or the manager's) session
//!   token, `Authorization: Bearer`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::devices::DeviceId;
use crate::error::ApiError;
use crate::limits::ClientKey;
use crate::pins::MANAGER;
use crate::state::AppState;

/// `(method, path)` of the routes only a paired device may use.
pub const DEVICE_ROUTES: [(Method, &str); 3] = [
    (Method::POST, "/api/v1/orders"),
    (Method::POST, "/api/v1/orders/quote"),
    (Method::POST, "/api/v1/realtime/session"),
];
/// Quotes a client may ask for per minute (a kiosk asks again as the customer changes the cart).
pub const QUOTES_PER_MINUTE: u32 = 120;
/// Voice tokens a device may get per minute (a customer session needs one; a retry or two more).
pub const VOICE_TOKENS_PER_MINUTE: u32 = 10;
const VOICE_TOKEN_PATH: &str = "/api/v1/realtime/session";

/// The token of `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?.trim();
    (!token.is_empty()).then_some(token)
}

/// Whether `origin` (an `Origin` header) is the hub itself (same host and port as `Host`) or
/// allowed by the settings.
fn origin_allowed(state: &AppState, headers: &HeaderMap, origin: &str) -> bool {
    if state.settings.mode.is_demo() || state.settings.allow_origins.iter().any(|o| o == origin) {
        return true;
    }
    let authority = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

pub async fn guard(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let changes_state = matches!(method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    if (changes_state || path == "/ws")
        && let Some(origin) = request.headers().get(header::ORIGIN)
    {
        let origin = origin.to_str().unwrap_or("(not text)");
        if !origin_allowed(&state, request.headers(), origin) {
            return ApiError::origin_refused(format!("{method} {path} from origin {origin} is not allowed"))
                .into_response();
        }
    }
    if DEVICE_ROUTES.iter().any(|(m, p)| *m == method && *p == path) {
        let device = match device_of(&state, request.headers()) {
            Ok(device) => device,
            Err(e) => return e.into_response(),
        };
        if path == VOICE_TOKEN_PATH
            && let Err(wait) = state.voice_token_rate.check(&device.0, Instant::now())
        {
            let seconds = wait.as_secs().max(1);
            let message = format!(
                "device {} asked for more than {} voice tokens a minute; retry in {seconds} s",
                device.0, state.settings.limits.voice_token_rate
            );
            return ApiError::too_many_requests(message, seconds).into_response();
        }
        // Limits (orders per device, …) count per device from here on.
        request.extensions_mut().insert(ClientKey(format!("device:{}", device.0)));
        request.extensions_mut().insert(device);
    }
    next.run(request).await
}

/// The paired device of a request's bearer token ([`AppState::device`]).
fn device_of(state: &AppState, headers: &HeaderMap) -> Result<DeviceId, ApiError> {
    let token = bearer(headers);
    state.device(token).ok_or_else(|| {
        ApiError::device_unpaired(match token {
            Some(_) => "this device is not paired with the hub (unknown or revoked token)",
            None => "this device is not paired with the hub: a manager must pair it",
        })
    })
}

/// A request signed in as a station: `Authorization: Bearer <session token>`.
pub struct StationAuth {
    pub station: String,
}

impl FromRequestParts<Arc<AppState>> for StationAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<StationAuth, ApiError> {
        let token = bearer(&parts.headers)
            .ok_or_else(|| ApiError::unauthorized("sign in first: Authorization: Bearer <station token>"))?;
        let station = state
            .auth
            .station_of(token, Instant::now())
            .ok_or_else(|| ApiError::unauthorized("the station token is unknown, expired or signed out"))?;
        Ok(StationAuth { station })
    }
}

/// A request signed in as the manager.
pub struct ManagerAuth;

impl FromRequestParts<Arc<AppState>> for ManagerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<ManagerAuth, ApiError> {
        let StationAuth { station } = StationAuth::from_request_parts(parts, state).await?;
        if station != MANAGER {
            return Err(ApiError::forbidden(format!("only the manager may do this (signed in as {station})")));
        }
        Ok(ManagerAuth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}
