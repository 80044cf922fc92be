//! `tls-frontend speed`: every backend side by side, like `openssl speed` across libraries. The
//! measurements are `crypto_core::speed`'s (the same code `auto` calibrates with); this room
//! only chooses what to run and renders the table, the JSON and the SVG chart.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crypto_core::speed::{Bench, prepare, run_for};
use crypto_core::{Backend, Selection};

/// One figure.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The bench.
    pub bench: Bench,
    /// `ring`, ..., or `auto`.
    pub backend: String,
    /// For `auto`: the backend it resolved to for this algorithm.
    pub resolved: Option<Backend>,
    /// Operations per second.
    pub ops_per_sec: f64,
}

impl Figure {
    /// Bytes per second, for sized benches.
    pub fn bytes_per_sec(&self) -> Option<f64> {
        self.bench.bytes().map(|b| b as f64 * self.ops_per_sec)
    }

    /// What the table compares: bytes/s for sized benches, ops/s otherwise.
    fn score(&self) -> f64 {
        self.bytes_per_sec().unwrap_or(self.ops_per_sec)
    }
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The benches.
    pub benches: Vec<Bench>,
    /// Backends (built ones), plus whether to add the `auto` column.
    pub backends: Vec<Backend>,
    /// Add `auto`: each algorithm on the backend calibration picks.
    pub auto: bool,
    /// Time per measurement.
    pub per_figure: Duration,
    /// Rounds the time is split into: every figure is measured once per round, round after
    /// round, and keeps its best round, so that a noisy spell on a shared machine hits every
    /// figure alike instead of whichever ran then.
    pub rounds: u32,
}

