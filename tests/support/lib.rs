//! Shared helpers for the workspace's integration tests: test keys, a deterministic byte
//! generator, and outcome bookkeeping for known-answer suites.

use std::path::PathBuf;

use crypto_core::{Algorithm, Backend, Error, PrivateKey};

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

/// Runs `check` for a supported algorithm, or asserts that `attempt` reports `Unsupported`.
pub fn supported_or_unsupported<T>(
    backend: Backend,
    alg: Algorithm,
    attempt: impl FnOnce() -> Result<T, Error>,
    check: impl FnOnce(),
) {
    if backend.supports(alg) {
        check();
    } else {
        match attempt() {
            Err(Error::Unsupported { alg: a, backend: b }) => {
                assert_eq!(
                    (a, b),
                    (alg, backend),
                    "Unsupported names the wrong algorithm or backend"
                );
                println!("{alg} on {backend}: Unsupported (asserted)");
            }
            Err(e) => panic!("{alg} on {backend}: expected Unsupported, got {e}"),
            Ok(_) => panic!("{alg} on {backend}: supports() says no but it worked"),
        }
    }
}

/// Whether the `openssl` CLI runs here. When it does not, the caller's check is skipped (and
/// says so), unless `REQUIRE_OPENSSL_CLI` is set (as `.ci/run` does): then this fails the test.
pub fn openssl_cli(what: &str) -> bool {
    let ok = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("REQUIRE_OPENSSL_CLI").is_none(),
            "REQUIRE_OPENSSL_CLI is set but `openssl` is not runnable"
        );
        println!("{what}: skipped, no `openssl` on PATH");
    }
    ok
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

pub mod sm2_ref;
pub mod tlcp;
pub mod tls;

/// One record of a checked-in vector file (see `data/gm/README.md` for the format).
#[derive(Debug, Clone)]
pub struct Record {
    fields: Vec<(String, String)>,
    /// 1-based line of the record's first field, for messages.
    pub line: usize,
}

impl Record {
    fn raw(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the record has `name` (as hex or as `name_ascii`).
    pub fn has(&self, name: &str) -> bool {
        self.raw(name).is_some() || self.raw(&format!("{name}_ascii")).is_some()
    }

    /// Field `name` as bytes: hex, or the text of `name_ascii`.
    pub fn bytes(&self, name: &str) -> Vec<u8> {
        if let Some(v) = self.raw(name) {
            return hex(v).unwrap_or_else(|| panic!("line {}: {name} is not hex", self.line));
        }
        if let Some(v) = self.raw(&format!("{name}_ascii")) {
            return v.as_bytes().to_vec();
        }
        panic!("line {}: no field {name}", self.line)
    }

    /// Field `name` as a decimal number.
    pub fn number(&self, name: &str) -> u64 {
        self.raw(name)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("line {}: {name} is not a number", self.line))
    }
}

/// Decodes lower- or upper-case hex (no separators).
pub fn hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Parses a vector file under `data/`: `#` comments, records of `name = value` lines separated
/// by blank lines. Values after `= ` are taken verbatim (an `_ascii` value may hold spaces).
pub fn vectors(rel: &str) -> Vec<Record> {
    let path = data_dir().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut out = Vec::new();
    let mut cur: Option<Record> = None;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            out.extend(cur.take());
            continue;
        }
        let (name, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{}:{}: not `name = value`", path.display(), i + 1));
        let value = value.strip_prefix(' ').unwrap_or(value);
        cur.get_or_insert_with(|| Record {
            fields: Vec::new(),
            line: i + 1,
        })
        .fields
        .push((name.trim().to_owned(), value.to_owned()));
    }
    out.extend(cur);
    assert!(!out.is_empty(), "{}: no records", path.display());
    out
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` from big-endian magnitudes (for signatures that
/// tools print as raw r || s).
pub fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn int(v: &[u8]) -> Vec<u8> {
        let mut v = v;
        while v.len() > 1 && v[0] == 0 {
            v = &v[1..];
        }
        let mut out = vec![0x02];
        let pad = v[0] & 0x80 != 0;
        out.push((v.len() + usize::from(pad)) as u8);
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
        out
    }
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

/// Instantiates a per-backend test suite macro once for every backend this crate knows, built
/// into this binary or not (a backend left out must answer `Unsupported`, which suites assert):
/// `for_every_backend!(suite);` expands to `suite! { ring => Backend::Ring, ... }`.
#[macro_export]
macro_rules! for_every_backend {
    ($suite:ident) => {
        $suite! {
            ring => ::crypto_core::Backend::Ring,
            aws_lc => ::crypto_core::Backend::AwsLc,
            rustcrypto => ::crypto_core::Backend::RustCrypto,
            asm => ::crypto_core::Backend::Asm,
            libsm => ::crypto_core::Backend::Libsm,
            openssl => ::crypto_core::Backend::OpenSsl,
        }
    };
}
