/*
 * The 128-bit GHASH pieces shared by ghash_pclmul.c and ghash_vpclmul.c: byte reversal,
 * unreduced carry-less products, and the shift-by-one-and-reduce of Gueron and Kounavis
 * ("Intel Carry-Less Multiplication Instruction and its Usage for Computing the GCM Mode").
 * Registers only; no memory operand.
 */
#ifndef TLSFE_GHASH_COMMON_H
#define TLSFE_GHASH_COMMON_H

#include <immintrin.h>

#define GHASH_T128 __attribute__((target("pclmul,ssse3,sse4.1")))

GHASH_T128 static inline __m128i bswap128(__m128i x) {
    return _mm_shuffle_epi8(x, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

/* Unreduced 256-bit product lo/hi (Karatsuba-free schoolbook: four multiplications). */
GHASH_T128 static inline void mul_acc(__m128i a, __m128i b, __m128i *lo, __m128i *hi, __m128i *mid) {
    *lo = _mm_xor_si128(*lo, _mm_clmulepi64_si128(a, b, 0x00));
    *hi = _mm_xor_si128(*hi, _mm_clmulepi64_si128(a, b, 0x11));
    *mid = _mm_xor_si128(*mid, _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x10),
                                             _mm_clmulepi64_si128(a, b, 0x01)));
}

/* Folds the middle term, shifts left by one and reduces. */
GHASH_T128 static inline __m128i reduce(__m128i lo, __m128i hi, __m128i mid) {
    lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
    hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
    /* 256-bit shift left by one. */
    __m128i c_lo = _mm_srli_epi32(lo, 31);
    __m128i c_hi = _mm_srli_epi32(hi, 31);
    lo = _mm_slli_epi32(lo, 1);
    hi = _mm_slli_epi32(hi, 1);
    __m128i top = _mm_srli_si128(c_lo, 12);
    c_hi = _mm_slli_si128(c_hi, 4);
    c_lo = _mm_slli_si128(c_lo, 4);
    lo = _mm_or_si128(lo, c_lo);
    hi = _mm_or_si128(_mm_or_si128(hi, c_hi), top);
    /* Reduction, first phase. */
    __m128i a = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi32(lo, 31), _mm_slli_epi32(lo, 30)),
                              _mm_slli_epi32(lo, 25));
    __m128i carry = _mm_srli_si128(a, 4);
    lo = _mm_xor_si128(lo, _mm_slli_si128(a, 12));
    /* Second phase. */
    __m128i b = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi32(lo, 1), _mm_srli_epi32(lo, 2)),
                              _mm_srli_epi32(lo, 7));
    b = _mm_xor_si128(b, carry);
    lo = _mm_xor_si128(lo, b);
    return _mm_xor_si128(hi, lo);
}

GHASH_T128 static inline __m128i gfmul(__m128i a, __m128i b) {
    __m128i lo = _mm_setzero_si128(), hi = _mm_setzero_si128(), mid = _mm_setzero_si128();
    mul_acc(a, b, &lo, &hi, &mid);
    return reduce(lo, hi, mid);
}

#endif
