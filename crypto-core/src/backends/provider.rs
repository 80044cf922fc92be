//! What a backend is: data. A [`Provider`] is the backend's support table and the functions
//! that make its primitives, `None` where it has none of a kind; the
//! [`Backend`](crate::Backend) value dispatches through it. Also small helpers the backends
//! share.

use zeroize::Zeroizing;

use crate::{
    AeadAlg, AeadKey, Algorithm, Backend, CipherAlg, CipherKey, Error, Hash, HashAlg, Hkdf, Hmac,
    KeyExchange, KeyKind, KxAlg, PrivateKey, SecureRandom, SignatureAlg, SigningKey, Verifier,
};

/// Makes an AEAD key.
pub(crate) type AeadFn = fn(AeadAlg, &[u8]) -> Result<Box<dyn AeadKey>, Error>;
/// Makes a block-cipher mode key.
pub(crate) type CipherFn = fn(CipherAlg, &[u8]) -> Result<Box<dyn CipherKey>, Error>;
/// Makes a signing key for a scheme.
pub(crate) type SigningKeyFn = fn(SignatureAlg, &PrivateKey) -> Result<Box<dyn SigningKey>, Error>;
/// Derives a public key (an EC scalar's point, an Ed25519 seed's key); `None`: not this
/// backend's to derive.
pub(crate) type PublicKeyFn = fn(KeyKind, &[u8]) -> Option<Result<Vec<u8>, Error>>;
/// Makes an RSA-2048 key, PKCS#8 DER.
pub(crate) type GenerateRsaFn = fn() -> Result<Zeroizing<Vec<u8>>, Error>;

/// Finds the backend's static object for an algorithm, `None` if it has none.
pub(crate) type Lookup<A, T> = fn(A) -> Option<&'static T>;
/// Makes an SM2 signing key with a user ID.
pub(crate) type Sm2SigningKeyFn = fn(&PrivateKey, &[u8]) -> Result<Box<dyn SigningKey>, Error>;
/// Verifies an SM2 signature: public key, user ID, message, DER signature.
pub(crate) type Sm2VerifyFn = fn(&[u8], &[u8], &[u8], &[u8]) -> Result<(), Error>;
/// SM2 encryption to a public key.
pub(crate) type Sm2EncryptFn = fn(&[u8], &[u8]) -> Result<Vec<u8>, Error>;
/// SM2 decryption of the raw form.
pub(crate) type Sm2DecryptFn = fn(&PrivateKey, &[u8]) -> Result<Zeroizing<Vec<u8>>, Error>;

/// SM2 beyond signatures through [`Verifier`]: a caller-chosen ID, and encryption.
pub(crate) struct Sm2 {
    /// A signing key with user ID `id` (checked by the caller: at most `sm2::MAX_ID_LEN`).
    pub(crate) signing_key: Sm2SigningKeyFn,
    /// Verifies a DER signature made with `id`.
    pub(crate) verify: Sm2VerifyFn,
    /// Encrypts; returns the raw `C1 || C3 || C2` form.
    pub(crate) encrypt: Sm2EncryptFn,
    /// Decrypts the raw form, already checked for length and C1's first byte.
    pub(crate) decrypt: Sm2DecryptFn,
}

/// A backend: its one support table and the functions that make its primitives.
/// [`Backend`](crate::Backend) checks the table before each call, so a function is only
/// reached for algorithms the table lists.
pub(crate) struct Provider {
    pub(crate) backend: Backend,
    /// Every algorithm this backend implements.
    pub(crate) algorithms: &'static [Algorithm],
    pub(crate) aead: Option<AeadFn>,
    pub(crate) hash: Option<Lookup<HashAlg, dyn Hash>>,
    pub(crate) hmac: Option<Lookup<HashAlg, dyn Hmac>>,
    pub(crate) hkdf: Option<Lookup<HashAlg, dyn Hkdf>>,
    pub(crate) signing_key: Option<SigningKeyFn>,
    pub(crate) verifier: Option<Lookup<SignatureAlg, dyn Verifier>>,
    pub(crate) kx: Option<Lookup<KxAlg, dyn KeyExchange>>,
    pub(crate) random: Option<&'static dyn SecureRandom>,
    pub(crate) kem: Option<&'static dyn crate::Kem>,
    pub(crate) cipher: Option<CipherFn>,
    pub(crate) sm2: Option<&'static Sm2>,
    /// Key services for key loading and generation (`key_loading.rs`), which no single
    /// library must provide: the first built backend that can, serves.
    pub(crate) public_key: Option<PublicKeyFn>,
    pub(crate) generate_rsa: Option<GenerateRsaFn>,
}

impl Provider {
    fn unsupported(&self, alg: Algorithm) -> Error {
        Error::Unsupported {
            alg,
            backend: self.backend,
        }
    }

    /// `f`'s result, or `Unsupported` when the backend has no such function or no such object.
    fn get<T, F>(
        &self,
        f: Option<F>,
        alg: Algorithm,
        call: impl FnOnce(F) -> Option<T>,
    ) -> Result<T, Error> {
        f.and_then(call).ok_or_else(|| self.unsupported(alg))
    }

    pub(crate) fn aead(&self, alg: AeadAlg, key: &[u8]) -> Result<Box<dyn AeadKey>, Error> {
        self.get(self.aead, Algorithm::Aead(alg), Some)?(alg, key)
    }

    pub(crate) fn hash(&self, alg: HashAlg) -> Result<&'static dyn Hash, Error> {
        self.get(self.hash, Algorithm::Hash(alg), |f| f(alg))
    }

    pub(crate) fn hmac(&self, alg: HashAlg) -> Result<&'static dyn Hmac, Error> {
        self.get(self.hmac, Algorithm::Hmac(alg), |f| f(alg))
    }

    pub(crate) fn hkdf(&self, alg: HashAlg) -> Result<&'static dyn Hkdf, Error> {
        self.get(self.hkdf, Algorithm::Hkdf(alg), |f| f(alg))
    }

    pub(crate) fn signing_key(
        &self,
        alg: SignatureAlg,
        key: &PrivateKey,
    ) -> Result<Box<dyn SigningKey>, Error> {
        self.get(self.signing_key, Algorithm::Signature(alg), Some)?(alg, key)
    }

    pub(crate) fn verifier(&self, alg: SignatureAlg) -> Result<&'static dyn Verifier, Error> {
        self.get(self.verifier, Algorithm::Signature(alg), |f| f(alg))
    }

    pub(crate) fn kx(&self, alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
        self.get(self.kx, Algorithm::Kx(alg), |f| f(alg))
    }

    pub(crate) fn random(&self) -> Result<&'static dyn SecureRandom, Error> {
        self.get(self.random, Algorithm::Random, Some)
    }

    pub(crate) fn kem(&self, alg: crate::KemAlg) -> Result<&'static dyn crate::Kem, Error> {
        self.get(self.kem, Algorithm::Kem(alg), |k| {
            (k.algorithm() == alg).then_some(k)
        })
    }

    pub(crate) fn cipher(&self, alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
        self.get(self.cipher, Algorithm::Cipher(alg), Some)?(alg, key)
    }

    pub(crate) fn sm2(&self, alg: Algorithm) -> Result<&'static Sm2, Error> {
        self.get(self.sm2, alg, Some)
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
