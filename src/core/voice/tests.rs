//! Behaviour of the whole voice session, driven the way the browser driver drives it, in
//! simulated time.

use std::time::Duration;

use restaurant_protocol::Menu;
use serde_json::{Value, json};

use super::*;
use crate::core::cart::Cart;
use crate::core::test_support::{FakeChannel, drain, menu_fixture, ms, picked, secs};
use crate::core::time::Millis;

const UNIX_NOW: Millis = Millis(1_700_000_000_000);
/// Token valid for 60 s from the start of every test.
const TOKEN_EXPIRES_AT_SECS: u64 = 1_700_000_060;

struct Harness {
    s: VoiceSession,
    now: Millis,
    cart: Cart,
    ch: FakeChannel,
    cmds: Vec<VoiceCommand>,
}

impl Harness {
    fn with_config(config: VoiceConfig) -> Harness {
        let mut h = Harness {
            s: VoiceSession::new(config, Menu { items: menu_fixture(), tax: Default::default() }),
            now: Millis(1_000),
            cart: Cart::new(),
            ch: FakeChannel::default(),
            cmds: Vec::new(),
        };
        h.s.handle_token(h.now, TOKEN_EXPIRES_AT_SECS, UNIX_NOW).unwrap();
        h
    }

    fn new() -> Harness {
        Harness::with_config(VoiceConfig::default())
    }

    /// Connected, session configured, Idle; commands and sent events so far cleared.
    fn idle() -> Harness {
        Harness::idle_with(VoiceConfig::default())
    }

    fn idle_with(config: VoiceConfig) -> Harness {
        let mut h = Harness::with_config(config);
        h.s.handle_connect_requested(h.now).unwrap();
        h.ch.open = true;
        h.s.handle_channel_open(h.now, &mut h.ch).unwrap();
        h.frame(json!({"type": "session.created", "event_id": "s1", "session": {"type": "realtime"}}));
        h.frame(json!({"type": "session.updated", "event_id": "s2", "session": {}}));
        assert_eq!(h.s.state(), TurnState::Idle);
        h.cmds.clear();
        h.ch.sent.clear();
        h
    }

    /// The driver loop after an input: flush, drain commands.
    fn settle(&mut self) {
        self.s.flush(self.now, &mut self.ch);
        self.cmds.extend(drain(|| self.s.poll_command()));
    }

    fn frame(&mut self, v: Value) {
        self.s.handle_server_frame(self.now, &v.to_string(), &mut self.cart).unwrap();
        self.settle();
    }

    fn raw(&mut self, text: &str) -> Result<(), VoiceError> {
        let r = self.s.handle_server_frame(self.now, text, &mut self.cart);
        self.settle();
        r
    }

    /// Moves the clock, firing the timer each time it comes due (as the driver's timer would).
    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(at) = self.s.poll_timeout().filter(|at| *at <= end) {
            self.now = self.now.max(at);
            self.s.handle_timeout(self.now);
            self.settle();
        }
        self.now = end;
    }

    fn start(&mut self) -> Result<(), VoiceError> {
        let r = self.s.start_recording(self.now);
        self.settle();
        r
    }

    fn stop(&mut self) -> Result<(), VoiceError> {
        let r = self.s.stop_recording(self.now);
        self.settle();
        r
    }

    fn sent(&self) -> Vec<Value> {
        self.ch.sent.iter().map(|t| serde_json::from_str(t).unwrap()).collect()
    }

    fn sent_types(&self) -> Vec<String> {
        self.sent().iter().map(|v| v["type"].as_str().unwrap().to_string()).collect()
    }

    fn errors(&self) -> Vec<String> {
        picked!(self.cmds, VoiceCommand::Error { message, .. } => message.clone())
    }

    /// Recording → stop → committed: AwaitingTranscript.
    fn committed_turn(&mut self) {
        self.start().unwrap();
        self.stop().unwrap();
        self.frame(json!({"type": "input_audio_buffer.committed", "item_id": "u1"}));
        assert_eq!(self.s.state(), TurnState::AwaitingTranscript);
    }
}

// ---------------------------------------------------------------------------------------------
// Turn state machine and timeouts

#[test]
fn awaiting_transcript_times_out_to_idle_after_10s_and_recording_works_again() {
    let mut h = Harness::idle();
    h.committed_turn();
    h.advance(secs(10) - ms(1));
    assert_eq!(h.s.state(), TurnState::AwaitingTranscript);
    h.advance(ms(1));
    assert_eq!(h.s.state(), TurnState::Idle);
    assert_eq!(h.errors(), ["Sorry, that took too long. Please try again."]);
    assert!(h.sent_types().contains(&"response.cancel".to_string()), "the requested response is cancelled");
    h.start().expect("recording works again");
    assert_eq!(h.s.state(), TurnState::Recording);
}

#[test]
fn transcript_completion_before_the_deadline_clears_it() {
    let mut h = Harness::idle();
    h.committed_turn();
    h.advance(secs(5));
    h.frame(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "A cola"}));
    assert_eq!(h.s.state(), TurnState::AwaitingResponse, "response.create is in flight");
    h.frame(json!({"type": "response.created", "response": {}}));
    h.advance(secs(20));
    assert_eq!(h.s.state(), TurnState::AwaitingResponse, "no late transcript timeout");
    h.frame(json!({"type": "response.done", "response": {"status": "completed"}}));
    assert_eq!(h.s.state(), TurnState::Idle);
    assert_eq!(h.s.poll_timeout(), None);
    h.advance(secs(60));
    assert!(h.errors().is_empty());
}

#[test]
fn disconnect_clears_the_timer() {
    let mut h = Harness::idle();
    h.committed_turn();
    h.s.disconnect(h.now);
    h.settle();
    assert_eq!(h.s.state(), TurnState::Disconnecting);
    assert!(h.cmds.contains(&VoiceCommand::CloseConnection));
    h.s.handle_channel_closed(h.now);
    h.settle();
    assert_eq!(h.s.state(), TurnState::Disconnected);
    assert_eq!(h.s.poll_timeout(), None, "no turn timer and the spent token is gone");
    h.advance(secs(60));
    assert!(h.errors().is_empty());
}

#[test]
fn disconnecting_times_out_to_disconnected_when_close_is_never_reported() {
    let mut h = Harness::idle();
    h.s.disconnect(h.now);
    h.advance(secs(5));
    assert_eq!(h.s.state(), TurnState::Disconnected);
}

#[test]
fn force_reset_returns_to_idle_and_clears_the_timer() {
    let mut h = Harness::idle();
    h.start().unwrap();
    h.s.force_reset(h.now);
    h.settle();
    assert_eq!(h.s.state(), TurnState::Idle);
    assert_eq!(h.s.poll_timeout(), None);
    assert!(h.cmds.contains(&VoiceCommand::SetMicEnabled(false)));
    assert!(!h.s.is_stuck(Millis(u64::MAX)));
}

#[test]
fn force_reset_without_a_channel_goes_to_disconnected() {
    let mut h = Harness::new();
    h.s.handle_connect_requested(h.now).unwrap();
    h.s.force_reset(h.now);
    h.settle();
    assert_eq!(h.s.state(), TurnState::Disconnected);
    assert!(h.cmds.contains(&VoiceCommand::CloseConnection));
    assert_eq!(h.s.poll_timeout(), None);
}

#[test]
fn is_stuck_detects_a_waiting_state_past_its_deadline() {
    let mut h = Harness::idle();
    assert!(!h.s.is_stuck(h.now), "idle is never stuck");
    h.committed_turn();
    assert!(!h.s.is_stuck(h.now + secs(9)));
    // The driver never delivered the timeout.
    assert!(h.s.is_stuck(h.now + secs(10)));
    h.advance(secs(10));
    assert!(!h.s.is_stuck(h.now));
}

