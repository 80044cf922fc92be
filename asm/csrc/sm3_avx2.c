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

#include "sm3_load8x8.h"

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
