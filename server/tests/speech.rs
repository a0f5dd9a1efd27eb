//! The voice peer hears real speech and speaks its replies: audio synthesized by espeak-ng,
//! encoded to Opus and sent over WebRTC like a microphone, recognized by the hub's pocketsphinx
//! with the menu's grammar; replies come back as Opus speech timed with their events.

mod voice_client;

use std::time::{Duration, Instant};

use restaurant_hub::voice::bundled_menu;
use restaurant_hub::voice::speech::codec::{CALL_RATE, OpusDecoder};
use restaurant_hub::voice::speech::recognizer::{DEFAULT_MODEL_DIR, Engine};
use restaurant_hub::voice::speech::tts::{self, Voice};
use serde_json::{Value, json};
use voice_client::*;

/// `text` as a customer says it, with 300 ms of silence before and 600 ms after (48 kHz).
async fn spoken(text: &str) -> Vec<i16> {
    let voice = Voice { name: "en-us".into(), speed: 160 };
    let speech = tts::synthesize(text, &voice).await.expect("espeak-ng");
    let mut pcm = vec![0i16; CALL_RATE as usize * 3 / 10];
    pcm.extend(speech);
    pcm.extend(vec![0i16; CALL_RATE as usize * 6 / 10]);
    pcm
}

async fn push_to_talk(c: &mut Client) {
    c.send(json!({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": null}}}}));
    assert_eq!(c.next_event(WAIT).await.unwrap()["type"], "session.updated");
}

/// The customer presses, says `text`, and releases: events through the completed transcript.
async fn say(c: &mut Client, text: &str) -> Vec<Value> {
    c.send(json!({"type": "input_audio_buffer.clear"}));
    assert_eq!(c.next_event(WAIT).await.unwrap()["type"], "input_audio_buffer.cleared");
    let pcm = spoken(text).await;
    c.send_speech(&pcm).await;
    c.send(json!({"type": "input_audio_buffer.commit"}));
    c.events_until("conversation.item.input_audio_transcription.completed").await
}

fn transcript(events: &[Value]) -> String {
    of_type(events, "conversation.item.input_audio_transcription.completed")[0]["transcript"]
        .as_str()
        .unwrap()
        .to_lowercase()
}

fn rms(pcm: &[i16]) -> f64 {
    (pcm.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / pcm.len().max(1) as f64).sqrt()
}

#[test]
fn the_bundled_menu_has_a_pronunciation_for_every_word() {
    let engine = Engine::new(std::path::Path::new(DEFAULT_MODEL_DIR)).expect("pocketsphinx-en-us is installed");
    let g = engine.grammar(&bundled_menu()).unwrap();
    assert_eq!(g.unknown, Vec::<String>::new());
    // "Vinaigrette" is not in the dictionary: espeak-ng's pronunciation is added.
    assert!(g.added.iter().any(|(w, _)| w == "vinaigrette"), "{:?}", g.added);
    assert!(g.jsgf.contains("cheeseburger") && g.jsgf.contains("honey mustard"));
}

#[tokio::test]
async fn a_spoken_order_is_heard_and_becomes_the_tool_call() {
    let hub = hub().await;
    let mut c = hub.connected().await;
    push_to_talk(&mut c).await;
    let events = say(&mut c, "can I get two cheeseburgers with no onions and a large coke").await;
    assert_eq!(transcript(&events), "can i get two cheeseburgers with no onions and a large coke");
    let completed = of_type(&events, "conversation.item.input_audio_transcription.completed")[0];
    let committed = of_type(&events, "input_audio_buffer.committed")[0];
    assert_eq!(completed["item_id"], committed["item_id"], "the transcript is the committed turn's");
    assert!(!of_type(&events, "conversation.item.input_audio_transcription.delta").is_empty());

    c.send(json!({"type": "response.create"}));
    let events = c.events_until("response.function_call_arguments.done").await;
    let args: Value = serde_json::from_str(events.last().unwrap()["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(
        args,
        json!({"items": [
            {"name": "Cheeseburger", "quantity": 2, "options": ["no onions"]},
            {"name": "Cola", "quantity": 1, "options": ["Large"]}
        ]})
    );
}

#[tokio::test]
async fn server_turn_detection_finds_the_turn_in_the_audio_and_answers_it() {
    let hub = hub().await;
    // The session starts with server_vad, as OpenAI's does.
    let mut c = hub.connected().await;
    let mut pcm = vec![0i16; CALL_RATE as usize];
    pcm.extend(spoken("a vanilla shake please").await);
    pcm.extend(vec![0i16; CALL_RATE as usize]);
    c.send_speech(&pcm).await;
    let events = c.events_until("response.function_call_arguments.done").await;
    let kinds = types(&events);
    let at = |k: &str| kinds.iter().position(|x| *x == k).unwrap_or_else(|| panic!("no {k}: {kinds:?}"));
    assert!(at("input_audio_buffer.speech_started") < at("input_audio_buffer.speech_stopped"));
    assert!(at("input_audio_buffer.speech_stopped") < at("input_audio_buffer.committed"));
    let started = of_type(&events, "input_audio_buffer.speech_started")[0];
    let stopped = of_type(&events, "input_audio_buffer.speech_stopped")[0];
    let (start_ms, end_ms) = (started["audio_start_ms"].as_u64().unwrap(), stopped["audio_end_ms"].as_u64().unwrap());
    // Speech starts 1.3 s in (less 300 ms of padding) and lasts about a second and a half.
    assert!((700..=1_400).contains(&start_ms), "{start_ms}");
    assert!(end_ms > start_ms + 800 && end_ms < start_ms + 4_000, "{start_ms}..{end_ms}");
    assert_eq!(started["item_id"], of_type(&events, "input_audio_buffer.committed")[0]["item_id"]);
    assert_eq!(transcript(&events), "a vanilla shake please");
    let args: Value = serde_json::from_str(events.last().unwrap()["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["items"][0]["name"], "Vanilla Shake");
}

#[tokio::test]
async fn noise_is_heard_as_an_empty_transcript_and_answered_as_not_understood() {
    let hub = hub().await;
    let mut c = hub.connected().await;
    push_to_talk(&mut c).await;
    c.send(json!({"type": "input_audio_buffer.clear"}));
    c.next_event(WAIT).await;
    let mut seed = 1u32;
    let hiss: Vec<i16> = (0..CALL_RATE as usize)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((seed >> 16) as i16) / 64
        })
        .collect();
    c.send_speech(&hiss).await;
    c.send(json!({"type": "input_audio_buffer.commit"}));
    let events = c.events_until("conversation.item.input_audio_transcription.completed").await;
    assert_eq!(transcript(&events), "", "no scripted line stands in for speech");
    c.send(json!({"type": "response.create"}));
    let reply = c.events_until("response.output_audio_transcript.delta").await;
    assert!(reply.last().unwrap()["delta"].as_str().unwrap().starts_with("Sorry"));
}

#[tokio::test]
async fn the_reply_is_speech_timed_with_its_events_and_barge_in_cuts_it() {
    let hub = hub().await;
    let mut c = hub.connected().await;
    push_to_talk(&mut c).await;
    hub.say("hello there").await;
    c.turn(300, "conversation.item.done").await;
    c.send(json!({"type": "response.create"}));
    let events = c.events_until("output_audio_buffer.started").await;
    let started_at = Instant::now();
    let response_id = events.last().unwrap()["response_id"].clone();
    let rest = c.events_until("response.done").await;
    let stopped_after = started_at.elapsed();
    let kinds = types(&rest);
    let done = kinds.iter().position(|k| *k == "response.output_audio_transcript.done").unwrap();
    assert!(kinds[..done].iter().all(|k| *k == "response.output_audio_transcript.delta"), "{kinds:?}");
    assert_eq!(kinds[done + 1], "output_audio_buffer.stopped");
    assert_eq!(rest[done + 1]["response_id"], response_id);
    // "Sorry, I didn't catch that. What would you like to order?" takes a few seconds to say.
    assert!(stopped_after > Duration::from_millis(1_500), "stopped after {stopped_after:?}");

    // What arrived is speech, not silence.
    let mut decoder = OpusDecoder::new().unwrap();
    let mut pcm = Vec::new();
    for (_, packet) in &c.audio_in {
        decoder.decode(packet, &mut pcm).unwrap();
    }
    let seconds = pcm.len() as f64 / f64::from(CALL_RATE);
    assert!(
        (seconds - stopped_after.as_secs_f64()).abs() < 0.5,
        "{seconds} s of audio, stopped after {stopped_after:?}"
    );
    assert!(rms(&pcm) > 1_000.0, "the reply is audible: rms {}", rms(&pcm));

    // Barge-in: the kiosk clears the output half a second into the next reply.
    hub.say("hello there").await;
    c.turn(300, "conversation.item.done").await;
    c.send(json!({"type": "response.create"}));
    c.events_until("output_audio_buffer.started").await;
    c.quiet_for(Duration::from_millis(500)).await;
    c.send(json!({"type": "output_audio_buffer.clear"}));
    let cleared_at = Instant::now();
    c.events_until("response.done").await;
    c.quiet_for(Duration::from_millis(600)).await;
    let last = c.audio_in.last().unwrap().0;
    let after = last.saturating_duration_since(cleared_at);
    assert!(after < Duration::from_millis(150), "audio went on {after:?} after the clear");
}
