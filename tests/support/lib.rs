//! Shared helpers for the workspace's integration tests: test keys, a deterministic byte
//! generator, and outcome bookkeeping for known-answer suites.

use std::path::PathBuf;

use crypto_core::{Backend, PrivateKey};

/// The folder holding checked-in test data.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// Reads a file from `data/keys`.
pub fn key_file(name: &str) -> Vec<u8> {
    let path = data_dir().join("keys").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Loads a checked-in test key (PEM or DER by content).
pub fn test_key(name: &str) -> PrivateKey {
    PrivateKey::from_pem_or_der(&key_file(name)).unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

/// The backends compiled into this test binary.
pub fn built_backends() -> Vec<Backend> {
    Backend::built().collect()
}

/// A small deterministic generator (SplitMix64) so failures reproduce; not for keys in use.
#[derive(Debug)]
pub struct TestRng(u64);

impl TestRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// How many known-answer cases of each expected outcome ran, for the report and for asserting
/// that a suite really exercised its vectors.
#[derive(Debug, Default)]
pub struct Tally {
    /// Cases expected to succeed, and did.
    pub valid: usize,
    /// Cases expected to fail, and did.
    pub invalid: usize,
    /// "Acceptable" cases (either outcome allowed) that were accepted.
    pub acceptable_passed: usize,
    /// "Acceptable" cases that were rejected.
    pub acceptable_rejected: usize,
    /// Cases outside the API's domain (e.g. a 64-bit GCM nonce), by construction not runnable.
    pub out_of_domain: usize,
}

impl Tally {
    /// Prints the counts and asserts that at least `min_run` cases ran.
    pub fn finish(&self, what: &str, backend: Backend, min_run: usize) {
        let ran = self.valid + self.invalid + self.acceptable_passed + self.acceptable_rejected;
        println!(
            "{what} on {backend}: {} valid, {} invalid, {} acceptable (passed {}, rejected {}), {} outside the API's domain",
            self.valid,
            self.invalid,
            self.acceptable_passed + self.acceptable_rejected,
            self.acceptable_passed,
            self.acceptable_rejected,
            self.out_of_domain
        );
        assert!(
            ran >= min_run,
            "{what} on {backend}: only {ran} cases ran, expected at least {min_run}"
        );
    }
}
