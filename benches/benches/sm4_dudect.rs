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
use asm::sm4::{Kernel, Sm4, Sm4Gcm};

/// xorshift64*: cheap, deterministic class choice and random inputs.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn fill(&mut self, b: &mut [u8]) {
        for c in b.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
}

/// Online mean/variance (Welford) for one class.
#[derive(Default, Clone, Copy)]
struct Stat {
    n: f64,
    mean: f64,
    m2: f64,
}
impl Stat {
    fn push(&mut self, x: f64) {
        self.n += 1.0;
        let d = x - self.mean;
        self.mean += d / self.n;
        self.m2 += d * (x - self.mean);
    }
    fn var(&self) -> f64 {
        if self.n > 1.0 {
            self.m2 / (self.n - 1.0)
        } else {
            0.0
        }
    }
}

fn welch(a: &Stat, b: &Stat) -> f64 {
    let se = (a.var() / a.n + b.var() / b.n).sqrt();
    if se == 0.0 {
        0.0
    } else {
        (a.mean - b.mean) / se
    }
}

/// Times `op(class, input)` on the two classes; inputs are generated before each batch is
/// timed (class 0: the fixed input, class 1: random), so the code around the timed call is the
/// same for both. Returns the largest |t| over the dudect crops (no crop, and the samples below
/// the 95th..50th percentiles of the pooled times) and the median time.
fn t_test<const N: usize>(
    samples: usize,
    rng: &mut Rng,
    fixed: Option<&[u8; N]>,
    mut op: impl FnMut(bool, usize, &mut [u8; N]) -> u64,
) -> (f64, f64) {
    const BATCH: usize = 4096;
    let mut times = Vec::with_capacity(samples);
    let mut classes = Vec::with_capacity(samples);
    #[allow(clippy::useless_vec)] // up to 1 MiB: on the heap, not the stack
    let mut inputs = vec![[0u8; N]; BATCH];
    let mut batch_classes = vec![false; BATCH];
    let mut buf: [u8; N];
    let mut done = 0;
    let mut first = true;
    while done < samples {
        for (inp, c) in inputs.iter_mut().zip(batch_classes.iter_mut()) {
            *c = rng.next() & 1 == 1;
            match fixed {
                // A/A control (`None`): both classes random, so any |t| is the noise floor.
                Some(f) if !*c => *inp = *f,
                _ => rng.fill(inp),
            }
        }
        for (j, (inp, &c)) in inputs.iter().zip(&batch_classes).enumerate() {
            buf = *inp;
            let t = op(c, j, &mut buf);
            if !first {
                times.push(t as f64);
                classes.push(c);
            }
        }
        if first {
            first = false; // the first batch warms up
        } else {
            done += BATCH;
        }
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let mut worst: f64 = 0.0;
    let mut median = 0.0;
    for pct in [1.0, 0.95, 0.9, 0.8, 0.7, 0.5] {
        let cut = sorted[((sorted.len() - 1) as f64 * pct) as usize];
        if pct == 0.5 {
            median = cut;
        }
        let mut s = [Stat::default(); 2];
        for (t, c) in times.iter().zip(&classes) {
            if *t <= cut {
                s[usize::from(*c)].push(*t);
            }
        }
        worst = worst.max(welch(&s[0], &s[1]).abs());
    }
    (worst, median)
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
        let (t, med) = t_test(samples, &mut rng, Some(&fixed_pt), |class, j, buf| {
            let key = if class {
                &pool[j & 255]
            } else {
                &fixed[j & 255]
            };
            let start = Instant::now();
            key.encrypt_blocks(black_box(&mut buf[..]));
            start.elapsed().as_nanos() as u64
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
        let (t, med) = t_test(samples, &mut rng, Some(&fixed_pt), |class, j, buf| {
            let key = if class {
                &gpool[j & 63]
            } else {
                &gfixed[j & 63]
            };
            let start = Instant::now();
            black_box(key.seal(&[1; 12], b"", black_box(&mut buf[..])).unwrap());
            start.elapsed().as_nanos() as u64
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
