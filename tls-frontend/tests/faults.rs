//! Faults and load, end to end: the real binary on 127.0.0.1 under misbehaving clients,
//! misbehaving upstreams, operations mistakes and load. Every scenario checks the same four
//! things: the proxy stays up, connections that did nothing wrong complete with byte-exact data
//! (SHA-256 of what went against what came back), nothing panicked, and the metrics count the
//! failure. The scenarios run one at a time (they measure memory and share two cores).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crypto_core::{Backend, HashAlg};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use rustls::version::TLS13;
use support::*;

/// One scenario at a time.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn sha256(data: &[u8]) -> Vec<u8> {
    Backend::AwsLc
        .hash(HashAlg::Sha256)
        .unwrap()
        .hash(data)
        .as_ref()
        .to_vec()
}

/// Deterministic test bytes (xorshift64*), different for every seed.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The client config every scenario uses: TLS 1.3, trusting both CAs the served certificates
/// may come from (a reload switches between them).
fn tls13() -> Arc<ClientConfig> {
    Arc::new(client_config(
        &client_selection(),
        &["ecdsa-ca", "rsa-ca"],
        &[&TLS13],
        false,
    ))
}

/// Copies a test key pair into `dir` as `server.pem`/`server.key` (key mode 0600).
fn install_cert(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let cert = dir.join("server.pem");
    let key = dir.join("server.key");
    std::fs::copy(pki(&format!("{name}.pem")), &cert).unwrap();
    std::fs::copy(pki(&format!("{name}.key")), &key).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    (cert, key)
}

/// A proxy config: one listener (`listener` added to it), one certificate, one upstream pool
/// (`upstream` added to it), admin, fixed crypto; `top` goes first.
fn config(
    dir: &Path,
    addresses: &[SocketAddr],
    top: &str,
    listener: &str,
    upstream: &str,
) -> String {
    let (cert, key) = install_cert(dir, "ecdsa-p256-server");
    let addresses = addresses
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{top}\n[[listener]]\naddress = \"127.0.0.1:{{port}}\"\nupstream = \"app\"\n{listener}\n\n\
         [[certificate]]\nnames = [\"localhost\"]\ncert = \"{}\"\nkey = \"{}\"\ndefault = true\n\n\
         [upstream.app]\naddresses = [{addresses}]\n{upstream}\n\n\
         [admin]\naddress = \"127.0.0.1:{{admin}}\"\n\n{CRYPTO}",
        cert.display(),
        key.display()
    )
}

/// One well-behaved connection: handshake, `len` bytes out and back through the echo upstream
/// in 32 KiB steps, the SHA-256 of both sides compared, then close_notify and a clean EOF back.
fn exchange(cfg: &Arc<ClientConfig>, port: u16, seed: u64, len: usize) -> Result<(), String> {
    let mut c = connect(cfg.clone(), port, "localhost", b"")?;
    let data = pattern(seed, len);
    let mut back = vec![0u8; len];
    let mut at = 0;
    for chunk in data.chunks(32 * 1024) {
        c.write_all(chunk)
            .map_err(|e| format!("write at {at}: {e}"))?;
        c.read_exact(&mut back[at..at + chunk.len()])
            .map_err(|e| format!("read at {at}: {e}"))?;
        at += chunk.len();
    }
    if sha256(&back) != sha256(&data) {
        return Err(format!("checksum mismatch over {len} bytes (seed {seed})"));
    }
    c.conn.send_close_notify();
    c.flush().map_err(|e| format!("close_notify: {e}"))?;
    let mut rest = Vec::new();
    match c.read_to_end(&mut rest) {
        Ok(_) if rest.is_empty() => Ok(()),
        Ok(_) => Err(format!("{} bytes after the echo", rest.len())),
        Err(e) => Err(format!("no clean close after the echo: {e}")),
    }
}

/// Connections that do nothing wrong, in a loop on their own threads, while a fault happens.
struct Bystanders {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Result<u64, String>>>,
}

impl Bystanders {
    fn start(port: u16, n: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|t| {
                let stop = stop.clone();
                let cfg = tls13();
                std::thread::spawn(move || {
                    let mut done = 0u64;
                    while !stop.load(Ordering::Relaxed) || done == 0 {
                        let seed = t * 1_000_003 + done;
                        let len = 48 * 1024 + (seed % 13) as usize * 1111;
                        exchange(&cfg, port, seed, len)
                            .map_err(|e| format!("bystander {t}, exchange {done}: {e}"))?;
                        done += 1;
                    }
                    Ok(done)
                })
            })
            .collect();
        Self { stop, threads }
    }

    /// Stops them; every exchange must have succeeded. Returns how many there were.
    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = 0;
        for t in self.threads {
            total += t.join().unwrap().unwrap_or_else(|e| panic!("{e}"));
        }
        total
    }
}

