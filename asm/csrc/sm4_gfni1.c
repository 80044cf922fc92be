/*
 * SM4 (GB/T 32907) for serial modes and short inputs, with GFNI on 128-bit registers: CBC
 * encryption and CBC-MAC (one block after another, so the latency of a round decides), and up
 * to eight independent blocks (short CTR/GCM/CCM records) at the latency of one.
 *
 * The bulk kernels compute a round as S-box = GF2P8AFFINEINVQB(GF2P8AFFINEQB(x)) then L with
 * rotations: on a single block's dependency chain that is two GFNI latencies plus the linear
 * layer, every round. Here the state is kept in another basis instead: every word X is held
 * as Z = M1 X (M1: the linear part of the S-box's input affine map, applied to each byte).
 * In that basis the S-box input is Z1 ^ Z2 ^ Z3 ^ rk' with rk' = M1 rk ^ 0x3E (done once per
 * call), so its first affine step disappears; and the round's output map v -> M1 L(M2 v ^ 0xD3)
 * (v = the field inverse, M2 the S-box's output matrix) is linear but for a constant, and
 * commutes with rotating the word by whole bytes. So it is the XOR of four per-byte matrices
 * applied to the inverse, each to the word rotated by 0, 8, 16 and 24 bits, and each
 * "matrix times inverse" is one GF2P8AFFINEINVQB. A round is then one GFNI latency, one byte
 * shuffle and two XORs on the chain (about 6 cycles), not two GFNI latencies, four rotations
 * and a three-level XOR tree. The matrices are derived by tests/data/sm4/derive_gfni1.py and
 * checked there against the standard's S-box and rounds; this kernel is checked against the
 * portable reference on every length by the tests.
 *
 * Lanes: a register holds one word of up to four blocks (one per 32-bit lane); every
 * operation is lane-wise, so four blocks cost what one does.
 *
 * Constant time: no table, no data-dependent branch or index. The padded tail lives on the
 * stack and is wiped before return; the transformed key is the caller's (made once per key by
 * tlsfe_sm4_gfni1_prepare, wiped with the key).
 */
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TARGET __attribute__((target("avx,gfni,ssse3")))

/* S-box input map (the bulk kernels' GFNI_PRE) and its constant. */
#define PRE 0x4c287db91a22505dULL
#define PRE_C 0x3e
/* Its inverse, back to the standard basis. */
#define PRE_INV 0xb3a4f5863284728bULL
/*
 * v -> M1 L(M2 v ^ 0xD3) as per-byte matrices for the word rotated left by 0, 8, 16, 24 bits
 * (MQ1 == MQ2), and the constant M1 (rotl8(0xD3, 2)) = 0x63 (L of a word of equal bytes is
 * the word of each byte rotated by 2). Derived and checked by tests/data/sm4/derive_gfni1.py.
 */
#define MQ0 0x040db891e9a481b7ULL
#define MQ1 0x2c020425162040adULL
#define MQ3 0x280fbcb4ff84c11aULL
#define MQ0_C 0x63

TARGET static inline __m128i rot8(__m128i x) {
    return _mm_shuffle_epi8(x, _mm_set_epi8(14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3));
}
TARGET static inline __m128i rot16(__m128i x) {
    return _mm_shuffle_epi8(x, _mm_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2));
}
TARGET static inline __m128i rot24(__m128i x) {
    return _mm_shuffle_epi8(x, _mm_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1));
}
TARGET static inline __m128i bswap32(__m128i x) {
    return _mm_shuffle_epi8(x, _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3));
}
TARGET static inline __m128i to_z(__m128i x) {
    return _mm_gf2p8affine_epi64_epi8(x, _mm_set1_epi64x((long long)PRE), 0);
}
TARGET static inline __m128i from_z(__m128i x) {
    return _mm_gf2p8affine_epi64_epi8(x, _mm_set1_epi64x((long long)PRE_INV), 0);
}

/* The round keys in the Z basis: M1 rk ^ 0x3E on every byte. */
TARGET static inline void z_keys(const uint32_t rk[32], uint32_t zrk[32]) {
    for (int i = 0; i < 32; i += 4) {
        __m128i k = _mm_loadu_si128((const __m128i *)(rk + i));
        k = _mm_gf2p8affine_epi64_epi8(k, _mm_set1_epi64x((long long)PRE), PRE_C);
        _mm_storeu_si128((__m128i *)(zrk + i), k);
    }
}

/* Zeroes secrets on the stack: a plain memset, then a barrier that makes the compiler assume
 * the memory is read, so the stores are not dropped as dead. */
