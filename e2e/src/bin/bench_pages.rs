//! Page benchmarks over WebDriver + the Chrome DevTools Protocol, run by `cargo xtask bench`
//! (with the `E2E_*` variables of the e2e suite): mount/unmount cycles of the real pages in the
//! release bundle, with the JS heap (after a forced GC), DOM event listeners, open peer
//! connections and sockets measured before and after; and the KDS reconnecting after the hub is
//! killed and restarted; and KDS render latency under a steady stream of updates (300 tickets at
//! 100 updates/s, and 1000 at 500/s), for the real page and for the vanilla-JS baseline in
//! `benches/`; and the voice path on the kiosk with the hub's peer, a recorded customer as the
//! microphone. Prints `BENCH {json}` lines.
//!
//! For finding where time goes: `BENCH_PROFILE=1` prints a CPU profile of each KDS latency run,
//! `BENCH_TRACE=1` a DevTools trace summary (8 s runs; `BENCH_TRACE=invalidations` adds what marked
//! layout dirty, `BENCH_TRACE=blink` the engine's own spans around each layout), `BENCH_HEAP=1` where the JS heap's
//! allocations were made (sampled, the collected ones included), `BENCH_CSS="…"` adds rules to both
//! pages.

use std::time::{Duration, Instant};

use fantoccini::Client;
use fantoccini::wd::{TimeoutConfiguration, WebDriverCompatibleCommand};
use restaurant_e2e::*;
use serde_json::{Value, json};

/// `POST /session/{id}/goog/cdp/execute`: a DevTools command through chromedriver.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({"cmd": self.cmd, "params": self.params}).to_string()))
    }
}

async fn cdp(c: &Client, cmd: &'static str, params: Value) -> Value {
    c.issue_cmd(Cdp { cmd, params }).await.unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
}

/// Heap after a full GC, DOM event listeners, nodes; live peer connections and sockets.
async fn measure(c: &Client) -> Value {
    for _ in 0..2 {
        cdp(c, "HeapProfiler.collectGarbage", json!({})).await;
    }
    let metrics = metrics(c).await;
    let metric = |name: &str| metrics.get(name).copied().unwrap_or(f64::NAN);
    let live = eval(
        c,
        "return {pcs: (window.__pcAll || []).filter(pc => pc.signalingState !== 'closed').length,
                 sockets: (window.__dbgWS && window.__dbgWS.openSockets) || 0}",
    )
    .await;
    json!({
        "heap_bytes": metric("JSHeapUsedSize"),
        "listeners": metric("JSEventListeners"),
        "nodes": metric("Nodes"),
        "open_peer_connections": live["pcs"],
        "open_sockets": live["sockets"],
    })
}

/// Counts every RTCPeerConnection the page creates (installed before any page script runs).
const PEER_COUNTER: &str = "(() => { const Orig = window.RTCPeerConnection; const all = []; window.__pcAll = all;
  function Counted(...a) { const pc = new Orig(...a); all.push(pc); return pc; }
  Counted.prototype = Orig.prototype; Object.setPrototypeOf(Counted, Orig); window.RTCPeerConnection = Counted; })();";

/// In-page helpers: waiting for a selector, and the console's errors and last log lines kept for a
/// failure's message.
const HELPERS: &str = "
  window.__until = (test, ms) => new Promise((ok, fail) => { const t0 = performance.now();
    (function poll() { if (test()) return ok(); if (performance.now() - t0 > ms) return fail(new Error('timeout')); setTimeout(poll, 5); })(); });
  window.__q = (sel) => document.querySelector(sel);
  window.__errors = []; const __err = console.error.bind(console);
  console.error = (...a) => { window.__errors.push(a.map(String).join(' ').slice(0, 600)); __err(...a); };
  window.__logs = []; const __info = console.info.bind(console);
  console.info = (...a) => { window.__logs.push(a.map(String).join(' ').slice(0, 200)); if (window.__logs.length > 40) window.__logs.shift(); __info(...a); };";

async fn page(path: &str) -> Client {
    let c = browser_with(&[]).await;
    c.update_timeouts(TimeoutConfiguration::new(Some(Duration::from_secs(900)), None, None)).await.expect("timeouts");
    cdp(&c, "Page.addScriptToEvaluateOnNewDocument", json!({"source": PEER_COUNTER})).await;
    cdp(&c, "Performance.enable", json!({})).await;
    c.goto(&format!("{}{path}", hub())).await.expect("page");
    eval(&c, HELPERS).await;
    c
}

fn report(name: &str, cycles: u32, before: &Value, after: &Value, seconds: f64) {
    let line = json!({
        "bench": name,
        "cycles": cycles,
        "seconds": seconds,
        "heap_growth_bytes": after["heap_bytes"].as_f64().unwrap_or(f64::NAN) - before["heap_bytes"].as_f64().unwrap_or(f64::NAN),
        "before": before,
        "after": after,
    });
    println!("BENCH {line}");
}

/// The leak benchmark's page (`/bench/leaks.html`, built by `cargo xtask bench`) with the KDS
/// mounted as its own bundle mounts it, in a document where it can be unmounted and mounted again
/// (`__bench.unmount()`, `__bench.mount()`).
async fn leak_page() -> Client {
    let c = page("/bench/leaks.html").await;
    let script = "const [done] = arguments; (async () => {
        await __until(() => window.__bench, 20000); done(__bench.mount()); })().catch(e => done(String(e)));";
    assert_eq!(c.execute_async(script, vec![]).await.expect("mount"), Value::Null, "the KDS mounted");
    c
}

async fn kds_cycles(cycles: u32) {
    let c = leak_page().await;
    let pin = wait_find(&c, "pin-input", Duration::from_secs(20)).await;
    pin.send_keys("1234").await.expect("PIN");
    click(&c, "login-submit").await;
    wait_state(&c, "connection-status", "live", Duration::from_secs(15)).await;
    let script = "const [n, done] = arguments; (async () => {
        for (let i = 0; i < n; i++) {
          window.__step = 'unmount ' + i;
          __bench.unmount(); await __until(() => !__q('[data-testid=kds-page]'), 5000);
          window.__step = 'mount ' + i;
          __bench.mount(); await __until(() => __q('[data-testid=connection-status][data-state=live]'), 10000);
        }
        __bench.unmount(); await __until(() => !__q('[data-testid=kds-page]'), 5000);
        done(null); })().catch(e => { const s = __q('[data-testid=connection-status]');
          done(String(e) + ' at ' + window.__step + '; banner ' + (s && s.getAttribute('data-state') + ' ' + s.textContent)
            + '; sockets opened ' + (window.__dbgWS && window.__dbgWS.connectCount)
            + '; errors ' + JSON.stringify(window.__errors.slice(-3))
            + '; ' + JSON.stringify(document.body.innerText.slice(0, 300))); });";
    // Warm-up cycle: the baseline includes everything loaded once.
    assert_eq!(c.execute_async(script, vec![json!(1)]).await.expect("warm-up"), Value::Null);
    let before = measure(&c).await;
    let t0 = Instant::now();
    let r = c.execute_async(script, vec![json!(cycles)]).await.expect("cycles");
    assert_eq!(r, Value::Null, "KDS cycles failed: {r}");
    let seconds = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = measure(&c).await;
    report("kds_mount_cycles", cycles, &before, &after, seconds);
    c.close().await.ok();
}

