//! SHA-256/384/512 (sha2) and SM3 (sm3), each also as HMAC (hmac) and HKDF (hkdf).

use crate::backends::provider::HashFamily;
use core::fmt;
use core::marker::PhantomData;

use hmac::KeyInit;

use crate::backends::provider::hkdf_max_output;
use crate::{Error, Hash, HashAlg, HashContext, Hkdf, HkdfPrk, Hmac, HmacKey, Output};

struct Sha<D>(HashAlg, PhantomData<fn() -> D>);

static SHA256: Sha<sha2::Sha256> = Sha(HashAlg::Sha256, PhantomData);
static SHA384: Sha<sha2::Sha384> = Sha(HashAlg::Sha384, PhantomData);
static SHA512: Sha<sha2::Sha512> = Sha(HashAlg::Sha512, PhantomData);
static SM3: Sha<sm3::Sm3> = Sha(HashAlg::Sm3, PhantomData);

impl<D> fmt::Debug for Sha<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Sha").field(&self.0).finish()
    }
}

/// The bounds every sha2 hash type meets, gathered once.
trait ShaImpl: sha2::Digest + hmac::EagerHash + Clone + Send + Sync + 'static {}
impl<D: sha2::Digest + hmac::EagerHash + Clone + Send + Sync + 'static> ShaImpl for D {}

impl<D: ShaImpl> Hash for Sha<D>
where
    hmac::Hmac<D>: Send + Sync,
{
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn start(&self) -> Box<dyn HashContext> {
        Box::new(ShaContext(D::new()))
    }

    fn hash(&self, data: &[u8]) -> Output {
        Output::new(&D::digest(data))
    }
}

#[derive(Clone)]
struct ShaContext<D>(D);

impl<D: ShaImpl> HashContext for ShaContext<D> {
    fn update(&mut self, data: &[u8]) {
        sha2::Digest::update(&mut self.0, data);
    }

    fn fork_finish(&self) -> Output {
        Output::new(&self.0.clone().finalize())
    }

    fn fork(&self) -> Box<dyn HashContext> {
        Box::new(self.clone())
    }

    fn finish(self: Box<Self>) -> Output {
        Output::new(&self.0.finalize())
    }
}

impl<D: ShaImpl> Hmac for Sha<D>
where
    hmac::Hmac<D>: hmac::Mac + KeyInit + Clone + Send + Sync,
{
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn with_key(&self, key: &[u8]) -> Box<dyn HmacKey> {
        // HMAC takes keys of any length (RFC 2104 2), so this cannot fail.
        let mac =
            <hmac::Hmac<D> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        Box::new(HmacKeyOf(mac))
    }
}

struct HmacKeyOf<M>(M);

impl<M: hmac::Mac + Clone + Send + Sync> HmacKey for HmacKeyOf<M> {
    fn sign(&self, data: &[&[u8]]) -> Output {
        let mut mac = self.0.clone();
        for d in data {
            mac.update(d);
        }
        Output::new(&mac.finalize().into_bytes())
    }
}

impl<D: ShaImpl> Hkdf for Sha<D>
where
    hmac::Hmac<D>: hmac::Mac + KeyInit + Clone + Send + Sync,
    hkdf::Hkdf<D>: Send + Sync,
{
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn extract(&self, salt: &[u8], ikm: &[u8]) -> Box<dyn HkdfPrk> {
        Box::new(Prk(
            hkdf::Hkdf::<D>::new(Some(salt), ikm),
            hkdf_max_output(self.0),
        ))
    }
}

struct Prk<H>(H, usize);

impl<D: ShaImpl> HkdfPrk for Prk<hkdf::Hkdf<D>>
where
    hkdf::Hkdf<D>: Send + Sync,
{
    fn expand(&self, info: &[&[u8]], out: &mut [u8]) -> Result<(), Error> {
        if out.len() > self.1 {
            return Err(Error::InvalidLength);
        }
        self.0
            .expand_multi_info(info, out)
            .map_err(|_| Error::InvalidLength)
    }
}

/// The hash `alg`, which is also its HMAC and HKDF.
pub(super) fn hashing(alg: HashAlg) -> Option<&'static dyn HashFamily> {
    Some(match alg {
        HashAlg::Sha256 => &SHA256,
        HashAlg::Sha384 => &SHA384,
        HashAlg::Sha512 => &SHA512,
        HashAlg::Sm3 => &SM3,
    })
}
