//! The parts of the ring and aws-lc-rs backends that are the same code over the same API:
//! aws-lc-rs mirrors ring's interface. The parent module names the library as `lib` and
//! supplies the few functions whose signatures differ (`ecdsa_from_pkcs8`, `agree_ephemeral`,
//! `agree_static`, `open_detached`, `rsa_modulus_len`).

use core::fmt;

use super::lib;
use super::{agree_ephemeral, agree_static, ecdsa_from_pkcs8, open_detached, rsa_modulus_len};
use crate::backends::{Provider, fixed_scalar, hkdf_max_output};
use crate::keys::Material;
use crate::{
    AeadAlg, AeadKey, Algorithm, Backend, EphemeralKey, Error, Hash, HashAlg, HashContext, Hkdf,
    HkdfPrk, Hmac, HmacKey, KeyExchange, KxAlg, Nonce, Output, PrivateKey, SecureRandom,
    SharedSecret, SignatureAlg, SigningKey, Tag, Verifier,
};

/// A ring-API backend.
pub(crate) struct RingLike {
    pub(crate) backend: Backend,
    /// Whether the library can import a private key for key agreement.
    pub(crate) static_kx: bool,
    /// The library's KEMs (aws-lc-rs only).
    pub(crate) kem: Option<&'static dyn crate::Kem>,
}

impl RingLike {
    fn unsupported(&self, alg: Algorithm) -> Error {
        Error::Unsupported {
            alg,
            backend: self.backend,
        }
    }
}

impl Provider for RingLike {
    fn kem(&self, alg: crate::KemAlg) -> Result<&'static dyn crate::Kem, Error> {
        self.kem
            .filter(|k| k.algorithm() == alg)
            .ok_or_else(|| self.unsupported(Algorithm::Kem(alg)))
    }

    fn supports(&self, alg: Algorithm) -> bool {
        match alg {
            // GM algorithms are in neither ring nor aws-lc-rs.
            _ if alg.is_gm() => false,
            Algorithm::KxStatic(_) => self.static_kx,
            Algorithm::Kem(k) => self.kem.is_some_and(|x| x.algorithm() == k),
            Algorithm::Cipher(_) | Algorithm::Sm2Encryption => false,
            Algorithm::Aead(_)
            | Algorithm::Hash(_)
            | Algorithm::Hmac(_)
            | Algorithm::Hkdf(_)
            | Algorithm::Signature(_)
            | Algorithm::Kx(_)
            | Algorithm::Random => true,
        }
    }

    fn aead(&self, alg: AeadAlg, key: &[u8]) -> Result<Box<dyn AeadKey>, Error> {
        let algorithm = match alg {
            AeadAlg::Aes128Gcm => &lib::aead::AES_128_GCM,
            AeadAlg::Aes256Gcm => &lib::aead::AES_256_GCM,
            AeadAlg::ChaCha20Poly1305 => &lib::aead::CHACHA20_POLY1305,
            AeadAlg::Sm4Gcm | AeadAlg::Sm4Ccm => return Err(self.unsupported(Algorithm::Aead(alg))),
        };
        let unbound = lib::aead::UnboundKey::new(algorithm, key)
            .map_err(|_| Error::InvalidKey("AEAD key rejected"))?;
        Ok(Box::new(Aead {
            alg,
            key: lib::aead::LessSafeKey::new(unbound),
        }))
    }

    fn hash(&self, alg: HashAlg) -> Result<&'static dyn Hash, Error> {
        Ok(match alg {
            HashAlg::Sha256 => &SHA256,
            HashAlg::Sha384 => &SHA384,
            HashAlg::Sha512 => &SHA512,
            HashAlg::Sm3 => return Err(self.unsupported(Algorithm::Hash(alg))),
        })
    }

    fn hmac(&self, alg: HashAlg) -> Result<&'static dyn Hmac, Error> {
        Ok(match alg {
            HashAlg::Sha256 => &SHA256,
            HashAlg::Sha384 => &SHA384,
            HashAlg::Sha512 => &SHA512,
            HashAlg::Sm3 => return Err(self.unsupported(Algorithm::Hmac(alg))),
        })
    }

    fn hkdf(&self, alg: HashAlg) -> Result<&'static dyn Hkdf, Error> {
        Ok(match alg {
            HashAlg::Sha256 => &SHA256,
            HashAlg::Sha384 => &SHA384,
            HashAlg::Sha512 => &SHA512,
            HashAlg::Sm3 => return Err(self.unsupported(Algorithm::Hkdf(alg))),
        })
    }

    fn signing_key(
        &self,
        alg: SignatureAlg,
        key: &PrivateKey,
    ) -> Result<Box<dyn SigningKey>, Error> {
        let rejected = |_| Error::InvalidKey("private key rejected by backend");
        let inner = match (alg, key.material()) {
            (_, Material::Rsa { pkcs8, .. }) => {
                Signer::Rsa(lib::signature::RsaKeyPair::from_pkcs8(pkcs8).map_err(rejected)?)
            }
            (_, Material::Ec { pkcs8, .. }) => {
                Signer::Ecdsa(ecdsa_from_pkcs8(sign_alg_ecdsa(alg)?, pkcs8)?)
            }
            (_, Material::Ed25519 { seed, .. }) => Signer::Ed25519(
                lib::signature::Ed25519KeyPair::from_seed_unchecked(seed.as_slice())
                    .map_err(rejected)?,
            ),
        };
        Ok(Box::new(RingSigningKey {
            alg,
            inner,
            public: key.public_key().to_vec(),
        }))
    }

    fn verifier(&self, alg: SignatureAlg) -> Result<&'static dyn Verifier, Error> {
        Ok(VERIFIERS
            .iter()
            .find(|v| v.alg == alg)
            .ok_or(Error::Unsupported {
                alg: Algorithm::Signature(alg),
                backend: self.backend,
            })?)
    }

    fn kx(&self, alg: KxAlg) -> Result<&'static dyn KeyExchange, Error> {
        Ok(match alg {
            KxAlg::X25519 => &KX_X25519,
            KxAlg::P256 => &KX_P256,
            KxAlg::P384 => &KX_P384,
            KxAlg::CurveSm2 => return Err(self.unsupported(Algorithm::Kx(alg))),
        })
    }

    fn random(&self) -> Result<&'static dyn SecureRandom, Error> {
        Ok(&RANDOM)
    }
}

