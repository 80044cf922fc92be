/*
 * GHASH (NIST SP 800-38D) with VPCLMULQDQ: eight blocks per reduction in 256-bit registers
 * (AVX2), sixty-four (then sixteen) in 512-bit registers (AVX-512). Same representation and reduction as
 * ghash_pclmul.c (Gueron-Kounavis): byte-reversed blocks, unreduced products of block i with
 * H^(n-i) summed across lanes and blocks, then one shift-and-reduce.
 *
 * Constant time by construction: carry-less multiplications, shuffles with constant masks and
 * loads at (buffer pointer + loop counter) only.
 */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#define T128 __attribute__((target("pclmul,ssse3,sse4.1")))
#define T256 __attribute__((target("avx2,vpclmulqdq,pclmul")))
#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,vpclmulqdq,pclmul")))

#include "ghash_common.h"

/* ghash_pclmul.c: same representation; its table, H^1..H^4, is the first 64 bytes of ours. */
void tlsfe_ghash_pclmul_update(const uint8_t htable[64], uint8_t xi[16], const uint8_t *data,
                               size_t nblocks);

/*
 * htable (GHASH_WIDE_TABLE bytes) receives H^1 .. H^16 at 16 (i - 1) (byte-reversed), then
 * from byte 256 the powers H^64 down to H^1, so that one 64-byte load gives the four powers
 * that four consecutive blocks take (the earliest block the highest).
 */
#define GHASH_WIDE_TABLE 1280
#define DESC(k) (htable + 256 + 16 * (64 - (k))) /* H^k, H^(k-1), ... from here */
T128 void tlsfe_ghash_vpclmul_init(const uint8_t h[16], uint8_t htable[GHASH_WIDE_TABLE]) {
    __m128i h1 = bswap128(_mm_loadu_si128((const __m128i *)h));
    __m128i p = h1;
    for (int i = 1; i <= 64; i++) {
        if (i <= 16) _mm_storeu_si128((__m128i *)(htable + 16 * (i - 1)), p);
        _mm_storeu_si128((__m128i *)DESC(i), p);
        p = gfmul(p, h1);
    }
}

#define HP(i) _mm_loadu_si128((const __m128i *)(htable + 16 * ((i)-1)))

