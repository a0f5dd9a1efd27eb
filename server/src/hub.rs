//! The running hub: starting it (menu, store, feed), its routes, serving them until shutdown,
//! and closing everything it owns within [`SHUTDOWN_GRACE`].

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

use crate::auth::Auth;
use crate::call::{self, CallRouter};
use crate::devices::Devices;
use crate::error::ApiError;
use crate::feed::{Feed, ReplayLimits};
use crate::menu::{LiveMenu, MenuBook, MenuError};
use crate::pins::PinError;
use crate::settings::{Settings, TlsSetting};
use crate::state::{AppState, now_ms};
use crate::store::{Location, StoreClosed, StoreError, StoreHandle, StoreThread};
use crate::tls::{HubTls, TlsError};
use crate::{api, guard, load, static_files, tls, voice, ws};

/// Everything after a shutdown request must finish within this.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Part of [`SHUTDOWN_GRACE`] given to in-flight HTTP requests.
const HTTP_DRAIN: Duration = Duration::from_secs(6);
/// `/healthz` fails when the store thread does not answer within this.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(1);
/// Old finished orders are removed at start and then this often.
pub const RETENTION_SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

/// Why the hub cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Menu(#[from] MenuError),
    #[error("a start-up task failed: {0}")]
    StartTask(#[from] tokio::task::JoinError),
    #[error("--allow-origin: invalid origin {0:?}")]
    Origin(String),
    #[error("cannot open the store ({location}): {source}")]
    Store { location: String, source: StoreError },
    #[error(transparent)]
    Pins(#[from] PinError),
    #[error(
        "demo mode only listens on this machine (127.0.0.1, ::1 or localhost), not {0}: to serve the \
         tablets on the restaurant's network run the production hub (`cargo xtask serve --lan`, see docs/deployment.md)"
    )]
    DemoNotLoopback(String),
    #[error(
        "no PINs are set, so no one could sign in: set the manager's PIN and each station's with\n\n    \
         restaurant-hub set-pin --data {data} manager kitchen\n\n(one prompt per name; add every station \
         name), then start the hub again"
    )]
    NoPins { data: String },
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
}

/// Whether `host` (the `--host` value) only reaches this machine.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A started hub: store open, feed ready, not yet listening.
pub struct Hub {
    state: Arc<AppState>,
    store_thread: StoreThread,
    cors: Option<CorsLayer>,
    voice: voice::VoiceHub,
    tls: Option<HubTls>,
}

