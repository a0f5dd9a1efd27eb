//! Staff call controls shared by the kiosk and the kitchen display: the status line, the timer,
//! mute and hang-up, and the incoming-call prompt.

use leptos::prelude::*;

use super::kds::elapsed_text;
use crate::core::call::{CallState, CallView};
use crate::hooks::staff_call::UseStaffCallReturn;

/// The words of the status line.
pub fn status_text(view: &CallView) -> String {
    match view.state {
        CallState::Idle => String::new(),
        CallState::Requesting | CallState::Offering => "Calling staff…".into(),
        CallState::Ringing => "Incoming call".into(),
        CallState::Accepting => "Connecting…".into(),
        CallState::Connected => "On a call".into(),
        CallState::Ended => view.ended.map(|r| r.message()).unwrap_or("Call ended").into(),
    }
}

/// Status, timer, mute and hang-up of the current call (nothing while there has been none).
#[component]
pub fn CallPanel(call: UseStaffCallReturn) -> impl IntoView {
    let view = call.view();
    let elapsed = call.elapsed_secs();
    let state = move || view.with(|v| v.state);
    let in_call = move || {
        matches!(state(), CallState::Requesting | CallState::Offering | CallState::Accepting | CallState::Connected)
    };
    let muted = move || view.with(|v| v.muted);
    view! {
        <Show when=move || state() != CallState::Idle>
            <div class="call-panel" data-testid="call-panel">
                <span class="call-status" data-testid="call-status" role="status" aria-live="polite" data-state=move || state().as_str()>
                    {move || view.with(status_text)}
                </span>
                <Show when=move || state() == CallState::Connected>
                    <span class="call-timer" data-testid="call-timer">{move || elapsed_text(elapsed.get() * 1000)}</span>
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

/// The ringing prompt of a staff screen.
#[component]
pub fn IncomingCall(call: UseStaffCallReturn) -> impl IntoView {
    let view = call.view();
    view! {
        <Show when=move || view.with(|v| v.state == CallState::Ringing)>
            <div class="modal-backdrop">
                <div class="modal incoming-call" role="alertdialog" aria-label="Incoming call" data-testid="incoming-call">
                    <h2>"Customer calling from the kiosk"</h2>
                    <div class="modal-actions">
                        <button class="btn primary" data-testid="call-accept" on:click=move |_| call.accept()>"Accept"</button>
                        <button class="btn" data-testid="call-decline" on:click=move |_| call.decline()>"Decline"</button>
                    </div>
                </div>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::call::EndReason;

    fn view(state: CallState, ended: Option<EndReason>) -> CallView {
        CallView { state, call_id: None, remote: None, connected_since: None, muted: false, ended }
    }

    #[test]
    fn status_names_the_end_reason() {
        assert_eq!(
            status_text(&view(CallState::Ended, Some(EndReason::RemoteDeclined))),
            "Staff could not take the call"
        );
        assert_eq!(status_text(&view(CallState::Offering, None)), "Calling staff…");
        assert_eq!(status_text(&view(CallState::Idle, None)), "");
    }
}
