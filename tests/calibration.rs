//! `auto`: the rule that turns measurements into a choice, tested with injected figures (noise,
//! a busy spell, close challengers, failures: never the clock); a profile round-trips; a spec
//! with a profile path calibrates once and then loads; what the user overrides always wins.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use crypto_core::speed::{Calibration, DEFAULT_BUDGET, Measure};
use crypto_core::{
    Algorithm, Backend, Base, Family, HashAlg, Selection, SelectionSpec, SignatureAlg, Target,
};

/// Figures for [`Calibration::decide`] from a script: `speed(alg, backend, n)` is the `n`th
/// window of that pair (0-based), so a test says exactly when a backend was slow.
struct Script<F: FnMut(Algorithm, Backend, usize) -> f64> {
    speed: F,
    calls: std::collections::HashMap<(Algorithm, Backend), usize>,
}

impl<F: FnMut(Algorithm, Backend, usize) -> f64> Measure for Script<F> {
    fn measure(&mut self, alg: Algorithm, backend: Backend) -> f64 {
        let n = self.calls.entry((alg, backend)).or_insert(0);
        let v = (self.speed)(alg, backend, *n);
        *n += 1;
        v
    }
}

fn decide(speed: impl FnMut(Algorithm, Backend, usize) -> f64) -> Calibration {
    let mut script = Script {
        speed,
        calls: Default::default(),
    };
    Calibration::decide(&Backend::built().collect::<Vec<_>>(), &mut script)
}

fn chosen(cal: &Calibration, alg: Algorithm) -> Backend {
    cal.choices
        .iter()
        .find(|c| c.alg == alg)
        .map(|c| c.chosen)
        .unwrap_or_else(|| panic!("{alg} was not measured"))
}

/// A made-up CPU where backends differ per algorithm either clearly (3x and more) or hardly
/// (within 25%): the figures every noise test perturbs.
fn true_speed(alg: Algorithm, b: Backend) -> f64 {
    let base = match b {
        Backend::Ring => 10.0,
        Backend::AwsLc => 9.0,
        Backend::OpenSsl => 11.0,
        Backend::RustCrypto => 3.0,
        Backend::Asm => 40.0,
        _ => 1.0,
    };
    // Some algorithms where aws-lc is clearly best, as it is for P-384 on x86-64.
    let bonus = if b == Backend::AwsLc && Family::of(alg) == Family::Ecdsa {
        5.0
    } else {
        1.0
    };
    base * bonus
}

