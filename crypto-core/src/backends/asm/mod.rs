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

use crate::backends::provider::{Provider, Sm2};
use crate::{Algorithm, Backend, Error, KeyKind};

/// Everything this backend implements: the one table [`Backend::supports`](crate::Backend::supports)
/// reads.
pub(crate) static ALGORITHMS: &[Algorithm] = {
    use crate::{
        AeadAlg as A, Algorithm as Alg, CipherAlg as C, HashAlg as H, KxAlg as K, SignatureAlg as S,
    };
    &[
        Alg::Aead(A::Sm4Gcm),
        Alg::Aead(A::Sm4Ccm),
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

pub(crate) static PROVIDER: Provider = Provider {
    backend: Backend::Asm,
    algorithms: ALGORITHMS,
    aead: Some(aead::key),
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
    public_key: Some(public_key),
    generate_rsa: None,
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
