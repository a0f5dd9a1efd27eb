//! The offline voice's accuracy and latency on the spoken test set (`cargo xtask speech-set`),
//! run by `cargo xtask bench`: every order, in every voice and noise condition, goes through the
//! hub's own pipeline turn by turn — the WAV encoded to Opus and decoded as a call does, the
//! recognizer with the menu's grammar, the peer's conversation — with the kiosk's real tools and
//! cart answering its calls and placing the order. The placed cart is compared with the expected
//! one. Prints `BENCH {json}` lines and a table by voice and noise.
//!
//! Latency is measured per turn from the end of the customer's audio (the push-to-talk release):
//! the recognizer's last step and the transcript, then the tool calls and the reply's synthesis to
//! its first encoded frame. The audio itself is decoded faster than real time here, so the figure
//! holds when the recognizer keeps up with live audio: the real-time factor is printed too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use restaurant_hub::voice::speech::codec::{CALL_RATE, Decimator, FRAME_SAMPLES, OpusDecoder, OpusEncoder};
use restaurant_hub::voice::speech::recognizer::{DEFAULT_MODEL_DIR, Decoder, Engine};
use restaurant_hub::voice::speech::tts::{self, Voice, parse_wav};
use restaurant_hub::voice::{Action, Conversation, ConversationFaults, Matcher, bundled_menu, kiosk_session};
use restaurant_protocol::Menu;
use restaurant_web::core::cart::Cart;
use restaurant_web::core::voice::tools::{OrderAction, run_call};
use serde_json::{Value, json};

type Lines = BTreeMap<(String, Vec<String>), u32>;

struct Turn {
    text: String,
    wav: PathBuf,
}

struct Item {
    id: String,
    condition: String,
    turns: Vec<Turn>,
    expected: Lines,
}

#[derive(Default)]
struct Tally {
    conversations: usize,
    exact: usize,
    placed: usize,
    turns: usize,
    turns_exact: usize,
    words: usize,
    word_errors: usize,
    /// Units of (item, options) expected, heard, and both.
    expected: u32,
    got: u32,
    right: u32,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.conversations += o.conversations;
        self.exact += o.exact;
        self.placed += o.placed;
        self.turns += o.turns;
        self.turns_exact += o.turns_exact;
        self.words += o.words;
        self.word_errors += o.word_errors;
        self.expected += o.expected;
        self.got += o.got;
        self.right += o.right;
    }

    fn json(&self, condition: &str) -> Value {
        let pct = |a: f64, b: f64| if b > 0.0 { (1000.0 * a / b).round() / 10.0 } else { 0.0 };
        json!({
            "bench": "speech_accuracy", "condition": condition, "conversations": self.conversations,
            "exact_carts": self.exact, "exact_pct": pct(self.exact as f64, self.conversations as f64),
            "placed": self.placed,
            "precision_pct": pct(f64::from(self.right), f64::from(self.got)),
            "recall_pct": pct(f64::from(self.right), f64::from(self.expected)),
            "turns": self.turns, "turns_exact_pct": pct(self.turns_exact as f64, self.turns as f64),
            "wer_pct": pct(self.word_errors as f64, self.words as f64),
        })
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let manifest = PathBuf::from(args.first().map_or("target/speech-set/manifest.json", String::as_str));
    let limit: usize = std::env::var("SPEECH_BENCH_LIMIT").ok().and_then(|v| v.parse().ok()).unwrap_or(usize::MAX);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    if let Err(e) = runtime.block_on(run(&manifest, limit)) {
        eprintln!("speech_bench: {e}");
        std::process::exit(1);
    }
}

