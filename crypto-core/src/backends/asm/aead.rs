//! SM4-GCM and SM4-CCM (RFC 8998) on our SM4 and GHASH kernels.

use crate::{AeadAlg, AeadKey, Error, Nonce, Tag};
use asm::sm4::{Sm4Ccm, Sm4Gcm};
use core::fmt;

pub(super) enum Aead {
    Gcm(Sm4Gcm),
    Ccm(Sm4Ccm),
}

impl fmt::Debug for Aead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gcm(k) => write!(f, "Aead(sm4-gcm, {})", k.kernel().name()),
            Self::Ccm(k) => write!(f, "Aead(sm4-ccm, {})", k.kernel().name()),
        }
    }
}

impl AeadKey for Aead {
    fn algorithm(&self) -> AeadAlg {
        match self {
            Self::Gcm(_) => AeadAlg::Sm4Gcm,
            Self::Ccm(_) => AeadAlg::Sm4Ccm,
        }
    }

    fn seal_in_place_detached(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<Tag, Error> {
        let tag = match self {
            Self::Gcm(k) => k.seal(&nonce.0, aad, in_out),
            Self::Ccm(k) => k.seal(&nonce.0, aad, in_out),
        }
        .map_err(|_| Error::InvalidLength)?;
        Ok(Tag(tag))
    }

    fn open_in_place_detached(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
        tag: &Tag,
    ) -> Result<(), Error> {
        let r = match self {
            Self::Gcm(k) => k.open(&nonce.0, aad, in_out, &tag.0),
            Self::Ccm(k) => k.open(&nonce.0, aad, in_out, &tag.0),
        };
        if r.is_err() {
            return Err(Error::DecryptFailed);
        }
        Ok(())
    }
}

/// An SM4-GCM or SM4-CCM key.
pub(super) fn key(alg: AeadAlg, key: &[u8]) -> Result<Box<dyn AeadKey>, Error> {
    let key: &[u8; 16] = key
        .try_into()
        .map_err(|_| Error::InvalidKey("SM4 keys are 16 bytes"))?;
    Ok(match alg {
        AeadAlg::Sm4Gcm => Box::new(Aead::Gcm(Sm4Gcm::new(key))),
        AeadAlg::Sm4Ccm => Box::new(Aead::Ccm(Sm4Ccm::new(key))),
        _ => return Err(Error::Backend("the asm backend has only the SM4 AEADs")),
    })
}