static inline void wipe(void *p, size_t n) {
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}
/*
 * One round on one group, the words named so that nothing moves: A..D are Z_i..Z_{i+3} on
 * entry and A is Z_{i+4} on exit; U is the S-box input u_i = Z_{i+1}^Z_{i+2}^Z_{i+3}^rk'_i on
 * entry and u_{i+1} on exit. The chain from u_i to u_{i+1} is only: three GF2P8AFFINEINVQB in
 * parallel, a byte shuffle, two XORs. Everything else is off it: u_{i+1} needs
 * Z_i^Z_{i+2}^Z_{i+3}^rk'_{i+1}, which, as Z_{i+3} = u_i ^ Z_{i+1} ^ Z_{i+2} ^ rk'_i, is
 * E = Z_i ^ Z_{i+1} ^ rk'_i ^ rk'_{i+1} (old words) XOR u_i; and Z_{i+4} = u_{i+1} ^ Z_{i+2} ^
 * Z_{i+3} ^ rk'_{i+1} is only needed rounds later.
 */
#define ROUND1(A, B, C, D, U, i)                                                         \
    do {                                                                                 \
        __m128i e_ = _mm_xor_si128(_mm_xor_si128(A, B), _mm_set1_epi32((int)kx[i]));    \
        __m128i q_ = _mm_xor_si128(e_, U);                                               \
        __m128i w0_ = _mm_gf2p8affineinv_epi64_epi8(U, mq0, MQ0_C);                      \
        __m128i w1_ = _mm_gf2p8affineinv_epi64_epi8(U, mq1, 0);                          \
        __m128i w3_ = _mm_gf2p8affineinv_epi64_epi8(U, mq3, 0);                          \
        __m128i s_ = _mm_xor_si128(rot8(w1_), rot16(w1_));                               \
        __m128i t_ = _mm_xor_si128(rot24(w3_), _mm_xor_si128(w0_, q_));                  \
        U = _mm_xor_si128(s_, t_);                                                       \
        __m128i k_ = _mm_set1_epi32((int)zrk[((i) + 1) & 31]);                           \
        A = _mm_xor_si128(_mm_xor_si128(U, k_), _mm_xor_si128(C, D));                    \
    } while (0)

/*
 * The key in the Z basis, made once per key: zk[0..32] = rk'_i = M1 rk_i ^ 0x3E, and
 * zk[32..64] = rk'_i ^ rk'_{i+1} (kx below).
 */
TARGET void tlsfe_sm4_gfni1_prepare(const uint32_t rk[32], uint32_t zk[64]) {
    z_keys(rk, zk);
    for (int i = 0; i < 32; i++) zk[32 + i] = zk[i] ^ zk[(i + 1) & 31];
}

#define ROUND_KEYS                 \
    const uint32_t *zrk = zk;      \
    const uint32_t *kx = zk + 32;

/*
 * 32 rounds on G (1 or 2) groups; z[g][0..3] = Z0..Z3 on entry, (Z35, Z34, Z33, Z32) on
 * return, the output words in order.
 */
#define ROUNDS(G)                                                                          \
    do {                                                                                   \
        const __m128i mq0 = _mm_set1_epi64x((long long)MQ0);                               \
        const __m128i mq1 = _mm_set1_epi64x((long long)MQ1);                               \
        const __m128i mq3 = _mm_set1_epi64x((long long)MQ3);                               \
        const __m128i r0_ = _mm_set1_epi32((int)zrk[0]);                                   \
        __m128i a0 = z[0][0], b0 = z[0][1], c0 = z[0][2], d0 = z[0][3];                    \
        __m128i u0 = _mm_xor_si128(_mm_xor_si128(b0, c0), _mm_xor_si128(d0, r0_));         \
        __m128i a1 = z[(G) - 1][0], b1 = z[(G) - 1][1], c1 = z[(G) - 1][2], d1 = z[(G) - 1][3]; \
        __m128i u1 = _mm_xor_si128(_mm_xor_si128(b1, c1), _mm_xor_si128(d1, r0_));         \
        _Pragma("GCC unroll 8") for (int i = 0; i < 32; i += 4) {                          \
            ROUND1(a0, b0, c0, d0, u0, i);                                                 \
            if ((G) == 2) ROUND1(a1, b1, c1, d1, u1, i);                                   \
            ROUND1(b0, c0, d0, a0, u0, i + 1);                                             \
            if ((G) == 2) ROUND1(b1, c1, d1, a1, u1, i + 1);                               \
            ROUND1(c0, d0, a0, b0, u0, i + 2);                                             \
            if ((G) == 2) ROUND1(c1, d1, a1, b1, u1, i + 2);                               \
            ROUND1(d0, a0, b0, c0, u0, i + 3);                                             \
            if ((G) == 2) ROUND1(d1, a1, b1, c1, u1, i + 3);                               \
        }                                                                                  \
        z[0][0] = d0;                                                                      \
        z[0][1] = c0;                                                                      \
        z[0][2] = b0;                                                                      \
        z[0][3] = a0;                                                                      \
        if ((G) == 2) {                                                                    \
            z[(G) - 1][0] = d1;                                                            \
            z[(G) - 1][1] = c1;                                                            \
            z[(G) - 1][2] = b1;                                                            \
            z[(G) - 1][3] = a1;                                                            \
        }                                                                                  \
    } while (0)

