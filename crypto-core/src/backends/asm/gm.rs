//! The GM extras: SM4 in ECB, CBC and CTR on our kernels, and the helpers the SM2 parts
//! share.

use crate::keys::{Material, fixed_scalar};
use crate::{CipherAlg, CipherKey, Error, PrivateKey};
use asm::sm4::{Counter, Sm4};
use core::fmt;
use zeroize::Zeroizing;

/// The key's scalar as exactly 32 bytes.
pub(super) fn scalar32(scalar: &[u8]) -> Result<Zeroizing<[u8; 32]>, Error> {
    let v = fixed_scalar(scalar, 32)?;
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&v);
    Ok(out)
}

pub(super) fn gm_error(e: asm::sm2::Error) -> Error {
    use asm::sm2::Error as E;
    match e {
        E::InvalidPrivateKey => Error::InvalidKey("SM2 private scalar out of range"),
        E::InvalidPoint | E::Infinity => Error::InvalidPeerKey,
        E::IdTooLong => Error::InvalidInput("SM2 user ID longer than 8191 bytes"),
        E::DecryptFailed => Error::DecryptFailed,
        E::ShortCiphertext => Error::InvalidInput("SM2 ciphertext shorter than C1 || C3"),
        E::NoNonce => Error::RandomFailed,
        _ => Error::Backend("SM2 failed"),
    }
}

/// Runs `f` with the OS random generator as its entropy source.
pub(super) fn with_entropy<T>(
    f: impl FnOnce(&mut dyn FnMut(&mut [u8])) -> Result<T, asm::sm2::Error>,
) -> Result<T, Error> {
    let mut failed = false;
    let r = f(&mut |buf: &mut [u8]| {
        if getrandom::fill(buf).is_err() {
            failed = true;
        }
    });
    if failed {
        return Err(Error::RandomFailed);
    }
    r.map_err(gm_error)
}

pub(super) struct Cipher {
    pub(super) alg: CipherAlg,
    pub(super) sm4: Sm4,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cipher({}, {})", self.alg.id(), self.sm4.kernel().name())
    }
}

pub(super) fn iv16(iv: &[u8]) -> Result<&[u8; 16], Error> {
    iv.try_into()
        .map_err(|_| Error::InvalidInput("wrong IV length for this mode"))
}

impl CipherKey for Cipher {
    fn algorithm(&self) -> CipherAlg {
        self.alg
    }

    fn encrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        match self.alg {
            CipherAlg::Sm4Ecb => self.sm4.encrypt_blocks(in_out),
            CipherAlg::Sm4Cbc => self.sm4.cbc_encrypt(iv16(iv)?, in_out),
            CipherAlg::Sm4Ctr => {
                self.sm4.ctr(iv16(iv)?, Counter::Full128, in_out);
            }
        }
        Ok(())
    }

    fn decrypt(&self, iv: &[u8], in_out: &mut [u8]) -> Result<(), Error> {
        match self.alg {
            CipherAlg::Sm4Ecb => self.sm4.decrypt_blocks(in_out),
            CipherAlg::Sm4Cbc => self.sm4.cbc_decrypt(iv16(iv)?, in_out),
            CipherAlg::Sm4Ctr => {
                self.sm4.ctr(iv16(iv)?, Counter::Full128, in_out);
            }
        }
        Ok(())
    }
}

/// SM2 encryption (GB/T 32918.4), raw C1C3C2.
pub(super) fn encrypt(pk: &[u8], msg: &[u8]) -> Result<Vec<u8>, Error> {
    with_entropy(|rng| asm::sm2::encrypt(pk, msg, rng)).map_err(|e| match e {
        Error::InvalidPeerKey => Error::InvalidKey("SM2 public key not on the curve"),
        e => e,
    })
}

/// SM2 decryption of the raw C1C3C2 form.
pub(super) fn decrypt(key: &PrivateKey, raw: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    let Material::Ec { scalar, .. } = key.material() else {
        return Err(Error::InvalidKey("not an SM2 key"));
    };
    asm::sm2::decrypt(&*scalar32(scalar)?, raw).map_err(gm_error)
}

/// SM4 in ECB, CBC or CTR.
pub(super) fn cipher(alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
    let key: &[u8; 16] = key
        .try_into()
        .map_err(|_| Error::InvalidKey("SM4 keys are 16 bytes"))?;
    Ok(Box::new(Cipher {
        alg,
        sm4: Sm4::new(key),
    }))
}
