//! A rustls 0.23 [`CryptoProvider`] built from a [`Selection`], mixing backends freely.
//!
//! ```
//! use std::sync::Arc;
//! use crypto_core::{Backend, Family, Selection, Target};
//!
//! // RSA from aws-lc, AES-GCM from ring, SM4 from our own kernels, the rest from RustCrypto.
//! let selection = Selection::single(Backend::RustCrypto)
//!     .with_override(Target::Family(Family::Rsa), Backend::AwsLc)
//!     .with_override(Target::Family(Family::AesGcm), Backend::Ring)
//!     .with_override(Target::Family(Family::Sm4), Backend::Asm);
//! let provider = Arc::new(crypto_core::tls::provider(&selection));
//! let config = rustls::ClientConfig::builder_with_provider(provider)
//!     .with_safe_default_protocol_versions()
//!     .unwrap()
//!     .with_root_certificates(rustls::RootCertStore::empty())
//!     .with_no_client_auth();
//! # let _ = config;
//! ```
//!
//! What the provider holds:
//! - TLS 1.3 suites AES-128-GCM-SHA256, AES-256-GCM-SHA384, CHACHA20-POLY1305-SHA256 and the
//!   RFC 8998 suites [`TLS13_SM4_GCM_SM3`] (0x00C6) and [`TLS13_SM4_CCM_SM3`] (0x00C7); TLS 1.2
//!   ECDHE-ECDSA and ECDHE-RSA with AES-GCM and ChaCha20-Poly1305.
//! - Key-exchange groups X25519MLKEM768 (when the selection's `ml-kem-768` backend has it:
//!   aws-lc), X25519, secp256r1, secp384r1 and [`CURVE_SM2`] (41; TLS 1.3 only, as RFC 8998
//!   says).
//! - Signing keys (RSA PKCS#1 and PSS, ECDSA P-256/P-384, Ed25519, SM2) through the key
//!   provider, and verification of the same, including SM2-signed X.509 certificates through
//!   rustls-webpki.
//!
//! Each piece is computed by the backend the selection names for its algorithm. A piece whose
//! backend does not implement it is left out (see [`Selection::unsupported`]), so
//! `provider(&Selection::single(Backend::Ring))` simply has no SM suites.
//!
//! # RFC 8998 details
//! - The SM suites are TLS 1.3 suites, so they are never negotiated in TLS 1.2; curveSM2 is
//!   offered and accepted only in TLS 1.3; an SM2 key signs only with `sm2sig_sm3`, which no
//!   TLS 1.2 suite lists.
//! - SM2 signatures in certificates use the default user ID `1234567812345678`
//!   ([`crate::sm2::DEFAULT_ID`]); CertificateVerify signatures use `TLSv1.3+GM+Cipher+Suite`
//!   ([`crate::sm2::TLS13_CERTIFICATE_VERIFY_ID`]). rustls verifies chains with
//!   `WebPkiSupportedAlgorithms::all` and CertificateVerify with its `mapping`, so the first
//!   holds the certificate flavour of SM2 and the second the handshake flavour.
//! - The curveSM2 key share is the 65-byte uncompressed point and the shared secret its
//!   x-coordinate.
//! - SM3 has its own hash identity ([`SM3_HASH_ID`]), so rustls never treats an SM3 transcript
//!   as SHA-256 (it would otherwise take SHA-256's precomputed empty hash and allow resuming an
//!   SM4 session under an AES suite).
//!
//! # Lifetimes
//! rustls wants `&'static` suites, groups and algorithm tables. They are made once per distinct
//! (algorithm, backend) combination and kept for the life of the process, so building many
//! providers allocates nothing after the first of each kind.

mod aead;
mod hash;
mod ids;
mod intern;
mod kx;
mod sign;
mod suites;

use rustls::SupportedCipherSuite;
use rustls::crypto::CryptoProvider;

use crate::{Algorithm, KxAlg, Selection};

