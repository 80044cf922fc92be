//! Constant-time check under Valgrind Memcheck: keys, plaintexts and tags are marked secret
//! ("undefined") with client requests, every SM4/GHASH path Valgrind can execute is run
//! (portable, AES-NI + AVX2, PCLMULQDQ GHASH), and any branch or memory index that depends on
//! a secret makes Memcheck report an error (`--error-exitcode=1` fails the run). Outputs that
//! are public by design (ciphertext, tag, verdict) are declassified before use.
//!
//! Negative controls, which must FAIL (proving the harness sees leaks): `ct_check leak` runs a
//! deliberately secret-indexed table lookup, and `ct_check rustcrypto` runs RustCrypto's `sm4`
//! crate, whose S-box is a table indexed by secret bytes. `.ci/run` runs all three.
//!
//! Build: `cargo build --release -p asm --features ct-valgrind --example ct_check`
//! Run:   `valgrind --error-exitcode=1 target/release/examples/ct_check`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use asm::cpu::Features;
use asm::ct::{ct_public, ct_secret_copy};
use asm::sm4::{Counter, Sm4, Sm4Ccm, Sm4Gcm};

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
}
