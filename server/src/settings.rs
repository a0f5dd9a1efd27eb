use std::path::PathBuf;
use std::time::Duration;

use restaurant_protocol::TaxRule;
use restaurant_protocol::menu::MAX_TAX_RATE_MILLIPERCENT;

/// A secret (PIN) whose `Debug` output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// How the hub runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `--demo`: loopback only, the demo PIN for every station and the manager, dev endpoints
    /// (`/api/v1/dev/*`), any origin, unpaired kiosks accepted as the device `demo`.
    Demo,
    /// The default: PINs from `pins.json`, paired devices only, same-origin only, no dev endpoints.
    Production,
}

impl Mode {
    pub fn is_demo(self) -> bool {
        self == Mode::Demo
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Demo => "demo",
            Mode::Production => "production",
        }
    }
}

/// How the hub serves HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSetting {
    /// Plain HTTP on `--port` (demo mode, tests, or `--no-tls` behind a TLS-terminating proxy).
    Off,
    /// A local CA and a server certificate created once in `<data>/tls/` (see [`crate::tls`]).
    Auto,
    /// The restaurant's own certificate chain and key (PEM files).
    Files { cert: PathBuf, key: PathBuf },
}

impl TlsSetting {
    pub fn is_on(&self) -> bool {
        *self != TlsSetting::Off
    }
}

/// Command-line settings of the hub.
#[derive(Debug, Clone)]
pub struct Settings {
    pub host: String,
    /// The HTTPS port when TLS is on (default 8443), the plain HTTP port when it is off (default 8080).
    pub port: u16,
    /// HTTPS: [`Settings::default`] is `Off` (tests, embedding); the command line defaults to `Auto`.
    pub tls: TlsSetting,
    /// With TLS on: the plain-HTTP port serving the CA certificate and the setup page, and
    /// redirecting every other path to HTTPS.
    pub http_port: u16,
    /// Extra names (or addresses) for the generated server certificate (`--hostname`).
    pub hostnames: Vec<String>,
    /// A client that has not finished its TLS handshake within this is dropped (10 s; not a flag).
    pub tls_handshake_timeout: Duration,
    /// The built bundle (Trunk's `dist/`).
    pub dist: PathBuf,
    /// Station a KDS opens by default (`config.json`'s `station`).
    pub station: String,
    /// Explicit URLs for `config.json`; unset keys fall back to the page's own origin.
    pub realtime_url: Option<String>,
    pub token_url: Option<String>,
    /// Folder of the SQLite database (`hub.sqlite3`).
    pub data: PathBuf,
    /// Keep the orders in an in-memory database (tests): nothing survives the process.
    pub memory: bool,
    /// Demo (loopback only, demo PIN, dev endpoints, any origin) or production (the default).
    pub mode: Mode,
    /// Origins allowed by CORS and the origin check outside demo mode (none → same-origin only).
    pub allow_origins: Vec<String>,
    /// `config.json` lets the pages take URLs of other origins from their query (always in demo).
    pub allow_url_overrides: bool,
    /// `--https-url`: where a page opened over plain HTTP tells people to go instead (a hub with
    /// `--no-tls` behind a TLS-terminating proxy knows no better address itself).
    pub https_url: Option<String>,
    /// `--pin`: one PIN for every station (and the manager) without its own — an explicit choice;
    /// `restaurant-hub set-pin` (hashed in the data folder) is the way to set PINs.
    pub pin: Option<Secret>,
    pub station_pins: Vec<(String, Secret)>,
    /// Menu file; `None` → the built-in default menu.
    pub menu: Option<PathBuf>,
    /// How tax is charged (`--tax-rate PERCENT`, `--tax-inclusive`; default none).
    pub tax: TaxRule,
    /// A WebSocket client silent for this long is dropped.
    pub heartbeat_timeout: Duration,
    /// How many recent order events a reconnecting client can replay.
    pub replay_events: usize,
    /// Frames queued per WebSocket client before it is considered behind and sent `resync`.
    pub client_queue: usize,
    /// The Realtime-compatible voice peer (host and dev mode follow `host` and `dev`).
    pub voice: crate::voice::VoiceSettings,
    /// Bounds on what clients may ask of the hub (see "Limits" in `docs/protocol.md`).
    pub limits: Limits,
}

const DAY_SECS: u64 = 24 * 60 * 60;

