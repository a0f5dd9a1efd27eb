//! Server events of the Realtime API, parsed from data-channel text frames. The GA names and the
//! older beta names map to one enum, so the rest of the session never sees the difference.

use std::fmt;

use serde_json::{Map, Value};

/// Frames above this size are refused before parsing.
pub const MAX_FRAME_BYTES: usize = 256 * 1024;

/// A conversation item as carried by `conversation.item.*` and `response.output_item.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    /// `message`, `function_call`, `function_call_output`, …
    pub item_type: String,
    pub role: Option<String>,
    pub call_id: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEventKind {
    SessionCreated {
        ga: bool,
        /// The server's id of this Realtime session (`session.id`), when it sends one.
        id: Option<String>,
    },
    SessionUpdated,
    SpeechStarted,
    SpeechStopped,
    InputCommitted,
    InputCleared,
    /// `conversation.item.created` (beta) / `conversation.item.added` (GA).
    ItemAdded(Item),
    ItemDone(Item),
    TranscriptionDelta {
        item_id: String,
        delta: String,
    },
    TranscriptionCompleted {
        item_id: String,
        transcript: String,
    },
    TranscriptionFailed {
        item_id: String,
        message: String,
    },
    ResponseCreated,
    ResponseDone {
        status: String,
        reason: Option<String>,
    },
    OutputItemAdded(Item),
    OutputItemDone(Item),
    /// Assistant speech transcript or assistant text, streamed.
    AssistantDelta {
        item_id: String,
        delta: String,
    },
    AssistantDone {
        item_id: String,
        text: String,
    },
    FunctionArgumentsDelta {
        call_id: String,
        delta: String,
    },
    FunctionArgumentsDone {
        call_id: String,
        name: Option<String>,
        arguments: String,
    },
    OutputAudioStarted,
    OutputAudioStopped,
    OutputAudioCleared,
    RateLimitsUpdated,
    Error {
        code: Option<String>,
        message: String,
    },
    Unknown {
        event_type: String,
    },
}

impl ServerEventKind {
    /// The GA name of the event (the raw type for unknown events): what event counts are keyed by.
    pub fn name(&self) -> &str {
        match self {
            ServerEventKind::SessionCreated { .. } => "session.created",
            ServerEventKind::SessionUpdated => "session.updated",
            ServerEventKind::SpeechStarted => "input_audio_buffer.speech_started",
            ServerEventKind::SpeechStopped => "input_audio_buffer.speech_stopped",
            ServerEventKind::InputCommitted => "input_audio_buffer.committed",
            ServerEventKind::InputCleared => "input_audio_buffer.cleared",
            ServerEventKind::ItemAdded(_) => "conversation.item.added",
            ServerEventKind::ItemDone(_) => "conversation.item.done",
            ServerEventKind::TranscriptionDelta { .. } => "conversation.item.input_audio_transcription.delta",
            ServerEventKind::TranscriptionCompleted { .. } => "conversation.item.input_audio_transcription.completed",
            ServerEventKind::TranscriptionFailed { .. } => "conversation.item.input_audio_transcription.failed",
            ServerEventKind::ResponseCreated => "response.created",
            ServerEventKind::ResponseDone { .. } => "response.done",
            ServerEventKind::OutputItemAdded(_) => "response.output_item.added",
            ServerEventKind::OutputItemDone(_) => "response.output_item.done",
            ServerEventKind::AssistantDelta { .. } => "response.output_audio_transcript.delta",
            ServerEventKind::AssistantDone { .. } => "response.output_audio_transcript.done",
            ServerEventKind::FunctionArgumentsDelta { .. } => "response.function_call_arguments.delta",
            ServerEventKind::FunctionArgumentsDone { .. } => "response.function_call_arguments.done",
            ServerEventKind::OutputAudioStarted => "output_audio_buffer.started",
            ServerEventKind::OutputAudioStopped => "output_audio_buffer.stopped",
            ServerEventKind::OutputAudioCleared => "output_audio_buffer.cleared",
            ServerEventKind::RateLimitsUpdated => "rate_limits.updated",
            ServerEventKind::Error { .. } => "error",
            ServerEventKind::Unknown { event_type } => event_type,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEvent {
    pub event_id: Option<String>,
    pub kind: ServerEventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    TooLarge { bytes: usize },
    Json(String),
    NotAnObject,
    MissingType,
    MissingField { event_type: String, field: &'static str },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooLarge { bytes } => {
                write!(f, "frame of {bytes} bytes exceeds the {MAX_FRAME_BYTES}-byte limit")
            }
            ParseError::Json(e) => write!(f, "malformed JSON: {e}"),
            ParseError::NotAnObject => write!(f, "frame is not a JSON object"),
            ParseError::MissingType => write!(f, "frame has no string `type`"),
            ParseError::MissingField { event_type, field } => {
                write!(f, "`{event_type}` is missing required field `{field}`")
            }
        }
    }
}

impl std::error::Error for ParseError {}

/// Field access on one event object, with errors naming the event and the field.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    event_type: &'a str,
}