struct Aead {
    alg: AeadAlg,
    key: lib::aead::LessSafeKey,
}

impl fmt::Debug for Aead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aead")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl AeadKey for Aead {
    fn algorithm(&self) -> AeadAlg {
        self.alg
    }

    fn seal_in_place_detached(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<Tag, Error> {
        let nonce = lib::aead::Nonce::assume_unique_for_key(nonce.0);
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, lib::aead::Aad::from(aad), in_out)
            .map_err(|_| Error::InvalidLength)?;
        let mut out = [0u8; crate::TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        Ok(Tag(out))
    }

    fn open_in_place_detached(
        &self,
        nonce: &Nonce,
        aad: &[u8],
        in_out: &mut [u8],
        tag: &Tag,
    ) -> Result<(), Error> {
        let nonce = lib::aead::Nonce::assume_unique_for_key(nonce.0);
        let result = open_detached(&self.key, nonce, lib::aead::Aad::from(aad), tag, in_out);
        if result.is_err() {
            in_out.fill(0);
            return Err(Error::DecryptFailed);
        }
        Ok(())
    }
}

/// One hash algorithm as hash, HMAC and HKDF.
struct Sha {
    alg: HashAlg,
    digest: &'static lib::digest::Algorithm,
    hmac: lib::hmac::Algorithm,
    hkdf: lib::hkdf::Algorithm,
}

impl fmt::Debug for Sha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Sha").field(&self.alg).finish()
    }
}

