//! SM3 (our one-message kernels), with HMAC-SM3 (the key's padded blocks absorbed once, see
//! `asm::sm3::HmacSm3`) and HKDF-SM3 over it.

use crate::backends::generic::HmacOver;
use crate::backends::provider::HashFamily;
use crate::{Hash, HashAlg, HashContext, Hkdf, HkdfPrk, Hmac, HmacKey, Output};

static SM3: Sm3 = Sm3;
static FAMILY: Sm3Family = Sm3Family;
/// HKDF over the generic HMAC construction (its PRK keeps hash contexts; HKDF runs a few
/// times per handshake, not per record).
static GENERIC: HmacOver = HmacOver(&SM3);

/// SM3 as hash, HMAC and HKDF.
pub(super) fn hashing(_alg: HashAlg) -> Option<&'static dyn HashFamily> {
    Some(&FAMILY)
}

#[derive(Debug)]
pub(super) struct Sm3Family;

impl Hash for Sm3Family {
    fn algorithm(&self) -> HashAlg {
        HashAlg::Sm3
    }

    fn start(&self) -> Box<dyn HashContext> {
        SM3.start()
    }

    fn hash(&self, data: &[u8]) -> Output {
        SM3.hash(data)
    }
}

impl Hmac for Sm3Family {
    fn algorithm(&self) -> HashAlg {
        HashAlg::Sm3
    }

    fn with_key(&self, key: &[u8]) -> Box<dyn HmacKey> {
        Box::new(Sm3HmacKey(asm::sm3::HmacSm3::new(key)))
    }
}

impl Hkdf for Sm3Family {
    fn algorithm(&self) -> HashAlg {
        HashAlg::Sm3
    }

    fn extract(&self, salt: &[u8], ikm: &[u8]) -> Box<dyn HkdfPrk> {
        GENERIC.extract(salt, ikm)
    }
}

struct Sm3HmacKey(asm::sm3::HmacSm3);

impl HmacKey for Sm3HmacKey {
    fn sign(&self, data: &[&[u8]]) -> Output {
        Output::new(&self.0.sign(data))
    }
}

#[derive(Debug)]
pub(super) struct Sm3;

impl Hash for Sm3 {
    fn algorithm(&self) -> HashAlg {
        HashAlg::Sm3
    }

    fn start(&self) -> Box<dyn HashContext> {
        Box::new(Sm3Context(asm::sm3::Sm3::new()))
    }

    fn hash(&self, data: &[u8]) -> Output {
        Output::new(&asm::sm3::Sm3::digest(data))
    }
}

#[derive(Clone)]
pub(super) struct Sm3Context(asm::sm3::Sm3);

impl HashContext for Sm3Context {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn fork_finish(&self) -> Output {
        Output::new(&self.0.fork_finish())
    }

    fn fork(&self) -> Box<dyn HashContext> {
        Box::new(self.clone())
    }

    fn finish(self: Box<Self>) -> Output {
        Output::new(&self.0.fork_finish())
    }
}
