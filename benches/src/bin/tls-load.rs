//! The proxy harness's load client and upstream (`benches/proxy/run.py` drives it).
//!
//! `tls-load upstream --listen ADDR`: an HTTP/1.1 responder; `GET /N` gets N bytes back
//! (keep-alive).
//!
//! `tls-load client --connect ADDR --ca FILE [--name localhost] --mode MODE ...`, where MODE is
//! - `handshakes`: `--concurrency C` threads, each loop: connect, full handshake, `GET /0`, close;
//!   `--resume` lets the client resume from tickets instead;
//! - `bulk`: `--concurrency C` connections each downloading `--bytes N` in `--chunk`-sized GETs;
//! - `latency`: `--rate R` requests/s of `--bytes` (1 KiB) over `--concurrency` connections;
//! - `idle`: open `--connections N` TLS connections, print a line, hold them until stdin closes.
//!
//! It runs for `--seconds S` (or until the bytes are moved) and prints one JSON line. The client
//! speaks through our provider (`--backend`, default aws-lc), so it can do RFC 8998 (`--gm`),
//! or TLCP with `--tlcp SUITE` (our `crypto_core::tlcp` client; `--ca` then holds the SM2
//! root; `--resume` resumes by session ID).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn flag(args: &[String], name: &str) -> bool {
    args.iter().any(|a| a == name)
}

fn num<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    arg(args, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn upstream(args: &[String]) {
    let listen = arg(args, "--listen").unwrap_or_else(|| "127.0.0.1:0".into());
    let l = TcpListener::bind(&listen).expect("bind");
    println!("{}", l.local_addr().unwrap());
    std::io::stdout().flush().unwrap();
    let zeros = Arc::new(vec![b'z'; 1 << 20]);
    for c in l.incoming() {
        let Ok(mut c) = c else { continue };
        let zeros = zeros.clone();
        std::thread::spawn(move || {
            let _ = c.set_nodelay(true);
            let mut r = std::io::BufReader::new(c.try_clone().unwrap());
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let n: usize = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|p| p.trim_start_matches('/').parse().ok())
                    .unwrap_or(0);
                // Skip the rest of the head.
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 {
                        return;
                    }
                    if h == "\r\n" || h == "\n" {
                        break;
                    }
                }
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {n}\r\n\r\n");
                if c.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let mut left = n;
                while left > 0 {
                    let k = left.min(zeros.len());
                    if c.write_all(&zeros[..k]).is_err() {
                        return;
                    }
                    left -= k;
                }
            }
        });
    }
}

fn config(args: &[String]) -> Client {
    use crypto_core::{Backend, Family, Selection, Target};
    let backend: Backend = arg(args, "--backend")
        .unwrap_or_else(|| "aws-lc".into())
        .parse()
        .expect("backend");
    let sel = Selection::single(backend)
        .with_override(Target::Family(Family::Sm4), Backend::Asm)
        .with_override(Target::Family(Family::Sm3), Backend::RustCrypto)
        .with_override(Target::Family(Family::Sm2), Backend::RustCrypto)
        .with_override(Target::Family(Family::CurveSm2), Backend::RustCrypto);
    if let Some(suite) = arg(args, "--tlcp") {
        use crypto_core::tlcp::{Cert, ClientConfig, SessionCache, Suite};
        let roots = CertificateDer::pem_file_iter(arg(args, "--ca").expect("--ca"))
            .expect("ca")
            .map(|c| Cert::parse(c.unwrap().as_ref()).expect("an SM2 CA certificate"))
            .collect();
        let mut cfg = ClientConfig::new(sel, roots);
        cfg.suites = vec![Suite::from_name(&suite).expect("a TLCP suite")];
        if !flag(args, "--resume") {
            cfg.sessions = Arc::new(SessionCache::new(0, Duration::ZERO));
        }
        return Client::Tlcp(Arc::new(cfg));
    }
    let mut provider = crypto_core::tls::provider(&sel);
    if let Some(s) = arg(args, "--suite") {
        provider.cipher_suites.retain(|x| {
            x.suite().as_str().is_some_and(|n| n == s) || format!("{:?}", x.suite()) == s
        });
        assert!(!provider.cipher_suites.is_empty(), "unknown suite {s}");
    }
    if let Some(g) = arg(args, "--group") {
        provider
            .kx_groups
            .retain(|x| format!("{:?}", x.name()) == g);
        assert!(!provider.kx_groups.is_empty(), "unknown group {g}");
    }
    if flag(args, "--gm") {
        provider = crypto_core::tls::gm_only(provider);
    }
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(arg(args, "--ca").expect("--ca")).expect("ca") {
        roots.add(c.unwrap()).unwrap();
    }
    let versions: Vec<&'static rustls::SupportedProtocolVersion> =
        match arg(args, "--tls").as_deref() {
            Some("1.2") => vec![&rustls::version::TLS12],
            _ => vec![&rustls::version::TLS13],
        };
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.resumption = if flag(args, "--resume") {
        rustls::client::Resumption::in_memory_sessions(1024)
    } else {
        rustls::client::Resumption::disabled()
    };
    Client::Tls(Arc::new(cfg))
}

