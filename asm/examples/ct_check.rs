//! Constant-time check under Valgrind Memcheck: keys, plaintexts, tags, SM2 private keys and
//! nonce entropy are marked secret ("undefined") with client requests, every SM4/GHASH/SM2/SM3
//! path Valgrind can execute is run (portable, AES-NI + AVX2, PCLMULQDQ GHASH, SM2 with
//! MULX/ADX/AVX2, SM3 with BMI2 and 8 lanes of AVX2), and any branch or memory index that
//! depends on a secret makes Memcheck report an error (`--error-exitcode=1` fails the run).
//! Outputs that are public by design (ciphertext, tag, verdict, signature) are declassified
//! before use. SM2: signing (key set-up, nonce, k*G, s), ECDH (d*Q, including the scalar n-6
//! whose last addition doubles) and decryption (d*C1, KDF, C3 check with a good and a bad
//! ciphertext). Valgrind cannot run AVX-512, so the 16-lane SM3 gets a timing check instead
//! (`benches/benches/dudect.rs`).
//!
//! Negative controls, which must FAIL (proving the harness sees leaks): `ct_check leak` runs a
//! deliberately secret-indexed table lookup, `ct_check rustcrypto` runs RustCrypto's `sm4`
//! crate, whose S-box is a table indexed by secret bytes, and `ct_check sm2-vartime` feeds a
//! secret scalar to our variable-time SM2 verification. `.ci/run` runs all four.
//!
//! Build: `cargo build --release -p asm --features ct-valgrind --example ct_check`
//! Run:   `valgrind --error-exitcode=1 target/release/examples/ct_check`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use asm::cpu::Features;
use asm::ct::{ct_public, ct_secret_copy};
use asm::sm4::{Counter, Sm4, Sm4Ccm, Sm4Gcm};
use asm::{sm2, sm3};

