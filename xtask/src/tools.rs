//! `cargo xtask setup`: finds, or installs, everything the wasm build and the browser tests need.
//!
//! Idempotent: each tool is looked for first (project tools folder, then PATH), and installed only
//! when missing. Built tools go to the user's cache (see [`tools_dir`]); system packages come from
//! apt-get, when it is available and we are root. Whatever cannot be found or installed ends the
//! run with one error that names it.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::proc::{self, Result, output_line};

/// Trunk release installed when none is found.
const TRUNK_VERSION: &str = "0.22.1";
/// binaryen (wasm-opt) release installed from npm when no usable wasm-opt is found.
const BINARYEN_NPM_VERSION: &str = "132.0.0";
/// axe-core (the accessibility audit the end-to-end tests run on the kiosk), from npm.
const AXE_CORE_NPM_VERSION: &str = "4.10.2";
/// Debian's binaryen 108 produces bundles that fail at load; anything this old is refused.
const MIN_WASM_OPT: u32 = 116;
const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// What a command needs; `setup` asks for everything.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    pub browser_tests: bool,
    pub bundle: bool,
}

impl Needs {
    pub const ALL: Needs = Needs { browser_tests: true, bundle: true };
}

/// How to compile for wasm32 on this machine.
#[derive(Debug, Clone)]
pub enum WasmToolchain {
    /// rustup's toolchain has the wasm32 std installed.
    Rustup,
    /// Debian's `rustc-web` (same version as its `rust-web-src`), building std with `-Zbuild-std`.
    DebianBuildStd { cargo: PathBuf, rustc: PathBuf, linker: String },
}

#[derive(Debug, Clone)]
pub struct Tools {
    pub root: PathBuf,
    pub wasm: Option<WasmToolchain>,
    /// Directory holding `wasm-bindgen` and `wasm-bindgen-test-runner`.
    pub wasm_bindgen_dir: Option<PathBuf>,
    pub trunk: Option<PathBuf>,
    /// Directory holding `wasm-opt`, and its version number.
    pub wasm_opt: Option<(PathBuf, u32)>,
    pub chrome: Option<PathBuf>,
    pub chromedriver: Option<PathBuf>,
    /// `axe.min.js` of axe-core.
    pub axe: Option<PathBuf>,
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// Where the built tools live: `RESTAURANT_TOOLS_DIR`, else the user's cache
/// (`$XDG_CACHE_HOME` or `~/.cache`, under `restaurant-os/tools`) — shared by every checkout on the
/// machine, so a fresh clone does not build Trunk and wasm-bindgen again — else `.tools/`.
fn tools_dir(root: &Path) -> PathBuf {
    if let Some(dir) = env::var_os("RESTAURANT_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let cache = env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
    match cache {
        Some(cache) => cache.join("restaurant-os/tools"),
        None => root.join(".tools"),
    }
}

/// The cargo that runs xtask (rustup's, normally).
pub fn host_cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn which(program: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file())
}

fn is_root() -> bool {
    output_line("id", &["-u"]).is_some_and(|u| u == "0")
}

/// `apt-get install` of system packages; Ok(false) when apt is not usable here.
fn apt_install(packages: &[&str]) -> Result<bool> {
    if which("apt-get").is_none() || !is_root() {
        return Ok(false);
    }
    println!("xtask: installing {} with apt-get", packages.join(", "));
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]).env("DEBIAN_FRONTEND", "noninteractive");
    proc::run(&mut update)?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "-qq"]).args(packages).env("DEBIAN_FRONTEND", "noninteractive");
    proc::run(&mut install)?;
    Ok(true)
}

/// Version of `wasm-bindgen` pinned in Cargo.lock.
pub fn locked_wasm_bindgen_version(root: &Path) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock ({e}); run `cargo generate-lockfile`"))?;
    parse_locked_version(&lock, "wasm-bindgen").ok_or_else(|| "Cargo.lock has no wasm-bindgen package".into())
}

