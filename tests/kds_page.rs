//! The kitchen display page driven by `data-testid` against the real hub: sign-in, tickets
//! arriving, the cook's actions, recall, station filter, all-day counts and text safety.
#![cfg(target_arch = "wasm32")]

mod support;

use support::kds::*;
use support::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn wrong_pin_shows_an_error_and_opens_no_socket() {
    clear_storage();
    let connects = connect_count();
    let mut page = mount_page("grill");
    let el = page.el();
    assert_eq!(banner_state(&el), "signed_out");
    let banner = by_testid(&el, "connection-status").unwrap();
    assert_eq!(attr(&banner, "role"), "status");
    assert_eq!(attr(&banner, "aria-live"), "polite");
    type_into(&el, "pin-input", "0000");
    click(&el, "login-submit");
    assert!(wait_until(SHORT, || by_testid(&el, "login-error").is_some()).await, "error shown");
    assert_eq!(text_of(&el, "login-error"), "Wrong PIN");
    assert_eq!(banner_state(&el), "signed_out");
    assert_eq!(connect_count(), connects, "no socket for a wrong PIN");
    page.unmount();
}

/// A PIN sent from its field (Enter: the field keeps the focus as the form is replaced by the
/// board) leaves no caret in the page and no focus on the removed field. A caret left behind
/// costs every frame after a clock's tick a second layout pass (`web::selection`).
#[wasm_bindgen_test]
async fn signing_in_from_the_focused_pin_field_leaves_no_caret() {
    clear_storage();
    let page = mount_page("kitchen");
    let el = page.el();
    type_into(&el, "pin-input", PIN);
    let field: web_sys::HtmlElement = by_testid(&el, "pin-input").unwrap().unchecked_into();
    field.focus().unwrap();
    // A scripted click submits the form and, unlike a tap, leaves the focus in the field.
    click(&el, "login-submit");
    assert!(wait_banner(&el, "live", LONG).await, "live after sign-in (banner {})", banner_state(&el));
    assert!(by_testid(&el, "pin-input").is_none(), "the sign-in form is gone");
    let window = web_sys::window().unwrap();
    let selection = window.get_selection().unwrap().expect("the document's selection");
    assert_eq!(selection.range_count(), 0, "no caret left where the form stood ({})", selection.type_());
    let focused = window.document().unwrap().active_element();
    assert!(focused.is_none_or(|f| f.is_connected() && f.tag_name() == "BODY"), "the focus is on the page's body");
}

