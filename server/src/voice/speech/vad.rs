//! Server turn detection (`turn_detection: server_vad`): an energy detector over 20 ms frames
//! with a noise floor that follows the room, speaking `input_audio_buffer.speech_started` /
//! `speech_stopped` in the session's terms (`threshold`, `prefix_padding_ms`,
//! `silence_duration_ms`). Sans I/O: frames go in, events come out; time is the audio itself.

/// Samples per 20 ms frame at 16 kHz.
pub const FRAME: usize = 320;
const FRAME_MS: u64 = 20;
/// Frames above the threshold in a row before speech counts as started.
const ONSET_FRAMES: u32 = 3;
/// Frames at the start of a call that only teach the detector the room's level.
const LEARN_FRAMES: u32 = 10;
/// Quietest level considered (dBFS): digital silence is not a noise floor.
const FLOOR_MIN_DB: f32 = -70.0;
/// Speech must be at least this loud (dBFS), whatever the floor.
const SPEECH_MIN_DB: f32 = -50.0;

/// The session's `turn_detection` values that apply here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// OpenAI's 0..1 activation threshold: higher needs louder speech over the room.
    pub threshold: f32,
    pub prefix_padding_ms: u64,
    pub silence_duration_ms: u64,
}

impl Default for VadConfig {
    fn default() -> Self {
        VadConfig { threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 }
    }
}

impl VadConfig {
    /// From a `turn_detection` object; missing or out-of-range values keep their defaults.
    pub fn from_session(td: &serde_json::Value) -> VadConfig {
        let d = VadConfig::default();
        let ms = |key: &str, default: u64| {
            td.get(key).and_then(serde_json::Value::as_u64).filter(|v| *v <= 10_000).unwrap_or(default)
        };
        VadConfig {
            threshold: td
                .get("threshold")
                .and_then(serde_json::Value::as_f64)
                .filter(|t| (0.0..=1.0).contains(t))
                .map_or(d.threshold, |t| t as f32),
            prefix_padding_ms: ms("prefix_padding_ms", d.prefix_padding_ms),
            silence_duration_ms: ms("silence_duration_ms", d.silence_duration_ms).max(FRAME_MS),
        }
    }

