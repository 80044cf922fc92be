//! The `rustcrypto` backend: pure Rust (RustCrypto's aes-gcm, chacha20poly1305, sha2, hmac,
//! hkdf, rsa, p256, p384, ed25519-dalek, x25519-dalek). Portable and memory-safe; the reference
//! the accelerated backends are checked against.

use core::fmt;
use core::marker::PhantomData;

use aes_gcm::aead::{AeadInOut, KeyInit};
use zeroize::Zeroizing;

use crate::backends::{Provider, fixed_scalar, hkdf_max_output};
use crate::keys::Material;
use crate::{
    AeadAlg, AeadKey, Algorithm, CipherAlg, CipherKey, EphemeralKey, Error, Hash, HashAlg,
    HashContext, Hkdf, HkdfPrk, Hmac, HmacKey, KeyExchange, KeyKind, KxAlg, Nonce, Output,
    PrivateKey, SecureRandom, SharedSecret, SignatureAlg, SigningKey, Tag, Verifier,
};

mod gm;

pub(crate) struct RustCrypto;
pub(crate) static PROVIDER: RustCrypto = RustCrypto;

impl Provider for RustCrypto {
    fn supports(&self, alg: Algorithm) -> bool {
        match alg {
            // RustCrypto's ml-kem crate is not wired in (yet).
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
        let bad = |_| Error::InvalidKey("AEAD key rejected");
        Ok(match alg {
            AeadAlg::Aes128Gcm => Box::new(RcAead {
                alg,
                cipher: aes_gcm::Aes128Gcm::new_from_slice(key).map_err(bad)?,
            }),
            AeadAlg::Aes256Gcm => Box::new(RcAead {
                alg,
                cipher: aes_gcm::Aes256Gcm::new_from_slice(key).map_err(bad)?,
            }),
            AeadAlg::ChaCha20Poly1305 => Box::new(RcAead {
                alg,
                cipher: chacha20poly1305::ChaCha20Poly1305::new_from_slice(key).map_err(bad)?,
            }),
            AeadAlg::Sm4Gcm | AeadAlg::Sm4Ccm => return gm::aead(alg, key),
        })
    }

    fn hash(&self, alg: HashAlg) -> Result<&'static dyn Hash, Error> {
        Ok(match alg {
            HashAlg::Sha256 => &SHA256,
            HashAlg::Sha384 => &SHA384,
            HashAlg::Sha512 => &SHA512,
            HashAlg::Sm3 => &SM3,
        })
    }

