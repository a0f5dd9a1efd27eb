use std::process::ExitCode;

use restaurant_hub::{Listeners, Settings, TlsSetting, run, shutdown_signal};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        // Colour codes only on a terminal: a log file or journal gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "restaurant_hub=info,warn".into()),
        )
        .init();
    let settings = match Settings::from_args(std::env::args().skip(1)) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("restaurant-hub: {message}\n\n{}", Settings::USAGE);
            return ExitCode::from(2);
        }
    };
    if settings.tls == TlsSetting::Off && !settings.dev {
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
