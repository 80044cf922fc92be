//! The `openssl` backend: the system OpenSSL 3 through the `openssl` crate (cargo feature
//! `openssl`). EVP cipher contexts are stateful, so each AEAD key keeps one initialized context
//! per direction behind a mutex: the key schedule is computed once, and a record-layer key is
//! used by one connection at a time, so the lock is uncontended.

use core::fmt;
use std::sync::Mutex;

use openssl::bn::{BigNum, BigNumContext};
use openssl::cipher::{Cipher, CipherRef};
use openssl::cipher_ctx::CipherCtx;
use openssl::ec::{EcGroup, EcKey, EcPoint, PointConversionForm};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::md::{Md, MdRef};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private, Public};
use openssl::pkey_ctx::{HkdfMode, PkeyCtx};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Signer, Verifier as OsslVerifier};
use zeroize::Zeroizing;

use crate::backends::{Provider, fixed_scalar, hkdf_max_output};
use crate::keys::Material;
use crate::{
    AeadAlg, AeadKey, Algorithm, CipherAlg, CipherKey, EphemeralKey, Error, Hash, HashAlg,
    HashContext, Hkdf, HkdfPrk, Hmac, HmacKey, KeyExchange, KxAlg, Nonce, Output, PrivateKey,
    SecureRandom, SharedSecret, SignatureAlg, SigningKey, Tag, Verifier,
};

mod gm;

pub(crate) struct OpenSsl;
pub(crate) static PROVIDER: OpenSsl = OpenSsl;

fn internal<E>(_: E) -> Error {
    Error::Backend("OpenSSL call failed")
}

impl Provider for OpenSsl {
    fn supports(&self, alg: Algorithm) -> bool {
        match alg {
            // OpenSSL 3.0 has SM4 in ECB/CBC/CTR/CFB/OFB only; GCM and CCM came in 3.2.
            Algorithm::Aead(AeadAlg::Sm4Gcm | AeadAlg::Sm4Ccm) => false,
            // ML-KEM is in OpenSSL 3.5, not 3.0.
            Algorithm::Kem(_) => false,
            Algorithm::Aead(_)
            | Algorithm::Hash(_)
            | Algorithm::Hmac(_)
            | Algorithm::Hkdf(_)
            | Algorithm::Signature(_)
            | Algorithm::Kx(_)
            | Algorithm::KxStatic(_)
            | Algorithm::Cipher(_)
            | Algorithm::Sm2Encryption
            | Algorithm::Random => true,
        }
    }

    fn cipher(&self, alg: CipherAlg, key: &[u8]) -> Result<Box<dyn CipherKey>, Error> {
        gm::cipher(alg, key)
    }

    fn sm2_signing_key(&self, key: &PrivateKey, id: &[u8]) -> Result<Box<dyn SigningKey>, Error> {
        gm::signing_key(key, id)
    }

    fn sm2_verify(&self, pk: &[u8], id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        gm::verify(pk, id, msg, sig)
    }

    fn sm2_encrypt(&self, pk: &[u8], msg: &[u8]) -> Result<Vec<u8>, Error> {
        gm::encrypt(pk, msg)
    }

    fn sm2_decrypt(&self, key: &PrivateKey, raw: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        gm::decrypt(key, raw)
    }

    fn aead(&self, alg: AeadAlg, key: &[u8]) -> Result<Box<dyn AeadKey>, Error> {
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
        let mut seal = CipherCtx::new().map_err(internal)?;
        seal.encrypt_init(Some(cipher), Some(key), None)
            .map_err(|_| Error::InvalidKey("AEAD key rejected"))?;
        let mut open = CipherCtx::new().map_err(internal)?;
        open.decrypt_init(Some(cipher), Some(key), None)
            .map_err(|_| Error::InvalidKey("AEAD key rejected"))?;
        Ok(Box::new(OsslAead {
            alg,
            cipher,
            seal: Mutex::new(seal),
            open: Mutex::new(open),
        }))
    }