    fn hmac(&self, alg: HashAlg) -> Result<&'static dyn Hmac, Error> {
        Ok(match alg {
            HashAlg::Sha256 => &SHA256,
            HashAlg::Sha384 => &SHA384,
            HashAlg::Sha512 => &SHA512,
            HashAlg::Sm3 => &SM3,
        })
    }

    fn hkdf(&self, alg: HashAlg) -> Result<&'static dyn Hkdf, Error> {
        Ok(match alg {
            HashAlg::Sha256 => &SHA256,
            HashAlg::Sha384 => &SHA384,
            HashAlg::Sha512 => &SHA512,
            HashAlg::Sm3 => &SM3,
        })
    }

    fn signing_key(
        &self,
        alg: SignatureAlg,
        key: &PrivateKey,
    ) -> Result<Box<dyn SigningKey>, Error> {
        fn rejected<E>(_: E) -> Error {
            Error::InvalidKey("private key rejected by backend")
        }
        let inner = match key.material() {
            Material::Rsa { pkcs1, .. } => {
                use rsa::pkcs1::DecodeRsaPrivateKey;
                let key = rsa::PrivateKey::from_pkcs1_der(pkcs1).map_err(rejected)?;
                match alg {
                    SignatureAlg::RsaPkcs1Sha256 => {
                        RcSigner::Pkcs1Sha256(Box::new(rsa::pkcs1v15::SigningKey::new(key)))
                    }
                    SignatureAlg::RsaPkcs1Sha384 => {
                        RcSigner::Pkcs1Sha384(Box::new(rsa::pkcs1v15::SigningKey::new(key)))
                    }
                    SignatureAlg::RsaPkcs1Sha512 => {
                        RcSigner::Pkcs1Sha512(Box::new(rsa::pkcs1v15::SigningKey::new(key)))
                    }
                    SignatureAlg::RsaPssSha256 => {
                        RcSigner::PssSha256(Box::new(rsa::pss::SigningKey::new(key)))
                    }
                    SignatureAlg::RsaPssSha384 => {
                        RcSigner::PssSha384(Box::new(rsa::pss::SigningKey::new(key)))
                    }
                    SignatureAlg::RsaPssSha512 => {
                        RcSigner::PssSha512(Box::new(rsa::pss::SigningKey::new(key)))
                    }
                    _ => {
                        return Err(Error::InvalidKey(
                            "key kind does not match the signature scheme",
                        ));
                    }
                }
            }
            Material::Ec {
                kind: KeyKind::EcP256,
                scalar,
                ..
            } => RcSigner::P256(Box::new(
                p256::ecdsa::SigningKey::from_slice(scalar).map_err(rejected)?,
            )),
            Material::Ec {
                kind: KeyKind::EcP384,
                scalar,
                ..
            } => RcSigner::P384(Box::new(
                p384::ecdsa::SigningKey::from_slice(scalar).map_err(rejected)?,
            )),
            Material::Ec { .. } => return gm::signing_key(key, crate::sm2::DEFAULT_ID),
            Material::Ed25519 { seed, .. } => {
                RcSigner::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(seed)))
            }
        };
        Ok(Box::new(RcSigningKey {
            alg,
            inner,
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
            KxAlg::X25519 => &RcKx(KxAlg::X25519),
            KxAlg::P256 => &RcKx(KxAlg::P256),
            KxAlg::P384 => &RcKx(KxAlg::P384),
            KxAlg::CurveSm2 => &gm::Sm2Kx,
        })
    }

    fn random(&self) -> Result<&'static dyn SecureRandom, Error> {
        Ok(&RANDOM)
    }
}

struct RcAead<A> {
    alg: AeadAlg,
    cipher: A,
}

impl<A> fmt::Debug for RcAead<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aead")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl<A: AeadInOut + Send + Sync> AeadKey for RcAead<A> {
    fn algorithm(&self) -> AeadAlg {
        self.alg
    }

    fn seal_in_place_detached(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<Tag, Error> {
        let n =
            aes_gcm::aead::Nonce::<A>::try_from(&nonce.0[..]).map_err(|_| Error::InvalidLength)?;
        let tag = self
            .cipher
            .encrypt_inout_detached(&n, aad, in_out.into())
            .map_err(|_| Error::InvalidLength)?;
        let mut out = [0u8; crate::TAG_LEN];
        out.copy_from_slice(&tag);
        Ok(Tag(out))
    }

    fn open_in_place_detached(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
        tag: &Tag,
    ) -> Result<(), Error> {
        let n =
            aes_gcm::aead::Nonce::<A>::try_from(&nonce.0[..]).map_err(|_| Error::InvalidLength)?;
        let t = aes_gcm::aead::Tag::<A>::try_from(&tag.0[..]).map_err(|_| Error::InvalidLength)?;
        if self
            .cipher
            .decrypt_inout_detached(&n, aad, (&mut *in_out).into(), &t)
            .is_err()
        {
            in_out.fill(0);
            return Err(Error::DecryptFailed);
        }
        Ok(())
    }
}

/// One SHA-2 function (or SM3) as hash, HMAC and HKDF; `D` is the RustCrypto hash type.
struct Sha<D>(HashAlg, PhantomData<fn() -> D>);

static SHA256: Sha<sha2::Sha256> = Sha(HashAlg::Sha256, PhantomData);
static SHA384: Sha<sha2::Sha384> = Sha(HashAlg::Sha384, PhantomData);
static SHA512: Sha<sha2::Sha512> = Sha(HashAlg::Sha512, PhantomData);
static SM3: Sha<sm3::Sm3> = Sha(HashAlg::Sm3, PhantomData);

impl<D> fmt::Debug for Sha<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Sha").field(&self.0).finish()
    }
}

