//! Abuse suite, doors: a production hub refuses every device or person that should not do
//! something — with the documented status or frame — and loses nothing it acknowledged.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use restaurant_hub::pins::PinBook;
use restaurant_hub::{Hub, Mode, RunningHub, Secret, Settings, StartError};
use restaurant_protocol::{DeviceList, PairResponse, ServerMessage, Snapshot};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

static KEYS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
const WAIT: Duration = Duration::from_secs(10);
const MANAGER_PIN: &str = "7305";
const GRILL_PIN: &str = "4826";

/// A production hub (in memory) with a manager PIN and a grill PIN, and nothing else.
fn production() -> Settings {
    Settings {
        mode: Mode::Production,
        memory: true,
        dist: "/nonexistent-dist".into(),
        station_pins: vec![("manager".into(), Secret(MANAGER_PIN.into())), ("grill".into(), Secret(GRILL_PIN.into()))],
        ..Settings::default()
    }
}

struct Client {
    http: reqwest::Client,
    hub: RunningHub,
}

impl Client {
    async fn start(settings: Settings) -> Client {
        Client { http: reqwest::Client::new(), hub: RunningHub::start(settings).await.expect("hub starts") }
    }

    /// `(status, body)` of a JSON request with an optional bearer token.
    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        let mut request = self.http.request(method.parse().unwrap(), self.hub.http(path));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            let key = KEYS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            request = request.json(&b).header("Idempotency-Key", format!("key-{key}"));
        }
        let response = request.send().await.expect("the hub answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn sign_in(&self, station: &str, pin: &str) -> String {
        let (status, body) =
            self.call("POST", "/api/v1/auth/pin", None, Some(json!({"station": station, "pin": pin}))).await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    async fn pair(&self, name: &str) -> PairResponse {
        let (status, body) =
            self.call("POST", "/api/v1/devices/pair", None, Some(json!({"pin": MANAGER_PIN, "name": name}))).await;
        assert_eq!(status, 201, "{body}");
        serde_json::from_value(body).unwrap()
    }

    async fn order(&self, device: Option<&str>, item: &str) -> (u16, Value) {
        let body =
            json!({"items": [{"menu_item_id": item, "quantity": 1, "special_instructions": null}], "source": "kiosk"});
        self.call("POST", "/api/v1/orders", device, Some(body)).await
    }

    async fn snapshot(&self) -> Snapshot {
        let token = self.sign_in("grill", GRILL_PIN).await;
        let (status, body) = self.call("GET", "/api/v1/orders", Some(&token), None).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).unwrap()
    }

    /// The first answer to `hello` on a fresh `/ws` connection.
    async fn hello(&self, token: &str, station: &str) -> ServerMessage {
        let (mut ws, _) = tokio_tungstenite::connect_async(self.hub.ws_url()).await.expect("connects");
        let hello = json!({"type": "hello", "token": token, "station": station, "since": null});
        ws.send(Message::text(hello.to_string())).await.unwrap();
        loop {
            match tokio::time::timeout(WAIT, ws.next()).await.expect("an answer in time") {
                Some(Ok(Message::Text(text))) => match ServerMessage::parse(text.as_str()).unwrap() {
                    ServerMessage::Ping { .. } => continue,
                    other => return other,
                },
                Some(Ok(_)) => continue,
                other => panic!("no answer to hello: {other:?}"),
            }
        }
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("(no code)")
}

#[tokio::test]
async fn production_without_pins_refuses_to_start_and_names_the_command() {
    let settings = Settings { station_pins: Vec::new(), ..production() };
    let error = Hub::start(settings).await.err().expect("refused");
    assert!(matches!(error, StartError::NoPins { .. }));
    assert!(error.to_string().contains("restaurant-hub set-pin --data"), "{error}");
    let only_a_station = Settings { station_pins: vec![("grill".into(), Secret("4826".into()))], ..production() };
    assert!(matches!(Hub::start(only_a_station).await.err(), Some(StartError::NoPins { .. })), "no manager PIN");
}

#[tokio::test]
async fn demo_mode_refuses_a_lan_address_and_says_how_to_run_production() {
    let settings = Settings { mode: Mode::Demo, host: "0.0.0.0".into(), ..production() };
    let error = Hub::start(settings).await.err().expect("refused");
    assert!(matches!(error, StartError::DemoNotLoopback(_)));
    assert!(error.to_string().contains("cargo xtask serve --lan"), "{error}");
    for host in ["127.0.0.1", "::1", "localhost"] {
        let settings = Settings { mode: Mode::Demo, host: host.into(), ..production() };
        assert!(Hub::start(settings).await.is_ok(), "{host}");
    }
}

