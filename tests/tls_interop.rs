//! Interop with a real peer: the OpenSSL 3 CLI. Our provider as client against `openssl
//! s_server`, and as server for `openssl s_client`, TLS 1.2 and 1.3, RSA and ECDSA
//! certificates, for every built backend. Everything runs on 127.0.0.1 with ephemeral ports
//! and bounded waits; child processes are killed when a test ends, pass or fail.
//!
//! (RFC 8998 has no stock peer on this machine: OpenSSL 3.0 has no SM4-GCM/CCM and no TLS 1.3
//! SM suites. See `tls_rfc8998.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use conformance::tls;
use crypto_core::{Backend, Selection};
use rustls::pki_types::ServerName;
use rustls::version::{TLS12, TLS13};
use rustls::{ClientConnection, ProtocolVersion, ServerConnection, StreamOwned};

/// Kills the child when dropped.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have_openssl() -> bool {
    conformance::openssl_cli("interop")
}

/// A port that was free a moment ago (the kernel hands out a fresh ephemeral one).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("ephemeral port")
}

fn pki(name: &str) -> String {
    tls::pki_dir()
        .join(name)
        .to_str()
        .expect("utf-8 path")
        .to_owned()
}

fn backends() -> Vec<Backend> {
    [
        Backend::Ring,
        Backend::AwsLc,
        Backend::RustCrypto,
        Backend::OpenSsl,
    ]
    .into_iter()
    .filter(|b| b.is_built())
    .collect()
}

const CASES: &[(&str, &str, bool)] = &[
    ("rsa-server", "rsa-ca", true),
    ("rsa-server", "rsa-ca", false),
    ("ecdsa-p256-server", "ecdsa-ca", true),
    ("ecdsa-p256-server", "ecdsa-ca", false),
];

/// Our client (each backend) against `openssl s_server -www`, which answers with a page naming
/// the protocol and cipher it negotiated.
#[test]
fn our_client_to_openssl_server() {
    if !have_openssl() {
        return;
    }
    let mut runs = 0;
    for &(cert, ca, tls13) in CASES {
        let port = free_port();
        let server = Command::new("openssl")
            .args(["s_server", "-accept", &format!("127.0.0.1:{port}"), "-www"])
            .args(["-cert", &pki(&format!("{cert}.pem"))])
            .args(["-key", &pki(&format!("{cert}.key"))])
            .arg(if tls13 { "-tls1_3" } else { "-tls1_2" })
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let _guard = Kill(server);
        for backend in backends() {
            let version = if tls13 { &TLS13 } else { &TLS12 };
            let config = tls::client_config_trusting(
                tls::provider(&Selection::single(backend)),
                &[version],
                &[ca],
            );
            let what = format!("{backend} client, {cert}, tls13={tls13}");
            let sock = connect(port, &what);
            let conn = ClientConnection::new(
                Arc::new(config),
                ServerName::try_from("localhost").expect("name"),
            )
            .expect("client");
            let mut s = StreamOwned::new(conn, sock);
            s.write_all(b"GET / HTTP/1.0\r\n\r\n")
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let mut page = Vec::new();
            // s_server -www closes without close_notify: an unexpected EOF ends the page.
            let _ = s.read_to_end(&mut page);
            let page = String::from_utf8_lossy(&page);
            let want = if tls13 {
                ProtocolVersion::TLSv1_3
            } else {
                ProtocolVersion::TLSv1_2
            };
            assert_eq!(s.conn.protocol_version(), Some(want), "{what}");
            let suite = s.conn.negotiated_cipher_suite().expect("suite").suite();
            let name = suite.as_str().expect("known suite");
            assert!(page.contains("HTTP/1.0 200 ok"), "{what}: {page}");
            // OpenSSL names the suite it chose; it must be the one we negotiated.
            let openssl_name = openssl_suite_name(name);
            assert!(
                page.contains(&openssl_name),
                "{what}: page does not name {openssl_name}:\n{page}"
            );
            println!("{what}: {name}");
            runs += 1;
        }
    }
    assert_eq!(runs, CASES.len() * backends().len());
}

