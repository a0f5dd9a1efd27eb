//! The Realtime-compatible voice peer: ephemeral tokens, `POST /v1/realtime/calls` answering a
//! WebRTC offer, and one call task per peer speaking the Realtime event protocol over the
//! `oai-events` data channel. The peer hears the kiosk's audio with a local recognizer and
//! speaks its replies with a local voice ([`speech`]); no internet is needed.
//!
//! Routes (merge [`VoiceHub::router`] into the app):
//! - `POST /api/v1/realtime/session` → `{"value":"ek_…","expires_at","model"}`
//! - `POST /v1/realtime/calls` (`Authorization: Bearer ek_…`, `application/sdp`) → `201` answer SDP
//! - dev mode: `POST /api/v1/dev/utterances {"text"}`, `GET|POST /api/v1/dev/voice-faults`

mod audio;
mod call;
mod conversation;
mod error;
mod matcher;
mod openai;
mod settings;
pub mod speech;
mod tokens;
mod utterances;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use restaurant_protocol::Menu;
use serde::Deserialize;
use serde_json::json;
use str0m::change::SdpOffer;
use str0m::{Candidate, RtcConfig};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tracing::Instrument;

pub use conversation::{Action, Conversation, ConversationFaults, MIN_COMMIT_MICROS};
pub use matcher::{Change, Matcher, ToolCall};
pub use openai::{
    CLIENT_SECRETS_URL, MintRequest, OPENAI_REALTIME_CALLS_URL, kiosk_session, kiosk_tools, mint_request,
};
pub use settings::{InvalidFaults, LatencyMs, VoiceFaults, VoiceSettings};
pub use tokens::TokenError;

use crate::sync::relock as lock;
use call::Call;
use error::{Endpoint, RealtimeError};
use tokens::TokenStore;
use utterances::{EnqueueError, Utterances};

/// Largest request body of the voice routes (an SDP offer is a few KiB).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long [`VoiceHub::shutdown`] waits for calls to close.
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(3);

/// The voice peer. Cloning shares it; when the last handle (including routers) is dropped,
/// every call is told to stop.
#[derive(Clone)]
pub struct VoiceHub {
    shared: Arc<Shared>,
}

struct Shared {
    settings: VoiceSettings,
    /// Address advertised in ICE candidates and bound by call sockets.
    rtc_ip: IpAddr,
    /// The live menu (what is sold out right now), read when a session is minted or answered.
    menu: MenuSource,
    matcher: Arc<Matcher>,
    speech: speech::Speech,
    tokens: Mutex<TokenStore>,
    utterances: Arc<Utterances>,
    faults: Mutex<VoiceFaults>,
    shutdown: watch::Sender<bool>,
    live_calls: Arc<watch::Sender<usize>>,
    /// Offers held unanswered by the `sdp_hang` fault.
    held_offers: watch::Sender<usize>,
    /// One permit per call that may exist ([`VoiceSettings::max_calls`]), taken before the offer
    /// is answered, so concurrent offers cannot all pass a check of `live_calls`.
    call_slots: Arc<Semaphore>,
    /// One permit per token request OpenAI may be answering ([`VoiceSettings::max_mint_requests`]).
    mint_slots: Arc<Semaphore>,
    http: reqwest::Client,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

/// The menu shipped with the hub (`server/menu.json`).
pub fn bundled_menu() -> Menu {
    match serde_json::from_str::<Menu>(include_str!("../../menu.json")) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!("bundled menu.json is invalid: {e}");
            Menu::default()
        }
    }
}

/// Where the voice peer reads the menu: the hub's live menu, or a fixed one.
#[derive(Clone)]
pub struct MenuSource(Arc<dyn Fn() -> Arc<Menu> + Send + Sync>);

impl MenuSource {
    /// The menu `current` answers at the moment it is asked.
    pub fn new(current: impl Fn() -> Arc<Menu> + Send + Sync + 'static) -> MenuSource {
        MenuSource(Arc::new(current))
    }