fn parse_locked_version(lock: &str, name: &str) -> Option<String> {
    let needle = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == needle {
            let version = lines.next()?.trim().strip_prefix("version = \"")?.strip_suffix('"')?;
            return Some(version.to_string());
        }
    }
    None
}

/// `rustc 1.96.0 (…)` → (1, 96, 0)
fn rustc_version(rustc: &str) -> Option<(u32, u32, u32)> {
    let line = output_line(rustc, &["--version"])?;
    let v = line.split_whitespace().nth(1)?;
    let mut it = v.split(['.', '-']).map(|p| p.parse::<u32>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

impl Tools {
    /// PATH with the project's tools first (and Debian's compiler when that is the wasm toolchain).
    pub fn path_env(&self) -> std::ffi::OsString {
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(d) = &self.wasm_bindgen_dir {
            dirs.push(d.clone());
        }
        if let Some(t) = &self.trunk.as_ref().and_then(|t| t.parent().map(Path::to_path_buf)) {
            dirs.push(t.clone());
        }
        if let Some((d, _)) = &self.wasm_opt {
            dirs.push(d.clone());
        }
        if let Some(WasmToolchain::DebianBuildStd { cargo, .. }) = &self.wasm {
            // Trunk runs `cargo` from PATH: it must find Debian's.
            dirs.push(cargo.parent().unwrap_or(Path::new("/usr/bin")).to_path_buf());
        }
        dirs.extend(env::split_paths(&env::var_os("PATH").unwrap_or_default()));
        env::join_paths(dirs).expect("PATH entries are valid")
    }

    /// Applies the wasm toolchain's environment to a command that builds for wasm32.
    pub fn apply_wasm_env(&self, cmd: &mut Command) {
        cmd.env("PATH", self.path_env());
        if let Some(WasmToolchain::DebianBuildStd { rustc, linker, .. }) = &self.wasm {
            cmd.env("RUSTC", rustc)
                .env("RUSTDOC", rustc.with_file_name("rustdoc"))
                .env("RUSTC_BOOTSTRAP", "1")
                .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", linker)
                .env_remove("RUSTUP_TOOLCHAIN")
                .env_remove("CARGO");
        }
        if let Some((_, version)) = &self.wasm_opt {
            cmd.env("TRUNK_TOOLS_WASM_OPT", format!("version_{version}"));
        }
    }

    /// A `cargo` command that builds for wasm32 with the detected toolchain.
    pub fn wasm_cargo(&self) -> Command {
        let program = match &self.wasm {
            Some(WasmToolchain::DebianBuildStd { cargo, .. }) => cargo.to_string_lossy().into_owned(),
            _ => host_cargo(),
        };
        let mut cmd = Command::new(program);
        self.apply_wasm_env(&mut cmd);
        cmd.current_dir(&self.root);
        cmd
    }

    /// Whether clippy can check the wasm target: rustup's toolchain (with its clippy component)
    /// has the wasm32 std; Debian's `rustc-web` ships no clippy.
    pub fn wasm_has_clippy(&self) -> bool {
        matches!(self.wasm, Some(WasmToolchain::Rustup))
            && proc::output_line(&host_cargo(), &["clippy", "--version"]).is_some()
    }

    pub fn require<'a, T>(what: &'a Option<T>, name: &str) -> Result<&'a T> {
        what.as_ref().ok_or_else(|| format!("{name} is not set up (run `cargo xtask setup`)"))
    }
}