/// A customer after another at the kiosk: the voice connects (the customer taps "Order by
/// voice"), then the customer's "Start over" ends it and the attract screen comes back.
async fn voice_cycles(cycles: u32) {
    let c = page("/kiosk").await;
    wait_find(&c, "voice-order-button", Duration::from_secs(20)).await;
    let script = "const [n, done] = arguments;
      const voice = () => (__q('[data-testid=voice-status]') || { getAttribute: () => 'disconnected' }).getAttribute('data-state');
      (async () => {
        for (let i = 0; i < n; i++) {
          window.__step = 'ready ' + i;
          await __until(() => __q('[data-testid=voice-order-button]'), 10000);
          // The button ignores a second tap within 300 ms of the last (a bounce), as a person's
          // next tap would be later.
          await new Promise((ok) => setTimeout(ok, 350));
          window.__step = 'connect ' + i;
          __q('[data-testid=voice-order-button]').click();
          await __until(() => voice() === 'idle', 15000);
          window.__step = 'start over ' + i;
          __q('[data-testid=start-over]').click();
          await __until(() => __q('[data-testid=attract-start]') && voice() === 'disconnected', 10000);
        }
        done(null); })().catch(e => {
          done(String(e) + ' at ' + window.__step + '; voice state ' + voice()
            + '; error ' + ((__q('[data-testid=voice-error]') || {}).textContent || 'none')
            + '; errors ' + JSON.stringify(window.__errors.slice(-3)) + '; log ' + JSON.stringify(window.__logs)); });";
    assert_eq!(c.execute_async(script, vec![json!(1)]).await.expect("warm-up"), Value::Null);
    let before = measure(&c).await;
    let t0 = Instant::now();
    let r = c.execute_async(script, vec![json!(cycles)]).await.expect("cycles");
    assert_eq!(r, Value::Null, "voice cycles failed: {r}");
    let seconds = t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = measure(&c).await;
    report("voice_connect_cycles", cycles, &before, &after, seconds);
    c.close().await.ok();
}

/// The hub is killed (a crash) and started again: time from its restart until the banner is Live,
/// and until the board equals the hub's snapshot.
async fn reconnect() {
    let c = page("/kds").await;
    let pin = wait_find(&c, "pin-input", Duration::from_secs(20)).await;
    pin.send_keys("1234").await.expect("PIN");
    click(&c, "login-submit").await;
    wait_state(&c, "connection-status", "live", Duration::from_secs(15)).await;
    let run = std::process::id();
    for i in 0..5 {
        place_order(json!([{"menu_item_id": "cola", "quantity": 1}]), None, &format!("bench-reconnect-{run}-{i}"))
            .await;
    }
    hub_control("kill").await;
    wait_state(&c, "connection-status", "reconnecting", Duration::from_secs(15)).await;
    let t0 = Instant::now();
    hub_control("start").await;
    let started_ms = t0.elapsed().as_millis();
    // Orders placed while the page is reconnecting must show up too.
    place_order(json!([{"menu_item_id": "iced-tea", "quantity": 2}]), None, &format!("bench-reconnect-{run}-late"))
        .await;
    wait_state(&c, "connection-status", "live", Duration::from_secs(60)).await;
    let live_ms = t0.elapsed().as_millis();
    wait_for(Duration::from_secs(30), "the board equal to the snapshot", || async {
        let want: std::collections::BTreeSet<String> =
            snapshot().await.orders.into_iter().filter(|o| o.status.is_active()).map(|o| o.id).collect();
        let mut shown = std::collections::BTreeSet::new();
        for t in find_all(&c, "ticket").await {
            if let Ok(Some(id)) = t.attr("data-order-id").await {
                shown.insert(id);
            }
        }
        (shown == want).then_some(())
    })
    .await;
    let equal_ms = t0.elapsed().as_millis();
    let line =
        json!({"bench": "reconnect", "hub_start_ms": started_ms, "live_ms": live_ms, "board_equal_ms": equal_ms});
    println!("BENCH {line}");
    c.close().await.ok();
}

