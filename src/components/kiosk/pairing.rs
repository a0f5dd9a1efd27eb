//! The pairing screen of an unpaired kiosk: a manager enters the PIN and names the kiosk.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::pin_field::PinField;
use crate::components::release_on_cleanup;
use crate::core::device::{DEFAULT_DEVICE_NAME, PairingState};
use crate::hooks::device_pairing::UseDevicePairingReturn;

#[component]
pub fn PairingScreen(device: UseDevicePairingReturn) -> impl IntoView {
    let view = device.view();
    let name = RwSignal::new(DEFAULT_DEVICE_NAME.to_string());
    let pin = RwSignal::new(String::new());
    let busy = move || view.with(|v| v.state == PairingState::Pairing);
    let blocked = move || view.with(|v| v.blocked_until.is_some());
    let error = move || view.with(|v| v.error.clone());

    // Cleared once sent: a PIN does not stay on a public screen.
    Effect::new(move |_| {
        if busy() {
            pin.set(String::new());
        }
    });
    // Enter in the name field submits the form, which is then replaced with the field focused.
    let name_field = NodeRef::new();
    release_on_cleanup(name_field);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        device.pair(pin.get_untracked(), name.get_untracked());
    };

    view! {
        <form class="kiosk-pairing" data-testid="pairing" data-state=move || view.with(|v| v.state.as_str()) on:submit=submit>
            <h2>"This kiosk is not paired — a manager enters the PIN"</h2>
            <p class="pairing-help">
                "Pairing lets this kiosk send orders to the kitchen. It is done once; the hub lists and can revoke every paired kiosk."
            </p>
            <label class="pairing-label">
                "Kiosk name"
                <input
                    node_ref=name_field
                    class="pairing-name"
                    type="text"
                    maxlength="64"
                    autocomplete="off"
                    data-testid="pairing-name"
                    value=DEFAULT_DEVICE_NAME
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
            </label>
            <PinField label="Manager PIN" label_class="pairing-label" class="pairing-pin" testid="pairing-pin" pin=pin />
            <button class="btn primary" type="submit" data-testid="pairing-submit" disabled=move || busy() || blocked()>
                {move || if busy() { "Pairing…" } else { "Pair" }}
            </button>
            {move || error().map(|e| view! {
                <p class="pairing-error" role="alert" data-testid="pairing-error" data-state=e.as_str()>{e.message()}</p>
            })}
        </form>
    }
}
