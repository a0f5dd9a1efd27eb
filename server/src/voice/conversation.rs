//! The Realtime event protocol of one call, sans I/O: client events and inbound audio go in,
//! server events and playback commands come out.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::audio::opus_packet_micros;
use super::matcher::{Change, Matcher, ToolCall};
use super::speech::vad::VadConfig;

/// Largest client event accepted.
pub const MAX_CLIENT_EVENT_BYTES: usize = 64 * 1024;
/// Largest `session.update` accepted (the whole event as received, in bytes of JSON).
pub const MAX_SESSION_UPDATE_BYTES: usize = 16 * 1024;
/// Largest session an update may grow to (updates add keys; this keeps repeated ones bounded).
pub const MAX_SESSION_BYTES: usize = 32 * 1024;
/// A commit with less audio than this is refused like OpenAI refuses an empty buffer.
pub const MIN_COMMIT_MICROS: u64 = 100_000;
/// Committed turns waiting for their transcripts at most; a commit over it completes the oldest
/// as heard empty.
pub const MAX_TURNS_BEING_HEARD: usize = 8;
/// Words per transcription delta.
const WORDS_PER_DELTA: usize = 3;
/// Characters per function-call arguments delta.
const CHARS_PER_ARGS_DELTA: usize = 24;
/// Largest `function_call_output` the next reply reads back; a larger one is not read (the reply
/// is the fixed sentence). The kiosk's output carries the whole order, a few KiB for a big one.
pub const MAX_FUNCTION_OUTPUT_BYTES: usize = 16 * 1024;
/// Longest kiosk message spoken (a read-back or the confirmation question); longer ones are
/// clipped at a word.
pub const MAX_SPOKEN_MESSAGE_CHARS: usize = 1000;
/// Longest kiosk error spoken after "Sorry, ".
pub const MAX_SPOKEN_ERROR_CHARS: usize = 300;
/// How an answer about a changed order ends; a plain "no" to it is that's all.
const ANYTHING_ELSE: &str = "Anything else?";
/// The answer to an addition the kiosk said nothing readable about.
const GOT_IT_REPLY: &str = "Got it. Anything else?";
/// Said when the customer declines ("no", "not yet", "wait") without asking for anything.
pub const DECLINED_REPLY: &str = "Okay, what would you like to change?";
/// Said when the transcript asks for nothing the peer understands.
pub const NOT_UNDERSTOOD_REPLY: &str = "Sorry, I didn't catch that. What would you like to order?";
/// Said once the kiosk placed the order.
pub const PLACED_REPLY: &str = "Great, your order is on its way to the kitchen.";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConversationFaults {
    pub drop_item_created: bool,
    pub no_transcripts: bool,
}

/// `text` in streaming deltas of a few words each; joined, they give `text` with single spaces.
fn word_deltas(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let chunks: Vec<&[&str]> = words.chunks(WORDS_PER_DELTA).collect();
    let last = chunks.len().saturating_sub(1);
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| if i < last { format!("{} ", chunk.join(" ")) } else { chunk.join(" ") })
        .collect()
}

/// What the call does with the outcome of an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send this server event on the data channel.
    Send(Value),
    /// The user's turn ended: hear what was said in it and pass the transcript to
    /// [`Conversation::transcribed`] for `item_id`.
    Transcribe { item_id: String },
    /// A new push-to-talk turn starts now (after a clear or a commit).
    BeginTurn,
    /// Speak `text` on the outbound track; once its audio is ready, call
    /// [`Conversation::reply_audio`], and [`Conversation::reply_finished`] once it has played.
    Speak { response_id: String, text: String },
    /// Stop the reply playing (or about to) now.
    StopReply,
}

/// The spoken response being played.
struct Speaking {
    response_id: String,
    item: Value,
    sentence: String,
}

/// A committed user turn whose transcript is not known yet.
struct Transcribing {
    item_id: String,
    previous: Option<String>,
    /// A `response.create` came meanwhile: answer once the transcript is in.
    respond: bool,
    /// Its transcript, once heard while an earlier turn still was not.
    heard: Option<String>,
}

/// One line of the order as this conversation's tool calls made it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    name: String,
    quantity: u32,
    /// As tool calls say them, sorted.
    options: Vec<String>,
}

pub struct Conversation {
    prefix: String,
    counter: u64,
    session: Value,
    faults: ConversationFaults,
    matcher: Arc<Matcher>,
    turn_micros: u64,
    turn_bytes: usize,
    last_item_id: Option<String>,
    /// A user transcript (or text message) not answered yet.
    pending_user: Option<String>,
    /// The last tool called, which the next spoken reply talks about.
    last_call: Option<ToolCall>,
    /// The `call_id` of `last_call`.
    last_call_id: Option<String>,
    /// The reply built from what the kiosk answered to `last_call` (its `function_call_output`);
    /// `None` until it answered in a form the peer reads.
    outcome_reply: Option<String>,
    /// The order as this call's tool calls made it, for vague removals and changes.
    cart: Vec<Line>,
    /// `cart` before the last tool call, restored if the kiosk refuses it.
    cart_before: Vec<Line>,
    /// Tool calls still to make for the last turn (a change is a removal, then an addition).
    queued: VecDeque<ToolCall>,
    speaking: Option<Speaking>,
    /// Committed turns not heard yet, oldest first (at most [`MAX_TURNS_BEING_HEARD`]): each
    /// gets its own transcript, and the answer follows the last.
    transcribing: VecDeque<Transcribing>,
    /// Transcripts of turns heard while a later turn still was not: answered with it.
    heard_before: Vec<String>,
    /// The item id of the turn server turn detection heard start.
    vad_item: Option<String>,
    /// The kiosk asked to confirm the order ("Shall I place it?") and it was neither placed nor
    /// changed since.
    confirming: bool,
    /// The last reply spoken ended with [`ANYTHING_ELSE`].
    asked_more: bool,
}

impl Conversation {
    /// `prefix` makes the ids of this call unique; `session` is the initial session object.
    pub fn new(prefix: String, session: Value, matcher: Arc<Matcher>, faults: ConversationFaults) -> Self {
        let mut c = Conversation {
            prefix,
            counter: 0,
            session,
            faults,
            matcher,
            turn_micros: 0,
            turn_bytes: 0,
            last_item_id: None,
            pending_user: None,
            last_call: None,
            last_call_id: None,
            outcome_reply: None,
            cart: Vec::new(),
            cart_before: Vec::new(),
            queued: VecDeque::new(),
            speaking: None,
            transcribing: VecDeque::new(),
            heard_before: Vec::new(),
            vad_item: None,
            confirming: false,
            asked_more: false,
        };
        let id = c.id("sess");
        c.session["id"] = json!(id);
        c.session["object"] = json!("realtime.session");
        c
    }

    /// Whether the last answer asked "Anything else?" about an order that is not waiting for
    /// its confirmation.
    fn asked_for_more(&self) -> bool {
        self.asked_more && !self.confirming && !self.cart.is_empty()
    }

    /// Understands turns with `matcher` from now on (the menu changed).
    pub fn set_matcher(&mut self, matcher: Arc<Matcher>) {
        self.matcher = matcher;
    }

    /// `session.created`, sent when the events channel opens.
    pub fn session_created(&mut self) -> Value {
        self.event("session.created", json!({ "session": self.session }))
    }

    /// One inbound RTP audio payload (an Opus packet).
    pub fn handle_audio(&mut self, packet: &[u8]) {
        self.turn_bytes += packet.len();
        self.turn_micros += opus_packet_micros(packet);
    }

    /// Audio bytes received since the last clear or commit.
    pub fn turn_bytes(&self) -> usize {
        self.turn_bytes
    }

    /// Server turn detection's settings when the session asks for it (`server_vad` or
    /// `semantic_vad`, GA or beta field), `None` for push-to-talk.
    pub fn turn_detection(&self) -> Option<VadConfig> {
        let td = self.turn_detection_value()?;
        matches!(td.get("type").and_then(Value::as_str), Some("server_vad" | "semantic_vad"))
            .then(|| VadConfig::from_session(td))
    }

    fn turn_detection_value(&self) -> Option<&Value> {
        self.session
            .get("turn_detection")
            .or_else(|| self.session.pointer("/audio/input/turn_detection"))
            .filter(|v| !v.is_null())
    }

