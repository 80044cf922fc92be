//! End-to-end test support: the real `tls-frontend` binary started on 127.0.0.1 with ephemeral
//! ports and a config written for the test, test upstreams, our own rustls client, and the
//! `curl`/`openssl` CLIs. Every process is killed when its guard drops, pass or fail.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crypto_core::{Backend, Family, Selection, Target};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// The shared test PKI.
pub fn pki(name: &str) -> String {
    format!("{}/../tests/data/pki/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A scratch folder for one test.
pub fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("e2e-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `tls-frontend tickets rotate FILE`: adds a ticket key to `path` (creating it).
pub fn rotate_tickets(path: &Path) {
    let ok = Command::new(env!("CARGO_BIN_EXE_tls-frontend"))
        .args(["tickets", "rotate"])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "tickets rotate {}", path.display());
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    // The kernel may hand the same ephemeral port out again once the probe socket is closed,
    // so a port given to one test (or twice to the same proxy: a CI run once got its listener
    // and admin port equal) is remembered and never given again in this process.
    static GIVEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    let mut given = GIVEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// Whether a CLI exists; with `REQUIRE_CLI` set, its absence fails the test.
pub fn have(cli: &str) -> bool {
    let runs = |arg: &str| {
        Command::new(cli)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let ok = runs("--version") || runs("version");
    if !ok {
        assert!(
            std::env::var_os("REQUIRE_OPENSSL_CLI").is_none(),
            "`{cli}` is required but not runnable"
        );
        println!("no `{cli}`: part of this test skipped");
    }
    ok
}

/// The crypto section every test config uses: fixed backends (no calibration), GM from
/// RustCrypto and our SM4 kernels.
pub const CRYPTO: &str = "[crypto]\nbackend = \"aws-lc\"\n[crypto.override]\nsm4 = \"asm\"\nsm3 = \"rustcrypto\"\nsm2 = \"rustcrypto\"\ncurvesm2 = \"rustcrypto\"\n";

/// A running proxy.
pub struct Proxy {
    child: Child,
    /// Its listen port.
    pub port: u16,
    /// Its admin port.
    pub admin: u16,
    /// Its stderr (operational log) so far.
    pub log: Arc<Mutex<String>>,
    /// Its stdout (access log) so far.
    pub access: Arc<Mutex<String>>,
    /// The config file.
    pub config: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(r: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { return };
            let mut s = into.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
}

impl Proxy {
    /// Writes `body` (with `{port}` and `{admin}` filled in) to `dir/config.toml` and starts
    /// the proxy on it, waiting until it accepts.
    pub fn start(dir: &Path, body: &str) -> Self {
        let port = free_port();
        let admin = free_port();
        let text = body
            .replace("{port}", &port.to_string())
            .replace("{port2}", &(free_port()).to_string())
            .replace("{admin}", &admin.to_string());
        let config = dir.join("config.toml");
        std::fs::write(&config, text).unwrap();
        let p = Self::start_with(config, port, admin);
        // The admin endpoint is bound after the listeners: wait for it too, so a test's first
        // admin request cannot race it.
        if body.contains("{admin}") {
            let start = Instant::now();
            while TcpStream::connect(("127.0.0.1", admin)).is_err() {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "admin endpoint did not start:\n{}",
                    p.log.lock().unwrap()
                );
                std::thread::sleep(Duration::from_millis(25));
            }
        }
        p
    }

    /// Starts the proxy on an existing config.
    pub fn start_with(config: PathBuf, port: u16, admin: u16) -> Self {
        Self::start_with_env(config, port, admin, &[])
    }

    /// Starts the proxy on an existing config with extra environment variables.
    pub fn start_with_env(
        config: PathBuf,
        port: u16,
        admin: u16,
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tls-frontend"))
            .envs(env.iter().copied())
            .args(["serve", "--config"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tls-frontend");
        let log = Arc::new(Mutex::new(String::new()));
        let access = Arc::new(Mutex::new(String::new()));
        collect(child.stderr.take().unwrap(), log.clone());
        collect(child.stdout.take().unwrap(), access.clone());
        let p = Self {
            child,
            port,
            admin,
            log,
            access,
            config,
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = p.child_status() {
                panic!("proxy exited ({status}):\n{}", p.log.lock().unwrap());
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "proxy did not start (pid {}, state {:?}):\n{}\n{}",
                p.child.id(),
                std::fs::read_to_string(format!("/proc/{}/stat", p.child.id())).ok(),
                p.log.lock().unwrap(),
                p.access.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        p
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, KiB (Linux `/proc`; a panic where it cannot be read, so that no
    /// memory bound passes on a zero).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS from /proc/<pid>/status")
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn child_status(&self) -> std::io::Result<Option<std::process::ExitStatus>> {
        // try_wait needs &mut; poll through /proc instead. An exited child that is not yet
        // reaped is a zombie (state Z): exited too.
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()));
        let alive = stat.is_ok_and(|s| {
            s.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        });
        Ok(if alive {
            None
        } else {
            Some(std::process::ExitStatus::default())
        })
    }

    /// Sends a signal.
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    /// Waits for the process to exit, up to `limit`; returns whether it did.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// An admin request: (status line, body).
    pub fn admin(&self, method: &str, path: &str) -> (String, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.admin)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
        .unwrap();
        let mut r = String::new();
        s.read_to_string(&mut r).unwrap();
        let (head, body) = r.split_once("\r\n\r\n").unwrap_or((&r, ""));
        (
            head.lines().next().unwrap_or("").to_owned(),
            body.to_owned(),
        )
    }

    /// The `n`th (0-based) line of the operational log that contains every one of `words`,
    /// waiting for it a bounded number of polls (the log is read by a thread).
    pub fn log_line(&self, words: &[&str], n: usize) -> String {
        for _ in 0..1000 {
            let found = self
                .log
                .lock()
                .unwrap()
                .lines()
                .filter(|l| words.iter().all(|w| l.contains(w)))
                .nth(n)
                .map(str::to_owned);
            if let Some(line) = found {
                return line;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "no line {n} with {words:?} in the log:\n{}",
            self.log.lock().unwrap()
        );
    }

    /// The `n`th (0-based) access-log line that contains every one of `words`, waiting for
    /// it a bounded number of polls.
    pub fn access_line(&self, words: &[&str], n: usize) -> String {
        for _ in 0..1000 {
            let found = self
                .access
                .lock()
                .unwrap()
                .lines()
                .filter(|l| words.iter().all(|w| l.contains(w)))
                .nth(n)
                .map(str::to_owned);
            if let Some(line) = found {
                return line;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no access line {n}:\n{}", self.access.lock().unwrap());
    }

    /// The value of one metric line (exact name with labels), or 0.
    pub fn metric(&self, name_and_labels: &str) -> f64 {
        let (_, body) = self.admin("GET", "/metrics");
        body.lines()
            .find_map(|l| l.strip_prefix(name_and_labels)?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// Sum over every line of a metric whose labels contain `needle`.
    pub fn metric_sum(&self, name: &str, needle: &str) -> f64 {
        let (_, body) = self.admin("GET", "/metrics");
        body.lines()
            .filter(|l| l.starts_with(name) && l.contains(needle))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

/// What the info upstream saw on one connection.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    /// PROXY source and destination.
    pub addresses: Option<(SocketAddr, SocketAddr)>,
    /// The TLVs.
    pub tlvs: Vec<(u8, Vec<u8>)>,
}

/// An HTTP upstream: optionally parses a PROXY header, then answers each request with
/// "hello <port>" plus what the header said. Records each connection's header.
pub struct InfoUpstream {
    /// Its address.
    pub addr: SocketAddr,
    /// Headers seen, per connection.
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl InfoUpstream {
    /// Starts one; `proxy` says whether connections start with a PROXY header.
    pub fn start(proxy: bool) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut c) = conn else { continue };
                let seen = s2.clone();
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let mut info = String::new();
                    if proxy {
                        let (h, used) = loop {
                            match tls_frontend::conn::proxy_proto::parse(&buf) {
                                Ok(Some(x)) => break x,
                                Ok(None) => {}
                                Err(_) => return,
                            }
                            match c.read(&mut chunk) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        buf.drain(..used);
                        for (t, v) in &h.tlvs {
                            info.push_str(&format!("tlv {t:#x} {}\n", String::from_utf8_lossy(v)));
                        }
                        seen.lock().unwrap().push(Seen {
                            addresses: h.addresses,
                            tlvs: h.tlvs,
                        });
                    }
                    loop {
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            match c.read(&mut chunk) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let close = head.contains("http/1.0") || head.contains("connection: close");
                        buf.drain(..end + 4);
                        let body = format!("hello {}\n{info}", addr.port());
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if c.write_all(resp.as_bytes()).is_err() || close {
                            let _ = c.shutdown(std::net::Shutdown::Both);
                            return;
                        }
                    }
                });
            }
        });
        Self { addr, seen }
    }
}

/// An echo upstream (everything back, half-close honoured).
pub fn echo_upstream() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let mut w = c.try_clone().unwrap();
                let _ = std::io::copy(&mut c, &mut w);
                let _ = w.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    addr
}

/// A rustls client config over our provider.
pub fn client_config(
    sel: &Selection,
    cas: &[&str],
    versions: &[&'static rustls::SupportedProtocolVersion],
    gm: bool,
) -> rustls::ClientConfig {
    let mut provider = crypto_core::tls::provider(sel);
    if gm {
        provider = crypto_core::tls::prefer_gm(provider);
    }
    let mut roots = rustls::RootCertStore::empty();
    for ca in cas {
        for c in CertificateDer::pem_file_iter(pki(&format!("{ca}.pem"))).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// The selection our test clients use.
pub fn client_selection() -> Selection {
    Selection::single(Backend::AwsLc)
        .with_override(Target::Family(Family::Sm4), Backend::Asm)
        .with_override(Target::Family(Family::Sm3), Backend::RustCrypto)
        .with_override(Target::Family(Family::Sm2), Backend::RustCrypto)
        .with_override(Target::Family(Family::CurveSm2), Backend::RustCrypto)
}

/// A connected TLS client.
pub type Client = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// Connects our client to the proxy (optionally sending `preamble` first, e.g. a PROXY
/// header) and completes the handshake.
pub fn connect(
    config: Arc<rustls::ClientConfig>,
    port: u16,
    name: &str,
    preamble: &[u8],
) -> Result<Client, String> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    tcp.write_all(preamble).map_err(|e| e.to_string())?;
    let conn =
        rustls::ClientConnection::new(config, ServerName::try_from(name.to_owned()).unwrap())
            .map_err(|e| e.to_string())?;
    let mut s = rustls::StreamOwned::new(conn, tcp);
    while s.conn.is_handshaking() {
        s.conn
            .complete_io(&mut s.sock)
            .map_err(|e| format!("handshake: {e}"))?;
    }
    Ok(s)
}

/// One HTTP/1.1 GET over `s`; returns the body.
pub fn get(s: &mut Client) -> String {
    s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "EOF before a response");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if body.len() >= len {
                return body.to_owned();
            }
        }
    }
}

/// Writes `msg` through an echo path and checks it comes back.
pub fn echo_once(c: &mut Client, msg: &[u8]) {
    c.write_all(msg).unwrap();
    let mut got = vec![0u8; msg.len()];
    c.read_exact(&mut got).unwrap();
    assert_eq!(got, msg);
}

/// The subject CN of the server certificate a client got.
pub fn peer_cn(s: &Client) -> String {
    let cert = &s.conn.peer_certificates().unwrap()[0];
    tls_frontend::config::x509::subject_cn(cert).unwrap_or_default()
}

/// Loads a PEM key (for client certificates).
pub fn key(name: &str) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_file(pki(&format!("{name}.key"))).unwrap()
}

/// Loads a PEM chain.
pub fn certs(name: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(pki(&format!("{name}.pem")))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Runs a command with stdin, returns (success, stdout+stderr).
pub fn run(cmd: &mut Command, stdin: &[u8]) -> (bool, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `openssl s_client` to the proxy on 127.0.0.1:`port` for `name`, verifying against the PKI's
/// `ca`, with `args` added and `stdin` sent; returns (success, stdout+stderr).
pub fn s_client(port: u16, name: &str, ca: &str, args: &[&str], stdin: &[u8]) -> (bool, String) {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-servername",
        name,
        "-CAfile",
        &pki(ca),
        "-verify_return_error",
    ])
    .args(args);
    run(&mut cmd, stdin)
}

/// `tls-frontend check --config FILE`: (success, output).
pub fn check(config: &Path) -> (bool, String) {
    run(
        Command::new(env!("CARGO_BIN_EXE_tls-frontend"))
            .args(["check", "--config"])
            .arg(config),
        b"",
    )
}
