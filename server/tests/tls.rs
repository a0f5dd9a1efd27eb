//! The hub over HTTPS against real sockets: a local CA trusted by the client and nothing else,
//! the plain-HTTP side (CA download, setup page, redirects), WebSocket over `wss`, the
//! restaurant's own certificate, and clients that never finish their handshake.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use restaurant_hub::tls::{CA_CERT, CA_KEY, SERVER_CERT, TLS_DIR, fingerprint};
use restaurant_hub::{RunningHub, Secret, Settings, TlsSetting};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::Connector;
use tokio_tungstenite::tungstenite::Message;

/// Generous bound for anything the hub should do promptly.
const WAIT: Duration = Duration::from_secs(10);

/// A production hub (every station's PIN 1234) keeping its certificates in `data`.
fn settings(data: &Path) -> Settings {
    Settings {
        memory: true,
        data: data.to_path_buf(),
        dist: "/nonexistent-dist".into(),
        pin: Some(Secret("1234".into())),
        ..Settings::default()
    }
}

async fn start(settings: Settings) -> RunningHub {
    RunningHub::start_tls(settings).await.expect("the hub starts with TLS")
}

/// A client that trusts the given CA and nothing else; `localhost` is the hub.
fn client_trusting(ca_pem: &str, hub: &RunningHub) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("a PEM CA"))
        .tls_built_in_root_certs(false)
        .resolve("localhost", hub.addr)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client")
}

fn rustls_config(ca_pem: &str, alpn: &[&[u8]]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("a PEM certificate")).expect("a usable root");
    }
    let mut config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// Sends a raw request line (no normalisation of `path`) and returns everything answered.
