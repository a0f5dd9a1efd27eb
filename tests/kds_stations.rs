//! A kitchen with stations, in the browser against the hub: a grill and a fryer screen side by
//! side plus expo. Each station bumps only its own items, the order is ready on every screen when
//! the last one does, expo completes it; a void reaches every screen; and the same work done with
//! the keys a bump bar sends.
#![cfg(target_arch = "wasm32")]

mod support;

use support::kds::*;
use support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

/// A signed-in page for `station` (each signs in with a fresh session).
async fn signed_in(station: &str) -> (Mounted, Element) {
    clear_storage();
    let page = mount_page(station);
    let el = page.el();
    sign_in_via_form(&el).await;
    (page, el)
}

async fn burger_and_fries() -> restaurant_protocol::Order {
    post_order(serde_json::json!({
        "items": [{"menu_item_id": "cheeseburger", "quantity": 1}, {"menu_item_id": "fries-small", "quantity": 1}],
        "source": "kiosk"
    }))
    .await
}

fn progress(root: &Element, order_id: &str, station: &str) -> String {
    ticket(root, order_id)
        .and_then(|t| all_by_testid(&t, "station-progress").into_iter().find(|p| attr(p, "data-station") == station))
        .map(|p| attr(&p, "data-status"))
        .unwrap_or_default()
}