impl Hub {
    /// Loads the menu and opens the store (on its own thread).
    pub async fn start(settings: Settings) -> Result<Hub, StartError> {
        if settings.mode.is_demo() && !is_loopback_host(&settings.host) {
            return Err(StartError::DemoNotLoopback(settings.host.clone()));
        }
        let auth = {
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || Auth::new(&settings)).await??
        };
        if !auth.has_pins() {
            return Err(StartError::NoPins { data: settings.data.display().to_string() });
        }
        let devices = Devices::load((!settings.memory).then_some(settings.data.as_path()));
        let menu_path = settings.menu.clone();
        let menu = Arc::new(tokio::task::spawn_blocking(move || MenuBook::load(menu_path.as_deref())).await??);
        let cors = cors_layer(&settings)?;
        let tls = {
            let (setting, data, dist) = (settings.tls.clone(), settings.data.clone(), settings.dist.clone());
            let names = settings.hostnames.clone();
            tokio::task::spawn_blocking(move || HubTls::load(&setting, &data, &dist, &names))
                .await
                .map_err(|e| TlsError::Config(format!("the certificate loader failed: {e}")))??
        };
        let location = if settings.memory { Location::Memory } else { Location::Folder(settings.data.clone()) };
        let replay = ReplayLimits { events: settings.replay_events, bytes: settings.limits.replay_bytes };
        let book = menu.clone();
        let (store, store_thread, (last_seq, recent, sold_out, menu_seq)) =
            StoreHandle::start(location.clone(), replay, move |s| {
                announce_menu_at_start(s, &book)?;
                Ok((s.last_seq(), s.recent_events()?, s.sold_out().clone(), s.last_menu_seq()))
            })
            .await
            .map_err(|source| StartError::Store { location: format!("{location:?}"), source })?;
        tracing::info!(?location, last_seq, replay = recent.len(), "store opened");
        let feed = Feed::new(last_seq, recent, replay, settings.client_queue);
        // A dev hub notes when each event is published, for the fan-out bench.
        let feed = Arc::new(if settings.mode.is_demo() { feed.with_publish_log() } else { feed });
        if menu.known(&sold_out) != sold_out {
            tracing::warn!(
                stored = ?sold_out,
                "the sold-out list names ids this menu does not have: they are ignored"
            );
        }
        if menu.menu().tax != Default::default() {
            tracing::warn!("the menu file's tax is ignored: the hub charges --tax-rate (and --tax-inclusive)");
        }
        let live = LiveMenu::new(&menu, menu_seq, &sold_out, settings.tax);
        tracing::info!(
            items = menu.menu().items.len(),
            sold_out = ?live.sold_out,
            tax = %live.menu.tax.rate_text(),
            tax_inclusive = live.menu.tax.inclusive,
            "menu loaded"
        );
        let live_menu = Arc::new(tokio::sync::watch::Sender::new(Arc::new(live)));
        let voice_menu = live_menu.subscribe();
        let voice = voice::VoiceHub::new(
            settings.voice_settings(),
            voice::MenuSource::new(move || voice_menu.borrow().menu.clone()),
        );
        tracing::info!(mode = settings.mode.as_str(), "starting");
        let state = Arc::new(AppState::new(settings, auth, devices, (menu, live_menu), store, feed));
        state.tasks.spawn(sweep_calls(state.calls.clone(), state.shutdown.clone()));
        state.tasks.spawn(watch_pins(state.clone()));
        // The first sweep runs before the hub serves; then hourly.
        if remove_finished_orders(&state).await.is_ok() {
            state.tasks.spawn(sweep_finished_orders(state.clone()));
        }
        Ok(Hub { state, store_thread, cors, voice, tls })
    }

    pub fn settings(&self) -> &Settings {
        &self.state.settings
    }

    /// What HTTPS is served with; `None` when TLS is off.
    pub fn tls(&self) -> Option<&HubTls> {
        self.tls.as_ref()
    }

    /// Every route of the hub, with the bundle as the fallback.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/config.json", get(static_files::config_json))
            .route("/healthz", get(healthz))
            .route("/ws", get(ws::upgrade))
            .merge(api::routes())
            .merge(load::routes())
            .merge(self.voice.router())
            .fallback(static_files::serve)
            .layer(middleware::from_fn_with_state(self.state.clone(), guard::guard))
            .layer(middleware::from_fn(request_span))
            .with_state(self.state.clone())
    }

    /// Cancelled when the hub shuts down; cancelling it shuts the hub down.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.state.shutdown.clone()
    }

    /// Tasks tracked here are awaited (within [`SHUTDOWN_GRACE`]) before the store closes.
    pub fn tasks(&self) -> TaskTracker {
        self.state.tasks.clone()
    }

    /// Serves `router` (normally [`Hub::router`], possibly with more routes merged) until
    /// `shutdown` resolves or the shutdown token is cancelled; then stops accepting, closes every
    /// WebSocket with 1001, waits for owned tasks and flushes the store, within [`SHUTDOWN_GRACE`].
    ///
    /// With TLS off, `listeners.main` serves plain HTTP. With TLS on it serves HTTPS, and
    /// `listeners.plain` (if any) serves the CA certificate, the setup page and redirects to HTTPS.
    pub async fn serve(
        self,
        listeners: impl Into<Listeners>,
        router: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Listeners { main, plain } = listeners.into();
        let addr: SocketAddr = main.local_addr()?;
        let settings = &self.state.settings;
        let pages = crate::static_files::PAGES.iter().map(|(_, file)| *file);
        for page in std::iter::once("index.html").chain(pages) {
            if !settings.dist.join(page).is_file() {
                tracing::warn!(
                    "{} has no {page}: build the bundle first (cargo xtask serve does)",
                    settings.dist.display()
                );
            }
        }
        let router = match self.cors.clone() {
            Some(cors) => router.layer(cors),
            None => router,
        };
        let token = self.state.shutdown.clone();
        // Cancelled once HTTP_DRAIN is over: connections still open are dropped.
        let kill = CancellationToken::new();
        let server: Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>> = match &self.tls {
            None => {
                if plain.is_some() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "a plain-HTTP redirect listener was given but TLS is off",
                    ));
                }
                tracing::info!("listening on http://{addr} (serving {})", settings.dist.display());
                // Small frames (an event, then its ack) must not wait for the peer's delayed ACK.
                let main = main.tap_io(|tcp| {
                    if let Err(e) = tcp.set_nodelay(true) {
                        tracing::warn!("cannot set TCP_NODELAY on a connection: {e}");
                    }
                });
                Box::pin(
                    axum::serve(main, router.into_make_service_with_connect_info::<SocketAddr>())
                        .with_graceful_shutdown(token.clone().cancelled_owned())
                        .into_future(),
                )
            }
            Some(hub_tls) => {
                let plain_addr = plain.as_ref().map(TcpListener::local_addr).transpose()?;
                tls::log_listening(hub_tls, addr, plain_addr, &settings.dist);
                let https = tls::serve_connections(
                    main,
                    Some((hub_tls.acceptor(), settings.tls_handshake_timeout)),
                    router.clone(),
                    token.clone(),
                    kill.clone(),
                );
                let plain = plain.map(|listener| {
                    let routes = tls::plain_router(hub_tls, addr.port(), router);
                    tls::serve_connections(listener, None, routes, token.clone(), kill.clone())
                });
                Box::pin(async move {
                    match plain {
                        Some(plain) => tokio::join!(https, plain).0,
                        None => https.await,
                    };
                    Ok(())
                })
            }
        };
        let trigger = token.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = shutdown => {}
                _ = trigger.cancelled() => {}
            }
            trigger.cancel();
        });
        let drain_deadline = async {
            token.cancelled().await;
            tokio::time::sleep(HTTP_DRAIN).await;
        };
        let result = tokio::select! {
            r = server => r,
            _ = drain_deadline => {
                tracing::warn!("HTTP connections still open after {HTTP_DRAIN:?}: dropping them");
                Ok(())
            }
        };
        kill.cancel();
        token.cancel();
        let started = tokio::time::Instant::now();
        self.close(started).await;
        result
    }

    async fn close(self, started: tokio::time::Instant) {
        // Voice calls first: each closes its peer connection (bounded inside).
        self.voice.shutdown().await;
        let tasks = &self.state.tasks;
        tasks.close();
        let budget = SHUTDOWN_GRACE.saturating_sub(HTTP_DRAIN).saturating_sub(Duration::from_secs(1));
        if tokio::time::timeout_at(started + budget, tasks.wait()).await.is_err() {
            tracing::warn!(tasks = tasks.len(), "tasks still running after {budget:?}; closing the store anyway");
        }
        self.store_thread.close().await;
        tracing::info!("stopped");
    }
}

