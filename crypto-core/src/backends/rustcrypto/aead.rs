//! AES-GCM, ChaCha20-Poly1305, SM4-GCM and SM4-CCM as RustCrypto AEADs.

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{AeadInOut, KeyInit};

use crate::backends::provider::{CheckedAeadKey, RawAead, RawTag, debug_fields};
use crate::{AeadAlg, Error, NONCE_LEN};

/// A key for `alg`: AES-GCM and ChaCha20-Poly1305 from aes-gcm and chacha20poly1305, the SM4
/// AEADs from the GM half.
pub(super) fn key(alg: AeadAlg, key: &[u8]) -> Result<CheckedAeadKey, Error> {
    let bad = |_| Error::InvalidKey("AEAD key rejected");
    Ok(match alg {
        AeadAlg::Aes128Gcm => CheckedAeadKey::new(
            alg,
            Aead {
                alg,
                cipher: aes_gcm::Aes128Gcm::new_from_slice(key).map_err(bad)?,
            },
        ),
        AeadAlg::Aes256Gcm => CheckedAeadKey::new(
            alg,
            Aead {
                alg,
                cipher: aes_gcm::Aes256Gcm::new_from_slice(key).map_err(bad)?,
            },
        ),
        AeadAlg::ChaCha20Poly1305 => CheckedAeadKey::new(
            alg,
            Aead {
                alg,
                cipher: chacha20poly1305::ChaCha20Poly1305::new_from_slice(key).map_err(bad)?,
            },
        ),
        AeadAlg::Sm4Gcm | AeadAlg::Sm4Ccm => return sm4(alg, key),
    })
}

/// An AEAD key of any RustCrypto AEAD.
pub(super) struct Aead<A> {
    pub(super) alg: AeadAlg,
    pub(super) cipher: A,
}

debug_fields!(Aead<A>, alg);

impl<A: AeadInOut + Send + Sync> RawAead for Aead<A> {
    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], data: &mut [u8]) -> Result<RawTag, Error> {
        let n =
            aes_gcm::aead::Nonce::<A>::try_from(&nonce[..]).map_err(|_| Error::InvalidLength)?;
        let tag = self
            .cipher
            .encrypt_inout_detached(&n, aad, data.into())
            .map_err(|_| Error::InvalidLength)?;
        tag[..].try_into().map_err(|_| Error::InvalidLength)
    }

    fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], data: &mut [u8], tag: &RawTag) -> bool {
        let (Ok(n), Ok(t)) = (
            aes_gcm::aead::Nonce::<A>::try_from(&nonce[..]),
            aes_gcm::aead::Tag::<A>::try_from(&tag[..]),
        ) else {
            return false;
        };
        self.cipher
            .decrypt_inout_detached(&n, aad, data.into(), &t)
            .is_ok()
    }
}

type Sm4Gcm = aes_gcm::AesGcm<sm4::Sm4, U12>;
type Sm4Ccm = ccm::Ccm<sm4::Sm4, U16, U12>;

/// SM4-GCM (aes-gcm's generic GCM over sm4) or SM4-CCM (ccm over sm4), RFC 8998.
fn sm4(alg: AeadAlg, key: &[u8]) -> Result<CheckedAeadKey, Error> {
    let bad = |_| Error::InvalidKey("AEAD key rejected");
    Ok(match alg {
        AeadAlg::Sm4Gcm => CheckedAeadKey::new(
            alg,
            Aead {
                alg,
                cipher: Sm4Gcm::new_from_slice(key).map_err(bad)?,
            },
        ),
        _ => CheckedAeadKey::new(
            alg,
            Aead {
                alg,
                cipher: Sm4Ccm::new_from_slice(key).map_err(bad)?,
            },
        ),
    })
}
