//! SM3 and SM2 on our own kernels, each forced (`asm:<kernel>`), side by side with every
//! other built backend that has the algorithm (the `primitives` bench has the backends alone):
//! - `sm3`: one message of 16 KiB;
//! - `sm3-16x16KiB`: 16 independent messages of 16 KiB, aggregate throughput: the
//!   many-message kernels against hashing them one by one;
//! - `sm2-sign`, `sm2-verify`, `sm2-ecdh` (key generation plus agreement; for our kernels also
//!   `asm:<kernel>:exchange`, the two in one call as a TLS 1.3 server makes them), per operation,
//!   with ECDSA P-256, X25519 and P-256 ECDH from ring and aws-lc in the same groups as
//!   yardsticks (`yardstick:<backend>:<algorithm>`).
//!
//! Run: `cargo bench -p benches --features openssl --bench gm`.
#![allow(missing_docs, clippy::unwrap_used)]

use asm::cpu::Features;
use asm::sm2;
use asm::sm3::{self, ManyKernel};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use crypto_core::{Algorithm, Backend, HashAlg, KeyKind, KxAlg, PrivateKey, SignatureAlg};

fn sm3_one(c: &mut Criterion) {
    let data = vec![0xa5u8; 16 * 1024];
    let mut group = c.benchmark_group("sm3");
    group.throughput(Throughput::Bytes(data.len() as u64));
    let hw = Features::get();
    for k in sm3::Kernel::available() {
        let f = hw.restricted_to(k.features());
        group.bench_function(
            BenchmarkId::new(format!("asm:{}", k.name()), data.len()),
            |b| {
                b.iter(|| {
                    let mut h = sm3::Sm3::with_features(f);
                    h.update(&data);
                    h.finish()
                })
            },
        );
    }
    for backend in
        Backend::built().filter(|b| *b != Backend::Asm && b.supports(Algorithm::Hash(HashAlg::Sm3)))
    {
        let h = backend.hash(HashAlg::Sm3).unwrap();
        group.bench_function(BenchmarkId::new(backend.name(), data.len()), |b| {
            b.iter(|| h.hash(&data))
        });
    }
    group.finish();
}

fn sm3_many(c: &mut Criterion) {
    let msgs: Vec<Vec<u8>> = (0..16u8).map(|i| vec![i; 16 * 1024]).collect();
    let refs: Vec<&[u8]> = msgs.iter().map(|m| &m[..]).collect();
    let mut group = c.benchmark_group("sm3-16x16KiB");
    group.throughput(Throughput::Bytes(16 * 16 * 1024));
    let hw = Features::get();
    for mk in ManyKernel::available() {
        let f = hw.restricted_to(mk.features());
        group.bench_function(BenchmarkId::new(format!("asm:{}", mk.name()), 16), |b| {
            b.iter(|| sm3::digest_many_with_features(f, &refs))
        });
    }
    for backend in
        Backend::built().filter(|b| *b != Backend::Asm && b.supports(Algorithm::Hash(HashAlg::Sm3)))
    {
        let h = backend.hash(HashAlg::Sm3).unwrap();
        group.bench_function(BenchmarkId::new(backend.name(), 16), |b| {
            b.iter(|| refs.iter().map(|m| h.hash(m)).collect::<Vec<_>>())
        });
    }
    group.finish();
}

