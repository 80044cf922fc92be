//! The proxy end to end: the real binary, real peers (`curl`, `openssl s_client`, our own RFC
//! 8998 client), real upstreams, all on 127.0.0.1 with ephemeral ports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::version::{TLS12, TLS13};
use support::*;
use tls_frontend::conn::proxy_proto::tlv;

fn certificates(dir: &std::path::Path) -> String {
    // The ECDSA key is served from a copy readable by everyone: the proxy must warn.
    let loose = dir.join("ecdsa-loose.key");
    std::fs::copy(pki("ecdsa-p256-server.key"), &loose).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    format!(
        "[[certificate]]\nnames = [\"localhost\"]\ncert = \"{}\"\nkey = \"{}\"\ndefault = true\n\n\
         [[certificate]]\nnames = [\"localhost\"]\ncert = \"{}\"\nkey = \"{}\"\ndefault = true\n\n\
         [[certificate]]\nnames = [\"test.example\"]\ncert = \"{}\"\nkey = \"{}\"\n\n",
        pki("ecdsa-p256-server.pem"),
        loose.display(),
        pki("sm2-server.pem"),
        pki("sm2-server.key"),
        pki("rsa-server.pem"),
        pki("rsa-server.key"),
    )
}

fn base_config(dir: &std::path::Path, upstream: &str, extra_listener: &str, extra: &str) -> String {
    format!(
        "[[listener]]\naddress = \"127.0.0.1:{{port}}\"\nupstream = \"app\"\nalpn = [\"http/1.1\"]\n{extra_listener}\n\n\
         {}\
         [upstream.app]\naddresses = [{upstream}]\n{extra}\n\
         [admin]\naddress = \"127.0.0.1:{{admin}}\"\n\n{CRYPTO}",
        certificates(dir)
    )
}

