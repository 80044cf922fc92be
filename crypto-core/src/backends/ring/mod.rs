//! The `ring` backend (ring 0.17, BoringSSL-derived assembly). ring cannot import a private
//! key for key agreement, so static agreement is not in its table, and it derives no EC public
//! key from a scalar (key loading gets those from another backend). The code it shares with
//! aws-lc-rs is in `ring_api`.

mod aead;
mod hash;
mod kx;
mod sign;

use crate::backends::provider::Provider;
use crate::{Backend, Error, KeyKind};

pub(crate) static PROVIDER: Provider = Provider {
    aead: Some(aead::key),
    hashing: Some(hash::hashing),
    signatures: Some(&sign::SIGNATURES),
    kx: Some(kx::kx),
    random: Some(&kx::RANDOM),
    public_key: Some(public_key),
    ..Provider::new(Backend::Ring, {
        use crate::backends::provider::groups::*;
        &[WEB, RANDOM]
    })
};

/// Ed25519 public keys only.
fn public_key(kind: KeyKind, secret: &[u8]) -> Option<Result<Vec<u8>, Error>> {
    match kind {
        KeyKind::Ed25519 => sign::ed25519_public(secret),
        _ => None,
    }
}
