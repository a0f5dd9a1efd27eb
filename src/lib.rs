//! Restaurant OS realtime frontend: the voice-ordering kiosk and the kitchen display: one Leptos
//! library, one small binary per page.
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

/// Entry point of a page's wasm bundle (`src/bin/`): panic hook, console logger, then `page`
/// mounted in the [`app::App`] shell. Each bundle names only its own page, so the linker leaves the
/// others out.
pub fn start<V: leptos::prelude::IntoView + 'static>(page: fn() -> V) {
    console_error_panic_hook::set_once();
    web::console_log::init();
    leptos::mount::mount_to_body(move || app::App(app::AppProps { page }));
}
