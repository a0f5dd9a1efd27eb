//! HTTPS for the LAN: the certificate the hub serves, and the plain-HTTP side that helps a
//! tablet trust it.
//!
//! With [`TlsSetting::Auto`] the hub creates, once, a local CA (ECDSA P-256, ten years) and a
//! server certificate signed by it for every name and address the tablets may use: `localhost`,
//! the machine's host name (and `<name>.local`), each `--hostname`, `127.0.0.1`, `::1` and every
//! LAN address. They live in `<data>/tls/` ([`CA_CERT`], [`CA_KEY`], [`SERVER_CERT`],
//! [`SERVER_KEY`]; key files mode 0600, every file written atomically). Later starts reuse them;
//! the server certificate (never the CA) is made anew when it nears expiry, no longer covers
//! the machine's names and addresses, or was not signed by the CA. The CA key is never logged
//! and never served. With [`TlsSetting::Files`] the restaurant's own PEM chain and key are used.
//!
//! The plain-HTTP listener ([`plain_router`]) serves `/ca.crt`, `/setup` (how to trust the CA
//! on each kind of device) and `/healthz`, and redirects every other path to HTTPS with `308`.
//!
//! HTTPS connections are served as HTTP/1.1 only (ALPN `http/1.1`): browsers then open the
//! `/ws` WebSocket with a plain HTTP/1.1 upgrade, with no dependence on HTTP/2 extended CONNECT.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType, SerialNumber,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::settings::{TlsSetting, is_valid_hostname};

/// Folder of the TLS files inside the data folder.
pub const TLS_DIR: &str = "tls";
/// The local CA's certificate (public: served at `/ca.crt`).
pub const CA_CERT: &str = "ca.pem";
/// The local CA's private key: never served, never logged.
pub const CA_KEY: &str = "ca-key.pem";
/// The server certificate (signed by the local CA).
pub const SERVER_CERT: &str = "server.pem";
pub const SERVER_KEY: &str = "server-key.pem";

const CA_VALIDITY_DAYS: i64 = 3650;
/// Apple's limit for certificates under a locally trusted root.
const SERVER_VALIDITY_DAYS: i64 = 825;
/// The server certificate is made anew when less than this is left of it.
const RENEW_BEFORE_DAYS: i64 = 30;
/// How long a plain HTTP/1.1 client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// What `/ca.crt` is saved as.
pub const CA_DOWNLOAD_NAME: &str = "restaurant-hub-ca.crt";

/// Why TLS cannot be set up; each names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("cannot create a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{0}")]
    Config(String),
}

fn invalid(path: &Path, message: impl Into<String>) -> TlsError {
    TlsError::Invalid { path: path.to_path_buf(), message: message.into() }
}

/// The local CA's certificate: what a tablet installs to trust the hub.
#[derive(Debug, Clone)]
pub struct LocalCa {
    pub pem: String,
    pub der: Vec<u8>,
    /// SHA-256 of the DER certificate, `AB:CD:…` (as Android, iOS and browsers show it).
    pub fingerprint: String,
}

/// What the hub serves HTTPS with.
#[derive(Debug, Clone)]
pub struct HubTls {
    pub server_config: Arc<ServerConfig>,
    /// The local CA ([`TlsSetting::Auto`]); `None` with the restaurant's own certificate.
    pub ca: Option<LocalCa>,
    /// Host names and addresses the served certificate is valid for.
    pub names: Vec<String>,
}

impl HubTls {
    /// Loads (creating or renewing as needed) what `setting` asks for; `None` when TLS is off.
    /// Blocking: call it from a blocking thread.
    pub fn load(
        setting: &TlsSetting,
        data: &Path,
        dist: &Path,
        extra_names: &[String],
    ) -> Result<Option<HubTls>, TlsError> {
        match setting {
            TlsSetting::Off => Ok(None),
            TlsSetting::Auto => {
                refuse_data_inside_dist(data, dist)?;
                let required = required_names(machine_host_name().as_deref(), extra_names, &interface_addresses());
                auto(&data.join(TLS_DIR), &required).map(Some)
            }
            TlsSetting::Files { cert, key } => files(cert, key).map(Some),
        }
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.server_config.clone())
    }
}

/// The names and addresses a certificate must cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub dns: BTreeSet<String>,
    pub ips: BTreeSet<IpAddr>,
}

impl Names {
    fn list(&self) -> Vec<String> {
        self.dns.iter().cloned().chain(self.ips.iter().map(IpAddr::to_string)).collect()
    }

    /// What of `self` `other` lacks.
    fn missing_from(&self, other: &Names) -> Vec<String> {
        let dns = self.dns.difference(&other.dns).cloned();
        dns.chain(self.ips.difference(&other.ips).map(IpAddr::to_string)).collect()
    }
}

