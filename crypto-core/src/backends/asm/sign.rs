//! SM2 signatures (GB/T 32918.2) on our field arithmetic.

use super::gm::{gm_error, scalar32, with_entropy};
use crate::backends::provider::Signatures;
use crate::keys::Material;
use crate::{Error, PrivateKey, SignatureAlg, SigningKey};
use core::fmt;

/// Signing keys (the default ID) and verifiers, for the provider table.
pub(super) static SIGNATURES: Signatures = Signatures::new(default_signing_key, verifier);

pub(super) struct Signer(pub(super) asm::sm2::SigningKey);

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({})", self.0.kernel().name())
    }
}

impl SigningKey for Signer {
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

/// SM2 with the default ID, as the verifier for [`SignatureAlg::Sm2Sm3`].
#[derive(Debug)]
pub(super) struct Verifier;

impl crate::Verifier for Verifier {
    fn algorithm(&self) -> SignatureAlg {
        SignatureAlg::Sm2Sm3
    }

    fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
        verify(public_key, crate::sm2::DEFAULT_ID, message, signature)
    }

    /// Eight at a time on AVX-512 IFMA (`asm::sm2::verify_many`).
    fn verify_many(&self, items: &[crate::SignedMessage<'_>]) -> Vec<Result<(), Error>> {
        let rs: Vec<Option<([u8; 32], [u8; 32])>> = items
            .iter()
            .map(|i| crate::der::read_rs_signature(i.signature))
            .collect();
        // Malformed signatures stay out of the batch.
        let batch: Vec<asm::sm2::Verification<'_>> = items
            .iter()
            .zip(&rs)
            .filter_map(|(i, rs)| {
                rs.as_ref().map(|(r, s)| asm::sm2::Verification {
                    public: i.public_key,
                    id: crate::sm2::DEFAULT_ID,
                    msg: i.message,
                    r,
                    s,
                })
            })
            .collect();
        let mut ok = asm::sm2::verify_many(&batch).into_iter();
        rs.iter()
            .map(|rs| match rs {
                Some(_) if ok.next() == Some(true) => Ok(()),
                _ => Err(Error::BadSignature),
            })
            .collect()
    }
}

/// Verifies an SM2 signature with user ID `id`.
pub(super) fn verify(pk: &[u8], id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
    crate::sm2::check_id(id)?;
    let (r, s) = crate::der::read_rs_signature(sig).ok_or(Error::BadSignature)?;
    if asm::sm2::verify(pk, id, msg, &r, &s) {
        Ok(())
    } else {
        Err(Error::BadSignature)
    }
}

/// An SM2 signing key with user ID `id`.
pub(super) fn signing_key(key: &PrivateKey, id: &[u8]) -> Result<Box<dyn SigningKey>, Error> {
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

/// A signing key for `sm2sig_sm3` with the default ID.
pub(super) fn default_signing_key(
    _alg: SignatureAlg,
    key: &PrivateKey,
) -> Result<Box<dyn SigningKey>, Error> {
    signing_key(key, crate::sm2::DEFAULT_ID)
}

/// The verifier (SM2 with the default ID).
pub(super) fn verifier(_alg: SignatureAlg) -> Option<&'static dyn crate::Verifier> {
    Some(&Verifier)
}