/// Waits (up to 20 s) until `read()` reaches `want`.
fn wait_for(what: &str, want: f64, read: impl Fn() -> f64) -> f64 {
    let t = Instant::now();
    loop {
        let v = read();
        if v >= want {
            return v;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{what}: {v}, expected at least {want}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The process runs and its log has no panic.
fn up_without_panic(proxy: &mut Proxy) {
    assert!(
        proxy.alive(),
        "the proxy exited:\n{}",
        proxy.log.lock().unwrap()
    );
    let log = proxy.log.lock().unwrap();
    assert!(!log.contains("panicked"), "a panic in the log:\n{log}");
}

/// After every scenario with an echo upstream: up, no panic, and a new connection works
/// byte-exactly.
fn still_healthy(proxy: &mut Proxy) {
    exchange(&tls13(), proxy.port, 4242, 200_000).expect("a fresh connection after the fault");
    up_without_panic(proxy);
}

fn handshakes(proxy: &Proxy, result: &str) -> f64 {
    proxy.metric_sum(
        "tls_frontend_handshakes_total",
        &format!("result=\"{result}\""),
    )
}

fn relays(proxy: &Proxy, end: &str) -> f64 {
    proxy.metric(&format!("tls_frontend_relays_total{{end=\"{end}\"}}"))
}

fn upstream_errors(proxy: &Proxy, reason: &str) -> f64 {
    proxy.metric_sum(
        "tls_frontend_upstream_errors_total",
        &format!("reason=\"{reason}\""),
    )
}

/// Waits until Proxy::start's readiness probe (a bare connect and close: one accepted
/// connection, one failed handshake) is counted, so baselines taken next are stable.
fn settle(proxy: &Proxy) {
    wait_for("the readiness probe's handshake", 1.0, || {
        handshakes(proxy, "tls")
    });
}

/// Waits until `read()` reaches `want`, then checks it stays exactly there (nothing counted
/// twice or counted late).
fn wait_exact(what: &str, want: f64, read: impl Fn() -> f64) {
    wait_for(what, want, &read);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(read(), want, "{what}");
}

/// Accepted connections once Proxy::start's readiness probe (one connection) was counted.
fn accepted_after_start(proxy: &Proxy) -> f64 {
    wait_for("the readiness probe", 1.0, || {
        proxy.metric("tls_frontend_connections_accepted_total")
    })
}

/// A real ClientHello (rustls, our provider) as bytes.
fn client_hello(cfg: &Arc<ClientConfig>) -> Vec<u8> {
    let mut conn = rustls::ClientConnection::new(
        cfg.clone(),
        ServerName::try_from("localhost".to_owned()).unwrap(),
    )
    .unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    hello
}

/// Closes a socket with a TCP reset (SO_LINGER 0).
fn reset(s: TcpStream) {
    socket2::SockRef::from(&s)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(s);
}

/// Whether the peer closed `s` (EOF or an error) within `limit`; reads are drained.
fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 4096];
    while t.elapsed() < limit {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

/// Slowloris: clients trickle a ClientHello a byte at a time; each is cut at the handshake
/// deadline (not before, not much after) while bystanders are served.
#[test]
fn slowloris_is_cut_at_the_handshake_deadline() {
    let _one = serial();
    let dir = scratch("f-slowloris");
    let echo = echo_upstream();
    let mut proxy = Proxy::start(
        &dir,
        &config(&dir, &[echo], "", "handshake_timeout = \"2s\"", ""),
    );
    settle(&proxy);
    let before = handshakes(&proxy, "timeout");
    let bystanders = Bystanders::start(proxy.port, 2);
    let hello = client_hello(&tls13());
    let port = proxy.port;
    let slow: Vec<_> = (0..40)
        .map(|_| {
            let hello = hello.clone();
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_millis(100)))
                    .unwrap();
                let t = Instant::now();
                let mut buf = [0u8; 64];
                for b in hello.iter().cycle() {
                    if s.write_all(&[*b]).is_err() {
                        return t.elapsed();
                    }
                    match s.read(&mut buf) {
                        Ok(0) => return t.elapsed(),
                        Ok(_) => {}
                        Err(e)
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                            ) => {}
                        Err(_) => return t.elapsed(),
                    }
                    assert!(t.elapsed() < Duration::from_secs(30), "never cut");
                }
                unreachable!()
            })
        })
        .collect();
    for s in slow {
        let lasted = s.join().unwrap();
        assert!(
            lasted >= Duration::from_millis(1500) && lasted < Duration::from_secs(8),
            "a slowloris client was cut after {lasted:?} (deadline 2 s)"
        );
    }
    let served = bystanders.finish();
    wait_exact("handshake timeouts", before + 40.0, || {
        handshakes(&proxy, "timeout")
    });
    still_healthy(&mut proxy);
    println!(
        "slowloris: 40 trickling clients cut at the 2 s deadline; {served} bystander exchanges"
    );
}

/// Resets: in the middle of the ClientHello, after the server's flight, and in the middle of a
/// transfer. Each is counted (a handshake error, or a relay that ended on the client's error).
#[test]
fn resets_mid_handshake_and_mid_transfer() {
    let _one = serial();
    let dir = scratch("f-reset");
    let echo = echo_upstream();
    let mut proxy = Proxy::start(&dir, &config(&dir, &[echo], "", "", ""));
    let cfg = tls13();
    settle(&proxy);
    // Broken first flights are refused by the proxy's own ClientHello reader
    // (`bad_client_hello`), broken records later by rustls (`tls`).
    let errors = |p: &Proxy| handshakes(p, "tls") + handshakes(p, "bad_client_hello");
    let tls_errors = errors(&proxy);
    let client_errors = relays(&proxy, "client_error");
    let bystanders = Bystanders::start(proxy.port, 2);
    let hello = client_hello(&cfg);
    for _ in 0..25 {
        // Half a ClientHello, then a reset.
        let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
        s.write_all(&hello[..hello.len() / 2]).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        reset(s);
        // The whole ClientHello, the server's flight read, then a reset instead of Finished.
        let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(&hello).unwrap();
        let mut flight = [0u8; 512];
        assert!(s.read(&mut flight).unwrap() > 0);
        reset(s);
    }
    for i in 0..25u64 {
        // A transfer cut by a reset half way through its second chunk.
        let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
        let data = pattern(i, 64 * 1024);
        c.write_all(&data).unwrap();
        let mut back = vec![0u8; data.len()];
        c.read_exact(&mut back).unwrap();
        assert_eq!(sha256(&back), sha256(&data));
        c.write_all(&data[..20_000]).unwrap();
        reset(c.sock);
    }
    let served = bystanders.finish();
    wait_exact("handshake errors", tls_errors + 50.0, || {
        handshakes(&proxy, "tls")
    });
    wait_exact("relays ended by the client", client_errors + 25.0, || {
        relays(&proxy, "client_error")
    });
    still_healthy(&mut proxy);
    println!(
        "resets: 50 mid-handshake and 25 mid-transfer, all counted; {served} bystander exchanges"
    );
}

