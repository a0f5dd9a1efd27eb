//! Runtime configuration: defaults derived from the page origin, then `config.json`, then query
//! parameters of the same name. Pure: the browser side hands in the origin, the fetched text and the
//! query string; this module decides and validates.

use std::fmt;

use serde_json::Value;

/// Every key a deployment can set, in the order they are documented.
pub const KEYS: &[&str] = &[
    "api_base",
    "ws_url",
    "token_url",
    "realtime_url",
    "station",
    "ticket_warning_min",
    "ticket_urgent_min",
    "voice_mode",
];

/// How the kiosk's push-to-talk button behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VoiceMode {
    /// Tap to talk, tap to send (default on the kiosk: nobody has to keep a finger on a shared screen).
    #[default]
    Toggle,
    /// Talk while the button is held.
    Hold,
}

impl VoiceMode {
    pub fn as_str(self) -> &'static str {
        match self {
            VoiceMode::Toggle => "toggle",
            VoiceMode::Hold => "hold",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// HTTP base of the hub API, without a trailing slash (`http://host:port`).
    pub api_base: String,
    /// WebSocket URL of the order feed.
    pub ws_url: String,
    /// Where the kiosk obtains an ephemeral Realtime token.
    pub token_url: String,
    /// Where the kiosk POSTs its SDP offer.
    pub realtime_url: String,
    /// Which KDS station this screen is (`kitchen`, `grill`, `expo`, …).
    pub station: String,
    pub ticket_warning_min: u32,
    pub ticket_urgent_min: u32,
    pub voice_mode: VoiceMode,
}

/// One invalid key, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Scheme, host and port of the page, split once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub secure: bool,
    /// `host[:port]`
    pub authority: String,
}

impl Origin {
    /// Parses `http://host:port` (what `location.origin` returns).
    pub fn parse(origin: &str) -> Result<Origin, ConfigError> {
        let err = |message: &str| ConfigError { key: "origin".into(), message: message.into() };
        let (scheme, rest) = origin.split_once("://").ok_or_else(|| err("missing scheme"))?;
        let secure = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            _ => return Err(err("the page must be served over http or https")),
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(err("missing host"));
        }
        Ok(Origin { secure, authority: authority.to_string() })
    }

    pub fn http(&self) -> String {
        format!("{}://{}", if self.secure { "https" } else { "http" }, self.authority)
    }

    pub fn ws(&self) -> String {
        format!("{}://{}", if self.secure { "wss" } else { "ws" }, self.authority)
    }
}

impl RuntimeConfig {
    /// What the app uses when there is no `config.json`: everything on the page's own origin,
    /// which is how the hub serves it.
    pub fn defaults(origin: &Origin) -> RuntimeConfig {
        let http = origin.http();
        RuntimeConfig {
            token_url: format!("{http}/api/v1/realtime/session"),
            realtime_url: format!("{http}/v1/realtime/calls"),
            ws_url: format!("{}/ws", origin.ws()),
            api_base: http,
            station: "kitchen".into(),
            ticket_warning_min: 10,
            ticket_urgent_min: 15,
            voice_mode: VoiceMode::Toggle,
        }
    }

    /// Resolves the configuration for a page at `origin`.
    ///
    /// `config_json` is the body of `config.json`, or `None` when the file does not exist.
    /// `query` is `location.search` (with or without the leading `?`). Every invalid key is
    /// reported, not only the first one.
    pub fn resolve(origin: &str, config_json: Option<&str>, query: &str) -> Result<RuntimeConfig, Vec<ConfigError>> {
        let origin = Origin::parse(origin).map_err(|e| vec![e])?;
        let mut raw: Vec<(String, String)> = Vec::new();
        let mut errors = Vec::new();

        if let Some(text) = config_json {
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => {
                    for (key, value) in map {
                        if !KEYS.contains(&key.as_str()) {
                            // Extra keys are allowed (other tools may share the file) but not silently.
                            continue;
                        }
                        match value {
                            Value::String(s) => raw.push((key, s)),
                            Value::Number(n) => raw.push((key, n.to_string())),
                            Value::Null => {}
                            other => errors.push(ConfigError {
                                key,
                                message: format!("expected a string or number in config.json, got {other}"),
                            }),
                        }
                    }
                }
                Ok(_) => {
                    errors.push(ConfigError { key: "config.json".into(), message: "must be a JSON object".into() })
                }
                Err(e) => {
                    errors.push(ConfigError { key: "config.json".into(), message: format!("is not valid JSON: {e}") })
                }
            }
        }

