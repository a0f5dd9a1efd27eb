//! `cargo xtask test`: every stage runs, each prints a summary line, any failure fails the command.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::bundle;
use crate::hubctl::TestHub;
use crate::proc::{self, Counts, Result};
use crate::tools::{self, Needs, Tools, host_cargo};

struct Stage {
    name: &'static str,
    ok: bool,
    counts: Counts,
    seconds: f64,
    note: Option<String>,
}

pub fn run(args: &[String]) -> Result<()> {
    // `--native` / `--browser` pick one stage; anything after it is passed to that stage's
    // `cargo test` (e.g. `cargo xtask test --browser --test voice_channel_race`).
    let (native, browser, e2e, extra) = match args.first().map(String::as_str) {
        None => (true, true, true, &args[0..0]),
        Some("--native") => (true, false, false, &args[1..]),
        Some("--browser") => (false, true, false, &args[1..]),
        Some("--e2e") => (false, false, true, &args[1..]),
        Some(other) => {
            return Err(format!("test: unknown argument {other:?} (expected --native, --browser or --e2e)"));
        }
    };
    let started = Instant::now();
    // Setup first, so a missing prerequisite fails fast, before any long build.
    let tools = tools::setup(Needs { browser_tests: browser || e2e, bundle: e2e })?;
    // Formatting and lints next: seconds to fail, against many minutes of tests.
    if extra.is_empty() {
        lint(&tools)?;
    }
    let mut stages = Vec::new();
    if native {
        stages.push(stage("native", || native_tests(&tools, extra)));
    }
    if browser {
        stages.push(stage("browser", || browser_tests(&tools, extra)));
    }
    if e2e {
        stages.push(stage("e2e", || e2e_tests(&tools, extra)));
    }

    println!();
    let mut total = Counts::default();
    for s in &stages {
        total.add(s.counts);
        println!(
            "xtask: {} tests: {} ({} passed, {} failed, {} ignored, {:.0} s){}",
            s.name,
            if s.ok { "ok" } else { "FAILED" },
            s.counts.passed,
            s.counts.failed,
            s.counts.ignored,
            s.seconds,
            s.note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default()
        );
    }
    println!("xtask: total {:.0} s", started.elapsed().as_secs_f64());
    println!("{} passed, {} failed", total.passed, total.failed);
    let failed: Vec<&str> = stages.iter().filter(|s| !s.ok).map(|s| s.name).collect();
    if failed.is_empty() { Ok(()) } else { Err(format!("failed stages: {}", failed.join(", "))) }
}

fn stage(name: &'static str, f: impl FnOnce() -> Result<(bool, Counts)>) -> Stage {
    println!("\nxtask: ===== {name} tests =====");
    let t = Instant::now();
    let (ok, counts, note) = match f() {
        Ok((ok, counts)) => (ok && counts.failed == 0 && counts.passed > 0, counts, None),
        Err(e) => {
            eprintln!("xtask: {name} tests could not run: {e}");
            (false, Counts::default(), Some(e))
        }
    };
    let note = note.or_else(|| (counts.passed == 0).then(|| "no test ran".to_string()));
    Stage { name, ok, counts, seconds: t.elapsed().as_secs_f64(), note }
}

/// `cargo fmt --check`, then clippy with warnings denied: the whole workspace natively, and the
/// frontend (library, page binaries, browser tests and the `bench` feature's benchmarks) for
/// wasm32 as it is built for the browser.
fn lint(tools: &Tools) -> Result<()> {
    println!("\nxtask: ===== fmt + clippy =====");
    let t = Instant::now();
    tools::ensure_rustup_components(&["rustfmt", "clippy"])?;
    let mut fmt = Command::new(host_cargo());
    fmt.current_dir(&tools.root).args(["fmt", "--all", "--check"]);
    proc::run(&mut fmt).map_err(|e| format!("formatting differs from rustfmt.toml (run `cargo fmt --all`): {e}"))?;
    let mut native = Command::new(host_cargo());
    native.current_dir(&tools.root).args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    proc::run(&mut native).map_err(|e| format!("clippy (native): {e}"))?;
    match tools.wasm_has_clippy() {
        true => {
            let mut wasm = tools.wasm_cargo();
            wasm.args(["clippy", "--package", "restaurant-web", "--target", "wasm32-unknown-unknown"])
                .args(["--lib", "--bins", "--test", "*", "--features", "bench"])
                .args(["--", "-D", "warnings"]);
            proc::run(&mut wasm).map_err(|e| format!("clippy (wasm32): {e}"))?;
        }
        false => println!("xtask: clippy (wasm32) skipped: the wasm toolchain in use has no clippy"),
    }
    println!("xtask: fmt + clippy: ok ({:.0} s)", t.elapsed().as_secs_f64());
    Ok(())
}

fn native_tests(tools: &Tools, extra: &[String]) -> Result<(bool, Counts)> {
    let mut cmd = Command::new(host_cargo());
    // The end-to-end suite needs a browser and a served bundle: it is its own stage.
    cmd.current_dir(&tools.root)
        .args(["test", "--no-fail-fast", "--workspace", "--exclude", "restaurant-e2e"])
        .args(extra);
    proc::run_tests(&mut cmd)
}

