//! What a production hub changes on every page: the demo badge only in demo mode, query URL
//! overrides kept to the page's own origin, and — off a secure context — voice and calls disabled
//! with a message, `getUserMedia` never called, touch ordering and the order feed unaffected.
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use restaurant_protocol::CallMessage;
use restaurant_web::app::{App, Configured};
use restaurant_web::components::chooser::Home;
use restaurant_web::components::kds::{KdsPage, kds};
use restaurant_web::components::kiosk::{KioskPage, KioskView};
use restaurant_web::core::call::CallState;
use restaurant_web::core::config::{Mode, RuntimeConfig, VoiceMode};
use restaurant_web::core::secure::MediaAccess;
use restaurant_web::core::voice::Timeouts;
use restaurant_web::hooks::config::provide_runtime_config;
use restaurant_web::hooks::kiosk_cart::use_kiosk_cart;
use restaurant_web::hooks::staff_call::{CallSignal, UseStaffCallOptions, UseStaffCallReturn, use_staff_call};
use restaurant_web::hooks::voice_session::{UseVoiceSessionOptions, UseVoiceSessionReturn, use_voice_session};
use restaurant_web::web::realtime::VoiceTransport;
use support::fetch_stub::MicrophoneSpy;
use support::kds::{LONG, sign_in_via_form, wait_banner};
use support::kiosk::{FakeTransport, menu, tap_item};
use support::{Location, Mounted, all_by_testid, attr, by_testid, click, hub_config, mount, text_of, wait_until};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SHORT: Duration = Duration::from_secs(10);

fn config_in(mode: Mode) -> RuntimeConfig {
    let mut c = hub_config();
    c.mode = mode;
    c.allow_url_overrides = mode.is_demo();
    c
}

fn mount_kiosk(config: RuntimeConfig, secure_context: bool) -> (Mounted, Rc<FakeTransport>) {
    let transport = Rc::new(FakeTransport::new(0, Rc::new(|_: &str| Vec::new())));
    let fake = transport.clone();
    let page = mount(move || {
        provide_runtime_config(config);
        let transport: Rc<dyn VoiceTransport> = transport;
        view! {
            <KioskView menu=menu() transport voice_mode=VoiceMode::Toggle timeouts=Timeouts::default() secure_context/>
        }
    });
    (page, fake)
}

/// A page's bundle entry in the app shell, with the given configuration.
type PageView = fn(RuntimeConfig) -> AnyView;

#[wasm_bindgen_test]
async fn the_demo_badge_shows_on_every_page_in_demo_mode_and_nowhere_in_production() {
    for mode in [Mode::Demo, Mode::Production] {
        let _location = Location::set("/");
        let pages: [(&str, &str, PageView); 3] = [
            ("/", "chooser-page", |config| view! { <Configured config page=Home/> }.into_any()),
            ("/kiosk", "kiosk-page", |config| view! { <Configured config page=KioskPage/> }.into_any()),
            ("/kds", "kds-page", |config| view! { <Configured config page=kds/> }.into_any()),
        ];
        for (path, page_id, view) in pages {
            let config = config_in(mode);
            let page = mount(move || view(config));
            let el = page.el();
            assert!(
                wait_until(SHORT, || by_testid(&el, page_id).is_some()).await,
                "{path} renders {page_id} in {}",
                mode.as_str()
            );
            let badge = by_testid(&el, "demo-badge");
            match mode {
                Mode::Demo => assert_eq!(
                    badge.and_then(|b| b.text_content()).as_deref(),
                    Some("Demo"),
                    "{path} shows the badge in demo mode"
                ),
                Mode::Production => assert!(badge.is_none(), "{path} shows no badge in production"),
            }
        }
    }
}

#[wasm_bindgen_test]
async fn a_query_override_to_another_origin_is_refused_and_the_page_never_starts() {
    restaurant_web::web::storage::set(
        restaurant_web::hooks::order_feed::SESSION_KEY,
        r#"{"token":"stored-station-token","station":"grill"}"#,
    );
    let _location = Location::set("/kds?station=grill&ws_url=ws%3A%2F%2Felsewhere.example%3A8080%2Fws");
    let page = mount(|| view! { <App page=kds/> });
    let el = page.el();
    assert!(wait_until(SHORT, || by_testid(&el, "config-error").is_some()).await, "the error panel shows");
    let items = all_by_testid(&el, "config-error-item");
    assert_eq!(items.len(), 1);
    assert_eq!(attr(&items[0], "data-key"), "ws_url");
    let text = items[0].text_content().unwrap();
    assert!(text.contains("own origin") && text.contains("elsewhere.example"), "{text}");
    assert!(by_testid(&el, "kds-page").is_none(), "no page, so no socket carries the stored token anywhere");
    drop(page);

    // The same parameter on the page's own origin is accepted.
    let _location = Location::set("/kds?station=grill&ws_url=%2Fws");
    let page = mount(|| view! { <App page=kds/> });
    let el = page.el();
    assert!(wait_until(SHORT, || by_testid(&el, "kds-page").is_some()).await, "a same-origin override is fine");
    assert!(by_testid(&el, "config-error").is_none());
}