#[wasm_bindgen_test]
async fn a_new_order_appears_and_moves_through_start_bump_complete_and_recall() {
    clear_storage();
    let page = mount_page("kitchen");
    let el = page.el();
    sign_in_via_form(&el).await;
    let order = post_simple_order().await;
    assert!(wait_ticket(&el, &order.id, "new", SHORT).await, "the new order appears as a ticket");
    assert!(
        wait_until(SHORT, || ticket(&el, &order.id).is_some_and(|t| t.class_list().contains("ticket-new"))).await,
        "a new ticket flashes"
    );
    let card = ticket(&el, &order.id).unwrap();
    assert_eq!(text_of(&card, "ticket-number"), format!("#{}", order.number));
    assert_eq!(text_of(&card, "ticket-source"), "kiosk");
    assert_eq!(attr(&card, "data-age-level"), "ok");
    let elapsed = text_of(&card, "ticket-elapsed");
    assert!(elapsed.len() == 5 && elapsed.starts_with("00:"), "elapsed mm:ss, got {elapsed:?}");
    assert!(
        wait_until(SHORT, || text_of(&card, "ticket-elapsed") != elapsed).await,
        "the elapsed time moves on with the page's clock"
    );
    let items = all_by_testid(&card, "ticket-item");
    assert_eq!(items.len(), 2);
    let burger = items[0].text_content().unwrap();
    assert!(burger.contains("2×") && burger.contains("Cheeseburger"), "{burger}");
    assert!(burger.contains("well done"), "{burger}");
    let modifiers: Vec<String> =
        all_by_testid(&items[0], "item-modifier").iter().filter_map(|m| m.text_content()).collect();
    assert_eq!(modifiers, ["NO onions", "ADD bacon"], "options as a cook reads them, without prices");
    assert!(!burger.contains('$'), "no prices on a ticket: {burger}");
    assert_eq!(attr(&items[0], "data-allergy"), "true", "the customer's allergy marks the line");
    assert!(items[0].class_list().contains("allergy"));
    assert_eq!(text_of(&items[0], "allergy-badge"), "ALLERGY: Tree nuts");
    assert_eq!(text_of(&card, "ticket-allergy"), "ALLERGY: TREE NUTS", "the ticket carries a banner naming it");
    assert_eq!(attr(&items[1], "data-allergy"), "false");
    let all_day = text_of(&el, "all-day");
    assert!(all_day.contains("Cheeseburger"), "all-day panel lists it: {all_day}");

    click_in(&card, "ticket-start");
    leptos::task::tick().await;
    let same_card = |card: &web_sys::Element| ticket(&el, &order.id).is_some_and(|now| now.is_same_node(Some(card)));
    assert!(same_card(&card), "the card is updated in place, not replaced");
    assert_eq!(attr(&card, "data-status"), "preparing", "shown at once");
    assert!(by_testid(&card, "ticket-start").is_none(), "no Start once started");
    assert!(wait_ticket(&el, &order.id, "preparing", SHORT).await, "confirmed by the hub");
    assert!(same_card(&card));
    assert!(by_testid(&card, "ticket-bump").is_some(), "a started ticket can be bumped");

    // Rush puts a card first on screen by moving its element alone (`moveBefore`), without
    // rebuilding it: a keyboard user's focus stays on its Rush button.
    let _style = page_stylesheet();
    assert!(
        wait_until(SHORT, || ticket(&el, &order.id).is_some_and(|t| !t.class_list().contains("ticket-new"))).await,
        "the flash ends"
    );
    let newer = post_simple_order().await;
    assert!(wait_ticket(&el, &newer.id, "new", SHORT).await);
    // Whether the grid shows `a` before `b` (reading order: rows, then columns). Other tests'
    // orders may be on the board too: only these two are compared.
    let shown_before = |a: &str, b: &str| {
        let place = |id: &str| {
            let t = ticket(&el, id).unwrap();
            let t: &web_sys::HtmlElement = t.unchecked_ref();
            (t.offset_top(), t.offset_left())
        };
        place(a) < place(b)
    };
    assert!(shown_before(&order.id, &newer.id), "the older ticket first");
    let newer_card = ticket(&el, &newer.id).unwrap();
    let rush: web_sys::HtmlElement = by_testid(&newer_card, "ticket-rush").unwrap().unchecked_into();
    rush.focus().unwrap();
    rush.click();
    assert!(
        wait_until(SHORT, || ticket(&el, &newer.id)
            .is_some_and(|t| attr(&t, "data-rush") == "true" && attr(&t, "data-pending") == "false"))
        .await
    );
    assert!(ticket(&el, &newer.id).is_some_and(|t| t.is_same_node(Some(&newer_card))), "updated in place");
    assert!(newer_card.class_list().contains("rush"));
    assert_eq!(text_of(&newer_card, "ticket-rush"), "Unrush");
    let active = web_sys::window().unwrap().document().unwrap().active_element();
    assert!(
        active.is_some_and(|a| newer_card.contains(Some(&a)) && attr(&a, "data-testid") == "ticket-rush"),
        "the Rush button keeps the focus"
    );
    assert!(shown_before(&newer.id, &order.id), "a rushed ticket is shown first");
    click_in(&card, "ticket-rush");
    assert!(wait_until(SHORT, || attr(&card, "data-rush") == "true").await);
    assert!(shown_before(&order.id, &newer.id), "rushed tickets keep their age order among themselves");
    click_in(&card, "ticket-rush");
    assert!(wait_until(SHORT, || attr(&card, "data-rush") == "false" && attr(&card, "data-pending") == "false").await);
    assert!(shown_before(&newer.id, &order.id), "unrushed, it goes back behind the rushed one");
    assert!(same_card(&card), "still the same card after rush changes");

    click_in(&ticket(&el, &order.id).unwrap(), "ticket-bump");
    assert!(wait_ticket(&el, &order.id, "ready", SHORT).await, "bump makes it ready");
    let complete = by_testid(&ticket(&el, &order.id).unwrap(), "ticket-bump").unwrap();
    assert_eq!(complete.text_content().unwrap(), "Complete", "the whole kitchen completes a ready order");

    select(&el, "station-filter", "expo");
    assert!(wait_until(SHORT, || ticket(&el, &order.id).is_some_and(|t| by_testid(&t, "ticket-bump").is_some())).await);
    click_in(&ticket(&el, &order.id).unwrap(), "ticket-bump");
    assert!(wait_until(SHORT, || ticket(&el, &order.id).is_none()).await, "completed at expo leaves the board");
    // It leaves at once (optimistically); the hub's ack follows.
    assert!(wait_until(SHORT, || ws_status()["pendingCommands"] == 0).await, "the completion is acknowledged");

    click(&el, "recall");
    let recall =
        wait_until(SHORT, || all_by_testid(&el, "recall-order").iter().any(|b| attr(b, "data-order-id") == order.id))
            .await;
    assert!(recall, "the bumped order can be recalled");
    let button = all_by_testid(&el, "recall-order").into_iter().find(|b| attr(b, "data-order-id") == order.id).unwrap();
    button.unchecked_into::<web_sys::HtmlElement>().click();
    assert!(wait_ticket(&el, &order.id, "ready", SHORT).await, "recall at expo brings it back as it was: ready");
    assert!(!ticket(&el, &order.id).unwrap().class_list().contains("ticket-new"), "a recalled ticket is not new");
}