/// Announces the sold-out list at start when it is not what the last `menu.updated` said (the
/// menu file changed what it takes off, or an id left the menu), so a kitchen screen resuming
/// from an earlier event hears it. When that event has left the replay log it cannot be compared,
/// and the list is announced again. With no `menu.updated` ever, no screen holds a list to
/// correct: each takes it from the menu or a snapshot.
fn announce_menu_at_start(store: &mut crate::store::Store, book: &MenuBook) -> Result<(), StoreError> {
    let effective = book.effective(store.sold_out());
    let stale = match store.last_menu_seq() {
        None => false,
        Some(_) => store.last_announced()?.as_ref() != Some(&effective),
    };
    if stale {
        let event = store.set_sold_out(book.known(store.sold_out()), effective)?;
        tracing::info!(seq = event.seq, "the sold-out list changed while the hub was down: announced");
    }
    Ok(())
}

/// Runs each request in a span naming its method and path, so whatever it logs (an
/// [`ApiError`](crate::error::ApiError), a sign-in, a new order) says which request it was.
async fn request_span(request: Request, next: Next) -> Response {
    let span = tracing::info_span!("http", method = %request.method(), path = %request.uri().path());
    next.run(request).instrument(span).await
}

/// How often `pins.json` is checked for a change (`restaurant-hub set-pin` while the hub runs).
const PIN_WATCH_EVERY: Duration = Duration::from_secs(2);

