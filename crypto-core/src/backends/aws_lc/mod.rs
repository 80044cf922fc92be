//! The `aws-lc` backend (aws-lc-rs: AWS-LC through FFI): the ring-API primitives (the code it
//! shares with ring is in `ring_api`), static key agreement, ML-KEM-768, RSA key generation,
//! and EC public keys from scalars for key loading.

mod aead;
mod hash;
mod kem;
mod kx;
mod sign;

use ::aws_lc_rs as lib;
use zeroize::Zeroizing;

use crate::backends::provider::Provider;
use crate::{Algorithm, Backend, Error, KeyKind};

pub(crate) static PROVIDER: Provider = Provider {
    aead: Some(aead::key),
    hashing: Some(hash::hashing),
    signatures: Some(&sign::SIGNATURES),
    kx: Some(kx::kx),
    kem: Some(&kem::ML_KEM_768),
    random: Some(&kx::RANDOM),
    public_key: Some(public_key),
    generate_rsa: Some(generate_rsa),
    ..Provider::new(Backend::AwsLc, {
        use crate::backends::provider::groups::*;
        &[
            WEB,
            WEB_KX_STATIC,
            &[Algorithm::Kem(crate::KemAlg::MlKem768)],
            RANDOM,
        ]
    })
};

/// The public key of a P-256/P-384 scalar (through agreement's private-key import) or of an
/// Ed25519 seed.
fn public_key(kind: KeyKind, secret: &[u8]) -> Option<Result<Vec<u8>, Error>> {
    let curve = match kind {
        KeyKind::EcP256 => &lib::agreement::ECDH_P256,
        KeyKind::EcP384 => &lib::agreement::ECDH_P384,
        KeyKind::Ed25519 => return sign::ed25519_public(secret),
        _ => return None,
    };
    Some(
        lib::agreement::PrivateKey::from_private_key(curve, secret)
            .ok()
            .and_then(|k| k.compute_public_key().ok())
            .map(|p| p.as_ref().to_vec())
            .ok_or(Error::InvalidKey("EC private scalar rejected by backend")),
    )
}

/// A fresh RSA-2048 key (FIPS 186-5 key generation) as PKCS#8 DER.
fn generate_rsa() -> Result<Zeroizing<Vec<u8>>, Error> {
    use lib::encoding::AsDer;
    let pair = lib::rsa::KeyPair::generate(lib::rsa::KeySize::Rsa2048)
        .map_err(|_| Error::Backend("RSA key generation failed"))?;
    let der: lib::encoding::Pkcs8V1Der<'_> = pair
        .as_der()
        .map_err(|_| Error::Backend("RSA key encoding failed"))?;
    Ok(Zeroizing::new(der.as_ref().to_vec()))
}
