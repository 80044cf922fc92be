//! curveSM2 key agreement as a plain point multiplication in libsm.

use super::gm::canonical;
use crate::keys::fixed_scalar;
use crate::{EphemeralKey, Error, KeyExchange, KxAlg, SharedSecret, sm2};
use libsm::sm2::ecc::EccCtx;
use libsm::sm2::signature::SigCtx;
use zeroize::Zeroizing;

#[derive(Debug)]
struct Kx;

impl KeyExchange for Kx {
    fn algorithm(&self) -> KxAlg {
        KxAlg::CurveSm2
    }

    fn generate(&self) -> Result<Box<dyn EphemeralKey>, Error> {
        let ctx = SigCtx::new();
        let failed = |_| Error::Backend("libsm key generation failed");
        let (point, sk) = ctx.new_keypair().map_err(failed)?;
        let public = ctx.serialize_pubkey(&point, false).map_err(failed)?;
        let private = Zeroizing::new(ctx.serialize_seckey(&sk).map_err(failed)?);
        Ok(Box::new(Ephemeral { private, public }))
    }

    fn agree_static(&self, private_key: &[u8], peer: &[u8]) -> Result<SharedSecret, Error> {
        agree(&fixed_scalar(private_key, 32)?, peer)
    }
}

pub(super) fn agree(private: &[u8], peer: &[u8]) -> Result<SharedSecret, Error> {
    if !crate::keys::scalar_in_range(private, &sm2::ORDER) {
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

pub(super) struct Ephemeral {
    private: Zeroizing<Vec<u8>>,
    public: Vec<u8>,
}

impl EphemeralKey for Ephemeral {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<SharedSecret, Error> {
        agree(&self.private, peer_public_key)
    }
}

/// curveSM2 key agreement.
pub(super) fn kx(_alg: KxAlg) -> Option<&'static dyn KeyExchange> {
    Some(&Kx)
}