impl<'a> Fields<'a> {
    fn missing(&self, field: &'static str) -> ParseError {
        ParseError::MissingField { event_type: self.event_type.to_string(), field }
    }

    fn str(&self, field: &'static str) -> Result<String, ParseError> {
        self.opt_str(field).ok_or_else(|| self.missing(field))
    }

    fn opt_str(&self, field: &str) -> Option<String> {
        self.obj.get(field).and_then(Value::as_str).map(str::to_string)
    }

    fn object(&self, field: &'static str) -> Result<&'a Map<String, Value>, ParseError> {
        self.obj.get(field).and_then(Value::as_object).ok_or_else(|| self.missing(field))
    }

    fn item(&self) -> Result<Item, ParseError> {
        let item = Fields { obj: self.object("item")?, event_type: self.event_type };
        Ok(Item {
            id: item.str("id").map_err(|_| self.missing("item.id"))?,
            item_type: item.str("type").map_err(|_| self.missing("item.type"))?,
            role: item.opt_str("role"),
            call_id: item.opt_str("call_id"),
            name: item.opt_str("name"),
        })
    }
}

/// Parses one text frame. Never panics; a bad frame is an error value.
pub fn parse_server_event(text: &str) -> Result<ServerEvent, ParseError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(ParseError::TooLarge { bytes: text.len() });
    }
    let value: Value = serde_json::from_str(text).map_err(|e| ParseError::Json(e.to_string()))?;
    let obj = value.as_object().ok_or(ParseError::NotAnObject)?;
    let event_type = obj.get("type").and_then(Value::as_str).ok_or(ParseError::MissingType)?;
    let f = Fields { obj, event_type };
    use ServerEventKind as K;
    let kind = match event_type {
        "session.created" => {
            let session = f.object("session")?;
            let id = session.get("id").and_then(|v| v.as_str()).map(|s| s.chars().take(128).collect());
            K::SessionCreated { ga: session.contains_key("type") || session.contains_key("audio"), id }
        }
        "session.updated" => K::SessionUpdated,
        "input_audio_buffer.speech_started" => K::SpeechStarted,
        "input_audio_buffer.speech_stopped" => K::SpeechStopped,
        "input_audio_buffer.committed" => K::InputCommitted,
        "input_audio_buffer.cleared" => K::InputCleared,
        "conversation.item.created" | "conversation.item.added" => K::ItemAdded(f.item()?),
        "conversation.item.done" => K::ItemDone(f.item()?),
        "conversation.item.input_audio_transcription.delta" => {
            K::TranscriptionDelta { item_id: f.str("item_id")?, delta: f.opt_str("delta").unwrap_or_default() }
        }
        "conversation.item.input_audio_transcription.completed" => {
            K::TranscriptionCompleted { item_id: f.str("item_id")?, transcript: f.str("transcript")? }
        }
        "conversation.item.input_audio_transcription.failed" => K::TranscriptionFailed {
            item_id: f.str("item_id")?,
            message: error_message(obj).unwrap_or_else(|| "transcription failed".to_string()),
        },
        "response.created" => K::ResponseCreated,
        "response.done" => {
            let response = Fields { obj: f.object("response")?, event_type };
            let reason = response.obj.get("status_details").and_then(Value::as_object).and_then(|d| {
                let d = Fields { obj: d, event_type };
                error_message(d.obj).or_else(|| d.opt_str("reason"))
            });
            K::ResponseDone { status: response.str("status")?, reason }
        }
        "response.output_item.added" => K::OutputItemAdded(f.item()?),
        "response.output_item.done" => K::OutputItemDone(f.item()?),
        "response.output_audio_transcript.delta"
        | "response.audio_transcript.delta"
        | "response.output_text.delta"
        | "response.text.delta" => K::AssistantDelta { item_id: f.str("item_id")?, delta: f.str("delta")? },
        "response.output_audio_transcript.done" | "response.audio_transcript.done" => {
            K::AssistantDone { item_id: f.str("item_id")?, text: f.str("transcript")? }
        }
        "response.output_text.done" | "response.text.done" => {
            K::AssistantDone { item_id: f.str("item_id")?, text: f.str("text")? }
        }
        "response.function_call_arguments.delta" => {
            K::FunctionArgumentsDelta { call_id: f.str("call_id")?, delta: f.str("delta")? }
        }
        "response.function_call_arguments.done" => K::FunctionArgumentsDone {
            call_id: f.str("call_id")?,
            name: f.opt_str("name"),
            arguments: f.str("arguments")?,
        },
        "output_audio_buffer.started" => K::OutputAudioStarted,
        "output_audio_buffer.stopped" => K::OutputAudioStopped,
        "output_audio_buffer.cleared" => K::OutputAudioCleared,
        "rate_limits.updated" => K::RateLimitsUpdated,
        "error" => {
            let error = Fields { obj: f.object("error")?, event_type };
            K::Error { code: error.opt_str("code"), message: error.str("message")? }
        }
        other => K::Unknown { event_type: other.to_string() },
    };
    Ok(ServerEvent { event_id: f.opt_str("event_id"), kind })
}

