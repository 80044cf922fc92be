//! Live SM2 interop with the OpenSSL 3 command-line tool, for every backend that has SM2:
//! our signatures verify in OpenSSL and OpenSSL's in ours (with the default ID and others),
//! encryption decrypts each way, and keys move both ways (our PKCS#8/SEC1/SPKI in OpenSSL,
//! OpenSSL's keys in ours).
//!
//! When `openssl` is not on PATH the tests say so and pass, unless `REQUIRE_OPENSSL_CLI` is
//! set (as `.ci/run` does), which turns a missing CLI into a failure.
//!
//! Not covered here: ECDH. OpenSSL 3.0 puts every key on the SM2 curve (named or explicit)
//! under its SM2 key manager, which has no key exchange (`pkeyutl -derive` answers "operation
//! not supported for this keytype"); curveSM2 ECDH is checked against the reference
//! implementation in `gm_reference.rs` and across backends in `gm.rs` instead.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use crypto_core::sm2::{self, CiphertextFormat};
use crypto_core::{Algorithm, Backend, KeyKind, PrivateKey, SignatureAlg};

/// `Some(scratch dir)` when the CLI is usable; `None` (after saying so) when it is not.
fn cli(test: &str) -> Option<PathBuf> {
    if !conformance::openssl_cli(test) {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("gm-cli-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Some(dir)
}

fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

fn sm2_backends() -> Vec<Backend> {
    Backend::built()
        .filter(|b| b.supports(Algorithm::Signature(SignatureAlg::Sm2Sm3)))
        .collect()
}

const IDS: [&[u8]; 3] = [
    sm2::DEFAULT_ID,
    b"ALICE123@YAHOO.COM",
    sm2::TLS13_CERTIFICATE_VERIFY_ID,
];

fn distid(id: &[u8]) -> String {
    format!("distid:{}", std::str::from_utf8(id).unwrap())
}

#[test]
fn our_sm2_signatures_verify_in_openssl() {
    let Some(dir) = cli("sign") else { return };
    let key = PrivateKey::generate(KeyKind::Sm2).unwrap();
    std::fs::write(dir.join("pub.pem"), key.public_key_spki_pem()).unwrap();
    std::fs::write(dir.join("msg"), b"the quick brown fox, signed with SM2").unwrap();
    for b in sm2_backends() {
        for id in IDS {
            let sig = b
                .sm2_signing_key(&key, id)
                .unwrap()
                .sign(b"the quick brown fox, signed with SM2")
                .unwrap();
            std::fs::write(dir.join("sig"), &sig).unwrap();
            let verify = |id: &[u8]| {
                openssl(&[
                    "pkeyutl",
                    "-verify",
                    "-rawin",
                    "-digest",
                    "sm3",
                    "-pubin",
                    "-inkey",
                    &path(&dir, "pub.pem"),
                    "-pkeyopt",
                    &distid(id),
                    "-in",
                    &path(&dir, "msg"),
                    "-sigfile",
                    &path(&dir, "sig"),
                ])
            };
            let (ok, text) = verify(id);
            assert!(
                ok && text.contains("Signature Verified Successfully"),
                "{b}: OpenSSL rejects our signature: {text}"
            );
            // And OpenSSL really checks the ID: another one fails.
            let (ok, _) = verify(b"someone else");
            assert!(
                !ok,
                "{b}: OpenSSL accepted our signature under a different ID"
            );
        }
        println!("{b}: {} signatures verified by OpenSSL", IDS.len());
    }
}

#[test]
fn openssl_sm2_signatures_verify_in_ours() {
    let Some(dir) = cli("verify") else { return };
    let key = PrivateKey::generate(KeyKind::Sm2).unwrap();
    // Both of our private-key encodings must load in OpenSSL.
    std::fs::write(dir.join("key.p8.pem"), key.to_pkcs8_pem().as_bytes()).unwrap();
    std::fs::write(
        dir.join("key.sec1.pem"),
        key.to_sec1_pem().unwrap().as_bytes(),
    )
    .unwrap();
    let msg = b"signed by the OpenSSL command line";
    std::fs::write(dir.join("msg"), msg).unwrap();
    for (i, id) in IDS.iter().enumerate() {
        let keyfile = if i % 2 == 0 {
            "key.p8.pem"
        } else {
            "key.sec1.pem"
        };
        let sig_path = path(&dir, &format!("sig{i}"));
        let (ok, text) = openssl(&[
            "pkeyutl",
            "-sign",
            "-rawin",
            "-digest",
            "sm3",
            "-inkey",
            &path(&dir, keyfile),
            "-pkeyopt",
            &distid(id),
            "-in",
            &path(&dir, "msg"),
            "-out",
            &sig_path,
        ]);
        assert!(ok, "OpenSSL cannot sign with our {keyfile}: {text}");
        let sig = std::fs::read(&sig_path).unwrap();
        for b in sm2_backends() {
            b.sm2_verify(key.public_key(), id, msg, &sig)
                .unwrap_or_else(|e| panic!("{b}: OpenSSL's signature rejected: {e}"));
            assert!(b.sm2_verify(key.public_key(), b"x", msg, &sig).is_err());
        }
    }
}

#[test]
fn sm2_encryption_decrypts_each_way() {
    let Some(dir) = cli("encrypt") else { return };
    let key = PrivateKey::generate(KeyKind::Sm2).unwrap();
    std::fs::write(dir.join("key.pem"), key.to_pkcs8_pem().as_bytes()).unwrap();
    std::fs::write(dir.join("pub.pem"), key.public_key_spki_pem()).unwrap();
    let backends: Vec<Backend> = Backend::built()
        .filter(|b| b.supports(Algorithm::Sm2Encryption))
        .collect();
    assert!(!backends.is_empty());
    for b in backends {
        for len in [1usize, 32, 1000] {
            let msg: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
            // Ours -> OpenSSL (DER is what OpenSSL reads).
            let ct = b
                .sm2_encrypt(key.public_key(), &msg, CiphertextFormat::Der)
                .unwrap();
            std::fs::write(dir.join("ct"), &ct).unwrap();
            let (ok, text) = openssl(&[
                "pkeyutl",
                "-decrypt",
                "-inkey",
                &path(&dir, "key.pem"),
                "-in",
                &path(&dir, "ct"),
                "-out",
                &path(&dir, "pt"),
            ]);
            assert!(ok, "{b}: OpenSSL cannot decrypt our ciphertext: {text}");
            assert_eq!(std::fs::read(dir.join("pt")).unwrap(), msg, "{b}");
            // OpenSSL -> ours.
            std::fs::write(dir.join("msg"), &msg).unwrap();
            let (ok, text) = openssl(&[
                "pkeyutl",
                "-encrypt",
                "-pubin",
                "-inkey",
                &path(&dir, "pub.pem"),
                "-in",
                &path(&dir, "msg"),
                "-out",
                &path(&dir, "ct2"),
            ]);
            assert!(ok, "{text}");
            let ct2 = std::fs::read(dir.join("ct2")).unwrap();
            assert_eq!(
                *b.sm2_decrypt(&key, &ct2, CiphertextFormat::Der).unwrap(),
                msg,
                "{b}"
            );
        }
        println!("{b}: SM2 encryption interoperates with OpenSSL both ways");
    }
}

#[test]
fn openssl_sm2_keys_load_and_match() {
    let Some(dir) = cli("keys") else { return };
    let k = path(&dir, "k.pem");
    assert!(openssl(&["genpkey", "-algorithm", "SM2", "-out", &k]).0);
    let (ok, _) = openssl(&[
        "pkey",
        "-in",
        &k,
        "-pubout",
        "-outform",
        "DER",
        "-out",
        &path(&dir, "pub.der"),
    ]);
    assert!(ok);
    let key = PrivateKey::from_pem(&std::fs::read(&k).unwrap()).unwrap();
    assert_eq!(key.kind(), KeyKind::Sm2);
    assert_eq!(
        key.public_key_spki_der(),
        std::fs::read(dir.join("pub.der")).unwrap()
    );
    // The SEC1 form OpenSSL writes ("SM2 PRIVATE KEY" label) loads too.
    let s = path(&dir, "k.sec1.pem");
    assert!(openssl(&["ec", "-in", &k, "-out", &s]).0);
    let sec1 = PrivateKey::from_pem(&std::fs::read(&s).unwrap()).unwrap();
    assert_eq!(sec1.public_key(), key.public_key());
}
