//! Helpers shared by the hub's integration tests (each test file includes this with `mod common;`).

use restaurant_hub::RunningHub;
use restaurant_protocol::PinResponse;
use serde_json::json;

/// Signs `station` in with the default PIN and returns its session token.
pub async fn station_token(hub: &RunningHub, station: &str) -> String {
    let response = reqwest::Client::new()
        .post(hub.http("/api/v1/auth/pin"))
        .json(&json!({"pin": "1234", "station": station}))
        .send()
        .await
        .expect("the hub answers the sign-in");
    assert_eq!(response.status().as_u16(), 200, "sign-in for {station}");
    response.json::<PinResponse>().await.expect("a sign-in answer").token
}
