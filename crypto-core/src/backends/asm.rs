//! The `asm` backend: this project's own kernels (the `asm` crate), chosen per key from the
//! detected CPU features (`ASM_CPU_FEATURES` narrows them, to force a path). For now SM4:
//! SM4-GCM, SM4-CCM and the ECB/CBC/CTR modes; everything else is `Unsupported` here and comes
//! from another backend through a Selection.

use core::fmt;

use asm::sm4::{Counter, Sm4, Sm4Ccm, Sm4Gcm};

use crate::backends::Provider;
use crate::{
    AeadAlg, AeadKey, Algorithm, CipherAlg, CipherKey, Error, Hash, HashAlg, Hkdf, Hmac,
    KeyExchange, KxAlg, Nonce, PrivateKey, SecureRandom, SignatureAlg, SigningKey, Tag, Verifier,
};

pub(crate) struct Asm;
pub(crate) static PROVIDER: Asm = Asm;

fn not_here() -> Error {
    Error::Backend("not implemented by the asm backend")
}

impl Provider for Asm {
    fn supports(&self, alg: Algorithm) -> bool {
        matches!(
            alg,
            Algorithm::Aead(AeadAlg::Sm4Gcm | AeadAlg::Sm4Ccm) | Algorithm::Cipher(_)
        )
    }

    fn aead(&self, alg: AeadAlg, key: &[u8]) -> Result<Box<dyn AeadKey>, Error> {
        let key: &[u8; 16] = key
            .try_into()
            .map_err(|_| Error::InvalidKey("SM4 keys are 16 bytes"))?;
        Ok(match alg {
            AeadAlg::Sm4Gcm => Box::new(AsmAead::Gcm(Sm4Gcm::new(key))),
            AeadAlg::Sm4Ccm => Box::new(AsmAead::Ccm(Sm4Ccm::new(key))),
            _ => return Err(not_here()),
        })
    }

    fn hash(&self, _alg: HashAlg) -> Result<&'static dyn Hash, Error> {
        Err(not_here())
    }

    fn hmac(&self, _alg: HashAlg) -> Result<&'static dyn Hmac, Error> {
        Err(not_here())
    }

    fn hkdf(&self, _alg: HashAlg) -> Result<&'static dyn Hkdf, Error> {
        Err(not_here())
    }

    fn signing_key(
        &self,
        _alg: SignatureAlg,
        _key: &PrivateKey,
    ) -> Result<Box<dyn SigningKey>, Error> {
        Err(not_here())
    }

    fn verifier(&self, _alg: SignatureAlg) -> Result<&'static dyn Verifier, Error> {
        Err(not_here())
    }

    fn kx(&self, _alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
        Err(not_here())
    }

    fn random(&self) -> Result<&'static dyn SecureRandom, Error> {
        Err(not_here())
    }

    fn cipher(&self, alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
        let key: &[u8; 16] = key
            .try_into()
            .map_err(|_| Error::InvalidKey("SM4 keys are 16 bytes"))?;
        Ok(Box::new(AsmCipher {
            alg,
            sm4: Sm4::new(key),
        }))
    }
}

enum AsmAead {
    Gcm(Sm4Gcm),
    Ccm(Sm4Ccm),
}

impl fmt::Debug for AsmAead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gcm(k) => write!(f, "AsmAead(sm4-gcm, {})", k.kernel().name()),
            Self::Ccm(k) => write!(f, "AsmAead(sm4-ccm, {})", k.kernel().name()),
        }
    }
}

impl AeadKey for AsmAead {
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
            // The kernels never decrypt a forged message; the trait promises a zeroed buffer.
            in_out.fill(0);
            return Err(Error::DecryptFailed);
        }
        Ok(())
    }
}

struct AsmCipher {
    alg: CipherAlg,
    sm4: Sm4,
}

impl fmt::Debug for AsmCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AsmCipher({}, {})",
            self.alg.id(),
            self.sm4.kernel().name()
        )
    }
}

fn iv16(iv: &[u8]) -> Result<&[u8; 16], Error> {
    iv.try_into()
        .map_err(|_| Error::InvalidInput("wrong IV length for this mode"))
}

impl CipherKey for AsmCipher {
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
