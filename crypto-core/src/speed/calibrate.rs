//! `auto`: measure each capable backend per algorithm on this CPU, keep the preferred one
//! unless another is faster by a clear margin.
//!
//! Stability matters more than the last few percent: a fleet should not flip between backends
//! from one start to the next because a neighbour was busy. So each algorithm has a preferred
//! backend (the usual winner on x86-64 in our measurements: `tls-frontend speed`), a
//! challenger must be [`MARGIN`] times faster to replace it, every backend is timed in
//! interleaved rounds and scored by its best round (noise only ever slows a run down), a
//! challenger that wins must win again in a rematch, two challengers of about the same speed
//! are ranked by preference rather than by which was luckier, and verification-only or
//! derived algorithms follow the algorithm they derive from. The rule is [`Calibration::decide`]
//! over a [`Measure`]: the clock in production, injected figures in its tests.

use std::fmt::Write as _;
use std::time::Duration;

use super::bench::{Bench, Op, Runner, prepare, run_for};
use crate::{Algorithm, Backend, Family, Selection, SignatureAlg, Target};

/// How much faster a challenger must be to replace the preferred backend.
pub const MARGIN: f64 = 1.5;

/// The default time budget of one calibration, all algorithms together.
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(400);

/// Rounds per backend; the best round counts.
const ROUNDS: u32 = 3;

/// Extra head-to-head rounds before a challenger replaces the preferred backend.
const CONFIRM_ROUNDS: u32 = 4;

/// The preferred backends for `alg`, most preferred first; the first one built that
/// implements `alg` is the default a challenger must beat. The order is what we measured to
/// win on x86-64 (`tls-frontend speed` on the machines we build on): ring's AES-GCM and
/// OpenSSL's ChaCha20-Poly1305 lead by 1.3-1.7x, so they come first where built; no fixed
/// margin is stable for a pair whose true ratio sits near it, so the preference must already
/// name the usual winner. (OpenSSL's SHA-384/512 leads only on long inputs; on a handshake's
/// sizes its per-call set-up makes it the slowest, so hashes keep the general order.)
pub fn preferred(alg: Algorithm) -> &'static [Backend] {
    use Backend::*;
    const GENERAL: &[Backend] = &[AwsLc, Ring, OpenSsl, RustCrypto];
    const OPENSSL_FIRST: &[Backend] = &[OpenSsl, AwsLc, Ring, RustCrypto];
    const SM4: &[Backend] = &[Asm, RustCrypto, OpenSsl, Libsm];
    const GM: &[Backend] = &[Asm, RustCrypto, OpenSsl, Libsm];
    const RING_FIRST: &[Backend] = &[Ring, AwsLc, OpenSsl, RustCrypto];
    match alg {
        // ring's AES-GCM seals 16 KiB about twice as fast as aws-lc's in our builds; with
        // aws-lc preferred, noise put the ratio right at the margin (a flaky choice).
        Algorithm::Aead(crate::AeadAlg::Aes128Gcm | crate::AeadAlg::Aes256Gcm) => RING_FIRST,
        Algorithm::Aead(crate::AeadAlg::ChaCha20Poly1305) => OPENSSL_FIRST,
        _ => match Family::of(alg) {
            Family::Sm4 => SM4,
            Family::Sm3 | Family::Sm2 | Family::CurveSm2 => GM,
            _ => GENERAL,
        },
    }
}

