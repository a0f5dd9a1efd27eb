//! The station sign-in screen: a PIN, exchanged for a station token by the order feed.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::pin_field::PinField;
use crate::core::feed::Banner;
use crate::hooks::order_feed::{SignInError, UseOrderFeedReturn};

#[component]
pub fn PinForm(feed: UseOrderFeedReturn, station: String) -> impl IntoView {
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let status = feed.status();
    let rejected = move || status.get().banner == Banner::SignInFailed;

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let value = pin.get_untracked().trim().to_string();
        if value.is_empty() {
            error.set(Some("Enter the station PIN".into()));
            return;
        }
        busy.set(true);
        error.set(None);
        let flight = feed.sign_in(&value);
        leptos::task::spawn_local(async move {
            let result = flight.await;
            // The form is gone once signed in: these writes are then skipped.
            let _ = busy.try_set(false);
            match result {
                Ok(()) | Err(SignInError::Closed) => {
                    let _ = pin.try_set(String::new());
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.to_string()));
                }
            }
        });
    };

    view! {
        <form class="kds-signin" data-testid="signin-form" on:submit=submit>
            <h2>"Sign in to station " <span class="kds-signin-station">{station}</span></h2>
            <Show when=rejected>
                <p class="kds-signin-rejected" role="alert" data-testid="signin-rejected">
                    "The hub did not accept this station's sign-in. Enter the PIN again."
                </p>
            </Show>
            <PinField label="PIN" label_class="kds-pin-label" class="kds-pin" testid="pin-input" pin=pin />
            <button class="btn btn-primary" type="submit" data-testid="login-submit" disabled=move || busy.get()>
                {move || if busy.get() { "Signing in…" } else { "Sign in" }}
            </button>
            {move || error.get().map(|e| view! { <p class="kds-signin-error" role="alert" data-testid="login-error">{e}</p> })}
        </form>
    }
}
