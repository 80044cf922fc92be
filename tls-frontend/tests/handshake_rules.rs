//! The handshake's rules, end to end against the real binary: the certificate suits what the
//! client offered (TLS 1.2 suites included, checked with `openssl s_client` and `curl`), strict
//! RFC 8998 pairing (SM suite only with SM2, sm2sig_sm3 and curveSM2), the server's suite order,
//! the alerts the RFCs name for refused ClientHellos (built byte by byte here), and the relay
//! answering a KeyUpdate or a renegotiation at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crypto_core::tls::{CURVE_SM2, SM2SIG_SM3, TLS13_SM4_GCM_SM3};
use rustls::version::TLS13;
use rustls::{CipherSuite, NamedGroup, SignatureScheme};
use support::*;

/// One name (`localhost`) with an ECDSA, an RSA and an SM2 certificate; `rsa.test` with only
/// RSA; an echo upstream.
fn start(dir: &std::path::Path, listener_extra: &str) -> Proxy {
    let echo = echo_upstream();
    let mut certs = String::new();
    for (names, name) in [
        ("\"localhost\"", "ecdsa-p256-server"),
        ("\"localhost\"", "rsa-server"),
        ("\"localhost\"", "sm2-server"),
        ("\"rsa.test\"", "rsa-server"),
    ] {
        certs.push_str(&format!(
            "[[certificate]]\nnames = [{names}]\ncert = \"{}\"\nkey = \"{}\"\ndefault = {}\n\n",
            pki(&format!("{name}.pem")),
            pki(&format!("{name}.key")),
            names.contains("localhost"),
        ));
    }
    Proxy::start(
        dir,
        &format!(
            "[[listener]]\naddress = \"127.0.0.1:{{port}}\"\nupstream = \"app\"\n{listener_extra}\n\n\
             {certs}[upstream.app]\naddresses = [\"{echo}\"]\n\n\
             [admin]\naddress = \"127.0.0.1:{{admin}}\"\n\n{CRYPTO}"
        ),
    )
}

/// A TLS 1.2 client offering only ECDHE-RSA suites gets the RSA certificate of a name that also
/// has an ECDSA one (the seed's benchmark suite, ECDHE-RSA-AES256-GCM-SHA384, included); one
/// offering only ECDHE-ECDSA suites still gets ECDSA. openssl s_client and curl.
#[test]
fn tls12_clients_get_a_certificate_their_suites_can_use() {
    let dir = scratch("rules-tls12");
    let proxy = start(&dir, "");
    let port = proxy.port;
    if have("openssl") {
        for (cipher, cn) in [
            ("ECDHE-RSA-AES128-GCM-SHA256", "rsa-server"),
            ("ECDHE-RSA-AES256-GCM-SHA384", "rsa-server"),
            ("ECDHE-RSA-CHACHA20-POLY1305", "rsa-server"),
            ("ECDHE-ECDSA-AES128-GCM-SHA256", "ecdsa-p256-server"),
            (
                "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
                "ecdsa-p256-server",
            ),
        ] {
            let ca = if cn == "rsa-server" {
                "rsa-ca.pem"
            } else {
                "ecdsa-ca.pem"
            };
            let (ok, out) = s_client(port, "localhost", ca, &["-tls1_2", "-cipher", cipher], b"");
            assert!(ok, "s_client -tls1_2 -cipher {cipher}: {out}");
            assert!(out.contains(&format!("CN = {cn}")), "{cipher}: {out}");
            let first = cipher.split(':').next().unwrap();
            if !cipher.contains(':') {
                assert!(
                    out.contains(&format!("Cipher is {first}")),
                    "{cipher}: {out}"
                );
            }
            println!("s_client -tls1_2 -cipher {cipher}: {cn}");
        }
    }
    if have("curl") {
        let (ok, out) = run(
            Command::new("curl").args([
                "-sS",
                "-v",
                "--tls-max",
                "1.2",
                "--ciphers",
                "ECDHE-RSA-AES128-GCM-SHA256",
                "--cacert",
                &pki("rsa-ca.pem"),
                "--resolve",
                &format!("localhost:{port}:127.0.0.1"),
                "--data-binary",
                "ping",
                &format!("https://localhost:{port}/"),
            ]),
            b"",
        );
        // The echo upstream sends the request back: curl's request is the reply's body.
        assert!(out.contains("ECDHE-RSA-AES128-GCM-SHA256"), "{out}");
        assert!(out.contains("rsa-server"), "{out}");
        assert!(ok || out.contains("POST / HTTP/1.1"), "{out}");
        println!("curl --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256: RSA");
    }
}

