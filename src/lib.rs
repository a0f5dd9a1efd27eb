//! Restaurant OS realtime frontend: the voice-ordering kiosk and the kitchen display, one Leptos app.
//!
//! - [`core`]: pure, sans-IO state machines (tested natively, in simulated time)
//! - [`web`]: RAII wrappers around browser APIs
//! - [`hooks`]: reactive glue between drivers and components
//! - [`components`]: the pages and their parts

pub mod app;
pub mod components;
pub mod config;
pub mod core;
pub mod hooks;
pub mod web;

/// Entry point of the wasm bundle: panic hook, console logger, mount.
pub fn start() {
    console_error_panic_hook::set_once();
    web::console_log::init();
    leptos::mount::mount_to_body(app::App);
}
