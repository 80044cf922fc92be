//! SHA-256/384/512 and SM3 through EVP digests, HMAC through EVP_MAC, HKDF through EVP_PKEY.

use crate::backends::provider::HashFamily;
use crate::backends::provider::{failed, hkdf_max_output};
use crate::{Error, Hash, HashAlg, HashContext, Hkdf, HkdfPrk, Hmac, HmacKey, Output};

use openssl::hash::MessageDigest;
use openssl::md::{Md, MdRef};
use openssl::pkey::{Id, PKey, Private};
use openssl::pkey_ctx::{HkdfMode, PkeyCtx};
use openssl::sign::Signer;
use zeroize::Zeroizing;

// One SHA-2 (or SM3) function as hash, HMAC and HKDF, per algorithm.
crate::backends::provider::one_per_algorithm! {
    struct Sha(HashAlg);
    static SHAS = HashAlg::ALL;
}

/// The hash `alg`, which is also its HMAC and HKDF.
pub(super) fn hashing(alg: HashAlg) -> Option<&'static dyn HashFamily> {
    Some(SHAS.iter().find(|s| s.0 == alg)?)
}

impl Sha {
    fn md(&self) -> &'static MdRef {
        match self.0 {
            HashAlg::Sha256 => Md::sha256(),
            HashAlg::Sha384 => Md::sha384(),
            HashAlg::Sha512 => Md::sha512(),
            HashAlg::Sm3 => Md::sm3(),
        }
    }

    fn message_digest(&self) -> MessageDigest {
        message_digest(self.0)
    }
}

pub(super) fn message_digest(alg: HashAlg) -> MessageDigest {
    match alg {
        HashAlg::Sha256 => MessageDigest::sha256(),
        HashAlg::Sha384 => MessageDigest::sha384(),
        HashAlg::Sha512 => MessageDigest::sha512(),
        HashAlg::Sm3 => MessageDigest::sm3(),
    }
}

/// The stack-allocated `openssl::sha` contexts (no allocation per hash); SM3 has only the
/// EVP interface, whose context is heap-allocated by OpenSSL.
#[derive(Clone)]
pub(super) enum ShaCtx {
    Sha256(openssl::sha::Sha256),
    Sha384(openssl::sha::Sha384),
    Sha512(openssl::sha::Sha512),
    Sm3(Option<openssl::hash::Hasher>),
}

impl Hash for Sha {
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn start(&self) -> Box<dyn HashContext> {
        Box::new(match self.0 {
            HashAlg::Sha256 => ShaCtx::Sha256(openssl::sha::Sha256::new()),
            HashAlg::Sha384 => ShaCtx::Sha384(openssl::sha::Sha384::new()),
            HashAlg::Sha512 => ShaCtx::Sha512(openssl::sha::Sha512::new()),
            // A failure here (out of memory) surfaces as an all-zero digest from finish,
            // which no test vector matches; the trait has no error path for hashing.
            HashAlg::Sm3 => ShaCtx::Sm3(openssl::hash::Hasher::new(MessageDigest::sm3()).ok()),
        })
    }

    fn hash(&self, data: &[u8]) -> Output {
        match self.0 {
            HashAlg::Sha256 => Output::new(&openssl::sha::sha256(data)),
            HashAlg::Sha384 => Output::new(&openssl::sha::sha384(data)),
            HashAlg::Sha512 => Output::new(&openssl::sha::sha512(data)),
            HashAlg::Sm3 => match openssl::hash::hash(MessageDigest::sm3(), data) {
                Ok(d) => Output::new(&d),
                Err(_) => Output::new(&[0; 32]),
            },
        }
    }
}

impl HashContext for ShaCtx {
    fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(c) => c.update(data),
            Self::Sha384(c) => c.update(data),
            Self::Sha512(c) => c.update(data),
            Self::Sm3(c) => {
                if let Some(h) = c
                    && h.update(data).is_err()
                {
                    *c = None;
                }
            }
        }
    }

    fn fork_finish(&self) -> Output {
        Box::new(self.clone()).finish()
    }

    fn fork(&self) -> Box<dyn HashContext> {
        Box::new(self.clone())
    }

    fn finish(self: Box<Self>) -> Output {
        match *self {
            Self::Sha256(c) => Output::new(&c.finish()),
            Self::Sha384(c) => Output::new(&c.finish()),
            Self::Sha512(c) => Output::new(&c.finish()),
            Self::Sm3(c) => match c.and_then(|mut h| h.finish().ok()) {
                Some(d) => Output::new(&d),
                None => Output::new(&[0; 32]),
            },
        }
    }
}

impl Hmac for Sha {
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn with_key(&self, key: &[u8]) -> Box<dyn HmacKey> {
        // OpenSSL refuses empty HMAC keys. HMAC zero-pads the key to the block size (RFC 2104 2),
        // so the empty key and the one-byte key 0x00 are the same key.
        let key = if key.is_empty() { &[0u8][..] } else { key };
        match PKey::hmac(key) {
            Ok(key) => Box::new(HmacKeyOf {
                md: self.message_digest(),
                key,
            }),
            Err(_) => panic!("OpenSSL could not allocate an HMAC key (out of memory)"),
        }
    }
}

pub(super) struct HmacKeyOf {
    md: MessageDigest,
    key: PKey<Private>,
}

impl HmacKey for HmacKeyOf {
    fn sign(&self, data: &[&[u8]]) -> Output {
        let tag = Signer::new(self.md, &self.key).and_then(|mut signer| {
            for d in data {
                signer.update(d)?;
            }
            signer.sign_to_vec()
        });
        match tag {
            Ok(tag) => Output::new(&tag),
            // HMAC is defined for every input; OpenSSL fails here only when out of memory.
            Err(_) => panic!("OpenSSL HMAC failed (out of memory)"),
        }
    }
}

impl Hkdf for Sha {
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn extract(&self, salt: &[u8], ikm: &[u8]) -> Box<dyn HkdfPrk> {
        // HKDF-Extract is HMAC(salt, ikm) (RFC 5869 2.2); an empty salt is a zero-length key,
        // which HMAC pads exactly as it pads HashLen zeros.
        let prk = self.with_key(salt).sign(&[ikm]);
        Box::new(Prk {
            md: self.md(),
            prk: Zeroizing::new(prk.as_ref().to_vec()),
            max: hkdf_max_output(self.0),
        })
    }
}

pub(super) struct Prk {
    md: &'static MdRef,
    prk: Zeroizing<Vec<u8>>,
    max: usize,
}

impl HkdfPrk for Prk {
    fn expand(&self, info: &[&[u8]], out: &mut [u8]) -> Result<(), Error> {
        if out.len() > self.max {
            return Err(Error::InvalidLength);
        }
        if out.is_empty() {
            return Ok(());
        }
        let mut ctx = PkeyCtx::new_id(Id::HKDF).map_err(failed)?;
        ctx.derive_init().map_err(failed)?;
        ctx.set_hkdf_md(self.md).map_err(failed)?;
        ctx.set_hkdf_mode(HkdfMode::EXPAND_ONLY).map_err(failed)?;
        ctx.set_hkdf_key(&self.prk).map_err(failed)?;
        // OpenSSL keeps one info buffer (1024 bytes in 3.0); join the pieces ourselves.
        let joined: Vec<u8> = info.concat();
        if !joined.is_empty() {
            ctx.add_hkdf_info(&joined)
                .map_err(|_| Error::InvalidLength)?;
        }
        ctx.derive(Some(out)).map_err(failed)?;
        Ok(())
    }
}