/// The bounds every sha2 hash type meets, gathered once.
trait ShaImpl: sha2::Digest + hmac::EagerHash + Clone + Send + Sync + 'static {}
impl<D: sha2::Digest + hmac::EagerHash + Clone + Send + Sync + 'static> ShaImpl for D {}

impl<D: ShaImpl> Hash for Sha<D>
where
    hmac::Hmac<D>: Send + Sync,
{
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn start(&self) -> Box<dyn HashContext> {
        Box::new(ShaContext(D::new()))
    }

    fn hash(&self, data: &[u8]) -> Output {
        Output::new(&D::digest(data))
    }
}

#[derive(Clone)]
struct ShaContext<D>(D);

impl<D: ShaImpl> HashContext for ShaContext<D> {
    fn update(&mut self, data: &[u8]) {
        sha2::Digest::update(&mut self.0, data);
    }

    fn fork_finish(&self) -> Output {
        Output::new(&self.0.clone().finalize())
    }

    fn fork(&self) -> Box<dyn HashContext> {
        Box::new(self.clone())
    }

    fn finish(self: Box<Self>) -> Output {
        Output::new(&self.0.finalize())
    }
}

impl<D: ShaImpl> Hmac for Sha<D>
where
    hmac::Hmac<D>: hmac::Mac + KeyInit + Clone + Send + Sync,
{
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn with_key(&self, key: &[u8]) -> Box<dyn HmacKey> {
        // HMAC takes keys of any length (RFC 2104 2), so this cannot fail.
        let mac =
            <hmac::Hmac<D> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
        Box::new(RcHmacKey(mac))
    }
}

struct RcHmacKey<M>(M);

impl<M: hmac::Mac + Clone + Send + Sync> HmacKey for RcHmacKey<M> {
    fn sign(&self, data: &[&[u8]]) -> Output {
        let mut mac = self.0.clone();
        for d in data {
            mac.update(d);
        }
        Output::new(&mac.finalize().into_bytes())
    }
}

impl<D: ShaImpl> Hkdf for Sha<D>
where
    hmac::Hmac<D>: hmac::Mac + KeyInit + Clone + Send + Sync,
    hkdf::Hkdf<D>: Send + Sync,
{
    fn algorithm(&self) -> HashAlg {
        self.0
    }

    fn extract(&self, salt: &[u8], ikm: &[u8]) -> Box<dyn HkdfPrk> {
        Box::new(RcPrk(
            hkdf::Hkdf::<D>::new(Some(salt), ikm),
            hkdf_max_output(self.0),
        ))
    }
}

struct RcPrk<H>(H, usize);

impl<D: ShaImpl> HkdfPrk for RcPrk<hkdf::Hkdf<D>>
where
    hkdf::Hkdf<D>: Send + Sync,
{
    fn expand(&self, info: &[&[u8]], out: &mut [u8]) -> Result<(), Error> {
        if out.len() > self.1 {
            return Err(Error::InvalidLength);
        }
        self.0
            .expand_multi_info(info, out)
            .map_err(|_| Error::InvalidLength)
    }
}

