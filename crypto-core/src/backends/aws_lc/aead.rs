//! AES-GCM and ChaCha20-Poly1305 from aws-lc-rs (the shared code is `ring_api::aead`).

use core::fmt;

use ::aws_lc_rs as lib;

use crate::{AeadAlg, AeadKey, Error, Nonce, Tag};

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

crate::backends::ring_api::aead!();