/// curl and openssl s_client through the proxy, TLS 1.2 and 1.3, RSA and ECDSA, SNI choosing
/// between two names, ALPN; our RFC 8998 client gets SM2 and TLS_SM4_GCM_SM3 on the same port;
/// the upstream's PROXY v2 header carries the addresses and TLS TLVs.
#[test]
fn real_clients_through_the_proxy() {
    let dir = scratch("clients");
    let up = InfoUpstream::start(true);
    let proxy = Proxy::start(
        &dir,
        &base_config(
            &dir,
            &format!("\"{}\"", up.addr),
            "",
            "proxy_protocol = \"v2\"\n",
        ),
    );
    let port = proxy.port;
    let url_local = format!("https://localhost:{port}/");
    let url_test = format!("https://test.example:{port}/");
    let resolve = format!("test.example:{port}:127.0.0.1");
    if have("curl") {
        for (tls, url, ca, key) in [
            ("--tlsv1.3", &url_local, "ecdsa-ca.pem", "ECDSA-P256"),
            ("--tls-max", &url_local, "ecdsa-ca.pem", "ECDSA-P256"),
            ("--tlsv1.3", &url_test, "rsa-ca.pem", "RSA2048"),
            ("--tls-max", &url_test, "rsa-ca.pem", "RSA2048"),
        ] {
            let mut cmd = Command::new("curl");
            cmd.args(["-sS", "-v", "--cacert", &pki(ca), "--resolve", &resolve]);
            if tls == "--tls-max" {
                cmd.args(["--tls-max", "1.2"]);
            } else {
                cmd.arg(tls);
            }
            cmd.arg(url);
            let (ok, out) = run(&mut cmd, b"");
            assert!(ok, "curl {tls} {url}: {out}");
            assert!(out.contains(&format!("hello {}", up.addr.port())), "{out}");
            let version = if tls == "--tls-max" {
                "TLSv1.2"
            } else {
                "TLSv1.3"
            };
            assert!(out.contains("tlv 0x20"), "{out}");
            assert!(out.contains(version), "{version}: {out}");
            assert!(out.contains(key), "{key}: {out}");
            assert!(
                out.contains("ALPN: server accepted http/1.1"),
                "ALPN: {out}"
            );
            println!("curl {tls} {url}: {version}, {key}");
        }
    }
    if have("openssl") {
        for (name, ca, cn, v) in [
            ("localhost", "ecdsa-ca.pem", "ecdsa-p256-server", "-tls1_3"),
            ("localhost", "ecdsa-ca.pem", "ecdsa-p256-server", "-tls1_2"),
            ("test.example", "rsa-ca.pem", "rsa-server", "-tls1_3"),
            ("test.example", "rsa-ca.pem", "rsa-server", "-tls1_2"),
        ] {
            let (ok, out) = s_client(
                port,
                name,
                ca,
                &["-ign_eof", "-alpn", "http/1.1", v],
                b"GET / HTTP/1.0\r\n\r\n",
            );
            assert!(ok, "s_client {name} {v}: {out}");
            assert!(out.contains(&format!("CN = {cn}")), "{name}: {out}");
            assert!(out.contains(&format!("hello {}", up.addr.port())), "{out}");
            assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
            println!("openssl s_client -servername {name} {v}: {cn}");
        }
    }
    // Our RFC 8998 client on the same port: the SM2 certificate and TLS_SM4_GCM_SM3.
    let gm = client_config(&client_selection(), &["sm2-ca"], &[&TLS13], true);
    let mut c = connect(Arc::new(gm), port, "localhost", b"").unwrap();
    assert_eq!(
        c.conn.negotiated_cipher_suite().map(|s| s.suite()),
        Some(crypto_core::tls::TLS13_SM4_GCM_SM3)
    );
    assert_eq!(
        c.conn.negotiated_key_exchange_group().map(|g| g.name()),
        Some(crypto_core::tls::CURVE_SM2)
    );
    assert_eq!(peer_cn(&c), "sm2-server");
    let body = get(&mut c);
    assert!(
        body.contains("TLS_SM4_GCM_SM3") && body.contains("SM2"),
        "{body}"
    );
    let local = c.sock.local_addr().unwrap();
    drop(c);

    // The PROXY v2 header of that last connection: addresses and TLVs.
    let seen = up.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        seen.addresses,
        Some((local, format!("127.0.0.1:{port}").parse().unwrap()))
    );
    assert!(seen.tlvs.contains(&(tlv::AUTHORITY, b"localhost".to_vec())));
    let ssl = &seen.tlvs.iter().find(|t| t.0 == tlv::SSL).unwrap().1;
    assert_eq!(ssl[0] & tlv::CLIENT_SSL, tlv::CLIENT_SSL);
    let sub = tls_frontend::conn::proxy_proto::parse_tlvs(&ssl[5..]).unwrap();
    assert!(sub.contains(&(tlv::SSL_VERSION, b"TLSv1.3".to_vec())));
    assert!(sub.contains(&(tlv::SSL_CIPHER, b"TLS_SM4_GCM_SM3".to_vec())));
    assert!(sub.contains(&(tlv::SSL_KEY_ALG, b"SM2".to_vec())));
    // Metrics count the handshakes by suite and scheme.
    assert!(proxy.metric_sum("tls_frontend_handshakes_total", "suite=\"TLS_SM4_GCM_SM3\"") >= 1.0);
    assert!(proxy.metric_sum("tls_frontend_handshakes_total", "scheme=\"sm2sig_sm3\"") >= 1.0);
    // Key files from a git checkout are world-readable: the proxy said so.
    assert!(
        proxy
            .log
            .lock()
            .unwrap()
            .contains("readable by group or others")
    );
    // One access-log line per connection, JSON (written when the connection ends).
    let t = Instant::now();
    loop {
        let access = proxy.access.lock().unwrap().clone();
        if access
            .lines()
            .any(|l| l.contains("\"suite\":\"TLS_SM4_GCM_SM3\""))
        {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "{access}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Mutual TLS: a client certificate from the configured CA is accepted (and its CN reaches
/// the upstream); none, or one from another CA, is refused.
#[test]
fn client_certificates() {
    let dir = scratch("mtls");
    let up = InfoUpstream::start(true);
    let proxy = Proxy::start(
        &dir,
        &base_config(
            &dir,
            &format!("\"{}\"", up.addr),
            &format!("client_auth = {{ ca = \"{}\" }}", pki("rsa-ca.pem")),
            "proxy_protocol = \"v2\"\n",
        ),
    );
    let sel = client_selection();
    let with_cert = |who: &str| {
        let mut roots = rustls::RootCertStore::empty();
        for c in certs("ecdsa-ca") {
            roots.add(c).unwrap();
        }
        rustls::ClientConfig::builder_with_provider(Arc::new(crypto_core::tls::provider(&sel)))
            .with_protocol_versions(&[&TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(certs(who), key(who))
            .unwrap()
    };
    let mut c = connect(
        Arc::new(with_cert("rsa-client")),
        proxy.port,
        "localhost",
        b"",
    )
    .unwrap();
    let body = get(&mut c);
    assert!(
        body.contains("rsa-client"),
        "client CN in the PROXY TLVs: {body}"
    );
    // Another CA's client, and no client certificate: refused (the failure shows on first
    // read in TLS 1.3, where the server checks after the client's Finished).
    for cfg in [
        with_cert("ecdsa-client"),
        client_config(&sel, &["ecdsa-ca"], &[&TLS13], false),
    ] {
        let refused = match connect(Arc::new(cfg), proxy.port, "localhost", b"") {
            Err(_) => true,
            Ok(mut c) => {
                let _ = c.write_all(b"GET / HTTP/1.1\r\n\r\n");
                let mut b = [0u8; 64];
                !matches!(c.read(&mut b), Ok(n) if n > 0)
            }
        };
        assert!(refused, "a client without a valid certificate got through");
    }
    if have("curl") {
        let (ok, out) = run(
            Command::new("curl").args([
                "-sS",
                "--cacert",
                &pki("ecdsa-ca.pem"),
                "--cert",
                &pki("rsa-client.pem"),
                "--key",
                &pki("rsa-client.key"),
                &format!("https://localhost:{}/", proxy.port),
            ]),
            b"",
        );
        assert!(ok && out.contains("rsa-client"), "{out}");
        let (ok, out) = run(
            Command::new("curl").args([
                "-sS",
                "--cacert",
                &pki("ecdsa-ca.pem"),
                &format!("https://localhost:{}/", proxy.port),
            ]),
            b"",
        );
        assert!(!ok, "curl without a certificate got through: {out}");
    }
}

/// A PROXY header *in* from a trusted source sets the client address the upstream sees; an
/// untrusted source's connection is plain TLS.
#[test]
fn proxy_header_in() {
    let dir = scratch("proxyin");
    let up = InfoUpstream::start(true);
    let proxy = Proxy::start(
        &dir,
        &base_config(
            &dir,
            &format!("\"{}\"", up.addr),
            "proxy_protocol_from = [\"127.0.0.0/8\"]",
            "proxy_protocol = \"v2\"\n",
        ),
    );
    let cfg = Arc::new(client_config(
        &client_selection(),
        &["ecdsa-ca"],
        &[&TLS13],
        false,
    ));
    let v1 = b"PROXY TCP4 203.0.113.7 198.51.100.1 40000 443\r\n";
    let mut c = connect(cfg.clone(), proxy.port, "localhost", v1).unwrap();
    get(&mut c);
    let seen = up.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        seen.addresses,
        Some((
            "203.0.113.7:40000".parse().unwrap(),
            "198.51.100.1:443".parse().unwrap()
        ))
    );
    let v2 = tls_frontend::conn::proxy_proto::encode_v2(
        "[2001:db8::7]:1234".parse().unwrap(),
        "[2001:db8::1]:443".parse().unwrap(),
        &Default::default(),
    );
    let mut c = connect(cfg.clone(), proxy.port, "localhost", &v2).unwrap();
    get(&mut c);
    let seen = up.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        seen.addresses.unwrap().0,
        "[2001:db8::7]:1234".parse().unwrap()
    );
    // Trusted source without a header: refused, and counted.
    assert!(connect(cfg, proxy.port, "localhost", b"").is_err());
    assert!(proxy.metric_sum("tls_frontend_handshakes_total", "result=\"proxy_header\"") >= 1.0);
}

/// Tickets issued by one instance resume on another sharing the key file; after a rotation
/// (new key, reload) old tickets still resume; past their lifetime they do not.
#[test]
fn tickets_resume_across_a_fleet() {
    let dir = scratch("tickets");
    let keys = dir.join("tickets.keys");
    rotate_tickets(&keys);
    let up = InfoUpstream::start(false);
    let extra = format!(
        "\n[tickets]\nkey_file = \"{}\"\nlifetime = \"4s\"\n",
        keys.display()
    );
    let cfg_a = base_config(&dir, &format!("\"{}\"", up.addr), "", &extra);
    let dir_a = dir.join("a");
    let dir_b = dir.join("b");
    std::fs::create_dir_all(&dir_a).unwrap();
    std::fs::create_dir_all(&dir_b).unwrap();
    let a = Proxy::start(&dir_a, &cfg_a);
    let b = Proxy::start(&dir_b, &cfg_a);
    for versions in [&[&TLS13][..], &[&TLS12][..]] {
        let mut cfg = client_config(&client_selection(), &["ecdsa-ca"], versions, false);
        cfg.resumption = rustls::client::Resumption::in_memory_sessions(32);
        let cfg = Arc::new(cfg);
        let mut c = connect(cfg.clone(), a.port, "localhost", b"").unwrap();
        assert_eq!(c.conn.handshake_kind(), Some(rustls::HandshakeKind::Full));
        get(&mut c); // TLS 1.3 tickets arrive after the handshake
        drop(c);
        let mut c = connect(cfg.clone(), b.port, "localhost", b"").unwrap();
        assert_eq!(
            c.conn.handshake_kind(),
            Some(rustls::HandshakeKind::Resumed),
            "{versions:?}: a ticket from instance A resumes on B"
        );
        get(&mut c);
        drop(c);
        // Rotate: a new key encrypts; the old one still decrypts.
        rotate_tickets(&keys);
        let before = b.metric("tls_frontend_reloads_total{result=\"ok\"}");
        a.signal("HUP");
        b.signal("HUP");
        let t = Instant::now();
        while b.metric("tls_frontend_reloads_total{result=\"ok\"}") <= before
            || a.metric("tls_frontend_reloads_total{result=\"ok\"}") <= before
        {
            assert!(t.elapsed() < Duration::from_secs(10), "reload not seen");
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut c = connect(cfg.clone(), b.port, "localhost", b"").unwrap();
        assert_eq!(
            c.conn.handshake_kind(),
            Some(rustls::HandshakeKind::Resumed),
            "{versions:?}: an old ticket resumes after rotation"
        );
        get(&mut c);
        drop(c);
    }
    // Past the lifetime: a full handshake.
    let mut cfg = client_config(&client_selection(), &["ecdsa-ca"], &[&TLS13], false);
    cfg.resumption = rustls::client::Resumption::in_memory_sessions(32);
    let cfg = Arc::new(cfg);
    let mut c = connect(cfg.clone(), a.port, "localhost", b"").unwrap();
    get(&mut c);
    drop(c);
    std::thread::sleep(Duration::from_millis(5200));
    let c = connect(cfg, b.port, "localhost", b"").unwrap();
    assert_eq!(c.conn.handshake_kind(), Some(rustls::HandshakeKind::Full));
    assert!(b.metric("tls_frontend_resumptions_total") >= 2.0);
}

/// Reload: a new certificate is seen by new connections while an open one keeps flowing; a
/// broken one is refused, the old one stays, and the failure is reported.
#[test]
fn reload_certificates() {
    let dir = scratch("reload");
    let echo = echo_upstream();
    let cert = dir.join("server.pem");
    let key = dir.join("server.key");
    std::fs::copy(pki("ecdsa-p256-server.pem"), &cert).unwrap();
    std::fs::copy(pki("ecdsa-p256-server.key"), &key).unwrap();
    let body = format!(
        "[[listener]]\naddress = \"127.0.0.1:{{port}}\"\nupstream = \"app\"\n\n\
         [[certificate]]\nnames = [\"localhost\"]\ncert = \"{}\"\nkey = \"{}\"\ndefault = true\n\n\
         [upstream.app]\naddresses = [\"{echo}\"]\n\n[admin]\naddress = \"127.0.0.1:{{admin}}\"\n\n{CRYPTO}",
        cert.display(),
        key.display()
    );
    let proxy = Proxy::start(&dir, &body);
    let cfg = Arc::new(client_config(
        &client_selection(),
        &["ecdsa-ca", "rsa-ca"],
        &[&TLS13],
        false,
    ));
    let mut open = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
    assert_eq!(peer_cn(&open), "ecdsa-p256-server");
    echo_once(&mut open, b"before");
    // New certificate on disk, SIGHUP.
    std::fs::copy(pki("rsa-server.pem"), &cert).unwrap();
    std::fs::copy(pki("rsa-server.key"), &key).unwrap();
    proxy.signal("HUP");
    let t = Instant::now();
    while proxy.metric("tls_frontend_reloads_total{result=\"ok\"}") < 1.0 {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    let fresh = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
    assert_eq!(
        peer_cn(&fresh),
        "rsa-server",
        "new connections see the new certificate"
    );
    echo_once(&mut open, b"after reload, same connection");
    // A broken certificate: the admin endpoint reports why, the old one stays.
    std::fs::write(
        &cert,
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let (status, why) = proxy.admin("POST", "/reload");
    assert!(status.contains("500"), "{status} {why}");
    // The reason goes to the log; the answer (the admin port may face a whole cluster) says
    // only that it failed.
    assert!(!why.contains("server.pem"), "{why}");
    proxy.log_line(&["reload failed", "server.pem"], 0);
    proxy.signal("HUP");
    let t = Instant::now();
    while proxy.metric("tls_frontend_reloads_total{result=\"failed\"}") < 2.0 {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        proxy
            .log
            .lock()
            .unwrap()
            .contains("reload failed, keeping the running configuration")
    );
    let still = connect(cfg, proxy.port, "localhost", b"").unwrap();
    assert_eq!(peer_cn(&still), "rsa-server");
    echo_once(&mut open, b"still flowing");
}

/// SIGTERM during a transfer: no new connections, the open one finishes, the process exits
/// within the drain deadline.
#[test]
fn sigterm_drains() {
    let dir = scratch("drain");
    let echo = echo_upstream();
    let body = format!(
        "drain_timeout = \"20s\"\n{}",
        base_config(&dir, &format!("\"{echo}\""), "", "")
    );
    let mut proxy = Proxy::start(&dir, &body);
    let cfg = Arc::new(client_config(
        &client_selection(),
        &["ecdsa-ca"],
        &[&TLS13],
        false,
    ));
    let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
    let chunk = vec![0x5au8; 64 * 1024];
    let mut got = vec![0u8; chunk.len()];
    for i in 0..40 {
        if i == 10 {
            proxy.signal("TERM");
            std::thread::sleep(Duration::from_millis(200));
            assert!(
                connect(cfg.clone(), proxy.port, "localhost", b"").is_err(),
                "new connections are refused while draining"
            );
        }
        c.write_all(&chunk).unwrap();
        c.read_exact(&mut got).unwrap();
        assert_eq!(got, chunk);
    }
    c.conn.send_close_notify();
    let _ = c.flush();
    let _ = c.sock.shutdown(std::net::Shutdown::Write);
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    drop(c);
    assert!(
        proxy.wait_exit(Duration::from_secs(10)),
        "the proxy did not exit after draining"
    );
    assert!(
        proxy
            .log
            .lock()
            .unwrap()
            .contains("drained: all connections closed")
    );
}

/// A silent client is closed at the handshake timeout; max_connections holds; a dead upstream
/// is skipped for the next one; with none alive the client gets a clean close and a metric.
#[test]
fn limits_and_upstream_failures() {
    let dir = scratch("limits");
    let up = InfoUpstream::start(false);
    let dead = free_port();
    let proxy = Proxy::start(
        &dir,
        &base_config(
            &dir,
            &format!("\"127.0.0.1:{dead}\", \"{}\"", up.addr),
            "handshake_timeout = \"1s\"\nmax_connections = 2",
            "",
        ),
    );
    // Handshake timeout.
    let mut silent = std::net::TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let t = Instant::now();
    let mut b = [0u8; 1];
    let r = silent.read(&mut b);
    assert!(matches!(r, Ok(0)) || r.is_err(), "{r:?}");
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "closed after {:?}",
        t.elapsed()
    );
    drop(silent);
    assert!(proxy.metric_sum("tls_frontend_handshakes_total", "result=\"timeout\"") >= 1.0);
    // Round robin starts at the dead address for some connections: each still works.
    let cfg = Arc::new(client_config(
        &client_selection(),
        &["ecdsa-ca"],
        &[&TLS13],
        false,
    ));
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
        assert!(get(&mut c).contains("hello"));
        held.push(c);
    }
    assert!(proxy.metric_sum("tls_frontend_upstream_errors_total", "reason=\"refused\"") >= 1.0);
    // Two connections open = the limit: a third waits (its handshake does not complete).
    let third = std::thread::spawn({
        let cfg = cfg.clone();
        let port = proxy.port;
        move || {
            let t = Instant::now();
            let mut c = connect(cfg, port, "localhost", b"").unwrap();
            let body = get(&mut c);
            (t.elapsed(), body)
        }
    });
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        !third.is_finished(),
        "a third connection was served beyond max_connections"
    );
    drop(held.pop());
    let (waited, body) = third.join().unwrap();
    assert!(waited >= Duration::from_millis(600) && body.contains("hello"));
    drop(held);

    // No live upstream: a clean close (close_notify, then EOF) and a metric.
    let dir2 = scratch("limits-dead");
    let proxy2 = Proxy::start(
        &dir2,
        &base_config(&dir2, &format!("\"127.0.0.1:{dead}\""), "", ""),
    );
    let mut c = connect(cfg, proxy2.port, "localhost", b"").unwrap();
    let _ = c.write_all(b"GET / HTTP/1.1\r\n\r\n");
    let mut rest = Vec::new();
    let r = c.read_to_end(&mut rest);
    assert!(
        r.is_ok() && rest.is_empty(),
        "clean close expected, got {r:?}"
    );
    assert!(proxy2.metric_sum("tls_frontend_upstream_errors_total", "upstream=\"app\"") >= 1.0);
}

/// Unknown server names get the default certificate, or a clean handshake failure with
/// `unknown_name = "reject"`; an idle relayed connection is closed at the idle timeout.
#[test]
fn unknown_names_and_idle_timeout() {
    let dir = scratch("names");
    let echo = echo_upstream();
    let cfg = Arc::new(client_config(
        &client_selection(),
        &["ecdsa-ca"],
        &[&TLS13],
        false,
    ));
    // Default: a name nobody configured still gets the default (ECDSA) certificate; the client
    // then refuses it for the wrong name, which is the client's business.
    let proxy = Proxy::start(
        &dir,
        &base_config(&dir, &format!("\"{echo}\""), "idle_timeout = \"1s\"", ""),
    );
    let err = connect(cfg.clone(), proxy.port, "unknown.example", b"").unwrap_err();
    assert!(err.contains("not valid for name"), "{err}");
    // Idle: a quiet connection is closed after about a second.
    let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
    c.write_all(b"ping").unwrap();
    let mut b = [0u8; 4];
    c.read_exact(&mut b).unwrap();
    let t = Instant::now();
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "idle connection lasted {:?}",
        t.elapsed()
    );
    drop(proxy);

    let dir = scratch("names-reject");
    let proxy = Proxy::start(
        &dir,
        &base_config(
            &dir,
            &format!("\"{echo}\""),
            "unknown_name = \"reject\"",
            "",
        ),
    );
    let err = connect(cfg.clone(), proxy.port, "unknown.example", b"").unwrap_err();
    assert!(
        err.contains("fatal alert"),
        "a clean handshake failure: {err}"
    );
    assert!(connect(cfg, proxy.port, "localhost", b"").is_ok());
    // The refusal is counted under its own reason (the proxy counts right after the alert, so
    // poll a bounded number of times).
    let refused = || proxy.metric_sum("tls_frontend_handshakes_total", "result=\"unknown_name\"");
    for _ in 0..200 {
        if refused() >= 1.0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(refused(), 1.0);
}

/// TLS towards the upstream: `openssl s_server -www` behind the proxy, verified with its CA.
#[test]
fn tls_to_the_upstream() {
    if !have("openssl") {
        return;
    }
    let dir = scratch("uptls");
    let up_port = free_port();
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{up_port}"),
            "-www",
        ])
        .args([
            "-cert",
            &pki("rsa-server.pem"),
            "-key",
            &pki("rsa-server.key"),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", up_port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    let proxy = Proxy::start(
        &dir,
        &base_config(
            &dir,
            &format!("\"127.0.0.1:{up_port}\""),
            "",
            &format!(
                "tls = {{ ca = \"{}\", server_name = \"localhost\" }}\n",
                pki("rsa-ca.pem")
            ),
        ),
    );
    let cfg = Arc::new(client_config(
        &client_selection(),
        &["ecdsa-ca"],
        &[&TLS13],
        false,
    ));
    let mut c = connect(cfg, proxy.port, "localhost", b"").unwrap();
    c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut page = Vec::new();
    let _ = c.read_to_end(&mut page);
    let page = String::from_utf8_lossy(&page);
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        page.contains("Ciphers supported"),
        "s_server's page through TLS: {page}"
    );
    assert!(page.contains("TLSv1.3"), "{page}");
}

