/*
 * Cycle figures quoted in README.md (GM kernels): instruction latencies, the serial SM4
 * round, SM4 gfni1 per block, SM2 field and point operations, SM3 per block. Built and run by
 * asm/tools/cycles.sh (x86-64 with GFNI, AVX-512VL, BMI2/ADX). Times are read with RDTSC and
 * converted to core cycles with the ratio a chain of dependent IMULs (three cycles each on
 * every Intel and AMD core since Sandy Bridge and Zen) gives. A chain of ADDs of an immediate
 * is no clock: Intel cores since Golden Cove execute many of them at rename (on an Emerald
 * Rapids Xeon it ran six a cycle).
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <x86intrin.h>

#define SM2_ADX 1
#define SM2_AVX2 1
#define SM2_FN(name) cyc_##name
#include "sm2_impl.h"

void tlsfe_sm4_gfni1_ecb(const uint32_t zk[64], const uint8_t *in, uint8_t *out, size_t nblocks);
void tlsfe_sm4_gfni1_cbc(const uint32_t zk[64], uint8_t chain[16], const uint8_t *in,
                         uint8_t *out, size_t nblocks);
void tlsfe_sm4_gfni1_vl_cbc(const uint32_t zk[64], uint8_t chain[16], const uint8_t *in,
                            uint8_t *out, size_t nblocks);
void tlsfe_sm3_bmi2_blocks(uint32_t state[8], const uint8_t *data, size_t nblocks);
void tlsfe_sm3_bmi2r_blocks(uint32_t state[8], const uint8_t *data, size_t nblocks);
void tlsfe_sm3_vl_blocks(uint32_t state[8], const uint8_t *data, size_t nblocks);

#define PIN(x) __asm__ volatile("" : "+x"(x))
static double tsc_per_cycle;

static double ratio(void) {
    uint64_t x = 3, t0 = __rdtsc();
    for (long i = 0; i < 20000000; i++)
        __asm__ volatile("imulq %0,%0\n\timulq %0,%0\n\timulq %0,%0\n\timulq %0,%0\n\timulq %0,%0\n\t"
                         "imulq %0,%0\n\timulq %0,%0\n\timulq %0,%0\n\timulq %0,%0\n\timulq %0,%0"
                         : "+r"(x));
    return (double)(__rdtsc() - t0) / (20000000.0 * 10 * 3);
}

#define CYC(t0, n) ((double)(__rdtsc() - (t0)) / (double)(n) / tsc_per_cycle)

__attribute__((target("avx512f,avx512vl,avx512bw,gfni"))) static void latencies(void) {
    __m128i x = _mm_set1_epi32(3), y = _mm_set1_epi32(5);
    const __m128i m = _mm_set1_epi64x(0x0102040810204080LL);
    const __m128i s = _mm_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1);
    const long n = 100000000;
    uint64_t t0;
#define LAT(name, op)                                                     \
    t0 = __rdtsc();                                                       \
    for (long i = 0; i < n; i++) { PIN(y); op; op; op; op; }              \
    printf("  %-18s %5.2f\n", name, CYC(t0, 4 * n));
    printf("latency, core cycles (dependent chain of one instruction):\n");
    LAT("GF2P8AFFINEINVQB", x = _mm_gf2p8affineinv_epi64_epi8(x, m, 0))
    LAT("PSHUFB", x = _mm_shuffle_epi8(x, s))
    LAT("VPROLD", x = _mm_rol_epi32(x, 8))
    LAT("PSHUFD", x = _mm_shuffle_epi32(x, 0x39))
    LAT("VPTERNLOGD", x = _mm_ternarylogic_epi32(x, y, m, 0x96))
    /* A GFNI result into other vector instructions and back: on the Emerald Rapids Xeon a GFNI
     * feeds another GFNI after 3 cycles but anything else after 5 (the pairs below ran 6 and
     * 7.4), which is what bounds the serial SM4 round there. Each line is cycles per pair. */