fn main() {
    if std::env::args().nth(1).as_deref() == Some("leak") {
        // A secret-indexed table lookup, as a naive S-box would do.
        let table: Vec<u8> =
            std::hint::black_box((0..=255u8).map(|x| x.wrapping_mul(167) ^ 0x3c).collect());
        let mut secret = ct_secret_copy([0x5au8; 1]);
        let v = table[usize::from(std::hint::black_box(secret[0]))];
        secret[0] = v;
        ct_public(&secret);
        println!(
            "leak control ran (Memcheck must have reported it): {}",
            secret[0]
        );
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("rustcrypto") {
        use ctr::cipher::{Array, BlockCipherEncrypt, KeyInit};
        let key = ct_secret_copy([0x11u8; 16]);
        let mut block = Array::from(ct_secret_copy([0x22u8; 16]));
        sm4::Sm4::new(&key.into()).encrypt_block(&mut block);
        ct_public(&block);
        println!("RustCrypto sm4 ran (Memcheck must have reported its table lookups)");
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("sm2-vartime") {
        // The variable-time verification on a secret scalar: its windows branch on it.
        let key = sm2::SigningKey::new(&[0x3cu8; 32], b"id").unwrap();
        let (r, s) = key.sign(b"m", &mut |b: &mut [u8]| b.fill(1)).unwrap();
        let s = ct_secret_copy(s);
        let ok = sm2::verify(key.public_key(), b"id", b"m", &r, &s);
        println!("vartime control ran (Memcheck must have reported it): {ok}");
        return;
    }
    let hw = Features::get();
    // Only paths Valgrind 3.19 executes: no VAES, GFNI or AVX-512.
    for spec in [
        "portable",
        "aesni,avx2",
        "pclmulqdq,avx2",
        "aesni,avx2,pclmulqdq",
    ] {
        let f = hw.restricted_to(spec);
        let mut key = ct_secret_copy([0x11u8; 16]);
        let mut data = ct_secret_copy([0x22u8; 200]);
        let sm4 = Sm4::with_features(&key, f);
        sm4.encrypt_blocks(&mut data[..192]);
        sm4.decrypt_blocks(&mut data[..16]);
        sm4.cbc_encrypt(&[3; 16], &mut data[..64]);
        sm4.cbc_decrypt(&[3; 16], &mut data[..192]);
        sm4.ctr(&[4; 16], Counter::Full128, &mut data);
        let gcm = Sm4Gcm::with_features(&key, f);
        // Open with the right tag (secret until the verdict), then with a wrong one.
        let mut tag = ct_secret_copy(gcm.seal(&[5; 12], b"header", &mut data).unwrap());
        assert!(gcm.open(&[5; 12], b"header", &mut data, &tag).is_ok());
        tag[0] ^= 1;
        assert!(gcm.open(&[5; 12], b"header", &mut data, &tag).is_err());
        let ccm = Sm4Ccm::with_features(&key, f);
        let mut tag = ct_secret_copy(ccm.seal(&[6; 12], b"hdr", &mut data).unwrap());
        assert!(ccm.open(&[6; 12], b"hdr", &mut data, &tag).is_ok());
        tag[15] ^= 1;
        assert!(ccm.open(&[6; 12], b"hdr", &mut data, &tag).is_err());
        ct_public(&data);
        key.fill(0);
        println!(
            "{spec}: kernel {} ran on secret key and data",
            sm4.kernel().name()
        );
    }
    gm_checks(hw);
}

/// SM2 and SM3 on every kernel Valgrind can execute, secrets marked undefined.
fn gm_checks(hw: Features) {
    // Valgrind's CPUID hides ADX, which it executes: take it from the host's /proc/cpuinfo.
    let hw = hw.with_host_cpuinfo(&["adx"]);
    println!("features used for the GM checks: {hw:?}");
    // A public peer point and a ciphertext to this test's key, made before anything is secret.
    let peer = sm2::public_key(&[7u8; 32]).unwrap();
    let d_plain = [0x3cu8; 32];
    let mut fixed = |b: &mut [u8]| b.fill(0x42);
    let ct = sm2::encrypt(
        &sm2::public_key(&d_plain).unwrap(),
        b"attack at dawn",
        &mut fixed,
    )
    .unwrap();
    let mut n_minus_6 = sm2::ORDER;
    n_minus_6[31] -= 6;
    for spec in ["portable", "bmi2,adx,avx2"] {
        let f = hw.restricted_to(spec);
        let d = ct_secret_copy(d_plain);
        let key = sm2::SigningKey::with_features(&d, b"1234567812345678", f).unwrap();
        let mut entropy = |b: &mut [u8]| {
            let s = ct_secret_copy([0x99u8; 32]);
            b.copy_from_slice(&s[..b.len()]);
        };
        let (r, s) = key.sign(b"message", &mut entropy).unwrap();
        ct_public(&r);
        ct_public(&s);
        assert!(sm2::verify(
            key.public_key(),
            b"1234567812345678",
            b"message",
            &r,
            &s
        ));
        for scalar in [d_plain, n_minus_6] {
            let x = sm2::agree_with_features(f, &ct_secret_copy(scalar), &peer).unwrap();
            ct_public(&x[..]);
        }
        // A server's exchange: the fresh key from secret entropy, one inversion for both.
        let (public, x) = sm2::exchange_with_features(f, &mut entropy, &peer).unwrap();
        ct_public(&x[..]);
        assert_eq!(*x, *sm2::agree(&[7u8; 32], &public).unwrap()); // the peer's side
        let pt = sm2::decrypt_with_features(f, &d, &ct).unwrap();
        ct_public(&pt);
        assert_eq!(&pt[..], b"attack at dawn");
        let mut bad = ct.clone();
        bad[100] ^= 1;
        assert!(sm2::decrypt_with_features(f, &d, &bad).is_err());
        println!(
            "{spec}: SM2 kernel {} signed, agreed, exchanged and decrypted on secrets",
            key.kernel().name()
        );
        assert_eq!(key.kernel(), sm2::Kernel::select(f));
    }
    for spec in ["portable", "bmi2", "bmi2,intel", "avx2"] {
        let f = hw.restricted_to(spec);
        let secret = ct_secret_copy([0x5au8; 300]);
        let mut h = sm3::Sm3::with_features(f);
        h.update(&secret);
        let one = h.finish();
        let many = sm3::digest_many_with_features(f, &[&secret[..], &secret[..17], &secret[..64]]);
        ct_public(&one);
        for d in &many {
            ct_public(d);
        }
        assert_eq!(one, many[0]);
        // The one-shot digest and HMAC-SM3 (key and message secret, split across the block
        // buffer), whose outputs are then published.
        let shot = sm3::Sm3::digest(&secret);
        ct_public(&shot);
        assert_eq!(shot, one);
        let key = ct_secret_copy([0xa5u8; 80]);
        let mac = sm3::HmacSm3::with_features(&key, f);
        let tag = mac.sign(&[&secret[..5], &secret[5..70], &secret[70..]]);
        let whole = mac.sign(&[&secret[..]]);
        ct_public(&tag);
        ct_public(&whole);
        assert_eq!(tag, whole);
        println!(
            "{spec}: SM3 kernel {} and many-message kernel {} ran on secret data",
            sm3::Kernel::select(f).name(),
            sm3::ManyKernel::select(f).name()
        );
    }
}
