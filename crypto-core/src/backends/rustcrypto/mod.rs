//! The `rustcrypto` backend: pure Rust (RustCrypto's aes-gcm, chacha20poly1305, sha2, hmac,
//! hkdf, rsa, p256, p384, ed25519-dalek, x25519-dalek; sm2, sm3, sm4 with ccm, cbc and ctr for
//! GM). Portable and memory-safe; the reference the accelerated backends are checked against.

mod aead;
mod gm;
mod hash;
mod kx;
mod sign;

use zeroize::Zeroizing;

use crate::backends::provider::{Provider, Sm2};
use crate::{Algorithm, Backend, Error, SecureRandom};

pub(crate) static PROVIDER: Provider = Provider {
    backend: Backend::RustCrypto,
    algorithms: ALGORITHMS,
    aead: Some(aead::key),
    hash: Some(hash::hash),
    hmac: Some(hash::hmac),
    hkdf: Some(hash::hkdf),
    signing_key: Some(sign::signing_key),
    verifier: Some(sign::verifier),
    kx: Some(kx::kx),
    random: Some(&RANDOM),
    kem: None,
    cipher: Some(gm::cipher),
    sm2: Some(&Sm2 {
        signing_key: gm::signing_key,
        verify: gm::verify,
        encrypt: gm::encrypt,
        decrypt: gm::decrypt,
    }),
    public_key: Some(sign::public_key),
    generate_rsa: Some(generate_rsa),
};

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
        Alg::Aead(A::Sm4Gcm),
        Alg::Aead(A::Sm4Ccm),
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

/// A fresh RSA-2048 key (the `rsa` crate's generation; seconds, not milliseconds) as PKCS#8.
fn generate_rsa() -> Result<Zeroizing<Vec<u8>>, Error> {
    use rsa::pkcs8::EncodePrivateKey;
    let mut rng = getrandom::SysRng;
    rsa::PrivateKey::new(&mut rng, 2048)
        .map_err(|_| Error::Backend("RSA key generation failed"))
        .and_then(|k| {
            k.to_pkcs8_der()
                .map(|d| Zeroizing::new(d.as_bytes().to_vec()))
                .map_err(|_| Error::Backend("RSA key encoding failed"))
        })
}

#[derive(Debug)]
struct Random;
static RANDOM: Random = Random;

impl SecureRandom for Random {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(dest).map_err(|_| Error::RandomFailed)
    }
}
