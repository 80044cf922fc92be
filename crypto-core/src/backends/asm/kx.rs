//! curveSM2 key agreement (as RFC 8998 uses it) on our field arithmetic.

use super::gm::{gm_error, scalar32, with_entropy};
use crate::{EphemeralKey, Error, KeyExchange, KxAlg, SharedSecret};
use zeroize::Zeroizing;

#[derive(Debug)]
struct Kx;

impl KeyExchange for Kx {
    fn algorithm(&self) -> KxAlg {
        KxAlg::CurveSm2
    }

    fn generate(&self) -> Result<Box<dyn EphemeralKey>, Error> {
        let (private, public) = with_entropy(asm::sm2::generate)?;
        Ok(Box::new(Ephemeral { private, public }))
    }

    fn agree_static(&self, private_key: &[u8], peer: &[u8]) -> Result<SharedSecret, Error> {
        agree(&*scalar32(private_key)?, peer)
    }

    /// One field inversion for both products (`asm::sm2::exchange`).
    fn exchange(&self, peer: &[u8]) -> Result<(Vec<u8>, SharedSecret), Error> {
        let (public, x) =
            with_entropy(|rng| Ok(asm::sm2::exchange(rng, peer)))?.map_err(gm_error)?;
        Ok((public.to_vec(), Zeroizing::new(x.to_vec())))
    }

    /// Eight at a time on AVX-512 IFMA (`asm::sm2::exchange_many`).
    fn exchange_many(&self, peers: &[&[u8]]) -> Vec<Result<(Vec<u8>, SharedSecret), Error>> {
        match with_entropy(|rng| Ok(asm::sm2::exchange_many(rng, peers))) {
            Ok(all) => all
                .into_iter()
                .map(|r| {
                    let (public, x) = r.map_err(gm_error)?;
                    Ok((public.to_vec(), Zeroizing::new(x.to_vec())))
                })
                .collect(),
            Err(e) => peers.iter().map(|_| Err(e.clone())).collect(),
        }
    }
}

pub(super) fn agree(d: &[u8; 32], peer: &[u8]) -> Result<SharedSecret, Error> {
    let x = asm::sm2::agree(d, peer).map_err(gm_error)?;
    Ok(Zeroizing::new(x.to_vec()))
}

pub(super) struct Ephemeral {
    private: Zeroizing<[u8; 32]>,
    public: [u8; 65],
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
