//! X25519, ECDH on P-256 and P-384 and on curveSM2 through EVP_PKEY derivation.

use super::sign::{curve, ec_public};
use crate::backends::provider::debug_fields;
use crate::backends::provider::failed;
use crate::keys::fixed_scalar;
use crate::{EphemeralKey, Error, KeyExchange, KxAlg, SharedSecret};

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcKey, EcPoint, PointConversionForm};
use openssl::pkey::{Id, PKey, Private};
use zeroize::Zeroizing;

pub(super) struct Kx(KxAlg);

debug_fields!(Kx, 0);

impl KeyExchange for Kx {
    fn algorithm(&self) -> KxAlg {
        self.0
    }

    fn generate(&self) -> Result<Box<dyn EphemeralKey>, Error> {
        let (pkey, public) = match self.0 {
            KxAlg::X25519 => {
                let pkey = PKey::generate_x25519().map_err(|_| Error::RandomFailed)?;
                let public = pkey.raw_public_key().map_err(failed)?;
                (pkey, public)
            }
            alg => {
                let group = curve(alg)?;
                let key = EcKey::generate(&group).map_err(|_| Error::RandomFailed)?;
                let mut ctx = BigNumContext::new().map_err(failed)?;
                let public = key
                    .public_key()
                    .to_bytes(&group, PointConversionForm::UNCOMPRESSED, &mut ctx)
                    .map_err(failed)?;
                (PKey::from_ec_key(key).map_err(failed)?, public)
            }
        };
        Ok(Box::new(Ephemeral {
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
                PKey::private_key_from_raw_bytes(private_key, Id::X25519).map_err(failed)?
            }
            alg => {
                let scalar = fixed_scalar(private_key, alg.private_key_len())?;
                let group = curve(alg)?;
                let mut ctx = BigNumContext::new().map_err(failed)?;
                let d = BigNum::from_slice(&scalar).map_err(failed)?;
                let mut order = BigNum::new().map_err(failed)?;
                group.order(&mut order, &mut ctx).map_err(failed)?;
                if d.num_bits() == 0 || d >= order {
                    return Err(Error::InvalidKey("private scalar out of range"));
                }
                let mut q = EcPoint::new(&group).map_err(failed)?;
                q.mul_generator2(&group, &d, &mut ctx).map_err(failed)?;
                let key = EcKey::from_private_components(&group, &d, &q).map_err(failed)?;
                PKey::from_ec_key(key).map_err(failed)?
            }
        };
        derive(self.0, &pkey, peer_public_key)
    }
}

pub(super) fn derive(alg: KxAlg, ours: &PKey<Private>, peer: &[u8]) -> Result<SharedSecret, Error> {
    if alg == KxAlg::CurveSm2 {
        return sm2_ecdh(ours, peer);
    }
    let peer = match alg {
        KxAlg::X25519 => {
            PKey::public_key_from_raw_bytes(peer, Id::X25519).map_err(|_| Error::InvalidPeerKey)?
        }
        alg => ec_public(&curve(alg)?, peer, alg.public_key_len()).ok_or(Error::InvalidPeerKey)?,
    };
    let mut deriver = openssl::derive::Deriver::new(ours).map_err(failed)?;
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
pub(super) fn sm2_ecdh(ours: &PKey<Private>, peer: &[u8]) -> Result<SharedSecret, Error> {
    let group = curve(KxAlg::CurveSm2)?;
    let peer = ec_public(&group, peer, 65).ok_or(Error::InvalidPeerKey)?;
    let peer = peer.ec_key().map_err(failed)?;
    let ours = ours.ec_key().map_err(failed)?;
    let mut ctx = BigNumContext::new().map_err(failed)?;
    let mut shared = EcPoint::new(&group).map_err(failed)?;
    shared
        .mul2(&group, peer.public_key(), ours.private_key(), &mut ctx)
        .map_err(failed)?;
    if shared.is_infinity(&group) {
        return Err(Error::InvalidPeerKey);
    }
    let mut x = BigNum::new().map_err(failed)?;
    let mut y = BigNum::new().map_err(failed)?;
    shared
        .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
        .map_err(failed)?;
    Ok(Zeroizing::new(x.to_vec_padded(32).map_err(failed)?))
}

pub(super) struct Ephemeral {
    alg: KxAlg,
    pkey: PKey<Private>,
    public: Vec<u8>,
}

impl EphemeralKey for Ephemeral {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<SharedSecret, Error> {
        derive(self.alg, &self.pkey, peer_public_key)
    }
}

/// Key agreement in `alg`.
pub(super) fn kx(alg: KxAlg) -> Option<&'static dyn KeyExchange> {
    Some(match alg {
        KxAlg::X25519 => &Kx(KxAlg::X25519),
        KxAlg::P256 => &Kx(KxAlg::P256),
        KxAlg::P384 => &Kx(KxAlg::P384),
        KxAlg::CurveSm2 => &Kx(KxAlg::CurveSm2),
    })
}