    /// Always `menu`.
    pub fn fixed(menu: Menu) -> MenuSource {
        let menu = Arc::new(menu);
        MenuSource::new(move || menu.clone())
    }

    pub fn current(&self) -> Arc<Menu> {
        (self.0)()
    }
}

impl VoiceHub {
    /// The voice peer; the scripted matcher knows the items and options `menu` has now.
    pub fn new(settings: VoiceSettings, menu: MenuSource) -> VoiceHub {
        str0m::crypto::from_feature_flags().install_process_default();
        let rtc_ip = advertised_ip(settings.host);
        if settings.openai_api_key.is_some() {
            tracing::info!("tokens are minted by OpenAI");
        }
        let faults = settings.faults.clone();
        if faults != VoiceFaults::default() {
            tracing::warn!(?faults, "voice faults are on from the command line");
        }
        let speech = speech::Speech::new(&settings.speech_model, settings.speech_voice.clone());
        speech.prepare(menu.current());
        VoiceHub {
            shared: Arc::new(Shared {
                rtc_ip,
                matcher: Arc::new(Matcher::new(&menu.current().items)),
                speech,
                menu,
                tokens: Mutex::new(TokenStore::default()),
                utterances: Arc::new(Utterances::default()),
                faults: Mutex::new(faults),
                shutdown: watch::Sender::new(false),
                live_calls: Arc::new(watch::Sender::new(0)),
                held_offers: watch::Sender::new(0),
                // Beyond MAX_PERMITS a semaphore panics; no setting needs that many.
                call_slots: Arc::new(Semaphore::new(settings.max_calls.min(Semaphore::MAX_PERMITS))),
                mint_slots: Arc::new(Semaphore::new(settings.max_mint_requests.min(Semaphore::MAX_PERMITS))),
                http: reqwest::Client::builder().timeout(Duration::from_secs(15)).build().unwrap_or_default(),
                settings,
            }),
        }
    }

    /// The voice routes, with their own state: merge into any `Router<S>`.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route("/api/v1/realtime/session", post(mint_session))
            .route("/v1/realtime/calls", post(create_call))
            .route("/api/v1/dev/utterances", post(enqueue_utterance))
            .route("/api/v1/dev/voice-faults", get(get_faults).post(set_faults))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(Arc::clone(&self.shared))
    }

    /// Tokens minted here and neither used nor expired yet.
    pub fn outstanding_tokens(&self) -> usize {
        lock(&self.shared.tokens).outstanding(Instant::now())
    }

    /// Offers the `sdp_hang` fault holds unanswered now.
    pub fn held_offers(&self) -> usize {
        *self.shared.held_offers.borrow()
    }

    /// Calls alive now.
    pub fn live_calls(&self) -> usize {
        *self.shared.live_calls.borrow()
    }

    /// Address used in ICE host candidates.
    pub fn rtc_ip(&self) -> IpAddr {
        self.shared.rtc_ip
    }

    /// Stops every call (each closes its peer) and refuses new ones; returns once all calls
    /// have ended or [`SHUTDOWN_BOUND`] passed, with the number still alive.
    pub async fn shutdown(&self) -> usize {
        self.shared.shutdown.send_replace(true);
        let mut live = self.shared.live_calls.subscribe();
        let _ = tokio::time::timeout(SHUTDOWN_BOUND, live.wait_for(|n| *n == 0)).await;
        let left = self.live_calls();
        if left > 0 {
            tracing::error!(calls = left, "calls still alive after {SHUTDOWN_BOUND:?}");
        }
        left
    }
}

/// Counts a live call, and holds its capacity slot, for as long as it exists.
struct LiveCall {
    counter: Arc<watch::Sender<usize>>,
    _slot: OwnedSemaphorePermit,
}

impl LiveCall {
    fn new(counter: &Arc<watch::Sender<usize>>, slot: OwnedSemaphorePermit) -> LiveCall {
        counter.send_modify(|n| *n += 1);
        LiveCall { counter: Arc::clone(counter), _slot: slot }
    }
}

