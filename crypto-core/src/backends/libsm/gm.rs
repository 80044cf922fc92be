//! The GM extras: SM4 in ECB, CBC and CTR from libsm's mode code, and the point checks the
//! SM2 parts share.

use crate::backends::provider::debug_fields;
use crate::keys::Material;
use crate::{CipherAlg, CipherKey, Error, PrivateKey, sm2};

use libsm::sm2::ecc::EccCtx;
use libsm::sm2::encrypt::{DecryptCtx, EncryptCtx};
use libsm::sm2::signature::SigCtx;
use libsm::sm4::cipher::Sm4Cipher;
use libsm::sm4::{Cipher as Sm4Mode, Mode};
use zeroize::Zeroizing;

/// curveSM2's field prime p (GB/T 32918.5), big-endian.
pub(super) const P: [u8; 32] = [
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
];

/// Whether `point` is `04 || x || y` with x, y < p. libsm reduces coordinates itself, so a
/// non-canonical encoding (x + p) would otherwise be taken for the same point; the other
/// backends refuse it, and so does this one.
pub(super) fn canonical(point: &[u8]) -> bool {
    point.len() == 65 && point[0] == 4 && point[1..33] < P[..] && point[33..] < P[..]
}

/// libsm takes user IDs as `&str`.
pub(super) fn utf8_id(id: &[u8]) -> Result<&str, Error> {
    core::str::from_utf8(id)
        .map_err(|_| Error::InvalidInput("the libsm backend takes only UTF-8 SM2 user IDs"))
}

struct Sm4Key {
    alg: CipherAlg,
    block: Sm4Cipher,
    mode: Option<Sm4Mode>,
}

debug_fields!(Sm4Key, alg);

fn sm4_failed<E>(_: E) -> Error {
    Error::Backend("libsm SM4 failed")
}

impl Sm4Key {
    fn mode(&self) -> Result<&Sm4Mode, Error> {
        self.mode.as_ref().ok_or(Error::Backend("mode missing"))
    }
}

impl CipherKey for Sm4Key {
    fn algorithm(&self) -> CipherAlg {
        self.alg
    }

    fn encrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        match self.alg {
            CipherAlg::Sm4Ecb => {
                for block in in_out.chunks_exact_mut(16) {
                    let out = self.block.encrypt(block).map_err(sm4_failed)?;
                    block.copy_from_slice(&out);
                }
            }
            CipherAlg::Sm4Cbc => {
                // libsm always appends a PKCS#7 block; on whole blocks that block comes last
                // and is dropped.
                let out = self.mode()?.encrypt(&[], in_out, iv).map_err(sm4_failed)?;
                let n = in_out.len();
                in_out.copy_from_slice(out.get(..n).ok_or(Error::Backend("short output"))?);
            }
            CipherAlg::Sm4Ctr => {
                let out = self.mode()?.encrypt(&[], in_out, iv).map_err(sm4_failed)?;
                if out.len() != in_out.len() {
                    return Err(Error::Backend("libsm CTR output length"));
                }
                in_out.copy_from_slice(&out);
            }
        }
        Ok(())
    }

    fn decrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        match self.alg {
            CipherAlg::Sm4Ecb => {
                for block in in_out.chunks_exact_mut(16) {
                    let out = self.block.decrypt(block).map_err(sm4_failed)?;
                    block.copy_from_slice(&out);
                }
            }
            CipherAlg::Sm4Cbc => {
                let mut prev = [0u8; 16];
                prev.copy_from_slice(iv);
                for block in in_out.chunks_exact_mut(16) {
                    let mut this = [0u8; 16];
                    this.copy_from_slice(block);
                    let out = self.block.decrypt(block).map_err(sm4_failed)?;
                    for i in 0..16 {
                        block[i] = out[i] ^ prev[i];
                    }
                    prev = this;
                }
            }
            CipherAlg::Sm4Ctr => self.encrypt(iv, in_out)?,
        }
        Ok(())
    }
}

/// An SM4 key in one of the block modes.
pub(super) fn cipher(alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
    let bad = |_| Error::InvalidKey("SM4 key rejected");
    let mode = match alg {
        CipherAlg::Sm4Ecb => None,
        CipherAlg::Sm4Cbc => Some(Sm4Mode::new(key, Mode::Cbc).map_err(bad)?),
        CipherAlg::Sm4Ctr => Some(Sm4Mode::new(key, Mode::Ctr).map_err(bad)?),
    };
    Ok(Box::new(Sm4Key {
        alg,
        block: Sm4Cipher::new(key).map_err(bad)?,
        mode,
    }))
}

/// SM2 encryption; libsm's C1C2C3 output reordered to C1C3C2.
pub(super) fn encrypt(pk: &[u8], msg: &[u8]) -> Result<Vec<u8>, Error> {
    if !canonical(pk) {
        return Err(Error::InvalidKey("SM2 public key not on the curve"));
    }
    let point = SigCtx::new()
        .load_pubkey(pk)
        .map_err(|_| Error::InvalidKey("SM2 public key not on the curve"))?;
    let old_order = EncryptCtx::new(msg.len(), point)
        .encrypt(msg)
        .map_err(|_| Error::Backend("libsm SM2 encryption failed"))?;
    sm2::c1c2c3_to_c1c3c2(&old_order)
}

/// SM2 decryption of the C1C3C2 form.
pub(super) fn decrypt(key: &PrivateKey, raw: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let Material::Ec { scalar, .. } = key.material() else {
        return Err(Error::InvalidKey("not an SM2 key"));
    };
    // C1 must be on the curve; checked here so that libsm's own failure below can only
    // mean a C3 mismatch.
    if !canonical(&raw[..65]) {
        return Err(Error::InvalidPeerKey);
    }
    EccCtx::new()
        .bytes_to_point(&raw[..65])
        .map_err(|_| Error::InvalidPeerKey)?;
    let sk = SigCtx::new()
        .load_seckey(scalar)
        .map_err(|_| Error::InvalidKey("SM2 private key rejected by libsm"))?;
    let old_order = sm2::c1c3c2_to_c1c2c3(raw)?;
    DecryptCtx::new(raw.len() - sm2::RAW_OVERHEAD, sk)
        .decrypt(&old_order)
        .map(Zeroizing::new)
        .map_err(|_| Error::DecryptFailed)
}