/// Each key in its own box, sized exactly for it: the keys wipe themselves on drop, but a
/// key moved into a larger enum and boxed with it brought stack bytes along in the unused
/// space (the zeroize test found a P-256 scalar's stack copy there), which nothing wipes.
enum RcSigner {
    Pkcs1Sha256(Box<rsa::pkcs1v15::SigningKey<sha2::Sha256>>),
    Pkcs1Sha384(Box<rsa::pkcs1v15::SigningKey<sha2::Sha384>>),
    Pkcs1Sha512(Box<rsa::pkcs1v15::SigningKey<sha2::Sha512>>),
    PssSha256(Box<rsa::pss::SigningKey<sha2::Sha256>>),
    PssSha384(Box<rsa::pss::SigningKey<sha2::Sha384>>),
    PssSha512(Box<rsa::pss::SigningKey<sha2::Sha512>>),
    P256(Box<p256::ecdsa::SigningKey>),
    P384(Box<p384::ecdsa::SigningKey>),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

struct RcSigningKey {
    alg: SignatureAlg,
    inner: RcSigner,
    public: Vec<u8>,
}

impl fmt::Debug for RcSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey for RcSigningKey {
    fn algorithm(&self) -> SignatureAlg {
        self.alg
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
        let failed = |_| Error::Backend("signing failed");
        let mut rng = getrandom::SysRng;
        let fixed = matches!(
            self.alg,
            SignatureAlg::EcdsaP256Sha256Fixed | SignatureAlg::EcdsaP384Sha384Fixed
        );
        Ok(match &self.inner {
            RcSigner::Pkcs1Sha256(k) => k.try_sign(message).map_err(failed)?.to_vec(),
            RcSigner::Pkcs1Sha384(k) => k.try_sign(message).map_err(failed)?.to_vec(),
            RcSigner::Pkcs1Sha512(k) => k.try_sign(message).map_err(failed)?.to_vec(),
            RcSigner::PssSha256(k) => k
                .try_sign_with_rng(&mut rng, message)
                .map_err(failed)?
                .to_vec(),
            RcSigner::PssSha384(k) => k
                .try_sign_with_rng(&mut rng, message)
                .map_err(failed)?
                .to_vec(),
            RcSigner::PssSha512(k) => k
                .try_sign_with_rng(&mut rng, message)
                .map_err(failed)?
                .to_vec(),
            RcSigner::P256(k) => {
                let sig: p256::ecdsa::Signature = k.try_sign(message).map_err(failed)?;
                if fixed {
                    sig.to_bytes().to_vec()
                } else {
                    sig.to_der().to_vec()
                }
            }
            RcSigner::P384(k) => {
                let sig: p384::ecdsa::Signature = k.try_sign(message).map_err(failed)?;
                if fixed {
                    sig.to_bytes().to_vec()
                } else {
                    sig.to_der().to_vec()
                }
            }
            RcSigner::Ed25519(k) => k.try_sign(message).map_err(failed)?.to_bytes().to_vec(),
        })
    }

    fn public_key(&self) -> &[u8] {
        &self.public
    }
}

struct RcVerifier(SignatureAlg);

impl fmt::Debug for RcVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Verifier").field(&self.0).finish()
    }
}

static VERIFIERS: [RcVerifier; 13] = [
    RcVerifier(SignatureAlg::RsaPkcs1Sha256),
    RcVerifier(SignatureAlg::RsaPkcs1Sha384),
    RcVerifier(SignatureAlg::RsaPkcs1Sha512),
    RcVerifier(SignatureAlg::RsaPssSha256),
    RcVerifier(SignatureAlg::RsaPssSha384),
    RcVerifier(SignatureAlg::RsaPssSha512),
    RcVerifier(SignatureAlg::EcdsaP256Sha256),
    RcVerifier(SignatureAlg::EcdsaP256Sha256Fixed),
    RcVerifier(SignatureAlg::EcdsaP384Sha384),
    RcVerifier(SignatureAlg::EcdsaP384Sha384Fixed),
    RcVerifier(SignatureAlg::EcdsaP256Sha384),
    RcVerifier(SignatureAlg::EcdsaP384Sha256),
    RcVerifier(SignatureAlg::Ed25519),
];

/// Parses an RSA public key, holding it to the same limits as ring (2048..=8192-bit modulus).
fn rsa_public(der: &[u8]) -> Result<rsa::PublicKey, Error> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::PublicKey::from_pkcs1_der(der).map_err(|_| Error::BadSignature)?;
    let bits = key.n().bit_width() as usize;
    if !crate::RSA_BITS.contains(&bits) {
        return Err(Error::BadSignature);
    }
    Ok(key)
}

impl Verifier for RcVerifier {
    fn algorithm(&self) -> SignatureAlg {
        self.0
    }

    fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
        use rsa::signature::Verifier as _;
        let bad = |_| Error::BadSignature;
        match self.0 {
            SignatureAlg::RsaPkcs1Sha256
            | SignatureAlg::RsaPkcs1Sha384
            | SignatureAlg::RsaPkcs1Sha512 => {
                let key = rsa_public(public_key)?;
                let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(bad)?;
                match self.0 {
                    SignatureAlg::RsaPkcs1Sha256 => {
                        rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key).verify(message, &sig)
                    }
                    SignatureAlg::RsaPkcs1Sha384 => {
                        rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(key).verify(message, &sig)
                    }
                    _ => {
                        rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(key).verify(message, &sig)
                    }
                }
                .map_err(bad)
            }
            SignatureAlg::RsaPssSha256
            | SignatureAlg::RsaPssSha384
            | SignatureAlg::RsaPssSha512 => {
                let key = rsa_public(public_key)?;
                let sig = rsa::pss::Signature::try_from(signature).map_err(bad)?;
                match self.0 {
                    SignatureAlg::RsaPssSha256 => {
                        rsa::pss::VerifyingKey::<sha2::Sha256>::new(key).verify(message, &sig)
                    }
                    SignatureAlg::RsaPssSha384 => {
                        rsa::pss::VerifyingKey::<sha2::Sha384>::new(key).verify(message, &sig)
                    }
                    _ => rsa::pss::VerifyingKey::<sha2::Sha512>::new(key).verify(message, &sig),
                }
                .map_err(bad)
            }
            SignatureAlg::EcdsaP256Sha256 | SignatureAlg::EcdsaP256Sha256Fixed => {
                uncompressed(public_key, 65)?;
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(bad)?;
                if self.0 == SignatureAlg::EcdsaP256Sha256 {
                    let sig = p256::ecdsa::DerSignature::try_from(signature).map_err(bad)?;
                    key.verify(message, &sig).map_err(bad)
                } else {
                    let sig = p256::ecdsa::Signature::from_slice(signature).map_err(bad)?;
                    key.verify(message, &sig).map_err(bad)
                }
            }
            SignatureAlg::EcdsaP384Sha384 | SignatureAlg::EcdsaP384Sha384Fixed => {
                uncompressed(public_key, 97)?;
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(bad)?;
                if self.0 == SignatureAlg::EcdsaP384Sha384 {
                    let sig = p384::ecdsa::DerSignature::try_from(signature).map_err(bad)?;
                    key.verify(message, &sig).map_err(bad)
                } else {
                    let sig = p384::ecdsa::Signature::from_slice(signature).map_err(bad)?;
                    key.verify(message, &sig).map_err(bad)
                }
            }
            // Mixed pairs: hash with the named hash, then verify the prehash (ECDSA truncates a
            // longer digest to the field size and uses a shorter one as is, SEC 1 4.1.4).
            SignatureAlg::EcdsaP256Sha384 => {
                use p256::ecdsa::signature::hazmat::PrehashVerifier;
                use sha2::Digest;
                uncompressed(public_key, 65)?;
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(bad)?;
                let sig = p256::ecdsa::DerSignature::try_from(signature).map_err(bad)?;
                let sig = p256::ecdsa::Signature::try_from(sig).map_err(bad)?;
                key.verify_prehash(&sha2::Sha384::digest(message), &sig)
                    .map_err(bad)
            }
            SignatureAlg::EcdsaP384Sha256 => {
                use p384::ecdsa::signature::hazmat::PrehashVerifier;
                use sha2::Digest;
                uncompressed(public_key, 97)?;
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(bad)?;
                let sig = p384::ecdsa::DerSignature::try_from(signature).map_err(bad)?;
                let sig = p384::ecdsa::Signature::try_from(sig).map_err(bad)?;
                key.verify_prehash(&sha2::Sha256::digest(message), &sig)
                    .map_err(bad)
            }
            SignatureAlg::Sm2Sm3 => gm::Sm2Verifier.verify(public_key, message, signature),
            SignatureAlg::Ed25519 => {
                let pk: &[u8; 32] = public_key.try_into().map_err(|_| Error::BadSignature)?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(pk).map_err(bad)?;
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(bad)?;
                key.verify(message, &sig).map_err(bad)
            }
        }
    }
}

/// TLS and ring accept only uncompressed points (RFC 8446 4.2.8.2); so do we, everywhere.
fn uncompressed(point: &[u8], len: usize) -> Result<(), Error> {
    if point.len() == len && point[0] == 4 {
        Ok(())
    } else {
        Err(Error::BadSignature)
    }
}