    /// One text frame from the events channel.
    pub fn handle_text(&mut self, text: &str) -> Vec<Action> {
        if text.len() > MAX_CLIENT_EVENT_BYTES {
            tracing::warn!(bytes = text.len(), "client event refused: too large");
            return self.error("invalid_request_error", "event_too_large", "Client event is too large.", None);
        }
        let event: Value = match serde_json::from_str(text) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) | Err(_) => {
                tracing::warn!(bytes = text.len(), "unparseable client event");
                return self.error("invalid_request_error", "invalid_json", "The event is not a JSON object.", None);
            }
        };
        let client_id = event.get("event_id").and_then(Value::as_str).map(str::to_string);
        let Some(kind) = event.get("type").and_then(Value::as_str) else {
            tracing::warn!("client event without a type");
            return self.error(
                "invalid_request_error",
                "missing_required_parameter",
                "Missing required parameter: 'type'.",
                client_id,
            );
        };
        match kind {
            "session.update" if text.len() > MAX_SESSION_UPDATE_BYTES => {
                tracing::warn!(
                    bytes = text.len(),
                    limit = MAX_SESSION_UPDATE_BYTES,
                    "session.update refused: too large"
                );
                let message = format!(
                    "session.update is too large: {} bytes, the limit is {MAX_SESSION_UPDATE_BYTES} bytes.",
                    text.len()
                );
                self.error("invalid_request_error", "session_update_too_large", &message, client_id)
            }
            "session.update" => match event.get("session") {
                Some(patch @ Value::Object(_)) => {
                    let mut updated = self.session.clone();
                    merge(&mut updated, patch);
                    let (before, after) = (self.session.to_string().len(), updated.to_string().len());
                    if after > MAX_SESSION_BYTES && after > before {
                        tracing::warn!(
                            bytes = after,
                            limit = MAX_SESSION_BYTES,
                            "session.update refused: session too large"
                        );
                        let message = format!(
                            "session.update would make the session {after} bytes, the limit is {MAX_SESSION_BYTES} bytes."
                        );
                        return self.error("invalid_request_error", "session_too_large", &message, client_id);
                    }
                    self.session = updated;
                    vec![self.send("session.updated", json!({ "session": self.session }))]
                }
                _ => self.error(
                    "invalid_request_error",
                    "missing_required_parameter",
                    "Missing required parameter: 'session'.",
                    client_id,
                ),
            },
            "input_audio_buffer.clear" => {
                self.reset_turn();
                self.vad_item = None;
                vec![self.send("input_audio_buffer.cleared", json!({})), Action::BeginTurn]
            }
            "input_audio_buffer.commit" => self.commit(client_id),
            "conversation.item.create" => self.create_item(event.get("item"), client_id),
            "response.create" => self.respond(client_id),
            "response.cancel" => match self.speaking.is_some() {
                true => self.cancel_reply(),
                false => self.error(
                    "invalid_request_error",
                    "response_cancel_not_active",
                    "Cancellation failed: no active response found.",
                    client_id,
                ),
            },
            "output_audio_buffer.clear" => match self.speaking.is_some() {
                true => self.cancel_reply(),
                false => vec![self.send("output_audio_buffer.cleared", json!({}))],
            },
            other => {
                tracing::warn!(kind = other, "unsupported client event");
                let message =
                    format!("Invalid value: '{}'. Unsupported event type.", other.chars().take(64).collect::<String>());
                self.error("invalid_request_error", "invalid_value", &message, client_id)
            }
        }
    }

    /// The call reached its maximum length: OpenAI's `error`, after which the call is closed.
    pub fn session_expired(&mut self, max: Duration) -> Vec<Action> {
        let secs = max.as_secs();
        let length = match secs {
            60 => "1 minute".to_string(),
            s if s >= 60 && s % 60 == 0 => format!("{} minutes", s / 60),
            1 => "1 second".to_string(),
            s => format!("{s} seconds"),
        };
        let message = format!("Your session hit the maximum duration of {length}.");
        self.error("invalid_request_error", "session_expired", &message, None)
    }

    /// The spoken reply has played to its end.
    pub fn reply_finished(&mut self) -> Vec<Action> {
        let Some(Speaking { response_id, mut item, sentence }) = self.speaking.take() else {
            return Vec::new();
        };
        item["status"] = json!("completed");
        let item_id = item["id"].clone();
        vec![
            self.send(
                "response.output_audio_transcript.done",
                json!({ "response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0, "transcript": sentence }),
            ),
            self.send("output_audio_buffer.stopped", json!({ "response_id": response_id })),
            self.send(
                "response.output_item.done",
                json!({ "response_id": response_id, "output_index": 0, "item": item }),
            ),
            self.send("conversation.item.done", json!({ "item": item })),
            self.send(
                "response.done",
                json!({ "response": response(&response_id, "completed", Value::Null, vec![item]) }),
            ),
        ]
    }

    /// The reply `response_id`'s audio is ready, `frames` long: what to send as it plays, by
    /// frame (`output_audio_buffer.started` first, then the transcript as its words are spoken).
    /// Empty if that reply was cancelled meanwhile.
    pub fn reply_audio(&mut self, response_id: &str, frames: usize) -> Vec<(usize, Action)> {
        let Some(sentence) =
            self.speaking.as_ref().filter(|s| s.response_id == response_id).map(|s| s.sentence.clone())
        else {
            return Vec::new();
        };
        let item_id = self.speaking.as_ref().map(|s| s.item["id"].clone()).unwrap_or_default();
        let mut out = vec![(0, self.send("output_audio_buffer.started", json!({ "response_id": response_id })))];
        let total = sentence.chars().count().max(1);
        let mut said = 0;
        for delta in word_deltas(&sentence) {
            // Each delta goes out as the audio reaches its first word.
            let at = said * frames / total;
            said += delta.chars().count();
            out.push((
                at,
                self.send(
                    "response.output_audio_transcript.delta",
                    json!({ "response_id": response_id, "item_id": item_id, "output_index": 0, "content_index": 0, "delta": delta }),
                ),
            ));
        }
        out
    }

    /// Server turn detection heard speech start at `audio_start_ms` (prefix included). A reply
    /// being spoken is interrupted unless the session's `interrupt_response` is false.
    pub fn speech_started(&mut self, audio_start_ms: u64) -> Vec<Action> {
        let mut out = Vec::new();
        let interrupt = self
            .turn_detection_value()
            .and_then(|t| t.get("interrupt_response"))
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if interrupt && self.speaking.is_some() {
            out.extend(self.cancel_reply());
        }
        let item_id = self.id("item");
        self.vad_item = Some(item_id.clone());
        out.push(self.send(
            "input_audio_buffer.speech_started",
            json!({ "audio_start_ms": audio_start_ms, "item_id": item_id }),
        ));
        out
    }

    /// Server turn detection heard speech end at `audio_end_ms`: the turn is committed.
    pub fn speech_stopped(&mut self, audio_end_ms: u64) -> Vec<Action> {
        let item_id = self.vad_item.take().unwrap_or_else(|| self.id("item"));
        let mut out =
            vec![self.send(
                "input_audio_buffer.speech_stopped",
                json!({ "audio_end_ms": audio_end_ms, "item_id": item_id }),
            )];
        out.extend(self.committed(item_id));
        out
    }

    fn commit(&mut self, client_id: Option<String>) -> Vec<Action> {
        if self.turn_micros < MIN_COMMIT_MICROS {
            let message = format!(
                "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has {:.2}ms of audio.",
                self.turn_micros as f64 / 1000.0
            );
            tracing::info!(bytes = self.turn_bytes, micros = self.turn_micros, "commit refused: too little audio");
            return self.error("invalid_request_error", "input_audio_buffer_commit_empty", &message, client_id);
        }
        tracing::debug!(bytes = self.turn_bytes, micros = self.turn_micros, "audio committed");
        let item_id = self.vad_item.take().unwrap_or_else(|| self.id("item"));
        let mut out = self.committed(item_id);
        out.push(Action::BeginTurn);
        out
    }

    /// The turn `item_id` is committed: its item is added and its audio goes to be heard.
    fn committed(&mut self, item_id: String) -> Vec<Action> {
        self.reset_turn();
        let mut out = Vec::new();
        if let Some(t) = self.transcribing.back() {
            // Its transcript will still come and complete its item; the answer waits for this one.
            tracing::info!(item_id = %t.item_id, "a turn was committed before the previous one was heard");
        }
        if self.transcribing.len() >= MAX_TURNS_BEING_HEARD {
            let oldest = self.transcribing.pop_front().expect("over the limit, so not empty");
            match oldest.heard {
                Some(text) => self.heard_before.push(text),
                None => {
                    tracing::warn!(
                        item_id = %oldest.item_id,
                        limit = MAX_TURNS_BEING_HEARD,
                        "too many turns waiting to be heard: the oldest is completed as heard empty"
                    );
                    out.extend(self.heard(&oldest.item_id, &oldest.previous, ""));
                }
            }
            if oldest.respond
                && let Some(next) = self.transcribing.front_mut()
            {
                next.respond = true;
            }
        }
        let previous = self.last_item_id.replace(item_id.clone());
        out.push(
            self.send("input_audio_buffer.committed", json!({ "previous_item_id": previous, "item_id": item_id })),
        );
        let item = user_item(&item_id, Value::Null);
        out.extend(self.item_added(&previous, &item));
        self.transcribing.push_back(Transcribing { item_id: item_id.clone(), previous, respond: false, heard: None });
        out.push(Action::Transcribe { item_id });
        out
    }

    /// What was said in the turn `item_id` (empty when nothing was recognized): the
    /// transcription events, then the answer if one is due.
    pub fn transcribed(&mut self, item_id: &str, transcript: &str) -> Vec<Action> {
        let Some(t) = self.transcribing.iter_mut().find(|t| t.item_id == item_id && t.heard.is_none()) else {
            tracing::info!(%item_id, "a transcript for a turn no longer waited for: dropped");
            return Vec::new();
        };
        t.heard = Some(transcript.to_string());
        let previous = t.previous.clone();
        let mut out = self.heard(item_id, &previous, transcript);
        if self.transcribing.iter().any(|t| t.heard.is_none()) {
            // Turns heard together are answered together, once all are heard.
            return out;
        }
        let turns: Vec<Transcribing> = self.transcribing.drain(..).collect();
        let respond = turns.iter().any(|t| t.respond);
        let mut said = std::mem::take(&mut self.heard_before);
        said.extend(turns.into_iter().filter_map(|t| t.heard));
        let said: Vec<&str> = said.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
        self.pending_user = Some(said.join(" "));
        if respond || self.auto_respond() {
            if self.speaking.is_some() {
                // The customer went on talking while the last answer was being said: the new
                // turn is answered, the old answer stops.
                out.extend(self.cancel_reply());
            }
            out.extend(self.respond(None));
        }
        out
    }

    /// The transcription events completing the user item `item_id` with `transcript`.
    fn heard(&mut self, item_id: &str, previous: &Option<String>, transcript: &str) -> Vec<Action> {
        let mut item = user_item(item_id, Value::Null);
        let mut out = Vec::new();
        if !self.faults.no_transcripts {
            for delta in word_deltas(transcript) {
                out.push(self.send(
                    "conversation.item.input_audio_transcription.delta",
                    json!({ "item_id": item_id, "content_index": 0, "delta": delta }),
                ));
            }
            out.push(self.send(
                "conversation.item.input_audio_transcription.completed",
                json!({ "item_id": item_id, "content_index": 0, "transcript": transcript }),
            ));
            item["content"][0]["transcript"] = json!(transcript);
        }
        out.push(self.send("conversation.item.done", json!({ "previous_item_id": previous, "item": item })));
        out
    }

    fn create_item(&mut self, item: Option<&Value>, client_id: Option<String>) -> Vec<Action> {
        let Some(item) = item.filter(|i| i.is_object()) else {
            return self.error(
                "invalid_request_error",
                "missing_required_parameter",
                "Missing required parameter: 'item'.",
                client_id,
            );
        };
        let id = match item.get("id").and_then(Value::as_str) {
            Some(id) if !id.is_empty() && id.len() <= 64 => id.to_string(),
            _ => self.id("item"),
        };
        let mut stored = match item.get("type").and_then(Value::as_str) {
            Some("function_call_output") => {
                let (Some(call_id), Some(output)) =
                    (item.get("call_id").and_then(Value::as_str), item.get("output").and_then(Value::as_str))
                else {
                    return self.error(
                        "invalid_request_error",
                        "missing_required_parameter",
                        "Missing required parameter: 'item.call_id' or 'item.output'.",
                        client_id,
                    );
                };
                let stored = json!({ "type": "function_call_output", "call_id": call_id, "output": output });
                self.record_output(call_id, output);
                stored
            }
            Some("message") => {
                let text: Vec<&str> = item
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.get("text").and_then(Value::as_str))
                    .collect();
                let role = item.get("role").and_then(Value::as_str).unwrap_or("user");
                if role == "user" && !text.is_empty() {
                    self.pending_user = Some(text.join(" "));
                }
                let mut m = item.clone();
                m["role"] = json!(role);
                m
            }
            _ => {
                tracing::warn!("conversation.item.create with an unsupported item type");
                return self.error(
                    "invalid_request_error",
                    "invalid_value",
                    "Invalid value: 'item.type'. Supported values are: 'message' and 'function_call_output'.",
                    client_id,
                );
            }
        };
        stored["id"] = json!(id);
        stored["object"] = json!("realtime.item");
        stored["status"] = json!("completed");
        let previous = self.last_item_id.replace(id);
        let mut out = self.item_added(&previous, &stored);
        out.push(self.send("conversation.item.done", json!({ "previous_item_id": previous, "item": stored })));
        out
    }

    /// `response.create`: a tool call for an unanswered transcript, else a spoken reply.
    fn respond(&mut self, client_id: Option<String>) -> Vec<Action> {
        if let Some(s) = &self.speaking {
            let message = format!(
                "Conversation already has an active response in progress: {}. Wait until the response is finished before creating a new one.",
                s.response_id
            );
            return self.error(
                "invalid_request_error",
                "conversation_already_has_active_response",
                &message,
                client_id,
            );
        }
        if let Some(t) = self.transcribing.back_mut() {
            // The answer follows the transcript.
            t.respond = true;
            return Vec::new();
        }
        match self.pending_user.take() {
            Some(text) => {
                self.queued.clear();
                let names: Vec<String> = self.cart.iter().map(|l| l.name.clone()).collect();
                if let Some(actions) = self.change(&text) {
                    return actions;
                }
                // "No" to "Anything else?" is that's all.
                let no_more = || self.asked_for_more().then(|| self.matcher.no_more(&text)).flatten();
                match self.matcher.match_utterance(&text, &names).or_else(no_more) {
                    Some(call) => self.call_tool(call),
                    None if self.matcher.is_decline(&text, &names) => self.speak(DECLINED_REPLY),
                    None => self.speak(NOT_UNDERSTOOD_REPLY),
                }
            }
            None if !self.queued.is_empty() => {
                let call = self.queued.pop_front().expect("checked non-empty");
                self.call_tool(call)
            }
            None => {
                let sentence = match &self.outcome_reply {
                    Some(reply) => reply.clone(),
                    None => reply_sentence(self.last_call.as_ref()).to_string(),
                };
                self.speak(&sentence)
            }
        }
    }

    fn call_tool(&mut self, call: ToolCall) -> Vec<Action> {
        let response_id = self.id("resp");
        let item_id = self.id("item");
        let call_id = self.id("call");
        let arguments = call.arguments.to_string();
        let mut item = json!({
            "id": item_id, "object": "realtime.item", "type": "function_call", "status": "in_progress",
            "name": call.name, "call_id": call_id, "arguments": "",
        });
        let mut out = vec![
            self.send(
                "response.created",
                json!({ "response": response(&response_id, "in_progress", Value::Null, vec![]) }),
            ),
            self.send(
                "response.output_item.added",
                json!({ "response_id": response_id, "output_index": 0, "item": item }),
            ),
        ];
        let chars: Vec<char> = arguments.chars().collect();
        for chunk in chars.chunks(CHARS_PER_ARGS_DELTA) {
            let delta: String = chunk.iter().collect();
            out.push(self.send(
                "response.function_call_arguments.delta",
                json!({ "response_id": response_id, "item_id": item_id, "output_index": 0, "call_id": call_id, "delta": delta }),
            ));
        }
        out.push(self.send(
            "response.function_call_arguments.done",
            json!({ "response_id": response_id, "item_id": item_id, "output_index": 0, "call_id": call_id, "name": call.name, "arguments": arguments }),
        ));
        item["status"] = json!("completed");
        item["arguments"] = json!(arguments);
        out.push(
            self.send(
                "response.output_item.done",
                json!({ "response_id": response_id, "output_index": 0, "item": item }),
            ),
        );
        out.push(self.send(
            "response.done",
            json!({ "response": response(&response_id, "completed", Value::Null, vec![item]) }),
        ));
        self.last_item_id = Some(item_id);
        self.update_cart(&call);
        self.last_call = Some(call);
        self.last_call_id = Some(call_id);
        self.outcome_reply = None;
        out
    }

    /// Reads what the kiosk answered to the last tool call, for the next spoken reply. An output
    /// for another call, too large, or not the kiosk's JSON leaves the fixed sentence.
    fn record_output(&mut self, call_id: &str, output: &str) {
        let Some(call) = self.last_call.as_ref().filter(|_| self.last_call_id.as_deref() == Some(call_id)) else {
            tracing::info!(bytes = output.len(), "function_call_output for a call other than the last: not read back");
            return;
        };
        if output.len() > MAX_FUNCTION_OUTPUT_BYTES {
            tracing::warn!(
                tool = call.name,
                bytes = output.len(),
                limit = MAX_FUNCTION_OUTPUT_BYTES,
                "function_call_output too large to read back: the reply is the fixed sentence"
            );
            // A checkout not known to be placed may have asked to confirm.
            self.confirming |= call.arguments["action"] == "checkout";
            return;
        }
        let answer = serde_json::from_str::<Value>(output).ok();
        let flag = |key: &str| answer.as_ref().and_then(|v| v.get(key)).and_then(Value::as_bool);
        let action = call.arguments["action"].as_str();
        if flag("ok") == Some(false) {
            // The kiosk did not do it: the order is as it was, and the rest of a change is off.
            // A question the kiosk asked before still stands.
            self.cart = std::mem::take(&mut self.cart_before);
            self.queued.clear();
        } else if flag("placed") == Some(true) {
            self.cart.clear();
            self.confirming = false;
        } else if flag("needs_confirmation") == Some(true) || action == Some("checkout") {
            self.confirming = true;
        } else if flag("ok") == Some(true)
            && (matches!(call.name, "add_to_order" | "remove_from_order") || action == Some("cancel"))
        {
            // The order changed: the kiosk asks again before placing it.
            self.confirming = false;
        }
        self.outcome_reply = outcome_reply(call, output);
        if self.outcome_reply.is_none() {
            tracing::info!(
                tool = call.name,
                bytes = output.len(),
                "function_call_output has nothing to read back (not the kiosk's JSON, or no message): the reply is the fixed sentence"
            );
        }
    }

    fn speak(&mut self, sentence: &str) -> Vec<Action> {
        let response_id = self.id("resp");
        let item_id = self.id("item");
        let item = json!({
            "id": item_id, "object": "realtime.item", "type": "message", "status": "in_progress",
            "role": "assistant", "content": [],
        });
        let previous = self.last_item_id.replace(item_id.clone());
        let mut out = vec![
            self.send(
                "response.created",
                json!({ "response": response(&response_id, "in_progress", Value::Null, vec![]) }),
            ),
            self.send(
                "response.output_item.added",
                json!({ "response_id": response_id, "output_index": 0, "item": item }),
            ),
        ];
        out.extend(self.item_added(&previous, &item));
        out.push(Action::Speak { response_id: response_id.clone(), text: sentence.to_string() });
        self.asked_more = sentence.ends_with(ANYTHING_ELSE);
        let mut item = item;
        item["content"] = json!([{ "type": "output_audio", "transcript": sentence }]);
        self.speaking = Some(Speaking { response_id, item, sentence: sentence.to_string() });
        out
    }

    fn cancel_reply(&mut self) -> Vec<Action> {
        let Some(Speaking { response_id, mut item, .. }) = self.speaking.take() else {
            return Vec::new();
        };
        item["status"] = json!("incomplete");
        let details = json!({ "type": "cancelled", "reason": "client_cancelled" });
        vec![
            Action::StopReply,
            self.send("output_audio_buffer.cleared", json!({ "response_id": response_id })),
            self.send("response.done", json!({ "response": response(&response_id, "cancelled", details, vec![item]) })),
        ]
    }

    /// Follows `call` in this conversation's copy of the order, as the kiosk's cart does it:
    /// the same item with the same options adds up; a removal takes from the last lines first.
    fn update_cart(&mut self, call: &ToolCall) {
        self.cart_before = self.cart.clone();
        match call.name {
            "add_to_order" => {
                for i in call.arguments["items"].as_array().into_iter().flatten() {
                    let Some(name) = i["name"].as_str() else { continue };
                    let quantity = i["quantity"].as_u64().and_then(|q| u32::try_from(q).ok()).unwrap_or(1);
                    let mut options: Vec<String> = i["options"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|o| o.as_str().map(str::to_string))
                        .collect();
                    options.sort();
                    match self.cart.iter().position(|l| l.name == name && l.options == options) {
                        Some(at) => {
                            // The same line said again becomes the last one changes apply to.
                            let mut line = self.cart.remove(at);
                            line.quantity += quantity;
                            self.cart.push(line);
                        }
                        None => self.cart.push(Line { name: name.to_string(), quantity, options }),
                    }
                }
            }
            "remove_from_order" => {
                let Some(name) = call.arguments["name"].as_str() else { return };
                let mut left =
                    call.arguments["quantity"].as_u64().map_or(u32::MAX, |q| u32::try_from(q).unwrap_or(u32::MAX));
                for line in self.cart.iter_mut().rev().filter(|l| l.name == name) {
                    let take = left.min(line.quantity);
                    line.quantity -= take;
                    left -= take;
                }
                self.cart.retain(|l| l.quantity > 0);
            }
            _ if call.arguments["action"] == "cancel" => self.cart.clear(),
            // A checkout only asks first: the order is kept until the kiosk says it is placed.
            _ => {}
        }
    }

    /// "Make it two", "make that a large": the tool calls that change the last line, or a
    /// reply when there is nothing to change. `None` when `text` asks for no change.
    fn change(&mut self, text: &str) -> Option<Vec<Action>> {
        let last = self.cart.last()?.clone();
        let change = self.matcher.change(text, &last.name)?;
        let calls = match change {
            Change::Quantity(n) if n > last.quantity => vec![add_call(&last.name, n - last.quantity, &last.options)],
            Change::Quantity(n) if n < last.quantity => vec![remove_call(&last.name, last.quantity - n)],
            Change::Quantity(_) => Vec::new(),
            Change::Choice { said, group } => {
                let mut options: Vec<String> = last
                    .options
                    .iter()
                    .filter(|o| self.matcher.group_of(&last.name, o) != Some(group.as_str()))
                    .cloned()
                    .collect();
                options.push(said);
                options.sort();
                if options == last.options {
                    Vec::new()
                } else {
                    vec![remove_call(&last.name, last.quantity), add_call(&last.name, last.quantity, &options)]
                }
            }
        };
        let mut calls = calls.into_iter();
        let Some(first) = calls.next() else {
            let reply = format!("You have {} × {} already. {ANYTHING_ELSE}", last.quantity, last.name);
            return Some(self.speak(&reply));
        };
        self.queued.extend(calls);
        Some(self.call_tool(first))
    }

    /// Whether a commit starts a response by itself (server VAD with `create_response`, the
    /// default), read from the GA (`audio.input.turn_detection`) or beta (`turn_detection`) field.
    fn auto_respond(&self) -> bool {
        let td = self.session.get("turn_detection").or_else(|| self.session.pointer("/audio/input/turn_detection"));
        match td {
            None => true,
            Some(Value::Null) => false,
            Some(t) => t.get("create_response").and_then(Value::as_bool).unwrap_or(true),
        }
    }

    fn reset_turn(&mut self) {
        self.turn_micros = 0;
        self.turn_bytes = 0;
    }

    fn item_added(&mut self, previous: &Option<String>, item: &Value) -> Vec<Action> {
        let body = json!({ "previous_item_id": previous, "item": item });
        let mut out = vec![self.send("conversation.item.added", body.clone())];
        if !self.faults.drop_item_created {
            out.push(self.send("conversation.item.created", body));
        }
        out
    }

    fn error(&mut self, kind: &str, code: &str, message: &str, client_event_id: Option<String>) -> Vec<Action> {
        vec![self.send(
            "error",
            json!({ "error": { "type": kind, "code": code, "message": message, "param": null, "event_id": client_event_id } }),
        )]
    }

    fn send(&mut self, kind: &str, body: Value) -> Action {
        Action::Send(self.event(kind, body))
    }

    fn event(&mut self, kind: &str, mut body: Value) -> Value {
        body["type"] = json!(kind);
        body["event_id"] = json!(self.id("event"));
        body
    }

    fn id(&mut self, kind: &str) -> String {
        self.counter += 1;
        format!("{kind}_{}{:04}", self.prefix, self.counter)
    }
}