#define LAT2(name, op)                                                    \
    t0 = __rdtsc();                                                       \
    for (long i = 0; i < n; i++) { PIN(y); op; op; }                      \
    printf("  %-18s %5.2f\n", name, CYC(t0, 2 * n));
    LAT2("GFNI, then PXOR", x = _mm_xor_si128(_mm_gf2p8affineinv_epi64_epi8(x, m, 0), y))
    LAT2("GFNI, then PSHUFD", x = _mm_shuffle_epi32(_mm_gf2p8affineinv_epi64_epi8(x, m, 0), 0x39))
    /* A GFNI result read by an instruction that issues a cycle after the result arrived (it
     * waited for its other input): on the Emerald Rapids Xeon that read costs about two cycles
     * more (GFNI, VPROLD, VPTERNLOGD of both ran 9, against 7 when the VPTERNLOGD's other
     * inputs are not GFNI results). So every GFNI result on a serial chain has to be consumed
     * the cycle it arrives; four GFNIs from one input (two ports) cannot all be. */
#define LAT3(name, expr)                                                  \
    t0 = __rdtsc();                                                       \
    for (long i = 0; i < n / 2; i++) {                                    \
        PIN(y);                                                           \
        for (int k = 0; k < 2; k++) {                                     \
            __m128i g = _mm_gf2p8affineinv_epi64_epi8(x, m, 0);           \
            x = (expr);                                                   \
        }                                                                 \
    }                                                                     \
    printf("  %-34s %5.2f\n", name, CYC(t0, n));
    LAT3("GFNI, VPROLD, VPTERNLOGD(r, y, y)",
         _mm_ternarylogic_epi32(_mm_rol_epi32(g, 8), y, y, 0x96))
    LAT3("GFNI, VPROLD, VPTERNLOGD(r, g, y)",
         _mm_ternarylogic_epi32(_mm_rol_epi32(g, 8), g, y, 0x96))
    /* The rotated-form SM4 round's chain alone (3 GFNI from one input, lane moves, XORs). */
    const __m128i mq0 = _mm_set1_epi64x(0x040db891e9a481b7LL), mq1 = _mm_set1_epi64x(0x2c020425162040adLL),
                  mq3 = _mm_set1_epi64x(0x280fbcb4ff84c11aLL);
    t0 = __rdtsc();
    for (long i = 0; i < n / 4; i++) {
        PIN(y);
        for (int k = 0; k < 4; k++) {
            __m128i g0 = _mm_gf2p8affineinv_epi64_epi8(x, mq0, 0x63);
            __m128i g1 = _mm_gf2p8affineinv_epi64_epi8(x, mq1, 0);
            __m128i g3 = _mm_gf2p8affineinv_epi64_epi8(x, mq3, 0);
            __m128i t = _mm_xor_si128(_mm_xor_si128(g0, y), _mm_shuffle_epi32(g3, 0x93));
            x = _mm_xor_si128(t, _mm_xor_si128(_mm_shuffle_epi32(g1, 0x39), _mm_shuffle_epi32(g1, 0x4e)));
        }
    }
    printf("  %-18s %5.2f  (3 GFNI + 3 PSHUFD + XORs per step)\n", "rotated round chain", CYC(t0, n));
    printf("  (%d)\n", _mm_cvtsi128_si32(x) & 1);
}

