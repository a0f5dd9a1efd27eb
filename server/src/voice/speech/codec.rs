//! Opus in and out (libopus), and the sample-rate conversions between the call's 48 kHz, the
//! recognizer's 16 kHz and the synthesizer's own rate.

use std::f32::consts::PI;
use std::ptr::NonNull;
use std::sync::Arc;

use super::sys::{self, Opaque};

/// The call's audio rate.
pub const CALL_RATE: u32 = 48_000;
/// The recognizer's audio rate.
pub const RECOGNIZER_RATE: u32 = 16_000;
/// Samples per 20 ms outbound frame at [`CALL_RATE`].
pub const FRAME_SAMPLES: usize = 960;
/// Longest Opus packet: 120 ms at 48 kHz.
const MAX_PACKET_SAMPLES: usize = 5760;
/// `OPUS_APPLICATION_VOIP`.
const APPLICATION_VOIP: i32 = 2048;
/// Largest encoded frame we ask libopus for.
const MAX_ENCODED_BYTES: usize = 1275;

/// An Opus decoder (48 kHz mono); freed when dropped.
pub struct OpusDecoder {
    lib: Arc<sys::Opus>,
    state: NonNull<Opaque>,
}

// SAFETY: the decoder state is owned by this value alone and libopus keeps no thread affinity.
unsafe impl Send for OpusDecoder {}

impl OpusDecoder {
    pub fn new() -> Result<OpusDecoder, String> {
        let lib = sys::opus()?;
        let mut error = 0;
        // SAFETY: valid rate and channel count; `error` is a valid out pointer.
        let state = unsafe { (lib.decoder_create)(CALL_RATE as i32, 1, &mut error) };
        let state =
            NonNull::new(state).filter(|_| error == 0).ok_or(format!("opus_decoder_create failed ({error})"))?;
        Ok(OpusDecoder { lib, state })
    }

    /// The packet's audio at 48 kHz, appended to `out`; a packet libopus refuses adds nothing.
    pub fn decode(&mut self, packet: &[u8], out: &mut Vec<i16>) -> Result<(), i32> {
        let start = out.len();
        out.resize(start + MAX_PACKET_SAMPLES, 0);
        let len = i32::try_from(packet.len()).map_err(|_| -1)?;
        // SAFETY: the output has room for MAX_PACKET_SAMPLES samples of one channel.
        let n = unsafe {
            (self.lib.decode)(
                self.state.as_ptr(),
                packet.as_ptr(),
                len,
                out[start..].as_mut_ptr(),
                MAX_PACKET_SAMPLES as i32,
                0,
            )
        };
        out.truncate(start + usize::try_from(n).unwrap_or(0));
        if n < 0 { Err(n) } else { Ok(()) }
    }
}

impl Drop for OpusDecoder {
    fn drop(&mut self) {
        // SAFETY: created by opus_decoder_create, destroyed once.
        unsafe { (self.lib.decoder_destroy)(self.state.as_ptr()) }
    }
}

/// An Opus encoder (48 kHz mono, voice); freed when dropped.
pub struct OpusEncoder {
    lib: Arc<sys::Opus>,
    state: NonNull<Opaque>,
}

// SAFETY: as for the decoder.
unsafe impl Send for OpusEncoder {}

impl OpusEncoder {
    pub fn new() -> Result<OpusEncoder, String> {
        let lib = sys::opus()?;
        let mut error = 0;
        // SAFETY: valid rate, channels and application; `error` is a valid out pointer.
        let state = unsafe { (lib.encoder_create)(CALL_RATE as i32, 1, APPLICATION_VOIP, &mut error) };
        let state =
            NonNull::new(state).filter(|_| error == 0).ok_or(format!("opus_encoder_create failed ({error})"))?;
        Ok(OpusEncoder { lib, state })
    }

