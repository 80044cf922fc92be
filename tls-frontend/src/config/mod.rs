//! Configuration and running state. This file is the configuration file (TOML): what operators
//! write, parsed and checked without touching other files. Durations are written as `"10s"`,
//! `"500ms"`, `"2m"`, `"12h"`.
//!
//! The rest of the room: [`state`] loads what a configuration names (certificates, keys, ticket
//! keys, upstream pools, the crypto selection and providers) whole or not at all;
//! [`running`] is the live proxy's shared state and reload; [`certs`], [`tickets`],
//! [`upstreams`] are the loaded parts; [`x509`] reads certificate facts; [`names`] spells what
//! the handshake negotiates.

pub mod certs;
pub mod names;
pub mod ocsp;
pub mod pkcs11;
pub mod running;
pub mod state;
pub mod tickets;
pub mod tlcp;
pub mod upstreams;
pub mod x509;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// A configuration problem: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl From<String> for ConfigError {
    fn from(message: String) -> Self {
        Self(message)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Worker threads (default: every core).
    #[serde(default)]
    pub workers: Option<usize>,
    /// How long SIGTERM waits for open connections.
    #[serde(default = "default_drain")]
    pub drain_timeout: String,
    /// On SIGTERM, how long the listeners keep accepting after `/health` turned 503, before
    /// the drain (HAProxy's `grace`): a load balancer that health-checks sees the instance
    /// leave before it stops accepting, so no new connection meets a closed port. Default 0.
    #[serde(default = "default_drain_delay")]
    pub drain_delay: String,
    /// Listening sockets.
    #[serde(rename = "listener", default)]
    pub listeners: Vec<Listener>,
    /// Certificates with their keys, per server name.
    #[serde(rename = "certificate", default)]
    pub certificates: Vec<Certificate>,
    /// TLCP certificate pairs (signing and encryption) with their keys, per server name.
    #[serde(rename = "tlcp_certificate", default)]
    pub tlcp_certificates: Vec<TlcpCertificate>,
    /// Upstream pools by name.
    #[serde(rename = "upstream", default)]
    pub upstreams: BTreeMap<String, Upstream>,
    /// Session tickets shared by a fleet.
    #[serde(default)]
    pub tickets: Option<Tickets>,
    /// Which crypto backend computes what.
    #[serde(default)]
    pub crypto: Crypto,
    /// Metrics, health and reload endpoint.
    #[serde(default)]
    pub admin: Option<Admin>,
    /// Logging.
    #[serde(default)]
    pub log: Log,
    /// How `ocsp = "auto"` staples are refreshed.
    #[serde(default)]
    pub ocsp: Ocsp,
    /// Keys in hardware security modules.
    #[serde(default)]
    pub pkcs11: Pkcs11,
}

/// `[pkcs11]`: the module pool for keys in hardware security modules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11 {
    /// The module (an absolute path) for URIs without `module-path`.
    #[serde(default)]
    pub module: Option<PathBuf>,
    /// Threads that run handshakes whose key is in a module (they block in `C_Sign`).
    /// Default 4. Read at start: a change needs a restart.
    #[serde(default = "default_pkcs11_threads")]
    pub threads: usize,
    /// Such handshakes at once, running or waiting for a thread; more are refused at once.
    /// Default 256.
    #[serde(default = "default_pkcs11_queue")]
    pub queue: usize,
    /// The most such a handshake may spend in the pool. Default 5s.
    #[serde(default = "default_pkcs11_timeout")]
    pub timeout: String,
}

impl Default for Pkcs11 {
    fn default() -> Self {
        Self {
            module: None,
            threads: default_pkcs11_threads(),
            queue: default_pkcs11_queue(),
            timeout: default_pkcs11_timeout(),
        }
    }
}

fn default_pkcs11_threads() -> usize {
    4
}
fn default_pkcs11_queue() -> usize {
    256
}
fn default_pkcs11_timeout() -> String {
    "5s".into()
}