    fn hash(&self, alg: HashAlg) -> Result<&'static dyn Hash, Error> {
        Ok(sha(alg))
    }

    fn hmac(&self, alg: HashAlg) -> Result<&'static dyn Hmac, Error> {
        Ok(sha(alg))
    }

    fn hkdf(&self, alg: HashAlg) -> Result<&'static dyn Hkdf, Error> {
        Ok(sha(alg))
    }

    fn signing_key(
        &self,
        alg: SignatureAlg,
        key: &PrivateKey,
    ) -> Result<Box<dyn SigningKey>, Error> {
        let rejected = |_| Error::InvalidKey("private key rejected by backend");
        let pkey = match key.material() {
            Material::Ed25519 { seed, .. } => {
                PKey::private_key_from_raw_bytes(seed.as_slice(), Id::ED25519)
            }
            other => PKey::private_key_from_der(match other {
                Material::Rsa { pkcs8, .. }
                | Material::Ec { pkcs8, .. }
                | Material::Ed25519 { pkcs8, .. } => pkcs8,
            }),
        }
        .map_err(rejected)?;
        Ok(Box::new(OsslSigningKey {
            alg,
            pkey,
            public: key.public_key().to_vec(),
        }))
    }

    fn verifier(&self, alg: SignatureAlg) -> Result<&'static dyn Verifier, Error> {
        if alg == SignatureAlg::Sm2Sm3 {
            return Ok(&gm::Sm2Verifier);
        }
        Ok(VERIFIERS
            .iter()
            .find(|v| v.0 == alg)
            .ok_or(Error::Backend("verifier table incomplete"))?)
    }

    fn kx(&self, alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
        Ok(match alg {
            KxAlg::X25519 => &OsslKx(KxAlg::X25519),
            KxAlg::P256 => &OsslKx(KxAlg::P256),
            KxAlg::P384 => &OsslKx(KxAlg::P384),
            KxAlg::CurveSm2 => &OsslKx(KxAlg::CurveSm2),
        })
    }

    fn random(&self) -> Result<&'static dyn SecureRandom, Error> {
        Ok(&RANDOM)
    }
}

struct OsslAead {
    alg: AeadAlg,
    cipher: &'static CipherRef,
    seal: Mutex<CipherCtx>,
    open: Mutex<CipherCtx>,
}

impl fmt::Debug for OsslAead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aead")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl AeadKey for OsslAead {
    fn algorithm(&self) -> AeadAlg {
        self.alg
    }

    fn seal_in_place_detached(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<Tag, Error> {
        let mut ctx = self.seal.lock().map_err(internal)?;
        debug_assert_eq!(self.cipher.iv_length(), crate::NONCE_LEN);
        ctx.encrypt_init(None, None, Some(&nonce.0))
            .map_err(internal)?;
        ctx.cipher_update(aad, None).map_err(internal)?;
        let len = in_out.len();
        ctx.cipher_update_inplace(in_out, len).map_err(internal)?;
        ctx.cipher_final(&mut []).map_err(internal)?;
        let mut tag = [0u8; crate::TAG_LEN];
        ctx.tag(&mut tag).map_err(internal)?;
        Ok(Tag(tag))
    }

    fn open_in_place_detached(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
        tag: &Tag,
    ) -> Result<(), Error> {
        let mut ctx = self.open.lock().map_err(internal)?;
        let len = in_out.len();
        let ok = ctx.decrypt_init(None, None, Some(&nonce.0)).is_ok()
            && ctx.cipher_update(aad, None).is_ok()
            && ctx.cipher_update_inplace(in_out, len).is_ok()
            && ctx.set_tag(&tag.0).is_ok()
            && ctx.cipher_final(&mut []).is_ok();
        if !ok {
            in_out.fill(0);
            return Err(Error::DecryptFailed);
        }
        Ok(())
    }
}

