//! The push-to-talk button and its status line.

use leptos::ev::{KeyboardEvent, MouseEvent, PointerEvent};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::core::config::VoiceMode;
use crate::core::time::Millis;
use crate::core::voice::TurnState;
use crate::core::voice::ui::{ButtonAction, aria_label, debounce, is_busy, press_action, status_text};
use crate::hooks::voice_session::UseVoiceSessionReturn;
use crate::web::clock;

#[component]
pub fn VoiceButton(
    voice: UseVoiceSessionReturn,
    mode: VoiceMode,
    /// A press that connects (the kiosk starts a customer session with it).
    on_connect: Callback<()>,
    /// The button does nothing now (the last customer's number screen).
    #[prop(into)]
    blocked: Signal<bool>,
) -> impl IntoView {
    let state = voice.state();
    let speaking = voice.speaking();
    let muted = voice.muted();
    let available = voice.available();
    let last_activation = StoredValue::new(None::<Millis>);
    let active_pointer = StoredValue::new(None::<i32>);

    let debounced = move || {
        let t = clock::now();
        if last_activation.get_value().is_some_and(|last| t.since(last) < debounce(mode)) {
            return false;
        }
        last_activation.set_value(Some(t));
        true
    };
    let act = move |action: ButtonAction| match action {
        ButtonAction::Connect => on_connect.run(()),
        ButtonAction::StartTalking => voice.start_talking(),
        ButtonAction::StopTalking => voice.stop_talking(),
        ButtonAction::ToggleMute => voice.set_muted(!muted.get_untracked()),
        ButtonAction::Nothing => {}
    };
    let press = move || act(press_action(state.get_untracked(), mode));
    let release = move || {
        if state.get_untracked() == TurnState::Recording {
            voice.stop_talking();
        }
    };

    view! {
        <div class="voice-control">
            <button
                type="button"
                class="voice-button"
                class:recording=move || state.get() == TurnState::Recording
                class:busy=move || is_busy(state.get())
                class:muted=move || mode == VoiceMode::Vad && muted.get()
                data-testid="voice-order-button"
                data-mode=mode.as_str()
                data-muted=move || muted.get().to_string()
                disabled=move || !available || blocked.get()
                aria-pressed=move || match mode {
                    VoiceMode::Vad => muted.get().to_string(),
                    _ => (state.get() == TurnState::Recording).to_string(),
                }
                aria-busy=move || is_busy(state.get()).to_string()
                aria-label=move || aria_label(state.get(), mode, muted.get())
                on:contextmenu=|e: MouseEvent| e.prevent_default()
                on:click=move |_| {
                    if mode != VoiceMode::Hold && debounced() {
                        press();
                    }
                }
                on:pointerdown=move |e: PointerEvent| {
                    if mode != VoiceMode::Hold {
                        return;
                    }
                    // One finger only: a second touch while one is down is ignored.
                    if !e.is_primary() || active_pointer.get_value().is_some() {
                        return;
                    }
                    active_pointer.set_value(Some(e.pointer_id()));
                    // The turn follows this finger even when it slides off the button: only
                    // lifting it ends the turn.
                    if let Some(button) = e.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                        let _ = button.set_pointer_capture(e.pointer_id());
                    }
                    if debounced() {
                        press();
                    }
                }
                on:pointerup=move |e: PointerEvent| {
                    if mode == VoiceMode::Hold && active_pointer.get_value() == Some(e.pointer_id()) {
                        active_pointer.set_value(None);
                        release();
                    }
                }
                on:pointercancel=move |e: PointerEvent| {
                    // The browser took the finger away (a scroll, a system gesture): a held turn
                    // ends as if released. A tap-to-talk recording never ends this way.
                    if mode == VoiceMode::Hold && active_pointer.get_value() == Some(e.pointer_id()) {
                        active_pointer.set_value(None);
                        release();
                    }
                }
                // Space and Enter are handled here, not by the button's own click (which would
                // come on keydown for Enter and keyup for Space): held down they talk in hold
                // mode; pressed they act like a tap otherwise. Key repeat changes nothing.
                on:keydown=move |e: KeyboardEvent| {
                    if e.key() != " " && e.key() != "Enter" {
                        return;
                    }
                    e.prevent_default();
                    if !e.repeat() && (mode == VoiceMode::Hold || debounced()) {
                        press();
                    }
                }
                on:keyup=move |e: KeyboardEvent| {
                    if e.key() == " " || e.key() == "Enter" {
                        e.prevent_default();
                        if mode == VoiceMode::Hold {
                            release();
                        }
                    }
                }
            >
                <span class="voice-icon" aria-hidden="true"></span>
            </button>
            <p
                class="voice-status"
                data-testid="voice-status"
                data-state=move || state.get().as_str()
                aria-live="polite"
            >
                {move || status_text(state.get(), speaking.get(), mode, muted.get())}
            </p>
        </div>
    }
}