/// `localhost`, the host name (and its `.local` mDNS form), each extra name, the loopback
/// addresses and the given interface addresses (link-local ones left out: no browser URL uses them).
pub fn required_names(host_name: Option<&str>, extra: &[String], interfaces: &[IpAddr]) -> Names {
    let mut dns = BTreeSet::from(["localhost".to_string()]);
    let mut ips = BTreeSet::from([IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)]);
    if let Some(name) = host_name.map(|n| n.trim_end_matches('.').to_ascii_lowercase())
        && is_valid_hostname(&name)
    {
        let short = name.split('.').next().unwrap_or(&name).to_string();
        dns.insert(format!("{short}.local"));
        dns.insert(short);
        dns.insert(name);
    }
    for name in extra {
        match name.parse::<IpAddr>() {
            Ok(ip) => ips.insert(ip),
            Err(_) => dns.insert(name.to_ascii_lowercase()),
        };
    }
    ips.extend(interfaces.iter().copied().filter(|ip| !ip.is_loopback() && !is_link_local(ip)));
    Names { dns, ips }
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// The machine's host name, if it has a usable one.
pub fn machine_host_name() -> Option<String> {
    match hostname::get() {
        Ok(name) => name.into_string().ok().filter(|n| is_valid_hostname(n.trim_end_matches('.'))),
        Err(e) => {
            tracing::warn!("cannot read the host name ({e}): the certificate names localhost and the addresses only");
            None
        }
    }
}

/// Every address of this machine's network interfaces (read from the OS, no network traffic).
/// When they cannot be listed the certificate covers loopback and the names only.
pub fn interface_addresses() -> Vec<IpAddr> {
    match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces.iter().map(if_addrs::Interface::ip).collect(),
        Err(e) => {
            tracing::warn!(
                "cannot list the network interfaces ({e}): the certificate covers no LAN address; \
                 add them with --hostname ADDRESS"
            );
            Vec::new()
        }
    }
}

/// A data folder inside the bundle folder would put the CA key on the web.
fn refuse_data_inside_dist(data: &Path, dist: &Path) -> Result<(), TlsError> {
    let (Ok(data), Ok(dist)) = (std::fs::canonicalize(data), std::fs::canonicalize(dist)) else {
        return Ok(()); // Either does not exist: nothing of one is inside the other.
    };
    if data.starts_with(&dist) {
        return Err(TlsError::Config(format!(
            "the data folder {} is inside the bundle folder {}: the CA key would be served; use another --data",
            data.display(),
            dist.display()
        )));
    }
    Ok(())
}

/// The SHA-256 of a DER certificate's public key (SubjectPublicKeyInfo), base64: the "SPKI pin"
/// that HPKP-style allow-lists (e.g. Chromium's `--ignore-certificate-errors-spki-list`) take.
pub fn spki_pin(der: &[u8]) -> Result<String, TlsError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| TlsError::Config(format!("not a DER certificate: {e}")))?;
    Ok(base64(&Sha256::digest(cert.tbs_certificate.subject_pki.raw)))
}

/// [`spki_pin`] of the first certificate in a PEM text (e.g. the hub's `tls/ca.pem`).
pub fn spki_pin_of_pem(pem: &str) -> Result<String, TlsError> {
    let der = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| TlsError::Config(format!("no PEM certificate: {e}")))?;
    spki_pin(&der)
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The SHA-256 fingerprint of a DER certificate, `AB:CD:…`.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    let mut out = String::with_capacity(digest.len() * 3);
    for (i, byte) in digest.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{byte:02X}");
    }
    out
}

fn auto(dir: &Path, required: &Names) -> Result<HubTls, TlsError> {
    create_private_dir(dir)?;
    let now = OffsetDateTime::now_utc();
    let host_name = required.dns.iter().find(|n| *n != "localhost" && !n.contains('.')).cloned();
    let (ca_pem, ca_key) = local_ca(dir, host_name.as_deref().unwrap_or("localhost"), now)?;
    let ca_path = dir.join(CA_CERT);
    let ca_der = CertificateDer::from_pem_slice(ca_pem.as_bytes())
        .map_err(|e| invalid(&ca_path, format!("not a PEM certificate: {e}")))?
        .into_owned();
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key)
        .map_err(|e| invalid(&ca_path, format!("not a usable CA certificate: {e}")))?;

    let (cert_path, key_path) = (dir.join(SERVER_CERT), dir.join(SERVER_KEY));
    let existing = match server_needs_renewal(&cert_path, &key_path, &ca_der, required, now) {
        Ok(()) => Some((read_text(&cert_path)?, read_text(&key_path)?)),
        Err(reason) => {
            tracing::info!("making a new server certificate: {reason}");
            None
        }
    };
    let (server_pem, server_key_pem) = match existing {
        Some(pair) => pair,
        None => {
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
            let cert = server_params(required, host_name.as_deref(), now)?.signed_by(&key, &issuer)?;
            write_atomic(&key_path, key.serialize_pem().as_bytes(), true)?;
            write_atomic(&cert_path, cert.pem().as_bytes(), false)?;
            tracing::info!(
                names = %required.list().join(", "),
                "server certificate {} written (valid {SERVER_VALIDITY_DAYS} days)",
                cert_path.display()
            );
            (cert.pem(), key.serialize_pem())
        }
    };
    // The CA goes with the server certificate, so a client can match the CA it was told to
    // trust by its public key (e.g. an SPKI pin) even before the CA is installed.
    let mut chain = parse_chain(&cert_path, &server_pem)?;
    chain.push(ca_der.clone().into_owned());
    let key = parse_key(&key_path, &server_key_pem)?;
    let server_config = server_config(chain, key, &cert_path, &key_path)?;
    let fingerprint = fingerprint(&ca_der);
    Ok(HubTls {
        server_config,
        ca: Some(LocalCa { pem: ca_pem, der: ca_der.to_vec(), fingerprint }),
        names: required.list(),
    })
}

