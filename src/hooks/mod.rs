//! Reactive glue: hooks own a driver, register `on_cleanup`, and never write a signal after their
//! owner is disposed.

pub mod config;
pub mod kiosk_cart;
pub mod order_feed;
pub mod order_submit;
pub mod staff_call;
pub mod voice_session;