#[test]
fn every_waiting_state_times_out_to_its_documented_state() {
    let t = Timeouts::default();
    assert_eq!(t.connecting, Duration::from_secs(15));
    assert_eq!(t.awaiting_session_created, Duration::from_secs(5));
    assert_eq!(t.awaiting_session_ready, Duration::from_secs(5));
    assert_eq!(t.recording, Duration::from_secs(45));
    assert_eq!(t.committing, Duration::from_secs(5));
    assert_eq!(t.awaiting_transcript, Duration::from_secs(10));
    assert_eq!(t.awaiting_response, Duration::from_secs(30));
    assert_eq!(t.disconnecting, Duration::from_secs(5));

    // Connecting → Error (then Disconnected once the error has been shown).
    let mut h = Harness::new();
    h.s.handle_connect_requested(h.now).unwrap();
    h.advance(secs(15));
    assert_eq!(h.s.state(), TurnState::Error);
    assert!(h.cmds.contains(&VoiceCommand::CloseConnection));
    h.advance(secs(5));
    assert_eq!(h.s.state(), TurnState::Disconnected);

    // AwaitingSessionCreated → Error.
    let mut h = Harness::new();
    h.s.handle_connect_requested(h.now).unwrap();
    h.ch.open = true;
    h.s.handle_channel_open(h.now, &mut h.ch).unwrap();
    h.advance(secs(5));
    assert_eq!(h.s.state(), TurnState::Error);
    assert_eq!(h.s.last_error(), Some("The voice assistant did not start."));

    // AwaitingSessionReady → Idle (proceed).
    let mut h = Harness::new();
    h.s.handle_connect_requested(h.now).unwrap();
    h.ch.open = true;
    h.s.handle_channel_open(h.now, &mut h.ch).unwrap();
    h.frame(json!({"type": "session.created", "session": {}}));
    assert_eq!(h.s.state(), TurnState::AwaitingSessionReady);
    h.advance(secs(5));
    assert_eq!(h.s.state(), TurnState::Idle);

    // Recording → stop and commit; Committing → Idle.
    let mut h = Harness::idle();
    h.start().unwrap();
    h.advance(secs(45));
    assert_eq!(h.s.state(), TurnState::Committing);
    assert!(h.cmds.contains(&VoiceCommand::SetMicEnabled(false)));
    assert_eq!(h.sent_types(), ["input_audio_buffer.clear", "input_audio_buffer.commit"]);
    h.advance(secs(5));
    assert_eq!(h.s.state(), TurnState::Idle);

    // AwaitingResponse → Idle.
    let mut h = Harness::idle();
    h.committed_turn();
    h.frame(
        json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "hi"}),
    );
    h.advance(secs(30) - ms(1));
    assert_eq!(h.s.state(), TurnState::AwaitingResponse);
    h.advance(ms(1));
    assert_eq!(h.s.state(), TurnState::Idle);
}

#[test]
fn shortened_timeouts_are_honoured() {
    let config = VoiceConfig {
        timeouts: Timeouts { awaiting_transcript: ms(50), ..Timeouts::default() },
        ..VoiceConfig::default()
    };
    let mut h = Harness::idle_with(config);
    h.committed_turn();
    h.advance(ms(50));
    assert_eq!(h.s.state(), TurnState::Idle);
}

#[test]
fn start_recording_outside_idle_is_rejected_and_reported() {
    let mut h = Harness::new();
    assert_eq!(h.start(), Err(VoiceError::Rejected { command: "start recording", state: TurnState::Disconnected }));
    assert!(h.cmds.contains(&VoiceCommand::Rejected { command: "start recording", state: TurnState::Disconnected }));
    let mut h = Harness::idle();
    h.start().unwrap();
    assert!(h.start().is_err());
    assert_eq!(h.stop(), Ok(()));
    assert!(matches!(h.stop(), Err(VoiceError::Rejected { command: "stop recording", .. })));
    assert_eq!(h.cmds.iter().filter(|c| matches!(c, VoiceCommand::Rejected { .. })).count(), 2);
}

#[test]
fn push_to_talk_clears_then_enables_mic_and_commits_then_creates_a_response_after_commit() {
    let mut h = Harness::idle();
    h.start().unwrap();
    assert_eq!(h.sent_types(), ["input_audio_buffer.clear"]);
    assert!(h.cmds.contains(&VoiceCommand::SetMicEnabled(true)));
    h.stop().unwrap();
    assert_eq!(h.sent_types(), ["input_audio_buffer.clear", "input_audio_buffer.commit"]);
    assert_eq!(
        h.cmds.last(),
        Some(&VoiceCommand::StateChanged { from: TurnState::Recording, to: TurnState::Committing })
    );
    h.frame(json!({"type": "input_audio_buffer.committed", "item_id": "u1"}));
    assert_eq!(h.sent_types().last().map(String::as_str), Some("response.create"));
    let ids: Vec<Value> = h.sent().iter().map(|v| v["event_id"].clone()).collect();
    assert!(ids.iter().all(Value::is_string));
    assert_eq!(ids.len(), ids.iter().collect::<std::collections::HashSet<_>>().len(), "unique event ids");
}

#[test]
fn with_server_vad_the_kiosk_does_not_create_responses_itself() {
    let mut h = Harness::idle_with(VoiceConfig { server_vad: true, ..VoiceConfig::default() });
    h.frame(json!({"type": "input_audio_buffer.speech_started"}));
    h.frame(json!({"type": "input_audio_buffer.speech_stopped"}));
    h.frame(json!({"type": "input_audio_buffer.committed", "item_id": "u1"}));
    assert_eq!(h.s.state(), TurnState::AwaitingTranscript);
    assert!(!h.sent_types().contains(&"response.create".to_string()));
    h.frame(
        json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "hi"}),
    );
    assert_eq!(h.s.state(), TurnState::AwaitingResponse);
    h.frame(json!({"type": "response.created", "response": {}}));
    h.frame(json!({"type": "response.done", "response": {"status": "completed"}}));
    assert_eq!(h.s.state(), TurnState::Idle);
}

#[test]
fn empty_audio_turn_commit_then_nothing_recovers() {
    let mut h = Harness::idle();
    h.start().unwrap();
    h.stop().unwrap();
    h.advance(secs(5));
    assert_eq!(h.s.state(), TurnState::Idle);
    h.start().expect("can talk again");

    let mut h = Harness::idle();
    h.start().unwrap();
    h.stop().unwrap();
    h.frame(json!({"type": "error", "error": {"type": "invalid_request_error", "code": "input_audio_buffer_commit_empty", "message": "buffer too small"}}));
    assert_eq!(h.s.state(), TurnState::Idle, "recovers at once on the server's error");
    assert_eq!(h.errors(), ["I didn't hear anything. Hold the button while you speak."]);
    assert!(!h.sent_types().contains(&"response.create".to_string()), "no response for empty audio");
}

#[test]
fn failed_response_returns_the_turn_to_idle_with_an_error() {
    for status in ["failed", "incomplete"] {
        let mut h = Harness::idle();
        h.committed_turn();
        h.frame(json!({"type": "response.created", "response": {}}));
        h.frame(json!({"type": "response.done", "response": {"status": status, "status_details": {"reason": "x"}}}));
        assert_eq!(h.s.state(), TurnState::Idle, "{status}");
        assert_eq!(h.errors().len(), 1, "{status}");
        assert!(h.s.last_error().is_some());
    }
    // A cancelled response (a barge-in, the server's turn detection) ends the turn quietly.
    let mut h = Harness::idle();
    h.committed_turn();
    h.frame(json!({"type": "response.created", "response": {}}));
    h.frame(json!({"type": "response.done", "response": {"status": "cancelled", "status_details": {"reason": "x"}}}));
    assert_eq!(h.s.state(), TurnState::Idle);
    assert!(h.errors().is_empty());
}

#[test]
fn response_done_before_the_transcript_ends_the_turn_and_the_transcript_still_lands() {
    let mut h = Harness::idle();
    h.committed_turn();
    h.frame(json!({"type": "response.created", "response": {}}));
    h.frame(json!({"type": "response.done", "response": {"status": "completed"}}));
    assert_eq!(h.s.state(), TurnState::Idle);
    h.frame(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "late words"}));
    assert_eq!(h.s.state(), TurnState::Idle);
    assert_eq!(h.s.transcript()[0].text, "late words");
}

