//! The `asm` backend: this project's own kernels (the `asm` crate), chosen per key from the
//! detected CPU features (`ASM_CPU_FEATURES` narrows them, to force a path): the GM suite.
//! SM4-GCM, SM4-CCM and the ECB/CBC/CTR modes; SM3 (with HMAC and HKDF over it); SM2
//! signatures, curveSM2 key agreement and SM2 encryption. Everything else is `Unsupported`
//! here and comes from another backend through a Selection.

use core::fmt;

use asm::sm4::{Counter, Sm4, Sm4Ccm, Sm4Gcm};
use zeroize::Zeroizing;

use crate::backends::generic::HmacOver;
use crate::backends::{Provider, fixed_scalar};
use crate::keys::Material;
use crate::{
    AeadAlg, AeadKey, Algorithm, CipherAlg, CipherKey, EphemeralKey, Error, Hash, HashAlg,
    HashContext, Hkdf, Hmac, KeyExchange, KxAlg, Nonce, Output, PrivateKey, SecureRandom,
    SharedSecret, SignatureAlg, SigningKey, Tag, Verifier,
};

pub(crate) struct Asm;
pub(crate) static PROVIDER: Asm = Asm;

fn not_here() -> Error {
    Error::Backend("not implemented by the asm backend")
}

impl Provider for Asm {
    fn supports(&self, alg: Algorithm) -> bool {
        // Exactly the GM suite.
        alg.is_gm()
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
        Ok(&Sm2Verifier)
    }

    fn kx(&self, _alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
        Ok(&Sm2Kx)
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
        Ok(Box::new(AsmSm2Signer(inner)))
    }

    fn sm2_verify(&self, pk: &[u8], id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        crate::sm2::check_id(id)?;
        let (r, s) = crate::der::read_rs_signature(sig).ok_or(Error::BadSignature)?;
        if asm::sm2::verify(pk, id, msg, &r, &s) {
            Ok(())
        } else {
            Err(Error::BadSignature)
        }
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
        Ok(Box::new(AsmCipher {
            alg,
            sm4: Sm4::new(key),
        }))
    }
}

/// The key's scalar as exactly 32 bytes.
fn scalar32(scalar: &[u8]) -> Result<Zeroizing<[u8; 32]>, Error> {
    let v = fixed_scalar(scalar, 32)?;
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&v);
    Ok(out)
}

fn gm_error(e: asm::sm2::Error) -> Error {
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
fn with_entropy<T>(
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

static SM3: AsmSm3 = AsmSm3;
static HMAC_SM3: HmacOver = HmacOver(&SM3);

#[derive(Debug)]
struct AsmSm3;

impl Hash for AsmSm3 {
    fn algorithm(&self) -> HashAlg {
        HashAlg::Sm3
    }

    fn start(&self) -> Box<dyn HashContext> {
        Box::new(AsmSm3Ctx(asm::sm3::Sm3::new()))
    }

    fn hash(&self, data: &[u8]) -> Output {
        Output::new(&asm::sm3::Sm3::digest(data))
    }
}

#[derive(Clone)]
struct AsmSm3Ctx(asm::sm3::Sm3);

impl HashContext for AsmSm3Ctx {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn fork_finish(&self) -> Output {
        Output::new(&self.0.fork_finish())
    }

    fn fork(&self) -> Box<dyn HashContext> {
        Box::new(self.clone())
    }

    fn finish(self: Box<Self>) -> Output {
        Output::new(&self.0.fork_finish())
    }
}

struct AsmSm2Signer(asm::sm2::SigningKey);

impl fmt::Debug for AsmSm2Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AsmSm2Signer({})", self.0.kernel().name())
    }
}

impl SigningKey for AsmSm2Signer {
    fn algorithm(&self) -> SignatureAlg {
        SignatureAlg::Sm2Sm3
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let (r, s) = with_entropy(|rng| self.0.sign(message, rng))?;
        Ok(crate::der::rs_signature(&r, &s))
    }

    fn public_key(&self) -> &[u8] {
        self.0.public_key()
    }
}

/// SM2 with the default ID, as the [`Verifier`] for [`SignatureAlg::Sm2Sm3`].
#[derive(Debug)]
struct Sm2Verifier;

impl Verifier for Sm2Verifier {
    fn algorithm(&self) -> SignatureAlg {
        SignatureAlg::Sm2Sm3
    }

    fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
        PROVIDER.sm2_verify(public_key, crate::sm2::DEFAULT_ID, message, signature)
    }
}

#[derive(Debug)]
struct Sm2Kx;

impl KeyExchange for Sm2Kx {
    fn algorithm(&self) -> KxAlg {
        KxAlg::CurveSm2
    }

    fn generate(&self) -> Result<Box<dyn EphemeralKey>, Error> {
        let (private, public) = with_entropy(asm::sm2::generate)?;
        Ok(Box::new(Sm2Ephemeral { private, public }))
    }

    fn agree_static(&self, private_key: &[u8], peer: &[u8]) -> Result<SharedSecret, Error> {
        agree(&*scalar32(private_key)?, peer)
    }
}

fn agree(d: &[u8; 32], peer: &[u8]) -> Result<SharedSecret, Error> {
    let x = asm::sm2::agree(d, peer).map_err(gm_error)?;
    Ok(Zeroizing::new(x.to_vec()))
}

struct Sm2Ephemeral {
    private: Zeroizing<[u8; 32]>,
    public: [u8; 65],
}

impl EphemeralKey for Sm2Ephemeral {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<SharedSecret, Error> {
        agree(&self.private, peer_public_key)
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
