/*
 * The serial and short-input SM4 kernel of sm4_gfni1.c, built for CPUs with AVX-512VL: its
 * rounds combine three terms with one VPTERNLOGD (see XOR4 there). Same functions, same
 * arguments, under the names tlsfe_sm4_gfni1_vl_*.
 */
#define SM4G1_VL 1
#define SM4G1_FN(name) tlsfe_sm4_gfni1_vl_##name
#define TARGET __attribute__((target("avx,gfni,ssse3,avx512f,avx512vl")))
#include "sm4_gfni1.c"