struct RcKx(KxAlg);

impl fmt::Debug for RcKx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Kx").field(&self.0).finish()
    }
}

impl KeyExchange for RcKx {
    fn algorithm(&self) -> KxAlg {
        self.0
    }

    fn generate(&self) -> Result<Box<dyn EphemeralKey>, Error> {
        let len = self.0.private_key_len();
        let mut private = Zeroizing::new(vec![0u8; len]);
        // For the NIST curves, redraw the (astronomically rare) scalars outside [1, n).
        loop {
            getrandom::fill(&mut private).map_err(|_| Error::RandomFailed)?;
            let public = match self.0 {
                KxAlg::X25519 => {
                    let bytes: [u8; 32] = private
                        .as_slice()
                        .try_into()
                        .map_err(|_| Error::InvalidLength)?;
                    let secret = x25519_dalek::StaticSecret::from(bytes);
                    Ok(x25519_dalek::PublicKey::from(&secret).as_bytes().to_vec())
                }
                KxAlg::P256 => crate::keys::ec_public_from_scalar(KeyKind::EcP256, &private),
                KxAlg::P384 => crate::keys::ec_public_from_scalar(KeyKind::EcP384, &private),
                KxAlg::CurveSm2 => return gm::Sm2Kx.generate(),
            };
            if let Ok(public) = public {
                return Ok(Box::new(RcEphemeral {
                    alg: self.0,
                    private,
                    public,
                }));
            }
        }
    }

    fn agree_static(
        &self,
        private_key: &[u8],
        peer_public_key: &[u8],
    ) -> Result<SharedSecret, Error> {
        let scalar = match self.0 {
            KxAlg::X25519 if private_key.len() != 32 => {
                return Err(Error::InvalidKey("X25519 private key must be 32 bytes"));
            }
            KxAlg::X25519 => Zeroizing::new(private_key.to_vec()),
            other => fixed_scalar(private_key, other.private_key_len())?,
        };
        agree(self.0, &scalar, peer_public_key)
    }
}

fn agree(alg: KxAlg, private: &[u8], peer: &[u8]) -> Result<SharedSecret, Error> {
    let bad_key = |_| Error::InvalidKey("private scalar out of range");
    match alg {
        KxAlg::X25519 => {
            let peer: [u8; 32] = peer.try_into().map_err(|_| Error::InvalidPeerKey)?;
            let bytes: [u8; 32] = private.try_into().map_err(|_| Error::InvalidLength)?;
            let secret = x25519_dalek::StaticSecret::from(bytes);
            let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
            // An all-zero result means a small-order peer key (RFC 7748 6.1): refuse it.
            if !shared.was_contributory() {
                return Err(Error::InvalidPeerKey);
            }
            Ok(Zeroizing::new(shared.as_bytes().to_vec()))
        }
        KxAlg::P256 => {
            uncompressed(peer, 65).map_err(|_| Error::InvalidPeerKey)?;
            let public =
                p256::PublicKey::from_sec1_bytes(peer).map_err(|_| Error::InvalidPeerKey)?;
            let secret = p256::SecretKey::from_slice(private).map_err(bad_key)?;
            let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
            Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
        }
        KxAlg::P384 => {
            uncompressed(peer, 97).map_err(|_| Error::InvalidPeerKey)?;
            let public =
                p384::PublicKey::from_sec1_bytes(peer).map_err(|_| Error::InvalidPeerKey)?;
            let secret = p384::SecretKey::from_slice(private).map_err(bad_key)?;
            let shared = p384::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
            Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
        }
        KxAlg::CurveSm2 => gm::agree(private, peer),
    }
}

struct RcEphemeral {
    alg: KxAlg,
    private: Zeroizing<Vec<u8>>,
    public: Vec<u8>,
}

impl EphemeralKey for RcEphemeral {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<SharedSecret, Error> {
        agree(self.alg, &self.private, peer_public_key)
    }
}

#[derive(Debug)]
struct Random;
static RANDOM: Random = Random;

impl SecureRandom for Random {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(dest).map_err(|_| Error::RandomFailed)
    }
}
