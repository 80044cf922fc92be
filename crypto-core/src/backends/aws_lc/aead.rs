//! AES-GCM and ChaCha20-Poly1305 from aws-lc-rs (the shared code is `ring_api::aead`).

use ::aws_lc_rs as lib;

crate::backends::ring_api::aead!(|key, nonce, aad, tag, data| {
    key.open_in_place_separate_tag(nonce, aad, tag, data)
        .is_ok()
});
