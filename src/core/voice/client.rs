//! Client events the kiosk sends on the data channel. Each one is serialised with its `event_id`
//! and refused when larger than the server accepts.

use serde_json::{Value, json};

/// Largest serialised client event sent.
pub const MAX_CLIENT_EVENT_BYTES: usize = 50 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// `session` is the full session object (built by the session for the detected API shape).
    SessionUpdate {
        session: Value,
    },
    InputAudioBufferClear,
    InputAudioBufferCommit,
    ResponseCreate,
    ResponseCancel,
    OutputAudioBufferClear,
    FunctionCallOutput {
        call_id: String,
        output: String,
    },
}

impl ClientEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            ClientEvent::SessionUpdate { .. } => "session.update",
            ClientEvent::InputAudioBufferClear => "input_audio_buffer.clear",
            ClientEvent::InputAudioBufferCommit => "input_audio_buffer.commit",
            ClientEvent::ResponseCreate => "response.create",
            ClientEvent::ResponseCancel => "response.cancel",
            ClientEvent::OutputAudioBufferClear => "output_audio_buffer.clear",
            ClientEvent::FunctionCallOutput { .. } => "conversation.item.create",
        }
    }

    /// The wire JSON, or `Err(size)` when it exceeds [`MAX_CLIENT_EVENT_BYTES`].
    pub fn to_json(&self, event_id: &str) -> Result<String, usize> {
        let mut value = json!({ "type": self.event_type(), "event_id": event_id });
        match self {
            ClientEvent::SessionUpdate { session } => value["session"] = session.clone(),
            ClientEvent::FunctionCallOutput { call_id, output } => {
                value["item"] = json!({ "type": "function_call_output", "call_id": call_id, "output": output });
            }
            _ => {}
        }
        let text = value.to_string();
        if text.len() > MAX_CLIENT_EVENT_BYTES { Err(text.len()) } else { Ok(text) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_call_output_is_a_conversation_item_with_event_id() {
        let ev = ClientEvent::FunctionCallOutput { call_id: "c1".into(), output: "{}".into() };
        let v: Value = serde_json::from_str(&ev.to_json("evt_1").unwrap()).unwrap();
        assert_eq!(v["type"], "conversation.item.create");
        assert_eq!(v["event_id"], "evt_1");
        assert_eq!(v["item"]["type"], "function_call_output");
        assert_eq!(v["item"]["call_id"], "c1");
    }

    #[test]
    fn event_over_50_kb_is_refused() {
        let ev = ClientEvent::FunctionCallOutput { call_id: "c".into(), output: "x".repeat(MAX_CLIENT_EVENT_BYTES) };
        assert!(ev.to_json("e").is_err());
    }
}
