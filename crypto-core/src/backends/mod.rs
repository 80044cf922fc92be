//! The backends. Each submodule turns one library into the crate's traits; `Provider` is the
//! table the [`Backend`](crate::Backend) value dispatches through.

use zeroize::Zeroizing;

use crate::{
    AeadAlg, AeadKey, Algorithm, CipherAlg, CipherKey, Error, Hash, HashAlg, Hkdf, Hmac,
    KeyExchange, KxAlg, PrivateKey, SecureRandom, SignatureAlg, SigningKey, Verifier,
};

pub(crate) mod asm;
pub(crate) mod aws_lc;
pub(crate) mod generic;
pub(crate) mod libsm;
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

    // The GM extras: only reached when `supports` says so, so backends without GM keep these
    // defaults.
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
}

/// Largest HKDF-Expand output for a hash: 255 blocks (RFC 5869 2.3).
pub(crate) const fn hkdf_max_output(alg: HashAlg) -> usize {
    255 * alg.output_len()
}

/// Splits a big-endian private scalar given with or without leading zeros into exactly `len`
/// bytes, as known-answer tests and SEC1 encoders vary.
pub(crate) fn fixed_scalar(bytes: &[u8], len: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut v = bytes;
    while v.len() > len && v[0] == 0 {
        v = &v[1..];
    }
    if v.len() > len {
        return Err(Error::InvalidKey("private scalar too long"));
    }
    let mut out = Zeroizing::new(vec![0u8; len]);
    out[len - v.len()..].copy_from_slice(v);
    Ok(out)
}

/// Whether the big-endian scalar `s` is in [1, n), for `s` and `n` of the same length, without
/// branching on `s`'s bytes.
pub(crate) fn scalar_in_range(s: &[u8], n: &[u8]) -> bool {
    if s.len() != n.len() {
        return false;
    }
    // Borrow of s - n, computed from the least significant byte up: 1 when s < n.
    let mut borrow = 0u16;
    let mut any = 0u8;
    for (&a, &b) in s.iter().rev().zip(n.iter().rev()) {
        let d = u16::from(a).wrapping_sub(u16::from(b)).wrapping_sub(borrow);
        borrow = (d >> 8) & 1;
        any |= a;
    }
    core::hint::black_box(borrow) == 1 && core::hint::black_box(any) != 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn scalar_range_is_one_to_n_minus_one() {
        let n = [0x10u8, 0x00];
        assert!(!super::scalar_in_range(&[0, 0], &n));
        assert!(super::scalar_in_range(&[0, 1], &n));
        assert!(super::scalar_in_range(&[0x0f, 0xff], &n));
        assert!(!super::scalar_in_range(&[0x10, 0x00], &n));
        assert!(!super::scalar_in_range(&[0xff, 0xff], &n));
        assert!(!super::scalar_in_range(&[1], &n));
    }
}
