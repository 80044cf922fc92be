//! Criterion benches over crypto-core's backends live in `benches/`; this library holds what
//! several of them share: the dudect-style timing test.

/// dudect-style timing checks (Reparaz, Balasch, Verbauwhede, "Dude, is my code constant
/// time?", DATE 2017): Welch's t-test between the timings of a fixed and a random class of
/// secret inputs. Used by `benches/sm4_dudect.rs` and `benches/gm_dudect.rs`.
pub mod dudect {
    /// xorshift64*: cheap, deterministic class choice and random inputs.
    #[derive(Debug)]
    pub struct Rng(pub u64);
    impl Rng {
        pub fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        pub fn fill(&mut self, b: &mut [u8]) {
            for c in b.chunks_mut(8) {
                let v = self.next_u64().to_le_bytes();
                c.copy_from_slice(&v[..c.len()]);
            }
        }
    }

    /// Online mean/variance (Welford) for one class.
    #[derive(Debug, Default, Clone, Copy)]
    pub struct Stat {
        n: f64,
        mean: f64,
        m2: f64,
    }
    impl Stat {
        pub fn push(&mut self, x: f64) {
            self.n += 1.0;
            let d = x - self.mean;
            self.mean += d / self.n;
            self.m2 += d * (x - self.mean);
        }
        pub fn var(&self) -> f64 {
            if self.n > 1.0 {
                self.m2 / (self.n - 1.0)
            } else {
                0.0
            }
        }
    }

    pub fn welch(a: &Stat, b: &Stat) -> f64 {
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
    pub fn t_test<const N: usize>(
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
                *c = rng.next_u64() & 1 == 1;
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
}
