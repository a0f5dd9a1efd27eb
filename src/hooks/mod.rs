//! Reactive glue: each hook owns a driver ([`driver`]: one shell, one re-entrancy policy) and
//! returns a `Copy` handle of read-only signals and methods; nothing is written after its owner
//! is cleaned up.

pub mod config;
pub mod customer_session;
pub mod device_pairing;
pub mod driver;
pub mod kiosk_call;
pub mod kiosk_cart;
pub mod live_menu;
pub mod load;
pub mod media_access;
pub mod order_feed;
pub mod order_quote;
pub mod order_submit;
pub mod staff_call;
pub mod ticket_stats;
pub mod voice_session;