/// `error.message` of an object that may carry an `error` sub-object.
fn error_message(obj: &Map<String, Value>) -> Option<String> {
    obj.get("error")?.get("message")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ga_and_beta_names_parse_to_the_same_event() {
        let pairs = [
            (
                r#"{"type":"conversation.item.created","item":{"id":"i1","type":"message","role":"user"}}"#,
                r#"{"type":"conversation.item.added","item":{"id":"i1","type":"message","role":"user"}}"#,
            ),
            (
                r#"{"type":"response.audio_transcript.delta","item_id":"a","delta":"Hi"}"#,
                r#"{"type":"response.output_audio_transcript.delta","item_id":"a","delta":"Hi"}"#,
            ),
            (
                r#"{"type":"response.text.done","item_id":"a","text":"Hi"}"#,
                r#"{"type":"response.output_text.done","item_id":"a","text":"Hi"}"#,
            ),
        ];
        for (beta, ga) in pairs {
            assert_eq!(parse_server_event(beta).unwrap(), parse_server_event(ga).unwrap());
        }
    }

    #[test]
    fn malformed_json_is_an_error_value() {
        assert!(matches!(parse_server_event("{not json"), Err(ParseError::Json(_))));
        assert_eq!(parse_server_event("[1]"), Err(ParseError::NotAnObject));
        assert_eq!(parse_server_event(r#"{"type":5}"#), Err(ParseError::MissingType));
    }

    #[test]
    fn oversize_frame_is_refused_before_parsing() {
        let big = format!(r#"{{"type":"x","pad":"{}"}}"#, "a".repeat(MAX_FRAME_BYTES));
        assert!(matches!(parse_server_event(&big), Err(ParseError::TooLarge { .. })));
    }

    #[test]
    fn known_type_missing_item_id_is_an_error() {
        let err = parse_server_event(r#"{"type":"conversation.item.input_audio_transcription.delta","delta":"x"}"#)
            .unwrap_err();
        assert_eq!(
            err,
            ParseError::MissingField {
                event_type: "conversation.item.input_audio_transcription.delta".into(),
                field: "item_id"
            }
        );
    }

    #[test]
    fn unknown_type_is_kept_as_unknown() {
        let ev = parse_server_event(r#"{"type":"brand.new.thing","event_id":"e1"}"#).unwrap();
        assert_eq!(ev.kind, ServerEventKind::Unknown { event_type: "brand.new.thing".into() });
        assert_eq!(ev.event_id.as_deref(), Some("e1"));
    }

    #[test]
    fn session_created_detects_ga_shape() {
        let ga = parse_server_event(r#"{"type":"session.created","session":{"type":"realtime"}}"#);
        let beta = parse_server_event(r#"{"type":"session.created","session":{"modalities":["audio"]}}"#);
        assert_eq!(ga.unwrap().kind, ServerEventKind::SessionCreated { ga: true, id: None });
        assert_eq!(beta.unwrap().kind, ServerEventKind::SessionCreated { ga: false, id: None });
        let with_id = parse_server_event(r#"{"type":"session.created","session":{"id":"sess_1","type":"realtime"}}"#);
        assert_eq!(with_id.unwrap().kind, ServerEventKind::SessionCreated { ga: true, id: Some("sess_1".into()) });
    }

    #[test]
    fn response_done_carries_status_and_reason() {
        let ev = parse_server_event(
            r#"{"type":"response.done","response":{"id":"r","status":"failed","status_details":{"type":"failed","error":{"message":"boom"}}}}"#,
        )
        .unwrap();
        assert_eq!(ev.kind, ServerEventKind::ResponseDone { status: "failed".into(), reason: Some("boom".into()) });
    }
}
