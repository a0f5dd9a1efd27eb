//! Runtime configuration: defaults derived from the page origin, then `config.json`, then query
//! parameters of the same name. Pure: the browser side hands in the origin, the fetched text and the
//! query string; this module decides and validates.
//!
//! Only `config.json` (the hub's word) sets [`HUB_KEYS`]; a query parameter cannot. A query
//! parameter may point one of [`URL_KEYS`] only at the page's own origin unless `config.json` says
//! `"allow_url_overrides": true`: otherwise an address like `/kds?ws_url=ws://elsewhere/ws` would
//! hand the station's stored token to another host.

use std::fmt;

use restaurant_protocol::Shallow;

use crate::core::sorted_map::SortedMap;

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
    "kiosk_idle_secs",
    "kiosk_warning_secs",
];

/// Keys only `config.json` sets: how the hub runs. Query parameters of these names are ignored.
pub const HUB_KEYS: &[&str] = &["mode", "allow_url_overrides", "https_url"];

/// The keys that name a URL the page sends its tokens to.
pub const URL_KEYS: &[&str] = &["api_base", "ws_url", "token_url", "realtime_url"];

/// How the hub runs, as its `config.json` says (`"mode"`); production when it does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The labelled exception: loopback only, demo PIN, kiosks need no pairing.
    Demo,
    #[default]
    Production,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Demo => "demo",
            Mode::Production => "production",
        }
    }

    pub fn is_demo(self) -> bool {
        self == Mode::Demo
    }
}

/// How the kiosk's push-to-talk button behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VoiceMode {
    /// Tap to talk, tap to send (default on the kiosk: nobody has to keep a finger on a shared screen).
    #[default]
    Toggle,
    /// Talk while the button is held.
    Hold,
    /// Hands-free: the voice service detects when the customer starts and stops speaking (server
    /// turn detection); the button only mutes and unmutes the microphone.
    Vad,
}

