//! Constructions written once over this crate's own traits, for backends whose library offers
//! the primitive but not the construction (libsm has SM3 but no HMAC or HKDF).
//!
//! HMAC is RFC 2104 (block size 64 bytes, as for SM3 and SHA-256); HKDF is RFC 5869.

use core::fmt;

use zeroize::Zeroizing;

use crate::backends::provider::hkdf_max_output;
use crate::{Error, Hash, HashAlg, HashContext, Hkdf, HkdfPrk, Hmac, HmacKey, Output};

/// A [`Hash`] with a 64-byte block, with HMAC and HKDF over it: all three traits, the hash
/// ones passed through.
pub(crate) struct HmacOver(pub(crate) &'static dyn Hash);

impl fmt::Debug for HmacOver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HmacOver")
            .field(&self.0.algorithm())
            .finish()
    }
}

const BLOCK: usize = 64;

impl Hash for HmacOver {
    fn algorithm(&self) -> HashAlg {
        self.0.algorithm()
    }

    fn start(&self) -> Box<dyn HashContext> {
        self.0.start()
    }

    fn hash(&self, data: &[u8]) -> Output {
        self.0.hash(data)
    }
}

impl HmacOver {
    fn key(&self, key: &[u8]) -> PaddedKey {
        let mut k = Zeroizing::new([0u8; BLOCK]);
        if key.len() > BLOCK {
            let d = self.0.hash(key);
            k[..d.as_ref().len()].copy_from_slice(d.as_ref());
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut ipad = Zeroizing::new([0x36u8; BLOCK]);
        let mut opad = Zeroizing::new([0x5cu8; BLOCK]);
        for i in 0..BLOCK {
            ipad[i] ^= k[i];
            opad[i] ^= k[i];
        }
        let mut inner = self.0.start();
        inner.update(ipad.as_slice());
        let mut outer = self.0.start();
        outer.update(opad.as_slice());
        PaddedKey { inner, outer }
    }
}

impl Hmac for HmacOver {
    fn algorithm(&self) -> HashAlg {
        self.0.algorithm()
    }

    fn with_key(&self, key: &[u8]) -> Box<dyn HmacKey> {
        Box::new(self.key(key))
    }
}

/// The hash states after absorbing `K ^ ipad` and `K ^ opad`.
struct PaddedKey {
    inner: Box<dyn HashContext>,
    outer: Box<dyn HashContext>,
}

impl HmacKey for PaddedKey {
    fn sign(&self, data: &[&[u8]]) -> Output {
        let mut inner = self.inner.fork();
        for d in data {
            inner.update(d);
        }
        let ih = inner.finish();
        let mut outer = self.outer.fork();
        outer.update(ih.as_ref());
        outer.finish()
    }
}

impl Hkdf for HmacOver {
    fn algorithm(&self) -> HashAlg {
        self.0.algorithm()
    }

    fn extract(&self, salt: &[u8], ikm: &[u8]) -> Box<dyn HkdfPrk> {
        // RFC 5869 2.2: an absent salt is HashLen zeros, which HMAC's zero padding makes the
        // same as an empty key.
        let prk = self.key(salt).sign(&[ikm]);
        let key = self.key(prk.as_ref());
        Box::new(Prk {
            key,
            hash_len: self.0.algorithm().output_len(),
            max: hkdf_max_output(self.0.algorithm()),
        })
    }
}

struct Prk {
    key: PaddedKey,
    hash_len: usize,
    max: usize,
}

impl HkdfPrk for Prk {
    fn expand(&self, info: &[&[u8]], out: &mut [u8]) -> Result<(), Error> {
        if out.len() > self.max {
            return Err(Error::InvalidLength);
        }
        let mut prev: Option<Output> = None;
        for (i, chunk) in out.chunks_mut(self.hash_len).enumerate() {
            let counter = [u8::try_from(i + 1).map_err(|_| Error::InvalidLength)?];
            let mut parts: Vec<&[u8]> = Vec::with_capacity(info.len() + 2);
            if let Some(p) = &prev {
                parts.push(p.as_ref());
            }
            parts.extend_from_slice(info);
            parts.push(&counter);
            let t = self.key.sign(&parts);
            chunk.copy_from_slice(&t.as_ref()[..chunk.len()]);
            prev = Some(t);
        }
        Ok(())
    }
}

/// For a backend whose only hash is SM3 (a unit struct `$sm3` implementing [`Hash`]): the
/// statics and the [`Provider`](super::provider::Provider)'s `hashing` function, HMAC-SM3 and
/// HKDF-SM3 being [`HmacOver`] it.
macro_rules! sm3_only {
    ($sm3:ident) => {
        static SM3: $sm3 = $sm3;
        static HMAC_SM3: $crate::backends::generic::HmacOver =
            $crate::backends::generic::HmacOver(&SM3);

        /// SM3 as hash, HMAC and HKDF.
        pub(super) fn hashing(
            _alg: $crate::HashAlg,
        ) -> Option<&'static dyn $crate::backends::provider::HashFamily> {
            Some(&HMAC_SM3)
        }
    };
}
pub(crate) use sm3_only;