/// One SHA-2 function as hash, HMAC and HKDF.
struct Sha(HashAlg);

static SHA256: Sha = Sha(HashAlg::Sha256);
static SHA384: Sha = Sha(HashAlg::Sha384);
static SHA512: Sha = Sha(HashAlg::Sha512);
static SM3: Sha = Sha(HashAlg::Sm3);

fn sha(alg: HashAlg) -> &'static Sha {
    match alg {
        HashAlg::Sha256 => &SHA256,
        HashAlg::Sha384 => &SHA384,
        HashAlg::Sha512 => &SHA512,
        HashAlg::Sm3 => &SM3,
    }
}

impl Sha {
    fn md(&self) -> &'static MdRef {
        match self.0 {
            HashAlg::Sha256 => Md::sha256(),
            HashAlg::Sha384 => Md::sha384(),
            HashAlg::Sha512 => Md::sha512(),
            HashAlg::Sm3 => Md::sm3(),
        }
    }

    fn message_digest(&self) -> MessageDigest {
        message_digest(self.0)
    }
}

fn message_digest(alg: HashAlg) -> MessageDigest {
    match alg {
        HashAlg::Sha256 => MessageDigest::sha256(),
        HashAlg::Sha384 => MessageDigest::sha384(),
        HashAlg::Sha512 => MessageDigest::sha512(),
        HashAlg::Sm3 => MessageDigest::sm3(),
    }
}

impl fmt::Debug for Sha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Sha").field(&self.0).finish()
    }
}

/// The stack-allocated `openssl::sha` contexts (no allocation per hash); SM3 has only the
/// EVP interface, whose context is heap-allocated by OpenSSL.
#[derive(Clone)]
enum ShaCtx {
    Sha256(openssl::sha::Sha256),
    Sha384(openssl::sha::Sha384),
    Sha512(openssl::sha::Sha512),
    Sm3(Option<openssl::hash::Hasher>),
}

impl Hash for Sha {
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn start(&self) -> Box<dyn HashContext> {
        Box::new(match self.0 {
            HashAlg::Sha256 => ShaCtx::Sha256(openssl::sha::Sha256::new()),
            HashAlg::Sha384 => ShaCtx::Sha384(openssl::sha::Sha384::new()),
            HashAlg::Sha512 => ShaCtx::Sha512(openssl::sha::Sha512::new()),
            // A failure here (out of memory) surfaces as an all-zero digest from finish,
            // which no test vector matches; the trait has no error path for hashing.
            HashAlg::Sm3 => ShaCtx::Sm3(openssl::hash::Hasher::new(MessageDigest::sm3()).ok()),
        })
    }

    fn hash(&self, data: &[u8]) -> Output {
        match self.0 {
            HashAlg::Sha256 => Output::new(&openssl::sha::sha256(data)),
            HashAlg::Sha384 => Output::new(&openssl::sha::sha384(data)),
            HashAlg::Sha512 => Output::new(&openssl::sha::sha512(data)),
            HashAlg::Sm3 => match openssl::hash::hash(MessageDigest::sm3(), data) {
                Ok(d) => Output::new(&d),
                Err(_) => Output::new(&[0; 32]),
            },
        }
    }
}

impl HashContext for ShaCtx {
    fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(c) => c.update(data),
            Self::Sha384(c) => c.update(data),
            Self::Sha512(c) => c.update(data),
            Self::Sm3(c) => {
                if let Some(h) = c
                    && h.update(data).is_err()
                {
                    *c = None;
                }
            }
        }
    }

    fn fork_finish(&self) -> Output {
        Box::new(self.clone()).finish()
    }

    fn fork(&self) -> Box<dyn HashContext> {
        Box::new(self.clone())
    }

    fn finish(self: Box<Self>) -> Output {
        match *self {
            Self::Sha256(c) => Output::new(&c.finish()),
            Self::Sha384(c) => Output::new(&c.finish()),
            Self::Sha512(c) => Output::new(&c.finish()),
            Self::Sm3(c) => match c.and_then(|mut h| h.finish().ok()) {
                Some(d) => Output::new(&d),
                None => Output::new(&[0; 32]),
            },
        }
    }
}

