//! AES-GCM and ChaCha20-Poly1305 from ring (the shared code is `ring_api::aead`).

use ::ring as lib;

crate::backends::ring_api::aead!(|key, nonce, aad, tag, data| {
    key.open_in_place_separate_tag(nonce, aad, lib::aead::Tag::from(*tag), data, 0..)
        .is_ok()
});
