//! Every algorithm across every built backend, side by side: one criterion group per
//! algorithm (`aes-128-gcm-seal`, `sm3`, `sm2-sign`, `x25519`, ...), one `BenchmarkId(backend,
//! size)` per backend and size (16 B, 1 KiB, 16 KiB for AEADs, hashes and SM4 modes; per
//! operation for signatures and key exchange), throughput set for sized groups. The operations
//! are `crypto_core::speed`'s, the same code `auto` calibration and `tls-frontend speed` run.
//!
//! Run: `cargo bench -p benches --bench primitives` (add `--features openssl` for OpenSSL).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use crypto_core::Backend;
use crypto_core::speed::{Bench, default_benches, prepare};

fn all(c: &mut Criterion) {
    // Group the default benches by id, keeping their order.
    let mut groups: Vec<(String, Vec<Bench>)> = Vec::new();
    for b in default_benches() {
        match groups.iter_mut().find(|(id, _)| *id == b.id()) {
            Some((_, v)) => v.push(b),
            None => groups.push((b.id(), vec![b])),
        }
    }
    for (id, benches) in groups {
        let mut group = c.benchmark_group(&id);
        for bench in benches {
            match bench.bytes() {
                Some(n) => group.throughput(Throughput::Bytes(n as u64)),
                None => group.throughput(Throughput::Elements(1)),
            };
            for backend in Backend::built().filter(|b| b.supports(bench.alg)) {
                let Ok(mut run) = prepare(backend, bench) else {
                    continue;
                };
                let size = bench.bytes().unwrap_or(0);
                group.bench_function(BenchmarkId::new(backend.name(), size), |b| {
                    b.iter(|| run().unwrap())
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, all);
criterion_main!(benches);