/// The hub's limits on clients and on its own storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Orders one client (paired device, else IP address) may create per minute (`--order-rate`).
    pub order_rate: u32,
    /// Voice tokens one device may ask for per minute (`--voice-token-rate`).
    pub voice_token_rate: u32,
    /// New orders are refused while this many are active (`--max-active-orders`).
    pub max_active_orders: u64,
    /// Open `/ws` connections (`--max-connections`).
    pub max_connections: usize,
    /// A `/ws` connection without an accepted `hello` after this long is closed (`--hello-ms`).
    pub hello_timeout: Duration,
    /// Finished orders older than this are removed (`--retain-days`, whole days).
    pub retain_finished: Duration,
    /// The replay window holds at most this many bytes of events (`--replay-bytes`).
    pub replay_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            order_rate: 30,
            voice_token_rate: crate::guard::VOICE_TOKENS_PER_MINUTE,
            max_active_orders: 500,
            max_connections: 256,
            hello_timeout: Duration::from_secs(10),
            retain_finished: Duration::from_secs(30 * DAY_SECS),
            replay_bytes: 8 * 1024 * 1024,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            host: "127.0.0.1".into(),
            port: 8080,
            tls: TlsSetting::Off,
            http_port: 8080,
            hostnames: Vec::new(),
            tls_handshake_timeout: Duration::from_secs(10),
            dist: PathBuf::from("dist"),
            station: "kitchen".into(),
            realtime_url: None,
            token_url: None,
            data: PathBuf::from(".data"),
            memory: false,
            mode: Mode::Production,
            allow_origins: Vec::new(),
            allow_url_overrides: false,
            https_url: None,
            pin: None,
            station_pins: Vec::new(),
            menu: None,
            tax: TaxRule::default(),
            heartbeat_timeout: Duration::from_secs(45),
            replay_events: 10_000,
            client_queue: 1024,
            voice: crate::voice::VoiceSettings::default(),
            limits: Limits::default(),
        }
    }
}

impl Settings {
    /// The default settings in demo mode (what `cargo xtask serve` and the tests run).
    pub fn demo() -> Settings {
        Settings { mode: Mode::Demo, ..Settings::default() }
    }

    pub const USAGE: &'static str = "usage: restaurant-hub set-pin --data DIR STATION...   (see set-pin --help)
       restaurant-hub [--host H] [--port N] [--dist DIR] [--station NAME] \
[--realtime-url URL] [--token-url URL]
       [--tls-cert FILE --tls-key FILE | --no-tls] [--http-port N] [--hostname NAME]...
       [--data DIR] [--memory] [--menu FILE] [--tax-rate PERCENT] [--tax-inclusive] [--pin PIN] [--station-pin STATION=PIN]...
       [--demo] [--allow-origin ORIGIN]... [--allow-url-overrides] [--https-url URL] [--heartbeat-ms N] [--replay-events N] [--client-queue N]
       [--voice-latency-ms N|MIN-MAX] [--voice-drop-item-created] [--voice-no-transcripts] [--voice-close-after-ms N]
       [--voice-max-calls N] [--voice-max-call-secs N] [--voice-max-mint-requests N]
       [--voice-token-status 400-599] [--voice-sdp-status 400-599] [--voice-sdp-hang]
       [--order-rate N] [--voice-token-rate N] [--max-active-orders N] [--max-connections N] [--hello-ms N] [--retain-days N] [--replay-bytes N]

tax: --tax-rate 8.875 adds 8.875 % to every order (0–50, at most 3 decimals; default 0); with --tax-inclusive
       the prices already include it
limits (defaults): --order-rate 30 orders per minute per device (else per IP address), --voice-token-rate 10
       voice tokens per minute per device, --max-active-orders 500,
       --max-connections 256 WebSockets, --hello-ms 10000, --retain-days 30 (finished orders), --replay-bytes 8388608";

    /// The voice peer's settings: calls bind to the hub's host; dev endpoints only in dev mode.
    pub fn voice_settings(&self) -> crate::voice::VoiceSettings {
        let mut v = self.voice.clone();
        if let Ok(ip) = self.host.parse() {
            v.host = ip;
        }
        v.dev_mode = self.mode.is_demo();
        v
    }

