//! SM2 signatures (GB/T 32918.2) on our field arithmetic.

use super::gm::with_entropy;
use crate::{Error, SignatureAlg, SigningKey};
use core::fmt;

pub(super) struct Signer(pub(super) asm::sm2::SigningKey);

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({})", self.0.kernel().name())
    }
}

impl SigningKey for Signer {
    fn algorithm(&self) -> SignatureAlg {
        SignatureAlg::Sm2Sm3
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let (r, s) = with_entropy(|rng| self.0.sign(message, rng))?;
        Ok(crate::der::rs_signature(&r, &s))
    }

    fn public_key(&self) -> &[u8] {
        self.0.public_key()
    }
}

/// SM2 with the default ID, as the verifier for [`SignatureAlg::Sm2Sm3`].
#[derive(Debug)]
pub(super) struct Verifier;

impl crate::Verifier for Verifier {
    fn algorithm(&self) -> SignatureAlg {
        SignatureAlg::Sm2Sm3
    }

    fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
        verify(public_key, crate::sm2::DEFAULT_ID, message, signature)
    }
}

/// Verifies an SM2 signature with user ID `id`.
pub(super) fn verify(pk: &[u8], id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    crate::sm2::check_id(id)?;
    let (r, s) = crate::der::read_rs_signature(sig).ok_or(Error::BadSignature)?;
    if asm::sm2::verify(pk, id, msg, &r, &s) {
        Ok(())
    } else {
        Err(Error::BadSignature)
    }
}