/// The CA's PEM certificate and key: read when both exist, created when neither (or only an
/// unfinished key from an interrupted first start) does. Never replaced once its certificate exists.
fn local_ca(dir: &Path, host_name: &str, now: OffsetDateTime) -> Result<(String, KeyPair), TlsError> {
    let (cert_path, key_path) = (dir.join(CA_CERT), dir.join(CA_KEY));
    match (cert_path.exists(), key_path.exists()) {
        (true, true) => {
            let pem = read_text(&cert_path)?;
            let key_pem = read_text(&key_path)?;
            restrict_permissions(&key_path);
            let key = KeyPair::from_pem(&key_pem)
                .map_err(|e| invalid(&key_path, format!("not a usable private key: {e}")))?;
            let der = CertificateDer::from_pem_slice(pem.as_bytes())
                .map_err(|e| invalid(&cert_path, format!("not a PEM certificate: {e}")))?;
            let (_, cert) = x509_parser::parse_x509_certificate(&der)
                .map_err(|e| invalid(&cert_path, format!("not an X.509 certificate: {e}")))?;
            if cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
                return Err(invalid(&key_path, format!("is not the key of {}", cert_path.display())));
            }
            if cert.validity().not_after.timestamp() <= now.unix_timestamp() {
                return Err(invalid(
                    &cert_path,
                    "the local CA has expired: move the tls folder away to create a new one \
                     (every tablet must then trust the new CA)",
                ));
            }
            Ok((pem, key))
        }
        (true, false) => Err(invalid(
            &key_path,
            format!(
                "missing, but {} exists: restore the key, or move the tls folder away to create a new CA \
                 (every tablet must then trust the new one)",
                cert_path.display()
            ),
        )),
        (false, key_exists) => {
            if key_exists {
                tracing::warn!(
                    "{} has no certificate (an interrupted first start): creating the CA anew",
                    key_path.display()
                );
            }
            let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
            let cert = ca_params(host_name, now)?.self_signed(&key)?;
            write_atomic(&key_path, key.serialize_pem().as_bytes(), true)?;
            write_atomic(&cert_path, cert.pem().as_bytes(), false)?;
            tracing::info!(
                "created the local CA {} (fingerprint {}); tablets trust it once, from the setup page",
                cert_path.display(),
                fingerprint(cert.der())
            );
            Ok((cert.pem(), key))
        }
    }
}

fn ca_params(host_name: &str, now: OffsetDateTime) -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, format!("Restaurant Hub local CA {host_name}"));
    params.distinguished_name.push(DnType::OrganizationName, "Restaurant OS");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(CA_VALIDITY_DAYS);
    params.serial_number = Some(random_serial()?);
    Ok(params)
}

fn server_params(names: &Names, host_name: Option<&str>, now: OffsetDateTime) -> Result<CertificateParams, TlsError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, host_name.unwrap_or("Restaurant Hub"));
    params.distinguished_name.push(DnType::OrganizationName, "Restaurant OS");
    for name in &names.dns {
        params.subject_alt_names.push(SanType::DnsName(name.clone().try_into()?));
    }
    params.subject_alt_names.extend(names.ips.iter().map(|ip| SanType::IpAddress(*ip)));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    // A day back for clocks behind; the whole span stays within Apple's 825 days.
    params.not_before = now - time::Duration::days(1);
    params.not_after = params.not_before + time::Duration::days(SERVER_VALIDITY_DAYS);
    params.serial_number = Some(random_serial()?);
    Ok(params)
}

fn random_serial() -> Result<SerialNumber, TlsError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| TlsError::Config(format!("no randomness for a serial number: {e}")))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x01; // positive, and always 16 bytes long
    Ok(SerialNumber::from_slice(&bytes))
}

/// `Ok(())` when the stored server certificate can be used as it is; otherwise why not.
fn server_needs_renewal(
    cert_path: &Path,
    key_path: &Path,
    ca_der: &[u8],
    required: &Names,
    now: OffsetDateTime,
) -> Result<(), String> {
    if !cert_path.exists() || !key_path.exists() {
        return Err(format!("{} or {} does not exist yet", cert_path.display(), key_path.display()));
    }
    let (pem, key_pem) = match (std::fs::read_to_string(cert_path), std::fs::read_to_string(key_path)) {
        (Ok(pem), Ok(key)) => (pem, key),
        (Err(e), _) => return Err(format!("cannot read {}: {e}", cert_path.display())),
        (_, Err(e)) => return Err(format!("cannot read {}: {e}", key_path.display())),
    };
    restrict_permissions(key_path);
    let der = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| format!("{} is not a PEM certificate: {e}", cert_path.display()))?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| format!("{} is not an X.509 certificate: {e}", cert_path.display()))?;
    let key = KeyPair::from_pem(&key_pem).map_err(|e| format!("{} is not a usable key: {e}", key_path.display()))?;
    if cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(format!("{} is not the key of {}", key_path.display(), cert_path.display()));
    }
    let (_, ca) = x509_parser::parse_x509_certificate(ca_der).map_err(|e| format!("the CA does not parse: {e}"))?;
    if cert.verify_signature(Some(ca.public_key())).is_err() {
        return Err(format!("{} was not signed by the local CA", cert_path.display()));
    }
    let not_after = cert.validity().not_after.timestamp();
    if not_after - now.unix_timestamp() < RENEW_BEFORE_DAYS * 86_400 {
        return Err(format!(
            "{} expires on {} (renewed {RENEW_BEFORE_DAYS} days ahead)",
            cert_path.display(),
            cert.validity().not_after
        ));
    }
    if cert.validity().not_before.timestamp() > now.unix_timestamp() {
        return Err(format!("{} is not valid before {}", cert_path.display(), cert.validity().not_before));
    }
    let missing = required.missing_from(&certificate_names(&cert));
    if !missing.is_empty() {
        return Err(format!("{} does not cover {}", cert_path.display(), missing.join(", ")));
    }
    Ok(())
}

