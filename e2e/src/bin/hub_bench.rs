//! The hub under a whole restaurant, run by `cargo xtask bench` against its demo hub on loopback:
//! `N` kitchen screens (WebSockets signed in as `kitchen`) watch while orders are placed over
//! HTTP at 5 a second and each is bumped and then completed from another screen (10 commands a
//! second). Every event must reach every screen, in order; the figures are how long after the
//! order's POST (or the command's send) each screen read it, the POST's answer time and the
//! command's ack time. Prints `BENCH {json}` lines.
//!
//! Each delivery is timed twice: when the screen's program read the event, and when the event
//! reached the screen's kernel (the socket's receive timestamp, `SO_TIMESTAMPNS`): the hub's
//! part, without the time the screens (hundreds of them, on the same two cores as the hub) take
//! to be scheduled and read. The kernel's time is also taken from the change itself: the event's
//! `updated_at`, which the hub stamps on its store thread as it makes the change, before the
//! commit (in whole milliseconds, so up to 1 ms early). That leaves out the request's way to the
//! hub and its wait behind the changes before it. And it is taken from the event's publish, which
//! a dev hub notes (`GET /api/v1/dev/published`): its commit done, the fan-out to the screens
//! about to begin.
//!
//! The order's POST and the command's ack are timed the same two ways: when the bench read the
//! answer, and when it reached the kiosk's (or the commanding screen's) kernel. The kiosk speaks
//! HTTP/1.1 itself over one kept-alive stamped socket, as a browser keeps its connection.
//!
//! Just before each run the disk the hub writes to is timed: 4 KiB appended and `fdatasync`ed,
//! close to how SQLite commits an order (WAL, `synchronous = FULL`). A POST is answered only once
//! its order is on disk, so this is a reference for the disk's share of the POST's time.
//!
//! `HUB_BENCH_SOCKETS=50,200` and `HUB_BENCH_SECONDS=20` change the runs; the disk probe writes
//! in `HUB_BENCH_DISK_DIR` (default `target`; `cargo xtask bench` sets the hub's data folder).

use std::collections::HashMap;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use restaurant_e2e::{hub, percentile, station_token};
use restaurant_protocol::time::parse_rfc3339_millis;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Interest, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type Socket = tokio_tungstenite::WebSocketStream<Stamped>;

/// Now on the realtime clock, in ns since the Unix epoch: the clock of the receive timestamps.
fn wall_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// A TCP stream whose reads note when the kernel received what they return: the software
/// receive timestamp of the last segment read (`SO_TIMESTAMPNS`), on the realtime clock. The
/// kernel may merge queued segments and keep the later one's time, so a stamp can be later than
/// the frame's own arrival, never earlier. Its sockets set `TCP_NODELAY`, as browsers' do.
struct Stamped {
    tcp: TcpStream,
    /// The last read's timestamp (ns since the Unix epoch; 0 before any).
    received_ns: Arc<AtomicU64>,
}

impl Stamped {
    async fn connect(addr: &str) -> io::Result<Stamped> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let on: libc::c_int = 1;
        // SAFETY: a valid socket and an int option of the right size.
        let rc = unsafe {
            libc::setsockopt(
                tcp.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&raw const on).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Stamped { tcp, received_ns: Arc::new(AtomicU64::new(0)) })
    }
}