/// The server's suite order decides by default: the fastest AEAD on this CPU first (AES-GCM
/// with AES instructions, else ChaCha20-Poly1305), whatever the client lists first; with
/// `prefer_server_ciphers = false` the client's order decides.
#[test]
fn the_server_orders_the_suites() {
    let aes = tls_frontend::config::state::aes_hardware();
    let (server_first13, server_first12) = if aes {
        ("TLS_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256")
    } else {
        (
            "TLS_CHACHA20_POLY1305_SHA256",
            "ECDHE-ECDSA-CHACHA20-POLY1305",
        )
    };
    // The client lists the other one first.
    let (client13, client12) = if aes {
        (
            "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256",
            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256",
        )
    } else {
        (
            "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305",
        )
    };
    let client_first13 = client13.split(':').next().unwrap();
    let client_first12 = client12.split(':').next().unwrap();
    if !have("openssl") {
        return;
    }
    for (extra, want13, want12) in [
        ("", server_first13, server_first12),
        (
            "prefer_server_ciphers = false",
            client_first13,
            client_first12,
        ),
    ] {
        let dir = scratch(if extra.is_empty() {
            "rules-order-server"
        } else {
            "rules-order-client"
        });
        let proxy = start(&dir, extra);
        let (ok, out) = s_client(
            proxy.port,
            "localhost",
            "ecdsa-ca.pem",
            &["-tls1_3", "-ciphersuites", client13],
            b"",
        );
        assert!(ok, "{out}");
        assert!(
            out.contains(&format!("Cipher is {want13}")),
            "{extra:?}: want {want13}: {out}"
        );
        let (ok, out) = s_client(
            proxy.port,
            "localhost",
            "ecdsa-ca.pem",
            &["-tls1_2", "-cipher", client12],
            b"",
        );
        assert!(ok, "{out}");
        assert!(
            out.contains(&format!("Cipher is {want12}")),
            "{extra:?}: want {want12}: {out}"
        );
        println!("{extra:?}: TLS 1.3 {want13}, TLS 1.2 {want12}");
    }
}

