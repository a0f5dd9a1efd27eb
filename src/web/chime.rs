//! The new-ticket tone, synthesised with WebAudio (no audio file). Browsers only let a page make
//! sound after a user gesture: the chime stays silent until [`Chime::unlock`] is called from one.

use web_sys::{AudioContext, AudioContextState, OscillatorType};

#[derive(Default)]
pub struct Chime {
    context: Option<AudioContext>,
}

impl Chime {
    pub fn new() -> Chime {
        Chime::default()
    }

    /// Creates (or resumes) the audio context; call from a user gesture handler.
    pub fn unlock(&mut self) {
        match &self.context {
            Some(ctx) => {
                if ctx.state() == AudioContextState::Suspended
                    && let Err(e) = ctx.resume()
                {
                    log::error!(
                        "[Chime] cannot resume audio: {}",
                        super::js_error_message(&e)
                    );
                }
            }
            None => match AudioContext::new() {
                Ok(ctx) => self.context = Some(ctx),
                Err(e) => log::error!(
                    "[Chime] WebAudio unavailable: {}",
                    super::js_error_message(&e)
                ),
            },
        }
    }

    pub fn is_unlocked(&self) -> bool {
        self.context
            .as_ref()
            .is_some_and(|c| c.state() == AudioContextState::Running)
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

fn beep(ctx: &AudioContext) -> Result<(), wasm_bindgen::JsValue> {
    let t = ctx.current_time();
    let osc = ctx.create_oscillator()?;
    osc.set_type(OscillatorType::Sine);
    osc.frequency().set_value_at_time(880.0, t)?;
    osc.frequency().set_value_at_time(1320.0, t + 0.15)?;
    let gain = ctx.create_gain()?;
    gain.gain().set_value_at_time(0.0001, t)?;
    gain.gain()
        .exponential_ramp_to_value_at_time(0.3, t + 0.02)?;
    gain.gain()
        .exponential_ramp_to_value_at_time(0.0001, t + 0.38)?;
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
