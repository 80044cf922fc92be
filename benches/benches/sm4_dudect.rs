//! dudect-style timing check of the SM4 kernels (Reparaz, Balasch, Verbauwhede, "Dude, is my
//! code constant time?", DATE 2017): the same operation is timed many times on two classes of
//! secret input, class 0 fixed (one key, one plaintext) and class 1 random (a fresh key and
//! plaintext each time), interleaved in random order, each key built in the same place by the
//! same instructions (`KeySlot`); Welch's t-test compares the two timing
//! distributions (after cropping the slowest samples at several percentiles, as dudect does).
//! |t| below 4.5 means no leak was detected at this sample size; above 10, a leak is certain.
//!
//! This is the check for the paths Valgrind cannot execute (GFNI, VAES, AVX-512); it runs every
//! kernel this CPU has. Run: `cargo bench -p benches --bench sm4_dudect [-- SAMPLES [KERNEL]]`
//! (a kernel name, e.g. `gfni-avx512`, runs that kernel only).
//! A negative control (a secret-indexed table lookup across a large table) shows the test can
//! see a leak; an A/A control per kernel (random vs random through the same code) shows the
//! noise floor of the machine, which on shared hosts can itself exceed 4.5.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::atomic::{Ordering, fence};
use std::time::Instant;

use asm::cpu::Features;
use asm::sm4::{Counter, Kernel, Sm4, Sm4Gcm};
use benches::dudect::{Rng, t_test};

/// One timed operation on a key made just before it, in the one place every sample uses: a
/// random key is always drawn, then kept (class 1, or both classes for the A/A control) or
/// replaced by the fixed key through a mask, and the key object is built in the same slot,
/// so both classes run the same instructions and touch the same addresses before the clock
/// starts. Returns the nanoseconds `op` took.
///
/// Why so careful: keys kept in two pools, or interleaved in one, made both classes touch
/// different addresses, and preparing the classes' keys with different code left different
/// stores in flight. On the Xeon either gave |t| in the tens to hundreds for a loop of plain
/// XORs and rotates of a key (a C replica of this harness: fixed-key copies at even 128-byte
/// slots ran 2 cycles faster than random keys at odd ones, whatever the values), which is no
/// leak in the code measured. With one slot and the same preparation the same replica gives
/// |t| < 2.5 at 300,000 samples a class.
struct KeySlot<K> {
    fixed: [u8; 16],
    rng: Rng,
    slot: Option<K>,
}

impl<K> KeySlot<K> {
    fn new(fixed: [u8; 16], seed: u64) -> Self {
        Self {
            fixed,
            rng: Rng(seed),
            slot: None,
        }
    }

    fn time(
        &mut self,
        random: bool,
        make: &impl Fn(&[u8; 16]) -> K,
        op: &impl Fn(&K, &mut [u8; 256]),
        buf: &mut [u8; 256],
    ) -> u64 {
        let mut r = [0u8; 16];
        self.rng.fill(&mut r);
        let m = black_box(0u8.wrapping_sub(u8::from(random)));
        let k: [u8; 16] = core::array::from_fn(|i| self.fixed[i] ^ ((self.fixed[i] ^ r[i]) & m));
        self.slot = None;
        let key = self.slot.insert(make(&k));
        fence(Ordering::SeqCst);
        let start = Instant::now();
        op(key, buf);
        start.elapsed().as_nanos() as u64
    }
}

/// Fixed key and plaintext (class 0) vs random ones (class 1). Returns |t| and the median.
fn keyed<K>(
    samples: usize,
    rng: &mut Rng,
    fixed_pt: &[u8; 256],
    fixed_key: &[u8; 16],
    make: impl Fn(&[u8; 16]) -> K,
    op: impl Fn(&K, &mut [u8; 256]),
) -> (f64, f64) {
    let mut slot = KeySlot::new(*fixed_key, rng.next_u64());
    t_test(samples, rng, Some(fixed_pt), |class, _, buf| {
        slot.time(class, &make, &op, buf)
    })
}

/// A/A control: random keys and plaintexts in both classes, through the same code as
/// [`keyed`]; its |t| is this machine's noise floor for that operation.
fn random_vs_random<K>(
    samples: usize,
    rng: &mut Rng,
    fixed_key: &[u8; 16],
    make: impl Fn(&[u8; 16]) -> K,
    op: impl Fn(&K, &mut [u8; 256]),
) -> f64 {
    let mut slot = KeySlot::new(*fixed_key, rng.next_u64());
    t_test(samples, rng, None::<&[u8; 256]>, |_, _, buf| {
        slot.time(true, &make, &op, buf)
    })
    .0
}

