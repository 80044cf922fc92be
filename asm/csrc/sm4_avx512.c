/*
 * SM4 (GB/T 32907) with GFNI + AVX-512: sixteen blocks per 512-bit register group, two groups
 * interleaved (32 blocks per step).
 *
 * S-box: GF2P8AFFINEINVQB(GF2P8AFFINEQB(x, M1, c1), M2, 0xD3), the same matrices as the AVX2
 * GFNI kernel (see sm4_avx2.c for their derivation). Linear layer with VPROLD and the
 * three-input XOR of VPTERNLOGD (immediate 0x96).
 *
 * Constant time by construction: this file has no table at all. Every memory operand is
 * (buffer pointer + loop counter), a round key (loop counter), or the stack buffer of the tail;
 * nothing is indexed by data. (Valgrind cannot execute GFNI/AVX-512, so this kernel's timing is
 * checked by the dudect-style bench instead.)
 */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,gfni")))

#define GFNI_PRE 0x4c287db91a22505dULL
#define GFNI_PRE_C 0x3e
#define GFNI_POST 0xf3ab34a974a6b589ULL
#define GFNI_POST_C 0xd3

TARGET static inline __m512i sbox(__m512i x) {
    x = _mm512_gf2p8affine_epi64_epi8(x, _mm512_set1_epi64((long long)GFNI_PRE), GFNI_PRE_C);
    return _mm512_gf2p8affineinv_epi64_epi8(x, _mm512_set1_epi64((long long)GFNI_POST),
                                            GFNI_POST_C);
}

/* x ^= L(S(a ^ b ^ c ^ rk)) */
TARGET static inline __m512i round_(__m512i x, __m512i a, __m512i b, __m512i c, __m512i rk) {
    __m512i t = sbox(_mm512_ternarylogic_epi32(a, b, _mm512_xor_si512(c, rk), 0x96));
    __m512i u = _mm512_ternarylogic_epi32(t, _mm512_rol_epi32(t, 2), _mm512_rol_epi32(t, 10), 0x96);
    __m512i v = _mm512_ternarylogic_epi32(x, _mm512_rol_epi32(t, 18), _mm512_rol_epi32(t, 24), 0x96);
    return _mm512_xor_si512(u, v);
}

#define TRANSPOSE(a, b, c_, d)                       \
    do {                                             \
        __m512i t0_ = _mm512_unpacklo_epi32(a, b);   \
        __m512i t1_ = _mm512_unpackhi_epi32(a, b);   \
        __m512i t2_ = _mm512_unpacklo_epi32(c_, d);  \
        __m512i t3_ = _mm512_unpackhi_epi32(c_, d);  \
        a = _mm512_unpacklo_epi64(t0_, t2_);         \
        b = _mm512_unpackhi_epi64(t0_, t2_);         \
        c_ = _mm512_unpacklo_epi64(t1_, t3_);        \
        d = _mm512_unpackhi_epi64(t1_, t3_);         \
    } while (0)

TARGET static inline __m512i bswap32(__m512i x) {
    const __m512i m = _mm512_broadcast_i32x4(
        _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3));
    return _mm512_shuffle_epi8(x, m);
}

/* Up to four independent 16-block groups share each round: with 32 zmm registers there is
 * room, and four chains in flight hide the latency of the two GFNI instructions. */
#define LOADG(g, off)                                           \
    do {                                                        \
        x[g][0] = bswap32(_mm512_loadu_si512(in + (off) + 0));   \
        x[g][1] = bswap32(_mm512_loadu_si512(in + (off) + 64));  \
        x[g][2] = bswap32(_mm512_loadu_si512(in + (off) + 128)); \
        x[g][3] = bswap32(_mm512_loadu_si512(in + (off) + 192)); \
        TRANSPOSE(x[g][0], x[g][1], x[g][2], x[g][3]);          \
    } while (0)

#define STOREG(g, off)                                             \
    do {                                                           \
        TRANSPOSE(x[g][3], x[g][2], x[g][1], x[g][0]);             \
        _mm512_storeu_si512(out + (off) + 0, bswap32(x[g][3]));    \
        _mm512_storeu_si512(out + (off) + 64, bswap32(x[g][2]));   \
        _mm512_storeu_si512(out + (off) + 128, bswap32(x[g][1]));  \
        _mm512_storeu_si512(out + (off) + 192, bswap32(x[g][0]));  \
    } while (0)