/// Reloads the PINs when `pins.json` changes, which ends the sessions of every station whose PIN
/// changed. An unreadable file is logged and the PINs in force stay.
async fn watch_pins(state: Arc<AppState>) {
    if state.settings.memory {
        return;
    }
    let path = state.settings.data.join(crate::pins::FILE_NAME);
    let stamp = |path: &std::path::Path| std::fs::metadata(path).ok().map(|m| (m.modified().ok(), m.len()));
    let mut last = stamp(&path);
    let mut every = tokio::time::interval(PIN_WATCH_EVERY);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = every.tick() => {}
        }
        let now = stamp(&path);
        if now == last {
            continue;
        }
        last = now;
        match state.auth.reload_pins() {
            Ok(changed) if changed.is_empty() => tracing::info!("PINs reloaded from {}", path.display()),
            Ok(changed) => tracing::info!(?changed, "PINs reloaded: the sessions of these stations ended"),
            Err(e) => tracing::error!("cannot reload the PINs: {e}; the PINs in force stay"),
        }
    }
}

/// `200 ok` when the store thread answers a trivial call within [`HEALTH_TIMEOUT`], else `503`.
async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match tokio::time::timeout(HEALTH_TIMEOUT, state.store.call(|_| ())).await {
        Ok(Ok(())) => "ok".into_response(),
        Ok(Err(StoreClosed)) => ApiError::unavailable("unhealthy: the store thread is not running").into_response(),
        Err(_) => {
            ApiError::unavailable(format!("unhealthy: the store thread did not answer within {HEALTH_TIMEOUT:?}"))
                .into_response()
        }
    }
}

