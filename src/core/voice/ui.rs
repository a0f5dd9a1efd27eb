//! What the kiosk shows of the voice session: the connection banner and the push-to-talk button's
//! words, decided from the turn state (and the peer connection) so the views hold no policy.

use std::time::Duration;

use super::turn::TurnState;
use crate::core::config::VoiceMode;
use crate::core::peer::PeerConnectionState;

/// The kiosk's voice connection banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceBanner {
    Error,
    Disconnected,
    Connecting,
    /// Connected, but the peer connection reports `disconnected` (it may recover).
    Reconnecting,
    Connected,
}

impl VoiceBanner {
    pub fn of(state: TurnState, connection: PeerConnectionState) -> VoiceBanner {
        match (state, connection) {
            (TurnState::Error, _) => VoiceBanner::Error,
            (TurnState::Disconnected, _) => VoiceBanner::Disconnected,
            (TurnState::Connecting | TurnState::AwaitingSessionCreated | TurnState::AwaitingSessionReady, _) => {
                VoiceBanner::Connecting
            }
            (_, PeerConnectionState::Disconnected) => VoiceBanner::Reconnecting,
            _ => VoiceBanner::Connected,
        }
    }

    /// `data-state` of the banner.
    pub fn as_str(self) -> &'static str {
        match self {
            VoiceBanner::Error => "error",
            VoiceBanner::Disconnected => "disconnected",
            VoiceBanner::Connecting => "connecting",
            VoiceBanner::Reconnecting => "reconnecting",
            VoiceBanner::Connected => "connected",
        }
    }

    /// The banner's words for people.
    pub fn text(self) -> &'static str {
        match self {
            VoiceBanner::Error => "Voice assistant unavailable",
            VoiceBanner::Disconnected => "Voice assistant not connected",
            VoiceBanner::Connecting => "Connecting to the voice assistant…",
            VoiceBanner::Reconnecting => "Voice connection unstable…",
            VoiceBanner::Connected => "Voice assistant ready",
        }
    }
}

/// What a press of the push-to-talk button does in `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonAction {
    Connect,
    /// Start the customer's turn; while the assistant answers this interrupts it (barge-in).
    StartTalking,
    StopTalking,
    /// Hands-free mode: the button mutes and unmutes the microphone.
    ToggleMute,
    /// Busy (connecting, sending): the press is ignored.
    Nothing,
}

/// The press (tap in toggle mode, press in hold mode, tap in hands-free mode) in `state`.
pub fn press_action(state: TurnState, mode: VoiceMode) -> ButtonAction {
    match (state, mode) {
        (TurnState::Disconnected | TurnState::Error, _) => ButtonAction::Connect,
        (
            TurnState::Idle
            | TurnState::Recording
            | TurnState::Committing
            | TurnState::AwaitingTranscript
            | TurnState::AwaitingResponse,
            VoiceMode::Vad,
        ) => ButtonAction::ToggleMute,
        (TurnState::Idle | TurnState::AwaitingTranscript | TurnState::AwaitingResponse, _) => {
            ButtonAction::StartTalking
        }
        (TurnState::Recording, VoiceMode::Toggle) => ButtonAction::StopTalking,
        _ => ButtonAction::Nothing,
    }
}

/// Re-activations closer than this are ignored (a bounce, a double tap).
pub fn debounce(mode: VoiceMode) -> Duration {
    match mode {
        VoiceMode::Hold => Duration::from_millis(100),
        VoiceMode::Toggle | VoiceMode::Vad => Duration::from_millis(300),
    }
}

/// The session is working and the button waits (`aria-busy`).
pub fn is_busy(state: TurnState) -> bool {
    matches!(
        state,
        TurnState::Connecting
            | TurnState::AwaitingSessionCreated
            | TurnState::AwaitingSessionReady
            | TurnState::Committing
            | TurnState::AwaitingTranscript
            | TurnState::AwaitingResponse
            | TurnState::Disconnecting
    )
}

/// The status line under the button.
pub fn status_text(state: TurnState, speaking: bool, mode: VoiceMode, muted: bool) -> &'static str {
    match (state, mode) {
        (TurnState::Disconnected, _) => "Tap to start",
        (TurnState::Connecting | TurnState::AwaitingSessionCreated | TurnState::AwaitingSessionReady, _) => {
            "Connecting…"
        }
        (TurnState::Error, _) => "Voice is unavailable",
        (TurnState::Disconnecting, _) => "Stopping…",
        (_, VoiceMode::Vad) if muted => "Microphone muted. Tap to unmute",
        (TurnState::Idle, VoiceMode::Vad) if speaking => "Speaking… just talk to interrupt",
        (TurnState::Idle, VoiceMode::Vad) => "Listening. Just say what you'd like",
        (TurnState::Recording, VoiceMode::Vad) => "Hearing you…",
        (TurnState::Idle, VoiceMode::Toggle) if speaking => "Speaking… tap to interrupt",
        (TurnState::Idle, VoiceMode::Hold) if speaking => "Speaking… hold to interrupt",
        (TurnState::Idle, VoiceMode::Toggle) => "Tap to talk",
        (TurnState::Idle, VoiceMode::Hold) => "Hold to talk",
        (TurnState::Recording, VoiceMode::Toggle) => "Recording... tap to send",
        (TurnState::Recording, VoiceMode::Hold) => "Recording... release to send",
        (TurnState::Committing | TurnState::AwaitingTranscript | TurnState::AwaitingResponse, _) => "Thinking…",
    }
}

