//! `auto`: calibration picks the same selection run after run, its profile round-trips, and a
//! spec with a profile path calibrates once and then loads.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::time::Instant;

use crypto_core::speed::{Calibration, DEFAULT_BUDGET};
use crypto_core::{Algorithm, Backend, Base, Family, Selection, SelectionSpec, Target};

/// Ten consecutive calibrations choose the same backend for every algorithm. (A test of the
/// choice's stability, not of any time: the elapsed times are printed, not asserted.)
#[test]
fn auto_is_stable_over_ten_calibrations() {
    let mut first: Option<Calibration> = None;
    for i in 0..10 {
        let start = Instant::now();
        let cal = Calibration::run(DEFAULT_BUDGET);
        println!("calibration {i}: {:?}", start.elapsed());
        match &first {
            None => {
                println!("{}", cal.to_profile());
                first = Some(cal);
            }
            Some(f) => {
                for (a, b) in f.choices.iter().zip(&cal.choices) {
                    assert_eq!(a.alg, b.alg);
                    assert_eq!(
                        a.chosen, b.chosen,
                        "{}: run 0 chose {} ({:?}), run {i} chose {} ({:?})",
                        a.alg, a.chosen, a.scores, b.chosen, b.scores
                    );
                }
                assert_eq!(f.selection, cal.selection);
            }
        }
    }
    // Every algorithm some built backend implements is covered by the selection.
    let sel = first.expect("ran").selection;
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
    assert_eq!(
        b.backend_for(Algorithm::Hash(crypto_core::HashAlg::Sm3)),
        Backend::Libsm
    );
    assert_eq!(b.default_backend(), Backend::RustCrypto);
    // The spec's own overrides apply on top of auto, both times.
    for sel in [&a, &b] {
        assert_eq!(
            sel.backend_for(Algorithm::Signature(
                crypto_core::SignatureAlg::RsaPssSha256
            )),
            Backend::Ring
        );
    }
    // A corrupt profile is an error naming the file, never a silent recalibration.
    std::fs::write(&path, "backend = \"nope\"\n").unwrap();
    let e = spec.resolve().expect_err("corrupt profile");
    assert!(e.message.contains("crypto-profile"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}
