//! The release bundle: one `trunk build --release` per page into `dist/`, and its size.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::proc::{self, Result};
use crate::tools::{Tools, host_cargo};

/// The pages: each HTML file at the workspace root names its own binary (`data-bin`) and is built
/// into its own bundle, served under the same name (the hub maps `/kiosk` to `kiosk.html`, …).
pub const PAGES: [&str; 3] = ["index.html", "kiosk.html", "kds.html"];

pub fn dist_dir(tools: &Tools) -> PathBuf {
    tools.root.join("dist")
}

/// Builds every page's release bundle with Trunk and puts them together in `dist/`: the pages'
/// HTML, their content-hashed assets (the stylesheet and icon, shared, land once) and the
/// pre-compressed twins. `dist/` is assembled next to it and then swapped in whole.
pub fn build(tools: &Tools) -> Result<PathBuf> {
    // The binaries first, in one cargo run: its jobs link them side by side, and Trunk then finds
    // them built.
    let mut cargo = tools.wasm_cargo();
    cargo.args(["build", "--release", "--target", "wasm32-unknown-unknown", "--package", "restaurant-web", "--bins"]);
    proc::run(&mut cargo)?;
    let dist = dist_dir(tools);
    let next = tools.root.join("target/xtask/dist.next");
    fresh_dir(&next)?;
    for page in PAGES {
        let stage = trunk_build(tools, &tools.root.join(page), page.trim_end_matches(".html"))?;
        merge(&stage, &next, Path::new(page))?;
    }
    precompress(&next)?;
    if dist.exists() {
        std::fs::remove_dir_all(&dist).map_err(|e| format!("cannot empty {}: {e}", dist.display()))?;
    }
    std::fs::rename(&next, &dist).map_err(|e| format!("cannot move {} to {}: {e}", next.display(), dist.display()))?;
    for size in page_sizes(&dist)? {
        println!("xtask: bundle {}: {}", size.page, size.describe());
    }
    Ok(dist)
}

/// Adds the leak benchmark's page (`benches/leaks.html`, the `bench` feature's `bench_leaks`
/// binary: the KDS and the kiosk mounted and unmounted in one document) to a built `dist/` as
/// `bench/leaks.html`. Only `cargo xtask bench` builds it; the shipped pages never contain it.
pub fn add_bench_page(tools: &Tools, dist: &Path) -> Result<()> {
    let stage = trunk_build(tools, &tools.root.join("benches/leaks.html"), "bench-leaks")?;
    merge(&stage, dist, Path::new("bench/leaks.html"))
}

/// `trunk build <html> --release` into its own folder under `target/xtask/pages`.
fn trunk_build(tools: &Tools, html: &Path, name: &str) -> Result<PathBuf> {
    let trunk = Tools::require(&tools.trunk, "trunk")?;
    let out = tools.root.join("target/xtask/pages").join(name);
    let mut cmd = Command::new(trunk);
    tools.apply_wasm_env(&mut cmd);
    cmd.current_dir(&tools.root).arg("build").arg(html).args(["--release", "--dist"]).arg(&out);
    proc::run(&mut cmd)?;
    Ok(out)
}

fn fresh_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("cannot empty {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// Copies one Trunk output into `dist`: its `index.html` as `html`, everything else (folders such
/// as wasm-bindgen's `snippets/` too) under its own name. Pages share the stylesheet and the icon;
/// two pages' files of one name must be the same file.
fn merge(stage: &Path, dist: &Path, html: &Path) -> Result<()> {
    fn copy_tree(from: &Path, to: &Path, top: bool, html: &Path, dist: &Path) -> Result<()> {
        let entries = std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
            let (path, name) = (entry.path(), entry.file_name());
            // Trunk's own bookkeeping, not part of the page.
            if top && (name == ".stage" || name == ".trunk-lock") {
                continue;
            }
            if path.is_dir() {
                copy_tree(&path, &to.join(&name), false, html, dist)?;
                continue;
            }
            let target = if top && name == "index.html" { dist.join(html) } else { to.join(&name) };
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            match std::fs::read(&target) {
                Ok(existing) if existing == bytes => continue,
                Ok(_) => return Err(format!("two pages build different files named {}", target.display())),
                Err(_) => {}
            }
            std::fs::write(&target, bytes).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        }
        Ok(())
    }
    copy_tree(stage, dist, true, html, dist)
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

/// What one page's load downloads: its HTML and the `.js`, `.wasm` and `.css` files it names.
#[derive(Debug, Default, PartialEq)]
pub struct PageSize {
    pub page: String,
    /// Bytes as built, gzip -9 and brotli 11 (as the hub serves them).
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
    /// The page's wasm alone: raw and gzip bytes.
    pub wasm: (u64, u64),
}

impl PageSize {
    pub fn describe(&self) -> String {
        format!(
            "{} raw, {} gzip, {} brotli (wasm {} raw, {} gzip)",
            kb(self.raw),
            kb(self.gzip),
            kb(self.brotli),
            kb(self.wasm.0),
            kb(self.wasm.1)
        )
    }
}

/// The size of every page in `dist`, as [`precompress`] left it.
pub fn page_sizes(dist: &Path) -> Result<Vec<PageSize>> {
    let size = |name: &str, suffix: &str| {
        let path = dist.join(format!("{name}{suffix}"));
        std::fs::metadata(&path).map(|m| m.len()).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let mut out = Vec::new();
    for page in PAGES {
        let html = std::fs::read_to_string(dist.join(page))
            .map_err(|e| format!("cannot read {}: {e}", dist.join(page).display()))?;
        let mut files = vec![page.to_string()];
        files.extend(assets_named_in(&html));
        if !files.iter().any(|f| f.ends_with(".wasm")) {
            return Err(format!("{page} names no .wasm file as a root-relative URL: cannot tell its size"));
        }
        let mut total = PageSize { page: page.to_string(), ..PageSize::default() };
        for file in &files {
            total.raw += size(file, "")?;
            total.gzip += size(file, ".gz")?;
            total.brotli += size(file, ".br")?;
            if file.ends_with(".wasm") {
                total.wasm.0 += size(file, "")?;
                total.wasm.1 += size(file, ".gz")?;
            }
        }
        out.push(total);
    }
    Ok(out)
}

/// The `.js`, `.wasm` and `.css` files an HTML page loads, as root-relative quoted URLs
/// (`"/kiosk-0123_bg.wasm"`), each once.
fn assets_named_in(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in html.split(['"', '\'']) {
        let Some(name) = token.strip_prefix('/') else { continue };
        let asset = [".js", ".wasm", ".css"].iter().any(|ext| name.ends_with(ext));
        if asset && !name.contains(['/', ' ', '<', '>']) && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_page_loads_the_assets_its_html_names() {
        let html = r#"<link rel="stylesheet" href="/main-1a2b.css" integrity="sha384-x"/>
            <link rel="modulepreload" href="/kds-3c4d.js"><link rel="preload" href="/kds-3c4d_bg.wasm" as="fetch">
            <script type="module">import init from '/kds-3c4d.js'; await init({ module_or_path: '/kds-3c4d_bg.wasm' });</script>
            <link rel="icon" href="/favicon.svg"><a href="/kiosk">"#;
        assert_eq!(super::assets_named_in(html), ["main-1a2b.css", "kds-3c4d.js", "kds-3c4d_bg.wasm"]);
    }
}
