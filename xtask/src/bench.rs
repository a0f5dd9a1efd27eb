//! `cargo xtask bench`: figures, not pass/fail timings. Times the KDS board's per-frame work
//! natively (`src/bin/bench_board.rs`), builds the release bundle, starts the
//! optimised hub serving it, runs the browser benchmarks (`tests/bench_*.rs`, `bench` feature)
//! against it, prints a table and writes `docs/benchmarks.md`.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

use crate::bundle;
use crate::hubctl::TestHub;
use crate::proc::{self, Result, output_line};
use crate::test::{ChromeDriver, wasm_test_command};
use crate::tools::{self, Needs, Tools, host_cargo};

struct Row {
    name: String,
    figure: String,
    target: String,
}

pub fn run(args: &[String]) -> Result<()> {
    let mut sessions = 1000usize;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--sessions" => {
                let v = it.next().ok_or("--sessions needs a value")?;
                sessions = v.parse().map_err(|_| format!("--sessions: not a number: {v:?}"))?;
            }
            "--only" => {
                let v = it.next().ok_or("--only needs a stage: voice, pages, hub, speech or board")?;
                if !["voice", "pages", "hub", "speech", "board"].contains(&v.as_str()) {
                    return Err(format!("--only: unknown stage {v:?} (voice, pages, hub, speech or board)"));
                }
                only = Some(v.clone());
            }
            other => {
                return Err(format!("bench: unknown argument {other:?} (expected --sessions N or --only STAGE)"));
            }
        }
    }
    let started = Instant::now();
    let stage = |name: &str| only.as_deref().is_none_or(|o| o == name);
    // The board's per-frame work, natively: the first stage, needing neither browser nor hub.
    if only.as_deref() == Some("board") {
        let mut rows = Vec::new();
        for line in board_bench(&tools::workspace_root())? {
            rows.extend(rows_for(&parse_line(&line)?));
        }
        print_table(&rows);
        println!(
            "xtask: one stage only ({:.0} s); docs/benchmarks.md is left as it was",
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let tools = tools::setup(Needs::ALL)?;
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    if stage("board") {
        lines.extend(board_bench(&tools.root)?);
    }

    let dist = bundle::build(&tools)?;
    for size in bundle::page_sizes(&dist)? {
        rows.push(Row {
            name: format!("page load {} (html + js + wasm + css)", size.page),
            figure: size.describe(),
            target: "≤ 150 KB gzip".into(),
        });
    }

    // The KDS latency baseline is served next to the bundle, from the same origin.
    let baseline = tools.root.join("benches/kds-vanilla.html");
    std::fs::create_dir_all(dist.join("bench")).map_err(|e| format!("cannot create {}/bench: {e}", dist.display()))?;
    std::fs::copy(&baseline, dist.join("bench/kds-vanilla.html"))
        .map_err(|e| format!("cannot copy {}: {e}", baseline.display()))?;

    let hub_binary = bundle::build_hub(&tools)?;
    let work = tools.root.join("target/xtask");
    let hub =
        TestHub::start(&hub_binary, &work.join("bench-hub-data"), &["--demo", "--dist", &dist.to_string_lossy()])?;
    if stage("voice") {
        let mut cmd = wasm_test_command(&tools, &work, &hub)?;
        cmd.args(["--features", "bench", "--test", "bench_voice", "--", "--nocapture"])
            .env("BENCH_SESSIONS", sessions.to_string());
        let (ok, _, voice_lines) = proc::run_tests_collecting(&mut cmd, Some("BENCH "))?;
        if !ok {
            return Err("the browser benchmarks failed (see above)".into());
        }
        lines.extend(voice_lines);
    }
    // Page benchmarks: the release bundle over WebDriver, measured through DevTools.
    if stage("pages") {
        bundle::add_bench_page(&tools, &dist)?;
        // The voice-path benchmark's microphone: recorded conversations of the spoken test set.
        let pages = std::env::var("BENCH_PAGES").unwrap_or_default();
        if pages.is_empty() || pages.split(',').any(|p| p.trim() == "voice-turns") {
            crate::speech_set::run(&[])?;
        }
        let tmp = work.join("bench-tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let driver = ChromeDriver::start(Tools::require(&tools.chromedriver, "chromedriver")?, &tmp)?;
        let mut pages = Command::new(host_cargo());
        pages
            .current_dir(&tools.root)
            .args(["run", "--package", "restaurant-e2e", "--bin", "bench_pages"])
            .env("E2E_HUB_URL", hub.url())
            .env("E2E_HUB_CONTROL_URL", hub.control_url())
            .env("E2E_WEBDRIVER_URL", driver.url())
            .env("E2E_CHROME", Tools::require(&tools.chrome, "chromium")?)
            .env("E2E_SPEECH_SET", tools.root.join("target/speech-set"))
            .env("TMPDIR", &tmp);
        let (ok, _, page_lines) = proc::run_tests_collecting(&mut pages, Some("BENCH "))?;
        drop(driver);
        let _ = std::fs::remove_dir_all(&tmp);
        if !ok {
            return Err("the page benchmarks failed (see above)".into());
        }
        lines.extend(page_lines);
    }
    // The hub under a whole restaurant's sockets, on loopback.
    if stage("hub") {
        let mut fanout = Command::new(host_cargo());
        fanout
            .current_dir(&tools.root)
            .args(["run", "--profile", "hub", "--package", "restaurant-e2e", "--bin", "hub_bench"])
            .env("E2E_HUB_URL", hub.url())
            // The disk probe writes where the hub keeps its data.
            .env("HUB_BENCH_DISK_DIR", work.join("bench-hub-data"));
        let (ok, _, fanout_lines) = proc::run_tests_collecting(&mut fanout, Some("BENCH "))?;
        if !ok {
            return Err("the hub fan-out benchmark failed (see above)".into());
        }
        lines.extend(fanout_lines);
    }
    drop(hub);
    if stage("speech") {
        lines.extend(speech_bench(&tools)?);
    }
    let mut latency = Vec::new();
    for line in &lines {
        let v = parse_line(line)?;
        rows.extend(rows_for(&v));
        if v["bench"] == "kds_latency" {
            latency.push(v);
        }
    }
    rows.extend(latency_ratio(&latency));

    let total = started.elapsed().as_secs_f64();
    print_table(&rows);
    if only.is_some() {
        println!("xtask: one stage only ({total:.0} s); docs/benchmarks.md is left as it was");
        return Ok(());
    }
    // An experiment's figures (a traced 8 s run, a profiled one, added stylesheet rules) are not the
    // pages' own.
    if let Some(knob) = ["BENCH_TRACE", "BENCH_HEAP", "BENCH_PROFILE", "BENCH_CSS", "BENCH_PAGES"]
        .into_iter()
        .find(|k| std::env::var_os(k).is_some())
    {
        println!("xtask: {knob} is set ({total:.0} s); docs/benchmarks.md is left as it was");
        return Ok(());
    }
    let path = tools.root.join("docs/benchmarks.md");
    let mut doc = render_markdown(&rows, sessions, total);
    // The written sections after the table (analysis, what each change saved) stay.
    if let Ok(old) = std::fs::read_to_string(&path)
        && let Some(at) = old.find("\n## ")
    {
        doc.push_str(&old[at..]);
    }
    std::fs::write(&path, doc).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("xtask: wrote {} ({total:.0} s)", path.display());
    Ok(())
}

/// A `BENCH {json}` line's JSON.
fn parse_line(line: &str) -> Result<Value> {
    serde_json::from_str(line).map_err(|e| format!("unreadable benchmark line {line:?}: {e}"))
}

/// The kitchen display's per-frame board work (`src/bin/bench_board.rs`), natively, in release.
fn board_bench(root: &std::path::Path) -> Result<Vec<String>> {
    let mut cmd = Command::new(host_cargo());
    cmd.current_dir(root).args([
        "run",
        "--release",
        "--package",
        "restaurant-web",
        "--features",
        "bench",
        "--bin",
        "bench_board",
    ]);
    let (ok, _, lines) = proc::run_tests_collecting(&mut cmd, Some("BENCH "))?;
    if !ok {
        return Err("the board benchmark failed (see above)".into());
    }
    Ok(lines)
}

/// The offline voice on the spoken test set: accuracy by voice and noise, and turn latency.
fn speech_bench(tools: &Tools) -> Result<Vec<String>> {
    crate::speech_set::run(&[])?;
    let mut cmd = Command::new(host_cargo());
    cmd.current_dir(&tools.root)
        .args(["run", "--profile", "hub", "--package", "restaurant-e2e", "--bin", "speech_bench", "--"])
        .arg(tools.root.join("target/speech-set/manifest.json"));
    let (ok, _, lines) = proc::run_tests_collecting(&mut cmd, Some("BENCH "))?;
    if !ok {
        return Err("the speech benchmark failed (see above)".into());
    }
    Ok(lines)
}

/// `v[part][key]` as a number (NaN when missing: a line from an older bench).
fn n_at(v: &Value, part: &str, key: &str) -> f64 {
    v[part][key].as_f64().unwrap_or(f64::NAN)
}

fn rows_for(v: &Value) -> Vec<Row> {
    let n = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    match v["bench"].as_str() {
        Some("event_loss") => vec![
            Row {
                name: "event loss at channel open".into(),
                figure: format!(
                    "{} of {} sessions lost an event ({} session.created, {} first conversation.item.created); {} failed to set up",
                    n("lost_session_created") + n("lost_item_created"),
                    n("sessions"),
                    n("lost_session_created"),
                    n("lost_item_created"),
                    n("setup_errors"),
                ),
                target: "0".into(),
            },
            Row {
                name: "voice channel open (token → session.created)".into(),
                figure: format!(
                    "p50 {:.0} ms, p99 {:.0} ms with 0–100 ms answer latency ({} at a time, {:.0} s)",
                    n("open_ms_p50"),
                    n("open_ms_p99"),
                    n("concurrency"),
                    n("seconds")
                ),
                target: String::new(),
            },
        ],
        Some("tap_to_ready") => vec![Row {
            name: "kiosk tap → assistant ready (hub voice peer)".into(),
            figure: format!(
                "p50 {:.0} ms, p95 {:.0} ms over {} customers with the token fetched ahead; fetched at the tap: p50 {:.0} ms, p95 {:.0} ms (p50 ×{:.2})",
                n("p50_ms"),
                n("p95_ms"),
                n("customers"),
                n("baseline_p50_ms"),
                n("baseline_p95_ms"),
                n("p50_ms") / n("baseline_p50_ms"),
            ),
            target: "about 1 s".into(),
        }],
        Some("voice_turns") => vec![Row {
            name: "voice path on the kiosk (hub voice peer, spoken test set): tap to send → first transcript delta; → transcript completed; → first reply audio".into(),
            figure: format!(
                "delta p50 {:.0} ms, p95 {:.0} ms; completed p50 {:.0} ms, p95 {:.0} ms; first reply audio p50 {:.0} ms, p95 {:.0} ms ({} turns of {} conversations; {} without a transcript delta, {} without reply audio)",
                n("delta_p50_ms"),
                n("delta_p95_ms"),
                n("completed_p50_ms"),
                n("completed_p95_ms"),
                n("audio_p50_ms"),
                n("audio_p95_ms"),
                n("turns"),
                n("conversations"),
                n("turns") - n("delta_n"),
                n("turns") - n("audio_n"),
            ) + &if n("failed") > 0.0 { format!("; {} turns failed", n("failed")) } else { String::new() },
            target: "first reply audio p50 ≤ 800 ms".into(),
        }],
        Some(kind @ ("kds_mount_cycles" | "voice_connect_cycles")) => {
            let (what, target) = if kind == "kds_mount_cycles" {
                ("KDS mount/unmount", "heap growth < 1 MB; listeners, sockets back to baseline")
            } else {
                ("voice connect/disconnect", "heap growth < 1 MB; listeners, peer connections back to baseline")
            };
            let (b, a) = (&v["before"], &v["after"]);
            vec![Row {
                name: format!("leaks: {} × {what}", n("cycles")),
                figure: format!(
                    "heap {:+.1} KB ({:.1} → {:.1} MB after GC); DOM listeners {} → {}; open peer connections {} → {}; open sockets {} → {} ({:.0} s)",
                    n("heap_growth_bytes") / 1000.0,
                    b["heap_bytes"].as_f64().unwrap_or(f64::NAN) / 1e6,
                    a["heap_bytes"].as_f64().unwrap_or(f64::NAN) / 1e6,
                    b["listeners"],
                    a["listeners"],
                    b["open_peer_connections"],
                    a["open_peer_connections"],
                    b["open_sockets"],
                    a["open_sockets"],
                    n("seconds")
                ),
                target: target.into(),
            }]
        }
        Some("reconnect") => vec![Row {
            name: "KDS reconnect after the hub is killed".into(),
            figure: format!(
                "hub restarted in {:.0} ms; banner Live {:.0} ms and board equal to the snapshot {:.0} ms after the restart began (includes the backoff wait)",
                n("hub_start_ms"),
                n("live_ms"),
                n("board_equal_ms")
            ),
            target: String::new(),
        }],
        Some("kds_latency") => vec![Row {
            name: format!(
                "KDS latency, {} page: {} tickets, {} updates/s for {} s",
                if v["page"] == "vanilla" { "vanilla-JS baseline" } else { "real" },
                n("tickets"),
                n("per_second"),
                n("seconds")
            ),
            figure: format!(
                "hub stamp → ticket DOM change p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} of {} updates seen); {} of {} frames dropped (frame {:.1} ms, longest gap {:.0} ms), {} long tasks",
                n("p50_ms"),
                n("p99_ms"),
                n("max_ms"),
                n("updates_seen"),
                n("updates_sent"),
                n("dropped_frames"),
                n("frames") + n("dropped_frames"),
                n("frame_ms"),
                n("longest_frame_gap_ms"),
                n("long_tasks")
            ) + &format!(
                "; → first frame rendered after it p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                n("shown_p50_ms"),
                n("shown_p99_ms"),
                n("shown_max_ms")
            ) + &format!(
                "; main thread {:.1} s busy in {} s (script {:.1} s, style {:.1} s, layout {:.1} s in {} passes)",
                n("task_s"),
                n("seconds"),
                n("script_s"),
                n("style_s"),
                n("layout_s"),
                n("layouts")
            ) + &format!(
                "; tickets skipped by `content-visibility: auto` {}, drawn again as they came into view {}",
                n_at(v, "content_visibility", "skipped"),
                n_at(v, "content_visibility", "shown")
            ),
            target: String::new(),
        }],
        Some("hub_fanout") => {
            let p = |part: &str, k: &str| v[part][k].as_f64().unwrap_or(f64::NAN);
            let cause = |kind: &str, k: &str| v["delivery_kernel_by_cause"][kind][k].as_f64().unwrap_or(f64::NAN);
            let change = |kind: &str, k: &str| v["delivery_from_change_by_cause"][kind][k].as_f64().unwrap_or(f64::NAN);
            let publish = |kind: &str, k: &str| v["delivery_from_publish_by_cause"][kind][k].as_f64().unwrap_or(f64::NAN);
            vec![
                Row {
                    name: format!(
                        "hub fan-out, {} KDS sockets: orders 5/s + bump and complete 10/s for {:.0} s",
                        n("sockets"),
                        n("seconds")
                    ),
                    figure: format!(
                        "POST or command sent → event read by every socket p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms ({} deliveries, {} missing, {} unexpected, {} out of order)",
                        p("delivery", "p50_ms"),
                        p("delivery", "p99_ms"),
                        p("delivery", "p999_ms"),
                        p("delivery", "max_ms"),
                        p("delivery", "n"),
                        n("missing"),
                        n("unexpected"),
                        n("out_of_order"),
                    ),
                    // The target is set from commit to the screen's kernel (the next row); this
                    // adds the screens' own scheduling, on the same two cores.
                    target: "set at the screens' kernel, the next row".into(),
                },
                Row {
                    name: format!(
                        "hub fan-out, {} KDS sockets: the same, to the screens' kernel (receive timestamps)",
                        n("sockets")
                    ),
                    figure: format!(
                        "POST or command sent → event received by every socket's kernel p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms ({} deliveries stamped, {} not, {} stamped before their cause); by cause p50 / p99: order created {:.2} / {:.2} ms, bumped {:.2} / {:.2} ms, completed {:.2} / {:.2} ms (the bump and the complete are sent together)",
                        p("delivery_kernel", "p50_ms"),
                        p("delivery_kernel", "p99_ms"),
                        p("delivery_kernel", "p999_ms"),
                        p("delivery_kernel", "max_ms"),
                        p("delivery_kernel", "n"),
                        n("unstamped"),
                        n("stamped_before_cause"),
                        cause("created", "p50_ms"),
                        cause("created", "p99_ms"),
                        cause("bumped", "p50_ms"),
                        cause("bumped", "p99_ms"),
                        cause("completed", "p50_ms"),
                        cause("completed", "p99_ms"),
                    ),
                    // Includes the request's way to the hub and its wait behind the changes
                    // before it; the target is set from the commit (the next row).
                    target: "set from the change, the next row".into(),
                },
                Row {
                    name: format!(
                        "hub fan-out, {} KDS sockets: from the change on the hub to the screens' kernel",
                        n("sockets")
                    ),
                    figure: format!(
                        "change made on the hub's store thread (its `updated_at`, before the commit, in whole ms) → event received by every socket's kernel p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms ({} deliveries, {} without a stamp); by cause p50 / p99: order created {:.2} / {:.2} ms, bumped {:.2} / {:.2} ms, completed {:.2} / {:.2} ms",
                        p("delivery_from_change", "p50_ms"),
                        p("delivery_from_change", "p99_ms"),
                        p("delivery_from_change", "p999_ms"),
                        p("delivery_from_change", "max_ms"),
                        p("delivery_from_change", "n"),
                        n("events_without_stamp"),
                        change("created", "p50_ms"),
                        change("created", "p99_ms"),
                        change("bumped", "p50_ms"),
                        change("bumped", "p99_ms"),
                        change("completed", "p50_ms"),
                        change("completed", "p99_ms"),
                    ),
                    // Includes the commit itself (its fsync) and its wait behind the changes
                    // before it; the target is set from the commit (the next row).
                    target: "set from the commit, the next row".into(),
                },
                Row {
                    name: format!(
                        "hub fan-out, {} KDS sockets: from the commit to the screens' kernel",
                        n("sockets")
                    ),
                    figure: format!(
                        "event published, its commit done (noted by the dev hub) → received by every socket's kernel p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms ({} deliveries, {} deliveries of events missing from the publish log, {} received before their publish); by cause p50 / p99: order created {:.2} / {:.2} ms, bumped {:.2} / {:.2} ms, completed {:.2} / {:.2} ms; the change's stamp (whole ms, so up to 1 ms early) → its publish p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} events)",
                        p("delivery_from_publish", "p50_ms"),
                        p("delivery_from_publish", "p99_ms"),
                        p("delivery_from_publish", "p999_ms"),
                        p("delivery_from_publish", "max_ms"),
                        p("delivery_from_publish", "n"),
                        n("deliveries_unpublished"),
                        n("received_before_publish"),
                        publish("created", "p50_ms"),
                        publish("created", "p99_ms"),
                        publish("bumped", "p50_ms"),
                        publish("bumped", "p99_ms"),
                        publish("completed", "p50_ms"),
                        publish("completed", "p99_ms"),
                        p("change_to_publish", "p50_ms"),
                        p("change_to_publish", "p99_ms"),
                        p("change_to_publish", "max_ms"),
                        p("change_to_publish", "n"),
                    ),
                    target: "p99 ≤ 5 ms, max ≤ 15 ms (200 sockets)".into(),
                },
                Row {
                    name: format!("hub fan-out, {} KDS sockets: order POST → 201; command → ack", n("sockets")),
                    figure: format!(
                        "received by the kiosk's (the screen's) kernel: POST p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} unstamped); ack p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} unstamped); read by the bench: POST p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; ack p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} unanswered); the disk's own commit just before the run (4 KiB appended and fdatasync'ed in the hub's data folder): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                        p("post_kernel", "p50_ms"),
                        p("post_kernel", "p99_ms"),
                        p("post_kernel", "max_ms"),
                        n("post_unstamped"),
                        p("ack_kernel", "p50_ms"),
                        p("ack_kernel", "p99_ms"),
                        p("ack_kernel", "max_ms"),
                        n("ack_unstamped"),
                        p("post", "p50_ms"),
                        p("post", "p99_ms"),
                        p("post", "max_ms"),
                        p("ack", "p50_ms"),
                        p("ack", "p99_ms"),
                        p("ack", "max_ms"),
                        n("unanswered_commands"),
                        p("disk_commit", "p50_ms"),
                        p("disk_commit", "p99_ms"),
                        p("disk_commit", "max_ms"),
                    ),
                    target: "POST p99 ≤ 10 ms (at the kiosk's kernel)".into(),
                },
            ]
        }
        Some("speech_accuracy") => vec![Row {
            name: format!("offline voice, {} (exact carts)", v["condition"].as_str().unwrap_or("?")),
            figure: format!(
                "{} of {} conversations ({:.1} %) placed exactly the expected cart ({} placed an order); items: precision {:.1} %, recall {:.1} %; turns heard word for word {:.1} %, word error rate {:.1} %",
                n("exact_carts"),
                n("conversations"),
                n("exact_pct"),
                n("placed"),
                n("precision_pct"),
                n("recall_pct"),
                n("turns_exact_pct"),
                n("wer_pct"),
            ),
            target: if v["condition"] == "all" { "≥ 90 %".into() } else { String::new() },
        }],
        Some("kds_board") => {
            let us = |k: &str, i: usize| v[k][i].as_f64().unwrap_or(f64::NAN);
            let way = |k: &str| format!("p50 {:.1} µs, p99 {:.1} µs, mean {:.1} µs", us(k, 0), us(k, 1), us(k, 2));
            let ratio = |follow: &str, walk: &str| format!("p50 ×{:.2}, mean ×{:.2}", us(follow, 0) / us(walk, 0), us(follow, 2) / us(walk, 2));
            let name = |what: &str| {
                format!("KDS board per frame, natively: {what} ({} orders, {} updates a frame, {} frames)", n("orders"), n("updates_per_frame"), n("frames"))
            };
            vec![
                Row {
                    name: name("the kept grid brought up to the board"),
                    figure: format!("following the changed orders {}; walking every order {}; ÷ walking {}", way("grid_follow_us"), way("grid_walk_us"), ratio("grid_follow_us", "grid_walk_us")),
                    target: String::new(),
                },
                Row {
                    name: name("the new-ticket alerts"),
                    figure: format!("following the changed orders {}; walking every order {}; ÷ walking {}", way("alerts_follow_us"), way("alerts_walk_us"), ratio("alerts_follow_us", "alerts_walk_us")),
                    target: String::new(),
                },
                Row {
                    name: name("the copy of the board the page publishes"),
                    figure: way("copy_us"),
                    target: String::new(),
                },
            ]
        }
        Some("speech_latency") => vec![Row {
            name: "offline voice turn latency (end of speech → transcript; → first reply audio)".into(),
            figure: format!(
                "transcript p50 {:.1} ms, p95 {:.1} ms; first reply audio p50 {:.0} ms, p95 {:.0} ms over {} turns; recognizer real-time factor {:.2} ({:.0} s)",
                n("heard_p50_ms"),
                n("heard_p95_ms"),
                n("reply_p50_ms"),
                n("reply_p95_ms"),
                n("turns"),
                n("realtime_factor"),
                n("seconds"),
            ),
            target: "first reply audio p50 ≤ 800 ms".into(),
        }],
        _ => vec![Row { name: format!("{}", v["bench"]), figure: v.to_string(), target: String::new() }],
    }
}

/// Real page ÷ vanilla baseline at each load both ran.
fn latency_ratio(runs: &[Value]) -> Vec<Row> {
    let mut rows = Vec::new();
    for real in runs.iter().filter(|v| v["page"] == "leptos") {
        let Some(base) = runs.iter().find(|v| v["page"] == "vanilla" && v["tickets"] == real["tickets"]) else {
            continue;
        };
        let ratio = |k: &str| real[k].as_f64().unwrap_or(f64::NAN) / base[k].as_f64().unwrap_or(f64::NAN);
        rows.push(Row {
            name: format!(
                "KDS latency, real ÷ vanilla baseline: {} tickets, {} updates/s",
                real["tickets"], real["per_second"]
            ),
            figure: format!(
                "DOM change p50 ×{:.2}, p99 ×{:.2}; frame rendered p50 ×{:.2}, p99 ×{:.2}; layout passes ×{:.2}, layout time per pass ×{:.2}; script time ×{:.2}; long tasks {} vs {}",
                ratio("p50_ms"),
                ratio("p99_ms"),
                ratio("shown_p50_ms"),
                ratio("shown_p99_ms"),
                ratio("layouts"),
                ratio("layout_s") / ratio("layouts"),
                ratio("script_s"),
                real["long_tasks"],
                base["long_tasks"],
            ),
            target: "p50 ≤ ×1.2, p99 ≤ ×1.3, layouts ≤ ×1.1; no long task at 1000 tickets".into(),
        });
    }
    rows
}

fn print_table(rows: &[Row]) {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(10);
    println!();
    for r in rows {
        let target = if r.target.is_empty() { String::new() } else { format!("  (target {})", r.target) };
        println!("  {:<width$}  {}{target}", r.name, r.figure);
    }
    println!();
}

fn render_markdown(rows: &[Row], sessions: usize, seconds: f64) -> String {
    let date = output_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmarks\n");
    let _ = writeln!(
        s,
        "Produced by `cargo xtask bench` (event-loss sessions: {sessions}) on {date}, {cores} cores; the run took {seconds:.0} s."
    );
    let _ = writeln!(
        s,
        "The release bundle is served by the hub built with its optimised `hub` profile; browser figures come from"
    );
    let _ = writeln!(s, "headless Chromium with a fake microphone. Re-run the command to refresh this file.\n");
    let _ = writeln!(s, "| benchmark | figure | target |");
    let _ = writeln!(s, "|---|---|---|");
    for r in rows {
        let _ = writeln!(s, "| {} | {} | {} |", r.name, r.figure, r.target);
    }
    s
}