/// The measurements that score a backend for `alg`: one or two benches whose times add up (a
/// TLS handshake pays one signature and one verification).
///
/// Hashes, HMAC and HKDF are scored on what a handshake gives them, not on throughput: a
/// transcript of messages from a few hundred bytes to a certificate chain of a few KiB, and
/// key derivation with HMAC over tens of bytes. There a backend's per-call set-up counts
/// (OpenSSL 3's context set-up made it the slowest below 1 KiB while it led at 16 KiB, and a
/// 16 KiB calibration chose it for SHA-384). HMAC-SM3 is also TLCP's record MAC, so it is
/// scored on a full record as well.
fn benches(alg: Algorithm) -> Vec<Bench> {
    match alg {
        Algorithm::Aead(_) => vec![Bench::new(alg, Op::Seal, 16384)],
        Algorithm::Hash(_) => vec![
            Bench::new(alg, Op::Digest, 256),
            Bench::new(alg, Op::Digest, 2048),
        ],
        Algorithm::Hmac(crate::HashAlg::Sm3) => vec![
            Bench::new(alg, Op::Mac, 64),
            Bench::new(alg, Op::Mac, 16384),
        ],
        Algorithm::Hmac(_) => vec![Bench::new(alg, Op::Mac, 64)],
        Algorithm::Hkdf(_) => vec![Bench::new(alg, Op::Derive, 0)],
        Algorithm::Signature(_) => vec![
            Bench::new(alg, Op::Sign, 32),
            Bench::new(alg, Op::Verify, 32),
        ],
        Algorithm::Kx(_) => vec![Bench::new(alg, Op::Agree, 0)],
        Algorithm::Cipher(_) => vec![Bench::new(alg, Op::Encrypt, 16384)],
        Algorithm::Sm2Encryption => vec![
            Bench::new(alg, Op::PkEncrypt, 32),
            Bench::new(alg, Op::PkDecrypt, 32),
        ],
        Algorithm::Random => vec![Bench::new(alg, Op::Fill, 32)],
        Algorithm::Kem(_) => vec![Bench::new(alg, Op::Agree, 0)],
        Algorithm::KxStatic(_) | Algorithm::Sm2KeyExchange => Vec::new(),
    }
}

/// The input sizes in bytes calibration times `alg` on (0 where the operation takes no
/// input, as a key agreement); empty where `alg` is not measured itself.
pub fn calibrated_sizes(alg: Algorithm) -> Vec<usize> {
    if follows(alg).is_some() {
        return Vec::new();
    }
    benches(alg).iter().map(|b| b.size).collect()
}

/// Algorithms that are not measured themselves but follow another's choice, when the chosen
/// backend implements them: every RSA scheme follows
/// RSA-PSS-SHA256 (the private-key operation dominates), SM2 encryption follows SM2 signatures,
/// static ECDH follows ephemeral, the verification-only ECDSA pairs follow the curve's own
/// scheme, the fixed-width ECDSA encodings follow the DER ones. Fewer measurements, each
/// longer, is what keeps the choice stable.
fn follows(alg: Algorithm) -> Option<Algorithm> {
    use SignatureAlg as S;
    Some(match alg {
        Algorithm::Signature(
            S::RsaPkcs1Sha256
            | S::RsaPkcs1Sha384
            | S::RsaPkcs1Sha512
            | S::RsaPssSha384
            | S::RsaPssSha512,
        ) => Algorithm::Signature(S::RsaPssSha256),
        Algorithm::Sm2Encryption => Algorithm::Signature(S::Sm2Sm3),
        Algorithm::Sm2KeyExchange => Algorithm::Kx(crate::KxAlg::CurveSm2),
        Algorithm::KxStatic(k) => Algorithm::Kx(k),
        Algorithm::Signature(S::EcdsaP256Sha384 | S::EcdsaP256Sha256Fixed) => {
            Algorithm::Signature(S::EcdsaP256Sha256)
        }
        Algorithm::Signature(S::EcdsaP384Sha256 | S::EcdsaP384Sha384Fixed) => {
            Algorithm::Signature(S::EcdsaP384Sha384)
        }
        _ => return None,
    })
}

/// What calibration decided for one algorithm.
#[derive(Clone, Debug)]
pub struct Choice {
    /// The algorithm.
    pub alg: Algorithm,
    /// The preferred backend (the default a challenger had to beat).
    pub preferred: Backend,
    /// The backend chosen.
    pub chosen: Backend,
    /// Each measured backend's score (operations per second of the scoring benches together).
    pub scores: Vec<(Backend, f64)>,
}

