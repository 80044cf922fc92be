//! In-memory rustls handshakes through our provider, then 1 MiB each way, for every suite x
//! key-exchange group x signature scheme that each selection supports: every built backend on
//! its own, a mixed selection, and client/server pairs on different backends.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use conformance::TestRng;
use conformance::tls::{self, Pair};
use crypto_core::tls::SM2SIG_SM3;
use crypto_core::{Backend, Selection};
use rustls::crypto::CryptoProvider;
use rustls::version::{TLS12, TLS13};
use rustls::{CipherSuite, NamedGroup, SignatureScheme, SupportedCipherSuite};

const MIB: usize = 1 << 20;

/// One handshake setting.
#[derive(Clone, Copy, Debug)]
struct Case {
    suite: CipherSuite,
    group: NamedGroup,
    scheme: SignatureScheme,
    tls13: bool,
}

/// Schemes a TLS 1.3 handshake can sign with (no PKCS#1, RFC 8446 section 4.2.3).
fn tls13_scheme(s: SignatureScheme) -> bool {
    !matches!(
        s,
        SignatureScheme::RSA_PKCS1_SHA256
            | SignatureScheme::RSA_PKCS1_SHA384
            | SignatureScheme::RSA_PKCS1_SHA512
    )
}

/// Every case both providers can run: the client's suites, groups and handshake schemes that the
/// server has too.
fn cases(client: &CryptoProvider, server: &CryptoProvider) -> Vec<Case> {
    let schemes: Vec<SignatureScheme> = client
        .signature_verification_algorithms
        .mapping
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| {
            server
                .signature_verification_algorithms
                .mapping
                .iter()
                .any(|(t, _)| t == s)
        })
        .collect();
    let mut out = Vec::new();
    for suite in &client.cipher_suites {
        if !server
            .cipher_suites
            .iter()
            .any(|s| s.suite() == suite.suite())
        {
            continue;
        }
        let tls13 = matches!(suite, SupportedCipherSuite::Tls13(_));
        for group in &client.kx_groups {
            let version = if tls13 {
                rustls::ProtocolVersion::TLSv1_3
            } else {
                rustls::ProtocolVersion::TLSv1_2
            };
            if !group.usable_for_version(version)
                || !server.kx_groups.iter().any(|g| g.name() == group.name())
            {
                continue;
            }
            for &scheme in &schemes {
                let ok = match suite {
                    SupportedCipherSuite::Tls13(_) => tls13_scheme(scheme),
                    SupportedCipherSuite::Tls12(s) => s.sign.contains(&scheme),
                };
                if ok {
                    out.push(Case {
                        suite: suite.suite(),
                        group: group.name(),
                        scheme,
                        tls13,
                    });
                }
            }
        }
    }
    out
}

