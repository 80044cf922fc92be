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
mod intern;
mod kx;
mod sign;

use rustls::crypto::hash::HashAlgorithm;
use rustls::crypto::{CipherSuiteCommon, CryptoProvider, KeyExchangeAlgorithm};
use rustls::{CipherSuite, SignatureAlgorithm, SignatureScheme};
use rustls::{NamedGroup, SupportedCipherSuite, Tls12CipherSuite, Tls13CipherSuite};

use crate::{AeadAlg, Algorithm, HashAlg, KxAlg, Selection};

pub use kx::{HybridGroup, KxGroup};
pub use sign::{KeyProvider, SigningKey, VerifyAlgorithm, signature_scheme};

/// `TLS_SM4_GCM_SM3` (RFC 8998 section 2).
pub const TLS13_SM4_GCM_SM3: CipherSuite = CipherSuite::Unknown(0x00C6);
/// `TLS_SM4_CCM_SM3` (RFC 8998 section 2).
pub const TLS13_SM4_CCM_SM3: CipherSuite = CipherSuite::Unknown(0x00C7);
/// The `curveSM2` named group (RFC 8998 section 2, IANA TLS Supported Groups 41).
pub const CURVE_SM2: NamedGroup = NamedGroup::Unknown(41);
/// The `sm2sig_sm3` signature scheme (RFC 8998 section 2).
pub const SM2SIG_SM3: SignatureScheme = SignatureScheme::Unknown(0x0708);
/// The hash identity rustls sees for SM3. The TLS HashAlgorithm registry has no SM3 entry; this
/// value is from its private-use range (224-255, RFC 5246 section 12), so it can never equal a
/// real hash's identity.
pub const SM3_HASH_ID: HashAlgorithm = HashAlgorithm::Unknown(0xE0);
/// The (TLS 1.2 registry) signature algorithm rustls sees for SM2 keys: private use too. No TLS
/// 1.2 suite names it, which keeps SM2 certificates out of TLS 1.2.
pub const SM2_SIGNATURE_ALGORITHM: SignatureAlgorithm = SignatureAlgorithm::Unknown(0xE0);

/// A TLS 1.3 cipher suite this provider can offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Suite13 {
    /// TLS_AES_128_GCM_SHA256.
    Aes128GcmSha256,
    /// TLS_AES_256_GCM_SHA384.
    Aes256GcmSha384,
    /// TLS_CHACHA20_POLY1305_SHA256.
    ChaCha20Poly1305Sha256,
    /// TLS_SM4_GCM_SM3 (RFC 8998).
    Sm4GcmSm3,
    /// TLS_SM4_CCM_SM3 (RFC 8998).
    Sm4CcmSm3,
}

impl Suite13 {
    /// Every TLS 1.3 suite, in the provider's default preference order.
    pub const ALL: &'static [Self] = &[
        Self::Aes128GcmSha256,
        Self::Aes256GcmSha384,
        Self::ChaCha20Poly1305Sha256,
        Self::Sm4GcmSm3,
        Self::Sm4CcmSm3,
    ];

    /// The IANA code point.
    pub const fn id(self) -> CipherSuite {
        match self {
            Self::Aes128GcmSha256 => CipherSuite::TLS13_AES_128_GCM_SHA256,
            Self::Aes256GcmSha384 => CipherSuite::TLS13_AES_256_GCM_SHA384,
            Self::ChaCha20Poly1305Sha256 => CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
            Self::Sm4GcmSm3 => TLS13_SM4_GCM_SM3,
            Self::Sm4CcmSm3 => TLS13_SM4_CCM_SM3,
        }
    }

    /// The record protection.
    pub const fn aead(self) -> AeadAlg {
        match self {
            Self::Aes128GcmSha256 => AeadAlg::Aes128Gcm,
            Self::Aes256GcmSha384 => AeadAlg::Aes256Gcm,
            Self::ChaCha20Poly1305Sha256 => AeadAlg::ChaCha20Poly1305,
            Self::Sm4GcmSm3 => AeadAlg::Sm4Gcm,
            Self::Sm4CcmSm3 => AeadAlg::Sm4Ccm,
        }
    }

    /// The transcript hash and HKDF hash.
    pub const fn hash(self) -> HashAlg {
        match self {
            Self::Aes128GcmSha256 | Self::ChaCha20Poly1305Sha256 => HashAlg::Sha256,
            Self::Aes256GcmSha384 => HashAlg::Sha384,
            Self::Sm4GcmSm3 | Self::Sm4CcmSm3 => HashAlg::Sm3,
        }
    }

    /// Records one key may protect. RFC 8446 section 5.5 (2^24.5 for AES-GCM, rounded down as
    /// rustls does) applies to every 128-bit-block GCM, so to SM4-GCM; CCM's tighter bound
    /// (2^23, RFC 9147 section 4.5.3) to SM4-CCM; ChaCha20-Poly1305 has no practical limit.
    const fn confidentiality_limit(self) -> u64 {
        match self {
            Self::Aes128GcmSha256 | Self::Aes256GcmSha384 | Self::Sm4GcmSm3 => 1 << 24,
            Self::Sm4CcmSm3 => 1 << 23,
            Self::ChaCha20Poly1305Sha256 => u64::MAX,
        }
    }
}