/// Removes old finished orders every [`RETENTION_SWEEP_EVERY`] until shutdown.
async fn sweep_finished_orders(state: Arc<AppState>) {
    let start = tokio::time::Instant::now() + RETENTION_SWEEP_EVERY;
    let mut every = tokio::time::interval_at(start, RETENTION_SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = every.tick() => {
                if remove_finished_orders(&state).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// One retention sweep; `Err` when the store is closed.
async fn remove_finished_orders(state: &AppState) -> Result<(), StoreClosed> {
    let retain = state.settings.limits.retain_finished;
    let now = now_ms();
    let before = now.saturating_sub(i64::try_from(retain.as_millis()).unwrap_or(i64::MAX));
    let feed = state.feed.clone();
    let swept = state
        .store
        .call(move |store| {
            let removed = store.remove_finished(before, now)?;
            if let Some(seq) = removed.events_through {
                feed.forget_through(seq);
            }
            Ok::<_, StoreError>(removed)
        })
        .await?;
    let retain_days = retain.as_secs_f64() / 86_400.0;
    match swept {
        Ok(removed) if removed.orders > 0 => tracing::info!(
            removed = removed.orders,
            retain_days,
            replay_through = removed.events_through,
            "removed old finished orders with their idempotency keys and events"
        ),
        Ok(_) => tracing::debug!(retain_days, "no finished order old enough to remove"),
        Err(e) => tracing::error!(retain_days, "removing old finished orders failed (retried in an hour): {e}"),
    }
    Ok(())
}

/// Ends expired staff calls every [`call::SWEEP_EVERY`] until shutdown.
async fn sweep_calls(calls: Arc<CallRouter>, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(call::SWEEP_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = every.tick() => calls.sweep(std::time::Instant::now()),
        }
    }
}

fn cors_layer(settings: &Settings) -> Result<Option<CorsLayer>, StartError> {
    if settings.mode.is_demo() {
        // Pages of other origins (the browser tests' runner) read `Retry-After` too.
        return Ok(Some(CorsLayer::very_permissive().expose_headers([header::RETRY_AFTER])));
    }
    if settings.allow_origins.is_empty() {
        return Ok(None);
    }
    let origins = settings
        .allow_origins
        .iter()
        .map(|o| HeaderValue::from_str(o).map_err(|_| StartError::Origin(o.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, HeaderName::from_static(api::IDEMPOTENCY_KEY)])
            .expose_headers([header::RETRY_AFTER]),
    ))
}

/// The sockets a hub serves on.
pub struct Listeners {
    /// `--port`: HTTPS when TLS is on, plain HTTP when it is off.
    pub main: TcpListener,
    /// `--http-port`, with TLS on only: the CA certificate, the setup page, redirects to HTTPS.
    pub plain: Option<TcpListener>,
}

impl From<TcpListener> for Listeners {
    fn from(main: TcpListener) -> Self {
        Listeners { main, plain: None }
    }
}

impl Listeners {
    /// Binds `--host` on `--port`, and on `--http-port` too when TLS is on; errors name the flag.
    pub async fn bind(settings: &Settings) -> std::io::Result<Listeners> {
        let bind = |port: u16, flag: &'static str| async move {
            TcpListener::bind((settings.host.as_str(), port)).await.map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot listen on {}:{port} ({flag}): {e}", settings.host))
            })
        };
        let main = bind(settings.port, "--port").await?;
        let plain = match settings.tls {
            TlsSetting::Off => None,
            _ => Some(bind(settings.http_port, "--http-port").await?),
        };
        Ok(Listeners { main, plain })
    }
}

/// Starts the hub with `settings` and serves until `shutdown` resolves.
pub async fn run(
    listeners: impl Into<Listeners>,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = Hub::start(settings).await.map_err(std::io::Error::other)?;
    let router = hub.router();
    hub.serve(listeners, router, shutdown).await
}

/// A hub serving on `127.0.0.1:<free port>` in this process (tests, end-to-end suites).
pub struct RunningHub {
    /// Plain HTTP ([`RunningHub::start`]) or HTTPS ([`RunningHub::start_tls`]).
    pub addr: SocketAddr,
    /// With TLS: the plain-HTTP listener (CA certificate, setup page, redirects).
    pub plain_addr: Option<SocketAddr>,
    ca_pem: Option<String>,
    token: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningHub {
    /// Plain HTTP only, whatever `settings.tls` says.
    pub async fn start(settings: Settings) -> std::io::Result<RunningHub> {
        RunningHub::launch(Settings { tls: TlsSetting::Off, ..settings }).await
    }

    /// HTTPS on [`RunningHub::addr`] (`settings.tls`, or [`TlsSetting::Auto`] when it is off)
    /// and the plain-HTTP side on [`RunningHub::plain_addr`].
    pub async fn start_tls(mut settings: Settings) -> std::io::Result<RunningHub> {
        if settings.tls == TlsSetting::Off {
            settings.tls = TlsSetting::Auto;
        }
        RunningHub::launch(settings).await
    }

    async fn launch(settings: Settings) -> std::io::Result<RunningHub> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let plain = match settings.tls {
            TlsSetting::Off => None,
            _ => Some(TcpListener::bind("127.0.0.1:0").await?),
        };
        let plain_addr = plain.as_ref().map(TcpListener::local_addr).transpose()?;
        let hub = Hub::start(settings).await.map_err(std::io::Error::other)?;
        let ca_pem = hub.tls().and_then(|t| t.ca.as_ref()).map(|ca| ca.pem.clone());
        let token = hub.shutdown_token();
        let router = hub.router();
        let task = tokio::spawn(hub.serve(Listeners { main: listener, plain }, router, std::future::pending()));
        Ok(RunningHub { addr, plain_addr, ca_pem, token, task })
    }

