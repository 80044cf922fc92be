//! AEAD seal and SHA-256 across every built backend, side by side (one `BenchmarkId` per
//! backend and size). Run: `cargo bench -p benches` (add `--features openssl` for OpenSSL).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use crypto_core::{AeadAlg, Algorithm, Backend, HashAlg, Nonce, TAG_LEN};

const SIZES: &[usize] = &[16, 1024, 16 * 1024];

fn aead(c: &mut Criterion) {
    for &alg in AeadAlg::ALL {
        let mut group = c.benchmark_group(format!("{}-seal", alg.id()));
        for &size in SIZES {
            group.throughput(Throughput::Bytes(size as u64));
            for backend in Backend::built().filter(|b| b.supports(Algorithm::Aead(alg))) {
                let key = backend.aead(alg, &vec![7; alg.key_len()]).unwrap();
                let mut buf = vec![0u8; size + TAG_LEN];
                group.bench_with_input(
                    BenchmarkId::new(backend.name(), size),
                    &size,
                    |b, &size| {
                        b.iter(|| {
                            key.seal_in_place(&Nonce([1; 12]), b"", &mut buf, size)
                                .unwrap()
                        })
                    },
                );
            }
        }
        group.finish();
    }
}

fn sha256(c: &mut Criterion) {
    let mut group = c.benchmark_group("sha256");
    for &size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        let data = vec![0x5a; size];
        for backend in Backend::built().filter(|b| b.supports(Algorithm::Hash(HashAlg::Sha256))) {
            let h = backend.hash(HashAlg::Sha256).unwrap();
            group.bench_with_input(BenchmarkId::new(backend.name(), size), &data, |b, d| {
                b.iter(|| h.hash(d))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, aead, sha256);
criterion_main!(benches);