/// The result of one calibration.
#[derive(Clone, Debug)]
pub struct Calibration {
    /// One entry per measured algorithm.
    pub choices: Vec<Choice>,
    /// The selection built from them.
    pub selection: Selection,
    /// The CPU it was measured on.
    pub cpu: String,
}

/// The CPU model name (from /proc/cpuinfo), or "unknown".
pub fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Where calibration's figures come from: the clock when it runs for real, a script in tests
/// (the rule that turns figures into a choice is tested with injected measurements, never by
/// timing anything).
pub trait Measure {
    /// One timing window of `backend` on `alg`: scoring units per second (the operations of
    /// calibration times for it together), or 0 when it could not run.
    fn measure(&mut self, alg: Algorithm, backend: Backend) -> f64;
}

/// The real measurement: every contestant prepared and warmed up once, then timed in windows
/// of equal length.
struct Clock {
    runners: Vec<(Algorithm, Backend, Vec<Runner>)>,
    window: Duration,
}

impl Measure for Clock {
    fn measure(&mut self, alg: Algorithm, backend: Backend) -> f64 {
        self.runners
            .iter_mut()
            .find(|(a, b, _)| *a == alg && *b == backend)
            .map_or(0.0, |(_, _, r)| time(r, self.window))
    }
}

/// One algorithm's contest: the capable backends and the one a challenger must beat.
struct Contest {
    alg: Algorithm,
    preferred: Backend,
    capable: Vec<Backend>,
}

/// The algorithms calibration measures itself, each with the built backends (`libsm` left out)
/// that implement it.
fn contests(backends: &[Backend]) -> Vec<Contest> {
    Algorithm::all()
        .into_iter()
        .filter(|a| follows(*a).is_none() && !benches(*a).is_empty())
        .filter_map(|alg| {
            let capable: Vec<Backend> = backends
                .iter()
                .copied()
                .filter(|b| *b != Backend::Libsm && b.supports(alg))
                .collect();
            let preferred = preferred(alg)
                .iter()
                .copied()
                .find(|b| capable.contains(b))
                .or_else(|| capable.first().copied())?;
            Some(Contest {
                alg,
                preferred,
                capable,
            })
        })
        .collect()
}

impl Calibration {
    /// Measures every algorithm on every built backend that implements it, within about
    /// `budget` in total.
    pub fn run(budget: Duration) -> Self {
        Self::run_on(&Backend::built().collect::<Vec<_>>(), budget)
    }

    /// As [`Calibration::run`], choosing only among `backends`. `libsm` is never a
    /// candidate: its SM2 and SM4 are variable-time (a comparison backend, not one to hold
    /// secrets), and its first SM2 operation builds tables for seconds.
    pub fn run_on(backends: &[Backend], budget: Duration) -> Self {
        // Build and warm up every contestant first (key set-up and first-use costs are not
        // speed); the rounds then sweep all algorithms, so a backend's rounds are far apart in
        // time and one busy moment cannot spoil all of them.
        let contests = contests(backends);
        let mut runners = Vec::new();
        for c in contests.iter().filter(|c| c.capable.len() > 1) {
            for (b, r) in contestants(c.alg, &c.capable) {
                runners.push((c.alg, b, r));
            }
        }
        let windows = runners.len() * ROUNDS as usize;
        let mut clock = Clock {
            window: budget / windows.max(1) as u32,
            runners,
        };
        Self::decide(backends, &mut clock)
    }

