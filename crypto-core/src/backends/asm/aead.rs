//! SM4-GCM and SM4-CCM (RFC 8998) on our SM4 and GHASH kernels.

use crate::backends::provider::{CheckedAeadKey, RawAead, RawTag};
use crate::{AeadAlg, Error, NONCE_LEN};
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

impl RawAead for Aead {
    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], data: &mut [u8]) -> Result<RawTag, Error> {
        match self {
            Self::Gcm(k) => k.seal(nonce, aad, data),
            Self::Ccm(k) => k.seal(nonce, aad, data),
        }
        .map_err(|_| Error::InvalidLength)
    }

    fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], data: &mut [u8], tag: &RawTag) -> bool {
        match self {
            Self::Gcm(k) => k.open(nonce, aad, data, tag),
            Self::Ccm(k) => k.open(nonce, aad, data, tag),
        }
        .is_ok()
    }
}

/// An SM4-GCM or SM4-CCM key.
pub(super) fn key(alg: AeadAlg, key: &[u8]) -> Result<CheckedAeadKey, Error> {
    let key: &[u8; 16] = key
        .try_into()
        .map_err(|_| Error::InvalidKey("SM4 keys are 16 bytes"))?;
    Ok(match alg {
        AeadAlg::Sm4Gcm => CheckedAeadKey::new(alg, Aead::Gcm(Sm4Gcm::new(key))),
        AeadAlg::Sm4Ccm => CheckedAeadKey::new(alg, Aead::Ccm(Sm4Ccm::new(key))),
        _ => return Err(Error::Backend("the asm backend has only the SM4 AEADs")),
    })
}