impl Plan {
    /// The default plan narrowed by the command-line filters (ids and backend names).
    pub fn new(
        algorithms: Option<&str>,
        backends: Option<&str>,
        seconds: f64,
        rounds: u32,
        sizes: Option<&str>,
    ) -> Result<Self, String> {
        let mut benches = crypto_core::speed::default_benches();
        if let Some(list) = algorithms {
            let wanted: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            for w in &wanted {
                if !benches.iter().any(|b| b.id() == *w) {
                    let mut ids: Vec<String> = benches.iter().map(Bench::id).collect();
                    ids.dedup();
                    return Err(format!(
                        "unknown algorithm {w:?}; known: {}",
                        ids.join(", ")
                    ));
                }
            }
            benches.retain(|b| wanted.contains(&b.id().as_str()));
        }
        if let Some(list) = sizes {
            // Other sizes for the throughput figures (as `openssl speed -bytes`): whole blocks,
            // so that every cipher mode can take them.
            let mut wanted = Vec::new();
            for t in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let n: usize = t
                    .parse()
                    .map_err(|_| format!("--sizes: {t:?} is not a number"))?;
                if n == 0 || n > 1 << 20 || !n.is_multiple_of(16) {
                    return Err(format!(
                        "--sizes: {n}: multiples of 16 bytes up to 1 MiB (whole cipher blocks)"
                    ));
                }
                if !wanted.contains(&n) {
                    wanted.push(n);
                }
            }
            let mut out: Vec<Bench> = Vec::new();
            for b in &benches {
                if b.bytes().is_none() {
                    out.push(*b);
                } else if !out.iter().any(|o| o.alg == b.alg && o.op == b.op) {
                    out.extend(wanted.iter().map(|&n| Bench::new(b.alg, b.op, n)));
                }
            }
            benches = out;
        }
        let mut auto = true;
        let chosen: Vec<Backend> = match backends {
            None => Backend::built().collect(),
            Some(list) => {
                auto = false;
                let mut out = Vec::new();
                for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    if name == "auto" {
                        auto = true;
                        continue;
                    }
                    let b: Backend = name.parse().map_err(|e| format!("{e}"))?;
                    if !b.is_built() {
                        return Err(format!("backend {name} is not built into this binary"));
                    }
                    out.push(b);
                }
                out
            }
        };
        if !(seconds > 0.0 && seconds <= 60.0) {
            return Err("--seconds must be in (0, 60]".into());
        }
        if !(1..=1000).contains(&rounds) {
            return Err("--rounds must be in [1, 1000]".into());
        }
        Ok(Self {
            benches,
            backends: chosen,
            auto,
            per_figure: Duration::from_secs_f64(seconds),
            rounds,
        })
    }

    /// Runs it, reporting progress on stderr when it will take over a second.
    ///
    /// `auto` is not measured apart from the backend it resolves to: its figure is that
    /// backend's, from the same rounds, so the table cannot show `auto` slower than the very
    /// backend it uses (two measurements of one thing differ by the machine's noise). Only
    /// where that backend is not in the run is it measured under `auto`'s name.
    pub fn run(&self) -> Vec<Figure> {
        let selection = self.auto.then(Selection::auto);
        let mut jobs: Vec<(Bench, Backend, String)> = Vec::new();
        let mut autos: Vec<(Bench, Backend)> = Vec::new();
        for &bench in &self.benches {
            for &b in &self.backends {
                if b.supports(bench.alg) {
                    jobs.push((bench, b, b.name().to_owned()));
                }
            }
            if let Some(sel) = &selection {
                let b = sel.backend_for(bench.alg);
                if b.supports(bench.alg) {
                    if !self.backends.contains(&b) {
                        jobs.push((bench, b, "auto".to_owned()));
                    }
                    autos.push((bench, b));
                }
            }
        }
        let total = self.per_figure * jobs.len() as u32;
        let progress = total > Duration::from_secs(1);
        if progress {
            eprintln!("measuring {} figures, about {:.0?}", jobs.len(), total);
        }
        let start = Instant::now();
        // Every runner is made (and warmed up) first; one that fails is left out.
        let mut ready = Vec::new();
        for (bench, backend, label) in jobs {
            let Ok(mut runner) = prepare(backend, bench) else {
                continue;
            };
            if (0..3).any(|_| runner().is_err()) {
                continue;
            }
            // The best rate so far; None once a round has failed.
            ready.push((bench, label, runner, Some(0.0_f64)));
        }
        let slice = self.per_figure / self.rounds;
        let n = ready.len();
        for round in 0..self.rounds {
            for (i, (bench, label, runner, best)) in ready.iter_mut().enumerate() {
                let Some(so_far) = *best else {
                    continue; // failed in an earlier round
                };
                if progress {
                    eprint!(
                        "\r[{}/{}] [{}/{n}] {:<24} {:>6} {:<10}",
                        round + 1,
                        self.rounds,
                        i + 1,
                        bench.id(),
                        bench.size,
                        label
                    );
                }
                // A figure that fails mid-way is dropped, as one failing at warm-up is.
                // A batch bench's call does `items` operations; figures are per operation.
                let items = bench.items() as f64;
                *best = run_for(runner, slice)
                    .ok()
                    .map(|calls| so_far.max(calls * items));
            }
        }
        let mut out: Vec<Figure> = ready
            .into_iter()
            .filter_map(|(bench, label, _, best)| {
                best.map(|ops| Figure {
                    bench,
                    backend: label,
                    resolved: None,
                    ops_per_sec: ops,
                })
            })
            .collect();
        with_auto(&mut out, &autos);
        if progress {
            eprintln!("\rdone in {:.1?}{:40}", start.elapsed(), "");
        }
        out
    }
}

/// Adds (or labels) the `auto` figures: for each `(bench, resolved backend)`, a copy of that
/// backend's figure named `auto`, or the figure measured under `auto`'s name marked with the
/// backend it ran on.
fn with_auto(figs: &mut Vec<Figure>, autos: &[(Bench, Backend)]) {
    for &(bench, b) in autos {
        if let Some(f) = figs
            .iter_mut()
            .find(|f| f.bench == bench && f.backend == "auto")
        {
            f.resolved = Some(b);
            continue;
        }
        if let Some(f) = figs
            .iter()
            .find(|f| f.bench == bench && f.backend == b.name())
        {
            let copy = Figure {
                backend: "auto".to_owned(),
                resolved: Some(b),
                ..f.clone()
            };
            figs.push(copy);
        }
    }
}

/// What a run measured on, for the table's head: the CPU, the features our kernels dispatch
/// on, and how each figure was taken.
pub fn header(plan: &Plan) -> String {
    format!(
        "CPU: {}\nfeatures: {}\neach figure: best of {} interleaved round{} of {:.3} s; ratios to the best in the row; auto is the backend it resolved to (named in the cell)\n",
        crypto_core::speed::cpu_name(),
        asm::cpu::Features::get(),
        plan.rounds,
        if plan.rounds == 1 { "" } else { "s" },
        plan.per_figure.as_secs_f64() / f64::from(plan.rounds.max(1)),
    )
}

