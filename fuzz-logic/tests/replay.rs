//! Replays every fuzz target's seed corpus (`fuzz/corpus/<target>/`) through the target's
//! body, so `cargo test` exercises the fuzz targets on stable Rust. Each target must have
//! seeds; crashes the fuzzer found and we fixed are kept there as regressions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn corpus(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

#[test]
fn every_seed_corpus_replays_cleanly() {
    for (name, body) in fuzz_logic::TARGETS {
        let dir = corpus(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{name}: only {} seeds", files.len());
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            body(&bytes);
        }
        println!("{name}: {} seeds replayed", files.len());
    }
}

/// The targets reject garbage cleanly too (a few fixed non-seed inputs per target).
#[test]
fn edge_inputs_do_not_panic() {
    for (_, body) in fuzz_logic::TARGETS {
        for input in [
            &b""[..],
            b"\0",
            b"\xff\xff\xff\xff",
            &[0x30; 300],
            b"PROXY ",
            b"\r\n\r\n\0\r\nQUIT\n",
        ] {
            body(input);
        }
    }
}