async fn raw_get(mut stream: impl AsyncRead + AsyncWrite + Unpin, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("request sent");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => panic!("no end of answer for {path}"),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn https_serves_the_hub_to_a_client_trusting_only_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(settings(dir.path())).await;
    let ca = hub.ca_pem().expect("a local CA").to_string();
    let client = client_trusting(&ca, &hub);

    let health = client.get(hub.https("/healthz")).send().await.expect("HTTPS answers");
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let config = client.get(hub.https("/config.json")).send().await.expect("HTTPS answers");
    assert_eq!(config.status().as_u16(), 200);
    let config: Value = config.json().await.expect("JSON");
    assert!(config["station"].is_string(), "{config}");

    // The certificate also covers the loopback address itself.
    let by_address = client.get(format!("https://127.0.0.1:{}/healthz", hub.addr.port())).send().await;
    assert_eq!(by_address.expect("127.0.0.1 is in the certificate").status().as_u16(), 200);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_fails_the_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(settings(dir.path())).await;
    let trusting_nothing =
        reqwest::Client::builder().tls_built_in_root_certs(false).resolve("localhost", hub.addr).build().unwrap();
    let e = trusting_nothing.get(hub.https("/healthz")).send().await.expect_err("no trust, no answer");
    assert!(e.is_connect(), "{e:?}");
    let system_roots = reqwest::Client::builder().resolve("localhost", hub.addr).build().unwrap();
    system_roots.get(hub.https("/healthz")).send().await.expect_err("the system roots do not know the hub's CA");
    // The hub keeps serving those who trust it.
    let client = client_trusting(hub.ca_pem().unwrap(), &hub);
    assert_eq!(client.get(hub.https("/healthz")).send().await.unwrap().status().as_u16(), 200);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn https_speaks_http1_even_to_clients_offering_h2() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(settings(dir.path())).await;
    let config = rustls_config(hub.ca_pem().unwrap(), &[b"h2", b"http/1.1"]);
    let tcp = TcpStream::connect(hub.addr).await.unwrap();
    let tls = TlsConnector::from(config).connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let answer = raw_get(tls, "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_plain_port_serves_the_ca_certificate_and_the_setup_page() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(settings(dir.path())).await;
    let client = plain_client();

    let ca = client.get(hub.http("/ca.crt")).send().await.unwrap();
    assert_eq!(ca.status().as_u16(), 200);
    assert_eq!(ca.headers()["content-type"], "application/x-x509-ca-cert");
    assert_eq!(ca.headers()["content-disposition"], "attachment; filename=\"restaurant-hub-ca.crt\"");
    let pem = ca.text().await.unwrap();
    assert_eq!(pem, std::fs::read_to_string(dir.path().join(TLS_DIR).join(CA_CERT)).unwrap());
    assert_eq!(Some(pem.as_str()), hub.ca_pem());
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).expect("parseable PEM");
    let (_, cert) = x509_parser::parse_x509_certificate(&der).expect("an X.509 certificate");
    assert!(cert.is_ca());
    assert!(cert.subject().to_string().contains("Restaurant Hub local CA"), "{}", cert.subject());

    let setup = client.get(hub.http("/setup")).send().await.unwrap();
    assert_eq!(setup.status().as_u16(), 200);
    assert!(setup.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = setup.text().await.unwrap();
    assert!(page.contains(&fingerprint(&der)), "the page shows the CA fingerprint");
    assert!(page.contains("href=\"/ca.crt\""));
    for platform in ["Android", "iPad", "Certificate Trust Settings", "ChromeOS", "Windows", "macOS"] {
        assert!(page.contains(platform), "setup steps for {platform}");
    }
    let kiosk = format!("https://127.0.0.1:{}/kiosk", hub.addr.port());
    assert!(page.contains(&kiosk), "a link to {kiosk}");

    let health = client.get(hub.http("/healthz")).send().await.unwrap();
    assert_eq!((health.status().as_u16(), health.text().await.unwrap().as_str()), (200, "ok"));
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn plain_http_redirects_to_the_same_path_on_https() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(settings(dir.path())).await;
    let client = plain_client();
    let port = hub.addr.port();

    let r = client.get(hub.http("/kiosk?x=1")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 308);
    assert_eq!(r.headers()["location"], format!("https://127.0.0.1:{port}/kiosk?x=1"));

    let r = client.get(hub.http("/kds")).header("Host", "hub.local:8080").send().await.unwrap();
    assert_eq!(
        (r.status().as_u16(), r.headers()["location"].to_str().unwrap()),
        (308, &*format!("https://hub.local:{port}/kds"))
    );

    let r = client.post(hub.http("/api/v1/orders")).body("{}").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 308, "a POST keeps its method through a 308");

    let r = client.get(hub.http("/kiosk")).header("Host", "evil.example/x").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400, "an odd Host is not echoed into a redirect");

    // Following the redirect reaches the hub over HTTPS.
    let r = client.get(hub.http("/config.json?from=plain")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 308);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let followed = client_trusting(hub.ca_pem().unwrap(), &hub).get(&location).send().await.unwrap();
    assert_eq!(followed.status().as_u16(), 200, "{location}");
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn the_ca_key_is_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>app</title>").unwrap();
    let data = dir.path().join(".data");
    let hub = start(Settings { dist, ..settings(&data) }).await;
    let key = std::fs::read_to_string(data.join(TLS_DIR).join(CA_KEY)).unwrap();
    let key_body = key.lines().nth(1).unwrap().to_string();
    let config = rustls_config(hub.ca_pem().unwrap(), &[b"http/1.1"]);
    let paths = [
        "/tls/ca-key.pem",
        "/ca-key.pem",
        "/ca.key",
        "/.data/tls/ca-key.pem",
        "/../.data/tls/ca-key.pem",
        "/%2e%2e/.data/tls/ca-key.pem",
        "/..%2f.data%2ftls%2fca-key.pem",
        "/ca.crt/../tls/ca-key.pem",
        "/dist/../.data/tls/ca-key.pem",
        "//.data/tls/ca-key.pem",
    ];
    for path in paths {
        let plain = raw_get(TcpStream::connect(hub.plain_addr.unwrap()).await.unwrap(), path).await;
        let tcp = TcpStream::connect(hub.addr).await.unwrap();
        let tls = TlsConnector::from(config.clone()).connect(ServerName::try_from("localhost").unwrap(), tcp);
        let https = raw_get(tls.await.unwrap(), path).await;
        for (side, answer) in [("plain", &plain), ("https", &https)] {
            assert!(answer.starts_with("HTTP/1.1 "), "{side} {path}: {answer}");
            assert!(!answer.contains("PRIVATE KEY") && !answer.contains(&key_body), "{side} {path} served the key");
        }
    }
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_second_start_reuses_the_ca_and_the_server_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(settings(dir.path())).await;
    let ca = first.ca_pem().unwrap().to_string();
    first.stop().await.unwrap();
    let server = std::fs::read(dir.path().join(TLS_DIR).join(SERVER_CERT)).unwrap();

    let second = start(settings(dir.path())).await;
    assert_eq!(second.ca_pem(), Some(ca.as_str()), "the same CA (same fingerprint)");
    assert_eq!(std::fs::read(dir.path().join(TLS_DIR).join(SERVER_CERT)).unwrap(), server);
    // A client that trusted the first start's CA trusts the second one.
    let client = client_trusting(&ca, &second);
    assert_eq!(client.get(second.https("/healthz")).send().await.unwrap().status().as_u16(), 200);
    second.stop().await.unwrap();
}

#[tokio::test]
async fn a_new_name_renews_the_server_certificate_under_the_same_ca() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(settings(dir.path())).await;
    let ca = first.ca_pem().unwrap().to_string();
    first.stop().await.unwrap();
    let server = std::fs::read(dir.path().join(TLS_DIR).join(SERVER_CERT)).unwrap();

    let renamed = Settings { hostnames: vec!["till.example.lan".into()], ..settings(dir.path()) };
    let second = start(renamed).await;
    assert_eq!(second.ca_pem(), Some(ca.as_str()));
    let renewed = std::fs::read(dir.path().join(TLS_DIR).join(SERVER_CERT)).unwrap();
    assert_ne!(renewed, server, "a certificate that does not cover the new name is replaced");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .tls_built_in_root_certs(false)
        .resolve("till.example.lan", second.addr)
        .build()
        .unwrap();
    let url = format!("https://till.example.lan:{}/healthz", second.addr.port());
    assert_eq!(client.get(url).send().await.unwrap().status().as_u16(), 200);
    second.stop().await.unwrap();
}