    /// `http://127.0.0.1:<port>` of the plain-HTTP listener (the only one with TLS off).
    pub fn http_base(&self) -> String {
        format!("http://{}", self.plain_addr.unwrap_or(self.addr))
    }

    /// `http://127.0.0.1:<port><path>` (with TLS, the plain side: CA, setup page, redirects).
    pub fn http(&self, path: &str) -> String {
        format!("{}{path}", self.http_base())
    }

    /// `https://localhost:<port>` with TLS on (`localhost` is a name the certificate covers).
    pub fn https_base(&self) -> Option<String> {
        self.plain_addr.map(|_| format!("https://localhost:{}", self.addr.port()))
    }

    /// `https://localhost:<port><path>`; panics on a hub without TLS.
    pub fn https(&self, path: &str) -> String {
        format!("{}{path}", self.https_base().expect("a hub started with start_tls"))
    }

    /// The local CA's certificate (PEM), with TLS [`TlsSetting::Auto`].
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// `ws://127.0.0.1:<port>/ws`, or `wss://localhost:<port>/ws` with TLS.
    pub fn ws_url(&self) -> String {
        match self.https_base() {
            Some(_) => format!("wss://localhost:{}/ws", self.addr.port()),
            None => format!("ws://{}/ws", self.addr),
        }
    }

    /// Shuts the hub down and waits until it has stopped.
    pub async fn stop(self) -> std::io::Result<()> {
        self.token.cancel();
        self.task.await.map_err(std::io::Error::other)?
    }
}

/// Resolves on SIGINT, SIGTERM or SIGHUP (a closed terminal or a service manager's reload: the
/// hub has nothing to reload, so it stops cleanly rather than die mid-write).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let (terminate, hangup) = {
        use tokio::signal::unix::SignalKind;
        (unix_signal(SignalKind::terminate(), "SIGTERM"), unix_signal(SignalKind::hangup(), "SIGHUP"))
    };
    #[cfg(not(unix))]
    let (terminate, hangup) = (std::future::pending::<()>(), std::future::pending::<()>());
    let signal = tokio::select! {
        _ = ctrl_c => "SIGINT",
        _ = terminate => "SIGTERM",
        _ = hangup => "SIGHUP",
    };
    tracing::info!(signal, "shutting down");
}

/// Resolves when `kind` arrives; never if it cannot be listened for (logged).
#[cfg(unix)]
async fn unix_signal(kind: tokio::signal::unix::SignalKind, name: &str) {
    match tokio::signal::unix::signal(kind) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(e) => {
            tracing::error!("cannot listen for {name}: {e}");
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    async fn health(router: &Router) -> (u16, String) {
        let request = Request::builder().uri("/healthz").body(Body::empty()).unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn healthz_fails_when_the_store_thread_is_stuck_or_gone() {
        let settings = Settings { memory: true, dist: "/nonexistent-dist".into(), ..Settings::demo() };
        let hub = Hub::start(settings).await.unwrap();
        let router = hub.router();
        assert_eq!(health(&router).await, (200, "ok".to_string()));

        // A call that holds the store thread for longer than the health timeout.
        let store = hub.state.store.clone();
        let stuck = tokio::spawn(async move { store.call(|_| std::thread::sleep(HEALTH_TIMEOUT * 2)).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        let (status, body) = health(&router).await;
        assert_eq!(status, 503, "{body}");
        assert!(body.contains(r#""code":"unavailable""#) && body.contains("did not answer"), "{body}");
        assert!(started.elapsed() < HEALTH_TIMEOUT * 2, "answered at the timeout, not when the store woke up");
        stuck.await.unwrap().unwrap();
        assert_eq!(health(&router).await.0, 200, "healthy again once the store answers");

        // The store thread gone (here: closed; a panic in a call ends it the same way).
        let Hub { store_thread, .. } = hub;
        store_thread.close().await;
        let (status, body) = health(&router).await;
        assert_eq!(status, 503);
        assert!(body.contains("not running"), "{body}");
    }
}