impl Pkcs11 {
    /// The settings a key load needs.
    pub fn settings(&self) -> Result<pkcs11::Settings, ConfigError> {
        let timeout = bounded(&self.timeout, MAX_TIMEOUT)
            .map_err(|e| ConfigError(format!("pkcs11.timeout: {e}")))?;
        if self.threads == 0 || self.threads > 1024 {
            return err("pkcs11.threads: 1 to 1024");
        }
        if self.queue == 0 {
            return err("pkcs11.queue: at least 1");
        }
        if let Some(m) = &self.module
            && !m.is_absolute()
        {
            return err("pkcs11.module: an absolute path");
        }
        Ok(pkcs11::Settings {
            module: self.module.clone(),
            threads: self.threads,
            queue: self.queue,
            timeout,
        })
    }
}

fn default_drain() -> String {
    "30s".into()
}

fn default_drain_delay() -> String {
    "0s".into()
}

/// One listening address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// `host:port`.
    pub address: String,
    /// The upstream pool (a key of `[upstream.*]`).
    pub upstream: String,
    /// ALPN protocols offered, in preference order (none: no ALPN).
    #[serde(default)]
    pub alpn: Vec<String>,
    /// TLS versions: "1.2", "1.3".
    #[serde(default = "default_versions")]
    pub versions: Vec<String>,
    /// Key-exchange groups (default: the provider's): x25519, secp256r1, secp384r1, curvesm2,
    /// x25519mlkem768.
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    /// Time a client has to finish its handshake (and send a PROXY header).
    #[serde(default = "default_handshake_timeout")]
    pub handshake_timeout: String,
    /// A relayed connection with no traffic either way for this long is closed.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: String,
    /// Open connections at most; further clients wait in the kernel's backlog.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Sources (IP addresses or CIDR blocks) that must send a PROXY v1/v2 header first.
    #[serde(default)]
    pub proxy_protocol_from: Vec<String>,
    /// What a client naming no configured server name gets: "default" (the default
    /// certificate) or "reject" (a handshake failure).
    #[serde(default = "default_unknown_name")]
    pub unknown_name: String,
    /// Client certificates (mutual TLS).
    #[serde(default)]
    pub client_auth: Option<ClientAuth>,
    /// The server's suite order decides, not the client's (nginx's `ssl_prefer_server_ciphers`):
    /// the fastest AEAD on this CPU first (AES-GCM with AES instructions, else
    /// ChaCha20-Poly1305), and SM suites for the clients that prefer them.
    #[serde(default = "yes")]
    pub prefer_server_ciphers: bool,
    /// Serve TLCP (GB/T 38636-2020) on this listener too: a first record of version 0x0101
    /// goes to the TLCP engine with a `[[tlcp_certificate]]` pair, everything else to TLS.
    #[serde(default)]
    pub tlcp: bool,
    /// TLCP suites in the server's preference order (default: ECC_SM4_GCM_SM3,
    /// ECC_SM4_CBC_SM3, ECDHE_SM4_GCM_SM3, ECDHE_SM4_CBC_SM3); either the standard's or
    /// Tongsuo's names.
    #[serde(default)]
    pub tlcp_suites: Option<Vec<String>>,
}

fn default_versions() -> Vec<String> {
    vec!["1.2".into(), "1.3".into()]
}
fn default_handshake_timeout() -> String {
    "10s".into()
}
fn default_idle_timeout() -> String {
    "300s".into()
}
fn default_max_connections() -> usize {
    10_000
}
fn default_unknown_name() -> String {
    "default".into()
}