/// The count of today's tickets the screen's stats strip shows, once it has loaded.
async fn stats_count(root: &Element) -> u32 {
    let loaded =
        wait_until(SHORT, || by_testid(root, "stats-strip").is_some_and(|s| attr(&s, "data-state") == "ready"));
    assert!(loaded.await, "the ticket times load");
    attr(&by_testid(root, "stats-strip-figures").unwrap(), "data-count").parse().unwrap()
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[wasm_bindgen_test]
async fn grill_and_fryer_bump_their_own_items_and_expo_completes_the_order() {
    let (mut grill_page, grill) = signed_in("grill").await;
    let (mut fryer_page, fryer) = signed_in("fryer").await;
    let (mut expo_page, expo) = signed_in("expo").await;
    let before = (stats_count(&grill).await, stats_count(&expo).await);
    let order = burger_and_fries().await;
    for (el, name) in [(&grill, "grill"), (&fryer, "fryer"), (&expo, "expo")] {
        assert!(wait_ticket(el, &order.id, "new", SHORT).await, "the order reaches the {name} screen");
    }
    let grill_items = all_by_testid(&ticket(&grill, &order.id).unwrap(), "ticket-item");
    assert_eq!(grill_items.len(), 1, "the grill sees its own item only");
    assert!(by_testid(&ticket(&expo, &order.id).unwrap(), "ticket-bump").is_none(), "expo cannot complete it yet");

    let t0 = now_ms();
    click_in(&ticket(&grill, &order.id).unwrap(), "ticket-bump");
    assert!(wait_until(SHORT, || ticket(&grill, &order.id).is_none()).await, "bumped: gone from the grill's grid");
    assert!(wait_until(SHORT, || progress(&expo, &order.id, "grill") == "ready").await, "expo sees the grill done");
    let grill_to_expo = now_ms() - t0;
    assert!(wait_ticket(&expo, &order.id, "preparing", SHORT).await, "the order is still preparing");
    assert_eq!(progress(&expo, &order.id, "fryer"), "new", "the fryer's items are untouched");
    assert_eq!(attr(&ticket(&fryer, &order.id).unwrap(), "data-status"), "new");
    let grill_text = by_testid(&ticket(&expo, &order.id).unwrap(), "ticket-progress").unwrap().text_content().unwrap();
    assert!(grill_text.contains("grill ✓"), "{grill_text}");

    let t1 = now_ms();
    click_in(&ticket(&fryer, &order.id).unwrap(), "ticket-bump");
    assert!(wait_until(SHORT, || ticket(&fryer, &order.id).is_none()).await);
    assert!(wait_ticket(&expo, &order.id, "ready", SHORT).await, "the last station makes it ready at expo");
    let fryer_to_ready = now_ms() - t1;

    let t2 = now_ms();
    click_in(&ticket(&expo, &order.id).unwrap(), "ticket-bump");
    assert!(wait_until(SHORT, || ticket(&expo, &order.id).is_none()).await, "completed at expo");
    assert!(wait_until(SHORT, || ws_status()["pendingCommands"] == 0).await);
    let complete = now_ms() - t2;
    // Today's ticket times count the finished ticket at its station and overall.
    let counted = |el: &Element, at_least: u32| {
        by_testid(el, "stats-strip-figures")
            .is_some_and(|f| attr(&f, "data-count").parse::<u32>().unwrap_or(0) >= at_least)
    };
    assert!(wait_until(SHORT, || counted(&grill, before.0 + 1)).await, "the grill's ticket times count it");
    assert!(wait_until(SHORT, || counted(&expo, before.1 + 1)).await, "and the whole orders' at expo");
    assert!(by_testid(&expo, "stats-chart").is_some(), "expo draws the day by hour");
    let grill_row = all_by_testid(&expo, "stats-station").into_iter().find(|r| attr(r, "data-station") == "grill");
    assert!(grill_row.is_some(), "expo lists each station's figures");
    web_sys::console::log_1(
        &format!(
            "[kds-stations] grill bump → expo shows grill ✓: {grill_to_expo:.0} ms; fryer bump → ready at expo: \
             {fryer_to_ready:.0} ms; expo complete → acknowledged: {complete:.0} ms"
        )
        .into(),
    );

    // The grill recalls its part: the order is back, preparing, on the grill and at expo.
    click(&grill, "recall");
    let recall = wait_until(SHORT, || {
        all_by_testid(&grill, "recall-order").iter().any(|b| attr(b, "data-order-id") == order.id)
    })
    .await;
    assert!(recall, "the grill can recall what it bumped");
    let button = all_by_testid(&grill, "recall-order").into_iter().find(|b| attr(b, "data-order-id") == order.id);
    button.unwrap().unchecked_into::<web_sys::HtmlElement>().click();
    assert!(wait_ticket(&grill, &order.id, "preparing", SHORT).await, "back on the grill");
    assert!(wait_ticket(&expo, &order.id, "preparing", SHORT).await, "and at expo, not ready any more");
    assert!(ticket(&fryer, &order.id).is_none(), "the fryer's part stays done");

    // Expo voids it: every screen shows it struck through, then it goes.
    click_in(&ticket(&expo, &order.id).unwrap(), "ticket-void");
    let reason_button = || {
        ticket(&expo, &order.id).and_then(|t| {
            all_by_testid(&t, "void-reason").into_iter().find(|b| attr(b, "data-reason") == "Wrong order")
        })
    };
    assert!(wait_until(SHORT, || reason_button().is_some()).await, "a void asks for the reason");
    let reason = reason_button().unwrap();
    reason.unchecked_into::<web_sys::HtmlElement>().click();
    for el in [&grill, &expo] {
        let shown = wait_until(SHORT, || {
            all_by_testid(el, "ticket-voided").iter().any(|t| {
                attr(t, "data-order-id") == order.id && t.text_content().unwrap_or_default().contains("Wrong order")
            })
        })
        .await;
        assert!(shown, "VOID with its reason on every screen that had it");
        assert!(ticket(el, &order.id).is_none());
    }
    let gone = wait_until(LONG, || {
        all_by_testid(&grill, "ticket-voided").iter().all(|t| attr(t, "data-order-id") != order.id)
    });
    assert!(gone.await, "then it goes");
    grill_page.unmount();
    fryer_page.unmount();
    expo_page.unmount();
}

fn press(key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    web_sys::window().unwrap().dispatch_event(&event).unwrap();
}

fn selected(root: &Element, order_id: &str) -> bool {
    ticket(root, order_id).is_some_and(|t| attr(&t, "data-selected") == "true")
}

/// Moves the selection with arrow keys until `order_id` is selected.
async fn select_with_keys(root: &Element, order_id: &str) {
    press("Home");
    for _ in 0..200 {
        leptos::task::tick().await;
        if selected(root, order_id) {
            return;
        }
        press("ArrowRight");
    }
    panic!("the arrows never reached order {order_id}");
}

#[wasm_bindgen_test]
async fn the_same_flow_with_the_keys_a_bump_bar_sends() {
    let (mut grill_page, grill) = signed_in("grill").await;
    let order = burger_and_fries().await;
    assert!(wait_ticket(&grill, &order.id, "new", SHORT).await);
    press("?");
    assert!(wait_until(SHORT, || by_testid(&grill, "help-overlay").is_some()).await, "? shows the key map");
    press("b");
    leptos::task::tick().await;
    assert_eq!(attr(&ticket(&grill, &order.id).unwrap(), "data-status"), "new", "keys do nothing but close help then");
    press("Escape");
    assert!(wait_until(SHORT, || by_testid(&grill, "help-overlay").is_none()).await);

    select_with_keys(&grill, &order.id).await;
    let card = ticket(&grill, &order.id).unwrap();
    assert!(card.class_list().contains("selected"), "the selected ticket is highlighted");
    // Keys typed into a text field are the field's; Enter on a focused button is the button's.
    let field: web_sys::HtmlInputElement =
        web_sys::window().unwrap().document().unwrap().create_element("input").unwrap().unchecked_into();
    grill.append_child(&field).unwrap();
    field.focus().unwrap();
    press("s");
    press("b");
    field.remove();
    let help: web_sys::HtmlElement = by_testid(&grill, "help-toggle").unwrap().unchecked_into();
    help.focus().unwrap();
    press("Enter");
    leptos::task::tick().await;
    assert_eq!(attr(&ticket(&grill, &order.id).unwrap(), "data-status"), "new", "none of those acted on the ticket");
    help.blur().unwrap();
    press("s");
    assert!(wait_ticket(&grill, &order.id, "preparing", SHORT).await, "S starts it");
    assert!(selected(&grill, &order.id), "and it stays selected across the update");
    press("Enter");
    assert!(wait_until(SHORT, || ticket(&grill, &order.id).is_none()).await, "Enter bumps it");
    press("r");
    assert!(wait_ticket(&grill, &order.id, "preparing", SHORT).await, "R recalls the last bumped");
    select_with_keys(&grill, &order.id).await;
    press("b");
    assert!(wait_until(SHORT, || ticket(&grill, &order.id).is_none()).await);
    grill_page.unmount();

    let (mut fryer_page, fryer) = signed_in("fryer").await;
    assert!(wait_ticket(&fryer, &order.id, "new", SHORT).await);
    select_with_keys(&fryer, &order.id).await;
    press("v");
    leptos::task::tick().await;
    assert!(by_testid(&fryer, "void-confirm").is_none(), "a prep station cannot void");
    assert!(by_testid(&fryer, "command-error").is_some(), "and is told so");
    press("Enter");
    assert!(wait_until(SHORT, || ticket(&fryer, &order.id).is_none()).await, "Enter bumps the fryer's part");
    fryer_page.unmount();

    let (mut expo_page, expo) = signed_in("expo").await;
    assert!(wait_ticket(&expo, &order.id, "ready", SHORT).await, "ready at expo");
    select_with_keys(&expo, &order.id).await;
    press("Enter");
    assert!(wait_until(SHORT, || ticket(&expo, &order.id).is_none()).await, "Enter completes it at expo");
    press("r");
    assert!(wait_ticket(&expo, &order.id, "ready", SHORT).await, "R brings the completed order back");
    select_with_keys(&expo, &order.id).await;
    press("v");
    assert!(wait_until(SHORT, || by_testid(&expo, "void-confirm").is_some()).await, "V asks first");
    press("Escape");
    assert!(wait_until(SHORT, || by_testid(&expo, "void-confirm").is_none()).await, "Escape keeps it");
    assert!(ticket(&expo, &order.id).is_some());
    press("v");
    assert!(wait_until(SHORT, || by_testid(&expo, "void-confirm").is_some()).await);
    press("Enter");
    let voided = wait_until(SHORT, || {
        all_by_testid(&expo, "ticket-voided").iter().any(|t| attr(t, "data-order-id") == order.id)
    });
    assert!(voided.await, "Enter voids it");
    expo_page.unmount();
}

#[wasm_bindgen_test]
async fn the_sound_state_shows_and_mute_and_volume_are_kept_per_screen() {
    storage_clear_sound("drinks");
    let (mut page, el) = signed_in("drinks").await;
    let sound = || by_testid(&el, "sound").map(|s| attr(&s, "data-state")).unwrap_or_default();
    // This test browser lets pages play sound without a tap: no prompt.
    assert!(wait_until(SHORT, || sound() == "on").await, "sound {}", sound());
    assert!(by_testid(&el, "sound-unlock").is_none());
    click(&el, "sound-mute");
    assert!(wait_until(SHORT, || sound() == "muted").await);
    let volume: web_sys::HtmlInputElement = by_testid(&el, "sound-volume").unwrap().unchecked_into();
    volume.set_value("30");
    volume.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    page.unmount();

    let mut page = mount_page("drinks");
    let el = page.el();
    assert!(wait_until(SHORT, || by_testid(&el, "sound").is_some()).await);
    assert_eq!(attr(&by_testid(&el, "sound").unwrap(), "data-state"), "muted", "muted after a reload");
    assert_eq!(attr(&by_testid(&el, "sound-mute").unwrap(), "aria-pressed"), "true");
    let volume: web_sys::HtmlInputElement = by_testid(&el, "sound-volume").unwrap().unchecked_into();
    assert_eq!(volume.value(), "30", "the volume is kept");
    click(&el, "sound-mute");
    assert!(wait_until(SHORT, || attr(&by_testid(&el, "sound").unwrap(), "data-state") == "on").await);
    page.unmount();
}

fn storage_clear_sound(station: &str) {
    restaurant_web::web::storage::remove(&format!("kds.sound.{station}"));
}