/// The button's accessible name.
pub fn aria_label(state: TurnState, mode: VoiceMode, muted: bool) -> &'static str {
    match (press_action(state, mode), mode) {
        (ButtonAction::Connect, _) => "Start voice ordering",
        (ButtonAction::ToggleMute, _) if muted => "Unmute the microphone",
        (ButtonAction::ToggleMute, _) => "Mute the microphone",
        (ButtonAction::StartTalking, VoiceMode::Hold) if state != TurnState::Idle => "Hold to interrupt and talk",
        (ButtonAction::StartTalking, _) if state != TurnState::Idle => "Interrupt and talk",
        (ButtonAction::StartTalking, VoiceMode::Hold) => "Hold to talk",
        (ButtonAction::StartTalking, _) => "Start talking",
        (ButtonAction::StopTalking, _) => "Stop talking and send",
        (ButtonAction::Nothing, VoiceMode::Hold) if state == TurnState::Recording => "Release to send",
        (ButtonAction::Nothing, _) => "Please wait",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_follows_the_turn_state_then_the_peer_connection() {
        use PeerConnectionState as P;
        assert_eq!(VoiceBanner::of(TurnState::Error, P::Connected), VoiceBanner::Error);
        assert_eq!(VoiceBanner::of(TurnState::Disconnected, P::None), VoiceBanner::Disconnected);
        assert_eq!(VoiceBanner::of(TurnState::AwaitingSessionReady, P::Connected), VoiceBanner::Connecting);
        assert_eq!(VoiceBanner::of(TurnState::Idle, P::Disconnected), VoiceBanner::Reconnecting);
        assert_eq!(VoiceBanner::of(TurnState::Recording, P::Connected), VoiceBanner::Connected);
        assert_eq!(VoiceBanner::Reconnecting.as_str(), "reconnecting");
    }

    #[test]
    fn a_press_connects_talks_or_sends_and_waits_while_busy() {
        assert_eq!(press_action(TurnState::Error, VoiceMode::Hold), ButtonAction::Connect);
        assert_eq!(press_action(TurnState::Idle, VoiceMode::Toggle), ButtonAction::StartTalking);
        assert_eq!(press_action(TurnState::Recording, VoiceMode::Toggle), ButtonAction::StopTalking);
        // Hold mode sends on release, not on a second press.
        assert_eq!(press_action(TurnState::Recording, VoiceMode::Hold), ButtonAction::Nothing);
        assert_eq!(press_action(TurnState::Committing, VoiceMode::Toggle), ButtonAction::Nothing);
        assert!(is_busy(TurnState::Committing) && !is_busy(TurnState::Idle));
    }

    #[test]
    fn a_press_while_the_assistant_answers_interrupts_it() {
        for mode in [VoiceMode::Toggle, VoiceMode::Hold] {
            for state in [TurnState::AwaitingTranscript, TurnState::AwaitingResponse] {
                assert_eq!(press_action(state, mode), ButtonAction::StartTalking, "{state:?} {mode:?}");
            }
        }
        assert_eq!(aria_label(TurnState::AwaitingResponse, VoiceMode::Toggle, false), "Interrupt and talk");
        assert_eq!(status_text(TurnState::Idle, true, VoiceMode::Toggle, false), "Speaking… tap to interrupt");
    }

    #[test]
    fn hands_free_the_button_only_mutes() {
        for state in [TurnState::Idle, TurnState::Recording, TurnState::AwaitingResponse] {
            assert_eq!(press_action(state, VoiceMode::Vad), ButtonAction::ToggleMute);
        }
        assert_eq!(press_action(TurnState::Disconnected, VoiceMode::Vad), ButtonAction::Connect);
        assert_eq!(press_action(TurnState::Connecting, VoiceMode::Vad), ButtonAction::Nothing);
        assert_eq!(aria_label(TurnState::Idle, VoiceMode::Vad, false), "Mute the microphone");
        assert_eq!(aria_label(TurnState::Idle, VoiceMode::Vad, true), "Unmute the microphone");
        assert_eq!(status_text(TurnState::Idle, false, VoiceMode::Vad, true), "Microphone muted. Tap to unmute");
        assert_eq!(status_text(TurnState::Recording, false, VoiceMode::Vad, false), "Hearing you…");
    }

    #[test]
    fn status_line_names_the_mode() {
        assert_eq!(status_text(TurnState::Idle, false, VoiceMode::Hold, false), "Hold to talk");
        assert_eq!(status_text(TurnState::Idle, true, VoiceMode::Hold, false), "Speaking… hold to interrupt");
        assert_eq!(status_text(TurnState::Recording, false, VoiceMode::Toggle, false), "Recording... tap to send");
        assert_eq!(aria_label(TurnState::Recording, VoiceMode::Hold, false), "Release to send");
    }
}
