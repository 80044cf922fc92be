/* The timing side of ab.sh: old_* and new_* are the two builds of the same kernels. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef uint64_t u64;
#define SIDE(v)                                                                              \
    void v##_base_table(u64 *);                                                              \
    int v##_mul_base(uint8_t *, const uint8_t *, const u64 *);                              \
    int v##_mul_point(uint8_t *, const uint8_t *, const uint8_t *);                         \
    int v##_verify_vartime(const uint8_t *, const uint8_t *, const uint8_t *,               \
                           const uint8_t *, const u64 *);                                    \
    void v##_inv(u64 *, const u64 *);                                                        \
    void v##_sm3(uint32_t *, const uint8_t *, size_t);                                      \
    void v##_sm3vl(uint32_t *, const uint8_t *, size_t);
SIDE(old)
SIDE(new)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define MIN_OF(best, stmt)                                                                   \
    do {                                                                                     \
        double t0_ = now();                                                                  \
        stmt;                                                                                \
        double d_ = now() - t0_;                                                             \
        if (d_ < (best)) (best) = d_;                                                        \
    } while (0)

static u64 table[2][43 * 32 * 8 + 512 * 8]; /* comb + verification's odd multiples of G */
static uint8_t msg[16384];

int main(void) {
    uint8_t k[32], k2[32], e[32], pub[64], out[2][64];
    for (int i = 0; i < 32; i++) {
        k[i] = (uint8_t)(i * 7 + 1);
        k2[i] = (uint8_t)(i * 13 + 5);
        e[i] = (uint8_t)(i * 3);
    }
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 31 + 7);
    old_base_table(table[0]);
    new_base_table(table[1]);
    old_mul_base(out[0], k, table[0]);
    new_mul_base(out[1], k, table[1]);
    if (memcmp(out[0], out[1], 64)) { puts("k*G differs between the builds"); return 1; }
    memcpy(pub, out[0], 64);
    old_mul_point(out[0], k2, pub);
    new_mul_point(out[1], k2, pub);
    if (memcmp(out[0], out[1], 64)) { puts("k*Q differs between the builds"); return 1; }
    u64 x[4] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x0f1e2d3c4b5a6978ULL, 0x1234ULL};
    u64 inv[2][4];
    old_inv(inv[0], x);
    new_inv(inv[1], x);
    if (memcmp(inv[0], inv[1], 32)) { puts("inversion differs between the builds"); return 1; }
    uint32_t st[2][8] = {{0}};
    old_sm3(st[0], msg, 256);
    new_sm3(st[1], msg, 256);
    if (memcmp(st[0], st[1], 32)) { puts("SM3 differs between the builds"); return 1; }
    /* the AVX-512VL SM3 kernel only where it can run */
    int vl = __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("bmi2");
    uint32_t stv[2][8] = {{0}};
    if (vl) {
        old_sm3vl(stv[0], msg, 256);
        new_sm3vl(stv[1], msg, 256);
        if (memcmp(stv[0], st[0], 32) || memcmp(stv[1], st[0], 32)) {
            puts("SM3 avx512vl differs from bmi2");
            return 1;
        }
    }

    double b[2][7];
    for (int v = 0; v < 2; v++)
        for (int j = 0; j < 7; j++) b[v][j] = 1e9;
    for (int r = 0; r < 300; r++) {
        MIN_OF(b[0][0], old_mul_base(out[0], k, table[0]));
        MIN_OF(b[1][0], new_mul_base(out[1], k, table[1]));
        MIN_OF(b[0][1], old_mul_point(out[0], k2, pub));
        MIN_OF(b[1][1], new_mul_point(out[1], k2, pub));
        MIN_OF(b[0][2], old_verify_vartime(e, k, k2, pub, table[0]));
        MIN_OF(b[1][2], new_verify_vartime(e, k, k2, pub, table[1]));
        MIN_OF(b[0][3], old_inv(inv[0], x));
        MIN_OF(b[1][3], new_inv(inv[1], x));
        MIN_OF(b[0][4], old_sm3(st[0], msg, 256));
        MIN_OF(b[1][4], new_sm3(st[1], msg, 256));
        if (vl) {
            MIN_OF(b[0][5], old_sm3vl(stv[0], msg, 256));
            MIN_OF(b[1][5], new_sm3vl(stv[1], msg, 256));
            MIN_OF(b[0][6], old_sm3vl(stv[0], msg, 16));
            MIN_OF(b[1][6], new_sm3vl(stv[1], msg, 16));
        }
    }
    /* MULX throughput: eight independent multiplications per iteration. */
    double mx = 1e9;
    for (int r = 0; r < 5; r++) {
        u64 a0 = 1, a1 = 2, a2 = 3, a3 = 4, a4 = 5, a5 = 6, a6 = 7, a7 = 8, s0 = 9, s1 = 10;
        long n = 20000000;
        double t0 = now();
        for (long i = 0; i < n; i++)
            __asm__ volatile("mulx %8, %0, %1\n\tmulx %9, %2, %3\n\tmulx %8, %4, %5\n\t"
                             "mulx %9, %6, %7\n\tmulx %8, %0, %1\n\tmulx %9, %2, %3\n\t"
                             "mulx %8, %4, %5\n\tmulx %9, %6, %7\n\t"
                             : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5),
                               "+r"(a6), "+r"(a7)
                             : "r"(s0), "r"(s1)
                             : "rdx");
        double d = (now() - t0) / n / 8;
        if (d < mx) mx = d;
    }
    /* the core clock from a chain of dependent additions (one cycle each) */
    double clk = 1e9;
    for (int r = 0; r < 5; r++) {
        u64 a = 1;
        long n = 20000000;
        double t0 = now();
        for (long i = 0; i < n; i++)
            __asm__ volatile("add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
                             "add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
                             : "+r"(a));
        double d = (now() - t0) / n / 8;
        if (d < clk) clk = d;
    }
    const char *names[5] = {"SM2 k*G (fixed base)", "SM2 k*Q (variable base)",
                            "SM2 verification core", "field inversion", "SM3 16 KiB"};
    printf("%-26s %12s %12s\n", "best of 300", "before", "after");
    for (int j = 0; j < 4; j++)
        printf("%-26s %9.2f us %9.2f us\n", names[j], b[0][j] * 1e6, b[1][j] * 1e6);
    printf("%-26s %7.0f MB/s %7.0f MB/s\n", names[4], 16384 / b[0][4] / 1e6,
           16384 / b[1][4] / 1e6);
    if (vl) {
        printf("%-26s %7.0f MB/s %7.0f MB/s\n", "SM3 avx512vl 16 KiB", 16384 / b[0][5] / 1e6,
               16384 / b[1][5] / 1e6);
        printf("%-26s %7.0f MB/s %7.0f MB/s\n", "SM3 avx512vl 1 KiB", 1024 / b[0][6] / 1e6,
               1024 / b[1][6] / 1e6);
    } else {
        puts("SM3 avx512vl: not timed (no AVX-512VL/BMI2 here)");
    }
    printf("core clock %.2f GHz; MULX throughput: one per %.2f cycles\n", 1e-9 / clk, mx / clk);
    return 0;
}
