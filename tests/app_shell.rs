//! The app shell mounts into the DOM: each page's bundle entry, the chooser's not-found page, and the
//! configuration error panel.
#![cfg(target_arch = "wasm32")]

mod support;

use std::time::Duration;

use leptos::prelude::*;
use restaurant_web::app::{App, Configured};
use restaurant_web::components::chooser::Home;
use restaurant_web::components::kds::kds;
use restaurant_web::components::kiosk::KioskPage;
use restaurant_web::components::shell::{ConnectionBanner, PageShell};
use restaurant_web::core::config::RuntimeConfig;
use support::{Location, by_testid, mount, text_of, wait_until};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn config(station: &str) -> RuntimeConfig {
    let mut c = support::hub_config();
    c.station = station.into();
    c
}

#[wasm_bindgen_test]
async fn page_shell_has_header_banner_and_main_and_unmounts_cleanly() {
    let (title, set_title) = signal("Order here".to_string());
    let mut page = mount(move || {
        view! {
            <PageShell
                page="kiosk"
                title=title
                banner=ViewFn::from(|| view! { <ConnectionBanner state="connecting" text="Connecting…"/> })
            >
                <p data-testid="content">"hello"</p>
            </PageShell>
        }
    });
    let el = page.el();
    assert_eq!(text_of(&el, "page-title"), "Order here");
    let banner = by_testid(&el, "connection-status").expect("banner");
    assert_eq!(banner.get_attribute("data-state").as_deref(), Some("connecting"));
    assert_eq!(banner.get_attribute("role").as_deref(), Some("status"));
    assert_eq!(banner.get_attribute("aria-live").as_deref(), Some("polite"));
    assert_eq!(text_of(&el, "content"), "hello");
    assert!(
        by_testid(&el, "page-main").unwrap().contains(by_testid(&el, "content").as_ref().map(|e| e.unchecked_ref()))
    );

    set_title.set("Kitchen".into());
    leptos::task::tick().await;
    assert_eq!(text_of(&el, "page-title"), "Kitchen");

    page.unmount();
    assert!(by_testid(&el, "kiosk-page").is_none(), "unmount removes the page");
}

#[wasm_bindgen_test]
async fn each_pages_entry_shows_its_page() {
    let kiosk = mount(|| view! { <Configured config=config("grill") page=KioskPage/> });
    let kds_page = mount(|| view! { <Configured config=config("grill") page=kds/> });
    for (page, page_id, title) in [(&kiosk, "kiosk-page", "Order here"), (&kds_page, "kds-page", "Kitchen · grill")] {
        let el = page.el();
        // The kiosk renders once its menu has loaded from the hub.
        assert!(wait_until(Duration::from_secs(5), || by_testid(&el, page_id).is_some()).await, "renders {page_id}");
        assert_eq!(text_of(&el, "page-title"), title);
        assert!(by_testid(&el, "connection-status").is_some(), "{page_id} has the banner area");
    }
    drop((kiosk, kds_page));

    // The chooser's bundle, which the hub serves for every path that is no other page's.
    let _location = Location::set("/");
    let page = mount(|| view! { <Configured config=config("kitchen") page=Home/> });
    leptos::task::tick().await;
    let el = page.el();
    assert_eq!(by_testid(&el, "link-kiosk").unwrap().get_attribute("href").as_deref(), Some("/kiosk"));
    assert_eq!(by_testid(&el, "link-kds").unwrap().get_attribute("href").as_deref(), Some("/kds"));
    assert!(by_testid(&el, "not-found-page").is_none());
    drop(page);

    let _location = Location::set("/no-such-screen");
    let page = mount(|| view! { <Configured config=config("kitchen") page=Home/> });
    leptos::task::tick().await;
    let el = page.el();
    assert!(by_testid(&el, "not-found-page").is_some(), "an unknown path says so");
    assert_eq!(by_testid(&el, "link-home").unwrap().get_attribute("href").as_deref(), Some("/"));
    assert!(by_testid(&el, "chooser-page").is_none());
}

/// The whole boot path: fetch config.json (absent here → defaults), apply query overrides,
/// show the error panel naming a bad key, and recover on Retry once the address is fixed.
#[wasm_bindgen_test]
async fn bad_query_value_shows_a_panel_naming_the_key_and_retry_recovers() {
    let _location = Location::set("/kds?ticket_warning_min=abc&station=grill");
    let page = mount(|| view! { <App page=kds/> });
    let el = page.el();
    assert!(wait_until(Duration::from_secs(5), || by_testid(&el, "config-error").is_some()).await, "error panel shown");
    let item = by_testid(&el, "config-error-item").unwrap();
    assert_eq!(item.get_attribute("data-key").as_deref(), Some("ticket_warning_min"));
    assert!(item.text_content().unwrap().contains("abc"));

    support::set_location("/kds?station=grill");
    let retry: web_sys::HtmlElement = by_testid(&el, "config-retry").unwrap().unchecked_into();
    retry.click();
    assert!(
        wait_until(Duration::from_secs(5), || by_testid(&el, "kds-page").is_some()).await,
        "after retry the KDS page renders"
    );
    assert_eq!(text_of(&el, "page-title"), "Kitchen · grill");
    assert!(by_testid(&el, "config-error").is_none());
}

/// The whole kiosk unmounted while its voice session is connected (the hub's voice peer): the
/// session's last input (its peer closes) writes nothing a torn-down view reads, no panic or
/// late message follows, the peer connection is closed, and the kiosk mounts again.
#[wasm_bindgen_test]
async fn the_kiosk_unmounts_cleanly_while_its_voice_session_is_connected() {
    support::kiosk::install_peer_counter();
    support::console::capture_console();
    let mut page = mount(|| view! { <Configured config=config("kiosk") page=KioskPage/> });
    let el = page.el();
    let button_ready = || by_testid(&el, "voice-order-button").is_some_and(|b| b.get_attribute("disabled").is_none());
    assert!(wait_until(Duration::from_secs(20), button_ready).await, "the voice button");
    // The button ignores a second tap within 300 ms of the last.
    support::sleep(350).await;
    support::click(&el, "voice-order-button");
    let voice_state = || by_testid(&el, "voice-status").and_then(|s| s.get_attribute("data-state"));
    assert!(
        wait_until(Duration::from_secs(15), || voice_state().as_deref() == Some("idle")).await,
        "the voice session is ready ({:?})",
        voice_state()
    );
    assert_eq!(support::kiosk::peers_open(), 1, "connected");

    page.unmount();
    support::sleep(300).await;
    let late = support::console::after_dispose_messages(&support::console::release_console());
    assert!(late.is_empty(), "messages after unmount: {late:?}");
    assert_eq!(support::kiosk::peers_open(), 0, "the peer connection closed");
    drop(page);

    let again = mount(|| view! { <Configured config=config("kiosk") page=KioskPage/> });
    let el = again.el();
    assert!(
        wait_until(Duration::from_secs(20), || by_testid(&el, "voice-order-button").is_some()).await,
        "the kiosk mounts again"
    );
}
