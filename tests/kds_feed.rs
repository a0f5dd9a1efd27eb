//! The order feed's lifecycle against the real hub: one socket per signed-in page, none after
//! sign-out or unmount, and nothing running once the page is gone.
#![cfg(target_arch = "wasm32")]

mod support;

use leptos::prelude::GetUntracked;
use restaurant_web::core::feed::Banner;
use restaurant_web::hooks::order_feed::SignInError;
use support::console::*;
use support::kds::*;
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn three_concurrent_sign_ins_open_exactly_one_socket() {
    clear_storage();
    let (connects, open) = (connect_count(), open_sockets());
    let (mut mounted, feed) = mount_feed("kitchen");
    let (a, b, c) = futures::join!(feed.sign_in(PIN), feed.sign_in(PIN), feed.sign_in(PIN));
    assert_eq!((a, b, c), (Ok(()), Ok(()), Ok(())));
    assert!(wait_until(LONG, || feed.status().get_untracked().banner == Banner::Live).await, "live");
    assert_eq!(feed.sign_in(PIN).await, Ok(()), "a sign-in while live changes nothing");
    assert_eq!(connect_count() - connects, 1.0, "exactly one socket was opened");
    assert_eq!(open_sockets() - open, 1.0);
    mounted.unmount();
    assert_eq!(open_sockets(), open, "unmount closes it");
}

#[wasm_bindgen_test]
async fn ten_sign_in_sign_out_cycles_leave_one_socket_then_none() {
    clear_storage();
    let open = open_sockets();
    let page = mount_page("kitchen");
    let el = page.el();
    for cycle in 0..10 {
        let connects = connect_count();
        sign_in_via_form(&el).await;
        assert_eq!(open_sockets() - open, 1.0, "cycle {cycle}: one live socket after sign-in");
        assert_eq!(connect_count() - connects, 1.0, "cycle {cycle}: one socket opened");
        click(&el, "logout");
        assert_eq!(open_sockets(), open, "cycle {cycle}: no socket after sign-out");
        assert!(wait_banner(&el, "signed_out", SHORT).await);
        assert!(support::by_testid(&el, "pin-input").is_some(), "cycle {cycle}: back at the PIN screen");
    }
}

#[wasm_bindgen_test]
async fn unmount_during_connect_closes_the_socket_and_writes_nothing_afterwards() {
    clear_storage();
    capture_console();
    let open = open_sockets();
    let (mut mounted, feed) = mount_feed("kitchen");
    assert_eq!(feed.sign_in(PIN).await, Ok(()));
    assert_eq!(open_sockets() - open, 1.0, "the socket is connecting");
    assert_eq!(ws_status()["state"], "connecting");
    mounted.unmount();
    assert_eq!(open_sockets(), open, "unmount closed the connecting socket");
    assert!(ws_status().is_null(), "window.__wsService removed");
    // Let the hub answer, the socket events and every timer the page had armed come due.
    sleep(1_500).await;
    feed.logout();
    assert!(feed.command("ord_x", restaurant_web::core::board::Command::Start { station: "grill".into() }).is_err());
    web_sys::console::warn_1(&"capture check".into());
    let captured = release_console();
    assert!(captured.iter().any(|m| m.contains("capture check")), "the console is captured: {captured:?}");
    assert_eq!(after_dispose_messages(&captured), Vec::<String>::new(), "console: {captured:?}");
    assert_eq!(open_sockets(), open);
}

#[wasm_bindgen_test]
async fn unmount_during_the_pin_request_opens_nothing() {
    clear_storage();
    capture_console();
    let (connects, open) = (connect_count(), open_sockets());
    let mut page = mount_page("kitchen");
    let el = page.el();
    type_into(&el, "pin-input", PIN);
    click(&el, "login-submit");
    page.unmount();
    sleep(1_500).await;
    let captured = release_console();
    assert_eq!(after_dispose_messages(&captured), Vec::<String>::new(), "console: {captured:?}");
    assert_eq!(connect_count(), connects, "the late token opened no socket");
    assert_eq!(open_sockets(), open);

    let (mut mounted, feed) = mount_feed("kitchen");
    let flight = feed.sign_in(PIN);
    mounted.unmount();
    assert_eq!(flight.await, Err(SignInError::Closed));
    assert_eq!(connect_count(), connects);
}

#[wasm_bindgen_test]
async fn rapid_mount_unmount_mount_with_a_stored_session_opens_one_socket() {
    clear_storage();
    let (mut mounted, feed) = mount_feed("kitchen");
    assert_eq!(feed.sign_in(PIN).await, Ok(()));
    mounted.unmount();
    let (connects, open) = (connect_count(), open_sockets());

    let mut first = mount_page("kitchen");
    first.unmount();
    let mut second = mount_page("kitchen");
    let el = second.el();
    assert!(wait_banner(&el, "live", LONG).await, "the stored session reconnects by itself");
    assert_eq!(connect_count() - connects, 1.0, "one socket for mount/unmount/mount");
    assert_eq!(open_sockets() - open, 1.0);
    second.unmount();
    assert_eq!(open_sockets(), open);
}

#[wasm_bindgen_test]
async fn debug_surface_reports_the_feed_and_goes_away_on_unmount() {
    clear_storage();
    let mut page = mount_page("kitchen");
    let el = page.el();
    assert_eq!(ws_status()["state"], "idle");
    sign_in_via_form(&el).await;
    let status = ws_status();
    assert_eq!(status["state"], "open");
    assert_eq!(status["reconnectAttempts"], 0);
    assert_eq!(status["isReconnecting"], false);
    assert_eq!(status["pendingCommands"], 0);
    assert!(status["lastHeartbeat"].is_number());
    assert!(wait_until(SHORT, || ws_status()["lastSeq"].is_number()).await, "snapshot applied");

    let window = web_sys::window().unwrap();
    let service = js_sys::Reflect::get(&window, &"__wsService".into()).unwrap();
    let f: js_sys::Function = js_sys::Reflect::get(&service, &"getSubscriptions".into()).unwrap().into();
    let types: Vec<String> =
        js_sys::Array::from(&f.call0(&service).unwrap()).iter().filter_map(|v| v.as_string()).collect();
    assert!(types.contains(&"order.created".to_string()) && types.contains(&"resync".to_string()), "{types:?}");

    page.unmount();
    assert!(ws_status().is_null());
}
