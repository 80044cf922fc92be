//! The AEAD contract, kept once for every backend. A backend implements a bare [`RawAead`]
//! (seal; open that says whether the tag was authentic); its keys reach callers only as a
//! [`CheckedAeadKey`], the public [`AeadKey`] that enforces the rest.

// A build whose only backend is libsm has no AEAD.
#![cfg_attr(
    not(any(
        feature = "ring",
        feature = "aws-lc",
        feature = "rustcrypto",
        feature = "asm",
        feature = "openssl"
    )),
    allow(dead_code)
)]

use core::fmt;

use crate::{AeadAlg, AeadKey, Error, NONCE_LEN, Nonce, TAG_LEN, Tag};

/// A backend's AEAD key: the cipher alone. It reaches callers only as a [`CheckedAeadKey`],
/// which checks lengths and zeroes the buffer on a failed open, so no backend has to.
pub(crate) trait RawAead: Send + Sync + fmt::Debug {
    /// Encrypts `data` in place and returns the tag.
    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], data: &mut [u8]) -> Result<RawTag, Error>;
    /// Decrypts `data` in place; whether `tag` was authentic (if not, `data` is garbage).
    fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], data: &mut [u8], tag: &RawTag) -> bool;
}

/// An AEAD tag's bytes.
pub(crate) type RawTag = [u8; TAG_LEN];

/// A backend's AEAD key inside the contract's wrapper, the only form in which a backend can
/// hand one out: plaintext limits per algorithm, and a buffer zeroed (and one opaque error)
/// on any failed open. Generic over the backend's type, so a call costs one dynamic dispatch.
pub(crate) struct CheckedAeadKey(pub(crate) Box<dyn AeadKey>);

impl CheckedAeadKey {
    pub(crate) fn new<A: RawAead + 'static>(alg: AeadAlg, inner: A) -> Self {
        Self(Box::new(CheckedAead { alg, inner }))
    }
}

/// The AEAD contract, kept once for every backend: no plaintext beyond the algorithm's limit
/// per nonce, and a failed open leaves nothing behind: the buffer is zeroed and the error is
/// always [`Error::DecryptFailed`] (no detail that could become an oracle).
#[derive(Debug)]
struct CheckedAead<A> {
    alg: AeadAlg,
    inner: A,
}

impl<A: RawAead> AeadKey for CheckedAead<A> {
    fn algorithm(&self) -> AeadAlg {
        self.alg
    }

    fn seal_in_place_detached(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<Tag, Error> {
        if in_out.len() as u64 > self.alg.max_plaintext_len() {
            return Err(Error::InvalidLength);
        }
        self.inner.seal(&nonce.0, aad, in_out).map(Tag)
    }

    fn open_in_place_detached(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
        tag: &Tag,
    ) -> Result<(), Error> {
        let ok = in_out.len() as u64 <= self.alg.max_plaintext_len()
            && self.inner.open(&nonce.0, aad, in_out, &tag.0);
        if ok {
            Ok(())
        } else {
            in_out.fill(0);
            Err(Error::DecryptFailed)
        }
    }
}