static SHA256: Sha = Sha {
    alg: HashAlg::Sha256,
    digest: &lib::digest::SHA256,
    hmac: lib::hmac::HMAC_SHA256,
    hkdf: lib::hkdf::HKDF_SHA256,
};
static SHA384: Sha = Sha {
    alg: HashAlg::Sha384,
    digest: &lib::digest::SHA384,
    hmac: lib::hmac::HMAC_SHA384,
    hkdf: lib::hkdf::HKDF_SHA384,
};
static SHA512: Sha = Sha {
    alg: HashAlg::Sha512,
    digest: &lib::digest::SHA512,
    hmac: lib::hmac::HMAC_SHA512,
    hkdf: lib::hkdf::HKDF_SHA512,
};

impl Hash for Sha {
    fn algorithm(&self) -> HashAlg {
        self.alg
    }

    fn start(&self) -> Box<dyn HashContext> {
        Box::new(DigestContext(lib::digest::Context::new(self.digest)))
    }

    fn hash(&self, data: &[u8]) -> Output {
        Output::new(lib::digest::digest(self.digest, data).as_ref())
    }
}

#[derive(Clone)]
struct DigestContext(lib::digest::Context);

impl HashContext for DigestContext {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn fork_finish(&self) -> Output {
        Output::new(self.0.clone().finish().as_ref())
    }

    fn fork(&self) -> Box<dyn HashContext> {
        Box::new(self.clone())
    }

    fn finish(self: Box<Self>) -> Output {
        Output::new(self.0.finish().as_ref())
    }
}

impl Hmac for Sha {
    fn algorithm(&self) -> HashAlg {
        self.alg
    }

    fn with_key(&self, key: &[u8]) -> Box<dyn HmacKey> {
        Box::new(HmacKeyImpl(lib::hmac::Key::new(self.hmac, key)))
    }
}

struct HmacKeyImpl(lib::hmac::Key);

impl HmacKey for HmacKeyImpl {
    fn sign(&self, data: &[&[u8]]) -> Output {
        let mut ctx = lib::hmac::Context::with_key(&self.0);
        for d in data {
            ctx.update(d);
        }
        Output::new(ctx.sign().as_ref())
    }
}

impl Hkdf for Sha {
    fn algorithm(&self) -> HashAlg {
        self.alg
    }

    fn extract(&self, salt: &[u8], ikm: &[u8]) -> Box<dyn HkdfPrk> {
        let prk = lib::hkdf::Salt::new(self.hkdf, salt).extract(ikm);
        Box::new(Prk {
            prk,
            max: hkdf_max_output(self.alg),
        })
    }
}

struct Prk {
    prk: lib::hkdf::Prk,
    max: usize,
}

/// The output length, as the `KeyType` ring's HKDF asks for.
struct Len(usize);

impl lib::hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

impl HkdfPrk for Prk {
    fn expand(&self, info: &[&[u8]], out: &mut [u8]) -> Result<(), Error> {
        if out.len() > self.max {
            return Err(Error::InvalidLength);
        }
        let okm = self
            .prk
            .expand(info, Len(out.len()))
            .map_err(|_| Error::InvalidLength)?;
        okm.fill(out).map_err(|_| Error::InvalidLength)
    }
}

fn sign_alg_ecdsa(
    alg: SignatureAlg,
) -> Result<&'static lib::signature::EcdsaSigningAlgorithm, Error> {
    use lib::signature as s;
    Ok(match alg {
        SignatureAlg::EcdsaP256Sha256 => &s::ECDSA_P256_SHA256_ASN1_SIGNING,
        SignatureAlg::EcdsaP256Sha256Fixed => &s::ECDSA_P256_SHA256_FIXED_SIGNING,
        SignatureAlg::EcdsaP384Sha384 => &s::ECDSA_P384_SHA384_ASN1_SIGNING,
        SignatureAlg::EcdsaP384Sha384Fixed => &s::ECDSA_P384_SHA384_FIXED_SIGNING,
        _ => {
            return Err(Error::InvalidKey(
                "key kind does not match the signature scheme",
            ));
        }
    })
}