/// The DNS names and IP addresses of a certificate's subjectAltName.
fn certificate_names(cert: &X509Certificate<'_>) -> Names {
    let mut names = Names { dns: BTreeSet::new(), ips: BTreeSet::new() };
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => {
                    names.dns.insert(dns.to_ascii_lowercase());
                }
                GeneralName::IPAddress(bytes) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*bytes) {
                        names.ips.insert(IpAddr::from(v4));
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*bytes) {
                        names.ips.insert(IpAddr::from(v6));
                    }
                }
                _ => {}
            }
        }
    }
    names
}

/// The restaurant's own certificate chain and key.
fn files(cert_path: &Path, key_path: &Path) -> Result<HubTls, TlsError> {
    let chain = parse_chain(cert_path, &read_text(cert_path)?)?;
    let key = parse_key(key_path, &read_text(key_path)?)?;
    let (_, leaf) = x509_parser::parse_x509_certificate(&chain[0])
        .map_err(|e| invalid(cert_path, format!("the first certificate does not parse: {e}")))?;
    let names = certificate_names(&leaf).list();
    let not_after = leaf.validity().not_after;
    if not_after.timestamp() <= OffsetDateTime::now_utc().unix_timestamp() {
        tracing::error!("{} expired on {not_after}: browsers will refuse it", cert_path.display());
    } else {
        tracing::info!(names = %names.join(", "), "using {} (valid until {not_after})", cert_path.display());
    }
    let server_config = server_config(chain, key, cert_path, key_path)?;
    Ok(HubTls { server_config, ca: None, names })
}

fn parse_chain(path: &Path, pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(path, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(invalid(path, "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"));
    }
    Ok(chain)
}

fn parse_key(path: &Path, pem: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| invalid(path, format!("not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}")))
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    cert_path: &Path,
    key_path: &Path,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(format!("TLS versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(format!("{} with {}: {e}", cert_path.display(), key_path.display())))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_text(path: &Path) -> Result<String, TlsError> {
    std::fs::read_to_string(path).map_err(|source| TlsError::Read { path: path.to_path_buf(), source })
}

fn create_private_dir(dir: &Path) -> Result<(), TlsError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| TlsError::Write { path: dir.to_path_buf(), source })
}

/// Key files readable by others are made private again (logged).
fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
                Ok(()) => tracing::warn!("{} was readable by others: now mode 0600", path.display()),
                Err(e) => tracing::error!("{} is readable by others and cannot be made private: {e}", path.display()),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Writes `bytes` to a temporary file beside `path` (mode 0600 when `private`), syncs it and
/// renames it over `path`, so a crash leaves either the old file or the new one.
fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), TlsError> {
    let tmp = path.with_extension("pem.tmp");
    let write = || -> std::io::Result<()> {
        let _ = std::fs::remove_file(&tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, if private { 0o600 } else { 0o644 });
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    write().map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        TlsError::Write { path: path.to_path_buf(), source }
    })
}

// ---------------------------------------------------------------------------------------------
// Serving

/// Logs where the hub answers over HTTPS, the CA's fingerprint and the setup page's address.
pub(crate) fn log_listening(tls: &HubTls, https: SocketAddr, plain: Option<SocketAddr>, dist: &Path) {
    let port = https.port();
    let url = |host: &str| match host.parse::<Ipv6Addr>() {
        Ok(_) => format!("https://[{host}]:{port}/"),
        Err(_) => format!("https://{host}:{port}/"),
    };
    let lan_names: Vec<&String> =
        tls.names.iter().filter(|n| n.parse::<IpAddr>().map_or(*n != "localhost", |ip| !ip.is_loopback())).collect();
    let urls: Vec<String> = if https.ip().is_unspecified() {
        std::iter::once(url("localhost")).chain(lan_names.iter().map(|n| url(n))).collect()
    } else if https.ip().is_loopback() {
        vec![url("localhost")]
    } else {
        vec![url(&https.ip().to_string())]
    };
    tracing::info!("listening on {} (serving {})", urls.join(" "), dist.display());
    if let Some(ca) = &tls.ca {
        let pin = spki_pin(&ca.der).unwrap_or_else(|e| format!("(unreadable: {e})"));
        tracing::info!("local CA SHA-256 fingerprint {} (public key pin {pin})", ca.fingerprint);
    }
    let Some(plain) = plain else { return };
    let setup_host = if plain.ip().is_unspecified() {
        // An address first: a tablet may not resolve the host name yet.
        let address = lan_names.iter().find(|n| n.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv4()));
        address.or(lan_names.first()).map_or_else(|| "localhost".to_string(), |n| n.to_string())
    } else {
        match plain.ip() {
            IpAddr::V6(v6) => format!("[{v6}]"),
            ip => ip.to_string(),
        }
    };
    match &tls.ca {
        Some(_) => tracing::info!(
            "plain HTTP on {plain}: set up each tablet at http://{setup_host}:{}/setup (trust the CA); \
             every other path redirects to HTTPS",
            plain.port()
        ),
        None => tracing::info!("plain HTTP on {plain}: redirects to HTTPS"),
    }
}