impl VoiceMode {
    pub fn as_str(self) -> &'static str {
        match self {
            VoiceMode::Toggle => "toggle",
            VoiceMode::Hold => "hold",
            VoiceMode::Vad => "vad",
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
    /// The kiosk asks "Are you still there?" after this long without a touch or a word.
    pub kiosk_idle_secs: u32,
    /// …and starts over this long after asking.
    pub kiosk_warning_secs: u32,
    pub mode: Mode,
    /// Query parameters may point the URL keys at other origins (demo, or the hub's
    /// `--allow-url-overrides`).
    pub allow_url_overrides: bool,
    /// Where this hub is reachable over HTTPS (`https://host:port`), when it serves HTTPS.
    pub https_url: Option<String>,
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
            kiosk_idle_secs: 60,
            kiosk_warning_secs: 15,
            mode: Mode::Production,
            allow_url_overrides: false,
            https_url: None,
        }
    }

    /// Resolves the configuration for a page at `origin`.
    ///
    /// `config_json` is the body of `config.json`, or `None` when the file does not exist.
    /// `query` is `location.search` (with or without the leading `?`). Every invalid key is
    /// reported, not only the first one.
    pub fn resolve(origin: &str, config_json: Option<&str>, query: &str) -> Result<RuntimeConfig, Vec<ConfigError>> {
        let origin = Origin::parse(origin).map_err(|e| vec![e])?;
        // (key, value, from the query string)
        let mut raw: Vec<(String, String, bool)> = Vec::new();
        let mut hub: Vec<(String, Shallow)> = Vec::new();
        let mut errors = Vec::new();

        if let Some(text) = config_json {
            match read_object(text) {
                Ok(map) => {
                    for (key, value) in map {
                        if HUB_KEYS.contains(&key.as_str()) {
                            hub.push((key, value));
                            continue;
                        }
                        if !KEYS.contains(&key.as_str()) {
                            // Extra keys are allowed (other tools may share the file) but not silently.
                            continue;
                        }
                        match value {
                            Shallow::Text(s) => raw.push((key, s, false)),
                            Shallow::Whole(n) => raw.push((key, n, false)),
                            Shallow::Null => {}
                            other => errors.push(ConfigError {
                                key,
                                message: format!("expected a string or a whole number in config.json, got {other}"),
                            }),
                        }
                    }
                }
                Err(message) => errors.push(ConfigError { key: "config.json".into(), message }),
            }
        }

        for (key, value) in parse_query(query) {
            if KEYS.contains(&key.as_str()) {
                raw.push((key, value, true));
            } else if HUB_KEYS.contains(&key.as_str()) {
                log::warn!("[Config] query parameter {key} ignored: only the hub's config.json sets it");
            }
        }

        let mut config = RuntimeConfig::defaults(&origin);
        for (key, value) in hub {
            if let Err(message) = config.set_hub(&key, value) {
                errors.push(ConfigError { key, message });
            }
        }
        // Later entries win: query parameters were pushed after config.json.
        for (key, value, from_query) in raw {
            let checked = if from_query && !config.allow_url_overrides && URL_KEYS.contains(&key.as_str()) {
                same_origin_override(&origin, &key, value.trim())
            } else {
                Ok(())
            };
            if let Err(message) = checked.and_then(|()| config.set(&origin, &key, value.trim())) {
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

    /// A key only `config.json` sets.
    fn set_hub(&mut self, key: &str, value: Shallow) -> Result<(), String> {
        match (key, value) {
            (_, Shallow::Null) => {}
            ("mode", Shallow::Text(s)) => {
                self.mode = match s.as_str() {
                    "demo" => Mode::Demo,
                    "production" => Mode::Production,
                    _ => return Err(format!("must be \"demo\" or \"production\", got {s:?}")),
                }
            }
            ("allow_url_overrides", Shallow::Bool(b)) => self.allow_url_overrides = b,
            ("https_url", Shallow::Text(s)) => {
                let origin = Origin::parse(s.trim()).map_err(|_| format!("must be https://host[:port], got {s:?}"))?;
                if !origin.secure {
                    return Err(format!("must be an https:// address, got {s:?}"));
                }
                self.https_url = Some(origin.http());
            }
            (key, other) => {
                let expected = if key == "allow_url_overrides" { "true or false" } else { "a string" };
                return Err(format!("expected {expected} in config.json, got {other}"));
            }
        }
        Ok(())
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
            "kiosk_idle_secs" => self.kiosk_idle_secs = seconds(value, 10, 3600)?,
            "kiosk_warning_secs" => self.kiosk_warning_secs = seconds(value, 5, 120)?,
            "voice_mode" => {
                self.voice_mode = match value {
                    "toggle" => VoiceMode::Toggle,
                    "hold" => VoiceMode::Hold,
                    "vad" => VoiceMode::Vad,
                    _ => return Err(format!("must be \"toggle\", \"hold\" or \"vad\", got {value:?}")),
                }
            }
            _ => unreachable!("set() is only called with keys from KEYS"),
        }
        Ok(())
    }
}

/// The members of `config.json`, in key order; a key given twice keeps its last value. Read as a
/// [`Shallow`] (the file holds strings, numbers and booleans), not as a `serde_json::Value`, whose
/// map, tree and printer the pages would carry for this alone. `Err` says what is wrong with the
/// file: not JSON, or not an object.
fn read_object(text: &str) -> Result<SortedMap<String, Shallow>, String> {
    match serde_json::from_str::<Shallow>(text) {
        Ok(Shallow::Object(members)) => Ok(members.into_iter().collect()),
        Ok(_) => Err("must be a JSON object".into()),
        Err(e) => Err(format!("is not valid JSON: {e}")),
    }
}

/// A query parameter may point a URL key only at the page's own origin (`ws`/`wss` count as the
/// page's `http`/`https`). Paths starting with `/` are on the page's origin by definition.
fn same_origin_override(origin: &Origin, key: &str, value: &str) -> Result<(), String> {
    if value.starts_with('/') && !value.starts_with("//") {
        return Ok(());
    }
    if same_origin(origin, value) {
        return Ok(());
    }
    log::warn!("[Config] query parameter {key}={value:?} refused: not the page's origin {}", origin.http());
    Err(format!(
        "may only point at this page's own origin ({}) when set in the address; {value:?} was refused \
         (this hub's config.json does not allow overrides to other hosts)",
        origin.http()
    ))
}

/// Whether `url` (absolute) is on `origin`: same security, host (case-insensitive) and port
/// (default ports made explicit). A URL with user info (`http://a@b/`) never is.
pub fn same_origin(origin: &Origin, url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else { return false };
    let secure = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => false,
        "https" | "wss" => true,
        _ => return false,
    };
    // Browsers treat `\` like `/` in these schemes.
    let authority = rest.split(['/', '?', '#', '\\']).next().unwrap_or("");
    match (endpoint(secure, authority), endpoint(origin.secure, &origin.authority)) {
        (Some(theirs), Some(ours)) => secure == origin.secure && theirs == ours,
        _ => false,
    }
}

