//! The `openssl` backend: the system OpenSSL 3 through the `openssl` crate (cargo feature
//! `openssl`). EVP cipher contexts are stateful, so each AEAD key keeps one initialized context
//! per direction behind a mutex: the key schedule is computed once, and a record-layer key is
//! used by one connection at a time, so the lock is uncontended.

use crate::backends::provider::{Provider, Sm2};
use crate::{Algorithm, Backend, Error, SecureRandom};

mod aead;
mod gm;
mod hash;
mod kx;
mod sign;

/// Everything this backend implements: the one table [`Backend::supports`](crate::Backend::supports)
/// reads.
pub(crate) static ALGORITHMS: &[Algorithm] = {
    use crate::{
        AeadAlg as A, Algorithm as Alg, CipherAlg as C, HashAlg as H, KxAlg as K, SignatureAlg as S,
    };
    &[
        Alg::Aead(A::Aes128Gcm),
        Alg::Aead(A::Aes256Gcm),
        Alg::Aead(A::ChaCha20Poly1305),
        Alg::Hash(H::Sha256),
        Alg::Hash(H::Sha384),
        Alg::Hash(H::Sha512),
        Alg::Hash(H::Sm3),
        Alg::Hmac(H::Sha256),
        Alg::Hmac(H::Sha384),
        Alg::Hmac(H::Sha512),
        Alg::Hmac(H::Sm3),
        Alg::Hkdf(H::Sha256),
        Alg::Hkdf(H::Sha384),
        Alg::Hkdf(H::Sha512),
        Alg::Hkdf(H::Sm3),
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
        Alg::Signature(S::Sm2Sm3),
        Alg::Kx(K::X25519),
        Alg::Kx(K::P256),
        Alg::Kx(K::P384),
        Alg::Kx(K::CurveSm2),
        Alg::KxStatic(K::X25519),
        Alg::KxStatic(K::P256),
        Alg::KxStatic(K::P384),
        Alg::KxStatic(K::CurveSm2),
        Alg::Cipher(C::Sm4Ecb),
        Alg::Cipher(C::Sm4Cbc),
        Alg::Cipher(C::Sm4Ctr),
        Alg::Sm2Encryption,
        Alg::Random,
    ]
};

/// No key derivation or generation of its own: the other backends serve key loading.
pub(crate) static PROVIDER: Provider = Provider {
    backend: Backend::OpenSsl,
    algorithms: ALGORITHMS,
    aead: Some(aead::key),
    hash: Some(hash::hash),
    hmac: Some(hash::hmac),
    hkdf: Some(hash::hkdf),
    signing_key: Some(sign::signing_key),
    verifier: Some(sign::verifier),
    kx: Some(kx::kx),
    random: Some(&Random),
    kem: None,
    cipher: Some(gm::cipher),
    sm2: Some(&Sm2 {
        signing_key: gm::signing_key,
        verify: gm::verify,
        encrypt: gm::encrypt,
        decrypt: gm::decrypt,
    }),
    public_key: None,
    generate_rsa: None,
};

#[derive(Debug)]
struct Random;

impl SecureRandom for Random {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        openssl::rand::rand_bytes(dest).map_err(|_| Error::RandomFailed)
    }
}