fn user_item(item_id: &str, transcript: Value) -> Value {
    json!({
        "id": item_id, "object": "realtime.item", "type": "message", "status": "completed",
        "role": "user", "content": [{"type": "input_audio", "transcript": transcript}],
    })
}

fn add_call(name: &str, quantity: u32, options: &[String]) -> ToolCall {
    ToolCall {
        name: "add_to_order",
        arguments: json!({ "items": [{ "name": name, "quantity": quantity, "options": options }] }),
    }
}

fn remove_call(name: &str, quantity: u32) -> ToolCall {
    ToolCall { name: "remove_from_order", arguments: json!({ "name": name, "quantity": quantity }) }
}

fn response(id: &str, status: &str, details: Value, output: Vec<Value>) -> Value {
    json!({
        "id": id, "object": "realtime.response", "status": status, "status_details": details,
        "output": output, "output_modalities": ["audio"], "usage": null,
    })
}

/// The reply for a tool call the kiosk answered with nothing the peer reads (an older client).
fn reply_sentence(call: Option<&ToolCall>) -> &'static str {
    match call.map(|c| (c.name, c.arguments["action"].as_str())) {
        Some(("add_to_order", _)) => GOT_IT_REPLY,
        Some(("remove_from_order", _)) => "Okay, I removed that.",
        Some((_, Some("checkout"))) => PLACED_REPLY,
        Some((_, Some("cancel"))) => "Okay, I cancelled the order.",
        Some((_, Some("review"))) => "Here is your order so far.",
        _ => "How can I help you?",
    }
}