    /// One 20 ms frame ([`FRAME_SAMPLES`] samples; shorter input is padded with silence).
    pub fn encode(&mut self, frame: &[i16]) -> Result<Vec<u8>, i32> {
        let mut pcm = [0i16; FRAME_SAMPLES];
        let n = frame.len().min(FRAME_SAMPLES);
        pcm[..n].copy_from_slice(&frame[..n]);
        let mut out = vec![0u8; MAX_ENCODED_BYTES];
        // SAFETY: `pcm` holds one full frame; `out` has MAX_ENCODED_BYTES of room.
        let len = unsafe {
            (self.lib.encode)(
                self.state.as_ptr(),
                pcm.as_ptr(),
                FRAME_SAMPLES as i32,
                out.as_mut_ptr(),
                MAX_ENCODED_BYTES as i32,
            )
        };
        if len < 0 {
            return Err(len);
        }
        out.truncate(len as usize);
        Ok(out)
    }
}

impl Drop for OpusEncoder {
    fn drop(&mut self) {
        // SAFETY: created by opus_encoder_create, destroyed once.
        unsafe { (self.lib.encoder_destroy)(self.state.as_ptr()) }
    }
}

/// Taps of the 48 → 16 kHz low-pass filter (odd, symmetric).
const DECIMATE_TAPS: usize = 47;

/// Streaming 48 kHz → 16 kHz conversion: a windowed-sinc low-pass at 7 kHz, computed only at
/// every third sample. State carries over between calls, so packet boundaries leave no seams.
pub struct Decimator {
    taps: Vec<f32>,
    /// The last `taps.len() - 1` input samples, then the packet being converted.
    window: Vec<f32>,
    /// Where in `window` the next output sample ends (an index into the newest samples).
    next: usize,
}

impl Default for Decimator {
    fn default() -> Self {
        let cutoff = 7_000.0 / CALL_RATE as f32;
        Decimator {
            taps: lowpass(DECIMATE_TAPS, cutoff),
            window: vec![0.0; DECIMATE_TAPS - 1],
            next: DECIMATE_TAPS + 1,
        }
    }
}

impl Decimator {
    /// Appends the 16 kHz version of `input` (48 kHz) to `out`.
    pub fn push(&mut self, input: &[i16], out: &mut Vec<i16>) {
        self.window.extend(input.iter().map(|&s| f32::from(s)));
        let n = self.taps.len();
        while self.next <= self.window.len() {
            let y: f32 = self.window[self.next - n..self.next].iter().zip(&self.taps).map(|(x, t)| x * t).sum();
            out.push(to_i16(y));
            self.next += 3;
        }
        // Keep what the next outputs still need.
        let keep_from = self.window.len() - (n - 1);
        self.window.drain(..keep_from);
        self.next -= keep_from;
    }
}

/// A windowed-sinc (Blackman) low-pass of `n` taps at `cutoff` (a fraction of the rate), with
/// unity gain at DC.
fn lowpass(n: usize, cutoff: f32) -> Vec<f32> {
    let mid = (n - 1) as f32 / 2.0;
    let mut taps: Vec<f32> = (0..n)
        .map(|i| {
            let x = i as f32 - mid;
            let sinc = if x == 0.0 { 2.0 * cutoff } else { (2.0 * PI * cutoff * x).sin() / (PI * x) };
            let w = 0.42 - 0.5 * (2.0 * PI * i as f32 / (n - 1) as f32).cos()
                + 0.08 * (4.0 * PI * i as f32 / (n - 1) as f32).cos();
            sinc * w
        })
        .collect();
    let sum: f32 = taps.iter().sum();
    taps.iter_mut().for_each(|t| *t /= sum);
    taps
}

fn to_i16(x: f32) -> i16 {
    x.round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
}

/// Taps on each side of a resampled sample.
const HALF: i64 = 16;