#[tokio::test]
async fn the_websocket_works_over_wss() {
    let dir = tempfile::tempdir().unwrap();
    let hub = start(settings(dir.path())).await;
    // What a browser offers for a WebSocket connection.
    let connector = Connector::Rustls(rustls_config(hub.ca_pem().unwrap(), &[b"http/1.1"]));
    let tcp = TcpStream::connect(hub.addr).await.unwrap();
    let (mut ws, response) =
        tokio_tungstenite::client_async_tls_with_config(hub.ws_url(), tcp, None, Some(connector)).await.expect("wss");
    assert_eq!(response.status().as_u16(), 101);
    ws.send(Message::text(r#"{"type":"ping","ts":1}"#)).await.unwrap();
    let pong = tokio::time::timeout(WAIT, async {
        while let Some(frame) = ws.next().await {
            if let Message::Text(text) = frame.expect("a frame") {
                let v: Value = serde_json::from_str(&text).expect("JSON");
                if v["type"] == "pong" {
                    return v;
                }
            }
        }
        panic!("the connection closed before the pong");
    })
    .await
    .expect("a pong in time");
    assert_eq!(pong["ts"], 1);
    ws.close(None).await.unwrap();
    hub.stop().await.unwrap();
}

/// A CA of the test's own and a `localhost` certificate it signed, written as PEM files.
fn own_certificate(dir: &Path) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = params.signed_by(&key, &*ca).unwrap();
    let (cert_path, key_path) = (dir.join("chain.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, format!("{}{}", leaf.pem(), ca.pem())).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (ca.pem(), cert_path, key_path)
}

#[tokio::test]
async fn the_restaurants_own_certificate_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = own_certificate(dir.path());
    let data = dir.path().join("data");
    let hub = start(Settings { tls: TlsSetting::Files { cert, key }, ..settings(&data) }).await;
    assert_eq!(hub.ca_pem(), None, "no local CA");
    assert!(!data.join(TLS_DIR).exists(), "nothing generated");
    let client = client_trusting(&ca, &hub);
    assert_eq!(client.get(hub.https("/healthz")).send().await.unwrap().status().as_u16(), 200);

    let plain = plain_client();
    assert_eq!(plain.get(hub.http("/ca.crt")).send().await.unwrap().status().as_u16(), 404);
    let setup = plain.get(hub.http("/setup")).send().await.unwrap().text().await.unwrap();
    assert!(setup.contains("own certificate"), "{setup}");
    assert_eq!(plain.get(hub.http("/kds")).send().await.unwrap().status().as_u16(), 308);
    hub.stop().await.unwrap();
}

#[tokio::test]
async fn a_garbage_key_file_is_a_clear_start_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = own_certificate(dir.path());
    std::fs::write(&key, "this is not a key\n").unwrap();
    let tls = TlsSetting::Files { cert, key: key.clone() };
    let e = match RunningHub::start_tls(Settings { tls, ..settings(dir.path()) }).await {
        Ok(_) => panic!("a hub with a garbage key started"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains(&key.display().to_string()) && e.contains("private key"), "{e}");

    let missing = dir.path().join("missing.pem");
    let tls = TlsSetting::Files { cert: missing.clone(), key };
    let e = RunningHub::start_tls(Settings { tls, ..settings(dir.path()) }).await.err().expect("no start").to_string();
    assert!(e.contains(&missing.display().to_string()), "{e}");
}

#[tokio::test]
async fn a_client_that_never_handshakes_is_dropped_and_does_not_block_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let quick = Settings { tls_handshake_timeout: Duration::from_millis(300), ..settings(dir.path()) };
    let hub = start(quick).await;
    let mut silent = TcpStream::connect(hub.addr).await.unwrap();
    let opened = Instant::now();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(WAIT, silent.read(&mut buf)).await.expect("the hub drops the silent client");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let after = opened.elapsed();
    assert!(after >= Duration::from_millis(250) && after < Duration::from_secs(5), "dropped after {after:?}");
    let client = client_trusting(hub.ca_pem().unwrap(), &hub);
    assert_eq!(client.get(hub.https("/healthz")).send().await.unwrap().status().as_u16(), 200);
    hub.stop().await.unwrap();

    // With the usual 10 s timeout, a silent client still does not hold the shutdown up.
    let hub = start(settings(dir.path())).await;
    let _silent = TcpStream::connect(hub.addr).await.unwrap();
    let _half = TcpStream::connect(hub.plain_addr.unwrap()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopping = Instant::now();
    hub.stop().await.unwrap();
    assert!(stopping.elapsed() < Duration::from_secs(3), "shutdown took {:?}", stopping.elapsed());
}
