//! A production hub of its own for a test: PINs set with `restaurant-hub set-pin`, served as a
//! restaurant runs it (HTTPS with the hub's own CA, or plain HTTP with `--no-tls`), reached by the
//! browser under the LAN-style name [`HOST`] (Chromium maps it to 127.0.0.1), so the page is not
//! on `localhost` and the browser applies its secure-context rules as on a tablet.
//!
//! `cargo xtask test` passes the hub binary and the bundle in `E2E_HUB_BINARY` and `E2E_DIST`.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::env;

/// The name the browser reaches the hub by.
pub const HOST: &str = "hub.test";
pub const MANAGER_PIN: &str = "7305";
pub const KITCHEN_PIN: &str = "4826";

pub struct ProductionHub {
    child: Child,
    data: PathBuf,
    /// The HTTPS port (or the plain port with TLS off).
    pub port: u16,
    /// The plain-HTTP side (CA, setup page, redirects) when TLS is on.
    pub http_port: Option<u16>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

impl ProductionHub {
    /// Sets the manager's and the kitchen's PINs in a fresh data folder, then starts the hub.
    pub async fn start(tls: bool) -> ProductionHub {
        let binary = env("E2E_HUB_BINARY");
        let data = std::env::temp_dir().join(format!("production-hub-{}-{}", std::process::id(), free_port()));
        let _ = std::fs::remove_dir_all(&data);
        let mut set_pin = Command::new(&binary)
            .args(["set-pin", "--data"])
            .arg(&data)
            .args(["manager", "kitchen"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("set-pin runs");
        let mut stdin = set_pin.stdin.take().expect("stdin");
        stdin.write_all(format!("{MANAGER_PIN}\n{KITCHEN_PIN}\n").as_bytes()).expect("PINs written");
        drop(stdin);
        assert!(set_pin.wait().expect("set-pin ends").success(), "set-pin failed");

        let port = free_port();
        let http_port = tls.then(free_port);
        let mut cmd = Command::new(&binary);
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string(), "--hostname", HOST, "--dist", &env("E2E_DIST")])
            .arg("--data")
            .arg(&data);
        match http_port {
            Some(p) => cmd.args(["--http-port", &p.to_string()]),
            None => cmd.arg("--no-tls"),
        };
        let child = cmd.stdout(Stdio::null()).spawn().expect("the hub starts");
        let hub = ProductionHub { child, data, port, http_port };
        hub.wait_healthy().await;
        hub
    }

    async fn wait_healthy(&self) {
        let url = format!("http://127.0.0.1:{}/healthz", self.http_port.unwrap_or(self.port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = crate::http().get(&url).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(Instant::now() < deadline, "the production hub did not answer {url} within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page at `path` as a tablet opens it: `https://hub.test:<port>` (or `http://` with TLS off).
    pub fn page(&self, path: &str) -> String {
        let scheme = if self.http_port.is_some() { "https" } else { "http" };
        format!("{scheme}://{HOST}:{}{path}", self.port)
    }

    /// `http://hub.test:<http port><path>`: the plain-HTTP side of a TLS hub.
    pub fn plain(&self, path: &str) -> String {
        format!("http://{HOST}:{}{path}", self.http_port.expect("a TLS hub"))
    }

    /// The Chromium flags of a tablet on the restaurant's network: [`HOST`] resolves to this
    /// machine, and — with TLS — the hub's CA (by its public key), and nothing else, is trusted.
    pub fn browser_args(&self) -> Vec<String> {
        let mut args = vec![format!("--host-resolver-rules=MAP {HOST} 127.0.0.1")];
        if self.http_port.is_some() {
            let pem = std::fs::read_to_string(self.data.join("tls").join("ca.pem")).expect("the hub's CA");
            let pin = restaurant_hub::tls::spki_pin_of_pem(&pem).expect("a CA certificate");
            args.push(format!("--ignore-certificate-errors-spki-list={pin}"));
        }
        args
    }
}

impl Drop for ProductionHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