/// `(host, port)` of an authority, host lowercased, the scheme's default port made explicit.
fn endpoint(secure: bool, authority: &str) -> Option<(String, u16)> {
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (host, rest) = authority.split_at(end + 1);
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let default = if secure { 443 } else { 80 };
    let port = match port {
        None | Some("") => default,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
        Some(_) => return None,
    };
    if host.is_empty() {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

fn seconds(value: &str, min: u32, max: u32) -> Result<u32, String> {
    match value.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number of seconds from {min} to {max}, got {value:?}")),
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
        assert_eq!((c.kiosk_idle_secs, c.kiosk_warning_secs), (60, 15));
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
        let json = r#"{"station":"grill","ticket_warning_min":8,"ticket_urgent_min":"12","allow_url_overrides":true,
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
    fn kiosk_idle_times_are_seconds_within_limits() {
        let c = RuntimeConfig::resolve(ORIGIN, None, "kiosk_idle_secs=90&kiosk_warning_secs=5&voice_mode=vad").unwrap();
        assert_eq!((c.kiosk_idle_secs, c.kiosk_warning_secs, c.voice_mode), (90, 5, VoiceMode::Vad));
        let errors = RuntimeConfig::resolve(ORIGIN, None, "kiosk_idle_secs=9&kiosk_warning_secs=121").unwrap_err();
        let keys: Vec<&str> = errors.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["kiosk_idle_secs", "kiosk_warning_secs"]);
        assert!(errors[0].message.contains("from 10 to 3600"), "{}", errors[0].message);
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

    /// `config.json` read as a `Shallow` gives the same members, values and order as a JSON tree
    /// (`serde_json::Value`, whose objects are sorted maps) gives.
    #[test]
    fn config_json_reads_as_a_json_tree_reads_it() {
        use serde_json::Value;
        for text in [
            r#"{"b":1,"a":"x","c":null,"d":true,"e":false,"f":[1, 2],"g":{"h":[]},"a":"y"}"#,
            " \n{ \"station\" : \"grill\" ,\"ticket_warning_min\":\t8 } \n",
            r#"{"n":-1.5e3,"z":0,"m":-7,"big":18446744073709551615,"s":"tab\tand \u00e9 \"quoted\"","k":"\ud83c\udf54"}"#,
            "{}",
        ] {
            let ours = read_object(text).unwrap();
            let tree: Value = serde_json::from_str(text).unwrap();
            let Value::Object(tree) = tree else { panic!("{text} is an object") };
            assert_eq!(ours.keys().collect::<Vec<_>>(), tree.keys().collect::<Vec<_>>(), "{text}");
            for ((key, ours), (_, theirs)) in ours.iter().zip(&tree) {
                let same = match (ours, theirs) {
                    (Shallow::Null, Value::Null) => true,
                    (Shallow::Bool(a), Value::Bool(b)) => a == b,
                    (Shallow::Text(a), Value::String(b)) => a == b,
                    (Shallow::Whole(a), Value::Number(b)) => !b.is_f64() && *a == b.to_string(),
                    (Shallow::Fraction, Value::Number(b)) => b.is_f64(),
                    (Shallow::Array, Value::Array(_)) | (Shallow::Object(_), Value::Object(_)) => true,
                    _ => false,
                };
                assert!(same, "{key} in {text}: {ours:?} against {theirs:?}");
            }
        }
        for (text, message) in [
            ("[1]", "must be a JSON object"),
            (r#""x""#, "must be a JSON object"),
            ("3", "must be a JSON object"),
            ("null", "must be a JSON object"),
            ("{", "is not valid JSON"),
            ("{} x", "is not valid JSON"),
            (r#"{"a":}"#, "is not valid JSON"),
            ("", "is not valid JSON"),
        ] {
            let error = read_object(text).unwrap_err();
            assert!(error.starts_with(message), "{text:?}: {error}");
        }
        // What a wrong value is reported as: a scalar as written, an array or object by its kind.
        let errors =
            RuntimeConfig::resolve(ORIGIN, Some(r#"{"station":{"a": [1]},"mode":7,"allow_url_overrides":"yes"}"#), "")
                .unwrap_err();
        let messages: Vec<(&str, &str)> = errors.iter().map(|e| (e.key.as_str(), e.message.as_str())).collect();
        assert_eq!(
            messages,
            [
                ("station", "expected a string or a whole number in config.json, got an object"),
                ("allow_url_overrides", r#"expected true or false in config.json, got "yes""#),
                ("mode", "expected a string in config.json, got 7"),
            ]
        );
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
    fn hub_keys_come_from_config_json() {
        let c = RuntimeConfig::resolve(ORIGIN, None, "").unwrap();
        assert_eq!((c.mode, c.allow_url_overrides, c.https_url.as_deref()), (Mode::Production, false, None));
        let json = r#"{"mode":"demo","allow_url_overrides":true,"https_url":"https://hub.local:8443/"}"#;
        let c = RuntimeConfig::resolve(ORIGIN, Some(json), "").unwrap();
        assert_eq!(c.mode, Mode::Demo);
        assert!(c.allow_url_overrides);
        assert_eq!(c.https_url.as_deref(), Some("https://hub.local:8443"));
        let c = RuntimeConfig::resolve(ORIGIN, Some(r#"{"mode":"production","https_url":null}"#), "").unwrap();
        assert_eq!((c.mode, c.https_url), (Mode::Production, None));
    }

    #[test]
    fn a_query_parameter_cannot_change_hub_keys() {
        let c = RuntimeConfig::resolve(
            ORIGIN,
            Some(r#"{"mode":"production"}"#),
            "mode=demo&allow_url_overrides=true&https_url=https%3A%2F%2Fevil.example",
        )
        .unwrap();
        assert_eq!((c.mode, c.allow_url_overrides, c.https_url), (Mode::Production, false, None));
        let errors = RuntimeConfig::resolve(ORIGIN, None, "mode=demo&ws_url=ws%3A%2F%2Fevil.example%2Fws").unwrap_err();
        assert_eq!(keys(&errors), ["ws_url"], "the override is still refused");
    }

    #[test]
    fn bad_hub_keys_are_reported() {
        let errors = RuntimeConfig::resolve(
            ORIGIN,
            Some(r#"{"mode":"dev","allow_url_overrides":"yes","https_url":"http://hub:8080"}"#),
            "",
        )
        .unwrap_err();
        let mut k = keys(&errors);
        k.sort();
        assert_eq!(k, ["allow_url_overrides", "https_url", "mode"]);
    }

    #[test]
    fn a_query_override_to_another_origin_is_refused_naming_the_key() {
        for (key, value) in [
            ("ws_url", "ws://elsewhere:8080/ws"),
            ("api_base", "http://127.0.0.1:9000"),
            ("token_url", "https://127.0.0.1:8080/api/v1/realtime/session"),
            ("realtime_url", "http://127.0.0.2:8080/v1/realtime/calls"),
            ("api_base", "http://127.0.0.1:8080@evil.example"),
            ("ws_url", "ws://evil.example\\@127.0.0.1:8080/ws"),
            ("api_base", "//evil.example"),
        ] {
            let query = format!("{key}={}", value.replace('/', "%2F").replace(':', "%3A").replace('@', "%40"));
            let errors = RuntimeConfig::resolve(ORIGIN, None, &query).unwrap_err();
            assert_eq!(keys(&errors), [key], "{key}={value}");
            assert!(errors[0].message.contains("own origin"), "{}", errors[0].message);
        }
    }

    #[test]
    fn a_query_override_on_the_page_origin_is_accepted() {
        let c = RuntimeConfig::resolve(
            ORIGIN,
            None,
            "ws_url=ws%3A%2F%2F127.0.0.1%3A8080%2Ffeed&api_base=HTTP%3A%2F%2F127.0.0.1%3A8080%2F&token_url=%2Ftoken",
        )
        .unwrap();
        assert_eq!(c.ws_url, "ws://127.0.0.1:8080/feed");
        assert_eq!(c.api_base, "HTTP://127.0.0.1:8080");
        assert_eq!(c.token_url, "http://127.0.0.1:8080/token");
        let c = RuntimeConfig::resolve("https://hub.local", None, "ws_url=wss%3A%2F%2FHUB.local%3A443%2Fws").unwrap();
        assert_eq!(c.ws_url, "wss://HUB.local:443/ws");
        let errors = RuntimeConfig::resolve("https://hub.local", None, "ws_url=ws%3A%2F%2Fhub.local%2Fws").unwrap_err();
        assert_eq!(keys(&errors), ["ws_url"], "plain ws from an https page is another origin");
    }

    #[test]
    fn config_json_may_name_other_origins_and_may_allow_query_overrides() {
        let json = r#"{"realtime_url":"https://api.openai.com/v1/realtime/calls"}"#;
        let c = RuntimeConfig::resolve(ORIGIN, Some(json), "").unwrap();
        assert_eq!(c.realtime_url, "https://api.openai.com/v1/realtime/calls");
        let c = RuntimeConfig::resolve(
            ORIGIN,
            Some(r#"{"allow_url_overrides":true}"#),
            "ws_url=ws%3A%2F%2Felsewhere%3A9000%2Fws",
        )
        .unwrap();
        assert_eq!(c.ws_url, "ws://elsewhere:9000/ws");
    }

    #[test]
    fn same_origin_normalises_default_ports_and_case() {
        let origin = Origin::parse("http://Hub.Local").unwrap();
        assert!(same_origin(&origin, "ws://hub.local:80/ws"));
        assert!(same_origin(&origin, "http://HUB.LOCAL/x"));
        assert!(!same_origin(&origin, "http://hub.local:8080/x"));
        assert!(!same_origin(&origin, "https://hub.local/x"));
        assert!(!same_origin(&origin, "ftp://hub.local/x"));
        let v6 = Origin::parse("http://[::1]:8080").unwrap();
        assert!(same_origin(&v6, "ws://[::1]:8080/ws"));
        assert!(!same_origin(&v6, "ws://[::2]:8080/ws"));
        assert!(!same_origin(&v6, "ws://[::1]x/ws"));
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
