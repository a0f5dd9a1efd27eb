//! The browser tests can reach the real hub started by `cargo xtask test`, and restart it.
#![cfg(target_arch = "wasm32")]

mod support;

use restaurant_protocol::Menu;
use restaurant_web::web::http;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn the_test_page_reads_the_hub_menu_and_survives_a_hub_restart() {
    let url = format!("{}/api/v1/menu", support::hub_url());
    let first = http::get(&url).await.expect("hub reachable");
    assert_eq!(first.status, 200);
    let menu: Menu = serde_json::from_str(&first.body).expect("menu JSON");
    assert_eq!(menu.items.len(), 20);

    support::hub_control("stop").await;
    assert!(http::get(&url).await.is_err(), "a stopped hub refuses connections");
    support::hub_control("start").await;
    let again = http::get(&url).await.expect("hub back");
    assert_eq!(again.status, 200);
}
