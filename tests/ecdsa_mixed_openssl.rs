//! ECDSA with a hash that is not the curve's own (P-256 with SHA-384, P-384 with SHA-256):
//! verification only, for TLS 1.2 peers and certificates. Wycheproof covers P-384/SHA-256 (see
//! `wycheproof.rs`) but has no P-256/SHA-384 file, so here the OpenSSL 3 CLI signs and every
//! backend must verify, and reject a changed message or the wrong hash.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::process::Command;

use conformance::{TestRng, data_dir, test_key};
use crypto_core::{Algorithm, Backend, Error, SignatureAlg};

#[test]
fn openssl_signatures_verify_in_every_backend() {
    if !conformance::openssl_cli("ecdsa-mixed") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("ecdsa-mixed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = TestRng::new(0xec);
    let mut checked = 0;
    for (alg, own, key, digest) in [
        (
            SignatureAlg::EcdsaP256Sha384,
            SignatureAlg::EcdsaP256Sha256,
            "p256.pkcs8.pem",
            "-sha384",
        ),
        (
            SignatureAlg::EcdsaP384Sha256,
            SignatureAlg::EcdsaP384Sha384,
            "p384.pkcs8.pem",
            "-sha256",
        ),
    ] {
        let key_path = data_dir().join("keys").join(key);
        let public = test_key(key).public_key().to_vec();
        let backends: Vec<Backend> = Backend::built()
            .filter(|b| b.supports(Algorithm::Signature(alg)))
            .collect();
        assert!(backends.len() >= 3, "{alg:?}: {backends:?}");
        for i in 0..8 {
            let msg = rng.bytes(1 + i * 37);
            let msg_path = dir.join("msg");
            let sig_path = dir.join("sig");
            std::fs::write(&msg_path, &msg).unwrap();
            let out = Command::new("openssl")
                .args(["dgst", digest, "-sign"])
                .arg(&key_path)
                .arg("-out")
                .arg(&sig_path)
                .arg(&msg_path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let sig = std::fs::read(&sig_path).unwrap();
            for &b in &backends {
                let v = b.verifier(alg).unwrap();
                v.verify(&public, &msg, &sig)
                    .unwrap_or_else(|e| panic!("{b} {alg:?}: {e}"));
                let mut other = msg.clone();
                other[0] ^= 1;
                assert_eq!(
                    v.verify(&public, &other, &sig),
                    Err(Error::BadSignature),
                    "{b}"
                );
                // The curve's own hash must not accept it.
                if let Ok(own) = b.verifier(own) {
                    assert_eq!(
                        own.verify(&public, &msg, &sig),
                        Err(Error::BadSignature),
                        "{b}"
                    );
                }
                checked += 1;
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    println!("{checked} OpenSSL signatures verified");
}