fn human(score: f64, sized: bool) -> String {
    if sized {
        let mb = score / 1e6;
        if mb >= 100.0 {
            format!("{mb:.0} MB/s")
        } else {
            format!("{mb:.1} MB/s")
        }
    } else if score >= 1e5 {
        format!("{:.0}k op/s", score / 1e3)
    } else if score >= 1e3 {
        format!("{:.1}k op/s", score / 1e3)
    } else {
        format!("{score:.0} op/s")
    }
}

/// Rows in first-seen order: (bench, figures).
fn rows(figs: &[Figure]) -> Vec<(Bench, Vec<&Figure>)> {
    let mut out: Vec<(Bench, Vec<&Figure>)> = Vec::new();
    for f in figs {
        match out.iter_mut().find(|(b, _)| *b == f.bench) {
            Some((_, v)) => v.push(f),
            None => out.push((f.bench, vec![f])),
        }
    }
    out
}

fn columns(figs: &[Figure]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for f in figs {
        if !cols.contains(&f.backend) {
            cols.push(f.backend.clone());
        }
    }
    // Backends in their usual order, `auto` last.
    cols.sort_by_key(|c| {
        Backend::ALL
            .iter()
            .position(|b| b.name() == c)
            .unwrap_or(Backend::ALL.len())
    });
    cols
}

/// The Markdown table: rows algorithm and size, columns backends; each cell the figure and its
/// ratio to the row's best (marked `**`).
pub fn table(figs: &[Figure]) -> String {
    let cols = columns(figs);
    let mut o = String::new();
    let _ = write!(o, "| algorithm | size |");
    for c in &cols {
        let _ = write!(o, " {c} |");
    }
    let _ = writeln!(o);
    let _ = write!(o, "|---|---:|");
    for _ in &cols {
        let _ = write!(o, "---:|");
    }
    let _ = writeln!(o);
    for (bench, fs) in rows(figs) {
        let best = fs
            .iter()
            .filter(|f| f.backend != "auto")
            .map(|f| f.score())
            .fold(0.0, f64::max);
        let size = if bench.bytes().is_some() {
            format!("{} B", bench.size)
        } else {
            "-".into()
        };
        let _ = write!(o, "| {} | {size} |", bench.id());
        for c in &cols {
            match fs.iter().find(|f| f.backend == *c) {
                None => {
                    let _ = write!(o, " - |");
                }
                Some(f) => {
                    let ratio = if best > 0.0 { f.score() / best } else { 0.0 };
                    let mut cell = format!(
                        "{} ({ratio:.2}x)",
                        human(f.score(), bench.bytes().is_some())
                    );
                    if let Some(b) = f.resolved {
                        cell.push_str(&format!(" = {b}"));
                    }
                    if c != "auto" && (f.score() - best).abs() < f64::EPSILON {
                        let _ = write!(o, " **{cell}** |");
                    } else {
                        let _ = write!(o, " {cell} |");
                    }
                }
            }
        }
        let _ = writeln!(o);
    }
    o
}

/// The JSON array, one object per figure.
pub fn json(figs: &[Figure]) -> String {
    let v: Vec<serde_json::Value> = figs
        .iter()
        .map(|f| {
            let mut o = serde_json::json!({
                "algorithm": f.bench.id(),
                "size": if f.bench.bytes().is_some() { f.bench.size } else { 0 },
                "backend": f.backend,
                "ops_per_sec": f.ops_per_sec,
            });
            if let Some(b) = f.bytes_per_sec() {
                o["bytes_per_sec"] = serde_json::json!(b);
            }
            if let Some(b) = f.resolved {
                o["resolved"] = serde_json::json!(b.name());
            }
            o
        })
        .collect();
    serde_json::to_string_pretty(&v).unwrap_or_else(|_| "[]".into())
}

