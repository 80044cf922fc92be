//! No import loops: inside each of our crates, the modules (one per file) and the paths between
//! them (`use` lines, and `crate::`, `super::`, `self::` and child-module paths in the code)
//! form a graph without cycles. Test modules (`#[cfg(test)] mod tests`) are left out: they may
//! reach anything.
//!
//! The graph is read from the source text, the way a reviewer reads it: a path names the
//! deepest module file it reaches; names re-exported at the crate root stand for the module that
//! defines them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every `.rs` file under `src`, as (module path, file).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut out = BTreeMap::new();
    let mut todo = vec![src.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut m: Module = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if m.last().is_some_and(|l| l == "mod") {
                m.pop();
            }
            if m == ["lib"] || m == ["main"] {
                m.clear();
            }
            out.insert(m, path);
        }
    }
    out
}

/// Source without comments and without the test module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text
        .split_once("#[cfg(test)]\nmod tests")
        .map_or(text.as_str(), |(before, _)| before)
        .to_owned();
    text.lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths in a `use` tree: `a::{b, c::{d, e}}` gives `a::b`, `a::c::d`, `a::c::e`.
fn use_paths(tree: &str) -> Vec<Vec<String>> {
    fn walk(prefix: &[String], s: &str, out: &mut Vec<Vec<String>>) {
        let s = s.trim();
        if let Some(open) = s.find('{')
            && s.ends_with('}')
        {
            let mut pre = prefix.to_vec();
            pre.extend(
                s[..open]
                    .split("::")
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
            );
            let inner = &s[open + 1..s.len() - 1];
            let (mut depth, mut start) = (0, 0);
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        walk(&pre, &inner[start..i], out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            walk(&pre, &inner[start..], out);
        } else {
            let s = s.split(" as ").next().unwrap_or("").trim();
            if !s.is_empty() {
                let mut p = prefix.to_vec();
                p.extend(s.split("::").map(|x| x.trim().to_owned()));
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&[], tree, &mut out);
    out
}

/// Every path in a file's code: its `use` trees, and `a::b::c` chains elsewhere.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let before = rest[..i].chars().last();
        rest = &rest[i + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(end) = rest.find(';') {
            out.extend(use_paths(&rest[..end]));
        }
    }
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let start_ok = i == 0
            || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_' || bytes[i - 1] == ':');
        if start_ok && (bytes[i].is_ascii_lowercase() || bytes[i] == '_') {
            let mut j = i;
            let mut segs = Vec::new();
            loop {
                let s = j;
                while j < bytes.len() && (bytes[j].is_alphanumeric() || bytes[j] == '_') {
                    j += 1;
                }
                segs.push(bytes[s..j].iter().collect::<String>());
                if j + 1 < bytes.len() && bytes[j] == ':' && bytes[j + 1] == ':' {
                    j += 2;
                } else {
                    break;
                }
            }
            // `a::{...}` leaves an empty last segment: the `use` reader handles those.
            if segs.len() > 1 && segs.iter().all(|s| !s.is_empty()) {
                out.push(segs);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The module graph of the crate whose sources are in `src`.
fn graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mods = modules(src);
    let root = std::fs::read_to_string(src.join("lib.rs")).unwrap_or_default();
    let mut alias: BTreeMap<String, Module> = BTreeMap::new();
    for p in paths(&root) {
        if p.len() >= 2 && mods.contains_key(&p[..1]) {
            alias.insert(p.last().unwrap().clone(), p[..p.len() - 1].to_vec());
        }
    }
    let resolve = |abs: &[String]| -> Option<Module> {
        (1..=abs.len())
            .rev()
            .map(|n| abs[..n].to_vec())
            .find(|m| mods.contains_key(m))
            .or_else(|| abs.first().and_then(|n| alias.get(n).cloned()))
    };
    let mut g = BTreeMap::new();
    for (m, file) in &mods {
        let mut deps = BTreeSet::new();
        for p in paths(&code(file)) {
            let abs: Module = match p[0].as_str() {
                "crate" => p[1..].to_vec(),
                "super" => {
                    let ups = p.iter().take_while(|s| *s == "super").count();
                    let mut base = m.clone();
                    base.truncate(base.len().saturating_sub(ups));
                    base.extend(p[ups..].iter().cloned());
                    base
                }
                "self" => m.iter().chain(&p[1..]).cloned().collect(),
                first => {
                    let mut child = m.clone();
                    child.push(first.to_owned());
                    if !mods.contains_key(&child) {
                        continue;
                    }
                    m.iter().chain(&p).cloned().collect()
                }
            };
            if let Some(r) = resolve(&abs)
                && r != *m
                && !r.is_empty()
            {
                deps.insert(r);
            }
        }
        g.insert(m.clone(), deps);
    }
    g
}

/// The strongly connected components with more than one module.
fn loops(g: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        g: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        on: BTreeSet<Module>,
        out: Vec<Vec<String>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: &Module) {
            let n = self.index.len();
            self.index.insert(v.clone(), n);
            self.low.insert(v.clone(), n);
            self.stack.push(v.clone());
            self.on.insert(v.clone());
            for w in self.g.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if self.on.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(&w);
                    let done = w == *v;
                    comp.push(w.join("::"));
                    if done {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = Tarjan {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.out
}

#[test]
fn no_module_imports_another_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for krate in ["crypto-core", "tls-frontend", "asm"] {
        let g = graph(&root.join(krate).join("src"));
        let edges: usize = g.values().map(BTreeSet::len).sum();
        let found = loops(&g);
        println!(
            "{krate}: {} modules, {edges} edges, loops: {found:?}",
            g.len()
        );
        assert!(found.is_empty(), "{krate} has import loops: {found:?}");
    }
}

/// The reader sees a loop when there is one, through each kind of path it follows.
#[test]
fn a_loop_is_seen() {
    let dir = std::env::temp_dir().join(format!("modgraph-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("room")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod room;\npub use room::b::Thing;\n").unwrap();
    std::fs::write(src.join("room/mod.rs"), "mod a;\nmod b;\n").unwrap();
    std::fs::write(src.join("room/a.rs"), "use super::b::{Thing, other::X};\n").unwrap();
    std::fs::write(
        src.join("room/b.rs"),
        "pub struct Thing;\nfn f() { crate::Thing; }\n",
    )
    .unwrap();
    assert!(loops(&graph(&src)).is_empty(), "no loop yet");
    std::fs::write(
        src.join("room/b.rs"),
        "pub struct Thing;\nfn f() { super::a::g(); }\n",
    )
    .unwrap();
    assert_eq!(loops(&graph(&src)), [["room::a", "room::b"]]);
    // Through a root re-export.
    std::fs::write(src.join("room/b.rs"), "pub struct Thing;\n").unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "mod room;\npub use room::a::G;\npub use room::b::Thing;\n",
    )
    .unwrap();
    std::fs::write(src.join("room/b.rs"), "pub struct Thing;\nuse crate::G;\n").unwrap();
    assert_eq!(loops(&graph(&src)), [["room::a", "room::b"]]);
    std::fs::remove_dir_all(&dir).ok();
}
