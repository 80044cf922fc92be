/*
 * SM3 on 16 independent messages at once, one per 32-bit lane of AVX-512 registers (see
 * sm3_impl.h): VPROLD rotates, VPTERNLOGD for the three-input functions. Compiled with
 * -mavx512f -mavx512bw -mavx512vl -mavx2. state is word-major: state[16 * word + lane].
 */
#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

typedef __m512i V;
#define ADD(a, b) _mm512_add_epi32((a), (b))
#define XOR(a, b) _mm512_xor_si512((a), (b))
#define XOR3(a, b, c) _mm512_ternarylogic_epi32((a), (b), (c), 0x96)
#define ROTL(x, n) _mm512_rol_epi32((x), (n))
#define SET1(c) _mm512_set1_epi32((int)(c))
#define MAJ(a, b, c) _mm512_ternarylogic_epi32((a), (b), (c), 0xe8)
#define CHOOSE(a, b, c) _mm512_ternarylogic_epi32((a), (b), (c), 0xca)

#include "sm3_load8x8.h"

static inline void load16(V out[8], const uint8_t *const p[16], size_t off) {
    __m256i lo[8], hi[8];
    load8x8(lo, p, off);
    load8x8(hi, p + 8, off);
    for (int i = 0; i < 8; i++)
        out[i] = _mm512_inserti64x4(_mm512_castsi256_si512(lo[i]), hi[i], 1);
}

typedef const uint8_t *const *SM3_CTX;
#define LOAD_BLOCK(w, blk)                       \
    do {                                         \
        load16((w), ctx, 64 * (blk));            \
        load16((w) + 8, ctx, 64 * (blk) + 32);   \
    } while (0)
#define SM3_COMPRESS_NAME sm3_compress_x16
#include "sm3_impl.h"

void tlsfe_sm3_avx512_x16(uint32_t state[128], const uint8_t *const ptrs[16], size_t nblocks) {
    V v[8];
    for (int i = 0; i < 8; i++) v[i] = _mm512_loadu_si512((const void *)(state + 16 * i));
    sm3_compress_x16(v, ptrs, nblocks);
    for (int i = 0; i < 8; i++) _mm512_storeu_si512((void *)(state + 16 * i), v[i]);
}
#endif
