//! The `aws-lc` backend (aws-lc-rs: AWS-LC through FFI).

use ::aws_lc_rs as lib;
use zeroize::Zeroizing;

use crate::{Backend, Error, SharedSecret, Tag};

// The same source serves ring and aws-lc-rs, compiled once against each (see ring_like.rs).
#[allow(clippy::duplicate_mod)]
#[path = "ring_like.rs"]
mod like;

const BACKEND: Backend = Backend::AwsLc;

pub(crate) static PROVIDER: like::RingLike = like::RingLike {
    backend: BACKEND,
    static_kx: true,
};

fn ecdsa_from_pkcs8(
    alg: &'static lib::signature::EcdsaSigningAlgorithm,
    pkcs8: &[u8],
) -> Result<lib::signature::EcdsaKeyPair, Error> {
    lib::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8)
        .map_err(|_| Error::InvalidKey("private key rejected by backend"))
}

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

fn open_detached(
    key: &lib::aead::LessSafeKey,
    nonce: lib::aead::Nonce,
    aad: lib::aead::Aad<&[u8]>,
    tag: &Tag,
    in_out: &mut [u8],
) -> Result<(), ()> {
    key.open_in_place_separate_tag(nonce, aad, &tag.0, in_out)
        .map(|_| ())
        .map_err(|_| ())
}

fn rsa_modulus_len(key: &lib::signature::RsaKeyPair) -> usize {
    key.public_modulus_len()
}
