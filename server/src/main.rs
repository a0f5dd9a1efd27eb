use std::process::ExitCode;

use restaurant_hub::{Settings, run, shutdown_signal};

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
    let listener = match tokio::net::TcpListener::bind((settings.host.as_str(), settings.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("restaurant-hub: cannot listen on {}:{}: {e}", settings.host, settings.port);
            return ExitCode::FAILURE;
        }
    };
    match run(listener, settings, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("restaurant-hub: {e}");
            ExitCode::FAILURE
        }
    }
}
