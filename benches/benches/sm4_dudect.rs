//! dudect-style timing check of the SM4 kernels (Reparaz, Balasch, Verbauwhede, "Dude, is my
//! code constant time?", DATE 2017): the same operation is timed many times on two classes of
//! secret input, class 0 fixed (one key, one plaintext) and class 1 random (a fresh key and
//! plaintext each time), interleaved in random order; Welch's t-test compares the two timing
//! distributions (after cropping the slowest samples at several percentiles, as dudect does).
//! |t| below 4.5 means no leak was detected at this sample size; above 10, a leak is certain.
//!
//! This is the check for the paths Valgrind cannot execute (GFNI, VAES, AVX-512); it runs every
//! kernel this CPU has. Run: `cargo bench -p benches --bench sm4_dudect [-- SAMPLES]`.
//! A negative control (a secret-indexed table lookup across a large table) shows the test can
//! see a leak; an A/A control per kernel (random vs random through the same code) shows the
//! noise floor of the machine, which on shared hosts can itself exceed 4.5.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use asm::cpu::Features;
use asm::sm4::{Counter, Kernel, Sm4, Sm4Gcm};
use benches::dudect::{Rng, t_test};

/// Fixed key vs random keys: class 0 uses `fixed[j]`, class 1 `pool[j]` (same-sized pools
/// walked in the same order, so both classes touch memory the same way), each timing
/// `op(key, buf)` on the fixed plaintext. Returns |t| and the median time.
fn keyed<K>(
    samples: usize,
    rng: &mut Rng,
    fixed_pt: &[u8; 256],
    fixed: &[K],
    pool: &[K],
    op: impl Fn(&K, &mut [u8; 256]),
) -> (f64, f64) {
    t_test(samples, rng, Some(fixed_pt), |class, j, buf| {
        let key = if class {
            &pool[j % pool.len()]
        } else {
            &fixed[j % fixed.len()]
        };
        let start = Instant::now();
        op(key, buf);
        start.elapsed().as_nanos() as u64
    })
}

fn main() {
    let samples: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let hw = Features::get();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    println!("CPU features: {hw}; {samples} samples per test; |t| < 4.5: no leak detected");
    let fixed_key = [0x3cu8; 16];
    let fixed_pt = [0xa5u8; 256];
    // Keys are expanded up front into two pools of the same size, one of copies of the fixed
    // key and one of random keys, walked in the same order: both classes touch memory the same
    // way, so the timed region differs only in the secret values.
    for k in Kernel::available() {
        let f = hw.restricted_to(&format!("{},pclmulqdq,vpclmulqdq", k.features()));
        let fixed: Vec<Sm4> = (0..256)
            .map(|_| Sm4::with_features(&fixed_key, f))
            .collect();
        let pool: Vec<Sm4> = (0..256)
            .map(|_| {
                let mut key = [0u8; 16];
                rng.fill(&mut key);
                Sm4::with_features(&key, f)
            })
            .collect();
        let (t, med) = keyed(samples, &mut rng, &fixed_pt, &fixed, &pool, |key, buf| {
            key.encrypt_blocks(black_box(&mut buf[..]))
        });
        println!(
            "sm4-ecb-256B   {:12} max|t| = {t:6.2}  (median {med} ns)",
            k.name()
        );
        // A/A: two random classes through the same code; its |t| is this machine's noise floor.
        let (t, _) = t_test(samples, &mut rng, None::<&[u8; 256]>, |class, j, buf| {
            let key = if class {
                &pool[j & 255]
            } else {
                &pool[(j + 128) & 255]
            };
            let start = Instant::now();
            key.encrypt_blocks(black_box(&mut buf[..]));
            start.elapsed().as_nanos() as u64
        });
        println!(
            "  A/A control  {:12} max|t| = {t:6.2}  (random vs random)",
            k.name()
        );
        // The serial kernel (CBC encryption: one block after another) and the short-input
        // one (a 16-byte CTR record), where the kernel has them.
        let (t, med) = keyed(samples, &mut rng, &fixed_pt, &fixed, &pool, |key, buf| {
            key.cbc_encrypt(&[7; 16], black_box(&mut buf[..]))
        });
        println!(
            "sm4-cbc-256B   {:12} max|t| = {t:6.2}  (median {med} ns, serial kernel {})",
            k.name(),
            fixed[0].serial_kernel().unwrap_or("none")
        );
        let (t, med) = keyed(samples, &mut rng, &fixed_pt, &fixed, &pool, |key, buf| {
            black_box(key.ctr(&[9; 16], Counter::Full128, black_box(&mut buf[..16])));
        });
        println!(
            "sm4-ctr-16B    {:12} max|t| = {t:6.2}  (median {med} ns)",
            k.name()
        );
        let gfixed: Vec<Sm4Gcm> = (0..64)
            .map(|_| Sm4Gcm::with_features(&fixed_key, f))
            .collect();
        let gpool: Vec<Sm4Gcm> = (0..64)
            .map(|_| {
                let mut key = [0u8; 16];
                rng.fill(&mut key);
                Sm4Gcm::with_features(&key, f)
            })
            .collect();
        let (t, med) = keyed(samples, &mut rng, &fixed_pt, &gfixed, &gpool, |key, buf| {
            black_box(key.seal(&[1; 12], b"", black_box(&mut buf[..])).unwrap());
        });
        println!(
            "sm4-gcm-256B   {:12} max|t| = {t:6.2}  (median {med} ns, ghash {})",
            k.name(),
            gfixed[0].ghash_kernel()
        );
    }
    // Negative control: a lookup into a 64 MiB table indexed by secret bytes (cache misses
    // for random indices, a hit for the fixed one) must show a large |t|.
    let table = vec![1u8; 64 << 20];
    let (t, _) = t_test(samples / 4, &mut rng, Some(&[0u8; 8]), |_, _, input| {
        let idx = (u64::from_le_bytes(*input) as usize) & ((64 << 20) - 1);
        let start = Instant::now();
        black_box(table[black_box(idx)]);
        start.elapsed().as_nanos() as u64
    });
    println!("control: secret-indexed 64 MiB lookup max|t| = {t:6.2} (must be large)");
}