/// The client side: TLS (rustls) or TLCP.
#[derive(Clone)]
enum Client {
    Tls(Arc<rustls::ClientConfig>),
    Tlcp(Arc<crypto_core::tlcp::ClientConfig>),
}

/// A blocking TLCP connection over TCP.
struct TlcpConn {
    sock: TcpStream,
    conn: crypto_core::tlcp::Connection,
}

impl TlcpConn {
    fn send(&mut self) -> std::io::Result<()> {
        let out = self.conn.take_tls();
        if !out.is_empty() {
            self.sock.write_all(&out)?;
        }
        Ok(())
    }

    /// One read from the socket into the engine; `false` at EOF.
    fn receive(&mut self) -> std::io::Result<bool> {
        let mut buf = [0u8; 32 * 1024];
        let n = self.sock.read(&mut buf)?;
        let mut at = 0;
        while at < n {
            at += self.conn.read_tls(&buf[at..n]);
            if let Err(e) = self.conn.process_new_packets() {
                let _ = self.send();
                return Err(std::io::Error::other(e));
            }
        }
        Ok(n > 0)
    }
}

impl Read for TlcpConn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.conn.plaintext_available() > 0 {
                return Ok(self.conn.read_plaintext(buf));
            }
            if self.conn.received_close_notify() || !self.receive()? {
                return Ok(0);
            }
        }
    }
}

impl Write for TlcpConn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(crypto_core::tlcp::MAX_PLAINTEXT);
        self.conn
            .write_plaintext(&buf[..n])
            .map_err(std::io::Error::other)?;
        self.send()?;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

#[allow(clippy::large_enum_variant)] // one per connection; no boxing in the load loop
enum Conn {
    Tls(rustls::StreamOwned<rustls::ClientConnection, TcpStream>),
    Tlcp(TlcpConn),
}

impl Conn {
    fn resumed(&self) -> bool {
        match self {
            Self::Tls(s) => s.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
            Self::Tlcp(s) => s.conn.resumed(),
        }
    }

    fn close(&mut self) {
        match self {
            Self::Tls(s) => {
                s.conn.send_close_notify();
                let _ = s.flush();
            }
            Self::Tlcp(s) => {
                s.conn.send_close_notify();
                let _ = s.send();
            }
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Tls(s) => s.read(buf),
            Self::Tlcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Tls(s) => s.write(buf),
            Self::Tlcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Tls(s) => s.flush(),
            Self::Tlcp(s) => s.flush(),
        }
    }
}