/// The windowed-sinc weight of an input sample `d` input samples away from the output's position.
fn sinc_weight(d: f64, cutoff: f64) -> f64 {
    let sinc = if d == 0.0 {
        2.0 * cutoff
    } else {
        (2.0 * std::f64::consts::PI * cutoff * d).sin() / (std::f64::consts::PI * d)
    };
    sinc * (0.5 + 0.5 * (std::f64::consts::PI * d / HALF as f64).cos())
}

/// The most phases a weight table is built for (the rates' ratio in lowest terms, `to / gcd`).
const MAX_PHASES: u64 = 4096;

/// `input` at `from` Hz converted to `to` Hz by windowed-sinc interpolation (for the
/// synthesizer's whole reply at once). Downsampling also low-passes below the new Nyquist.
///
/// An output sample sits at input position `n · from / to`; its fractional part takes only
/// `to / gcd(from, to)` values (320 for the synthesizer's 22 050 Hz to 48 kHz), so the weights
/// are computed once per phase and each sample is 32 multiply-adds. Computing the sines per
/// sample made a 5 s reply take seconds on a busy hub, all of it before the reply's first word.
pub fn resample(input: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || input.is_empty() {
        return input.to_vec();
    }
    let ratio = f64::from(to) / f64::from(from);
    // Cut off at the lower of the two Nyquist rates (times 0.9 for the transition band).
    let cutoff = 0.5 * ratio.min(1.0) * 0.9;
    let len = (input.len() as f64 * ratio).floor() as usize;
    let g = gcd(u64::from(from), u64::from(to));
    let (up, down) = (u64::from(to) / g, u64::from(from) / g);
    if up > MAX_PHASES {
        return resample_direct(input, from, to);
    }
    const TAPS: usize = 2 * HALF as usize;
    // weights[p][j]: tap j (input sample centre − HALF + 1 + j) at phase p / up past the centre.
    let weights: Vec<[f64; TAPS]> = (0..up)
        .map(|p| {
            let frac = p as f64 / up as f64;
            std::array::from_fn(|j| sinc_weight(frac + (HALF - 1) as f64 - j as f64, cutoff))
        })
        .collect();
    let norms: Vec<f64> = weights.iter().map(|w| w.iter().sum()).collect();
    (0..len as u64)
        .map(|n| {
            let centre = (n * down / up) as i64;
            let phase = (n * down % up) as usize;
            let (w, first) = (&weights[phase], centre - HALF + 1);
            let (acc, norm) = match usize::try_from(first).ok().and_then(|f| input.get(f..f + TAPS)) {
                Some(window) => (window.iter().zip(w).map(|(&x, &w)| f64::from(x) * w).sum::<f64>(), norms[phase]),
                // At either end: only the samples there are.
                None => (0..TAPS)
                    .filter_map(|j| {
                        let k = usize::try_from(first + j as i64).ok()?;
                        input.get(k).map(|&x| (f64::from(x) * w[j], w[j]))
                    })
                    .fold((0.0, 0.0), |(a, n), (x, w)| (a + x, n + w)),
            };
            if norm.abs() > 1e-9 { to_i16((acc / norm) as f32) } else { 0 }
        })
        .collect()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// [`resample`] computing each weight where it is used: for rates whose ratio has too many phases
/// for a table.
fn resample_direct(input: &[i16], from: u32, to: u32) -> Vec<i16> {
    let ratio = f64::from(to) / f64::from(from);
    let cutoff = 0.5 * ratio.min(1.0) * 0.9;
    let len = (input.len() as f64 * ratio).floor() as usize;
    (0..len)
        .map(|n| {
            let t = n as f64 / ratio;
            let centre = t.floor() as i64;
            let mut acc = 0.0f64;
            let mut norm = 0.0f64;
            for k in centre - HALF + 1..=centre + HALF {
                let Some(&x) = usize::try_from(k).ok().and_then(|k| input.get(k)) else { continue };
                let w = sinc_weight(t - k as f64, cutoff);
                acc += f64::from(x) * w;
                norm += w;
            }
            if norm.abs() > 1e-9 { to_i16((acc / norm) as f32) } else { 0 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f32, rate: u32, samples: usize, amplitude: f32) -> Vec<i16> {
        (0..samples).map(|i| (amplitude * (2.0 * PI * freq * i as f32 / rate as f32).sin()) as i16).collect()
    }

    fn rms(x: &[i16]) -> f32 {
        (x.iter().map(|&s| f32::from(s).powi(2)).sum::<f32>() / x.len().max(1) as f32).sqrt()
    }

    #[test]
    fn decimation_keeps_speech_band_and_removes_what_would_alias() {
        let mut d = Decimator::default();
        let mut out = Vec::new();
        // In packets of 20 ms, as a call delivers them.
        for chunk in tone(1_000.0, CALL_RATE, 48_000, 10_000.0).chunks(960) {
            d.push(chunk, &mut out);
        }
        assert_eq!(out.len(), 16_000);
        let kept = rms(&out[1_000..]);
        assert!((kept - 7_071.0).abs() < 300.0, "a 1 kHz tone keeps its level: {kept}");

        let mut d = Decimator::default();
        let mut out = Vec::new();
        d.push(&tone(12_000.0, CALL_RATE, 48_000, 10_000.0), &mut out);
        assert!(rms(&out[1_000..]) < 200.0, "12 kHz must not fold into 4 kHz: {}", rms(&out[1_000..]));
    }

    #[test]
    fn resampling_keeps_length_ratio_and_level() {
        let input = tone(440.0, 22_050, 22_050, 8_000.0);
        let out = resample(&input, 22_050, CALL_RATE);
        assert_eq!(out.len(), 48_000);
        assert!((rms(&out[2_000..46_000]) - 5_657.0).abs() < 200.0);
        assert_eq!(resample(&[], 22_050, CALL_RATE), Vec::<i16>::new());
    }

    #[test]
    fn the_weight_table_gives_what_computing_each_weight_gives() {
        // Speech-like input: two tones and a step, across the ends too.
        let input: Vec<i16> = tone(440.0, 22_050, 5_000, 6_000.0)
            .iter()
            .zip(tone(2_900.0, 22_050, 5_000, 3_000.0))
            .enumerate()
            .map(|(i, (&a, b))| a.saturating_add(b).saturating_add(if i > 2_500 { 4_000 } else { 0 }))
            .collect();
        for (from, to) in [(22_050, CALL_RATE), (CALL_RATE, 16_000), (16_000, CALL_RATE), (44_100, CALL_RATE)] {
            let (fast, direct) = (resample(&input, from, to), resample_direct(&input, from, to));
            assert_eq!(fast.len(), direct.len(), "{from} → {to}");
            let worst = fast.iter().zip(&direct).map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs()).max();
            assert!(worst.unwrap_or(0) <= 1, "{from} → {to}: off by {worst:?}");
        }
        // A ratio with too many phases for a table takes the direct way.
        assert_eq!(resample(&input, 22_051, CALL_RATE), resample_direct(&input, 22_051, CALL_RATE));
    }

    #[test]
    fn opus_round_trip_keeps_the_audio() {
        // libopus is installed by `cargo xtask setup`.
        let (mut enc, mut dec) = (OpusEncoder::new().unwrap(), OpusDecoder::new().unwrap());
        let input = tone(440.0, CALL_RATE, 48_000, 8_000.0);
        let mut out = Vec::new();
        for frame in input.chunks(FRAME_SAMPLES) {
            let packet = enc.encode(frame).unwrap();
            assert!(!packet.is_empty() && packet.len() <= MAX_ENCODED_BYTES);
            dec.decode(&packet, &mut out).unwrap();
        }
        assert_eq!(out.len(), 48_000);
        assert!((rms(&out[4_800..]) - 5_657.0).abs() < 800.0, "level after the codec: {}", rms(&out[4_800..]));
        assert!(dec.decode(&[0xFF; 4], &mut out).is_err(), "a corrupt packet is an error, not a crash");
    }
}
