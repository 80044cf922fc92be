//! RSA, ECDSA and Ed25519 from ring (the shared code is `ring_api::sign`).

use ::ring as lib;

use crate::keys::Material;
use crate::{Error, PrivateKey, SignatureAlg, SigningKey};

fn ecdsa_from_pkcs8(
    alg: &'static lib::signature::EcdsaSigningAlgorithm,
    pkcs8: &[u8],
) -> Result<lib::signature::EcdsaKeyPair, Error> {
    lib::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8, &lib::rand::SystemRandom::new())
        .map_err(|_| Error::InvalidKey("private key rejected by backend"))
}

fn rsa_modulus_len(key: &lib::signature::RsaKeyPair) -> usize {
    key.public().modulus_len()
}

crate::backends::ring_api::sign!();
