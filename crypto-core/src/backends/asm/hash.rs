//! SM3 (our one-message kernels), with HMAC-SM3 and HKDF-SM3 over it.

use crate::{Hash, HashAlg, HashContext, Output};

crate::backends::generic::sm3_only!(Sm3);

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
