//! The kitchen display across hub outages: a restart reconnects and resynchronises the board, and a
//! command given while the hub is down is applied exactly once when it returns.
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::Cell;
use std::collections::BTreeSet;

use restaurant_web::hooks::order_feed::{BOARD_KEY, OUTBOX_KEY};
use restaurant_web::web::storage;
use support::kds::*;
use support::*;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

fn board_of(el: &Element) -> BTreeSet<(String, String)> {
    all_by_testid(el, "ticket").iter().map(|t| (attr(t, "data-order-id"), attr(t, "data-status"))).collect()
}

#[wasm_bindgen_test]
async fn hub_restart_shows_reconnecting_then_live_and_the_board_matches_the_snapshot() {
    clear_storage();
    let page = mount_page("kitchen");
    let el = page.el();
    sign_in_via_form(&el).await;
    let before = post_simple_order().await;
    assert!(wait_ticket(&el, &before.id, "new", SHORT).await);

    let saw_reconnecting = Cell::new(false);
    let started = js_sys::Date::now();
    let watch = wait_until(LONG, || {
        let state = banner_state(&el);
        if state == "reconnecting" {
            saw_reconnecting.set(true);
        }
        saw_reconnecting.get() && state == "live"
    });
    let ((), back) = futures::join!(hub_control("restart"), watch);
    let reconnect_ms = js_sys::Date::now() - started;
    assert!(saw_reconnecting.get(), "the banner said Reconnecting");
    assert!(back, "live again after the restart (banner {})", banner_state(&el));
    wasm_bindgen_test::console_log!("KDS reconnect after hub restart: {reconnect_ms:.0} ms (restart call included)");

    // An order created after the restart arrives on the new connection.
    let after = post_simple_order().await;
    assert!(wait_ticket(&el, &after.id, "new", SHORT).await);
    let server = snapshot().await;
    let expected: BTreeSet<(String, String)> =
        server.orders.iter().map(|o| (o.id.clone(), o.status.as_str().to_string())).collect();
    assert!(wait_until(SHORT, || board_of(&el) == expected).await, "board {:?} != hub {:?}", board_of(&el), expected);
    assert_eq!(ws_status()["lastSeq"], server.seq);
}

#[wasm_bindgen_test]
async fn a_bump_made_while_the_hub_is_down_is_applied_exactly_once_when_it_returns() {
    let (_page, el, order) = live_page_with_order("kitchen").await;
    click_in(&ticket(&el, &order.id).unwrap(), "ticket-start");
    assert!(wait_ticket(&el, &order.id, "preparing", SHORT).await);
    let seq_before = snapshot().await.seq;

    hub_control("stop").await;
    assert!(wait_banner(&el, "reconnecting", SHORT).await, "banner shows the outage");
    click_in(&ticket(&el, &order.id).unwrap(), "ticket-bump");
    leptos::task::tick().await;
    let card = ticket(&el, &order.id).unwrap();
    assert_eq!(attr(&card, "data-status"), "ready", "shown at once");
    assert_eq!(attr(&card, "data-pending"), "true", "marked as not yet confirmed");
    assert!(support::by_testid(&card, "ticket-pending").is_some());
    assert_eq!(ws_status()["pendingCommands"], 1);
    assert!(storage::get(OUTBOX_KEY).is_some_and(|o| o.contains(&order.id)), "the outbox is persisted");

    hub_control("start").await;
    assert!(wait_banner(&el, "live", LONG).await, "live again");
    assert!(wait_ticket(&el, &order.id, "ready", LONG).await, "confirmed after the hub returned");
    assert!(wait_until(SHORT, || ws_status()["pendingCommands"] == 0).await);
    let server = snapshot().await;
    assert_eq!(server.seq, seq_before + 1, "the hub applied the bump exactly once");
    let on_hub = server.orders.iter().find(|o| o.id == order.id).expect("still active");
    assert_eq!(on_hub.status.as_str(), "ready");
    assert!(storage::get(OUTBOX_KEY).is_some_and(|o| !o.contains(&order.id)), "the answered command left the outbox");
}

#[wasm_bindgen_test]
async fn a_screen_reloaded_during_an_outage_shows_its_last_board_takes_bumps_and_resumes() {
    let (mut page, el, order) = live_page_with_order("kitchen").await;
    assert!(
        wait_until(SHORT, || storage::get(BOARD_KEY).is_some_and(|b| b.contains(&order.id))).await,
        "the current board is kept in the page's storage"
    );
    let detail = text_of(&el, "banner-detail");
    assert!(detail.starts_with("Last update "), "the live banner says when it last heard: {detail:?}");
    let seq_before = snapshot().await.seq;

    hub_control("stop").await;
    assert!(wait_banner(&el, "reconnecting", SHORT).await);
    // The reload: the page goes and comes back with only what it kept.
    page.unmount();
    let page = mount_page("kitchen");
    let el = page.el();
    assert!(wait_ticket(&el, &order.id, "new", SHORT).await, "the last board shows after the reload");
    assert_ne!(banner_state(&el), "live", "marked as not live");
    let detail = text_of(&el, "banner-detail");
    assert!(detail.starts_with("Not live: showing the board as of "), "says since when: {detail:?}");
    click_in(&ticket(&el, &order.id).unwrap(), "ticket-start");
    leptos::task::tick().await;
    assert_eq!(attr(&ticket(&el, &order.id).unwrap(), "data-pending"), "true", "the start waits in the outbox");

    hub_control("start").await;
    assert!(wait_banner(&el, "live", LONG).await, "resumes when the hub returns");
    assert!(wait_ticket(&el, &order.id, "preparing", LONG).await, "the start confirmed");
    assert!(text_of(&el, "banner-detail").starts_with("Last update "), "live again");
    let server = snapshot().await;
    assert_eq!(server.seq, seq_before + 1, "applied exactly once");
    assert_eq!(ws_status()["lastSeq"], server.seq, "resumed from the kept seq, up to the hub's");
}
