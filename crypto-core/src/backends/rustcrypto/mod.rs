//! The `rustcrypto` backend: pure Rust (RustCrypto's aes-gcm, chacha20poly1305, sha2, hmac,
//! hkdf, rsa, p256, p384, ed25519-dalek, x25519-dalek; sm2, sm3, sm4 with ccm, cbc and ctr for
//! GM). Portable and memory-safe; the reference the accelerated backends are checked against.

mod aead;
mod gm;
mod hash;
mod kx;
mod sign;

use zeroize::Zeroizing;

use crate::backends::provider::Provider;
use crate::{Backend, Error, SecureRandom};

pub(crate) static PROVIDER: Provider = Provider {
    aead: Some(aead::key),
    hashing: Some(hash::hashing),
    signatures: Some(&sign::SIGNATURES),
    kx: Some(kx::kx),
    random: Some(&RANDOM),
    gm: Some(&gm::GM),
    sm2_key_exchange: Some(gm::key_exchange),
    public_key: Some(sign::public_key),
    generate_rsa: Some(generate_rsa),
    ..Provider::new(Backend::RustCrypto, {
        use crate::backends::provider::groups::*;
        &[WEB, WEB_KX_STATIC, SM4_AEAD, GM, SM2_KEY_EXCHANGE, RANDOM]
    })
};

/// A fresh RSA-2048 key (the `rsa` crate's generation; seconds, not milliseconds) as PKCS#8.
fn generate_rsa() -> Result<Zeroizing<Vec<u8>>, Error> {
    use rsa::pkcs8::EncodePrivateKey;
    let mut rng = getrandom::SysRng;
    rsa::PrivateKey::new(&mut rng, 2048)
        .map_err(|_| Error::Backend("RSA key generation failed"))
        .and_then(|k| {
            k.to_pkcs8_der()
                .map(|d| Zeroizing::new(d.as_bytes().to_vec()))
                .map_err(|_| Error::Backend("RSA key encoding failed"))
        })
}

#[derive(Debug)]
struct Random;
static RANDOM: Random = Random;

impl SecureRandom for Random {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(dest).map_err(|_| Error::RandomFailed)
    }
}