/// A ticket from a listener without client authentication does not resume on one that requires
/// a certificate (tickets are bound to the listener's client-auth policy): the client must
/// authenticate, and without a certificate it is refused.
#[test]
fn tickets_do_not_skip_client_authentication() {
    let dir = scratch("ticketauth");
    let keys = dir.join("tickets.keys");
    tls_frontend::config::tickets::TicketKeys::rotate(&keys, 3).unwrap();
    let up = InfoUpstream::start(false);
    let open_port = free_port();
    let body = format!(
        "[[listener]]\naddress = \"127.0.0.1:{open_port}\"\nupstream = \"app\"\n\n\
         [[listener]]\naddress = \"127.0.0.1:{{port}}\"\nupstream = \"app\"\n\
         client_auth = {{ ca = \"{}\" }}\n\n{}\
         [upstream.app]\naddresses = [\"{}\"]\n\n[tickets]\nkey_file = \"{}\"\n\n\
         [admin]\naddress = \"127.0.0.1:{{admin}}\"\n\n{CRYPTO}",
        pki("rsa-ca.pem"),
        certificates(&dir),
        up.addr,
        keys.display()
    );
    let proxy = Proxy::start(&dir, &body);
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", open_port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    // A client without a certificate: a ticket from the open listener gets it nowhere.
    let mut cfg = client_config(&client_selection(), &["ecdsa-ca"], &[&TLS13], false);
    cfg.resumption = rustls::client::Resumption::in_memory_sessions(32);
    let cfg = Arc::new(cfg);
    let mut c = connect(cfg.clone(), open_port, "localhost", b"").unwrap();
    get(&mut c);
    drop(c);
    let refused = match connect(cfg.clone(), proxy.port, "localhost", b"") {
        Err(_) => true,
        Ok(mut c) => {
            assert_ne!(
                c.conn.handshake_kind(),
                Some(rustls::HandshakeKind::Resumed)
            );
            let _ = c.write_all(b"GET / HTTP/1.1\r\n\r\n");
            let mut b = [0u8; 16];
            !matches!(c.read(&mut b), Ok(n) if n > 0)
        }
    };
    assert!(
        refused,
        "a ticket from the open listener got past client authentication"
    );
    // The open listener still resumes its own tickets.
    let c = connect(cfg, open_port, "localhost", b"").unwrap();
    assert_eq!(
        c.conn.handshake_kind(),
        Some(rustls::HandshakeKind::Resumed)
    );
}

