//! The backends. Each submodule turns one library into the crate's traits; `Provider` is the
//! table the [`Backend`](crate::Backend) value dispatches through.

use crate::{
    AeadAlg, AeadKey, Algorithm, Error, Hash, HashAlg, Hkdf, Hmac, KeyExchange, KxAlg, PrivateKey,
    SecureRandom, SignatureAlg, SigningKey, Verifier,
};

pub(crate) mod aws_lc;
#[cfg(feature = "openssl")]
pub(crate) mod openssl;
pub(crate) mod ring;
pub(crate) mod rustcrypto;

/// What a backend implements. [`Backend`](crate::Backend) checks `supports` before each call,
/// so the other methods are only reached for supported algorithms.
pub(crate) trait Provider: Sync {
    fn supports(&self, alg: Algorithm) -> bool;
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
}

/// Largest HKDF-Expand output for a hash: 255 blocks (RFC 5869 2.3).
pub(crate) const fn hkdf_max_output(alg: HashAlg) -> usize {
    255 * alg.output_len()
}

/// Splits a big-endian private scalar given with or without leading zeros into exactly `len`
/// bytes, as known-answer tests and SEC1 encoders vary.
pub(crate) fn fixed_scalar(bytes: &[u8], len: usize) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
    let mut v = bytes;
    while v.len() > len && v[0] == 0 {
        v = &v[1..];
    }
    if v.len() > len {
        return Err(Error::InvalidKey("private scalar too long"));
    }
    let mut out = zeroize::Zeroizing::new(vec![0u8; len]);
    out[len - v.len()..].copy_from_slice(v);
    Ok(out)
}