/// Deterministic noise: a slowdown factor in [lo, 1] (a busy machine only ever slows a run).
fn slowdown(seed: u64, alg: Algorithm, b: Backend, n: usize, lo: f64) -> f64 {
    let mut x = seed
        ^ (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ (Backend::ALL.iter().position(|x| *x == b).unwrap_or(0) as u64) << 32;
    for byte in alg.to_string().bytes() {
        x = (x ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    // The whole splitmix64 finaliser (a single multiply left the draws of some pairs
    // correlated: seven draws in a row near the bottom of the range, far beyond chance).
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    let unit = (x >> 11) as f64 / (1u64 << 53) as f64;
    lo + (1.0 - lo) * unit
}

/// Noise of up to 30% on every window of every backend never changes what is chosen: the
/// figures' true ratios are either clear or close, and close ones keep the preferred backend.
/// (The bound is what the rule holds: with a close pair at 1.22x, the 1.5x margin and seven
/// windows, uniform 40% swings flip about one pair in a hundred; an earlier noise generator
/// whose draws were correlated hid that.)
#[test]
fn noise_never_changes_the_choice() {
    let calm = decide(|a, b, _| true_speed(a, b));
    for seed in 0..40u64 {
        let noisy = decide(|a, b, n| true_speed(a, b) * slowdown(seed, a, b, n, 0.7));
        for c in &calm.choices {
            assert_eq!(
                chosen(&noisy, c.alg),
                c.chosen,
                "{}: noise seed {seed} changed the choice ({:?})",
                c.alg,
                noisy
                    .choices
                    .iter()
                    .find(|x| x.alg == c.alg)
                    .map(|x| &x.scores)
            );
        }
        assert_eq!(noisy.selection, calm.selection, "seed {seed}");
    }
    // The figures did decide something: asm where it runs, aws-lc's ECDSA by its clear lead.
    let sm3 = Algorithm::Hash(HashAlg::Sm3);
    assert_eq!(chosen(&calm, sm3), Backend::Asm);
    let p384 = Algorithm::Signature(SignatureAlg::EcdsaP384Sha384);
    assert_eq!(chosen(&calm, p384), Backend::AwsLc);
}

/// The case a loaded CI machine produced: for `random`, two challengers both clearly beat the
/// preferred backend and measured within 30% of each other (ring 7.4M/s in one run, 5.3M/s in
/// the next). The more preferred of them is chosen every time, whichever was luckier.
#[test]
fn close_challengers_do_not_trade_places() {
    let random = Algorithm::Random;
    let capable: Vec<Backend> = Backend::built().filter(|b| b.supports(random)).collect();
    let preferred = crypto_core::speed::preferred(random)
        .iter()
        .copied()
        .find(|b| capable.contains(b))
        .unwrap();
    let rivals: Vec<Backend> = capable
        .iter()
        .copied()
        .filter(|b| *b != preferred)
        .take(2)
        .collect();
    assert_eq!(
        rivals.len(),
        2,
        "needs three backends with a random generator"
    );
    let mut picks = std::collections::BTreeSet::new();
    for run in 0..20usize {
        let cal = decide(|a, b, n| {
            if a != random {
                return true_speed(a, b);
            }
            if b == preferred {
                2.0e6
            } else if b == rivals[run % 2] {
                // The one that is luckier alternates between runs.
                7.4e6
            } else if rivals.contains(&b) {
                if n % 2 == 0 { 5.3e6 } else { 6.0e6 }
            } else {
                1.0e6
            }
        });
        picks.insert(chosen(&cal, random));
    }
    assert_eq!(picks.len(), 1, "the choice flipped between runs: {picks:?}");
    let pick = *picks.iter().next().unwrap();
    assert!(rivals.contains(&pick), "a clear winner was chosen: {pick}");
}

/// A busy spell that slows the preferred backend during the whole sweep (4x) makes a challenger
/// look clearly faster; the rematch, run when the machine is calm again, outvotes it.
#[test]
fn a_busy_spell_in_the_sweep_is_outvoted_by_the_rematch() {
    let sha256 = Algorithm::Hash(HashAlg::Sha256);
    let capable: Vec<Backend> = Backend::built().filter(|b| b.supports(sha256)).collect();
    let preferred = crypto_core::speed::preferred(sha256)
        .iter()
        .copied()
        .find(|b| capable.contains(b))
        .unwrap();
    let challenger = capable.iter().copied().find(|b| *b != preferred).unwrap();
    let cal = decide(|a, b, n| {
        if a != sha256 {
            return true_speed(a, b);
        }
        match b {
            // The sweep is three windows: all slowed 4x.
            b if b == preferred && n < 3 => 2.5,
            b if b == preferred => 10.0,
            b if b == challenger => 8.0,
            _ => 1.0,
        }
    });
    let c = cal.choices.iter().find(|c| c.alg == sha256).unwrap();
    assert_eq!(c.chosen, preferred, "{:?}", c.scores);
    // The same spell with no recovery: the challenger is faster every time, and wins.
    let cal = decide(|a, b, _| {
        if a != sha256 {
            return true_speed(a, b);
        }
        match b {
            b if b == preferred => 2.5,
            b if b == challenger => 8.0,
            _ => 1.0,
        }
    });
    assert_eq!(chosen(&cal, sha256), challenger);
}

/// A backend that cannot run (scores 0) is never chosen; when the preferred one cannot, the
/// rule picks among the rest: the most preferred of them, unless another is clearly faster.
#[test]
fn a_backend_that_fails_is_never_chosen() {
    let x25519 = Algorithm::Kx(crypto_core::KxAlg::X25519);
    let preferred = crypto_core::speed::preferred(x25519)
        .iter()
        .copied()
        .find(|b| b.is_built() && b.supports(x25519))
        .unwrap();
    let cal = decide(|a, b, _| {
        if a == x25519 && b == preferred {
            0.0
        } else {
            true_speed(a, b)
        }
    });
    let pick = chosen(&cal, x25519);
    assert_ne!(pick, preferred);
    let ran: Vec<Backend> = Backend::built()
        .filter(|b| *b != preferred && *b != Backend::Libsm && b.supports(x25519))
        .collect();
    assert!(ran.contains(&pick), "{pick} did not run");
    // The most preferred of those that ran, unless one is MARGIN times faster than it.
    let order = crypto_core::speed::preferred(x25519);
    let rank = |b: &Backend| order.iter().position(|x| x == b).unwrap_or(usize::MAX);
    let most_preferred = *ran.iter().min_by_key(|b| rank(b)).unwrap();
    let clearly_faster = ran.iter().copied().find(|b| {
        true_speed(x25519, *b) > true_speed(x25519, most_preferred) * crypto_core::speed::MARGIN
    });
    assert_eq!(pick, clearly_faster.unwrap_or(most_preferred));
    // A challenger that fails is not chosen however the others score.
    let cal = decide(|a, b, _| {
        if b == Backend::Asm {
            0.0
        } else {
            true_speed(a, b)
        }
    });
    assert!(
        cal.choices
            .iter()
            .all(|c| c.chosen != Backend::Asm || c.scores.is_empty()),
        "asm chosen with no figures"
    );
}

/// A real calibration covers every algorithm some built backend implements (what it chooses
/// depends on this machine's speed and is not asserted).
#[test]
fn auto_covers_every_algorithm() {
    let sel = Calibration::run(DEFAULT_BUDGET / 4).selection;
    for alg in Algorithm::all() {
        if Backend::built().any(|b| b.supports(alg)) {
            assert!(
                sel.backend_for(alg).supports(alg),
                "{alg}: auto chose {} which lacks it",
                sel.backend_for(alg)
            );
        }
    }
}

#[test]
fn profile_round_trips_and_is_loaded_instead_of_measuring() {
    let cal = Calibration::run(DEFAULT_BUDGET / 4);
    let text = cal.to_profile();
    assert!(text.contains("# cpu: "));
    let parsed: Selection = text.parse().expect("profile parses");
    assert_eq!(parsed, cal.selection);

    let dir = std::env::temp_dir().join(format!("profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("crypto-profile");
    let spec: SelectionSpec = format!(
        "[crypto]\nbackend = \"auto\"\nprofile = \"{}\"\n\n[crypto.override]\nrsa = \"ring\"\n",
        path.display()
    )
    .parse()
    .expect("spec");
    assert_eq!(spec.base, Base::Auto);
    // First resolve: no profile yet, so it calibrates and writes one.
    let a = spec.resolve().expect("resolve");
    let written = std::fs::read_to_string(&path).expect("profile written");
    let from_file: Selection = written.parse().expect("written profile parses");
    assert_eq!(
        a,
        from_file.with_override(Target::Family(Family::Rsa), Backend::Ring)
    );
    // A hand-written profile is what the next resolve uses: proof that it loads, not measures.
    std::fs::write(
        &path,
        "backend = \"rustcrypto\"\n[override]\nsm3 = \"libsm\"\n",
    )
    .unwrap();
    let b = spec.resolve().expect("resolve from profile");
    assert_eq!(b.backend_for(Algorithm::Hash(HashAlg::Sm3)), Backend::Libsm);
    assert_eq!(b.default_backend(), Backend::RustCrypto);
    // The spec's own overrides apply on top of auto, both times.
    for sel in [&a, &b] {
        assert_eq!(
            sel.backend_for(Algorithm::Signature(SignatureAlg::RsaPssSha256)),
            Backend::Ring
        );
    }
    // A corrupt profile is an error naming the file, never a silent recalibration.
    std::fs::write(&path, "backend = \"nope\"\n").unwrap();
    let e = spec.resolve().expect_err("corrupt profile");
    assert!(e.message.contains("crypto-profile"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// What the user writes always wins over what calibration chose, for every family and every
/// backend that implements something in it: the `auto` base here is a profile naming a backend
/// for every single algorithm (as a calibration does), each different from the override.
#[test]
fn user_overrides_beat_calibration_for_every_family() {
    let dir = std::env::temp_dir().join(format!("override-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("profile");
    for family in Family::ALL {
        let members: Vec<Algorithm> = Algorithm::all()
            .into_iter()
            .filter(|a| Family::of(*a) == *family)
            .collect();
        for backend in Backend::built() {
            if !members.iter().any(|a| backend.supports(*a)) {
                continue;
            }
            // The "calibrated" profile: every algorithm on some other built backend, named
            // one by one, the way a calibration writes per-algorithm entries.
            let mut calibrated =
                Selection::single(Backend::built().find(|b| *b != backend).unwrap());
            for a in Algorithm::all() {
                if let Some(other) = Backend::built().find(|b| *b != backend && b.supports(a)) {
                    calibrated = calibrated.with_override(Target::Alg(a), other);
                }
            }
            std::fs::write(&profile, calibrated.to_string()).unwrap();
            let spec: SelectionSpec = format!(
                "backend = \"auto\"\nprofile = \"{}\"\n[override]\n{} = \"{backend}\"\n",
                profile.display(),
                family.name()
            )
            .parse()
            .unwrap();
            let sel = spec.resolve().unwrap();
            for a in &members {
                assert_eq!(
                    sel.backend_for(*a),
                    backend,
                    "[override] {} = \"{backend}\": {a} went to {}\n{sel}",
                    family.name(),
                    sel.backend_for(*a)
                );
            }
            // The printed selection says so too (what `tls-frontend selection` shows).
            let printed = sel.to_string();
            for a in &members {
                assert!(
                    !printed.contains(&format!("\n{a} = "))
                        || printed.contains(&format!("\n{a} = \"{backend}\"")),
                    "{a} printed with another backend:\n{printed}"
                );
            }
        }
    }
    // Among the user's own entries the most specific still wins.
    let spec: SelectionSpec = format!(
        "backend = \"auto\"\nprofile = \"{}\"\n[override]\nsha2 = \"rustcrypto\"\nsha384 = \"ring\"\n",
        profile.display()
    )
    .parse()
    .unwrap();
    let sel = spec.resolve().unwrap();
    assert_eq!(
        sel.backend_for(Algorithm::Hash(HashAlg::Sha384)),
        Backend::Ring
    );
    assert_eq!(
        sel.backend_for(Algorithm::Hash(HashAlg::Sha256)),
        Backend::RustCrypto
    );
    assert_eq!(
        sel.backend_for(Algorithm::Hmac(HashAlg::Sha512)),
        Backend::RustCrypto
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Hashes, HMAC and HKDF are scored on the sizes a handshake gives them (a transcript of
/// messages up to a certificate chain of a few KiB; key derivation over tens of bytes), not on
/// 16 KiB throughput, where a backend with a costly per-call set-up wins and then loses every
/// handshake. HMAC-SM3 is TLCP's record MAC as well, so a full record counts for it too.
#[test]
fn handshake_primitives_are_scored_on_handshake_sizes() {
    use crypto_core::speed::calibrated_sizes;
    for &h in HashAlg::ALL {
        for alg in [Algorithm::Hash(h), Algorithm::Hmac(h), Algorithm::Hkdf(h)] {
            let sizes = calibrated_sizes(alg);
            assert!(!sizes.is_empty(), "{alg} is not measured itself");
            let handshake_sized = sizes.iter().filter(|&&n| n <= 4096).count();
            assert!(
                handshake_sized > 0,
                "{alg}: no handshake-sized input in {sizes:?}"
            );
            if h != HashAlg::Sm3 || alg != Algorithm::Hmac(h) {
                assert_eq!(handshake_sized, sizes.len(), "{alg}: {sizes:?}");
            } else {
                assert!(
                    sizes.contains(&16384),
                    "HMAC-SM3 without a full record: {sizes:?}"
                );
            }
        }
    }
}

/// HMAC and HKDF are decided by their own figures: a backend far ahead on the hash itself but
/// behind on HMAC and HKDF gets the hash only.
#[test]
fn hmac_and_hkdf_are_decided_by_their_own_figures() {
    let hash = Algorithm::Hash(HashAlg::Sha384);
    let derived = [
        Algorithm::Hmac(HashAlg::Sha384),
        Algorithm::Hkdf(HashAlg::Sha384),
    ];
    let capable: Vec<Backend> = Backend::built()
        .filter(|b| *b != Backend::Libsm)
        .filter(|b| b.supports(hash) && derived.iter().all(|a| b.supports(*a)))
        .collect();
    assert!(
        capable.len() >= 2,
        "needs two built backends with SHA-384, HMAC and HKDF: {capable:?}"
    );
    let preferred = crypto_core::speed::preferred(hash)
        .iter()
        .copied()
        .find(|b| capable.contains(b))
        .unwrap();
    let challenger = *capable.iter().find(|b| **b != preferred).unwrap();
    let cal = decide(|alg, b, _| {
        let base = true_speed(alg, b);
        match (alg, b == challenger) {
            (a, true) if a == hash => base * 10.0,
            (a, true) if derived.contains(&a) => base * 0.2,
            _ => base,
        }
    });
    assert_eq!(chosen(&cal, hash), challenger);
    for alg in derived {
        assert_ne!(chosen(&cal, alg), challenger, "{alg}");
        assert_eq!(cal.selection.backend_for(alg), chosen(&cal, alg), "{alg}");
    }
}