/// Half-close both ways: the client's close_notify reaches the upstream as EOF while the
/// upstream's answer keeps flowing back; an upstream that shuts its side first still receives
/// everything the client sends afterwards.
#[test]
fn half_close_keeps_the_other_direction_open() {
    let _one = serial();
    let dir = scratch("f-halfclose");
    // Upstream A: reads to EOF, then answers with the SHA-256 of what it read and a copy of it.
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let a_addr = a.local_addr().unwrap();
    std::thread::spawn(move || {
        for c in a.incoming() {
            let Ok(mut c) = c else { continue };
            std::thread::spawn(move || {
                let mut got = Vec::new();
                c.read_to_end(&mut got).unwrap();
                c.write_all(&sha256(&got)).unwrap();
                c.write_all(&got).unwrap();
                c.shutdown(Shutdown::Write).unwrap();
            });
        }
    });
    let proxy = Proxy::start(&dir, &config(&dir, &[a_addr], "", "", ""));
    let cfg = tls13();
    for seed in 0..5u64 {
        let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
        let data = pattern(seed, 300_000 + seed as usize * 777);
        c.write_all(&data).unwrap();
        c.conn.send_close_notify();
        c.flush().unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back)
            .expect("the answer after our close_notify, then a clean close");
        assert_eq!(
            &back[..32],
            &sha256(&data)[..],
            "what the upstream received"
        );
        assert_eq!(sha256(&back[32..]), sha256(&data), "what came back");
    }
    drop(proxy);

    // Upstream B: greets, shuts its sending side, then reads to EOF and reports the digest.
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    let b_addr = b.local_addr().unwrap();
    let digests = Arc::new(Mutex::new(Vec::new()));
    let d2 = digests.clone();
    std::thread::spawn(move || {
        for c in b.incoming() {
            let Ok(mut c) = c else { continue };
            let d = d2.clone();
            std::thread::spawn(move || {
                c.write_all(b"greeting, and that is all from me").unwrap();
                c.shutdown(Shutdown::Write).unwrap();
                let mut got = Vec::new();
                c.read_to_end(&mut got).unwrap();
                d.lock().unwrap().push(sha256(&got));
            });
        }
    });
    let dir = scratch("f-halfclose-b");
    let mut proxy = Proxy::start(&dir, &config(&dir, &[b_addr], "", "", ""));
    let before = relays(&proxy, "clean");
    for seed in 0..5u64 {
        let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
        let mut greeting = Vec::new();
        c.read_to_end(&mut greeting)
            .expect("the greeting, then close_notify");
        assert_eq!(greeting, b"greeting, and that is all from me");
        let data = pattern(100 + seed, 250_000);
        c.write_all(&data)
            .expect("sending after the server's close_notify");
        c.conn.send_close_notify();
        c.flush().unwrap();
        let _ = c.sock.shutdown(Shutdown::Write);
        let t = Instant::now();
        while digests.lock().unwrap().len() <= seed as usize {
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "the upstream never saw EOF"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(digests.lock().unwrap()[seed as usize], sha256(&data));
    }
    wait_for("clean relays", before + 5.0, || relays(&proxy, "clean"));
    up_without_panic(&mut proxy);
    println!("half-close: 5 client-first and 5 upstream-first, byte-exact both ways");
}

/// Records that are not TLS, too long, or do not decrypt: before the handshake they are a
/// handshake error, after it a relay ended by the client; nobody else notices.
#[test]
fn malformed_and_oversized_records() {
    let _one = serial();
    let dir = scratch("f-records");
    let echo = echo_upstream();
    let mut proxy = Proxy::start(&dir, &config(&dir, &[echo], "", "", ""));
    let cfg = tls13();
    settle(&proxy);
    // Broken first flights are refused by the proxy's own ClientHello reader
    // (`bad_client_hello`), broken records later by rustls (`tls`).
    let errors = |p: &Proxy| handshakes(p, "tls") + handshakes(p, "bad_client_hello");
    let tls_errors = errors(&proxy);
    let client_errors = relays(&proxy, "client_error");
    let bystanders = Bystanders::start(proxy.port, 2);
    let hello = client_hello(&cfg);
    let mut oversized_hello = hello.clone();
    // A handshake record whose length field says 18,433 (2^14 + 2048 + 1: over any limit).
    oversized_hello[3..5].copy_from_slice(&0x4801u16.to_be_bytes());
    oversized_hello.resize(5 + 0x4801, 0x41);
    let mut bad_type = hello.clone();
    bad_type[0] = 0x63;
    let before: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n",
        &oversized_hello,
        &bad_type,
        &[0x16, 0x03, 0x01, 0x00, 0x00],
    ];
    for (i, bytes) in before.iter().enumerate() {
        let mut s = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
        let _ = s.write_all(bytes);
        assert!(
            closed_within(&mut s, Duration::from_secs(5)),
            "malformed input {i} before the handshake: not closed"
        );
    }
    // After the handshake: an application-data record over the limit, a record that does not
    // decrypt, and random bytes.
    let after: [Vec<u8>; 3] = [
        {
            let mut r = vec![0x17, 0x03, 0x03, 0x48, 0x01];
            r.resize(5 + 0x4801, 0);
            r
        },
        {
            let mut r = vec![0x17, 0x03, 0x03, 0x00, 0x40];
            r.extend_from_slice(&pattern(7, 0x40));
            r
        },
        pattern(8, 3000),
    ];
    for (i, bytes) in after.iter().enumerate() {
        let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
        c.write_all(b"fine so far").unwrap();
        let mut b = [0u8; 11];
        c.read_exact(&mut b).unwrap();
        let mut raw = c.sock.try_clone().unwrap();
        let _ = raw.write_all(bytes);
        assert!(
            closed_within(&mut raw, Duration::from_secs(5)),
            "malformed record {i} after the handshake: not closed"
        );
    }
    let served = bystanders.finish();
    wait_exact("handshake errors", tls_errors + 4.0, || errors(&proxy));
    wait_exact("relays ended by the client", client_errors + 3.0, || {
        relays(&proxy, "client_error")
    });
    still_healthy(&mut proxy);
    println!(
        "records: 4 malformed before and 3 after the handshake, all counted; {served} bystander exchanges"
    );
}

