//! The built bundle, with the SPA fallback: any path whose last segment has no file extension
//! (`/`, `/kiosk`, `/kds`, …) gets `index.html`, so the app's router decides what to show.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::state::AppState;

pub async fn serve(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let last_segment = req.uri().path().rsplit('/').next().unwrap_or("");
    if !last_segment.contains('.') {
        return index_html(&state).await;
    }
    match ServeDir::new(&state.settings.dist).oneshot(req).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}

async fn index_html(state: &AppState) -> Response {
    let path = state.settings.dist.join("index.html");
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], bytes)
            .into_response(),
        Err(e) => {
            tracing::error!("cannot read {}: {e}", path.display());
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The page bundle is not built. Run `cargo xtask serve`, which builds it first.",
            )
                .into_response()
        }
    }
}

/// `config.json`: only what the hub knows better than the page; every other key falls back to
/// defaults relative to the page's origin.
pub async fn config_json(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let s = &state.settings;
    let mut map = Map::new();
    map.insert("station".into(), Value::String(s.station.clone()));
    map.insert("mode".into(), Value::String(s.mode.as_str().into()));
    map.insert("allow_url_overrides".into(), Value::Bool(s.mode.is_demo() || s.allow_url_overrides));
    if let Some(url) = &s.https_url {
        map.insert("https_url".into(), Value::String(url.clone()));
    }
    // With an OpenAI key the hub mints real tokens, so the kiosk must talk to OpenAI itself.
    let realtime_url = s
        .realtime_url
        .clone()
        .or_else(|| s.voice.openai_api_key.as_ref().map(|_| crate::voice::OPENAI_REALTIME_CALLS_URL.to_string()));
    if let Some(url) = realtime_url {
        map.insert("realtime_url".into(), Value::String(url));
    }
    if let Some(url) = &s.token_url {
        map.insert("token_url".into(), Value::String(url.clone()));
    }
    ([(header::CACHE_CONTROL, "no-store")], Json(Value::Object(map)))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use crate::{Hub, Settings};

    fn settings_with_dist() -> (tempfile::TempDir, Settings) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<!doctype html><title>app</title>").unwrap();
        std::fs::write(dir.path().join("app-1234.js"), "export {}").unwrap();
        let settings =
            Settings { dist: dir.path().to_path_buf(), station: "grill".into(), memory: true, ..Settings::demo() };
        (dir, settings)
    }

    async fn get(settings: &Settings, path: &str) -> (u16, Option<String>, String) {
        let response = Hub::start(settings.clone())
            .await
            .unwrap()
            .router()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let ctype = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, ctype, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn page_routes_get_index_html() {
        let (_dir, s) = settings_with_dist();
        for path in ["/", "/kiosk", "/kds", "/kds/"] {
            let (status, ctype, body) = get(&s, path).await;
            assert_eq!(status, 200, "{path}");
            assert!(ctype.unwrap().starts_with("text/html"), "{path}");
            assert!(body.contains("<title>app</title>"), "{path}");
        }
    }

    #[tokio::test]
    async fn assets_are_served_and_missing_assets_are_404() {
        let (_dir, s) = settings_with_dist();
        let (status, ctype, body) = get(&s, "/app-1234.js").await;
        assert_eq!((status, body.as_str()), (200, "export {}"));
        assert!(ctype.unwrap().contains("javascript"));
        assert_eq!(get(&s, "/missing-5678.wasm").await.0, 404);
    }

    #[tokio::test]
    async fn config_json_names_the_station_and_leaves_urls_to_the_origin() {
        let (_dir, s) = settings_with_dist();
        let (status, _, body) = get(&s, "/config.json").await;
        assert_eq!(status, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v, serde_json::json!({"station": "grill", "mode": "demo", "allow_url_overrides": true}));
    }

    #[tokio::test]
    async fn with_an_openai_key_config_json_points_the_kiosk_at_openai() {
        let (_dir, mut s) = settings_with_dist();
        s.voice.openai_api_key = Some("sk-test".into());
        let (_, _, body) = get(&s, "/config.json").await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["realtime_url"], crate::voice::OPENAI_REALTIME_CALLS_URL);
        assert!(!body.contains("sk-test"), "the key never leaves the server");
    }

    #[tokio::test]
    async fn unbuilt_bundle_says_how_to_build_it() {
        let s = Settings { dist: "/nonexistent-dist".into(), memory: true, ..Settings::demo() };
        let (status, _, body) = get(&s, "/kiosk").await;
        assert_eq!(status, 503);
        assert!(body.contains("cargo xtask serve"));
    }

    #[tokio::test]
    async fn serves_over_a_real_socket_and_shuts_down_on_signal() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (_dir, s) = settings_with_dist();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::run(listener, s, async move {
            let _ = stop_rx.await;
        }));
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"GET /kds HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).await.unwrap();
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        assert!(text.contains("<title>app</title>"));
        stop_tx.send(()).unwrap();
        tokio::time::timeout(crate::SHUTDOWN_GRACE, server).await.unwrap().unwrap().unwrap();
    }
}
