//! Leptos components. Everything a test reads carries a `data-testid`.

pub mod call;
pub mod chooser;
pub mod config_error;
pub mod kds;
pub mod kiosk;
pub mod pin_field;
pub mod shell;
