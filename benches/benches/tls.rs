//! In-memory rustls over our provider, per Selection: full handshakes (TLS 1.3 ECDSA P-256 with
//! X25519, RSA-2048, and RFC 8998 SM2 with curveSM2 and SM4-GCM), ticket resumptions, and bulk
//! transfer per suite (16 KiB records, one direction).
//!
//! Run: `cargo bench -p benches --bench tls`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use crypto_core::tls::{CURVE_SM2, TLS13_SM4_GCM_SM3};
use crypto_core::{Backend, Family, Selection, Target};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{CipherSuite, ClientConnection, NamedGroup, ServerConnection};

fn pki(name: &str) -> String {
    format!("{}/../tests/data/pki/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn selections() -> Vec<(&'static str, Selection)> {
    let mut v = vec![
        ("ring", Selection::single(Backend::Ring)),
        ("aws-lc", Selection::single(Backend::AwsLc)),
        ("rustcrypto", Selection::single(Backend::RustCrypto)),
        (
            "gm-asm",
            Selection::single(Backend::RustCrypto)
                .with_override(Target::Family(Family::Sm4), Backend::Asm),
        ),
        ("auto", Selection::auto()),
    ];
    if Backend::OpenSsl.is_built() {
        v.push(("openssl", Selection::single(Backend::OpenSsl)));
    }
    v
}

struct Case {
    name: &'static str,
    cert: &'static str,
    ca: &'static str,
    suite: CipherSuite,
    group: NamedGroup,
}

const CASES: &[Case] = &[
    Case {
        name: "tls13-ecdsa-p256-x25519",
        cert: "ecdsa-p256-server",
        ca: "ecdsa-ca",
        suite: CipherSuite::TLS13_AES_128_GCM_SHA256,
        group: NamedGroup::X25519,
    },
    Case {
        name: "tls13-rsa2048-x25519",
        cert: "rsa-server",
        ca: "rsa-ca",
        suite: CipherSuite::TLS13_AES_128_GCM_SHA256,
        group: NamedGroup::X25519,
    },
    Case {
        name: "tls13-sm2-curvesm2-sm4gcm",
        cert: "sm2-server",
        ca: "sm2-ca",
        suite: TLS13_SM4_GCM_SM3,
        group: CURVE_SM2,
    },
];

fn configs(
    sel: &Selection,
    case: &Case,
) -> Option<(Arc<rustls::ClientConfig>, Arc<rustls::ServerConfig>)> {
    let mut cp = crypto_core::tls::provider(sel);
    cp.cipher_suites.retain(|s| s.suite() == case.suite);
    cp.kx_groups.retain(|g| g.name() == case.group);
    if cp.cipher_suites.is_empty() || cp.kx_groups.is_empty() {
        return None;
    }
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(pki(&format!("{}.pem", case.ca))).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let mut client = rustls::ClientConfig::builder_with_provider(Arc::new(cp))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    client.resumption = rustls::client::Resumption::in_memory_sessions(256);
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(pki(&format!("{}.pem", case.cert)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
    let key = PrivateKeyDer::from_pem_file(pki(&format!("{}.key", case.cert))).unwrap();
    let mut server =
        rustls::ServerConfig::builder_with_provider(Arc::new(crypto_core::tls::provider(sel)))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .ok()?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .ok()?;
    server.send_tls13_tickets = 1;
    Some((Arc::new(client), Arc::new(server)))
}

fn pump(from: &mut rustls::Connection, to: &mut rustls::Connection, buf: &mut Vec<u8>) {
    buf.clear();
    while from.wants_write() {
        from.write_tls(buf).unwrap();
    }
    let mut rd = &buf[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd).unwrap();
        to.process_new_packets().unwrap();
    }
}

/// Like `pump`, but drains the receiver's plaintext as it goes; returns the bytes read.
fn pump_drain(
    from: &mut rustls::Connection,
    to: &mut rustls::Connection,
    buf: &mut Vec<u8>,
    sink: &mut [u8],
) -> usize {
    buf.clear();
    while from.wants_write() {
        from.write_tls(buf).unwrap();
    }
    let mut got = 0;
    let mut rd = &buf[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd).unwrap();
        to.process_new_packets().unwrap();
        while let Ok(n) = to.reader().read(sink) {
            if n == 0 {
                break;
            }
            got += n;
        }
    }
    got
}

fn handshake(
    client: &Arc<rustls::ClientConfig>,
    server: &Arc<rustls::ServerConfig>,
) -> (rustls::Connection, rustls::Connection) {
    let mut c: rustls::Connection =
        ClientConnection::new(client.clone(), ServerName::try_from("localhost").unwrap())
            .unwrap()
            .into();
    let mut s: rustls::Connection = ServerConnection::new(server.clone()).unwrap().into();
    let mut buf = Vec::with_capacity(32 * 1024);
    while c.is_handshaking() || s.is_handshaking() {
        pump(&mut c, &mut s, &mut buf);
        pump(&mut s, &mut c, &mut buf);
    }
    // The session ticket (TLS 1.3: after the handshake).
    pump(&mut s, &mut c, &mut buf);
    (c, s)
}

fn handshakes(c: &mut Criterion) {
    for case in CASES {
        let mut full = c.benchmark_group(format!("handshake-full/{}", case.name));
        full.throughput(Throughput::Elements(1));
        let mut pairs = Vec::new();
        for (name, sel) in selections() {
            if let Some(p) = configs(&sel, case) {
                pairs.push((name, p));
            }
        }
        for (name, (client, server)) in &pairs {
            // A fresh client config per iteration would be needed to stop resumption; instead
            // a config with resumption off.
            let mut cc = (**client).clone();
            cc.resumption = rustls::client::Resumption::disabled();
            let cc = Arc::new(cc);
            full.bench_function(BenchmarkId::new(*name, 0), |b| {
                b.iter(|| handshake(&cc, server))
            });
        }
        full.finish();
        let mut resumed = c.benchmark_group(format!("handshake-resumed/{}", case.name));
        resumed.throughput(Throughput::Elements(1));
        for (name, (client, server)) in &pairs {
            handshake(client, server); // primes the client's ticket store
            resumed.bench_function(BenchmarkId::new(*name, 0), |b| {
                b.iter(|| {
                    let (c, _) = handshake(client, server);
                    assert_eq!(c.handshake_kind(), Some(rustls::HandshakeKind::Resumed));
                })
            });
        }
        resumed.finish();
    }
}

fn bulk(c: &mut Criterion) {
    const SIZE: usize = 1 << 20;
    let suites = [
        (
            "aes-128-gcm",
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            "ecdsa-p256-server",
            "ecdsa-ca",
            NamedGroup::X25519,
        ),
        (
            "aes-256-gcm",
            CipherSuite::TLS13_AES_256_GCM_SHA384,
            "ecdsa-p256-server",
            "ecdsa-ca",
            NamedGroup::X25519,
        ),
        (
            "chacha20-poly1305",
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            "ecdsa-p256-server",
            "ecdsa-ca",
            NamedGroup::X25519,
        ),
        (
            "sm4-gcm",
            TLS13_SM4_GCM_SM3,
            "sm2-server",
            "sm2-ca",
            CURVE_SM2,
        ),
    ];
    for (label, suite, cert, ca, group) in suites {
        let mut g = c.benchmark_group(format!("bulk/{label}"));
        g.throughput(Throughput::Bytes(SIZE as u64));
        g.sample_size(20);
        let case = Case {
            name: "bulk",
            cert,
            ca,
            suite,
            group,
        };
        for (name, sel) in selections() {
            let Some((client, server)) = configs(&sel, &case) else {
                continue;
            };
            let (mut cl, mut sv) = handshake(&client, &server);
            let data = vec![0x42u8; SIZE];
            let mut sink = vec![0u8; 64 * 1024];
            let mut buf = Vec::with_capacity(SIZE + 64 * 1024);
            g.bench_function(BenchmarkId::new(name, SIZE), |b| {
                b.iter(|| {
                    let mut sent = 0;
                    let mut got = 0;
                    while got < SIZE {
                        if sent < SIZE {
                            sent += cl.writer().write(&data[sent..]).unwrap();
                        }
                        got += pump_drain(&mut cl, &mut sv, &mut buf, &mut sink);
                    }
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, handshakes, bulk);
criterion_main!(benches);
