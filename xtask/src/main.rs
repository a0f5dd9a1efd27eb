//! Project automation. `cargo xtask <command>`:
//!
//! - `setup`: find or install the wasm toolchain, wasm-bindgen, Trunk, wasm-opt, Chromium
//! - `serve [--port N] [--host H]`: build the release bundle and run the hub
//! - `test`: native tests, wasm tests in headless Chromium, then the end-to-end suite
//! - `bench [--sessions N]`: benchmarks; prints a table and writes docs/benchmarks.md

mod bench;
mod bundle;
mod hubctl;
mod proc;
mod test;
mod tools;

use std::process::{Command, ExitCode};

use tools::{Needs, setup};

const USAGE: &str = "usage: cargo xtask <setup | serve [--port N] [--host H] | test [--native | --browser | --e2e] | bench [--sessions N]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(Needs::ALL).map(|_| println!("xtask: setup complete")),
        Some("serve") => serve(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(format!("unknown command\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &[String]) -> proc::Result<()> {
    let mut port = "8080".to_string();
    let mut host = "127.0.0.1".to_string();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--port" => port = it.next().ok_or("--port needs a value")?.clone(),
            "--host" => host = it.next().ok_or("--host needs a value")?.clone(),
            other => return Err(format!("serve: unknown argument {other:?}\n{USAGE}")),
        }
    }
    port.parse::<u16>().map_err(|_| format!("--port: not a port number: {port:?}"))?;
    let tools = setup(Needs { browser_tests: false, bundle: true })?;
    let dist = bundle::build(&tools)?;
    let hub = bundle::build_hub(&tools)?;
    println!();
    println!("  Kiosk:           http://{host}:{port}/kiosk");
    println!("  Kitchen display: http://{host}:{port}/kds");
    println!("  KDS sign-in PIN: 1234 (hub flag --pin)");
    println!("  (Ctrl-C stops the hub)");
    println!();
    let mut cmd = Command::new(hub);
    // Dev mode: demo utterances and fault knobs for the voice peer, CORS open for local tools.
    cmd.args(["--host", &host, "--port", &port, "--demo", "--data"])
        .arg(tools.root.join(".data"))
        .arg("--dist")
        .arg(dist);
    proc::run(&mut cmd)
}