        for (key, value) in parse_query(query) {
            if KEYS.contains(&key.as_str()) {
                raw.push((key, value));
            }
        }

        let mut config = RuntimeConfig::defaults(&origin);
        // Later entries win: query parameters were pushed after config.json.
        for (key, value) in raw {
            if let Err(message) = config.set(&origin, &key, value.trim()) {
                errors.retain(|e: &ConfigError| e.key != key);
                errors.push(ConfigError { key, message });
            } else {
                errors.retain(|e: &ConfigError| e.key != key);
            }
        }
        if errors.is_empty() && config.ticket_urgent_min <= config.ticket_warning_min {
            errors.push(ConfigError {
                key: "ticket_urgent_min".into(),
                message: format!(
                    "must be greater than ticket_warning_min ({}), got {}",
                    config.ticket_warning_min, config.ticket_urgent_min
                ),
            });
        }
        if errors.is_empty() { Ok(config) } else { Err(errors) }
    }

    fn set(&mut self, origin: &Origin, key: &str, value: &str) -> Result<(), String> {
        match key {
            "api_base" => self.api_base = url(origin, value, &["http", "https"])?.trim_end_matches('/').to_string(),
            "ws_url" => self.ws_url = url(origin, value, &["ws", "wss"])?,
            "token_url" => self.token_url = url(origin, value, &["http", "https"])?,
            "realtime_url" => self.realtime_url = url(origin, value, &["http", "https"])?,
            "station" => {
                let ok = !value.is_empty()
                    && value.len() <= 32
                    && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
                if !ok {
                    return Err(format!("must be 1–32 characters of a–z, 0–9, '-' or '_', got {value:?}"));
                }
                self.station = value.to_string();
            }
            "ticket_warning_min" => self.ticket_warning_min = minutes(value)?,
            "ticket_urgent_min" => self.ticket_urgent_min = minutes(value)?,
            "voice_mode" => {
                self.voice_mode = match value {
                    "toggle" => VoiceMode::Toggle,
                    "hold" => VoiceMode::Hold,
                    _ => return Err(format!("must be \"toggle\" or \"hold\", got {value:?}")),
                }
            }
            _ => unreachable!("set() is only called with keys from KEYS"),
        }
        Ok(())
    }
}

fn minutes(value: &str) -> Result<u32, String> {
    match value.parse::<u32>() {
        Ok(n) if (1..=240).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number of minutes from 1 to 240, got {value:?}")),
    }
}

/// Accepts an absolute URL with one of `schemes`, or a path starting with `/` that is resolved
/// against the page origin.
fn url(origin: &Origin, value: &str, schemes: &[&str]) -> Result<String, String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("must not contain spaces, got {value:?}"));
    }
    if let Some(path) = value.strip_prefix('/') {
        if path.starts_with('/') {
            return Err(format!("must be an absolute URL or a path, got {value:?}"));
        }
        let base = if schemes.contains(&"ws") { origin.ws() } else { origin.http() };
        return Ok(format!("{base}{value}"));
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return Err(format!("must be a {} URL or a path starting with '/', got {value:?}", schemes.join("/")));
    };
    if !schemes.contains(&scheme.to_ascii_lowercase().as_str()) {
        return Err(format!("must use {}, got {scheme:?}", schemes.join(" or ")));
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("has no host: {value:?}"));
    }
    Ok(value.to_string())
}