/// The reply that reads back the kiosk's answer `output` to `call`:
/// `{"ok":true,"message":…}` (with `needs_confirmation` or `placed` for a checkout) or
/// `{"ok":false,"error":…}`. `None` when `output` is not that JSON or says nothing to read back.
fn outcome_reply(call: &ToolCall, output: &str) -> Option<String> {
    let v: Value = serde_json::from_str(output).ok()?;
    let ok = v.get("ok")?.as_bool()?;
    let text = |key: &str| v.get(key).and_then(Value::as_str).map(str::trim).filter(|t| !t.is_empty());
    if !ok {
        return Some(match text("error") {
            Some(error) => format!("Sorry, {}", sentence(&clip(error, MAX_SPOKEN_ERROR_CHARS))),
            None => "Sorry, that didn't work.".to_string(),
        });
    }
    let flag = |key: &str| v.get(key).and_then(Value::as_bool).unwrap_or(false);
    if flag("needs_confirmation") {
        // The kiosk's message asks the question ("That's …, $22.47. Shall I place it?").
        return Some(match text("message") {
            Some(message) => clip(message, MAX_SPOKEN_MESSAGE_CHARS),
            None => "Shall I place the order?".to_string(),
        });
    }
    if flag("placed") {
        return Some(PLACED_REPLY.to_string());
    }
    let message = text("message").map(|m| sentence(&clip(m, MAX_SPOKEN_MESSAGE_CHARS)));
    match (call.name, call.arguments["action"].as_str()) {
        ("add_to_order" | "remove_from_order", _) => message.map(|m| format!("{m} {ANYTHING_ELSE}")),
        (_, Some("review")) => message,
        (_, Some("cancel")) => Some("Okay, I cancelled the order.".to_string()),
        _ => None,
    }
}

