//! X25519 and ECDH on P-256 and P-384 from aws-lc-rs (the shared code is `ring_api::kx`).

use zeroize::Zeroizing;

use ::aws_lc_rs as lib;

use crate::{EphemeralKey, Error, KeyExchange, KxAlg, SecureRandom, SharedSecret};

fn agree_ephemeral(
    private: lib::agreement::EphemeralPrivateKey,
    peer: lib::agreement::UnparsedPublicKey<&[u8]>,
) -> Result<SharedSecret, Error> {
    lib::agreement::agree_ephemeral(private, peer, Error::InvalidPeerKey, |secret| {
        Ok(Zeroizing::new(secret.to_vec()))
    })
}

fn agree_static(
    alg: &'static lib::agreement::Algorithm,
    private: &[u8],
    peer: &[u8],
) -> Result<SharedSecret, Error> {
    let key = lib::agreement::PrivateKey::from_private_key(alg, private)
        .map_err(|_| Error::InvalidKey("private key rejected by backend"))?;
    lib::agreement::agree(
        &key,
        lib::agreement::UnparsedPublicKey::new(alg, peer),
        Error::InvalidPeerKey,
        |secret| Ok(Zeroizing::new(secret.to_vec())),
    )
}

crate::backends::ring_api::kx!();
