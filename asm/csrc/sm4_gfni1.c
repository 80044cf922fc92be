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
 * shuffle and two XORs on the chain (about 6 cycles where, as on Zen 5, a GFNI result reaches
 * other instructions in 3 cycles; about 10 on an Intel Xeon (Emerald Rapids), where it takes
 * 5), not two GFNI latencies, four rotations and a three-level XOR tree. The matrices are
 * derived by tests/data/sm4/derive_gfni1.py and checked there against the standard's S-box
 * and rounds; this kernel is checked against the
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

/*
 * Two builds of this file: this one (AVX encoding, for any CPU with GFNI) and
 * sm4_gfni1_vl.c, which defines SM4G1_VL and its own names before including it, for CPUs with
 * AVX-512VL. The differences: how a round's four-way XOR is written (below, XOR4), and, in
 * the serial kernel, how GFNI results move between lanes (LANE1..LANE3) and how the round
 * groups its XORs (ROUNDR), further down.
 */
#ifndef SM4G1_FN
#define SM4G1_FN(name) tlsfe_sm4_gfni1_##name
#define TARGET __attribute__((target("avx,gfni,ssse3")))
#endif

/*
 * Pins a value to a register at this point, so the compiler keeps the XOR tree as written:
 * left to itself, GCC reassociated a round's XORs into a chain four deep after the GFNI
 * instead of two (measured on an Intel Xeon, Emerald Rapids: 12.3 cycles a round instead of
 * 11.0 with the tree). Emits no instruction.
 */
#define PIN(v) __asm__("" : "+x"(v))

/*
 * out = a ^ b ^ c ^ d, the end of a round's chain: a is a GFNI output XORed with the round's
 * early terms, b..d are GFNI outputs moved between lanes or bytes. Without AVX-512VL, as
 * (a ^ b) ^ (c ^ d); with it, as a ^ (b ^ c ^ d), the three in one VPTERNLOGD (10.1 cycles a
 * round on the Xeon above, against 11.0 for two levels of two-input XORs).
 */
#ifdef SM4G1_VL
#define XOR4(a, b, c, d, out)                                                            \
    do {                                                                                 \
        __m128i x_ = (a), y_ = (b), z_ = (c), w_ = (d);                                  \
        PIN(x_); PIN(y_); PIN(z_); PIN(w_);                                              \
        __m128i t_ = _mm_ternarylogic_epi32(y_, z_, w_, 0x96);                           \
        PIN(t_);                                                                         \
        (out) = _mm_xor_si128(x_, t_);                                                   \
    } while (0)
#else
#define XOR4(a, b, c, d, out)                                                            \
    do {                                                                                 \
        __m128i x_ = (a), y_ = (b), z_ = (c), w_ = (d);                                  \
        PIN(x_); PIN(y_); PIN(z_); PIN(w_);                                              \
        __m128i s_ = _mm_xor_si128(x_, y_), t_ = _mm_xor_si128(z_, w_);                  \
        PIN(s_); PIN(t_);                                                                \
        (out) = _mm_xor_si128(s_, t_);                                                   \
    } while (0)
#endif

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
        XOR4(_mm_xor_si128(w0_, q_), rot24(w3_), rot8(w1_), rot16(w1_), U);             \
        __m128i k_ = _mm_set1_epi32((int)zrk[((i) + 1) & 31]);                           \
        A = _mm_xor_si128(_mm_xor_si128(U, k_), _mm_xor_si128(C, D));                    \
    } while (0)

/*
 * The key in the Z basis, made once per key: zk[0..32] = rk'_i = M1 rk_i ^ 0x3E, and
 * zk[32..64] = rk'_i ^ rk'_{i+1} (kx below).
 */