enum Signer {
    Rsa(lib::signature::RsaKeyPair),
    Ecdsa(lib::signature::EcdsaKeyPair),
    Ed25519(lib::signature::Ed25519KeyPair),
}

struct RingSigningKey {
    alg: SignatureAlg,
    inner: Signer,
    public: Vec<u8>,
}

impl fmt::Debug for RingSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey for RingSigningKey {
    fn algorithm(&self) -> SignatureAlg {
        self.alg
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use lib::signature as s;
        let rng = lib::rand::SystemRandom::new();
        match &self.inner {
            Signer::Rsa(key) => {
                let padding: &'static dyn s::RsaEncoding = match self.alg {
                    SignatureAlg::RsaPkcs1Sha256 => &s::RSA_PKCS1_SHA256,
                    SignatureAlg::RsaPkcs1Sha384 => &s::RSA_PKCS1_SHA384,
                    SignatureAlg::RsaPkcs1Sha512 => &s::RSA_PKCS1_SHA512,
                    SignatureAlg::RsaPssSha256 => &s::RSA_PSS_SHA256,
                    SignatureAlg::RsaPssSha384 => &s::RSA_PSS_SHA384,
                    SignatureAlg::RsaPssSha512 => &s::RSA_PSS_SHA512,
                    _ => {
                        return Err(Error::InvalidKey(
                            "key kind does not match the signature scheme",
                        ));
                    }
                };
                let mut sig = vec![0u8; rsa_modulus_len(key)];
                key.sign(padding, &rng, message, &mut sig)
                    .map_err(|_| Error::Backend("RSA signing failed"))?;
                Ok(sig)
            }
            Signer::Ecdsa(key) => Ok(key
                .sign(&rng, message)
                .map_err(|_| Error::Backend("ECDSA signing failed"))?
                .as_ref()
                .to_vec()),
            Signer::Ed25519(key) => Ok(key.sign(message).as_ref().to_vec()),
        }
    }

    fn public_key(&self) -> &[u8] {
        &self.public
    }
}

struct RingVerifier {
    alg: SignatureAlg,
    inner: &'static dyn lib::signature::VerificationAlgorithm,
}

impl fmt::Debug for RingVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Verifier").field(&self.alg).finish()
    }
}

static VERIFIERS: [RingVerifier; 13] = {
    use lib::signature as s;
    [
        RingVerifier {
            alg: SignatureAlg::RsaPkcs1Sha256,
            inner: &s::RSA_PKCS1_2048_8192_SHA256,
        },
        RingVerifier {
            alg: SignatureAlg::RsaPkcs1Sha384,
            inner: &s::RSA_PKCS1_2048_8192_SHA384,
        },
        RingVerifier {
            alg: SignatureAlg::RsaPkcs1Sha512,
            inner: &s::RSA_PKCS1_2048_8192_SHA512,
        },
        RingVerifier {
            alg: SignatureAlg::RsaPssSha256,
            inner: &s::RSA_PSS_2048_8192_SHA256,
        },
        RingVerifier {
            alg: SignatureAlg::RsaPssSha384,
            inner: &s::RSA_PSS_2048_8192_SHA384,
        },
        RingVerifier {
            alg: SignatureAlg::RsaPssSha512,
            inner: &s::RSA_PSS_2048_8192_SHA512,
        },
        RingVerifier {
            alg: SignatureAlg::EcdsaP256Sha256,
            inner: &s::ECDSA_P256_SHA256_ASN1,
        },
        RingVerifier {
            alg: SignatureAlg::EcdsaP256Sha256Fixed,
            inner: &s::ECDSA_P256_SHA256_FIXED,
        },
        RingVerifier {
            alg: SignatureAlg::EcdsaP384Sha384,
            inner: &s::ECDSA_P384_SHA384_ASN1,
        },
        RingVerifier {
            alg: SignatureAlg::EcdsaP384Sha384Fixed,
            inner: &s::ECDSA_P384_SHA384_FIXED,
        },
        RingVerifier {
            alg: SignatureAlg::EcdsaP256Sha384,
            inner: &s::ECDSA_P256_SHA384_ASN1,
        },
        RingVerifier {
            alg: SignatureAlg::EcdsaP384Sha256,
            inner: &s::ECDSA_P384_SHA256_ASN1,
        },
        RingVerifier {
            alg: SignatureAlg::Ed25519,
            inner: &s::ED25519,
        },
    ]
};

