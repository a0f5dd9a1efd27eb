//! Leptos components. Everything a test reads carries a `data-testid`.

pub mod call;
pub mod chooser;
pub mod config_error;
pub mod kds;
pub mod kiosk;
pub mod pin_field;
pub mod shell;

use leptos::prelude::*;

/// When the current view is cleaned up, takes the focus and a caret from the text field `input`
/// ([`crate::web::selection::release_text_focus`]): a form submitted with Enter from it and then
/// replaced leaves none behind.
pub(crate) fn release_on_cleanup(input: NodeRef<leptos::html::Input>) {
    on_cleanup(move || crate::web::selection::release_text_focus(input.try_get_untracked().flatten().as_deref()));
}