#[wasm_bindgen_test]
async fn station_filter_shows_only_that_stations_items() {
    let (_page, el, order) = live_page_with_order("kitchen").await;
    select(&el, "station-filter", "fryer");
    assert!(
        wait_until(SHORT, || ticket(&el, &order.id).is_some_and(|t| all_by_testid(&t, "ticket-item").len() == 1)).await
    );
    let card = ticket(&el, &order.id).unwrap();
    assert!(text_of(&card, "ticket-item").contains("Fries"), "fryer sees the fries only");
}

#[wasm_bindgen_test]
async fn order_text_is_rendered_as_text_never_as_markup() {
    clear_storage();
    let page = mount_page("kitchen");
    let el = page.el();
    sign_in_via_form(&el).await;
    let evil = "<img src=x onerror=\"window.__xss=1\">";
    let order = post_order(serde_json::json!({
        "items": [{"menu_item_id": "cheeseburger", "quantity": 1, "special_instructions": evil}],
        "source": "voice",
        "customer_name": "<b>Bob</b>",
        "notes": evil
    }))
    .await;
    assert!(wait_ticket(&el, &order.id, "new", SHORT).await);
    let card = ticket(&el, &order.id).unwrap();
    assert!(card.query_selector("img").unwrap().is_none(), "no element was created from the text");
    assert!(card.query_selector("b").unwrap().is_none());
    assert_eq!(text_of(&card, "ticket-notes"), evil);
    assert_eq!(text_of(&card, "item-instructions"), evil);
    assert!(card.text_content().unwrap().contains("<b>Bob</b>"));
    support::sleep(100).await;
    let xss = js_sys::Reflect::get(&web_sys::window().unwrap(), &"__xss".into()).unwrap();
    assert!(xss.is_undefined(), "no script ran");
}

/// The grid's reordering (`web::arrange`): only the ticket cards take part, a void shown with the
/// same order id stays where it is, a rushed card is the one element moved, and a button inside
/// it keeps the focus; the same from an order known beforehand, which is refused when it is not
/// the document's.
#[wasm_bindgen_test]
fn a_rushed_card_is_the_only_element_moved_and_keeps_its_focus() {
    use restaurant_web::web::arrange::{arrange, arrange_known};
    let document = web_sys::window().unwrap().document().unwrap();
    let grid = document.create_element("section").unwrap();
    document.body().unwrap().append_child(&grid).unwrap();
    let add = |testid: &str, id: &str| {
        let card = document.create_element("article").unwrap();
        card.set_attribute("data-testid", testid).unwrap();
        card.set_attribute("data-order-id", id).unwrap();
        grid.append_child(&card).unwrap();
        card
    };
    add("ticket-voided", "b");
    let (a, b, c) = (add("ticket", "a"), add("ticket", "b"), add("ticket", "c"));
    let rush: web_sys::HtmlElement = document.create_element("button").unwrap().unchecked_into();
    c.append_child(&rush).unwrap();
    rush.focus().unwrap();
    let order = || {
        let children = grid.children();
        (0..children.length())
            .filter_map(|i| children.item(i))
            .map(|e| format!("{} {}", attr(&e, "data-testid"), attr(&e, "data-order-id")))
            .collect::<Vec<_>>()
    };

    assert_eq!(arrange(&grid, "[data-testid=ticket]", "data-order-id", &["c", "a", "b"]), Some(1), "one move");
    assert_eq!(order(), ["ticket-voided b", "ticket c", "ticket a", "ticket b"]);
    assert!(document.active_element().is_some_and(|f| f.is_same_node(Some(&rush))), "the focus stays");
    assert_eq!(arrange(&grid, "[data-testid=ticket]", "data-order-id", &["c", "a", "b"]), Some(0), "in place already");
    // Unrushed: back behind the older one; a key with no card is skipped.
    assert_eq!(arrange(&grid, "[data-testid=ticket]", "data-order-id", &["a", "x", "b", "c"]), Some(1));
    assert_eq!(order(), ["ticket-voided b", "ticket a", "ticket b", "ticket c"]);
    assert!(a.is_connected() && b.is_connected() && c.is_connected());

    // The same moves from an order the caller knows (what the last arrangement left), the cards
    // being the last children: the void before them with the same id is not taken for a card.
    let quoted = add("ticket", "q\"d");
    let current = ["a", "b", "c", "q\"d"];
    assert_eq!(arrange_known(&grid, "data-order-id", &current, &["q\"d", "b", "a", "c"]), Some(2));
    assert_eq!(order(), ["ticket-voided b", "ticket q\"d", "ticket b", "ticket a", "ticket c"]);
    assert!(document.active_element().is_some_and(|f| f.is_same_node(Some(&rush))), "the focus stays");
    let current = ["q\"d", "b", "a", "c"];
    assert_eq!(arrange_known(&grid, "data-order-id", &current, &["q\"d", "b", "a", "c"]), Some(0));
    // An order that is not the document's: a card it names is missing, so nothing moves.
    let wrong = ["q\"d", "b", "gone", "a", "c"];
    assert_eq!(arrange_known(&grid, "data-order-id", &wrong, &["a", "gone", "b", "c", "q\"d"]), None);
    assert_eq!(order(), ["ticket-voided b", "ticket q\"d", "ticket b", "ticket a", "ticket c"]);
    assert!(quoted.is_connected());
    grid.remove();
}