/// Client-certificate authentication.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientAuth {
    /// PEM file of CA certificates client certificates must chain to.
    pub ca: PathBuf,
    /// Whether a client without a certificate is refused (default) or let through.
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// A certificate chain and its key, for some server names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// Server names it serves; `*.example.com` matches one label.
    #[serde(default)]
    pub names: Vec<String>,
    /// PEM chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, SEC1 or PKCS#1), or a key in a hardware security module:
    /// `pkcs11:token=...;object=...?pin-source=file:...` (RFC 7512).
    pub key: PathBuf,
    /// Served to clients that name no configured server (or no name at all).
    #[serde(default)]
    pub default: bool,
    /// OCSP stapling: a DER OCSPResponse file (as hitch and HAProxy take it, re-read on
    /// reload), or `"auto"`: fetched from the responder in the certificate's
    /// authorityInfoAccess and refreshed in the background. The chain must hold the issuer.
    #[serde(default)]
    pub ocsp: Option<String>,
}

/// How `ocsp = "auto"` refreshes (HAProxy's `ocsp-update.mindelay` and `maxdelay`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ocsp {
    /// The least time between two fetches for a certificate, and the wait after a failed
    /// one. Default 5m.
    #[serde(default = "default_ocsp_min_delay")]
    pub min_delay: String,
    /// The most time between two fetches (a response valid for a week is still refreshed
    /// this often). Default 1h.
    #[serde(default = "default_ocsp_max_delay")]
    pub max_delay: String,
    /// How long a fetch may take. Default 10s.
    #[serde(default = "default_ocsp_timeout")]
    pub timeout: String,
}

impl Default for Ocsp {
    fn default() -> Self {
        Self {
            min_delay: default_ocsp_min_delay(),
            max_delay: default_ocsp_max_delay(),
            timeout: default_ocsp_timeout(),
        }
    }
}

fn default_ocsp_min_delay() -> String {
    "5m".into()
}
fn default_ocsp_max_delay() -> String {
    "1h".into()
}
fn default_ocsp_timeout() -> String {
    "10s".into()
}

impl Ocsp {
    /// (min_delay, max_delay, timeout).
    pub fn durations(&self) -> Result<(Duration, Duration, Duration), ConfigError> {
        let d =
            |what: &str, v: &str| duration(v).map_err(|e| ConfigError(format!("ocsp.{what}: {e}")));
        let min = d("min_delay", &self.min_delay)?;
        let max = d("max_delay", &self.max_delay)?;
        let timeout = d("timeout", &self.timeout)?;
        if min.is_zero() || max < min {
            return err("ocsp: 0 < min_delay <= max_delay");
        }
        if timeout.is_zero() || timeout > MAX_TIMEOUT {
            return err(format!("ocsp.timeout: above 0 and at most {MAX_TIMEOUT:?}"));
        }
        Ok((min, max, timeout))
    }
}

/// A TLCP certificate pair for some server names (Tengine's `ssl_sign_certificate` and
/// `ssl_enc_certificate`): the signing certificate (keyUsage digitalSignature, its CA chain
/// after it) and the encryption certificate (keyUsage keyEncipherment), SM2 keys each.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlcpCertificate {
    /// Server names it serves; `*.example.com` matches one label.
    #[serde(default)]
    pub names: Vec<String>,
    /// PEM chain: the signing certificate first, then its CA certificates.
    pub sign_cert: PathBuf,
    /// PEM SM2 private key of the signing certificate.
    pub sign_key: PathBuf,
    /// PEM encryption certificate.
    pub enc_cert: PathBuf,
    /// PEM SM2 private key of the encryption certificate.
    pub enc_key: PathBuf,
    /// Served to TLCP clients that name no configured server (or no name at all).
    #[serde(default)]
    pub default: bool,
}

/// An upstream pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// `host:port` addresses, used round robin; dead ones are skipped for a while.
    pub addresses: Vec<String>,
    /// Time to connect to one address before trying the next.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: String,
    /// Send a PROXY header first: "v1" or "v2" (v2 carries TLS details as TLVs).
    #[serde(default)]
    pub proxy_protocol: Option<String>,
    /// Speak TLS to the upstream.
    #[serde(default)]
    pub tls: Option<UpstreamTls>,
}

fn default_connect_timeout() -> String {
    "5s".into()
}

