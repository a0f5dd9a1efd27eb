//! The built bundle: one HTML page per screen, each loading only its own wasm. A path whose last
//! segment has no file extension is a page: `/kiosk…` gets `kiosk.html`, `/kds…` gets `kds.html`,
//! and every other (`/`, or a screen that does not exist) the chooser's `index.html`, which says so.
//!
//! Assets are served as the build left them: its `.br` / `.gz` twin to a browser that accepts it
//! (`cargo xtask` writes them; nothing is compressed per request), and for a name carrying a
//! content hash (`app-0123456789abcdef.js`) with a year-long immutable cache, since a new build
//! gives new names. Everything else (`index.html`, `/favicon.ico`) is revalidated on every load.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::state::AppState;

/// Cache lifetime of a content-hashed asset.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The page's icon, which browsers also ask for as `/favicon.ico`.
const FAVICON: &str = "favicon.svg";

pub async fn serve(State(state): State<Arc<AppState>>, mut req: Request) -> Response {
    let last_segment = req.uri().path().rsplit('/').next().unwrap_or("").to_string();
    if !last_segment.contains('.') {
        return page_html(&state, page_for(req.uri().path())).await;
    }
    if req.uri().path() == "/favicon.ico" {
        *req.uri_mut() = axum::http::Uri::from_static("/favicon.svg");
    }
    let dir = ServeDir::new(&state.settings.dist).precompressed_br().precompressed_gzip();
    let mut response = match dir.oneshot(req).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    };
    let status = response.status();
    if status.is_success() || status == axum::http::StatusCode::NOT_MODIFIED {
        let cache = if content_hashed(&last_segment) { IMMUTABLE } else { "no-cache" };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static(cache));
        // The body depends on what the browser accepts: a shared cache must key on it.
        headers.insert(header::VARY, header::HeaderValue::from_static("accept-encoding"));
        if status.is_success() && (last_segment == "favicon.ico" || last_segment == FAVICON) {
            headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("image/svg+xml"));
        }
    }
    response
}

/// Whether a file name carries a content hash as the bundle names them: `stem-<hash>.ext`, or
/// `stem-<hash>_bg.wasm`, the hash a 64-bit number in hex without leading zeros (12 to 16 digits
/// but for one build in 65 536).
fn content_hashed(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| (12..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The pages of the bundle and the first path segment each is served for; every other path gets
/// the chooser's `index.html`.
pub const PAGES: [(&str, &str); 2] = [("kiosk", "kiosk.html"), ("kds", "kds.html")];

/// The HTML file of the page at `path`.
fn page_for(path: &str) -> &'static str {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    PAGES.iter().find(|(segment, _)| *segment == first).map_or("index.html", |(_, file)| file)
}

async fn page_html(state: &AppState, file: &str) -> Response {
    let path = state.settings.dist.join(file);
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
    use axum::http::{HeaderMap, Request};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use crate::{Hub, Settings};

    fn settings_with_dist() -> (tempfile::TempDir, Settings) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<!doctype html><title>app</title>").unwrap();
        std::fs::write(dir.path().join("kiosk.html"), "<!doctype html><title>kiosk</title>").unwrap();
        std::fs::write(dir.path().join("kds.html"), "<!doctype html><title>kds</title>").unwrap();
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
    async fn each_page_path_gets_its_own_page_and_any_other_the_chooser() {
        let (_dir, s) = settings_with_dist();
        for (path, title) in [
            ("/", "app"),
            ("/kiosk", "kiosk"),
            ("/kiosk/", "kiosk"),
            ("/kds", "kds"),
            ("/kds/", "kds"),
            ("/kds/grill", "kds"),
            ("/kdsx", "app"),
            ("/setup-elsewhere", "app"),
            ("/nothing/kiosk", "app"),
        ] {
            let (status, ctype, body) = get(&s, path).await;
            assert_eq!(status, 200, "{path}");
            assert!(ctype.unwrap().starts_with("text/html"), "{path}");
            assert!(body.contains(&format!("<title>{title}</title>")), "{path} gets {title}: {body}");
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

    async fn get_with(settings: &Settings, path: &str, accept: &str) -> (u16, HeaderMap, Vec<u8>) {
        let response = Hub::start(settings.clone())
            .await
            .unwrap()
            .router()
            .oneshot(Request::get(path).header("accept-encoding", accept).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
    }

    #[tokio::test]
    async fn precompressed_twins_are_served_to_browsers_that_accept_them() {
        let (dir, s) = settings_with_dist();
        let name = "restaurant-web-0123456789abcdef_bg.wasm";
        std::fs::write(dir.path().join(name), b"raw wasm").unwrap();
        std::fs::write(dir.path().join(format!("{name}.br")), b"brotli wasm").unwrap();
        std::fs::write(dir.path().join(format!("{name}.gz")), b"gzip wasm").unwrap();
        let path = format!("/{name}");
        let (status, headers, body) = get_with(&s, &path, "gzip, deflate, br").await;
        assert_eq!((status, body.as_slice()), (200, b"brotli wasm".as_slice()));
        assert_eq!(headers["content-encoding"], "br");
        assert_eq!(headers["content-type"], "application/wasm");
        assert_eq!(headers["cache-control"], super::IMMUTABLE, "a hashed name never changes");
        assert_eq!(headers["vary"], "accept-encoding", "a shared cache keys on what the browser accepts");
        let (_, headers, body) = get_with(&s, &path, "gzip").await;
        assert_eq!((headers["content-encoding"].to_str().unwrap(), body.as_slice()), ("gzip", b"gzip wasm".as_slice()));
        let (_, headers, body) = get_with(&s, &path, "identity").await;
        assert!(headers.get("content-encoding").is_none());
        assert_eq!(body, b"raw wasm");
    }

    #[tokio::test]
    async fn unhashed_files_are_revalidated_and_the_favicon_is_served() {
        let (dir, s) = settings_with_dist();
        std::fs::write(dir.path().join("favicon.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
        for path in ["/favicon.ico", "/favicon.svg"] {
            let (status, headers, body) = get_with(&s, path, "").await;
            assert_eq!(status, 200, "{path}");
            assert_eq!(headers["content-type"], "image/svg+xml", "{path}");
            assert_eq!(headers["cache-control"], "no-cache", "{path}");
            assert!(String::from_utf8_lossy(&body).starts_with("<svg"), "{path}");
        }
        // The test bundle's `app-1234.js` has no 16-digit hash: it may change under its name.
        assert_eq!(get_with(&s, "/app-1234.js", "").await.1["cache-control"], "no-cache");
        assert_eq!(get_with(&s, "/", "").await.1["cache-control"], "no-cache");
    }

    #[test]
    fn content_hashes_are_recognised_in_bundle_names() {
        for name in ["main-557bc43dc86231af.css", "restaurant-web-9cfcd6d399756a3d_bg.wasm", "app-ed917a4957098062.js"]
        {
            assert!(super::content_hashed(name), "{name}");
        }
        for name in ["favicon.svg", "index.html", "app-1234.js", "app-ed917a495709806z.js", "config.json"] {
            assert!(!super::content_hashed(name), "{name}");
        }
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
        assert!(text.contains("<title>kds</title>"));
        stop_tx.send(()).unwrap();
        tokio::time::timeout(crate::SHUTDOWN_GRACE, server).await.unwrap().unwrap().unwrap();
    }
}
