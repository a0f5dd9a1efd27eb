//! A `<dialog>` shown modal for as long as its [`ModalDialog`] lives: the browser makes the rest
//! of the page inert (focus and screen readers stay in the dialog), Escape asks to close it, and
//! dropping the wrapper closes it and gives focus back to the element that had it before.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Event, HtmlDialogElement, HtmlElement};

#[must_use = "dropping the wrapper closes the dialog"]
pub struct ModalDialog {
    dialog: HtmlDialogElement,
    return_to: Option<HtmlElement>,
    on_cancel: Closure<dyn FnMut(Event)>,
}

impl ModalDialog {
    /// Shows `dialog` modal; Escape calls `on_cancel` (which decides whether to close it, by
    /// dropping this). `None` (logged) when the browser refuses, e.g. the dialog is not in the page.
    pub fn show(dialog: HtmlDialogElement, mut on_cancel: impl FnMut() + 'static) -> Option<ModalDialog> {
        let return_to = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .and_then(|e| e.dyn_into::<HtmlElement>().ok());
        let on_cancel = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            // The dialog closes when its owner drops it, not on its own.
            event.prevent_default();
            on_cancel();
        });
        if let Err(e) = dialog.add_event_listener_with_callback("cancel", on_cancel.as_ref().unchecked_ref()) {
            log::error!("[Dialog] cannot listen for Escape: {}", super::js_error_message(&e));
            return None;
        }
        let shown = ModalDialog { dialog, return_to, on_cancel };
        if let Err(e) = shown.dialog.show_modal() {
            log::error!("[Dialog] cannot show the dialog: {}", super::js_error_message(&e));
            return None;
        }
        Some(shown)
    }
}

impl Drop for ModalDialog {
    fn drop(&mut self) {
        let _ = self.dialog.remove_event_listener_with_callback("cancel", self.on_cancel.as_ref().unchecked_ref());
        if self.dialog.open() {
            self.dialog.close();
        }
        if let Some(element) = self.return_to.take().filter(|e| e.is_connected()) {
            let _ = element.focus();
        }
    }
}
