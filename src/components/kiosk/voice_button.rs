//! The push-to-talk button and its status line.

use leptos::ev::{KeyboardEvent, MouseEvent, PointerEvent};
use leptos::prelude::*;

use crate::core::config::VoiceMode;
use crate::core::voice::TurnState;
use crate::hooks::voice_session::VoiceHandle;
use crate::web::clock;

/// Ignore re-activations closer than this (a bounce, a double tap).
fn debounce_ms(mode: VoiceMode) -> f64 {
    match mode {
        VoiceMode::Hold => 100.0,
        VoiceMode::Toggle => 300.0,
    }
}

fn is_busy(s: TurnState) -> bool {
    matches!(
        s,
        TurnState::Connecting
            | TurnState::AwaitingSessionCreated
            | TurnState::AwaitingSessionReady
            | TurnState::Committing
            | TurnState::AwaitingTranscript
            | TurnState::AwaitingResponse
            | TurnState::Disconnecting
    )
}

/// The status line's text for people.
pub fn status_text(state: TurnState, speaking: bool, mode: VoiceMode) -> &'static str {
    match state {
        TurnState::Disconnected => "Tap to start",
        TurnState::Connecting | TurnState::AwaitingSessionCreated | TurnState::AwaitingSessionReady => "Connecting…",
        TurnState::Idle if speaking => "Speaking…",
        TurnState::Idle => match mode {
            VoiceMode::Toggle => "Tap to talk",
            VoiceMode::Hold => "Hold to talk",
        },
        TurnState::Recording => match mode {
            VoiceMode::Toggle => "Recording... tap to send",
            VoiceMode::Hold => "Recording... release to send",
        },
        TurnState::Committing | TurnState::AwaitingTranscript | TurnState::AwaitingResponse => "Thinking…",
        TurnState::Error => "Voice is unavailable",
        TurnState::Disconnecting => "Stopping…",
    }
}

fn aria_label(state: TurnState, mode: VoiceMode) -> &'static str {
    match (state, mode) {
        (TurnState::Disconnected | TurnState::Error, _) => "Start voice ordering",
        (TurnState::Idle, VoiceMode::Toggle) => "Start talking",
        (TurnState::Idle, VoiceMode::Hold) => "Hold to talk",
        (TurnState::Recording, VoiceMode::Toggle) => "Stop talking and send",
        (TurnState::Recording, VoiceMode::Hold) => "Release to send",
        _ => "Please wait",
    }
}

#[component]
pub fn VoiceButton(voice: VoiceHandle, mode: VoiceMode) -> impl IntoView {
    let state = voice.state;
    let speaking = voice.speaking;
    let last_activation = StoredValue::new(f64::NEG_INFINITY);
    let active_pointer = StoredValue::new(None::<i32>);

    let debounced = move || {
        let t = clock::now_ms();
        if t - last_activation.get_value() < debounce_ms(mode) {
            return false;
        }
        last_activation.set_value(t);
        true
    };
    let (v_press, v_release, v_click) = (voice.clone(), voice.clone(), voice.clone());
    let press = move || match state.get_untracked() {
        TurnState::Disconnected | TurnState::Error => v_press.connect(),
        TurnState::Idle => v_press.start_talking(),
        _ => {}
    };
    let release = move || {
        if state.get_untracked() == TurnState::Recording {
            v_release.stop_talking();
        }
    };
    let toggle = move || match state.get_untracked() {
        TurnState::Disconnected | TurnState::Error => v_click.connect(),
        TurnState::Idle => v_click.start_talking(),
        TurnState::Recording => v_click.stop_talking(),
        _ => {}
    };
    let (press_k, release_k, release_c, release_l) = (press.clone(), release.clone(), release.clone(), release.clone());

    view! {
        <div class="voice-control">
            <button
                type="button"
                class="voice-button"
                class:recording=move || state.get() == TurnState::Recording
                class:busy=move || is_busy(state.get())
                data-testid="voice-order-button"
                data-mode=mode.as_str()
                aria-pressed=move || (state.get() == TurnState::Recording).to_string()
                aria-busy=move || is_busy(state.get()).to_string()
                aria-label=move || aria_label(state.get(), mode)
                on:contextmenu=|e: MouseEvent| e.prevent_default()
                on:click=move |_| {
                    if mode == VoiceMode::Toggle && debounced() {
                        toggle();
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
                    if active_pointer.get_value() == Some(e.pointer_id()) {
                        active_pointer.set_value(None);
                    }
                    release_c();
                }
                on:pointerleave=move |e: PointerEvent| {
                    if mode == VoiceMode::Hold && active_pointer.get_value() == Some(e.pointer_id()) {
                        active_pointer.set_value(None);
                        release_l();
                    }
                }
                on:keydown=move |e: KeyboardEvent| {
                    if mode == VoiceMode::Hold && !e.repeat() && (e.key() == " " || e.key() == "Enter") {
                        e.prevent_default();
                        press_k();
                    }
                }
                on:keyup=move |e: KeyboardEvent| {
                    if mode == VoiceMode::Hold && (e.key() == " " || e.key() == "Enter") {
                        e.prevent_default();
                        release_k();
                    }
                }
            >
                <span class="voice-icon" aria-hidden="true"></span>
            </button>
            <p
                class="voice-status"
                data-testid="voice-status"
                data-state=move || state.get().as_snake_case()
                aria-live="polite"
            >
                {move || status_text(state.get(), speaking.get(), mode)}
            </p>
        </div>
    }
}