async fn run(manifest: &Path, limit: usize) -> Result<(), String> {
    let menu = bundled_menu();
    let items = load(manifest, &menu)?;
    let engine = Engine::new(Path::new(DEFAULT_MODEL_DIR))?;
    let grammar = engine.grammar(&menu)?;
    let mut decoder = Decoder::new(&engine, &grammar)?;
    let matcher = Arc::new(Matcher::new(&menu.items));
    let voice = Voice::default();
    let mut by_condition: BTreeMap<String, Tally> = BTreeMap::new();
    let mut heard_ms = Vec::new();
    let mut reply_ms = Vec::new();
    let (mut audio_secs, mut decode_secs) = (0.0f64, 0.0f64);
    let started = Instant::now();
    for item in items.iter().take(limit) {
        let mut tally = Tally { conversations: 1, ..Tally::default() };
        let mut session = kiosk_session("gpt-realtime", &menu);
        session["audio"]["input"]["turn_detection"] = Value::Null;
        let mut conversation =
            Conversation::new("b".into(), session, Arc::clone(&matcher), ConversationFaults::default());
        let mut kiosk = Kiosk { menu: &menu, cart: Cart::new(), asked_at: None, placed: None, turn: 0 };
        for (n, turn) in item.turns.iter().enumerate() {
            kiosk.turn = n + 1;
            let bytes = std::fs::read(&turn.wav).map_err(|e| format!("{}: {e}", turn.wav.display()))?;
            let (rate, pcm) = parse_wav(&bytes)?;
            if rate != CALL_RATE {
                return Err(format!("{}: {rate} Hz, expected {CALL_RATE}", turn.wav.display()));
            }
            // As a call does: Opus out of the microphone, decoded and brought to 16 kHz.
            let (mut enc, mut dec, mut decimator) = (OpusEncoder::new()?, OpusDecoder::new()?, Decimator::default());
            let began = Instant::now();
            decoder.start();
            for frame in pcm.chunks(FRAME_SAMPLES) {
                let packet = enc.encode(frame).map_err(|c| format!("opus encode {c}"))?;
                conversation.handle_audio(&packet);
                let (mut pcm48, mut pcm16) = (Vec::new(), Vec::new());
                dec.decode(&packet, &mut pcm48).map_err(|c| format!("opus decode {c}"))?;
                decimator.push(&pcm48, &mut pcm16);
                decoder.process(&pcm16);
            }
            // The release: the commit, the recognizer's last step, the transcript.
            let released = Instant::now();
            let committed = conversation.handle_text(r#"{"type":"input_audio_buffer.commit"}"#);
            let item_id = committed
                .iter()
                .find_map(|a| if let Action::Transcribe { item_id } = a { Some(item_id.clone()) } else { None })
                .ok_or("the commit asked for no transcript")?;
            let transcript = decoder.finish();
            let mut actions = conversation.transcribed(&item_id, &transcript);
            heard_ms.push(released.elapsed().as_secs_f64() * 1000.0);
            decode_secs += began.elapsed().as_secs_f64();
            audio_secs += pcm.len() as f64 / f64::from(CALL_RATE);
            actions.extend(conversation.handle_text(r#"{"type":"response.create"}"#));
            // The kiosk answers each tool call and asks for the next response, until the reply.
            let text = loop {
                if let Some(text) = actions.iter().find_map(|a| match a {
                    Action::Speak { text, .. } => Some(text.clone()),
                    _ => None,
                }) {
                    break text;
                }
                let Some((call_id, name, arguments)) = tool_call(&actions) else {
                    return Err(format!("{}: turn {} got neither a call nor a reply", item.id, n + 1));
                };
                let output = kiosk.run(&name, &arguments);
                let create = json!({"type": "conversation.item.create", "item": {"type": "function_call_output", "call_id": call_id, "output": output}});
                actions = conversation.handle_text(&create.to_string());
                actions.extend(conversation.handle_text(r#"{"type":"response.create"}"#));
            };
            let audio = tts::synthesize(&text, &voice).await?;
            OpusEncoder::new()?.encode(&audio[..FRAME_SAMPLES.min(audio.len())]).map_err(|c| format!("encode {c}"))?;
            reply_ms.push(released.elapsed().as_secs_f64() * 1000.0);
            conversation.reply_finished();
            let (errors, words) = word_errors(&turn.text, &transcript);
            if errors > 0 {
                println!(
                    "speech_bench: {} {} turn {}: said {:?}, heard {transcript:?}",
                    item.id,
                    item.condition,
                    n + 1,
                    turn.text
                );
            }
            tally.turns += 1;
            tally.turns_exact += usize::from(errors == 0);
            tally.words += words;
            tally.word_errors += errors;
        }
        let got = kiosk.placed.clone().unwrap_or_else(|| lines(&kiosk.cart));
        tally.placed = usize::from(kiosk.placed.is_some());
        tally.exact = usize::from(kiosk.placed.is_some() && got == item.expected);
        tally.expected = item.expected.values().sum();
        tally.got = got.values().sum();
        tally.right = item.expected.iter().map(|(k, q)| (*q).min(got.get(k).copied().unwrap_or(0))).sum();
        if tally.exact == 0 {
            println!("speech_bench: {} {}: expected {:?}, got {:?}", item.id, item.condition, item.expected, got);
        }
        by_condition.entry(item.condition.clone()).or_default().add(&tally);
    }
    let mut all = Tally::default();
    for (condition, tally) in &by_condition {
        println!("BENCH {}", tally.json(condition));
        all.add(tally);
    }
    println!("BENCH {}", all.json("all"));
    let heard = percentiles(&mut heard_ms);
    let reply = percentiles(&mut reply_ms);
    println!(
        "BENCH {}",
        json!({"bench": "speech_latency", "turns": heard_ms.len(),
               "heard_p50_ms": heard.0, "heard_p95_ms": heard.1,
               "reply_p50_ms": reply.0, "reply_p95_ms": reply.1,
               "realtime_factor": decode_secs / audio_secs.max(1e-9),
               "seconds": started.elapsed().as_secs_f64()})
    );
    Ok(())
}

/// The kiosk's side: its real tools on its real cart, and its rule for placing an order (a
/// checkout after the read-back was asked and the customer spoke again, the cart unchanged).
struct Kiosk<'a> {
    menu: &'a Menu,
    cart: Cart,
    asked_at: Option<usize>,
    placed: Option<Lines>,
    turn: usize,
}

impl Kiosk<'_> {
    fn run(&mut self, name: &str, arguments: &str) -> String {
        let asked = self.asked_at.is_some_and(|t| t < self.turn);
        let outcome = run_call(name, arguments, self.menu, &mut self.cart, asked);
        if outcome.cart_changed {
            self.asked_at = None;
        }
        match outcome.action {
            Some(OrderAction::Confirm) => self.asked_at = Some(self.turn),
            Some(OrderAction::Checkout) => {
                self.placed = Some(lines(&self.cart));
                self.cart = Cart::new();
                self.asked_at = None;
            }
            _ => {}
        }
        outcome.output
    }
}

/// The cart as (item name, option names in menu order) → quantity.
fn lines(cart: &Cart) -> Lines {
    let mut out = Lines::new();
    for line in cart.lines() {
        let names = line.options.iter().map(|o| o.name.clone()).collect();
        *out.entry((line.name.clone(), names)).or_default() += line.quantity;
    }
    out
}

fn tool_call(actions: &[Action]) -> Option<(String, String, String)> {
    actions.iter().find_map(|a| match a {
        Action::Send(e) if e["type"] == "response.function_call_arguments.done" => Some((
            e["call_id"].as_str()?.to_string(),
            e["name"].as_str()?.to_string(),
            e["arguments"].as_str()?.to_string(),
        )),
        _ => None,
    })
}

/// Word errors (Levenshtein over words, apostrophes and case ignored) and the reference length.
fn word_errors(reference: &str, heard: &str) -> (usize, usize) {
    let norm = |s: &str| -> Vec<String> {
        s.to_lowercase()
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (r, h) = (norm(reference), norm(heard));
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut row = vec![i + 1];
        for (j, hw) in h.iter().enumerate() {
            row.push((prev[j] + usize::from(rw != hw)).min(prev[j + 1] + 1).min(row[j] + 1));
        }
        prev = row;
    }
    (prev[h.len()], r.len())
}

fn percentiles(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |p: f64| v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0.0);
    ((at(0.50) * 10.0).round() / 10.0, (at(0.95) * 10.0).round() / 10.0)
}

/// The manifest's conversations, with each expected line's options completed by the defaults
/// the kiosk chooses for a group nothing was said in.
fn load(manifest: &Path, menu: &Menu) -> Result<Vec<Item>, String> {
    let text = std::fs::read_to_string(manifest)
        .map_err(|e| format!("{}: {e} (run `cargo xtask speech-set` first)", manifest.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let base = manifest.parent().unwrap_or(Path::new("."));
    let mut items = Vec::new();
    for it in v["items"].as_array().ok_or("manifest has no items")? {
        let s = |k: &str| it[k].as_str().map(str::to_string).ok_or(format!("manifest item without {k}"));
        let turns = it["turns"]
            .as_array()
            .ok_or("item without turns")?
            .iter()
            .map(|t| Turn {
                text: t["text"].as_str().unwrap_or_default().to_string(),
                wav: base.join(t["wav"].as_str().unwrap_or_default()),
            })
            .collect();
        let mut expected = Lines::new();
        for line in it["expected"].as_array().ok_or("item without expected")? {
            let name = line["item"].as_str().ok_or("expected line without item")?;
            let menu_item =
                menu.items.iter().find(|i| i.name == name).ok_or(format!("expected item {name:?} not on the menu"))?;
            let said: Vec<&str> = line["options"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let mut options = Vec::new();
            for group in &menu_item.modifier_groups {
                let chosen: Vec<String> =
                    group.options.iter().filter(|o| said.contains(&o.name.as_str())).map(|o| o.name.clone()).collect();
                if chosen.is_empty() {
                    options.extend(group.options.iter().filter(|o| o.default).map(|o| o.name.clone()));
                } else {
                    options.extend(chosen);
                }
            }
            let quantity = line["quantity"].as_u64().and_then(|q| u32::try_from(q).ok()).unwrap_or(1);
            *expected.entry((name.to_string(), options)).or_default() += quantity;
        }
        items.push(Item { id: s("order")?, condition: format!("{} {}", s("voice")?, s("noise")?), turns, expected });
    }
    Ok(items)
}