/// OpenSSL's name for a suite as rustls spells it.
fn openssl_suite_name(rustls_name: &str) -> String {
    if let Some(n) = rustls_name.strip_prefix("TLS13_") {
        return format!("TLS_{n}");
    }
    // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 -> ECDHE-RSA-AES256-GCM-SHA384
    let n = rustls_name
        .trim_start_matches("TLS_")
        .replace("_WITH_", "_")
        .replace("AES_128", "AES128")
        .replace("AES_256", "AES256");
    n.replace('_', "-")
}

fn connect(port: u16, what: &str) -> TcpStream {
    let start = Instant::now();
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => {
                s.set_read_timeout(Some(Duration::from_secs(20)))
                    .expect("timeout");
                return s;
            }
            Err(e) if start.elapsed() < Duration::from_secs(10) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{what}: cannot reach s_server on {port}: {e}"),
        }
    }
}

/// `openssl s_client` against our server (each backend): it must verify our chain, and what it
/// sends comes back (our server echoes one line and closes with close_notify).
#[test]
fn openssl_client_to_our_server() {
    if !have_openssl() {
        return;
    }
    let mut runs = 0;
    for backend in backends() {
        for &(cert, ca, tls13) in CASES {
            let version = if tls13 { &TLS13 } else { &TLS12 };
            let config = Arc::new(tls::server_config(
                tls::provider(&Selection::single(backend)),
                &[version],
                cert,
            ));
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = listener.local_addr().expect("addr").port();
            let what = format!("{backend} server, {cert}, tls13={tls13}");
            let server = std::thread::spawn(move || -> Result<(), String> {
                let (sock, _) = listener.accept().map_err(|e| e.to_string())?;
                sock.set_read_timeout(Some(Duration::from_secs(20)))
                    .map_err(|e| e.to_string())?;
                let conn = ServerConnection::new(config).map_err(|e| e.to_string())?;
                let mut s = StreamOwned::new(conn, sock);
                let mut line = Vec::new();
                let mut byte = [0u8; 1];
                while !line.ends_with(b"\n") {
                    let n = s.read(&mut byte).map_err(|e| e.to_string())?;
                    if n == 0 {
                        return Err("EOF before a line".into());
                    }
                    line.push(byte[0]);
                }
                s.write_all(b"echo: ").map_err(|e| e.to_string())?;
                s.write_all(&line).map_err(|e| e.to_string())?;
                s.conn.send_close_notify();
                s.flush().map_err(|e| e.to_string())?;
                while s.conn.wants_write() {
                    s.conn.write_tls(&mut s.sock).map_err(|e| e.to_string())?;
                }
                Ok(())
            });
            let mut client = Command::new("openssl")
                .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
                .args([
                    "-servername",
                    "localhost",
                    "-verify_return_error",
                    "-ign_eof",
                ])
                .args(["-CAfile", &pki(&format!("{ca}.pem"))])
                .arg(if tls13 { "-tls1_3" } else { "-tls1_2" })
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("openssl s_client");
            client
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"ping 8998\n")
                .expect("write to s_client");
            let out = wait_output(client, &what);
            server
                .join()
                .expect("server thread")
                .unwrap_or_else(|e| panic!("{what}: server: {e}\n{out}"));
            assert!(out.contains("echo: ping 8998"), "{what}: no echo:\n{out}");
            assert!(out.contains("Verify return code: 0 (ok)"), "{what}:\n{out}");
            let proto = if tls13 { "TLSv1.3" } else { "TLSv1.2" };
            assert!(
                out.contains(&format!("Protocol  : {proto}"))
                    || out.contains(&format!(", {proto},")),
                "{what}:\n{out}"
            );
            println!("{what}: ok");
            runs += 1;
        }
    }
    assert_eq!(runs, CASES.len() * backends().len());
}

/// The child's stdout and stderr, after it exits (killed after 30 s).
fn wait_output(child: Child, what: &str) -> String {
    let mut guard = Kill(child);
    let start = Instant::now();
    loop {
        match guard.0.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => panic!("{what}: s_client did not finish"),
        }
    }
    let mut out = String::new();
    if let Some(mut o) = guard.0.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    if let Some(mut e) = guard.0.stderr.take() {
        let _ = e.read_to_string(&mut out);
    }
    out
}
