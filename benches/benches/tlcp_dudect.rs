//! dudect-style timing check of TLCP's CBC record opening (Lucky Thirteen): the time to open a
//! record must not depend on its padding, valid or not. Welch's t-test between a fixed class
//! and a random class of records of one length (`benches::dudect`); |t| < 4.5 means no leak
//! detected. An A/A control (random vs random) per test shows this machine's noise floor.
//!
//! Three tests per SM4-CBC backend, 512-byte fragments:
//! - valid records: padding length 0 vs a random padding length (0..=255), so the MAC covers
//!   479 down to 224 bytes of content;
//! - a wrong MAC: padding 0 vs a random padding length;
//! - a wrong MAC with padding 0 vs invalid padding (a random final byte, so the claimed
//!   padding length is random and its bytes do not match).
//!
//! Run: `cargo bench -p benches --bench tlcp_dudect [-- SAMPLES]`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use benches::dudect::{Rng, t_test};
use crypto_core::tlcp::fuzzing::CbcOpener;
use crypto_core::{Algorithm, Backend, CipherAlg};

const LEN: usize = 512;

/// IVs per padding length: both classes take fresh-looking ciphertexts, so that a backend
/// whose SM4 leaks through its data (table S-boxes) leaks equally into both, and only the
/// padding differs between the classes.
const IVS: usize = 16;

fn main() {
    let samples: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    println!("{samples} samples per test; fragments of {LEN} bytes; |t| < 4.5: no leak detected");
    let ivs: Vec<[u8; 16]> = (0..IVS).map(|i| [(i * 37 + 11) as u8; 16]).collect();
    // Every variant made once: by padding length and IV, valid and with a wrong MAC; and
    // invalid padding (the next-to-last ciphertext block's last byte changed by v, which
    // changes the final plaintext byte, the padding length, from 0 to v).
    let make = |bad: bool| -> Vec<Vec<Vec<u8>>> {
        (0..=255u8)
            .map(|p| {
                ivs.iter()
                    .map(|iv| CbcOpener::fragment(LEN, p, bad, *iv).unwrap())
                    .collect()
            })
            .collect()
    };
    let valid = make(false);
    let bad_mac = make(true);
    let bad_pad: Vec<Vec<Vec<u8>>> = (0..=255u8)
        .map(|v| {
            bad_mac[0]
                .iter()
                .map(|f| {
                    let mut f = f.clone();
                    f[LEN - 17] ^= v;
                    f
                })
                .collect()
        })
        .collect();
    for b in Backend::built().filter(|b| b.supports(Algorithm::Cipher(CipherAlg::Sm4Cbc))) {
        let mut opener = CbcOpener::new(b).unwrap();
        // Sanity: valid ones open, the others do not.
        assert!(opener.open(&mut valid[200][3].clone()));
        assert!(!opener.open(&mut bad_mac[200][3].clone()));
        assert!(!opener.open(&mut bad_pad[77][3].clone()));
        type Set = Vec<Vec<Vec<u8>>>;
        let tests: [(&str, &Set, &Set); 3] = [
            ("valid: pad 0 vs random pad", &valid, &valid),
            ("wrong MAC: pad 0 vs random pad", &bad_mac, &bad_mac),
            ("wrong MAC pad 0 vs bad padding", &bad_mac, &bad_pad),
        ];
        let mut buf = vec![0u8; LEN];
        for (name, fixed_set, random_set) in tests {
            for (label, fixed_class) in [("fixed vs random", Some(&[0u8])), ("A/A control", None)] {
                let mut pick = Rng(0x5151_5151);
                let (t, med) = t_test(
                    samples,
                    &mut Rng(0x9e37_79b9),
                    fixed_class,
                    |random, _, v| {
                        // Class 0: padding variant 0 of the fixed set; class 1: a random variant of
                        // the random set (A/A: random variants of the fixed set). Any IV in both.
                        let iv = (pick.next_u64() % IVS as u64) as usize;
                        let f = if random && fixed_class.is_some() {
                            &random_set[usize::from(v[0])][iv]
                        } else {
                            &fixed_set[usize::from(v[0])][iv]
                        };
                        buf.copy_from_slice(f);
                        let start = Instant::now();
                        let ok = opener.open(black_box(&mut buf));
                        let ns = start.elapsed().as_nanos() as u64;
                        black_box(ok);
                        ns
                    },
                );
                println!("{b:10} {name:32} {label:16} max|t| = {t:6.2}  (median {med} ns)");
            }
        }
    }
}
