//! Settings of the voice peer and its fault knobs.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How the voice peer is configured.
#[derive(Debug, Clone)]
pub struct VoiceSettings {
    /// Address the hub listens on. Calls bind their UDP socket here; `0.0.0.0` makes the peer
    /// advertise the machine's LAN address instead.
    pub host: IpAddr,
    /// Model name reported in tokens and sessions.
    pub model: String,
    /// Lifetime of a minted token.
    pub token_ttl: Duration,
    /// Dev endpoints (`/api/v1/dev/...`) answer only in dev mode.
    pub dev_mode: bool,
    /// With a key, tokens are minted by OpenAI instead of locally. Never logged, never sent to a page.
    pub openai_api_key: Option<String>,
    /// Calls alive at once; more are refused with 503. A slot is reserved before the offer is
    /// answered and freed when the call ends or its setup fails.
    pub max_calls: usize,
    /// A call with no authenticated inbound traffic (ICE checks with the call's credentials,
    /// decrypted data or audio) for this long ends. Other datagrams never keep a call alive.
    pub idle_timeout: Duration,
    /// Longest call: at this age the peer sends an `error` (`session_expired`) and closes it.
    pub max_call: Duration,
    /// Token requests to OpenAI in flight at once; more are refused with 429 and `Retry-After: 1`.
    pub max_mint_requests: usize,
    /// Longest an offer is held under the `sdp_hang` fault before it is answered `504`.
    pub sdp_hang_for: Duration,
    /// Where OpenAI-minted tokens come from ([`CLIENT_SECRETS_URL`]); tests point it at a fake.
    ///
    /// [`CLIENT_SECRETS_URL`]: super::CLIENT_SECRETS_URL
    pub client_secrets_url: String,
    /// The recognizer's model: `en-us/` and `cmudict-en-us.dict` inside.
    pub speech_model: std::path::PathBuf,
    /// The voice replies are spoken in (espeak-ng).
    pub speech_voice: super::speech::tts::Voice,
    pub faults: VoiceFaults,
}

impl Default for VoiceSettings {
    fn default() -> Self {
        VoiceSettings {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            model: "gpt-realtime".into(),
            token_ttl: Duration::from_secs(600),
            dev_mode: true,
            openai_api_key: None,
            max_calls: 32,
            idle_timeout: Duration::from_secs(30),
            max_call: Duration::from_secs(900),
            max_mint_requests: 4,
            sdp_hang_for: SDP_HANG_FOR,
            client_secrets_url: super::CLIENT_SECRETS_URL.to_string(),
            speech_model: super::speech::recognizer::DEFAULT_MODEL_DIR.into(),
            speech_voice: super::speech::tts::Voice::default(),
            faults: VoiceFaults::default(),
        }
    }
}

impl VoiceSettings {
    pub const USAGE: &'static str = "voice flags: [--voice-latency-ms N|MIN-MAX] \
[--voice-drop-item-created] [--voice-no-transcripts] [--voice-close-after-ms N] [--voice-max-call-secs N] \
[--voice-max-calls N] [--voice-max-mint-requests N] [--voice-token-status 400-599] [--voice-sdp-status 400-599] \
[--voice-sdp-hang] [--speech-model DIR] [--speech-voice NAME] [--speech-rate WPM]";

    /// Defaults, with `OPENAI_API_KEY` taken from the environment when set and non-empty.
    pub fn from_env() -> VoiceSettings {
        let key = std::env::var("OPENAI_API_KEY").ok().filter(|k| !k.trim().is_empty());
        VoiceSettings { openai_api_key: key, ..VoiceSettings::default() }
    }