/// Splits `?a=1&b=x%20y` into decoded pairs (`+` is a space, as in forms).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "http://127.0.0.1:8080";

    fn keys(errors: &[ConfigError]) -> Vec<&str> {
        errors.iter().map(|e| e.key.as_str()).collect()
    }

    #[test]
    fn missing_config_json_gives_defaults_relative_to_origin() {
        let c = RuntimeConfig::resolve(ORIGIN, None, "").unwrap();
        assert_eq!(c.api_base, "http://127.0.0.1:8080");
        assert_eq!(c.ws_url, "ws://127.0.0.1:8080/ws");
        assert_eq!(c.token_url, "http://127.0.0.1:8080/api/v1/realtime/session");
        assert_eq!(c.realtime_url, "http://127.0.0.1:8080/v1/realtime/calls");
        assert_eq!(c.station, "kitchen");
        assert_eq!((c.ticket_warning_min, c.ticket_urgent_min), (10, 15));
        assert_eq!(c.voice_mode, VoiceMode::Toggle);
    }

    #[test]
    fn https_origin_gives_wss_socket() {
        let c = RuntimeConfig::resolve("https://kds.example.com", None, "").unwrap();
        assert_eq!(c.ws_url, "wss://kds.example.com/ws");
        assert_eq!(c.api_base, "https://kds.example.com");
    }

    #[test]
    fn config_json_then_query_override_each_key() {
        let json = r#"{"station":"grill","ticket_warning_min":8,"ticket_urgent_min":"12",
                       "realtime_url":"https://api.openai.com/v1/realtime/calls","extra":true}"#;
        let c = RuntimeConfig::resolve(
            ORIGIN,
            Some(json),
            "?realtime_url=http%3A%2F%2F127.0.0.1%3A9100%2Fv1%2Frealtime%2Fcalls&station=expo&voice_mode=hold",
        )
        .unwrap();
        assert_eq!(c.realtime_url, "http://127.0.0.1:9100/v1/realtime/calls");
        assert_eq!(c.station, "expo");
        assert_eq!((c.ticket_warning_min, c.ticket_urgent_min), (8, 12));
        assert_eq!(c.voice_mode, VoiceMode::Hold);
    }

    #[test]
    fn relative_paths_resolve_against_origin() {
        let c = RuntimeConfig::resolve(ORIGIN, Some(r#"{"ws_url":"/feed","api_base":"/"}"#), "").unwrap();
        assert_eq!(c.ws_url, "ws://127.0.0.1:8080/feed");
        assert_eq!(c.api_base, "http://127.0.0.1:8080");
    }

    #[test]
    fn a_valid_query_value_repairs_a_bad_config_json_value() {
        let c = RuntimeConfig::resolve(ORIGIN, Some(r#"{"station":"Grill Line"}"#), "station=grill").unwrap();
        assert_eq!(c.station, "grill");
    }

    #[test]
    fn every_bad_value_is_reported_by_key() {
        let errors = RuntimeConfig::resolve(
            ORIGIN,
            Some(r#"{"ws_url":"http://x/ws","ticket_warning_min":0}"#),
            "station=Bad%20Name&realtime_url=ftp://x&voice_mode=shout&token_url=",
        )
        .unwrap_err();
        let mut k = keys(&errors);
        k.sort();
        assert_eq!(k, ["realtime_url", "station", "ticket_warning_min", "token_url", "voice_mode", "ws_url"]);
        let station = errors.iter().find(|e| e.key == "station").unwrap();
        assert!(station.message.contains("Bad Name"), "{}", station.message);
    }

    #[test]
    fn urgent_must_exceed_warning() {
        let errors = RuntimeConfig::resolve(ORIGIN, None, "ticket_warning_min=20&ticket_urgent_min=15").unwrap_err();
        assert_eq!(keys(&errors), ["ticket_urgent_min"]);
    }

    #[test]
    fn malformed_config_json_names_the_file() {
        let errors = RuntimeConfig::resolve(ORIGIN, Some("{station:"), "").unwrap_err();
        assert_eq!(keys(&errors), ["config.json"]);
        let errors = RuntimeConfig::resolve(ORIGIN, Some("[1,2]"), "").unwrap_err();
        assert_eq!(keys(&errors), ["config.json"]);
    }

    #[test]
    fn non_scalar_json_value_is_rejected() {
        let errors = RuntimeConfig::resolve(ORIGIN, Some(r#"{"station":["a"]}"#), "").unwrap_err();
        assert_eq!(keys(&errors), ["station"]);
    }

    #[test]
    fn unknown_query_parameters_are_ignored() {
        assert!(RuntimeConfig::resolve(ORIGIN, None, "?utm_source=x&debug").is_ok());
    }

    #[test]
    fn bad_origin_is_an_error_not_a_panic() {
        assert_eq!(keys(&RuntimeConfig::resolve("file://", None, "").unwrap_err()), ["origin"]);
        assert_eq!(keys(&RuntimeConfig::resolve("", None, "").unwrap_err()), ["origin"]);
    }

    #[test]
    fn query_decoding() {
        assert_eq!(
            parse_query("?a=1+2&b=%41%zz&c"),
            vec![("a".into(), "1 2".into()), ("b".into(), "A%zz".into()), ("c".into(), "".into())]
        );
        assert_eq!(parse_query("x=%4"), vec![("x".into(), "%4".into())]);
        assert_eq!(parse_query("x=%"), vec![("x".into(), "%".into())]);
    }
}