/// Accepts connections on `listener` and serves `router` on each (over TLS when `tls` is given,
/// each handshake bounded by its timeout), until `stop` is cancelled: then it stops accepting,
/// asks each connection to finish its request in flight, and returns when all are closed.
/// Cancelling `kill` drops the connections still open. Handlers get the peer as
/// `ConnectInfo<SocketAddr>`.
pub(crate) async fn serve_connections(
    listener: TcpListener,
    tls: Option<(TlsAcceptor, Duration)>,
    router: Router,
    stop: CancellationToken,
    kill: CancellationToken,
) {
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::error!("cannot accept a connection: {e}");
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        // Small frames (an event, then its ack) must not wait for the peer's delayed ACK.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::warn!(%peer, "cannot set TCP_NODELAY: {e}");
        }
        let (router, stop, kill) = (router.clone(), stop.clone(), kill.clone());
        match tls.clone() {
            None => connections.spawn(serve_http(stream, peer, router, stop, kill)),
            Some((acceptor, timeout)) => connections.spawn(async move {
                let handshake = tokio::time::timeout(timeout, acceptor.accept(stream));
                let stream = tokio::select! {
                    _ = stop.cancelled() => return,
                    done = handshake => match done {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => {
                            tracing::info!(%peer, "TLS handshake failed: {e}{}", handshake_hint(&e));
                            return;
                        }
                        Err(_) => {
                            tracing::info!(%peer, "no TLS handshake within {timeout:?}: connection dropped");
                            return;
                        }
                    },
                };
                serve_http(stream, peer, router, stop, kill).await;
            }),
        };
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

fn handshake_hint(e: &std::io::Error) -> &'static str {
    let text = e.to_string();
    if text.contains("UnknownCA") || text.contains("BadCertificate") || text.contains("CertificateUnknown") {
        " (the device does not trust the hub's CA yet: open the setup page on the plain-HTTP port)"
    } else {
        ""
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}

/// Serves HTTP/1.1 (with upgrades, for `/ws`) on one connection.
async fn serve_http<I>(io: I, peer: SocketAddr, router: Router, stop: CancellationToken, kill: CancellationToken)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = router.map_request(move |mut request: axum::http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => result,
                _ = kill.cancelled() => return,
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, "connection ended: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// The plain-HTTP side

struct Plain {
    ca: Option<LocalCa>,
    https_port: u16,
}

/// The plain-HTTP listener's routes: `/ca.crt`, `/setup`, `/healthz` (answered by `app`, the
/// hub's own router) and a `308` to the same path on HTTPS (port `https_port`) for everything else.
pub(crate) fn plain_router(tls: &HubTls, https_port: u16, app: Router) -> Router {
    let state = Arc::new(Plain { ca: tls.ca.clone(), https_port });
    Router::new()
        .route("/ca.crt", get(ca_certificate))
        .route("/setup", get(setup_page))
        .route_service("/healthz", app)
        .fallback(redirect_to_https)
        .with_state(state)
}

async fn ca_certificate(State(plain): State<Arc<Plain>>) -> Response {
    match &plain.ca {
        Some(ca) => (
            [
                (header::CONTENT_TYPE, "application/x-x509-ca-cert".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{CA_DOWNLOAD_NAME}\"")),
                (header::CACHE_CONTROL, "no-cache".to_string()),
            ],
            ca.pem.clone(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "This hub serves the restaurant's own certificate: there is no local CA to install.\n",
        )
            .into_response(),
    }
}

/// The request's host without its port, when it is a host name or an IP address.
fn request_host(request: &Request) -> Option<String> {
    let raw = match request.uri().authority() {
        Some(authority) => authority.as_str().to_string(),
        None => request.headers().get(header::HOST)?.to_str().ok()?.to_string(),
    };
    host_without_port(&raw)
}

fn host_without_port(raw: &str) -> Option<String> {
    let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        v6.parse::<Ipv6Addr>().ok()?;
        (&raw[..v6.len() + 2], after.strip_prefix(':'))
    } else {
        match raw.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (raw, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let valid = host.starts_with('[') || is_valid_hostname(host) || host.parse::<Ipv4Addr>().is_ok();
    valid.then(|| host.to_ascii_lowercase())
}

fn https_origin(host: &str, port: u16) -> String {
    if port == 443 { format!("https://{host}") } else { format!("https://{host}:{port}") }
}

async fn redirect_to_https(State(plain): State<Arc<Plain>>, request: Request) -> Response {
    let Some(host) = request_host(&request) else {
        return (StatusCode::BAD_REQUEST, "missing or invalid Host header\n").into_response();
    };
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!("{}{path}", https_origin(&host, plain.https_port));
    match Uri::try_from(location.as_str()) {
        Ok(_) => (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, location)]).into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "invalid request target\n").into_response(),
    }
}

async fn setup_page(State(plain): State<Arc<Plain>>, request: Request) -> Response {
    let host = request_host(&request).unwrap_or_else(|| "localhost".into());
    let origin = https_origin(&host, plain.https_port);
    let body = match &plain.ca {
        Some(ca) => setup_html(&origin, &ca.fingerprint),
        None => own_certificate_html(&origin),
    };
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"),
        ],
        Html(body),
    )
        .into_response()
}

