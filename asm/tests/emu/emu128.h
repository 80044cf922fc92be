/* Scalar stand-ins for the AVX-512VL intrinsics on XMM registers that csrc/sm3_avx512vl.c and
 * csrc/sm4_gfni1.c use (see sm3_vl_emu.c, sm4_gfni_emu.c), from Intel's documented semantics:
 * VPTERNLOGD's bit i is bit (a_i << 2 | b_i << 1 | c_i) of the immediate; VPROLD rotates each
 * 32-bit lane left. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

static inline __m128i emu_tern(__m128i a, __m128i b, __m128i c, int imm) {
    uint32_t x[4], y[4], z[4], r[4];
    memcpy(x, &a, 16);
    memcpy(y, &b, 16);
    memcpy(z, &c, 16);
    for (int i = 0; i < 4; i++) {
        r[i] = 0;
        for (int bit = 0; bit < 32; bit++) {
            int idx = (int)((((x[i] >> bit) & 1) << 2) | (((y[i] >> bit) & 1) << 1) |
                            ((z[i] >> bit) & 1));
            r[i] |= (uint32_t)((imm >> idx) & 1) << bit;
        }
    }
    memcpy(&a, r, 16);
    return a;
}

static inline __m128i emu_rol(__m128i a, int n) {
    uint32_t x[4];
    memcpy(x, &a, 16);
    for (int i = 0; i < 4; i++) x[i] = (x[i] << n) | (x[i] >> (32 - n));
    memcpy(&a, x, 16);
    return a;
}

#define _mm_ternarylogic_epi32 emu_tern
#define _mm_rol_epi32 emu_rol
