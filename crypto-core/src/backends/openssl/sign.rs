//! RSA (PKCS#1 v1.5 and PSS), ECDSA and Ed25519 signing and verification through EVP_PKEY.

use super::hash::message_digest;
use crate::backends::provider::Signatures;
use crate::backends::provider::debug_fields;
use crate::backends::provider::failed;
use crate::keys::Material;
use crate::{Error, KxAlg, PrivateKey, SignatureAlg, SigningKey};

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private, Public};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Signer as EvpSigner, Verifier as EvpVerifier};

/// Signing keys and verifiers, for the provider table.
pub(super) static SIGNATURES: Signatures = Signatures::new(signing_key, verifier);

pub(super) struct Signer {
    alg: SignatureAlg,
    pkey: PKey<Private>,
    public: Vec<u8>,
}

debug_fields!(Signer, alg);

/// Sets PKCS#1 v1.5 or PSS (MGF1 with the same hash, salt = hash length) on a signer/verifier.
macro_rules! rsa_padding {
    ($ctx:expr, $alg:expr) => {{
        let pss = matches!(
            $alg,
            SignatureAlg::RsaPssSha256 | SignatureAlg::RsaPssSha384 | SignatureAlg::RsaPssSha512
        );
        if pss {
            $ctx.set_rsa_padding(Padding::PKCS1_PSS).map_err(failed)?;
            $ctx.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)
                .map_err(failed)?;
            $ctx.set_rsa_mgf1_md(message_digest($alg.hash()))
                .map_err(failed)?;
        } else {
            $ctx.set_rsa_padding(Padding::PKCS1).map_err(failed)?;
        }
    }};
}

pub(super) fn is_rsa(alg: SignatureAlg) -> bool {
    alg.key_kind() == crate::KeyKind::Rsa
}

pub(super) fn fixed_len(alg: SignatureAlg) -> Option<i32> {
    match alg {
        SignatureAlg::EcdsaP256Sha256Fixed => Some(32),
        SignatureAlg::EcdsaP384Sha384Fixed => Some(48),
        _ => None,
    }
}

impl SigningKey for Signer {
    fn algorithm(&self) -> SignatureAlg {
        self.alg
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let mut signer = if self.alg == SignatureAlg::Ed25519 {
            EvpSigner::new_without_digest(&self.pkey)
        } else {
            EvpSigner::new(message_digest(self.alg.hash()), &self.pkey)
        }
        .map_err(failed)?;
        if is_rsa(self.alg) {
            rsa_padding!(signer, self.alg);
        }
        let sig = signer.sign_oneshot_to_vec(message).map_err(failed)?;
        match fixed_len(self.alg) {
            Some(len) => {
                let sig = EcdsaSig::from_der(&sig).map_err(failed)?;
                let mut out = sig.r().to_vec_padded(len).map_err(failed)?;
                out.extend_from_slice(&sig.s().to_vec_padded(len).map_err(failed)?);
                Ok(out)
            }
            None => Ok(sig),
        }
    }

    fn public_key(&self) -> &[u8] {
        &self.public
    }
}

crate::backends::provider::one_per_algorithm! {
    struct Verifier(SignatureAlg);
    static VERIFIERS = crate::backends::provider::groups::WEB_SCHEMES;
}

pub(super) fn curve(alg: KxAlg) -> Result<EcGroup, Error> {
    EcGroup::from_curve_name(match alg {
        KxAlg::P384 => Nid::SECP384R1,
        KxAlg::CurveSm2 => Nid::SM2,
        _ => Nid::X9_62_PRIME256V1,
    })
    .map_err(failed)
}

/// Parses an uncompressed point on `group` (OpenSSL checks it is on the curve).
pub(super) fn ec_public(group: &EcGroup, point: &[u8], len: usize) -> Option<PKey<Public>> {
    if point.len() != len || point[0] != 4 {
        return None;
    }
    let mut ctx = BigNumContext::new().ok()?;
    let p = EcPoint::from_bytes(group, point, &mut ctx).ok()?;
    let key = EcKey::from_public_key(group, &p).ok()?;
    key.check_key().ok()?;
    PKey::from_ec_key(key).ok()
}

impl crate::Verifier for Verifier {
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
                PKey::from_rsa(rsa).map_err(failed)?
            }
            crate::KeyKind::EcP256 => {
                ec_public(&curve(KxAlg::P256)?, public_key, 65).ok_or(Error::BadSignature)?
            }
            crate::KeyKind::EcP384 => {
                ec_public(&curve(KxAlg::P384)?, public_key, 97).ok_or(Error::BadSignature)?
            }
            crate::KeyKind::Ed25519 => PKey::public_key_from_raw_bytes(public_key, Id::ED25519)
                .map_err(|_| Error::BadSignature)?,
            crate::KeyKind::Sm2 => {
                return super::gm::Sm2Verifier.verify(public_key, message, signature);
            }
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
                    BigNum::from_slice(r).map_err(failed)?,
                    BigNum::from_slice(s).map_err(failed)?,
                )
                .map_err(failed)?;
                der = sig.to_der().map_err(failed)?;
                &der[..]
            }
            None => signature,
        };
        let mut verifier = if alg == SignatureAlg::Ed25519 {
            EvpVerifier::new_without_digest(&pkey)
        } else {
            EvpVerifier::new(message_digest(alg.hash()), &pkey)
        }
        .map_err(failed)?;
        if is_rsa(alg) {
            rsa_padding!(verifier, alg);
        }
        match verifier.verify_oneshot(signature, message) {
            Ok(true) => Ok(()),
            _ => Err(Error::BadSignature),
        }
    }
}

/// A signing key for `alg` from `key`.
pub(super) fn signing_key(
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
    Ok(Box::new(Signer {
        alg,
        pkey,
        public: key.public_key().to_vec(),
    }))
}

/// Verification for `alg` (SM2 from the GM half).
pub(super) fn verifier(alg: SignatureAlg) -> Option<&'static dyn crate::Verifier> {
    if alg == SignatureAlg::Sm2Sm3 {
        return Some(&super::gm::Sm2Verifier);
    }
    Some(VERIFIERS.iter().find(|v| v.0 == alg)?)
}
