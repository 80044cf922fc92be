//! Private-key loading against outside truth: keys made by the OpenSSL 3 CLI
//! (`data/keys/make.sh`) load from every encoding to the same key, and the public key we derive
//! is exactly the one OpenSSL wrote in its SubjectPublicKeyInfo.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use conformance::{key_file, test_key};
use crypto_core::{Error, KeyKind, PrivateKey};

/// The BIT STRING contents at the end of a DER SubjectPublicKeyInfo.
fn spki_public_key(spki: &[u8], len: usize) -> &[u8] {
    &spki[spki.len() - len..]
}

#[test]
fn every_encoding_loads_to_the_same_key_and_openssls_public_key() {
    let sets: &[(&str, KeyKind, &[&str])] = &[
        (
            "rsa2048",
            KeyKind::Rsa,
            &["pkcs8.pem", "pkcs8.der", "pkcs1.pem", "pkcs1.der"],
        ),
        (
            "rsa3072",
            KeyKind::Rsa,
            &["pkcs8.pem", "pkcs8.der", "pkcs1.pem", "pkcs1.der"],
        ),
        (
            "rsa4096",
            KeyKind::Rsa,
            &["pkcs8.pem", "pkcs8.der", "pkcs1.pem", "pkcs1.der"],
        ),
        (
            "p256",
            KeyKind::EcP256,
            &["pkcs8.pem", "pkcs8.der", "sec1.pem", "sec1.der"],
        ),
        (
            "p384",
            KeyKind::EcP384,
            &["pkcs8.pem", "pkcs8.der", "sec1.pem", "sec1.der"],
        ),
        ("ed25519", KeyKind::Ed25519, &["pkcs8.pem", "pkcs8.der"]),
    ];
    for (name, kind, forms) in sets {
        let spki = key_file(&format!("{name}.spki.der"));
        let keys: Vec<PrivateKey> = forms
            .iter()
            .map(|f| test_key(&format!("{name}.{f}")))
            .collect();
        for (form, key) in forms.iter().zip(&keys) {
            assert_eq!(key.kind(), *kind, "{name}.{form}");
            let public = key.public_key();
            assert_eq!(
                spki_public_key(&spki, public.len()),
                public,
                "{name}.{form}: public key differs from OpenSSL's"
            );
            assert_eq!(
                key.pkcs8_der(),
                keys[0].pkcs8_der(),
                "{name}.{form}: normalized PKCS#8 differs"
            );
        }
        if *kind == KeyKind::Rsa {
            let bits: usize = name[3..].parse().unwrap();
            assert_eq!(keys[0].rsa_bits(), Some(bits));
        }
    }
}

#[test]
fn debug_output_never_shows_key_material() {
    let key = test_key("p256.pkcs8.pem");
    let shown = format!("{key:?}");
    assert_eq!(shown, "PrivateKey { kind: EcP256, .. }");
}

#[test]
fn bad_inputs_are_clear_errors_not_panics() {
    assert!(matches!(PrivateKey::from_der(b""), Err(Error::KeyParse(_))));
    assert!(matches!(
        PrivateKey::from_der(&[0x30, 0x82, 0xff]),
        Err(Error::KeyParse(_))
    ));
    assert!(matches!(
        PrivateKey::from_pem(b"no pem here"),
        Err(Error::KeyParse(_))
    ));
    assert!(matches!(
        PrivateKey::from_pem(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
        ),
        Err(Error::KeyParse(_))
    ));
    assert!(matches!(
        PrivateKey::from_pem(b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"),
        Err(Error::KeyParse(_))
    ));
    assert!(PrivateKey::from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA").is_err());
    // Truncations of a real key at every length: always an error, never a panic.
    let der = key_file("p256.pkcs8.der");
    for n in 0..der.len() {
        assert!(
            PrivateKey::from_der(&der[..n]).is_err(),
            "truncated to {n} bytes loaded"
        );
    }
    let pem = key_file("rsa2048.pkcs1.pem");
    for n in (0..pem.len()).step_by(37) {
        let _ = PrivateKey::from_pem_or_der(&pem[..n]);
    }
}

/// Keys the OpenSSL CLI encrypted, traditionally (`Proc-Type: 4,ENCRYPTED`) and as PKCS#8, are
/// refused with a reason that says so, not as broken PEM.
#[test]
fn encrypted_keys_are_refused_by_name() {
    for file in [
        "p256.sec1-encrypted.pem",
        "rsa2048.pkcs1-encrypted.pem",
        "p256.pkcs8-encrypted.pem",
    ] {
        match PrivateKey::from_pem_or_der(&key_file(file)) {
            Err(Error::KeyParse(why)) => assert!(
                why.starts_with("encrypted keys are not supported"),
                "{file}: {why}"
            ),
            other => panic!("{file}: {other:?}"),
        }
    }
}

#[test]
fn pem_with_leading_blocks_finds_the_key() {
    let mut pem =
        b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n".to_vec();
    pem.extend_from_slice(&key_file("p256.sec1.pem"));
    let key = PrivateKey::from_pem(&pem).unwrap();
    assert_eq!(key.public_key(), test_key("p256.sec1.der").public_key());
}

#[test]
fn mismatched_public_key_in_sec1_is_refused() {
    // Swap the public key of one P-256 key into another's SEC1 encoding.
    let a = key_file("p256.sec1.der");
    let other = test_key("p256.sec1.der");
    let mut forged = a.clone();
    let public = other.public_key().to_vec();
    let at = forged.len() - public.len();
    forged[at + 10] ^= 0x01;
    assert!(matches!(
        PrivateKey::from_der(&forged),
        Err(Error::InvalidKey(_)) | Err(Error::KeyParse(_))
    ));
}
