#!/usr/bin/env bash
# Same-process before/after of the SM2 and SM3 C kernels (x86-64, BMI2/ADX/AVX2):
#   bash asm/tools/ab.sh REV
# builds asm/csrc's SM2 (MULX/ADX path) and one-message SM3 (BMI2, and AVX-512VL: REV must
# have csrc/sm3_avx512vl.c, 79febe8 or later) kernels from git revision REV and from the
# working tree, then times both in one process, interleaved, keeping each
# one's best of 300 runs (robust on a noisy shared machine). Also times a MULX throughput loop.
set -euo pipefail
rev=${1:?usage: ab.sh REV}
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/old" "$tmp/new"
for f in sm2_impl.h sm3_impl.h sm3_scalar.h sm3_bmi2.c sm3_avx512vl.c; do
  git -C "$root" show "$rev:asm/csrc/$f" > "$tmp/old/$f"
  cp "$root/asm/csrc/$f" "$tmp/new/$f"
done
flags=(-O3 -fno-strict-aliasing -fno-tree-vectorize -mbmi2 -madx -mavx2)
for v in old new; do
  # SM2: the exported operations plus the (static) field inversion, under this side's prefix.
  printf '#define SM2_ADX 1\n#define SM2_AVX2 1\n#define SM2_FN(name) %s_##name\n#include "sm2_impl.h"\nvoid %s_inv(u64 *r, const u64 *a) { fp_inv(r, a); }\n' "$v" "$v" > "$tmp/$v/sm2.c"
  gcc "${flags[@]}" -I"$tmp/$v" -c "$tmp/$v/sm2.c" -o "$tmp/$v/sm2.o"
  gcc "${flags[@]}" -I"$tmp/$v" -c "$tmp/$v/sm3_bmi2.c" -o "$tmp/$v/sm3.o"
  objcopy --redefine-sym "tlsfe_sm3_bmi2_blocks=${v}_sm3" "$tmp/$v/sm3.o"
  # the one-message AVX-512VL SM3 kernel with its crate flags (timed only where the CPU has
  # AVX-512VL and BMI2)
  gcc -O3 -fno-strict-aliasing -mbmi2 -mavx512f -mavx512vl -I"$tmp/$v" \
    -c "$tmp/$v/sm3_avx512vl.c" -o "$tmp/$v/sm3vl.o"
  objcopy --redefine-sym "tlsfe_sm3_vl_blocks=${v}_sm3vl" "$tmp/$v/sm3vl.o"
done
gcc -O2 -mbmi2 "$root/asm/tools/ab_main.c" "$tmp/old/sm2.o" "$tmp/old/sm3.o" \
  "$tmp/old/sm3vl.o" "$tmp/new/sm2.o" "$tmp/new/sm3.o" "$tmp/new/sm3vl.o" -o "$tmp/ab"
echo "before = $rev, after = working tree"
"$tmp/ab"
