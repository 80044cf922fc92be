//! The `openssl` backend: the system OpenSSL 3 through the `openssl` crate (cargo feature
//! `openssl`). EVP cipher contexts are stateful, so each AEAD key keeps one initialized context
//! per direction behind a mutex: the key schedule is computed once, and a record-layer key is
//! used by one connection at a time, so the lock is uncontended.

use zeroize::Zeroizing;

use crate::backends::provider::Provider;
use crate::{
    AeadAlg, AeadKey, Algorithm, CipherAlg, CipherKey, Error, Hash, HashAlg, Hkdf, Hmac,
    KeyExchange, KxAlg, PrivateKey, SecureRandom, SignatureAlg, SigningKey, Verifier,
};
use hash::sha;

mod aead;
mod gm;
mod hash;
mod kx;
mod sign;

pub(crate) struct OpenSsl;
pub(crate) static PROVIDER: OpenSsl = OpenSsl;

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

impl Provider for OpenSsl {
    fn algorithms(&self) -> &'static [Algorithm] {
        ALGORITHMS
    }

    fn cipher(&self, alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
        gm::cipher(alg, key)
    }

    fn sm2_signing_key(&self, key: &PrivateKey, id: &[u8]) -> Result<Box<dyn SigningKey>, Error> {
        gm::signing_key(key, id)
    }

    fn sm2_verify(&self, pk: &[u8], id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        gm::verify(pk, id, msg, sig)
    }

    fn sm2_encrypt(&self, pk: &[u8], msg: &[u8]) -> Result<Vec<u8>, Error> {
        gm::encrypt(pk, msg)
    }

    fn sm2_decrypt(&self, key: &PrivateKey, raw: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        gm::decrypt(key, raw)
    }

    fn hash(&self, alg: HashAlg) -> Result<&'static dyn Hash, Error> {
        Ok(sha(alg))
    }

    fn hmac(&self, alg: HashAlg) -> Result<&'static dyn Hmac, Error> {
        Ok(sha(alg))
    }

    fn hkdf(&self, alg: HashAlg) -> Result<&'static dyn Hkdf, Error> {
        Ok(sha(alg))
    }

    fn aead(&self, alg: AeadAlg, key: &[u8]) -> Result<Box<dyn AeadKey>, Error> {
        aead::key(alg, key)
    }

    fn signing_key(
        &self,
        alg: SignatureAlg,
        key: &PrivateKey,
    ) -> Result<Box<dyn SigningKey>, Error> {
        sign::signing_key(alg, key)
    }

    fn verifier(&self, alg: SignatureAlg) -> Result<&'static dyn Verifier, Error> {
        sign::verifier(alg)
    }

    fn kx(&self, alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
        Ok(kx::kx(alg))
    }

    fn random(&self) -> Result<&'static dyn SecureRandom, Error> {
        Ok(&RANDOM)
    }
}

#[derive(Debug)]
struct Random;
static RANDOM: Random = Random;

impl SecureRandom for Random {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        openssl::rand::rand_bytes(dest).map_err(|_| Error::RandomFailed)
    }
}