impl Drop for LiveCall {
    fn drop(&mut self) {
        self.counter.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Passes only in dev mode: the dev endpoints take it first, so outside dev mode they answer
/// 404 before looking at the body.
struct DevOnly;

impl FromRequestParts<Arc<Shared>> for DevOnly {
    type Rejection = RealtimeError;

    async fn from_request_parts(_: &mut Parts, s: &Arc<Shared>) -> Result<DevOnly, RealtimeError> {
        if s.settings.dev_mode { Ok(DevOnly) } else { Err(RealtimeError::dev_only()) }
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        tracing::warn!("system random source failed; using the clock");
        return SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos().into());
    }
    u64::from_le_bytes(b)
}

async fn mint_session(State(s): State<Arc<Shared>>) -> Result<Json<openai::Minted>, RealtimeError> {
    // Before anything is minted, here or at OpenAI.
    if let Some(status) = lock(&s.faults).token_status {
        return Err(injected(status, Endpoint::Session, "token_status"));
    }
    let model = s.settings.model.clone();
    let ttl = s.settings.token_ttl;
    if let Some(key) = &s.settings.openai_api_key {
        // Never queue: a burst beyond the cap is told to come back rather than piling up.
        let _slot = Arc::clone(&s.mint_slots).try_acquire_owned().map_err(|_| {
            RealtimeError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "too many token requests in progress; retry in 1 s",
            )
            .with_detail(format!("{} requests to OpenAI in flight", s.settings.max_mint_requests))
            .with_retry_after(1)
        })?;
        let mut request = openai::mint_request(key, &model, ttl.as_secs(), &s.menu.current());
        request.url.clone_from(&s.settings.client_secrets_url);
        let minted = openai::mint(&s.http, request, &model).await.map_err(|e| {
            RealtimeError::new(StatusCode::BAD_GATEWAY, "upstream_error", "could not mint a token at OpenAI")
                .with_detail(e)
        })?;
        return Ok(Json(minted));
    }
    let value = lock(&s.tokens)
        .mint(Instant::now(), ttl)
        .map_err(|e| RealtimeError::new(StatusCode::SERVICE_UNAVAILABLE, "token_unavailable", e.message()))?;
    Ok(Json(openai::Minted { value, expires_at: unix_now() + ttl.as_secs(), model }))
}

/// The OpenAI-style answer of a status fault; the log says it was injected.
fn injected(status: u16, endpoint: Endpoint, knob: &str) -> RealtimeError {
    // Validation keeps the knobs within 400–599; anything else would be a bug, answered 500.
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    RealtimeError::as_openai(status, endpoint).with_detail(format!("injected by the {knob} fault"))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))?.trim();
    (!token.is_empty()).then_some(token)
}

/// A parsed offer, or why it is refused.
fn parse_offer(headers: &HeaderMap, body: &[u8]) -> Result<SdpOffer, &'static str> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.trim_start().to_ascii_lowercase().starts_with("application/sdp") {
        return Err("Content-Type must be application/sdp");
    }
    let text = std::str::from_utf8(body).map_err(|_| "the offer is not UTF-8")?;
    if !text.contains("m=application") {
        return Err("the offer has no data channel (m=application)");
    }
    SdpOffer::from_sdp_string(text).map_err(|_| "the offer is not valid SDP")
}

/// Why a call could not be set up: no socket for it, or an offer the peer cannot answer.
#[derive(Debug, thiserror::Error)]
enum CallSetupError {
    #[error("cannot bind UDP on {ip}: {source}")]
    Bind { ip: IpAddr, source: std::io::Error },
    #[error("{0}")]
    LocalAddr(std::io::Error),
    #[error("host candidate {local}: {source}")]
    Candidate { local: SocketAddr, source: str0m::error::IceError },
    #[error("offer not accepted: {0}")]
    Offer(str0m::RtcError),
}

