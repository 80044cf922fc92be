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
    backend: Backend::AwsLc,
    algorithms: ALGORITHMS,
    aead: Some(aead::key),
    hash: Some(hash::hash),
    hmac: Some(hash::hmac),
    hkdf: Some(hash::hkdf),
    signing_key: Some(sign::signing_key),
    verifier: Some(sign::verifier),
    kx: Some(kx::kx),
    random: Some(&kx::RANDOM),
    kem: Some(&kem::ML_KEM_768),
    cipher: None,
    sm2: None,
    public_key: Some(public_key),
    generate_rsa: Some(generate_rsa),
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

/// Everything this backend implements: the one table [`Backend::supports`](crate::Backend::supports)
/// reads.
pub(crate) static ALGORITHMS: &[Algorithm] = {
    use crate::{AeadAlg as A, Algorithm as Alg, HashAlg as H, KxAlg as K, SignatureAlg as S};
    &[
        Alg::Aead(A::Aes128Gcm),
        Alg::Aead(A::Aes256Gcm),
        Alg::Aead(A::ChaCha20Poly1305),
        Alg::Hash(H::Sha256),
        Alg::Hash(H::Sha384),
        Alg::Hash(H::Sha512),
        Alg::Hmac(H::Sha256),
        Alg::Hmac(H::Sha384),
        Alg::Hmac(H::Sha512),
        Alg::Hkdf(H::Sha256),
        Alg::Hkdf(H::Sha384),
        Alg::Hkdf(H::Sha512),
        Alg::Signature(S::RsaPkcs1Sha256),
        Alg::Signature(S::RsaPkcs1Sha384),
        Alg::Signature(S::RsaPkcs1Sha512),
        Alg::Signature(S::RsaPssSha256),
        Alg::Signature(S::RsaPssSha384),
        Alg::Signature(S::RsaPssSha512),
        Alg::Signature(S::EcdsaP256Sha256),
        Alg::Signature(S::EcdsaP256Sha256Fixed),
        Alg::Signature(S::EcdsaP384Sha384),
        Alg::Signature(S::EcdsaP384Sha384Fixed),
        Alg::Signature(S::EcdsaP256Sha384),
        Alg::Signature(S::EcdsaP384Sha256),
        Alg::Signature(S::Ed25519),
        Alg::Kx(K::X25519),
        Alg::Kx(K::P256),
        Alg::Kx(K::P384),
        Alg::KxStatic(K::X25519),
        Alg::KxStatic(K::P256),
        Alg::KxStatic(K::P384),
        Alg::Kem(crate::KemAlg::MlKem768),
        Alg::Random,
    ]
};