/// The front of the grid is drawn always: the first 24 tickets carry `first-screen`, which the
/// stylesheet makes `content-visibility: visible`, and the rest are left to `auto`. A rush moves
/// the mark with the ticket: the rushed one gains it, the one pushed out of the front loses it.
#[wasm_bindgen_test]
async fn the_first_screen_of_tickets_is_drawn_always_and_the_mark_follows_a_rush() {
    const FIRST_SCREEN: usize = 24;
    clear_storage();
    let _style = page_stylesheet();
    let page = mount_page("kitchen");
    let el = page.el();
    sign_in_via_form(&el).await;
    let mut last = None;
    for _ in 0..FIRST_SCREEN + 2 {
        last = Some(post_simple_order().await);
    }
    let last = last.unwrap();
    assert!(wait_ticket(&el, &last.id, "new", SHORT).await);
    let cards = || {
        let grid = by_testid(&el, "orders-grid").unwrap();
        let list = grid.query_selector_all(":scope > [data-testid=ticket]").unwrap();
        (0..list.length())
            .filter_map(|i| list.item(i))
            .map(|n| n.unchecked_into::<web_sys::Element>())
            .collect::<Vec<_>>()
    };
    let visibility = |card: &web_sys::Element| {
        let style = web_sys::window().unwrap().get_computed_style(card).unwrap().unwrap();
        style.get_property_value("content-visibility").unwrap()
    };
    // Every card of the front, and only those, marked and drawn always.
    let front_is_marked = || {
        let cards = cards();
        cards.len() > FIRST_SCREEN
            && cards.iter().enumerate().all(|(at, card)| {
                let first = at < FIRST_SCREEN;
                card.class_list().contains("first-screen") == first
                    && visibility(card) == if first { "visible" } else { "auto" }
            })
    };
    assert!(wait_until(SHORT, front_is_marked).await, "the first {FIRST_SCREEN} tickets are marked");
    let last_card = ticket(&el, &last.id).unwrap();
    assert!(!last_card.class_list().contains("first-screen"), "the newest is behind the front");
    let pushed_out = cards()[FIRST_SCREEN - 1].clone();

    click_in(&last_card, "ticket-rush");
    let in_front = || cards().iter().take(FIRST_SCREEN).any(|c| c.is_same_node(Some(&last_card)));
    assert!(wait_until(SHORT, in_front).await, "rushed to the front");
    assert!(wait_until(SHORT, front_is_marked).await, "the mark follows the order");
    assert!(last_card.class_list().contains("first-screen"));
    assert!(!pushed_out.class_list().contains("first-screen"), "the ticket pushed out of the front lost it");
    click_in(&last_card, "ticket-rush");
    assert!(
        wait_until(SHORT, || attr(&last_card, "data-rush") == "false" && attr(&last_card, "data-pending") == "false")
            .await
    );
    assert!(wait_until(SHORT, front_is_marked).await, "unrushed, back behind the front");
    assert!(!last_card.class_list().contains("first-screen"));
    assert!(pushed_out.class_list().contains("first-screen"), "and the one it had pushed out is back in it");
}