fn sm2_ops(c: &mut Criterion) {
    // One key for every row.
    let d = [0x3cu8; 32];
    let key = PrivateKey::from_ec_scalar(KeyKind::Sm2, &d).unwrap();
    let hw = Features::get();
    let mut fill = |b: &mut [u8]| counter_fill(b);
    let peer = sm2::public_key(&[9; 32]).unwrap();
    for op in ["sm2-sign", "sm2-verify", "sm2-ecdh"] {
        let mut group = c.benchmark_group(op);
        for k in sm2::Kernel::available() {
            let f = hw.restricted_to(k.features());
            let sk = sm2::SigningKey::with_features(&d, b"1234567812345678", f).unwrap();
            let (r, s) = sk.sign(b"message", &mut fill).unwrap();
            let id = BenchmarkId::new(format!("asm:{}", k.name()), 0);
            match op {
                "sm2-sign" => {
                    group.bench_function(id, |b| b.iter(|| sk.sign(b"message", &mut fill).unwrap()))
                }
                "sm2-verify" => group.bench_function(id, |b| {
                    b.iter(|| {
                        assert!(sm2::verify_with_features(
                            f,
                            sk.public_key(),
                            b"1234567812345678",
                            b"message",
                            &r,
                            &s
                        ))
                    })
                }),
                _ => {
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            let (eph, _) = sm2::generate_with_features(f, &mut fill).unwrap();
                            sm2::agree_with_features(f, &eph, &peer).unwrap()
                        })
                    });
                    // A server's exchange in one call: one field inversion for both products.
                    let id = BenchmarkId::new(format!("asm:{}:exchange", k.name()), 0);
                    group.bench_function(id, |b| {
                        b.iter(|| sm2::exchange_with_features(f, &mut fill, &peer).unwrap())
                    })
                }
            };
        }
        for backend in Backend::built().filter(|b| {
            *b != Backend::Asm && b.supports(Algorithm::Signature(SignatureAlg::Sm2Sm3))
        }) {
            let id = BenchmarkId::new(backend.name(), 0);
            match op {
                "sm2-sign" => {
                    let signer = backend.signing_key(SignatureAlg::Sm2Sm3, &key).unwrap();
                    group.bench_function(id, |b| b.iter(|| signer.sign(b"message").unwrap()));
                }
                "sm2-verify" => {
                    let sig = backend
                        .signing_key(SignatureAlg::Sm2Sm3, &key)
                        .unwrap()
                        .sign(b"message")
                        .unwrap();
                    let v = backend.verifier(SignatureAlg::Sm2Sm3).unwrap();
                    group.bench_function(id, |b| {
                        b.iter(|| v.verify(key.public_key(), b"message", &sig).unwrap())
                    });
                }
                _ => {
                    let kx = backend.kx(KxAlg::CurveSm2).unwrap();
                    let peer_pub = peer.to_vec();
                    group.bench_function(id, |b| {
                        b.iter(|| kx.generate().unwrap().agree(&peer_pub).unwrap())
                    });
                }
            }
        }
        // Yardsticks in the same group (the targets of the SM2 issue are relative to ECDSA
        // P-256 and X25519 on the same machine): ring and aws-lc.
        let p256 = PrivateKey::from_ec_scalar(KeyKind::EcP256, &[0x3c; 32]).unwrap();
        for backend in [Backend::Ring, Backend::AwsLc]
            .into_iter()
            .filter(|b| b.is_built())
        {
            match op {
                "sm2-sign" => {
                    let signer = backend
                        .signing_key(SignatureAlg::EcdsaP256Sha256, &p256)
                        .unwrap();
                    let id =
                        BenchmarkId::new(format!("yardstick:{}:ecdsa-p256", backend.name()), 0);
                    group.bench_function(id, |b| b.iter(|| signer.sign(b"message").unwrap()));
                }
                "sm2-verify" => {
                    let sig = backend
                        .signing_key(SignatureAlg::EcdsaP256Sha256, &p256)
                        .unwrap()
                        .sign(b"message")
                        .unwrap();
                    let v = backend.verifier(SignatureAlg::EcdsaP256Sha256).unwrap();
                    let id =
                        BenchmarkId::new(format!("yardstick:{}:ecdsa-p256", backend.name()), 0);
                    group.bench_function(id, |b| {
                        b.iter(|| v.verify(p256.public_key(), b"message", &sig).unwrap())
                    });
                }
                _ => {
                    for (alg, name) in [(KxAlg::X25519, "x25519"), (KxAlg::P256, "ecdh-p256")] {
                        let kx = backend.kx(alg).unwrap();
                        let peer_pub = kx.generate().unwrap().public_key().to_vec();
                        let id =
                            BenchmarkId::new(format!("yardstick:{}:{name}", backend.name()), 0);
                        group.bench_function(id, |b| {
                            b.iter(|| kx.generate().unwrap().agree(&peer_pub).unwrap())
                        });
                    }
                }
            }
        }
        group.finish();
    }
}

fn counter_fill(b: &mut [u8]) {
    // Benchmarks need no real entropy source; a counter-based fill keeps them independent of
    // the OS generator's cost.
    static CTR: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    for chunk in b.chunks_mut(8) {
        let v = CTR
            .fetch_add(0x9e37_79b9_7f4a_7c15, std::sync::atomic::Ordering::Relaxed)
            .to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

fn all(c: &mut Criterion) {
    sm3_one(c);
    sm3_many(c);
    sm2_ops(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