/// TLS towards an upstream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamTls {
    /// PEM CA file the upstream's certificate must chain to.
    pub ca: PathBuf,
    /// The name to verify (and send as SNI); default: the address's host.
    #[serde(default)]
    pub server_name: Option<String>,
    /// Speak TLCP (GB/T 38636-2020) instead of TLS: `ca` must hold the SM2 root(s).
    #[serde(default)]
    pub tlcp: bool,
    /// TLCP suites to offer, in order (default: every suite the client can use).
    #[serde(default)]
    pub tlcp_suites: Option<Vec<String>>,
    /// TLCP client credentials, sent when the upstream asks (the ECDHE suites need them):
    /// the signing chain, its key, the encryption certificate and its key (PEM).
    #[serde(default)]
    pub sign_cert: Option<PathBuf>,
    /// See `sign_cert`.
    #[serde(default)]
    pub sign_key: Option<PathBuf>,
    /// See `sign_cert`.
    #[serde(default)]
    pub enc_cert: Option<PathBuf>,
    /// See `sign_cert`.
    #[serde(default)]
    pub enc_key: Option<PathBuf>,
}

/// Session tickets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tickets {
    /// The key file shared by the fleet (`tls-frontend tickets rotate FILE` makes and rotates
    /// it): the newest key encrypts, all decrypt.
    pub key_file: PathBuf,
    /// How long a ticket resumes.
    #[serde(default = "default_ticket_lifetime")]
    pub lifetime: String,
}

fn default_ticket_lifetime() -> String {
    "12h".into()
}

/// `[crypto]`: the Selection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Crypto {
    /// "auto" or a backend name.
    #[serde(default = "default_backend")]
    pub backend: String,
    /// With "auto": the calibration profile to load (or write when missing).
    #[serde(default)]
    pub profile: Option<PathBuf>,
    /// Per family or algorithm: backend.
    #[serde(rename = "override", default)]
    pub overrides: BTreeMap<String, String>,
}

impl Default for Crypto {
    fn default() -> Self {
        Self {
            backend: default_backend(),
            profile: None,
            overrides: BTreeMap::new(),
        }
    }
}

fn default_backend() -> String {
    "auto".into()
}

/// `[admin]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// `host:port` for `/metrics`, `/health` and `POST /reload`.
    pub address: String,
    /// A file holding the bearer token `POST /reload` must carry (`Authorization: Bearer
    /// ...`); without it, only loopback peers may reload. Read with every (re)load of the
    /// configuration, permissions checked as a key file's.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// One JSON line per connection on stdout.
    #[serde(default = "yes")]
    pub access: bool,
}

impl Default for Log {
    fn default() -> Self {
        Self { access: true }
    }
}

/// Parses `"10s"`, `"250ms"`, `"2m"`, `"12h"`, `"1d"`.
pub fn duration(text: &str) -> Result<Duration, ConfigError> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| ConfigError(format!("bad duration {text:?} (like \"10s\" or \"250ms\")")))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        "d" => Duration::from_secs(n.saturating_mul(86_400)),
        _ => return err(format!("bad duration unit in {text:?} (ms, s, m, h, d)")),
    };
    Ok(d)
}

/// The longest timeout accepted (a year): longer ones are mistakes and would overflow clocks.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 86_400);
/// The most connections one listener may hold.
pub const MAX_CONNECTIONS: usize = 1_000_000;

/// A duration that is more than zero and at most `max`.
pub fn bounded(text: &str, max: Duration) -> Result<Duration, ConfigError> {
    let d = duration(text)?;
    if d.is_zero() || d > max {
        return err(format!("{text:?} must be more than 0 and at most {max:?}"));
    }
    Ok(d)
}

/// An address or CIDR block from `proxy_protocol_from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `::1`, `192.168.1.7`.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let (a, p) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| ConfigError(format!("bad address {text:?}")))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max)
                .ok_or_else(|| ConfigError(format!("bad prefix in {text:?}")))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

