//! Prints the backend x algorithm support matrix and checks it against README.md, so the README
//! can never claim what the code does not do (or hide what it does).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use crypto_core::{Algorithm, Backend, support_matrix};

const START: &str = "<!-- support-matrix:start -->";
const END: &str = "<!-- support-matrix:end -->";

#[test]
fn readme_matrix_matches_the_code() {
    let matrix = support_matrix(Backend::ALL);
    println!("{matrix}");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let start = readme
        .find(START)
        .expect("README has the matrix start marker")
        + START.len();
    let end = readme.find(END).expect("README has the matrix end marker");
    let table: Vec<Vec<String>> = readme[start..end]
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .collect();
    let header = &table[0];
    assert_eq!(header[0], "algorithm");
    let names: Vec<&str> = Backend::ALL.iter().map(|b| b.name()).collect();
    assert_eq!(
        header[1..].iter().map(String::as_str).collect::<Vec<_>>(),
        names,
        "README columns"
    );
    let rows = &table[2..];
    let algorithms = Algorithm::all();
    assert_eq!(rows.len(), algorithms.len(), "README rows");
    for (row, alg) in rows.iter().zip(&algorithms) {
        assert_eq!(row[0], alg.to_string());
        for (cell, b) in row[1..].iter().zip(Backend::ALL) {
            // A backend not built here cannot be checked in this run (CI builds it in another).
            if b.is_built() {
                let expected = if b.supports(*alg) { "yes" } else { "no" };
                assert_eq!(cell, expected, "README says {cell} for {alg} on {b}");
            } else {
                assert!(
                    cell == "yes" || cell == "no",
                    "README cell for {alg} on {b}: {cell}"
                );
            }
        }
    }
}
