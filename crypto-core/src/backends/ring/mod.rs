//! The `ring` backend (ring 0.17, BoringSSL-derived assembly). ring cannot import a private
//! key for key agreement, so static agreement is not in its table, and it derives no EC public
//! key from a scalar (key loading gets those from another backend). The code it shares with
//! aws-lc-rs is in `ring_api`.

mod aead;
mod hash;
mod kx;
mod sign;

use crate::backends::provider::Provider;
use crate::{Algorithm, Backend, Error, KeyKind};

pub(crate) static PROVIDER: Provider = Provider {
    backend: Backend::Ring,
    algorithms: ALGORITHMS,
    aead: Some(aead::key),
    hash: Some(hash::hash),
    hmac: Some(hash::hmac),
    hkdf: Some(hash::hkdf),
    signing_key: Some(sign::signing_key),
    verifier: Some(sign::verifier),
    kx: Some(kx::kx),
    random: Some(&kx::RANDOM),
    kem: None,
    cipher: None,
    sm2: None,
    public_key: Some(public_key),
    generate_rsa: None,
};

/// Ed25519 public keys only.
fn public_key(kind: KeyKind, secret: &[u8]) -> Option<Result<Vec<u8>, Error>> {
    match kind {
        KeyKind::Ed25519 => sign::ed25519_public(secret),
        _ => None,
    }
}

/// Everything this backend implements: the one table [`Backend::supports`](crate::Backend::supports)
/// reads.
pub(crate) static ALGORITHMS: &[Algorithm] = {
    use crate::{AeadAlg as A, Algorithm as Alg, HashAlg as H, KxAlg as K, SignatureAlg as S};
    &[
        Alg::Aead(A::Aes128Gcm),
        Alg::Aead(A::Aes256Gcm),
        Alg::Aead(A::ChaCha20Poly1305),
        Alg::Hash(H::Sha256),
        Alg::Hash(H::Sha384),
        Alg::Hash(H::Sha512),
        Alg::Hmac(H::Sha256),
        Alg::Hmac(H::Sha384),
        Alg::Hmac(H::Sha512),
        Alg::Hkdf(H::Sha256),
        Alg::Hkdf(H::Sha384),
        Alg::Hkdf(H::Sha512),
        Alg::Signature(S::RsaPkcs1Sha256),
        Alg::Signature(S::RsaPkcs1Sha384),
        Alg::Signature(S::RsaPkcs1Sha512),
        Alg::Signature(S::RsaPssSha256),
        Alg::Signature(S::RsaPssSha384),
        Alg::Signature(S::RsaPssSha512),
        Alg::Signature(S::EcdsaP256Sha256),
        Alg::Signature(S::EcdsaP256Sha256Fixed),
        Alg::Signature(S::EcdsaP384Sha384),
        Alg::Signature(S::EcdsaP384Sha384Fixed),
        Alg::Signature(S::EcdsaP256Sha384),
        Alg::Signature(S::EcdsaP384Sha256),
        Alg::Signature(S::Ed25519),
        Alg::Kx(K::X25519),
        Alg::Kx(K::P256),
        Alg::Kx(K::P384),
        Alg::Random,
    ]
};