/// `recvmsg` into `out`: the bytes read and the receive timestamp that came with them.
fn recv_stamped(fd: RawFd, out: &mut [u8]) -> io::Result<(usize, Option<u64>)> {
    let mut iov = libc::iovec { iov_base: out.as_mut_ptr().cast(), iov_len: out.len() };
    let mut control = [0u64; 16];
    // SAFETY: a zeroed msghdr is valid; it points at `iov` and `control`, which outlive the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control) as _;
    // SAFETY: `fd` is an open socket and `msg` describes writable buffers.
    let n = unsafe { libc::recvmsg(fd, &raw mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut stamp = None;
    // SAFETY: the control messages the kernel wrote into `control`, walked with its macros.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
        while !cmsg.is_null() {
            let whole = (*cmsg).cmsg_len as usize >= libc::CMSG_LEN(size_of::<libc::timespec>() as u32) as usize;
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS && whole {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                stamp = Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
            }
            cmsg = libc::CMSG_NXTHDR(&raw const msg, cmsg);
        }
    }
    Ok((n as usize, stamp))
}

impl AsyncRead for Stamped {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(this.tcp.poll_read_ready(cx))?;
            let fd = this.tcp.as_raw_fd();
            match this.tcp.try_io(Interest::READABLE, || recv_stamped(fd, buf.initialize_unfilled())) {
                Ok((n, stamp)) => {
                    // A read without a timestamp leaves none (0, counted as unstamped), never
                    // the previous read's.
                    this.received_ns.store(stamp.unwrap_or(0), Ordering::Relaxed);
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for Stamped {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// An HTTP answer, and the receive timestamp of the first read that returned any of it: when the
/// kernel received the last segment that read took (ns since the Unix epoch; 0 if the read
/// carried no stamp).
struct Answer {
    status: u16,
    body: Vec<u8>,
    received_ns: u64,
}

/// A kiosk's kept-alive HTTP/1.1 connection to the hub over a stamped socket.
struct Kiosk {
    tcp: Stamped,
    host: String,
}

impl Kiosk {
    async fn connect(addr: &str) -> io::Result<Kiosk> {
        Ok(Kiosk { tcp: Stamped::connect(addr).await?, host: addr.to_string() })
    }

    /// POSTs `body` (JSON) to `path` with `headers`, in one write; reads the whole answer. Returns
    /// it with the wall-clock time (ns) just before the request was written.
    async fn post(&mut self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> io::Result<(u64, Answer)> {
        let mut request = Vec::with_capacity(256 + body.len());
        write!(
            request,
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        )?;
        for (name, value) in headers {
            write!(request, "{name}: {value}\r\n")?;
        }
        request.extend_from_slice(b"\r\n");
        request.extend_from_slice(body);
        let sent_ns = wall_ns();
        self.tcp.write_all(&request).await?;
        let answer = self.read_answer().await?;
        Ok((sent_ns, answer))
    }

    /// Reads one answer with a `Content-Length` body (the hub's JSON answers have one).
    async fn read_answer(&mut self) -> io::Result<Answer> {
        let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("the hub's answer: {what}"));
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 4096];
        let mut received_ns = None;
        let head_end = loop {
            let n = self.tcp.read(&mut chunk).await?;
            if n == 0 {
                return Err(bad("the connection closed"));
            }
            received_ns.get_or_insert(self.tcp.received_ns.load(Ordering::Relaxed));
            buf.extend_from_slice(&chunk[..n]);
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
        };
        let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| bad("headers not UTF-8"))?;
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no status"))?;
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
            })
            .ok_or_else(|| bad("no Content-Length"))?;
        while buf.len() < head_end + length {
            let n = self.tcp.read(&mut chunk).await?;
            if n == 0 {
                return Err(bad("the connection closed in the body"));
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        if buf.len() > head_end + length {
            return Err(bad("more than one answer"));
        }
        Ok(Answer { status, body: buf.split_off(head_end), received_ns: received_ns.unwrap_or(0) })
    }
}

/// The disk's own commit time, measured in the same run: `n` times 4 KiB appended to a file in
/// `dir` and `fdatasync`ed, as SQLite commits a change in WAL mode with `synchronous = FULL`.
fn disk_commit_ms(dir: &std::path::Path, n: usize) -> Vec<f64> {
    std::fs::create_dir_all(dir).expect("the disk probe's folder");
    let path = dir.join(format!("hub-bench-disk-{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&path).expect("the disk probe's file");
    let page = [0x5au8; 4096];
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        file.write_all(&page).expect("the disk probe writes");
        file.sync_data().expect("the disk probe syncs");
        ms.push(millis(started.elapsed()));
    }
    drop(file);
    let _ = std::fs::remove_file(&path);
    ms
}

const ORDERS_PER_SECOND: u32 = 5;
/// The marker in every bench order's notes: `fanout-{run}-{k}`.
const MARKER: &str = "fanout-";

fn ws_url() -> String {
    format!("{}/ws", hub().replacen("http://", "ws://", 1).replacen("https://", "wss://", 1))
}

/// The hub's `host:port`: the bench's hub is plain HTTP on loopback with its port in the URL
/// (`cargo xtask bench`).
fn hub_addr() -> String {
    let url = hub();
    url.strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .filter(|addr| addr.contains(':'))
        .unwrap_or_else(|| panic!("the fan-out bench needs an http://host:port hub, not {url}"))
        .to_string()
}

/// A kitchen screen: connected, said hello, got its welcome.
async fn screen(token: &str) -> Socket {
    let url = ws_url();
    let tcp = Stamped::connect(&hub_addr()).await.expect("TCP to the hub");
    // A screen is a browser, whose reads cost the hub's machine little. tungstenite's reader zeroes
    // its read size on every read attempt: at its default of 128 KiB, 200 screens' zeroing took
    // more of the two cores than the hub's own sending.
    let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url.as_str(), tcp, Some(config))
        .await
        .expect("WebSocket to the hub");
    let hello = json!({"type": "hello", "token": token, "station": "kitchen", "since": null});
    ws.send(Message::text(hello.to_string())).await.expect("hello sent");
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) if text.contains("\"welcome\"") => return ws,
            Some(Ok(Message::Text(text))) if text.contains("auth_failed") => panic!("hello refused: {text}"),
            Some(Ok(_)) => {}
            other => panic!("the hub closed a screen before its welcome: {other:?}"),
        }
    }
}

