//! The hub: the local backend the kiosk and KDS pages talk to.
//!
//! It serves the built bundle (with the SPA fallback for `/kiosk` and `/kds`) and the runtime
//! `config.json`.

mod settings;
mod static_files;
pub mod voice;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;

pub use settings::Settings;

/// Shared, immutable server state.
pub struct AppState {
    pub settings: Settings,
}

/// Builds the HTTP application.
pub fn app(settings: Settings) -> Router {
    let state = Arc::new(AppState { settings });
    Router::new()
        .route("/config.json", get(static_files::config_json))
        .route("/healthz", get(|| async { "ok" }))
        .merge(voice::VoiceHub::from_app_settings(&state.settings).router())
        .fallback(static_files::serve)
        .with_state(state)
}

/// Serves until `shutdown` resolves, then drains in-flight requests.
pub async fn run(
    listener: TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    if !settings.dist.join("index.html").is_file() {
        tracing::warn!(
            "[Hub] {} has no index.html: build the bundle first (cargo xtask serve does)",
            settings.dist.display()
        );
    }
    tracing::info!("[Hub] listening on http://{addr} (serving {})", settings.dist.display());
    axum::serve(listener, app(settings)).with_graceful_shutdown(shutdown).await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("[Hub] cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("[Hub] cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("[Hub] shutting down");
}