    /// Applies one voice flag. Returns `Ok(false)` when `flag` is not a voice flag (so a caller
    /// can chain it with its own parser), `Err` when it is one with a bad value.
    pub fn apply_flag(&mut self, flag: &str, value: &mut dyn FnMut() -> Option<String>) -> Result<bool, String> {
        let mut need = |name: &str| value().ok_or_else(|| format!("{name} needs a value"));
        match flag {
            "--voice-drop-item-created" => self.faults.drop_item_created = true,
            "--voice-no-transcripts" => self.faults.no_transcripts = true,
            "--voice-sdp-hang" => self.faults.sdp_hang = true,
            "--voice-token-status" => self.faults.token_status = Some(error_status(flag, &need(flag)?)?),
            "--voice-sdp-status" => self.faults.sdp_status = Some(error_status(flag, &need(flag)?)?),
            "--voice-latency-ms" => {
                let v = need(flag)?;
                self.faults.answer_latency_ms = Some(
                    LatencyMs::parse(&v)
                        .ok_or_else(|| format!("{flag}: expected N or MIN-MAX milliseconds, got {v:?}"))?,
                );
            }
            "--voice-close-after-ms" => {
                let v = need(flag)?;
                self.faults.close_after_ms = Some(v.parse().map_err(|_| format!("{flag}: not a number: {v:?}"))?);
            }
            "--voice-max-call-secs" => self.max_call = Duration::from_secs(positive(flag, &need(flag)?)?),
            "--voice-max-calls" => self.max_calls = positive(flag, &need(flag)?)? as usize,
            "--voice-max-mint-requests" => self.max_mint_requests = positive(flag, &need(flag)?)? as usize,
            "--speech-model" => self.speech_model = need(flag)?.into(),
            "--speech-voice" => {
                let v = need(flag)?;
                // An espeak-ng voice name ("en-us", "en-gb+f3"): it goes on a command line.
                if v.is_empty() || v.len() > 40 || !v.chars().all(|c| c.is_ascii_alphanumeric() || "-+_".contains(c)) {
                    return Err(format!("{flag}: expected an espeak-ng voice name like en-us or en-gb+f3, got {v:?}"));
                }
                self.speech_voice.name = v;
            }
            "--speech-rate" => {
                let v = need(flag)?;
                self.speech_voice.speed = match v.trim().parse::<u32>() {
                    Ok(n) if (80..=400).contains(&n) => n,
                    _ => return Err(format!("{flag}: expected words per minute from 80 to 400, got {v:?}")),
                };
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// A whole number of at least 1 (and at most a million, so no setting overflows a clock).
fn positive(flag: &str, v: &str) -> Result<u64, String> {
    match v.trim().parse::<u64>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err(format!("{flag}: expected a whole number from 1 to 1000000, got {v:?}")),
    }
}

/// An HTTP error status a fault may answer with (400–599).
fn error_status(flag: &str, v: &str) -> Result<u16, String> {
    match v.trim().parse::<u16>() {
        Ok(status) if ERROR_STATUSES.contains(&status) => Ok(status),
        _ => Err(format!("{flag}: expected an HTTP error status from 400 to 599, got {v:?}")),
    }
}

/// The statuses `token_status` and `sdp_status` may take.
pub const ERROR_STATUSES: std::ops::RangeInclusive<u16> = 400..=599;
/// Default of [`VoiceSettings::sdp_hang_for`].
pub const SDP_HANG_FOR: Duration = Duration::from_secs(120);

/// Faults the peer can inject, for tests and benchmarks of the kiosk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoiceFaults {
    /// Delay before the answer SDP is returned.
    #[serde(default)]
    pub answer_latency_ms: Option<LatencyMs>,
    /// Never send the beta `conversation.item.created` (only the GA `conversation.item.added`).
    #[serde(default)]
    pub drop_item_created: bool,
    /// Never send input-audio transcription events.
    #[serde(default)]
    pub no_transcripts: bool,
    /// Close the call this long after its data channel opened.
    #[serde(default)]
    pub close_after_ms: Option<u64>,
    /// `POST /api/v1/realtime/session` answers this status (400–599) with an OpenAI-style error
    /// and mints no token.
    #[serde(default)]
    pub token_status: Option<u16>,
    /// `POST /v1/realtime/calls` answers an offer with a valid token this status (400–599) with
    /// an OpenAI-style error; the token stays unused.
    #[serde(default)]
    pub sdp_status: Option<u16>,
    /// `POST /v1/realtime/calls` never answers an offer with a valid token: it is held open
    /// (without a call slot) until the hub shuts down (`503`) or
    /// [`VoiceSettings::sdp_hang_for`] passed (`504`); the token stays unused.
    #[serde(default)]
    pub sdp_hang: bool,
}

/// A fixed latency or a uniformly random one in `min..=max` (JSON: `250` or `{"min":100,"max":400}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LatencyMs {
    Fixed(u64),
    Range { min: u64, max: u64 },
}

/// Longest latency accepted, so a knob cannot park requests forever.
const MAX_LATENCY_MS: u64 = 60_000;

impl LatencyMs {
    fn parse(s: &str) -> Option<LatencyMs> {
        let l = match s.split_once('-') {
            Some((a, b)) => LatencyMs::Range { min: a.trim().parse().ok()?, max: b.trim().parse().ok()? },
            None => LatencyMs::Fixed(s.trim().parse().ok()?),
        };
        l.is_valid().then_some(l)
    }

