//! The document's focus and selection (`document.activeElement`, `Window.getSelection`), as a
//! text field leaves the page.
//!
//! A text field removed while it holds the focus (a form submitted with Enter, then replaced)
//! leaves the document a caret, a collapsed selection, where it stood. While that caret is there,
//! Chromium brings style and layout up to date at the start of each frame that follows a change
//! made outside a frame (a card's clock), before the frame's animation callbacks, and lays the
//! page out again after them: two layout passes in such a frame where one would do
//! (docs/benchmarks.md, "A caret left by the sign-in"). A caret placed in the page's text by
//! script does not do this; the one a removed field leaves does.

use web_sys::HtmlElement;

/// Takes the focus from `field` if it has it, and drops a caret (a collapsed selection) left in
/// the document. Called as a text field's view is cleaned up; the KDS's browser and e2e tests
/// check that its sign-in, sent with the field focused, leaves no caret. A selection of text (a
/// range) is kept, and so is a focus elsewhere.
pub fn release_text_focus(field: Option<&HtmlElement>) {
    let Some(window) = web_sys::window() else { return };
    let focused = window.document().and_then(|d| d.active_element());
    if let Some(field) = field.filter(|f| focused.as_ref() == Some(f.as_ref()))
        && let Err(e) = field.blur()
    {
        log::error!("[Selection] cannot blur the text field leaving the page: {}", super::js_error_message(&e));
    }
    match window.get_selection() {
        Ok(Some(selection)) if selection.is_collapsed() && selection.range_count() > 0 => {
            if let Err(e) = selection.remove_all_ranges() {
                log::error!("[Selection] cannot drop the caret left in the page: {}", super::js_error_message(&e));
            }
        }
        Err(e) => log::error!("[Selection] cannot read the page's selection: {}", super::js_error_message(&e)),
        _ => {}
    }
}
