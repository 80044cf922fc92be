//! Quick single-core throughput of each SM4 kernel (ECB, CTR, GCM seal) at 16 KiB:
//! `cargo run --release -p asm --example sm4_speed`. Criterion benches in `benches/` are the
//! reference; this is for iterating on kernels.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use asm::cpu::Features;
use asm::sm4::{Counter, Kernel, Sm4, Sm4Gcm};

fn rate(bytes: usize, f: impl FnMut()) -> f64 {
    let mut f = f;
    for _ in 0..50 {
        f();
    }
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed().as_millis() < 400 {
        f();
        n += 1;
    }
    (bytes * n) as f64 / start.elapsed().as_secs_f64() / 1e9
}

fn main() {
    let hw = Features::get();
    let mut buf = vec![0u8; 16384];
    for k in Kernel::available() {
        let f = hw.restricted_to(&format!("{},pclmulqdq", k.features()));
        let key = Sm4::with_features(&[7; 16], f);
        let gcm = Sm4Gcm::with_features(&[7; 16], f);
        let ecb = rate(buf.len(), || key.encrypt_blocks(&mut buf));
        let ctr = rate(buf.len(), || {
            key.ctr(&[1; 16], Counter::Full128, &mut buf);
        });
        let seal = rate(buf.len(), || {
            gcm.seal(&[1; 12], b"", &mut buf).unwrap();
        });
        println!(
            "{:12} ecb {ecb:.3} GB/s  ctr {ctr:.3} GB/s  gcm-seal {seal:.3} GB/s",
            k.name()
        );
    }
}