/// The upstream misbehaves: refuses, accepts then resets, never completes the connect, never
/// reads. Each gives the client a prompt close and a metric, and the proxy serves on.
#[test]
fn upstream_refuses_resets_and_stalls() {
    let _one = serial();
    let cfg = tls13();

    // Refused: nothing listens there.
    let dir = scratch("f-up-refused");
    let dead: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let proxy = Proxy::start(&dir, &config(&dir, &[dead], "", "", ""));
    for _ in 0..5 {
        let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
        let _ = c.write_all(b"hello?");
        let mut rest = Vec::new();
        let r = c.read_to_end(&mut rest);
        assert!(r.is_ok() && rest.is_empty(), "a clean close, got {r:?}");
    }
    wait_for("refused upstreams", 5.0, || {
        upstream_errors(&proxy, "refused")
    });
    drop(proxy);

    // Accepts, reads the first bytes, then resets.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let resetting = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let mut b = [0u8; 16];
            let _ = c.read(&mut b);
            reset(c);
        }
    });
    let dir = scratch("f-up-reset");
    let mut proxy = Proxy::start(&dir, &config(&dir, &[resetting], "", "", ""));
    for _ in 0..5 {
        let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
        c.write_all(b"request").unwrap();
        let mut rest = Vec::new();
        let t = Instant::now();
        let _ = c.read_to_end(&mut rest);
        assert!(rest.is_empty() && t.elapsed() < Duration::from_secs(5));
    }
    wait_for("relays ended by the upstream", 5.0, || {
        relays(&proxy, "upstream_error")
    });
    up_without_panic(&mut proxy);
    drop(proxy);

    // The connect never completes: a listener with a backlog of 0 whose queue is kept full,
    // so the kernel drops further SYNs.
    let stall = {
        use socket2::{Domain, Socket, Type};
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        s.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
            .unwrap();
        s.listen(0).unwrap();
        s
    };
    let stall_addr = stall.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let _ = s.connect(&stall_addr.into());
        fillers.push(s);
    }
    std::thread::sleep(Duration::from_millis(200));
    let dir = scratch("f-up-stall");
    let proxy = Proxy::start(
        &dir,
        &config(&dir, &[stall_addr], "", "", "connect_timeout = \"1s\"\n"),
    );
    for _ in 0..3 {
        let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
        let _ = c.write_all(b"anyone?");
        let t = Instant::now();
        let mut rest = Vec::new();
        let _ = c.read_to_end(&mut rest);
        let took = t.elapsed();
        assert!(
            took >= Duration::from_millis(800) && took < Duration::from_secs(6),
            "closed after {took:?} with a 1 s connect timeout"
        );
    }
    wait_for("upstream connect timeouts", 3.0, || {
        upstream_errors(&proxy, "connect_timeout")
    });
    drop(proxy);
    drop(fillers);
    drop(stall);

    // Accepts and then neither reads nor writes: the idle timeout ends it.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = l.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let h2 = held.clone();
    std::thread::spawn(move || {
        for c in l.incoming().flatten() {
            h2.lock().unwrap().push(c);
        }
    });
    let dir = scratch("f-up-silent");
    let mut proxy = Proxy::start(
        &dir,
        &config(&dir, &[silent], "", "idle_timeout = \"1s\"", ""),
    );
    for _ in 0..3 {
        let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
        c.write_all(b"are you there").unwrap();
        let t = Instant::now();
        let mut rest = Vec::new();
        let _ = c.read_to_end(&mut rest);
        let took = t.elapsed();
        assert!(
            took >= Duration::from_millis(800) && took < Duration::from_secs(6),
            "closed after {took:?} with a 1 s idle timeout"
        );
    }
    wait_for("idle relays", 3.0, || relays(&proxy, "idle_timeout"));
    up_without_panic(&mut proxy);
    println!("upstream: refused, reset, connect stall and read stall each closed and counted");
}