    pub fn is_valid(self) -> bool {
        match self {
            LatencyMs::Fixed(ms) => ms <= MAX_LATENCY_MS,
            LatencyMs::Range { min, max } => min <= max && max <= MAX_LATENCY_MS,
        }
    }

    /// The delay to apply; `random` is any uniformly distributed value.
    pub fn pick(self, random: u64) -> Duration {
        let ms = match self {
            LatencyMs::Fixed(ms) => ms,
            LatencyMs::Range { min, max } => min + random % (max - min + 1),
        };
        Duration::from_millis(ms)
    }
}

/// Fault knobs out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidFaults {
    #[error("answer_latency_ms must be at most {MAX_LATENCY_MS} and min <= max")]
    Latency,
    #[error("token_status must be an HTTP error status from 400 to 599, got {0}")]
    TokenStatus(u16),
    #[error("sdp_status must be an HTTP error status from 400 to 599, got {0}")]
    SdpStatus(u16),
    #[error("sdp_status and sdp_hang cannot both be set: an offer is either refused or never answered")]
    SdpStatusAndHang,
}

impl VoiceFaults {
    pub fn validate(&self) -> Result<(), InvalidFaults> {
        if let Some(l) = self.answer_latency_ms
            && !l.is_valid()
        {
            return Err(InvalidFaults::Latency);
        }
        if let Some(status) = self.token_status.filter(|s| !ERROR_STATUSES.contains(s)) {
            return Err(InvalidFaults::TokenStatus(status));
        }
        if let Some(status) = self.sdp_status.filter(|s| !ERROR_STATUSES.contains(s)) {
            return Err(InvalidFaults::SdpStatus(status));
        }
        if self.sdp_status.is_some() && self.sdp_hang {
            return Err(InvalidFaults::SdpStatusAndHang);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(flags: &[&str]) -> Result<VoiceSettings, String> {
        let mut s = VoiceSettings::default();
        let mut it = flags.iter().map(|f| f.to_string());
        while let Some(flag) = it.next() {
            let mut next = || it.next();
            if !s.apply_flag(&flag, &mut next)? {
                return Err(format!("not a voice flag: {flag}"));
            }
        }
        Ok(s)
    }

    #[test]
    fn fault_flags_set_the_knobs() {
        let s = apply(&["--voice-latency-ms", "100-300", "--voice-no-transcripts", "--voice-close-after-ms", "500"])
            .unwrap();
        assert_eq!(s.faults.answer_latency_ms, Some(LatencyMs::Range { min: 100, max: 300 }));
        assert!(s.faults.no_transcripts && !s.faults.drop_item_created);
        assert_eq!(s.faults.close_after_ms, Some(500));
    }

    #[test]
    fn error_path_flags_set_the_knobs_and_refuse_statuses_outside_400_to_599() {
        let s = apply(&["--voice-token-status", "401", "--voice-sdp-status", "503"]).unwrap();
        assert_eq!((s.faults.token_status, s.faults.sdp_status, s.faults.sdp_hang), (Some(401), Some(503), false));
        assert!(apply(&["--voice-sdp-hang"]).unwrap().faults.sdp_hang);
        for flag in ["--voice-token-status", "--voice-sdp-status"] {
            for bad in ["399", "600", "200", "0", "-1", "abc", "70000"] {
                let e = apply(&[flag, bad]).unwrap_err();
                assert!(e.contains("from 400 to 599") && e.contains(flag), "{flag} {bad}: {e}");
            }
            for good in ["400", "599"] {
                assert!(apply(&[flag, good]).is_ok(), "{flag} {good}");
            }
            assert!(apply(&[flag]).unwrap_err().contains("needs a value"));
        }
    }

    #[test]
    fn error_path_faults_are_validated() {
        let f: VoiceFaults = serde_json::from_str(r#"{"token_status":429,"sdp_hang":true}"#).unwrap();
        assert_eq!((f.token_status, f.sdp_hang, f.validate()), (Some(429), true, Ok(())));
        let bad = |json: &str| serde_json::from_str::<VoiceFaults>(json).unwrap().validate().unwrap_err();
        assert_eq!(bad(r#"{"token_status":399}"#), InvalidFaults::TokenStatus(399));
        assert_eq!(bad(r#"{"sdp_status":600}"#), InvalidFaults::SdpStatus(600));
        assert_eq!(bad(r#"{"sdp_status":503,"sdp_hang":true}"#), InvalidFaults::SdpStatusAndHang);
        assert!(bad(r#"{"token_status":200}"#).to_string().contains("from 400 to 599, got 200"));
        // Not a status at all: refused while parsing.
        assert!(serde_json::from_str::<VoiceFaults>(r#"{"token_status":70000}"#).is_err());
        assert!(serde_json::from_str::<VoiceFaults>(r#"{"sdp_status":"503"}"#).is_err());
    }

    #[test]
    fn limit_flags_set_the_limits_and_refuse_zero() {
        let s = apply(&["--voice-max-call-secs", "60", "--voice-max-calls", "3", "--voice-max-mint-requests", "2"])
            .unwrap();
        assert_eq!((s.max_call, s.max_calls, s.max_mint_requests), (Duration::from_secs(60), 3, 2));
        let d = VoiceSettings::default();
        assert_eq!((d.max_call, d.max_calls, d.max_mint_requests), (Duration::from_secs(900), 32, 4));
        for bad in ["0", "-1", "ten", "1000001"] {
            assert!(apply(&["--voice-max-call-secs", bad]).unwrap_err().contains("whole number"), "{bad}");
        }
        assert!(apply(&["--voice-max-calls", "0"]).is_err());
    }

    #[test]
    fn speech_flags_set_the_model_and_voice_and_refuse_what_cannot_go_on_a_command_line() {
        let s = apply(&["--speech-model", "/opt/model", "--speech-voice", "en-gb+f3", "--speech-rate", "150"]).unwrap();
        assert_eq!(s.speech_model, std::path::PathBuf::from("/opt/model"));
        assert_eq!((s.speech_voice.name.as_str(), s.speech_voice.speed), ("en-gb+f3", 150));
        let long = "a".repeat(41);
        for bad in ["", "en us", "-w/tmp/x", "en;rm", long.as_str()] {
            assert!(apply(&["--speech-voice", bad]).unwrap_err().contains("voice name"), "{bad:?}");
        }
        for bad in ["79", "401", "fast"] {
            assert!(apply(&["--speech-rate", bad]).unwrap_err().contains("words per minute"), "{bad}");
        }
    }

    #[test]
    fn bad_flag_values_are_errors_and_other_flags_are_not_consumed() {
        assert!(apply(&["--voice-latency-ms", "300-100"]).unwrap_err().contains("MIN-MAX"));
        assert!(apply(&["--voice-close-after-ms"]).unwrap_err().contains("needs a value"));
        let mut s = VoiceSettings::default();
        assert_eq!(s.apply_flag("--port", &mut || Some("1".into())), Ok(false));
    }

    #[test]
    fn latency_range_picks_within_bounds() {
        let l = LatencyMs::Range { min: 10, max: 12 };
        for r in 0..50 {
            let d = l.pick(r).as_millis();
            assert!((10..=12).contains(&d), "{d}");
        }
        assert_eq!(LatencyMs::Fixed(7).pick(99), Duration::from_millis(7));
    }

    #[test]
    fn faults_parse_from_json_and_reject_unknown_fields() {
        let f: VoiceFaults =
            serde_json::from_str(r#"{"answer_latency_ms":{"min":1,"max":2},"drop_item_created":true}"#).unwrap();
        assert!(f.drop_item_created);
        assert!(serde_json::from_str::<VoiceFaults>(r#"{"bogus":1}"#).is_err());
        let bad: VoiceFaults = serde_json::from_str(r#"{"answer_latency_ms":999999}"#).unwrap();
        assert!(bad.validate().is_err());
    }
}