/// Answers the hub's heartbeat, as a screen must to stay connected.
async fn answer_ping(ws: &mut Socket, text: &str) {
    if text.starts_with("{\"type\":\"ping\"") {
        let ts = serde_json::from_str::<Value>(text).ok().and_then(|v| v["ts"].as_i64()).unwrap_or(0);
        let _ = ws.send(Message::text(json!({"type": "pong", "ts": ts}).to_string())).await;
    }
}

/// The bench order `k` of `run` in a frame, if the frame is one (cheap: no JSON parsing, so the
/// screens cost the machine little next to the hub).
fn order_mark(text: &str, run: &str) -> Option<usize> {
    let at = text.find(MARKER)? + MARKER.len();
    let rest = text[at..].strip_prefix(run)?.strip_prefix('-')?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse().ok()
}

/// The event's `seq` (the hub numbers every event it sends on the feed).
fn event_seq(text: &str) -> Option<u64> {
    let at = text.find("\"seq\":")? + 6;
    let digits = text[at..].bytes().take_while(u8::is_ascii_digit).count();
    text[at..at + digits].parse().ok()
}

/// The event's `updated_at` (Unix ms): the hub stamps a change with it on its store thread, as
/// the change is made, before its commit.
fn event_stamp(text: &str) -> Option<i64> {
    const KEY: &str = "\"updated_at\":\"";
    let at = text.find(KEY)? + KEY.len();
    let end = text[at..].find('"')?;
    parse_rfc3339_millis(&text[at..at + end])
}

/// When the hub published each recent event (ns since the Unix epoch), by `seq`.
async fn publish_log(http: &reqwest::Client) -> HashMap<u64, u64> {
    let log: Value = http
        .get(format!("{}/api/v1/dev/published", hub()))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .expect("the publish log (kept by a demo hub only)")
        .json()
        .await
        .expect("the publish log");
    log["published"]
        .as_array()
        .expect("a list of publish times")
        .iter()
        .filter_map(|p| Some((p["seq"].as_u64()?, p["at_unix_ns"].as_u64()?)))
        .collect()
}

/// When a screen had an event: read by the program (`Instant`), and received by its kernel
/// (ns since the Unix epoch, the receive timestamp of the read that completed the frame; a later
/// bound for an earlier frame of the same read); and when the hub made the change (its stamp).
#[derive(Debug, Clone, Copy)]
struct Arrival {
    read: Instant,
    received_ns: u64,
    stamped_ms: Option<i64>,
}

/// What one screen read: for each bench order, each of its events' `seq` and arrival, in
/// arrival order (the hub's pings are answered on the way).
async fn watch(mut ws: Socket, run: String, mut stop: oneshot::Receiver<()>) -> HashMap<usize, Vec<(u64, Arrival)>> {
    let received = ws.get_ref().received_ns.clone();
    let mut seen: HashMap<usize, Vec<(u64, Arrival)>> = HashMap::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let (read, received_ns) = (Instant::now(), received.load(Ordering::Relaxed));
                    if let Some(k) = order_mark(&text, &run) {
                        let at = Arrival { read, received_ns, stamped_ms: event_stamp(&text) };
                        seen.entry(k).or_default().push((event_seq(&text).unwrap_or(0), at));
                    } else {
                        answer_ping(&mut ws, &text).await;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("a screen lost its socket: {other:?}"),
            },
        }
    }
    let _ = ws.close(None).await;
    seen
}

