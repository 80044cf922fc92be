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

use core::fmt;

use libsm::sm2::ecc::EccCtx;
use libsm::sm2::encrypt::{DecryptCtx, EncryptCtx};
use libsm::sm2::signature::{SigCtx, Signature};
use libsm::sm3::hash::Sm3Hash;
use libsm::sm4::cipher::Sm4Cipher;
use libsm::sm4::{Cipher as Sm4Mode, Mode};
use zeroize::Zeroizing;

use crate::backends::generic::HmacOver;
use crate::backends::{Provider, fixed_scalar};
use crate::keys::Material;
use crate::{
    AeadAlg, AeadKey, Algorithm, CipherAlg, CipherKey, EphemeralKey, Error, Hash, HashAlg,
    HashContext, Hkdf, Hmac, KeyExchange, KxAlg, Output, PrivateKey, SecureRandom, SharedSecret,
    SignatureAlg, SigningKey, Verifier, sm2,
};

pub(crate) struct Libsm;
pub(crate) static PROVIDER: Libsm = Libsm;

static SM3: LibsmSm3 = LibsmSm3;
static HMAC_SM3: HmacOver = HmacOver(&SM3);
static VERIFIER: LibsmVerifier = LibsmVerifier;
static KX: LibsmKx = LibsmKx;