#[test]
fn assistant_speaking_follows_output_audio_buffer_and_barge_in_clears_it() {
    let mut h = Harness::idle();
    h.frame(json!({"type": "output_audio_buffer.started", "response_id": "r"}));
    assert!(h.cmds.contains(&VoiceCommand::AssistantSpeaking(true)));
    h.start().unwrap();
    assert_eq!(h.sent_types(), ["output_audio_buffer.clear", "input_audio_buffer.clear"]);
    h.frame(json!({"type": "output_audio_buffer.stopped", "response_id": "r"}));
    assert_eq!(h.cmds.iter().filter(|c| matches!(c, VoiceCommand::AssistantSpeaking(_))).count(), 2);
}

// ---------------------------------------------------------------------------------------------
// Events and transcripts

#[test]
fn transcript_delta_before_item_created_creates_the_entry_and_appends() {
    let mut h = Harness::idle();
    h.frame(
        json!({"type": "conversation.item.input_audio_transcription.delta", "item_id": "item_123", "delta": "Hello "}),
    );
    h.frame(
        json!({"type": "conversation.item.input_audio_transcription.delta", "item_id": "item_123", "delta": "world"}),
    );
    let entries = h.s.transcript();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].text, "Hello world");
    assert_eq!(entries[0].status, EntryStatus::Partial);
    assert!(h.cmds.iter().any(|c| matches!(c, VoiceCommand::Transcript(u) if u.text == "Hello world")));
}

#[test]
fn completed_without_any_delta_gives_a_final_entry() {
    let mut h = Harness::idle();
    h.frame(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u9", "transcript": "Two colas"}));
    let e = &h.s.transcript()[0];
    assert_eq!((e.text.as_str(), e.status, e.role), ("Two colas", EntryStatus::Final, Role::User));
}

#[test]
fn events_arriving_before_the_driver_reports_the_channel_open_are_not_lost() {
    let mut h = Harness::new();
    h.s.handle_connect_requested(h.now).unwrap();
    // Handler attached late: frames come in while the session still thinks it is connecting.
    h.frame(json!({"type": "session.created", "session": {"type": "realtime"}}));
    h.frame(json!({"type": "conversation.item.added", "item": {"id": "u1", "type": "message", "role": "user"}}));
    assert_eq!(h.s.state(), TurnState::AwaitingSessionReady);
    assert_eq!(h.s.queued_events(), 1, "session.update waits for the channel");
    h.ch.open = true;
    h.s.handle_channel_open(h.now, &mut h.ch).unwrap();
    h.settle();
    assert_eq!(h.sent_types(), ["session.update"]);
    assert_eq!(h.s.state(), TurnState::AwaitingSessionReady, "does not go back to awaiting session.created");
    assert_eq!(h.s.transcript().len(), 1);
}

#[test]
fn duplicate_event_id_is_ignored() {
    let mut h = Harness::idle();
    let ev = json!({"type": "conversation.item.input_audio_transcription.delta", "event_id": "ev_1", "item_id": "u1", "delta": "ab"});
    h.frame(ev.clone());
    h.frame(ev);
    assert_eq!(h.s.transcript()[0].text, "ab");
    assert_eq!(h.s.event_count("conversation.item.input_audio_transcription.delta"), 1);
}

/// A whole turn with a function call, written once, sent with either the GA or the beta names.
fn scripted_turn(ga: bool) -> (Vec<TranscriptEntry>, Cart, Vec<String>) {
    let n = |ga_name: &'static str, beta_name: &'static str| if ga { ga_name } else { beta_name };
    let mut h = Harness::idle();
    h.committed_turn();
    h.frame(json!({"type": n("conversation.item.added", "conversation.item.created"), "item": {"id": "u1", "type": "message", "role": "user"}}));
    h.frame(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "A cola please"}));
    h.frame(json!({"type": "response.created", "response": {}}));
    h.frame(json!({"type": "response.output_item.added", "item": {"id": "fc1", "type": "function_call", "call_id": "call_1", "name": "add_to_order"}}));
    h.frame(json!({"type": "response.function_call_arguments.done", "item_id": "fc1", "call_id": "call_1", "arguments": "{\"items\":[{\"name\":\"coke\",\"quantity\":1}]}"}));
    h.frame(json!({"type": "response.done", "response": {"status": "completed"}}));
    h.frame(json!({"type": "response.created", "response": {}}));
    h.frame(json!({"type": n("response.output_audio_transcript.delta", "response.audio_transcript.delta"), "item_id": "a1", "delta": "One cola"}));
    h.frame(json!({"type": n("response.output_audio_transcript.done", "response.audio_transcript.done"), "item_id": "a1", "transcript": "One cola, added."}));
    h.frame(json!({"type": n("response.output_text.done", "response.text.done"), "item_id": "a2", "text": "Anything else?"}));
    h.frame(json!({"type": "response.done", "response": {"status": "completed"}}));
    assert_eq!(h.s.state(), TurnState::Idle);
    let entries = h.s.transcript().into_iter().cloned().collect();
    let types = h.sent_types();
    (entries, h.cart, types)
}

#[test]
fn ga_and_beta_event_names_give_the_same_result() {
    let ga = scripted_turn(true);
    let beta = scripted_turn(false);
    assert_eq!(ga, beta);
    assert_eq!(ga.1.subtotal_cents(), 249);
    assert_eq!(ga.0.len(), 3);
    assert_eq!(ga.0[1].text, "One cola, added.");
}

#[test]
fn session_update_matches_the_server_api_shape_and_carries_menu_and_tools() {
    for (session, ga) in [(json!({"type": "realtime"}), true), (json!({"modalities": ["audio"]}), false)] {
        let mut h = Harness::new();
        h.s.handle_connect_requested(h.now).unwrap();
        h.ch.open = true;
        h.s.handle_channel_open(h.now, &mut h.ch).unwrap();
        h.frame(json!({"type": "session.created", "session": session}));
        let update = &h.sent()[0];
        assert_eq!(update["type"], "session.update");
        let s = &update["session"];
        assert!(s["instructions"].as_str().unwrap().contains("Large Fries"));
        assert_eq!(s["tools"].as_array().unwrap().len(), 3);
        if ga {
            assert_eq!(s["audio"]["input"]["transcription"]["model"], "gpt-4o-mini-transcribe");
            assert!(s["audio"]["input"]["turn_detection"].is_null(), "push-to-talk: no server VAD");
        } else {
            assert_eq!(s["input_audio_transcription"]["model"], "gpt-4o-mini-transcribe");
            assert!(s["turn_detection"].is_null());
        }
    }
}