const COLORS: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#9c755f",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal grouped bar chart: one group per row, one bar per backend, each bar's length
/// its figure relative to the row's best (so rows in different units share one axis), with the
/// figure written next to it.
pub fn svg(figs: &[Figure]) -> String {
    let cols = columns(figs);
    let rows = rows(figs);
    let bar = 14.0;
    let gap = 10.0;
    let label_w = 230.0;
    let plot_w = 520.0;
    let value_w = 150.0;
    let width = label_w + plot_w + value_w;
    let legend_h = 30.0;
    let group_h = |n: usize| n as f64 * bar + gap;
    let height: f64 = legend_h + rows.iter().map(|(_, fs)| group_h(fs.len())).sum::<f64>() + 30.0;
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(o, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (i, c) in cols.iter().enumerate() {
        let x = label_w + i as f64 * 90.0;
        let _ = writeln!(
            o,
            r#"<rect x="{x:.0}" y="8" width="12" height="12" fill="{}"/><text x="{:.0}" y="18">{}</text>"#,
            COLORS[i % COLORS.len()],
            x + 16.0,
            esc(c)
        );
    }
    let mut y = legend_h;
    for (bench, fs) in &rows {
        let best = fs.iter().map(|f| f.score()).fold(0.0, f64::max);
        let size = if bench.bytes().is_some() {
            format!("{} {} B", bench.id(), bench.size)
        } else {
            bench.id()
        };
        let mid = y + fs.len() as f64 * bar / 2.0 + 4.0;
        let _ = writeln!(
            o,
            r#"<text x="{:.0}" y="{mid:.1}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            esc(&size)
        );
        let mut by = y;
        for c in &cols {
            let Some(f) = fs.iter().find(|f| f.backend == *c) else {
                continue;
            };
            let ci = cols.iter().position(|x| x == c).unwrap_or(0);
            let w = if best > 0.0 {
                f.score() / best * plot_w
            } else {
                0.0
            };
            let _ = writeln!(
                o,
                r#"<rect x="{label_w:.0}" y="{by:.1}" width="{w:.1}" height="{:.0}" fill="{}"><title>{} {}</title></rect>"#,
                bar - 2.0,
                COLORS[ci % COLORS.len()],
                esc(c),
                esc(&human(f.score(), bench.bytes().is_some()))
            );
            let _ = writeln!(
                o,
                r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
                label_w + w + 4.0,
                by + bar - 4.0,
                esc(&human(f.score(), bench.bytes().is_some()))
            );
            by += bar;
        }
        y += group_h(fs.len());
    }
    let _ = writeln!(
        o,
        r##"<text x="{label_w:.0}" y="{:.0}" fill="#555">bar length: figure / best in its row (same axis for MB/s and op/s rows)</text>"##,
        height - 10.0
    );
    let _ = writeln!(o, "</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_core::{AeadAlg, Algorithm};

    fn fig(bench: Bench, backend: &str, ops: f64) -> Figure {
        Figure {
            bench,
            backend: backend.into(),
            resolved: None,
            ops_per_sec: ops,
        }
    }

    /// `--sizes` replaces the throughput figures' sizes and leaves per-operation ones alone.
    #[test]
    fn sizes_replace_the_throughput_sizes() {
        let plan = Plan::new(
            Some("sm4-ctr,sm2-sign"),
            Some("asm"),
            0.1,
            1,
            Some("16,64,64"),
        )
        .unwrap();
        let ids: Vec<(String, usize)> = plan.benches.iter().map(|b| (b.id(), b.size)).collect();
        assert_eq!(
            ids,
            [
                ("sm4-ctr".to_owned(), 16),
                ("sm4-ctr".to_owned(), 64),
                ("sm2-sign".to_owned(), 32)
            ]
        );
        for bad in ["0", "17", "x", "2097152"] {
            assert!(
                Plan::new(None, Some("asm"), 0.1, 1, Some(bad)).is_err(),
                "{bad}"
            );
        }
    }

    /// `auto` reads exactly as the backend it resolved to, whatever the noise: the same figure,
    /// the same ratio, and the backend named in the cell.
    #[test]
    fn auto_is_the_backend_it_resolved_to() {
        let bench = Bench::new(
            Algorithm::Aead(AeadAlg::Aes128Gcm),
            crypto_core::speed::Op::Seal,
            16384,
        );
        let mut figs = vec![fig(bench, "ring", 100.0), fig(bench, "aws-lc", 50.0)];
        with_auto(&mut figs, &[(bench, Backend::AwsLc)]);
        let auto = figs.iter().find(|f| f.backend == "auto").unwrap();
        assert_eq!(auto.ops_per_sec, 50.0);
        assert_eq!(auto.resolved, Some(Backend::AwsLc));
        let t = table(&figs);
        assert!(t.contains("(0.50x) = aws-lc |"), "{t}");
        // Measured under its own name (its backend was not in the run): labelled, not copied.
        let mut figs = vec![fig(bench, "ring", 100.0), fig(bench, "auto", 90.0)];
        with_auto(&mut figs, &[(bench, Backend::AwsLc)]);
        assert_eq!(figs.len(), 2);
        assert_eq!(figs[1].resolved, Some(Backend::AwsLc));
        let v: serde_json::Value = serde_json::from_str(&json(&figs)).unwrap();
        assert_eq!(v[1]["resolved"], "aws-lc");
    }
}