/// Records, in the page, when each ticket's DOM shows a newer `data-updated-at` (a MutationObserver
/// on the grid: latency = now − the hub's `updated_at` stamp); when the main thread has finished
/// rendering the first frame that includes that change (its style, layout and paint recorded;
/// raster, compositing and the display come after, the same for both pages); every animation frame;
/// and long tasks (each one's start and length). A frame's changes are those made before its
/// ResizeObserver step (which runs after its animation callbacks and layout; an observation started
/// again each frame fires each frame); a message posted from its animation callback runs after its
/// rendering, and stamps them. A change made after that step waits for the next frame. The stamp
/// can also wait behind tasks queued before the message. The tickets on screen now are the
/// baseline. Also counted: the tickets `content-visibility: auto` skipped, and those it drew again
/// as they came into view, by their place in the grid (`contentvisibilityautostatechange`); a
/// skipped ticket drawn again costs its frame a second style and layout pass.
const LATENCY_PROBE: &str = "const L = window.__lat = {samples: [], shown: [], pending: [], batch: [], seen: new Map(), frames: [], longtasks: 0, longtask_list: [], running: true};
  const grid = document.querySelector('[data-testid=orders-grid]');
  grid.querySelectorAll('[data-testid=ticket]').forEach(t => L.seen.set(t.dataset.orderId, t.dataset.updatedAt));
  const see = (t, now) => { const id = t.dataset.orderId, at = t.dataset.updatedAt;
    if (!at || L.seen.get(id) === at) return; L.seen.set(id, at); const stamp = Date.parse(at);
    L.samples.push(now - stamp); L.pending.push(stamp); };
  L.box = document.createElement('div');
  L.box.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;visibility:hidden;pointer-events:none';
  document.body.append(L.box);
  L.step = new ResizeObserver(() => { L.batch.push(...L.pending); L.pending.length = 0; });
  L.rendered = new MessageChannel();
  L.rendered.port1.onmessage = () => { const now = performance.timeOrigin + performance.now();
    for (const stamp of L.batch) L.shown.push(now - stamp); L.batch.length = 0; };
  L.observer = new MutationObserver(records => { const now = performance.timeOrigin + performance.now();
    for (const r of records) { for (const n of (r.type === 'attributes' ? [r.target] : r.addedNodes)) {
      if (n.nodeType !== 1) continue;
      if (n.matches('[data-testid=ticket]')) see(n, now); else n.querySelectorAll('[data-testid=ticket]').forEach(t => see(t, now)); } } });
  L.observer.observe(grid, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-updated-at']});
  L.cv = {shown: 0, skipped: 0, shown_at: {}};
  L.cvListener = (e) => { if (!L.running || !e.target.matches('[data-testid=ticket]')) return;
    if (e.skipped) { L.cv.skipped += 1; return; } L.cv.shown += 1;
    const at = Array.prototype.indexOf.call(grid.children, e.target); const bucket = at < 12 ? 'top 12' : at < 40 ? '12-39' : at < 100 ? '40-99' : '100+';
    L.cv.shown_at[bucket] = (L.cv.shown_at[bucket] || 0) + 1; };
  grid.addEventListener('contentvisibilityautostatechange', L.cvListener, true);
  requestAnimationFrame(function frame(t) { if (!L.running) return; L.frames.push(t);
    L.step.unobserve(L.box); L.step.observe(L.box); L.rendered.port2.postMessage(0); requestAnimationFrame(frame); });
  try { new PerformanceObserver(l => { for (const e of l.getEntries()) { L.longtasks += 1;
    L.longtask_list.push([Math.round(e.startTime), Math.round(e.duration)]); } }).observe({type: 'longtask'}); } catch (e) {}";

/// The functions with the most self time in a DevTools CPU profile (`BENCH_PROFILE=1`), then
/// those with the most time including what they call (each sample counts once per function on
/// its stack), which names the caller behind generic hot spots such as `malloc`.
fn print_profile(label: &str, profile: &Value) {
    use std::collections::{HashMap, HashSet};
    let nodes: Vec<&Value> = profile["nodes"].as_array().into_iter().flatten().collect();
    let name_of = |node: &Value| {
        let f = &node["callFrame"];
        format!(
            "{} {}",
            f["functionName"].as_str().unwrap_or("?"),
            f["url"].as_str().unwrap_or("").rsplit('/').next().unwrap_or("")
        )
    };
    let mut by_name: HashMap<String, u64> = HashMap::new();
    let mut total = 0u64;
    let mut parent: HashMap<u64, u64> = HashMap::new();
    let mut names: HashMap<u64, String> = HashMap::new();
    for node in &nodes {
        let hits = node["hitCount"].as_u64().unwrap_or(0);
        total += hits;
        let name = name_of(node);
        *by_name.entry(name.clone()).or_default() += hits;
        let id = node["id"].as_u64().unwrap_or(0);
        names.insert(id, name);
        for child in node["children"].as_array().into_iter().flatten().filter_map(Value::as_u64) {
            parent.insert(child, id);
        }
    }
    let print = |title: &str, counts: HashMap<String, u64>| {
        let mut rows: Vec<_> = counts.into_iter().collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.1));
        println!("PROFILE {label} {title}: {total} samples");
        for (name, hits) in rows.into_iter().take(40) {
            println!("PROFILE {label} {:5.1}% {name}", hits as f64 * 100.0 / total.max(1) as f64);
        }
    };
    print("self", by_name);
    let mut inclusive: HashMap<String, u64> = HashMap::new();
    for node in &nodes {
        let hits = node["hitCount"].as_u64().unwrap_or(0);
        if hits == 0 {
            continue;
        }
        let mut on_stack = HashSet::new();
        let mut at = node["id"].as_u64();
        while let Some(id) = at {
            if let Some(name) = names.get(&id)
                && on_stack.insert(name.as_str())
            {
                *inclusive.entry(name.clone()).or_default() += hits;
            }
            at = parent.get(&id).copied();
        }
    }
    // The page's own functions by inclusive time: where in this project's code the time goes.
    let ours: HashMap<String, u64> =
        inclusive.iter().filter(|(name, _)| name.contains("restaurant_")).map(|(n, h)| (n.clone(), *h)).collect();
    print("inclusive", inclusive);
    print("inclusive, this project's functions", ours);
}

/// Where the JS heap's allocations were made during a run (`BENCH_HEAP=1`): a sampled allocation
/// profile, the objects collected since included, summed by the function that allocated (self)
/// and by every function on its stack (inclusive). Garbage the baseline does not make is what
/// brings the collections it does not have.
fn print_heap_profile(label: &str, profile: &Value) {
    use std::collections::{HashMap, HashSet};
    fn walk(node: &Value, stack: &mut Vec<String>, out: &mut Vec<(Vec<String>, f64)>) {
        let f = &node["callFrame"];
        let name = format!(
            "{} {}",
            f["functionName"].as_str().filter(|n| !n.is_empty()).unwrap_or("(anonymous)"),
            f["url"].as_str().unwrap_or("").rsplit('/').next().unwrap_or("")
        );
        stack.push(name);
        out.push((stack.clone(), node["selfSize"].as_f64().unwrap_or(0.0)));
        for child in node["children"].as_array().into_iter().flatten() {
            walk(child, stack, out);
        }
        stack.pop();
    }
    let mut nodes = Vec::new();
    walk(&profile["head"], &mut Vec::new(), &mut nodes);
    let total: f64 = nodes.iter().map(|n| n.1).sum();
    let (mut own, mut inclusive): (HashMap<String, f64>, HashMap<String, f64>) = Default::default();
    for (stack, size) in nodes.iter().filter(|n| n.1 > 0.0) {
        *own.entry(stack.last().cloned().unwrap_or_default()).or_default() += size;
        let mut seen = HashSet::new();
        for name in stack.iter().filter(|name| seen.insert(name.as_str())) {
            *inclusive.entry(name.clone()).or_default() += size;
        }
    }
    for (title, counts) in [("self", own), ("inclusive", inclusive)] {
        let mut rows: Vec<_> = counts.into_iter().collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        println!("HEAP {label} {title}: {:.1} MB allocated (sampled)", total / 1e6);
        for (name, size) in rows.into_iter().take(30) {
            println!("HEAP {label} {:5.1}% {:8.1} KB {name}", size * 100.0 / total.max(1.0), size / 1e3);
        }
    }
}