/* Four blocks (64 bytes at p) into words: z[k] lane j = word k of block j, Z basis. */
TARGET static inline void load4(const uint8_t *p, __m128i z[4]) {
    __m128i a = bswap32(_mm_loadu_si128((const __m128i *)(p + 0)));
    __m128i b = bswap32(_mm_loadu_si128((const __m128i *)(p + 16)));
    __m128i c = bswap32(_mm_loadu_si128((const __m128i *)(p + 32)));
    __m128i d = bswap32(_mm_loadu_si128((const __m128i *)(p + 48)));
    __m128i t0 = _mm_unpacklo_epi32(a, b), t1 = _mm_unpackhi_epi32(a, b);
    __m128i t2 = _mm_unpacklo_epi32(c, d), t3 = _mm_unpackhi_epi32(c, d);
    z[0] = to_z(_mm_unpacklo_epi64(t0, t2));
    z[1] = to_z(_mm_unpackhi_epi64(t0, t2));
    z[2] = to_z(_mm_unpacklo_epi64(t1, t3));
    z[3] = to_z(_mm_unpackhi_epi64(t1, t3));
}

TARGET static inline void store4(uint8_t *p, __m128i z[4]) {
    __m128i a = from_z(z[0]), b = from_z(z[1]), c = from_z(z[2]), d = from_z(z[3]);
    __m128i t0 = _mm_unpacklo_epi32(a, b), t1 = _mm_unpackhi_epi32(a, b);
    __m128i t2 = _mm_unpacklo_epi32(c, d), t3 = _mm_unpackhi_epi32(c, d);
    _mm_storeu_si128((__m128i *)(p + 0), bswap32(_mm_unpacklo_epi64(t0, t2)));
    _mm_storeu_si128((__m128i *)(p + 16), bswap32(_mm_unpackhi_epi64(t0, t2)));
    _mm_storeu_si128((__m128i *)(p + 32), bswap32(_mm_unpacklo_epi64(t1, t3)));
    _mm_storeu_si128((__m128i *)(p + 48), bswap32(_mm_unpackhi_epi64(t1, t3)));
}

/* 1..8 independent blocks (ECB), in place allowed. */
TARGET void tlsfe_sm4_gfni1_ecb(const uint32_t zk[64], const uint8_t *in, uint8_t *out,
                                size_t nblocks) {
    uint8_t buf[128];
    ROUND_KEYS
    if (nblocks == 0) return;
    size_t n = nblocks > 8 ? 8 : nblocks;
    /* Up to four blocks use the first 64 bytes only. */
    size_t span = n > 4 ? 128 : 64;
    memset(buf, 0, span);
    memcpy(buf, in, n * 16);
    __m128i z[2][4];
    load4(buf, z[0]);
    if (n > 4) {
        load4(buf + 64, z[1]);
        ROUNDS(2);
        store4(buf + 64, z[1]);
    } else {
        ROUNDS(1);
    }
    store4(buf, z[0]);
    memcpy(out, buf, n * 16);
    wipe(buf, span);
}

/* Broadcasts 32-bit lane k of x. */
#define LANE(x, k) _mm_shuffle_epi32((x), (k) * 0x55)

/*
 * CBC encryption of nblocks from `in` to `out` (in place allowed) chained from `chain` (the
 * IV), or, with out == NULL, CBC-MAC: the state `chain` absorbs each block. `chain` is
 * updated to the last ciphertext block (the next IV, or the MAC). The chain stays in the Z
 * basis from block to block: the next block's input is M1 P ^ (its Z-basis output), one XOR.
 */
TARGET void tlsfe_sm4_gfni1_cbc(const uint32_t zk[64], uint8_t chain[16], const uint8_t *in,
                                uint8_t *out, size_t nblocks) {
    ROUND_KEYS
    __m128i c = to_z(bswap32(_mm_loadu_si128((const __m128i *)chain)));
    __m128i z[1][4];
    z[0][0] = LANE(c, 0);
    z[0][1] = LANE(c, 1);
    z[0][2] = LANE(c, 2);
    z[0][3] = LANE(c, 3);
    for (size_t b = 0; b < nblocks; b++) {
        __m128i p = to_z(bswap32(_mm_loadu_si128((const __m128i *)(in + 16 * b))));
        z[0][0] = _mm_xor_si128(z[0][0], LANE(p, 0));
        z[0][1] = _mm_xor_si128(z[0][1], LANE(p, 1));
        z[0][2] = _mm_xor_si128(z[0][2], LANE(p, 2));
        z[0][3] = _mm_xor_si128(z[0][3], LANE(p, 3));
        ROUNDS(1);
        if (out != NULL) {
            __m128i t0 = _mm_unpacklo_epi32(z[0][0], z[0][1]);
            __m128i t1 = _mm_unpacklo_epi32(z[0][2], z[0][3]);
            _mm_storeu_si128((__m128i *)(out + 16 * b),
                             bswap32(from_z(_mm_unpacklo_epi64(t0, t1))));
        }
    }
    __m128i t0 = _mm_unpacklo_epi32(z[0][0], z[0][1]);
    __m128i t1 = _mm_unpacklo_epi32(z[0][2], z[0][3]);
    _mm_storeu_si128((__m128i *)chain, bswap32(from_z(_mm_unpacklo_epi64(t0, t1))));
}
