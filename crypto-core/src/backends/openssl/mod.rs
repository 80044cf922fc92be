//! The `openssl` backend: the system OpenSSL 3 through the `openssl` crate (cargo feature
//! `openssl`). EVP cipher contexts are stateful, so each AEAD key keeps one initialized context
//! per direction behind a mutex: the key schedule is computed once, and a record-layer key is
//! used by one connection at a time, so the lock is uncontended.

use crate::backends::provider::Provider;
use crate::{Backend, Error, SecureRandom};

mod aead;
mod gm;
mod hash;
mod kx;
mod sign;

/// No key derivation or generation of its own: the other backends serve key loading.
pub(crate) static PROVIDER: Provider = Provider {
    aead: Some(aead::key),
    hashing: Some(hash::hashing),
    signatures: Some(&sign::SIGNATURES),
    kx: Some(kx::kx),
    random: Some(&Random),
    gm: Some(&gm::GM),
    ..Provider::new(Backend::OpenSsl, {
        use crate::backends::provider::groups::*;
        &[WEB, WEB_KX_STATIC, GM, RANDOM]
    })
};

#[derive(Debug)]
struct Random;

impl SecureRandom for Random {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        openssl::rand::rand_bytes(dest).map_err(|_| Error::RandomFailed)
    }
}
