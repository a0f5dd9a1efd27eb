//! Kiosk test kit: a voice transport answered by the in-page fake Realtime peer, a scripted
//! Realtime conversation, a count of live `RTCPeerConnection`s, and console capture.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use restaurant_protocol::{Menu, RealtimeToken};
use restaurant_web::web::realtime::{LocalFuture, TokenError, VoiceTransport};

use super::fake_realtime::{FakeRealtime, SESSION_CREATED};

pub use super::fake_realtime::Respond;

/// The hub's built-in menu (`server/menu.json`), as the kiosk loads it.
pub fn menu() -> Menu {
    let text = include_str!("../../server/menu.json");
    serde_json::from_str::<Menu>(text).expect("server/menu.json")
}

/// Taps the menu item `item_id`; when it opens the item sheet (it has options), adds it with the
/// sheet's defaults. Panics when the sheet refuses (a required choice): pick those by hand.
pub async fn tap_item(root: &web_sys::Element, item_id: &str) {
    let button = root
        .query_selector(&format!("[data-testid=menu-item][data-item-id='{item_id}']"))
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("menu item {item_id} on screen"));
    super::click_element(&button);
    leptos::task::tick().await;
    if let Some(add) = super::by_testid(root, "sheet-add") {
        assert!(!add.has_attribute("disabled"), "{item_id} needs a choice: {}", super::text_of(root, "sheet-problem"));
        super::click_element(&add);
        leptos::task::tick().await;
    }
}

/// Answers offers in-page: each exchange creates a fresh fake peer (the previous one is dropped).
pub struct FakeTransport {
    pub answer_delay_ms: u32,
    pub greeting: Vec<String>,
    pub respond: Respond,
    pub current: Rc<RefCell<Option<Rc<FakeRealtime>>>>,
    pub exchanges: Rc<Cell<u32>>,
    pub tokens: Rc<Cell<u32>>,
}

impl FakeTransport {
    pub fn new(answer_delay_ms: u32, respond: Respond) -> FakeTransport {
        FakeTransport {
            answer_delay_ms,
            greeting: vec![SESSION_CREATED.to_string()],
            respond,
            current: Rc::default(),
            exchanges: Rc::default(),
            tokens: Rc::default(),
        }
    }

    pub fn fake(&self) -> Option<Rc<FakeRealtime>> {
        self.current.borrow().clone()
    }