#[test]
fn malformed_oversize_or_incomplete_frames_are_errors_without_state_change() {
    let mut h = Harness::idle();
    h.committed_turn();
    let before = (h.s.state(), h.s.poll_timeout(), h.s.transcript().len());
    assert!(matches!(h.raw("{oops"), Err(VoiceError::Parse(_))));
    assert!(matches!(h.raw(&"x".repeat(300 * 1024)), Err(VoiceError::Parse(_))));
    assert!(matches!(
        h.raw(r#"{"type":"conversation.item.input_audio_transcription.completed","transcript":"hi"}"#),
        Err(VoiceError::Parse(_))
    ));
    assert_eq!(before, (h.s.state(), h.s.poll_timeout(), h.s.transcript().len()));
}

#[test]
fn unknown_event_types_are_counted_and_ignored() {
    let mut h = Harness::idle();
    h.frame(json!({"type": "response.content_part.added", "item_id": "x"}));
    h.frame(json!({"type": "response.content_part.added", "item_id": "x"}));
    assert_eq!(h.s.event_count("response.content_part.added"), 2);
    assert_eq!(h.s.state(), TurnState::Idle);
    assert_eq!(h.s.event_count("session.created"), 1);
}

// ---------------------------------------------------------------------------------------------
// Outbox through the session

#[test]
fn channel_already_open_when_handed_over_gets_the_queue_at_once() {
    let mut h = Harness::new();
    h.s.handle_connect_requested(h.now).unwrap();
    h.frame(json!({"type": "session.created", "session": {}}));
    h.ch.open = true;
    h.s.handle_channel_open(h.now, &mut h.ch).unwrap();
    assert_eq!(h.ch.sent.len(), 1, "flushed inside handle_channel_open");
    h.settle();
    assert_eq!(h.ch.sent.len(), 1, "and not sent twice");
}

#[test]
fn channel_that_opens_later_receives_the_queue_in_order() {
    let mut h = Harness::idle();
    h.ch.open = false;
    h.start().unwrap();
    h.stop().unwrap();
    assert!(h.ch.sent.is_empty());
    assert_eq!(h.s.queued_events(), 2);
    h.ch.open = true;
    h.settle();
    assert_eq!(h.sent_types(), ["input_audio_buffer.clear", "input_audio_buffer.commit"]);
    assert_eq!(h.s.queued_events(), 0);
}

#[test]
fn channel_closing_mid_flush_requeues_the_rest_in_order_without_duplicates() {
    let mut h = Harness::idle();
    h.ch.open = false;
    h.start().unwrap();
    h.stop().unwrap();
    h.frame(json!({"type": "input_audio_buffer.committed", "item_id": "u1"}));
    h.ch = FakeChannel { open: true, close_after: Some(1), ..FakeChannel::default() };
    let report = h.s.flush(h.now, &mut h.ch);
    assert_eq!(report, FlushReport { sent: 1, stopped: Some(FlushStop::ChannelClosed) });
    assert_eq!(h.s.queued_events(), 2);
    h.ch.open = true;
    h.ch.close_after = None;
    h.settle();
    assert_eq!(h.sent_types(), ["input_audio_buffer.clear", "input_audio_buffer.commit", "response.create"]);
    let unique: std::collections::HashSet<_> = h.ch.sent.iter().collect();
    assert_eq!(unique.len(), 3, "no duplicates");
}

#[test]
fn disconnect_drops_queued_events_so_they_never_reach_the_next_connection() {
    let mut h = Harness::idle();
    h.ch.open = false;
    h.start().unwrap();
    h.s.disconnect(h.now);
    assert_eq!(h.s.queued_events(), 0);
}

// ---------------------------------------------------------------------------------------------
// Connection lifecycle and token

#[test]
fn rapid_connect_disconnect_100_times_never_overlaps_connections() {
    let mut h = Harness::new();
    for i in 0..100u64 {
        h.s.handle_token(h.now, TOKEN_EXPIRES_AT_SECS, UNIX_NOW).unwrap();
        h.s.handle_connect_requested(h.now).unwrap();
        if i % 2 == 0 {
            h.ch.open = true;
            h.s.handle_channel_open(h.now, &mut h.ch).unwrap();
        }
        h.s.disconnect(h.now);
        // A second tap while the first is still closing is refused, not silently dropped.
        assert!(matches!(h.s.handle_connect_requested(h.now), Err(VoiceError::Rejected { .. })));
        h.ch.open = false;
        h.s.handle_channel_closed(h.now);
        h.settle();
        assert_eq!(h.s.state(), TurnState::Disconnected);
    }
    let mut open = 0i32;
    for c in &h.cmds {
        match c {
            VoiceCommand::StartConnection => {
                open += 1;
                assert_eq!(open, 1, "a second connection started before the first was closed");
            }
            VoiceCommand::CloseConnection => open = 0,
            _ => {}
        }
    }
    assert_eq!(h.cmds.iter().filter(|c| **c == VoiceCommand::StartConnection).count(), 100);
    assert_eq!(h.cmds.iter().filter(|c| matches!(c, VoiceCommand::Rejected { .. })).count(), 100);
    assert_eq!(h.s.poll_timeout(), None);
    assert_eq!(h.s.queued_events(), 0);
}

#[test]
fn connect_is_refused_with_an_expired_token_and_a_refresh_is_asked_for() {
    let mut h = Harness::new();
    h.advance(secs(60));
    assert!(h.cmds.contains(&VoiceCommand::RefreshToken), "asked 10 s before expiry");
    assert_eq!(h.s.handle_connect_requested(h.now), Err(VoiceError::TokenExpired));
    h.settle();
    assert_eq!(h.s.state(), TurnState::Disconnected);
    assert!(!h.cmds.contains(&VoiceCommand::StartConnection));
    assert!(!h.errors().is_empty());

    let mut h = Harness::new();
    assert_eq!(h.s.handle_token(h.now, 1_000, UNIX_NOW), Err(VoiceError::TokenExpired));
    assert_eq!(h.s.handle_connect_requested(h.now), Err(VoiceError::NoToken));
}

#[test]
fn token_refresh_is_requested_10_seconds_before_expiry_once() {
    let mut h = Harness::new();
    assert_eq!(h.s.poll_timeout(), Some(h.now + secs(50)));
    h.advance(secs(50) - ms(1));
    assert!(!h.cmds.contains(&VoiceCommand::RefreshToken));
    h.advance(ms(1));
    assert_eq!(h.cmds.iter().filter(|c| **c == VoiceCommand::RefreshToken).count(), 1);
    assert_eq!(h.s.poll_timeout(), None);
    // Still usable until it actually expires, then spent by the connect.
    h.s.handle_connect_requested(h.now).unwrap();
    h.s.disconnect(h.now);
    h.s.handle_channel_closed(h.now);
    assert_eq!(h.s.handle_connect_requested(h.now), Err(VoiceError::NoToken));
}

#[test]
fn channel_lost_while_connected_is_an_error_then_disconnected() {
    let mut h = Harness::idle();
    h.start().unwrap();
    h.s.handle_channel_closed(h.now);
    h.settle();
    assert_eq!(h.s.state(), TurnState::Error);
    assert!(h.cmds.contains(&VoiceCommand::SetMicEnabled(false)));
    assert_eq!(h.s.last_error(), Some("The voice connection was lost."));
    h.advance(secs(5));
    assert_eq!(h.s.state(), TurnState::Disconnected);
}

#[test]
fn connection_failure_reports_a_human_error() {
    let mut h = Harness::new();
    h.s.handle_connect_requested(h.now).unwrap();
    h.s.handle_connection_failed(h.now, "SDP answer 401");
    h.settle();
    assert_eq!(h.s.state(), TurnState::Error);
    assert_eq!(h.errors(), ["Could not connect to the voice assistant."]);
    h.s.handle_token(h.now, TOKEN_EXPIRES_AT_SECS, UNIX_NOW).unwrap();
    h.s.handle_connect_requested(h.now).expect("retry allowed from Error");
}

// ---------------------------------------------------------------------------------------------
// Function calls and the response sequencer

fn output_of(h: &Harness, call_id: &str) -> Value {
    let item = h
        .sent()
        .into_iter()
        .find(|v| v["type"] == "conversation.item.create" && v["item"]["call_id"] == call_id)
        .expect("function_call_output sent");
    serde_json::from_str(item["item"]["output"].as_str().unwrap()).unwrap()
}

#[test]
fn function_call_arguments_streamed_over_many_deltas_update_the_cart() {
    let mut h = Harness::idle();
    h.frame(json!({"type": "response.created", "response": {}}));
    h.frame(json!({"type": "response.output_item.added", "item": {"id": "fc1", "type": "function_call", "call_id": "c1", "name": "add_to_order"}}));
    let args = r#"{"items":[{"name":"cheeseburgers","quantity":2,"modifiers":["no onions"]},{"name":"big fries","quantity":1}]}"#;
    for chunk in args.as_bytes().chunks(3) {
        let delta = std::str::from_utf8(chunk).unwrap();
        h.frame(json!({"type": "response.function_call_arguments.delta", "item_id": "fc1", "call_id": "c1", "delta": delta}));
    }
    assert!(h.cart.is_empty(), "nothing happens before .done");
    h.frame(
        json!({"type": "response.function_call_arguments.done", "item_id": "fc1", "call_id": "c1", "arguments": ""}),
    );
    assert_eq!(h.cart.subtotal_cents(), 2 * 899 + 449);
    assert!(h.cmds.contains(&VoiceCommand::CartChanged));
    let out = output_of(&h, "c1");
    assert_eq!(out["ok"], true);
    assert_eq!(out["order"]["total"], "$22.47");
}

#[test]
fn response_create_after_function_output_waits_for_the_active_response() {
    let mut h = Harness::idle();
    h.frame(json!({"type": "response.created", "response": {}}));
    h.frame(json!({"type": "response.function_call_arguments.done", "call_id": "c1", "name": "add_to_order", "arguments": "{\"items\":[{\"name\":\"Cola\",\"quantity\":1}]}"}));
    assert_eq!(h.sent_types(), ["conversation.item.create"], "create waits");
    h.frame(json!({"type": "response.done", "response": {"status": "completed"}}));
    assert_eq!(h.sent_types(), ["conversation.item.create", "response.create"]);
    h.frame(json!({"type": "response.done", "response": {"status": "completed"}}));
    assert_eq!(h.sent_types().len(), 2, "exactly one create");
}

#[test]
fn bad_function_arguments_json_gets_an_error_output_and_the_model_is_asked_again() {
    let mut h = Harness::idle();
    h.frame(json!({"type": "response.function_call_arguments.done", "call_id": "c1", "name": "add_to_order", "arguments": "{\"items\": [{\"name\": "}));
    let out = output_of(&h, "c1");
    assert_eq!(out["ok"], false);
    assert!(out["error"].as_str().unwrap().contains("could not read the arguments"));
    assert!(h.cart.is_empty());
    assert!(!h.cmds.contains(&VoiceCommand::CartChanged));
    assert_eq!(h.sent_types().last().map(String::as_str), Some("response.create"));
}

#[test]
fn unknown_menu_item_gets_an_error_output() {
    let mut h = Harness::idle();
    h.frame(json!({"type": "response.function_call_arguments.done", "call_id": "c1", "name": "add_to_order", "arguments": "{\"items\":[{\"name\":\"pizza\",\"quantity\":1}]}"}));
    assert_eq!(output_of(&h, "c1")["error"], "Nothing was added. \"pizza\" is not on the menu.");
    assert!(h.cart.is_empty());
}

#[test]
fn removing_an_item_not_in_the_order_reports_what_really_happened() {
    let mut h = Harness::idle();
    h.frame(json!({"type": "response.function_call_arguments.done", "call_id": "c1", "name": "remove_from_order", "arguments": "{\"name\":\"Large Fries\"}"}));
    assert_eq!(output_of(&h, "c1")["error"], "Large Fries is not in the order");
}

#[test]
fn confirm_order_emits_the_order_action() {
    let mut h = Harness::idle();
    h.frame(json!({"type": "response.function_call_arguments.done", "call_id": "c1", "name": "add_to_order", "arguments": "{\"items\":[{\"name\":\"Cola\",\"quantity\":1}]}"}));
    h.frame(json!({"type": "response.function_call_arguments.done", "call_id": "c2", "name": "confirm_order", "arguments": "{\"action\":\"checkout\"}"}));
    assert!(h.cmds.contains(&VoiceCommand::Order(OrderAction::Confirm)));
    yes(&mut h);
    h.frame(json!({"type": "response.function_call_arguments.done", "call_id": "c2b", "name": "confirm_order", "arguments": "{\"action\":\"checkout\"}"}));
    assert!(h.cmds.contains(&VoiceCommand::Order(OrderAction::Checkout)));
    h.frame(json!({"type": "response.function_call_arguments.done", "call_id": "c3", "name": "confirm_order", "arguments": "{\"action\":\"cancel\"}"}));
    assert!(h.cmds.contains(&VoiceCommand::Order(OrderAction::Cancel)));
    assert!(h.cart.is_empty());
}

#[test]
fn active_response_error_clears_the_pending_create() {
    let mut h = Harness::idle();
    h.frame(json!({"type": "response.created", "response": {}}));
    h.frame(json!({"type": "response.function_call_arguments.done", "call_id": "c1", "name": "confirm_order", "arguments": "{\"action\":\"review\"}"}));
    h.frame(json!({"type": "error", "error": {"type": "invalid_request_error", "code": "conversation_already_has_active_response", "message": "Conversation already has an active response"}}));
    assert!(h.errors().is_empty(), "not a customer-facing error");
    h.frame(json!({"type": "response.done", "response": {"status": "completed"}}));
    assert!(!h.sent_types().contains(&"response.create".to_string()), "pending create was dropped");
}

#[test]
fn other_server_errors_are_reported_with_a_message() {
    let mut h = Harness::idle();
    h.frame(json!({"type": "error", "error": {"type": "server_error", "code": null, "message": "overloaded"}}));
    assert_eq!(h.errors(), ["Voice assistant error: overloaded"]);
    assert_eq!(h.s.state(), TurnState::Idle);
}

#[test]
fn spoken_options_and_allergies_reach_the_cart_and_the_output() {
    let mut h = Harness::idle();
    let args = json!({"items": [{"name": "cheeseburger", "quantity": 1, "options": ["hold the pickels", "extra cheese"],
        "allergies": ["milk", "kiwi"]}]});
    h.frame(json!({"type": "response.function_call_arguments.done", "call_id": "c1", "name": "add_to_order", "arguments": args.to_string()}));
    let out = output_of(&h, "c1");
    assert_eq!(out["ok"], true, "{out}");
    assert_eq!(h.cart.lines()[0].key.options, ["pickles", "cheese"]);
    assert_eq!(out["order"]["items"][0]["options"], json!(["no pickles", "extra cheese"]));
    assert_eq!(out["order"]["items"][0]["allergies"], json!(["dairy"]));
    let warnings = out["warnings"].to_string();
    assert!(warnings.contains("The Cheeseburger contains dairy"), "{warnings}");
    assert!(warnings.contains("speak to a member of staff about \\\"kiwi\\\""), "{warnings}");
}

// ---------------------------------------------------------------------------------------------
// Menu changes

fn shake_sold_out() -> Menu {
    let mut menu = Menu { items: menu_fixture(), tax: Default::default() };
    menu.apply_sold_out(&restaurant_protocol::SoldOut { items: vec!["chocolate-shake".into()], options: vec![] });
    menu
}

fn instructions_sent(h: &Harness) -> Vec<String> {
    h.sent()
        .iter()
        .filter(|v| v["type"] == "session.update")
        .map(|v| v["session"]["instructions"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_menu_change_while_connected_updates_the_session_and_the_tools_use_it() {
    let mut h = Harness::idle();
    h.s.handle_menu_changed(h.now, shake_sold_out());
    h.settle();
    assert_eq!(h.sent_types(), ["session.update"]);
    let update = &h.sent()[0];
    assert_eq!(update["session"]["type"], "realtime", "the GA shape");
    assert!(
        update["session"]["instructions"]
            .as_str()
            .unwrap()
            .contains("- Chocolate Shake (Desserts), $5.49 SOLD OUT today"),
        "{update}"
    );
    assert_eq!(update["session"]["tools"].as_array().unwrap().len(), 3);
    assert!(update["session"].get("turn_detection").is_none() && update["session"].get("audio").is_none());
    assert_eq!(h.s.state(), TurnState::Idle);

    h.frame(json!({"type": "response.function_call_arguments.done", "call_id": "c1", "name": "add_to_order", "arguments": "{\"items\":[{\"name\":\"chocolate shake\",\"quantity\":1}]}"}));
    assert_eq!(output_of(&h, "c1")["error"], "Nothing was added. We're out of the Chocolate Shake today.");
    assert!(h.cart.is_empty());
}

#[test]
fn the_same_menu_again_sends_nothing() {
    let mut h = Harness::idle();
    h.s.handle_menu_changed(h.now, Menu { items: menu_fixture(), tax: Default::default() });
    h.settle();
    assert!(h.ch.sent.is_empty());
}

#[test]
fn a_menu_change_before_the_session_is_configured_goes_into_its_first_update() {
    // Disconnected: nothing is queued; the connection's session.update carries the new menu.
    let mut h = Harness::new();
    h.s.handle_menu_changed(h.now, shake_sold_out());
    assert_eq!(h.s.queued_events(), 0);
    h.s.handle_connect_requested(h.now).unwrap();
    h.ch.open = true;
    h.s.handle_channel_open(h.now, &mut h.ch).unwrap();
    // Channel open, no session.created yet: still nothing of its own.
    h.s.handle_menu_changed(h.now, Menu { items: menu_fixture(), tax: Default::default() });
    h.s.handle_menu_changed(h.now, shake_sold_out());
    h.settle();
    assert!(h.ch.sent.is_empty());
    h.frame(json!({"type": "session.created", "session": {"type": "realtime"}}));
    let sent = instructions_sent(&h);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("Chocolate Shake (Desserts), $5.49 SOLD OUT today"));
}

#[test]
fn a_menu_change_while_the_first_update_is_pending_is_sent_after_it() {
    let mut h = Harness::new();
    h.s.handle_connect_requested(h.now).unwrap();
    h.ch.open = true;
    h.s.handle_channel_open(h.now, &mut h.ch).unwrap();
    h.frame(json!({"type": "session.created", "session": {}}));
    assert_eq!(h.s.state(), TurnState::AwaitingSessionReady);
    h.s.handle_menu_changed(h.now, shake_sold_out());
    h.settle();
    let sent = instructions_sent(&h);
    assert_eq!(sent.len(), 2);
    assert!(!sent[0].contains("SOLD OUT") && sent[1].contains("Chocolate Shake (Desserts), $5.49 SOLD OUT today"));
    assert!(h.sent()[1]["session"].get("type").is_none(), "the beta shape has no session type");
}

#[test]
fn a_menu_update_waits_in_the_outbox_in_order_while_the_channel_is_not_open() {
    let mut h = Harness::idle();
    h.ch.open = false;
    h.start().unwrap();
    h.s.handle_menu_changed(h.now, shake_sold_out());
    h.settle();
    assert!(h.ch.sent.is_empty());
    assert_eq!(h.s.queued_events(), 2);
    h.ch.open = true;
    h.settle();
    assert_eq!(h.sent_types(), ["input_audio_buffer.clear", "session.update"]);
    assert_eq!(h.s.state(), TurnState::Recording, "the turn goes on");
}

#[test]
fn after_a_disconnect_a_menu_change_waits_for_the_next_connection() {
    let mut h = Harness::idle();
    h.s.disconnect(h.now);
    h.s.handle_channel_closed(h.now);
    h.s.handle_menu_changed(h.now, shake_sold_out());
    h.settle();
    assert!(h.ch.sent.is_empty());
    assert_eq!(h.s.queued_events(), 0);
    assert!(!h.s.menu().item("chocolate-shake").unwrap().available);
}

// ---------------------------------------------------------------------------------------------
// Properties

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Frame(usize),
        Garbage(String),
        Connect,
        Token,
        Open,
        Closed,
        Failed,
        Start,
        Stop,
        Disconnect,
        ForceReset,
        Jump(u64),
        Timeout,
        ChannelState(bool, Option<usize>),
        MenuChanged(bool),
    }

    fn frames() -> Vec<Value> {
        vec![
            json!({"type": "session.created", "session": {"type": "realtime"}}),
            json!({"type": "session.created", "event_id": "dup", "session": {}}),
            json!({"type": "session.updated", "session": {}}),
            json!({"type": "input_audio_buffer.speech_started"}),
            json!({"type": "input_audio_buffer.committed", "item_id": "u1"}),
            json!({"type": "conversation.item.created", "item": {"id": "u1", "type": "message", "role": "user"}}),
            json!({"type": "conversation.item.input_audio_transcription.delta", "item_id": "u1", "delta": "a "}),
            json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "a cola"}),
            json!({"type": "conversation.item.input_audio_transcription.failed", "item_id": "u2", "error": {"message": "x"}}),
            json!({"type": "response.created", "response": {}}),
            json!({"type": "response.done", "response": {"status": "completed"}}),
            json!({"type": "response.done", "response": {"status": "failed"}}),
            json!({"type": "response.output_item.added", "item": {"id": "f", "type": "function_call", "call_id": "c1", "name": "add_to_order"}}),
            json!({"type": "response.function_call_arguments.delta", "call_id": "c1", "delta": "{\"items\":[{\"name\":\"cola\",\"quantity\":1}]}"}),
            json!({"type": "response.function_call_arguments.done", "call_id": "c1", "arguments": ""}),
            json!({"type": "response.function_call_arguments.done", "call_id": "c2", "name": "remove_from_order", "arguments": "{\"name\":\"cola\"}"}),
            json!({"type": "response.audio_transcript.delta", "item_id": "a1", "delta": "ok"}),
            json!({"type": "output_audio_buffer.started"}),
            json!({"type": "output_audio_buffer.stopped"}),
            json!({"type": "error", "error": {"code": "conversation_already_has_active_response", "message": "busy"}}),
            json!({"type": "error", "error": {"code": "input_audio_buffer_commit_empty", "message": "empty"}}),
            json!({"type": "some.future.event"}),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..frames().len()).prop_map(Op::Frame),
            1 => ".{0,40}".prop_map(Op::Garbage),
            1 => Just(Op::Connect),
            1 => Just(Op::Token),
            2 => Just(Op::Open),
            1 => Just(Op::Closed),
            1 => Just(Op::Failed),
            2 => Just(Op::Start),
            2 => Just(Op::Stop),
            1 => Just(Op::Disconnect),
            1 => Just(Op::ForceReset),
            2 => (0u64..120_000).prop_map(Op::Jump),
            2 => Just(Op::Timeout),
            1 => (any::<bool>(), proptest::option::of(0usize..4)).prop_map(|(o, c)| Op::ChannelState(o, c)),
            1 => any::<bool>().prop_map(Op::MenuChanged),
        ]
    }

    fn run(h: &mut Harness, op: &Op, frames: &[Value]) {
        let now = h.now;
        match op {
            Op::Frame(i) => {
                let _ = h.s.handle_server_frame(now, &frames[*i].to_string(), &mut h.cart);
            }
            Op::Garbage(text) => {
                let _ = h.s.handle_server_frame(now, text, &mut h.cart);
            }
            Op::Connect => {
                let _ = h.s.handle_connect_requested(now);
            }
            Op::Token => {
                let _ = h.s.handle_token(now, TOKEN_EXPIRES_AT_SECS, Millis(UNIX_NOW.0 + now.0));
            }
            Op::Open => {
                let _ = h.s.handle_channel_open(now, &mut h.ch);
            }
            Op::Closed => h.s.handle_channel_closed(now),
            Op::Failed => h.s.handle_connection_failed(now, "ice failed"),
            Op::Start => {
                let _ = h.s.start_recording(now);
            }
            Op::Stop => {
                let _ = h.s.stop_recording(now);
            }
            Op::Disconnect => h.s.disconnect(now),
            Op::ForceReset => h.s.force_reset(now),
            Op::Jump(n) => h.now = now + ms(*n),
            Op::Timeout => h.s.handle_timeout(now),
            Op::ChannelState(open, close_after) => {
                h.ch.open = *open;
                h.ch.close_after = close_after.map(|n| h.ch.sent.len() + n);
            }
            Op::MenuChanged(sold_out) => {
                let menu =
                    if *sold_out { shake_sold_out() } else { Menu { items: menu_fixture(), tax: Default::default() } };
                h.s.handle_menu_changed(now, menu);
            }
        }
        h.settle();
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_interleavings_never_panic_and_settle_once_inputs_stop(ops in proptest::collection::vec(op(), 0..80)) {
            let frames = frames();
            let mut h = Harness::new();
            for op in &ops {
                run(&mut h, op, &frames);
                prop_assert!(h.s.queued_events() <= super::super::outbox::OUTBOX_CAPACITY);
                prop_assert!((1..=99).contains(&h.cart.lines().first().map_or(1, |l| l.quantity)));
            }
            // Inputs stop: only the driver's timer fires. Every timer is due within the longest
            // timeout, and a resting state is reached after at most two of them (e.g. Recording →
            // Committing → Idle, Connecting → Error → Disconnected).
            // (A token refresh may also fire in between; it never changes the state.)
            let longest = Timeouts::default().longest();
            let start = h.now;
            let mut fired = 0;
            while !matches!(h.s.state(), TurnState::Idle | TurnState::Disconnected) {
                let at = h.s.poll_timeout();
                prop_assert!(at.is_some(), "waiting in {:?} without a timer", h.s.state());
                h.now = h.now.max(at.unwrap_or(h.now));
                h.s.handle_timeout(h.now);
                h.settle();
                fired += 1;
                prop_assert!(fired <= 3, "not settled after {fired} timeouts: {:?}", h.s.state());
            }
            prop_assert!(h.now <= start.after(longest * 2));
            prop_assert!(!h.s.is_stuck(h.now));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Barge-in: pressing to talk while the assistant answers

/// A committed turn whose transcript came back: the reply is requested (and maybe created).
fn answering(created: bool) -> Harness {
    let mut h = Harness::idle();
    h.committed_turn();
    h.frame(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "A cola"}));
    if created {
        h.frame(json!({"type": "response.created", "response": {}}));
    }
    assert_eq!(h.s.state(), TurnState::AwaitingResponse);
    h.ch.sent.clear();
    h.cmds.clear();
    h
}

