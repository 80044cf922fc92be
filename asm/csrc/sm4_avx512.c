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

TARGET static void groups(const uint32_t rk[32], const uint8_t *in, uint8_t *out, int n) {
    __m512i a0, a1, a2, a3, c0, c1, c2, c3;
    a0 = bswap32(_mm512_loadu_si512(in + 0));
    a1 = bswap32(_mm512_loadu_si512(in + 64));
    a2 = bswap32(_mm512_loadu_si512(in + 128));
    a3 = bswap32(_mm512_loadu_si512(in + 192));
    TRANSPOSE(a0, a1, a2, a3);
    c0 = c1 = c2 = c3 = _mm512_setzero_si512();
    if (n == 2) {
        c0 = bswap32(_mm512_loadu_si512(in + 256));
        c1 = bswap32(_mm512_loadu_si512(in + 320));
        c2 = bswap32(_mm512_loadu_si512(in + 384));
        c3 = bswap32(_mm512_loadu_si512(in + 448));
        TRANSPOSE(c0, c1, c2, c3);
    }
    for (int i = 0; i < 32; i += 4) {
        __m512i r = _mm512_set1_epi32((int)rk[i]);
        a0 = round_(a0, a1, a2, a3, r);
        c0 = round_(c0, c1, c2, c3, r);
        r = _mm512_set1_epi32((int)rk[i + 1]);
        a1 = round_(a1, a2, a3, a0, r);
        c1 = round_(c1, c2, c3, c0, r);
        r = _mm512_set1_epi32((int)rk[i + 2]);
        a2 = round_(a2, a3, a0, a1, r);
        c2 = round_(c2, c3, c0, c1, r);
        r = _mm512_set1_epi32((int)rk[i + 3]);
        a3 = round_(a3, a0, a1, a2, r);
        c3 = round_(c3, c0, c1, c2, r);
    }
    TRANSPOSE(a3, a2, a1, a0);
    _mm512_storeu_si512(out + 0, bswap32(a3));
    _mm512_storeu_si512(out + 64, bswap32(a2));
    _mm512_storeu_si512(out + 128, bswap32(a1));
    _mm512_storeu_si512(out + 192, bswap32(a0));
    if (n == 2) {
        TRANSPOSE(c3, c2, c1, c0);
        _mm512_storeu_si512(out + 256, bswap32(c3));
        _mm512_storeu_si512(out + 320, bswap32(c2));
        _mm512_storeu_si512(out + 384, bswap32(c1));
        _mm512_storeu_si512(out + 448, bswap32(c0));
    }
}

TARGET void tlsfe_sm4_gfni_avx512_crypt(const uint32_t rk[32], const uint8_t *in, uint8_t *out,
                                         size_t nblocks) {
    while (nblocks >= 32) {
        groups(rk, in, out, 2);
        in += 512;
        out += 512;
        nblocks -= 32;
    }
    if (nblocks >= 16) {
        groups(rk, in, out, 1);
        in += 256;
        out += 256;
        nblocks -= 16;
    }
    if (nblocks > 0) {
        uint8_t buf[256];
        memset(buf, 0, sizeof buf);
        memcpy(buf, in, nblocks * 16);
        groups(rk, buf, buf, 1);
        memcpy(out, buf, nblocks * 16);
        volatile uint8_t *v = buf;
        for (size_t i = 0; i < sizeof buf; i++) v[i] = 0;
    }
}