TARGET static inline void groups_n(const uint32_t rk[32], const uint8_t *in, uint8_t *out, const int n) {
    __m512i x[4][4];
    for (int g = 0; g < n; g++) LOADG(g, 256 * g);
    for (int i = 0; i < 32; i += 4) {
        for (int j = 0; j < 4; j++) {
            __m512i r = _mm512_set1_epi32((int)rk[i + j]);
            for (int g = 0; g < n; g++)
                x[g][j] = round_(x[g][j], x[g][(j + 1) & 3], x[g][(j + 2) & 3], x[g][(j + 3) & 3], r);
        }
    }
    for (int g = 0; g < n; g++) STOREG(g, 256 * g);
}

TARGET static void groups4(const uint32_t rk[32], const uint8_t *in, uint8_t *out) { groups_n(rk, in, out, 4); }
TARGET static void groups2(const uint32_t rk[32], const uint8_t *in, uint8_t *out) { groups_n(rk, in, out, 2); }
TARGET static void groups1(const uint32_t rk[32], const uint8_t *in, uint8_t *out) { groups_n(rk, in, out, 1); }

TARGET void tlsfe_sm4_gfni_avx512_crypt(const uint32_t rk[32], const uint8_t *in, uint8_t *out,
                                         size_t nblocks) {
    while (nblocks >= 64) {
        groups4(rk, in, out);
        in += 1024;
        out += 1024;
        nblocks -= 64;
    }
    if (nblocks >= 32) {
        groups2(rk, in, out);
        in += 512;
        out += 512;
        nblocks -= 32;
    }
    if (nblocks >= 16) {
        groups1(rk, in, out);
        in += 256;
        out += 256;
        nblocks -= 16;
    }
    if (nblocks > 0) {
        uint8_t buf[256];
        memset(buf, 0, sizeof buf);
        memcpy(buf, in, nblocks * 16);
        groups1(rk, buf, buf);
        memcpy(out, buf, nblocks * 16);
        volatile uint8_t *v = buf;
        for (size_t i = 0; i < sizeof buf; i++) v[i] = 0;
    }
}

/*
 * CTR with the counter blocks generated in registers: words 0-2 of every block are those of
 * `ctr`, word 3 is ctr's word 3 plus the block index (mod 2^32; the caller splits calls where
 * a 128-bit counter would carry). The keystream is XORed into `in` and written to `out`.
 * Lane (q, p) of a transposed register (128-bit lane q, word p) is block 4p + q of its group.
 */
/* The same round on one block held in lane 0 of four xmm words (x ^= L(S(a ^ b ^ c ^ rk))). */
TARGET static inline __m128i round_x(__m128i x, __m128i a, __m128i b, __m128i c, __m128i rk) {
    __m128i t = _mm_ternarylogic_epi32(a, b, _mm_xor_si128(c, rk), 0x96);
    t = _mm_gf2p8affine_epi64_epi8(t, _mm_set1_epi64x((long long)GFNI_PRE), GFNI_PRE_C);
    t = _mm_gf2p8affineinv_epi64_epi8(t, _mm_set1_epi64x((long long)GFNI_POST), GFNI_POST_C);
    __m128i u = _mm_ternarylogic_epi32(t, _mm_rol_epi32(t, 2), _mm_rol_epi32(t, 10), 0x96);
    __m128i v = _mm_ternarylogic_epi32(x, _mm_rol_epi32(t, 18), _mm_rol_epi32(t, 24), 0x96);
    return _mm_xor_si128(u, v);
}

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}


/*
 * n groups of 16 counter blocks; with `extra` (16 bytes, or NULL), one more independent block
 * is encrypted in place in the same rounds, its chain interleaved with the groups' (GCM's
 * E(J0): alone, its 32 dependent rounds would cost about as much as four groups).
 */