#[test]
fn barge_in_while_the_reply_is_produced_cancels_it_clears_the_audio_and_records() {
    let mut h = answering(true);
    h.start().expect("a press interrupts the answer");
    assert_eq!(h.s.state(), TurnState::Recording);
    assert_eq!(
        h.sent_types(),
        ["response.cancel", "output_audio_buffer.clear", "input_audio_buffer.clear"],
        "cancel the response, stop its audio, then a clean buffer for the new turn"
    );
    assert!(h.cmds.contains(&VoiceCommand::SetMicEnabled(true)));
    // The cancelled response's end is expected: not an error, and the new turn goes on.
    h.frame(json!({"type": "response.done", "response": {"status": "cancelled", "status_details": {"type": "cancelled", "reason": "client_cancelled"}}}));
    h.frame(json!({"type": "error", "error": {"code": "response_cancel_not_active", "message": "no active response"}}));
    assert!(h.errors().is_empty(), "{:?}", h.errors());
    assert_eq!(h.s.state(), TurnState::Recording);
    h.stop().unwrap();
    h.frame(json!({"type": "input_audio_buffer.committed", "item_id": "u2"}));
    assert_eq!(h.sent_types().last().map(String::as_str), Some("response.create"), "the next turn asks for its reply");
}

#[test]
fn barge_in_while_the_assistant_speaks_clears_its_audio() {
    let mut h = answering(true);
    h.frame(json!({"type": "output_audio_buffer.started", "response_id": "r1"}));
    h.frame(json!({"type": "response.done", "response": {"status": "completed"}}));
    assert_eq!(h.s.state(), TurnState::Idle);
    assert!(h.s.assistant_speaking());
    h.ch.sent.clear();
    h.cmds.clear();
    h.start().unwrap();
    assert_eq!(h.sent_types(), ["output_audio_buffer.clear", "input_audio_buffer.clear"], "no response to cancel");
    assert!(h.cmds.contains(&VoiceCommand::AssistantSpeaking(false)), "the reply is shown as stopped at once");
    assert_eq!(h.s.state(), TurnState::Recording);
}

