use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use restaurant_hub::pins::{EVERY_STATION, MIN_PIN_CHARS, PinBook, check_pin};
use restaurant_hub::{Listeners, Settings, TlsSetting, run, shutdown_signal};

const SET_PIN_USAGE: &str = "usage: restaurant-hub set-pin [--data DIR] [--every-station] STATION...
  Sets the PIN of each STATION (`manager` pairs kiosks; kitchen stations sign in their screens),
  stored as an argon2id hash in DIR/pins.json (default .data). PINs are read from the terminal
  without echo (twice), or one per line from a pipe. A running hub picks the change up within
  seconds and signs that station's screens out. --every-station sets one PIN for every station
  without its own (and the manager, unless it has its own).";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        // Colour codes only on a terminal: a log file or journal gets plain text.
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "restaurant_hub=info,warn".into()),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("set-pin") {
        return match set_pin(&args[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("restaurant-hub set-pin: {message}\n\n{SET_PIN_USAGE}");
                ExitCode::from(2)
            }
        };
    }
    let settings = match Settings::from_args(args) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("restaurant-hub: {message}\n\n{}", Settings::USAGE);
            return ExitCode::from(2);
        }
    };
    if settings.tls == TlsSetting::Off && !settings.mode.is_demo() {
        tracing::warn!(
            "TLS is off (--no-tls): serve the hub behind a TLS-terminating proxy; \
             tablets need HTTPS for voice ordering and staff calls"
        );
    }
    // One TLS provider for the process (the hub's own configs name it explicitly too).
    if rustls::crypto::ring::default_provider().install_default().is_err() {
        tracing::debug!("a TLS crypto provider was already installed");
    }
    let listeners = match Listeners::bind(&settings).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("restaurant-hub: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(listeners, settings, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("restaurant-hub: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `restaurant-hub set-pin`: asks for each station's PIN and stores its hash.
fn set_pin(args: &[String]) -> Result<(), String> {
    let mut data = PathBuf::from(".data");
    let mut stations = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--data" => data = PathBuf::from(it.next().ok_or("--data needs a value")?),
            "--every-station" => stations.push(EVERY_STATION.to_string()),
            "-h" | "--help" => return Err("help requested".into()),
            flag if flag.starts_with('-') => return Err(format!("unknown argument {flag:?}")),
            station => stations.push(station.to_string()),
        }
    }
    if stations.is_empty() {
        return Err("name at least one station (e.g. manager kitchen)".into());
    }
    let terminal = std::io::stdin().is_terminal();
    let mut lines = std::io::stdin().lock().lines();
    for station in &stations {
        let label = if station == EVERY_STATION { "every station".to_string() } else { station.clone() };
        let pin = if terminal {
            let pin = rpassword::prompt_password(format!("PIN for {label} (at least {MIN_PIN_CHARS} characters): "))
                .map_err(|e| format!("cannot read the PIN: {e}"))?;
            check_pin(&pin).map_err(|e| e.to_string())?;
            let again = rpassword::prompt_password(format!("PIN for {label} again: "))
                .map_err(|e| format!("cannot read the PIN: {e}"))?;
            if again != pin {
                return Err(format!("the two PINs for {label} differ; nothing was changed for it"));
            }
            pin
        } else {
            lines
                .next()
                .ok_or_else(|| format!("no PIN for {label} on standard input (one line per station)"))?
                .map_err(|e| format!("cannot read the PIN: {e}"))?
                .trim_end_matches('\r')
                .to_string()
        };
        PinBook::set_in_folder(&data, station, &pin).map_err(|e| e.to_string())?;
        println!("PIN set for {label} in {}", data.join(restaurant_hub::pins::FILE_NAME).display());
    }
    Ok(())
}
