//! The `libsm` backend: the libsm crate (pure Rust, SM2/SM3/SM4 only).
//!
//! What libsm offers and how it is used:
//! - SM3: one-shot only (no streaming API), so hash contexts buffer the message.
//!   HMAC-SM3 and HKDF-SM3 are this crate's RFC 2104 / RFC 5869 code over libsm's SM3.
//! - SM4: the block cipher (ECB), CBC encryption and CTR from libsm's mode code; CBC
//!   decryption without padding chains libsm's block decryption here, because libsm's own
//!   CBC decryption always strips PKCS#7 padding. libsm's GCM takes only 16-byte IVs (GHASHed
//!   into J0), not the 12-byte nonces of RFC 8998, and libsm has no CCM: both AEADs are
//!   `Unsupported`.
//! - SM2: signatures with a caller-chosen ID (UTF-8 only: libsm takes the ID as `&str`),
//!   encryption (libsm emits the 2010 order C1C2C3; reordered here to C1C3C2), and ECDH as a
//!   plain point multiplication. libsm draws nonces from `rand`'s thread RNG.
//!
//! libsm computes with variable-time big integers and a table S-box, and does not zeroize its
//! key schedules or scalars: it is a comparison and cross-check backend, not one to hold
//! production secrets (the support matrix and README say so).

mod gm;
mod hash;
mod kx;
mod sign;

use crate::backends::provider::{Provider, Sm2};
use crate::{Algorithm, Backend};

/// Everything this backend implements: the one table [`Backend::supports`](crate::Backend::supports)
/// reads.
pub(crate) static ALGORITHMS: &[Algorithm] = {
    use crate::{Algorithm as Alg, CipherAlg as C, HashAlg as H, KxAlg as K, SignatureAlg as S};
    &[
        Alg::Hash(H::Sm3),
        Alg::Hmac(H::Sm3),
        Alg::Hkdf(H::Sm3),
        Alg::Signature(S::Sm2Sm3),
        Alg::Kx(K::CurveSm2),
        Alg::KxStatic(K::CurveSm2),
        Alg::Cipher(C::Sm4Ecb),
        Alg::Cipher(C::Sm4Cbc),
        Alg::Cipher(C::Sm4Ctr),
        Alg::Sm2Encryption,
    ]
};

/// No AEAD (see above), no random API, no public-key derivation of its own.
pub(crate) static PROVIDER: Provider = Provider {
    backend: Backend::Libsm,
    algorithms: ALGORITHMS,
    aead: None,
    hash: Some(hash::hash),
    hmac: Some(hash::hmac),
    hkdf: Some(hash::hkdf),
    signing_key: Some(sign::default_signing_key),
    verifier: Some(sign::verifier),
    kx: Some(kx::kx),
    random: None,
    kem: None,
    cipher: Some(gm::cipher),
    sm2: Some(&Sm2 {
        signing_key: sign::signing_key,
        verify: sign::verify,
        encrypt: gm::encrypt,
        decrypt: gm::decrypt,
    }),
    public_key: None,
    generate_rsa: None,
};