/// `Performance.getMetrics` as name → value.
async fn metrics(c: &Client) -> std::collections::HashMap<String, f64> {
    let metrics = cdp(c, "Performance.getMetrics", json!({})).await;
    metrics["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["name"].as_str()?.to_string(), m["value"].as_f64()?)))
        .collect()
}

/// Main-thread time so far (seconds): script, style, layout, all tasks.
async fn main_thread(c: &Client) -> Value {
    let all = metrics(c).await;
    let pick = |k: &str| all.get(k).copied().unwrap_or(f64::NAN);
    json!({
        "ScriptDuration": pick("ScriptDuration"),
        "RecalcStyleDuration": pick("RecalcStyleDuration"),
        "LayoutDuration": pick("LayoutDuration"),
        "LayoutCount": pick("LayoutCount"),
        "TaskDuration": pick("TaskDuration"),
    })
}

/// Makes sure the hub has `tickets` active orders (a realistic mix of items).
async fn latency_orders(tickets: usize) {
    const ITEMS: [&str; 8] = [
        "cheeseburger",
        "fries-large",
        "cola",
        "chicken-tenders",
        "veggie-burger",
        "onion-rings",
        "lemonade",
        "apple-pie",
    ];
    let active = snapshot().await.orders.into_iter().filter(|o| o.status.is_active()).count();
    let run = std::process::id();
    for i in active..tickets {
        let items = json!([
            {"menu_item_id": ITEMS[i % ITEMS.len()], "quantity": 1 + i % 3},
            {"menu_item_id": ITEMS[(i + 3) % ITEMS.len()], "quantity": 1, "special_instructions": if i % 4 == 0 { json!("no onions") } else { json!(null) }},
        ]);
        place_order(items, (i % 5 == 0).then_some("table by the window"), &format!("bench-latency-{run}-{i}")).await;
    }
}

/// `path` (the real KDS, signed in, or the baseline) live and showing every active ticket; how
/// many that is.
async fn kds_showing_all(label: &str, path: &str) -> (Client, usize) {
    let c = page(path).await;
    if label == "leptos" {
        // Signed in from the keyboard (Enter submits the form): a click would leave WebDriver's
        // pointer resting over the grid, and the browser would hit-test it after every layout
        // and restyle what it hovers as the tickets move under it; a kitchen screen is worked
        // by touch and the bump bar, and the baseline is never clicked.
        let pin = wait_find(&c, "pin-input", Duration::from_secs(20)).await;
        pin.send_keys("1234\u{E007}").await.expect("PIN and Enter");
    }
    wait_state(&c, "connection-status", "live", Duration::from_secs(20)).await;
    let expected = snapshot().await.orders.into_iter().filter(|o| o.status.is_active()).count();
    wait_for(Duration::from_secs(120), "every active ticket on screen", || async {
        (find_all(&c, "ticket").await.len() == expected).then_some(())
    })
    .await;
    (c, expected)
}

/// Every ticket on the page in grid order, as `[order id, shape]`: its elements, their sorted
/// classes and attributes, and their text, with each clock read as `mm:ss` (the two pages are read
/// a moment apart). Comments and empty text (a framework's markers) are left out, adjacent text
/// is joined; only the flash's inline animation delay is not compared.
const TICKET_SHAPES: &str = "
  const shape = (n) => {
    if (n.nodeType === Node.TEXT_NODE) return JSON.stringify(n.data.replace(/\\d\\d:\\d\\d/g, 'mm:ss'));
    const attrs = [...n.attributes].filter(a => a.name !== 'style')
      .map(a => a.name + '=' + (a.name === 'class' ? a.value.split(/\\s+/).filter(Boolean).sort().join(' ') : a.value.replace(/\\d\\d:\\d\\d/g, 'mm:ss')))
      .sort();
    return '<' + n.localName + ' ' + attrs.join(' ') + '>' + [...n.childNodes].map(shape).join('') + '</' + n.localName + '>';
  };
  const clean = (t) => {
    const copy = t.cloneNode(true);
    const walker = document.createTreeWalker(copy, NodeFilter.SHOW_COMMENT | NodeFilter.SHOW_TEXT);
    const drop = [];
    while (walker.nextNode()) { const n = walker.currentNode; if (n.nodeType === Node.COMMENT_NODE || n.data === '') drop.push(n); }
    drop.forEach(n => n.remove());
    copy.normalize();
    return copy;
  };
  return [...document.querySelectorAll('[data-testid=ticket]')].map(t => [t.dataset.orderId, shape(clean(t))]);";

/// Where the grid stands on the page and the first tickets in it (CSS pixels, rounded), and the
/// size of the ticket's text: the same in both pages when the baseline has the real page's frame.
const GRID_PLACE: &str = "
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height].map(Math.round); };
  const grid = document.querySelector('[data-testid=orders-grid]');
  const tickets = [...grid.querySelectorAll('[data-testid=ticket]')].slice(0, 12);
  return {grid: box(grid).slice(0, 3), tickets: tickets.map(box),
          font: tickets.length ? getComputedStyle(tickets[0]).font : null,
          viewport: [innerWidth, innerHeight]};";

