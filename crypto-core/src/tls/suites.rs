//! The cipher suites, TLS 1.3 and 1.2, each built from the backends a selection names.

use rustls::crypto::{CipherSuiteCommon, KeyExchangeAlgorithm};
use rustls::{CipherSuite, SignatureScheme, Tls12CipherSuite, Tls13CipherSuite};

use super::ids::{TLS13_SM4_CCM_SM3, TLS13_SM4_GCM_SM3};
use super::intern::{self, Table};
use super::{aead, hash};
use crate::{AeadAlg, Algorithm, Backend, HashAlg, Selection};

static SUITES13: Table<(Suite13, Backend, Backend, Backend), Tls13CipherSuite> = Table::new();
static SUITES12: Table<(Suite12, Backend, Backend, Backend), Tls12CipherSuite> = Table::new();

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
        &SUITES13,
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
        &SUITES12,
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
