//! RSA PKCS#1 v1.5 and PSS (rsa), ECDSA P-256 and P-384 (p256, p384), Ed25519
//! (ed25519-dalek): signing and verification.

use crate::backends::provider::Signatures;
use crate::backends::provider::debug_fields;

use crate::keys::Material;
use crate::{Error, KeyKind, PrivateKey, SignatureAlg, SigningKey};

/// Signing keys and verifiers, for the provider table.
pub(super) static SIGNATURES: Signatures = Signatures::new(signing_key, verifier);

/// A signing key for `alg` (RSA, ECDSA, Ed25519; SM2 from the GM half).
pub(super) fn signing_key(
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
                    Key::Pkcs1Sha256(Box::new(rsa::pkcs1v15::SigningKey::new(key)))
                }
                SignatureAlg::RsaPkcs1Sha384 => {
                    Key::Pkcs1Sha384(Box::new(rsa::pkcs1v15::SigningKey::new(key)))
                }
                SignatureAlg::RsaPkcs1Sha512 => {
                    Key::Pkcs1Sha512(Box::new(rsa::pkcs1v15::SigningKey::new(key)))
                }
                SignatureAlg::RsaPssSha256 => {
                    Key::PssSha256(Box::new(rsa::pss::SigningKey::new(key)))
                }
                SignatureAlg::RsaPssSha384 => {
                    Key::PssSha384(Box::new(rsa::pss::SigningKey::new(key)))
                }
                SignatureAlg::RsaPssSha512 => {
                    Key::PssSha512(Box::new(rsa::pss::SigningKey::new(key)))
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
        } => Key::P256(Box::new(
            p256::ecdsa::SigningKey::from_slice(scalar).map_err(rejected)?,
        )),
        Material::Ec {
            kind: KeyKind::EcP384,
            scalar,
            ..
        } => Key::P384(Box::new(
            p384::ecdsa::SigningKey::from_slice(scalar).map_err(rejected)?,
        )),
        Material::Ec { .. } => return super::gm::signing_key(key, crate::sm2::DEFAULT_ID),
        Material::Ed25519 { seed, .. } => {
            Key::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(seed)))
        }
    };
    Ok(Box::new(Signer {
        alg,
        inner,
        public: key.public_key().to_vec(),
    }))
}

/// Verification for `alg` (SM2 from the GM half).
pub(super) fn verifier(alg: SignatureAlg) -> Option<&'static dyn crate::Verifier> {
    if alg == SignatureAlg::Sm2Sm3 {
        return Some(&super::gm::Sm2Verifier);
    }
    VERIFIERS
        .iter()
        .find(|v| v.0 == alg)
        .map(|v| v as &'static dyn crate::Verifier)
}

/// Each key in its own box, sized exactly for it: the keys wipe themselves on drop, but a
/// key moved into a larger enum and boxed with it brought stack bytes along in the unused
/// space (the zeroize test found a P-256 scalar's stack copy there), which nothing wipes.
enum Key {
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

struct Signer {
    alg: SignatureAlg,
    inner: Key,
    public: Vec<u8>,
}

debug_fields!(Signer, alg);

impl SigningKey for Signer {
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
            Key::Pkcs1Sha256(k) => k.try_sign(message).map_err(failed)?.to_vec(),
            Key::Pkcs1Sha384(k) => k.try_sign(message).map_err(failed)?.to_vec(),
            Key::Pkcs1Sha512(k) => k.try_sign(message).map_err(failed)?.to_vec(),
            Key::PssSha256(k) => k
                .try_sign_with_rng(&mut rng, message)
                .map_err(failed)?
                .to_vec(),
            Key::PssSha384(k) => k
                .try_sign_with_rng(&mut rng, message)
                .map_err(failed)?
                .to_vec(),
            Key::PssSha512(k) => k
                .try_sign_with_rng(&mut rng, message)
                .map_err(failed)?
                .to_vec(),
            Key::P256(k) => {
                let sig: p256::ecdsa::Signature = k.try_sign(message).map_err(failed)?;
                if fixed {
                    sig.to_bytes().to_vec()
                } else {
                    sig.to_der().to_vec()
                }
            }
            Key::P384(k) => {
                let sig: p384::ecdsa::Signature = k.try_sign(message).map_err(failed)?;
                if fixed {
                    sig.to_bytes().to_vec()
                } else {
                    sig.to_der().to_vec()
                }
            }
            Key::Ed25519(k) => k.try_sign(message).map_err(failed)?.to_bytes().to_vec(),
        })
    }

    fn public_key(&self) -> &[u8] {
        &self.public
    }
}

crate::backends::provider::one_per_algorithm! {
    struct Verifier(SignatureAlg);
    static VERIFIERS = crate::backends::provider::groups::WEB_SCHEMES;
}

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

impl crate::Verifier for Verifier {
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
            SignatureAlg::Sm2Sm3 => super::gm::Sm2Verifier.verify(public_key, message, signature),
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
pub(super) fn uncompressed(point: &[u8], len: usize) -> Result<(), Error> {
    if point.len() == len && point[0] == 4 {
        Ok(())
    } else {
        Err(Error::BadSignature)
    }
}

/// The public key of an EC scalar in [1, n) or of an Ed25519 seed.
pub(super) fn public_key(kind: KeyKind, secret: &[u8]) -> Option<Result<Vec<u8>, Error>> {
    Some(derive_public(kind, secret))
}

pub(super) fn derive_public(kind: KeyKind, secret: &[u8]) -> Result<Vec<u8>, Error> {
    let bad = |_| Error::InvalidKey("EC private scalar out of range");
    Ok(match kind {
        KeyKind::EcP256 => p256::SecretKey::from_slice(secret)
            .map_err(bad)?
            .public_key()
            .to_sec1_bytes()
            .into_vec(),
        KeyKind::EcP384 => p384::SecretKey::from_slice(secret)
            .map_err(bad)?
            .public_key()
            .to_sec1_bytes()
            .into_vec(),
        KeyKind::Sm2 => sm2::SecretKey::from_slice(secret)
            .map_err(bad)?
            .public_key()
            .to_sec1_bytes()
            .into_vec(),
        KeyKind::Ed25519 => {
            let seed: [u8; 32] = secret
                .try_into()
                .map_err(|_| Error::InvalidKey("Ed25519 seed must be 32 bytes"))?;
            ed25519_dalek::SigningKey::from_bytes(&seed)
                .verifying_key()
                .to_bytes()
                .to_vec()
        }
        _ => return Err(Error::InvalidKey("no public key derivation for this kind")),
    })
}
