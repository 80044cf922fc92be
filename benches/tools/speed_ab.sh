#!/usr/bin/env bash
# Before/after of every `tls-frontend speed` figure on this machine, in one run:
#   bash benches/tools/speed_ab.sh REV [RUNS]
# builds the release binary of git revision REV (in a temporary worktree, with its own target
# folder) and of the working tree, then runs `speed --json` RUNS times (default 6) for each,
# interleaved with the order alternating (before-after, after-before, ...) so drift over the run
# hits both alike. Per figure: the median over runs of each run's best-of-5-rounds; printed as
# after/before ratios (median, geometric mean, extremes). Figures only one side has are skipped.
set -euo pipefail
rev=${1:?usage: speed_ab.sh REV [RUNS]}
runs=${2:-6}
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$tmp/tree" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git -C "$root" worktree add --detach -q "$tmp/tree" "$rev"
echo "== building $rev"
(cd "$tmp/tree" && CARGO_TARGET_DIR="$tmp/target" cargo build -q --release -p tls-frontend)
echo "== building the working tree"
(cd "$root" && cargo build -q --release -p tls-frontend)
cp "$tmp/target/release/tls-frontend" "$tmp/before"
cp "$root/target/release/tls-frontend" "$tmp/after"
for i in $(seq 1 "$runs"); do
  echo "== run $i of $runs"
  if [ $((i % 2)) -eq 1 ]; then order="before after"; else order="after before"; fi
  for side in $order; do "$tmp/$side" speed --json > "$tmp/$side-$i.json" 2>/dev/null; done
done
python3 - "$tmp" "$rev" <<'PY'
import glob, json, statistics, sys
tmp, rev = sys.argv[1], sys.argv[2]
def load(side):
    d = {}
    for f in glob.glob(f"{tmp}/{side}-*.json"):
        for r in json.load(open(f)):
            d.setdefault((r["algorithm"], r["size"], r["backend"]), []).append(r["ops_per_sec"])
    return {k: statistics.median(v) for k, v in d.items()}
b, a = load("before"), load("after")
rows = sorted((a[k] / b[k], k) for k in b if k in a and b[k] > 0)
rs = [r for r, _ in rows]
name = lambda k: f"{k[0]} {k[1]} {k[2]}" if k[1] else f"{k[0]} {k[2]}"
print(f"after (working tree) / before ({rev}), ops/s, {len(rows)} figures")
print(f"median {statistics.median(rs):.3f}, geometric mean {statistics.geometric_mean(rs):.3f}, "
      f"min {rs[0]:.3f}, max {rs[-1]:.3f}")
print("lowest:  " + ", ".join(f"{name(k)} {r:.3f}" for r, k in rows[:5]))
print("highest: " + ", ".join(f"{name(k)} {r:.3f}" for r, k in rows[-5:]))
PY
