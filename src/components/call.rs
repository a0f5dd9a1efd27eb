//! Staff call controls shared by the kiosk and the kitchen display: the status line, the timer,
//! mute and hang-up, and the incoming-call prompt.

use std::time::Duration;

use leptos::prelude::*;

use super::shell::InsecureContextNotice;
use crate::core::call::{CallState, CallView};
use crate::core::secure::MediaAccess;
use crate::core::time::clock_text;
use crate::hooks::staff_call::UseStaffCallReturn;

/// Status, timer, mute and hang-up of the current call (nothing while there has been none).
#[component]
pub fn CallPanel(call: UseStaffCallReturn) -> impl IntoView {
    let view = call.view();
    let elapsed = call.elapsed_secs();
    let state = move || view.with(|v| v.state);
    let in_call = move || state().is_joined();
    let muted = move || view.with(|v| v.muted);
    view! {
        <Show when=move || state() != CallState::Idle>
            <div class="call-panel" data-testid="call-panel">
                <span class="call-status" data-testid="call-status" role="status" aria-live="polite" data-state=move || state().as_str()>
                    {move || view.with(CallView::status_text)}
                </span>
                <Show when=move || state() == CallState::Connected>
                    <span class="call-timer" data-testid="call-timer">{move || clock_text(Duration::from_secs(elapsed.get()))}</span>
                </Show>
                <Show when=in_call>
                    <button
                        class="btn call-mute"
                        data-testid="call-mute"
                        aria-pressed=move || muted().to_string()
                        on:click=move |_| call.set_muted(!muted())
                    >
                        {move || if muted() { "Unmute" } else { "Mute" }}
                    </button>
                    <button class="btn danger call-hangup" data-testid="call-hangup" on:click=move |_| call.hangup()>
                        "Hang up"
                    </button>
                </Show>
            </div>
        </Show>
    }
}

/// The ringing prompt of a staff screen. Where calls cannot be answered (no secure context) it
/// still shows, so staff know a customer is calling, with Accept disabled and the reason.
#[component]
pub fn IncomingCall(call: UseStaffCallReturn, access: MediaAccess) -> impl IntoView {
    let view = call.view();
    let available = call.available();
    view! {
        <Show when=move || view.with(|v| v.state == CallState::Ringing)>
            <div class="modal-backdrop">
                <div class="modal incoming-call" role="alertdialog" aria-label="Incoming call" data-testid="incoming-call">
                    <h2>"Customer calling from the kiosk"</h2>
                    <div class="modal-actions">
                        <button class="btn primary" data-testid="call-accept" disabled=!available on:click=move |_| call.accept()>"Accept"</button>
                        <button class="btn" data-testid="call-decline" on:click=move |_| call.decline()>"Decline"</button>
                    </div>
                    <InsecureContextNotice access=access.clone()/>
                </div>
            </div>
        </Show>
    }
}