impl From<CallSetupError> for RealtimeError {
    fn from(e: CallSetupError) -> RealtimeError {
        let status = match e {
            CallSetupError::Offer(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        RealtimeError::new(status, "call_setup_failed", e.to_string())
    }
}

async fn create_call(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, RealtimeError> {
    let token = bearer(&headers).ok_or_else(|| RealtimeError::invalid_api_key("missing bearer token"))?;
    let refused = |e: TokenError| RealtimeError::invalid_api_key(e.message());
    lock(&s.tokens).check(token, Instant::now()).map_err(refused)?;
    let offer = parse_offer(&headers, &body).map_err(|why| {
        RealtimeError::new(StatusCode::BAD_REQUEST, "invalid_offer", why).with_detail(format!("{} bytes", body.len()))
    })?;
    let busy = |why: String| {
        RealtimeError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "no capacity for another call").with_detail(why)
    };
    if *s.shutdown.borrow() {
        return Err(busy("shutting down".into()));
    }
    let faults = lock(&s.faults).clone();
    if let Some(status) = faults.sdp_status {
        return Err(injected(status, Endpoint::Calls, "sdp_status"));
    }
    if faults.sdp_hang {
        // Held before a call slot is taken, so a hung offer never keeps a real call out.
        return Err(hang(&s).await);
    }
    // The slot is taken before anything awaits and travels with the call; an early return frees it.
    let slot = Arc::clone(&s.call_slots)
        .try_acquire_owned()
        .map_err(|_| busy(format!("all {} call slots are live or being set up", s.settings.max_calls)))?;
    lock(&s.tokens).consume(token, Instant::now()).map_err(refused)?;
    if let Some(latency) = faults.answer_latency_ms {
        let mut shutdown = s.shutdown.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(latency.pick(random_u64())) => {}
            _ = shutdown.wait_for(|stop| *stop) => {
                let status = StatusCode::SERVICE_UNAVAILABLE;
                return Err(RealtimeError::new(status, "shutting_down", "the hub is shutting down"));
            }
        }
    }
    let (id, answer) = start_call(&s, offer, &faults, slot).await?;
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/sdp".to_string()), (header::LOCATION, format!("/v1/realtime/calls/{id}"))],
        answer,
    ))
}

/// The `sdp_hang` fault: no answer until the hub shuts down or [`VoiceSettings::sdp_hang_for`]
/// passed. Only this request waits; a client that gives up ends it (its future is dropped).
async fn hang(s: &Shared) -> RealtimeError {
    /// Counts the offer as held until it is answered or its client goes away.
    struct Held<'a>(&'a watch::Sender<usize>);
    impl Drop for Held<'_> {
        fn drop(&mut self) {
            self.0.send_modify(|n| *n = n.saturating_sub(1));
        }
    }
    let bound = s.settings.sdp_hang_for;
    tracing::info!(?bound, "sdp_hang fault: holding the offer without an answer");
    s.held_offers.send_modify(|n| *n += 1);
    let _held = Held(&s.held_offers);
    let mut shutdown = s.shutdown.subscribe();
    tokio::select! {
        _ = tokio::time::sleep(bound) => {
            RealtimeError::new(StatusCode::GATEWAY_TIMEOUT, "timeout", "The voice service did not answer in time.")
                .with_detail(format!("sdp_hang fault held the offer for {bound:?}"))
        }
        _ = shutdown.wait_for(|stop| *stop) => {
            RealtimeError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "the hub is shutting down")
                .with_detail("sdp_hang fault: the held offer ends with the hub")
        }
    }
}

