#!/usr/bin/env bash
# Cycle figures of the GM kernels as README.md quotes them (x86-64 with GFNI, AVX-512VL,
# BMI2/ADX; a quiet machine):
#   bash asm/tools/cycles.sh
# builds asm/csrc's SM4 serial kernel (both builds), SM2 (MULX/ADX path) and the one-message
# SM3 kernels (both BMI2 ones and AVX-512VL) with the crate's flags, and runs
# asm/tools/cycles_main.c against them.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$root/asm/csrc"
gcc -O3 -fno-strict-aliasing -c "$src/sm4_gfni1.c" -o "$tmp/sm4.o"
gcc -O3 -fno-strict-aliasing -I"$src" -c "$src/sm4_gfni1_vl.c" -o "$tmp/sm4vl.o"
gcc -O3 -fno-strict-aliasing -mbmi2 -c "$src/sm3_bmi2.c" -o "$tmp/sm3.o"
gcc -O3 -fno-strict-aliasing -mbmi2 -c "$src/sm3_bmi2_rounds.c" -o "$tmp/sm3r.o"
gcc -O3 -fno-strict-aliasing -mbmi2 -mavx512f -mavx512vl -c "$src/sm3_avx512vl.c" -o "$tmp/sm3vl.o"
gcc -O3 -fno-strict-aliasing -fno-tree-vectorize -mbmi2 -madx -mavx2 -I"$src" \
  "$root/asm/tools/cycles_main.c" "$tmp/sm4.o" "$tmp/sm4vl.o" "$tmp/sm3.o" "$tmp/sm3r.o" \
  "$tmp/sm3vl.o" -o "$tmp/cycles"
"$tmp/cycles"
