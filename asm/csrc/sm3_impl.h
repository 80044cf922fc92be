/*
 * The SM3 compression function (GB/T 32905-2016 5.3), written once over a "lane vector":
 * a uint32_t for one message, or a SIMD register holding word j of 8 or 16 independent
 * messages. The includer defines:
 *   V                 the lane type
 *   ADD, XOR, AND, OR (a, b), ANDNOT(a, b) = ~a & b, ROTL(x, n), SET1(c)
 *   XOR3(a, b, c)     a ^ b ^ c
 *   MAJ(a, b, c)      (a & b) | (a & c) | (b & c)
 *   CHOOSE(a, b, c)   (a & b) | (~a & c)
 * and a LOAD_BLOCK(w, block) statement that fills w[0..15] with the big-endian message words
 * of block number `block`. SM3_COMPRESS_NAME is the function this file defines:
 *   static void SM3_COMPRESS_NAME(V v[8], CTX ctx, size_t nblocks)
 * with CTX the includer's SM3_CTX type.
 * No table lookups, no data-dependent branches. The expanded words (the message's, which may
 * be an HMAC key's padded block or a KDF's secret) are wiped from the stack on return.
 */
#include <string.h>

#ifndef SM3_WIPE_DEFINED /* this file may be included twice (the emulation tests) */
#define SM3_WIPE_DEFINED 1
/* memset, then a barrier that makes the compiler assume the memory is read, so the stores
 * are not dropped as dead (as the SM2 and SM4 kernels wipe theirs). */
static inline void sm3_wipe(void *p, size_t n) {
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}
#endif

/* T_j <<< (j mod 32), GB/T 32905 4.2 and 5.3.3 */
static const uint32_t SM3_TJ[64] = {
    0x79cc4519, 0xf3988a32, 0xe7311465, 0xce6228cb, 0x9cc45197, 0x3988a32f, 0x7311465e, 0xe6228cbc,
    0xcc451979, 0x988a32f3, 0x311465e7, 0x6228cbce, 0xc451979c, 0x88a32f39, 0x11465e73, 0x228cbce6,
    0x9d8a7a87, 0x3b14f50f, 0x7629ea1e, 0xec53d43c, 0xd8a7a879, 0xb14f50f3, 0x629ea1e7, 0xc53d43ce,
    0x8a7a879d, 0x14f50f3b, 0x29ea1e76, 0x53d43cec, 0xa7a879d8, 0x4f50f3b1, 0x9ea1e762, 0x3d43cec5,
    0x7a879d8a, 0xf50f3b14, 0xea1e7629, 0xd43cec53, 0xa879d8a7, 0x50f3b14f, 0xa1e7629e, 0x43cec53d,
    0x879d8a7a, 0x0f3b14f5, 0x1e7629ea, 0x3cec53d4, 0x79d8a7a8, 0xf3b14f50, 0xe7629ea1, 0xcec53d43,
    0x9d8a7a87, 0x3b14f50f, 0x7629ea1e, 0xec53d43c, 0xd8a7a879, 0xb14f50f3, 0x629ea1e7, 0xc53d43ce,
    0x8a7a879d, 0x14f50f3b, 0x29ea1e76, 0x53d43cec, 0xa7a879d8, 0x4f50f3b1, 0x9ea1e762, 0x3d43cec5,
};

#define SM3_P0(x) XOR3((x), ROTL((x), 9), ROTL((x), 17))
#define SM3_P1(x) XOR3((x), ROTL((x), 15), ROTL((x), 23))

/* One round; the caller rotates the variable names instead of moving values. */
#define SM3_EXPAND(j)                                                                        \
    w[j] = XOR3(SM3_P1(XOR3(w[(j) - 16], w[(j) - 9], ROTL(w[(j) - 3], 15))),                 \
                ROTL(w[(j) - 13], 7), w[(j) - 6])

/* Round j also expands the message word it will need four rounds later (interleaving the
 * expansion with the rounds keeps both pipelines busy). An includer may instead expand four
 * words per group of four rounds with SIMD (SM3_GROUP_EXPAND): it then declares its state
 * with SM3_GROUP_STATE, loads a block with SM3_GROUP_LOAD(w, blk) (filling w[0..15]), and
 * SM3_GROUP(j), run before rounds j..j+3, stores W_(j+4..j+7) into w[] (up to w[63]) and
 * W'_(j..j+3) = W_i ^ W_(i+4) into wp[]. Such an includer may also keep the words in another
 * type than V (SM3_WORD, for w[] and wp[]) and say how a round adds one to a V
 * (SM3_ADD_W(x, j) = x + W_j, SM3_ADD_WP(x, j) = x + W'_j): the one-lane AVX-512VL kernel
 * expands in general registers and adds each word to its vector rounds straight from memory. */
#ifdef SM3_GROUP_EXPAND
#define SM3_ROUND_EXPAND(j) ((void)0)
#define SM3_WPRIME(j) wp[j]
#ifndef SM3_WORD
#define SM3_WORD V
#endif
#else
#define SM3_ROUND_EXPAND(j)                                                                  \
    do {                                                                                     \
        if ((j) + 4 >= 16) SM3_EXPAND((j) + 4);                                              \
    } while (0)
