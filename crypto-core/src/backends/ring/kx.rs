//! X25519 and ECDH on P-256 and P-384 from ring (the shared code is `ring_api::kx`).

use zeroize::Zeroizing;

use ::ring as lib;

use crate::{EphemeralKey, Error, KeyExchange, KxAlg, SecureRandom, SharedSecret};

fn agree_ephemeral(
    private: lib::agreement::EphemeralPrivateKey,
    peer: lib::agreement::UnparsedPublicKey<&[u8]>,
) -> Result<SharedSecret, Error> {
    lib::agreement::agree_ephemeral(private, &peer, |secret| Zeroizing::new(secret.to_vec()))
        .map_err(|_| Error::InvalidPeerKey)
}

fn agree_static(
    _alg: &'static lib::agreement::Algorithm,
    _private: &[u8],
    _peer: &[u8],
) -> Result<SharedSecret, Error> {
    // Unreachable through `Kx::agree_static`, which refuses first for this backend.
    Err(Error::Backend(
        "ring cannot import private keys for agreement",
    ))
}

crate::backends::ring_api::kx!();
