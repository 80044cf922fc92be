//! X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem) against an independent implementation: rustls's
//! own aws-lc-rs provider, in both directions, with our hybrid's halves on the same or on
//! different backends; and the X25519 half sent alongside, so a server without the hybrid
//! costs no HelloRetryRequest.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::sync::Arc;

use conformance::TestRng;
use conformance::tls::{self, Pair};
use crypto_core::{Backend, Family, Selection, Target};
use rustls::crypto::CryptoProvider;
use rustls::version::TLS13;
use rustls::{HandshakeKind, NamedGroup};

fn theirs() -> CryptoProvider {
    let mut p = rustls::crypto::aws_lc_rs::default_provider();
    p.kx_groups = vec![rustls::crypto::aws_lc_rs::kx_group::X25519MLKEM768];
    p
}

fn ours(x25519: Backend) -> CryptoProvider {
    let sel =
        Selection::single(Backend::AwsLc).with_override(Target::Family(Family::X25519), x25519);
    let p = crypto_core::tls::provider(&sel);
    assert_eq!(p.kx_groups[0].name(), NamedGroup::X25519MLKEM768);
    p
}

fn check(mut pair: Pair, what: &str) {
    pair.handshake().unwrap_or_else(|e| panic!("{what}: {e}"));
    for c in [&pair.client, &pair.server] {
        assert_eq!(
            c.negotiated_key_exchange_group().map(|g| g.name()),
            Some(NamedGroup::X25519MLKEM768),
            "{what}"
        );
    }
    pair.exchange(&TestRng::new(3).bytes(1 << 20))
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    println!("{what}: X25519MLKEM768, 1 MiB each way");
}

#[test]
fn our_client_to_rustls_aws_lc_server() {
    for x in [Backend::AwsLc, Backend::Ring, Backend::RustCrypto] {
        let client = tls::client_config(ours(x), &[&TLS13]);
        let server = tls::server_config(theirs(), &[&TLS13], "ecdsa-p256-server");
        check(
            Pair::new(client, server, "localhost"),
            &format!("our client (X25519 on {x})"),
        );
    }
}

#[test]
fn rustls_aws_lc_client_to_our_server() {
    for x in [Backend::AwsLc, Backend::Ring, Backend::RustCrypto] {
        let client = rustls::ClientConfig::builder_with_provider(Arc::new(theirs()))
            .with_protocol_versions(&[&TLS13])
            .expect("versions")
            .with_root_certificates(tls::roots(tls::ALL_CAS))
            .with_no_client_auth();
        let server = tls::server_config(ours(x), &[&TLS13], "rsa-server");
        check(
            Pair::new(client, server, "localhost"),
            &format!("our server (X25519 on {x})"),
        );
    }
}

/// Against a server without ML-KEM (ring has none), the X25519 share our client sends with
/// the hybrid one is used directly: no HelloRetryRequest.
#[test]
fn server_without_the_hybrid_needs_no_retry() {
    let client = tls::client_config(ours(Backend::AwsLc), &[&TLS13]);
    let server = tls::server_config(
        crypto_core::tls::provider(&Selection::single(Backend::Ring)),
        &[&TLS13],
        "ecdsa-p256-server",
    );
    let mut pair = Pair::new(client, server, "localhost");
    pair.handshake().expect("handshake");
    assert_eq!(
        pair.client
            .negotiated_key_exchange_group()
            .map(|g| g.name()),
        Some(NamedGroup::X25519)
    );
    assert_eq!(pair.client.handshake_kind(), Some(HandshakeKind::Full));
}
