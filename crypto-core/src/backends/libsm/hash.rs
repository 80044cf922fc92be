//! SM3 from libsm (one-shot only, so contexts buffer the message), with HMAC-SM3 and
//! HKDF-SM3 over it (this crate's generic constructions).

use crate::{Hash, HashAlg, HashContext, Output};
use libsm::sm3::hash::Sm3Hash;

#[derive(Debug)]
pub(super) struct Sm3;

impl Hash for Sm3 {
    fn algorithm(&self) -> HashAlg {
        HashAlg::Sm3
    }

    fn start(&self) -> Box<dyn HashContext> {
        Box::new(Sm3Context(Vec::new()))
    }

    fn hash(&self, data: &[u8]) -> Output {
        Output::new(&Sm3Hash::new(data).get_hash())
    }
}

/// libsm's SM3 is one-shot: keep everything until the digest is asked for. HMAC keys pass
/// through here, so the buffer is zeroized.
#[derive(Clone)]
pub(super) struct Sm3Context(Vec<u8>);

impl Drop for Sm3Context {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl HashContext for Sm3Context {
    fn update(&mut self, data: &[u8]) {
        self.0.extend_from_slice(data);
    }

    fn fork_finish(&self) -> Output {
        Output::new(&Sm3Hash::new(&self.0).get_hash())
    }

    fn fork(&self) -> Box<dyn HashContext> {
        Box::new(self.clone())
    }

    fn finish(self: Box<Self>) -> Output {
        self.fork_finish()
    }
}

crate::backends::generic::sm3_only!(Sm3);
