//! `window.__wsService`: the order feed's debug surface (`getStatus()`, `getSubscriptions()`).

use restaurant_protocol::ServerMessage;
use wasm_bindgen::JsValue;

use super::FeedDriver;
use crate::hooks::driver::DriverRef;
use crate::web::debug::{DebugObject, to_js};

pub(super) fn install(driver: DriverRef<FeedDriver>) -> DebugObject {
    let get_status = move || driver.with(|d| d.feed.debug_status()).map_or(JsValue::NULL, |status| to_js(&status));
    let get_subscriptions =
        || ServerMessage::TYPES.iter().map(|t| JsValue::from_str(t)).collect::<js_sys::Array>().into();
    DebugObject::install(
        "__wsService",
        vec![
            ("getStatus", Box::new(get_status) as Box<dyn Fn() -> JsValue>),
            ("getSubscriptions", Box::new(get_subscriptions)),
        ],
    )
}