/// The baseline is only a baseline if it draws the ticket the real page draws: both pages side by
/// side, no load: the grid's place and the first tickets' boxes, then every ticket compared (read
/// again a few times, in case an age level turned between the two reads). Fails the benchmark on
/// the first difference.
async fn same_tickets(vanilla: &str, tickets: usize) {
    latency_orders(tickets).await;
    let (real, count) = kds_showing_all("leptos", "/kds").await;
    let (base, _) = kds_showing_all("vanilla", vanilla).await;
    let mut difference = None;
    for _ in 0..3 {
        let (place, base_place) = (eval(&real, GRID_PLACE).await, eval(&base, GRID_PLACE).await);
        if place != base_place {
            difference =
                Some(format!("the grid and its first tickets stand at\nreal page:\n{place}\nbaseline:\n{base_place}"));
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let (a, b) = (eval(&real, TICKET_SHAPES).await, eval(&base, TICKET_SHAPES).await);
        let (a, b) = (a.as_array().cloned().unwrap_or_default(), b.as_array().cloned().unwrap_or_default());
        difference = if a.len() != b.len() {
            Some(format!("{} tickets on the real page, {} on the baseline", a.len(), b.len()))
        } else {
            a.iter().zip(&b).find(|(x, y)| x != y).map(|(x, y)| format!("real page:\n{x}\nbaseline:\n{y}"))
        };
        if difference.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    real.close().await.ok();
    base.close().await.ok();
    if let Some(difference) = difference {
        panic!("the baseline does not draw the real page's tickets (first difference, in grid order):\n{difference}");
    }
    println!("bench: the baseline draws the real page's {count} tickets, element for element");
}

/// The hub sends `per_second` ticket updates for `seconds` while `path` shows every active ticket.
async fn kds_latency(label: &str, path: &str, tickets: usize, per_second: u32, seconds: u32) {
    latency_orders(tickets).await;
    let (c, expected) = kds_showing_all(label, path).await;
    // An experiment (`BENCH_CSS="…"`): rules added to both pages' stylesheets for this run.
    if let Ok(css) = std::env::var("BENCH_CSS") {
        let add = format!(
            "const s = document.createElement('style'); s.textContent = {}; document.head.append(s);",
            json!(css)
        );
        eval(&c, &add).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    eval(&c, LATENCY_PROBE).await;
    // `BENCH_TRACE=1`: a DevTools trace of the run, summed by event (layout passes with how many
    // objects each had to lay out).
    let tracer = if std::env::var("BENCH_TRACE").is_ok() { Some(Tracer::start(&c).await) } else { None };
    let main_thread_before = main_thread(&c).await;
    let profile = std::env::var("BENCH_PROFILE").is_ok();
    if profile {
        cdp(&c, "Profiler.enable", json!({})).await;
        cdp(&c, "Profiler.start", json!({})).await;
    }
    let heap = std::env::var("BENCH_HEAP").is_ok();
    if heap {
        cdp(&c, "HeapProfiler.enable", json!({})).await;
        cdp(
            &c,
            "HeapProfiler.startSampling",
            json!({"samplingInterval": 16384, "includeObjectsCollectedByMajorGC": true,
                   "includeObjectsCollectedByMinorGC": true}),
        )
        .await;
    }
    let load = reqwest::Client::builder()
        .timeout(Duration::from_secs(u64::from(seconds) + 60))
        .build()
        .expect("HTTP client")
        .post(format!("{}/api/v1/dev/update-load", hub()))
        .json(&json!({"per_second": per_second, "seconds": seconds}))
        .send()
        .await
        .expect("hub reachable");
    assert!(load.status().is_success(), "update-load: {}", load.status());
    let sent: Value = load.json().await.expect("load report");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let main_thread_after = main_thread(&c).await;
    if let Some(tracer) = tracer {
        tracer.stop(label).await;
    }
    if profile {
        print_profile(label, &cdp(&c, "Profiler.stop", json!({})).await["profile"]);
    }
    if heap {
        print_heap_profile(label, &cdp(&c, "HeapProfiler.stopSampling", json!({})).await["profile"]);
    }
    let busy = |k: &str| {
        main_thread_after[k].as_f64().unwrap_or(f64::NAN) - main_thread_before[k].as_f64().unwrap_or(f64::NAN)
    };
    let got = eval(
        &c,
        "const L = window.__lat; L.running = false; L.observer.disconnect(); L.step.disconnect(); L.box.remove();
         document.querySelector('[data-testid=orders-grid]').removeEventListener('contentvisibilityautostatechange', L.cvListener, true);
         return {cv: L.cv, samples: L.samples, shown: L.shown, frames: L.frames, longtasks: L.longtasks, longtask_list: L.longtask_list,
                 tickets: document.querySelectorAll('[data-testid=ticket]').length};",
    )
    .await;
    c.close().await.ok();
    let mut samples: Vec<f64> =
        got["samples"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
    samples.sort_by(f64::total_cmp);
    let mut shown: Vec<f64> =
        got["shown"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
    shown.sort_by(f64::total_cmp);
    let frames: Vec<f64> =
        got["frames"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
    let mut gaps: Vec<f64> = frames.windows(2).map(|w| w[1] - w[0]).collect();
    let longest_gap = gaps.iter().copied().fold(0.0, f64::max);
    gaps.sort_by(f64::total_cmp);
    let frame = percentile(&gaps, 0.5);
    // A gap of k frame intervals means k − 1 frames were not produced.
    let dropped: f64 = gaps.iter().map(|g| ((g / frame).round() - 1.0).max(0.0)).sum();
    let line = json!({
        "bench": "kds_latency",
        "page": label,
        "tickets": expected,
        "per_second": per_second,
        "seconds": seconds,
        "updates_sent": sent["updates"],
        "updates_seen": samples.len(),
        "hub_max_lag_ms": sent["max_lag_ms"],
        "p50_ms": percentile(&samples, 0.5),
        "p99_ms": percentile(&samples, 0.99),
        "max_ms": samples.last().copied().unwrap_or(f64::NAN),
        "updates_shown": shown.len(),
        "shown_p50_ms": percentile(&shown, 0.5),
        "shown_p99_ms": percentile(&shown, 0.99),
        "shown_max_ms": shown.last().copied().unwrap_or(f64::NAN),
        "frames": frames.len(),
        "frame_ms": frame,
        "dropped_frames": dropped,
        "longest_frame_gap_ms": longest_gap,
        "long_tasks": got["longtasks"],
        "long_task_list": got["longtask_list"],
        "script_s": busy("ScriptDuration"),
        "style_s": busy("RecalcStyleDuration"),
        "layout_s": busy("LayoutDuration"),
        "layouts": busy("LayoutCount"),
        "task_s": busy("TaskDuration"),
        "content_visibility": got["cv"],
    });
    println!("BENCH {line}");
}

/// Installed before any page script: when the microphone is granted (Chromium starts playing the
/// `--use-file-for-fake-audio-capture` WAV then), and every event the voice data channel delivers,
/// on the page's clock.
const VOICE_PROBE: &str = "(() => { const V = window.__voice = {micAt: null, events: []};
  const media = navigator.mediaDevices, gum = media.getUserMedia.bind(media);
  media.getUserMedia = async (...a) => { const s = await gum(...a); if (V.micAt === null) V.micAt = performance.now(); return s; };
  const create = RTCPeerConnection.prototype.createDataChannel;
  RTCPeerConnection.prototype.createDataChannel = function (...a) { const ch = create.apply(this, a);
    ch.addEventListener('message', e => { let t = ''; try { t = JSON.parse(e.data).type; } catch (_) {} V.events.push([performance.now(), t]); });
    return ch; }; })();";

/// The voice path with the hub's own peer, as a customer uses it: a recorded conversation of the
/// spoken test set is the kiosk's microphone; the customer taps to talk before each turn and taps
/// again (the release: the turn is sent) just after it. From that tap: the first transcript delta,
/// the transcript completed, and the first reply audio (`output_audio_buffer.started`).
async fn voice_turns(conversations: usize) {
    let root = std::path::PathBuf::from(env("E2E_SPEECH_SET"));
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("manifest.json")).expect("speech-set manifest"))
            .expect("manifest JSON");
    let items = manifest["items"].as_array().expect("items");
    // One from each stretch of the set, one place further into it each time, so the voices, speeds
    // and noise vary (distinct: the k-th lies in the k-th stretch).
    let conversations = conversations.min(items.len());
    let step = (items.len() / conversations.max(1)).max(1);
    let picked = (0..conversations).map(|k| &items[k * step + k % step]);
    let (mut delta, mut completed, mut audio) = (Vec::new(), Vec::new(), Vec::new());
    let (mut turns, mut failed) = (0, Vec::new());
    for item in picked {
        let wav = root.join(item["conversation"].as_str().expect("conversation WAV"));
        // The first two turns: the order, then "that's all" after the read-back.
        let spans: Vec<Value> =
            item["conversation_turns_ms"].as_array().expect("turn times").iter().take(2).cloned().collect();
        let c = browser_with(&[&format!("--use-file-for-fake-audio-capture={}%noloop", wav.display())]).await;
        c.update_timeouts(TimeoutConfiguration::new(Some(Duration::from_secs(120)), None, None))
            .await
            .expect("timeouts");
        cdp(&c, "Page.addScriptToEvaluateOnNewDocument", json!({"source": VOICE_PROBE})).await;
        c.goto(&format!("{}/kiosk", hub())).await.expect("kiosk page");
        eval(&c, HELPERS).await;
        wait_find(&c, "voice-order-button", Duration::from_secs(20)).await;
        let script = "const [spans, done] = arguments;
          const V = window.__voice, button = () => __q('[data-testid=voice-order-button]');
          const voice = () => (__q('[data-testid=voice-status]') || { getAttribute: () => 'disconnected' }).getAttribute('data-state');
          const on_wav = (ms) => new Promise(ok => setTimeout(ok, Math.max(0, V.micAt + ms - performance.now())));
          (async () => {
            button().click();
            await __until(() => voice() === 'idle' && V.micAt !== null, 15000);
            const out = [];
            for (const [start, end] of spans) {
              await on_wav(start - 500);
              button().click();
              try { await __until(() => voice() === 'recording', 2000); }
              catch (e) { out.push({error: 'the tap to talk did not record (voice state ' + voice() + ')'}); continue; }
              await on_wav(end + 300);
              const from = V.events.length, released = performance.now();
              button().click();
              await __until(() => V.events.slice(from).some(e => e[1] === 'output_audio_buffer.started'), 10000).catch(() => {});
              const first = (type) => { const e = V.events.slice(from).find(e => e[1] === type); return e ? e[0] - released : null; };
              out.push({timeline: V.events.slice(from).map(e => Math.round(e[0] - released) + ' ' + e[1]).join(', '),
                        delta: first('conversation.item.input_audio_transcription.delta'),
                        completed: first('conversation.item.input_audio_transcription.completed'),
                        audio: first('output_audio_buffer.started')});
            }
            done(out); })().catch(e => done(String(e) + '; voice state ' + voice() + '; errors ' + JSON.stringify(window.__errors.slice(-3))));";
        let got = c.execute_async(script, vec![json!(spans)]).await.expect("voice turns");
        c.close().await.ok();
        let Some(rows) = got.as_array() else {
            eprintln!("voice_turns {}: the conversation failed: {got}", item["dir"]);
            failed.push(format!("{}: {got}", item["dir"]));
            continue;
        };
        for row in rows {
            if let Some(error) = row["error"].as_str() {
                eprintln!("voice_turns {}: a turn failed: {error}", item["dir"]);
                failed.push(format!("{}: {error}", item["dir"]));
                continue;
            }
            // What followed the release, for reading a slow turn.
            println!("voice_turns {}: after the release (ms): {}", item["dir"], row["timeline"].as_str().unwrap_or(""));
            turns += 1;
            let keep = |k: &str, into: &mut Vec<f64>| {
                if let Some(ms) = row[k].as_f64() {
                    into.push(ms);
                }
            };
            keep("delta", &mut delta);
            keep("completed", &mut completed);
            keep("audio", &mut audio);
        }
    }
    for v in [&mut delta, &mut completed, &mut audio] {
        v.sort_by(f64::total_cmp);
    }
    let line = json!({
        "bench": "voice_turns",
        "conversations": conversations,
        "turns": turns,
        "failed": failed.len(),
        "delta_n": delta.len(), "delta_p50_ms": percentile(&delta, 0.5), "delta_p95_ms": percentile(&delta, 0.95),
        "completed_n": completed.len(), "completed_p50_ms": percentile(&completed, 0.5), "completed_p95_ms": percentile(&completed, 0.95),
        "audio_n": audio.len(), "audio_p50_ms": percentile(&audio, 0.5), "audio_p95_ms": percentile(&audio, 0.95),
    });
    println!("BENCH {line}");
    assert!(turns > 0, "no voice turn was measured: {failed:?}");
}

/// A DevTools trace of the browser (`BENCH_TRACE=1`), through the browser's own DevTools socket
/// (chromedriver's command endpoint cannot deliver a trace's events).
struct Tracer {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
}

/// A trace event's count, time and objects (layout: to lay out / in the tree; style: elements).
#[derive(Default)]
struct TraceRow {
    count: u64,
    ms: f64,
    dirty: f64,
    total: f64,
}

impl Tracer {
    async fn start(c: &Client) -> Tracer {
        use futures_util::SinkExt;
        let address = c
            .capabilities()
            .and_then(|caps| caps["goog:chromeOptions"]["debuggerAddress"].as_str().map(str::to_string))
            .expect("chromedriver names the browser's DevTools address");
        let version: Value = reqwest::get(format!("http://{address}/json/version"))
            .await
            .expect("DevTools reachable")
            .json()
            .await
            .expect("DevTools version JSON");
        let url = version["webSocketDebuggerUrl"].as_str().expect("the browser's DevTools socket").to_string();
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("DevTools socket");
        // `BENCH_TRACE=invalidations` also records what marked layout dirty (slower: each mark is
        // an event).
        let mut categories = vec!["devtools.timeline", "disabled-by-default-devtools.timeline"];
        match std::env::var("BENCH_TRACE").as_deref() {
            Ok("invalidations") => categories.push("disabled-by-default-devtools.timeline.invalidationTracking"),
            // The engine's own spans: what a layout pass ran inside.
            Ok("blink") => categories.push("blink"),
            _ => {}
        }
        let start = json!({"id": 1, "method": "Tracing.start", "params": {"transferMode": "ReportEvents",
            "traceConfig": {"includedCategories": categories}}});
        ws.send(tokio_tungstenite::tungstenite::Message::text(start.to_string())).await.expect("Tracing.start");
        let answer = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(message)) = futures_util::StreamExt::next(&mut ws).await {
                let answer: Value =
                    message.into_text().ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
                if answer["id"] == 1 {
                    return answer;
                }
            }
            Value::Null
        })
        .await
        .expect("Tracing.start answered within 10 s");
        assert!(answer.get("error").is_none() && !answer.is_null(), "Tracing.start: {answer}");
        Tracer { ws }
    }

    /// Ends the trace and prints, per event name, how often and how long; the layout passes'
    /// quartiles with how many objects each had to lay out; and what each long task (a task of
    /// the browser over 50 ms) was made of, by event.
    async fn stop(mut self, label: &str) {
        use futures_util::{SinkExt, StreamExt};
        let end = json!({"id": 2, "method": "Tracing.end"}).to_string();
        self.ws.send(tokio_tungstenite::tungstenite::Message::text(end)).await.expect("Tracing.end");
        let mut by_name: std::collections::HashMap<String, TraceRow> = std::collections::HashMap::new();
        let mut layouts: Vec<(f64, f64, f64)> = Vec::new();
        let mut forced: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        // Every timed event, and the threads' names, for taking the long tasks apart.
        let mut timed: Vec<Timed> = Vec::new();
        let mut threads: std::collections::HashMap<(u64, u64), String> = std::collections::HashMap::new();
        // Each mark of layout as dirty: (thread, time, reason and node).
        let mut invalidations: Vec<((u64, u64), f64, String)> = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, self.ws.next()).await {
            let Ok(text) = message.into_text() else { continue };
            let Ok(m) = serde_json::from_str::<Value>(&text) else { continue };
            if m["method"] == "Tracing.tracingComplete" {
                break;
            }
            for event in m["params"]["value"].as_array().into_iter().flatten() {
                let name = event["name"].as_str().unwrap_or_default();
                let ms = event["dur"].as_f64().unwrap_or(0.0) / 1000.0;
                let number = |k: &str| event["args"]["beginData"][k].as_f64().unwrap_or(0.0);
                let (dirty, total) = match name {
                    "Layout" => (number("dirtyObjects"), number("totalObjects")),
                    "UpdateLayoutTree" => (event["args"]["elementCount"].as_f64().unwrap_or(0.0), 0.0),
                    _ => (0.0, 0.0),
                };
                if name == "Layout" {
                    layouts.push((ms, dirty, total));
                    // A layout the page's script forced (it read layout after a change) carries
                    // the script's stack.
                    if let Some(frame) = event["args"]["beginData"]["stackTrace"].as_array().and_then(|s| s.first()) {
                        let at = format!(
                            "{} {}",
                            frame["functionName"].as_str().unwrap_or("?"),
                            frame["url"].as_str().unwrap_or("").rsplit('/').next().unwrap_or("")
                        );
                        *forced.entry(at).or_default() += 1;
                    }
                }
                let thread = (event["pid"].as_u64().unwrap_or(0), event["tid"].as_u64().unwrap_or(0));
                if name == "LayoutInvalidationTracking" {
                    let data = &event["args"]["data"];
                    let node = data["nodeName"].as_str().unwrap_or("?");
                    // An element's name is followed by its id and classes: a ticket's elements are
                    // counted together, any other by its tag.
                    let node = node
                        .split_once(' ')
                        .map_or(node, |(tag, rest)| if rest.contains("ticket") { "a ticket's element" } else { tag });
                    let what = format!("{} on {node}", data["reason"].as_str().unwrap_or("?"));
                    invalidations.push((thread, event["ts"].as_f64().unwrap_or(0.0), what));
                }
                if event["ph"] == "M" && name == "thread_name" {
                    threads.insert(thread, event["args"]["name"].as_str().unwrap_or_default().to_string());
                }
                if ms > 0.0 {
                    let data = &event["args"]["data"];
                    let what = [data["type"].as_str(), data["functionName"].as_str(), data["url"].as_str()]
                        .into_iter()
                        .flatten()
                        .filter(|s| !s.is_empty())
                        .fold(name.to_string(), |what, detail| {
                            format!("{what} {}", detail.rsplit('/').next().unwrap_or_default())
                        });
                    // The engine's spans (`BENCH_TRACE=blink`) name their reason in their arguments.
                    let what = match event["args"].as_object() {
                        Some(args) if data.is_null() && !args.is_empty() && event["cat"] == "blink" => {
                            format!("{what} {}", Value::Object(args.clone()))
                        }
                        _ => what,
                    };
                    let start_us = event["ts"].as_f64().unwrap_or(0.0);
                    timed.push(Timed { thread, start_us, ms, name: name.to_string(), what });
                }
                let row = by_name.entry(name.to_string()).or_default();
                row.count += 1;
                row.ms += ms;
                row.dirty += dirty;
                row.total += total;
            }
        }
        layouts.sort_by(|a, b| a.0.total_cmp(&b.0));
        for q in [0.25, 0.5, 0.75, 0.99] {
            if let Some((ms, dirty, total)) = layouts.get(((layouts.len() as f64 - 1.0) * q) as usize) {
                println!("TRACE {label} layout pass q{q}: {ms:.2} ms, {dirty} of {total} objects to lay out");
            }
        }
        let mut forced: Vec<_> = forced.into_iter().collect();
        forced.sort_by_key(|entry| std::cmp::Reverse(entry.1));
        println!(
            "TRACE {label} layout passes forced by script: {} of {}",
            forced.iter().map(|f| f.1).sum::<u64>(),
            layouts.len()
        );
        for (at, n) in forced.iter().take(5) {
            println!("TRACE {label} layout forced at {at}: ×{n}");
        }
        print_long_tasks(label, &mut timed, &threads);
        print_layout_parents(label, &timed, &threads);
        let early = print_early_layouts(label, &timed);
        print_invalidations(label, &invalidations, &timed, &early);
        let mut rows: Vec<_> = by_name.into_iter().collect();
        rows.sort_by(|a, b| b.1.ms.total_cmp(&a.1.ms));
        for (name, r) in rows.into_iter().take(20) {
            let n = r.count as f64;
            println!(
                "TRACE {label} {name:40} ×{:6} {:9.1} ms (mean {:6.3} ms; objects {:6.1} of {:6.1})",
                r.count,
                r.ms,
                r.ms / n,
                r.dirty / n,
                r.total / n
            );
        }
    }
}

