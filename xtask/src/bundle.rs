//! The release bundle: `trunk build --release` into `dist/`, and its size.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::proc::{self, Result};
use crate::tools::{Tools, host_cargo};

pub fn dist_dir(tools: &Tools) -> PathBuf {
    tools.root.join("dist")
}

/// Builds the release bundle with Trunk.
pub fn build(tools: &Tools) -> Result<PathBuf> {
    let trunk = Tools::require(&tools.trunk, "trunk")?;
    let dist = dist_dir(tools);
    let mut cmd = Command::new(trunk);
    tools.apply_wasm_env(&mut cmd);
    cmd.current_dir(&tools.root).args(["build", "--release", "--dist"]).arg(&dist);
    proc::run(&mut cmd)?;
    precompress(&dist)?;
    for (name, raw, gz) in sizes(&dist)? {
        println!("xtask: bundle {name}: {} raw, {} gzip", kb(raw), kb(gz));
    }
    Ok(dist)
}

/// The assets the hub serves pre-compressed.
const COMPRESSED: [&str; 5] = ["wasm", "js", "css", "html", "svg"];

/// Writes `name.gz` (gzip -9) and `name.br` (brotli 11) next to every asset in `dist`: the hub
/// serves them to browsers that accept them and never compresses on the fly.
pub fn precompress(dist: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dist).map_err(|e| format!("cannot read {}: {e}", dist.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !COMPRESSED.contains(&ext) || !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let write = |suffix: &str, data: Vec<u8>| {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            std::fs::write(&name, data).map_err(|e| format!("cannot write {}: {e}", PathBuf::from(&name).display()))
        };
        write(".gz", gzip(&bytes)?)?;
        write(".br", brotli(&bytes)?)?;
    }
    Ok(())
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).map_err(|e| e.to_string())?;
    gz.finish().map_err(|e| e.to_string())
}

fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        writer.write_all(bytes).map_err(|e| e.to_string())?;
        writer.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Builds the hub binary (profile `hub`) and returns its path.
pub fn build_hub(tools: &Tools) -> Result<PathBuf> {
    let mut cmd = Command::new(host_cargo());
    cmd.current_dir(&tools.root).args(["build", "--package", "restaurant-hub", "--profile", "hub"]);
    proc::run(&mut cmd)?;
    Ok(tools.root.join("target/hub/restaurant-hub"))
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

/// What one page load downloads (`index.html` and every `.wasm`, `.js` and `.css` file): raw,
/// gzip and brotli bytes, as [`precompress`] wrote them.
pub fn page_load(dist: &Path) -> Result<(u64, u64, u64)> {
    let mut total = (0, 0, 0);
    let entries = std::fs::read_dir(dist).map_err(|e| format!("cannot read {}: {e}", dist.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !["wasm", "js", "css", "html"].contains(&ext) {
            continue;
        }
        let size = |suffix: &str| {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            std::fs::metadata(&name).map(|m| m.len()).map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        total.0 += size("")?;
        total.1 += size(".gz")?;
        total.2 += size(".br")?;
    }
    Ok(total)
}

/// (file name, raw bytes, gzip -9 bytes) of the `.wasm`, `.js` and `.css` files in `dist`.
pub fn sizes(dist: &Path) -> Result<Vec<(String, u64, u64)>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dist).map_err(|e| format!("cannot read {}: {e}", dist.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !["wasm", "js", "css"].contains(&ext) {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let compressed = gzip(&bytes)?;
        out.push((entry.file_name().to_string_lossy().into_owned(), bytes.len() as u64, compressed.len() as u64));
    }
    out.sort();
    Ok(out)
}