impl Config {
    /// Reads and parses the file at `path`; errors name it.
    pub fn read(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("reading {}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| ConfigError(format!("{}: {}", path.display(), e.0)))
    }

    /// Parses and checks everything that can be checked without touching files.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let cfg: Self = toml::from_str(text).map_err(|e| ConfigError(format!("{e}")))?;
        cfg.check()?;
        Ok(cfg)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.listeners.is_empty() {
            return err("no [[listener]]");
        }
        if self.certificates.is_empty() {
            return err("no [[certificate]]");
        }
        if self.workers == Some(0) {
            return err("workers must be at least 1");
        }
        bounded(&self.drain_timeout, MAX_TIMEOUT)
            .map_err(|e| ConfigError(format!("drain_timeout: {e}")))?;
        // Zero (the default) is allowed: stop accepting at once.
        let delay =
            duration(&self.drain_delay).map_err(|e| ConfigError(format!("drain_delay: {e}")))?;
        if delay > MAX_TIMEOUT {
            return err(format!("drain_delay: at most {MAX_TIMEOUT:?}"));
        }
        if self.certificates.iter().filter(|c| c.default).count() > 1 {
            // Several keys may share the default role only if they are for the same names;
            // keep it simple: all default certificates form the default set.
        }
        for (i, c) in self.certificates.iter().enumerate() {
            if c.names.is_empty() && !c.default {
                return err(format!(
                    "certificate {} ({}) has no names and is not the default",
                    i + 1,
                    c.cert.display()
                ));
            }
            for n in &c.names {
                check_name(n)?;
            }
            if c.ocsp.as_deref().is_some_and(str::is_empty) {
                return err(format!(
                    "certificate {} ({}): ocsp is \"auto\" or a file",
                    i + 1,
                    c.cert.display()
                ));
            }
        }
        self.ocsp.durations()?;
        self.pkcs11.settings()?;
        for (i, c) in self.certificates.iter().enumerate() {
            if let Some(k) = c.key.to_str().filter(|k| k.starts_with("pkcs11:")) {
                pkcs11::parse_uri(k).map_err(|e| {
                    ConfigError(format!(
                        "certificate {} ({}): key: {e}",
                        i + 1,
                        c.cert.display()
                    ))
                })?;
            }
        }
        for (i, c) in self.tlcp_certificates.iter().enumerate() {
            if c.names.is_empty() && !c.default {
                return err(format!(
                    "tlcp_certificate {} ({}) has no names and is not the default",
                    i + 1,
                    c.sign_cert.display()
                ));
            }
            for n in &c.names {
                check_name(n)?;
            }
        }
        let mut bound: Vec<SocketAddr> = Vec::new();
        for (i, l) in self.listeners.iter().enumerate() {
            let at = |m: String| ConfigError(format!("listener {} ({}): {m}", i + 1, l.address));
            let addr = l
                .address
                .parse::<SocketAddr>()
                .map_err(|_| at("address must be ip:port".into()))?;
            // With SO_REUSEPORT both would bind, and the kernel would split the address's
            // connections between two configurations.
            if let Some(j) = bound.iter().position(|a| *a == addr) {
                return Err(at(format!(
                    "the same address as listener {}: one address, one [[listener]]",
                    j + 1
                )));
            }
            bound.push(addr);
            if !self.upstreams.contains_key(&l.upstream) {
                return Err(at(format!("no [upstream.{}]", l.upstream)));
            }
            for v in &l.versions {
                if v != "1.2" && v != "1.3" {
                    return Err(at(format!("unknown TLS version {v:?} (\"1.2\", \"1.3\")")));
                }
            }
            if l.versions.is_empty() {
                return Err(at("versions is empty".into()));
            }
            for d in [&l.handshake_timeout, &l.idle_timeout] {
                bounded(d, MAX_TIMEOUT).map_err(|e| at(e.0))?;
            }
            if l.max_connections == 0 || l.max_connections > MAX_CONNECTIONS {
                return Err(at(format!(
                    "max_connections must be between 1 and {MAX_CONNECTIONS}"
                )));
            }
            for c in &l.proxy_protocol_from {
                Cidr::parse(c).map_err(|e| at(e.0))?;
            }
            if l.unknown_name != "default" && l.unknown_name != "reject" {
                return Err(at("unknown_name must be \"default\" or \"reject\"".into()));
            }
            if l.unknown_name == "default" && !self.certificates.iter().any(|c| c.default) {
                return Err(at(
                    "unknown_name = \"default\" needs a certificate with default = true".into(),
                ));
            }
            if let Some(groups) = &l.groups {
                for g in groups {
                    if names::group_by_name(g).is_none() {
                        return Err(at(format!("unknown group {g:?} ({})", names::GROUP_NAMES)));
                    }
                }
            }
            for p in &l.alpn {
                if p.is_empty() || p.len() > 255 {
                    return Err(at(format!("bad ALPN protocol {p:?}")));
                }
            }
            if l.tlcp && self.tlcp_certificates.is_empty() {
                return Err(at("tlcp = true needs a [[tlcp_certificate]]".into()));
            }
            if l.tlcp_suites.is_some() && !l.tlcp {
                return Err(at("tlcp_suites without tlcp = true".into()));
            }
            if let Some(s) = &l.tlcp_suites {
                tlcp_suites(s).map_err(at)?;
            }
        }
        for (name, u) in &self.upstreams {
            let at = |m: String| ConfigError(format!("upstream {name}: {m}"));
            if u.addresses.is_empty() {
                return Err(at("no addresses".into()));
            }
            bounded(&u.connect_timeout, MAX_TIMEOUT).map_err(|e| at(e.0))?;
            match u.proxy_protocol.as_deref() {
                None | Some("v1") | Some("v2") => {}
                Some(v) => return Err(at(format!("proxy_protocol {v:?} (\"v1\" or \"v2\")"))),
            }
            if let Some(t) = &u.tls {
                let creds = [&t.sign_cert, &t.sign_key, &t.enc_cert, &t.enc_key];
                let given = creds.iter().filter(|c| c.is_some()).count();
                if given != 0 && (given != 4 || !t.tlcp) {
                    return Err(at(
                        "tls: sign_cert, sign_key, enc_cert and enc_key go together, with tlcp = true"
                            .into(),
                    ));
                }
                if t.tlcp_suites.is_some() && !t.tlcp {
                    return Err(at("tls: tlcp_suites without tlcp = true".into()));
                }
                if let Some(s) = &t.tlcp_suites {
                    tlcp_suites(s).map_err(|e| at(format!("tls: {e}")))?;
                }
            }
        }
        if let Some(t) = &self.tickets {
            // RFC 8446 section 4.6.1: a ticket lifetime is at most seven days.
            bounded(&t.lifetime, Duration::from_secs(7 * 86_400))
                .map_err(|e| ConfigError(format!("tickets.lifetime: {e}")))?;
        }
        if let Some(a) = &self.admin {
            a.address
                .parse::<SocketAddr>()
                .map_err(|_| ConfigError("admin.address must be ip:port".into()))?;
        }
        self.selection_spec()?;
        Ok(())
    }