/// Where in its task each layout pass on a page's main thread ran: which pass of the task it was
/// and what ran just before it in that task (at the same depth), counted, the most frequent first.
/// `timed` is sorted as [`print_long_tasks`] leaves it.
fn print_layout_parents(label: &str, timed: &[Timed], threads: &std::collections::HashMap<(u64, u64), String>) {
    let mut kinds: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut shapes: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut count = |children: &[&Timed]| {
        if children.iter().filter(|c| c.name == "Layout").count() > 1 {
            let mut names: Vec<&str> = children.iter().map(|c| c.what.as_str()).collect();
            names.dedup();
            *shapes.entry(names.join(" | ")).or_default() += 1;
        }
        let mut nth = 0;
        for (i, child) in children.iter().enumerate() {
            if child.name == "Layout" {
                nth += 1;
                let before = if i == 0 { "nothing" } else { children[i - 1].what.as_str() };
                *kinds.entry(format!("pass {nth} of its task, after {before}")).or_default() += 1;
            }
        }
    };
    let mut task_end = f64::NEG_INFINITY;
    let mut children: Vec<&Timed> = Vec::new();
    let mut child_end = f64::NEG_INFINITY;
    let mut thread = None;
    for event in timed {
        if threads.get(&event.thread).is_none_or(|name| name != "CrRendererMain") {
            continue;
        }
        let end = event.start_us + event.ms * 1000.0;
        if thread != Some(event.thread) || (event.name == "RunTask" && event.start_us >= task_end) {
            count(&children);
            children.clear();
            thread = Some(event.thread);
            task_end = if event.name == "RunTask" { end } else { f64::NEG_INFINITY };
            child_end = f64::NEG_INFINITY;
            continue;
        }
        if event.start_us < task_end && event.start_us >= child_end {
            children.push(event);
            child_end = end;
        }
    }
    count(&children);
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    for (kind, n) in kinds.iter().take(10) {
        println!("TRACE {label} layout {kind}: ×{n}");
    }
    let mut shapes: Vec<_> = shapes.into_iter().collect();
    shapes.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    for (shape, n) in shapes.iter().take(4) {
        println!("TRACE {label} a task with more than one layout: ×{n}: {shape}");
    }
}

