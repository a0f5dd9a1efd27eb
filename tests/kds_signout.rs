//! Signing a kitchen screen out revokes its token on the hub (best effort: the screen forgets it
//! either way), and a token the hub no longer accepts (`auth_failed`) signs the screen out.
#![cfg(target_arch = "wasm32")]

mod support;

use restaurant_web::hooks::order_feed::SESSION_KEY;
use restaurant_web::web::{http, storage};
use support::console::{capture_console, release_console};
use support::fetch_stub::FetchStub;
use support::kds::{LONG, SHORT, clear_storage, click_in, live_page_with_order, mount_page, sign_in_via_form, ticket};
use support::{by_testid, click, hub_url, wait_until};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SIGNOUT: &str = "/api/v1/auth/signout";

fn stored_token() -> String {
    let session: serde_json::Value = serde_json::from_str(&storage::get(SESSION_KEY).expect("signed in")).unwrap();
    session["token"].as_str().unwrap().to_string()
}

#[wasm_bindgen_test]
async fn sign_out_revokes_the_token_on_the_hub_and_forgets_it() {
    clear_storage();
    let page = mount_page("kitchen");
    let el = page.el();
    sign_in_via_form(&el).await;
    let token = stored_token();
    let stub = FetchStub::install();
    stub.respond("POST", SIGNOUT, 204, &[], "");
    click(&el, "logout");
    assert!(wait_until(SHORT, || by_testid(&el, "signin-form").is_some()).await, "signed out");
    assert!(storage::get(SESSION_KEY).is_none(), "the token is forgotten");
    assert!(wait_until(SHORT, || stub.calls("POST", SIGNOUT).len() == 1).await, "the hub is told");
    let call = &stub.calls("POST", SIGNOUT)[0];
    assert_eq!(call.header("authorization"), Some(format!("Bearer {token}").as_str()));
}

#[wasm_bindgen_test]
async fn a_failed_sign_out_is_logged_and_the_screen_signs_out_anyway() {
    clear_storage();
    let page = mount_page("kitchen");
    let el = page.el();
    sign_in_via_form(&el).await;
    let stub = FetchStub::install();
    stub.respond(
        "POST",
        SIGNOUT,
        500,
        &[("Content-Type", "application/json")],
        r#"{"error":{"code":"internal","message":"boom"}}"#,
    );
    capture_console();
    click(&el, "logout");
    assert!(wait_until(SHORT, || by_testid(&el, "signin-form").is_some()).await, "signed out");
    assert!(storage::get(SESSION_KEY).is_none());
    assert!(wait_until(SHORT, || stub.calls("POST", SIGNOUT).len() == 1).await);
    support::sleep(100).await;
    let captured = release_console();
    assert!(
        captured.iter().any(|m| m.starts_with("warn:") && m.contains("sign-out") && m.contains("500")),
        "the failure is logged: {captured:?}"
    );
}

#[wasm_bindgen_test]
async fn a_token_the_hub_rejects_signs_the_screen_out() {
    clear_storage();
    storage::set(SESSION_KEY, r#"{"token":"revoked-or-expired","station":"kitchen"}"#);
    let page = mount_page("kitchen");
    let el = page.el();
    assert!(
        wait_until(SHORT, || by_testid(&el, "signin-rejected").is_some()).await,
        "auth_failed shows the sign-in form with the reason"
    );
    assert!(by_testid(&el, "signin-form").is_some());
    assert!(storage::get(SESSION_KEY).is_none(), "the rejected token is forgotten");
}

/// Needs a hub with `POST /api/v1/auth/signout` and tokens required on `GET /api/v1/orders`.
#[wasm_bindgen_test]
async fn after_sign_out_the_hub_refuses_the_old_token() {
    clear_storage();
    let page = mount_page("kitchen");
    let el = page.el();
    sign_in_via_form(&el).await;
    let token = stored_token();
    click(&el, "logout");
    let url = format!("{}/api/v1/orders", hub_url());
    let deadline = js_sys::Date::now() + 5_000.0;
    let mut status = 0;
    while status != 401 && js_sys::Date::now() < deadline {
        support::sleep(100).await;
        status = http::send_as("GET", &url, Some(&token), &[], None).await.map(|r| r.status).unwrap_or(0);
    }
    assert_eq!(status, 401, "the revoked token is refused");
}

/// Needs a hub that re-checks the token on every command: a token revoked elsewhere ends the
/// session at the next command.
#[wasm_bindgen_test]
async fn a_token_revoked_while_live_signs_the_screen_out_at_the_next_command() {
    let (_page, el, order) = live_page_with_order("kitchen").await;
    let token = stored_token();
    let r = http::send_as(
        "POST",
        &format!("{}{SIGNOUT}", hub_url()),
        Some(&token),
        &[("Content-Type", "application/json")],
        Some("{}"),
    )
    .await
    .expect("hub reachable");
    assert!(r.is_success(), "sign-out answered {}", r.status);
    click_in(&ticket(&el, &order.id).unwrap(), "ticket-start");
    assert!(wait_until(LONG, || by_testid(&el, "signin-rejected").is_some()).await, "auth_failed signs the screen out");
}
