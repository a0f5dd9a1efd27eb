//! A real hub for browser tests, plus a small control endpoint so a test page can stop, kill,
//! start or restart it (a browser cannot signal processes).
//!
//! `HUB_URL` and `HUB_CONTROL_URL` are passed to the browser tests at compile time. The hub keeps
//! its data folder across restarts, like a real deployment, and runs in dev mode (CORS for the
//! test page's origin, dev endpoints).

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::proc::Result;

struct Inner {
    binary: PathBuf,
    port: u16,
    data: PathBuf,
    args: Vec<String>,
    child: Mutex<Option<Child>>,
}

pub struct TestHub {
    inner: Arc<Inner>,
    control_port: u16,
    stop: Arc<AtomicBool>,
    control: Option<JoinHandle<()>>,
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

impl Inner {
    fn start(&self) -> Result<()> {
        let mut child = self.child.lock().expect("hub lock");
        if child.is_some() {
            return Ok(());
        }
        let mut cmd = Command::new(&self.binary);
        cmd.args(["--host", "127.0.0.1", "--port", &self.port.to_string(), "--data"])
            .arg(&self.data)
            // The suites post hundreds of orders from one address in a few seconds; the order
            // limits have their own tests (server/tests/abuse_limits.rs).
            .args(["--order-rate", "1000000", "--max-active-orders", "1000000"])
            // Every kiosk a suite mounts fetches a voice token ahead, all as the one demo device;
            // the token limit has its own tests (server/tests/abuse_auth.rs).
            .args(["--voice-token-rate", "1000000"])
            // Orders carry tax, as at `cargo xtask serve`.
            .args(["--tax-rate", "8.875"])
            .args(&self.args)
            .stdin(Stdio::null());
        let spawned = cmd.spawn().map_err(|e| format!("cannot start the hub {}: {e}", self.binary.display()))?;
        *child = Some(spawned);
        drop(child);
        // Ready when it accepts connections.
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("the hub did not listen on port {} within 20 s", self.port))
    }

    /// `graceful`: SIGTERM and wait (≤ 15 s); otherwise SIGKILL (a crash).
    fn stop(&self, graceful: bool) {
        let Some(mut child) = self.child.lock().expect("hub lock").take() else { return };
        if graceful {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            println!("xtask: the test hub did not stop within 15 s of SIGTERM; killing it");
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl TestHub {
    /// Starts `binary` on a free port with its data in `data`, and the control endpoint.
    pub fn start(binary: &Path, data: &Path, args: &[&str]) -> Result<TestHub> {
        let _ = std::fs::remove_dir_all(data);
        std::fs::create_dir_all(data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
        let inner = Arc::new(Inner {
            binary: binary.to_path_buf(),
            port: free_port()?,
            data: data.to_path_buf(),
            args: args.iter().map(|s| s.to_string()).collect(),
            child: Mutex::new(None),
        });
        inner.start()?;
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("control endpoint: {e}"))?;
        let control_port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let control = {
            let (inner, stop) = (inner.clone(), stop.clone());
            std::thread::spawn(move || serve_control(listener, inner, stop))
        };
        println!("xtask: test hub on http://127.0.0.1:{} (control on :{control_port})", inner.port);
        Ok(TestHub { inner, control_port, stop, control: Some(control) })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.inner.port)
    }

    pub fn control_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.control_port)
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.control_port)); // wake the accept loop
        if let Some(t) = self.control.take() {
            let _ = t.join();
        }
        self.inner.stop(true);
    }
}

fn serve_control(listener: TcpListener, hub: Arc<Inner>, stop: Arc<AtomicBool>) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        if let Err(e) = answer(stream, &hub) {
            println!("xtask: control request failed: {e}");
        }
    }
}

/// One request per connection: `POST /stop|/kill|/start|/restart`, CORS-open for test pages.
fn answer(mut stream: TcpStream, hub: &Inner) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, body) = match (method, path) {
        ("OPTIONS", _) => ("204 No Content", String::new()),
        ("POST", "/stop") => {
            hub.stop(true);
            ("200 OK", "stopped".into())
        }
        ("POST", "/kill") => {
            hub.stop(false);
            ("200 OK", "killed".into())
        }
        ("POST", "/start") => match hub.start() {
            Ok(()) => ("200 OK", "started".into()),
            Err(e) => ("500 Internal Server Error", e),
        },
        ("POST", "/restart") => {
            hub.stop(true);
            match hub.start() {
                Ok(()) => ("200 OK", "restarted".into()),
                Err(e) => ("500 Internal Server Error", e),
            }
        }
        _ => ("404 Not Found", format!("unknown control request {method} {path}")),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nAccess-Control-Allow-Origin: *\r\n\
         Access-Control-Allow-Methods: POST, OPTIONS\r\nAccess-Control-Allow-Headers: *\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Both);
    Ok(())
}
