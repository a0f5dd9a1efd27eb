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
    for (name, raw, gz) in sizes(&dist)? {
        println!("xtask: bundle {name}: {} raw, {} gzip", kb(raw), kb(gz));
    }
    Ok(dist)
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

/// (file name, raw bytes, gzip -9 bytes) of the `.wasm` and `.js` files in `dist`.
pub fn sizes(dist: &Path) -> Result<Vec<(String, u64, u64)>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dist).map_err(|e| format!("cannot read {}: {e}", dist.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "wasm" && ext != "js" {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes).map_err(|e| e.to_string())?;
        let compressed = gz.finish().map_err(|e| e.to_string())?;
        out.push((entry.file_name().to_string_lossy().into_owned(), bytes.len() as u64, compressed.len() as u64));
    }
    out.sort();
    Ok(out)
}
