//! Project automation. `cargo xtask <command>`:
//!
//! - `setup`: find or install the wasm toolchain, wasm-bindgen, Trunk, wasm-opt, Chromium
//! - `serve [--port N] [--host H]`: build the release bundle and run the hub in demo mode
//! - `serve --lan [--port N] [--http-port N]`: the production hub for the restaurant's network
//! - `set-pin STATION...`: set PINs for the production hub (`manager` pairs kiosks)
//! - `test`: native tests, wasm tests in headless Chromium, then the end-to-end suite
//! - `bench [--sessions N]`: benchmarks; prints a table and writes docs/benchmarks.md
//! - `speech-set [--out DIR] [--orders FILE] [--force]`: speaks the test orders for the offline recognizer

mod bench;
mod bundle;
mod hubctl;
mod proc;
mod speech_set;
mod test;
mod tools;

use std::process::{Command, ExitCode};

use tools::{Needs, setup};

const USAGE: &str = "usage: cargo xtask <setup | serve [--port N] [--host H] | serve --lan [--port N] [--http-port N] \
| set-pin STATION... | test [--native | --browser | --e2e] | bench [--sessions N] \
| speech-set [--out DIR] [--orders FILE] [--force]>";

/// The production hub's data folder (orders, PINs, paired devices, certificates), next to the demo's.
const LAN_DATA: &str = ".data-lan";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(Needs::ALL).map(|_| println!("xtask: setup complete")),
        Some("serve") if args.iter().any(|a| a == "--lan") => serve_lan(&args[1..]),
        Some("serve") => serve(&args[1..]),
        Some("set-pin") => set_pin(&args[1..]),
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("speech-set") => speech_set::run(&args[1..]),
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
    // A sales tax like New York City's, so the pages show how tax is added.
    cmd.args(["--host", &host, "--port", &port, "--demo", "--tax-rate", "8.875", "--data"])
        .arg(tools.root.join(".data"))
        .arg("--dist")
        .arg(dist);
    proc::run(&mut cmd)
}

/// `serve --lan`: the production hub on every interface — HTTPS with the hub's own CA on
/// `--port` (8443), the CA and setup page on plain `--http-port` (8080), PINs required.
fn serve_lan(args: &[String]) -> proc::Result<()> {
    let mut port = "8443".to_string();
    let mut http_port = "8080".to_string();
    let mut it = args.iter().filter(|a| *a != "--lan");
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--port" => port = it.next().ok_or("--port needs a value")?.clone(),
            "--http-port" => http_port = it.next().ok_or("--http-port needs a value")?.clone(),
            other => return Err(format!("serve --lan: unknown argument {other:?}\n{USAGE}")),
        }
    }
    for (flag, value) in [("--port", &port), ("--http-port", &http_port)] {
        value.parse::<u16>().map_err(|_| format!("{flag}: not a port number: {value:?}"))?;
    }
    let tools = setup(Needs { browser_tests: false, bundle: true })?;
    let data = tools.root.join(LAN_DATA);
    if !data.join("pins.json").is_file() {
        return Err("no PINs are set for the production hub yet. Set the manager's PIN (it pairs kiosks) and one per \
             kitchen station:\n\n    cargo xtask set-pin manager kitchen\n\nthen run `cargo xtask serve --lan` again \
             (see docs/deployment.md)"
            .into());
    }
    let dist = bundle::build(&tools)?;
    let hub = bundle::build_hub(&tools)?;
    println!();
    println!("  Production hub (data in {}):", data.display());
    println!("  Tablets first open http://<this machine's address>:{http_port}/setup to trust the hub's certificate,");
    println!(
        "  then the kiosk at https://<address>:{port}/kiosk and the kitchen display at https://<address>:{port}/kds."
    );
    println!("  (Ctrl-C stops the hub)");
    println!();
    let mut cmd = Command::new(hub);
    cmd.args(["--host", "0.0.0.0", "--port", &port, "--http-port", &http_port, "--data"])
        .arg(&data)
        .arg("--dist")
        .arg(dist);
    proc::run(&mut cmd)
}

/// `set-pin STATION...`: the production hub's `set-pin` on its data folder (prompts for each PIN).
fn set_pin(args: &[String]) -> proc::Result<()> {
    if args.is_empty() {
        return Err(format!("set-pin: name the stations, e.g. `cargo xtask set-pin manager kitchen`\n{USAGE}"));
    }
    let tools = setup(Needs { browser_tests: false, bundle: false })?;
    let hub = bundle::build_hub(&tools)?;
    let mut cmd = Command::new(hub);
    cmd.arg("set-pin").arg("--data").arg(tools.root.join(LAN_DATA)).args(args);
    proc::run(&mut cmd)
}
