//! Offline speech for the voice peer: the kiosk's Opus audio is decoded and recognized on the
//! hub (pocketsphinx, with a grammar generated from the menu), turns are found by the peer's own
//! voice-activity detection when the session asks for `server_vad`, and replies are spoken by
//! espeak-ng and sent back as Opus. Nothing leaves the machine.

pub mod codec;
pub mod grammar;
pub mod recognizer;
mod sys;
pub mod tts;
pub mod vad;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use restaurant_protocol::Menu;
use tokio::sync::mpsc::UnboundedSender;

use codec::{Decimator, OpusDecoder, RECOGNIZER_RATE};
use recognizer::{Engine, Heard, Recognizer};
use vad::{Vad, VadConfig, VadEvent};

/// Recent inbound audio kept for a turn's prefix padding (16 kHz samples): 2 s.
const HISTORY_SAMPLES: usize = 2 * RECOGNIZER_RATE as usize;

/// The hub's speech: the recognizer's engine (if installed) and the voice of its replies.
#[derive(Clone)]
pub struct Speech {
    engine: Option<Arc<Engine>>,
    pub voice: tts::Voice,
}

impl Speech {
    /// Opens the recognizer's model in `model_dir`; without it the peer hears every turn as
    /// empty, and says why once here.
    pub fn new(model_dir: &Path, voice: tts::Voice) -> Speech {
        let engine = match Engine::new(model_dir) {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::error!("offline speech recognition is unavailable: {e}");
                None
            }
        };
        if let Err(e) = codec::OpusDecoder::new() {
            tracing::error!("the voice peer cannot decode or encode audio: {e}");
        }
        Speech { engine, voice }
    }

    /// Whether turns are recognized (the model and libraries are installed).
    pub fn recognizes(&self) -> bool {
        self.engine.is_some()
    }

    /// Builds `menu`'s grammar now, off the caller's thread, so the first call does not wait.
    pub fn prepare(&self, menu: Arc<Menu>) {
        if let Some(engine) = self.engine.clone() {
            let _ = std::thread::Builder::new().name("speech-grammar".into()).spawn(move || {
                if let Err(e) = engine.grammar(&menu) {
                    tracing::error!("no speech grammar for the menu: {e}");
                }
            });
        }
    }

    /// The inbound side of one call.
    pub fn ear(&self, menu: Arc<Menu>, heard: UnboundedSender<Heard>) -> Ear {
        let decoder = OpusDecoder::new().map_err(|e| tracing::error!("inbound audio is not decoded: {e}")).ok();
        Ear {
            decoder,
            decimator: Decimator::default(),
            vad: None,
            recognizer: Recognizer::spawn(self.engine.clone(), menu, heard),
            history: VecDeque::with_capacity(HISTORY_SAMPLES),
            pcm48: Vec::new(),
            decode_errors: 0,
        }
    }
}

/// A call's inbound audio: decoded, followed by the turn detector (in `server_vad` mode), and
/// streamed to the recognizer.
pub struct Ear {
    decoder: Option<OpusDecoder>,
    decimator: Decimator,
    vad: Option<Vad>,
    recognizer: Recognizer,
    /// The last [`HISTORY_SAMPLES`] at 16 kHz.
    history: VecDeque<i16>,
    pcm48: Vec<i16>,
    decode_errors: u64,
}

impl Ear {
    /// `Some` for server turn detection with its settings, `None` for push-to-talk.
    pub fn set_turn_detection(&mut self, config: Option<VadConfig>) {
        match (config, self.vad.as_mut()) {
            (Some(c), Some(v)) => v.set_config(c),
            (Some(c), None) => self.vad = Some(Vad::new(c)),
            (None, _) => self.vad = None,
        }
    }

    /// One inbound Opus packet; the turn events it caused (server turn detection only).
    pub fn packet(&mut self, packet: &[u8]) -> Vec<VadEvent> {
        let Some(decoder) = self.decoder.as_mut() else { return Vec::new() };
        self.pcm48.clear();
        if let Err(code) = decoder.decode(packet, &mut self.pcm48) {
            self.decode_errors += 1;
            if self.decode_errors == 1 {
                tracing::warn!(
                    code,
                    bytes = packet.len(),
                    "an inbound audio packet did not decode (further ones are counted)"
                );
            }
            return Vec::new();
        }
        let mut pcm = Vec::with_capacity(self.pcm48.len() / 3 + 1);
        self.decimator.push(&self.pcm48, &mut pcm);
        let overflow = (self.history.len() + pcm.len()).saturating_sub(HISTORY_SAMPLES);
        self.history.drain(..overflow.min(self.history.len()));
        self.history.extend(pcm.iter().copied());
        let events = self.vad.as_mut().map(|v| v.push(&pcm)).unwrap_or_default();
        self.recognizer.audio(pcm);
        events
    }

    /// Starts a turn now (push-to-talk: after a clear or a commit).
    pub fn begin_turn(&mut self) {
        self.recognizer.begin(Vec::new());
    }

    /// Starts a turn at `audio_start_ms` of the detector's clock, with the audio since then.
    pub fn begin_turn_at(&mut self, audio_start_ms: u64) {
        let now_ms = self.vad.as_ref().map_or(0, Vad::now_ms);
        let back = (now_ms.saturating_sub(audio_start_ms) * u64::from(RECOGNIZER_RATE) / 1000) as usize;
        let skip = self.history.len().saturating_sub(back);
        self.recognizer.begin(self.history.iter().skip(skip).copied().collect());
    }

    /// Ends the turn; the transcript comes back for `item_id`.
    pub fn finish_turn(&mut self, item_id: String) {
        self.recognizer.finish(item_id);
    }

    /// The menu changed: the next turn uses its grammar.
    pub fn menu(&self, menu: Arc<Menu>) {
        self.recognizer.menu(menu);
    }

    /// Packets that did not decode.
    pub fn decode_errors(&self) -> u64 {
        self.decode_errors
    }
}
