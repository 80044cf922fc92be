//! SM4 side by side: every built backend that has the mode, plus each `asm` kernel forced
//! (`asm:<kernel>` rows; the plain `asm` row is the kernel auto-selection picks), at 16 B,
//! 1 KiB and 16 KiB, single-threaded.
//! Run: `cargo bench -p benches --features openssl --bench sm4`.
#![allow(missing_docs, clippy::unwrap_used)]

use asm::cpu::Features;
use asm::sm4::{Counter, Sm4, Sm4Gcm};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use crypto_core::{AeadAlg, Algorithm, Backend, CipherAlg, Nonce, TAG_LEN};

const SIZES: &[usize] = &[16, 1024, 16 * 1024];
const KEY: [u8; 16] = [7; 16];

/// Each distinct asm SM4 path this CPU can run, by name, with the features that force it.
fn asm_paths() -> Vec<(String, Features)> {
    let hw = Features::get();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for spec in [
        "portable",
        "aesni,avx2,pclmulqdq",
        "gfni,avx2,vpclmulqdq",
        "gfni,avx512,vpclmulqdq",
    ] {
        let f = hw.restricted_to(spec);
        let k = Sm4::with_features(&KEY, f).kernel();
        if !seen.contains(&k) {
            seen.push(k);
            out.push((format!("asm:{}", k.name()), f));
        }
    }
    out
}

fn aead(c: &mut Criterion, alg: AeadAlg, open: bool) {
    let dir = if open { "open" } else { "seal" };
    let mut group = c.benchmark_group(format!("{}-{dir}", alg.id()));
    for &size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        for backend in Backend::built().filter(|b| b.supports(Algorithm::Aead(alg))) {
            let key = backend.aead(alg, &KEY).unwrap();
            let mut buf = vec![0u8; size + TAG_LEN];
            let n = key
                .seal_in_place(&Nonce([1; 12]), b"", &mut buf, size)
                .unwrap();
            let sealed = buf[..n].to_vec();
            group.bench_with_input(BenchmarkId::new(backend.name(), size), &size, |b, &size| {
                if open {
                    b.iter(|| {
                        buf[..n].copy_from_slice(&sealed);
                        key.open_in_place(&Nonce([1; 12]), b"", &mut buf[..n])
                            .unwrap()
                            .len()
                    })
                } else {
                    b.iter(|| {
                        key.seal_in_place(&Nonce([1; 12]), b"", &mut buf, size)
                            .unwrap()
                    })
                }
            });
        }
        if alg == AeadAlg::Sm4Gcm {
            for (name, f) in asm_paths() {
                let key = Sm4Gcm::with_features(&KEY, f);
                let mut buf = vec![0u8; size];
                let tag = key.seal(&[1; 12], b"", &mut buf).unwrap();
                let sealed = buf.clone();
                group.bench_with_input(BenchmarkId::new(&name, size), &size, |b, _| {
                    if open {
                        b.iter(|| {
                            buf.copy_from_slice(&sealed);
                            key.open(&[1; 12], b"", &mut buf, &tag).unwrap()
                        })
                    } else {
                        b.iter(|| key.seal(&[1; 12], b"", &mut buf).unwrap())
                    }
                });
            }
        }
    }
    group.finish();
}

fn gcm_seal(c: &mut Criterion) {
    aead(c, AeadAlg::Sm4Gcm, false);
}
fn gcm_open(c: &mut Criterion) {
    aead(c, AeadAlg::Sm4Gcm, true);
}
fn ccm_seal(c: &mut Criterion) {
    aead(c, AeadAlg::Sm4Ccm, false);
}

#[derive(Clone, Copy)]
enum Op {
    Ctr,
    CbcEncrypt,
    CbcDecrypt,
}

fn modes(c: &mut Criterion, op: Op) {
    let (alg, name) = match op {
        Op::Ctr => (CipherAlg::Sm4Ctr, "sm4-ctr"),
        Op::CbcEncrypt => (CipherAlg::Sm4Cbc, "sm4-cbc-encrypt"),
        Op::CbcDecrypt => (CipherAlg::Sm4Cbc, "sm4-cbc-decrypt"),
    };
    let mut group = c.benchmark_group(name);
    for &size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        for backend in Backend::built().filter(|b| b.supports(Algorithm::Cipher(alg))) {
            let key = backend.cipher(alg, &KEY).unwrap();
            let mut buf = vec![0u8; size];
            group.bench_with_input(BenchmarkId::new(backend.name(), size), &size, |b, _| {
                b.iter(|| match op {
                    Op::CbcDecrypt => key.decrypt(&[3; 16], &mut buf).unwrap(),
                    _ => key.encrypt(&[3; 16], &mut buf).unwrap(),
                })
            });
        }
        for (pname, f) in asm_paths() {
            let key = Sm4::with_features(&KEY, f);
            let mut buf = vec![0u8; size];
            group.bench_with_input(BenchmarkId::new(&pname, size), &size, |b, _| {
                b.iter(|| match op {
                    Op::Ctr => {
                        key.ctr(&[3; 16], Counter::Full128, &mut buf);
                    }
                    Op::CbcEncrypt => key.cbc_encrypt(&[3; 16], &mut buf),
                    Op::CbcDecrypt => key.cbc_decrypt(&[3; 16], &mut buf),
                })
            });
        }
    }
    group.finish();
}

fn ctr(c: &mut Criterion) {
    modes(c, Op::Ctr);
}
fn cbc_encrypt(c: &mut Criterion) {
    modes(c, Op::CbcEncrypt);
}
fn cbc_decrypt(c: &mut Criterion) {
    modes(c, Op::CbcDecrypt);
}

criterion_group!(
    benches,
    ctr,
    gcm_seal,
    gcm_open,
    ccm_seal,
    cbc_decrypt,
    cbc_encrypt
);
criterion_main!(benches);