impl Provider for Libsm {
    fn supports(&self, alg: Algorithm) -> bool {
        match alg {
            Algorithm::Hash(h) | Algorithm::Hmac(h) | Algorithm::Hkdf(h) => h == HashAlg::Sm3,
            Algorithm::Signature(s) => s == SignatureAlg::Sm2Sm3,
            Algorithm::Kx(k) | Algorithm::KxStatic(k) => k == KxAlg::CurveSm2,
            Algorithm::Cipher(_) | Algorithm::Sm2Encryption => true,
            Algorithm::Aead(_) | Algorithm::Random | Algorithm::Kem(_) => false,
        }
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
        Ok(Box::new(LibsmSm4 {
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
        Ok(Box::new(LibsmSigner {
            ctx,
            id: id.to_owned(),
            scalar: scalar.clone(),
            point,
            public: public.clone(),
        }))
    }

    fn sm2_verify(&self, pk: &[u8], id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        let id = utf8_id(id)?;
        if !canonical(pk) {
            return Err(Error::BadSignature);
        }
        let ctx = SigCtx::new();
        let point = ctx.load_pubkey(pk).map_err(|_| Error::BadSignature)?;
        let sig = Signature::der_decode(sig).map_err(|_| Error::BadSignature)?;
        let e = ctx.hash(id, &point, msg).map_err(|_| Error::BadSignature)?;
        match ctx.verify_raw(&e, &point, &sig) {
            Ok(true) => Ok(()),
            _ => Err(Error::BadSignature),
        }
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

/// curveSM2's field prime p (GB/T 32918.5), big-endian.
const P: [u8; 32] = [
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
];

/// Whether `point` is `04 || x || y` with x, y < p. libsm reduces coordinates itself, so a
/// non-canonical encoding (x + p) would otherwise be taken for the same point; the other
/// backends refuse it, and so does this one.
fn canonical(point: &[u8]) -> bool {
    point.len() == 65 && point[0] == 4 && point[1..33] < P[..] && point[33..] < P[..]
}

/// libsm takes user IDs as `&str`.
fn utf8_id(id: &[u8]) -> Result<&str, Error> {
    core::str::from_utf8(id)
        .map_err(|_| Error::InvalidInput("the libsm backend takes only UTF-8 SM2 user IDs"))
}

#[derive(Debug)]
struct LibsmSm3;

impl Hash for LibsmSm3 {
    fn algorithm(&self) -> HashAlg {
        HashAlg::Sm3
    }

    fn start(&self) -> Box<dyn HashContext> {
        Box::new(BufferedSm3(Vec::new()))
    }

    fn hash(&self, data: &[u8]) -> Output {
        Output::new(&Sm3Hash::new(data).get_hash())
    }
}

/// libsm's SM3 is one-shot: keep everything until the digest is asked for. HMAC keys pass
/// through here, so the buffer is zeroized.
#[derive(Clone)]
struct BufferedSm3(Vec<u8>);

impl Drop for BufferedSm3 {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl HashContext for BufferedSm3 {
    fn update(&mut self, data: &[u8]) {
        self.0.extend_from_slice(data);
    }

    fn fork_finish(&self) -> Output {
        Output::new(&Sm3Hash::new(&self.0).get_hash())
    }

    fn fork(&self) -> Box<dyn HashContext> {
        Box::new(self.clone())
    }

    fn finish(self: Box<Self>) -> Output {
        self.fork_finish()
    }
}

struct LibsmSm4 {
    alg: CipherAlg,
    block: Sm4Cipher,
    mode: Option<Sm4Mode>,
}

impl fmt::Debug for LibsmSm4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LibsmSm4")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn sm4_failed<E>(_: E) -> Error {
    Error::Backend("libsm SM4 failed")
}

impl LibsmSm4 {
    fn mode(&self) -> Result<&Sm4Mode, Error> {
        self.mode.as_ref().ok_or(Error::Backend("mode missing"))
    }
}

impl CipherKey for LibsmSm4 {
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

struct LibsmSigner {
    ctx: SigCtx,
    id: String,
    scalar: Zeroizing<Vec<u8>>,
    point: libsm::sm2::ecc::Point,
    public: Vec<u8>,
}

impl fmt::Debug for LibsmSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LibsmSigner")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SigningKey for LibsmSigner {
    fn algorithm(&self) -> SignatureAlg {
        SignatureAlg::Sm2Sm3
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |_| Error::Backend("libsm SM2 signing failed");
        let e = self
            .ctx
            .hash(&self.id, &self.point, message)
            .map_err(failed)?;
        let sk = self
            .ctx
            .load_seckey(&self.scalar)
            .map_err(|_| Error::InvalidKey("SM2 private key rejected by libsm"))?;
        Ok(self.ctx.sign_raw(&e, &sk).map_err(failed)?.der_encode())
    }

    fn public_key(&self) -> &[u8] {
        &self.public
    }
}

#[derive(Debug)]
struct LibsmVerifier;

impl Verifier for LibsmVerifier {
    fn algorithm(&self) -> SignatureAlg {
        SignatureAlg::Sm2Sm3
    }

    fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
        if public_key.len() != 65 || public_key[0] != 4 {
            return Err(Error::BadSignature);
        }
        PROVIDER.sm2_verify(public_key, sm2::DEFAULT_ID, message, signature)
    }
}

#[derive(Debug)]
struct LibsmKx;

impl KeyExchange for LibsmKx {
    fn algorithm(&self) -> KxAlg {
        KxAlg::CurveSm2
    }

    fn generate(&self) -> Result<Box<dyn EphemeralKey>, Error> {
        let ctx = SigCtx::new();
        let failed = |_| Error::Backend("libsm key generation failed");
        let (point, sk) = ctx.new_keypair().map_err(failed)?;
        let public = ctx.serialize_pubkey(&point, false).map_err(failed)?;
        let private = Zeroizing::new(ctx.serialize_seckey(&sk).map_err(failed)?);
        Ok(Box::new(LibsmEphemeral { private, public }))
    }

    fn agree_static(&self, private_key: &[u8], peer: &[u8]) -> Result<SharedSecret, Error> {
        agree(&fixed_scalar(private_key, 32)?, peer)
    }
}

fn agree(private: &[u8], peer: &[u8]) -> Result<SharedSecret, Error> {
    if !crate::backends::scalar_in_range(private, &sm2::ORDER) {
        return Err(Error::InvalidKey("private scalar out of range"));
    }
    if !canonical(peer) {
        return Err(Error::InvalidPeerKey);
    }
    let curve = EccCtx::new();
    let point = curve
        .bytes_to_point(peer)
        .map_err(|_| Error::InvalidPeerKey)?;
    let sk = SigCtx::new()
        .load_seckey(private)
        .map_err(|_| Error::InvalidKey("private scalar out of range"))?;
    let shared = curve.mul(&sk, &point).map_err(|_| Error::InvalidPeerKey)?;
    if shared.is_zero() {
        return Err(Error::InvalidPeerKey);
    }
    let (x, _) = curve
        .to_affine(&shared)
        .map_err(|_| Error::InvalidPeerKey)?;
    Ok(Zeroizing::new(x.to_bytes()))
}

struct LibsmEphemeral {
    private: Zeroizing<Vec<u8>>,
    public: Vec<u8>,
}

impl EphemeralKey for LibsmEphemeral {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<SharedSecret, Error> {
        agree(&self.private, peer_public_key)
    }
}