    /// Frames the kiosk sent to the current fake peer.
    pub fn sent_types(&self) -> Vec<String> {
        self.fake()
            .map(|f| {
                f.received
                    .borrow()
                    .iter()
                    .filter_map(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                    .filter_map(|v| v["type"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl VoiceTransport for FakeTransport {
    fn fetch_token(&self) -> LocalFuture<Result<RealtimeToken, TokenError>> {
        self.tokens.set(self.tokens.get() + 1);
        let expires_at = (js_sys::Date::now() / 1000.0) as u64 + 600;
        Box::pin(async move { Ok(RealtimeToken { value: "ek_test".into(), expires_at, model: None }) })
    }

    fn exchange_sdp(&self, offer_sdp: String, token: String) -> LocalFuture<Result<String, String>> {
        assert_eq!(token, "ek_test", "the kiosk sends the token it fetched");
        self.exchanges.set(self.exchanges.get() + 1);
        let fake = Rc::new(FakeRealtime::with_responder(self.greeting.clone(), self.respond.clone(), Some(1_000)));
        *self.current.borrow_mut() = Some(fake.clone());
        let delay = self.answer_delay_ms;
        Box::pin(async move { fake.answer(&offer_sdp, delay).await.map_err(|e| format!("{e:?}")) })
    }
}

/// A scripted Realtime server: `session.updated` on `session.update`; on commit, the transcript of
/// `utterance`; on the first `response.create`, an `add_to_order` call with `arguments`; on the
/// next, a short spoken reply.
pub fn realtime_script(utterance: &'static str, arguments: &'static str) -> Respond {
    let responses = Rc::new(Cell::new(0u32));
    let n = Rc::new(Cell::new(100u32));
    Rc::new(move |frame: &str| {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(frame) else {
            return Vec::new();
        };
        let id = || {
            n.set(n.get() + 1);
            format!("evt_{}", n.get())
        };
        match v["type"].as_str().unwrap_or("") {
            "session.update" => {
                vec![format!(r#"{{"type":"session.updated","event_id":"{}","session":{{"id":"sess_1"}}}}"#, id())]
            }
            "input_audio_buffer.commit" => vec![
                format!(
                    r#"{{"type":"input_audio_buffer.committed","event_id":"{}","previous_item_id":null,"item_id":"item_u1"}}"#,
                    id()
                ),
                format!(
                    r#"{{"type":"conversation.item.created","event_id":"{}","previous_item_id":null,"item":{{"id":"item_u1","object":"realtime.item","type":"message","role":"user","content":[{{"type":"input_audio","transcript":null}}]}}}}"#,
                    id()
                ),
                format!(
                    r#"{{"type":"conversation.item.input_audio_transcription.completed","event_id":"{}","item_id":"item_u1","content_index":0,"transcript":"{utterance}"}}"#,
                    id()
                ),
            ],
            "response.create" => {
                responses.set(responses.get() + 1);
                let r = responses.get();
                if r == 1 {
                    let args = serde_json::to_string(arguments).unwrap();
                    vec![
                        format!(
                            r#"{{"type":"response.created","event_id":"{}","response":{{"id":"resp_1","object":"realtime.response","status":"in_progress","output":[]}}}}"#,
                            id()
                        ),
                        format!(
                            r#"{{"type":"response.output_item.added","event_id":"{}","response_id":"resp_1","output_index":0,"item":{{"id":"item_f1","object":"realtime.item","type":"function_call","status":"in_progress","name":"add_to_order","call_id":"call_1","arguments":""}}}}"#,
                            id()
                        ),
                        format!(
                            r#"{{"type":"response.function_call_arguments.done","event_id":"{}","response_id":"resp_1","item_id":"item_f1","output_index":0,"call_id":"call_1","name":"add_to_order","arguments":{args}}}"#,
                            id()
                        ),
                        format!(
                            r#"{{"type":"response.done","event_id":"{}","response":{{"id":"resp_1","object":"realtime.response","status":"completed","output":[]}}}}"#,
                            id()
                        ),
                    ]
                } else {
                    vec![
                        format!(
                            r#"{{"type":"response.created","event_id":"{}","response":{{"id":"resp_{r}","object":"realtime.response","status":"in_progress","output":[]}}}}"#,
                            id()
                        ),
                        format!(
                            r#"{{"type":"response.audio_transcript.done","event_id":"{}","response_id":"resp_{r}","item_id":"item_a{r}","output_index":0,"content_index":0,"transcript":"Added to your order. Anything else?"}}"#,
                            id()
                        ),
                        format!(
                            r#"{{"type":"response.done","event_id":"{}","response":{{"id":"resp_{r}","object":"realtime.response","status":"completed","output":[]}}}}"#,
                            id()
                        ),
                    ]
                }
            }
            _ => Vec::new(),
        }
    })
}

/// Wraps `RTCPeerConnection` once per page so tests can count every instance and how many are
/// still open (not `closed`), whoever created them.
pub fn install_peer_counter() {
    js_sys::eval(
        "if (!window.__pcAll) {
            const Orig = window.RTCPeerConnection;
            const all = [];
            function Counted(...args) { const pc = new Orig(...args); all.push(pc); return pc; }
            Counted.prototype = Orig.prototype;
            Object.setPrototypeOf(Counted, Orig);
            window.RTCPeerConnection = Counted;
            window.__pcAll = all;
        }",
    )
    .expect("install the RTCPeerConnection counter");
}

pub fn peers_created() -> u32 {
    js_sys::eval("window.__pcAll.length").unwrap().as_f64().unwrap_or(0.0) as u32
}

pub fn peers_open() -> u32 {
    js_sys::eval("window.__pcAll.filter(pc => pc.signalingState !== 'closed').length").unwrap().as_f64().unwrap_or(0.0)
        as u32
}

/// Makes `getUserMedia` fail with a `DOMException` of `name` (None restores the real one).
pub fn fail_microphone(name: Option<&str>) {
    let script = match name {
        Some(n) => format!(
            "window.__realGUM = window.__realGUM || navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
             navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', '{n}'));"
        ),
        None => "if (window.__realGUM) navigator.mediaDevices.getUserMedia = window.__realGUM;".to_string(),
    };
    js_sys::eval(&script).expect("replace getUserMedia");
}