T256 static inline __m256i bswap256(__m256i x) {
    const __m256i m = _mm256_broadcastsi128_si256(
        _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    return _mm256_shuffle_epi8(x, m);
}

T256 static inline void acc256(__m256i d, __m256i h, __m256i *lo, __m256i *hi, __m256i *mid) {
    *lo = _mm256_xor_si256(*lo, _mm256_clmulepi64_epi128(d, h, 0x00));
    *hi = _mm256_xor_si256(*hi, _mm256_clmulepi64_epi128(d, h, 0x11));
    *mid = _mm256_xor_si256(*mid, _mm256_xor_si256(_mm256_clmulepi64_epi128(d, h, 0x10),
                                                   _mm256_clmulepi64_epi128(d, h, 0x01)));
}

T256 static inline __m128i fold256(__m256i v) {
    return _mm_xor_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
}

/* xi = GHASH update over nblocks blocks; xi in GCM byte order. */
T256 void tlsfe_ghash_vpclmul_avx2_update(const uint8_t htable[GHASH_WIDE_TABLE], uint8_t xi[16],
                                          const uint8_t *data, size_t nblocks) {
    __m128i x = bswap128(_mm_loadu_si128((const __m128i *)xi));
    /* Lane 0 holds the earlier block, which takes the higher power. */
    const __m256i p0 = _mm256_set_m128i(HP(7), HP(8));
    const __m256i p1 = _mm256_set_m128i(HP(5), HP(6));
    const __m256i p2 = _mm256_set_m128i(HP(3), HP(4));
    const __m256i p3 = _mm256_set_m128i(HP(1), HP(2));
    while (nblocks >= 8) {
        __m256i d0 = bswap256(_mm256_loadu_si256((const __m256i *)(data + 0)));
        __m256i d1 = bswap256(_mm256_loadu_si256((const __m256i *)(data + 32)));
        __m256i d2 = bswap256(_mm256_loadu_si256((const __m256i *)(data + 64)));
        __m256i d3 = bswap256(_mm256_loadu_si256((const __m256i *)(data + 96)));
        d0 = _mm256_xor_si256(d0, _mm256_zextsi128_si256(x));
        __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256(), mid = _mm256_setzero_si256();
        acc256(d0, p0, &lo, &hi, &mid);
        acc256(d1, p1, &lo, &hi, &mid);
        acc256(d2, p2, &lo, &hi, &mid);
        acc256(d3, p3, &lo, &hi, &mid);
        x = reduce(fold256(lo), fold256(hi), fold256(mid));
        data += 128;
        nblocks -= 8;
    }
    const __m128i h1 = HP(1);
    while (nblocks > 0) {
        x = gfmul(_mm_xor_si128(x, bswap128(_mm_loadu_si128((const __m128i *)data))), h1);
        data += 16;
        nblocks -= 1;
    }
    _mm_storeu_si128((__m128i *)xi, bswap128(x));
}

T512 static inline __m512i bswap512(__m512i x) {
    const __m512i m = _mm512_broadcast_i32x4(
        _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    return _mm512_shuffle_epi8(x, m);
}

T512 static inline __m512i powers4(const uint8_t *htable, int top) {
    /* Lanes 0..3 hold H^top, H^(top-1), H^(top-2), H^(top-3). */
    return _mm512_loadu_si512(DESC(top));
}

T512 static inline void acc512(__m512i d, __m512i h, __m512i *lo, __m512i *hi, __m512i *mid) {
    *lo = _mm512_xor_si512(*lo, _mm512_clmulepi64_epi128(d, h, 0x00));
    *hi = _mm512_xor_si512(*hi, _mm512_clmulepi64_epi128(d, h, 0x11));
    *mid = _mm512_ternarylogic_epi64(*mid, _mm512_clmulepi64_epi128(d, h, 0x10),
                                     _mm512_clmulepi64_epi128(d, h, 0x01), 0x96);
}

T512 static inline __m128i fold512(__m512i v) {
    __m256i a = _mm256_xor_si256(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
    return _mm_xor_si128(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
}

T512 void tlsfe_ghash_vpclmul_avx512_update(const uint8_t htable[GHASH_WIDE_TABLE], uint8_t xi[16],
                                            const uint8_t *data, size_t nblocks) {
    __m128i x = bswap128(_mm_loadu_si128((const __m128i *)xi));
    /*
     * Sixty-four blocks per reduction: the running value x enters only the first block's
     * product, so the chain from one reduction to the next is one multiplication, the sums
     * and the reduction, once per 64 blocks instead of once per 16 (a 1 KiB record is one
     * pass). The products of blocks 4..63 are summed first, so block 0's joins last.
     */
    while (nblocks >= 64) {
        __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512(), mid = _mm512_setzero_si512();
        for (int g = 1; g < 16; g++)
            acc512(bswap512(_mm512_loadu_si512(data + 64 * g)), powers4(htable, 64 - 4 * g), &lo,
                   &hi, &mid);
        __m512i d0 = bswap512(_mm512_loadu_si512(data));
        d0 = _mm512_xor_si512(d0, _mm512_zextsi128_si512(x));
        acc512(d0, powers4(htable, 64), &lo, &hi, &mid);
        x = reduce(fold512(lo), fold512(hi), fold512(mid));
        data += 1024;
        nblocks -= 64;
    }
    const __m512i p0 = powers4(htable, 16), p1 = powers4(htable, 12), p2 = powers4(htable, 8),
                  p3 = powers4(htable, 4);
    while (nblocks >= 16) {
        __m512i d0 = bswap512(_mm512_loadu_si512(data + 0));
        __m512i d1 = bswap512(_mm512_loadu_si512(data + 64));
        __m512i d2 = bswap512(_mm512_loadu_si512(data + 128));
        __m512i d3 = bswap512(_mm512_loadu_si512(data + 192));
        d0 = _mm512_xor_si512(d0, _mm512_zextsi128_si512(x));
        __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512(), mid = _mm512_setzero_si512();
        acc512(d0, p0, &lo, &hi, &mid);
        acc512(d1, p1, &lo, &hi, &mid);
        acc512(d2, p2, &lo, &hi, &mid);
        acc512(d3, p3, &lo, &hi, &mid);
        x = reduce(fold512(lo), fold512(hi), fold512(mid));
        data += 256;
        nblocks -= 16;
    }
    _mm_storeu_si128((__m128i *)xi, bswap128(x));
    /* Fewer than 8 blocks (GCM's length block, a record's tail) go to the 128-bit kernel,
     * whose table is this one's first 64 bytes: the 256-bit kernel's set-up of its power
     * vectors cost more than such a tail's products (a 1 KiB seal, measured on the Xeon). */
    if (nblocks >= 8)
        tlsfe_ghash_vpclmul_avx2_update(htable, xi, data, nblocks);
    else if (nblocks > 0)
        tlsfe_ghash_pclmul_update(htable, xi, data, nblocks);
}