/// An ack as the commanding screen had it: read by the program, and the time from the command's
/// write to the ack's arrival at the screen's kernel (`None`: the read carried no stamp, or the
/// command's write time is unknown).
struct Acked {
    request_id: String,
    read: Instant,
    kernel_ms: Option<f64>,
}

/// The commanding screen: sends each command it is given and reports when its ack came.
async fn command_screen(
    mut ws: Socket,
    mut commands: mpsc::UnboundedReceiver<(String, Value)>,
    acks: mpsc::UnboundedSender<Acked>,
) {
    let received = ws.get_ref().received_ns.clone();
    // When each command was written (ns since the Unix epoch), by request id.
    let mut written: HashMap<String, u64> = HashMap::new();
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some((request_id, frame)) => {
                    written.insert(request_id, wall_ns());
                    ws.send(Message::text(frame.to_string())).await.expect("command sent");
                }
                None => break,
            },
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let (read, received_ns) = (Instant::now(), received.load(Ordering::Relaxed));
                    if text.starts_with("{\"type\":\"ack\"") || text.starts_with("{\"type\":\"error\"") {
                        let v: Value = serde_json::from_str(&text).expect("JSON from the hub");
                        assert_eq!(v["type"], "ack", "a command was refused: {text}");
                        let request_id = v["request_id"].as_str().unwrap_or_default().to_string();
                        let kernel_ms = written
                            .remove(&request_id)
                            .filter(|sent| received_ns >= *sent)
                            .map(|sent| (received_ns - sent) as f64 / 1e6);
                        let _ = acks.send(Acked { request_id, read, kernel_ms });
                    } else {
                        answer_ping(&mut ws, &text).await;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the commanding screen lost its socket: {other:?}"),
            },
        }
    }
    let _ = ws.close(None).await;
}