/// The layout passes a task ran before its animation-frame callbacks, and the spans each ran
/// inside (the outermost first), counted. `timed` is sorted as [`print_long_tasks`] leaves it.
/// Returns each such pass's (thread, start).
fn print_early_layouts(label: &str, timed: &[Timed]) -> std::collections::HashSet<((u64, u64), u64)> {
    let mut early = std::collections::HashSet::new();
    let mut chains: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for (t, task) in timed.iter().enumerate() {
        if task.name != "RunTask" {
            continue;
        }
        let task_end = task.start_us + task.ms * 1000.0;
        let inside: Vec<&Timed> =
            timed[t + 1..].iter().take_while(|e| e.thread == task.thread && e.start_us < task_end).collect();
        let Some(frame) = inside.iter().position(|e| e.name == "FireAnimationFrame") else { continue };
        for (i, layout) in inside[..frame].iter().enumerate() {
            if layout.name != "Layout" {
                continue;
            }
            early.insert((layout.thread, layout.start_us as u64));
            let end = layout.start_us + layout.ms * 1000.0;
            let chain: Vec<&str> =
                inside[..i].iter().filter(|e| e.start_us + e.ms * 1000.0 >= end).map(|e| e.what.as_str()).collect();
            *chains.entry(chain.join(" > ")).or_default() += 1;
            // The first few in full: everything the task ran before it.
            if chains.values().sum::<u64>() <= 3 {
                let before: Vec<&str> = inside[..i].iter().map(|e| e.what.as_str()).collect();
                println!("TRACE {label} a layout before the animation frames, after [{}]", before.join(" | "));
            }
        }
    }
    let mut chains: Vec<_> = chains.into_iter().collect();
    chains.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    for (chain, n) in chains.iter().take(6) {
        println!("TRACE {label} a layout before the animation frames, inside [{chain}] ×{n}");
    }
    early
}

