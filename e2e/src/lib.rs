//! Helpers for the end-to-end suite. `cargo xtask test` builds the release bundle, starts the hub
//! serving it and chromedriver, then runs `cargo test -p restaurant-e2e` with their addresses in
//! `E2E_HUB_URL`, `E2E_HUB_CONTROL_URL`, `E2E_WEBDRIVER_URL` and `E2E_CHROME`.

pub mod production;

use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use restaurant_protocol::{Order, Snapshot};
use serde_json::{Value, json};

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by `cargo xtask test` (run the suite through it)"))
}

pub fn hub() -> String {
    env("E2E_HUB_URL")
}

/// A headless Chromium with a fake microphone (a tone) and media permission granted.
pub async fn browser() -> Client {
    browser_with(&[]).await
}

/// [`browser`] with extra Chromium flags.
pub async fn browser_with(extra_args: &[&str]) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": env("E2E_CHROME"),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
                "--disable-extensions", "--disable-sync", "--disable-quic", "--no-first-run", "--mute-audio",
                "--autoplay-policy=no-user-gesture-required",
                "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                "--window-size=1280,900"
            ]
        }),
    );
    if let Some(args) = caps["goog:chromeOptions"]["args"].as_array_mut() {
        args.extend(extra_args.iter().map(|a| json!(a)));
    }
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&env("E2E_WEBDRIVER_URL"))
        .await
        .expect("a WebDriver session")
}

pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// Polls `check` every 25 ms until it returns `Some` or `within` passes.
pub async fn wait_for<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {within:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub async fn find(c: &Client, id: &str) -> Option<Element> {
    c.find(Locator::Css(&testid(id))).await.ok()
}

pub async fn find_all(c: &Client, id: &str) -> Vec<Element> {
    c.find_all(Locator::Css(&testid(id))).await.unwrap_or_default()
}

pub async fn wait_find(c: &Client, id: &str, within: Duration) -> Element {
    wait_for(within, id, || async { find(c, id).await }).await
}

/// Taps the kiosk's attract screen: a customer session starts (with voice where the page may use
/// the microphone).
pub async fn start_customer(c: &Client) {
    click(c, "attract-start").await;
    wait_for(Duration::from_secs(5), "the attract screen to go", || async {
        c.find(Locator::Css(&testid("attract-start"))).await.is_err().then_some(())
    })
    .await;
}

pub async fn click(c: &Client, id: &str) {
    wait_find(c, id, Duration::from_secs(10)).await.click().await.unwrap_or_else(|e| panic!("click {id}: {e}"));
}

/// Taps the menu item `item_id` on the kiosk (one without options: it goes straight in the cart).
pub async fn tap_item(c: &Client, item_id: &str) {
    let css = format!("{}[data-item-id=\"{item_id}\"]", testid("menu-item"));
    let button = wait_for(Duration::from_secs(10), item_id, || async { c.find(Locator::Css(&css)).await.ok() }).await;
    button.click().await.unwrap_or_else(|e| panic!("tap {item_id}: {e}"));
}

pub async fn attr(c: &Client, id: &str, name: &str) -> Option<String> {
    find(c, id).await?.attr(name).await.ok().flatten()
}

pub async fn text(c: &Client, id: &str) -> String {
    match find(c, id).await {
        Some(e) => e.text().await.unwrap_or_default(),
        None => String::new(),
    }
}

/// Waits until `[data-testid=id]` has `data-state == state`.
pub async fn wait_state(c: &Client, id: &str, state: &str, within: Duration) {
    wait_for(within, &format!("{id} data-state={state}"), || async {
        (attr(c, id, "data-state").await.as_deref() == Some(state)).then_some(())
    })
    .await
}

pub async fn eval(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

/// The `p` quantile (0–1) of ascending `sorted`, by the nearest rank; NaN when empty.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("HTTP client")
}

pub async fn post_json(path: &str, body: Value) -> Value {
    let r = http().post(format!("{}{path}", hub())).json(&body).send().await.expect("hub reachable");
    let status = r.status();
    let v = r.json::<Value>().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "POST {path}: {status} {v}");
    v
}

/// Places an order through the API (as a counter would).
pub async fn place_order(items: Value, notes: Option<&str>, key: &str) -> Order {
    let r = http()
        .post(format!("{}/api/v1/orders", hub()))
        .header("Idempotency-Key", key)
        .json(&json!({"items": items, "source": "counter", "notes": notes}))
        .send()
        .await
        .expect("hub reachable");
    assert!(r.status().is_success(), "order refused: {}", r.status());
    serde_json::from_value(r.json::<Value>().await.expect("JSON")["order"].clone()).expect("an order")
}

/// A station token for `station` from the demo hub (PIN 1234).
pub async fn station_token(station: &str) -> String {
    let answer = post_json("/api/v1/auth/pin", json!({"station": station, "pin": "1234"})).await;
    answer["token"].as_str().expect("a station token").to_string()
}

/// The active orders, as the expo screen sees them.
pub async fn snapshot() -> Snapshot {
    let token = station_token("expo").await;
    let response = http().get(format!("{}/api/v1/orders", hub())).bearer_auth(token).send().await.expect("hub");
    assert!(response.status().is_success(), "GET /api/v1/orders: {}", response.status());
    response.json().await.expect("snapshot")
}

/// Stops (graceful), kills, starts or restarts the hub.
pub async fn hub_control(action: &str) {
    let r = http().post(format!("{}/{action}", env("E2E_HUB_CONTROL_URL"))).send().await.expect("control");
    assert!(r.status().is_success(), "hub {action}: {}", r.status());
}

pub async fn set_voice_faults(faults: Value) {
    post_json("/api/v1/dev/voice-faults", faults).await;
}