#[wasm_bindgen_test]
async fn an_insecure_kiosk_disables_voice_and_calls_but_takes_touch_orders() {
    let spy = MicrophoneSpy::install();
    let mut config = hub_config();
    config.https_url = Some("https://hub.test:8443".into());
    let (page, transport) = mount_kiosk(config, false);
    let el = page.el();
    assert!(wait_until(SHORT, || by_testid(&el, "insecure-context").is_some()).await, "the notice shows");
    let notice = text_of(&el, "insecure-context");
    assert!(notice.starts_with("Voice and calls need a secure connection — open https://hub.test:8443/"), "{notice}");
    let link = attr(&by_testid(&el, "insecure-context-link").unwrap(), "href");
    assert!(link.starts_with("https://hub.test:8443/"), "{link}");
    let voice = by_testid(&el, "voice-order-button").unwrap();
    assert!(voice.has_attribute("disabled"), "the voice button is disabled");
    assert!(by_testid(&el, "call-staff-button").unwrap().has_attribute("disabled"), "call staff is disabled");
    click(&el, "voice-order-button");
    click(&el, "call-staff-button");
    support::sleep(300).await;
    assert_eq!(spy.calls(), 0, "getUserMedia is never called");
    assert_eq!(transport.tokens.get(), 0, "no voice token is requested");

    // Touch ordering still works end to end.
    tap_item(&el, "fries-small").await;
    assert!(wait_until(SHORT, || all_by_testid(&el, "cart-item").len() == 1).await);
    click(&el, "submit-order");
    assert!(
        wait_until(SHORT, || by_testid(&el, "order-number").is_some()).await,
        "the order is placed; status {:?}",
        text_of(&el, "submit-status")
    );
    assert_eq!(spy.calls(), 0);
}

#[wasm_bindgen_test]
async fn a_secure_kiosk_shows_no_notice_and_enables_voice_and_calls() {
    let (page, _) = mount_kiosk(hub_config(), true);
    let el = page.el();
    assert!(wait_until(SHORT, || by_testid(&el, "voice-order-button").is_some()).await);
    assert!(by_testid(&el, "insecure-context").is_none());
    assert!(!by_testid(&el, "voice-order-button").unwrap().has_attribute("disabled"));
    assert!(!by_testid(&el, "call-staff-button").unwrap().has_attribute("disabled"));
}

/// The check is in the code path, not only a disabled button: the hooks refuse by themselves.
#[wasm_bindgen_test]
async fn insecure_voice_and_call_hooks_never_ask_for_the_microphone() {
    let spy = MicrophoneSpy::install();
    let insecure = MediaAccess::decide(false, None, "http://192.168.1.20:8080/kiosk");
    let transport = Rc::new(FakeTransport::new(0, Rc::new(|_: &str| Vec::new())));
    let hooks: Rc<RefCell<Option<(UseVoiceSessionReturn, UseStaffCallReturn)>>> = Rc::default();
    let (out, fake) = (hooks.clone(), transport.clone());
    let _page = mount(move || {
        let transport: Rc<dyn VoiceTransport> = transport;
        let voice = use_voice_session(
            menu(),
            use_kiosk_cart(),
            UseVoiceSessionOptions {
                transport,
                mode: VoiceMode::Toggle,
                prefetch_token: false,
                on_event: None,
                timeouts: Timeouts::default(),
                on_order: Callback::new(|_| {}),
                media: insecure.clone(),
                on_unpaired: None,
            },
        );
        let call = use_staff_call(UseStaffCallOptions {
            local_id: "kds-test".into(),
            send: Rc::new(|_| {}),
            on_idle: None,
            ring: false,
            debug_name: "__insecureCall",
            media: insecure,
        });
        *out.borrow_mut() = Some((voice, call));
        view! { <p>"hooks"</p> }
    });
    let (voice, call) = hooks.borrow().expect("mounted");
    assert!(!voice.available() && !call.available());

    voice.connect();
    assert!(
        wait_until(SHORT, || voice.problem().get_untracked().is_some()).await,
        "connecting explains instead of asking for the microphone"
    );
    let problem = voice.problem().get_untracked().unwrap();
    assert!(problem.help.contains("https://192.168.1.20:8080/kiosk"), "{problem:?}");

    call.call(None);
    call.receive(CallSignal::Message(CallMessage::Request {
        call_id: "call-1".into(),
        from: "kiosk-1".into(),
        to_station: None,
    }));
    assert!(wait_until(SHORT, || call.view().get_untracked().state == CallState::Ringing).await, "the call rings");
    call.accept();
    support::sleep(300).await;
    assert_eq!(call.view().get_untracked().state, CallState::Ringing, "accepting is refused here");
    assert_eq!(spy.calls(), 0, "getUserMedia is never called");
    assert_eq!(fake.tokens.get(), 0, "no voice token is requested");
}

#[wasm_bindgen_test]
async fn an_insecure_kds_shows_the_notice_and_its_feed_still_goes_live() {
    support::kds::clear_storage();
    let config = support::kds::config("kitchen");
    let page = mount(move || {
        provide_runtime_config(config);
        view! { <KdsPage secure_context=false/> }
    });
    let el = page.el();
    assert!(text_of(&el, "insecure-context").starts_with("Voice and calls need a secure connection — open https://"));
    sign_in_via_form(&el).await;
    assert!(wait_banner(&el, "live", LONG).await);
}
