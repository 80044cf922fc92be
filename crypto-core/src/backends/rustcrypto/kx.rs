//! X25519 (x25519-dalek) and ECDH on P-256 and P-384 (p256, p384); curveSM2 is in the GM half.

use crate::backends::provider::debug_fields;

use zeroize::Zeroizing;

use super::sign::uncompressed;
use crate::keys::fixed_scalar;
use crate::{EphemeralKey, Error, KeyExchange, KeyKind, KxAlg, SharedSecret};

/// Key agreement in `alg` (curveSM2 from the GM half).
pub(super) fn kx(alg: KxAlg) -> Option<&'static dyn KeyExchange> {
    Some(match alg {
        KxAlg::X25519 => &Kx(KxAlg::X25519),
        KxAlg::P256 => &Kx(KxAlg::P256),
        KxAlg::P384 => &Kx(KxAlg::P384),
        KxAlg::CurveSm2 => &super::gm::Sm2Kx,
    })
}

/// Key agreement in one group.
pub(super) struct Kx(pub(super) KxAlg);

debug_fields!(Kx, 0);

impl KeyExchange for Kx {
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
                KxAlg::P256 => super::sign::derive_public(KeyKind::EcP256, &private),
                KxAlg::P384 => super::sign::derive_public(KeyKind::EcP384, &private),
                KxAlg::CurveSm2 => return super::gm::Sm2Kx.generate(),
            };
            if let Ok(public) = public {
                return Ok(Box::new(Ephemeral {
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
        KxAlg::CurveSm2 => super::gm::agree(private, peer),
    }
}

struct Ephemeral {
    alg: KxAlg,
    private: Zeroizing<Vec<u8>>,
    public: Vec<u8>,
}

impl EphemeralKey for Ephemeral {
    fn public_key(&self) -> &[u8] {
        &self.public
    }

    fn agree(self: Box<Self>, peer_public_key: &[u8]) -> Result<SharedSecret, Error> {
        agree(self.alg, &self.private, peer_public_key)
    }
}