    /// Parses the command line; `OPENAI_API_KEY` comes from the environment.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Settings, String> {
        let mut s = Settings { voice: crate::voice::VoiceSettings::from_env(), ..Settings::default() };
        let (mut port, mut tls_cert, mut tls_key, mut no_tls) = (None, None, None, false);
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
            match flag.as_str() {
                "--host" => s.host = value("--host")?,
                "--port" => port = Some(port_number("--port", &value("--port")?)?),
                "--http-port" => s.http_port = port_number("--http-port", &value("--http-port")?)?,
                "--tls-cert" => tls_cert = Some(PathBuf::from(value("--tls-cert")?)),
                "--tls-key" => tls_key = Some(PathBuf::from(value("--tls-key")?)),
                "--no-tls" => no_tls = true,
                "--hostname" => {
                    let v = value("--hostname")?;
                    if !is_valid_hostname(&v) && v.parse::<std::net::IpAddr>().is_err() {
                        return Err(format!("--hostname: not a host name or IP address: {v:?}"));
                    }
                    s.hostnames.push(v.to_ascii_lowercase());
                }
                "--dist" => s.dist = PathBuf::from(value("--dist")?),
                "--station" => s.station = value("--station")?,
                "--realtime-url" => s.realtime_url = Some(value("--realtime-url")?),
                "--token-url" => s.token_url = Some(value("--token-url")?),
                "--data" => s.data = PathBuf::from(value("--data")?),
                "--memory" => s.memory = true,
                "--demo" => s.mode = Mode::Demo,
                "--allow-origin" => s.allow_origins.push(value("--allow-origin")?),
                "--allow-url-overrides" => s.allow_url_overrides = true,
                "--https-url" => {
                    let url = value("--https-url")?;
                    if !url.starts_with("https://") || url.len() > 200 {
                        return Err(format!("--https-url: expected https://host[:port], got {url:?}"));
                    }
                    s.https_url = Some(url.trim_end_matches('/').to_string());
                }
                "--menu" => s.menu = Some(PathBuf::from(value("--menu")?)),
                "--tax-rate" => s.tax.rate_millipercent = tax_rate(&value("--tax-rate")?)?,
                "--tax-inclusive" => s.tax.inclusive = true,
                "--pin" => s.pin = Some(Secret(non_empty_pin("--pin", value("--pin")?)?)),
                "--station-pin" => {
                    let v = value("--station-pin")?;
                    let (station, pin) =
                        v.split_once('=').ok_or_else(|| format!("--station-pin: expected STATION=PIN, got {v:?}"))?;
                    if !is_valid_station(station) {
                        return Err(format!("--station-pin: invalid station name {station:?} (a-z 0-9 - _)"));
                    }
                    s.station_pins
                        .push((station.to_string(), Secret(non_empty_pin("--station-pin", pin.to_string())?)));
                }
                "--heartbeat-ms" => {
                    s.heartbeat_timeout = Duration::from_millis(positive("--heartbeat-ms", &value("--heartbeat-ms")?)?)
                }
                "--replay-events" => {
                    s.replay_events = positive("--replay-events", &value("--replay-events")?)? as usize
                }
                "--client-queue" => s.client_queue = positive("--client-queue", &value("--client-queue")?)? as usize,
                "--order-rate" => s.limits.order_rate = positive("--order-rate", &value("--order-rate")?)? as u32,
                "--voice-token-rate" => {
                    s.limits.voice_token_rate = positive("--voice-token-rate", &value("--voice-token-rate")?)? as u32
                }
                "--max-active-orders" => {
                    s.limits.max_active_orders = positive("--max-active-orders", &value("--max-active-orders")?)?
                }
                "--max-connections" => {
                    s.limits.max_connections = positive("--max-connections", &value("--max-connections")?)? as usize
                }
                "--hello-ms" => {
                    s.limits.hello_timeout = Duration::from_millis(positive("--hello-ms", &value("--hello-ms")?)?)
                }
                "--retain-days" => {
                    let days = positive("--retain-days", &value("--retain-days")?)?;
                    s.limits.retain_finished = Duration::from_secs(days * DAY_SECS);
                }
                "--replay-bytes" => {
                    s.limits.replay_bytes = positive("--replay-bytes", &value("--replay-bytes")?)? as usize
                }
                "-h" | "--help" => return Err("help requested".into()),
                other => {
                    if !s.voice.apply_flag(other, &mut || args.next())? {
                        return Err(format!("unknown argument {other:?}"));
                    }
                }
            }
        }
        s.voice.faults.validate().map_err(|e| format!("voice faults: {e}"))?;
        if no_tls && (tls_cert.is_some() || tls_key.is_some()) {
            return Err("--no-tls cannot be combined with --tls-cert/--tls-key".into());
        }
        s.tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => TlsSetting::Files { cert, key },
            (Some(_), None) => return Err("--tls-cert needs --tls-key (the certificate's private key)".into()),
            (None, Some(_)) => return Err("--tls-key needs --tls-cert (the certificate chain)".into()),
            (None, None) if no_tls => TlsSetting::Off,
            (None, None) => TlsSetting::Auto,
        };
        if s.mode.is_demo() {
            // Demo mode is loopback-only plain HTTP.
            if let TlsSetting::Files { .. } = s.tls {
                return Err("--tls-cert/--tls-key are not used in demo mode".into());
            }
            s.tls = TlsSetting::Off;
        }
        s.port = port.unwrap_or(if s.tls.is_on() { 8443 } else { 8080 });
        if s.tls.is_on() && s.port == s.http_port && s.port != 0 {
            return Err(format!(
                "--port {} is the HTTPS port and --http-port {} the plain-HTTP one: they must differ",
                s.port, s.http_port
            ));
        }
        Ok(s)
    }
}