    /// The `[crypto]` section as a selection spec, built from its typed fields (each backend
    /// and override name parsed as a token, not the section re-written as text).
    pub fn selection_spec(&self) -> Result<crypto_core::SelectionSpec, ConfigError> {
        use crypto_core::{Backend, Base, Target};
        let at = |m: String| ConfigError(format!("[crypto]: {m}"));
        let base = match self.crypto.backend.as_str() {
            "auto" => Base::Auto,
            name => Base::Backend(name.parse::<Backend>().map_err(|e| at(e.to_string()))?),
        };
        if self
            .crypto
            .profile
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            return Err(at("`profile` must be a non-empty path".into()));
        }
        if self.crypto.profile.is_some() && base != Base::Auto {
            return Err(at("`profile` only goes with `backend = \"auto\"`".into()));
        }
        let mut overrides = Vec::new();
        for (target, backend) in &self.crypto.overrides {
            let t: Target = target
                .parse()
                .map_err(|()| at(format!("unknown algorithm or family {target}")))?;
            let b: Backend = backend.parse().map_err(|e| at(format!("{target}: {e}")))?;
            overrides.push((t, b));
        }
        Ok(crypto_core::SelectionSpec {
            base,
            profile: self.crypto.profile.clone(),
            overrides,
        })
    }
}

