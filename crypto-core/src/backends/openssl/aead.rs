//! AES-GCM and ChaCha20-Poly1305 through EVP cipher contexts, one initialized context per
//! direction behind a mutex (the key schedule is computed once; a record-layer key is used by
//! one connection at a time, so the lock is uncontended).

use crate::backends::provider::{CheckedAeadKey, RawAead, RawTag, debug_fields, failed};
use crate::{AeadAlg, Algorithm, Error, NONCE_LEN};

use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;
use std::sync::Mutex;

pub(super) struct Aead {
    alg: AeadAlg,
    cipher: &'static CipherRef,
    seal: Mutex<CipherCtx>,
    open: Mutex<CipherCtx>,
}

debug_fields!(Aead, alg);

impl RawAead for Aead {
    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], data: &mut [u8]) -> Result<RawTag, Error> {
        let mut ctx = self.seal.lock().map_err(failed)?;
        debug_assert_eq!(self.cipher.iv_length(), NONCE_LEN);
        ctx.encrypt_init(None, None, Some(nonce)).map_err(failed)?;
        ctx.cipher_update(aad, None).map_err(failed)?;
        let len = data.len();
        ctx.cipher_update_inplace(data, len).map_err(failed)?;
        ctx.cipher_final(&mut []).map_err(failed)?;
        let mut tag = [0u8; crate::TAG_LEN];
        ctx.tag(&mut tag).map_err(failed)?;
        Ok(tag)
    }

    fn open(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], data: &mut [u8], tag: &RawTag) -> bool {
        let Ok(mut ctx) = self.open.lock() else {
            return false;
        };
        let len = data.len();
        ctx.decrypt_init(None, None, Some(nonce)).is_ok()
            && ctx.cipher_update(aad, None).is_ok()
            && ctx.cipher_update_inplace(data, len).is_ok()
            && ctx.set_tag(tag).is_ok()
            && ctx.cipher_final(&mut []).is_ok()
    }
}

/// A key for `alg` (no SM4 AEAD in OpenSSL 3.0).
pub(super) fn key(alg: AeadAlg, key: &[u8]) -> Result<CheckedAeadKey, Error> {
    let cipher = match alg {
        AeadAlg::Aes128Gcm => Cipher::aes_128_gcm(),
        AeadAlg::Aes256Gcm => Cipher::aes_256_gcm(),
        AeadAlg::ChaCha20Poly1305 => Cipher::chacha20_poly1305(),
        AeadAlg::Sm4Gcm | AeadAlg::Sm4Ccm => {
            return Err(Error::Unsupported {
                alg: Algorithm::Aead(alg),
                backend: crate::Backend::OpenSsl,
            });
        }
    };
    let mut seal = CipherCtx::new().map_err(failed)?;
    seal.encrypt_init(Some(cipher), Some(key), None)
        .map_err(|_| Error::InvalidKey("AEAD key rejected"))?;
    let mut open = CipherCtx::new().map_err(failed)?;
    open.decrypt_init(Some(cipher), Some(key), None)
        .map_err(|_| Error::InvalidKey("AEAD key rejected"))?;
    Ok(CheckedAeadKey::new(
        alg,
        Aead {
            alg,
            cipher,
            seal: Mutex::new(seal),
            open: Mutex::new(open),
        },
    ))
}
