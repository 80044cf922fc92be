//! dudect-style timing check of our SM3 and SM2 kernels (see `benches::dudect`): fixed vs
//! random secret inputs, Welch's t-test, |t| < 4.5 meaning no leak detected.
//!
//! Valgrind cannot run AVX-512, so the 16-lane and the one-message AVX-512VL SM3 kernels are
//! checked here; the others (SM3 one-message on BMI2 and portable, 8-lane, SM2 on both
//! paths) are also covered by the Memcheck check in `asm/examples/ct_check.rs`, and are timed
//! here as well for a second opinion. An A/A
//! control per kernel (random vs random) shows this machine's noise floor.
//! Run: `cargo bench -p benches --bench gm_dudect [-- SAMPLES]`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use asm::cpu::Features;
use asm::sm2;
use asm::sm3::{self, ManyKernel};
use benches::dudect::{Rng, t_test};

fn main() {
    let samples: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let hw = Features::get();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    println!("CPU features: {hw}; {samples} samples per SM3 test; |t| < 4.5: no leak detected");

    // SM3, 16 messages of 128 bytes per sample (one lane each on the 16-lane kernel).
    let fixed = [0x5au8; 16 * 128];
    for mk in ManyKernel::available() {
        let f = hw.restricted_to(mk.features());
        for (label, fixed_class) in [("fixed vs random", Some(&fixed)), ("A/A control", None)] {
            let (t, med) = t_test(samples, &mut rng, fixed_class, |_, _, buf| {
                let msgs: Vec<&[u8]> = buf.chunks(128).collect();
                let start = Instant::now();
                let d = sm3::digest_many_with_features(f, black_box(&msgs));
                let ns = start.elapsed().as_nanos() as u64;
                black_box(d);
                ns
            });
            println!(
                "sm3 16 x 128 B  {:11} {label:16} max|t| = {t:6.2}  (median {med} ns)",
                mk.name()
            );
        }
    }

    // SM3, one 1 KiB message per sample, on every one-message kernel (Valgrind cannot run
    // the AVX-512VL one; the others are timed as a second opinion).
    let fixed_msg = [0x5au8; 1024];
    for k in sm3::Kernel::available() {
        let f = hw.restricted_to(k.features());
        for (label, fixed_class) in [("fixed vs random", Some(&fixed_msg)), ("A/A control", None)] {
            let (t, med) = t_test(samples, &mut rng, fixed_class, |_, _, buf| {
                let start = Instant::now();
                let mut h = sm3::Sm3::with_features(f);
                h.update(black_box(&buf[..]));
                let d = h.finish();
                let ns = start.elapsed().as_nanos() as u64;
                black_box(d);
                ns
            });
            println!(
                "sm3 1 KiB       {:11} {label:16} max|t| = {t:6.2}  (median {med} ns)",
                k.name()
            );
        }
    }

    // SM2: ECDH (d * Q) with a fixed vs a random private key, and the fixed-base k * G of
    // key generation and signing with a fixed vs a random scalar. Each sample is a full
    // scalar multiplication, so fewer samples.
    let sm2_samples = (samples / 20).max(2000);
    let peer = sm2::public_key(&[9u8; 32]).unwrap();
    let fixed_d = [0x3cu8; 32];
    for k in sm2::Kernel::available() {
        let f = hw.restricted_to(k.features());
        for (label, fixed_class) in [("fixed vs random", Some(&fixed_d)), ("A/A control", None)] {
            let (t, med) = t_test(sm2_samples, &mut rng, fixed_class, |_, _, d| {
                d[0] &= 0x7f; // below n
                d[31] |= 1; // not zero
                let start = Instant::now();
                let x = sm2::agree_with_features(f, black_box(d), &peer);
                let ns = start.elapsed().as_nanos() as u64;
                black_box(x).unwrap();
                ns
            });
            println!(
                "sm2 ecdh        {:11} {label:16} max|t| = {t:6.2}  (median {med} ns, {sm2_samples} samples)",
                k.name()
            );
        }
        for (label, fixed_class) in [("fixed vs random", Some(&fixed_d)), ("A/A control", None)] {
            let (t, med) = t_test(sm2_samples, &mut rng, fixed_class, |_, _, k_bytes| {
                k_bytes[0] &= 0x7f; // below n
                k_bytes[31] |= 1; // not zero
                let start = Instant::now();
                let p = sm2::raw::mul_base(k, black_box(&*k_bytes));
                let ns = start.elapsed().as_nanos() as u64;
                black_box(p).unwrap();
                ns
            });
            println!(
                "sm2 k*G         {:11} {label:16} max|t| = {t:6.2}  (median {med} ns, {sm2_samples} samples)",
                k.name()
            );
        }
    }

    // SM2 eight at a time on AVX-512 IFMA (which Valgrind cannot run): k G (key generation)
    // and k Q (agreement) on eight scalars per sample, all fixed vs all random.
    if sm2::raw::mul_base8(&[[1u8; 32]; 8], 8).is_none() {
        println!("sm2 x8 (IFMA): not on this CPU");
        return;
    }
    let fixed8 = [0x3cu8; 8 * 32];
    let peer_xy: [u8; 64] = peer[1..].try_into().unwrap();
    let lanes = |buf: &mut [u8; 256]| -> [[u8; 32]; 8] {
        let mut k = [[0u8; 32]; 8];
        for (lane, chunk) in k.iter_mut().zip(buf.chunks(32)) {
            lane.copy_from_slice(chunk);
            lane[0] &= 0x7f; // below n
            lane[31] |= 1; // not zero
        }
        k
    };
    for (label, fixed_class) in [("fixed vs random", Some(&fixed8)), ("A/A control", None)] {
        let (t, med) = t_test(sm2_samples, &mut rng, fixed_class, |_, _, buf| {
            let k = lanes(buf);
            let start = Instant::now();
            let p = sm2::raw::mul_base8(black_box(&k), 8);
            let ns = start.elapsed().as_nanos() as u64;
            black_box(p).unwrap();
            ns
        });
        println!(
            "sm2 8 x k*G     {:11} {label:16} max|t| = {t:6.2}  (median {med} ns, {sm2_samples} samples)",
            "ifma"
        );
    }
    let q = [peer_xy; 8];
    for (label, fixed_class) in [("fixed vs random", Some(&fixed8)), ("A/A control", None)] {
        let (t, med) = t_test(sm2_samples, &mut rng, fixed_class, |_, _, buf| {
            let k = lanes(buf);
            let start = Instant::now();
            let p = sm2::raw::mul_point8(black_box(&k), &q, 8);
            let ns = start.elapsed().as_nanos() as u64;
            assert!(
                black_box(p)
                    .unwrap()
                    .iter()
                    .all(|r| matches!(r, Ok(Some(_))))
            );
            ns
        });
        println!(
            "sm2 8 x ecdh    {:11} {label:16} max|t| = {t:6.2}  (median {med} ns, {sm2_samples} samples)",
            "ifma"
        );
    }
}
