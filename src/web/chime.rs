//! The kitchen's tones, synthesised with WebAudio (no audio file). Browsers only let a page make
//! sound after a user gesture: the chime stays silent until [`Chime::unlock`] is called from one
//! (unless the browser already allows it, which [`Chime::open`] finds out without a gesture).

use web_sys::{AudioContext, AudioContextState, OscillatorType};

use crate::core::alerts::Tone;

#[derive(Default)]
#[must_use = "dropping the chime closes its audio context"]
pub struct Chime {
    context: Option<AudioContext>,
}

impl Chime {
    pub fn new() -> Chime {
        Chime::default()
    }

    /// Creates the audio context without asking to resume it: it runs at once where the browser
    /// allows sound without a gesture (a kiosk-mode browser), and stays suspended elsewhere.
    pub fn open(&mut self) {
        if self.context.is_none() {
            match AudioContext::new() {
                Ok(ctx) => self.context = Some(ctx),
                Err(e) => log::error!("[Chime] WebAudio unavailable: {}", super::js_error_message(&e)),
            }
        }
    }

    /// Creates (or resumes) the audio context; call from a user gesture handler.
    pub fn unlock(&mut self) {
        match &self.context {
            Some(ctx) => {
                if ctx.state() == AudioContextState::Suspended
                    && let Err(e) = ctx.resume()
                {
                    log::error!("[Chime] cannot resume audio: {}", super::js_error_message(&e));
                }
            }
            None => match AudioContext::new() {
                Ok(ctx) => self.context = Some(ctx),
                Err(e) => log::error!("[Chime] WebAudio unavailable: {}", super::js_error_message(&e)),
            },
        }
    }

    pub fn is_unlocked(&self) -> bool {
        self.context.as_ref().is_some_and(|c| c.state() == AudioContextState::Running)
    }

    /// A short two-tone beep (~0.4 s); silent before [`Chime::unlock`].
    pub fn play(&self) {
        let Some(ctx) = self.context.as_ref().filter(|_| self.is_unlocked()) else {
            return;
        };
        if let Err(e) = beep(ctx) {
            log::error!("[Chime] tone failed: {}", super::js_error_message(&e));
        }
    }
}

impl Chime {
    /// `tone` at `gain` (0–1; nothing at 0); silent before [`Chime::unlock`].
    pub fn play_tone(&self, tone: Tone, gain: f32) {
        let Some(ctx) = self.context.as_ref().filter(|_| self.is_unlocked() && gain > 0.0) else {
            return;
        };
        // (start, frequency, length) of each note: a rising pair for new, three quick high notes
        // for rush, a low falling pair in a harsher wave for void.
        let (wave, notes): (OscillatorType, &[(f64, f32, f64)]) = match tone {
            Tone::New => (OscillatorType::Sine, &[(0.0, 880.0, 0.15), (0.15, 1320.0, 0.25)]),
            Tone::Rush => (OscillatorType::Triangle, &[(0.0, 1320.0, 0.1), (0.15, 1320.0, 0.1), (0.3, 1760.0, 0.15)]),
            Tone::Void => (OscillatorType::Square, &[(0.0, 440.0, 0.25), (0.3, 220.0, 0.45)]),
        };
        for &(start, frequency, length) in notes {
            if let Err(e) = note(ctx, wave, start, frequency, length, gain * 0.3) {
                log::error!("[Chime] {} tone failed: {}", tone.as_str(), super::js_error_message(&e));
                return;
            }
        }
    }
}

fn note(
    ctx: &AudioContext,
    wave: OscillatorType,
    start: f64,
    frequency: f32,
    length: f64,
    peak: f32,
) -> Result<(), wasm_bindgen::JsValue> {
    let t = ctx.current_time() + start;
    let osc = ctx.create_oscillator()?;
    osc.set_type(wave);
    osc.frequency().set_value_at_time(frequency, t)?;
    let gain = ctx.create_gain()?;
    gain.gain().set_value_at_time(0.0001, t)?;
    gain.gain().exponential_ramp_to_value_at_time(peak.max(0.0002), t + 0.02)?;
    gain.gain().exponential_ramp_to_value_at_time(0.0001, t + length)?;
    osc.connect_with_audio_node(&gain)?;
    gain.connect_with_audio_node(&ctx.destination())?;
    osc.start_with_when(t)?;
    osc.stop_with_when(t + length + 0.02)?;
    Ok(())
}

fn beep(ctx: &AudioContext) -> Result<(), wasm_bindgen::JsValue> {
    let t = ctx.current_time();
    let osc = ctx.create_oscillator()?;
    osc.set_type(OscillatorType::Sine);
    osc.frequency().set_value_at_time(880.0, t)?;
    osc.frequency().set_value_at_time(1320.0, t + 0.15)?;
    let gain = ctx.create_gain()?;
    gain.gain().set_value_at_time(0.0001, t)?;
    gain.gain().exponential_ramp_to_value_at_time(0.3, t + 0.02)?;
    gain.gain().exponential_ramp_to_value_at_time(0.0001, t + 0.38)?;
    osc.connect_with_audio_node(&gain)?;
    gain.connect_with_audio_node(&ctx.destination())?;
    osc.start()?;
    osc.stop_with_when(t + 0.4)?;
    Ok(())
}

impl Drop for Chime {
    fn drop(&mut self) {
        if let Some(ctx) = self.context.take() {
            let _ = ctx.close();
        }
    }
}

/// Time between two rings of the incoming-call tone.
const RING_PERIOD_MS: u32 = 1_500;

/// The incoming-call ring: the chime repeated until stopped. Silent until the page has had a user
/// gesture (it listens for the first pointer or key press itself); the ringing state is tracked
/// either way, so the page (and its tests) can see that it rings.
#[must_use = "dropping the ring tone stops it"]
pub struct RingTone {
    chime: std::rc::Rc<std::cell::RefCell<Chime>>,
    ringing: Option<gloo_timers::callback::Interval>,
    _unlock: Vec<super::events::WindowListener>,
}

impl RingTone {
    pub fn new() -> RingTone {
        let chime = std::rc::Rc::new(std::cell::RefCell::new(Chime::new()));
        let unlock = ["pointerdown", "keydown"]
            .into_iter()
            .filter_map(|event| {
                let chime = chime.clone();
                super::events::WindowListener::new(event, move |_| {
                    if let Ok(mut c) = chime.try_borrow_mut() {
                        c.unlock();
                    }
                })
            })
            .collect();
        RingTone { chime, ringing: None, _unlock: unlock }
    }

    pub fn start(&mut self) {
        if self.ringing.is_some() {
            return;
        }
        self.chime.borrow().play();
        let chime = self.chime.clone();
        self.ringing = Some(gloo_timers::callback::Interval::new(RING_PERIOD_MS, move || {
            if let Ok(c) = chime.try_borrow() {
                c.play();
            }
        }));
    }

    pub fn stop(&mut self) {
        self.ringing = None;
    }

    pub fn is_ringing(&self) -> bool {
        self.ringing.is_some()
    }
}

impl Default for RingTone {
    fn default() -> RingTone {
        RingTone::new()
    }
}
