//! States of a voice session and how long each waiting state may last.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TurnState {
    Disconnected,
    Connecting,
    AwaitingSessionCreated,
    AwaitingSessionReady,
    Idle,
    Recording,
    Committing,
    AwaitingTranscript,
    AwaitingResponse,
    Error,
    Disconnecting,
}

impl TurnState {
    pub fn as_str(self) -> &'static str {
        match self {
            TurnState::Disconnected => "disconnected",
            TurnState::Connecting => "connecting",
            TurnState::AwaitingSessionCreated => "awaiting_session_created",
            TurnState::AwaitingSessionReady => "awaiting_session_ready",
            TurnState::Idle => "idle",
            TurnState::Recording => "recording",
            TurnState::Committing => "committing",
            TurnState::AwaitingTranscript => "awaiting_transcript",
            TurnState::AwaitingResponse => "awaiting_response",
            TurnState::Error => "error",
            TurnState::Disconnecting => "disconnecting",
        }
    }

    /// The data channel is (or is becoming) usable: states between channel open and disconnect.
    pub fn is_connected(self) -> bool {
        matches!(
            self,
            TurnState::AwaitingSessionCreated
                | TurnState::AwaitingSessionReady
                | TurnState::Idle
                | TurnState::Recording
                | TurnState::Committing
                | TurnState::AwaitingTranscript
                | TurnState::AwaitingResponse
        )
    }
}

/// How long each state may last before the session moves on. Defaults are the production values;
/// tests and the browser may pass shorter ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// → Error.
    pub connecting: Duration,
    /// → Error.
    pub awaiting_session_created: Duration,
    /// → Idle (proceed with the server's defaults).
    pub awaiting_session_ready: Duration,
    /// → stop and commit.
    pub recording: Duration,
    /// → Idle.
    pub committing: Duration,
    /// → Idle.
    pub awaiting_transcript: Duration,
    /// → Idle.
    pub awaiting_response: Duration,
    /// → Disconnected.
    pub disconnecting: Duration,
    /// How long the Error state is shown before settling to Disconnected.
    pub error_hold: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connecting: Duration::from_secs(15),
            awaiting_session_created: Duration::from_secs(5),
            awaiting_session_ready: Duration::from_secs(5),
            recording: Duration::from_secs(45),
            committing: Duration::from_secs(5),
            awaiting_transcript: Duration::from_secs(10),
            awaiting_response: Duration::from_secs(30),
            disconnecting: Duration::from_secs(5),
            error_hold: Duration::from_secs(5),
        }
    }
}

impl Timeouts {
    /// The limit for `state`, `None` for resting states (Idle, Disconnected).
    pub fn for_state(&self, state: TurnState) -> Option<Duration> {
        match state {
            TurnState::Connecting => Some(self.connecting),
            TurnState::AwaitingSessionCreated => Some(self.awaiting_session_created),
            TurnState::AwaitingSessionReady => Some(self.awaiting_session_ready),
            TurnState::Recording => Some(self.recording),
            TurnState::Committing => Some(self.committing),
            TurnState::AwaitingTranscript => Some(self.awaiting_transcript),
            TurnState::AwaitingResponse => Some(self.awaiting_response),
            TurnState::Disconnecting => Some(self.disconnecting),
            TurnState::Error => Some(self.error_hold),
            TurnState::Idle | TurnState::Disconnected => None,
        }
    }

    /// The longest single limit: after this long without input every state has moved on once.
    pub fn longest(&self) -> Duration {
        [
            self.connecting,
            self.awaiting_session_created,
            self.awaiting_session_ready,
            self.recording,
            self.committing,
            self.awaiting_transcript,
            self.awaiting_response,
            self.disconnecting,
            self.error_hold,
        ]
        .into_iter()
        .max()
        .unwrap_or_default()
    }
}
