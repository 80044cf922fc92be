//! Hot paths allocate nothing: AEAD seal/open per record and one-shot hashing, on every backend,
//! counted by a global allocator that tallies allocations made by the current thread.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use conformance::built_backends;
use crypto_core::{AeadAlg, Algorithm, Backend, HashAlg, Nonce, TAG_LEN};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn the_counter_sees_allocations() {
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 10]))) >= 1);
}

#[test]
fn aead_seal_and_open_allocate_nothing() {
    for b in built_backends() {
        for &alg in AeadAlg::ALL {
            if !b.supports(Algorithm::Aead(alg)) {
                continue;
            }
            let key = b.aead(alg, &vec![9; alg.key_len()]).unwrap();
            let mut buf = vec![0u8; 16384 + TAG_LEN];
            // Warm up once (lazy CPU detection, OpenSSL's first-use initialisation).
            let n = key
                .seal_in_place(&Nonce([1; 12]), b"hdr", &mut buf, 16384)
                .unwrap();
            key.open_in_place(&Nonce([1; 12]), b"hdr", &mut buf[..n])
                .unwrap();
            let count = allocations_during(|| {
                for i in 0..50u8 {
                    let nonce = Nonce([i; 12]);
                    let n = key
                        .seal_in_place(&nonce, b"hdr", &mut buf, 1000 + i as usize)
                        .unwrap();
                    key.open_in_place(&nonce, b"hdr", &mut buf[..n]).unwrap();
                }
            });
            assert_eq!(count, 0, "{b} {alg:?}: {count} allocations in 50 seal+open");
        }
    }
}

/// Hashes whose library offers no allocation-free one-shot API: libsm's SM3 copies the
/// message into a buffer, and OpenSSL's SM3 exists only behind EVP (a heap-allocated context).
const ALLOCATING_HASHES: &[(Backend, HashAlg)] = &[
    (Backend::Libsm, HashAlg::Sm3),
    (Backend::OpenSsl, HashAlg::Sm3),
];

#[test]
fn one_shot_hashing_allocates_nothing() {
    let data = vec![0xa5u8; 4096];
    for b in built_backends() {
        for &alg in HashAlg::ALL {
            if !b.supports(Algorithm::Hash(alg)) || ALLOCATING_HASHES.contains(&(b, alg)) {
                continue;
            }
            let h = b.hash(alg).unwrap();
            h.hash(&data);
            let count = allocations_during(|| {
                for _ in 0..20 {
                    std::hint::black_box(h.hash(&data));
                }
            });
            assert_eq!(count, 0, "{b} {alg:?}: {count} allocations in 20 hashes");
        }
    }
}