impl Hmac for Sha {
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn with_key(&self, key: &[u8]) -> Box<dyn HmacKey> {
        // OpenSSL refuses empty HMAC keys. HMAC zero-pads the key to the block size (RFC 2104 2),
        // so the empty key and the one-byte key 0x00 are the same key.
        let key = if key.is_empty() { &[0u8][..] } else { key };
        match PKey::hmac(key) {
            Ok(key) => Box::new(OsslHmacKey {
                md: self.message_digest(),
                key,
            }),
            Err(_) => panic!("OpenSSL could not allocate an HMAC key (out of memory)"),
        }
    }
}

struct OsslHmacKey {
    md: MessageDigest,
    key: PKey<Private>,
}

impl HmacKey for OsslHmacKey {
    fn sign(&self, data: &[&[u8]]) -> Output {
        let tag = Signer::new(self.md, &self.key).and_then(|mut signer| {
            for d in data {
                signer.update(d)?;
            }
            signer.sign_to_vec()
        });
        match tag {
            Ok(tag) => Output::new(&tag),
            // HMAC is defined for every input; OpenSSL fails here only when out of memory.
            Err(_) => panic!("OpenSSL HMAC failed (out of memory)"),
        }
    }
}

impl Hkdf for Sha {
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn extract(&self, salt: &[u8], ikm: &[u8]) -> Box<dyn HkdfPrk> {
        // HKDF-Extract is HMAC(salt, ikm) (RFC 5869 2.2); an empty salt is a zero-length key,
        // which HMAC pads exactly as it pads HashLen zeros.
        let prk = self.with_key(salt).sign(&[ikm]);
        Box::new(OsslPrk {
            md: self.md(),
            prk: Zeroizing::new(prk.as_ref().to_vec()),
            max: hkdf_max_output(self.0),
        })
    }
}

struct OsslPrk {
    md: &'static MdRef,
    prk: Zeroizing<Vec<u8>>,
    max: usize,
}

impl HkdfPrk for OsslPrk {
    fn expand(&self, info: &[&[u8]], out: &mut [u8]) -> Result<(), Error> {
        if out.len() > self.max {
            return Err(Error::InvalidLength);
        }
        if out.is_empty() {
            return Ok(());
        }
        let mut ctx = PkeyCtx::new_id(Id::HKDF).map_err(internal)?;
        ctx.derive_init().map_err(internal)?;
        ctx.set_hkdf_md(self.md).map_err(internal)?;
        ctx.set_hkdf_mode(HkdfMode::EXPAND_ONLY).map_err(internal)?;
        ctx.set_hkdf_key(&self.prk).map_err(internal)?;
        // OpenSSL keeps one info buffer (1024 bytes in 3.0); join the pieces ourselves.
        let joined: Vec<u8> = info.concat();
        if !joined.is_empty() {
            ctx.add_hkdf_info(&joined)
                .map_err(|_| Error::InvalidLength)?;
        }
        ctx.derive(Some(out)).map_err(internal)?;
        Ok(())
    }
}

struct OsslSigningKey {
    alg: SignatureAlg,
    pkey: PKey<Private>,
    public: Vec<u8>,
}

impl fmt::Debug for OsslSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Sets PKCS#1 v1.5 or PSS (MGF1 with the same hash, salt = hash length) on a signer/verifier.
macro_rules! rsa_padding {
    ($ctx:expr, $alg:expr) => {{
        let pss = matches!(
            $alg,
            SignatureAlg::RsaPssSha256 | SignatureAlg::RsaPssSha384 | SignatureAlg::RsaPssSha512
        );
        if pss {
            $ctx.set_rsa_padding(Padding::PKCS1_PSS).map_err(internal)?;
            $ctx.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)
                .map_err(internal)?;
            $ctx.set_rsa_mgf1_md(message_digest($alg.hash()))
                .map_err(internal)?;
        } else {
            $ctx.set_rsa_padding(Padding::PKCS1).map_err(internal)?;
        }
    }};
}

