//! ML-KEM-768 (FIPS 203) from aws-lc-rs.

use ::aws_lc_rs as lib;
use zeroize::Zeroizing;

use crate::{Error, SharedSecret};

/// ML-KEM-768 from aws-lc-rs (FIPS 203).
#[derive(Debug)]
pub(super) struct MlKem;

/// The one ML-KEM instance.
pub(super) static ML_KEM_768: MlKem = MlKem;

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
