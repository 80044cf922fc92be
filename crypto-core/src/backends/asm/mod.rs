//! The `asm` backend: this project's own kernels (the `asm` crate), chosen per key from the
//! detected CPU features (`ASM_CPU_FEATURES` narrows them, to force a path): the GM suite.
//! SM4-GCM, SM4-CCM and the ECB/CBC/CTR modes; SM3 (with HMAC and HKDF over it); SM2
//! signatures, curveSM2 key agreement and SM2 encryption. Everything else is `Unsupported`
//! here and comes from another backend through a Selection.

mod aead;
mod gm;
mod hash;
mod kx;
mod sign;

use crate::backends::provider::{Gm, Provider};
use crate::{Backend, Error, KeyKind};
use gm::{cipher, decrypt, encrypt};
use sign::{signing_key, verify};

/// The GM extras: SM4 modes (`gm`), SM2 with an ID (`sign`), SM2 encryption (`gm`).
static GM: Gm = Gm::new(cipher, signing_key, verify, encrypt, decrypt);

pub(crate) static PROVIDER: Provider = Provider {
    aead: Some(aead::key),
    hashing: Some(hash::hashing),
    signatures: Some(&sign::SIGNATURES),
    kx: Some(kx::kx),
    gm: Some(&GM),
    public_key: Some(public_key),
    ..Provider::new(Backend::Asm, {
        use crate::backends::provider::groups::*;
        &[SM4_AEAD, GM]
    })
};

/// SM2 public keys: our fixed-base multiplication.
fn public_key(kind: KeyKind, secret: &[u8]) -> Option<Result<Vec<u8>, Error>> {
    (kind == KeyKind::Sm2).then(|| {
        let d = gm::scalar32(secret)?;
        asm::sm2::public_key(&d)
            .map(|p| p.to_vec())
            .map_err(gm::gm_error)
    })
}
