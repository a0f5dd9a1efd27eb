//! `fetch` as a Rust future that owns its request: dropping the future aborts the request
//! (`AbortController`), so an unmounted component never receives a late response.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestInit, Response};

use super::js_error_message;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub content_type: Option<String>,
    /// The `Retry-After` header (readable cross-origin only when the server exposes it).
    pub retry_after: Option<String>,
    pub body: String,
}

impl HttpResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The request never produced a response (offline, DNS, CORS, connection refused).
    Network(String),
    /// The request could not be built (bad URL or header).
    Request(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Network(m) => write!(f, "network error: {m}"),
            HttpError::Request(m) => write!(f, "invalid request: {m}"),
        }
    }
}

/// Aborts the in-flight request unless disarmed.
struct AbortOnDrop(Option<AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

/// Sends one request and reads the whole body as text.
pub async fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<HttpResponse, HttpError> {
    let window = web_sys::window().ok_or_else(|| HttpError::Request("no window".into()))?;
    let controller = AbortController::new().map_err(|e| HttpError::Request(js_error_message(&e)))?;
    let mut guard = AbortOnDrop(Some(controller.clone()));

    let init = RequestInit::new();
    init.set_method(method);
    init.set_signal(Some(&controller.signal()));
    let header_map = Headers::new().map_err(|e| HttpError::Request(js_error_message(&e)))?;
    for (name, value) in headers {
        header_map.set(name, value).map_err(|e| HttpError::Request(js_error_message(&e)))?;
    }
    init.set_headers(&header_map);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }

    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| HttpError::Network(js_error_message(&e)))?
        .unchecked_into();
    let status = response.status();
    let content_type = response.headers().get("content-type").ok().flatten();
    let retry_after = response.headers().get("retry-after").ok().flatten();
    let text_promise = response.text().map_err(|e| HttpError::Network(js_error_message(&e)))?;
    let body = JsFuture::from(text_promise)
        .await
        .map_err(|e| HttpError::Network(js_error_message(&e)))?
        .as_string()
        .unwrap_or_default();
    guard.0 = None; // completed: nothing to abort
    Ok(HttpResponse { status, content_type, retry_after, body })
}

/// `Authorization: Bearer {token}`.
fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// [`send`] with `Authorization: Bearer {token}` added when there is a token (a station's or a
/// paired device's).
pub async fn send_as(
    method: &str,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<HttpResponse, HttpError> {
    let auth = token.map(bearer);
    let mut all = headers.to_vec();
    if let Some(auth) = &auth {
        all.push(("Authorization", auth.as_str()));
    }
    send(method, url, &all, body).await
}

pub async fn get(url: &str) -> Result<HttpResponse, HttpError> {
    send("GET", url, &[("Accept", "application/json")], None).await
}
