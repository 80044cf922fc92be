//! The GM extras: SM4 in ECB, CBC and CTR from libsm's mode code, and the point checks the
//! SM2 parts share.

use crate::{CipherAlg, CipherKey, Error};
use core::fmt;
use libsm::sm4::Cipher as Sm4Mode;
use libsm::sm4::cipher::Sm4Cipher;

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

pub(super) struct Sm4Key {
    pub(super) alg: CipherAlg,
    pub(super) block: Sm4Cipher,
    pub(super) mode: Option<Sm4Mode>,
}

impl fmt::Debug for Sm4Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sm4Key")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

pub(super) fn sm4_failed<E>(_: E) -> Error {
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
