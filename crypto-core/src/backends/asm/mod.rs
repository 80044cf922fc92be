//! The `asm` backend: this project's own kernels (the `asm` crate), chosen per key from the
//! detected CPU features (`ASM_CPU_FEATURES` narrows them, to force a path): the GM suite.
//! SM4-GCM, SM4-CCM and the ECB/CBC/CTR modes; SM3 (with HMAC and HKDF over it); SM2
//! signatures, curveSM2 key agreement and SM2 encryption. Everything else is `Unsupported`
//! here and comes from another backend through a Selection.

mod aead;
mod gm;
mod hash;
mod kx;
mod sign;

use asm::sm4::{Sm4, Sm4Ccm, Sm4Gcm};
use zeroize::Zeroizing;

use crate::backends::provider::Provider;
use crate::keys::Material;
use crate::{
    AeadAlg, AeadKey, Algorithm, CipherAlg, CipherKey, Error, Hash, HashAlg, Hkdf, Hmac,
    KeyExchange, KxAlg, PrivateKey, SecureRandom, SignatureAlg, SigningKey, Verifier,
};
use aead::Aead;
use gm::{Cipher, gm_error, scalar32, with_entropy};
use hash::{HMAC_SM3, SM3};
use kx::Kx;
use sign::Signer;

pub(crate) struct Asm;
pub(crate) static PROVIDER: Asm = Asm;

/// Everything this backend implements: the one table [`Backend::supports`](crate::Backend::supports)
/// reads.
pub(crate) static ALGORITHMS: &[Algorithm] = {
    use crate::{
        AeadAlg as A, Algorithm as Alg, CipherAlg as C, HashAlg as H, KxAlg as K, SignatureAlg as S,
    };
    &[
        Alg::Aead(A::Sm4Gcm),
        Alg::Aead(A::Sm4Ccm),
        Alg::Hash(H::Sm3),
        Alg::Hmac(H::Sm3),
        Alg::Hkdf(H::Sm3),
        Alg::Signature(S::Sm2Sm3),
        Alg::Kx(K::CurveSm2),
        Alg::KxStatic(K::CurveSm2),
        Alg::Cipher(C::Sm4Ecb),
        Alg::Cipher(C::Sm4Cbc),
        Alg::Cipher(C::Sm4Ctr),
        Alg::Sm2Encryption,
    ]
};

fn not_here() -> Error {
    Error::Backend("not implemented by the asm backend")
}

impl Provider for Asm {
    fn algorithms(&self) -> &'static [Algorithm] {
        ALGORITHMS
    }

    fn aead(&self, alg: AeadAlg, key: &[u8]) -> Result<Box<dyn AeadKey>, Error> {
        let key: &[u8; 16] = key
            .try_into()
            .map_err(|_| Error::InvalidKey("SM4 keys are 16 bytes"))?;
        Ok(match alg {
            AeadAlg::Sm4Gcm => Box::new(Aead::Gcm(Sm4Gcm::new(key))),
            AeadAlg::Sm4Ccm => Box::new(Aead::Ccm(Sm4Ccm::new(key))),
            _ => return Err(not_here()),
        })
    }

    fn hash(&self, _alg: HashAlg) -> Result<&'static dyn Hash, Error> {
        Ok(&SM3)
    }

    fn hmac(&self, _alg: HashAlg) -> Result<&'static dyn Hmac, Error> {
        Ok(&HMAC_SM3)
    }

    fn hkdf(&self, _alg: HashAlg) -> Result<&'static dyn Hkdf, Error> {
        Ok(&HMAC_SM3)
    }

    fn signing_key(
        &self,
        _alg: SignatureAlg,
        key: &PrivateKey,
    ) -> Result<Box<dyn SigningKey>, Error> {
        self.sm2_signing_key(key, crate::sm2::DEFAULT_ID)
    }

    fn verifier(&self, _alg: SignatureAlg) -> Result<&'static dyn Verifier, Error> {
        Ok(&sign::Verifier)
    }

    fn kx(&self, _alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
        Ok(&Kx)
    }

    fn sm2_signing_key(&self, key: &PrivateKey, id: &[u8]) -> Result<Box<dyn SigningKey>, Error> {
        crate::sm2::check_id(id)?;
        let Material::Ec { scalar, public, .. } = key.material() else {
            return Err(Error::InvalidKey("not an SM2 key"));
        };
        let d = scalar32(scalar)?;
        let inner = asm::sm2::SigningKey::new(&d, id).map_err(|e| match e {
            asm::sm2::Error::InvalidPrivateKey => {
                Error::InvalidKey("SM2 private key must be in [1, n-2] to sign")
            }
            e => gm_error(e),
        })?;
        if inner.public_key()[..] != public[..] {
            return Err(Error::InvalidKey(
                "SM2 public key does not match the private key",
            ));
        }
        Ok(Box::new(Signer(inner)))
    }

    fn sm2_verify(&self, pk: &[u8], id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        sign::verify(pk, id, msg, sig)
    }

    fn sm2_encrypt(&self, pk: &[u8], msg: &[u8]) -> Result<Vec<u8>, Error> {
        with_entropy(|rng| asm::sm2::encrypt(pk, msg, rng)).map_err(|e| match e {
            Error::InvalidPeerKey => Error::InvalidKey("SM2 public key not on the curve"),
            e => e,
        })
    }

    fn sm2_decrypt(&self, key: &PrivateKey, raw: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let Material::Ec { scalar, .. } = key.material() else {
            return Err(Error::InvalidKey("not an SM2 key"));
        };
        asm::sm2::decrypt(&*scalar32(scalar)?, raw).map_err(gm_error)
    }

    fn random(&self) -> Result<&'static dyn SecureRandom, Error> {
        Err(not_here())
    }

    fn cipher(&self, alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
        let key: &[u8; 16] = key
            .try_into()
            .map_err(|_| Error::InvalidKey("SM4 keys are 16 bytes"))?;
        Ok(Box::new(Cipher {
            alg,
            sm4: Sm4::new(key),
        }))
    }
}