/// A slow upstream reader: the client sends 48 MiB as fast as it can while the upstream reads
/// about 200 KB/s; the proxy's memory stays bounded (back-pressure reaches the client), and once
/// the upstream reads at full speed every byte arrives.
#[test]
fn slow_upstream_reader_bounds_memory() {
    let _one = serial();
    const TOTAL: usize = 48 << 20;
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let fast = Arc::new(AtomicBool::new(false));
    let got = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let fast = fast.clone();
        let got = got.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(mut c) = c else { continue };
                let (fast, got, tx) = (fast.clone(), got.clone(), tx.clone());
                std::thread::spawn(move || {
                    let h = Backend::AwsLc.hash(HashAlg::Sha256).unwrap();
                    let mut ctx = h.start();
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let slow = !fast.load(Ordering::Relaxed);
                        let want = if slow { 4096 } else { buf.len() };
                        let n = c.read(&mut buf[..want]).unwrap();
                        if n == 0 {
                            break;
                        }
                        ctx.update(&buf[..n]);
                        got.fetch_add(n, Ordering::Relaxed);
                        if slow {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                    tx.send(ctx.finish().as_ref().to_vec()).unwrap();
                });
            }
        });
    }
    let dir = scratch("f-slowreader");
    let mut proxy = Proxy::start(&dir, &config(&dir, &[addr], "", "", ""));
    let cfg = tls13();
    // A first connection, so the baseline includes one served connection.
    let send_all = |data: &[u8]| {
        let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
        c.write_all(data).unwrap();
        c.conn.send_close_notify();
        c.flush().unwrap();
        let _ = c.sock.shutdown(Shutdown::Write);
        let mut rest = Vec::new();
        let _ = c.read_to_end(&mut rest);
    };
    send_all(&pattern(1, 4000));
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(20)).unwrap(),
        sha256(&pattern(1, 4000))
    );
    got.store(0, Ordering::Relaxed);
    let baseline = proxy.rss_kib();
    let data = Arc::new(pattern(77, TOTAL));
    let sent = Arc::new(AtomicUsize::new(0));
    let writer = {
        let data = data.clone();
        let sent = sent.clone();
        let port = proxy.port;
        let cfg = cfg.clone();
        std::thread::spawn(move || {
            let mut c = connect(cfg, port, "localhost", b"").unwrap();
            for chunk in data.chunks(64 * 1024) {
                c.write_all(chunk).unwrap();
                sent.fetch_add(chunk.len(), Ordering::Relaxed);
            }
            c.conn.send_close_notify();
            c.flush().unwrap();
            let _ = c.sock.shutdown(Shutdown::Write);
            let mut rest = Vec::new();
            let _ = c.read_to_end(&mut rest);
        })
    };
    let mut peak = 0;
    let mut sent_at_2s = None;
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(4) {
        peak = peak.max(proxy.rss_kib());
        if sent_at_2s.is_none() && t.elapsed() >= Duration::from_secs(2) {
            sent_at_2s = Some(sent.load(Ordering::Relaxed));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (sent_slow, got_slow) = (sent.load(Ordering::Relaxed), got.load(Ordering::Relaxed));
    // Held back: once the socket buffers on the way are full (a few MiB, kernel-tuned), the
    // client moves at the reader's pace, where loopback alone would take it through 48 MiB in
    // well under a second.
    let late = sent_slow - sent_at_2s.unwrap();
    assert!(
        sent_slow < TOTAL && late < 4 << 20,
        "the client was not held back: {sent_slow} of {TOTAL} bytes written, {late} in the last 2 s"
    );
    assert!(
        peak.saturating_sub(baseline) < 16 * 1024,
        "the proxy grew {} KiB with a slow reader (baseline {baseline} KiB)",
        peak.saturating_sub(baseline)
    );
    fast.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let digest = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    assert_eq!(
        digest,
        sha256(&data),
        "what the slow reader finally received"
    );
    // The warm-up's 4,000 bytes and the 48 MiB, counted when each relay ended.
    wait_for(
        "bytes relayed from the client",
        (TOTAL + 4000) as f64,
        || proxy.metric("tls_frontend_bytes_total{direction=\"from_client\"}"),
    );
    up_without_panic(&mut proxy);
    println!(
        "slow reader: after 4 s the client had written {} KiB ({} KiB in the last 2 s) and the upstream read {} KiB; proxy RSS peak {} KiB over a {} KiB baseline; then {} MiB arrived byte-exact",
        sent_slow / 1024,
        late / 1024,
        got_slow / 1024,
        peak.saturating_sub(baseline),
        baseline,
        TOTAL >> 20
    );
}

/// A tokio echo upstream (everything back, half-close honoured), for the load scenarios.
async fn tokio_echo() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((c, _)) = l.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            tokio::spawn(async move {
                let (mut r, mut w) = c.into_split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = tokio::io::AsyncWriteExt::shutdown(&mut w).await;
            });
        }
    });
    addr
}

/// One exchange over an open tokio TLS stream: `data` out, as many bytes back, compared.
async fn echo_async<S>(tls: &mut S, data: &[u8]) -> Result<(), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tls.write_all(data)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut back = vec![0u8; data.len()];
    tls.read_exact(&mut back)
        .await
        .map_err(|e| format!("read: {e}"))?;
    if sha256(&back) == sha256(data) {
        Ok(())
    } else {
        Err("checksum mismatch".into())
    }
}

/// Ends a tokio TLS stream: close_notify and FIN, then a clean EOF back.
async fn close_async<S>(tls: &mut S) -> Result<(), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tls.shutdown().await.map_err(|e| format!("shutdown: {e}"))?;
    let mut rest = Vec::new();
    match tls.read_to_end(&mut rest).await {
        Ok(_) if rest.is_empty() => Ok(()),
        Ok(_) => Err(format!("{} stray bytes", rest.len())),
        Err(e) => Err(format!("no clean close: {e}")),
    }
}

