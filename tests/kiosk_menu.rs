//! The menu a restaurant runs, in a real browser against the hub: options chosen in the item
//! sheet reach the kitchen ticket and the hub charges what the review showed; an item sold out on
//! the kitchen display is marked on the kiosk within a second; an order holding it is refused by
//! the hub with nothing lost.
#![cfg(target_arch = "wasm32")]

mod support;

use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use restaurant_protocol::{AvailabilityChange, AvailabilityTarget, Menu, format_price};
use restaurant_web::app::Configured;
use restaurant_web::components::kiosk::{KioskPage, KioskView};
use restaurant_web::core::config::{RuntimeConfig, VoiceMode};
use restaurant_web::core::voice::Timeouts;
use restaurant_web::hooks::config::provide_runtime_config;
use restaurant_web::web::http;
use restaurant_web::web::realtime::VoiceTransport;
use support::fetch_stub::FetchStub;
use support::kds::{
    SHORT, clear_storage, click_in, mount_page, sign_in_via_form, snapshot, station_token, wait_ticket,
};
use support::kiosk::{FakeTransport, realtime_script, tap_item};
use support::{
    Mounted, all_by_testid, attr, by_testid, click, click_element, hub_config, hub_url, mount, text_of, wait_until,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

/// The hub's live menu, as the kiosk page loads it.
async fn hub_menu() -> Menu {
    let r = http::send("GET", &format!("{}/api/v1/menu", hub_url()), &[], None).await.expect("hub reachable");
    assert_eq!(r.status, 200, "menu: {}", r.body);
    serde_json::from_str(&r.body).expect("menu JSON")
}

/// Marks an item sold out (or back on) at the hub with the kitchen's token.
async fn set_item_available(id: &str, available: bool) {
    let token = station_token("kitchen").await;
    let change = AvailabilityChange { target: AvailabilityTarget::Item, id: id.into(), available };
    let r = http::send_as(
        "POST",
        &format!("{}/api/v1/menu/availability", hub_url()),
        Some(&token),
        &[("Content-Type", "application/json")],
        Some(&serde_json::to_string(&change).unwrap()),
    )
    .await
    .expect("hub reachable");
    assert_eq!(r.status, 200, "availability of {id}: {}", r.body);
}

fn mount_kiosk_with(config: RuntimeConfig, menu: Menu) -> Mounted {
    mount_kiosk_talking(config, menu, Rc::new(FakeTransport::new(0, Rc::new(|_: &str| Vec::new()))))
}

fn mount_kiosk_talking(config: RuntimeConfig, menu: Menu, transport: Rc<FakeTransport>) -> Mounted {
    restaurant_web::web::storage::remove("restaurant.kiosk.pending_order");
    mount(move || {
        provide_runtime_config(config);
        let transport: Rc<dyn VoiceTransport> = transport;
        view! { <KioskView menu transport voice_mode=VoiceMode::Toggle timeouts=Timeouts::default()/> }
    })
}

/// The frames the kiosk sent the (fake) Realtime peer, parsed.
fn sent_frames(transport: &FakeTransport) -> Vec<serde_json::Value> {
    transport
        .fake()
        .map(|f| f.received.borrow().iter().filter_map(|t| serde_json::from_str(t).ok()).collect())
        .unwrap_or_default()
}

fn menu_button(root: &Element, item_id: &str) -> Element {
    root.query_selector(&format!("[data-testid=menu-item][data-item-id='{item_id}']"))
        .unwrap()
        .unwrap_or_else(|| panic!("{item_id} on the menu"))
}

fn option_input(root: &Element, option_id: &str) -> web_sys::HtmlInputElement {
    root.query_selector(&format!("#sheet-option-{option_id}"))
        .unwrap()
        .unwrap_or_else(|| panic!("option {option_id} in the sheet"))
        .unchecked_into()
}

fn focused_within(el: &Element) -> bool {
    let active = web_sys::window().unwrap().document().unwrap().active_element();
    active.is_some_and(|a| el.contains(Some(&a)))
}

fn is_focused(el: &Element) -> bool {
    let active = web_sys::window().unwrap().document().unwrap().active_element();
    active.is_some_and(|a| a.is_same_node(Some(el)))
}

#[wasm_bindgen_test]
async fn a_burger_with_size_removal_and_extras_reaches_the_ticket_at_the_price_the_review_showed() {
    set_item_available("classic-burger", true).await;
    let page = mount_kiosk_with(hub_config(), hub_menu().await);
    let el = page.el();
    assert!(wait_until(SHORT, || by_testid(&el, "menu-item").is_some()).await);

    // The sheet opens modal with the focus inside; the required Size comes first, unchosen.
    let burger = menu_button(&el, "classic-burger");
    assert_eq!(attr(&burger, "data-has-options"), "true");
    // As a keyboard user does: focus the item, then activate it.
    burger.unchecked_ref::<web_sys::HtmlElement>().focus().unwrap();
    click_element(&burger);
    assert!(wait_until(SHORT, || by_testid(&el, "item-sheet").is_some()).await, "the item sheet opens");
    let sheet = by_testid(&el, "item-sheet").unwrap();
    assert!(sheet.has_attribute("open"), "shown as a modal dialog");
    assert!(wait_until(SHORT, || focused_within(&sheet)).await, "the focus moves into the sheet");
    let groups = all_by_testid(&sheet, "sheet-group");
    assert_eq!(attr(&groups[0], "data-group-id"), "size", "the required group comes first");
    assert_eq!(attr(&groups[0], "data-satisfied"), "false");
    let add = by_testid(&sheet, "sheet-add").unwrap();
    assert!(add.has_attribute("disabled"), "nothing to add until a size is chosen");
    assert!(text_of(&sheet, "sheet-problem").contains("Size needs a choice"), "{}", text_of(&sheet, "sheet-problem"));
    assert!(text_of(&sheet, "sheet-allergens").contains("Gluten"), "the item's allergens are named");

    // Large (+$2.00), no onions, bacon (+$1.50): the price follows.
    for option in ["large", "onions", "bacon"] {
        let input = option_input(&sheet, option);
        input.focus().unwrap();
        input.click();
        leptos::task::tick().await;
    }
    assert!(option_input(&sheet, "large").checked() && option_input(&sheet, "bacon").checked());
    assert!(is_focused(&option_input(&sheet, "bacon")), "the control just used keeps the focus");
    assert_eq!(attr(&all_by_testid(&sheet, "sheet-group")[0], "data-satisfied"), "true");
    assert_eq!(text_of(&sheet, "sheet-price"), "$11.49");
    assert!(!add.has_attribute("disabled"));
    click(&sheet, "sheet-add");
    assert!(wait_until(SHORT, || by_testid(&el, "item-sheet").is_none()).await, "the sheet closes");
    assert!(is_focused(&menu_button(&el, "classic-burger")), "the focus returns to the item tapped");

    let line = by_testid(&el, "cart-item").expect("a cart line");
    assert_eq!(text_of(&line, "cart-item-options"), "Large, No onions, Add bacon");
    tap_item(&el, "fries-small").await;
    assert!(wait_until(SHORT, || all_by_testid(&el, "cart-item").len() == 2).await);

    // The review shows the hub's numbers.
    assert!(
        wait_until(SHORT, || attr(&by_testid(&el, "cart-totals").unwrap(), "data-state") == "quoted").await,
        "the hub's quote arrives: {}",
        text_of(&el, "cart-totals")
    );
    assert_eq!(text_of(&el, "cart-subtotal"), "$14.48");
    let shown_total = text_of(&el, "cart-total");
    let shown_tax = text_of(&el, "cart-tax");
    assert_eq!(shown_tax, "$1.29", "8.875 % of $14.48 is 128.51 cents: $1.29");
    assert_eq!(shown_total, "$15.77");

    click(&el, "submit-order");
    assert!(wait_until(SHORT, || by_testid(&el, "order-number").is_some()).await, "{}", text_of(&el, "submit-status"));
    let number: u32 = text_of(&el, "order-number").trim_start_matches('#').parse().unwrap();
    assert_eq!(text_of(&el, "order-total"), format!("Total {shown_total}"), "the number screen shows the charge");
    let order = snapshot().await.orders.into_iter().find(|o| o.number == number).expect("the order on the hub");
    assert_eq!(format_price(order.totals.total_cents), shown_total, "the hub charged what the review showed");
    assert_eq!(format_price(order.totals.tax_cents), shown_tax);
    drop(page);

    // The kitchen reads the options as a cook does, without prices.
    clear_storage();
    let kds = mount_page("grill");
    let kel = kds.el();
    sign_in_via_form(&kel).await;
    assert!(wait_ticket(&kel, &order.id, "new", SHORT).await, "the ticket is on the grill screen");
    let card = support::kds::ticket(&kel, &order.id).unwrap();
    let item = all_by_testid(&card, "ticket-item")
        .into_iter()
        .find(|i| i.text_content().unwrap().contains("Classic Burger"))
        .unwrap();
    let modifiers: Vec<String> =
        all_by_testid(&item, "item-modifier").iter().filter_map(|m| m.text_content()).collect();
    assert_eq!(modifiers, ["LARGE", "NO onions", "ADD bacon"]);
    let lines: Vec<String> = all_by_testid(&card, "ticket-item").iter().filter_map(|i| i.text_content()).collect();
    web_sys::console::log_1(
        &format!(
            "[kiosk-menu] review {shown_total}, hub total {}, ticket lines {lines:?}",
            format_price(order.totals.total_cents)
        )
        .into(),
    );
    assert!(!card.text_content().unwrap().contains('$'), "no prices on a ticket");
    click_in(&card, "ticket-start");
}

#[wasm_bindgen_test]
async fn a_cart_line_is_edited_in_the_sheet_and_escape_cancels_the_sheet() {
    let page = mount_kiosk_with(hub_config(), hub_menu().await);
    let el = page.el();
    assert!(wait_until(SHORT, || by_testid(&el, "menu-item").is_some()).await);
    click_element(&menu_button(&el, "cola"));
    assert!(wait_until(SHORT, || by_testid(&el, "item-sheet").is_some()).await);
    let sheet = by_testid(&el, "item-sheet").unwrap();
    assert!(option_input(&sheet, "drink-medium").checked(), "the default size is chosen");
    assert!(!by_testid(&sheet, "sheet-add").unwrap().has_attribute("disabled"));
    // Escape (the dialog's `cancel`) closes the sheet without adding.
    sheet.dispatch_event(&web_sys::Event::new("cancel").unwrap()).unwrap();
    assert!(wait_until(SHORT, || by_testid(&el, "item-sheet").is_none()).await, "cancel closes the sheet");
    assert!(by_testid(&el, "cart-item").is_none(), "nothing added");

    // Add a small cola with a nut allergy flagged, then make it large.
    click_element(&menu_button(&el, "cola"));
    assert!(wait_until(SHORT, || by_testid(&el, "item-sheet").is_some()).await);
    let sheet = by_testid(&el, "item-sheet").unwrap();
    option_input(&sheet, "drink-small").click();
    let nuts: web_sys::HtmlInputElement =
        sheet.query_selector("#sheet-allergy-nuts").unwrap().unwrap().unchecked_into();
    nuts.click();
    leptos::task::tick().await;
    assert_eq!(text_of(&sheet, "sheet-price"), "$1.99", "a negative option lowers the price");
    click(&sheet, "sheet-add");
    assert!(wait_until(SHORT, || by_testid(&el, "cart-item").is_some()).await);
    assert_eq!(text_of(&el, "cart-item-allergy"), "Allergy: Tree nuts");
    click(&el, "cart-edit");
    assert!(wait_until(SHORT, || by_testid(&el, "item-sheet").is_some()).await);
    let sheet = by_testid(&el, "item-sheet").unwrap();
    assert!(text_of(&sheet, "sheet-add").starts_with("Update order"));
    assert!(option_input(&sheet, "drink-small").checked(), "the sheet starts from the line");
    option_input(&sheet, "drink-large").click();
    leptos::task::tick().await;
    click(&sheet, "sheet-add");
    assert!(wait_until(SHORT, || by_testid(&el, "item-sheet").is_none()).await);
    let lines = all_by_testid(&el, "cart-item");
    assert_eq!(lines.len(), 1, "the line was changed, not added");
    assert_eq!(text_of(&lines[0], "cart-item-options"), "Large");
    assert_eq!(text_of(&lines[0], "cart-item-allergy"), "Allergy: Tree nuts", "the allergy stays flagged");
}

#[wasm_bindgen_test]
async fn an_item_sold_out_on_the_kitchen_display_is_marked_on_the_kiosk_within_a_second() {
    set_item_available("chocolate-shake", true).await;
    let kiosk = mount_kiosk_with(hub_config(), hub_menu().await);
    let el = kiosk.el();
    assert!(wait_until(SHORT, || by_testid(&el, "menu-item").is_some()).await);
    tap_item(&el, "chocolate-shake").await;
    assert!(wait_until(SHORT, || all_by_testid(&el, "cart-item").len() == 1).await);
    // Give the kiosk's live menu time to connect.
    support::sleep(500).await;

    clear_storage();
    let kds = mount_page("expo");
    let kel = kds.el();
    sign_in_via_form(&kel).await;
    click(&kel, "open-sold-out");
    let row = || kel.query_selector("[data-testid=sold-out-item][data-id='chocolate-shake']").unwrap();
    assert!(wait_until(SHORT, || row().is_some()).await, "the 86 panel lists the menu");
    assert_eq!(attr(&row().unwrap(), "data-available"), "true");
    let clicked = js_sys::Date::now();
    click_in(&row().unwrap(), "sold-out-toggle");
    let shake = || menu_button(&el, "chocolate-shake");
    assert!(
        wait_until(Duration::from_secs(1), || attr(&shake(), "data-available") == "false").await,
        "sold out on the kiosk within 1 s"
    );
    web_sys::console::log_1(&format!("[kiosk-menu] 86 → kiosk: {:.0} ms", js_sys::Date::now() - clicked).into());
    assert!(text_of(&shake(), "sold-out").contains("Sold out"));
    assert!(
        wait_until(SHORT, || row().is_some_and(|r| attr(&r, "data-available") == "false")).await,
        "the panel shows it"
    );
    // A tap does nothing; the cart holding it says so and cannot be placed.
    click_element(&shake());
    leptos::task::tick().await;
    assert_eq!(all_by_testid(&el, "cart-item").len(), 1);
    assert!(
        text_of(&el, "cart-item-problem").contains("Chocolate Shake is sold out"),
        "{}",
        text_of(&el, "cart-item-problem")
    );
    assert!(by_testid(&el, "cart-blocked").is_some());
    assert!(by_testid(&el, "submit-order").unwrap().has_attribute("disabled"));

    // Back on (once the panel has its answer): the kiosk follows.
    let toggle = || row().and_then(|r| by_testid(&r, "sold-out-toggle"));
    assert!(wait_until(SHORT, || toggle().is_some_and(|t| !t.has_attribute("disabled"))).await);
    click_element(&toggle().unwrap());
    assert!(wait_until(SHORT, || attr(&shake(), "data-available") == "true").await);
    assert!(wait_until(SHORT, || by_testid(&el, "cart-blocked").is_none()).await);
    assert!(!by_testid(&el, "submit-order").unwrap().has_attribute("disabled"));
}

#[wasm_bindgen_test]
async fn an_order_with_an_item_sold_out_before_the_kiosk_heard_is_refused_and_the_cart_kept() {
    set_item_available("chocolate-shake", true).await;
    // A kiosk that hears no menu updates (its live connection points nowhere).
    let mut config = hub_config();
    config.ws_url = "ws://127.0.0.1:9/ws".into();
    let page = mount_kiosk_with(config, hub_menu().await);
    let el = page.el();
    assert!(wait_until(SHORT, || by_testid(&el, "menu-item").is_some()).await);
    tap_item(&el, "chocolate-shake").await;
    tap_item(&el, "fries-small").await;
    assert!(wait_until(SHORT, || all_by_testid(&el, "cart-item").len() == 2).await);

    set_item_available("chocolate-shake", false).await;
    click(&el, "submit-order");
    let rejected =
        wait_until(SHORT, || attr(&by_testid(&el, "submit-status").unwrap(), "data-state") == "rejected").await;
    let status = text_of(&el, "submit-status");
    set_item_available("chocolate-shake", true).await;
    assert!(rejected, "the hub refuses it: {status}");
    assert!(status.contains("Chocolate Shake is sold out"), "the message names it: {status}");
    assert_eq!(all_by_testid(&el, "cart-item").len(), 2, "nothing is lost from the cart");
}

#[wasm_bindgen_test]
async fn without_the_hub_the_review_shows_the_pages_estimate_marked_as_such() {
    let mut config = hub_config();
    config.api_base = "http://127.0.0.1:9".into();
    let page = mount_kiosk_with(config, hub_menu().await);
    let el = page.el();
    assert!(wait_until(SHORT, || by_testid(&el, "menu-item").is_some()).await);
    tap_item(&el, "fries-small").await;
    let totals = || by_testid(&el, "cart-totals").unwrap();
    assert!(wait_until(SHORT, || attr(&totals(), "data-state") == "estimate").await, "{}", text_of(&el, "cart-totals"));
    assert!(text_of(&el, "cart-quote-note").contains("Estimate: the hub cannot be reached"));
    assert!(text_of(&el, "cart-totals").contains("Estimated total"));
    // The page's estimate applies the menu's tax: $2.99 + 8.875 % = $3.26.
    assert_eq!(text_of(&el, "cart-total"), "$3.26");
}

#[wasm_bindgen_test]
async fn a_voice_turn_asking_for_a_sold_out_item_is_answered_that_we_are_out() {
    set_item_available("chocolate-shake", true).await;
    let transport = Rc::new(FakeTransport::new(
        0,
        realtime_script("a chocolate shake please", r#"{"items":[{"name":"Chocolate Shake","quantity":1}]}"#),
    ));
    let page = mount_kiosk_talking(hub_config(), hub_menu().await, transport.clone());
    let el = page.el();
    let voice_state = || by_testid(&el, "voice-status").and_then(|e| e.get_attribute("data-state")).unwrap_or_default();
    click(&el, "voice-order-button");
    assert!(wait_until(SHORT, || voice_state() == "idle").await, "voice connected: {}", voice_state());
    let updates = |frames: &[serde_json::Value]| frames.iter().filter(|f| f["type"] == "session.update").count();
    assert_eq!(updates(&sent_frames(&transport)), 1);
    support::sleep(300).await;

    // The kitchen runs out: the live session is told.
    set_item_available("chocolate-shake", false).await;
    let told = wait_until(SHORT, || {
        sent_frames(&transport).iter().any(|f| {
            f["type"] == "session.update"
                && f["session"]["instructions"]
                    .as_str()
                    .is_some_and(|i| i.contains("Chocolate Shake (Desserts), $5.49 SOLD OUT today"))
        })
    })
    .await;
    assert!(told, "a session.update with the new instructions; sent {:?}", sent_frames(&transport));

    // The customer asks for it anyway: the tool's answer says so, and the cart stays empty.
    support::sleep(320).await;
    click(&el, "voice-order-button");
    assert!(wait_until(SHORT, || voice_state() == "recording").await);
    support::sleep(320).await;
    click(&el, "voice-order-button");
    let output = || {
        sent_frames(&transport).into_iter().find_map(|f| {
            (f["type"] == "conversation.item.create" && f["item"]["type"] == "function_call_output")
                .then(|| f["item"]["output"].as_str().unwrap_or_default().to_string())
        })
    };
    let answered = wait_until(SHORT, || output().is_some()).await;
    set_item_available("chocolate-shake", true).await;
    assert!(answered, "the call was answered; sent {:?}", sent_frames(&transport));
    let output = output().unwrap();
    assert!(output.contains("We're out of the Chocolate Shake today"), "{output}");
    assert!(by_testid(&el, "cart-item").is_none(), "nothing was added");
}

/// A menu the hub could not give: the kiosk says so and *Retry* loads it; the kitchen's 86 panel
/// likewise (it used to show "Loading the menu…" for good). Each page asks the hub once more.
#[wasm_bindgen_test]
async fn a_menu_that_cannot_be_loaded_is_said_and_retry_loads_it_on_the_kiosk_and_the_86_panel() {
    let stub = FetchStub::install();
    let unavailable = r#"{"error":{"code":"unavailable","message":"the hub is starting"}}"#;
    stub.respond("GET", "/api/v1/menu", 503, &[("content-type", "application/json")], unavailable);
    let kiosk = mount(|| view! { <Configured config=hub_config() page=KioskPage/> });
    let el = kiosk.el();
    assert!(wait_until(SHORT, || by_testid(&el, "menu-error").is_some()).await, "the kiosk says the menu failed");
    assert!(text_of(&el, "menu-error").contains("HTTP 503"), "{}", text_of(&el, "menu-error"));
    assert!(by_testid(&el, "menu-item").is_none());
    click(&el, "menu-retry");
    assert!(wait_until(SHORT, || by_testid(&el, "menu-item").is_some()).await, "Retry loads the menu");
    assert!(by_testid(&el, "menu-error").is_none());
    assert_eq!(stub.calls("GET", "/api/v1/menu").len(), 2, "one request, and one on Retry");
    drop(kiosk);

    clear_storage();
    let kds = mount_page("expo");
    let kel = kds.el();
    sign_in_via_form(&kel).await;
    stub.respond("GET", "/api/v1/menu", 503, &[("content-type", "application/json")], unavailable);
    click(&kel, "open-sold-out");
    assert!(
        wait_until(SHORT, || by_testid(&kel, "sold-out-load-error").is_some()).await,
        "the 86 panel says the menu failed"
    );
    assert!(text_of(&kel, "sold-out-load-error").contains("HTTP 503"));
    assert!(by_testid(&kel, "sold-out-loading").is_none(), "not loading for good");
    click(&kel, "sold-out-retry");
    assert!(wait_until(SHORT, || by_testid(&kel, "sold-out-item").is_some()).await, "Retry lists the menu");
    assert!(by_testid(&kel, "sold-out-load-error").is_none());
}
