//! An automated accessibility audit (axe-core, injected into the served page) of the kiosk in each
//! step a customer sees (the menu, the item sheet, the review of a cart, the order number) and of
//! the kitchen display as cooks see it (sign-in, a station's board, expo, the key help); and at
//! each, that every button on screen is wide enough for its whole label.

use std::time::Duration;

use fantoccini::Client;
use restaurant_e2e::*;
use serde_json::{Value, json};

const SEC: Duration = Duration::from_secs(1);

/// Loads axe-core into the page (once per page load).
async fn inject_axe(c: &Client) {
    let path = env("E2E_AXE_JS");
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("axe-core at {path}: {e}"));
    // Indirect eval: the script runs in the page's global scope and defines `window.axe`.
    let loaded = c
        .execute("(0, eval)(arguments[0]); return typeof window.axe === 'object';", vec![json!(source)])
        .await
        .expect("axe-core loads");
    assert_eq!(loaded, json!(true), "axe-core defined window.axe");
}

/// Every violation axe finds on the page as it is now: `rule (impact): help — where`.
async fn violations(c: &Client, step: &str) -> Vec<String> {
    let script = r#"
        const done = arguments[arguments.length - 1];
        window.axe.run(document).then(
            (r) => done(r.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 4).map((n) => n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\s+/g, ' ')),
            }))),
            (e) => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]),
        );
    "#;
    let found = c.execute_async(script, vec![]).await.unwrap_or_else(|e| panic!("axe.run at {step}: {e}"));
    found
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|v: &Value| {
            format!(
                "{} ({}): {} — {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("?"),
                v["nodes"]
                    .as_array()
                    .map(|n| n.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | "))
                    .unwrap_or_default()
            )
        })
        .collect()
}

/// The buttons on screen whose label does not fit them (cut off or spilling out): `label (its
/// width of the width it needs)`.
async fn clipped_buttons(c: &Client) -> Vec<String> {
    let script = "return [...document.querySelectorAll('button')]
        .filter((b) => b.getClientRects().length > 0 && b.scrollWidth > b.clientWidth + 1)
        .map((b) => `${b.textContent.trim()} (${b.clientWidth} of ${b.scrollWidth} px)`)";
    let found = eval(c, script).await;
    found.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
}

async fn audit(c: &Client, step: &str) {
    let found = violations(c, step).await;
    println!("[a11y] {step}: {} violations", found.len());
    assert!(found.is_empty(), "accessibility violations at {step}:\n{}", found.join("\n"));
    let clipped = clipped_buttons(c).await;
    assert!(clipped.is_empty(), "buttons too narrow for their label at {step}: {}", clipped.join(", "));
}

#[tokio::test]
async fn the_kiosk_passes_an_accessibility_audit_at_every_step() {
    let c = browser().await;
    c.goto(&format!("{}/kiosk", hub())).await.expect("kiosk page");
    wait_find(&c, "attract-start", 20 * SEC).await;
    inject_axe(&c).await;
    audit(&c, "the attract screen").await;
    start_customer(&c).await;
    wait_find(&c, "menu-item", 20 * SEC).await;
    audit(&c, "the menu").await;

    tap_item(&c, "classic-burger").await;
    wait_find(&c, "item-sheet", 5 * SEC).await;
    audit(&c, "the item sheet").await;
    click(&c, "sheet-cancel").await;
    wait_for(5 * SEC, "the sheet to close", || async { find(&c, "item-sheet").await.is_none().then_some(()) }).await;

    tap_item(&c, "fries-small").await;
    wait_state(&c, "cart-totals", "quoted", 10 * SEC).await;
    audit(&c, "the review of the cart").await;

    click(&c, "submit-order").await;
    wait_find(&c, "order-confirmation", 15 * SEC).await;
    audit(&c, "the order number").await;
    c.close().await.ok();
}

#[tokio::test]
async fn the_kitchen_display_passes_an_accessibility_audit_at_every_step() {
    let c = browser().await;
    c.goto(&format!("{}/kds?station=grill", hub())).await.expect("KDS page");
    let pin = wait_find(&c, "pin-input", 20 * SEC).await;
    inject_axe(&c).await;
    audit(&c, "the sign-in").await;

    pin.send_keys("1234").await.expect("type the PIN");
    click(&c, "login-submit").await;
    wait_state(&c, "connection-status", "live", 15 * SEC).await;
    let items = json!([{"menu_item_id": "cheeseburger", "quantity": 1, "options": ["onions"], "allergies": ["nuts"]},
                       {"menu_item_id": "fries-small", "quantity": 1}]);
    let order = place_order(items, Some("table 4"), "a11y-kds").await;
    wait_for(10 * SEC, "the ticket", || async {
        for t in find_all(&c, "ticket").await {
            if t.attr("data-order-id").await.ok().flatten().as_deref() == Some(order.id.as_str()) {
                return Some(());
            }
        }
        None
    })
    .await;
    wait_state(&c, "stats-strip", "ready", 10 * SEC).await;
    audit(&c, "a station's board").await;
    click(&c, "help-toggle").await;
    wait_find(&c, "help-overlay", 5 * SEC).await;
    audit(&c, "the key help").await;
    c.close().await.ok();

    let c = browser().await;
    c.goto(&format!("{}/kds?station=expo", hub())).await.expect("expo page");
    let pin = wait_find(&c, "pin-input", 20 * SEC).await;
    pin.send_keys("1234").await.expect("type the PIN");
    click(&c, "login-submit").await;
    wait_state(&c, "connection-status", "live", 15 * SEC).await;
    wait_find(&c, "ticket-progress", 10 * SEC).await;
    wait_state(&c, "stats-strip", "ready", 10 * SEC).await;
    inject_axe(&c).await;
    audit(&c, "expo with its stations' progress and the day's chart").await;
    click(&c, "ticket-void").await;
    wait_find(&c, "void-confirm", 5 * SEC).await;
    audit(&c, "a void being confirmed").await;
    c.close().await.ok();
}