fn open(cfg: &Client, addr: &str, name: &str) -> std::io::Result<Conn> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    match cfg {
        Client::Tls(cfg) => {
            let conn = rustls::ClientConnection::new(
                cfg.clone(),
                ServerName::try_from(name.to_owned()).unwrap(),
            )
            .map_err(std::io::Error::other)?;
            let mut s = rustls::StreamOwned::new(conn, tcp);
            while s.conn.is_handshaking() {
                s.conn.complete_io(&mut s.sock)?;
            }
            Ok(Conn::Tls(s))
        }
        Client::Tlcp(cfg) => {
            let conn = crypto_core::tlcp::Connection::client(cfg.clone(), name)
                .map_err(std::io::Error::other)?;
            let mut s = TlcpConn { sock: tcp, conn };
            while s.conn.is_handshaking() {
                s.send()?;
                if !s.receive()? {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
            }
            s.send()?;
            Ok(Conn::Tlcp(s))
        }
    }
}

fn get(s: &mut Conn, n: usize, buf: &mut [u8]) -> std::io::Result<()> {
    write!(s, "GET /{n} HTTP/1.1\r\nhost: x\r\n\r\n")?;
    // Read the head, then n bytes.
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b)?;
        head.push(b[0]);
    }
    let mut left = n;
    let cap = buf.len();
    while left > 0 {
        let k = s.read(&mut buf[..left.min(cap)])?;
        if k == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        left -= k;
    }
    Ok(())
}

