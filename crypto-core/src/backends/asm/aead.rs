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
