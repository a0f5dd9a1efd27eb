//! The menu through a real hub: priced orders (options, defaults, tax), every line rule, quotes,
//! what is sold out (who may change it, the feed and the kiosk connection, restarts, races) and
//! the voice session made from the live menu.

mod common;
mod voice_client;

use common::{WAIT, Ws, connect, joined, recv, send, station_token};

use std::path::Path;

use restaurant_hub::{Mode, QUOTES_PER_MINUTE, RunningHub, Secret, Settings};
use restaurant_protocol::{
    Allergen, ApiError, Menu, MenuAvailability, ModifierKind, Order, OrderEnvelope, Quote, ServerMessage, SoldOut,
    TaxRule, Totals,
};
use serde_json::{Value, json};

fn settings(adjust: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings { memory: true, dist: "/nonexistent-dist".into(), ..Settings::demo() };
    s.limits.order_rate = u32::MAX;
    adjust(&mut s);
    s
}

async fn start(adjust: impl FnOnce(&mut Settings)) -> RunningHub {
    RunningHub::start(settings(adjust)).await.expect("hub starts")
}

/// `(status, body)` of a POST with a JSON body and optional bearer token and idempotency key.
async fn post(hub: &RunningHub, path: &str, token: Option<&str>, key: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(hub.http(path)).json(body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(k) = key {
        request = request.header("Idempotency-Key", k);
    }
    let response = request.send().await.expect("the hub answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn line(item: &str, quantity: u32, options: &[&str]) -> Value {
    json!({"menu_item_id": item, "quantity": quantity, "options": options})
}

fn order(lines: Vec<Value>) -> Value {
    json!({"items": lines, "source": "kiosk"})
}

async fn place(hub: &RunningHub, key: &str, body: &Value) -> (u16, Value) {
    post(hub, "/api/v1/orders", None, Some(key), body).await
}

async fn placed(hub: &RunningHub, key: &str, body: &Value) -> Order {
    let (status, answer) = place(hub, key, body).await;
    assert_eq!(status, 201, "{answer}");
    serde_json::from_value::<OrderEnvelope>(answer).unwrap().order
}

async fn quote(hub: &RunningHub, body: &Value) -> (u16, Value) {
    post(hub, "/api/v1/orders/quote", None, None, body).await
}

fn error(body: &Value) -> ApiError {
    serde_json::from_value(body.clone()).unwrap_or_else(|_| panic!("an error body: {body}"))
}

async fn change(hub: &RunningHub, token: Option<&str>, target: &str, id: &str, available: bool) -> (u16, Value) {
    let body = json!({"target": target, "id": id, "available": available});
    post(hub, "/api/v1/menu/availability", token, None, &body).await
}

async fn sell_out(hub: &RunningHub, token: &str, target: &str, id: &str) -> MenuAvailability {
    let (status, body) = change(hub, Some(token), target, id, false).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

async fn menu(hub: &RunningHub) -> Menu {
    reqwest::get(hub.http("/api/v1/menu")).await.unwrap().json().await.unwrap()
}

async fn seq(hub: &RunningHub) -> u64 {
    let token = station_token(hub, "expo").await;
    let response =
        reqwest::Client::new().get(hub.http("/api/v1/orders")).bearer_auth(token).send().await.expect("snapshot");
    response.json::<Value>().await.unwrap()["seq"].as_u64().unwrap()
}

fn sold(items: &[&str], options: &[&str]) -> SoldOut {
    SoldOut {
        items: items.iter().map(|s| s.to_string()).collect(),
        options: options.iter().map(|s| s.to_string()).collect(),
    }
}

/// A kiosk's call connection: `welcome`, then the menu's `menu.updated`.
async fn join_kiosk(hub: &RunningHub) -> (Ws, ServerMessage) {
    let mut ws = connect(hub).await;
    send(&mut ws, json!({"type": "hello", "token": "", "station": "kiosk", "since": null})).await;
    assert_eq!(recv(&mut ws).await, ServerMessage::Welcome { seq: 0 });
    let menu = recv(&mut ws).await;
    (ws, menu)
}

/// Proves nothing else was sent to `ws`: a ping's pong is the very next frame.
async fn nothing_pending(ws: &mut Ws) {
    send(ws, json!({"type": "ping", "ts": 77})).await;
    assert_eq!(recv(ws).await, ServerMessage::Pong { ts: 77 });
}

fn option_ids(order: &Order, line: usize) -> Vec<&str> {
    order.items[line].options.iter().map(|o| o.option_id.as_str()).collect()
}

#[tokio::test]
async fn an_order_is_priced_with_its_options_defaults_and_exclusive_tax() {
    let hub = start(|s| s.tax = TaxRule { rate_millipercent: 8875, inclusive: false }).await;
    let served = menu(&hub).await;
    assert_eq!(served.tax, TaxRule { rate_millipercent: 8875, inclusive: false }, "the menu names the tax");
    let body = order(vec![
        line("classic-burger", 2, &["large", "bacon", "onions"]),
        line("cola", 1, &["drink-small"]),
        line("chicken-tenders", 1, &[]),
        line("cheeseburger", 1, &[]),
    ]);
    let placed = placed(&hub, "k1", &body).await;
    let burger = &placed.items[0];
    assert_eq!(option_ids(&placed, 0), ["large", "onions", "bacon"], "menu order");
    let kinds: Vec<ModifierKind> = burger.options.iter().map(|o| o.kind).collect();
    assert_eq!(kinds, [ModifierKind::Choice, ModifierKind::Remove, ModifierKind::Add]);
    assert_eq!((burger.unit_price_cents, burger.line_total_cents), (799 + 200 + 150, 2 * 1149));
    assert_eq!(burger.allergens, [Allergen::Gluten, Allergen::Sesame]);
    assert_eq!(placed.items[1].unit_price_cents, 249 - 50, "a negative option lowers the price");
    assert_eq!(option_ids(&placed, 2), ["tenders-4"], "the default of an untouched group");
    assert_eq!(placed.items[2].unit_price_cents, 749);
    assert!(placed.items[3].options.is_empty(), "no group of the cheeseburger is required");
    // 2298 + 199 + 749 + 899 = 4145; 8.875 % of it is 367.87 → 368.
    let tax = TaxRule { rate_millipercent: 8875, inclusive: false };
    assert_eq!(placed.totals, Totals { subtotal_cents: 4145, tax_cents: 368, total_cents: 4513, tax });
    assert_eq!(placed.totals, tax.totals(4145), "the protocol's rounding");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn inclusive_tax_is_taken_out_of_the_prices() {
    let hub = start(|s| s.tax = TaxRule { rate_millipercent: 20_000, inclusive: true }).await;
    let placed =
        placed(&hub, "k1", &order(vec![line("cheeseburger", 2, &["cheese"]), line("apple-pie", 1, &[])])).await;
    // 2 × 974 + 349 = 2297 includes 20 %: net 1914.17 → 1914, tax 383.
    assert_eq!((placed.totals.subtotal_cents, placed.totals.tax_cents, placed.totals.total_cents), (2297, 383, 2297));
    assert!(placed.totals.tax.inclusive);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn allergies_are_kept_per_line_sorted_and_once() {
    let hub = start(|_| {}).await;
    let mut first = line("cheeseburger", 1, &[]);
    first["allergies"] = json!(["sesame", "nuts", "sesame"]);
    let placed = placed(&hub, "k1", &order(vec![first, line("cola", 1, &[])])).await;
    assert_eq!(placed.items[0].allergies, [Allergen::Nuts, Allergen::Sesame]);
    assert!(placed.items[1].allergies.is_empty());
    let (status, body) = place(
        &hub,
        "k2",
        &json!({"items": [{"menu_item_id": "cola", "quantity": 1,
        "allergies": ["kiwi"]}], "source": "kiosk"}),
    )
    .await;
    assert_eq!(status, 400, "an allergen the protocol does not name: {body}");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn every_line_rule_is_a_400_naming_the_line_and_nothing_is_stored() {
    let hub = start(|_| {}).await;
    let fries = line("fries-small", 1, &[]);
    let too_many: Vec<String> = (0..21).map(|i| format!("option-{i}")).collect();
    let too_many: Vec<&str> = too_many.iter().map(String::as_str).collect();
    let mut all_allergies: Vec<Value> = restaurant_protocol::Allergen::ALL.iter().map(|a| json!(a.as_str())).collect();
    all_allergies.push(json!("nuts"));
    let mut allergic = line("cola", 1, &[]);
    allergic["allergies"] = json!(all_allergies);
    let mut legacy = line("cola", 1, &[]);
    legacy["modifiers"] = json!(["no ice"]);
    for (second, message) in [
        (allergic, "items[1]: at most 14 allergies per line (one of each), got 15"),
        (legacy, "items[1]: free-text modifiers are not taken: choose the item's options (reload the kiosk page)"),
        (line("classic-burger", 1, &[]), "items[1]: Classic Burger: Size needs a choice: Small, Medium or Large"),
        (line("classic-burger", 1, &["small", "large"]), "items[1]: Classic Burger: Size takes at most 1"),
        (line("cheeseburger", 1, &["ketchup"]), "items[1]: Cheeseburger has no option \"ketchup\""),
        (line("cheeseburger", 1, &["large"]), "items[1]: Cheeseburger has no option \"large\""),
        (line("cheeseburger", 1, &["bacon", "bacon"]), "items[1]: Cheeseburger: bacon is chosen twice"),
        (line("cheeseburger", 1, &too_many), "items[1]: at most 20 options per line, got 21"),
        (line("unicorn", 1, &[]), "items[1]: unknown menu item \"unicorn\""),
        (line("cheeseburger", 0, &[]), "items[1]: quantity must be 1–99, got 0"),
        (line("cheeseburger", 100, &[]), "items[1]: quantity must be 1–99, got 100"),
    ] {
        let body = order(vec![fries.clone(), second]);
        for (status, answer) in [place(&hub, "k", &body).await, quote(&hub, &body).await] {
            assert_eq!(status, 400, "{answer}");
            assert_eq!(error(&answer).error.code, "bad_request");
            assert_eq!(error(&answer).error.message, message);
        }
    }
    assert_eq!(seq(&hub).await, 0, "nothing was stored");
    // 20 distinct ids is the most a line carries: then the menu's own rules speak.
    let twenty: Vec<String> = (0..20).map(|i| format!("option-{i}")).collect();
    let twenty: Vec<&str> = twenty.iter().map(String::as_str).collect();
    let (status, answer) = place(&hub, "k", &order(vec![line("cheeseburger", 1, &twenty)])).await;
    assert_eq!(
        (status, error(&answer).error.message.as_str()),
        (400, "items[0]: Cheeseburger has no option \"option-0\"")
    );
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_quote_is_what_the_order_then_costs_and_has_no_side_effects() {
    let hub = start(|s| {
        s.tax = TaxRule { rate_millipercent: 8875, inclusive: false };
        s.limits.order_rate = 2;
    })
    .await;
    let (mut staff, _) = joined(&hub, "kitchen", None).await;
    let body = order(vec![line("classic-burger", 3, &["medium", "avocado"]), line("lemonade", 2, &["drink-large"])]);
    // Many quotes: not orders, no events, not counted in the order rate.
    let mut first = None;
    for _ in 0..10 {
        let (status, answer) = quote(&hub, &body).await;
        assert_eq!(status, 200, "{answer}");
        let quoted: Quote = serde_json::from_value(answer).unwrap();
        assert_eq!(first.get_or_insert_with(|| quoted.clone()), &quoted);
    }
    assert_eq!(seq(&hub).await, 0);
    nothing_pending(&mut staff).await;
    let quoted = first.unwrap();
    let placed = placed(&hub, "k1", &body).await;
    assert_eq!(quoted.totals, placed.totals);
    assert_eq!(quoted.lines.len(), placed.items.len());
    for (q, o) in quoted.lines.iter().zip(&placed.items) {
        assert_eq!((&q.menu_item_id, &q.name, q.quantity), (&o.menu_item_id, &o.name, o.quantity));
        assert_eq!(
            (&q.options, q.unit_price_cents, q.line_total_cents),
            (&o.options, o.unit_price_cents, o.line_total_cents)
        );
    }
    // (799 + 100 + 125) × 3 + (299 + 50) × 2 = 3770.
    assert_eq!(quoted.totals.subtotal_cents, 3770);
    let (status, answer) = place(&hub, "k2", &order(vec![line("cola", 1, &[])])).await;
    assert_eq!(status, 201, "the quotes did not use up the order rate of 2: {answer}");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn quotes_have_their_own_limit_per_client() {
    let hub = start(|s| s.limits.order_rate = 1).await;
    let body = order(vec![line("cola", 1, &[])]);
    let started = std::time::Instant::now();
    let mut allowed = 0;
    let refused = loop {
        let response =
            reqwest::Client::new().post(hub.http("/api/v1/orders/quote")).json(&body).send().await.expect("answered");
        match response.status().as_u16() {
            200 => allowed += 1,
            429 => break response,
            other => panic!("unexpected {other}"),
        }
        assert!(allowed <= 4 * QUOTES_PER_MINUTE, "never limited");
    };
    // A burst of 120, plus the one earned back every half second the burst took.
    let earned = (started.elapsed().as_secs_f64() * f64::from(QUOTES_PER_MINUTE) / 60.0).ceil() as u32;
    assert!((QUOTES_PER_MINUTE..=QUOTES_PER_MINUTE + earned + 1).contains(&allowed), "{allowed} allowed");
    assert!(refused.headers().contains_key("retry-after"));
    let refused: ApiError = refused.json().await.unwrap();
    assert_eq!(refused.error.code, "too_many_requests");
    assert!(refused.error.message.contains("over its limit of 120 quotes a minute"), "{}", refused.error.message);
    let (status, answer) = place(&hub, "k", &body).await;
    assert_eq!(status, 201, "orders are limited apart: {answer}");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_quote_needs_a_paired_device_like_an_order() {
    let hub = start(|s| {
        s.mode = Mode::Production;
        s.pin = Some(Secret("1234".into()));
    })
    .await;
    let body = order(vec![line("cola", 1, &[])]);
    let (status, answer) = quote(&hub, &body).await;
    assert_eq!((status, error(&answer).error.code.as_str()), (401, "device_unpaired"));
    let (status, paired) =
        post(&hub, "/api/v1/devices/pair", None, None, &json!({"pin": "1234", "name": "Kiosk 1"})).await;
    assert_eq!(status, 201, "{paired}");
    let device = paired["token"].as_str().unwrap();
    let (status, answer) = post(&hub, "/api/v1/orders/quote", Some(device), None, &body).await;
    assert_eq!(status, 200, "{answer}");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn kitchen_expo_and_the_manager_may_change_availability_and_others_may_not() {
    let hub = start(|_| {}).await;
    let (status, body) = change(&hub, None, "item", "cola", false).await;
    assert_eq!((status, error(&body).error.code.as_str()), (401, "unauthorized"));
    let (status, body) = change(&hub, Some("0123456789abcdef0123456789abcdef"), "item", "cola", false).await;
    assert_eq!(status, 401, "{body}");
    let grill = station_token(&hub, "grill").await;
    let (status, body) = change(&hub, Some(&grill), "item", "cola", false).await;
    assert_eq!((status, error(&body).error.code.as_str()), (403, "forbidden"));
    assert!(error(&body).error.message.contains("signed in as grill"), "{body}");
    assert_eq!(seq(&hub).await, 0, "refused: nothing changed");

    let mut expected = Vec::new();
    for (station, id) in [("kitchen", "cola"), ("expo", "lemonade"), ("manager", "iced-tea")] {
        let token = station_token(&hub, station).await;
        let answer = sell_out(&hub, &token, "item", id).await;
        expected.push(id);
        expected.sort();
        assert_eq!(answer.sold_out, sold(&expected, &[]), "{station}");
    }
    assert_eq!(seq(&hub).await, 3);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn unknown_ids_are_404_a_no_op_is_200_without_an_event_and_bad_bodies_400() {
    let hub = start(|_| {}).await;
    let expo = station_token(&hub, "expo").await;
    for (target, id) in [("item", "pizza"), ("option", "pizza"), ("option", "cola"), ("item", "bacon")] {
        let (status, body) = change(&hub, Some(&expo), target, id, false).await;
        assert_eq!((status, error(&body).error.code.as_str()), (404, "not_found"), "{target} {id}");
        assert!(error(&body).error.message.contains(id), "{body}");
    }
    let first = sell_out(&hub, &expo, "option", "bacon").await;
    assert_eq!((first.seq, first.sold_out), (1, sold(&[], &["bacon"])));
    let again = sell_out(&hub, &expo, "option", "bacon").await;
    assert_eq!((again.seq, again.sold_out), (1, sold(&[], &["bacon"])), "a no-op answers the current state");
    let (status, body) = change(&hub, Some(&expo), "item", "cola", true).await;
    assert_eq!((status, body["seq"].as_u64()), (200, Some(1)), "already available");
    assert_eq!(seq(&hub).await, 1, "no event for a no-op");
    let (status, body) =
        post(&hub, "/api/v1/menu/availability", Some(&expo), None, &json!({"target": "table", "id": "x"})).await;
    assert_eq!((status, error(&body).error.code.as_str()), (400, "bad_request"));
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn an_item_off_in_the_menu_file_cannot_be_made_available() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("menu.json");
    let mut file: Value = serde_json::from_str(include_str!("../menu.json")).unwrap();
    for item in file["items"].as_array_mut().unwrap() {
        if item["id"] == "apple-pie" {
            item["available"] = json!(false);
        }
    }
    std::fs::write(&path, file.to_string()).unwrap();
    let hub = start(|s| s.menu = Some(path.clone())).await;
    let (_, first) = join_kiosk(&hub).await;
    assert_eq!(first, ServerMessage::MenuUpdated { seq: 0, sold_out: sold(&["apple-pie"], &[]) });
    let kitchen = station_token(&hub, "kitchen").await;
    let (status, body) = change(&hub, Some(&kitchen), "item", "apple-pie", true).await;
    assert_eq!((status, error(&body).error.code.as_str()), (409, "conflict"));
    assert!(error(&body).error.message.contains("marked unavailable in the menu file"), "{body}");
    // Selling out something else lists the file's too: every menu.updated tells the whole state.
    let answer = sell_out(&hub, &kitchen, "item", "cola").await;
    assert_eq!(answer.sold_out, sold(&["apple-pie", "cola"], &[]));
    let (status, body) = place(&hub, "k", &order(vec![line("apple-pie", 1, &[])])).await;
    assert_eq!((status, error(&body).error.code.as_str()), (400, "sold_out"));
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_sold_out_change_reaches_kiosks_and_staff_in_seq_order_between_orders() {
    let hub = start(|_| {}).await;
    let (mut kiosk, first) = join_kiosk(&hub).await;
    assert_eq!(first, ServerMessage::MenuUpdated { seq: 0, sold_out: SoldOut::default() });
    let (mut staff, _) = joined(&hub, "grill", None).await;
    let before = placed(&hub, "a", &order(vec![line("cola", 1, &[])])).await;
    let expo = station_token(&hub, "expo").await;
    let answer = sell_out(&hub, &expo, "item", "cola").await;
    assert_eq!(answer.seq, 2);
    let after = placed(&hub, "b", &order(vec![line("cheeseburger", 1, &[])])).await;

    assert_eq!(recv(&mut staff).await, ServerMessage::OrderCreated { seq: 1, order: before.clone() });
    assert_eq!(recv(&mut staff).await, ServerMessage::MenuUpdated { seq: 2, sold_out: sold(&["cola"], &[]) });
    assert_eq!(recv(&mut staff).await, ServerMessage::OrderCreated { seq: 3, order: after.clone() });
    // The kiosk gets the menu change and no order event.
    assert_eq!(recv(&mut kiosk).await, ServerMessage::MenuUpdated { seq: 2, sold_out: sold(&["cola"], &[]) });
    nothing_pending(&mut kiosk).await;
    // A KDS reconnecting from before gets all three replayed in order.
    let (mut replay, _) = joined(&hub, "kitchen", Some(0)).await;
    for expected in [1, 2, 3] {
        assert_eq!(recv(&mut replay).await.event_seq(), Some(expected));
    }
    // A kiosk joining now gets the last menu event's seq; the live menu says the same.
    let (_, current) = join_kiosk(&hub).await;
    assert_eq!(current, ServerMessage::MenuUpdated { seq: 2, sold_out: sold(&["cola"], &[]) });
    let served = menu(&hub).await;
    assert!(!served.item("cola").unwrap().available && served.item("diet-cola").unwrap().available);
    // Back on: another event to both.
    let (status, body) = change(&hub, Some(&expo), "item", "cola", true).await;
    assert_eq!((status, body["seq"].as_u64()), (200, Some(4)));
    assert_eq!(recv(&mut kiosk).await, ServerMessage::MenuUpdated { seq: 4, sold_out: SoldOut::default() });
    assert_eq!(recv(&mut staff).await, ServerMessage::MenuUpdated { seq: 4, sold_out: SoldOut::default() });
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn an_order_with_sold_out_lines_is_refused_naming_each_and_nothing_is_stored() {
    let hub = start(|_| {}).await;
    let kitchen = station_token(&hub, "kitchen").await;
    sell_out(&hub, &kitchen, "item", "cola").await;
    let answer = sell_out(&hub, &kitchen, "option", "bacon").await;
    assert_eq!(answer.sold_out, sold(&["cola"], &["bacon"]));
    let seq_before = seq(&hub).await;
    let body =
        order(vec![line("cola", 1, &[]), line("fries-small", 1, &[]), line("double-cheeseburger", 1, &["bacon"])]);
    for (status, answer) in [place(&hub, "k", &body).await, quote(&hub, &body).await] {
        assert_eq!(status, 400, "{answer}");
        let refused = error(&answer).error;
        assert_eq!(refused.code, "sold_out");
        assert_eq!(refused.message, "items[0]: Cola is sold out; items[2]: bacon is sold out (on Double Cheeseburger)");
    }
    assert_eq!(seq(&hub).await, seq_before, "nothing stored, no event");
    let served = menu(&hub).await;
    let bacon = |id: &str| served.item(id).unwrap().option("bacon").unwrap().1.available;
    assert!(!bacon("cheeseburger") && !bacon("chicken-sandwich"), "an option id is off on every item");
    // The same key is still unused: the order without the sold-out lines is taken.
    let taken =
        placed(&hub, "k", &order(vec![line("fries-small", 1, &[]), line("double-cheeseburger", 1, &["cheese"])])).await;
    assert_eq!(taken.items.len(), 2);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_retried_order_gets_its_order_back_even_after_its_item_sold_out() {
    let hub = start(|_| {}).await;
    let body = order(vec![line("cola", 1, &[])]);
    let first = placed(&hub, "k", &body).await;
    let kitchen = station_token(&hub, "kitchen").await;
    sell_out(&hub, &kitchen, "item", "cola").await;
    let (status, again) = place(&hub, "k", &body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(serde_json::from_value::<OrderEnvelope>(again).unwrap().order, first);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn no_order_committed_after_a_menu_updated_has_what_it_made_unavailable() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let hub = start(|_| {}).await;
    let (mut staff, _) = joined(&hub, "kitchen", None).await;
    let expo = station_token(&hub, "expo").await;
    let stop = Arc::new(AtomicBool::new(false));
    // Four clients order without pause, two with a cola and two without.
    let streams: Vec<_> = (0..4)
        .map(|s| {
            let (url, stop) = (hub.http("/api/v1/orders"), stop.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let lines = if s % 2 == 0 {
                    vec![line("fries-small", 1, &[]), line("cola", 1, &[])]
                } else {
                    vec![line("fries-small", 1, &[])]
                };
                let mut answers = Vec::new();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let response = client
                        .post(&url)
                        .header("Idempotency-Key", format!("race-{s}-{i}"))
                        .json(&order(lines.clone()))
                        .send()
                        .await
                        .unwrap();
                    let status = response.status().as_u16();
                    answers.push((status, response.json::<Value>().await.unwrap()));
                    i += 1;
                }
                answers
            })
        })
        .collect();
    // A few orders in, cola sells out while the others keep ordering.
    let mut events = Vec::new();
    while events.len() < 8 {
        events.push(recv(&mut staff).await);
    }
    let menu_seq = sell_out(&hub, &expo, "item", "cola").await.seq;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut created, mut refused) = (0, 0);
    for stream in streams {
        for (status, body) in stream.await.unwrap() {
            match status {
                201 => created += 1,
                400 => {
                    assert_eq!(error(&body).error.code, "sold_out", "{body}");
                    refused += 1;
                }
                other => panic!("unexpected {other}: {body}"),
            }
        }
    }
    assert!(refused > 0, "no order was refused: the race did not happen");
    while events.len() < created + 1 {
        events.push(tokio::time::timeout(WAIT, recv(&mut staff)).await.expect("every event"));
    }
    let (mut seen_menu, mut after) = (false, 0);
    for event in events {
        match event {
            ServerMessage::MenuUpdated { seq, .. } => {
                assert_eq!(seq, menu_seq);
                seen_menu = true;
            }
            ServerMessage::OrderCreated { seq, order } => {
                assert_eq!(seen_menu, seq > menu_seq, "events arrive in seq order");
                if seq > menu_seq {
                    assert!(order.items.iter().all(|i| i.menu_item_id != "cola"), "a cola at seq {seq} > {menu_seq}");
                    after += 1;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(seen_menu && after > 0, "orders went on after the change");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn what_is_sold_out_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let on_disk = |d: &Path| {
        let d = d.to_path_buf();
        move |s: &mut Settings| {
            s.memory = false;
            s.data = d;
        }
    };
    let hub = start(on_disk(&data)).await;
    placed(&hub, "a", &order(vec![line("cola", 1, &[])])).await;
    let expo = station_token(&hub, "expo").await;
    sell_out(&hub, &expo, "item", "cola").await;
    let answer = sell_out(&hub, &expo, "option", "whipped-cream").await;
    assert_eq!((answer.seq, answer.sold_out.clone()), (3, sold(&["cola"], &["whipped-cream"])));
    placed(&hub, "b", &order(vec![line("fries-small", 1, &[])])).await;
    hub.stop().await.unwrap();

    let hub = start(on_disk(&data)).await;
    let served = menu(&hub).await;
    assert!(!served.item("cola").unwrap().available);
    assert!(!served.item("vanilla-shake").unwrap().option("whipped-cream").unwrap().1.available);
    let (_, current) = join_kiosk(&hub).await;
    assert_eq!(current, ServerMessage::MenuUpdated { seq: 3, sold_out: answer.sold_out });
    let (status, body) = place(&hub, "c", &order(vec![line("cola", 1, &[])])).await;
    assert_eq!((status, error(&body).error.code.as_str()), (400, "sold_out"));
    let expo = station_token(&hub, "expo").await;
    let (status, body) = change(&hub, Some(&expo), "item", "cola", true).await;
    assert_eq!((status, body["seq"].as_u64()), (200, Some(5)), "seq goes on after the order at 4");
    assert_eq!(body["sold_out"], json!({"items": [], "options": ["whipped-cream"]}));
    placed(&hub, "c", &order(vec![line("cola", 1, &[])])).await;
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_menu_file_changed_while_the_hub_was_down_is_announced_to_resuming_screens() {
    let dir = tempfile::tempdir().unwrap();
    let (data, menu_file) = (dir.path().join("data"), dir.path().join("menu.json"));
    let mut menu_json: Value = serde_json::from_str(include_str!("../menu.json")).unwrap();
    std::fs::write(&menu_file, menu_json.to_string()).unwrap();
    let on_disk = |d: &Path, m: &Path| {
        let (d, m) = (d.to_path_buf(), m.to_path_buf());
        move |s: &mut Settings| {
            s.memory = false;
            s.data = d;
            s.menu = Some(m);
        }
    };
    let hub = start(on_disk(&data, &menu_file)).await;
    placed(&hub, "a", &order(vec![line("cola", 1, &[])])).await;
    let expo = station_token(&hub, "expo").await;
    sell_out(&hub, &expo, "item", "cola").await;
    hub.stop().await.unwrap();

    // Restarted with the same menu: nothing to announce.
    let hub = start(on_disk(&data, &menu_file)).await;
    let (_, seq) = joined(&hub, "kitchen", Some(2)).await;
    assert_eq!(seq, 2, "no event at start when nothing changed");
    hub.stop().await.unwrap();

    // The manager takes the lemonade off in the file: a screen resuming at seq 2 hears it.
    let lemonade = menu_json["items"].as_array_mut().unwrap().iter_mut().find(|i| i["id"] == "lemonade").unwrap();
    lemonade["available"] = json!(false);
    std::fs::write(&menu_file, menu_json.to_string()).unwrap();
    let hub = start(on_disk(&data, &menu_file)).await;
    let (mut ws, seq) = joined(&hub, "kitchen", Some(2)).await;
    assert_eq!(seq, 3);
    assert_eq!(recv(&mut ws).await, ServerMessage::MenuUpdated { seq: 3, sold_out: sold(&["cola", "lemonade"], &[]) });
    hub.stop().await.unwrap();
    let hub = start(on_disk(&data, &menu_file)).await;
    assert_eq!(joined(&hub, "kitchen", Some(3)).await.1, 3, "announced once");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_voice_session_names_what_is_sold_out_when_it_starts() {
    let hub = start(|_| {}).await;
    let instructions = |created: Value| created["session"]["instructions"].as_str().unwrap().to_string();
    let before = instructions(voice_session(&hub).await);
    assert!(before.contains("- Cola (Drinks), $2.49;"), "{before}");
    assert!(before.contains("  Size (choose 1): Small -$0.50, Medium (default), Large +$0.50"), "{before}");
    let kitchen = station_token(&hub, "kitchen").await;
    sell_out(&hub, &kitchen, "item", "cola").await;
    sell_out(&hub, &kitchen, "option", "bacon").await;
    let after = instructions(voice_session(&hub).await);
    assert!(after.contains("- Cola (Drinks), $2.49 SOLD OUT today"), "{after}");
    assert!(after.contains("bacon +$1.50 (sold out)"), "{after}");
    hub.stop().await.unwrap();
}

/// `session.created` of a new voice call to the hub's own Realtime peer.
async fn voice_session(hub: &RunningHub) -> Value {
    let (status, minted) = post(hub, "/api/v1/realtime/session", None, None, &json!({})).await;
    assert_eq!(status, 200, "{minted}");
    let token = minted["value"].as_str().unwrap();
    let (mut client, offer, pending) = voice_client::Client::new().await;
    let response = reqwest::Client::new()
        .post(hub.http("/v1/realtime/calls"))
        .bearer_auth(token)
        .header("Content-Type", "application/sdp")
        .body(offer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    client.accept(pending, &response.text().await.unwrap());
    let created = client.next_event(voice_client::WAIT).await.expect("session.created");
    assert_eq!(created["type"], "session.created");
    created
}
