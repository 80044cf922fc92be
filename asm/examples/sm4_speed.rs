//! Quick single-core throughput of each SM4 kernel, side by side in one run (GB/s):
//! `cargo run --release -p asm --example sm4_speed`. The criterion benches in `benches/` are
//! the reference (and compare other backends); this one is cheap enough for a short device run.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use asm::cpu::Features;
use asm::sm4::{Counter, Kernel, Sm4, Sm4Gcm};

fn rate(bytes: usize, f: impl FnMut()) -> f64 {
    let mut f = f;
    for _ in 0..20 {
        f();
    }
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed().as_millis() < 150 {
        f();
        n += 1;
    }
    (bytes * n) as f64 / start.elapsed().as_secs_f64() / 1e9
}

fn main() {
    let hw = Features::get();
    println!("CPU features: {hw}");
    println!(
        "{:12} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}  ghash",
        "kernel", "size", "ecb", "ctr", "gcm-seal", "gcm-open", "cbc-dec"
    );
    for k in Kernel::available() {
        let f = hw.restricted_to(&format!("{},pclmulqdq,vpclmulqdq", k.features()));
        let key = Sm4::with_features(&[7; 16], f);
        let gcm = Sm4Gcm::with_features(&[7; 16], f);
        for size in [16usize, 1024, 16384] {
            let mut buf = vec![0u8; size];
            let ecb = rate(size, || key.encrypt_blocks(&mut buf));
            let ctr = rate(size, || {
                key.ctr(&[1; 16], Counter::Full128, &mut buf);
            });
            let seal = rate(size, || {
                gcm.seal(&[1; 12], b"", &mut buf).unwrap();
            });
            let mut sealed = vec![0u8; size];
            let tag = gcm.seal(&[1; 12], b"", &mut sealed).unwrap();
            let open = rate(size, || {
                buf.copy_from_slice(&sealed);
                gcm.open(&[1; 12], b"", &mut buf, &tag).unwrap();
            });
            let cbc = rate(size, || key.cbc_decrypt(&[1; 16], &mut buf));
            println!(
                "{:12} {size:>7} {ecb:>8.3} {ctr:>8.3} {seal:>8.3} {open:>8.3} {cbc:>8.3}  {}",
                k.name(),
                gcm.ghash_kernel()
            );
        }
    }
}