/// Binds the call's socket, answers the offer and spawns the call task.
async fn start_call(
    s: &Arc<Shared>,
    offer: SdpOffer,
    faults: &VoiceFaults,
    slot: OwnedSemaphorePermit,
) -> Result<(String, String), CallSetupError> {
    let socket = tokio::net::UdpSocket::bind(SocketAddr::new(s.rtc_ip, 0))
        .await
        .map_err(|source| CallSetupError::Bind { ip: s.rtc_ip, source })?;
    let local = socket.local_addr().map_err(CallSetupError::LocalAddr)?;
    let mut rtc = RtcConfig::new().build(Instant::now());
    let candidate = Candidate::host(local, "udp").map_err(|source| CallSetupError::Candidate { local, source })?;
    rtc.add_local_candidate(candidate);
    let answer = rtc.sdp_api().accept_offer(offer).map_err(CallSetupError::Offer)?;
    let suffix = format!("{:016x}", random_u64());
    let id = format!("rtc_{suffix}");
    let mut session = openai::kiosk_session(&s.settings.model, &s.menu.current());
    session["expires_at"] = json!(unix_now() + s.settings.token_ttl.as_secs());
    let conversation = Conversation::new(
        suffix[..8].to_string(),
        session,
        Arc::clone(&s.matcher),
        ConversationFaults { drop_item_created: faults.drop_item_created, no_transcripts: faults.no_transcripts },
    );
    let call = Call {
        rtc,
        socket,
        conversation,
        speech: s.speech.clone(),
        menu: s.menu.clone(),
        utterances: Arc::clone(&s.utterances),
        idle_timeout: s.settings.idle_timeout,
        max_call: s.settings.max_call,
        close_after: faults.close_after_ms.map(Duration::from_millis),
        shutdown: s.shutdown.subscribe(),
    };
    let live = LiveCall::new(&s.live_calls, slot);
    tracing::info!(call_id = %id, %local, "call started");
    // Everything the call logs names it.
    let span = tracing::info_span!(parent: None, "voice_call", call_id = %id);
    tokio::spawn(
        async move {
            let _live = live;
            call.run().await;
        }
        .instrument(span),
    );
    Ok((id, answer.to_sdp_string()))
}

#[derive(Deserialize)]
struct UtteranceBody {
    text: String,
}

async fn enqueue_utterance(
    _: DevOnly,
    State(s): State<Arc<Shared>>,
    body: Result<Json<UtteranceBody>, JsonRejection>,
) -> Result<impl IntoResponse, RealtimeError> {
    let Json(body) = body.map_err(|e| RealtimeError::bad_request("expected {\"text\": string}").with_detail(e))?;
    let queued = s.utterances.enqueue(&body.text).map_err(|e| {
        let status = match e {
            EnqueueError::Empty | EnqueueError::TooLong => StatusCode::BAD_REQUEST,
            EnqueueError::Full => StatusCode::TOO_MANY_REQUESTS,
        };
        RealtimeError::new(status, "bad_request", e.to_string())
    })?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "queued": queued }))))
}

async fn get_faults(_: DevOnly, State(s): State<Arc<Shared>>) -> Json<VoiceFaults> {
    Json(lock(&s.faults).clone())
}

async fn set_faults(
    _: DevOnly,
    State(s): State<Arc<Shared>>,
    body: Result<Json<VoiceFaults>, JsonRejection>,
) -> Result<Json<VoiceFaults>, RealtimeError> {
    let Json(faults) = body?;
    faults.validate().map_err(|e| RealtimeError::bad_request(e.to_string()))?;
    tracing::info!(?faults, "faults set");
    *lock(&s.faults) = faults.clone();
    Ok(Json(faults))
}

/// The address to advertise for `host`: itself, or for a wildcard the address of the
/// default route's interface (loopback when there is none).
fn advertised_ip(host: IpAddr) -> IpAddr {
    if !host.is_unspecified() {
        return host;
    }
    let lan = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| {
            // Connecting a UDP socket sends nothing; it only selects the outgoing interface.
            s.connect("192.0.2.1:9")?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified() && !ip.is_loopback());
    match lan {
        Some(ip) => ip,
        None => {
            tracing::warn!("no LAN address found; advertising 127.0.0.1");
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        }
    }
}
