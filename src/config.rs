//! Loads the runtime configuration in the browser: `config.json` from the page origin, overridden
//! by query parameters; the decisions live in [`crate::core::config`].

use crate::core::config::{ConfigError, RuntimeConfig};
use crate::web::http;

pub use crate::core::config::VoiceMode;

/// Fetches `config.json` and resolves the configuration for the current page.
pub async fn load() -> Result<RuntimeConfig, Vec<ConfigError>> {
    let fail = |message: String| {
        log::error!("[Config] {message}");
        vec![ConfigError { key: "config.json".into(), message }]
    };
    let Some(window) = web_sys::window() else {
        return Err(fail("no window object".into()));
    };
    let location = window.location();
    let origin = location.origin().map_err(|e| fail(crate::web::js_error_message(&e)))?;
    let search = location.search().unwrap_or_default();
    let url = format!("{origin}/config.json");

    let body = match http::get(&url).await {
        Ok(r) if r.status == 404 => None,
        // A dev server with an SPA fallback answers every path with index.html: that is "no file".
        Ok(r) if r.is_success() && looks_like_html(&r) => None,
        Ok(r) if r.is_success() => Some(r.body),
        Ok(r) => return Err(fail(format!("GET {url} answered HTTP {}", r.status))),
        Err(e) => return Err(fail(format!("GET {url} failed: {e}"))),
    };
    RuntimeConfig::resolve(&origin, body.as_deref(), &search).inspect_err(|errors| {
        for e in errors {
            log::error!("[Config] invalid value for {}: {}", e.key, e.message);
        }
    })
}

fn looks_like_html(r: &http::HttpResponse) -> bool {
    r.content_type.as_deref().is_some_and(|t| t.contains("text/html")) || r.body.trim_start().starts_with('<')
}