/// A client config over our provider with the given suites (in order), groups (in order; the
/// key share goes for the first) and signature schemes.
fn gm_client(
    suites: &[CipherSuite],
    groups: &[NamedGroup],
    schemes: Option<&[SignatureScheme]>,
) -> Arc<rustls::ClientConfig> {
    let mut provider = crypto_core::tls::provider(&client_selection());
    provider.cipher_suites = suites
        .iter()
        .map(|s| {
            *provider
                .cipher_suites
                .iter()
                .find(|x| x.suite() == *s)
                .unwrap_or_else(|| panic!("{s:?} not in the client provider"))
        })
        .collect();
    provider.kx_groups = groups
        .iter()
        .map(|g| {
            *provider
                .kx_groups
                .iter()
                .find(|x| x.name() == *g)
                .unwrap_or_else(|| panic!("{g:?} not in the client provider"))
        })
        .collect();
    if let Some(schemes) = schemes {
        let all = provider.signature_verification_algorithms;
        let mapping: Vec<_> = all
            .mapping
            .iter()
            .filter(|(s, _)| schemes.contains(s))
            .copied()
            .collect();
        provider.signature_verification_algorithms = rustls::crypto::WebPkiSupportedAlgorithms {
            all: all.all,
            mapping: Box::leak(mapping.into_boxed_slice()),
        };
    }
    let mut roots = rustls::RootCertStore::empty();
    for ca in ["ecdsa-ca", "rsa-ca", "sm2-ca"] {
        for c in certs(ca) {
            roots.add(c).unwrap();
        }
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(&[&TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// Strict RFC 8998 pairing: an SM suite goes only with the SM2 certificate, sm2sig_sm3 and
/// curveSM2 (with a HelloRetryRequest when the client's share is for another group, also when
/// that group is X25519MLKEM768); a client that cannot have all three gets a non-SM suite, or a
/// handshake_failure if it offers nothing else.
#[test]
fn sm_suites_only_with_sm2_and_curvesm2() {
    let dir = scratch("rules-gm");
    let proxy = start(&dir, "");
    let sm = TLS13_SM4_GCM_SM3;
    let aes = CipherSuite::TLS13_AES_128_GCM_SHA256;
    let ecdsa = SignatureScheme::ECDSA_NISTP256_SHA256;
    /// What the client is, its config, and the suite, group, certificate and whether a
    /// HelloRetryRequest it must get.
    type Case = (
        &'static str,
        Arc<rustls::ClientConfig>,
        CipherSuite,
        NamedGroup,
        &'static str,
        bool,
    );
    let cases: [Case; 5] = [
        (
            "an RFC 8998 client, curveSM2 share first",
            gm_client(&[sm, aes], &[CURVE_SM2, NamedGroup::X25519], None),
            sm,
            CURVE_SM2,
            "sm2-server",
            false,
        ),
        (
            "an RFC 8998 client whose share is X25519MLKEM768",
            gm_client(
                &[sm, aes],
                &[NamedGroup::X25519MLKEM768, CURVE_SM2, NamedGroup::X25519],
                None,
            ),
            sm,
            CURVE_SM2,
            "sm2-server",
            true,
        ),
        (
            "an RFC 8998 client whose share is X25519",
            gm_client(&[sm, aes], &[NamedGroup::X25519, CURVE_SM2], None),
            sm,
            CURVE_SM2,
            "sm2-server",
            true,
        ),
        (
            "SM suite first but only ECDSA signatures",
            gm_client(
                &[sm, aes],
                &[CURVE_SM2, NamedGroup::X25519],
                Some(&[ecdsa, SignatureScheme::ECDSA_NISTP384_SHA384]),
            ),
            aes,
            CURVE_SM2,
            "ecdsa-p256-server",
            false,
        ),
        (
            "SM suite first and sm2sig_sm3 but no curveSM2",
            gm_client(&[sm, aes], &[NamedGroup::X25519], None),
            aes,
            NamedGroup::X25519,
            "ecdsa-p256-server",
            false,
        ),
    ];
    for (what, cfg, suite, group, cn, retry) in cases {
        let mut c =
            connect(cfg, proxy.port, "localhost", b"").unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(
            c.conn.negotiated_cipher_suite().map(|s| s.suite()),
            Some(suite),
            "{what}"
        );
        assert_eq!(
            c.conn.negotiated_key_exchange_group().map(|g| g.name()),
            Some(group),
            "{what}"
        );
        assert_eq!(peer_cn(&c), cn, "{what}");
        assert_eq!(
            c.conn.handshake_kind(),
            Some(if retry {
                rustls::HandshakeKind::FullWithHelloRetryRequest
            } else {
                rustls::HandshakeKind::Full
            }),
            "{what}"
        );
        echo_once(&mut c, what.as_bytes());
        println!("{what}: {suite:?}, {group:?}, {cn}, retry {retry}");
    }
    // SM suites only and no sm2sig_sm3: nothing acceptable, a handshake_failure alert.
    let cfg = gm_client(&[sm], &[CURVE_SM2], Some(&[ecdsa]));
    let e = connect(cfg, proxy.port, "localhost", b"").unwrap_err();
    assert!(e.contains("HandshakeFailure"), "{e}");
    // And with sm2sig_sm3 but without curveSM2 the same.
    let cfg = gm_client(&[sm], &[NamedGroup::X25519], Some(&[SM2SIG_SM3]));
    let e = connect(cfg, proxy.port, "localhost", b"").unwrap_err();
    assert!(e.contains("HandshakeFailure"), "{e}");
}

/// A ClientHello built byte by byte (RFC 8446 section 4.1.2).
struct Hello {
    legacy_version: u16,
    suites: Vec<u16>,
    versions: Vec<u16>,
    schemes: Vec<u16>,
    server_name: &'static str,
    padding: usize,
}

impl Hello {
    fn tls13() -> Self {
        Self {
            legacy_version: 0x0303,
            suites: vec![0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f],
            versions: vec![0x0304, 0x0303],
            schemes: vec![0x0403, 0x0804, 0x0401],
            server_name: "localhost",
            padding: 0,
        }
    }

    /// The handshake message (type, length, body).
    fn message(&self) -> Vec<u8> {
        fn ext(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
            out.extend_from_slice(&typ.to_be_bytes());
            out.extend_from_slice(&(data.len() as u16).to_be_bytes());
            out.extend_from_slice(data);
        }
        fn list16(items: &[u16], len_bytes: usize) -> Vec<u8> {
            let mut v = Vec::new();
            let n = items.len() * 2;
            if len_bytes == 1 {
                v.push(n as u8);
            } else {
                v.extend_from_slice(&(n as u16).to_be_bytes());
            }
            for i in items {
                v.extend_from_slice(&i.to_be_bytes());
            }
            v
        }
        let mut exts = Vec::new();
        let name = self.server_name.as_bytes();
        let mut sni = ((name.len() + 3) as u16).to_be_bytes().to_vec();
        sni.push(0);
        sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
        sni.extend_from_slice(name);
        ext(&mut exts, 0, &sni);
        ext(&mut exts, 10, &list16(&[0x001d, 0x0017], 2));
        ext(&mut exts, 13, &list16(&self.schemes, 2));
        ext(&mut exts, 43, &list16(&self.versions, 1));
        // An X25519 share: any 32 bytes that are not all zero will do for the server to answer.
        let mut share = vec![0, 36, 0x00, 0x1d, 0, 32];
        share.extend_from_slice(&[9u8; 32]);
        ext(&mut exts, 51, &share);
        ext(&mut exts, 45, &[1, 1]); // psk_key_exchange_modes: psk_dhe_ke
        if self.padding > 0 {
            ext(&mut exts, 21, &vec![0; self.padding]);
        }
        let mut body = self.legacy_version.to_be_bytes().to_vec();
        body.extend_from_slice(&[0x42; 32]);
        body.push(32);
        body.extend_from_slice(&[0x24; 32]);
        body.extend_from_slice(&list16(&self.suites, 2));
        body.extend_from_slice(&[1, 0]);
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
        let mut msg = vec![1];
        msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&body);
        msg
    }
}

/// Handshake records carrying `msg`, `size` bytes of it per record (records may exceed 2^14
/// when asked to: that is one of the cases).
fn records(msg: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in msg.chunks(size) {
        out.extend_from_slice(&[22, 3, 1]);
        out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

/// Sends `bytes` and returns the first record the proxy answers with: (type, payload), or
/// `None` if it closed without one.
fn answer(port: u16, bytes: &[u8]) -> Option<(u8, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(bytes);
    let mut header = [0u8; 5];
    s.read_exact(&mut header).ok()?;
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).ok()?;
    Some((header[0], payload))
}

/// Refused ClientHellos get the alert the RFCs name, each checked on the wire.
#[test]
fn refused_client_hellos_get_the_right_alert() {
    let dir = scratch("rules-alerts");
    let proxy = start(&dir, "");
    let port = proxy.port;
    // The control: a well-formed hello gets a ServerHello (handshake record, type 2).
    let good = Hello::tls13();
    let (typ, payload) = answer(port, &records(&good.message(), 1 << 14)).unwrap();
    assert_eq!((typ, payload[0]), (22, 2), "a ServerHello");

    let alert = |bytes: Vec<u8>| answer(port, &bytes).map(|(t, p)| (t, p.get(1).copied()));
    // No certificate suits: rsa.test has only RSA, the client verifies only ECDSA.
    // RFC 8446 section 4.1.1: handshake_failure (the proxy used to send access_denied).
    let mut h = Hello::tls13();
    h.server_name = "rsa.test";
    h.schemes = vec![0x0403, 0x0503];
    assert_eq!(alert(records(&h.message(), 1 << 14)), Some((21, Some(40))));
    // legacy_version 0x0300 with supported_versions: protocol_version (RFC 8446 D.5).
    let mut h = Hello::tls13();
    h.legacy_version = 0x0300;
    assert_eq!(alert(records(&h.message(), 1 << 14)), Some((21, Some(70))));
    // A ClientHello record over 2^14 bytes (a padding extension of 16,300 bytes):
    // record_overflow (RFC 8446 section 5.1, RFC 5246 section 6.2.1).
    let mut h = Hello::tls13();
    h.padding = 16_300;
    let msg = h.message();
    assert!(msg.len() > 1 << 14);
    assert_eq!(alert(records(&msg, msg.len())), Some((21, Some(22))));
    // The same hello in two records is within the rules and answered.
    let (typ, payload) = answer(port, &records(&msg, 1 << 14)).unwrap();
    assert_eq!(
        (typ, payload[0]),
        (22, 2),
        "a fragmented hello gets its ServerHello"
    );
    // A record of another type between the fragments: unexpected_message (RFC 8446 5.1).
    let msg = Hello::tls13().message();
    let mut mixed = records(&msg[..40], 40);
    mixed.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
    mixed.extend_from_slice(&records(&msg[40..], 1 << 14));
    assert_eq!(alert(mixed), Some((21, Some(10))));
    // A handshake message over 64 KiB: an alert, not a silent close.
    let mut huge = vec![1, 0x01, 0x10, 0x00];
    huge.resize(4 + 0x11000, 0);
    assert_eq!(alert(records(&huge, 1 << 14)), Some((21, Some(47))));
    // Every refusal was counted. The count comes right after the alert is written, on the
    // proxy's side, so a client that already read the alert may ask a moment too early: poll,
    // boundedly.
    let counted = || {
        proxy.metric_sum(
            "tls_frontend_handshakes_total",
            "result=\"bad_client_hello\"",
        ) >= 4.0
            && proxy.metric_sum(
                "tls_frontend_handshakes_total",
                "result=\"no_suitable_certificate\"",
            ) >= 1.0
    };
    let mut polls = 0;
    while !counted() {
        polls += 1;
        assert!(polls < 100, "{}", proxy.admin("GET", "/metrics").1);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A KeyUpdate with update_requested is answered at once, while the upstream is silent (the
/// relay flushes what rustls queued after every read from the client).
#[test]
fn a_key_update_is_answered_at_once() {
    let dir = scratch("rules-keyupdate");
    let proxy = start(&dir, "");
    let cfg = Arc::new(client_config(
        &client_selection(),
        &["ecdsa-ca"],
        &[&TLS13],
        false,
    ));
    let mut c = connect(cfg, proxy.port, "localhost", b"").unwrap();
    echo_once(&mut c, b"before");
    c.conn.refresh_traffic_keys().unwrap();
    while c.conn.wants_write() {
        c.conn.write_tls(&mut c.sock).unwrap();
    }
    // Nothing else is sent: whatever arrives now is the proxy's answer.
    c.sock
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let n = c.conn.read_tls(&mut c.sock).expect("the KeyUpdate reply");
    assert!(n > 0, "the proxy closed instead of answering");
    let state = c.conn.process_new_packets().unwrap();
    assert_eq!(
        state.plaintext_bytes_to_read(),
        0,
        "only the KeyUpdate came"
    );
    // Both directions run on the new keys.
    echo_once(&mut c, b"after");
}

/// A TLS 1.2 renegotiation attempt (`R` in s_client) is answered with a no_renegotiation
/// warning at once, not when the upstream next sends something (here it never does).
#[test]
fn renegotiation_is_refused_at_once() {
    if !have("openssl") {
        return;
    }
    let dir = scratch("rules-reneg");
    let proxy = start(&dir, "");
    // s_client's stdin stays open for five seconds after `R`, then closes (which ends it; a
    // proxy that never answers leaves it waiting, so `timeout` ends it then).
    let script = format!(
        "(printf 'R\\n'; sleep 5) | timeout 20 openssl s_client -connect 127.0.0.1:{} -servername localhost -CAfile {} -tls1_2 -msg",
        proxy.port,
        pki("ecdsa-ca.pem")
    );
    let (_, out) = run(Command::new("bash").args(["-c", &script]), b"");
    assert!(out.contains("RENEGOTIATING"), "{out}");
    assert!(
        out.contains("warning no_renegotiation"),
        "no no_renegotiation warning while the client waited: {out}"
    );
}

/// What rustls alone (no proxy in front) answers to the first-flight cases above, asserted so
/// that this test fails, and says so, when rustls changes: then the proxy's own checks and the
/// upstream report can go. rustls 0.23 answers a plaintext record of up to 2^14 + 2,048 bytes
/// as if it were legal (here a ServerHello), a longer one with decode_error (not
/// record_overflow), and closes without any alert on a record interleaved in a fragmented
/// ClientHello and on a handshake message over 64 KiB. This is the reproducer for the upstream
/// report: `cargo test -p tls-frontend --test handshake_rules rustls_alone -- --nocapture`.
#[test]
fn rustls_alone_still_needs_the_proxys_first_flight_checks() {
    fn answer_of(bytes: &[u8]) -> (Option<rustls::Error>, Option<(u8, u8)>) {
        let sel = client_selection();
        let provider = Arc::new(crypto_core::tls::provider(&sel));
        let key = crypto_core::PrivateKey::from_pem_or_der(
            &std::fs::read(pki("ecdsa-p256-server.key")).unwrap(),
        )
        .unwrap();
        let signing = crypto_core::tls::KeyProvider::get(&sel)
            .signing_key(&key)
            .unwrap();
        let certified =
            rustls::sign::CertifiedKey::new(certs("ecdsa-p256-server"), Arc::new(signing));
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(Arc::new(
                certified,
            ))));
        let mut conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        let mut input = bytes;
        let mut err = None;
        while !input.is_empty() && err.is_none() {
            if conn.read_tls(&mut input).unwrap_or(0) == 0 {
                break;
            }
            err = conn.process_new_packets().err();
        }
        let mut out = Vec::new();
        while conn.wants_write() {
            conn.write_tls(&mut out).unwrap();
        }
        // (record type, first byte: the ServerHello's message type or the alert's level).
        let first = out.first().map(|t| (*t, out.get(5).copied().unwrap_or(0)));
        let alert = (out.first() == Some(&21)).then(|| (21, out[6]));
        (err, alert.or(first))
    }
    let mut h = Hello::tls13();
    h.padding = 16_300;
    let msg = h.message();
    assert!(
        (1 << 14) < msg.len() && msg.len() <= (1 << 14) + 2048,
        "{}",
        msg.len()
    );
    let (err, sent) = answer_of(&records(&msg, msg.len()));
    assert!(
        err.is_none(),
        "rustls now refuses an oversized record: {err:?}"
    );
    assert_eq!(sent, Some((22, 2)), "a ServerHello");
    h.padding = 18_500;
    let msg = h.message();
    assert!(msg.len() > (1 << 14) + 2048, "{}", msg.len());
    let (_, sent) = answer_of(&records(&msg, msg.len()));
    assert_eq!(
        sent,
        Some((21, 50)),
        "decode_error, not record_overflow (22)"
    );
    let msg = Hello::tls13().message();
    let mut mixed = records(&msg[..40], 40);
    mixed.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
    mixed.extend_from_slice(&records(&msg[40..], 1 << 14));
    let (err, sent) = answer_of(&mixed);
    assert!(err.is_some());
    assert_eq!(sent, None, "no alert for an interleaved record");
    let mut huge = vec![1, 0x01, 0x10, 0x00];
    huge.resize(4 + 0x11000, 0);
    let (err, sent) = answer_of(&records(&huge, 1 << 14));
    assert!(err.is_some());
    assert_eq!(sent, None, "no alert for a handshake message over 64 KiB");
}