fn client(args: &[String]) {
    let addr = arg(args, "--connect").expect("--connect");
    let name = arg(args, "--name").unwrap_or_else(|| "localhost".into());
    let mode = arg(args, "--mode").unwrap_or_else(|| "handshakes".into());
    let conc: usize = num(args, "--concurrency", 4);
    let secs: f64 = num(args, "--seconds", 5.0);
    let bytes: usize = num(args, "--bytes", 0);
    let cfg = config(args);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let moved = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    match mode.as_str() {
        "handshakes" => {
            let resumed = Arc::new(AtomicU64::new(0));
            let hs: Vec<_> = (0..conc)
                .map(|_| {
                    let (cfg, addr, name) = (cfg.clone(), addr.clone(), name.clone());
                    let (stop, done, errors, resumed) =
                        (stop.clone(), done.clone(), errors.clone(), resumed.clone());
                    std::thread::spawn(move || {
                        let mut buf = vec![0u8; 4096];
                        while !stop.load(Ordering::Relaxed) {
                            match open(&cfg, &addr, &name).and_then(|mut s| {
                                get(&mut s, 0, &mut buf)?;
                                if s.resumed() {
                                    resumed.fetch_add(1, Ordering::Relaxed);
                                }
                                s.close();
                                Ok(())
                            }) {
                                Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                                Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                            };
                        }
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_secs_f64(secs));
            stop.store(true, Ordering::Relaxed);
            for h in hs {
                let _ = h.join();
            }
            let t = start.elapsed().as_secs_f64();
            let n = done.load(Ordering::Relaxed);
            println!(
                "{{\"mode\":\"handshakes\",\"count\":{n},\"resumed\":{},\"errors\":{},\"seconds\":{t:.3},\"per_sec\":{:.1}}}",
                resumed.load(Ordering::Relaxed),
                errors.load(Ordering::Relaxed),
                n as f64 / t
            );
        }
        "bulk" => {
            let chunk: usize = num(args, "--chunk", 16 << 20);
            let hs: Vec<_> = (0..conc)
                .map(|_| {
                    let (cfg, addr, name) = (cfg.clone(), addr.clone(), name.clone());
                    let (moved, errors) = (moved.clone(), errors.clone());
                    std::thread::spawn(move || {
                        let mut buf = vec![0u8; 256 * 1024];
                        let Ok(mut s) = open(&cfg, &addr, &name) else {
                            errors.fetch_add(1, Ordering::Relaxed);
                            return;
                        };
                        let mut left = bytes / conc.max(1);
                        while left > 0 {
                            let n = left.min(chunk);
                            if get(&mut s, n, &mut buf).is_err() {
                                errors.fetch_add(1, Ordering::Relaxed);
                                return;
                            }
                            moved.fetch_add(n as u64, Ordering::Relaxed);
                            left -= n;
                        }
                    })
                })
                .collect();
            for h in hs {
                let _ = h.join();
            }
            let t = start.elapsed().as_secs_f64();
            let m = moved.load(Ordering::Relaxed);
            println!(
                "{{\"mode\":\"bulk\",\"bytes\":{m},\"errors\":{},\"seconds\":{t:.3},\"mb_per_sec\":{:.1}}}",
                errors.load(Ordering::Relaxed),
                m as f64 / t / 1e6
            );
        }
        "latency" => {
            let rate: f64 = num(args, "--rate", 200.0);
            let lat = Arc::new(Mutex::new(Vec::<f64>::new()));
            let per = Duration::from_secs_f64(conc as f64 / rate);
            let hs: Vec<_> = (0..conc)
                .map(|i| {
                    let (cfg, addr, name) = (cfg.clone(), addr.clone(), name.clone());
                    let (stop, lat, errors) = (stop.clone(), lat.clone(), errors.clone());
                    std::thread::spawn(move || {
                        let mut buf = vec![0u8; 64 * 1024];
                        let Ok(mut s) = open(&cfg, &addr, &name) else {
                            errors.fetch_add(1, Ordering::Relaxed);
                            return;
                        };
                        // Stagger the connections across one period.
                        std::thread::sleep(per * i as u32 / conc as u32);
                        let mut next = Instant::now();
                        while !stop.load(Ordering::Relaxed) {
                            let t = Instant::now();
                            if get(&mut s, bytes, &mut buf).is_err() {
                                errors.fetch_add(1, Ordering::Relaxed);
                                return;
                            }
                            lat.lock().unwrap().push(t.elapsed().as_secs_f64() * 1e3);
                            next += per;
                            if let Some(w) = next.checked_duration_since(Instant::now()) {
                                std::thread::sleep(w);
                            }
                        }
                    })
                })
                .collect();
            std::thread::sleep(Duration::from_secs_f64(secs));
            stop.store(true, Ordering::Relaxed);
            for h in hs {
                let _ = h.join();
            }
            let mut v = lat.lock().unwrap().clone();
            v.sort_by(f64::total_cmp);
            let q = |p: f64| {
                v.get(((v.len() as f64 - 1.0) * p) as usize)
                    .copied()
                    .unwrap_or(0.0)
            };
            println!(
                "{{\"mode\":\"latency\",\"count\":{},\"errors\":{},\"p50_ms\":{:.3},\"p99_ms\":{:.3}}}",
                v.len(),
                errors.load(Ordering::Relaxed),
                q(0.5),
                q(0.99)
            );
        }
        "idle" => {
            let n: usize = num(args, "--connections", 1000);
            let mut held = Vec::with_capacity(n);
            let mut buf = vec![0u8; 4096];
            for _ in 0..n {
                match open(&cfg, &addr, &name).and_then(|mut s| {
                    get(&mut s, 0, &mut buf)?;
                    Ok(s)
                }) {
                    Ok(s) => held.push(s),
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            println!(
                "{{\"mode\":\"idle\",\"open\":{},\"errors\":{}}}",
                held.len(),
                errors.load(Ordering::Relaxed)
            );
            std::io::stdout().flush().unwrap();
            let mut sink = String::new();
            let _ = std::io::stdin().read_to_string(&mut sink);
            drop(held);
        }
        m => panic!("unknown mode {m}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("upstream") => upstream(&args),
        Some("client") => client(&args),
        _ => {
            eprintln!(
                "usage: tls-load upstream --listen ADDR | tls-load client --connect ADDR --ca FILE --mode handshakes|bulk|latency|idle ..."
            );
            std::process::exit(2);
        }
    }
}
