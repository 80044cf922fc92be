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

/* As load8x8 in sm3_avx2.c, on 256-bit halves: 8 words of 8 messages. */
static inline void load8x8(__m256i out[8], const uint8_t *const p[8], size_t off) {
    const __m256i bswap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
                                           3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
    __m256i r[8], t[8], u[8];
    for (int l = 0; l < 8; l++) r[l] = _mm256_loadu_si256((const __m256i *)(p[l] + off));
    for (int l = 0; l < 8; l += 2) {
        t[l] = _mm256_unpacklo_epi32(r[l], r[l + 1]);
        t[l + 1] = _mm256_unpackhi_epi32(r[l], r[l + 1]);
    }
    for (int g = 0; g < 8; g += 4) {
        u[g + 0] = _mm256_unpacklo_epi64(t[g], t[g + 2]);
        u[g + 1] = _mm256_unpackhi_epi64(t[g], t[g + 2]);
        u[g + 2] = _mm256_unpacklo_epi64(t[g + 1], t[g + 3]);
        u[g + 3] = _mm256_unpackhi_epi64(t[g + 1], t[g + 3]);
    }
    for (int i = 0; i < 4; i++) {
        out[i] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(u[i], u[i + 4], 0x20), bswap);
        out[i + 4] = _mm256_shuffle_epi8(_mm256_permute2x128_si256(u[i], u[i + 4], 0x31), bswap);
    }
}

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