    /// Calibration over `backends` with the figures `measure` gives: the same rule as
    /// [`Calibration::run_on`], for tests and for figures taken elsewhere.
    pub fn decide(backends: &[Backend], measure: &mut dyn Measure) -> Self {
        let contests = contests(backends);
        let mut best: Vec<Vec<(Backend, f64)>> = contests
            .iter()
            .map(|c| {
                if c.capable.len() > 1 {
                    c.capable.iter().map(|b| (*b, 0.0)).collect()
                } else {
                    Vec::new()
                }
            })
            .collect();
        for _ in 0..ROUNDS {
            for (c, scores) in contests.iter().zip(&mut best) {
                for (b, s) in scores.iter_mut() {
                    *s = s.max(measure.measure(c.alg, *b));
                }
            }
        }
        let mut choices = Vec::new();
        for (c, mut scores) in contests.into_iter().zip(best) {
            let mut chosen = choose(c.alg, c.preferred, &scores);
            if chosen != c.preferred {
                // A replacement must survive a rematch: more rounds of the preferred backend
                // and every challenger that beat it, taking turns, each still scored by its
                // best round. A busy moment that slowed the preferred backend's sweep rounds
                // (seen under load: 4x swings) is then outvoted instead of deciding the
                // profile.
                let challengers = beating(c.preferred, &scores);
                for _ in 0..CONFIRM_ROUNDS {
                    for (b, s) in scores.iter_mut() {
                        if *b == c.preferred || challengers.contains(b) {
                            *s = s.max(measure.measure(c.alg, *b));
                        }
                    }
                }
                chosen = choose(c.alg, c.preferred, &scores);
            }
            choices.push(Choice {
                alg: c.alg,
                preferred: c.preferred,
                chosen,
                scores,
            });
        }
        let backends: Vec<Backend> = backends
            .iter()
            .copied()
            .filter(|b| *b != Backend::Libsm)
            .collect();
        let selection = selection_from(&choices, &backends);
        Self {
            choices,
            selection,
            cpu: cpu_name(),
        }
    }

    /// The profile file: the selection's text form with a header saying where and how it was
    /// measured and each algorithm's scores as comments. [`Selection`]'s parser reads it back.
    pub fn to_profile(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# crypto-core calibration profile");
        let _ = writeln!(out, "# cpu: {}", self.cpu);
        let _ = writeln!(
            out,
            "# a challenger replaces the preferred backend only when {MARGIN}x faster"
        );
        for c in &self.choices {
            if c.scores.is_empty() {
                continue;
            }
            let scores: Vec<String> = c
                .scores
                .iter()
                .map(|(b, s)| format!("{b} {s:.0}"))
                .collect();
            let _ = writeln!(
                out,
                "# {}: {} (preferred {}; ops/s: {})",
                c.alg,
                c.chosen,
                c.preferred,
                scores.join(", ")
            );
        }
        out.push('\n');
        out.push_str(&self.selection.to_string());
        out
    }
}

type Contestant = (Backend, Vec<Runner>);

/// The backends that can run `alg`'s benches, prepared and warmed up.
fn contestants(alg: Algorithm, backends: &[Backend]) -> Vec<Contestant> {
    let benches = benches(alg);
    backends
        .iter()
        .filter_map(|&b| {
            let r: Result<Vec<_>, _> = benches.iter().map(|x| prepare(b, *x)).collect();
            let mut r = r.ok()?;
            // Warm up (lazy tables, caches, first page faults); a bench that fails here is a
            // backend that cannot run it.
            for x in &mut r {
                for _ in 0..3 {
                    x().ok()?;
                }
            }
            Some((b, r))
        })
        .collect()
}

/// One timing window: scoring units per second (the benches' times add).
fn time(runners: &mut [Runner], window: Duration) -> f64 {
    let per_bench = window / runners.len().max(1) as u32;
    let mut secs = 0.0;
    for r in runners.iter_mut() {
        match run_for(r, per_bench) {
            Ok(ops) if ops > 0.0 => secs += 1.0 / ops,
            _ => return 0.0,
        }
    }
    1.0 / secs
}

/// The backends that scored [`MARGIN`] times higher than `incumbent` (all that ran, when the
/// incumbent could not run at all).
fn beating(incumbent: Backend, scores: &[(Backend, f64)]) -> Vec<Backend> {
    let base = scores
        .iter()
        .find(|(b, _)| *b == incumbent)
        .map_or(0.0, |e| e.1);
    scores
        .iter()
        .filter(|&&(b, s)| b != incumbent && s > 0.0 && s > base * MARGIN)
        .map(|e| e.0)
        .collect()
}