fn is_rsa(alg: SignatureAlg) -> bool {
    alg.key_kind() == crate::KeyKind::Rsa
}

fn fixed_len(alg: SignatureAlg) -> Option<i32> {
    match alg {
        SignatureAlg::EcdsaP256Sha256Fixed => Some(32),
        SignatureAlg::EcdsaP384Sha384Fixed => Some(48),
        _ => None,
    }
}

impl SigningKey for OsslSigningKey {
    fn algorithm(&self) -> SignatureAlg {
        self.alg
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let mut signer = if self.alg == SignatureAlg::Ed25519 {
            Signer::new_without_digest(&self.pkey)
        } else {
            Signer::new(message_digest(self.alg.hash()), &self.pkey)
        }
        .map_err(internal)?;
        if is_rsa(self.alg) {
            rsa_padding!(signer, self.alg);
        }
        let sig = signer.sign_oneshot_to_vec(message).map_err(internal)?;
        match fixed_len(self.alg) {
            Some(len) => {
                let sig = EcdsaSig::from_der(&sig).map_err(internal)?;
                let mut out = sig.r().to_vec_padded(len).map_err(internal)?;
                out.extend_from_slice(&sig.s().to_vec_padded(len).map_err(internal)?);
                Ok(out)
            }
            None => Ok(sig),
        }
    }

    fn public_key(&self) -> &[u8] {
        &self.public
    }
}

struct OsslVerifierImpl(SignatureAlg);

impl fmt::Debug for OsslVerifierImpl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Verifier").field(&self.0).finish()
    }
}

static VERIFIERS: [OsslVerifierImpl; 13] = [
    OsslVerifierImpl(SignatureAlg::RsaPkcs1Sha256),
    OsslVerifierImpl(SignatureAlg::RsaPkcs1Sha384),
    OsslVerifierImpl(SignatureAlg::RsaPkcs1Sha512),
    OsslVerifierImpl(SignatureAlg::RsaPssSha256),
    OsslVerifierImpl(SignatureAlg::RsaPssSha384),
    OsslVerifierImpl(SignatureAlg::RsaPssSha512),
    OsslVerifierImpl(SignatureAlg::EcdsaP256Sha256),
    OsslVerifierImpl(SignatureAlg::EcdsaP256Sha256Fixed),
    OsslVerifierImpl(SignatureAlg::EcdsaP384Sha384),
    OsslVerifierImpl(SignatureAlg::EcdsaP384Sha384Fixed),
    OsslVerifierImpl(SignatureAlg::EcdsaP256Sha384),
    OsslVerifierImpl(SignatureAlg::EcdsaP384Sha256),
    OsslVerifierImpl(SignatureAlg::Ed25519),
];

fn curve(alg: KxAlg) -> Result<EcGroup, Error> {
    EcGroup::from_curve_name(match alg {
        KxAlg::P384 => Nid::SECP384R1,
        KxAlg::CurveSm2 => Nid::SM2,
        _ => Nid::X9_62_PRIME256V1,
    })
    .map_err(internal)
}

/// Parses an uncompressed point on `group` (OpenSSL checks it is on the curve).
fn ec_public(group: &EcGroup, point: &[u8], len: usize) -> Option<PKey<Public>> {
    if point.len() != len || point[0] != 4 {
        return None;
    }
    let mut ctx = BigNumContext::new().ok()?;
    let p = EcPoint::from_bytes(group, point, &mut ctx).ok()?;
    let key = EcKey::from_public_key(group, &p).ok()?;
    key.check_key().ok()?;
    PKey::from_ec_key(key).ok()
}