fn percentiles(mut ms: Vec<f64>) -> Value {
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| percentile(&ms, p);
    json!({"n": ms.len(), "p50_ms": at(0.5), "p99_ms": at(0.99), "p999_ms": at(0.999), "max_ms": at(1.0)})
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run_with(sockets: usize, seconds: u32) {
    let disk_dir = PathBuf::from(std::env::var("HUB_BENCH_DISK_DIR").unwrap_or_else(|_| "target".into()));
    let disk_ms = disk_commit_ms(&disk_dir, 200);
    let token = station_token("kitchen").await;
    let run = format!("{}{}", std::process::id(), sockets);
    let mut stops = Vec::new();
    let mut watchers = Vec::new();
    for _ in 0..sockets {
        let ws = screen(&token).await;
        let (stop, stopped) = oneshot::channel();
        stops.push(stop);
        watchers.push(tokio::spawn(watch(ws, run.clone(), stopped)));
    }
    let (command_tx, command_rx) = mpsc::unbounded_channel();
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
    let commander = tokio::spawn(command_screen(screen(&token).await, command_rx, ack_tx));
    // Kiosks keep their connection, as browsers do.
    let mut kiosk = Kiosk::connect(&hub_addr()).await.expect("a kiosk's connection to the hub");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("HTTP client");
    let orders = (ORDERS_PER_SECOND * seconds) as usize;
    let period = Duration::from_secs_f64(1.0 / f64::from(ORDERS_PER_SECOND));
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    // Per order: its id, and when each of its three events was caused (POST, bump, complete),
    // on both clocks.
    let mut ids: Vec<String> = Vec::with_capacity(orders);
    let mut caused: Vec<[Option<(Instant, u64)>; 3]> = vec![[None; 3]; orders];
    let mut sent_commands: HashMap<String, Instant> = HashMap::new();
    let (mut post_ms, mut post_kernel_ms, mut post_unstamped) = (Vec::with_capacity(orders), Vec::new(), 0usize);
    let started = Instant::now();
    let command = |kind: &str, k: usize, id: &str, extra: Value| {
        let request_id = format!("fanout-{run}-{k}-{kind}");
        let mut frame = json!({"type": kind, "request_id": request_id, "order_id": id});
        if let (Some(frame), Value::Object(extra)) = (frame.as_object_mut(), extra) {
            frame.extend(extra);
        }
        (request_id, frame)
    };
    for tick in 0..orders + 2 {
        ticks.tick().await;
        if tick < orders {
            let body = json!({
                "items": [{"menu_item_id": "cheeseburger", "quantity": 1 + tick % 3}, {"menu_item_id": "fries-large", "quantity": 1}],
                "source": "counter",
                "notes": format!("{MARKER}{run}-{tick}"),
            });
            let key = format!("fanout-{run}-{tick}");
            let sent = Instant::now();
            let (body, headers) = (body.to_string(), [("Idempotency-Key", key.as_str())]);
            let post = kiosk.post("/api/v1/orders", &headers, body.as_bytes());
            let (sent_ns, answer) = tokio::time::timeout(Duration::from_secs(20), post)
                .await
                .unwrap_or_else(|_| panic!("order {tick}: no answer from the hub in 20 s"))
                .expect("hub reachable");
            post_ms.push(millis(sent.elapsed()));
            match answer.received_ns {
                ns if ns >= sent_ns => post_kernel_ms.push((ns - sent_ns) as f64 / 1e6),
                _ => post_unstamped += 1,
            }
            let text = String::from_utf8_lossy(&answer.body);
            assert_eq!(answer.status, 201, "order {tick} refused: {text}");
            let v: Value = serde_json::from_str(&text).expect("the order");
            ids.push(v["order"]["id"].as_str().expect("an order id").to_string());
            caused[tick][0] = Some((sent, sent_ns));
        }
        // The order placed one tick ago is bumped, the one before it completed.
        for (back, kind, extra) in
            [(1, "order.bump", json!({"station": "kitchen"})), (2, "order.complete", json!({"force": false}))]
        {
            let Some(k) = tick.checked_sub(back).filter(|k| *k < orders) else { continue };
            let (request_id, frame) = command(kind, k, &ids[k], extra);
            let now = Instant::now();
            caused[k][back] = Some((now, wall_ns()));
            sent_commands.insert(request_id.clone(), now);
            command_tx.send((request_id, frame)).expect("commanding screen running");
        }
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(command_tx);
    commander.await.expect("commanding screen");
    let (mut ack_ms, mut ack_kernel_ms, mut ack_unstamped) = (Vec::new(), Vec::new(), 0usize);
    while let Ok(acked) = ack_rx.try_recv() {
        if let Some(sent) = sent_commands.remove(&acked.request_id) {
            ack_ms.push(millis(acked.read - sent));
            match acked.kernel_ms {
                Some(ms) => ack_kernel_ms.push(ms),
                None => ack_unstamped += 1,
            }
        }
    }
    for stop in stops {
        let _ = stop.send(());
    }
    let (mut delivery_ms, mut missing, mut unexpected, mut out_of_order) = (Vec::new(), 0usize, 0usize, 0usize);
    let (mut kernel_ms, mut unstamped, mut stamped_early) = (Vec::new(), 0usize, 0usize);
    // The same, by what caused the event: a POST, a bump or a complete (sent a tick apart, the
    // bump and the complete of two orders together, right after the tick's POST is answered).
    let mut kernel_by_cause: [Vec<f64>; 3] = Default::default();
    // From the hub's stamp of the change (made on its store thread before the commit, in whole
    // ms, so up to 1 ms early) to the screen's kernel: the hub's own part, without the request's
    // way to the hub and its wait for the changes before it.
    let (mut change_ms, mut change_by_cause, mut no_stamp) = (Vec::new(), <[Vec<f64>; 3]>::default(), 0usize);
    // From the hub's publish of the event (its commit done, the fan-out about to begin; noted by a
    // dev hub, `GET /api/v1/dev/published`) to the screen's kernel: the issue's own measure.
    let published = publish_log(&http).await;
    let (mut commit_ms, mut commit_by_cause) = (Vec::new(), <[Vec<f64>; 3]>::default());
    let (mut unpublished, mut before_publish) = (0usize, 0usize);
    // For each event once: from the change's stamp to its publish (the commit and its wait).
    let mut committing: HashMap<u64, f64> = HashMap::new();
    for watcher in watchers {
        let seen = watcher.await.expect("screen");
        for (k, causes) in caused.iter().enumerate() {
            let mut arrived = seen.get(&k).cloned().unwrap_or_default();
            missing += 3usize.saturating_sub(arrived.len());
            unexpected += arrived.len().saturating_sub(3);
            // The hub numbers its events: a screen must read them in that order.
            out_of_order += arrived.windows(2).filter(|w| w[1].0 <= w[0].0).count();
            // An order's three events are caused in turn (POST, bump, complete, each sent a tick
            // after the one before), so in seq order they are its events in that order.
            arrived.sort_by_key(|(seq, _)| *seq);
            for (kind, (cause, (seq, at))) in causes.iter().zip(&arrived).enumerate() {
                if let Some((cause, cause_ns)) = cause {
                    delivery_ms.push(millis(at.read.saturating_duration_since(*cause)));
                    match at.received_ns {
                        0 => unstamped += 1,
                        // Before its cause: a stamp that cannot be this frame's (none expected).
                        ns if ns < *cause_ns => stamped_early += 1,
                        ns => {
                            let ms = (ns - cause_ns) as f64 / 1e6;
                            kernel_ms.push(ms);
                            kernel_by_cause[kind].push(ms);
                            match at.stamped_ms {
                                Some(stamp) => {
                                    let ms = ns as f64 / 1e6 - stamp as f64;
                                    change_ms.push(ms);
                                    change_by_cause[kind].push(ms);
                                }
                                None => no_stamp += 1,
                            }
                            match published.get(seq) {
                                None => unpublished += 1,
                                Some(&p) if ns < p => before_publish += 1,
                                Some(&p) => {
                                    let ms = (ns - p) as f64 / 1e6;
                                    commit_ms.push(ms);
                                    commit_by_cause[kind].push(ms);
                                    if let Some(stamp) = at.stamped_ms {
                                        committing.entry(*seq).or_insert(p as f64 / 1e6 - stamp as f64);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let line = json!({
        "bench": "hub_fanout",
        "sockets": sockets,
        "seconds": elapsed.as_secs_f64(),
        "orders": orders,
        "commands": orders * 2,
        "deliveries_expected": orders * 3 * sockets,
        "missing": missing,
        "unexpected": unexpected,
        "out_of_order": out_of_order,
        "unanswered_commands": sent_commands.len(),
        "delivery": percentiles(delivery_ms),
        "delivery_kernel": percentiles(kernel_ms),
        "delivery_kernel_by_cause": {
            "created": percentiles(std::mem::take(&mut kernel_by_cause[0])),
            "bumped": percentiles(std::mem::take(&mut kernel_by_cause[1])),
            "completed": percentiles(std::mem::take(&mut kernel_by_cause[2])),
        },
        "delivery_from_change": percentiles(change_ms),
        "delivery_from_change_by_cause": {
            "created": percentiles(std::mem::take(&mut change_by_cause[0])),
            "bumped": percentiles(std::mem::take(&mut change_by_cause[1])),
            "completed": percentiles(std::mem::take(&mut change_by_cause[2])),
        },
        "delivery_from_publish": percentiles(commit_ms),
        "delivery_from_publish_by_cause": {
            "created": percentiles(std::mem::take(&mut commit_by_cause[0])),
            "bumped": percentiles(std::mem::take(&mut commit_by_cause[1])),
            "completed": percentiles(std::mem::take(&mut commit_by_cause[2])),
        },
        "change_to_publish": percentiles(committing.into_values().collect()),
        "deliveries_unpublished": unpublished,
        "received_before_publish": before_publish,
        "events_without_stamp": no_stamp,
        "unstamped": unstamped,
        "stamped_before_cause": stamped_early,
        "post": percentiles(post_ms),
        "post_kernel": percentiles(post_kernel_ms),
        "post_unstamped": post_unstamped,
        "ack": percentiles(ack_ms),
        "ack_kernel": percentiles(ack_kernel_ms),
        "ack_unstamped": ack_unstamped,
        "disk_commit": percentiles(disk_ms),
    });
    println!("BENCH {line}");
}

#[tokio::main]
async fn main() {
    let sockets: Vec<usize> = std::env::var("HUB_BENCH_SOCKETS")
        .unwrap_or_else(|_| "50,200".into())
        .split(',')
        .map(|n| n.trim().parse().expect("HUB_BENCH_SOCKETS: numbers"))
        .collect();
    let seconds: u32 = std::env::var("HUB_BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    for n in sockets {
        run_with(n, seconds).await;
    }
}
