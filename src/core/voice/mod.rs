//! The kiosk's voice ordering: Realtime API events in, client events and UI commands out.
//!
//! [`VoiceSession`] composes the pieces: event parsing ([`events`]), `event_id` dedupe, the
//! transcript map, the turn state machine with its timeouts ([`turn`]), the outbox, function calls
//! against the cart ([`tools`]), the response sequencer and the token refresh policy.

pub mod client;
pub mod dedupe;
pub mod events;
pub mod options;
pub mod outbox;
pub mod sequencer;
pub mod session;
pub mod token;
pub mod tools;
pub mod transcript;
pub mod turn;
pub mod ui;

#[cfg(test)]
mod tests;

pub use outbox::{EventChannel, FlushReport, FlushStop};
pub use session::{VoiceCommand, VoiceConfig, VoiceError, VoiceSession};
pub use tools::OrderAction;
pub use transcript::{EntryStatus, Role, TranscriptEntry, TranscriptUpdate};
pub use turn::{Timeouts, TurnState};