impl Verifier for OsslVerifierImpl {
    fn algorithm(&self) -> SignatureAlg {
        self.0
    }

    fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
        let alg = self.0;
        let pkey: PKey<Public> = match alg.key_kind() {
            crate::KeyKind::Rsa => {
                let rsa =
                    Rsa::public_key_from_der_pkcs1(public_key).map_err(|_| Error::BadSignature)?;
                let bits = rsa.n().num_bits() as usize;
                if !crate::RSA_BITS.contains(&bits) {
                    return Err(Error::BadSignature);
                }
                PKey::from_rsa(rsa).map_err(internal)?
            }
            crate::KeyKind::EcP256 => {
                ec_public(&curve(KxAlg::P256)?, public_key, 65).ok_or(Error::BadSignature)?
            }
            crate::KeyKind::EcP384 => {
                ec_public(&curve(KxAlg::P384)?, public_key, 97).ok_or(Error::BadSignature)?
            }
            crate::KeyKind::Ed25519 => PKey::public_key_from_raw_bytes(public_key, Id::ED25519)
                .map_err(|_| Error::BadSignature)?,
            crate::KeyKind::Sm2 => return gm::Sm2Verifier.verify(public_key, message, signature),
        };
        // Fixed-size ECDSA signatures are re-encoded as DER for OpenSSL.
        let der;
        let signature = match fixed_len(alg) {
            Some(len) => {
                if signature.len() != 2 * len as usize {
                    return Err(Error::BadSignature);
                }
                let (r, s) = signature.split_at(len as usize);
                let sig = EcdsaSig::from_private_components(
                    BigNum::from_slice(r).map_err(internal)?,
                    BigNum::from_slice(s).map_err(internal)?,
                )
                .map_err(internal)?;
                der = sig.to_der().map_err(internal)?;
                &der[..]
            }
            None => signature,
        };
        let mut verifier = if alg == SignatureAlg::Ed25519 {
            OsslVerifier::new_without_digest(&pkey)
        } else {
            OsslVerifier::new(message_digest(alg.hash()), &pkey)
        }
        .map_err(internal)?;
        if is_rsa(alg) {
            rsa_padding!(verifier, alg);
        }
        match verifier.verify_oneshot(signature, message) {
            Ok(true) => Ok(()),
            _ => Err(Error::BadSignature),
        }
    }
}

struct OsslKx(KxAlg);

impl fmt::Debug for OsslKx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Kx").field(&self.0).finish()
    }
}

impl KeyExchange for OsslKx {
    fn algorithm(&self) -> KxAlg {
        self.0
    }

    fn generate(&self) -> Result<Box<dyn EphemeralKey>, Error> {
        let (pkey, public) = match self.0 {
            KxAlg::X25519 => {
                let pkey = PKey::generate_x25519().map_err(|_| Error::RandomFailed)?;
                let public = pkey.raw_public_key().map_err(internal)?;
                (pkey, public)
            }
            alg => {
                let group = curve(alg)?;
                let key = EcKey::generate(&group).map_err(|_| Error::RandomFailed)?;
                let mut ctx = BigNumContext::new().map_err(internal)?;
                let public = key
                    .public_key()
                    .to_bytes(&group, PointConversionForm::UNCOMPRESSED, &mut ctx)
                    .map_err(internal)?;
                (PKey::from_ec_key(key).map_err(internal)?, public)
            }
        };
        Ok(Box::new(OsslEphemeral {
            alg: self.0,
            pkey,
            public,
        }))
    }