async fn tls_connect(
    connector: &tokio_rustls::TlsConnector,
    port: u16,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, String> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// 10,000 clients at once against `max_connections = 9000`: exactly 9,000 are served
/// concurrently (each handshaken, checked and held open), the other 1,000 wait in the kernel's
/// backlog, and when the held ones finish every waiting one is served: 10,000 byte-exact.
///
/// Why 9,000 at once and not 10,000: a relayed connection holds two descriptors in the proxy,
/// and the open-file limit here is 20,000 with no way to raise it (no CAP_SYS_RESOURCE), so
/// 10,000 relayed at once cannot fit one process. The limit is what a deployment sets for
/// exactly this reason, and holding it under more clients than it allows is the behaviour
/// that matters.
#[test]
fn ten_thousand_concurrent_connections() {
    let _one = serial();
    const CLIENTS: usize = 10_000;
    const LIMIT: usize = 9_000;
    // This process holds the 10,000 client sockets and the echo upstream's 9,000.
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap();
    assert!(
        files >= 19_600,
        "this scenario needs an open-file hard limit of at least 19,600 (it is {files}): raise \
         it, or leave the scenario out with --skip ten_thousand_concurrent_connections"
    );
    let rt = runtime();
    rt.block_on(async {
        let echo = tokio_echo().await;
        let dir = scratch("f-10k");
        let mut proxy = Proxy::start(
            &dir,
            &config(
                &dir,
                &[echo],
                "",
                &format!("max_connections = {LIMIT}\nhandshake_timeout = \"300s\"\nidle_timeout = \"300s\""),
                // The echo upstream is accepted by this test's own runtime, busy with 10,000
                // TLS clients: an upstream connect may wait on a full accept backlog longer
                // than the default 5 s, which is load on this machine, not the proxy's limit.
                "connect_timeout = \"300s\"",
            ),
        );
        let accepted_before = accepted_after_start(&proxy);
        let clean_before = relays(&proxy, "clean");
        let baseline = proxy.rss_kib();
        let connector = tokio_rustls::TlsConnector::from(tls13());
        let established = Arc::new(AtomicUsize::new(0));
        let failed: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
        let (release, released) = tokio::sync::watch::channel(false);
        // At most 1,000 clients are between connect and an answered first exchange at any
        // time: the proxy's accept queue (backlog 1,024) never overflows (dropped SYNs and
        // ACKs would only measure the kernel's retransmission timers), and once 9,000 are
        // held the last 1,000 are all connected and waiting in that queue.
        let unanswered = Arc::new(tokio::sync::Semaphore::new(CLIENTS - LIMIT));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..CLIENTS {
            let connector = connector.clone();
            let established = established.clone();
            let failed = failed.clone();
            let mut released = released.clone();
            let unanswered = unanswered.clone();
            let port = proxy.port;
            tasks.push(tokio::spawn(async move {
                let client = async {
                    let permit = unanswered.acquire_owned().await.unwrap();
                    let mut tls = tls_connect(&connector, port).await?;
                    echo_async(&mut tls, &pattern(i as u64, 1000)).await?;
                    drop(permit);
                    established.fetch_add(1, Ordering::Relaxed);
                    released
                        .wait_for(|r| *r)
                        .await
                        .map_err(|e| e.to_string())?;
                    echo_async(&mut tls, &pattern(i as u64 + 1_000_000, 3000))
                        .await
                        .map_err(|e| format!("after release: {e}"))?;
                    close_async(&mut tls).await
                };
                let r = client.await.map_err(|e| format!("client {i}: {e}"));
                if let Err(e) = &r {
                    failed.lock().unwrap().push(e.clone());
                }
                r
            }));
        }
        while established.load(Ordering::Relaxed) < LIMIT {
            let failures = failed.lock().unwrap().clone();
            assert!(
                failures.is_empty(),
                "{} clients failed, first: {}",
                failures.len(),
                failures[0]
            );
            assert!(
                started.elapsed() < Duration::from_secs(400),
                "only {} of {LIMIT} established:\n{}",
                established.load(Ordering::Relaxed),
                proxy.log.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let filled = started.elapsed();
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(
            established.load(Ordering::Relaxed),
            LIMIT,
            "more than max_connections were served at once"
        );
        assert_eq!(
            proxy.metric("tls_frontend_connections_open") as usize,
            LIMIT
        );
        let at_peak = proxy.rss_kib();
        release.send(true).unwrap();
        for t in tasks {
            t.await.unwrap().unwrap_or_else(|e| panic!("{e}"));
        }
        let all = started.elapsed();
        assert_eq!(
            proxy.metric("tls_frontend_connections_accepted_total") - accepted_before,
            CLIENTS as f64
        );
        wait_for("clean relays", clean_before + CLIENTS as f64, || {
            relays(&proxy, "clean")
        });
        still_healthy(&mut proxy);
        println!(
            "10,000 clients, limit {LIMIT}: the limit filled in {:.1} s; all served byte-exact in {:.1} s; proxy RSS {} KiB at the limit over a {} KiB baseline ({:.1} KiB per relayed connection)",
            filled.as_secs_f64(),
            all.as_secs_f64(),
            at_peak,
            baseline,
            at_peak.saturating_sub(baseline) as f64 / LIMIT as f64
        );
    });
}

/// 100,000 connections (handshake, 2 KB echoed, clean close), 32 at a time: the proxy's
/// memory after the load is within 12 MiB of what it was after the first 10,000 (a leak of
/// 140 bytes per connection would exceed it), and every connection is counted.
#[test]
fn no_leak_over_100000_connections() {
    let _one = serial();
    const WARM: usize = 10_000;
    const TOTAL: usize = 100_000;
    let rt = runtime();
    rt.block_on(async {
        let echo = tokio_echo().await;
        let dir = scratch("f-100k");
        let mut proxy = Proxy::start(&dir, &config(&dir, &[echo], "", "", ""));
        let accepted_before = accepted_after_start(&proxy);
        let connector = tokio_rustls::TlsConnector::from(tls13());
        let next = Arc::new(AtomicUsize::new(0));
        let run_to = |end: usize| {
            let next = next.clone();
            let connector = connector.clone();
            let port = proxy.port;
            async move {
                let workers: Vec<_> = (0..32)
                    .map(|_| {
                        let next = next.clone();
                        let connector = connector.clone();
                        tokio::spawn(async move {
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                if i >= end {
                                    next.fetch_sub(1, Ordering::Relaxed);
                                    return Ok::<(), String>(());
                                }
                                let mut tls = tls_connect(&connector, port)
                                    .await
                                    .map_err(|e| format!("connection {i}: {e}"))?;
                                echo_async(&mut tls, &pattern(i as u64, 2000))
                                    .await
                                    .map_err(|e| format!("connection {i}: {e}"))?;
                                close_async(&mut tls)
                                    .await
                                    .map_err(|e| format!("connection {i}: {e}"))?;
                            }
                        })
                    })
                    .collect();
                for w in workers {
                    w.await.unwrap().unwrap_or_else(|e| panic!("{e}"));
                }
            }
        };
        let started = Instant::now();
        run_to(WARM).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let warm = proxy.rss_kib();
        run_to(TOTAL).await;
        let took = started.elapsed();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = proxy.rss_kib();
        let grew = after.saturating_sub(warm);
        println!(
            "100,000 connections in {:.0} s: RSS {warm} KiB after {WARM}, {after} KiB after {TOTAL} ({grew} KiB more)",
            took.as_secs_f64()
        );
        assert_eq!(
            proxy.metric("tls_frontend_connections_accepted_total") - accepted_before,
            TOTAL as f64
        );
        wait_for("clean relays", TOTAL as f64, || relays(&proxy, "clean"));
        let t = Instant::now();
        while proxy.metric("tls_frontend_connections_open") != 0.0 {
            assert!(t.elapsed() < Duration::from_secs(20), "connections stay open");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(
            grew < 12 * 1024,
            "RSS grew {grew} KiB over {} connections ({warm} -> {after} KiB)",
            TOTAL - WARM
        );
        still_healthy(&mut proxy);
    });
}

/// 100 reloads, alternating the certificate between ECDSA and RSA, while bystanders keep
/// connecting and transferring: every reload succeeds, every transfer is byte-exact.
#[test]
fn reload_storm_while_traffic_flows() {
    let _one = serial();
    let dir = scratch("f-storm");
    let echo = echo_upstream();
    let mut proxy = Proxy::start(&dir, &config(&dir, &[echo], "", "", ""));
    let bystanders = Bystanders::start(proxy.port, 3);
    let mut seen = std::collections::BTreeSet::new();
    let cfg = tls13();
    for i in 0..100 {
        install_cert(
            &dir,
            if i % 2 == 0 {
                "rsa-server"
            } else {
                "ecdsa-p256-server"
            },
        );
        let (status, why) = proxy.admin("POST", "/reload");
        assert!(status.contains("200"), "reload {i}: {status} {why}");
        if i % 10 < 2 {
            let c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
            let want = if i % 2 == 0 {
                "rsa-server"
            } else {
                "ecdsa-p256-server"
            };
            assert_eq!(
                peer_cn(&c),
                want,
                "reload {i}: the new certificate is served"
            );
            seen.insert(peer_cn(&c));
        }
    }
    let served = bystanders.finish();
    assert_eq!(
        proxy.metric("tls_frontend_reloads_total{result=\"ok\"}"),
        100.0
    );
    assert_eq!(
        proxy.metric("tls_frontend_reloads_total{result=\"failed\"}"),
        0.0
    );
    assert_eq!(seen.len(), 2, "{seen:?}");
    still_healthy(&mut proxy);
    println!("reload storm: 100 reloads ok; {served} bystander exchanges byte-exact");
}

/// Reloads with broken files: each is refused with a reason naming the file, counted, and the
/// running configuration keeps serving new and open connections; the repaired file reloads.
#[test]
fn bad_files_on_reload_keep_the_running_configuration() {
    let _one = serial();
    let dir = scratch("f-badfiles");
    let echo = echo_upstream();
    let keys = dir.join("tickets.keys");
    tls_frontend::config::tickets::TicketKeys::rotate(&keys, 2).unwrap();
    let top = format!("[tickets]\nkey_file = \"{}\"\n", keys.display());
    let mut proxy = Proxy::start(&dir, &config(&dir, &[echo], &top, "", ""));
    let cfg = tls13();
    let cert = dir.join("server.pem");
    let key = dir.join("server.key");
    let originals: Vec<(PathBuf, Vec<u8>)> = [&cert, &key, &keys, &proxy.config]
        .iter()
        .map(|p| ((*p).clone(), std::fs::read(p).unwrap()))
        .collect();
    let restore = || {
        for (p, bytes) in &originals {
            std::fs::write(p, bytes).unwrap();
        }
    };
    let mut open = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
    echo_once(&mut open, b"before");
    /// What a case does to a file before reloading.
    enum Damage {
        Write(&'static str),
        Remove,
        CopyFrom(&'static str),
        /// The first half of a real key's PEM: parse errors must not echo key material.
        Truncated(&'static str),
        /// A PKI certificate converted to DER.
        Der(&'static str),
        /// A file of the key-loading test data (`tests/data/keys`).
        KeyFile(&'static str),
    }
    use Damage::*;
    let config_file = proxy.config.clone();
    let cases: [(&str, &Path, Damage, &str); 12] = [
        (
            "certificate not PEM",
            &cert,
            Write("-----BEGIN CERTIFICATE-----\n!!\n"),
            "server.pem: a PEM block without its end line (-----END CERTIFICATE-----)",
        ),
        ("certificate missing", &cert, Remove, "server.pem"),
        (
            "key corrupt",
            &key,
            Write("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            "server.key",
        ),
        (
            "key truncated",
            &key,
            Truncated("ecdsa-p256-server.key"),
            "server.key",
        ),
        ("key missing", &key, Remove, "server.key"),
        (
            "key of another certificate",
            &key,
            CopyFrom("rsa-server.key"),
            "do not belong together",
        ),
        (
            "ticket keys corrupt",
            &keys,
            Write("1700000000 zz not-hex\n"),
            "tickets.keys",
        ),
        ("ticket keys empty", &keys, Write(""), "no keys"),
        (
            "ticket keys missing",
            &keys,
            Remove,
            "tickets.keys does not exist: make one with `tls-frontend tickets rotate",
        ),
        (
            "certificate in DER",
            &cert,
            Der("ecdsa-p256-server.pem"),
            "server.pem: PEM expected (this file looks like DER",
        ),
        (
            "key encrypted",
            &key,
            KeyFile("p256.sec1-encrypted.pem"),
            "server.key: cannot parse key: encrypted keys are not supported",
        ),
        (
            "config not TOML",
            &config_file,
            Write("[[listener\n"),
            "config.toml: TOML parse error",
        ),
    ];
    for (n, (what, file, damage, reason)) in cases.iter().enumerate() {
        match damage {
            Write(text) => std::fs::write(file, text),
            Remove => std::fs::remove_file(file),
            CopyFrom(name) => std::fs::copy(pki(name), file).map(|_| ()),
            Truncated(name) => {
                let pem = std::fs::read_to_string(pki(name)).unwrap();
                std::fs::write(file, &pem[..pem.len() / 2])
            }
            Der(name) => std::fs::write(file, certs(name.trim_end_matches(".pem"))[0].as_ref()),
            KeyFile(name) => std::fs::copy(
                format!("{}/../tests/data/keys/{name}", env!("CARGO_MANIFEST_DIR")),
                file,
            )
            .map(|_| ()),
        }
        .unwrap();
        let (status, answer) = proxy.admin("POST", "/reload");
        assert!(status.contains("500"), "{what}: {status} {answer}");
        // The reason is logged (the `n`th failure's line), not answered.
        let why = proxy.log_line(&["reload failed"], n);
        assert!(
            why.contains(reason) && !answer.contains(reason),
            "{what}: the log should name {reason}: {why}; the answer should not: {answer}"
        );
        assert_eq!(
            proxy.metric("tls_frontend_reloads_total{result=\"failed\"}"),
            n as f64 + 1.0,
            "{what}: counted"
        );
        let fresh = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
        assert_eq!(peer_cn(&fresh), "ecdsa-p256-server", "{what}");
        drop(fresh);
        echo_once(&mut open, what.as_bytes());
        exchange(&cfg, proxy.port, n as u64, 50_000).unwrap_or_else(|e| panic!("{what}: {e}"));
        restore();
        let (status, again) = proxy.admin("POST", "/reload");
        assert!(status.contains("200"), "{what}, repaired: {status} {again}");
        println!("reload with {what}: refused ({})", why.trim());
    }
    assert!(
        proxy
            .log
            .lock()
            .unwrap()
            .contains("reload failed, keeping the running configuration")
    );
    drop(open);
    still_healthy(&mut proxy);
    // Private keys are never logged: no line of either key's PEM body (the one served and the
    // one swapped in) appears in the logs, even after every kind of key error.
    let logs = format!(
        "{}{}",
        proxy.log.lock().unwrap(),
        proxy.access.lock().unwrap()
    );
    for name in ["ecdsa-p256-server.key", "rsa-server.key"] {
        let pem = std::fs::read_to_string(pki(name)).unwrap();
        for line in pem
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        {
            assert!(!logs.contains(line), "a line of {name} is in the log");
        }
    }
}

/// SIGTERM while 16 clients are in the middle of 2 MiB transfers: each finishes byte-exact,
/// new connections are refused, and the process exits once the last one closed.
#[test]
fn sigterm_under_load() {
    let _one = serial();
    let dir = scratch("f-term");
    let echo = echo_upstream();
    let mut proxy = Proxy::start(
        &dir,
        &config(&dir, &[echo], "drain_timeout = \"60s\"", "", ""),
    );
    let progressed = Arc::new(AtomicUsize::new(0));
    let termed = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..16u64)
        .map(|i| {
            let (progressed, termed) = (progressed.clone(), termed.clone());
            let cfg = tls13();
            let port = proxy.port;
            std::thread::spawn(move || {
                let mut c = connect(cfg, port, "localhost", b"").unwrap();
                let data = pattern(i, 2 << 20);
                let mut back = vec![0u8; data.len()];
                let mut after_term = 0;
                for (k, chunk) in data.chunks(32 * 1024).enumerate() {
                    if k == 2 {
                        progressed.fetch_add(1, Ordering::Relaxed);
                        while !termed.load(Ordering::Relaxed) {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                    if termed.load(Ordering::Relaxed) {
                        after_term += chunk.len();
                    }
                    c.write_all(chunk).unwrap();
                    let at = k * 32 * 1024;
                    c.read_exact(&mut back[at..at + chunk.len()]).unwrap();
                }
                assert_eq!(sha256(&back), sha256(&data), "client {i}");
                c.conn.send_close_notify();
                c.flush().unwrap();
                let mut rest = Vec::new();
                c.read_to_end(&mut rest).unwrap();
                after_term
            })
        })
        .collect();
    while progressed.load(Ordering::Relaxed) < 16 {
        std::thread::sleep(Duration::from_millis(5));
    }
    proxy.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    termed.store(true, Ordering::Relaxed);
    let refused = TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], proxy.port)),
        Duration::from_secs(5),
    );
    assert!(
        matches!(&refused, Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused),
        "new connections are refused while draining: {refused:?}"
    );
    let mut after = 0;
    for c in clients {
        after += c.join().unwrap();
    }
    assert!(
        proxy.wait_exit(Duration::from_secs(20)),
        "the proxy did not exit after draining"
    );
    let log = proxy.log.lock().unwrap();
    assert!(log.contains("drained: all connections closed"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    println!(
        "SIGTERM under load: 16 transfers finished byte-exact ({} MiB after the signal), then a clean exit",
        after >> 20
    );
}