#[tokio::test]
async fn an_unpaired_device_cannot_order_get_voice_tokens_or_join_calls() {
    let c = Client::start(production()).await;
    let (status, body) = c.order(None, "cheeseburger").await;
    assert_eq!((status, code(&body)), (401, "device_unpaired"), "{body}");
    let (status, body) = c.order(Some("0123456789abcdef0123456789abcdef"), "cheeseburger").await;
    assert_eq!((status, code(&body)), (401, "device_unpaired"), "an unknown token: {body}");
    let (status, body) = c.call("POST", "/api/v1/realtime/session", None, None).await;
    assert_eq!((status, code(&body)), (401, "device_unpaired"), "{body}");
    assert!(matches!(c.hello("", "kiosk").await, ServerMessage::AuthFailed { .. }));
    assert!(c.snapshot().await.orders.is_empty(), "nothing was stored");
}

#[tokio::test]
async fn a_manager_pin_pairs_a_kiosk_that_can_then_order_get_voice_tokens_and_join_calls() {
    let c = Client::start(production()).await;
    let (status, body) =
        c.call("POST", "/api/v1/devices/pair", None, Some(json!({"pin": GRILL_PIN, "name": "Kiosk 1"}))).await;
    assert_eq!((status, code(&body)), (401, "unauthorized"), "a station's PIN does not pair: {body}");
    let (status, _) = c.call("POST", "/api/v1/devices/pair", None, Some(json!({"pin": MANAGER_PIN, "name": ""}))).await;
    assert_eq!(status, 400, "a device needs a name");
    let paired = c.pair("Kiosk 1").await;
    assert_eq!(paired.device.name, "Kiosk 1");
    let (status, body) = c.order(Some(&paired.token), "cheeseburger").await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = c.call("POST", "/api/v1/realtime/session", Some(&paired.token), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(matches!(c.hello(&paired.token, "kiosk").await, ServerMessage::Welcome { .. }));
    assert_eq!(c.snapshot().await.orders.len(), 1);
}

#[tokio::test]
async fn only_the_manager_lists_and_revokes_devices_and_a_revoked_kiosk_is_refused() {
    let c = Client::start(production()).await;
    let kiosk = c.pair("Kiosk 1").await;
    let other = c.pair("Kiosk 2").await;
    let (status, _) = c.order(Some(&kiosk.token), "fries-small").await;
    assert_eq!(status, 201);
    let grill = c.sign_in("grill", GRILL_PIN).await;
    let manager = c.sign_in("manager", MANAGER_PIN).await;
    assert_eq!(c.call("GET", "/api/v1/devices", None, None).await.0, 401);
    assert_eq!(c.call("GET", "/api/v1/devices", Some(&kiosk.token), None).await.0, 401, "a device is not a person");
    let (status, body) = c.call("GET", "/api/v1/devices", Some(&grill), None).await;
    assert_eq!((status, code(&body)), (403, "forbidden"));
    let (status, body) = c.call("GET", "/api/v1/devices", Some(&manager), None).await;
    assert_eq!(status, 200);
    let list: DeviceList = serde_json::from_value(body).unwrap();
    assert_eq!(list.devices, [kiosk.device.clone(), other.device.clone()]);
    assert!(!list.devices.iter().any(|d| serde_json::to_string(d).unwrap().contains(&kiosk.token)));

    let path = format!("/api/v1/devices/{}", kiosk.device.id);
    assert_eq!(c.call("DELETE", &path, Some(&grill), None).await.0, 403);
    assert_eq!(c.call("DELETE", &path, Some(&manager), None).await.0, 204);
    assert_eq!(c.call("DELETE", &path, Some(&manager), None).await.0, 404);
    let (status, body) = c.order(Some(&kiosk.token), "cheeseburger").await;
    assert_eq!((status, code(&body)), (401, "device_unpaired"));
    assert!(matches!(c.hello(&kiosk.token, "kiosk").await, ServerMessage::AuthFailed { .. }));
    let (status, _) = c.order(Some(&other.token), "cheeseburger").await;
    assert_eq!(status, 201, "the other kiosk is unaffected");
    assert_eq!(c.snapshot().await.orders.len(), 2, "the revoked kiosk's earlier order is kept");
}

#[tokio::test]
async fn orders_and_the_feed_need_a_station_sign_in_and_sign_out_revokes_it() {
    let c = Client::start(production()).await;
    assert_eq!(c.call("GET", "/api/v1/orders", None, None).await.0, 401);
    let kiosk = c.pair("Kiosk").await;
    assert_eq!(c.call("GET", "/api/v1/orders", Some(&kiosk.token), None).await.0, 401, "a kiosk cannot read orders");
    assert!(matches!(c.hello(&kiosk.token, "grill").await, ServerMessage::AuthFailed { .. }));
    let token = c.sign_in("grill", GRILL_PIN).await;
    assert!(matches!(c.hello(&token, "grill").await, ServerMessage::Welcome { .. }));
    assert_eq!(c.call("POST", "/api/v1/auth/signout", Some(&token), None).await.0, 204);
    assert_eq!(c.call("POST", "/api/v1/auth/signout", Some(&token), None).await.0, 401);
    assert_eq!(c.call("GET", "/api/v1/orders", Some(&token), None).await.0, 401);
    assert!(matches!(c.hello(&token, "grill").await, ServerMessage::AuthFailed { .. }));
}

#[tokio::test]
async fn production_has_no_default_pin_no_dev_endpoints_and_says_so_in_config_json() {
    let c = Client::start(production()).await;
    let (status, _) = c.call("POST", "/api/v1/auth/pin", None, Some(json!({"station": "fryer", "pin": "1234"}))).await;
    assert_eq!(status, 401, "no PIN for fryer and no global PIN");
    let (status, _) = c.call("POST", "/api/v1/dev/utterances", None, Some(json!({"text": "two burgers"}))).await;
    assert_eq!(status, 404, "no one on the Wi-Fi can queue the kiosk's next utterance");
    let (status, _) =
        c.call("POST", "/api/v1/dev/update-load", None, Some(json!({"per_second": 1, "seconds": 1}))).await;
    assert_eq!(status, 404);
    assert_eq!(c.call("GET", "/api/v1/dev/published", None, None).await.0, 404);
    let (_, config) = c.call("GET", "/config.json", None, None).await;
    assert_eq!((config["mode"].as_str(), config["allow_url_overrides"].as_bool()), (Some("production"), Some(false)));
}

#[tokio::test]
async fn pairing_guesses_are_limited_like_sign_ins() {
    let c = Client::start(production()).await;
    for _ in 0..5 {
        let (status, _) = c.call("POST", "/api/v1/devices/pair", None, Some(json!({"pin": "0000", "name": "x"}))).await;
        assert_eq!(status, 401);
    }
    let response = c
        .http
        .post(c.hub.http("/api/v1/devices/pair"))
        .json(&json!({"pin": MANAGER_PIN, "name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429, "even the right PIN waits once limited");
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn another_origin_cannot_change_anything_or_open_the_feed() {
    let c = Client::start(production()).await;
    let kiosk = c.pair("Kiosk").await;
    let post = |origin: &'static str| {
        c.http
            .post(c.hub.http("/api/v1/orders"))
            .bearer_auth(&kiosk.token)
            .header("Origin", origin)
            .header("Idempotency-Key", origin)
            .json(&json!({"items": [{"menu_item_id": "cheeseburger", "quantity": 1}], "source": "kiosk"}))
            .send()
    };
    let refused = post("http://evil.example").await.unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    assert_eq!(code(&refused.json().await.unwrap()), "origin_refused");
    let same = Box::leak(format!("http://{}", c.hub.addr).into_boxed_str());
    assert_eq!(post(same).await.unwrap().status().as_u16(), 201, "the hub's own pages");
    let mut request = c.hub.ws_url().into_client_request().unwrap();
    request.headers_mut().insert("Origin", "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), 403),
        other => panic!("the upgrade should be refused: {:?}", other.map(|_| ())),
    }
    let menu = c.http.get(c.hub.http("/api/v1/menu")).header("Origin", "http://evil.example").send().await.unwrap();
    assert_eq!(menu.status().as_u16(), 200, "reading the menu changes nothing");
    assert_eq!(c.snapshot().await.orders.len(), 1);
}

#[tokio::test]
async fn json_endpoints_need_a_json_content_type() {
    let c = Client::start(production()).await;
    let kiosk = c.pair("Kiosk").await;
    let response = c
        .http
        .post(c.hub.http("/api/v1/orders"))
        .bearer_auth(&kiosk.token)
        .header("Idempotency-Key", "k1")
        .header("Content-Type", "text/plain")
        .body(r#"{"items":[{"menu_item_id":"cheeseburger","quantity":1}],"source":"kiosk"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    assert_eq!(code(&response.json().await.unwrap()), "unsupported_media_type");
    let form = c.http.post(c.hub.http("/api/v1/auth/pin")).form(&[("station", "grill"), ("pin", GRILL_PIN)]);
    assert_eq!(form.send().await.unwrap().status().as_u16(), 415);
    assert!(c.snapshot().await.orders.is_empty());
}

#[tokio::test]
async fn voice_tokens_are_limited_per_device() {
    let c = Client::start(production()).await;
    let (a, b) = (c.pair("Kiosk A").await, c.pair("Kiosk B").await);
    for _ in 0..10 {
        assert_eq!(c.call("POST", "/api/v1/realtime/session", Some(&a.token), None).await.0, 200);
    }
    let response = c.http.post(c.hub.http("/api/v1/realtime/session")).bearer_auth(&a.token).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(c.call("POST", "/api/v1/realtime/session", Some(&b.token), None).await.0, 200, "per device");
}

#[tokio::test]
async fn a_new_pin_signs_that_stations_screens_out_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    PinBook::set_in_folder(dir.path(), "manager", MANAGER_PIN).unwrap();
    PinBook::set_in_folder(dir.path(), "grill", GRILL_PIN).unwrap();
    PinBook::set_in_folder(dir.path(), "fryer", "5150").unwrap();
    let settings = Settings { memory: false, data: dir.path().into(), station_pins: Vec::new(), ..production() };
    let c = Client::start(settings).await;
    let grill = c.sign_in("grill", GRILL_PIN).await;
    let fryer = c.sign_in("fryer", "5150").await;
    PinBook::set_in_folder(dir.path(), "grill", "9001").unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    while c.call("GET", "/api/v1/orders", Some(&grill), None).await.0 != 401 {
        assert!(tokio::time::Instant::now() < deadline, "the old PIN's session should end");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(c.call("GET", "/api/v1/orders", Some(&fryer), None).await.0, 200, "other stations stay signed in");
    c.sign_in("grill", "9001").await;
}

#[test]
fn set_pin_stores_hashes_that_a_production_hub_then_starts_with() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let hub = env!("CARGO_BIN_EXE_restaurant-hub");
    let data = dir.path().to_str().unwrap();
    let refused = Command::new(hub).args(["--data", data, "--port", "0", "--no-tls"]).output().unwrap();
    assert!(!refused.status.success());
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(text.contains("no PINs are set") && text.contains("set-pin --data"), "{text}");

    let mut child = Command::new(hub)
        .args(["set-pin", "--data", data, "manager", "grill"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{MANAGER_PIN}\n{GRILL_PIN}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let file = std::fs::read_to_string(dir.path().join("pins.json")).unwrap();
    assert!(file.contains("$argon2id$") && !file.contains(MANAGER_PIN) && !file.contains(GRILL_PIN), "{file}");

    let short = Command::new(hub).args(["set-pin", "--data", data, "grill"]).stdin(Stdio::piped()).output().unwrap();
    assert!(!short.status.success(), "no PIN on standard input");
    let book = PinBook::read(&dir.path().join("pins.json")).unwrap();
    assert!(book.is_complete() && book.verify("grill", GRILL_PIN).is_some());
}

#[tokio::test]
async fn a_screen_signed_out_elsewhere_cannot_send_another_command_on_its_open_connection() {
    let c = Client::start(production()).await;
    let kiosk = c.pair("Kiosk").await;
    let (status, body) = c.order(Some(&kiosk.token), "cheeseburger").await;
    assert_eq!(status, 201, "{body}");
    let order_id = body["order"]["id"].as_str().unwrap().to_string();
    let token = c.sign_in("grill", GRILL_PIN).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(c.hub.ws_url()).await.unwrap();
    let hello = json!({"type": "hello", "token": token, "station": "grill", "since": null});
    ws.send(Message::text(hello.to_string())).await.unwrap();
    assert_eq!(c.call("POST", "/api/v1/auth/signout", Some(&token), None).await.0, 204);
    let command = json!({"type": "order.start", "request_id": "r1", "order_id": order_id, "station": "grill"});
    ws.send(Message::text(command.to_string())).await.unwrap();
    let (mut refused, mut close) = (false, None);
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(WAIT, ws.next()).await {
        match frame {
            Message::Text(text) => {
                refused |= matches!(ServerMessage::parse(text.as_str()).unwrap(), ServerMessage::AuthFailed { .. })
            }
            Message::Close(frame) => {
                close = frame.map(|f| u16::from(f.code));
                break;
            }
            _ => {}
        }
    }
    assert!(refused && close == Some(4001), "auth_failed then 4001, got {refused} {close:?}");
    let order = c.snapshot().await.orders.into_iter().find(|o| o.id == order_id).unwrap();
    assert_eq!(order.status.as_str(), "new", "the command was not applied");
}

#[tokio::test]
async fn in_demo_mode_every_kiosk_is_paired_and_in_production_none_is_by_default() {
    let demo = Client::start(Settings { mode: Mode::Demo, ..production() }).await;
    let stale = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    for token in [None, Some(stale)] {
        assert_eq!(demo.order(token, "cheeseburger").await.0, 201, "demo, token {token:?}");
    }
    assert!(matches!(demo.hello(stale, "kiosk").await, ServerMessage::Welcome { .. }));
    assert!(matches!(demo.hello("", "kiosk").await, ServerMessage::Welcome { .. }));
    let production = Client::start(production()).await;
    assert_eq!(production.order(Some(stale), "cheeseburger").await.0, 401);
    assert!(matches!(production.hello("", "kiosk").await, ServerMessage::AuthFailed { .. }));
}