fn browser_tests(tools: &Tools, extra: &[String]) -> Result<(bool, Counts)> {
    let work = tools.root.join("target/xtask");
    // A real hub for the tests that talk to one (URLs passed at compile time).
    let hub_binary = build_test_hub(tools)?;
    let hub = TestHub::start(&hub_binary, &work.join("hub-data"), &["--demo"])?;
    let mut cmd = wasm_test_command(tools, &work, &hub)?;
    if extra.is_empty() {
        cmd.args(["--test", "*"]);
    } else {
        cmd.args(extra);
    }
    let result = proc::run_tests(&mut cmd);
    drop(hub);
    let _ = std::fs::remove_dir_all(work.join("tmp"));
    result
}

/// `cargo test --target wasm32-unknown-unknown -p restaurant-web` set up to run in headless
/// Chromium against `hub` (add the test selection and any `-- …` arguments).
pub fn wasm_test_command(tools: &Tools, work: &Path, hub: &TestHub) -> Result<Command> {
    let webdriver = write_webdriver_json(tools, work)?;
    // Chromium leaves profile folders in TMPDIR: give each run its own, emptied first.
    let tmp = work.join("tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let bindgen_dir = Tools::require(&tools.wasm_bindgen_dir, "wasm-bindgen")?;
    let driver = Tools::require(&tools.chromedriver, "chromedriver")?;
    let mut cmd = tools.wasm_cargo();
    cmd.args(["test", "--no-fail-fast", "--package", "restaurant-web", "--target", "wasm32-unknown-unknown"])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", bindgen_dir.join("wasm-bindgen-test-runner"))
        .env("CHROMEDRIVER", driver)
        .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "900")
        .env("TMPDIR", &tmp)
        .env("HUB_URL", hub.url())
        .env("HUB_CONTROL_URL", hub.control_url());
    Ok(cmd)
}

/// The release bundle served by the real hub, driven by chromedriver.
fn e2e_tests(tools: &Tools, extra: &[String]) -> Result<(bool, Counts)> {
    // The spoken orders the real-audio tests play as the microphone.
    crate::speech_set::run(&[])?;
    let dist = bundle::build(tools)?;
    let hub_binary = build_test_hub(tools)?;
    let work = tools.root.join("target/xtask");
    let hub = TestHub::start(&hub_binary, &work.join("e2e-hub-data"), &["--demo", "--dist", &dist.to_string_lossy()])?;
    let tmp = work.join("e2e-tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let driver = ChromeDriver::start(Tools::require(&tools.chromedriver, "chromedriver")?, &tmp)?;
    let chrome = Tools::require(&tools.chrome, "chromium")?;
    let mut cmd = Command::new(host_cargo());
    cmd.current_dir(&tools.root)
        .args(["test", "--no-fail-fast", "--package", "restaurant-e2e"])
        .args(extra)
        .args(["--", "--test-threads=1", "--nocapture"])
        .env("E2E_HUB_URL", hub.url())
        .env("E2E_HUB_CONTROL_URL", hub.control_url())
        .env("E2E_WEBDRIVER_URL", driver.url())
        .env("E2E_CHROME", chrome)
        .env("E2E_HUB_BINARY", &hub_binary)
        .env("E2E_DIST", &dist)
        .env("E2E_AXE_JS", Tools::require(&tools.axe, "axe-core")?)
        .env("E2E_SPEECH_SET", tools.root.join("target/speech-set"))
        .env("TMPDIR", &tmp);
    let result = proc::run_tests(&mut cmd);
    drop(driver);
    drop(hub);
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// A chromedriver on a free local port, killed on drop.
pub struct ChromeDriver {
    child: std::process::Child,
    port: u16,
}

impl ChromeDriver {
    pub fn start(binary: &std::path::Path, tmp: &std::path::Path) -> Result<ChromeDriver> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port for chromedriver: {e}"))?
            .port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .env("TMPDIR", tmp)
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let driver = ChromeDriver { child, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > deadline {
                return Err("chromedriver did not start within 20 s".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(driver)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hub binary the browser tests run against (debug build: shares the native test build).
pub fn build_test_hub(tools: &Tools) -> Result<PathBuf> {
    let mut cmd = Command::new(host_cargo());
    cmd.current_dir(&tools.root).args(["build", "--package", "restaurant-hub", "--bin", "restaurant-hub"]);
    proc::run(&mut cmd)?;
    Ok(tools.root.join("target/debug/restaurant-hub"))
}

/// The committed `webdriver.json` plus the Chromium binary found on this machine.
fn write_webdriver_json(tools: &Tools, work: &Path) -> Result<PathBuf> {
    let source = tools.root.join("webdriver.json");
    let text = std::fs::read_to_string(&source).map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    let mut json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", source.display()))?;
    let chrome = Tools::require(&tools.chrome, "chromium")?;
    let options = json
        .get_mut("goog:chromeOptions")
        .and_then(|o| o.as_object_mut())
        .ok_or("webdriver.json has no goog:chromeOptions object")?;
    options.insert("binary".into(), serde_json::Value::String(chrome.to_string_lossy().into_owned()));
    std::fs::create_dir_all(work).map_err(|e| e.to_string())?;
    let out = work.join("webdriver.json");
    std::fs::write(&out, serde_json::to_string_pretty(&json).expect("serializable"))
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(out)
}