/// `text` ending like a sentence (a full stop added when it ends without one).
fn sentence(text: &str) -> String {
    match text.trim_end().chars().last() {
        Some('.' | '!' | '?' | '…') | None => text.trim_end().to_string(),
        Some(_) => format!("{}.", text.trim_end()),
    }
}

/// `text` of at most `max` characters (and the ellipsis), cut at a word when it is longer.
fn clip(text: &str, max: usize) -> String {
    let Some((end, next)) = text.char_indices().nth(max) else {
        return text.to_string();
    };
    let head = &text[..end];
    // A word running past the limit goes whole.
    let cut = match head.rfind(char::is_whitespace) {
        Some(at) if at > 0 && !next.is_whitespace() => &head[..at],
        _ => head,
    };
    format!("{}…", cut.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '.')))
}

/// Deep-merges `patch` into `target` (objects key by key; anything else replaces).
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                merge(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (t, p) => *t = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation() -> Conversation {
        let session = json!({"type": "realtime", "instructions": "hi", "audio": {"input": {"turn_detection": {"type": "server_vad"}}}});
        Conversation::new("t".into(), session, Arc::new(Matcher::new(&[])), ConversationFaults::default())
    }

    fn sent(actions: Vec<Action>) -> Vec<Value> {
        actions.into_iter().filter_map(|a| if let Action::Send(v) = a { Some(v) } else { None }).collect()
    }

    fn handle(c: &mut Conversation, event: &Value) -> Vec<Value> {
        sent(c.handle_text(&event.to_string()))
    }

    fn session_of(c: &mut Conversation) -> Value {
        handle(c, &json!({"type": "session.update", "session": {}})).remove(0)["session"].clone()
    }

    #[test]
    fn a_session_update_over_the_limit_is_refused_and_changes_nothing() {
        let mut c = conversation();
        let before = session_of(&mut c);
        let pad = "x".repeat(MAX_SESSION_UPDATE_BYTES);
        let out =
            handle(&mut c, &json!({"type": "session.update", "event_id": "e1", "session": {"instructions": pad}}));
        assert_eq!(out.len(), 1);
        let error = &out[0]["error"];
        assert_eq!((out[0]["type"].as_str(), error["type"].as_str()), (Some("error"), Some("invalid_request_error")));
        assert_eq!(
            (error["code"].as_str(), error["event_id"].as_str()),
            (Some("session_update_too_large"), Some("e1"))
        );
        assert!(error["message"].as_str().unwrap().contains(&format!("limit is {MAX_SESSION_UPDATE_BYTES} bytes")));
        assert_eq!(session_of(&mut c), before);
    }

    #[test]
    fn updates_under_the_limit_cannot_add_up_to_an_unbounded_session() {
        let mut c = conversation();
        let chunk = "y".repeat(MAX_SESSION_UPDATE_BYTES / 2);
        let mut refused = None;
        for i in 0..10 {
            let out = handle(&mut c, &json!({"type": "session.update", "session": {format!("k{i}"): chunk}}));
            if out[0]["type"] == "error" {
                refused = Some(out[0]["error"]["code"].clone());
                break;
            }
        }
        assert_eq!(refused, Some(json!("session_too_large")));
        assert!(session_of(&mut c).to_string().len() <= MAX_SESSION_BYTES);
        // Replacing a field with something no larger is still accepted.
        let out = handle(&mut c, &json!({"type": "session.update", "session": {"k0": "short"}}));
        assert_eq!(out[0]["type"], "session.updated");
    }

    #[test]
    fn any_client_event_over_its_limit_is_refused() {
        let mut c = conversation();
        let big = json!({"type": "conversation.item.create", "item": {"type": "message", "content": [{"type": "input_text", "text": "z".repeat(MAX_CLIENT_EVENT_BYTES)}]}});
        let out = handle(&mut c, &big);
        assert_eq!(out[0]["error"]["code"], "event_too_large");
    }

    /// A conversation over the bundled menu that answers each commit by itself.
    fn kiosk_conversation() -> Conversation {
        let menu = crate::voice::bundled_menu();
        let session = json!({"type": "realtime", "audio": {"input": {"turn_detection": {"type": "server_vad"}}}});
        Conversation::new("k".into(), session, Arc::new(Matcher::new(&menu.items)), ConversationFaults::default())
    }

    /// The customer says `transcript`: 200 ms of audio, then a commit.
    fn say(c: &mut Conversation, transcript: &str) -> Vec<Action> {
        for _ in 0..10 {
            c.handle_audio(&crate::voice::audio::SILENCE_FRAME);
        }
        let commit = json!({"type": "input_audio_buffer.commit"}).to_string();
        let actions = c.handle_text(&commit);
        hear(c, actions, transcript)
    }

    /// `actions` with the turn they ask to transcribe heard as `transcript`, and what follows.
    fn hear(c: &mut Conversation, actions: Vec<Action>, transcript: &str) -> Vec<Action> {
        let item_id = actions
            .iter()
            .find_map(|a| if let Action::Transcribe { item_id } = a { Some(item_id.clone()) } else { None })
            .unwrap_or_else(|| panic!("no turn to transcribe: {actions:?}"));
        let mut all = actions;
        all.extend(c.transcribed(&item_id, transcript));
        all
    }

    /// The reply `actions` start speaking: its response id and text.
    fn speak_action(actions: &[Action]) -> (String, String) {
        actions
            .iter()
            .find_map(|a| match a {
                Action::Speak { response_id, text } => Some((response_id.clone(), text.clone())),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no reply spoken: {actions:?}"))
    }

    /// The tool call `transcript` makes: its name, arguments and `call_id`.
    fn tool_call(c: &mut Conversation, transcript: &str) -> (String, Value, String) {
        let events = sent(say(c, transcript));
        let done = events
            .iter()
            .find(|e| e["type"] == "response.function_call_arguments.done")
            .unwrap_or_else(|| panic!("no tool call for {transcript:?}: {events:?}"));
        let arguments = serde_json::from_str(done["arguments"].as_str().unwrap()).unwrap();
        (done["name"].as_str().unwrap().into(), arguments, done["call_id"].as_str().unwrap().into())
    }

    /// The transcript of a spoken reply among `actions` (which must start playing it), played to
    /// its end.
    fn spoken(c: &mut Conversation, actions: Vec<Action>) -> String {
        let (response_id, text) = speak_action(&actions);
        let timeline = c.reply_audio(&response_id, 100);
        let frames: Vec<usize> = timeline.iter().map(|(at, _)| *at).collect();
        assert!(frames.windows(2).all(|w| w[0] <= w[1]) && frames.iter().all(|f| *f < 100), "{frames:?}");
        let events = sent(timeline.into_iter().map(|(_, a)| a).collect());
        assert_eq!(events[0]["type"], "output_audio_buffer.started");
        let deltas: String = events
            .iter()
            .filter(|e| e["type"] == "response.output_audio_transcript.delta")
            .map(|e| e["delta"].as_str().unwrap())
            .collect();
        let finished = sent(c.reply_finished());
        assert_eq!(finished[0]["type"], "response.output_audio_transcript.done");
        let transcript = finished[0]["transcript"].as_str().unwrap().to_string();
        assert_eq!(transcript, text);
        assert_eq!(deltas, transcript.split_whitespace().collect::<Vec<_>>().join(" "));
        assert_eq!(finished.last().unwrap()["response"]["status"], "completed");
        transcript
    }

    /// The kiosk answers `call_id` with `output` (any JSON value as the item's `output`) and asks
    /// for a response: what the peer says.
    fn answer(c: &mut Conversation, call_id: &str, output: Value) -> String {
        let item = json!({"type": "conversation.item.create", "item": {"type": "function_call_output", "call_id": call_id, "output": output}});
        let out = handle(c, &item);
        if output.is_string() {
            assert_eq!(out.last().unwrap()["type"], "conversation.item.done", "{out:?}");
        }
        let actions = c.handle_text(r#"{"type":"response.create"}"#);
        spoken(c, actions)
    }

    #[test]
    fn the_reply_reads_back_what_the_kiosk_did() {
        let mut c = kiosk_conversation();
        let (name, _, id) = tool_call(&mut c, "two cheeseburgers and a large fries");
        assert_eq!(name, "add_to_order");
        let output =
            json!({"ok": true, "message": "Added 2 × Cheeseburger, 1 × Fries (Large).", "order": {"items": []}});
        assert_eq!(
            answer(&mut c, &id, json!(output.to_string())),
            "Added 2 × Cheeseburger, 1 × Fries (Large). Anything else?"
        );

        let (name, _, id) = tool_call(&mut c, "remove the fries");
        assert_eq!(name, "remove_from_order");
        let output = json!({"ok": true, "message": "Removed 1 × Large Fries", "order": {}});
        assert_eq!(answer(&mut c, &id, json!(output.to_string())), "Removed 1 × Large Fries. Anything else?");

        let (_, args, id) = tool_call(&mut c, "what's in my order");
        assert_eq!(args, json!({"action": "review"}));
        let output = json!({"ok": true, "message": "You have 2 × Cheeseburger, $15.98 so far.", "order": {}});
        assert_eq!(answer(&mut c, &id, json!(output.to_string())), "You have 2 × Cheeseburger, $15.98 so far.");

        let (_, args, id) = tool_call(&mut c, "cancel my order");
        assert_eq!(args, json!({"action": "cancel"}));
        let output = json!({"ok": true, "message": "Cancelled the order.", "order": {}});
        assert_eq!(answer(&mut c, &id, json!(output.to_string())), "Okay, I cancelled the order.");
    }

    #[test]
    fn checkout_asks_the_kiosk_s_question_and_a_yes_places_the_order() {
        let mut c = kiosk_conversation();
        let (_, _, id) = tool_call(&mut c, "two cheeseburgers");
        answer(&mut c, &id, json!(r#"{"ok":true,"message":"Added 2 × Cheeseburger."}"#));
        let (_, args, id) = tool_call(&mut c, "that's all");
        assert_eq!(args, json!({"action": "checkout"}));
        let question = "That's 2 × Cheeseburger and 1 × Fries (Large), $22.47. Shall I place it?";
        let output = json!({"ok": true, "needs_confirmation": true, "message": question, "order": {"total": "$22.47"}});
        assert_eq!(answer(&mut c, &id, json!(output.to_string())), question);

        // "No": nothing is called, the peer asks what to change.
        let actions = say(&mut c, "not yet");
        assert!(!sent(actions.clone()).iter().any(|e| e["type"] == "response.function_call_arguments.done"));
        assert_eq!(spoken(&mut c, actions), DECLINED_REPLY);

        let (name, args, id) = tool_call(&mut c, "yes please");
        assert_eq!((name.as_str(), args), ("confirm_order", json!({"action": "checkout"})));
        let output = json!({"ok": true, "placed": true, "message": "Placing the order.", "order": {}});
        assert_eq!(answer(&mut c, &id, json!(output.to_string())), PLACED_REPLY);
    }

    #[test]
    fn no_to_anything_else_is_that_s_all_but_not_before_an_order_or_to_the_read_back() {
        // Nothing ordered yet: "no" asks what to change, and nothing is called.
        let mut c = kiosk_conversation();
        let actions = say(&mut c, "no");
        assert!(!sent(actions.clone()).iter().any(|e| e["type"] == "response.function_call_arguments.done"));
        assert_eq!(spoken(&mut c, actions), DECLINED_REPLY);

        // "Anything else?" "No thanks." is the checkout; "not yet" is not.
        let (_, _, id) = tool_call(&mut c, "two cheeseburgers");
        assert_eq!(
            answer(&mut c, &id, json!(r#"{"ok":true,"message":"Added 2 × Cheeseburger."}"#)),
            "Added 2 × Cheeseburger. Anything else?"
        );
        let actions = say(&mut c, "not yet");
        assert_eq!(spoken(&mut c, actions), DECLINED_REPLY);
        // That asked what to change, not "Anything else?": a "no" to it is no checkout.
        let actions = say(&mut c, "no");
        assert_eq!(spoken(&mut c, actions), DECLINED_REPLY);
        let (_, _, id) = tool_call(&mut c, "a cola");
        answer(&mut c, &id, json!(r#"{"ok":true,"message":"Added 1 × Cola."}"#));
        let (name, args, id) = tool_call(&mut c, "no thanks");
        assert_eq!((name.as_str(), args), ("confirm_order", json!({"action": "checkout"})));

        // "Shall I place it?" "No." is not a checkout, nor after a review or a refused change
        // (the kiosk's question still stands: a checkout now would place the order).
        let question = "That's 2 × Cheeseburger, $11.98. Shall I place it?";
        let output = json!({"ok": true, "needs_confirmation": true, "message": question});
        assert_eq!(answer(&mut c, &id, json!(output.to_string())), question);
        let actions = say(&mut c, "no");
        assert_eq!(spoken(&mut c, actions), DECLINED_REPLY);
        let (_, args, id) = tool_call(&mut c, "what's in my order");
        assert_eq!(args, json!({"action": "review"}));
        answer(&mut c, &id, json!(r#"{"ok":true,"message":"2 × Cheeseburger."}"#));
        let actions = say(&mut c, "nope");
        assert_eq!(spoken(&mut c, actions), DECLINED_REPLY);
        let (_, _, id) = tool_call(&mut c, "a vanilla shake");
        answer(&mut c, &id, json!(r#"{"ok":false,"error":"Vanilla Shake is sold out."}"#));
        let actions = say(&mut c, "no");
        assert_eq!(spoken(&mut c, actions), DECLINED_REPLY);
        // A change the kiosk made needs a new question: "no" to its "Anything else?" is the
        // checkout again.
        let (_, _, id) = tool_call(&mut c, "a cola");
        answer(&mut c, &id, json!(r#"{"ok":true,"message":"Added 1 × Cola."}"#));
        let (name, args, _) = tool_call(&mut c, "no");
        assert_eq!((name.as_str(), args), ("confirm_order", json!({"action": "checkout"})));
    }

    #[test]
    fn a_refusal_is_read_back_after_sorry_and_clipped() {
        let mut c = kiosk_conversation();
        let (_, _, id) = tool_call(&mut c, "a cola");
        let output = json!({"ok": false, "error": "Cola needs a size: Small, Medium or Large"});
        assert_eq!(answer(&mut c, &id, json!(output.to_string())), "Sorry, Cola needs a size: Small, Medium or Large.");

        let (_, _, id) = tool_call(&mut c, "a cola");
        let long = "word ".repeat(200);
        let reply = answer(&mut c, &id, json!(json!({"ok": false, "error": long}).to_string()));
        assert!(reply.starts_with("Sorry, word word") && reply.ends_with("word…"), "{reply}");
        assert!(reply.chars().count() <= "Sorry, ".len() + MAX_SPOKEN_ERROR_CHARS + 1, "{}", reply.len());

        let (_, _, id) = tool_call(&mut c, "a cola");
        assert_eq!(answer(&mut c, &id, json!(r#"{"ok":false}"#)), "Sorry, that didn't work.");
    }

    #[test]
    fn without_a_readable_output_the_reply_is_the_fixed_sentence() {
        let mut c = kiosk_conversation();
        // An older client: no output at all.
        tool_call(&mut c, "a vanilla shake");
        let actions = c.handle_text(r#"{"type":"response.create"}"#);
        assert_eq!(spoken(&mut c, actions), "Got it. Anything else?");
        for output in [
            json!("not json"),
            json!("[1, 2]"),
            json!(r#"{"ok":"yes","message":"Added 1 × Vanilla Shake."}"#),
            json!(r#"{"message":"Added 1 × Vanilla Shake."}"#),
            json!(r#"{"ok":true}"#),
            json!(r#"{"ok":true,"message":42}"#),
            json!(""),
            // Not a string: refused as an item, and the reply is the fixed one.
            json!({"ok": true, "message": "Added 1 × Vanilla Shake."}),
            json!(null),
        ] {
            let (_, _, id) = tool_call(&mut c, "a vanilla shake");
            assert_eq!(answer(&mut c, &id, output.clone()), "Got it. Anything else?", "{output}");
        }
        // An output for another call is not read back.
        let (_, _, _) = tool_call(&mut c, "a vanilla shake");
        let output = json!({"ok": true, "message": "Added 9 × Cola."}).to_string();
        assert_eq!(answer(&mut c, "call_other", json!(output)), "Got it. Anything else?");
        // Nor is an output to an older call once another was made.
        let (_, _, old) = tool_call(&mut c, "a vanilla shake");
        let (_, _, _) = tool_call(&mut c, "remove the vanilla shake");
        assert_eq!(answer(&mut c, &old, json!(output)), "Okay, I removed that.");
        // A checkout the kiosk answered without asking (an older kiosk) is placed.
        let (_, _, id) = tool_call(&mut c, "checkout");
        assert_eq!(answer(&mut c, &id, json!(r#"{"ok":true,"message":"Order 12 placed."}"#)), PLACED_REPLY);
    }

    #[test]
    fn an_output_over_the_limit_is_not_read_back() {
        let mut c = kiosk_conversation();
        let (_, _, id) = tool_call(&mut c, "a cola");
        let message = "Added 1 × Cola.";
        let fits = |pad: usize| json!({"ok": true, "message": message, "order": {"pad": "p".repeat(pad)}}).to_string();
        let base = fits(0).len();
        let at_limit = fits(MAX_FUNCTION_OUTPUT_BYTES - base);
        assert_eq!(at_limit.len(), MAX_FUNCTION_OUTPUT_BYTES);
        assert_eq!(answer(&mut c, &id, json!(at_limit)), "Added 1 × Cola. Anything else?");
        let (_, _, id) = tool_call(&mut c, "a cola");
        let over = fits(MAX_FUNCTION_OUTPUT_BYTES - base + 1);
        assert_eq!(answer(&mut c, &id, json!(over)), "Got it. Anything else?");
        // A message longer than a sentence should be is clipped at a word.
        let (_, _, id) = tool_call(&mut c, "a cola");
        let long = "Added 1 × Cola, ".repeat(100);
        let reply = answer(&mut c, &id, json!(json!({"ok": true, "message": long}).to_string()));
        let kept = reply.strip_suffix("… Anything else?").unwrap_or_else(|| panic!("{reply}"));
        assert!(long.starts_with(kept) && long[kept.len()..].starts_with([' ', ',']), "cut inside a word: {reply}");
        assert!(kept.chars().count() <= MAX_SPOKEN_MESSAGE_CHARS);
    }

    #[test]
    fn clip_cuts_at_a_word_and_sentence_ends_one() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("one two three", 9), "one two…");
        assert_eq!(clip("one, two three", 6), "one…");
        assert_eq!(clip("abcdefghij", 4), "abcd…");
        assert_eq!(clip("one two", 3), "one…");
        assert_eq!(clip("one two", 7), "one two");
        assert_eq!(clip("ünïcödé wörds", 9), "ünïcödé…");
        assert_eq!(sentence("Removed it"), "Removed it.");
        assert_eq!(sentence("Removed it! "), "Removed it!");
        assert_eq!(sentence("Shall I?"), "Shall I?");
    }

    #[test]
    fn barge_in_cancels_the_reply_and_the_next_turn_is_normal() {
        // The kiosk sends response.cancel then output_audio_buffer.clear, or the other way round.
        for first in ["response.cancel", "output_audio_buffer.clear"] {
            let mut c = kiosk_conversation();
            let playing = say(&mut c, "hello there");
            speak_action(&playing);
            let response_id =
                sent(playing).iter().find(|e| e["type"] == "response.created").unwrap()["response"]["id"].clone();

            let actions = c.handle_text(&json!({"type": first}).to_string());
            assert_eq!(actions.first(), Some(&Action::StopReply), "{first}");
            let events = sent(actions);
            let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
            assert_eq!(kinds, ["output_audio_buffer.cleared", "response.done"], "{first}");
            assert_eq!(events[0]["response_id"], response_id);
            let response = &events[1]["response"];
            assert_eq!((&response["id"], response["status"].as_str()), (&response_id, Some("cancelled")));
            assert_eq!(response["status_details"], json!({"type": "cancelled", "reason": "client_cancelled"}));
            assert_eq!(response["output"][0]["status"], "incomplete");
            // The playback the call stops does not finish the cancelled response a second time.
            assert!(c.reply_finished().is_empty());

            // The other of the pair, with nothing active.
            let clear = handle(&mut c, &json!({"type": "output_audio_buffer.clear"}));
            assert_eq!(clear.len(), 1);
            assert_eq!(clear[0]["type"], "output_audio_buffer.cleared");
            let e = handle(&mut c, &json!({"type": "response.cancel", "event_id": "evt_late"}));
            assert_eq!(e.len(), 1);
            assert_eq!(
                e[0]["error"],
                json!({"type": "invalid_request_error", "code": "response_cancel_not_active",
                       "message": "Cancellation failed: no active response found.", "param": null, "event_id": "evt_late"})
            );

            // The customer talks: the kiosk clears what it had sent and commits the new turn.
            c.handle_audio(&crate::voice::audio::SILENCE_FRAME);
            let cleared = handle(&mut c, &json!({"type": "input_audio_buffer.clear"}));
            assert_eq!(cleared[0]["type"], "input_audio_buffer.cleared");
            assert_eq!(c.turn_bytes(), 0);
            let events = sent(say(&mut c, "a cola"));
            let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
            assert_eq!(kinds.first(), Some(&"input_audio_buffer.committed"), "{kinds:?}");
            assert!(kinds.contains(&"response.function_call_arguments.done"), "{kinds:?}");
            assert_eq!(events.last().unwrap()["response"]["status"], "completed");
            assert!(!kinds.contains(&"error"), "{kinds:?}");
            let (_, _, id) = tool_call(&mut c, "a cola");
            let output = json!({"ok": true, "message": "Added 1 × Cola."}).to_string();
            assert_eq!(answer(&mut c, &id, json!(output)), "Added 1 × Cola. Anything else?");
        }
    }

    #[test]
    fn a_response_asked_for_before_the_transcript_follows_it() {
        let mut c = kiosk_conversation();
        c.handle_text(r#"{"type":"session.update","session":{"audio":{"input":{"turn_detection":null}}}}"#);
        assert_eq!(c.turn_detection(), None, "push-to-talk");
        for _ in 0..10 {
            c.handle_audio(&crate::voice::audio::SILENCE_FRAME);
        }
        let committed = c.handle_text(r#"{"type":"input_audio_buffer.commit"}"#);
        assert_eq!(committed.last(), Some(&Action::BeginTurn), "the next turn starts at once");
        // The kiosk asks for the answer before the transcript is in: nothing yet.
        assert!(c.handle_text(r#"{"type":"response.create"}"#).is_empty());
        let Some(Action::Transcribe { item_id }) = committed.iter().find(|a| matches!(a, Action::Transcribe { .. }))
        else {
            panic!("{committed:?}")
        };
        // A transcript for another turn is not this one's.
        assert!(c.transcribed("item_other", "a cola").is_empty());
        let events = sent(c.transcribed(item_id, "a cola"));
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            &kinds[..3],
            [
                "conversation.item.input_audio_transcription.delta",
                "conversation.item.input_audio_transcription.completed",
                "conversation.item.done"
            ]
        );
        assert_eq!(events[1]["item_id"], json!(item_id));
        assert!(kinds.contains(&"response.function_call_arguments.done"), "{kinds:?}");
        // Heard twice: the second is dropped.
        assert!(c.transcribed(item_id, "a cola").is_empty());
    }

    /// A push-to-talk conversation and a committed turn of 200 ms: its item id.
    fn commit_turn(c: &mut Conversation) -> String {
        for _ in 0..10 {
            c.handle_audio(&crate::voice::audio::SILENCE_FRAME);
        }
        let committed = c.handle_text(r#"{"type":"input_audio_buffer.commit"}"#);
        committed
            .iter()
            .find_map(|a| if let Action::Transcribe { item_id } = a { Some(item_id.clone()) } else { None })
            .unwrap_or_else(|| panic!("{committed:?}"))
    }

    fn completed(events: &[Value]) -> Vec<(String, String)> {
        events
            .iter()
            .filter(|e| e["type"] == "conversation.item.input_audio_transcription.completed")
            .map(|e| (e["item_id"].as_str().unwrap().to_string(), e["transcript"].as_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn a_turn_committed_before_the_last_was_heard_keeps_both_and_one_answer_covers_them() {
        let mut c = kiosk_conversation();
        c.handle_text(r#"{"type":"session.update","session":{"audio":{"input":{"turn_detection":null}}}}"#);
        let first = commit_turn(&mut c);
        assert!(c.handle_text(r#"{"type":"response.create"}"#).is_empty());
        // The kiosk asked for the answer once, before the second turn: it covers both.
        let second = commit_turn(&mut c);
        // The first is heard: its item is completed, and the answer waits for the second.
        let events = sent(c.transcribed(&first, "two cheeseburgers"));
        assert_eq!(completed(&events), [(first.clone(), "two cheeseburgers".to_string())]);
        assert!(!events.iter().any(|e| e["type"] == "response.created"), "{events:?}");
        // The second: its own transcript, then one call for what both said.
        let events = sent(c.transcribed(&second, "and a cola"));
        assert_eq!(completed(&events), [(second, "and a cola".to_string())]);
        let call = events.iter().find(|e| e["type"] == "response.function_call_arguments.done").expect("a call");
        let args: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
        let names: Vec<&str> = args["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Cheeseburger", "Cola"], "{args}");
        // Nothing is left waiting.
        assert!(c.transcribed(&first, "two cheeseburgers").is_empty());
    }

    #[test]
    fn turns_heard_out_of_order_are_answered_in_the_order_they_were_said() {
        let mut c = kiosk_conversation();
        c.handle_text(r#"{"type":"session.update","session":{"audio":{"input":{"turn_detection":null}}}}"#);
        let first = commit_turn(&mut c);
        let second = commit_turn(&mut c);
        assert!(c.handle_text(r#"{"type":"response.create"}"#).is_empty());
        let events = sent(c.transcribed(&second, "and a cola"));
        assert_eq!(completed(&events), [(second, "and a cola".to_string())]);
        assert!(!events.iter().any(|e| e["type"] == "response.created"), "the first is not heard yet");
        let events = sent(c.transcribed(&first, "two cheeseburgers"));
        let call = events.iter().find(|e| e["type"] == "response.function_call_arguments.done").expect("a call");
        let args: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(args["items"][0]["name"], "Cheeseburger", "{args}");
        assert_eq!(args["items"][0]["quantity"], 2, "{args}");
        assert_eq!(args["items"][1]["name"], "Cola", "{args}");
    }

    #[test]
    fn turns_waiting_to_be_heard_are_bounded_and_the_oldest_is_completed_empty() {
        let mut c = kiosk_conversation();
        c.handle_text(r#"{"type":"session.update","session":{"audio":{"input":{"turn_detection":null}}}}"#);
        let ids: Vec<String> = (0..MAX_TURNS_BEING_HEARD).map(|_| commit_turn(&mut c)).collect();
        for _ in 0..10 {
            c.handle_audio(&crate::voice::audio::SILENCE_FRAME);
        }
        // One more: the oldest is completed as heard empty, so no client waits for it forever.
        let events = sent(c.handle_text(r#"{"type":"input_audio_buffer.commit"}"#));
        assert_eq!(completed(&events), [(ids[0].clone(), String::new())]);
        // Its transcript, when it comes, is dropped; the others are still heard.
        assert!(c.transcribed(&ids[0], "a cola").is_empty());
        assert_eq!(completed(&sent(c.transcribed(&ids[1], "a cola"))), [(ids[1].clone(), "a cola".to_string())]);
    }

    #[test]
    fn an_empty_transcript_is_completed_empty_and_answered_as_not_understood() {
        let mut c = kiosk_conversation();
        let actions = say(&mut c, "");
        let events = sent(actions.clone());
        let completed =
            events.iter().find(|e| e["type"] == "conversation.item.input_audio_transcription.completed").unwrap();
        assert_eq!(completed["transcript"], "");
        assert!(!events.iter().any(|e| e["type"] == "conversation.item.input_audio_transcription.delta"));
        assert_eq!(spoken(&mut c, actions), NOT_UNDERSTOOD_REPLY);
    }

    #[test]
    fn server_turn_detection_speaks_the_buffer_events_and_interrupts_a_reply() {
        let mut c = kiosk_conversation();
        assert_eq!(c.turn_detection(), Some(VadConfig::default()));
        let started = sent(c.speech_started(700));
        assert_eq!(started[0]["type"], "input_audio_buffer.speech_started");
        assert_eq!(started[0]["audio_start_ms"], 700);
        let item_id = started[0]["item_id"].as_str().unwrap().to_string();
        let stopped = c.speech_stopped(2_400);
        assert!(!stopped.contains(&Action::BeginTurn), "server turn detection starts turns itself");
        let actions = hear(&mut c, stopped, "hello there");
        let events = sent(actions.clone());
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(&kinds[..2], ["input_audio_buffer.speech_stopped", "input_audio_buffer.committed"]);
        assert_eq!(events[0]["audio_end_ms"], 2_400);
        assert_eq!((&events[0]["item_id"], &events[1]["item_id"]), (&json!(item_id), &json!(item_id)));
        // Speech while the reply plays interrupts it.
        let (response_id, _) = speak_action(&actions);
        let timeline = c.reply_audio(&response_id, 50);
        assert!(!timeline.is_empty());
        let barge = c.speech_started(5_000);
        assert_eq!(barge[0], Action::StopReply);
        let kinds: Vec<String> = sent(barge).iter().map(|e| e["type"].as_str().unwrap().to_string()).collect();
        assert_eq!(kinds, ["output_audio_buffer.cleared", "response.done", "input_audio_buffer.speech_started"]);
        // The reply's audio arriving late plays nothing.
        assert!(c.reply_audio(&response_id, 50).is_empty());

        // interrupt_response false: the reply plays on.
        let mut c = kiosk_conversation();
        c.handle_text(
            r#"{"type":"session.update","session":{"audio":{"input":{"turn_detection":{"type":"server_vad","interrupt_response":false}}}}}"#,
        );
        c.speech_started(0);
        let stopped = c.speech_stopped(900);
        let actions = hear(&mut c, stopped, "hello");
        let (response_id, _) = speak_action(&actions);
        c.reply_audio(&response_id, 50);
        let kinds: Vec<String> =
            sent(c.speech_started(1_500)).iter().map(|e| e["type"].as_str().unwrap().to_string()).collect();
        assert_eq!(kinds, ["input_audio_buffer.speech_started"]);
    }

    /// The kiosk answers every call `ok` until the reply, which is played: the tool calls made.
    fn run_turn(c: &mut Conversation, transcript: &str) -> Vec<(String, Value)> {
        let mut calls = Vec::new();
        let mut actions = say(c, transcript);
        loop {
            let events = sent(actions.clone());
            let Some(done) = events.iter().find(|e| e["type"] == "response.function_call_arguments.done") else {
                spoken(c, actions);
                return calls;
            };
            let args: Value = serde_json::from_str(done["arguments"].as_str().unwrap()).unwrap();
            calls.push((done["name"].as_str().unwrap().to_string(), args));
            let item = json!({"type": "conversation.item.create", "item": {"type": "function_call_output",
                "call_id": done["call_id"], "output": r#"{"ok":true,"message":"Done."}"#}});
            handle(c, &item);
            actions = c.handle_text(r#"{"type":"response.create"}"#);
        }
    }

    #[test]
    fn make_it_two_and_make_it_large_change_the_last_line() {
        let mut c = kiosk_conversation();
        run_turn(&mut c, "a cheeseburger with no onions and a medium cola");
        let calls = run_turn(&mut c, "actually make that two");
        assert_eq!(
            calls,
            vec![("add_to_order".into(), json!({"items": [{"name": "Cola", "quantity": 1, "options": ["Medium"]}]}))]
        );
        let calls = run_turn(&mut c, "make it a large");
        assert_eq!(
            calls,
            vec![
                ("remove_from_order".into(), json!({"name": "Cola", "quantity": 2})),
                ("add_to_order".into(), json!({"items": [{"name": "Cola", "quantity": 2, "options": ["Large"]}]})),
            ]
        );
        assert_eq!(
            run_turn(&mut c, "make it one"),
            vec![("remove_from_order".into(), json!({"name": "Cola", "quantity": 1}))]
        );
        // Nothing to change: said so, nothing called.
        let actions = say(&mut c, "make it one");
        assert_eq!(spoken(&mut c, actions), "You have 1 × Cola already. Anything else?");
        // A refused call leaves the order as it was: the next change works from it.
        let (_, _, id) = tool_call(&mut c, "a small lemonade");
        answer(&mut c, &id, json!(r#"{"ok":false,"error":"Lemonade is sold out"}"#));
        let calls = run_turn(&mut c, "make it three");
        assert_eq!(
            calls,
            vec![("add_to_order".into(), json!({"items": [{"name": "Cola", "quantity": 2, "options": ["Large"]}]}))]
        );
    }

    #[test]
    fn a_change_after_the_read_back_still_finds_the_line() {
        let mut c = kiosk_conversation();
        run_turn(&mut c, "a cheeseburger");
        let (_, args, id) = tool_call(&mut c, "that's all");
        assert_eq!(args, json!({"action": "checkout"}));
        let question =
            json!({"ok": true, "needs_confirmation": true, "message": "That's 1 × Cheeseburger. Shall I place it?"});
        answer(&mut c, &id, json!(question.to_string()));
        assert_eq!(
            run_turn(&mut c, "no make it two"),
            vec![("add_to_order".into(), json!({"items": [{"name": "Cheeseburger", "quantity": 1, "options": []}]}))]
        );
        // Once placed, the next order starts from nothing.
        let (_, _, id) = tool_call(&mut c, "yes");
        answer(&mut c, &id, json!(json!({"ok": true, "placed": true, "message": "Placing the order."}).to_string()));
        let actions = say(&mut c, "make it three");
        assert_eq!(spoken(&mut c, actions), NOT_UNDERSTOOD_REPLY);
    }

    #[test]
    fn a_turn_heard_while_the_last_answer_plays_interrupts_it() {
        let mut c = kiosk_conversation();
        c.speech_started(0);
        let stopped = c.speech_stopped(900);
        let actions = hear(&mut c, stopped, "hello there");
        let (response_id, _) = speak_action(&actions);
        c.reply_audio(&response_id, 50);
        // The customer goes on ("… and a cola") without the detector hearing it start over the
        // reply (no interruption yet): the new turn's answer replaces the old one.
        let stopped = c.speech_stopped(3_000);
        let events = sent(hear(&mut c, stopped, "a cola"));
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        let cleared = kinds.iter().position(|k| *k == "output_audio_buffer.cleared").expect("the old answer stops");
        let call =
            kinds.iter().position(|k| *k == "response.function_call_arguments.done").expect("the new turn is answered");
        assert!(cleared < call, "{kinds:?}");
        assert!(!kinds.contains(&"error"), "{kinds:?}");
    }

    #[test]
    fn a_refused_removal_stops_the_rest_of_a_change() {
        let mut c = kiosk_conversation();
        run_turn(&mut c, "a small cola");
        let (name, _, id) = tool_call(&mut c, "make it large");
        assert_eq!(name, "remove_from_order");
        let reply = answer(&mut c, &id, json!(r#"{"ok":false,"error":"Cola is not in the order"}"#));
        assert_eq!(reply, "Sorry, Cola is not in the order.");
    }

    #[test]
    fn session_expired_names_the_length_like_openai() {
        let mut c = conversation();
        let e = &sent(c.session_expired(Duration::from_secs(900)))[0];
        assert_eq!((e["type"].as_str(), e["error"]["code"].as_str()), (Some("error"), Some("session_expired")));
        assert_eq!(e["error"]["message"], "Your session hit the maximum duration of 15 minutes.");
        let e = &sent(c.session_expired(Duration::from_secs(2)))[0];
        assert_eq!(e["error"]["message"], "Your session hit the maximum duration of 2 seconds.");
    }
}