fn main() {
    let samples: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    let only: Option<String> = std::env::args()
        .skip(1)
        .find(|a| a.parse::<usize>().is_err() && !a.starts_with('-'));
    let hw = Features::get();
    if let Some(o) = &only
        && !Kernel::available().iter().any(|k| k.name() == o)
    {
        let names: Vec<&str> = Kernel::available().iter().map(|k| k.name()).collect();
        eprintln!("no kernel {o:?} on this CPU (it has {names:?})");
        std::process::exit(2);
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    println!("CPU features: {hw}; {samples} samples per test; |t| < 4.5: no leak detected");
    let fixed_key = [0x3cu8; 16];
    let fixed_pt = [0xa5u8; 256];
    // Each sample builds its key in one slot just before the clock starts (`KeySlot`), the
    // same way for both classes, so the timed region differs only in the secret values.
    for k in Kernel::available() {
        if only.as_deref().is_some_and(|o| o != k.name()) {
            continue;
        }
        let f = hw.restricted_to(&format!("{},pclmulqdq,vpclmulqdq", k.features()));
        let make = |k: &[u8; 16]| Sm4::with_features(k, f);
        let ecb = |key: &Sm4, buf: &mut [u8; 256]| key.encrypt_blocks(black_box(&mut buf[..]));
        let (t, med) = keyed(samples, &mut rng, &fixed_pt, &fixed_key, make, ecb);
        println!(
            "sm4-ecb-256B   {:12} max|t| = {t:6.2}  (median {med} ns)",
            k.name()
        );
        let t = random_vs_random(samples, &mut rng, &fixed_key, make, ecb);
        println!(
            "  A/A control  {:12} max|t| = {t:6.2}  (random vs random)",
            k.name()
        );
        // The serial kernel (CBC encryption: one block after another) and the short-input
        // one (a 16-byte CTR record), where the kernel has them.
        let cbc =
            |key: &Sm4, buf: &mut [u8; 256]| key.cbc_encrypt(&[7; 16], black_box(&mut buf[..]));
        let (t, med) = keyed(samples, &mut rng, &fixed_pt, &fixed_key, make, cbc);
        println!(
            "sm4-cbc-256B   {:12} max|t| = {t:6.2}  (median {med} ns, serial kernel {})",
            k.name(),
            make(&fixed_key).serial_kernel().unwrap_or("none")
        );
        let t = random_vs_random(samples, &mut rng, &fixed_key, make, cbc);
        println!(
            "  A/A control  {:12} max|t| = {t:6.2}  (CBC, random vs random)",
            k.name()
        );
        let ctr16 = |key: &Sm4, buf: &mut [u8; 256]| {
            black_box(key.ctr(&[9; 16], Counter::Full128, black_box(&mut buf[..16])));
        };
        let (t, med) = keyed(samples, &mut rng, &fixed_pt, &fixed_key, make, ctr16);
        println!(
            "sm4-ctr-16B    {:12} max|t| = {t:6.2}  (median {med} ns)",
            k.name()
        );
        let t = random_vs_random(samples, &mut rng, &fixed_key, make, ctr16);
        println!(
            "  A/A control  {:12} max|t| = {t:6.2}  (16-byte CTR, random vs random)",
            k.name()
        );
        let gmake = |k: &[u8; 16]| Sm4Gcm::with_features(k, f);
        let gcm = |key: &Sm4Gcm, buf: &mut [u8; 256]| {
            black_box(key.seal(&[1; 12], b"", black_box(&mut buf[..])).unwrap());
        };
        let (t, med) = keyed(samples, &mut rng, &fixed_pt, &fixed_key, gmake, gcm);
        println!(
            "sm4-gcm-256B   {:12} max|t| = {t:6.2}  (median {med} ns, ghash {})",
            k.name(),
            gmake(&fixed_key).ghash_kernel()
        );
        let t = random_vs_random(samples, &mut rng, &fixed_key, gmake, gcm);
        println!(
            "  A/A control  {:12} max|t| = {t:6.2}  (GCM, random vs random)",
            k.name()
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