/// The rule: the preferred backend stays unless another scored [`MARGIN`] times higher. Among
/// several that did, the most preferred of them (in [`preferred`] order, then
/// [`Backend::ALL`] order) stays chosen unless yet another beats it by the margin too, so two
/// challengers of about the same speed cannot trade places from one calibration to the next.
/// Uncontested (no scores): the preferred backend.
fn choose(alg: Algorithm, preferred_backend: Backend, scores: &[(Backend, f64)]) -> Backend {
    let mut challengers = beating(preferred_backend, scores);
    if challengers.is_empty() {
        return preferred_backend;
    }
    let rank = |b: &Backend| {
        (
            preferred(alg)
                .iter()
                .position(|x| x == b)
                .unwrap_or(usize::MAX),
            Backend::ALL
                .iter()
                .position(|x| x == b)
                .unwrap_or(usize::MAX),
        )
    };
    challengers.sort_by_key(rank);
    let score = |b: Backend| scores.iter().find(|e| e.0 == b).map_or(0.0, |e| e.1);
    let mut pick = challengers[0];
    for &c in &challengers[1..] {
        if score(c) > score(pick) * MARGIN {
            pick = c;
        }
    }
    pick
}

/// A selection naming a backend for every algorithm: the most common choice as the default,
/// the rest as per-algorithm overrides.
fn selection_from(choices: &[Choice], backends: &[Backend]) -> Selection {
    let chosen = |alg: Algorithm| choices.iter().find(|c| c.alg == alg).map(|c| c.chosen);
    let mut assignment: Vec<(Algorithm, Backend)> = Vec::new();
    for alg in Algorithm::all() {
        let b = match follows(alg) {
            Some(leader) => chosen(leader).filter(|b| b.supports(alg)).or_else(|| {
                preferred(alg)
                    .iter()
                    .copied()
                    .find(|b| backends.contains(b) && b.supports(alg))
            }),
            None => chosen(alg),
        };
        if let Some(b) = b {
            assignment.push((alg, b));
        }
    }
    // The most frequent backend becomes the default (ties: the earlier in Backend::ALL).
    let default = Backend::ALL
        .iter()
        .copied()
        .max_by_key(|b| {
            (
                assignment.iter().filter(|(_, x)| x == b).count(),
                std::cmp::Reverse(Backend::ALL.iter().position(|x| x == b)),
            )
        })
        .unwrap_or(Backend::RustCrypto);
    let mut sel = Selection::single(default);
    for &(alg, b) in &assignment {
        if b != default {
            sel = sel.with_override(Target::Alg(alg), b);
        }
    }
    // An override for an algorithm that shares its family's name (`x25519`) stands for the
    // family, which may pull in a sibling (`x25519-static`) chosen differently: pin those.
    for &(alg, b) in &assignment {
        if sel.backend_for(alg) != b {
            sel = sel.with_override(Target::Alg(alg), b);
        }
    }
    sel
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_measured_algorithm_has_benches_that_run_somewhere() {
        // Every algorithm some built backend has (all of them in the default build).
        for alg in Algorithm::all() {
            if follows(alg).is_some() || Backend::any_for(alg).is_none() {
                continue;
            }
            for bench in benches(alg) {
                let ran = Backend::built().any(|b| prepare(b, bench).and_then(|mut r| r()).is_ok());
                assert!(ran, "{bench:?} runs on no backend");
            }
        }
    }

    #[test]
    fn preferred_lists_name_a_capable_backend() {
        // Every algorithm some built backend has (all of them in the default build).
        for alg in Algorithm::all()
            .into_iter()
            .filter(|&a| Backend::any_for(a).is_some())
        {
            assert!(
                preferred(alg).iter().any(|b| b.supports(alg)),
                "{alg}: no preferred backend implements it"
            );
        }
    }
}
