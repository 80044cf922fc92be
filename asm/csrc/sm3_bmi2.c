/*
 * SM3 for one message: RORX rotates (compiled with -mbmi2), and the message expansion done
 * four words at a time with SSE2 (baseline x86-64) between groups of four rounds, so that
 * the integer pipes run only the rounds and the vector pipes the expansion, overlapped.
 *
 * Expansion (GB/T 32905 5.3.2):
 *   W_j = P1(W_(j-16) ^ W_(j-9) ^ (W_(j-3) <<< 15)) ^ (W_(j-13) <<< 7) ^ W_(j-6).
 * The last 16 words stay in four registers (x0..x3), and the unaligned windows are built
 * from them with byte shifts (storing and reloading across two stores would stall store
 * forwarding). Word j + 3 needs W_j, computed in the same step: it is first computed with
 * that term taken as zero and then corrected by P1(W_j <<< 15), which is exact because P1
 * and the rotations are linear over GF(2).
 *
 * On the AMD EPYC VM, 16 KiB: 315 MB/s before (expansion interleaved word by word in the
 * rounds), 384 MB/s with this expansion and the round order of sm3_impl.h kept by SM3_PIN
 * (`bash asm/tools/ab.sh 79260ab`); the expansion alone gave only a few percent.
 */
#if defined(__x86_64__)
#include <emmintrin.h>
#include <stdint.h>

static inline __m128i sm3_rotl4(__m128i x, int n) {
    return _mm_or_si128(_mm_slli_epi32(x, n), _mm_srli_epi32(x, 32 - n));
}

static inline __m128i sm3_p1_4(__m128i x) {
    return _mm_xor_si128(x, _mm_xor_si128(sm3_rotl4(x, 15), sm3_rotl4(x, 23)));
}

/* words k..k+3 of the eight words lo || hi (k = 1..3) */
#define SM3_ALIGN(hi, lo, k) _mm_or_si128(_mm_srli_si128((lo), 4 * (k)), _mm_slli_si128((hi), 16 - 4 * (k)))

/* four big-endian words */
static inline __m128i sm3_load_be(const uint8_t *p) {
    __m128i x = _mm_loadu_si128((const __m128i *)p);
    x = _mm_or_si128(_mm_slli_epi16(x, 8), _mm_srli_epi16(x, 8)); /* bytes within halves */
    x = _mm_shufflelo_epi16(x, 0xb1);                              /* halves within words */
    return _mm_shufflehi_epi16(x, 0xb1);
}

/* W_j .. W_(j+3) from a, b, c, d = W_(j-16) .. W_(j-1) */
static inline __m128i sm3_expand4(__m128i a, __m128i b, __m128i c, __m128i d) {
    __m128i w9 = SM3_ALIGN(c, b, 3);   /* W_(j-9) .. W_(j-6) */
    __m128i w13 = SM3_ALIGN(b, a, 3);  /* W_(j-13) .. W_(j-10) */
    __m128i w6 = SM3_ALIGN(d, c, 2);   /* W_(j-6) .. W_(j-3) */
    __m128i w3 = _mm_srli_si128(d, 4); /* W_(j-3) .. W_(j-1), and 0 for W_j */
    __m128i x = _mm_xor_si128(_mm_xor_si128(a, w9), sm3_rotl4(w3, 15));
    x = _mm_xor_si128(sm3_p1_4(x), _mm_xor_si128(sm3_rotl4(w13, 7), w6));
    return _mm_xor_si128(x, sm3_p1_4(sm3_rotl4(_mm_slli_si128(x, 12), 15)));
}

#define SM3_GROUP_EXPAND 1
/* keep the association order of sm3_impl.h (GCC otherwise regroups the additions so that E
 * enters the round early, lengthening the critical path) */
#define SM3_PIN(x) __asm__("" : "+r"(x))
/* x0..x3 hold W_(j-12) .. W_(j+3) at the start of group j >= 12 (W_0 .. W_15 before) */
#define SM3_GROUP_STATE __m128i x0, x1, x2, x3
#define SM3_GROUP_LOAD(w, blk)                                                               \
    do {                                                                                     \
        const uint8_t *p_ = ctx + 64 * (blk);                                                \
        x0 = sm3_load_be(p_);                                                                \
        x1 = sm3_load_be(p_ + 16);                                                           \
        x2 = sm3_load_be(p_ + 32);                                                           \
        x3 = sm3_load_be(p_ + 48);                                                           \
        _mm_storeu_si128((__m128i *)(w + 0), x0);                                            \
        _mm_storeu_si128((__m128i *)(w + 4), x1);                                            \
        _mm_storeu_si128((__m128i *)(w + 8), x2);                                            \
        _mm_storeu_si128((__m128i *)(w + 12), x3);                                           \
    } while (0)
#define SM3_GROUP(j)                                                                         \
    do {                                                                                     \
        if ((j) < 12) {                                                                      \
            __m128i cur_ = (j) == 0 ? x0 : (j) == 4 ? x1 : x2;                                \
            __m128i nxt_ = (j) == 0 ? x1 : (j) == 4 ? x2 : x3;                                \
            _mm_storeu_si128((__m128i *)(wp + (j)), _mm_xor_si128(cur_, nxt_));              \
        } else {                                                                             \
            __m128i new_ = sm3_expand4(x0, x1, x2, x3);                                      \
            if ((j) + 4 < 64) _mm_storeu_si128((__m128i *)(w + (j) + 4), new_);              \
            _mm_storeu_si128((__m128i *)(wp + (j)), _mm_xor_si128(x3, new_));                \
            x0 = x1;                                                                         \
            x1 = x2;                                                                         \
            x2 = x3;                                                                         \
            x3 = new_;                                                                       \
        }                                                                                    \
    } while (0)
#define SM3_SCALAR_FN tlsfe_sm3_bmi2_blocks
#include "sm3_scalar.h"
#endif