/// Runs every case between `client_sel` and `server_sel`; returns how many ran.
fn run_matrix(client_sel: &Selection, server_sel: &Selection, what: &str) -> usize {
    let client_p = tls::provider(client_sel);
    let server_p = tls::provider(server_sel);
    let all = cases(&client_p, &server_p);
    let data = TestRng::new(0x5eed).bytes(MIB);
    for case in &all {
        let versions: &[&'static rustls::SupportedProtocolVersion] =
            if case.tls13 { &[&TLS13] } else { &[&TLS12] };
        let client = tls::client_config(
            tls::narrow(
                tls::provider(client_sel),
                case.suite,
                case.group,
                case.scheme,
            ),
            versions,
        );
        let server = tls::server_config(
            tls::provider(server_sel),
            versions,
            tls::server_cert_for(case.scheme),
        );
        let mut pair = Pair::new(client, server, "localhost");
        pair.handshake()
            .unwrap_or_else(|e| panic!("{what} {case:?}: handshake: {e}"));
        for conn in [&pair.client, &pair.server] {
            assert_eq!(
                conn.negotiated_cipher_suite().map(|s| s.suite()),
                Some(case.suite),
                "{what} {case:?}"
            );
            assert_eq!(
                conn.negotiated_key_exchange_group().map(|g| g.name()),
                Some(case.group),
                "{what} {case:?}"
            );
        }
        pair.exchange(&data)
            .unwrap_or_else(|e| panic!("{what} {case:?}: data: {e}"));
    }
    println!("{what}: {} handshakes with 1 MiB each way", all.len());
    all.len()
}

fn single(backend: Backend) {
    if !backend.is_built() {
        println!("{backend} is not built into this test binary");
        return;
    }
    let sel = Selection::single(backend);
    let n = run_matrix(&sel, &sel, backend.name());
    // What each backend must reach, so a provider that silently drops a piece fails here.
    let p = tls::provider(&sel);
    let suites = p.cipher_suites.len();
    let groups = p.kx_groups.len();
    match backend {
        Backend::Ring => assert_eq!((suites, groups), (9, 3), "{backend}"),
        // aws-lc adds X25519MLKEM768.
        Backend::AwsLc => assert_eq!((suites, groups), (9, 4), "{backend}"),
        Backend::RustCrypto => assert_eq!((suites, groups), (11, 4), "{backend}"),
        // OpenSSL 3.0 has no SM4-GCM/CCM (3.2 added them).
        Backend::OpenSsl => assert_eq!((suites, groups), (9, 4), "{backend}"),
        Backend::Libsm => {
            // libsm's GCM takes only 16-byte IVs (not RFC 8998's 12) and it has no CCM, so it
            // carries no suite on its own; its SM2, SM3 and curveSM2 serve mixed selections.
            assert_eq!((suites, groups), (0, 1), "{backend}");
        }
        // Our kernels alone have no hash yet, so no suite: see the mixed selections.
        _ => {}
    }
    assert!(n > 0 || suites == 0, "{backend}: no handshake ran");
}

#[test]
fn ring() {
    single(Backend::Ring);
}

#[test]
fn aws_lc() {
    single(Backend::AwsLc);
}

#[test]
fn rustcrypto() {
    single(Backend::RustCrypto);
}

#[test]
fn libsm() {
    single(Backend::Libsm);
}

#[test]
fn openssl() {
    single(Backend::OpenSsl);
}

#[test]
fn mixed_selection() {
    let (_, mixed) = tls::selections().pop().expect("mixed");
    let n = run_matrix(&mixed, &mixed, "mixed");
    assert!(n >= 100, "mixed selection ran only {n} cases");
    // The SM suites run on our SM4 kernels and libsm's SM2 there, and the hybrid group on
    // aws-lc's ML-KEM with ring's X25519.
    let p = tls::provider(&mixed);
    assert_eq!(p.kx_groups[0].name(), NamedGroup::X25519MLKEM768);
    assert!(
        p.cipher_suites
            .iter()
            .any(|s| s.suite() == crypto_core::tls::TLS13_SM4_GCM_SM3)
    );
}

/// Client and server on different backends: each side's pieces must agree with the other's.
#[test]
fn across_backends() {
    use crypto_core::{Family, Target};
    let sels = tls::selections();
    let get = |name: &str| sels.iter().find(|(n, _)| n == name).map(|(_, s)| s.clone());
    // GM from libsm (SM2, SM3, curveSM2) and from OpenSSL, with SM4 from our kernels.
    let gm_libsm =
        Selection::single(Backend::Libsm).with_override(Target::Family(Family::Sm4), Backend::Asm);
    let gm_openssl = Selection::single(Backend::OpenSsl)
        .with_override(Target::Family(Family::Sm4), Backend::Asm);
    let mut pairs = vec![
        ("ring", get("ring"), "aws-lc", get("aws-lc")),
        ("aws-lc", get("aws-lc"), "ring", get("ring")),
        ("rustcrypto", get("rustcrypto"), "mixed", get("mixed")),
        ("mixed", get("mixed"), "rustcrypto", get("rustcrypto")),
        (
            "gm-libsm",
            Some(gm_libsm.clone()),
            "rustcrypto",
            get("rustcrypto"),
        ),
        (
            "rustcrypto",
            get("rustcrypto"),
            "gm-libsm",
            Some(gm_libsm.clone()),
        ),
    ];
    if Backend::OpenSsl.is_built() {
        pairs.push(("openssl", get("openssl"), "aws-lc", get("aws-lc")));
        pairs.push((
            "gm-openssl",
            Some(gm_openssl.clone()),
            "gm-libsm",
            Some(gm_libsm),
        ));
        pairs.push(("mixed", get("mixed"), "gm-openssl", Some(gm_openssl)));
    }
    for (cn, c, sn, s) in pairs {
        let (c, s) = (c.expect(cn), s.expect(sn));
        let n = run_matrix(&c, &s, &format!("client {cn} / server {sn}"));
        // GM-only selections meet the others in the two SM suites over curveSM2 with SM2.
        let least = if cn.starts_with("gm-") || sn.starts_with("gm-") {
            2
        } else {
            100
        };
        assert!(n >= least, "client {cn} / server {sn}: only {n} cases");
    }
}

/// The SM2 server certificate is chosen, signs with sm2sig_sm3, and the SM suites are TLS 1.3
/// only: a TLS 1.2-only client offered the same server fails cleanly.
#[test]
fn sm2_certificate_is_tls13_only() {
    let sel = Selection::single(Backend::RustCrypto);
    let client = tls::client_config(tls::provider(&sel), &[&TLS12]);
    let server = tls::server_config(tls::provider(&sel), &[&TLS12, &TLS13], "sm2-server");
    let mut pair = Pair::new(client, server, "localhost");
    let err = pair.handshake().expect_err("SM2 certificate in TLS 1.2");
    println!("TLS 1.2 client vs SM2-only server: {err}");
    // And the same server works in TLS 1.3 with the scheme RFC 8998 names.
    let client = tls::client_config(
        tls::narrow(
            tls::provider(&sel),
            crypto_core::tls::TLS13_SM4_GCM_SM3,
            crypto_core::tls::CURVE_SM2,
            SM2SIG_SM3,
        ),
        &[&TLS13],
    );
    let server = tls::server_config(tls::provider(&sel), &[&TLS12, &TLS13], "sm2-server");
    let mut pair = Pair::new(client, server, "localhost");
    pair.handshake().expect("TLS 1.3 with SM2");
}

/// Client certificates (mutual TLS): RSA, ECDSA and SM2 clients sign their CertificateVerify
/// through our key provider and our server verifies them through our verification table
/// (the SM2 one with RFC 8998's ID); a client from an untrusted CA is refused.
#[test]
fn client_certificates() {
    use std::sync::Arc;
    let sel = tls::selections().pop().expect("mixed").1;
    let server_for = |versions: &[&'static rustls::SupportedProtocolVersion], trust: &[&str]| {
        let provider = Arc::new(tls::provider(&sel));
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(tls::roots(trust)),
            provider.clone(),
        )
        .build()
        .expect("client verifier");
        rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                tls::certs("ecdsa-p256-server"),
                tls::key("ecdsa-p256-server"),
            )
            .expect("server cert")
    };
    let client_for = |versions: &[&'static rustls::SupportedProtocolVersion], who: &str| {
        let provider = crypto_core::tls::prefer_gm(tls::provider(&sel));
        rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(versions)
            .expect("versions")
            .with_root_certificates(tls::roots(tls::ALL_CAS))
            .with_client_auth_cert(tls::certs(who), tls::key(who))
            .expect("client cert")
    };
    for (who, tls13) in [
        ("rsa-client", true),
        ("rsa-client", false),
        ("ecdsa-client", true),
        ("ecdsa-client", false),
        ("sm2-client", true),
    ] {
        let versions: &[&'static rustls::SupportedProtocolVersion] =
            if tls13 { &[&TLS13] } else { &[&TLS12] };
        let mut pair = Pair::new(
            client_for(versions, who),
            server_for(versions, tls::ALL_CAS),
            "localhost",
        );
        pair.handshake()
            .unwrap_or_else(|e| panic!("{who} tls13={tls13}: {e}"));
        let presented = pair.server.peer_certificates().expect("client certificate");
        assert_eq!(presented[0], tls::certs(who)[0], "{who}");
        pair.exchange(b"mutual").expect("data");
        println!("{who}, tls13={tls13}: accepted");
    }
    // Trusting only the RSA CA, the server refuses the ECDSA and SM2 clients.
    for who in ["ecdsa-client", "sm2-client"] {
        let mut pair = Pair::new(
            client_for(&[&TLS13], who),
            server_for(&[&TLS13], &["rsa-ca"]),
            "localhost",
        );
        let err = pair.handshake().expect_err("untrusted client");
        println!("{who} against an RSA-only trust store: {err}");
        assert!(
            matches!(err, rustls::Error::InvalidCertificate(_)),
            "{who}: {err:?}"
        );
    }
}
