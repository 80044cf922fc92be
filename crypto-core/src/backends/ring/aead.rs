//! AES-GCM and ChaCha20-Poly1305 from ring (the shared code is `ring_api::aead`).

use core::fmt;

use ::ring as lib;

use crate::{AeadAlg, AeadKey, Error, Nonce, Tag};

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

crate::backends::ring_api::aead!();