/// TLCP suites by name (the standard's `ECC_SM4_GCM_SM3` or Tongsuo's `ECC-SM2-SM4-GCM-SM3`).
pub fn tlcp_suites(names: &[String]) -> Result<Vec<crypto_core::tlcp::Suite>, String> {
    if names.is_empty() {
        return Err("tlcp_suites is empty".into());
    }
    names
        .iter()
        .map(|n| {
            crypto_core::tlcp::Suite::from_name(n).ok_or_else(|| {
                format!(
                    "unknown TLCP suite {n:?} ({})",
                    crypto_core::tlcp::Suite::ALL
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect()
}

fn check_name(n: &str) -> Result<(), ConfigError> {
    let bare = n.strip_prefix("*.").unwrap_or(n);
    let ok = !bare.is_empty()
        && bare.len() <= 253
        && bare.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        err(format!("bad server name {n:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[listener]]
address = "127.0.0.1:8443"
upstream = "app"
alpn = ["http/1.1"]

[[certificate]]
names = ["example.com"]
cert = "a.pem"
key = "a.key"
default = true

[upstream.app]
addresses = ["127.0.0.1:8080"]

[crypto]
backend = "ring"
[crypto.override]
sm4 = "asm"
"#;

    #[test]
    fn parses_a_small_config() {
        let c = Config::parse(GOOD).unwrap();
        assert_eq!(c.listeners[0].versions, vec!["1.2", "1.3"]);
        assert_eq!(c.crypto.overrides["sm4"], "asm");
    }

    #[test]
    fn refuses_mistakes_with_a_reason() {
        for (from, to, why) in [
            (
                "upstream = \"app\"",
                "upstream = \"nope\"",
                "no [upstream.nope]",
            ),
            ("backend = \"ring\"", "backend = \"nope\"", "[crypto]"),
            (
                "alpn = [",
                "versions = [\"1.1\"]\nalpn = [",
                "unknown TLS version",
            ),
            ("address = \"127.0.0.1:8443\"", "address = \"x\"", "ip:port"),
            ("default = true", "default = false", "needs a certificate"),
            (
                "[upstream.app]",
                "[upstream.app]\nproxy_protocol = \"v3\"",
                "proxy_protocol",
            ),
            ("[[listener]]", "bogus = 1\n[[listener]]", "unknown field"),
            (
                "alpn = [",
                "idle_timeout = \"999999999d\"\nalpn = [",
                "at most",
            ),
            (
                "alpn = [",
                "handshake_timeout = \"0s\"\nalpn = [",
                "more than 0",
            ),
            (
                "alpn = [",
                "max_connections = 99999999999\nalpn = [",
                "max_connections",
            ),
            (
                "[[certificate]]",
                "[[listener]]\naddress = \"127.0.0.1:8443\"\nupstream = \"app\"\n\n[[certificate]]",
                "listener 2 (127.0.0.1:8443): the same address as listener 1",
            ),
        ] {
            let text = GOOD.replacen(from, to, 1);
            let e = Config::parse(&text).unwrap_err();
            assert!(e.0.contains(why), "{why}: got {e}");
        }
    }

    #[test]
    fn durations_and_cidrs() {
        assert_eq!(duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(duration("2m").unwrap(), Duration::from_secs(120));
        assert!(duration("10").is_err() && duration("x").is_err());
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(Cidr::parse("1.2.3.4/33").is_err());
    }
}
