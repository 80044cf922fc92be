/*
 * GHASH (NIST SP 800-38D) with PCLMULQDQ: four blocks per reduction.
 *
 * Constant time by construction: carry-less multiplication and register shifts only; every
 * memory operand is (buffer pointer + loop counter).
 *
 * Representation: blocks are byte-reversed on load so that GCM's reflected bit order becomes
 * the natural one; a 256-bit carry-less product is shifted left by one bit (the reflection's
 * off-by-one) and reduced modulo x^128 + x^7 + x^2 + x + 1, as in Gueron and Kounavis,
 * "Intel Carry-Less Multiplication Instruction and its Usage for Computing the GCM Mode"
 * (Intel white paper, 2010/2014). Products of several blocks with H, H^2, H^3, H^4 are summed
 * before one shift-and-reduce (the reduction is linear).
 */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define TARGET __attribute__((target("pclmul,ssse3,sse4.1")))

#include "ghash_common.h"

/* htable receives H, H^2, H^3, H^4 (byte-reversed), 64 bytes. */
TARGET void tlsfe_ghash_pclmul_init(const uint8_t h[16], uint8_t htable[64]) {
    __m128i h1 = bswap128(_mm_loadu_si128((const __m128i *)h));
    __m128i h2 = gfmul(h1, h1);
    __m128i h3 = gfmul(h2, h1);
    __m128i h4 = gfmul(h3, h1);
    _mm_storeu_si128((__m128i *)(htable + 0), h1);
    _mm_storeu_si128((__m128i *)(htable + 16), h2);
    _mm_storeu_si128((__m128i *)(htable + 32), h3);
    _mm_storeu_si128((__m128i *)(htable + 48), h4);
}

/* xi = (xi ^ block_1) * H ... over nblocks blocks, xi in GCM byte order. */
TARGET void tlsfe_ghash_pclmul_update(const uint8_t htable[64], uint8_t xi[16],
                                      const uint8_t *data, size_t nblocks) {
    __m128i h1 = _mm_loadu_si128((const __m128i *)(htable + 0));
    __m128i h2 = _mm_loadu_si128((const __m128i *)(htable + 16));
    __m128i h3 = _mm_loadu_si128((const __m128i *)(htable + 32));
    __m128i h4 = _mm_loadu_si128((const __m128i *)(htable + 48));
    __m128i x = bswap128(_mm_loadu_si128((const __m128i *)xi));
    while (nblocks >= 4) {
        __m128i c0 = _mm_xor_si128(x, bswap128(_mm_loadu_si128((const __m128i *)(data + 0))));
        __m128i c1 = bswap128(_mm_loadu_si128((const __m128i *)(data + 16)));
        __m128i c2 = bswap128(_mm_loadu_si128((const __m128i *)(data + 32)));
        __m128i c3 = bswap128(_mm_loadu_si128((const __m128i *)(data + 48)));
        __m128i lo = _mm_setzero_si128(), hi = _mm_setzero_si128(), mid = _mm_setzero_si128();
        mul_acc(c0, h4, &lo, &hi, &mid);
        mul_acc(c1, h3, &lo, &hi, &mid);
        mul_acc(c2, h2, &lo, &hi, &mid);
        mul_acc(c3, h1, &lo, &hi, &mid);
        x = reduce(lo, hi, mid);
        data += 64;
        nblocks -= 4;
    }
    while (nblocks > 0) {
        x = gfmul(_mm_xor_si128(x, bswap128(_mm_loadu_si128((const __m128i *)data))), h1);
        data += 16;
        nblocks -= 1;
    }
    _mm_storeu_si128((__m128i *)xi, bswap128(x));
}
