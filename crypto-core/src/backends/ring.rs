//! The `ring` backend (ring 0.17). ring cannot import a private key for key agreement, so
//! `KxStatic` is unsupported here.

use ::ring as lib;
use zeroize::Zeroizing;

use crate::{Backend, Error, SharedSecret, Tag};

// The same source serves ring and aws-lc-rs, compiled once against each (see ring_like.rs).
#[allow(clippy::duplicate_mod)]
#[path = "ring_like.rs"]
mod like;

const BACKEND: Backend = Backend::Ring;

pub(crate) static PROVIDER: like::RingLike = like::RingLike {
    backend: BACKEND,
    static_kx: false,
    kem: None,
};

fn ecdsa_from_pkcs8(
    alg: &'static lib::signature::EcdsaSigningAlgorithm,
    pkcs8: &[u8],
) -> Result<lib::signature::EcdsaKeyPair, Error> {
    lib::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8, &lib::rand::SystemRandom::new())
        .map_err(|_| Error::InvalidKey("private key rejected by backend"))
}

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

fn open_detached(
    key: &lib::aead::LessSafeKey,
    nonce: lib::aead::Nonce,
    aad: lib::aead::Aad<&[u8]>,
    tag: &Tag,
    in_out: &mut [u8],
) -> Result<(), ()> {
    key.open_in_place_separate_tag(nonce, aad, lib::aead::Tag::from(tag.0), in_out, 0..)
        .map(|_| ())
        .map_err(|_| ())
}

fn rsa_modulus_len(key: &lib::signature::RsaKeyPair) -> usize {
    key.public().modulus_len()
}
