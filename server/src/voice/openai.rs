//! The kiosk's Realtime session config, and minting tokens from OpenAI when a key is configured.

use std::fmt;

use restaurant_protocol::Menu;
use restaurant_protocol::voice::kiosk_instructions;
use serde::Deserialize;
use serde_json::{Value, json};

pub const CLIENT_SECRETS_URL: &str = "https://api.openai.com/v1/realtime/client_secrets";
/// Where a kiosk holding an OpenAI-minted token POSTs its SDP offer.
pub const OPENAI_REALTIME_CALLS_URL: &str = "https://api.openai.com/v1/realtime/calls";

/// The kiosk's tools for `menu`, in the Realtime `session.tools` format.
pub fn kiosk_tools(menu: &Menu) -> Value {
    restaurant_protocol::voice::kiosk_tools(menu)
}

/// The session the kiosk runs: the kiosk's instructions and tools for `menu` as it is now
/// (prices, option groups, what is sold out), input transcription.
pub fn kiosk_session(model: &str, menu: &Menu) -> Value {
    json!({
        "type": "realtime",
        "model": model,
        "output_modalities": ["audio"],
        "instructions": kiosk_instructions(menu),
        "tools": kiosk_tools(menu),
        "tool_choice": "auto",
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {"model": "gpt-4o-mini-transcribe"},
                "turn_detection": {"type": "server_vad", "create_response": true}
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy"}
        }
    })
}

/// An HTTP request to send, built without any I/O so it can be checked exactly.
pub struct MintRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

impl fmt::Debug for MintRequest {
    /// Never prints the `Authorization` value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (*k, if k.eq_ignore_ascii_case("authorization") { "<redacted>" } else { v.as_str() }))
            .collect();
        f.debug_struct("MintRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &self.body)
            .finish()
    }
}

/// `POST /v1/realtime/client_secrets` for the kiosk session, valid `ttl_secs`.
pub fn mint_request(api_key: &str, model: &str, ttl_secs: u64, menu: &Menu) -> MintRequest {
    MintRequest {
        method: "POST",
        url: CLIENT_SECRETS_URL.to_string(),
        headers: vec![("Authorization", format!("Bearer {api_key}")), ("Content-Type", "application/json".into())],
        body: json!({
            "expires_after": {"anchor": "created_at", "seconds": ttl_secs},
            "session": kiosk_session(model, menu),
        }),
    }
}

/// What the token endpoint returns to the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Minted {
    pub value: String,
    pub expires_at: u64,
    pub model: String,
}

#[derive(Deserialize)]
struct ClientSecret {
    value: String,
    expires_at: u64,
}

/// Why OpenAI gave no token. Carries no secret.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("{0}")]
    Method(#[from] axum::http::method::InvalidMethod),
    #[error("request failed: {0}")]
    Request(reqwest::Error),
    /// OpenAI's status and the start of its answer.
    #[error("OpenAI answered {status}: {body}")]
    Refused { status: reqwest::StatusCode, body: String },
    #[error("unreadable client secret: {0}")]
    Unreadable(reqwest::Error),
}

/// Sends `req` and reads the token from OpenAI's answer.
pub async fn mint(client: &reqwest::Client, req: MintRequest, model: &str) -> Result<Minted, MintError> {
    let method = reqwest::Method::from_bytes(req.method.as_bytes())?;
    let mut builder = client.request(method, &req.url).json(&req.body);
    for (k, v) in &req.headers {
        builder = builder.header(*k, v);
    }
    let response = builder.send().await.map_err(|e| MintError::Request(e.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        return Err(MintError::Refused { status, body: body.chars().take(300).collect() });
    }
    let secret: ClientSecret = response.json().await.map_err(|e| MintError::Unreadable(e.without_url()))?;
    Ok(Minted { value: secret.value, expires_at: secret.expires_at, model: model.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn menu() -> Menu {
        serde_json::from_str(include_str!("../../menu.json")).unwrap()
    }

    #[test]
    fn mint_request_targets_client_secrets_with_the_kiosk_session() {
        let r = mint_request("sk-test", "gpt-realtime", 600, &menu());
        assert_eq!((r.method, r.url.as_str()), ("POST", "https://api.openai.com/v1/realtime/client_secrets"));
        assert_eq!(
            r.headers,
            vec![("Authorization", "Bearer sk-test".to_string()), ("Content-Type", "application/json".to_string())]
        );
        assert_eq!(r.body["expires_after"], json!({"anchor": "created_at", "seconds": 600}));
        let session = &r.body["session"];
        assert_eq!(session["type"], "realtime");
        assert_eq!(session["model"], "gpt-realtime");
        let tools: Vec<&str> =
            session["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert_eq!(tools, ["add_to_order", "remove_from_order", "confirm_order"]);
        let instructions = session["instructions"].as_str().unwrap();
        assert!(instructions.contains("- Cheeseburger (Burgers), $8.99"), "{instructions}");
        assert!(instructions.contains("  Size (choose 1): Small, Medium +$1.00, Large +$2.00"), "{instructions}");
        assert_eq!(session["tools"], kiosk_tools(&menu()));
        assert_eq!(session["audio"]["input"]["transcription"]["model"], "gpt-4o-mini-transcribe");
    }

    #[test]
    fn the_session_names_what_is_sold_out() {
        let mut menu = menu();
        menu.apply_sold_out(&restaurant_protocol::SoldOut { items: vec!["cola".into()], options: vec![] });
        let session = kiosk_session("gpt-realtime", &menu);
        assert!(session["instructions"].as_str().unwrap().contains("- Cola (Drinks), $2.49 SOLD OUT today"));
    }

    #[test]
    fn the_kiosks_session_update_for_the_demo_menu_fits_the_peers_limits() {
        use super::super::conversation::{MAX_SESSION_BYTES, MAX_SESSION_UPDATE_BYTES};
        let menu = menu();
        let update = json!({"type": "session.update", "session": {
            "type": "realtime", "instructions": kiosk_instructions(&menu), "tools": kiosk_tools(&menu)}});
        let bytes = update.to_string().len();
        assert!(bytes < MAX_SESSION_UPDATE_BYTES / 2, "the kiosk's session.update is {bytes} bytes");
        let session = kiosk_session("gpt-realtime", &menu).to_string().len();
        assert!(session < MAX_SESSION_BYTES / 2, "the session is {session} bytes");
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let r = mint_request("sk-very-secret", "gpt-realtime", 600, &Menu::default());
        let shown = format!("{r:?}");
        assert!(!shown.contains("sk-very-secret") && shown.contains("<redacted>"));
    }
}
