//! SM2 signatures from libsm (UTF-8 user IDs only).

use super::gm::{canonical, utf8_id};
use crate::backends::provider::Signatures;
use crate::backends::provider::debug_fields;
use crate::keys::Material;
use crate::{Error, PrivateKey, SignatureAlg, SigningKey, sm2};

use libsm::sm2::signature::{SigCtx, Signature};
use zeroize::Zeroizing;

/// Signing keys (the default ID) and verifiers, for the provider table.
pub(super) static SIGNATURES: Signatures = Signatures::new(default_signing_key, verifier);

struct Signer {
    ctx: SigCtx,
    id: String,
    scalar: Zeroizing<Vec<u8>>,
    point: libsm::sm2::ecc::Point,
    public: Vec<u8>,
}

debug_fields!(Signer, id);

impl SigningKey for Signer {
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
struct Verifier;

impl crate::Verifier for Verifier {
    fn algorithm(&self) -> SignatureAlg {
        SignatureAlg::Sm2Sm3
    }

    fn verify(&self, public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<(), Error> {
        if public_key.len() != 65 || public_key[0] != 4 {
            return Err(Error::BadSignature);
        }
        verify(public_key, sm2::DEFAULT_ID, message, signature)
    }
}

/// Verifies an SM2 signature with user ID `id`.
pub(super) fn verify(pk: &[u8], id: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), Error> {
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

/// SM2 verification with the default ID.
pub(super) fn verifier(_alg: SignatureAlg) -> Option<&'static dyn crate::Verifier> {
    Some(&Verifier)
}

/// An SM2 signing key with user ID `id`.
pub(super) fn signing_key(key: &PrivateKey, id: &[u8]) -> Result<Box<dyn SigningKey>, Error> {
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

/// An SM2 signing key with the default ID.
pub(super) fn default_signing_key(
    _alg: SignatureAlg,
    key: &PrivateKey,
) -> Result<Box<dyn SigningKey>, Error> {
    signing_key(key, sm2::DEFAULT_ID)
}
