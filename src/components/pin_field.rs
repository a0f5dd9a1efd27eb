//! A labelled PIN entry: masked, a numeric keypad on tablets, never autofilled.

use leptos::prelude::*;

/// `<label class=label_class>{label}<input class=class type=password …></label>`, bound to `pin`.
#[component]
pub fn PinField(
    label: &'static str,
    label_class: &'static str,
    class: &'static str,
    testid: &'static str,
    pin: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label class=label_class>
            {label}
            <input
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
