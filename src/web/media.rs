//! The microphone: `getUserMedia` with voice processing on; failures keep the `DOMException` name.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaStream, MediaStreamConstraints, MediaTrackConstraints};

use crate::core::media::MicError;

pub async fn open_microphone() -> Result<MediaStream, MicError> {
    let devices =
        web_sys::window().and_then(|w| w.navigator().media_devices().ok()).ok_or_else(|| MicError::Other {
            name: "NotSupportedError".into(),
            message: "this browser (or an insecure page) offers no microphone access".into(),
        })?;
    let audio = MediaTrackConstraints::new();
    audio.set_echo_cancellation(&true.into());
    audio.set_noise_suppression(&true.into());
    audio.set_auto_gain_control(&true.into());
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&audio.into());
    constraints.set_video(&false.into());
    let promise = devices.get_user_media_with_constraints(&constraints).map_err(classify)?;
    let stream = JsFuture::from(promise).await.map_err(classify)?;
    stream.dyn_into::<MediaStream>().map_err(|_| MicError::Other {
        name: "TypeError".into(),
        message: "getUserMedia returned something that is not a MediaStream".into(),
    })
}

/// An open microphone. Dropping it stops its tracks (the browser's recording indicator goes
/// out), wherever it is dropped: a connection that closes, a reset, an abandoned connect.
#[must_use = "dropping the microphone stops it"]
pub struct Microphone(MediaStream);

impl Microphone {
    pub async fn open() -> Result<Microphone, MicError> {
        open_microphone().await.map(Microphone)
    }

    pub fn stream(&self) -> &MediaStream {
        &self.0
    }
}

impl Drop for Microphone {
    fn drop(&mut self) {
        for track in self.0.get_tracks().iter() {
            if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
                track.stop();
            }
        }
    }
}

fn classify(error: wasm_bindgen::JsValue) -> MicError {
    let name = super::js_error_name(&error).unwrap_or_else(|| "Error".into());
    let message = error.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
    let classified = MicError::from_dom_exception(&name, &message);
    log::error!("[Microphone] getUserMedia failed: {name}: {message}");
    classified
}
