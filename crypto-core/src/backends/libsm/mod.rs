//! The `libsm` backend: the libsm crate (pure Rust, SM2/SM3/SM4 only).
//!
//! What libsm offers and how it is used:
//! - SM3: one-shot only (no streaming API), so hash contexts buffer the message.
//!   HMAC-SM3 and HKDF-SM3 are this crate's RFC 2104 / RFC 5869 code over libsm's SM3.
//! - SM4: the block cipher (ECB), CBC encryption and CTR from libsm's mode code; CBC
//!   decryption without padding chains libsm's block decryption here, because libsm's own
//!   CBC decryption always strips PKCS#7 padding. libsm's GCM takes only 16-byte IVs (GHASHed
//!   into J0), not the 12-byte nonces of RFC 8998, and libsm has no CCM: both AEADs are
//!   `Unsupported`.
//! - SM2: signatures with a caller-chosen ID (UTF-8 only: libsm takes the ID as `&str`),
//!   encryption (libsm emits the 2010 order C1C2C3; reordered here to C1C3C2), and ECDH as a
//!   plain point multiplication. libsm draws nonces from `rand`'s thread RNG.
//!
//! libsm computes with variable-time big integers and a table S-box, and does not zeroize its
//! key schedules or scalars: it is a comparison and cross-check backend, not one to hold
//! production secrets (the support matrix and README say so).

mod gm;
mod hash;
mod kx;
mod sign;

use libsm::sm2::ecc::EccCtx;
use libsm::sm2::encrypt::{DecryptCtx, EncryptCtx};
use libsm::sm2::signature::SigCtx;
use libsm::sm4::cipher::Sm4Cipher;
use libsm::sm4::{Cipher as Sm4Mode, Mode};
use zeroize::Zeroizing;

use crate::backends::provider::Provider;
use crate::keys::Material;
use crate::{
    AeadAlg, AeadKey, Algorithm, CipherAlg, CipherKey, Error, Hash, HashAlg, Hkdf, Hmac,
    KeyExchange, KxAlg, PrivateKey, SecureRandom, SignatureAlg, SigningKey, Verifier, sm2,
};
use gm::{Sm4Key, canonical, utf8_id};
use hash::{HMAC_SM3, SM3};
use kx::KX;
use sign::{Signer, VERIFIER};

pub(crate) struct Libsm;
pub(crate) static PROVIDER: Libsm = Libsm;

/// Everything this backend implements: the one table [`Backend::supports`](crate::Backend::supports)
/// reads.
pub(crate) static ALGORITHMS: &[Algorithm] = {
    use crate::{Algorithm as Alg, CipherAlg as C, HashAlg as H, KxAlg as K, SignatureAlg as S};
    &[
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

impl Provider for Libsm {
    fn algorithms(&self) -> &'static [Algorithm] {
        ALGORITHMS
    }

    fn aead(&self, _alg: AeadAlg, _key: &[u8]) -> Result<Box<dyn AeadKey>, Error> {
        Err(Error::Backend("libsm has no RFC 8998 AEAD"))
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
        self.sm2_signing_key(key, sm2::DEFAULT_ID)
    }

    fn verifier(&self, _alg: SignatureAlg) -> Result<&'static dyn Verifier, Error> {
        Ok(&VERIFIER)
    }

    fn kx(&self, _alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
        Ok(&KX)
    }

    fn random(&self) -> Result<&'static dyn SecureRandom, Error> {
        Err(Error::Backend("libsm has no random API"))
    }

    fn cipher(&self, alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
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

    fn sm2_signing_key(&self, key: &PrivateKey, id: &[u8]) -> Result<Box<dyn SigningKey>, Error> {
        let Material::Ec { scalar, public, .. } = key.material() else {
            return Err(Error::InvalidKey("not an SM2 key"));
        };
        let id = utf8_id(id)?;
        let ctx = SigCtx::new();
        let point = ctx
            .load_pubkey(public)
            .map_err(|_| Error::InvalidKey("SM2 public key rejected by libsm"))?;
        Ok(Box::new(Signer {
            ctx,
            id: id.to_owned(),
            scalar: scalar.clone(),
            point,
            public: public.clone(),
        }))
    }

    fn sm2_verify(&self, pk: &[u8], id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        sign::verify(pk, id, msg, sig)
    }

    fn sm2_encrypt(&self, pk: &[u8], msg: &[u8]) -> Result<Vec<u8>, Error> {
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

    fn sm2_decrypt(&self, key: &PrivateKey, raw: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
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
}
