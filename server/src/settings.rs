use std::path::PathBuf;

/// Command-line settings of the hub.
#[derive(Debug, Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    /// The built bundle (Trunk's `dist/`).
    pub dist: PathBuf,
    /// Station a KDS opens by default (`config.json`'s `station`).
    pub station: String,
    /// Explicit URLs for `config.json`; unset keys fall back to the page's own origin.
    pub realtime_url: Option<String>,
    pub token_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            host: "127.0.0.1".into(),
            port: 8080,
            dist: PathBuf::from("dist"),
            station: "kitchen".into(),
            realtime_url: None,
            token_url: None,
        }
    }
}

impl Settings {
    pub const USAGE: &'static str = "usage: restaurant-hub [--host H] [--port N] [--dist DIR] [--station NAME] \
[--realtime-url URL] [--token-url URL]";

    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Settings, String> {
        let mut s = Settings::default();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
            match flag.as_str() {
                "--host" => s.host = value("--host")?,
                "--port" => {
                    let v = value("--port")?;
                    s.port = v.parse().map_err(|_| format!("--port: not a port number: {v:?}"))?;
                }
                "--dist" => s.dist = PathBuf::from(value("--dist")?),
                "--station" => s.station = value("--station")?,
                "--realtime-url" => s.realtime_url = Some(value("--realtime-url")?),
                "--token-url" => s.token_url = Some(value("--token-url")?),
                "-h" | "--help" => return Err("help requested".into()),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(s)
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
    }
}