#[test]
fn barge_in_before_the_transcript_cancels_the_requested_response() {
    let mut h = Harness::idle();
    h.committed_turn();
    h.ch.sent.clear();
    h.start().unwrap();
    assert_eq!(h.sent_types(), ["response.cancel", "output_audio_buffer.clear", "input_audio_buffer.clear"]);
    assert_eq!(h.s.state(), TurnState::Recording);
}

#[test]
fn a_press_is_refused_while_connecting_or_committing() {
    let mut h = Harness::idle();
    h.start().unwrap();
    h.stop().unwrap();
    assert_eq!(h.s.state(), TurnState::Committing);
    assert!(h.start().is_err(), "the commit is on its way");
    let mut h = Harness::new();
    h.s.handle_connect_requested(h.now).unwrap();
    assert!(h.start().is_err());
}

#[test]
fn a_tool_call_of_the_interrupted_answer_changes_nothing_and_its_end_is_not_the_new_turns() {
    let mut h = answering(true);
    h.start().unwrap();
    h.ch.sent.clear();
    // The customer said "yes" and the model began placing; they press to say "wait, no".
    call(&mut h, "c1", "add_to_order", r#"{"items":[{"name":"Cola"}]}"#);
    assert!(h.cart.is_empty(), "the interrupted answer changes nothing");
    let out: Value = serde_json::from_str(h.sent()[0]["item"]["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["ok"], false, "the model is told: {out}");
    assert_eq!(h.sent_types(), ["conversation.item.create"], "no reply is asked for while the customer talks");
    // The new turn is committed before the cancelled response's end arrives (a slow link).
    h.stop().unwrap();
    h.frame(json!({"type": "input_audio_buffer.committed", "item_id": "u2"}));
    assert_eq!(h.sent_types().last().map(String::as_str), Some("response.create"));
    h.frame(json!({"type": "response.done", "response": {"status": "cancelled"}}));
    assert_eq!(h.s.state(), TurnState::AwaitingTranscript, "the old response's end does not end the new turn");
    // The new response's call runs and its follow-up is asked for at once (no stale "active").
    h.frame(json!({"type": "response.created", "response": {}}));
    h.ch.sent.clear();
    call(&mut h, "c2", "add_to_order", r#"{"items":[{"name":"Cola"}]}"#);
    assert_eq!(h.cart.lines().len(), 1);
    assert_eq!(h.sent_types(), ["conversation.item.create"], "the follow-up waits for this response's end");
    h.frame(json!({"type": "response.done", "response": {"status": "completed"}}));
    assert_eq!(h.sent_types(), ["conversation.item.create", "response.create"]);
}

#[test]
fn a_checkout_while_an_earlier_order_is_still_on_its_way_is_refused_to_the_model() {
    let mut h = Harness::idle();
    call(&mut h, "c1", "add_to_order", r#"{"items":[{"name":"Cola"}]}"#);
    h.s.set_order_blocked(Some("the previous order is still being sent".into()));
    h.ch.sent.clear();
    call(&mut h, "c2", "confirm_order", r#"{"action":"checkout"}"#);
    assert!(orders(&h).is_empty());
    let out: Value = serde_json::from_str(h.sent()[0]["item"]["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["ok"], false);
    h.s.set_order_blocked(None);
    call(&mut h, "c3", "confirm_order", r#"{"action":"checkout"}"#);
    assert_eq!(orders(&h), [OrderAction::Confirm]);
}

// ---------------------------------------------------------------------------------------------
// Confirm before placing

fn call(h: &mut Harness, id: &str, name: &str, arguments: &str) {
    h.frame(
        json!({"type": "response.function_call_arguments.done", "call_id": id, "name": name, "arguments": arguments}),
    );
}

/// The customer answers (a completed transcription).
fn yes(h: &mut Harness) {
    h.frame(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u_yes", "transcript": "yes"}));
}

fn orders(h: &Harness) -> Vec<OrderAction> {
    picked!(h.cmds, VoiceCommand::Order(a) => *a)
}

#[test]
fn the_first_checkout_asks_and_only_a_yes_places_the_order() {
    let mut h = Harness::idle();
    call(&mut h, "c1", "add_to_order", r#"{"items":[{"name":"Cola","quantity":2}]}"#);
    call(&mut h, "c2", "confirm_order", r#"{"action":"checkout"}"#);
    assert_eq!(orders(&h), [OrderAction::Confirm], "never placed on the first call alone");
    assert!(h.s.awaiting_confirmation(&h.cart));
    let out: Value = serde_json::from_str(h.sent().last().unwrap()["item"]["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["needs_confirmation"], true);
    assert!(out["message"].as_str().unwrap().contains("Shall I place it?"), "{out}");
    // A second checkout before the customer said anything (the same answer, or the read-back's
    // follow-up) asks again: only an answer from the customer places the order.
    call(&mut h, "c3", "confirm_order", r#"{"action":"checkout"}"#);
    assert_eq!(orders(&h), [OrderAction::Confirm, OrderAction::Confirm]);
    yes(&mut h);
    call(&mut h, "c4", "confirm_order", r#"{"action":"checkout"}"#);
    assert_eq!(orders(&h), [OrderAction::Confirm, OrderAction::Confirm, OrderAction::Checkout]);
    assert!(!h.s.awaiting_confirmation(&h.cart));
}

#[test]
fn a_change_after_the_question_asks_again() {
    let mut h = Harness::idle();
    call(&mut h, "c1", "add_to_order", r#"{"items":[{"name":"Cola"}]}"#);
    call(&mut h, "c2", "confirm_order", r#"{"action":"checkout"}"#);
    yes(&mut h);
    call(&mut h, "c3", "add_to_order", r#"{"items":[{"name":"Cola"}]}"#);
    call(&mut h, "c4", "confirm_order", r#"{"action":"checkout"}"#);
    assert_eq!(orders(&h), [OrderAction::Confirm, OrderAction::Confirm], "the changed order is read back again");
    // A change by touch counts too: the cart is compared, not the calls.
    h.cart.clear();
    assert!(!h.s.awaiting_confirmation(&h.cart));
}

#[test]
fn a_new_customer_is_never_placed_by_the_last_ones_yes() {
    let mut h = Harness::idle();
    call(&mut h, "c1", "add_to_order", r#"{"items":[{"name":"Cola"}]}"#);
    call(&mut h, "c2", "confirm_order", r#"{"action":"checkout"}"#);
    yes(&mut h);
    h.s.forget_customer();
    assert!(!h.s.awaiting_confirmation(&h.cart));
    assert!(h.s.transcript().is_empty());
}

// ---------------------------------------------------------------------------------------------
// A lost `input_audio_buffer.committed`

#[test]
fn a_transcript_without_committed_still_gets_its_reply() {
    let mut h = Harness::idle();
    h.start().unwrap();
    h.stop().unwrap();
    h.ch.sent.clear();
    // `input_audio_buffer.committed` never arrives.
    h.frame(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "A cola"}));
    assert_eq!(h.sent_types(), ["response.create"], "the reply is asked for instead of a silent stall");
    assert_eq!(h.s.state(), TurnState::AwaitingResponse);
    // The late committed (if it comes) changes nothing and asks for nothing twice.
    h.frame(json!({"type": "input_audio_buffer.committed", "item_id": "u1"}));
    assert_eq!(h.sent_types(), ["response.create"]);
    h.frame(json!({"type": "response.created", "response": {}}));
    h.frame(json!({"type": "response.done", "response": {"status": "completed"}}));
    assert_eq!(h.s.state(), TurnState::Idle);
}

// ---------------------------------------------------------------------------------------------
// Hands-free (server turn detection)

fn hands_free() -> Harness {
    Harness::idle_with(VoiceConfig { server_vad: true, ..VoiceConfig::default() })
}

#[test]
fn hands_free_opens_the_microphone_when_ready_and_follows_the_servers_turns() {
    let mut h = Harness::with_config(VoiceConfig { server_vad: true, ..VoiceConfig::default() });
    h.s.handle_connect_requested(h.now).unwrap();
    h.ch.open = true;
    h.s.handle_channel_open(h.now, &mut h.ch).unwrap();
    h.frame(json!({"type": "session.created", "session": {"type": "realtime"}}));
    assert_eq!(h.sent()[0]["session"]["audio"]["input"]["turn_detection"]["type"], "server_vad");
    h.frame(json!({"type": "session.updated", "session": {}}));
    assert!(h.cmds.contains(&VoiceCommand::SetMicEnabled(true)), "listening once ready");
    h.cmds.clear();
    h.ch.sent.clear();
    h.frame(json!({"type": "input_audio_buffer.speech_started"}));
    assert_eq!(h.s.state(), TurnState::Recording);
    h.frame(json!({"type": "input_audio_buffer.speech_stopped"}));
    assert_eq!(h.s.state(), TurnState::Committing);
    h.frame(json!({"type": "input_audio_buffer.committed", "item_id": "u1"}));
    h.frame(json!({"type": "response.created", "response": {}}));
    h.frame(json!({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1", "transcript": "A cola"}));
    assert_eq!(h.s.state(), TurnState::AwaitingResponse);
    h.frame(json!({"type": "response.done", "response": {"status": "completed"}}));
    assert_eq!(h.s.state(), TurnState::Idle);
    assert!(h.sent_types().is_empty(), "the server commits and answers by itself: {:?}", h.sent_types());
    assert!(!h.cmds.contains(&VoiceCommand::SetMicEnabled(false)), "the microphone stays open");
}

#[test]
fn hands_free_the_button_only_mutes() {
    let mut h = hands_free();
    assert!(h.start().is_err(), "no push-to-talk with server turn detection");
    h.s.set_muted(h.now, true).unwrap();
    h.settle();
    assert!(h.cmds.contains(&VoiceCommand::SetMicEnabled(false)));
    assert!(h.s.is_muted());
    h.frame(json!({"type": "session.updated", "session": {}}));
    h.cmds.clear();
    h.s.set_muted(h.now, false).unwrap();
    h.settle();
    assert_eq!(h.cmds, [VoiceCommand::SetMicEnabled(true)]);
    let mut ptt = Harness::idle();
    assert!(ptt.s.set_muted(ptt.now, true).is_err(), "push-to-talk has no mute");
}

#[test]
fn hands_free_the_server_interrupting_its_answer_is_not_an_error() {
    let mut h = hands_free();
    h.frame(json!({"type": "input_audio_buffer.speech_started"}));
    h.frame(json!({"type": "input_audio_buffer.speech_stopped"}));
    h.frame(json!({"type": "input_audio_buffer.committed", "item_id": "u1"}));
    h.frame(json!({"type": "response.created", "response": {}}));
    h.frame(json!({"type": "output_audio_buffer.started"}));
    // The customer talks over the reply: the server cancels it.
    h.frame(json!({"type": "input_audio_buffer.speech_started"}));
    assert_eq!(h.s.state(), TurnState::Recording);
    assert!(!h.s.assistant_speaking());
    h.frame(json!({"type": "response.done", "response": {"status": "cancelled", "status_details": {"reason": "turn_detected"}}}));
    assert!(h.errors().is_empty());
    assert_eq!(h.s.state(), TurnState::Recording);
}

// ---------------------------------------------------------------------------------------------
// Tokens fetched ahead, one Realtime session per connection

#[test]
fn connecting_spends_the_token_and_fetches_the_next_at_once() {
    let mut h = Harness::new();
    assert!(h.s.has_token(h.now));
    h.s.handle_connect_requested(h.now).unwrap();
    h.settle();
    assert!(!h.s.has_token(h.now), "a token is used for one connection only");
    assert_eq!(h.cmds.iter().filter(|c| **c == VoiceCommand::RefreshToken).count(), 1, "the next one is fetched ahead");
    h.s.handle_token(h.now, TOKEN_EXPIRES_AT_SECS, UNIX_NOW).unwrap();
    assert!(h.s.has_token(h.now));
    // It is refreshed 10 s before it expires (60 s token).
    h.cmds.clear();
    h.advance(secs(49));
    assert!(!h.cmds.contains(&VoiceCommand::RefreshToken));
    h.advance(secs(1));
    assert!(h.cmds.contains(&VoiceCommand::RefreshToken));
}

#[test]
fn without_prefetch_each_connection_fetches_its_own_token_at_the_tap() {
    let mut h = Harness::with_config(VoiceConfig { prefetch_token: false, ..VoiceConfig::default() });
    h.s.handle_connect_requested(h.now).unwrap();
    h.settle();
    assert!(!h.cmds.contains(&VoiceCommand::RefreshToken));
}

#[test]
fn each_connection_knows_its_realtime_session_id() {
    let mut h = Harness::new();
    h.s.handle_connect_requested(h.now).unwrap();
    h.ch.open = true;
    h.s.handle_channel_open(h.now, &mut h.ch).unwrap();
    h.frame(json!({"type": "session.created", "session": {"id": "sess_A", "type": "realtime"}}));
    assert_eq!(h.s.session_id(), Some("sess_A"));
    h.s.disconnect(h.now);
    h.s.handle_channel_closed(h.now);
    assert_eq!(h.s.session_id(), None, "forgotten with the connection");
}

#[test]
fn a_lost_connection_says_what_to_do() {
    let mut h = Harness::idle();
    h.s.handle_channel_closed(h.now);
    h.settle();
    let helps = picked!(h.cmds, VoiceCommand::Error { help, .. } => *help);
    assert_eq!(helps, [super::session::RECONNECT_HELP]);
    assert!(!helps[0].is_empty());
}