/// Makes sure rustup's toolchain has `components` (e.g. rustfmt, clippy), adding the missing ones.
pub fn ensure_rustup_components(components: &[&str]) -> Result<()> {
    let missing: Vec<&str> = components
        .iter()
        .copied()
        .filter(|c| {
            let probe = if *c == "rustfmt" { "fmt" } else { c };
            output_line(&host_cargo(), &[probe, "--version"]).is_none()
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut add = Command::new("rustup");
    add.args(["component", "add"]).args(&missing);
    if proc::run_with_timeout(&mut add, Duration::from_secs(120))? {
        println!("xtask: rustup components added: {}", missing.join(", "));
        Ok(())
    } else {
        Err(format!("rustup could not add {} (needed by the lint stage)", missing.join(", ")))
    }
}

/// Finds or installs what `needs` asks for, printing one line per tool.
pub fn setup(needs: Needs) -> Result<Tools> {
    let root = workspace_root();
    let dir = tools_dir(&root);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut tools = Tools {
        root: root.clone(),
        wasm: None,
        wasm_bindgen_dir: None,
        trunk: None,
        wasm_opt: None,
        chrome: None,
        chromedriver: None,
        axe: None,
    };
    println!("xtask: setup (tools folder {})", dir.display());
    speech()?;
    if !needs.browser_tests && !needs.bundle {
        return Ok(tools);
    }
    tools.wasm = Some(wasm_toolchain(&dir)?);
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS"] {
        if env::var_os(var).is_some() {
            println!(
                "xtask: warning: {var} is set: it replaces .cargo/config.toml's wasm32 rustflags \
                 (--cfg erase_components), so the pages build larger than they ship"
            );
        }
    }
    tools.wasm_bindgen_dir = Some(wasm_bindgen(&root, &dir)?);
    if needs.bundle {
        tools.trunk = Some(trunk(&dir)?);
        tools.wasm_opt = Some(wasm_opt(&dir)?);
    }
    if needs.browser_tests {
        let (chrome, driver) = chromium()?;
        tools.chrome = Some(chrome);
        tools.chromedriver = Some(driver);
        tools.axe = Some(axe_core(&dir)?);
    }
    Ok(tools)
}

/// Debian packages of the hub's offline voice: the recognizer and its US English model, the
/// synthesizer, libopus, and sox (which makes the spoken test set).
const SPEECH_PACKAGES: [&str; 6] =
    ["pocketsphinx", "pocketsphinx-en-us", "espeak-ng", "libopus0", "sox", "libsox-fmt-all"];
/// What the hub opens at run time (see `server/src/voice/speech/sys.rs`).
const SPEECH_LIBRARIES: [&str; 3] = ["libpocketsphinx.so.3", "libsphinxbase.so.3", "libopus.so.0"];
const SPEECH_MODEL: &str = "/usr/share/pocketsphinx/model/en-us/en-us/mdef";

/// Finds, or installs, the offline voice's system packages.
fn speech() -> Result<()> {
    let missing = || -> Vec<String> {
        let libraries =
            output_of("ldconfig", &["-p"]).or_else(|| output_of("/sbin/ldconfig", &["-p"])).unwrap_or_default();
        let mut missing: Vec<String> =
            SPEECH_LIBRARIES.iter().filter(|l| !libraries.contains(*l)).map(|l| l.to_string()).collect();
        missing.extend(["espeak-ng", "sox"].iter().filter(|p| which(p).is_none()).map(|p| p.to_string()));
        if !Path::new(SPEECH_MODEL).is_file() {
            missing.push(SPEECH_MODEL.to_string());
        }
        missing
    };
    if missing().is_empty() {
        println!("xtask: speech: pocketsphinx, en-us model, espeak-ng, libopus, sox (installed)");
        return Ok(());
    }
    if !apt_install(&SPEECH_PACKAGES)? || !missing().is_empty() {
        return Err(format!(
            "the offline voice needs {} (missing: {}); install them with `apt-get install {}`",
            SPEECH_PACKAGES.join(", "),
            missing().join(", "),
            SPEECH_PACKAGES.join(" ")
        ));
    }
    Ok(())
}

fn wasm_toolchain(dir: &Path) -> Result<WasmToolchain> {
    let forced = env::var("RESTAURANT_WASM_TOOLCHAIN").ok();
    if forced.as_deref() != Some("debian") && which("rustup").is_some() {
        let installed = output_of("rustup", &["target", "list", "--installed"]).unwrap_or_default();
        if installed.lines().any(|l| l.trim() == WASM_TARGET) {
            println!("xtask: wasm32 std: rustup target {WASM_TARGET} (installed)");
            return Ok(WasmToolchain::Rustup);
        }
        // Try once per tools folder: where the download hangs, don't pay the timeout every run.
        let marker = dir.join("rustup-target-add.failed");
        if !marker.exists() {
            let mut add = Command::new("rustup");
            add.args(["target", "add", WASM_TARGET]);
            if proc::run_with_timeout(&mut add, Duration::from_secs(45))? {
                println!("xtask: wasm32 std: rustup target {WASM_TARGET} (just added)");
                return Ok(WasmToolchain::Rustup);
            }
            let _ = std::fs::write(&marker, "rustup target add failed or timed out; using Debian's rustc-web\n");
        } else {
            println!("xtask: rustup target add failed here before; not retrying ({})", marker.display());
        }
    }
    if forced.as_deref() == Some("rustup") {
        return Err(format!("RESTAURANT_WASM_TOOLCHAIN=rustup but the {WASM_TARGET} target is not installed"));
    }

    // Debian: rustc-web + rust-web-src, std built for wasm32 by cargo (-Zbuild-std).
    let (cargo, rustc) = (PathBuf::from("/usr/bin/cargo"), PathBuf::from("/usr/bin/rustc"));
    let std_src = Path::new("/usr/lib/rustlib/src/rust/library/std");
    let debian_ready = || {
        cargo.is_file() && std_src.is_dir() && rustc_version(&rustc.to_string_lossy()).is_some_and(|v| v >= (1, 88, 0))
    };
    if !debian_ready() && !apt_install(&["rustc-web", "cargo-web", "rust-web-src"])? {
        return Err(format!(
            "no wasm32 std: install it with `rustup target add {WASM_TARGET}`, or (Debian) \
             `apt-get install rustc-web cargo-web rust-web-src lld-16`"
        ));
    }
    if !debian_ready() {
        return Err("Debian rustc-web / rust-web-src are installed but not usable (need rustc >= 1.88 \
                    and /usr/lib/rustlib/src/rust)"
            .into());
    }
    let linker = match ["wasm-ld-16", "wasm-ld"].into_iter().find(|l| which(l).is_some()) {
        Some(l) => l.to_string(),
        None => {
            apt_install(&["lld-16"])?;
            if which("wasm-ld-16").is_none() {
                return Err("no wasm linker: install lld-16 (wasm-ld-16) or lld (wasm-ld)".into());
            }
            "wasm-ld-16".into()
        }
    };
    let version = output_line(&rustc.to_string_lossy(), &["--version"]).unwrap_or_default();
    println!("xtask: wasm32 std: Debian {version} with -Zbuild-std, linker {linker}");
    Ok(WasmToolchain::DebianBuildStd { cargo, rustc, linker })
}

fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn wasm_bindgen(root: &Path, dir: &Path) -> Result<PathBuf> {
    let version = locked_wasm_bindgen_version(root)?;
    let local_bin = dir.join("bin");
    let matches = |bin_dir: &Path| {
        let exe = bin_dir.join("wasm-bindgen");
        bin_dir.join("wasm-bindgen-test-runner").is_file()
            && output_line(&exe.to_string_lossy(), &["--version"])
                .is_some_and(|l| l.split_whitespace().nth(1) == Some(version.as_str()))
    };
    let on_path = which("wasm-bindgen").and_then(|p| p.parent().map(Path::to_path_buf));
    for candidate in [Some(local_bin.clone()), on_path].into_iter().flatten() {
        if matches(&candidate) {
            println!("xtask: wasm-bindgen {version}: {}", candidate.display());
            return Ok(candidate);
        }
    }
    // No --locked: a registry mirror can lack a pinned transitive crate of the CLI.
    let mut install = Command::new(host_cargo());
    install.args(["install", "wasm-bindgen-cli", "--version", &format!("={version}"), "--root"]).arg(dir);
    proc::run(&mut install).map_err(|e| format!("wasm-bindgen-cli {version}: {e}"))?;
    if !matches(&local_bin) {
        return Err(format!("wasm-bindgen-cli {version} installed but {} does not report it", local_bin.display()));
    }
    println!("xtask: wasm-bindgen {version}: installed to {}", local_bin.display());
    Ok(local_bin)
}

fn trunk(dir: &Path) -> Result<PathBuf> {
    let local = dir.join("bin/trunk");
    let usable = |p: &Path| {
        output_line(&p.to_string_lossy(), &["--version"]).is_some_and(|l| {
            let v = l.split_whitespace().nth(1).unwrap_or("");
            let mut it = v.split('.').map(|x| x.parse::<u32>().unwrap_or(0));
            (it.next().unwrap_or(0), it.next().unwrap_or(0)) >= (0, 21)
        })
    };
    for candidate in [Some(local.clone()), which("trunk")].into_iter().flatten() {
        if usable(&candidate) {
            println!("xtask: trunk: {}", candidate.display());
            return Ok(candidate);
        }
    }
    // Trunk 0.22 needs rustc >= 1.96.1: use the default toolchain when it is new enough, else nightly.
    let mut install = if rustc_version("rustc").is_some_and(|v| v >= (1, 96, 1)) {
        Command::new(host_cargo())
    } else if output_of("rustup", &["toolchain", "list"]).is_some_and(|l| l.lines().any(|t| t.starts_with("nightly"))) {
        let mut c = Command::new("rustup");
        c.args(["run", "nightly", "cargo"]);
        c
    } else {
        return Err(format!(
            "trunk: installing trunk {TRUNK_VERSION} needs rustc >= 1.96.1 (or a nightly toolchain); \
             run `rustup update` or install trunk yourself"
        ));
    };
    install.args(["install", "trunk", "--version", TRUNK_VERSION, "--locked", "--root"]).arg(dir);
    proc::run(&mut install).map_err(|e| format!("trunk {TRUNK_VERSION}: {e}"))?;
    println!("xtask: trunk: installed {}", local.display());
    Ok(local)
}

/// `wasm-opt version 132 (version_132)` → 132
fn wasm_opt_version(exe: &Path) -> Option<u32> {
    let line = output_line(&exe.to_string_lossy(), &["--version"])?;
    line.split_whitespace().find_map(|w| w.parse::<u32>().ok())
}

fn wasm_opt(dir: &Path) -> Result<(PathBuf, u32)> {
    let npm_bin = dir.join("npm/node_modules/.bin");
    let candidates = [Some(npm_bin.join("wasm-opt")), which("wasm-opt")];
    for exe in candidates.iter().flatten() {
        match wasm_opt_version(exe) {
            Some(v) if v >= MIN_WASM_OPT => {
                println!("xtask: wasm-opt {v}: {}", exe.display());
                return Ok((exe.parent().expect("bin dir").to_path_buf(), v));
            }
            Some(v) => println!("xtask: ignoring {} (version {v} breaks the bundle)", exe.display()),
            None => {}
        }
    }
    if which("npm").is_none() {
        return Err(format!(
            "wasm-opt: no binaryen >= {MIN_WASM_OPT} found and npm is not available to install it \
             (install Node.js/npm, or binaryen >= {MIN_WASM_OPT})"
        ));
    }
    let mut install = Command::new("npm");
    install
        .args(["install", "--no-audit", "--no-fund", "--no-save", "--prefix"])
        .arg(dir.join("npm"))
        .arg(format!("binaryen@{BINARYEN_NPM_VERSION}"));
    proc::run(&mut install).map_err(|e| format!("wasm-opt (npm binaryen): {e}"))?;
    let exe = npm_bin.join("wasm-opt");
    let v = wasm_opt_version(&exe).ok_or_else(|| format!("wasm-opt: {} does not run", exe.display()))?;
    println!("xtask: wasm-opt {v}: installed to {}", exe.display());
    Ok((npm_bin, v))
}

/// axe-core's `axe.min.js`, installed from npm (its own prefix: an `npm install --no-save` in the
/// binaryen prefix would remove binaryen) when the pinned version is not there yet.
fn axe_core(dir: &Path) -> Result<PathBuf> {
    let prefix = dir.join("npm-axe-core");
    let package = prefix.join("node_modules/axe-core");
    let script = package.join("axe.min.js");
    let installed = std::fs::read_to_string(package.join("package.json"))
        .ok()
        .is_some_and(|manifest| manifest.contains(&format!("\"version\": \"{AXE_CORE_NPM_VERSION}\"")));
    if installed && script.is_file() {
        println!("xtask: axe-core {AXE_CORE_NPM_VERSION}: {}", script.display());
        return Ok(script);
    }
    if which("npm").is_none() {
        return Err("axe-core: npm is not available to install it (install Node.js/npm)".into());
    }
    let mut install = Command::new("npm");
    install
        .args(["install", "--no-audit", "--no-fund", "--no-save", "--prefix"])
        .arg(&prefix)
        .arg(format!("axe-core@{AXE_CORE_NPM_VERSION}"));
    proc::run(&mut install).map_err(|e| format!("axe-core (npm): {e}"))?;
    if !script.is_file() {
        return Err(format!("axe-core: npm ran but {} is missing", script.display()));
    }
    println!("xtask: axe-core {AXE_CORE_NPM_VERSION}: installed to {}", script.display());
    Ok(script)
}

fn chromium() -> Result<(PathBuf, PathBuf)> {
    let find = || {
        let chrome = env::var_os("CHROME_BIN")
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            // Debian's real binary; /usr/bin/chromium is a shell wrapper.
            .or_else(|| Some(PathBuf::from("/usr/lib/chromium/chromium")).filter(|p| p.is_file()))
            .or_else(|| {
                ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"].iter().find_map(|n| which(n))
            });
        let driver =
            env::var_os("CHROMEDRIVER").map(PathBuf::from).filter(|p| p.is_file()).or_else(|| which("chromedriver"));
        chrome.zip(driver)
    };
    let found = match find() {
        Some(f) => f,
        None => {
            apt_install(&["chromium", "chromium-driver"])?;
            find().ok_or(
                "Chromium and chromedriver not found: install chromium + chromium-driver (Debian) \
                           or Chrome + a matching chromedriver, or set CHROME_BIN / CHROMEDRIVER",
            )?
        }
    };
    let major = |p: &Path| {
        output_line(&p.to_string_lossy(), &["--version"]).and_then(|l| {
            l.split_whitespace().find_map(|w| w.split('.').next()?.parse::<u32>().ok().filter(|n| *n > 50))
        })
    };
    let (cv, dv) = (major(&found.0), major(&found.1));
    println!("xtask: chromium {}: {}", cv.map_or("?".into(), |v| v.to_string()), found.0.display());
    println!("xtask: chromedriver {}: {}", dv.map_or("?".into(), |v| v.to_string()), found.1.display());
    if let (Some(c), Some(d)) = (cv, dv)
        && c != d
    {
        return Err(format!("chromedriver {d} does not match Chromium {c}: install matching versions"));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_locked_version() {
        let lock = "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.105\"\nsource = \"x\"\n\n\
                    [[package]]\nname = \"wasm-bindgen-shared\"\nversion = \"0.2.105\"\n";
        assert_eq!(parse_locked_version(lock, "wasm-bindgen").as_deref(), Some("0.2.105"));
        assert_eq!(parse_locked_version(lock, "trunk"), None);
    }

    #[test]
    fn this_workspace_pins_wasm_bindgen() {
        assert!(locked_wasm_bindgen_version(&workspace_root()).is_ok());
    }
}