TARGET static inline void prepare_keys(const uint32_t rk[32], uint32_t zk[64]) {
    z_keys(rk, zk);
    for (int i = 0; i < 32; i++) zk[32 + i] = zk[i] ^ zk[(i + 1) & 31];
}
#ifndef SM4G1_VL /* the key's form is the same for both builds: exported by this one only */
TARGET void SM4G1_FN(prepare)(const uint32_t rk[32], uint32_t zk[64]) { prepare_keys(rk, zk); }
#endif

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
TARGET void SM4G1_FN(ecb)(const uint32_t zk[64], const uint8_t *in, uint8_t *out,
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


/*
 * The serial kernel (CBC encryption, CBC-MAC) keeps each word in "rotated form": lane r of
 * its register holds the word rotated left by 8r bits. The bulk rounds above rotate the
 * GFNI outputs by whole bytes (a byte shuffle: 2 cycles on the chain); in rotated form that
 * rotation is a move between lanes (PSHUFD, 1 cycle), since every other operation (XOR, the
 * per-byte GF2P8AFFINEINVQB) commutes with rotating by whole bytes: lane r of GFNI(U) is
 * GFNI(U rotated by 8r) = GFNI(U) rotated by 8r. A round's chain is then one GFNI (3
 * cycles on Zen 5), one PSHUFD (1) and two XORs (2): 6 cycles, against 8 for the
 * one-word-per-lane form (which fits four blocks in a register, so the ECB/CTR paths keep
 * it). The cost is a register per word for one block, which a serial mode has to spare.
 *
 * lane r of REP(x, k) = word k of x rotated left by 8r bits
 */
static const uint8_t REP_MASKS[4][16] = {
    {0, 1, 2, 3, 3, 0, 1, 2, 2, 3, 0, 1, 1, 2, 3, 0},
    {4, 5, 6, 7, 7, 4, 5, 6, 6, 7, 4, 5, 5, 6, 7, 4},
    {8, 9, 10, 11, 11, 8, 9, 10, 10, 11, 8, 9, 9, 10, 11, 8},
    {12, 13, 14, 15, 15, 12, 13, 14, 14, 15, 12, 13, 13, 14, 15, 12},
};
#define REP(x, k) _mm_shuffle_epi8((x), _mm_loadu_si128((const __m128i *)REP_MASKS[k]))
/* Round key word i (0..63: rk'_0..31, then kx_0..31) in rotated form: from the table made
 * once per call (long inputs), or made where it is used (short inputs, where making the table
 * would cost as much as the rounds; off the chain either way). */
#define RKW(i) (rkt != NULL ? rkt[i] : _mm_shuffle_epi8(_mm_cvtsi32_si128((int)zk[i]), rep0))
#define RK(i) RKW(i)
#define RKX(i) RKW(32 + (i))

/*
 * LANEk(x): lane r gets lane r+k. In rotated form that is also each lane rotated left by 8k
 * bits, so the AVX-512VL build does two of the three moves with VPROLD (ports 0 and 1 on
 * Intel cores) and one with PSHUFD (ports 1 and 5): the three moves of a round become ready
 * together, and three PSHUFDs on two ports delay one. g0, which needs no move, is issued
 * last for the same reason (GFNI also runs on two ports). With the VL round below, on the
 * Intel Xeon (Emerald Rapids): 8.7-9.3 cycles a round against 9.7-10.4 (same process, best
 * of 300 over 16 KiB, three runs); the moves alone gave 3% of that.
 */
#ifdef SM4G1_VL
#define XOR3(a, b, c) _mm_ternarylogic_epi32((a), (b), (c), 0x96)
#define LANE1(x) _mm_rol_epi32((x), 8)
#define LANE2(x) _mm_shuffle_epi32((x), 0x4E)
#define LANE3(x) _mm_rol_epi32((x), 24)
#else
#define LANE1(x) _mm_shuffle_epi32((x), 0x39)
#define LANE2(x) _mm_shuffle_epi32((x), 0x4E)
#define LANE3(x) _mm_shuffle_epi32((x), 0x93)
#endif

/*
 * One round in rotated form, the words named as in ROUND1: A..D = Z_i..Z_{i+3} on entry,
 * A = Z_{i+4} on exit, U = u_i on entry and u_{i+1} on exit. The output map's four per-byte
 * matrices applied to the word rotated by 0, 8, 16, 24 bits become G0 lane r, G1 lanes r+1
 * and r+2, G3 lane r+3 (LANE1, LANE2, LANE3 bring lane r+1, r+2, r+3 to lane r).
 */
#ifdef SM4G1_VL
/* Three-input XORs in one VPTERNLOGD each, and U itself joins g0 at the end (the VEX build
 * below XORs it in first, q_): then nothing but the three GFNIs waits for U, and the next
 * word (A) is one XOR after it. The VEX build keeps its own form: this one, with two-input
 * XORs, measured 3% slower there. */
#define ROUNDR(A, B, C, D, U, i)                                                         \
    do {                                                                                 \
        __m128i e_ = XOR3(A, B, RKX(i));                                                 \
        __m128i g1_ = _mm_gf2p8affineinv_epi64_epi8(U, mq1, 0);                          \
        __m128i g3_ = _mm_gf2p8affineinv_epi64_epi8(U, mq3, 0);                          \
        __m128i g0_ = _mm_gf2p8affineinv_epi64_epi8(U, mq0, MQ0_C);                      \
        __m128i cd_ = XOR3(RK(((i) + 1) & 31), C, D);                                    \
        __m128i t_ = XOR3(LANE1(g1_), LANE2(g1_), LANE3(g3_));                           \
        __m128i x_ = XOR3(g0_, e_, U);                                                   \
        PIN(t_);                                                                         \
        PIN(x_);                                                                         \
        PIN(cd_);                                                                        \
        U = _mm_xor_si128(x_, t_);                                                       \
        A = _mm_xor_si128(U, cd_);                                                       \
    } while (0)
#else
#define ROUNDR(A, B, C, D, U, i)                                                         \
    do {                                                                                 \
        __m128i e_ = _mm_xor_si128(_mm_xor_si128(A, B), RKX(i));                        \
        __m128i q_ = _mm_xor_si128(e_, U);                                               \
        __m128i g1_ = _mm_gf2p8affineinv_epi64_epi8(U, mq1, 0);                          \
        __m128i g3_ = _mm_gf2p8affineinv_epi64_epi8(U, mq3, 0);                          \
        __m128i g0_ = _mm_gf2p8affineinv_epi64_epi8(U, mq0, MQ0_C);                      \
        XOR4(_mm_xor_si128(g0_, q_), LANE3(g3_), LANE1(g1_), LANE2(g1_), U);              \
        A = _mm_xor_si128(_mm_xor_si128(U, RK(((i) + 1) & 31)), _mm_xor_si128(C, D));    \
    } while (0)
#endif

/* The blocks of tlsfe_sm4_gfni1_cbc, with the rotated key table `rkt` or (NULL) without. */
TARGET static inline __attribute__((always_inline)) void
cbc_blocks(const uint32_t zk[64], const __m128i *rkt, uint8_t chain[16], const uint8_t *in,
           uint8_t *out, size_t nblocks) {
    const __m128i rep0 = _mm_loadu_si128((const __m128i *)REP_MASKS[0]);
    const __m128i mq0 = _mm_set1_epi64x((long long)MQ0);
    const __m128i mq1 = _mm_set1_epi64x((long long)MQ1);
    const __m128i mq3 = _mm_set1_epi64x((long long)MQ3);
    __m128i c = to_z(bswap32(_mm_loadu_si128((const __m128i *)chain)));
    /* (Z32, Z33, Z34, Z35) of the previous block: its output words in order */
    __m128i o0 = REP(c, 0), o1 = REP(c, 1), o2 = REP(c, 2), o3 = REP(c, 3);
    for (size_t blk = 0; blk < nblocks; blk++) {
        __m128i p = to_z(bswap32(_mm_loadu_si128((const __m128i *)(in + 16 * blk))));
        __m128i a = _mm_xor_si128(o0, REP(p, 0));
        __m128i b = _mm_xor_si128(o1, REP(p, 1));
        __m128i cc = _mm_xor_si128(o2, REP(p, 2));
        __m128i d = _mm_xor_si128(o3, REP(p, 3));
        __m128i u = _mm_xor_si128(_mm_xor_si128(b, cc), _mm_xor_si128(d, RK(0)));
        _Pragma("GCC unroll 8") for (int i = 0; i < 32; i += 4) {
            ROUNDR(a, b, cc, d, u, i);
            ROUNDR(b, cc, d, a, u, i + 1);
            ROUNDR(cc, d, a, b, u, i + 2);
            ROUNDR(d, a, b, cc, u, i + 3);
        }
        o0 = d;
        o1 = cc;
        o2 = b;
        o3 = a;
        if (out != NULL) {
            __m128i t0 = _mm_unpacklo_epi32(o0, o1);
            __m128i t1 = _mm_unpacklo_epi32(o2, o3);
            _mm_storeu_si128((__m128i *)(out + 16 * blk),
                             bswap32(from_z(_mm_unpacklo_epi64(t0, t1))));
        }
    }
    __m128i t0 = _mm_unpacklo_epi32(o0, o1);
    __m128i t1 = _mm_unpacklo_epi32(o2, o3);
    _mm_storeu_si128((__m128i *)chain, bswap32(from_z(_mm_unpacklo_epi64(t0, t1))));
}

/* Blocks from which the rotated key table pays for itself (measured on Zen 5: about 5% off a
 * long input's rounds; 64 shuffles, stores and a wipe per call). */
#define CBC_TABLE_FROM 8

/*
 * CBC encryption of nblocks from `in` to `out` (in place allowed) chained from `chain` (the
 * IV), or, with out == NULL, CBC-MAC: the state `chain` absorbs each block. `chain` is
 * updated to the last ciphertext block (the next IV, or the MAC). The chain stays in the Z
 * basis, in rotated form, from block to block: the next block's input is M1 P ^ (its output),
 * one XOR per word.
 */
TARGET void SM4G1_FN(cbc)(const uint32_t zk[64], uint8_t chain[16], const uint8_t *in,
                          uint8_t *out, size_t nblocks) {
    if (nblocks < CBC_TABLE_FROM) {
        cbc_blocks(zk, NULL, chain, in, out, nblocks);
        return;
    }
    const __m128i rep0 = _mm_loadu_si128((const __m128i *)REP_MASKS[0]);
    __m128i rkt[64];
    for (int i = 0; i < 64; i++) rkt[i] = _mm_shuffle_epi8(_mm_cvtsi32_si128((int)zk[i]), rep0);
    cbc_blocks(zk, rkt, chain, in, out, nblocks);
    wipe(rkt, sizeof rkt);
}