    fn agree_static(
        &self,
        private_key: &[u8],
        peer_public_key: &[u8],
    ) -> Result<SharedSecret, Error> {
        let pkey = match self.0 {
            KxAlg::X25519 => {
                if private_key.len() != 32 {
                    return Err(Error::InvalidKey("X25519 private key must be 32 bytes"));
                }
                PKey::private_key_from_raw_bytes(private_key, Id::X25519).map_err(internal)?
            }
            alg => {
                let scalar = fixed_scalar(private_key, alg.private_key_len())?;
                let group = curve(alg)?;
                let mut ctx = BigNumContext::new().map_err(internal)?;
                let d = BigNum::from_slice(&scalar).map_err(internal)?;
                let mut order = BigNum::new().map_err(internal)?;
                group.order(&mut order, &mut ctx).map_err(internal)?;
                if d.num_bits() == 0 || d >= order {
                    return Err(Error::InvalidKey("private scalar out of range"));
                }
                let mut q = EcPoint::new(&group).map_err(internal)?;
                q.mul_generator2(&group, &d, &mut ctx).map_err(internal)?;
                let key = EcKey::from_private_components(&group, &d, &q).map_err(internal)?;
                PKey::from_ec_key(key).map_err(internal)?
            }
        };
        derive(self.0, &pkey, peer_public_key)
    }
}

fn derive(alg: KxAlg, ours: &PKey<Private>, peer: &[u8]) -> Result<SharedSecret, Error> {
    if alg == KxAlg::CurveSm2 {
        return sm2_ecdh(ours, peer);
    }
    let peer = match alg {
        KxAlg::X25519 => {
            PKey::public_key_from_raw_bytes(peer, Id::X25519).map_err(|_| Error::InvalidPeerKey)?
        }
        alg => ec_public(&curve(alg)?, peer, alg.public_key_len()).ok_or(Error::InvalidPeerKey)?,
    };
    let mut deriver = openssl::derive::Deriver::new(ours).map_err(internal)?;
    deriver.set_peer(&peer).map_err(|_| Error::InvalidPeerKey)?;
    let secret = Zeroizing::new(deriver.derive_to_vec().map_err(|_| Error::InvalidPeerKey)?);
    // X25519 with a small-order peer gives all zeros (RFC 7748 6.1): refuse it everywhere.
    if alg == KxAlg::X25519 && secret.iter().all(|&b| b == 0) {
        return Err(Error::InvalidPeerKey);
    }
    Ok(secret)
}

/// ECDH on curveSM2. OpenSSL 3.0 moves SM2-curve keys to its SM2 key manager, which has no
/// key-exchange operation, so the shared point is computed with `EC_POINT_mul` (OpenSSL's
/// Montgomery ladder for a secret scalar on a generic curve) and its x-coordinate returned.
fn sm2_ecdh(ours: &PKey<Private>, peer: &[u8]) -> Result<SharedSecret, Error> {
    let group = curve(KxAlg::CurveSm2)?;
    let peer = ec_public(&group, peer, 65).ok_or(Error::InvalidPeerKey)?;
    let peer = peer.ec_key().map_err(internal)?;
    let ours = ours.ec_key().map_err(internal)?;
    let mut ctx = BigNumContext::new().map_err(internal)?;
    let mut shared = EcPoint::new(&group).map_err(internal)?;
    shared
        .mul2(&group, peer.public_key(), ours.private_key(), &mut ctx)
        .map_err(internal)?;
    if shared.is_infinity(&group) {
        return Err(Error::InvalidPeerKey);
    }
    let mut x = BigNum::new().map_err(internal)?;
    let mut y = BigNum::new().map_err(internal)?;
    shared
        .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
        .map_err(internal)?;
    Ok(Zeroizing::new(x.to_vec_padded(32).map_err(internal)?))
}

struct OsslEphemeral {
    alg: KxAlg,
    pkey: PKey<Private>,
    public: Vec<u8>,
}

impl EphemeralKey for OsslEphemeral {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<SharedSecret, Error> {
        derive(self.alg, &self.pkey, peer_public_key)
    }
}

#[derive(Debug)]
struct Random;
static RANDOM: Random = Random;

impl SecureRandom for Random {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        openssl::rand::rand_bytes(dest).map_err(|_| Error::RandomFailed)
    }
}