/// A TLS 1.2 cipher suite this provider can offer (ECDHE only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Suite12 {
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.
    EcdsaAes128GcmSha256,
    /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384.
    EcdsaAes256GcmSha384,
    /// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256.
    EcdsaChaCha20Poly1305Sha256,
    /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.
    RsaAes128GcmSha256,
    /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.
    RsaAes256GcmSha384,
    /// TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256.
    RsaChaCha20Poly1305Sha256,
}

const ECDSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::ED25519,
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::ECDSA_NISTP256_SHA256,
];

const RSA_SCHEMES: &[SignatureScheme] = &[
    SignatureScheme::RSA_PSS_SHA512,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA256,
];

impl Suite12 {
    /// Every TLS 1.2 suite, in the provider's default preference order.
    pub const ALL: &'static [Self] = &[
        Self::EcdsaAes256GcmSha384,
        Self::EcdsaAes128GcmSha256,
        Self::EcdsaChaCha20Poly1305Sha256,
        Self::RsaAes256GcmSha384,
        Self::RsaAes128GcmSha256,
        Self::RsaChaCha20Poly1305Sha256,
    ];

    /// The IANA code point.
    pub const fn id(self) -> CipherSuite {
        match self {
            Self::EcdsaAes128GcmSha256 => CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            Self::EcdsaAes256GcmSha384 => CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            Self::EcdsaChaCha20Poly1305Sha256 => {
                CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
            }
            Self::RsaAes128GcmSha256 => CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            Self::RsaAes256GcmSha384 => CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            Self::RsaChaCha20Poly1305Sha256 => {
                CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
            }
        }
    }

    /// The record protection.
    pub const fn aead(self) -> AeadAlg {
        match self {
            Self::EcdsaAes128GcmSha256 | Self::RsaAes128GcmSha256 => AeadAlg::Aes128Gcm,
            Self::EcdsaAes256GcmSha384 | Self::RsaAes256GcmSha384 => AeadAlg::Aes256Gcm,
            Self::EcdsaChaCha20Poly1305Sha256 | Self::RsaChaCha20Poly1305Sha256 => {
                AeadAlg::ChaCha20Poly1305
            }
        }
    }

    /// The PRF hash.
    pub const fn hash(self) -> HashAlg {
        match self {
            Self::EcdsaAes256GcmSha384 | Self::RsaAes256GcmSha384 => HashAlg::Sha384,
            _ => HashAlg::Sha256,
        }
    }

    const fn is_ecdsa(self) -> bool {
        matches!(
            self,
            Self::EcdsaAes128GcmSha256
                | Self::EcdsaAes256GcmSha384
                | Self::EcdsaChaCha20Poly1305Sha256
        )
    }
}

/// The record protection of a suite this provider can offer, by its code point.
pub fn suite_aead(suite: CipherSuite) -> Option<AeadAlg> {
    Suite13::ALL
        .iter()
        .find(|s| s.id() == suite)
        .map(|s| s.aead())
        .or_else(|| {
            Suite12::ALL
                .iter()
                .find(|s| s.id() == suite)
                .map(|s| s.aead())
        })
}

/// The TLS 1.3 suite `suite` computed by the backends `selection` names, or `None` if one of
/// them lacks a piece.
pub fn tls13_suite(selection: &Selection, suite: Suite13) -> Option<&'static Tls13CipherSuite> {
    let aead_backend = selection.backend_for(Algorithm::Aead(suite.aead()));
    let h = suite.hash();
    let hash_backend = selection.backend_for(Algorithm::Hash(h));
    let hmac_backend = selection.backend_for(Algorithm::Hkdf(h));
    let aead = aead::Tls13Aead::get(suite.aead(), aead_backend)?;
    let hash = hash::TlsHash::get(h, hash_backend)?;
    let hkdf = hash::hkdf(h, hmac_backend)?;
    Some(intern::get(
        &intern::SUITES13,
        (suite, aead_backend, hash_backend, hmac_backend),
        || Tls13CipherSuite {
            common: CipherSuiteCommon {
                suite: suite.id(),
                hash_provider: hash,
                confidentiality_limit: suite.confidentiality_limit(),
            },
            hkdf_provider: hkdf,
            aead_alg: aead,
            quic: None,
        },
    ))
}

/// The TLS 1.2 suite `suite` computed by the backends `selection` names, or `None` if one of
/// them lacks a piece.
pub fn tls12_suite(selection: &Selection, suite: Suite12) -> Option<&'static Tls12CipherSuite> {
    let aead_backend = selection.backend_for(Algorithm::Aead(suite.aead()));
    let h = suite.hash();
    let hash_backend = selection.backend_for(Algorithm::Hash(h));
    let hmac_backend = selection.backend_for(Algorithm::Hmac(h));
    let aead = aead::Tls12Aead::get(suite.aead(), aead_backend)?;
    let hash = hash::TlsHash::get(h, hash_backend)?;
    let prf = hash::prf(h, hmac_backend)?;
    Some(intern::get(
        &intern::SUITES12,
        (suite, aead_backend, hash_backend, hmac_backend),
        || Tls12CipherSuite {
            common: CipherSuiteCommon {
                suite: suite.id(),
                hash_provider: hash,
                confidentiality_limit: if suite.aead() == AeadAlg::ChaCha20Poly1305 {
                    u64::MAX
                } else {
                    1 << 24
                },
            },
            prf_provider: prf,
            kx: KeyExchangeAlgorithm::ECDHE,
            sign: if suite.is_ecdsa() {
                ECDSA_SCHEMES
            } else {
                RSA_SCHEMES
            },
            aead_alg: aead,
        },
    ))
}

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
