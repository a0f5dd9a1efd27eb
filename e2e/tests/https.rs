//! The production hub as a restaurant's tablets reach it: by a LAN name (not `localhost`), over
//! HTTPS with only the hub's own CA trusted, or over plain HTTP where the browser refuses the
//! microphone. Each test runs its own production hub (PINs set with `set-pin`, a paired kiosk).

use std::time::Duration;

use fantoccini::{Client, Locator};
use restaurant_e2e::production::{KITCHEN_PIN, MANAGER_PIN, ProductionHub};
use restaurant_e2e::*;

const SEC: Duration = Duration::from_secs(1);

/// An unpaired kiosk shows its pairing screen; the manager's PIN pairs it.
async fn pair(c: &Client, name: &str) {
    let field = wait_find(c, "pairing-name", 20 * SEC).await;
    field.clear().await.expect("clear the name");
    field.send_keys(name).await.expect("type a name");
    wait_find(c, "pairing-pin", SEC).await.send_keys(MANAGER_PIN).await.expect("type the PIN");
    click(c, "pairing-submit").await;
    wait_for(20 * SEC, "the pairing screen to go once paired", || async {
        find(c, "pairing").await.is_none().then_some(())
    })
    .await;
    let stored = eval(c, "return localStorage.getItem('restaurant.device')").await;
    assert!(stored.as_str().is_some_and(|s| s.contains("\"token\"")), "the device token is kept: {stored}");
}

async fn sign_in_kitchen(c: &Client, page: &str) {
    c.goto(page).await.expect("KDS page");
    let pin = wait_find(c, "pin-input", 20 * SEC).await;
    pin.send_keys(KITCHEN_PIN).await.expect("type the PIN");
    click(c, "login-submit").await;
    wait_state(c, "connection-status", "live", 15 * SEC).await;
}

async fn cart_count(c: &Client) -> usize {
    find_all(c, "cart-item").await.len()
}

#[tokio::test]
async fn over_plain_http_on_a_lan_name_voice_and_calls_say_they_need_https_and_touch_ordering_works() {
    let hub = ProductionHub::start(false).await;
    let c = browser_with(&hub.browser_args().iter().map(String::as_str).collect::<Vec<_>>()).await;
    c.goto(&hub.page("/kiosk")).await.expect("kiosk page");
    pair(&c, "Front door").await;
    assert_eq!(eval(&c, "return window.isSecureContext").await, false, "http://hub.test is not a secure context");
    let message = wait_find(&c, "insecure-context", 10 * SEC).await.text().await.unwrap();
    assert!(message.contains("secure connection") && message.contains("https://"), "{message}");
    let voice = wait_find(&c, "voice-order-button", 10 * SEC).await;
    assert!(voice.attr("disabled").await.unwrap().is_some(), "the voice button is disabled");
    let call = wait_find(&c, "call-staff-button", 10 * SEC).await;
    assert!(call.attr("disabled").await.unwrap().is_some(), "the call button is disabled");
    assert_eq!(
        eval(&c, "return typeof navigator.mediaDevices").await,
        "undefined",
        "no microphone API here, so nothing could have asked for it"
    );

    // Touch ordering keeps working.
    start_customer(&c).await;
    tap_item(&c, "fries-small").await;
    wait_for(10 * SEC, "a cart line", || async { (cart_count(&c).await == 1).then_some(()) }).await;
    click(&c, "submit-order").await;
    wait_find(&c, "order-confirmation", 15 * SEC).await;

    // So does the kitchen display: signed in, live, the order on it.
    let kds = browser_with(&hub.browser_args().iter().map(String::as_str).collect::<Vec<_>>()).await;
    sign_in_kitchen(&kds, &hub.page("/kds")).await;
    wait_find(&kds, "ticket", 10 * SEC).await;
    c.close().await.ok();
    kds.close().await.ok();
}

#[tokio::test]
async fn over_https_with_only_the_hubs_ca_trusted_the_kiosk_takes_a_voice_order_and_the_kds_goes_live() {
    let hub = ProductionHub::start(true).await;
    let args = hub.browser_args();
    // The customer's words, as the microphone: a spoken order of the test set with 3 s of silence
    // before it (the press comes well before the words) and 6 s after.
    let root = std::path::PathBuf::from(env("E2E_SPEECH_SET"));
    let spoken = root.join("o01-enus160-clean/turn1.wav");
    let padded = std::env::temp_dir().join(format!("https-voice-{}.wav", std::process::id()));
    let sox = std::process::Command::new("sox")
        .arg(&spoken)
        .arg(&padded)
        .args(["pad", "3", "6"])
        .status()
        .expect("sox (installed by cargo xtask setup)");
    assert!(sox.success(), "sox could not pad {}", spoken.display());
    let mut mic_args = args.clone();
    mic_args.push(format!("--use-file-for-fake-audio-capture={}%noloop", padded.display()));
    let c = browser_with(&mic_args.iter().map(String::as_str).collect::<Vec<_>>()).await;

    // A tablet that types the plain address lands on HTTPS.
    c.goto(&hub.plain("/kiosk?voice_mode=toggle")).await.expect("kiosk page");
    let url = c.current_url().await.expect("a URL").to_string();
    assert!(url.starts_with(&hub.page("/kiosk")), "redirected to HTTPS: {url}");
    pair(&c, "Front door").await;
    assert_eq!(eval(&c, "return window.isSecureContext").await, true);
    assert!(find(&c, "insecure-context").await.is_none());

    // A voice turn: the microphone's audio goes to the hub's voice peer over WebRTC, the hub hears
    // the order, and its function call fills the cart. The tap that starts the customer's session
    // connects.
    start_customer(&c).await;
    wait_state(&c, "voice-status", "idle", 20 * SEC).await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    click(&c, "voice-order-button").await;
    wait_state(&c, "voice-status", "recording", 5 * SEC).await;
    tokio::time::sleep(Duration::from_millis(8000)).await;
    click(&c, "voice-order-button").await;
    wait_for(20 * SEC, "a cart line from the voice turn", || async { (cart_count(&c).await > 0).then_some(()) }).await;
    click(&c, "submit-order").await;
    wait_find(&c, "order-confirmation", 15 * SEC).await;
    let number = text(&c, "order-number").await;

    let kds = browser_with(&args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    sign_in_kitchen(&kds, &hub.page("/kds")).await;
    let ticket = wait_find(&kds, "ticket", 10 * SEC).await;
    let ticket_text = ticket.text().await.unwrap_or_default();
    assert!(ticket_text.contains(number.trim_start_matches('#')), "the voice order on the KDS: {ticket_text}");
    assert!(kds.find(Locator::Css(&testid("insecure-context"))).await.is_err());
    c.close().await.ok();
    kds.close().await.ok();
    let _ = std::fs::remove_file(&padded);
}

#[tokio::test]
async fn a_browser_that_does_not_trust_the_hubs_ca_gets_no_page() {
    let hub = ProductionHub::start(true).await;
    let untrusting = [format!("--host-resolver-rules=MAP {} 127.0.0.1", restaurant_e2e::production::HOST)];
    let c = browser_with(&untrusting.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let _ = c.goto(&hub.page("/kiosk")).await;
    tokio::time::sleep(2 * SEC).await;
    assert!(find(&c, "menu").await.is_none() && find(&c, "pairing").await.is_none(), "no kiosk without trust");
    c.close().await.ok();
}
