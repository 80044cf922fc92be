/*
 * Runs the one-message AVX-512VL SM3 kernel (csrc/sm3_avx512vl.c, included verbatim) on a CPU
 * without AVX-512: its two AVX-512VL intrinsics on XMM registers (VPTERNLOGD, VPROLD) are
 * replaced by scalar code written from Intel's documented semantics (the truth-table
 * immediate indexed by a << 2 | b << 1 | c; a rotate of each 32-bit lane), and the chaining
 * value after 1 to 6 blocks, from eight different starting values, must equal the scalar
 * kernel's. This checks the kernel's logic (immediates, rotations, the expansion in general
 * registers, which word each round adds); on an AVX-512 CPU asm/tests/gm_paths.rs runs the real
 * instructions against RustCrypto's sm3. Changing CHOOSE's immediate from 0xe2 to 0xe3 makes
 * every word differ.
 * Build and run (needs AVX and BMI2): gcc -O1 -mavx -mbmi2 asm/tests/emu/sm3_vl_emu.c && ./a.out
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "emu128.h"
#include "../../csrc/sm3_avx512vl.c"

#include "sm3_ref.h"

int main(void) {
    static uint8_t data[64 * 6];
    for (int i = 0; i < (int)sizeof data; i++) data[i] = (uint8_t)(i * 7 + (i >> 3) + 1);
    const uint32_t iv[8] = {0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600,
                            0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e};
    int bad = 0, words = 0;
    for (int start = 0; start < 8; start++)
        for (size_t blocks = 1; blocks <= 6; blocks++) {
            uint32_t a[8], b[8];
            for (int w = 0; w < 8; w++) a[w] = b[w] = iv[w] * (uint32_t)(2 * start + 1) + (uint32_t)start;
            tlsfe_sm3_vl_blocks(a, data, blocks);
            ref_blocks(b, data, blocks);
            for (int w = 0; w < 8; w++) bad += a[w] != b[w];
            words += 8;
        }
    printf("emulated avx512vl one-message SM3 vs scalar: %d mismatching words of %d\n", bad,
           words);
    return bad != 0;
}