const PAGE_STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:1.5rem auto;padding:0 1rem;\
color:#1b1b1b}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.6rem}code{background:#f1f1f1;padding:.1rem .3rem;\
border-radius:3px}.fp{font-family:ui-monospace,monospace;word-break:break-all;background:#f1f1f1;padding:.5rem;\
border-radius:4px}a.button{display:inline-block;background:#0b57d0;color:#fff;padding:.6rem 1rem;border-radius:6px;\
text-decoration:none;font-weight:600}li{margin:.25rem 0}";

/// `origin` and `fingerprint` are checked (host name or address; hex and colons): no escaping needed.
fn setup_html(origin: &str, fingerprint: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Restaurant Hub: set up this device</title><style>{PAGE_STYLE}</style></head>
<body>
<h1>Set up this device for the Restaurant Hub</h1>
<p>The hub serves the kiosk and the kitchen display over HTTPS, which tablets need for voice ordering
and staff calls. Its certificate comes from a certificate authority (CA) the hub created for this
restaurant alone. Each device trusts that CA once; after that, <code>{origin}</code> opens without warnings.</p>
<p><a class="button" href="/ca.crt" download="{CA_DOWNLOAD_NAME}">Download the hub's CA certificate</a></p>
<p>Before trusting it, check that its SHA-256 fingerprint (shown by the device when installing, or in
the hub's log at start) is exactly:</p>
<p class="fp">{fingerprint}</p>
<p>If it differs, stop: the certificate did not come from your hub.</p>

<h2>Android</h2>
<ol>
<li>Tap <em>Download</em> above; the file goes to Downloads.</li>
<li>Open <em>Settings → Security &amp; privacy → More security settings → Encryption &amp; credentials →
Install a certificate → CA certificate</em> (on older versions: <em>Settings → Security → Install from storage</em>).</li>
<li>Confirm <em>Install anyway</em>, pick <code>{CA_DOWNLOAD_NAME}</code> and unlock the device if asked.</li>
<li>Chrome now trusts the hub (close and reopen Chrome if a tab was already open).</li>
</ol>

<h2>iPad / iPhone (iOS, iPadOS)</h2>
<ol>
<li>Open this page in <strong>Safari</strong> and tap <em>Download</em>; allow the configuration profile download.</li>
<li>Open <em>Settings → General → VPN &amp; Device Management</em>, tap the downloaded profile
(<em>Restaurant Hub local CA …</em>) and tap <em>Install</em>.</li>
<li><strong>Then turn on full trust:</strong> <em>Settings → General → About → Certificate Trust Settings</em>,
switch on <em>Restaurant Hub local CA …</em> under “Enable full trust for root certificates”, and confirm.</li>
</ol>

<h2>Chromebook (ChromeOS)</h2>
<ol>
<li>Download the certificate.</li>
<li>Open <code>chrome://settings/certificates</code> (<em>Settings → Privacy and security → Security →
Manage certificates</em>), tab <em>Authorities</em> → <em>Import</em>, pick <code>{CA_DOWNLOAD_NAME}</code>.</li>
<li>Tick <em>Trust this certificate for identifying websites</em> and press <em>OK</em>.</li>
</ol>

<h2>Desktop Chrome / Edge</h2>
<ul>
<li><strong>Windows:</strong> open the downloaded file → <em>Install Certificate…</em> → <em>Current User</em> →
<em>Place all certificates in the following store</em> → <em>Trusted Root Certification Authorities</em> → <em>Finish</em>,
and confirm the security warning. Restart the browser.</li>
<li><strong>macOS:</strong> open the downloaded file; Keychain Access adds it to the <em>login</em> keychain.
Double-click <em>Restaurant Hub local CA …</em>, open <em>Trust</em>, set <em>When using this certificate</em>
to <em>Always Trust</em>, close the window and enter your password.</li>
<li><strong>Linux:</strong> <code>chrome://settings/certificates</code> → <em>Authorities</em> → <em>Import</em>,
tick <em>Trust this certificate for identifying websites</em>.</li>
<li>Firefox keeps its own list: <em>Settings → Privacy &amp; Security → Certificates → View Certificates →
Authorities → Import</em>, tick <em>Trust this CA to identify websites</em>.</li>
</ul>

<h2>Then open</h2>
<ul>
<li>Kiosk: <a href="{origin}/kiosk">{origin}/kiosk</a></li>
<li>Kitchen display: <a href="{origin}/kds">{origin}/kds</a></li>
</ul>
</body></html>
"#
    )
}

