//! What every backend provides: the [`Provider`] trait, the dispatch table the
//! [`Backend`](crate::Backend) value calls through, and small helpers the backends share.

use zeroize::Zeroizing;

use crate::{
    AeadAlg, AeadKey, Algorithm, CipherAlg, CipherKey, Error, Hash, HashAlg, Hkdf, Hmac,
    KeyExchange, KeyKind, KxAlg, PrivateKey, SecureRandom, SignatureAlg, SigningKey, Verifier,
};

/// What a backend implements. [`Backend`](crate::Backend) checks [`Provider::algorithms`]
/// before each call, so the other methods are only reached for algorithms in that table.
pub(crate) trait Provider: Sync {
    /// Every algorithm this backend implements.
    fn algorithms(&self) -> &'static [Algorithm];
    fn aead(&self, alg: AeadAlg, key: &[u8]) -> Result<Box<dyn AeadKey>, Error>;
    fn hash(&self, alg: HashAlg) -> Result<&'static dyn Hash, Error>;
    fn hmac(&self, alg: HashAlg) -> Result<&'static dyn Hmac, Error>;
    fn hkdf(&self, alg: HashAlg) -> Result<&'static dyn Hkdf, Error>;
    fn signing_key(
        &self,
        alg: SignatureAlg,
        key: &PrivateKey,
    ) -> Result<Box<dyn SigningKey>, Error>;
    fn verifier(&self, alg: SignatureAlg) -> Result<&'static dyn Verifier, Error>;
    fn kx(&self, alg: KxAlg) -> Result<&'static dyn KeyExchange, Error>;
    fn random(&self) -> Result<&'static dyn SecureRandom, Error>;

    // The GM extras and the KEMs: only reached when the table says so, so backends without
    // them keep these defaults.
    fn cipher(&self, _alg: CipherAlg, _key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
        Err(Error::Backend("block-cipher modes not implemented"))
    }
    fn sm2_signing_key(&self, _key: &PrivateKey, _id: &[u8]) -> Result<Box<dyn SigningKey>, Error> {
        Err(Error::Backend("SM2 not implemented"))
    }
    fn sm2_verify(&self, _pk: &[u8], _id: &[u8], _msg: &[u8], _sig: &[u8]) -> Result<(), Error> {
        Err(Error::Backend("SM2 not implemented"))
    }
    /// Returns the raw `C1 || C3 || C2` form.
    fn sm2_encrypt(&self, _pk: &[u8], _msg: &[u8]) -> Result<Vec<u8>, Error> {
        Err(Error::Backend("SM2 not implemented"))
    }
    /// Takes the raw form, already checked for length and C1's first byte.
    fn sm2_decrypt(&self, _key: &PrivateKey, _raw: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        Err(Error::Backend("SM2 not implemented"))
    }
    fn kem(&self, _alg: crate::KemAlg) -> Result<&'static dyn crate::Kem, Error> {
        Err(Error::Backend("KEM not implemented"))
    }

    // Key services for key loading and generation (`keys.rs`), which no single library must
    // provide: the first built backend that can, serves.

    /// The public key of `secret`: the uncompressed point of an EC scalar already checked to
    /// be in [1, n), or the Ed25519 public key of a seed. `None` if this backend cannot.
    fn public_key(&self, _kind: KeyKind, _secret: &[u8]) -> Option<Result<Vec<u8>, Error>> {
        None
    }
    /// A fresh RSA-2048 key as PKCS#8 DER. `None` if this backend cannot.
    fn generate_rsa(&self) -> Option<Result<Zeroizing<Vec<u8>>, Error>> {
        None
    }
}

/// Largest HKDF-Expand output for a hash: 255 blocks (RFC 5869 2.3).
pub(crate) const fn hkdf_max_output(alg: HashAlg) -> usize {
    255 * alg.output_len()
}

/// An OpenSSL call that failed in a way no input explains.
#[cfg(feature = "openssl")]
pub(crate) fn failed<E>(_: E) -> Error {
    Error::Backend("OpenSSL call failed")
}