TARGET static inline void ctr_groups_x(const uint32_t rk[32], const uint32_t w[4], uint32_t base,
                                       const uint8_t *in, uint8_t *out, const int n,
                                       uint8_t *extra) {
    const __m512i iota = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    __m512i x[4][4];
    for (int g = 0; g < n; g++) {
        x[g][0] = _mm512_set1_epi32((int)w[0]);
        x[g][1] = _mm512_set1_epi32((int)w[1]);
        x[g][2] = _mm512_set1_epi32((int)w[2]);
        x[g][3] = _mm512_add_epi32(_mm512_set1_epi32((int)(base + 16u * (uint32_t)g)), iota);
    }
    /* The extra block is read and written with one 16-byte access each: written as 16 single
     * bytes, the caller's 16-byte read of it could not be forwarded from the stores and
     * waited for them to reach the cache (measured in a 1 KiB GCM seal on the Xeon). */
    const __m128i bswap_words = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    __m128i e[4];
    if (extra != NULL) {
        __m128i v = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)extra), bswap_words);
        e[0] = v;
        e[1] = _mm_srli_si128(v, 4);
        e[2] = _mm_srli_si128(v, 8);
        e[3] = _mm_srli_si128(v, 12);
    }
    for (int i = 0; i < 32; i += 4) {
        for (int j = 0; j < 4; j++) {
            __m512i r = _mm512_set1_epi32((int)rk[i + j]);
            for (int g = 0; g < n; g++)
                x[g][j] = round_(x[g][j], x[g][(j + 1) & 3], x[g][(j + 2) & 3], x[g][(j + 3) & 3], r);
            if (extra != NULL)
                e[j] = round_x(e[j], e[(j + 1) & 3], e[(j + 2) & 3], e[(j + 3) & 3],
                               _mm512_castsi512_si128(r));
        }
    }
    if (extra != NULL) {
        /* word k of the output is e[3 - k] (lane 0 of each) */
        __m128i v = _mm_unpacklo_epi64(_mm_unpacklo_epi32(e[3], e[2]), _mm_unpacklo_epi32(e[1], e[0]));
        _mm_storeu_si128((__m128i *)extra, _mm_shuffle_epi8(v, bswap_words));
    }
    for (int g = 0; g < n; g++) {
        TRANSPOSE(x[g][3], x[g][2], x[g][1], x[g][0]);
        const uint8_t *src = in + 256 * g;
        uint8_t *dst = out + 256 * g;
        _mm512_storeu_si512(dst + 0, _mm512_xor_si512(bswap32(x[g][3]), _mm512_loadu_si512(src + 0)));
        _mm512_storeu_si512(dst + 64, _mm512_xor_si512(bswap32(x[g][2]), _mm512_loadu_si512(src + 64)));
        _mm512_storeu_si512(dst + 128, _mm512_xor_si512(bswap32(x[g][1]), _mm512_loadu_si512(src + 128)));
        _mm512_storeu_si512(dst + 192, _mm512_xor_si512(bswap32(x[g][0]), _mm512_loadu_si512(src + 192)));
    }
}

TARGET static void ctr4(const uint32_t rk[32], const uint32_t w[4], uint32_t b, const uint8_t *in, uint8_t *out) { ctr_groups_x(rk, w, b, in, out, 4, NULL); }
TARGET static void ctr1(const uint32_t rk[32], const uint32_t w[4], uint32_t b, const uint8_t *in, uint8_t *out) { ctr_groups_x(rk, w, b, in, out, 1, NULL); }
TARGET static void ctr4x(const uint32_t rk[32], const uint32_t w[4], uint32_t b, const uint8_t *in, uint8_t *out, uint8_t *x) { ctr_groups_x(rk, w, b, in, out, 4, x); }
TARGET static void ctr1x(const uint32_t rk[32], const uint32_t w[4], uint32_t b, const uint8_t *in, uint8_t *out, uint8_t *x) { ctr_groups_x(rk, w, b, in, out, 1, x); }

/*
 * CTR over nblocks; `extra` (16 bytes, or NULL) is also encrypted in place, as one more
 * independent block, inside the first group's rounds.
 */
TARGET void tlsfe_sm4_gfni_avx512_ctr32(const uint32_t rk[32], const uint8_t ctr[16], const uint8_t *in,
                                         uint8_t *out, size_t nblocks, uint8_t *extra) {
    uint32_t w[4];
    for (int i = 0; i < 4; i++) w[i] = load_be32(ctr + 4 * i);
    uint32_t base = w[3];
    while (nblocks >= 64) {
        if (extra != NULL) {
            ctr4x(rk, w, base, in, out, extra);
            extra = NULL;
        } else {
            ctr4(rk, w, base, in, out);
        }
        base += 64;
        in += 1024;
        out += 1024;
        nblocks -= 64;
    }
    while (nblocks >= 16) {
        if (extra != NULL) {
            ctr1x(rk, w, base, in, out, extra);
            extra = NULL;
        } else {
            ctr1(rk, w, base, in, out);
        }
        base += 16;
        in += 256;
        out += 256;
        nblocks -= 16;
    }
    if (nblocks > 0 || extra != NULL) {
        uint8_t buf[256];
        memset(buf, 0, sizeof buf);
        memcpy(buf, in, nblocks * 16);
        if (extra != NULL) {
            ctr1x(rk, w, base, buf, buf, extra);
            extra = NULL;
        } else {
            ctr1(rk, w, base, buf, buf);
        }
        memcpy(out, buf, nblocks * 16);
        volatile uint8_t *v = buf;
        for (size_t i = 0; i < sizeof buf; i++) v[i] = 0;
    }
}
