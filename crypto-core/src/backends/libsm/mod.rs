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

use crate::Backend;
use crate::backends::provider::{Gm, Provider};
use gm::{cipher, decrypt, encrypt};
use sign::{signing_key, verify};

/// No AEAD (see above), no random API, no public-key derivation of its own.
/// The GM extras: SM4 modes (`gm`), SM2 with an ID (`sign`), SM2 encryption (`gm`).
static GM: Gm = Gm::new(cipher, signing_key, verify, encrypt, decrypt);

pub(crate) static PROVIDER: Provider = Provider {
    hashing: Some(hash::hashing),
    signatures: Some(&sign::SIGNATURES),
    kx: Some(kx::kx),
    gm: Some(&GM),
    ..Provider::new(Backend::Libsm, {
        use crate::backends::provider::groups::*;
        &[GM]
    })
};
