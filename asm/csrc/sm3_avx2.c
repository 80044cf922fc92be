/*
 * SM3 on 8 independent messages at once, one per 32-bit lane of AVX2 registers (see
 * sm3_impl.h). Compiled with -mavx2. state is word-major: state[8 * word + lane].
 */
#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

typedef __m256i V;
#define ADD(a, b) _mm256_add_epi32((a), (b))
#define XOR(a, b) _mm256_xor_si256((a), (b))
#define XOR3(a, b, c) XOR(XOR((a), (b)), (c))
#define ROTL(x, n) _mm256_or_si256(_mm256_slli_epi32((x), (n)), _mm256_srli_epi32((x), 32 - (n)))
#define SET1(c) _mm256_set1_epi32((int)(c))
#define MAJ(a, b, c) \
    _mm256_or_si256(_mm256_and_si256((a), (b)), _mm256_and_si256(_mm256_or_si256((a), (b)), (c)))
#define CHOOSE(a, b, c) XOR((c), _mm256_and_si256((a), XOR((b), (c))))

/* words [8h, 8h + 8) of block blk from 8 messages, transposed so that out[i] holds word
 * 8h + i of every message, byte-swapped to big-endian order. */
static inline void load8x8(V out[8], const uint8_t *const p[8], size_t off) {
    const V bswap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2,
                                     1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
    V r[8], t[8], u[8];
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

typedef const uint8_t *const *SM3_CTX;
#define LOAD_BLOCK(w, blk)                        \
    do {                                          \
        load8x8((w), ctx, 64 * (blk));            \
        load8x8((w) + 8, ctx, 64 * (blk) + 32);   \
    } while (0)
#define SM3_COMPRESS_NAME sm3_compress_x8
#include "sm3_impl.h"

void tlsfe_sm3_avx2_x8(uint32_t state[64], const uint8_t *const ptrs[8], size_t nblocks) {
    V v[8];
    for (int i = 0; i < 8; i++) v[i] = _mm256_loadu_si256((const __m256i *)(state + 8 * i));
    sm3_compress_x8(v, ptrs, nblocks);
    for (int i = 0; i < 8; i++) _mm256_storeu_si256((__m256i *)(state + 8 * i), v[i]);
}
#endif