impl Verifier for RingVerifier {
    fn algorithm(&self) -> SignatureAlg {
        self.alg
    }

    fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
        lib::signature::UnparsedPublicKey::new(self.inner, public_key)
            .verify(message, signature)
            .map_err(|_| Error::BadSignature)
    }
}

struct Kx {
    alg: KxAlg,
    agreement: &'static lib::agreement::Algorithm,
}

impl fmt::Debug for Kx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Kx").field(&self.alg).finish()
    }
}

static KX_X25519: Kx = Kx {
    alg: KxAlg::X25519,
    agreement: &lib::agreement::X25519,
};
static KX_P256: Kx = Kx {
    alg: KxAlg::P256,
    agreement: &lib::agreement::ECDH_P256,
};
static KX_P384: Kx = Kx {
    alg: KxAlg::P384,
    agreement: &lib::agreement::ECDH_P384,
};

impl KeyExchange for Kx {
    fn algorithm(&self) -> KxAlg {
        self.alg
    }

    fn generate(&self) -> Result<Box<dyn EphemeralKey>, Error> {
        let rng = lib::rand::SystemRandom::new();
        let private = lib::agreement::EphemeralPrivateKey::generate(self.agreement, &rng)
            .map_err(|_| Error::RandomFailed)?;
        let public = private
            .compute_public_key()
            .map_err(|_| Error::Backend("public key computation failed"))?
            .as_ref()
            .to_vec();
        Ok(Box::new(Ephemeral {
            private,
            public,
            alg: self.agreement,
            kx: self.alg,
        }))
    }

    fn agree_static(
        &self,
        private_key: &[u8],
        peer_public_key: &[u8],
    ) -> Result<SharedSecret, Error> {
        if !super::PROVIDER.static_kx {
            return Err(Error::Unsupported {
                alg: Algorithm::KxStatic(self.alg),
                backend: super::BACKEND,
            });
        }
        let scalar = match self.alg {
            KxAlg::X25519 if private_key.len() != 32 => {
                return Err(Error::InvalidKey("X25519 private key must be 32 bytes"));
            }
            KxAlg::X25519 => zeroize::Zeroizing::new(private_key.to_vec()),
            other => fixed_scalar(private_key, other.private_key_len())?,
        };
        check_point_form(self.alg, peer_public_key)?;
        agree_static(self.agreement, &scalar, peer_public_key)
    }
}

struct Ephemeral {
    private: lib::agreement::EphemeralPrivateKey,
    public: Vec<u8>,
    alg: &'static lib::agreement::Algorithm,
    kx: KxAlg,
}

/// Peer keys on the NIST curves must be uncompressed points (RFC 8446 4.2.8.2), as every other
/// backend requires; aws-lc alone would also take compressed ones.
fn check_point_form(alg: KxAlg, peer: &[u8]) -> Result<(), Error> {
    match alg {
        KxAlg::P256 | KxAlg::P384
            if peer.len() != alg.public_key_len() || peer.first() != Some(&4) =>
        {
            Err(Error::InvalidPeerKey)
        }
        _ => Ok(()),
    }
}

impl EphemeralKey for Ephemeral {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<SharedSecret, Error> {
        let this = *self;
        check_point_form(this.kx, peer_public_key)?;
        agree_ephemeral(
            this.private,
            lib::agreement::UnparsedPublicKey::new(this.alg, peer_public_key),
        )
    }
}

#[derive(Debug)]
struct Random;
static RANDOM: Random = Random;

impl SecureRandom for Random {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        use lib::rand::SecureRandom as _;
        lib::rand::SystemRandom::new()
            .fill(dest)
            .map_err(|_| Error::RandomFailed)
    }
}
