//! Hashes, HMAC, HKDF, the TLS 1.2 PRF and randomness for rustls, over crypto-core backends.

use core::fmt;

use rustls::crypto::hash::HashAlgorithm;
use rustls::crypto::hash::{self, Context};
use rustls::crypto::tls12::PrfUsingHmac;
use rustls::crypto::tls13::HkdfUsingHmac;
use rustls::crypto::{GetRandomFailed, hmac};

use super::intern::{self, Table};
use crate::{Backend, HashAlg, HashContext};

static HASHES: Table<(HashAlg, Backend), TlsHash> = Table::new();
static HMACS: Table<(HashAlg, Backend), TlsHmac> = Table::new();
static HKDFS: Table<(HashAlg, Backend), HkdfUsingHmac<'static>> = Table::new();
static PRFS: Table<(HashAlg, Backend), PrfUsingHmac<'static>> = Table::new();

fn hash_id(alg: HashAlg) -> HashAlgorithm {
    match alg {
        HashAlg::Sha256 => HashAlgorithm::SHA256,
        HashAlg::Sha384 => HashAlgorithm::SHA384,
        HashAlg::Sha512 => HashAlgorithm::SHA512,
        HashAlg::Sm3 => super::ids::SM3_HASH_ID,
    }
}

/// A crypto-core hash as a rustls hash.
pub(crate) struct TlsHash {
    alg: HashAlg,
    inner: &'static dyn crate::Hash,
}

impl TlsHash {
    pub(super) fn get(alg: HashAlg, backend: Backend) -> Option<&'static Self> {
        let inner = backend.hash(alg).ok()?;
        Some(intern::get(&HASHES, (alg, backend), || Self { alg, inner }))
    }
}

impl hash::Hash for TlsHash {
    fn start(&self) -> Box<dyn Context> {
        Box::new(TlsHashContext(self.inner.start()))
    }

    fn hash(&self, data: &[u8]) -> hash::Output {
        hash::Output::new(self.inner.hash(data).as_ref())
    }

    fn output_len(&self) -> usize {
        self.alg.output_len()
    }

    fn algorithm(&self) -> HashAlgorithm {
        hash_id(self.alg)
    }
}

struct TlsHashContext(Box<dyn HashContext>);

impl Context for TlsHashContext {
    fn fork_finish(&self) -> hash::Output {
        hash::Output::new(self.0.fork_finish().as_ref())
    }

    fn fork(&self) -> Box<dyn Context> {
        Box::new(Self(self.0.fork()))
    }

    fn finish(self: Box<Self>) -> hash::Output {
        hash::Output::new(self.0.finish().as_ref())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
}

/// A crypto-core HMAC as a rustls HMAC.
pub(crate) struct TlsHmac {
    alg: HashAlg,
    inner: &'static dyn crate::Hmac,
}

impl TlsHmac {
    fn get(alg: HashAlg, backend: Backend) -> Option<&'static Self> {
        let inner = backend.hmac(alg).ok()?;
        Some(intern::get(&HMACS, (alg, backend), || Self { alg, inner }))
    }
}

impl hmac::Hmac for TlsHmac {
    fn with_key(&self, key: &[u8]) -> Box<dyn hmac::Key> {
        Box::new(TlsHmacKey {
            key: self.inner.with_key(key),
            len: self.alg.output_len(),
        })
    }

    fn hash_output_len(&self) -> usize {
        self.alg.output_len()
    }
}

struct TlsHmacKey {
    key: Box<dyn crate::HmacKey>,
    len: usize,
}

impl hmac::Key for TlsHmacKey {
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> hmac::Tag {
        // rustls passes at most a handful of pieces (HKDF-Expand: T(i-1), info parts, counter).
        let mut parts: Vec<&[u8]> = Vec::with_capacity(middle.len() + 2);
        parts.push(first);
        parts.extend_from_slice(middle);
        parts.push(last);
        // HKDF and the PRF use these tags as keys: wipe our copy once rustls has its own
        // (rustls zeroizes `Tag` on drop).
        let mut out = self.key.sign(&parts);
        let tag = hmac::Tag::new(out.as_ref());
        out.wipe();
        tag
    }

    fn tag_len(&self) -> usize {
        self.len
    }
}

/// HKDF (RFC 5869) over the backend's HMAC. rustls's `HkdfUsingHmac` is the RFC construction;
/// the selection's `hkdf-<hash>` entry picks whose HMAC it runs on.
pub(super) fn hkdf(alg: HashAlg, backend: Backend) -> Option<&'static HkdfUsingHmac<'static>> {
    // A backend that implements HKDF implements HMAC; ask for both so a table mismatch shows.
    backend.hkdf(alg).ok()?;
    let hmac = TlsHmac::get(alg, backend)?;
    Some(intern::get(&HKDFS, (alg, backend), || HkdfUsingHmac(hmac)))
}

/// The TLS 1.2 PRF (RFC 5246 section 5) over the backend's HMAC.
pub(super) fn prf(alg: HashAlg, backend: Backend) -> Option<&'static PrfUsingHmac<'static>> {
    let hmac = TlsHmac::get(alg, backend)?;
    Some(intern::get(&PRFS, (alg, backend), || PrfUsingHmac(hmac)))
}

/// A crypto-core RNG as rustls's.
struct TlsRandom(&'static dyn crate::SecureRandom);

impl fmt::Debug for TlsRandom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TlsRandom").field(&self.0).finish()
    }
}

impl rustls::crypto::SecureRandom for TlsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        self.0.fill(buf).map_err(|_| GetRandomFailed)
    }
}

static RANDOMS: Table<Option<Backend>, TlsRandom> = Table::new();

/// The selected backend's RNG. A backend without one (asm, libsm) falls back to the operating
/// system's (`getrandom`), so a provider always has randomness.
pub(super) fn random(backend: Backend) -> &'static dyn rustls::crypto::SecureRandom {
    let (backend, rng) = match backend.random() {
        Ok(r) => (Some(backend), r),
        Err(_) => (None, crate::system_random()),
    };
    let r: &'static TlsRandom = intern::get(&RANDOMS, backend, || TlsRandom(rng));
    r
}