fn own_certificate_html(origin: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Restaurant Hub</title><style>{PAGE_STYLE}</style></head>
<body>
<h1>Restaurant Hub</h1>
<p>This hub serves HTTPS with the restaurant's own certificate: there is nothing to install here.
If a device warns about the certificate, install the CA that issued it as your IT set it up.</p>
<ul>
<li>Kiosk: <a href="{origin}/kiosk">{origin}/kiosk</a></li>
<li>Kitchen display: <a href="{origin}/kds">{origin}/kds</a></li>
</ul>
</body></html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dns: &[&str], ips: &[&str]) -> Names {
        Names {
            dns: dns.iter().map(|s| s.to_string()).collect(),
            ips: ips.iter().map(|s| s.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn the_certificate_names_cover_host_name_extras_and_lan_addresses() {
        let interfaces: Vec<IpAddr> = ["127.0.0.1", "192.168.1.20", "fe80::1", "169.254.3.4", "fd00::5"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let got = required_names(Some("Hub.example.lan."), &["pos.lan".into(), "10.0.0.9".into()], &interfaces);
        assert_eq!(
            got,
            names(
                &["hub", "hub.example.lan", "hub.local", "localhost", "pos.lan"],
                &["127.0.0.1", "::1", "192.168.1.20", "fd00::5", "10.0.0.9"]
            )
        );
        let bare = required_names(None, &[], &[]);
        assert_eq!(bare, names(&["localhost"], &["127.0.0.1", "::1"]));
        let odd = required_names(Some("not a name"), &[], &[]);
        assert_eq!(odd.dns.len(), 1, "an unusable host name is left out");
    }

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn fingerprints_are_colon_separated_upper_hex() {
        let fp = fingerprint(b"abc");
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert!(fp.starts_with("BA:78:16:BF"), "{fp}");
    }

    #[test]
    fn hosts_lose_their_port_and_odd_ones_are_refused() {
        assert_eq!(host_without_port("hub.local:8080").as_deref(), Some("hub.local"));
        assert_eq!(host_without_port("192.168.1.5").as_deref(), Some("192.168.1.5"));
        assert_eq!(host_without_port("[::1]:80").as_deref(), Some("[::1]"));
        assert_eq!(host_without_port("[fd00::5]").as_deref(), Some("[fd00::5]"));
        for bad in ["", "a b", "evil.com/x", "h:x", "h:", "[::1", "[zz]:1", "x@y", "h\"><script>"] {
            assert_eq!(host_without_port(bad), None, "{bad:?}");
        }
        assert_eq!(https_origin("hub", 443), "https://hub");
        assert_eq!(https_origin("hub", 8443), "https://hub:8443");
    }

    fn temp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn the_ca_is_made_once_and_the_server_certificate_follows_the_names() {
        let dir = temp();
        let tls = dir.path().join(TLS_DIR);
        let first = auto(&tls, &names(&["localhost", "hub"], &["127.0.0.1"])).unwrap();
        let ca = first.ca.clone().unwrap();
        let server_pem = std::fs::read_to_string(tls.join(SERVER_CERT)).unwrap();

        // Same names: everything reused.
        let again = auto(&tls, &names(&["localhost", "hub"], &["127.0.0.1"])).unwrap();
        assert_eq!(again.ca.unwrap().fingerprint, ca.fingerprint);
        assert_eq!(std::fs::read_to_string(tls.join(SERVER_CERT)).unwrap(), server_pem);

        // A new address: a new server certificate, the same CA.
        let moved = auto(&tls, &names(&["localhost", "hub"], &["127.0.0.1", "192.168.7.7"])).unwrap();
        assert_eq!(moved.ca.unwrap().fingerprint, ca.fingerprint);
        let renewed = std::fs::read_to_string(tls.join(SERVER_CERT)).unwrap();
        assert_ne!(renewed, server_pem);
        let der = CertificateDer::from_pem_slice(renewed.as_bytes()).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert!(certificate_names(&cert).ips.contains(&"192.168.7.7".parse::<IpAddr>().unwrap()));
        let days = (cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp()) / 86_400;
        assert!(days <= SERVER_VALIDITY_DAYS, "{days} days");
        let (_, ca_cert) = x509_parser::parse_x509_certificate(&ca.der).unwrap();
        assert!(cert.verify_signature(Some(ca_cert.public_key())).is_ok());
        assert!(ca_cert.is_ca());
        assert!(ca_cert.subject().to_string().contains("Restaurant Hub local CA hub"), "{}", ca_cert.subject());
        assert!(ca_cert.key_usage().unwrap().unwrap().value.key_cert_sign());
    }

    #[cfg(unix)]
    #[test]
    fn key_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp();
        let tls = dir.path().join(TLS_DIR);
        auto(&tls, &names(&["localhost"], &[])).unwrap();
        for (file, mode) in [(CA_KEY, 0o600), (SERVER_KEY, 0o600), (CA_CERT, 0o644), (SERVER_CERT, 0o644)] {
            let got = std::fs::metadata(tls.join(file)).unwrap().permissions().mode() & 0o777;
            assert_eq!(got, mode, "{file}");
        }
        assert_eq!(std::fs::metadata(&tls).unwrap().permissions().mode() & 0o777, 0o700);
        let leftovers: Vec<_> = std::fs::read_dir(&tls)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_server_certificate_not_signed_by_the_ca_is_replaced() {
        let dir = temp();
        let tls = dir.path().join(TLS_DIR);
        let required = names(&["localhost"], &["127.0.0.1"]);
        auto(&tls, &required).unwrap();
        // A self-signed stranger in place of the server certificate.
        let key = KeyPair::generate().unwrap();
        let stranger =
            CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap().self_signed(&key).unwrap();
        std::fs::write(tls.join(SERVER_CERT), stranger.pem()).unwrap();
        std::fs::write(tls.join(SERVER_KEY), key.serialize_pem()).unwrap();
        let ca = std::fs::read(tls.join(CA_CERT)).unwrap();
        let ca_der = CertificateDer::from_pem_slice(&ca).unwrap();
        let now = OffsetDateTime::now_utc();
        let why =
            server_needs_renewal(&tls.join(SERVER_CERT), &tls.join(SERVER_KEY), &ca_der, &required, now).unwrap_err();
        assert!(why.contains("not signed by the local CA"), "{why}");
        auto(&tls, &required).unwrap();
        assert_ne!(std::fs::read_to_string(tls.join(SERVER_CERT)).unwrap(), stranger.pem());
        // Near expiry: renewed.
        let later = now + time::Duration::days(SERVER_VALIDITY_DAYS - RENEW_BEFORE_DAYS + 1);
        let why =
            server_needs_renewal(&tls.join(SERVER_CERT), &tls.join(SERVER_KEY), &ca_der, &required, later).unwrap_err();
        assert!(why.contains("expires"), "{why}");
    }

    #[test]
    fn a_ca_certificate_without_its_key_is_an_error_not_a_new_ca() {
        let dir = temp();
        let tls = dir.path().join(TLS_DIR);
        auto(&tls, &names(&["localhost"], &[])).unwrap();
        let ca = std::fs::read(tls.join(CA_CERT)).unwrap();
        std::fs::remove_file(tls.join(CA_KEY)).unwrap();
        let e = auto(&tls, &names(&["localhost"], &[])).unwrap_err().to_string();
        assert!(e.contains(CA_KEY) && e.contains("missing"), "{e}");
        assert_eq!(std::fs::read(tls.join(CA_CERT)).unwrap(), ca, "the CA is left as it was");

        // A key left alone by an interrupted first start: the CA is made.
        let dir = temp();
        let tls = dir.path().join(TLS_DIR);
        create_private_dir(&tls).unwrap();
        std::fs::write(tls.join(CA_KEY), KeyPair::generate().unwrap().serialize_pem()).unwrap();
        auto(&tls, &names(&["localhost"], &[])).unwrap();
        assert!(tls.join(CA_CERT).exists());
    }

    #[test]
    fn a_ca_key_that_does_not_match_is_refused() {
        let dir = temp();
        let tls = dir.path().join(TLS_DIR);
        auto(&tls, &names(&["localhost"], &[])).unwrap();
        std::fs::write(tls.join(CA_KEY), KeyPair::generate().unwrap().serialize_pem()).unwrap();
        let e = auto(&tls, &names(&["localhost"], &[])).unwrap_err().to_string();
        assert!(e.contains("is not the key of"), "{e}");
    }

    #[test]
    fn the_data_folder_must_not_be_inside_the_bundle() {
        let dir = temp();
        let data = dir.path().join("dist/data");
        std::fs::create_dir_all(&data).unwrap();
        let e = HubTls::load(&TlsSetting::Auto, &data, &dir.path().join("dist"), &[]).unwrap_err().to_string();
        assert!(e.contains("would be served"), "{e}");
        assert!(!data.join(TLS_DIR).exists());
    }

    #[test]
    fn own_files_give_clear_errors() {
        let dir = temp();
        let cert = dir.path().join("chain.pem");
        let key = dir.path().join("key.pem");
        let missing = files(&cert, &key).unwrap_err().to_string();
        assert!(missing.contains("chain.pem"), "{missing}");
        std::fs::write(&cert, "hello").unwrap();
        let e = files(&cert, &key).unwrap_err().to_string();
        assert!(e.contains("chain.pem") && e.contains("no PEM certificate"), "{e}");
        let k = KeyPair::generate().unwrap();
        let c = CertificateParams::new(vec!["hub.lan".into()]).unwrap().self_signed(&k).unwrap();
        std::fs::write(&cert, c.pem()).unwrap();
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").unwrap();
        let e = files(&cert, &key).unwrap_err().to_string();
        assert!(e.contains("key.pem"), "{e}");
        std::fs::write(&key, KeyPair::generate().unwrap().serialize_pem()).unwrap();
        let e = files(&cert, &key).unwrap_err().to_string();
        assert!(e.contains("key.pem") && e.contains("chain.pem"), "mismatched key: {e}");
        std::fs::write(&key, k.serialize_pem()).unwrap();
        let ok = files(&cert, &key).unwrap();
        assert_eq!(ok.names, ["hub.lan"]);
        assert!(ok.ca.is_none());
    }

    #[tokio::test]
    async fn handlers_see_the_peer_address_and_stop_ends_the_loop() {
        // A loopback address of its own where there is one (Linux routes all of 127/8 to the
        // loopback): the other tests bind 127.0.0.1, and one of them could take this port the
        // moment it is free, before it is bound again below.
        let own = if cfg!(target_os = "linux") { "127.0.0.3:0" } else { "127.0.0.1:0" };
        let listener = TcpListener::bind(own).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new()
            .route("/peer", get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }));
        let (stop, kill) = (CancellationToken::new(), CancellationToken::new());
        let server = tokio::spawn(serve_connections(listener, None, router, stop.clone(), kill));
        let peer = reqwest::get(format!("http://{addr}/peer")).await.unwrap().text().await.unwrap();
        assert!(peer.parse::<SocketAddr>().is_ok_and(|p| p.ip().is_loopback()), "{peer}");
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(5), server).await.expect("the loop ends").unwrap();
        // The loop let go of its listener: the port can be bound again. (Not by connecting: a
        // connection to a free local port can connect to itself, or reach a listener another test
        // has just bound to the same port.)
        assert!(TcpListener::bind(addr).await.is_ok(), "no longer listening on {addr}");
    }

    #[test]
    fn server_configs_speak_http1_only() {
        let dir = temp();
        let tls = auto(&dir.path().join(TLS_DIR), &names(&["localhost"], &[])).unwrap();
        assert_eq!(tls.server_config.alpn_protocols, [b"http/1.1".to_vec()]);
    }
}