    /// dB over the noise floor that count as speech: 9 dB at threshold 0, 21 at 1.
    fn margin_db(&self) -> f32 {
        9.0 + 12.0 * self.threshold
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadEvent {
    /// Speech started; `audio_start_ms` includes the prefix padding.
    Started { audio_start_ms: u64 },
    /// Speech ended `silence_duration_ms` ago; `audio_end_ms` is where it ended.
    Stopped { audio_end_ms: u64 },
}

#[derive(Debug)]
pub struct Vad {
    config: VadConfig,
    frames: u64,
    floor_db: f32,
    loud_run: u32,
    speaking: bool,
    /// Frames since the last loud one, while speaking.
    quiet_run: u64,
    pending: Vec<i16>,
}

impl Vad {
    pub fn new(config: VadConfig) -> Vad {
        Vad {
            config,
            frames: 0,
            floor_db: FLOOR_MIN_DB,
            loud_run: 0,
            speaking: false,
            quiet_run: 0,
            pending: Vec::new(),
        }
    }

    pub fn set_config(&mut self, config: VadConfig) {
        self.config = config;
    }

    pub fn speaking(&self) -> bool {
        self.speaking
    }

    /// Audio time consumed so far, in ms.
    pub fn now_ms(&self) -> u64 {
        self.frames * FRAME_MS
    }

    /// Feeds 16 kHz audio; the events it caused, in order.
    pub fn push(&mut self, pcm: &[i16]) -> Vec<VadEvent> {
        self.pending.extend_from_slice(pcm);
        let mut events = Vec::new();
        let whole = self.pending.len() / FRAME * FRAME;
        let frames: Vec<i16> = self.pending.drain(..whole).collect();
        for frame in frames.chunks(FRAME) {
            if let Some(e) = self.frame(level_db(frame)) {
                events.push(e);
            }
        }
        events
    }

    fn frame(&mut self, db: f32) -> Option<VadEvent> {
        self.frames += 1;
        if self.frames <= u64::from(LEARN_FRAMES) {
            // The floor starts at the room's level, not at silence.
            self.floor_db =
                if self.frames == 1 { db.max(FLOOR_MIN_DB) } else { self.floor_db.min(db).max(FLOOR_MIN_DB) };
            return None;
        }
        let loud = db > SPEECH_MIN_DB && db > self.floor_db + self.config.margin_db();
        if !self.speaking {
            // The floor falls at once and rises slowly (about 2 s), and never while speaking.
            if db < self.floor_db {
                self.floor_db = db.max(FLOOR_MIN_DB);
            } else if !loud {
                self.floor_db += (db - self.floor_db) * 0.01;
            }
            self.loud_run = if loud { self.loud_run + 1 } else { 0 };
            if self.loud_run >= ONSET_FRAMES {
                self.speaking = true;
                self.quiet_run = 0;
                let onset_ms = (self.frames - u64::from(ONSET_FRAMES)) * FRAME_MS;
                return Some(VadEvent::Started {
                    audio_start_ms: onset_ms.saturating_sub(self.config.prefix_padding_ms),
                });
            }
            return None;
        }
        self.quiet_run = if loud { 0 } else { self.quiet_run + 1 };
        if self.quiet_run * FRAME_MS >= self.config.silence_duration_ms {
            self.speaking = false;
            self.loud_run = 0;
            let end_ms = (self.frames - self.quiet_run) * FRAME_MS;
            return Some(VadEvent::Stopped { audio_end_ms: end_ms });
        }
        None
    }
}

/// RMS level of a frame in dBFS.
fn level_db(frame: &[i16]) -> f32 {
    let energy: f64 = frame.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / frame.len().max(1) as f64;
    (10.0 * (energy / (32768.0f64 * 32768.0)).max(1e-10).log10()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ms` of noise at `db` dBFS (a deterministic pseudo-random signal).
    fn noise(ms: u64, db: f32, seed: &mut u64) -> Vec<i16> {
        let amp = 32768.0 * 10f32.powf(db / 20.0) * 3f32.sqrt();
        (0..ms * 16)
            .map(|_| {
                *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let u = ((*seed >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0;
                (u * amp) as i16
            })
            .collect()
    }

    fn run(vad: &mut Vad, parts: &[(u64, f32)]) -> Vec<VadEvent> {
        let mut seed = 7;
        let mut events = Vec::new();
        for &(ms, db) in parts {
            // Delivered in 20 ms packets whose size does not line up with anything.
            for chunk in noise(ms, db, &mut seed).chunks(333) {
                events.extend(vad.push(chunk));
            }
        }
        events
    }

    #[test]
    fn speech_over_a_noisy_room_starts_and_stops_a_turn_with_padding() {
        let mut vad = Vad::new(VadConfig::default());
        let events = run(&mut vad, &[(1_000, -45.0), (1_200, -25.0), (800, -45.0)]);
        assert_eq!(events.len(), 2, "{events:?}");
        let VadEvent::Started { audio_start_ms } = events[0] else { panic!("{events:?}") };
        assert!((650..=760).contains(&audio_start_ms), "onset at 1000 ms less 300 ms of padding: {audio_start_ms}");
        let VadEvent::Stopped { audio_end_ms } = events[1] else { panic!("{events:?}") };
        assert!((2_180..=2_220).contains(&audio_end_ms), "speech ended at 2200 ms: {audio_end_ms}");
        assert!(!vad.speaking());
    }

    #[test]
    fn a_pause_shorter_than_the_silence_duration_does_not_end_the_turn() {
        let mut vad = Vad::new(VadConfig { silence_duration_ms: 700, ..VadConfig::default() });
        let events = run(&mut vad, &[(600, -60.0), (500, -20.0), (400, -60.0), (500, -20.0), (1_000, -60.0)]);
        assert_eq!(events.len(), 2, "one turn across the short pause: {events:?}");
    }

    #[test]
    fn steady_noise_and_clicks_are_not_speech() {
        let mut vad = Vad::new(VadConfig::default());
        // The room gets louder slowly (a lunch rush), with a 40 ms click.
        let events = run(&mut vad, &[(1_000, -50.0), (2_000, -47.0), (2_000, -44.0), (40, -10.0), (1_000, -44.0)]);
        assert_eq!(events, vec![], "no turn from noise");
        // Digital silence, then quiet speech below the absolute minimum.
        let mut vad = Vad::new(VadConfig::default());
        assert_eq!(run(&mut vad, &[(1_000, -100.0), (1_000, -55.0)]), vec![]);
    }

    #[test]
    fn a_higher_threshold_needs_louder_speech() {
        let parts = [(1_000, -45.0), (1_000, -32.0), (1_000, -45.0)];
        let mut low = Vad::new(VadConfig { threshold: 0.2, ..VadConfig::default() });
        let mut high = Vad::new(VadConfig { threshold: 0.9, ..VadConfig::default() });
        assert_eq!(run(&mut low, &parts).len(), 2);
        assert_eq!(run(&mut high, &parts), vec![]);
    }

    #[test]
    fn session_values_are_read_and_bad_ones_ignored() {
        let c = VadConfig::from_session(
            &serde_json::json!({"type": "server_vad", "threshold": 0.7, "prefix_padding_ms": 100, "silence_duration_ms": 900}),
        );
        assert_eq!(c, VadConfig { threshold: 0.7, prefix_padding_ms: 100, silence_duration_ms: 900 });
        let c = VadConfig::from_session(
            &serde_json::json!({"threshold": 7, "silence_duration_ms": -1, "prefix_padding_ms": 99_999}),
        );
        assert_eq!(c, VadConfig::default());
    }
}