/// `--tax-rate`: a percentage of 0–50 with at most 3 decimals ("8.875") → thousandths of a
/// percent (8875).
pub fn tax_rate(v: &str) -> Result<u32, String> {
    let refused = || {
        format!(
            "--tax-rate: expected a percentage from 0 to {} with at most 3 decimals (e.g. 8.875), got {v:?}",
            MAX_TAX_RATE_MILLIPERCENT / 1000
        )
    };
    let (whole, fraction) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 3 || !digits(whole) || fraction.len() > 3 || !digits(fraction) {
        return Err(refused());
    }
    if v.contains('.') && fraction.is_empty() {
        return Err(refused());
    }
    let whole: u32 = whole.parse().map_err(|_| refused())?;
    let fraction: u32 = format!("{fraction:0<3}").parse().map_err(|_| refused())?;
    let rate = whole * 1000 + fraction;
    if rate > MAX_TAX_RATE_MILLIPERCENT {
        return Err(refused());
    }
    Ok(rate)
}

fn port_number(flag: &str, v: &str) -> Result<u16, String> {
    v.parse().map_err(|_| format!("{flag}: not a port number: {v:?}"))
}

/// A DNS name for a certificate: dot-separated labels of `a-z A-Z 0-9 -`, none empty or
/// starting/ending with `-`, at most 253 characters.
pub fn is_valid_hostname(name: &str) -> bool {
    (1..=253).contains(&name.len())
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Station names: 1–32 characters of `a-z 0-9 - _` (the same rule as the pages' `station`).
pub fn is_valid_station(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn non_empty_pin(flag: &str, pin: String) -> Result<String, String> {
    if pin.is_empty() { Err(format!("{flag}: the PIN must not be empty")) } else { Ok(pin) }
}

fn positive(flag: &str, v: &str) -> Result<u64, String> {
    match v.parse::<u64>() {
        Ok(n) if n > 0 && n <= u64::from(u32::MAX) => Ok(n),
        _ => Err(format!("{flag}: expected a positive whole number, got {v:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_flags() {
        let s = Settings::from_args(args(&["--port", "9000", "--dist", "/tmp/d", "--station", "grill"])).unwrap();
        assert_eq!((s.port, s.station.as_str()), (9000, "grill"));
        assert_eq!(s.dist, PathBuf::from("/tmp/d"));
    }

    #[test]
    fn rejects_bad_input_with_a_message() {
        assert!(Settings::from_args(args(&["--port", "x"])).unwrap_err().contains("--port"));
        assert!(Settings::from_args(args(&["--port"])).unwrap_err().contains("needs a value"));
        assert!(Settings::from_args(args(&["--bogus"])).unwrap_err().contains("--bogus"));
        assert!(Settings::from_args(args(&["--station-pin", "grill"])).unwrap_err().contains("STATION=PIN"));
        assert!(Settings::from_args(args(&["--station-pin", "Grill=1"])).unwrap_err().contains("station"));
        assert!(Settings::from_args(args(&["--pin", ""])).unwrap_err().contains("empty"));
        assert!(Settings::from_args(args(&["--https-url", "http://x"])).unwrap_err().contains("--https-url"));
        let s = Settings::from_args(args(&["--no-tls", "--https-url", "https://orders.example:8443/"])).unwrap();
        assert_eq!(s.https_url.as_deref(), Some("https://orders.example:8443"));
        assert!(Settings::from_args(args(&["--heartbeat-ms", "0"])).unwrap_err().contains("--heartbeat-ms"));
        let e = Settings::from_args(args(&["--voice-sdp-status", "503", "--voice-sdp-hang"])).unwrap_err();
        assert!(e.contains("sdp_status and sdp_hang"), "{e}");
        let s = Settings::from_args(args(&["--voice-token-status", "401", "--voice-sdp-hang"])).unwrap();
        assert_eq!((s.voice.faults.token_status, s.voice.faults.sdp_hang), (Some(401), true));
    }

    #[test]
    fn parses_store_security_and_feed_flags() {
        let s = Settings::from_args(args(&[
            "--data",
            "/tmp/x",
            "--memory",
            "--demo",
            "--allow-origin",
            "http://a",
            "--allow-origin",
            "http://b",
            "--pin",
            "9999",
            "--station-pin",
            "grill=4321",
            "--menu",
            "m.json",
            "--heartbeat-ms",
            "300",
            "--replay-events",
            "5",
            "--client-queue",
            "8",
        ]))
        .unwrap();
        assert_eq!(s.data, PathBuf::from("/tmp/x"));
        assert!(s.memory && s.mode.is_demo());
        assert_eq!(s.allow_origins, ["http://a", "http://b"]);
        assert_eq!(s.pin, Some(Secret("9999".into())));
        assert_eq!(s.station_pins, [("grill".to_string(), Secret("4321".into()))]);
        assert_eq!(s.menu, Some(PathBuf::from("m.json")));
        assert_eq!(s.heartbeat_timeout, Duration::from_millis(300));
        assert_eq!((s.replay_events, s.client_queue), (5, 8));
    }

    #[test]
    fn tls_is_on_by_default_on_the_command_line() {
        let s = Settings::from_args(args(&[])).unwrap();
        assert_eq!(s.tls, TlsSetting::Auto);
        assert_eq!((s.port, s.http_port), (8443, 8080));
        assert!(s.hostnames.is_empty());
        assert_eq!(Settings::default().tls, TlsSetting::Off, "embedders and tests opt in");
    }

    #[test]
    fn parses_tls_flags() {
        let s = Settings::from_args(args(&[
            "--tls-cert",
            "/etc/hub/chain.pem",
            "--tls-key",
            "/etc/hub/key.pem",
            "--port",
            "443",
            "--http-port",
            "80",
            "--hostname",
            "Hub.Example.Lan",
            "--hostname",
            "10.0.0.5",
        ]))
        .unwrap();
        assert_eq!(
            s.tls,
            TlsSetting::Files { cert: PathBuf::from("/etc/hub/chain.pem"), key: PathBuf::from("/etc/hub/key.pem") }
        );
        assert_eq!((s.port, s.http_port), (443, 80));
        assert_eq!(s.hostnames, ["hub.example.lan", "10.0.0.5"]);

        let s = Settings::from_args(args(&["--no-tls"])).unwrap();
        assert_eq!((s.tls, s.port), (TlsSetting::Off, 8080), "--port defaults to 8080 without TLS");
        let s = Settings::from_args(args(&["--no-tls", "--port", "9000"])).unwrap();
        assert_eq!(s.port, 9000);
    }

    #[test]
    fn demo_mode_serves_plain_http() {
        let s = Settings::from_args(args(&["--demo"])).unwrap();
        assert_eq!((s.tls, s.port), (TlsSetting::Off, 8080));
        let e = Settings::from_args(args(&["--demo", "--tls-cert", "c", "--tls-key", "k"])).unwrap_err();
        assert!(e.contains("demo"), "{e}");
    }

    #[test]
    fn rejects_inconsistent_tls_flags() {
        let e = Settings::from_args(args(&["--tls-cert", "c.pem"])).unwrap_err();
        assert!(e.contains("--tls-cert needs --tls-key"), "{e}");
        let e = Settings::from_args(args(&["--tls-key", "k.pem"])).unwrap_err();
        assert!(e.contains("--tls-key needs --tls-cert"), "{e}");
        let e = Settings::from_args(args(&["--no-tls", "--tls-cert", "c", "--tls-key", "k"])).unwrap_err();
        assert!(e.contains("--no-tls"), "{e}");
        let e = Settings::from_args(args(&["--port", "8080"])).unwrap_err();
        assert!(e.contains("must differ"), "{e}");
        assert!(Settings::from_args(args(&["--http-port", "x"])).unwrap_err().contains("--http-port"));
        assert!(Settings::from_args(args(&["--hostname"])).unwrap_err().contains("needs a value"));
        for bad in ["", "a b", "-hub", "hub-", "a..b", "hüb", "hub/x"] {
            let e = Settings::from_args(args(&["--hostname", bad])).unwrap_err();
            assert!(e.contains("--hostname"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn host_names_follow_dns_rules() {
        assert!(is_valid_hostname("hub") && is_valid_hostname("hub-1.local") && is_valid_hostname("x.example.com"));
        assert!(!is_valid_hostname("") && !is_valid_hostname(".hub") && !is_valid_hostname("hub."));
        assert!(!is_valid_hostname(&format!("{}.lan", "a".repeat(64))));
    }

    #[test]
    fn parses_limit_flags() {
        assert_eq!(Settings::from_args(args(&[])).unwrap().limits, Limits::default());
        let s = Settings::from_args(args(&[
            "--order-rate",
            "5",
            "--voice-token-rate",
            "3",
            "--max-active-orders",
            "7",
            "--max-connections",
            "3",
            "--hello-ms",
            "250",
            "--retain-days",
            "2",
            "--replay-bytes",
            "4096",
        ]))
        .unwrap();
        let expected = Limits {
            order_rate: 5,
            voice_token_rate: 3,
            max_active_orders: 7,
            max_connections: 3,
            hello_timeout: Duration::from_millis(250),
            retain_finished: Duration::from_secs(2 * 24 * 60 * 60),
            replay_bytes: 4096,
        };
        assert_eq!(s.limits, expected);
        assert!(Settings::from_args(args(&["--order-rate", "0"])).unwrap_err().contains("--order-rate"));
        assert!(Settings::from_args(args(&["--retain-days", "x"])).unwrap_err().contains("--retain-days"));
    }

    #[test]
    fn parses_the_tax_rate_in_thousandths_of_a_percent() {
        assert_eq!(Settings::from_args(args(&[])).unwrap().tax, TaxRule::default());
        let s = Settings::from_args(args(&["--tax-rate", "8.875"])).unwrap();
        assert_eq!(s.tax, TaxRule { rate_millipercent: 8875, inclusive: false });
        let s = Settings::from_args(args(&["--tax-inclusive", "--tax-rate", "20"])).unwrap();
        assert_eq!(s.tax, TaxRule { rate_millipercent: 20_000, inclusive: true });
        for (text, rate) in [("0", 0), ("7.25", 7250), ("0.001", 1), ("50", 50_000), ("50.000", 50_000), ("05.5", 5500)]
        {
            assert_eq!(tax_rate(text), Ok(rate), "{text}");
        }
        for bad in ["", "50.001", "51", "-1", "8.8755", "8,875", "8.", ".5", "1e1", " 8", "abc", "100000000000"] {
            let e = Settings::from_args(args(&["--tax-rate", bad])).unwrap_err();
            assert!(e.starts_with("--tax-rate: expected a percentage from 0 to 50"), "{bad:?}: {e}");
        }
        assert!(Settings::from_args(args(&["--tax-rate"])).unwrap_err().contains("needs a value"));
    }

    #[test]
    fn pins_never_show_in_debug_output() {
        let s = Settings::from_args(args(&["--pin", "8642", "--station-pin", "grill=9753"])).unwrap();
        let text = format!("{s:?}");
        assert!(!text.contains("8642") && !text.contains("9753"), "{text}");
    }

    #[test]
    fn station_names_follow_the_page_rule() {
        assert!(is_valid_station("grill") && is_valid_station("cold-bar_2"));
        assert!(!is_valid_station("") && !is_valid_station("Grill") && !is_valid_station("a b"));
        assert!(!is_valid_station(&"x".repeat(33)));
    }
}