pub use ids::{
    CURVE_SM2, SM2_SIGNATURE_ALGORITHM, SM2SIG_SM3, SM3_HASH_ID, TLS13_SM4_CCM_SM3,
    TLS13_SM4_GCM_SM3,
};
pub use kx::{HybridGroup, KxGroup};
pub use sign::{KeyProvider, SigningKey, VerifyAlgorithm, signature_scheme};
pub use suites::{Suite12, Suite13, suite_aead, tls12_suite, tls13_suite};

/// The key-exchange group `group` computed by the backend `selection` names, or `None`.
pub fn kx_group(
    selection: &Selection,
    group: KxAlg,
) -> Option<&'static dyn rustls::crypto::SupportedKxGroup> {
    KxGroup::get(group, selection.backend_for(Algorithm::Kx(group)))
        .map(|g| g as &'static dyn rustls::crypto::SupportedKxGroup)
}

/// `X25519MLKEM768` with each half on the backend `selection` names, or `None` if either
/// lacks it.
pub fn hybrid_group(
    selection: &Selection,
) -> Option<&'static dyn rustls::crypto::SupportedKxGroup> {
    HybridGroup::get(
        selection.backend_for(Algorithm::Kem(crate::KemAlg::MlKem768)),
        selection.backend_for(Algorithm::Kx(KxAlg::X25519)),
    )
    .map(|g| g as &'static dyn rustls::crypto::SupportedKxGroup)
}

/// The provider: everything `selection` can compute, in the default preference order (TLS 1.3
/// suites AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, SM4-GCM, SM4-CCM, then the TLS 1.2 ones;
/// groups X25519MLKEM768 where a backend has ML-KEM, X25519, secp256r1, secp384r1, curveSM2). Use [`prefer_gm`] for a client that should
/// negotiate RFC 8998.
pub fn provider(selection: &Selection) -> CryptoProvider {
    let mut cipher_suites: Vec<SupportedCipherSuite> = Suite13::ALL
        .iter()
        .filter_map(|s| tls13_suite(selection, *s).map(SupportedCipherSuite::Tls13))
        .collect();
    cipher_suites.extend(
        Suite12::ALL
            .iter()
            .filter_map(|s| tls12_suite(selection, *s).map(SupportedCipherSuite::Tls12)),
    );
    // The post-quantum hybrid first, as rustls's own providers do; a client sends its X25519
    // half as a second share, so servers without it cost no extra round trip.
    let mut kx_groups: Vec<&'static dyn rustls::crypto::SupportedKxGroup> = Vec::new();
    if let Some(h) = hybrid_group(selection) {
        kx_groups.push(h);
    }
    kx_groups.extend(KxAlg::ALL.iter().filter_map(|g| kx_group(selection, *g)));
    CryptoProvider {
        cipher_suites,
        kx_groups,
        signature_verification_algorithms: sign::supported_algorithms(selection),
        secure_random: hash::random(selection.backend_for(Algorithm::Random)),
        key_provider: KeyProvider::get(selection),
    }
}

/// Reorders `provider` so that a client offers the RFC 8998 suites first and sends its key
/// share for curveSM2 (rustls sends one key share, for its first group). Servers need not
/// change: rustls servers follow the client's order.
pub fn prefer_gm(mut provider: CryptoProvider) -> CryptoProvider {
    let gm = |s: &SupportedCipherSuite| matches!(s.suite(), TLS13_SM4_GCM_SM3 | TLS13_SM4_CCM_SM3);
    provider.cipher_suites.sort_by_key(|s| !gm(s));
    provider.kx_groups.sort_by_key(|g| g.name() != CURVE_SM2);
    provider
}

/// Keeps only the RFC 8998 pieces that a strict GM peer uses: the SM suites and curveSM2.
/// Signature verification is left as is (a chain may still mix algorithms).
pub fn gm_only(mut provider: CryptoProvider) -> CryptoProvider {
    provider
        .cipher_suites
        .retain(|s| matches!(s.suite(), TLS13_SM4_GCM_SM3 | TLS13_SM4_CCM_SM3));
    provider.kx_groups.retain(|g| g.name() == CURVE_SM2);
    provider
}
