/*
 * SM3 for one message with the rounds in one 32-bit lane of XMM registers (compiled with
 * -mavx512f -mavx512vl -mbmi2): VPROLD rotates, VPTERNLOGD computes FF, GG and the three-way
 * XOR of P0 in one instruction each, and the message expansion runs beside the rounds in
 * general registers (RORX), four words per group of four rounds (sm3_impl.h's
 * SM3_GROUP_EXPAND). Only lane 0 of each register means anything.
 *
 * Why: in general registers the round's E chain is GG (AND, XOR: 2) -> + (H + W_j) -> + SS1
 * -> P0 (two rotates, then two XORs: 3), 7 cycles, and the round's ~43 instructions are
 * already past what the 6-wide renamer issues in 7. With three-input logic the chain from E
 * to the next E is 5 (E + ((A <<< 12) + T_j), <<< 7, + (GG + H + W_j), two rotates in
 * parallel, one VPTERNLOGD) and the longest loop is A's, 6 (<<< 12, + T_j, + E, <<< 7,
 * XOR, + the FF sum); the round is 18 vector instructions (6 rotates, 8 additions, 3
 * VPTERNLOGD, 1 XOR), which the three vector ports of an Intel core also need 6 cycles
 * for. On the Intel Xeon (Emerald Rapids) VM it runs 7.2 core cycles a round against 8.1
 * for sm3_bmi2_rounds.c (asm/tools/cycles.sh: same process, 16 KiB). The additions keep
 * sm3_impl.h's order (SM3_PIN): left to itself GCC regroups them and the round takes 8.7
 * cycles.
 *
 * No table lookups, no data-dependent branches: the same operations as the scalar kernels.
 */
#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

typedef __m128i V;
#define ADD(a, b) _mm_add_epi32((a), (b))
#define XOR(a, b) _mm_xor_si128((a), (b))
/* VPTERNLOGD writes over its first operand: these put the middle argument there (FF's B,
 * GG's F, dead once rotated; see sm3_impl.h), so no live value is copied first. */
#define XOR3(a, b, c) _mm_ternarylogic_epi32((b), (a), (c), 0x96)
#define ROTL(x, n) _mm_rol_epi32((x), (n))
#define SET1(c) _mm_cvtsi32_si128((int)(c))
/* VPTERNLOGD truth tables (bit (x << 2 | y << 1 | z) of the immediate, x the first operand):
 * majority 0xe8 (symmetric); CHOOSE(a, b, c) = a ? b : c with b first, (x, y, z) = (b, a, c):
 * y ? x : z, 0xe2 */
#define MAJ(a, b, c) _mm_ternarylogic_epi32((b), (a), (c), 0xe8)
#define CHOOSE(a, b, c) _mm_ternarylogic_epi32((b), (a), (c), 0xe2)
#define SM3_PIN(x) __asm__("" : "+v"(x))
typedef const uint8_t *SM3_CTX;

/* The expansion, in general registers (GB/T 32905 5.3.2). */
static inline uint32_t sm3vl_rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
#define SM3VL_P1(x) ((x) ^ sm3vl_rotl((x), 15) ^ sm3vl_rotl((x), 23))

/* x + W_j with the word read by the addition itself (a 32-bit broadcast memory operand): one
 * instruction in the front end instead of a load and an add. Only lane 0 means anything. The
 * emulation test (no AVX-512) loads and adds. */
#ifdef __AVX512VL__
static inline V sm3vl_add_word(V x, const uint32_t *p) {
    V r;
    __asm__("vpaddd %1%{1to4%}, %2, %0" : "=v"(r) : "m"(*p), "v"(x));
    return r;
}
#else
static inline V sm3vl_add_word(V x, const uint32_t *p) { return ADD(x, SET1(*p)); }
#endif
#define SM3_ADD_W(x, j) sm3vl_add_word((x), &w[j])
#define SM3_ADD_WP(x, j) sm3vl_add_word((x), &wp[j])
#define SM3_GROUP_EXPAND 1
#define SM3_WORD uint32_t
#define SM3_GROUP_STATE ((void)0)
#define SM3_GROUP_LOAD(w, blk)                                                               \
    do {                                                                                     \
        const uint8_t *p_ = ctx + 64 * (blk);                                                \
        for (int i_ = 0; i_ < 16; i_++) {                                                    \
            uint32_t t_;                                                                     \
            __builtin_memcpy(&t_, p_ + 4 * i_, 4);                                           \
            w[i_] = __builtin_bswap32(t_);                                                   \
        }                                                                                    \
    } while (0)
/* before rounds j..j+3: W_(j+4..j+7) (W_0..W_15 are the block) and W'_(j..j+3) */
#define SM3_GROUP(j)                                                                         \
    do {                                                                                     \
        if ((j) >= 12)                                                                       \
            for (int k_ = (j) + 4; k_ < (j) + 8; k_++)                                       \
                w[k_] = SM3VL_P1(w[k_ - 16] ^ w[k_ - 9] ^ sm3vl_rotl(w[k_ - 3], 15)) ^         \
                        sm3vl_rotl(w[k_ - 13], 7) ^ w[k_ - 6];                               \
        for (int k_ = (j); k_ < (j) + 4; k_++) wp[k_] = w[k_] ^ w[k_ + 4];                    \
    } while (0)
#define SM3_COMPRESS_NAME sm3_compress_vl
#include "sm3_impl.h"

void tlsfe_sm3_vl_blocks(uint32_t state[8], const uint8_t *data, size_t nblocks) {
    V v[8];
    for (int i = 0; i < 8; i++) v[i] = _mm_cvtsi32_si128((int)state[i]);
    sm3_compress_vl(v, data, nblocks);
    for (int i = 0; i < 8; i++) state[i] = (uint32_t)_mm_cvtsi128_si32(v[i]);
}
#endif
