//! A labelled PIN entry: masked, a numeric keypad on tablets, never autofilled.

use leptos::prelude::*;

use super::release_on_cleanup;

/// `<label class=label_class>{label}<input class=class type=password …></label>`, bound to `pin`.
///
/// When the field leaves the page (the form it is in was submitted with Enter and replaced), it
/// takes its focus and caret with it ([`release_on_cleanup`]).
#[component]
pub fn PinField(
    label: &'static str,
    label_class: &'static str,
    class: &'static str,
    testid: &'static str,
    pin: RwSignal<String>,
) -> impl IntoView {
    let input = NodeRef::new();
    release_on_cleanup(input);
    view! {
        <label class=label_class>
            {label}
            <input
                node_ref=input
                class=class
                type="password"
                inputmode="numeric"
                autocomplete="off"
                data-testid=testid
                prop:value=move || pin.get()
                on:input=move |ev| pin.set(event_target_value(&ev))
            />
        </label>
    }
}