#define SM3_WPRIME(j) XOR(w[j], w[(j) + 4])
#define SM3_GROUP(j) ((void)0)
#endif
#ifndef SM3_ADD_W
#define SM3_ADD_W(x, j) ADD((x), w[j])
#define SM3_ADD_WP(x, j) ADD((x), SM3_WPRIME(j))
#endif
/* SM3_PIN(x) (optional) makes x opaque to the compiler, so that it keeps the association
 * order below instead of reassociating the additions (the one-message kernel uses it). */
#ifndef SM3_PIN
#define SM3_PIN(x) ((void)0)
#endif
/* The critical paths run from A and E of one round to those of the next; every term that
 * does not depend on E (H + W_j, D + W'_j, (A <<< 12) + T_j) is summed first, and E, then
 * ss1/ss2, enter last. B and F are rotated before FF and GG read them: they are dead after
 * that, so a kernel whose three-input instruction overwrites an input (VPTERNLOGD) can
 * overwrite B or F there instead of copying a live A or E first (see sm3_avx512vl.c). */
#define SM3_ROUND(j, A, B, C, D, E, F, G, H, FF, GG)                                         \
    do {                                                                                     \
        SM3_ROUND_EXPAND(j);                                                                 \
        V a12 = ROTL(A, 12);                                                                 \
        V at = ADD(a12, SET1(SM3_TJ[j]));                                                    \
        V hw = SM3_ADD_W(H, j);                                                              \
        V dw = SM3_ADD_WP(D, j);                                                             \
        SM3_PIN(at);                                                                         \
        SM3_PIN(hw);                                                                         \
        SM3_PIN(dw);                                                                         \
        V ss1 = ROTL(ADD(at, E), 7);                                                         \
        V ss2 = XOR(ss1, a12);                                                               \
        V b9_ = ROTL(B, 9);                                                                  \
        V f19_ = ROTL(F, 19);                                                                \
        V g_ = ADD(hw, GG(E, F, G));                                                         \
        V f_ = ADD(dw, FF(A, B, C));                                                         \
        SM3_PIN(g_);                                                                         \
        SM3_PIN(f_);                                                                         \
        B = b9_;                                                                             \
        F = f19_;                                                                            \
        D = ADD(f_, ss2);                                                                    \
        H = SM3_P0(ADD(g_, ss1));                                                            \
    } while (0)

#define SM3_FF0(a, b, c) XOR3(a, b, c)
#define SM3_ROUND4(j, FF, GG)                                                                \
    SM3_GROUP(j);                                                                            \
    SM3_ROUND((j) + 0, a, b, c, d, e, f, g, h, FF, GG);                                      \
    SM3_ROUND((j) + 1, d, a, b, c, h, e, f, g, FF, GG);                                      \
    SM3_ROUND((j) + 2, c, d, a, b, g, h, e, f, FF, GG);                                      \
    SM3_ROUND((j) + 3, b, c, d, a, f, g, h, e, FF, GG)

static void SM3_COMPRESS_NAME(V v[8], SM3_CTX ctx, size_t nblocks) {
#ifdef SM3_GROUP_EXPAND
    SM3_WORD w[68], wp[64];
    SM3_GROUP_STATE;
#else
    V w[68];
#endif
    for (size_t blk = 0; blk < nblocks; blk++) {
#ifdef SM3_GROUP_EXPAND
        SM3_GROUP_LOAD(w, blk);
#else
        LOAD_BLOCK(w, blk);
#endif
        V a = v[0], b = v[1], c = v[2], d = v[3], e = v[4], f = v[5], g = v[6], h = v[7];
        SM3_ROUND4(0, SM3_FF0, SM3_FF0);
        SM3_ROUND4(4, SM3_FF0, SM3_FF0);
        SM3_ROUND4(8, SM3_FF0, SM3_FF0);
        SM3_ROUND4(12, SM3_FF0, SM3_FF0);
        SM3_ROUND4(16, MAJ, CHOOSE);
        SM3_ROUND4(20, MAJ, CHOOSE);
        SM3_ROUND4(24, MAJ, CHOOSE);
        SM3_ROUND4(28, MAJ, CHOOSE);
        SM3_ROUND4(32, MAJ, CHOOSE);
        SM3_ROUND4(36, MAJ, CHOOSE);
        SM3_ROUND4(40, MAJ, CHOOSE);
        SM3_ROUND4(44, MAJ, CHOOSE);
        SM3_ROUND4(48, MAJ, CHOOSE);
        SM3_ROUND4(52, MAJ, CHOOSE);
        SM3_ROUND4(56, MAJ, CHOOSE);
        SM3_ROUND4(60, MAJ, CHOOSE);
        v[0] = XOR(v[0], a);
        v[1] = XOR(v[1], b);
        v[2] = XOR(v[2], c);
        v[3] = XOR(v[3], d);
        v[4] = XOR(v[4], e);
        v[5] = XOR(v[5], f);
        v[6] = XOR(v[6], g);
        v[7] = XOR(v[7], h);
    }
    sm3_wipe(w, sizeof w);
#ifdef SM3_GROUP_EXPAND
    sm3_wipe(wp, sizeof wp);
#endif
}