int main(void) {
    ratio(); /* a first run warms the core up to its clock */
    tsc_per_cycle = ratio();
    printf("TSC ticks per core cycle: %.3f\n", tsc_per_cycle);
    latencies();

    static uint8_t buf[16384];
    uint32_t zk[64];
    for (int i = 0; i < 64; i++) zk[i] = (uint32_t)i * 0x9e3779b9u;
    uint8_t chain[16] = {0};
    uint64_t t0 = __rdtsc();
    for (int i = 0; i < 1000000; i++) tlsfe_sm4_gfni1_ecb(zk, buf, buf, 1);
    printf("SM4 gfni1: one block (ECB) %.0f cycles", CYC(t0, 1000000));
    t0 = __rdtsc();
    for (int i = 0; i < 1000; i++) tlsfe_sm4_gfni1_cbc(zk, chain, buf, buf, 1024);
    double cbc = CYC(t0, 1000 * 1024);
    printf(", CBC %.0f cycles a block (%.2f a round, %.1f a byte)\n", cbc, cbc / 32, cbc / 16);
    t0 = __rdtsc();
    for (int i = 0; i < 1000; i++) tlsfe_sm4_gfni1_vl_cbc(zk, chain, buf, buf, 1024);
    cbc = CYC(t0, 1000 * 1024);
    printf("SM4 gfni1-vl: CBC %.0f cycles a block (%.2f a round, %.1f a byte)\n", cbc, cbc / 32,
           cbc / 16);

    u64 a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4] = {9, 10, 11, 12};
    const int n = 1000000;
    t0 = __rdtsc();
    for (int i = 0; i < n; i++) fp_mul(a, a, b);
    printf("SM2 field: product latency %.1f", CYC(t0, n));
    t0 = __rdtsc();
    for (int i = 0; i < n; i++) { fp_mul(a, a, b); fp_mul(c, c, b); }
    printf(", throughput %.1f", CYC(t0, 2 * n));
    t0 = __rdtsc();
    for (int i = 0; i < n; i++) fp_sqr(a, a);
    printf(", square latency %.1f", CYC(t0, n));
    t0 = __rdtsc();
    for (int i = 0; i < n; i++) fp_add(a, a, b);
    printf(", add latency %.1f", CYC(t0, n));
    t0 = __rdtsc();
    for (int i = 0; i < n / 10; i++) fp_inv(a, a);
    printf(", inversion %.0f cycles\n", CYC(t0, n / 10));
    jac p;
    memcpy(p.x, a, 32); memcpy(p.y, b, 32); memcpy(p.z, c, 32);
    jac q = p;
    aff e;
    memcpy(e.x, b, 32); memcpy(e.y, c, 32);
    t0 = __rdtsc();
    for (int i = 0; i < n; i++) pt_dbl(&p, &p);
    printf("SM2 points: doubling %.0f cycles", CYC(t0, n));
    t0 = __rdtsc();
    for (int i = 0; i < n; i++) pt_add(&p, &p, &q, 0);
    printf(", addition %.0f", CYC(t0, n));
    t0 = __rdtsc();
    for (int i = 0; i < n; i++) pt_add_aff(&p, &p, &e, 0, 0);
    printf(", mixed addition %.0f\n", CYC(t0, n));

    /* The one-message SM3 kernels over the same 16 KiB, interleaved, each one's best of 300
     * (the same state must come out of all three) */
    void (*sm3k[3])(uint32_t *, const uint8_t *, size_t) = {
        tlsfe_sm3_bmi2_blocks, tlsfe_sm3_bmi2r_blocks, tlsfe_sm3_vl_blocks};
    const char *sm3n[3] = {"bmi2", "bmi2-rounds", "avx512vl"};
    uint32_t sts[3][8];
    double sm3best[3] = {1e30, 1e30, 1e30};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 8; i++) sts[k][i] = (uint32_t)i + 1;
    }
    for (int r = 0; r < 300; r++)
        for (int k = 0; k < 3; k++) {
            t0 = __rdtsc();
            sm3k[k](sts[k], buf, 256);
            double c = CYC(t0, 256);
            if (c < sm3best[k]) sm3best[k] = c;
        }
    for (int k = 0; k < 3; k++) {
        if (memcmp(sts[k], sts[0], 32)) printf("SM3 %s disagrees with bmi2\n", sm3n[k]);
        printf("SM3 one message (%s): %.0f cycles a block, %.2f a round\n", sm3n[k], sm3best[k],
               sm3best[k] / 64);
    }
    uint32_t *st = sts[0];
    printf("(%llx %x)\n", (unsigned long long)(a[0] ^ p.x[0]), st[0] ^ chain[0]);
    return 0;
}