/// What marked layout dirty (`BENCH_TRACE=invalidations`), counted by reason and node, apart for
/// the layout passes run before a frame's animation callbacks (`early`) and for the rest: each
/// mark is charged to the next layout pass on its thread.
fn print_invalidations(
    label: &str,
    invalidations: &[((u64, u64), f64, String)],
    timed: &[Timed],
    early: &std::collections::HashSet<((u64, u64), u64)>,
) {
    if invalidations.is_empty() {
        return;
    }
    let mut layouts: Vec<((u64, u64), f64)> =
        timed.iter().filter(|e| e.name == "Layout").map(|e| (e.thread, e.start_us)).collect();
    layouts.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut counts: std::collections::HashMap<(bool, &str), u64> = std::collections::HashMap::new();
    for (thread, at, what) in invalidations {
        let next = layouts.partition_point(|(t, start)| (*t, *start) < (*thread, *at));
        let Some((t, start)) = layouts.get(next).filter(|(t, _)| t == thread) else { continue };
        let first = early.contains(&(*t, *start as u64));
        *counts.entry((first, what.as_str())).or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    for first in [true, false] {
        let which = if first { "before a layout ahead of a frame's callbacks" } else { "before other layouts" };
        for ((_, what), n) in counts.iter().filter(|((f, _), _)| *f == first).take(8) {
            println!("TRACE {label} layout marked dirty {which}: {what} ×{n}");
        }
    }
}

/// A trace event with a duration.
struct Timed {
    /// (process, thread)
    thread: (u64, u64),
    start_us: f64,
    ms: f64,
    name: String,
    /// The name with the event's type, function or script where the trace gives them.
    what: String,
}

/// Each task over 50 ms (`RunTask`) on a page's main thread (`CrRendererMain`), with the events
/// inside it summed by what they were (nested events count inside their parents too), the largest
/// first. Times are from the start of the trace.
fn print_long_tasks(label: &str, timed: &mut [Timed], threads: &std::collections::HashMap<(u64, u64), String>) {
    // By thread, then start; of two events starting together the longer (the parent) first.
    timed.sort_by(|a, b| a.thread.cmp(&b.thread).then(a.start_us.total_cmp(&b.start_us)).then(b.ms.total_cmp(&a.ms)));
    let first = timed.iter().map(|e| e.start_us).fold(f64::INFINITY, f64::min);
    for (i, task) in timed.iter().enumerate() {
        let main = threads.get(&task.thread).is_some_and(|name| name == "CrRendererMain");
        if task.name != "RunTask" || task.ms <= 50.0 || !main {
            continue;
        }
        let end = task.start_us + task.ms * 1000.0;
        let mut inside: std::collections::HashMap<&str, (u32, f64)> = std::collections::HashMap::new();
        for event in timed[i + 1..].iter().take_while(|e| e.thread == task.thread && e.start_us < end) {
            let entry = inside.entry(event.what.as_str()).or_default();
            entry.0 += 1;
            entry.1 += event.ms;
        }
        let mut inside: Vec<_> = inside.into_iter().collect();
        inside.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
        let parts: Vec<String> =
            inside.iter().take(12).map(|(what, (n, ms))| format!("{what} ×{n} {ms:.1} ms")).collect();
        let at = (task.start_us - first) / 1000.0;
        println!("TRACE {label} long task at {at:.0} ms, {:.1} ms: {}", task.ms, parts.join("; "));
    }
}

#[tokio::main]
async fn main() {
    // BENCH_PAGES=latency,reconnect,… runs only those (all by default).
    let only = std::env::var("BENCH_PAGES").unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only.split(',').any(|n| n.trim() == name);
    let kds: u32 = std::env::var("BENCH_KDS_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let voice: u32 = std::env::var("BENCH_VOICE_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    if wanted("kds-cycles") {
        kds_cycles(kds).await;
    }
    if wanted("voice-cycles") {
        voice_cycles(voice).await;
    }
    if wanted("voice-turns") {
        let conversations = std::env::var("BENCH_VOICE_TURNS").ok().and_then(|v| v.parse().ok()).unwrap_or(12);
        voice_turns(conversations).await;
    }
    if wanted("reconnect") {
        reconnect().await;
    }
    const VANILLA: &str = "/bench/kds-vanilla.html?pin=1234&station=kitchen";
    if wanted("latency") || wanted("scale") {
        same_tickets(VANILLA, 300).await;
    }
    if wanted("latency") {
        // A trace holds every event of the run: 8 s of it is plenty.
        let secs = if std::env::var("BENCH_TRACE").is_ok() { 8 } else { 30 };
        kds_latency("leptos", "/kds", 300, 100, secs).await;
        kds_latency("vanilla", VANILLA, 300, 100, secs).await;
    }
    // A whole evening's board at a rush-hour rate.
    if wanted("scale") {
        kds_latency("leptos", "/kds", 1000, 500, 30).await;
        kds_latency("vanilla", VANILLA, 1000, 500, 30).await;
    }
}
