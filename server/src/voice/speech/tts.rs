//! The peer's voice: espeak-ng speaks the reply text; the audio is converted to the call's rate
//! for the Opus encoder.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::codec::{CALL_RATE, resample};

/// Longest a synthesis may take before the reply falls back to silence.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Longest reply audio produced (samples at 48 kHz): 60 s.
const MAX_SAMPLES: usize = 60 * CALL_RATE as usize;

/// The voice replies are spoken in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voice {
    /// espeak-ng voice name.
    pub name: String,
    /// Words per minute.
    pub speed: u32,
}

impl Default for Voice {
    fn default() -> Self {
        Voice { name: "en-us".into(), speed: 170 }
    }
}

/// `text` spoken at 48 kHz mono.
pub async fn synthesize(text: &str, voice: &Voice) -> Result<Vec<i16>, String> {
    let mut child = Command::new("espeak-ng")
        .args(["--stdin", "--stdout", "-v", &voice.name, "-s", &voice.speed.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("espeak-ng cannot run ({e}): install Debian's espeak-ng (`cargo xtask setup` does)"))?;
    let mut stdin = child.stdin.take().ok_or("espeak-ng has no stdin")?;
    // The text goes in on stdin: nothing in it can be read as an option.
    let line = format!("{}\n", text.replace(['\n', '\r'], " "));
    let write = async move {
        stdin.write_all(line.as_bytes()).await?;
        stdin.shutdown().await
    };
    let run = async {
        write.await.map_err(|e| format!("espeak-ng stdin: {e}"))?;
        child.wait_with_output().await.map_err(|e| format!("espeak-ng: {e}"))
    };
    let out = tokio::time::timeout(TIMEOUT, run).await.map_err(|_| format!("espeak-ng took over {TIMEOUT:?}"))??;
    if !out.status.success() {
        return Err(format!("espeak-ng failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
    }
    let (rate, mut pcm) = parse_wav(&out.stdout)?;
    pcm.truncate((MAX_SAMPLES as u64 * u64::from(rate) / u64::from(CALL_RATE)) as usize);
    // Resampling a long reply takes a while: not on the call's task.
    tokio::task::spawn_blocking(move || resample(&pcm, rate, CALL_RATE))
        .await
        .map_err(|e| format!("resampling the reply failed: {e}"))
}

/// The sample rate and 16-bit mono samples of a WAV file. espeak-ng writing to a pipe cannot
/// know the data size, so the data chunk runs to the end whatever its header says.
pub fn parse_wav(bytes: &[u8]) -> Result<(u32, Vec<i16>), String> {
    let bad = |why: &str| Err(format!("not a 16-bit mono WAV: {why}"));
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return bad("no RIFF/WAVE header");
    }
    let mut at = 12;
    let mut rate = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]) as usize;
        let body = at + 8;
        match id {
            b"fmt " => {
                let Some(fmt) = bytes.get(body..body + 16) else { return bad("short fmt chunk") };
                let (format, channels, bits) = (
                    u16::from_le_bytes([fmt[0], fmt[1]]),
                    u16::from_le_bytes([fmt[2], fmt[3]]),
                    u16::from_le_bytes([fmt[14], fmt[15]]),
                );
                if format != 1 || channels != 1 || bits != 16 {
                    return bad(&format!("format {format}, {channels} channels, {bits} bits"));
                }
                rate = Some(u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]));
            }
            b"data" => {
                let Some(rate) = rate.filter(|r| (8_000..=192_000).contains(r)) else {
                    return bad("data before a usable fmt chunk");
                };
                let end = body.saturating_add(size).min(bytes.len());
                let end = if size == 0 || size >= 0x7FFF_FFFF { bytes.len() } else { end };
                let samples = bytes[body..end].chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
                return Ok((rate, samples));
            }
            _ => {}
        }
        at = body.saturating_add(size + (size & 1));
    }
    bad("no data chunk")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(rate: u32, samples: &[i16], data_size: Option<u32>) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF\0\0\0\0WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&[1, 0, 1, 0]);
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * 2).to_le_bytes());
        b.extend_from_slice(&[2, 0, 16, 0]);
        b.extend_from_slice(b"LIST");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&[1, 2, 3, 0]);
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_size.unwrap_or(samples.len() as u32 * 2).to_le_bytes());
        for s in samples {
            b.extend_from_slice(&s.to_le_bytes());
        }
        b
    }

    #[test]
    fn wav_data_is_read_past_other_chunks_and_a_streamed_size() {
        assert_eq!(parse_wav(&wav(22_050, &[1, -2, 3], None)), Ok((22_050, vec![1, -2, 3])));
        // espeak-ng on a pipe writes 0xFFFFFFFF (or 0) as the size: the data runs to the end.
        assert_eq!(parse_wav(&wav(22_050, &[5, 6], Some(u32::MAX))), Ok((22_050, vec![5, 6])));
        assert_eq!(parse_wav(&wav(22_050, &[5, 6], Some(0))), Ok((22_050, vec![5, 6])));
        assert!(parse_wav(b"RIFF\0\0\0\0WAVE").is_err());
        assert!(parse_wav(b"not a wav at all").is_err());
        let mut stereo = wav(22_050, &[1, 2], None);
        stereo[22] = 2;
        assert!(parse_wav(&stereo).unwrap_err().contains("2 channels"));
    }

    #[tokio::test]
    async fn espeak_speaks_a_reply_at_the_call_rate() {
        let audio = synthesize("Added two cheeseburgers. Anything else?", &Voice::default()).await.unwrap();
        let seconds = audio.len() as f32 / CALL_RATE as f32;
        assert!((1.0..6.0).contains(&seconds), "{seconds} s of speech");
        let peak = audio.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!(peak > 3_000, "the reply is audible: peak {peak}");
    }

    #[tokio::test]
    async fn text_that_looks_like_options_is_spoken_not_obeyed() {
        let audio = synthesize("--help -w /tmp/x.wav", &Voice::default()).await.unwrap();
        assert!(audio.len() > CALL_RATE as usize / 2);
        assert!(!std::path::Path::new("/tmp/x.wav").exists());
    }
}
