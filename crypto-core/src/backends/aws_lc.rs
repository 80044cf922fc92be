//! The `aws-lc` backend (aws-lc-rs: AWS-LC through FFI).

use ::aws_lc_rs as lib;
use zeroize::Zeroizing;

use crate::{Backend, Error, SharedSecret, Tag};

// The same source serves ring and aws-lc-rs, compiled once against each (see ring_like.rs).
#[allow(clippy::duplicate_mod)]
#[path = "ring_like.rs"]
mod like;

const BACKEND: Backend = Backend::AwsLc;

pub(crate) static PROVIDER: like::RingLike = like::RingLike {
    backend: BACKEND,
    static_kx: true,
    kem: Some(&ML_KEM_768),
};

/// ML-KEM-768 from aws-lc-rs (FIPS 203).
#[derive(Debug)]
struct MlKem;

static ML_KEM_768: MlKem = MlKem;

const KEM: crate::KemAlg = crate::KemAlg::MlKem768;

struct MlKemKey {
    dk: lib::kem::DecapsulationKey<lib::kem::AlgorithmId>,
    ek: Vec<u8>,
}

impl crate::Kem for MlKem {
    fn algorithm(&self) -> crate::KemAlg {
        KEM
    }

    fn generate(&self) -> Result<Box<dyn crate::KemDecapsulationKey>, Error> {
        let dk = lib::kem::DecapsulationKey::generate(&lib::kem::ML_KEM_768)
            .map_err(|_| Error::Backend("ML-KEM key generation failed"))?;
        let ek = dk
            .encapsulation_key()
            .and_then(|e| e.key_bytes())
            .map_err(|_| Error::Backend("ML-KEM key generation failed"))?
            .as_ref()
            .to_vec();
        Ok(Box::new(MlKemKey { dk, ek }))
    }

    fn encapsulate(&self, encapsulation_key: &[u8]) -> Result<(Vec<u8>, SharedSecret), Error> {
        if encapsulation_key.len() != KEM.encapsulation_key_len() {
            return Err(Error::InvalidPeerKey);
        }
        // FIPS 203 section 7.2's modulus check is done by aws-lc when it parses the key.
        let ek = lib::kem::EncapsulationKey::new(&lib::kem::ML_KEM_768, encapsulation_key)
            .map_err(|_| Error::InvalidPeerKey)?;
        let (ct, ss) = ek.encapsulate().map_err(|_| Error::InvalidPeerKey)?;
        Ok((ct.as_ref().to_vec(), Zeroizing::new(ss.as_ref().to_vec())))
    }

    fn decapsulation_key(&self, dk: &[u8]) -> Result<Box<dyn crate::KemDecapsulationKey>, Error> {
        // dk = dk_pke (384k) || ek (384k + 32) || H(ek) (32) || z (32), k = 3 (FIPS 203
        // algorithm 16). Section 7.3 asks for the length check and the hash check.
        if dk.len() != KEM.decapsulation_key_len() {
            return Err(Error::InvalidKey(
                "ML-KEM-768 decapsulation key must be 2400 bytes",
            ));
        }
        let ek = &dk[1152..1152 + 1184];
        let h = &dk[1152 + 1184..1152 + 1184 + 32];
        let digest = lib::digest::digest(&lib::digest::SHA3_256, ek);
        if !crate::ct::eq(digest.as_ref(), h) {
            return Err(Error::InvalidKey(
                "ML-KEM decapsulation key fails its hash check",
            ));
        }
        let key = lib::kem::DecapsulationKey::new(&lib::kem::ML_KEM_768, dk)
            .map_err(|_| Error::InvalidKey("ML-KEM decapsulation key rejected by backend"))?;
        Ok(Box::new(MlKemKey {
            dk: key,
            ek: ek.to_vec(),
        }))
    }
}

impl crate::KemDecapsulationKey for MlKemKey {
    fn encapsulation_key(&self) -> &[u8] {
        &self.ek
    }

    fn decapsulate(&self, ciphertext: &[u8]) -> Result<SharedSecret, Error> {
        if ciphertext.len() != KEM.ciphertext_len() {
            return Err(Error::InvalidPeerKey);
        }
        let ss = self
            .dk
            .decapsulate(lib::kem::Ciphertext::from(ciphertext))
            .map_err(|_| Error::InvalidPeerKey)?;
        Ok(Zeroizing::new(ss.as_ref().to_vec()))
    }
}

fn ecdsa_from_pkcs8(
    alg: &'static lib::signature::EcdsaSigningAlgorithm,
    pkcs8: &[u8],
) -> Result<lib::signature::EcdsaKeyPair, Error> {
    lib::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8)
        .map_err(|_| Error::InvalidKey("private key rejected by backend"))
}

fn agree_ephemeral(
    private: lib::agreement::EphemeralPrivateKey,
    peer: lib::agreement::UnparsedPublicKey<&[u8]>,
) -> Result<SharedSecret, Error> {
    lib::agreement::agree_ephemeral(private, peer, Error::InvalidPeerKey, |secret| {
        Ok(Zeroizing::new(secret.to_vec()))
    })
}

fn agree_static(
    alg: &'static lib::agreement::Algorithm,
    private: &[u8],
    peer: &[u8],
) -> Result<SharedSecret, Error> {
    let key = lib::agreement::PrivateKey::from_private_key(alg, private)
        .map_err(|_| Error::InvalidKey("private key rejected by backend"))?;
    lib::agreement::agree(
        &key,
        lib::agreement::UnparsedPublicKey::new(alg, peer),
        Error::InvalidPeerKey,
        |secret| Ok(Zeroizing::new(secret.to_vec())),
    )
}

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

fn rsa_modulus_len(key: &lib::signature::RsaKeyPair) -> usize {
    key.public_modulus_len()
}