/// `tls-frontend demo` as a newcomer runs it: no open-file warning (it sizes `max_connections`
/// to the limit), its upstream honours `Connection: close` so `openssl s_client -quiet` ends
/// by itself, and Ctrl-C deletes the demo folder with its private keys.
#[test]
fn the_demo_closes_on_request_and_cleans_up() {
    let port = free_port();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_tls-frontend"))
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let out = Arc::new(std::sync::Mutex::new(String::new()));
    for pipe in [
        Box::new(demo.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(demo.stderr.take().unwrap()),
    ] {
        let out = out.clone();
        std::thread::spawn(move || {
            let mut r = std::io::BufReader::new(pipe);
            let mut line = String::new();
            while std::io::BufRead::read_line(&mut r, &mut line).is_ok_and(|n| n > 0) {
                out.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
    }
    let demo = Kill(demo);
    let start = Instant::now();
    while !out.lock().unwrap().contains("Ctrl-C stops it") {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the demo did not start:\n{}",
            out.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = out.lock().unwrap().clone();
    let dir = log
        .split_whitespace()
        .find(|w| w.contains("tls-frontend-demo-"))
        .map(|w| w.trim_end_matches([':', ')', '.']).to_owned())
        .unwrap();
    let dir = std::path::PathBuf::from(dir);
    assert!(dir.join("config.toml").exists(), "{log}");
    assert!(
        !log.contains("open files"),
        "the demo warns about its own limits:\n{log}"
    );
    if have("openssl") {
        let mut s_client = Command::new("openssl")
            .args([
                "s_client",
                "-quiet",
                "-connect",
                &format!("127.0.0.1:{port}"),
                "-servername",
                "localhost",
                "-CAfile",
            ])
            .arg(dir.join("ca.pem"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // stdin stays open: only the server closing the connection ends `-quiet`.
        let mut stdin = s_client.stdin.take().unwrap();
        stdin
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .unwrap();
        let start = Instant::now();
        let ended = loop {
            if let Ok(Some(_)) = s_client.try_wait() {
                break true;
            }
            if start.elapsed() > Duration::from_secs(20) {
                break false;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        if !ended {
            let _ = s_client.kill();
        }
        let mut reply = String::new();
        s_client
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut reply)
            .unwrap();
        let _ = s_client.wait();
        drop(stdin);
        assert!(
            ended,
            "s_client -quiet was left hanging after Connection: close: {reply}"
        );
        assert!(reply.contains("hello from the demo upstream"), "{reply}");
        assert!(
            reply.to_ascii_lowercase().contains("connection: close"),
            "{reply}"
        );
    }
    let pid = demo.0.id();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let mut demo = demo;
    let start = Instant::now();
    while !matches!(demo.0.try_wait(), Ok(Some(_))) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the demo did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !dir.exists(),
        "{} (private keys) is left behind",
        dir.display()
    );
}

/// Writes a certificate for `names` valid from `from` to `until` (relative to now, in days),
/// issued by a fresh CA, with its key; returns (cert path, key path, notAfter Unix seconds).
fn dated_cert(
    dir: &std::path::Path,
    stem: &str,
    names: &[&str],
    from_days: i64,
    until_days: i64,
) -> (std::path::PathBuf, std::path::PathBuf, u64) {
    use crypto_core::{KeyKind, PrivateKey};
    use std::time::SystemTime;
    let at = |days: i64| {
        let d = Duration::from_secs(days.unsigned_abs() * 86_400);
        if days < 0 {
            SystemTime::now() - d
        } else {
            SystemTime::now() + d
        }
    };
    let ca = PrivateKey::generate(KeyKind::EcP256).unwrap();
    let key = PrivateKey::generate(KeyKind::EcP256).unwrap();
    let der = tls_frontend::tools::democert::issue_between(
        stem,
        tls_frontend::tools::democert::Role::Server,
        names,
        &key,
        Some(&tls_frontend::tools::democert::Issuer {
            cn: "dated test CA",
            key: &ca,
        }),
        (at(from_days), at(until_days)),
    )
    .unwrap();
    let info = tls_frontend::config::x509::info(&der).unwrap();
    let cert = dir.join(format!("{stem}.pem"));
    let keyf = dir.join(format!("{stem}.key"));
    std::fs::write(&cert, tls_frontend::tools::democert::pem(&der)).unwrap();
    std::fs::write(&keyf, key.to_pkcs8_pem()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keyf, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    (
        cert,
        keyf,
        tls_frontend::config::x509::unix_seconds(info.not_after),
    )
}

/// `check` describes every certificate (names, key type, issuer, validity) and warns about
/// expired, not yet valid and soon expiring ones; `serve` logs the same warnings, on start and
/// on reload, and exports each certificate's notAfter as a gauge.
#[test]
fn certificates_are_described_and_watched() {
    let dir = scratch("cert-dates");
    let up = InfoUpstream::start(false);
    let (expired, expired_key, _) = dated_cert(&dir, "expired", &["expired.test"], -60, -1);
    let (early, early_key, _) = dated_cert(&dir, "early", &["early.test"], 5, 400);
    let (soon, soon_key, soon_at) = dated_cert(&dir, "soon", &["soon.test"], -300, 10);
    let (fine, fine_key, fine_at) = dated_cert(&dir, "fine", &["fine.test"], -1, 365);
    let cert = |names: &str, c: &std::path::Path, k: &std::path::Path, default: bool| {
        format!(
            "[[certificate]]\nnames = [{names}]\ncert = \"{}\"\nkey = \"{}\"\ndefault = {default}\n\n",
            c.display(),
            k.display()
        )
    };
    let body = format!(
        "[[listener]]\naddress = \"127.0.0.1:{{port}}\"\nupstream = \"app\"\n\n{}{}{}{}\
         [upstream.app]\naddresses = [\"{}\"]\n\n[admin]\naddress = \"127.0.0.1:{{admin}}\"\n\n{CRYPTO}",
        cert("\"fine.test\"", &fine, &fine_key, true),
        cert("\"expired.test\"", &expired, &expired_key, false),
        cert("\"early.test\"", &early, &early_key, false),
        cert("\"soon.test\"", &soon, &soon_key, false),
        up.addr
    );
    let config = dir.join("check.toml");
    std::fs::write(&config, body.replace("{port}", "0").replace("{admin}", "0")).unwrap();
    let (ok, out) = check(&config);
    assert!(ok, "{out}");
    for want in [
        "names: fine.test; key: ECDSA-P256",
        "issuer: CN=dated test CA",
        "alternative names: soon.test",
        "warning: certificate",
        "expired.pem (ECDSA-P256) expired on",
        "early.pem (ECDSA-P256) is not valid before",
        "soon.pem (ECDSA-P256) expires on",
        "(in 9 days)",
    ] {
        assert!(out.contains(want), "check should say {want:?}:\n{out}");
    }
    assert!(
        !out.contains("fine.pem (ECDSA-P256)"),
        "no warning for a fine certificate:\n{out}"
    );

    let proxy = Proxy::start(&dir, &body);
    let gauge = |name: &str| {
        proxy.metric(&format!(
            "tls_frontend_certificate_expiry_seconds{{name=\"{name}\",key=\"ECDSA-P256\"}}"
        ))
    };
    assert_eq!(gauge("fine.test"), fine_at as f64);
    assert_eq!(gauge("soon.test"), soon_at as f64);
    // The log is read by another thread: wait for each line.
    let wait_log = |needle: &str| {
        let start = Instant::now();
        while !proxy.log.lock().unwrap().contains(needle) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no {needle:?} in the log:\n{}",
                proxy.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_log("expired.pem (ECDSA-P256) expired on");
    wait_log("soon.pem (ECDSA-P256) expires on");
    // A reload that puts an expired certificate in place of the fine one: served (as nginx
    // does), warned about, and the gauge follows.
    let (_, _, expired_at) = dated_cert(&dir, "fine", &["fine.test"], -30, -2);
    let (status, body) = proxy.admin("POST", "/reload");
    assert!(status.contains("200"), "{status} {body}");
    assert_eq!(gauge("fine.test"), expired_at as f64);
    wait_log("fine.pem (ECDSA-P256) expired on");
}

/// `check` names what the configuration asks for that the selection cannot provide, in the
/// configuration's own words, and writes nothing (an `auto` profile that does not exist yet is
/// not created).
#[test]
fn check_reports_gaps_and_writes_nothing() {
    let dir = scratch("check-gaps");
    let profile = dir.join("crypto-profile");
    let body = format!(
        "[[listener]]\naddress = \"127.0.0.1:1\"\nupstream = \"app\"\ngroups = [\"x25519\", \"curvesm2\"]\n\n\
         [[certificate]]\nnames = [\"localhost\"]\ncert = \"{}\"\nkey = \"{}\"\ndefault = true\n\n\
         [upstream.app]\naddresses = [\"127.0.0.1:2\"]\n\n\
         [crypto]\nbackend = \"auto\"\nprofile = \"{}\"\n[crypto.override]\ncurvesm2 = \"aws-lc\"\n",
        pki("ecdsa-p256-server.pem"),
        pki("ecdsa-p256-server.key"),
        profile.display()
    );
    let config = dir.join("config.toml");
    std::fs::write(&config, body).unwrap();
    let (ok, out) = check(&config);
    assert!(ok, "{out}");
    assert!(
        out.contains("group curvesm2 is configured but unavailable: ecdh-sm2 from aws-lc lacking"),
        "{out}"
    );
    assert!(out.contains("groups: x25519\n"), "{out}");
    assert!(!out.contains("NamedGroup("), "{out}");
    assert!(
        !profile.exists(),
        "check wrote the profile {}",
        profile.display()
    );
    // Two listeners on one address: refused by check (and so by serve and reload, which parse
    // the same way).
    let text = std::fs::read_to_string(&config).unwrap();
    let twice = text.replacen(
        "[[certificate]]",
        "[[listener]]\naddress = \"127.0.0.1:1\"\nupstream = \"app\"\n\n[[certificate]]",
        1,
    );
    std::fs::write(&config, twice).unwrap();
    let (ok, out) = check(&config);
    assert!(!ok, "{out}");
    assert!(
        out.contains("listener 2 (127.0.0.1:1): the same address as listener 1"),
        "{out}"
    );
}

/// The listening sockets on `port` in the kernel's table (`/proc/net/tcp`, state 0A).
fn listening_sockets(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3
                && f[3] == "0A"
                && f[1]
                    .rsplit_once(':')
                    .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                    == Some(port)
        })
        .count()
}

/// The proxy's threads named `worker-N`, with their voluntary context switches so far.
fn worker_wakeups(pid: u32) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for t in std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
    {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        let comm = comm.trim().to_owned();
        if !comm.starts_with("worker-") {
            continue;
        }
        let status = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
        let switches = status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        out.push((comm, switches));
    }
    out.sort();
    out
}

/// `workers = N` is N threads, each with its own listening socket on the listener's address
/// (SO_REUSEPORT): the kernel's table shows N listening sockets on the port, and the kernel
/// spreads connections over them, so every worker serves some of 60 (it wakes for them; 60
/// connections hashed over 3 sockets leave one without any with odds of about 1e-10).
#[test]
fn workers_each_accept_on_their_own_socket() {
    let cfg = Arc::new(client_config(
        &client_selection(),
        &["ecdsa-ca"],
        &[&TLS13],
        false,
    ));
    for workers in [1usize, 3] {
        let dir = scratch(&format!("workers-{workers}"));
        let up = InfoUpstream::start(false);
        let body = format!(
            "workers = {workers}\n{}",
            base_config(&dir, &format!("\"{}\"", up.addr), "", "")
        );
        let proxy = Proxy::start(&dir, &body);
        assert_eq!(
            listening_sockets(proxy.port),
            workers,
            "workers = {workers}"
        );
        let before = worker_wakeups(proxy.pid());
        assert_eq!(
            before.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            (0..workers)
                .map(|i| format!("worker-{i}"))
                .collect::<Vec<_>>(),
        );
        for _ in 0..60 {
            let mut c = connect(cfg.clone(), proxy.port, "localhost", b"").unwrap();
            assert!(get(&mut c).contains("hello"));
        }
        let after = worker_wakeups(proxy.pid());
        for ((name, b), (_, a)) in before.iter().zip(&after) {
            assert!(
                a - b >= 5,
                "{name} woke {} times for 60 connections over {workers} sockets",
                a - b
            );
        }
        assert!(
            log_has(&proxy, &format!("({workers} worker")),
            "{}",
            proxy.log.lock().unwrap()
        );
    }
}

fn log_has(proxy: &Proxy, what: &str) -> bool {
    proxy.log.lock().unwrap().contains(what)
}

/// A client-side verifier that offers `schemes` and records the one the server signed with.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    schemes: Vec<rustls::SignatureScheme>,
    seen: std::sync::Mutex<Option<rustls::SignatureScheme>>,
}

impl rustls::client::danger::ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        *self.seen.lock().unwrap() = Some(dss.scheme);
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        *self.seen.lock().unwrap() = Some(dss.scheme);
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.schemes.clone()
    }
}

/// The access log's and the metric's `scheme` is the scheme the server really signed with
/// (the proxy computes it after the handshake, as rustls chooses): checked against what the
/// client verified, for TLS 1.3 and TLS 1.2, ECDSA and RSA, with the client's offer narrowed.
#[test]
fn the_scheme_label_is_what_was_signed() {
    use rustls::SignatureScheme as S;
    let dir = scratch("scheme-label");
    let up = InfoUpstream::start(false);
    let proxy = Proxy::start(
        &dir,
        &base_config(&dir, &format!("\"{}\"", up.addr), "", ""),
    );
    let provider = Arc::new(crypto_core::tls::provider(&client_selection()));
    let cases: [(
        &'static rustls::SupportedProtocolVersion,
        &str,
        &str,
        Vec<S>,
    ); 5] = [
        (
            &TLS13,
            "localhost",
            "ecdsa-ca",
            vec![S::ECDSA_NISTP256_SHA256, S::RSA_PSS_SHA256],
        ),
        (
            &TLS13,
            "test.example",
            "rsa-ca",
            vec![S::RSA_PSS_SHA384, S::RSA_PSS_SHA256],
        ),
        (&TLS13, "test.example", "rsa-ca", vec![S::RSA_PSS_SHA512]),
        (
            &TLS12,
            "test.example",
            "rsa-ca",
            vec![S::RSA_PKCS1_SHA384, S::RSA_PSS_SHA256],
        ),
        (&TLS12, "test.example", "rsa-ca", vec![S::RSA_PKCS1_SHA256]),
    ];
    for (n, (version, name, ca, schemes)) in cases.into_iter().enumerate() {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for c in
            rustls::pki_types::CertificateDer::pem_file_iter(pki(&format!("{ca}.pem"))).unwrap()
        {
            roots.add(c.unwrap()).unwrap();
        }
        let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let verifier = Arc::new(RecordingVerifier {
            inner,
            schemes: schemes.clone(),
            seen: std::sync::Mutex::new(None),
        });
        let cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[version])
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        let mut c = connect(Arc::new(cfg), proxy.port, name, b"").unwrap();
        assert!(get(&mut c).contains("hello"));
        drop(c);
        let signed = verifier
            .seen
            .lock()
            .unwrap()
            .expect("a signature was verified");
        assert!(
            schemes.contains(&signed),
            "case {n}: {signed:?} not offered"
        );
        // The connection's access line (written when it ends) carries the label.
        let line = proxy.access_line(&["\"handshake_ms\""], n);
        let label = format!("\"scheme\":\"{signed:?}\"");
        assert!(
            line.contains(&label),
            "case {n}: {label} expected in {line}"
        );
    }
}
