//! The dependency policy, checked from cargo itself (the `cargo deny` checks this project
//! needs, without an extra tool). Cargo may download manifests it has not seen yet (a fresh
//! machine that only built the default features has not fetched the OpenSSL crates): the test
//! must pass from an empty cargo home, so it is not run `--offline`.
//! - **Bans.** ring, aws-lc-rs (and aws-lc-sys) and openssl (and openssl-sys) are reachable from
//!   the crates we ship (`tls-frontend`, `crypto-core`, `asm`) and from the benches only
//!   through `crypto-core`: every path to them in `cargo tree` (normal and build edges, each
//!   package resolved on its own, nothing deduplicated) passes through it. The one exception is
//!   this test crate's dev-dependency on rustls with its own aws-lc-rs provider, the
//!   independent peer of `tls_pq.rs`.
//! - **Licenses.** Every package in the workspace's resolved graph has an SPDX license
//!   expression that is satisfied by permissive licenses alone.
//!
//! A negative check on each rule makes sure the parsing sees what it must.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::process::Command;

const BANNED: &[&str] = &["ring", "aws-lc-rs", "aws-lc-sys", "openssl", "openssl-sys"];
const GATE: &str = "crypto-core";

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// The platform this test runs on, as cargo names it: the graph is the one this machine builds
/// (other platforms' packages, such as Windows console crates, are never downloaded here).
fn host_triple() -> String {
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names its host")
        .trim()
        .to_owned()
}

/// `cargo tree` for one package, as (depth, package name) lines.
fn tree(package: &str, features: &[&str]) -> Vec<(usize, String)> {
    let mut cmd = cargo();
    cmd.args([
        "tree",
        "-p",
        package,
        "-e",
        "normal,build",
        "--no-dedupe",
        "--prefix",
        "depth",
    ]);
    for f in features {
        cmd.args(["--features", f]);
    }
    let out = cmd.output().expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_tree(&String::from_utf8(out.stdout).unwrap())
}

fn parse_tree(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .filter_map(|l| {
            let digits = l.chars().take_while(char::is_ascii_digit).count();
            let depth = l[..digits].parse().ok()?;
            let name = l[digits..].split_whitespace().next()?.to_owned();
            Some((depth, name))
        })
        .collect()
}

/// Paths from the root to a banned package that do not pass through the gate, as text.
fn violations(lines: &[(usize, String)]) -> Vec<String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut bad = Vec::new();
    for (depth, name) in lines {
        stack.truncate(*depth);
        stack.push(name);
        if BANNED.contains(&name.as_str()) && !stack[..stack.len() - 1].contains(&GATE) {
            bad.push(stack.join(" -> "));
        }
    }
    bad
}

#[test]
fn crypto_libraries_are_reachable_only_through_crypto_core() {
    for package in ["tls-frontend", "crypto-core", "asm", "benches"] {
        // asm does not depend on crypto-core, so it has no openssl feature to turn on.
        let variants: &[&[&str]] = if package == "asm" {
            &[&[]]
        } else {
            &[&[], &["crypto-core/openssl"]]
        };
        for &features in variants {
            let lines = tree(package, features);
            assert!(lines.len() > 1, "{package}: empty tree");
            let bad = violations(&lines);
            assert!(
                bad.is_empty(),
                "{package} {features:?} reaches a crypto library directly:\n{}",
                bad.join("\n")
            );
            let banned_seen = lines
                .iter()
                .filter(|(_, n)| BANNED.contains(&n.as_str()))
                .count();
            println!(
                "{package} {features:?}: {} tree lines, {banned_seen} paths to ring/aws-lc/openssl, all through {GATE}",
                lines.len()
            );
        }
    }
    // The rule bites: a direct edge is reported.
    let fake =
        parse_tree("0tls-frontend v0\n1rustls v0\n2aws-lc-rs v1\n1crypto-core v0\n2ring v0\n");
    assert_eq!(violations(&fake), ["tls-frontend -> rustls -> aws-lc-rs"]);
}

/// Whether an SPDX expression can be satisfied with permissive licenses only. `/` is the old
/// spelling of OR; `WITH` exceptions are accepted when the license is.
fn spdx_ok(expr: &str) -> bool {
    const ALLOWED: &[&str] = &[
        "MIT",
        "MIT-0",
        "Apache-2.0",
        "BSD-1-Clause",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "ISC",
        "Unlicense",
        "CC0-1.0",
        "Zlib",
        "Unicode-3.0",
        "Unicode-DFS-2016",
        "OpenSSL",
    ];
    let spaced = expr
        .replace('(', " ( ")
        .replace(')', " ) ")
        .replace('/', " OR ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    fn or(t: &[&str], i: &mut usize, allowed: &[&str]) -> Option<bool> {
        let mut v = and(t, i, allowed)?;
        while t.get(*i) == Some(&"OR") {
            *i += 1;
            v |= and(t, i, allowed)?;
        }
        Some(v)
    }
    fn and(t: &[&str], i: &mut usize, allowed: &[&str]) -> Option<bool> {
        let mut v = atom(t, i, allowed)?;
        while t.get(*i) == Some(&"AND") {
            *i += 1;
            v &= atom(t, i, allowed)?;
        }
        Some(v)
    }
    fn atom(t: &[&str], i: &mut usize, allowed: &[&str]) -> Option<bool> {
        let tok = *t.get(*i)?;
        *i += 1;
        let v = if tok == "(" {
            let v = or(t, i, allowed)?;
            (t.get(*i) == Some(&")")).then_some(())?;
            *i += 1;
            v
        } else {
            allowed.contains(&tok)
        };
        if t.get(*i) == Some(&"WITH") {
            *i += 2; // the exception only widens what the license allows
        }
        Some(v)
    }
    let mut i = 0;
    or(&tokens, &mut i, ALLOWED).is_some_and(|v| v && i == tokens.len())
}

#[test]
fn every_dependency_has_a_permissive_license() {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--filter-platform"])
        .arg(host_triple())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let mut refused = BTreeSet::new();
    for p in packages {
        let name = p["name"].as_str().unwrap();
        match p["license"].as_str() {
            Some(l) if spdx_ok(l) => {}
            other => {
                refused.insert(format!("{name}: {other:?}"));
            }
        }
    }
    println!("{} packages, all permissively licensed", packages.len());
    assert!(
        refused.is_empty(),
        "licenses outside the policy:\n{}",
        refused.iter().cloned().collect::<Vec<_>>().join("\n")
    );
    // The parser is strict where it must be.
    assert!(spdx_ok("MIT OR Apache-2.0 OR LGPL-2.1-or-later"));
    assert!(!spdx_ok("LGPL-2.1-or-later"));
    assert!(!spdx_ok("MIT AND GPL-3.0"));
    assert!(spdx_ok("Apache-2.0 WITH LLVM-exception OR MIT"));
    assert!(spdx_ok("(MIT OR Apache-2.0) AND Unicode-3.0"));
    assert!(!spdx_ok("(MIT OR Apache-2.0"));
}
