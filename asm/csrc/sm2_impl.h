/*
 * SM2 (GB/T 32918) arithmetic on curveSM2: the field mod p, scalars mod n, Jacobian points,
 * and the three scalar multiplications the protocols need. Included by `sm2_portable.c`
 * (plain C) and `sm2_adx.c` (MULX/ADCX/ADOX products, AVX2 table scans), which define
 * SM2_FN(name) to give each compilation its own symbols.
 *
 * Curve constants are those of GB/T 32918.5-2017 (also RFC 8998 and draft-shen-sm2-ecdsa):
 *   p = FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 00000000 FFFFFFFF FFFFFFFF, a = p - 3,
 *   b = 28E9FA9E 9D9F5E34 4D5A9E4B CF6509A7 F39789F5 15AB8F92 DDBCBD41 4D940E93,
 *   n = FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF 7203DF6B 21C6052B 53BBF409 39D54123,
 *   G = (32C4AE2C 1F198119 5F990446 6A39C994 8FE30BBF F2660BE1 715A4589 334C74C7,
 *        BC3736A2 F4F6779C 59BDCEE3 6B692153 D0A9877C C62A4740 02DF32E5 2139F0A0).
 * The Montgomery constants (R = 2^256) were computed from these with Python integers.
 * Point formulas: dbl-2001-b, add-2007-bl and madd-2007-bl of the Explicit-Formulas Database.
 *
 * Constant time: nothing below branches on, or indexes memory with, a value derived from a
 * secret scalar, except the one-bit "degenerate addition" flag of a scalar multiplication,
 * declassified at its end (see mul_base), and results the caller publishes anyway (a point
 * at infinity is an error). The _vartime functions take public inputs only.
 */
#include <stdint.h>
#include <string.h>

typedef uint64_t u64;
typedef unsigned __int128 u128;

#ifdef TLSFE_CT_VALGRIND
void tlsfe_ct_public(const void *p, size_t n);
#define DECLASSIFY(p, n) tlsfe_ct_public((p), (n))
#else
#define DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

/* Clears secret scratch; the empty asm makes the stores observable, so the compiler cannot
 * drop them as dead (a plain memset of a local about to go out of scope may be removed). */
static inline void secure_zero(void *p, size_t n) {
    memset(p, 0, n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

#define SM2_W_BASE 6   /* fixed-base window (Booth): 43 windows of 32 affine points */
#define SM2_BASE_WINDOWS 43
#define SM2_BASE_ENTRIES 32
#define SM2_W_VAR 5    /* variable-base window (Booth): 52 windows, 16 Jacobian points */
#define SM2_VAR_WINDOWS 52
#define SM2_VAR_ENTRIES 16
/* Verification adds u1 G inside the doubling chain of u2 Q, by the width-11 NAF of u1 over
 * the odd multiples G, 3G, ..., 1023G (affine, 32 KiB, after the comb table in the same
 * buffer): about 256 / 12 = 21 mixed additions where the comb's signed windows made 43.
 * Measured on the Xeon (asm/tools/ab.sh), widths 8, 10, 11 and 12 took 4.4, 5.2, 6.7 and
 * 7.6% off a verification; 11 keeps the table within a 48 KiB L1. */
#define SM2_W_G 11
#define SM2_G_ODD (1 << (SM2_W_G - 2))
#define SM2_BASE_TABLE_LIMBS (SM2_BASE_WINDOWS * SM2_BASE_ENTRIES * 8 + SM2_G_ODD * 8)
_Static_assert(SM2_BASE_TABLE_LIMBS == 43 * 32 * 8 + 512 * 8,
               "SM2_BASE_TABLE_LIMBS in asm/src/ffi/sm2.rs must match");

static const u64 P[4] = {0xffffffffffffffffULL, 0xffffffff00000000ULL, 0xffffffffffffffffULL,
                         0xfffffffeffffffffULL};
static const u64 N[4] = {0x53bbf40939d54123ULL, 0x7203df6b21c6052bULL, 0xffffffffffffffffULL,
                         0xfffffffeffffffffULL};
static const u64 N0INV = 0x327f9e8872350975ULL; /* -n^-1 mod 2^64 */
static const u64 RR_P[4] = {0x0000000200000003ULL, 0x00000002ffffffffULL, 0x0000000100000001ULL,
                            0x0000000400000002ULL};
static const u64 RR_N[4] = {0x901192af7c114f20ULL, 0x3464504ade6fa2faULL, 0x620fc84c3affe0d4ULL,
                            0x1eb5e412a22b3d3bULL};
static const u64 ONE_P[4] = {1, 0x00000000ffffffffULL, 0, 0x0000000100000000ULL}; /* R mod p */
static const u64 B_PLAIN[4] = {0xddbcbd414d940e93ULL, 0xf39789f515ab8f92ULL, 0x4d5a9e4bcf6509a7ULL,
                               0x28e9fa9e9d9f5e34ULL};
static const u64 GX_PLAIN[4] = {0x715a4589334c74c7ULL, 0x8fe30bbff2660be1ULL, 0x5f9904466a39c994ULL,
                                0x32c4ae2c1f198119ULL};
static const u64 GY_PLAIN[4] = {0x02df32e52139f0a0ULL, 0xd0a9877cc62a4740ULL, 0x59bdcee36b692153ULL,
                                0xbc3736a2f4f6779cULL};

typedef struct { u64 x[4], y[4], z[4]; } jac;
typedef struct { u64 x[4], y[4]; } aff;

/* ---- helpers: masks and multi-limb add/sub ------------------------------------------- */

/* all ones when x == 0, else 0, without a branch */
static inline u64 is_zero_mask(u64 x) { return ((x | (0 - x)) >> 63) - 1; }

static inline u64 fe_is_zero(const u64 a[4]) { return is_zero_mask(a[0] | a[1] | a[2] | a[3]); }

static inline u64 fe_eq(const u64 a[4], const u64 b[4]) {
    return is_zero_mask((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]));
}

static inline void fe_cmov(u64 r[4], const u64 a[4], u64 mask) {
    for (int i = 0; i < 4; i++) r[i] = (r[i] & ~mask) | (a[i] & mask);
}

/* Add and subtract with carry: the x86 intrinsics compile to ADC/SBB chains; elsewhere a
 * 128-bit sum does the same. */
#if defined(__x86_64__)
#include <x86intrin.h>
#define ADC(c, a, b, out) ((c) = _addcarry_u64((unsigned char)(c), (a), (b), (unsigned long long *)&(out)))
#define SBB(c, a, b, out) ((c) = _subborrow_u64((unsigned char)(c), (a), (b), (unsigned long long *)&(out)))
#else
#define ADC(c, a, b, out)                                     \
    do {                                                      \
        u128 s_ = (u128)(a) + (b) + (c);                      \
        (out) = (u64)s_;                                      \
        (c) = (u64)(s_ >> 64);                                \
    } while (0)
#define SBB(c, a, b, out)                                     \
    do {                                                      \
        u128 d_ = (u128)(a) - (b) - (c);                      \
        (out) = (u64)d_;                                      \
        (c) = (u64)(d_ >> 64) & 1;                            \
    } while (0)
#endif

static inline u64 add4(u64 r[4], const u64 a[4], const u64 b[4]) {
    u64 c = 0;
    ADC(c, a[0], b[0], r[0]);
    ADC(c, a[1], b[1], r[1]);
    ADC(c, a[2], b[2], r[2]);
    ADC(c, a[3], b[3], r[3]);
    return c;
}

static inline u64 sub4(u64 r[4], const u64 a[4], const u64 b[4]) {
    u64 c = 0;
    SBB(c, a[0], b[0], r[0]);
    SBB(c, a[1], b[1], r[1]);
    SBB(c, a[2], b[2], r[2]);
    SBB(c, a[3], b[3], r[3]);
    return c;
}

/* r = (carry:a) mod m, for (carry:a) < 2m */
static inline void reduce_once(u64 r[4], const u64 a[4], u64 carry, const u64 m[4]) {
    u64 t[4];
    u64 borrow = sub4(t, a, m);
    /* keep a when the 5-limb subtraction borrowed: borrow > carry */
    u64 keep = 0 - (borrow & ~carry & 1);
    for (int i = 0; i < 4; i++) r[i] = (a[i] & keep) | (t[i] & ~keep);
}

static inline void mod_add(u64 r[4], const u64 a[4], const u64 b[4], const u64 m[4]) {
    u64 t[4];
    u64 c = add4(t, a, b);
    reduce_once(r, t, c, m);
}

static inline void mod_sub(u64 r[4], const u64 a[4], const u64 b[4], const u64 m[4]) {
    u64 t[4], mm[4];
    u64 mask = 0 - sub4(t, a, b);
    for (int i = 0; i < 4; i++) mm[i] = m[i] & mask;
    add4(r, t, mm);
}

/* ---- the field mod p: Montgomery, R = 2^256 ------------------------------------------- */

/* 512-bit product t = a * b */
static inline void mul_4x4(u64 t[8], const u64 a[4], const u64 b[4]) {
    for (int i = 0; i < 8; i++) t[i] = 0;
    for (int i = 0; i < 4; i++) {
        u128 c = 0;
        for (int j = 0; j < 4; j++) {
            c += (u128)a[j] * b[i] + t[i + j];
            t[i + j] = (u64)c;
            c >>= 64;
        }
        t[i + 4] = (u64)c;
    }
}

/*
 * Montgomery reduction mod p without multiplications. p = -1 mod 2^64, so each step's
 * multiplier is the low limb m itself, and
 *   m*p = m*2^256 - m*2^224 - m*2^96 + m*2^64 - m:
 * the low limb cancels; m is added at limbs 1 and 4, and m<<32, m>>32 subtracted at limbs
 * 1, 2 and 3, 4 (m*2^96 and m*2^224 split across two limbs each).
 */
static inline void fp_reduce(u64 r[4], const u64 t[8]) {
    u64 a0 = t[0], a1 = t[1], a2 = t[2], a3 = t[3], a4 = t[4], a5 = t[5], a6 = t[6], a7 = t[7];
    u64 a8 = 0, c, lo, hi;
#define SM2_RED_STEP(m, x1, x2, x3, x4, x5, x6, x7, x8)                           \
    lo = (m) << 32;                                                               \
    hi = (m) >> 32;                                                               \
    c = 0;                                                                        \
    ADC(c, x1, m, x1);                                                            \
    ADC(c, x2, 0, x2);                                                            \
    ADC(c, x3, 0, x3);                                                            \
    ADC(c, x4, m, x4);                                                            \
    ADC(c, x5, 0, x5);                                                            \
    ADC(c, x6, 0, x6);                                                            \
    ADC(c, x7, 0, x7);                                                            \
    x8 += c;                                                                      \
    c = 0;                                                                        \
    SBB(c, x1, lo, x1);                                                           \
    SBB(c, x2, hi, x2);                                                           \
    SBB(c, x3, lo, x3);                                                           \
    SBB(c, x4, hi, x4);                                                           \
    SBB(c, x5, 0, x5);                                                            \
    SBB(c, x6, 0, x6);                                                            \
    SBB(c, x7, 0, x7);                                                            \
    x8 -= c;
    u64 z1 = 0, z2 = 0, z3 = 0;
    SM2_RED_STEP(a0, a1, a2, a3, a4, a5, a6, a7, a8)
    SM2_RED_STEP(a1, a2, a3, a4, a5, a6, a7, a8, z1)
    SM2_RED_STEP(a2, a3, a4, a5, a6, a7, a8, z1, z2)
    SM2_RED_STEP(a3, a4, a5, a6, a7, a8, z1, z2, z3)
#undef SM2_RED_STEP
    /* The result (a4..a7, plus a carry in a8 + z1 + z2 + z3 counted together) is below 2p. */
    u64 res[4] = {a4, a5, a6, a7};
    reduce_once(r, res, a8 + z1 + z2 + z3, P);
}

#ifdef SM2_ADX
/*
 * Field product and square in inline assembly, for inputs below p (callers keep every field
 * element reduced): the 512-bit product t0..t7 (MULX rows, with ADCX/ADOX as two carry chains
 * in the product; a square computes its six cross products once, doubles them and adds the
 * four squares), then Montgomery reduction of the low half.
 * p = -1 mod 2^64, so each step's multiplier m is the low limb itself, and
 *   (w + m p) / 2^64 = w1.. + m - m 2^32 - m 2^160 + m 2^192
 * is added with one ADC and one SBB chain (carries out of the top limb can be dropped: the
 * true value is below 2^256). The two limbs of m 2^32 come from one MULX by 2^32, not two
 * shifts: on Intel cores shifts share ports 0 and 6 with every ADC, SBB and CMOV here, and
 * those ports bound the product's throughput, while MULX runs on ports 1 and 5 (1.5% off a
 * verification on the Xeon, `bash asm/tools/ab.sh`). After four steps the low half is at most p and the high half
 * below p; their sum, below 2p, is reduced by one subtraction of p kept or undone by CMOV.
 */
static const u64 SM2_C32 = 1ULL << 32;
#define SM2_REDC_STEP(w0, w1, w2, w3)                 \
        "movq %[" #w0 "], %%rdx\n\t"                 \
        "mulxq %[c32], %[lo], %[hi]\n\t"              \
        "addq %[" #w0 "], %[" #w1 "]\n\t"             \
        "adcq $0, %[" #w2 "]\n\t"                     \
        "adcq $0, %[" #w3 "]\n\t"                     \
        "adcq $0, %[" #w0 "]\n\t"                     \
        "subq %[lo], %[" #w1 "]\n\t"                  \
        "sbbq %[hi], %[" #w2 "]\n\t"                  \
        "sbbq %[lo], %[" #w3 "]\n\t"                  \
        "sbbq %[hi], %[" #w0 "]\n\t"

#define SM2_REDC_TAIL                                  \
        SM2_REDC_STEP(t0, t1, t2, t3)                  \
        SM2_REDC_STEP(t1, t2, t3, t0)                  \
        SM2_REDC_STEP(t2, t3, t0, t1)                  \
        SM2_REDC_STEP(t3, t0, t1, t2)                  \
        "addq %[t0], %[t4]\n\t"                        \
        "adcq %[t1], %[t5]\n\t"                        \
        "adcq %[t2], %[t6]\n\t"                        \
        "adcq %[t3], %[t7]\n\t"                        \
        "sbbq %[hi], %[hi]\n\t"                        \
        "movq %[t4], %[t0]\n\t"                        \
        "movq %[t5], %[t1]\n\t"                        \
        "movq %[t6], %[t2]\n\t"                        \
        "movq %[t7], %[t3]\n\t"                        \
        "subq $-1, %[t0]\n\t"                          \
        "sbbq %[p1], %[t1]\n\t"                        \
        "sbbq $-1, %[t2]\n\t"                          \
        "sbbq %[p3], %[t3]\n\t"                        \
        "sbbq $0, %[hi]\n\t"                           \
        "cmovcq %[t4], %[t0]\n\t"                      \
        "cmovcq %[t5], %[t1]\n\t"                      \
        "cmovcq %[t6], %[t2]\n\t"                      \
        "cmovcq %[t7], %[t3]\n\t"

static inline __attribute__((always_inline)) void fp_mul(u64 r[4], const u64 a[4], const u64 b[4]) {
    u64 t0, t1, t2, t3, t4, t5, t6, t7, lo, hi;
    __asm__(
        "movq 0(%[b]), %%rdx\n\t"
        "mulxq 0(%[a]), %[t0], %[t1]\n\t"
        "mulxq 8(%[a]), %[lo], %[t2]\n\t"
        "addq %[lo], %[t1]\n\t"
        "mulxq 16(%[a]), %[lo], %[t3]\n\t"
        "adcq %[lo], %[t2]\n\t"
        "mulxq 24(%[a]), %[lo], %[t4]\n\t"
        "adcq %[lo], %[t3]\n\t"
        "adcq $0, %[t4]\n\t"
#define ROW(off, x0, x1, x2, x3, x4)                                   \
        "movq " #off "(%[b]), %%rdx\n\t"                               \
        "xorl %k[" #x4 "], %k[" #x4 "]\n\t"                            \
        "mulxq 0(%[a]), %[lo], %[hi]\n\t"                              \
        "adcxq %[lo], %[" #x0 "]\n\t"                                  \
        "adoxq %[hi], %[" #x1 "]\n\t"                                  \
        "mulxq 8(%[a]), %[lo], %[hi]\n\t"                              \
        "adcxq %[lo], %[" #x1 "]\n\t"                                  \
        "adoxq %[hi], %[" #x2 "]\n\t"                                  \
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"                             \
        "adcxq %[lo], %[" #x2 "]\n\t"                                  \
        "adoxq %[hi], %[" #x3 "]\n\t"                                  \
        "mulxq 24(%[a]), %[lo], %[hi]\n\t"                             \
        "adcxq %[lo], %[" #x3 "]\n\t"                                  \
        "adoxq %[hi], %[" #x4 "]\n\t"                                  \
        "adcq $0, %[" #x4 "]\n\t"
        ROW(8, t1, t2, t3, t4, t5)
        ROW(16, t2, t3, t4, t5, t6)
        ROW(24, t3, t4, t5, t6, t7)
#undef ROW
        SM2_REDC_TAIL
        : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
          [t5] "=&r"(t5), [t6] "=&r"(t6), [t7] "=&r"(t7), [lo] "=&r"(lo), [hi] "=&r"(hi)
        : [a] "r"(a), [b] "r"(b), "m"(*(const u64(*)[4])a), "m"(*(const u64(*)[4])b),
          [p1] "m"(P[1]), [p3] "m"(P[3]), [c32] "m"(SM2_C32)
        : "rdx", "cc");
    r[0] = t0; r[1] = t1; r[2] = t2; r[3] = t3;
}

static inline __attribute__((always_inline)) void fp_sqr(u64 r[4], const u64 a[4]) {
    u64 t0, t1, t2, t3, t4, t5, t6, t7, lo, hi;
    __asm__(
        "movq 0(%[a]), %%rdx\n\t"
        "mulxq 8(%[a]), %[t1], %[t2]\n\t"
        "mulxq 16(%[a]), %[lo], %[t3]\n\t"
        "addq %[lo], %[t2]\n\t"
        "mulxq 24(%[a]), %[lo], %[t4]\n\t"
        "adcq %[lo], %[t3]\n\t"
        "adcq $0, %[t4]\n\t"
        "movq 8(%[a]), %%rdx\n\t"
        "xorl %k[t5], %k[t5]\n\t"
        "mulxq 16(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adoxq %[hi], %[t4]\n\t"
        "mulxq 24(%[a]), %[lo], %[hi]\n\t"
        "adcxq %[lo], %[t4]\n\t"
        "adoxq %[hi], %[t5]\n\t"
        "adcq $0, %[t5]\n\t"
        "movq 16(%[a]), %%rdx\n\t"
        "mulxq 24(%[a]), %[lo], %[t6]\n\t"
        "addq %[lo], %[t5]\n\t"
        "adcq $0, %[t6]\n\t"
        "xorl %k[t7], %k[t7]\n\t"
        "addq %[t1], %[t1]\n\t"
        "adcq %[t2], %[t2]\n\t"
        "adcq %[t3], %[t3]\n\t"
        "adcq %[t4], %[t4]\n\t"
        "adcq %[t5], %[t5]\n\t"
        "adcq %[t6], %[t6]\n\t"
        "adcq $0, %[t7]\n\t"
        "movq 0(%[a]), %%rdx\n\t"
        "mulxq %%rdx, %[t0], %[hi]\n\t"
        "addq %[hi], %[t1]\n\t"
        "movq 8(%[a]), %%rdx\n\t"
        "mulxq %%rdx, %[lo], %[hi]\n\t"
        "adcq %[lo], %[t2]\n\t"
        "adcq %[hi], %[t3]\n\t"
        "movq 16(%[a]), %%rdx\n\t"
        "mulxq %%rdx, %[lo], %[hi]\n\t"
        "adcq %[lo], %[t4]\n\t"
        "adcq %[hi], %[t5]\n\t"
        "movq 24(%[a]), %%rdx\n\t"
        "mulxq %%rdx, %[lo], %[hi]\n\t"
        "adcq %[lo], %[t6]\n\t"
        "adcq %[hi], %[t7]\n\t"
        SM2_REDC_TAIL
        : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
          [t5] "=&r"(t5), [t6] "=&r"(t6), [t7] "=&r"(t7), [lo] "=&r"(lo), [hi] "=&r"(hi)
        : [a] "r"(a), "m"(*(const u64(*)[4])a), [p1] "m"(P[1]), [p3] "m"(P[3]), [c32] "m"(SM2_C32)
        : "rdx", "cc");
    r[0] = t0; r[1] = t1; r[2] = t2; r[3] = t3;
}

#else
static inline __attribute__((always_inline)) void fp_mul(u64 r[4], const u64 a[4], const u64 b[4]) {
    u64 t[8];
    mul_4x4(t, a, b);
    fp_reduce(r, t);
}
static inline void fp_sqr(u64 r[4], const u64 a[4]) { fp_mul(r, a, a); }
#endif

#ifdef SM2_ADX
/* r = a + b mod p: the 257-bit sum (carry in c, zeroed first so that no stale register feeds
 * the result), p subtracted, the sum kept when that borrowed (CMOV). */
static inline void fp_add(u64 r[4], const u64 a[4], const u64 b[4]) {
    u64 t0, t1, t2, t3, u0, u1, u2, u3, c;
    __asm__(
        "xorl %k[c], %k[c]\n\t"
        "movq 0(%[a]), %[t0]\n\t"
        "movq 8(%[a]), %[t1]\n\t"
        "movq 16(%[a]), %[t2]\n\t"
        "movq 24(%[a]), %[t3]\n\t"
        "addq 0(%[b]), %[t0]\n\t"
        "adcq 8(%[b]), %[t1]\n\t"
        "adcq 16(%[b]), %[t2]\n\t"
        "adcq 24(%[b]), %[t3]\n\t"
        "adcq $0, %[c]\n\t"
        "movq %[t0], %[u0]\n\t"
        "movq %[t1], %[u1]\n\t"
        "movq %[t2], %[u2]\n\t"
        "movq %[t3], %[u3]\n\t"
        "subq $-1, %[u0]\n\t"
        "sbbq %[p1], %[u1]\n\t"
        "sbbq $-1, %[u2]\n\t"
        "sbbq %[p3], %[u3]\n\t"
        "sbbq $0, %[c]\n\t"
        "cmovcq %[t0], %[u0]\n\t"
        "cmovcq %[t1], %[u1]\n\t"
        "cmovcq %[t2], %[u2]\n\t"
        "cmovcq %[t3], %[u3]\n\t"
        : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [u0] "=&r"(u0),
          [u1] "=&r"(u1), [u2] "=&r"(u2), [u3] "=&r"(u3), [c] "=&r"(c)
        : [a] "r"(a), [b] "r"(b), "m"(*(const u64(*)[4])a), "m"(*(const u64(*)[4])b),
          [p1] "m"(P[1]), [p3] "m"(P[3])
        : "cc");
    r[0] = u0; r[1] = u1; r[2] = u2; r[3] = u3;
}

/* r = a - b mod p: the difference, plus p masked by its borrow (m = 0 - borrow) */
static inline void fp_sub(u64 r[4], const u64 a[4], const u64 b[4]) {
    u64 t0, t1, t2, t3, m, m1, m3;
    __asm__(
        "xorl %k[m], %k[m]\n\t"
        "movq 0(%[a]), %[t0]\n\t"
        "movq 8(%[a]), %[t1]\n\t"
        "movq 16(%[a]), %[t2]\n\t"
        "movq 24(%[a]), %[t3]\n\t"
        "subq 0(%[b]), %[t0]\n\t"
        "sbbq 8(%[b]), %[t1]\n\t"
        "sbbq 16(%[b]), %[t2]\n\t"
        "sbbq 24(%[b]), %[t3]\n\t"
        "sbbq $0, %[m]\n\t"
        "movq %[m], %[m1]\n\t"
        "movq %[m], %[m3]\n\t"
        "andq %[p1], %[m1]\n\t"
        "andq %[p3], %[m3]\n\t"
        "addq %[m], %[t0]\n\t"
        "adcq %[m1], %[t1]\n\t"
        "adcq %[m], %[t2]\n\t"
        "adcq %[m3], %[t3]\n\t"
        : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [m] "=&r"(m),
          [m1] "=&r"(m1), [m3] "=&r"(m3)
        : [a] "r"(a), [b] "r"(b), "m"(*(const u64(*)[4])a), "m"(*(const u64(*)[4])b),
          [p1] "m"(P[1]), [p3] "m"(P[3])
        : "cc");
    r[0] = t0; r[1] = t1; r[2] = t2; r[3] = t3;
}

/* r = a / 2 mod p for a < p: p added when a is odd (mask m = -(a & 1)), the 257-bit sum
 * shifted right by one with SHRD, which runs on port 1 of Intel cores, beside the
 * multiplier, where ADC, SBB and CMOV all queue for ports 0 and 6. (a + p) / 2 < p. */
static inline void fp_half(u64 r[4], const u64 a[4]) {
    u64 t0, t1, t2, t3, m, m1, m3, c;
    __asm__(
        "movq 0(%[a]), %[t0]\n\t"
        "movq 8(%[a]), %[t1]\n\t"
        "movq 16(%[a]), %[t2]\n\t"
        "movq 24(%[a]), %[t3]\n\t"
        "movl %k[t0], %k[m]\n\t"
        "andl $1, %k[m]\n\t"
        "negq %[m]\n\t"
        "movq %[m], %[m1]\n\t"
        "movq %[m], %[m3]\n\t"
        "andq %[p1], %[m1]\n\t"
        "andq %[p3], %[m3]\n\t"
        "xorl %k[c], %k[c]\n\t"
        "addq %[m], %[t0]\n\t"
        "adcq %[m1], %[t1]\n\t"
        "adcq %[m], %[t2]\n\t"
        "adcq %[m3], %[t3]\n\t"
        "adcq $0, %[c]\n\t"
        "shrdq $1, %[t1], %[t0]\n\t"
        "shrdq $1, %[t2], %[t1]\n\t"
        "shrdq $1, %[t3], %[t2]\n\t"
        "shrdq $1, %[c], %[t3]\n\t"
        : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [m] "=&r"(m),
          [m1] "=&r"(m1), [m3] "=&r"(m3), [c] "=&r"(c)
        : [a] "r"(a), "m"(*(const u64(*)[4])a), [p1] "m"(P[1]), [p3] "m"(P[3])
        : "cc");
    r[0] = t0; r[1] = t1; r[2] = t2; r[3] = t3;
}
#else
static inline void fp_add(u64 r[4], const u64 a[4], const u64 b[4]) { mod_add(r, a, b, P); }
static inline void fp_sub(u64 r[4], const u64 a[4], const u64 b[4]) { mod_sub(r, a, b, P); }
/* r = a / 2 mod p for a < p: (a + p) / 2 when a is odd (mask, no branch); below p */
static inline void fp_half(u64 r[4], const u64 a[4]) {
    u64 m = 0 - (a[0] & 1), pm[4], t[4];
    for (int i = 0; i < 4; i++) pm[i] = P[i] & m;
    u64 c = add4(t, a, pm);
    for (int i = 0; i < 3; i++) r[i] = (t[i] >> 1) | (t[i + 1] << 63);
    r[3] = (t[3] >> 1) | (c << 63);
}
#endif

/*
 * r = a^-1 in the Montgomery domain (a R -> a^-1 R; 0 -> 0), constant time, by Bernstein and
 * Yang's "divstep" gcd ("Fast constant-time gcd computation and modular inversion", TCHES
 * 2019) in its half-delta form: delta starts at 1/2 instead of 1. For an odd f up to about
 * 2^256 and 0 <= g <= f, 590 such steps bring g to 0 and f to +-1 (for g = 0, d stays 0):
 * a Coq proof by R. O'Connor in github.com/sipa/safegcd-bounds (coq/hddivsteps), where the
 * whole-delta form needs 724 (Bernstein and Yang's own bound, Theorem 11.2, is 741). We run
 * 10 batches of 59. delta is kept as zeta = -(delta + 1/2), an integer: delta > 0 is
 * zeta < 0, and the updates 1 - delta and 1 + delta are -zeta - 2 and zeta - 1.
 * A batch runs its divsteps on the low 64 bits of f and g only, recording the 2x2 matrix that
 * maps the full f, g (and d, e, with f = d a and g = e a mod p throughout) to their values 59
 * divsteps later, times 2^62 (it starts as 8 times the identity); the full numbers, in signed
 * radix 2^62, are then updated once. Dividing d and e by 2^62 mod p is exact after adding
 * m p with m = (the low 62 bits), because p = -1 mod 2^62. |d| and |e| grow by at most p a
 * batch, so no reduction is needed until the end. The divsteps' dependency chain (g -> g,
 * six operations) bounds it: 2.7 us with the 744 whole-delta steps here, 2.1 us now
 * (asm/tools/ab.sh), where a Fermat chain (257 squarings) took 4.3 us.
 */
typedef int64_t s64;
typedef __int128 s128;
#define SM2_M62 (((u64)1 << 62) - 1)
static const s64 P62[5] = {(s64)0x3fffffffffffffffULL, (s64)0x3ffffffc00000003ULL,
                           (s64)0x3fffffffffffffffULL, (s64)0x3fffffbfffffffffULL, 0xff};
static const u64 R3_P[4] = {0x0000001200000016ULL, 0x0000000efffffff8ULL, 0x0000000a0000000cULL,
                            0x0000001b00000009ULL}; /* R^3 mod p */

/* 59 half-delta divsteps on the low words of f (odd) and g; returns the new zeta and the
 * matrix (u, v, q, r) with 2^62 (f', g') = (u f + v g, q f + r g). */
static s64 divsteps59(s64 zeta, u64 f, u64 g, s64 m[4]) {
    u64 u = 8, v = 0, q = 0, r = 8;
#pragma GCC unroll 59
    for (int i = 0; i < 59; i++) {
        u64 odd = 0 - (g & 1);
        u64 swap = odd & (u64)(zeta >> 63); /* delta > 0 and g odd */
        /* g += odd ? (swap ? -f : f) : 0, written (g - swap) + ((f & odd) ^ swap) to keep
         * the chain from g to g short; (q, r) likewise from (u, v) */
        u64 gs = (g - swap) + ((f & odd) ^ swap);
        q = (q - swap) + ((u & odd) ^ swap);
        r = (r - swap) + ((v & odd) ^ swap);
        /* on a swap, f takes the old g: the new g plus f (and likewise u, v) */
        f += gs & swap;
        u += q & swap;
        v += r & swap;
        g = (u64)((s64)gs >> 1);
        u <<= 1;
        v <<= 1;
        zeta = (zeta ^ (s64)swap) - 1; /* swap ? -zeta - 2 : zeta - 1 */
    }
    m[0] = (s64)u;
    m[1] = (s64)v;
    m[2] = (s64)q;
    m[3] = (s64)r;
    return zeta;
}

/* (x, y) <- ((u x + v y) / 2^62, (q x + r y) / 2^62), exact (signed radix 2^62). */
static void update_fg(s64 x[5], s64 y[5], const s64 m[4]) {
    s128 cx = (s128)m[0] * x[0] + (s128)m[1] * y[0];
    s128 cy = (s128)m[2] * x[0] + (s128)m[3] * y[0];
    cx >>= 62;
    cy >>= 62;
    for (int i = 1; i < 5; i++) {
        cx += (s128)m[0] * x[i] + (s128)m[1] * y[i];
        cy += (s128)m[2] * x[i] + (s128)m[3] * y[i];
        x[i - 1] = (s64)((u64)cx & SM2_M62);
        y[i - 1] = (s64)((u64)cy & SM2_M62);
        cx >>= 62;
        cy >>= 62;
    }
    x[4] = (s64)cx;
    y[4] = (s64)cy;
}

/* (d, e) <- ((u d + v e) / 2^62, (q d + r e) / 2^62) mod p: m_d p and m_e p added first, with
 * m the low 62 bits of the sum, make the division exact (p = -1 mod 2^62). */
static void update_de(s64 d[5], s64 e[5], const s64 m[4]) {
    s128 cd = (s128)m[0] * d[0] + (s128)m[1] * e[0];
    s128 ce = (s128)m[2] * d[0] + (s128)m[3] * e[0];
    s64 md = (s64)((u64)cd & SM2_M62), me = (s64)((u64)ce & SM2_M62);
    cd += (s128)md * P62[0];
    ce += (s128)me * P62[0];
    cd >>= 62;
    ce >>= 62;
    for (int i = 1; i < 5; i++) {
        cd += (s128)m[0] * d[i] + (s128)m[1] * e[i] + (s128)md * P62[i];
        ce += (s128)m[2] * d[i] + (s128)m[3] * e[i] + (s128)me * P62[i];
        d[i - 1] = (s64)((u64)cd & SM2_M62);
        e[i - 1] = (s64)((u64)ce & SM2_M62);
        cd >>= 62;
        ce >>= 62;
    }
    d[4] = (s64)cd;
    e[4] = (s64)ce;
}

static void fp_inv(u64 r[4], const u64 a[4]) {
    s64 f[5], g[5], d[5] = {0, 0, 0, 0, 0}, e[5] = {1, 0, 0, 0, 0}, m[4], zeta = -1;
    memcpy(f, P62, sizeof f);
    g[0] = (s64)(a[0] & SM2_M62);
    g[1] = (s64)(((a[0] >> 62) | (a[1] << 2)) & SM2_M62);
    g[2] = (s64)(((a[1] >> 60) | (a[2] << 4)) & SM2_M62);
    g[3] = (s64)(((a[2] >> 58) | (a[3] << 6)) & SM2_M62);
    g[4] = (s64)(a[3] >> 56);
    for (int b = 0; b < 10; b++) {
        zeta = divsteps59(zeta, (u64)f[0] | ((u64)f[1] << 62), (u64)g[0] | ((u64)g[1] << 62), m);
        update_fg(f, g, m);
        update_de(d, e, m);
    }
    /* Now f = +-1 (a != 0) and a^-1 = f d; |d| < 11p. Take sign(f) d + 13p (> 0), whose
     * radix-2^62 normalisation gives a number below 2^261 (no negative limbs). */
    u64 neg = (u64)(f[4] >> 63); /* f = -1 has a top limb of -1, f = +1 one of 0 */
    s128 c = 0;
    u64 x[5];
    for (int i = 0; i < 5; i++) {
        s64 di = (s64)(((u64)d[i] ^ neg) - neg);
        c += (s128)di + (s128)13 * P62[i];
        if (i < 4) {
            x[i] = (u64)c & SM2_M62;
            c >>= 62;
        } else {
            x[i] = (u64)c;
        }
    }
    /* back to radix 2^64: t = low 256 bits, top = bits 256 and up (< 32) */
    u64 t[4], top = x[4] >> 8;
    t[0] = x[0] | (x[1] << 62);
    t[1] = (x[1] >> 2) | (x[2] << 60);
    t[2] = (x[2] >> 4) | (x[3] << 58);
    t[3] = (x[3] >> 6) | (x[4] << 56);
    /* top 2^256 = top (2^224 + 2^96 - 2^64 + 1) = top ONE_P (mod p), twice (the second carry
     * is at most one, and adding ONE_P once more cannot carry again) */
    for (int pass = 0; pass < 2; pass++) {
        u64 add[4] = {top, top * 0xffffffffULL, 0, top << 32};
        top = add4(t, t, add);
    }
    reduce_once(t, t, 0, P); /* t < 2^256 < 2p */
    /* t = (a R)^-1; times R^3 R^-1 gives a^-1 R */
    fp_mul(r, t, R3_P);
    secure_zero(d, sizeof d);
    secure_zero(e, sizeof e);
    secure_zero(f, sizeof f);
    secure_zero(g, sizeof g);
    secure_zero(x, sizeof x);
    secure_zero(t, sizeof t);
    secure_zero(m, sizeof m);
    secure_zero(&zeta, sizeof zeta);
}

static void fe_from_be(u64 r[4], const uint8_t b[32]) {
    for (int i = 0; i < 4; i++) {
        u64 v = 0;
        for (int j = 0; j < 8; j++) v = (v << 8) | b[(3 - i) * 8 + j];
        r[i] = v;
    }
}

static void fe_to_be(uint8_t b[32], const u64 a[4]) {
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++) b[(3 - i) * 8 + j] = (uint8_t)(a[i] >> (56 - 8 * j));
}

/* 1 when a < m (public inputs) */
static int lt_vartime(const u64 a[4], const u64 m[4]) {
    u64 t[4];
    return (int)sub4(t, a, m);
}

static void fp_to_mont(u64 r[4], const u64 a[4]) { fp_mul(r, a, RR_P); }
static void fp_from_mont(u64 r[4], const u64 a[4]) {
    static const u64 one[4] = {1, 0, 0, 0};
    fp_mul(r, a, one);
}

/* ---- points --------------------------------------------------------------------------- */

/* A Jacobian point with Z^2 and Z^3 kept (Chudnovsky): the entries of the tables of Q (k Q's
 * and verification's), each added several times, so that an addition skips two products. The
 * first three fields are a jac's. All zeros is the point at infinity. */
typedef struct { u64 x[4], y[4], z[4], zz[4], zzz[4]; } chud;

static void chud_from_jac(chud *c, const jac *p) {
    memcpy(c->x, p->x, 32);
    memcpy(c->y, p->y, 32);
    memcpy(c->z, p->z, 32);
    fp_sqr(c->zz, p->z);
    fp_mul(c->zzz, c->zz, p->z);
}

static inline void jac_from_chud(jac *r, const chud *c) {
    memcpy(r->x, c->x, 32);
    memcpy(r->y, c->y, 32);
    memcpy(r->z, c->z, 32);
}

/*
 * r = 2p (a = -3); infinity (z = 0) stays infinity. r may alias p. From dbl-2001-b
 * (delta = Z^2, gamma = Y^2, beta = X gamma, alpha = 3 (X - delta)(X + delta),
 * X3 = alpha^2 - 8 beta, Y3 = alpha (4 beta - X3) - 8 gamma^2, Z3 = 2 Y Z), but the result
 * is the same point scaled by lambda = 1/2, (X3 / 4, Y3 / 8, Z3 / 2):
 *   X3' = alpha'^2 - 2 beta, Y3' = alpha' (beta - X3') - gamma^2, Z3' = Y Z,
 * with alpha' = alpha / 2 = t + t / 2, t = (X - delta)(X + delta). 4M + 4S as before, and
 * of the twelve additions only seven remain, one of them a halving (fp_half): the field
 * additions' ADC, SBB and CMOV share two ports with the products' carry chains, which bound
 * a doubling on Intel cores.
 *
 * The order is measured, not derived: the out-of-order window holds well under half of one
 * doubling, and the products compete for two ALU ports, so which one the program names first
 * decides how soon the next doubling can start. alpha's chain first, then beta, then the
 * squares: on the Xeon this order took 5.5% off k*Q and 6.9% off a verification
 * (asm/tools/ab.sh) against the formula's textbook order; Z3 late, by contrast, cost 3%.
 */
static void pt_dbl(jac *r, const jac *p) {
    u64 delta[4], t0[4], t1[4], t2[4], half[4], gamma[4], alpha[4], beta[4], beta2[4], aa[4];
    u64 gg[4], t[4];
    fp_sqr(delta, p->z);
    fp_add(t1, p->x, delta);
    fp_mul(r->z, p->y, p->z);          /* p->z is not read after this */
    fp_sub(t0, p->x, delta);
    fp_sqr(gamma, p->y);
    fp_mul(t2, t0, t1);
    fp_half(half, t2);
    fp_add(alpha, t2, half);           /* 3/2 (X - delta)(X + delta) */
    fp_mul(beta, p->x, gamma);
    fp_sqr(gg, gamma);
    fp_sqr(aa, alpha);
    fp_add(beta2, beta, beta);
    fp_sub(r->x, aa, beta2);           /* p->x is not read after this */
    fp_sub(t, beta, r->x);
    fp_mul(t, alpha, t);
    fp_sub(r->y, t, gg);
}

#ifdef SM2_AVX2
#include <immintrin.h>
/* r = mask ? a : r, a whole point at once (three 256-bit blends by mask, no branch) */
static inline void jac_cmov(jac *r, const jac *a, u64 mask) {
    __m256i m = _mm256_set1_epi64x((long long)mask);
    __m256i *rv = (__m256i *)(void *)r;
    const __m256i *av = (const __m256i *)(const void *)a;
    for (int i = 0; i < 3; i++) {
        __m256i x = _mm256_loadu_si256(rv + i), y = _mm256_loadu_si256(av + i);
        _mm256_storeu_si256(rv + i, _mm256_or_si256(_mm256_andnot_si256(m, x), _mm256_and_si256(m, y)));
    }
}
#else
static inline void jac_cmov(jac *r, const jac *a, u64 mask) {
    fe_cmov(r->x, a->x, mask);
    fe_cmov(r->y, a->y, mask);
    fe_cmov(r->z, a->z, mask);
}
#endif


/*
 * r = a + b with b's Z^2 and Z^3 given, constant time; either may be infinity. Returns an
 * all-ones mask when a == b (both finite), where these formulas do not apply: with
 * `complete` set, r is then 2a (computed every time, for constant time); without, r is
 * garbage and the caller must redo. add-1998-cmo-2 (Cohen, Miyaji, Ono): H = U2 - U1,
 * r = S2 - S1, X3 = r^2 - H^3 - 2 U1 H^2, Y3 = r (U1 H^2 - X3) - S1 H^3, Z3 = Z1 Z2 H:
 * 14 products, as the add-2007-bl form used before made here, but seven field additions
 * instead of thirteen (its factors of two and its (Z1 + Z2)^2 - Z1^2 - Z2^2): the additions
 * share ports with the products' carry chains (see pt_dbl).
 */
static u64 pt_add_chud(jac *r, const jac *a, const chud *b, int complete) {
    u64 z1z1[4], u1[4], u2[4], s1[4], ta[4], s2[4], h[4], rr[4], z12[4], hh[4], hhh[4], v[4];
    u64 v2[4], rsq[4], x1[4], tv[4], y1[4], sh[4], degenerate;
    jac out, bj;
    u64 inf_a = fe_is_zero(a->z), inf_b = fe_is_zero(b->z);
    fp_sqr(z1z1, a->z);
    fp_mul(u1, a->x, b->zz);
    fp_mul(u2, b->x, z1z1);
    fp_mul(ta, a->z, z1z1);
    fp_sub(h, u2, u1);
    fp_mul(s1, a->y, b->zzz);
    fp_mul(s2, b->y, ta);
    fp_mul(z12, a->z, b->z);
    fp_sub(rr, s2, s1);
    degenerate = fe_is_zero(h) & fe_is_zero(rr) & ~inf_a & ~inf_b;
    fp_sqr(hh, h);
    fp_mul(hhh, h, hh);
    fp_mul(v, u1, hh);
    fp_sqr(rsq, rr);
    fp_add(v2, v, v);
    fp_sub(x1, rsq, hhh);
    fp_sub(out.x, x1, v2);
    fp_mul(out.z, z12, h);
    fp_sub(tv, v, out.x);
    fp_mul(y1, rr, tv);
    fp_mul(sh, s1, hhh);
    fp_sub(out.y, y1, sh);
    if (complete) {
        jac d;
        pt_dbl(&d, a);
        jac_cmov(&out, &d, degenerate);
    }
    jac_from_chud(&bj, b);
    jac_cmov(&out, &bj, inf_a);
    jac_cmov(&out, a, inf_b);
    *r = out;
    return degenerate;
}

/* r = a + b for a Jacobian b, as pt_add_chud (b's Z^2 and Z^3 made first, two products):
 * for the fixed-base tables, made once per process. */
static u64 pt_add(jac *r, const jac *a, const jac *b, int complete) {
    chud c;
    chud_from_jac(&c, b);
    return pt_add_chud(r, a, &c, complete);
}

/*
 * The second half of a mixed addition (a Jacobian, b affine; madd in the add-1998-cmo form
 * of pt_add_chud with Z2 = 1), shared by pt_add_aff and pt_add_aff_vartime: from
 * H = b.x Z1^2 - X1, r = b.y Z1^3 - Y1 and H^2, the sum X3 = r^2 - H^3 - 2 X1 H^2,
 * Y3 = r (X1 H^2 - X3) - Y1 H^3, Z3 = Z1 H into (ox, oy, oz): 11 products in all, as the
 * add-2007-bl form, with five field additions instead of thirteen. The outputs may alias
 * a's coordinates: each is written once a's is no longer read, oy last.
 */
static inline __attribute__((always_inline)) void aff_add_finish(
    u64 ox[4], u64 oy[4], u64 oz[4], const u64 ax[4], const u64 ay[4], const u64 az[4],
    const u64 h[4], const u64 rr[4], const u64 hh[4]) {
    u64 hhh[4], v[4], rsq[4], v2[4], x1[4], yh[4], tv[4], y1[4];
    fp_mul(hhh, h, hh);
    fp_mul(v, ax, hh);
    fp_sqr(rsq, rr);
    fp_mul(oz, az, h);
    fp_add(v2, v, v);
    fp_sub(x1, rsq, hhh);
    fp_sub(ox, x1, v2);
    fp_mul(yh, ay, hhh);
    fp_sub(tv, v, ox);
    fp_mul(y1, rr, tv);
    fp_sub(oy, y1, yh);
}

/*
 * r = a + (bx, by) with the affine point taken as infinity when `b_inf` (a mask) is set.
 * Same degenerate rule as pt_add.
 */
static u64 pt_add_aff(jac *r, const jac *a, const aff *b, u64 b_inf, int complete) {
    u64 z1z1[4], u2[4], ta[4], s2[4], h[4], rr[4], hh[4], degenerate;
    jac out;
    u64 inf_a = fe_is_zero(a->z);
    fp_sqr(z1z1, a->z);
    fp_mul(u2, b->x, z1z1);
    fp_mul(ta, a->z, z1z1);
    fp_sub(h, u2, a->x);
    fp_mul(s2, b->y, ta);
    fp_sqr(hh, h);
    fp_sub(rr, s2, a->y);
    degenerate = fe_is_zero(h) & fe_is_zero(rr) & ~inf_a & ~b_inf;
    aff_add_finish(out.x, out.y, out.z, a->x, a->y, a->z, h, rr, hh);
    if (complete) {
        jac d;
        pt_dbl(&d, a);
        jac_cmov(&out, &d, degenerate);
    }
    jac bj;
    memcpy(bj.x, b->x, 32);
    memcpy(bj.y, b->y, 32);
    memcpy(bj.z, ONE_P, 32);
    jac_cmov(&out, &bj, inf_a);
    jac_cmov(&out, a, b_inf);
    *r = out;
    return degenerate;
}

/* Affine coordinates (plain, big-endian) of p, given zi = 1/Z (Montgomery form). */
static void pt_affine_be(uint8_t out[64], const jac *p, const u64 zi[4]) {
    u64 zi2[4], x[4], y[4];
    fp_sqr(zi2, zi);
    fp_mul(x, p->x, zi2);
    fp_mul(zi2, zi2, zi);
    fp_mul(y, p->y, zi2);
    fp_from_mont(x, x);
    fp_from_mont(y, y);
    fe_to_be(out, x);
    fe_to_be(out + 32, y);
    secure_zero(x, sizeof x); /* an ECDH shared point is secret */
    secure_zero(y, sizeof y);
    secure_zero(zi2, sizeof zi2);
}

/* Whether p is infinity: public, as the operation then fails. */
static int pt_finite(const jac *p) {
    u64 inf = fe_is_zero(p->z);
    DECLASSIFY(&inf, sizeof inf);
    return inf == 0;
}

/* Affine coordinates (plain, big-endian) of p; returns 0 for infinity. */
static int pt_to_affine_be(uint8_t out[64], const jac *p) {
    u64 zi[4];
    fp_inv(zi, p->z);
    pt_affine_be(out, p, zi);
    secure_zero(zi, sizeof zi);
    return pt_finite(p);
}

/* Reads a public uncompressed point (x || y, big-endian) into Montgomery form; 0 when a
 * coordinate is >= p or the point is not on the curve. */
static int pt_from_be(aff *r, const uint8_t in[64]) {
    u64 x[4], y[4], b[4], lhs[4], rhs[4], t[4];
    fe_from_be(x, in);
    fe_from_be(y, in + 32);
    if (!lt_vartime(x, P) || !lt_vartime(y, P)) return 0;
    fp_to_mont(r->x, x);
    fp_to_mont(r->y, y);
    fp_to_mont(b, B_PLAIN);
    fp_sqr(lhs, r->y);
    fp_sqr(t, r->x);
    fp_mul(rhs, t, r->x);             /* x^3 */
    fp_sub(rhs, rhs, r->x);
    fp_sub(rhs, rhs, r->x);
    fp_sub(rhs, rhs, r->x);           /* x^3 - 3x */
    fp_add(rhs, rhs, b);
    return fe_eq(lhs, rhs) != 0;
}

/* ---- scalars -------------------------------------------------------------------------- */

/* The w+1 bits of the little-endian scalar k (5 limbs, top one zero) from bit pos - 1 to bit
 * pos + w - 1 (bit -1 reads as 0): the Booth window. */
static inline u64 window_bits(const u64 k[5], int pos, int w) {
    u64 mask = ((u64)1 << (w + 1)) - 1;
    if (pos == 0) return (k[0] << 1) & mask;
    int start = pos - 1, limb = start / 64, shift = start % 64;
    u64 v = k[limb] >> shift;
    if (shift + w + 1 > 64 && limb < 4) v |= k[limb + 1] << (64 - shift);
    return v & mask;
}

/* Booth digit of a (w+1)-bit window: magnitude in [0, 2^(w-1)] and sign (1 = negative). */
static inline void booth(u64 win, int w, u64 *mag, u64 *neg) {
    u64 s = 0 - (win >> w);
    u64 d = (((u64)1 << (w + 1)) - 1) - win;
    d = (d & s) | (win & ~s);
    *mag = (d >> 1) + (d & 1);
    *neg = s & 1;
}

static void scalar_limbs(u64 k[5], const uint8_t be[32]) {
    fe_from_be(k, be);
    k[4] = 0;
}

/* y = p - y when neg (y != 0 for curve points of odd order) */
static inline void fe_cneg(u64 y[4], u64 neg) {
    u64 t[4];
    sub4(t, P, y);
    fe_cmov(y, t, 0 - neg);
}

/* ---- constant-time table selection ---------------------------------------------------- */

#ifdef SM2_AVX2
#include <immintrin.h>
static void select_aff(aff *r, const u64 *tab, u64 idx) {
    __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
    __m256i want = _mm256_set1_epi64x((long long)idx);
    for (int j = 0; j < SM2_BASE_ENTRIES; j++) {
        __m256i m = _mm256_cmpeq_epi64(want, _mm256_set1_epi64x(j + 1));
        a0 = _mm256_or_si256(a0, _mm256_and_si256(m, _mm256_loadu_si256((const __m256i *)(tab + 8 * j))));
        a1 = _mm256_or_si256(a1, _mm256_and_si256(m, _mm256_loadu_si256((const __m256i *)(tab + 8 * j + 4))));
    }
    _mm256_storeu_si256((__m256i *)r->x, a0);
    _mm256_storeu_si256((__m256i *)r->y, a1);
}
static void select_chud(chud *r, const chud *tab, u64 idx) {
    __m256i a[5];
    __m256i want = _mm256_set1_epi64x((long long)idx);
    for (int i = 0; i < 5; i++) a[i] = _mm256_setzero_si256();
    for (int j = 0; j < SM2_VAR_ENTRIES; j++) {
        __m256i m = _mm256_cmpeq_epi64(want, _mm256_set1_epi64x(j + 1));
        const __m256i *e = (const __m256i *)(const void *)&tab[j];
        for (int i = 0; i < 5; i++) a[i] = _mm256_or_si256(a[i], _mm256_and_si256(m, _mm256_loadu_si256(e + i)));
    }
    __m256i *o = (__m256i *)(void *)r;
    for (int i = 0; i < 5; i++) _mm256_storeu_si256(o + i, a[i]);
}
#else
static void select_aff(aff *r, const u64 *tab, u64 idx) {
    u64 acc[8] = {0};
    for (int j = 0; j < SM2_BASE_ENTRIES; j++) {
        u64 m = is_zero_mask(idx ^ (u64)(j + 1));
        for (int i = 0; i < 8; i++) acc[i] |= tab[8 * j + i] & m;
    }
    memcpy(r->x, acc, 32);
    memcpy(r->y, acc + 4, 32);
}
static void select_chud(chud *r, const chud *tab, u64 idx) {
    u64 acc[20] = {0};
    for (int j = 0; j < SM2_VAR_ENTRIES; j++) {
        u64 m = is_zero_mask(idx ^ (u64)(j + 1));
        const u64 *e = (const u64 *)(const void *)&tab[j];
        for (int i = 0; i < 20; i++) acc[i] |= e[i] & m;
    }
    memcpy(r, acc, sizeof acc);
}
#endif

/* ---- the exported operations ---------------------------------------------------------- */

/* The fixed-base tables, SM2_BASE_TABLE_LIMBS limbs, affine and in Montgomery form: first the
 * comb, entry [i][j] = (j + 1) * 2^(6i) * G (SM2_BASE_WINDOWS * SM2_BASE_ENTRIES points), then
 * the odd multiples (2j + 1) * G for j < SM2_G_ODD. Public data, made once per process. */
void SM2_FN(base_table)(u64 *table) {
    enum { COMB = SM2_BASE_WINDOWS * SM2_BASE_ENTRIES, COUNT = COMB + SM2_G_ODD };
    static jac pts[COUNT];      /* guarded by the caller's once-initialisation */
    static u64 prod[COUNT][4];
    jac base, g2;
    fp_to_mont(base.x, GX_PLAIN);
    fp_to_mont(base.y, GY_PLAIN);
    memcpy(base.z, ONE_P, 32);
    pts[COMB] = base;
    pt_dbl(&g2, &base);
    for (int j = 1; j < SM2_G_ODD; j++) pt_add(&pts[COMB + j], &pts[COMB + j - 1], &g2, 1);
    for (int w = 0; w < SM2_BASE_WINDOWS; w++) {
        jac *row = &pts[w * SM2_BASE_ENTRIES];
        row[0] = base;
        pt_dbl(&row[1], &base);
        for (int j = 2; j < SM2_BASE_ENTRIES; j++) pt_add(&row[j], &row[j - 1], &base, 1);
        for (int i = 0; i < SM2_W_BASE; i++) pt_dbl(&base, &base);
    }
    /* Montgomery's trick: one inversion for all Z. */
    memcpy(prod[0], pts[0].z, 32);
    for (int i = 1; i < COUNT; i++) fp_mul(prod[i], prod[i - 1], pts[i].z);
    u64 inv[4];
    fp_inv(inv, prod[COUNT - 1]);
    for (int i = COUNT - 1; i >= 0; i--) {
        u64 zi[4], zi2[4], t[4];
        if (i > 0) {
            fp_mul(zi, inv, prod[i - 1]);
            fp_mul(inv, inv, pts[i].z);
        } else {
            memcpy(zi, inv, 32);
        }
        fp_sqr(zi2, zi);
        fp_mul(table + 8 * i, pts[i].x, zi2);
        fp_mul(t, zi2, zi);
        fp_mul(table + 8 * i + 4, pts[i].y, t);
    }
}

/* The end of both constant-time multiplications: the affine result, then the secret scalar
 * limbs and accumulator cleared. */
static int finish_mul(uint8_t out[64], jac *acc, u64 k[5]) {
    secure_zero(k, 5 * sizeof(u64));
    int finite = pt_to_affine_be(out, acc);
    secure_zero(acc, sizeof *acc);
    return finite;
}

static u64 mul_base_pass(jac *acc, const u64 k[5], const u64 *table, int complete) {
    u64 flag = 0;
    memset(acc, 0, sizeof *acc);
    for (int w = 0; w < SM2_BASE_WINDOWS; w++) {
        u64 mag, neg;
        aff e;
        booth(window_bits(k, SM2_W_BASE * w, SM2_W_BASE), SM2_W_BASE, &mag, &neg);
        select_aff(&e, table + (size_t)w * SM2_BASE_ENTRIES * 8, mag);
        fe_cneg(e.y, neg);
        flag |= pt_add_aff(acc, acc, &e, is_zero_mask(mag), complete);
    }
    return flag;
}

/* out = k * G (x || y, big-endian); 0 when the result is infinity (k = 0 mod n). */
int SM2_FN(mul_base)(uint8_t out[64], const uint8_t kb[32], const u64 *table) {
    u64 k[5];
    jac acc;
    scalar_limbs(k, kb);
    u64 flag = mul_base_pass(&acc, k, table, 0);
    /* An addition of a point to itself happens only for a few hundred special scalars (never
     * for a random nonce); this bit is the only thing declassified, and such a scalar is
     * redone with every addition complete. */
    DECLASSIFY(&flag, sizeof flag);
    if (flag) mul_base_pass(&acc, k, table, 1);
    return finish_mul(out, &acc, k);
}

/* tab[m - 1] = m * Q for m = 1..16 (Q public), with Z^2 and Z^3: even multiples by
 * doubling, odd ones as the mixed sum (m - 1) Q + Q, which never adds a point to itself
 * (m - 1 != 1 for odd m >= 3) nor to its negation (m < n). */
static void var_table(chud tab[SM2_VAR_ENTRIES], const aff *q) {
    jac j[SM2_VAR_ENTRIES];
    memcpy(j[0].x, q->x, 32);
    memcpy(j[0].y, q->y, 32);
    memcpy(j[0].z, ONE_P, 32);
    for (int m = 2; m <= SM2_VAR_ENTRIES; m++) {
        if (m % 2 == 0) pt_dbl(&j[m - 1], &j[m / 2 - 1]);
        else pt_add_aff(&j[m - 1], &j[m - 2], q, 0, 0);
    }
    memcpy(&tab[0], &j[0], sizeof j[0]);
    memcpy(tab[0].zz, ONE_P, 32);
    memcpy(tab[0].zzz, ONE_P, 32);
    for (int m = 1; m < SM2_VAR_ENTRIES; m++) chud_from_jac(&tab[m], &j[m]);
}

static u64 mul_point_pass(jac *acc, const u64 k[5], const chud tab[SM2_VAR_ENTRIES], int complete) {
    u64 flag = 0, mag, neg;
    chud e;
    int top = SM2_VAR_WINDOWS - 1;
    booth(window_bits(k, SM2_W_VAR * top, SM2_W_VAR), SM2_W_VAR, &mag, &neg);
    select_chud(&e, tab, mag);
    fe_cneg(e.y, neg);
    jac_from_chud(acc, &e);
    for (int w = top - 1; w >= 0; w--) {
        /* the window's entry first: its constant-time scan then overlaps the doublings */
        booth(window_bits(k, SM2_W_VAR * w, SM2_W_VAR), SM2_W_VAR, &mag, &neg);
        select_chud(&e, tab, mag);
        fe_cneg(e.y, neg);
        for (int i = 0; i < SM2_W_VAR; i++) pt_dbl(acc, acc);
        flag |= pt_add_chud(acc, acc, &e, complete);
    }
    secure_zero(&e, sizeof e); /* which multiple was last chosen tells about k */
    return flag;
}

/* out = k * Q for a public point Q (x || y); returns -1 when Q is not a curve point, 0 when
 * the result is infinity, 1 otherwise. Constant time in k. */
int SM2_FN(mul_point)(uint8_t out[64], const uint8_t kb[32], const uint8_t q[64]) {
    aff qa;
    chud tab[SM2_VAR_ENTRIES];
    jac acc;
    u64 k[5];
    if (!pt_from_be(&qa, q)) return -1;
    var_table(tab, &qa);
    scalar_limbs(k, kb);
    u64 flag = mul_point_pass(&acc, k, tab, 0);
    DECLASSIFY(&flag, sizeof flag);
    if (flag) mul_point_pass(&acc, k, tab, 1);
    return finish_mul(out, &acc, k);
}

/*
 * A server's half of an ECDH exchange in one call: pub = k G and shared = k Q (x || y each),
 * as mul_base and mul_point give them, but with one field inversion for both affine
 * conversions (Montgomery's trick: 1/Zg = Zq / (Zg Zq), 1/Zq = Zg / (Zg Zq)). Returns -1
 * when Q is not a curve point, 0 when either product is infinity, 1 otherwise. Constant
 * time in k.
 */
int SM2_FN(exchange)(uint8_t pub[64], uint8_t shared[64], const uint8_t kb[32],
                     const uint8_t q[64], const u64 *table) {
    aff qa;
    chud tab[SM2_VAR_ENTRIES];
    jac g, p;
    u64 k[5], zz[4], inv[4], zi[4];
    if (!pt_from_be(&qa, q)) return -1;
    var_table(tab, &qa);
    scalar_limbs(k, kb);
    u64 flag = mul_base_pass(&g, k, table, 0);
    DECLASSIFY(&flag, sizeof flag); /* as in mul_base */
    if (flag) mul_base_pass(&g, k, table, 1);
    flag = mul_point_pass(&p, k, tab, 0);
    DECLASSIFY(&flag, sizeof flag); /* as in mul_point */
    if (flag) mul_point_pass(&p, k, tab, 1);
    secure_zero(k, sizeof k);
    fp_mul(zz, g.z, p.z);
    fp_inv(inv, zz); /* 0 when either is infinity: both outputs are then garbage, and 0 returned */
    fp_mul(zi, inv, p.z);
    pt_affine_be(pub, &g, zi);
    fp_mul(zi, inv, g.z);
    pt_affine_be(shared, &p, zi);
    int finite = pt_finite(&g) & pt_finite(&p);
    secure_zero(&g, sizeof g);
    secure_zero(&p, sizeof p);
    secure_zero(zz, sizeof zz);
    secure_zero(inv, sizeof inv);
    secure_zero(zi, sizeof zi);
    return finite;
}

/* 1 when q (x || y) is a point on the curve (the point at infinity has no such encoding). */
int SM2_FN(point_check)(const uint8_t q[64]) {
    aff qa;
    return pt_from_be(&qa, q);
}

/* The width-w non-adjacent form (2 <= w <= 16) of a public scalar (big-endian bytes), least
 * significant digit first: every digit 0 or odd in (-2^(w-1), 2^(w-1)), any nonzero digit
 * followed by at least w - 1 zeros. Returns the number of digits (at most 257); digits holds
 * WNAF_LEN entries, as zeros may be written up to w - 1 places past the last digit.
 * Variable time. */
#define WNAF_LEN (257 + 16)
static int wnaf_vartime(int16_t digits[WNAF_LEN], const uint8_t kb[32], int w) {
    u64 k[5];
    int len = 0;
    const int full = 1 << w, half = 1 << (w - 1);
    scalar_limbs(k, kb);
    while ((k[0] | k[1] | k[2] | k[3] | k[4]) != 0) {
        /* a run of zero digits (the low set bit of k), or one digit and the w - 1 zeros
         * after it; then k is shifted right past them */
        int step;
        if (k[0] & 1) {
            int d = (int)(k[0] & (u64)(full - 1));
            if (d >= half) d -= full;
            /* k -= d: the low w bits become zero */
            u64 c = 0, add[5] = {0, 0, 0, 0, 0};
            if (d < 0) {
                add[0] = (u64)(-d);
                for (int i = 0; i < 5; i++) ADC(c, k[i], add[i], k[i]);
            } else {
                add[0] = (u64)d;
                for (int i = 0; i < 5; i++) SBB(c, k[i], add[i], k[i]);
            }
            digits[len] = (int16_t)d;
            for (int i = 1; i < w; i++) digits[len + i] = 0;
            step = w;
        } else {
            step = k[0] == 0 ? 63 : __builtin_ctzll(k[0]);
            for (int i = 0; i < step; i++) digits[len + i] = 0;
        }
        len += step;
        for (int i = 0; i < 4; i++) k[i] = (k[i] >> step) | (k[i + 1] << (64 - step));
        k[4] >>= step;
    }
    /* the zeros written past the last digit are not digits */
    while (len > 0 && digits[len - 1] == 0) len--;
    return len;
}

/* The cases the addition formulas cannot take, for the variable-time additions: when
 * H = 0, b is a (r = 2a) or -a (r = infinity); then r is set and 1 returned, else 0. */
static int add_met_vartime(jac *r, const jac *a, const u64 h[4], const u64 rr[4]) {
    if (!fe_is_zero(h)) return 0;
    if (fe_is_zero(rr)) {
        pt_dbl(r, a);
    } else {
        memset(r, 0, sizeof *r);
    }
    return 1;
}

/* Variable time, public inputs: r = a + b, every case handled (a at infinity, a = b,
 * a = -b). b's Z^2 and Z^3 come with it: pt_add_chud's formulas, 14 products. */
static void pt_add_chud_vartime(jac *r, const jac *a, const chud *b) {
    u64 z1z1[4], u1[4], u2[4], s1[4], ta[4], s2[4], h[4], rr[4], z12[4], hh[4], hhh[4], v[4];
    u64 v2[4], rsq[4], x1[4], tv[4], y1[4], sh[4];
    if (fe_is_zero(a->z)) {
        memcpy(r->x, b->x, 32);
        memcpy(r->y, b->y, 32);
        memcpy(r->z, b->z, 32);
        return;
    }
    /* Nothing is written to r before the degenerate cases are ruled out, as r may be a. */
    fp_sqr(z1z1, a->z);
    fp_mul(u1, a->x, b->zz);
    fp_mul(u2, b->x, z1z1);
    fp_mul(ta, a->z, z1z1);
    fp_sub(h, u2, u1);
    fp_mul(s1, a->y, b->zzz);
    fp_mul(s2, b->y, ta);
    fp_mul(z12, a->z, b->z);
    fp_sub(rr, s2, s1);
    if (add_met_vartime(r, a, h, rr)) return;
    /* a is not read from here on, so the results go straight to r: a copy through a local
     * would load each coordinate whole from four 8-byte stores, which store forwarding cannot
     * serve, on the path to the next doubling. */
    fp_sqr(hh, h);
    fp_mul(hhh, h, hh);
    fp_mul(v, u1, hh);
    fp_sqr(rsq, rr);
    fp_add(v2, v, v);
    fp_sub(x1, rsq, hhh);
    fp_sub(r->x, x1, v2);
    fp_mul(r->z, z12, h);
    fp_sub(tv, v, r->x);
    fp_mul(y1, rr, tv);
    fp_mul(sh, s1, hhh);
    fp_sub(r->y, y1, sh);
}

/* Variable time, public inputs: r = a + (bx, by), every case handled, the results written
 * straight to r (which may be a) as in pt_add_chud_vartime. */
static void pt_add_aff_vartime(jac *r, const jac *a, const u64 bx[4], const u64 by[4]) {
    u64 z1z1[4], u2[4], ta[4], s2[4], h[4], rr[4], hh[4];
    if (fe_is_zero(a->z)) {
        memcpy(r->x, bx, 32);
        memcpy(r->y, by, 32);
        memcpy(r->z, ONE_P, 32);
        return;
    }
    /* in pt_add_aff's order; nothing is written to r before the degenerate cases are ruled
     * out, and each coordinate of r only once a's is no longer read */
    fp_sqr(z1z1, a->z);
    fp_mul(u2, bx, z1z1);
    fp_mul(ta, a->z, z1z1);
    fp_sub(h, u2, a->x);
    fp_mul(s2, by, ta);
    fp_sqr(hh, h);
    fp_sub(rr, s2, a->y);
    if (add_met_vartime(r, a, h, rr)) return;
    aff_add_finish(r->x, r->y, r->z, a->x, a->y, a->z, h, rr, hh);
}

/* out = u1 * G + u2 * Q (Jacobian); 0 when Q is not on the curve. Variable time: for
 * verification, where every input is public. One chain of doublings: u2 by its width-5 NAF
 * over the odd multiples Q, 3Q, ..., 15Q (Chudnovsky; about 43 additions), u1 by its width-11
 * NAF over the affine odd multiples of G after the comb in `table` (about 21). */
static int mul2_vartime(jac *out, const uint8_t u1b[32], const uint8_t u2b[32],
                        const uint8_t q[64], const u64 *table) {
    const u64 *godd = table + SM2_BASE_WINDOWS * SM2_BASE_ENTRIES * 8;
    aff qa;
    jac acc, odd[8], q2;
    chud oddc[16], q2c; /* the odd multiples, then their negations */
    int16_t dg[WNAF_LEN], dq[WNAF_LEN];
    if (!pt_from_be(&qa, q)) return 0;
    int lg = wnaf_vartime(dg, u1b, SM2_W_G), lq = wnaf_vartime(dq, u2b, 5);
    memcpy(odd[0].x, qa.x, 32);
    memcpy(odd[0].y, qa.y, 32);
    memcpy(odd[0].z, ONE_P, 32);
    pt_dbl(&q2, &odd[0]);
    /* 3Q as the mixed sum 2Q + Q, then (2i + 1)Q = (2i - 1)Q + 2Q with 2Q's Z^2 and Z^3 */
    chud_from_jac(&q2c, &q2);
    pt_add_aff_vartime(&odd[1], &q2, qa.x, qa.y);
    for (int i = 2; i < 8; i++) pt_add_chud_vartime(&odd[i], &odd[i - 1], &q2c);
    for (int i = 0; i < 8; i++) {
        chud_from_jac(&oddc[i], &odd[i]);
        oddc[8 + i] = oddc[i];
        fe_cneg(oddc[8 + i].y, 1);
    }
    memset(&acc, 0, sizeof acc);
    for (int i = (lg > lq ? lg : lq) - 1; i >= 0; i--) {
        if (!fe_is_zero(acc.z)) pt_dbl(&acc, &acc);
        if (i < lq && dq[i] != 0) {
            int d = dq[i];
            pt_add_chud_vartime(&acc, &acc, &oddc[(d < 0 ? 8 : 0) + ((d < 0 ? -d : d) >> 1)]);
        }
        if (i < lg && dg[i] != 0) {
            int d = dg[i];
            const u64 *e = godd + (size_t)((d < 0 ? -d : d) >> 1) * 8;
            u64 ny[4];
            if (d < 0) {
                memcpy(ny, e + 4, 32);
                fe_cneg(ny, 1);
            }
            pt_add_aff_vartime(&acc, &acc, e, d < 0 ? ny : e + 4);
        }
    }
    *out = acc;
    return 1;
}

/* ---- arithmetic mod n, for signing and verification ----------------------------------- */

static void fn_mul(u64 r[4], const u64 a[4], const u64 b[4]) {
    u64 t[6] = {0};
    for (int i = 0; i < 4; i++) {
        u128 c = 0;
        for (int j = 0; j < 4; j++) {
            c += (u128)a[j] * b[i] + t[j];
            t[j] = (u64)c;
            c >>= 64;
        }
        c += t[4];
        t[4] = (u64)c;
        t[5] = (u64)(c >> 64);
        u64 m = t[0] * N0INV;
        c = (u128)m * N[0] + t[0];
        c >>= 64;
        for (int j = 1; j < 4; j++) {
            c += (u128)m * N[j] + t[j];
            t[j - 1] = (u64)c;
            c >>= 64;
        }
        c += t[4];
        t[3] = (u64)c;
        t[4] = t[5] + (u64)(c >> 64);
    }
    reduce_once(r, t, t[4], N);
}

/* a^(n-2) in the Montgomery domain (4-bit fixed windows over the public exponent). */
static void fn_inv_mont(u64 r[4], const u64 a[4]) {
    static const u64 NM2[4] = {0x53bbf40939d54121ULL, 0x7203df6b21c6052bULL,
                               0xffffffffffffffffULL, 0xfffffffeffffffffULL};
    u64 tab[16][4], acc[4];
    fn_mul(tab[0], RR_N, (const u64[4]){1, 0, 0, 0}); /* R mod n: Montgomery one */
    memcpy(tab[1], a, 32);
    for (int i = 2; i < 16; i++) fn_mul(tab[i], tab[i - 1], a);
    memcpy(acc, tab[0], 32);
    for (int i = 63; i >= 0; i--) {
        for (int s = 0; s < 4; s++) fn_mul(acc, acc, acc);
        fn_mul(acc, acc, tab[(NM2[i / 16] >> (4 * (i % 16))) & 15]);
    }
    memcpy(r, acc, 32);
}

/* a mod n for a < 2^256 (< 2n) */
static void fn_reduce_once(u64 r[4], const u64 a[4]) { reduce_once(r, a, 0, N); }

/* out = (1 + d)^-1 mod n, for a private key d in [1, n-2]. Constant time. */
void SM2_FN(inv_one_plus)(uint8_t out[32], const uint8_t db[32]) {
    u64 d[4], x[4], one[4] = {1, 0, 0, 0};
    fe_from_be(d, db);
    mod_add(x, d, one, N);
    fn_mul(x, x, RR_N);
    fn_inv_mont(x, x);
    fn_mul(x, x, one);
    fe_to_be(out, x);
    secure_zero(d, sizeof d);
    secure_zero(x, sizeof x);
}

/*
 * The end of an SM2 signature (GB/T 32918.2 6.1, steps A5-A6): r = (e + x1) mod n and
 * s = (1 + d)^-1 (k - r d) mod n. Returns 0 when this nonce must be discarded (r = 0,
 * r + k = n or s = 0), 1 otherwise. Constant time in k and d.
 */
int SM2_FN(sign_finish)(uint8_t rb[32], uint8_t sb[32], const uint8_t eb[32], const uint8_t x1b[32],
                        const uint8_t kb[32], const uint8_t db[32], const uint8_t dinvb[32]) {
    u64 e[4], x1[4], k[4], d[4], dinv[4], r[4], s[4], t[4];
    fe_from_be(e, eb);
    fe_from_be(x1, x1b);
    fe_from_be(k, kb);
    fe_from_be(d, db);
    fe_from_be(dinv, dinvb);
    fn_reduce_once(e, e);
    fn_reduce_once(x1, x1);
    mod_add(r, e, x1, N);
    mod_add(t, r, k, N);
    u64 bad = fe_is_zero(r) | fe_is_zero(t);
    fn_mul(t, r, d);
    fn_mul(t, t, RR_N);          /* r d */
    mod_sub(t, k, t, N);
    fn_mul(s, dinv, t);
    fn_mul(s, s, RR_N);          /* (1 + d)^-1 (k - r d) */
    bad |= fe_is_zero(s);
    fe_to_be(rb, r);
    fe_to_be(sb, s);
    secure_zero(k, sizeof k);
    secure_zero(d, sizeof d);
    secure_zero(dinv, sizeof dinv);
    secure_zero(t, sizeof t);
    /* r and s are published; whether this nonce was unusable is public too. */
    DECLASSIFY(&bad, sizeof bad);
    return bad == 0;
}

/*
 * SM2 verification (GB/T 32918.2 7.1, steps B1-B7) given e = SM3(Z || M) as 32 bytes:
 * 1 when (r, s) is a valid signature by the public key q (x || y). Variable time.
 */
int SM2_FN(verify_vartime)(const uint8_t eb[32], const uint8_t rb[32], const uint8_t sb[32],
                           const uint8_t q[64], const u64 *table) {
    u64 e[4], r[4], s[4], t[4], c[4], cm[4], z2[4], v[4];
    uint8_t tb[32];
    jac sum;
    fe_from_be(r, rb);
    fe_from_be(s, sb);
    if (fe_is_zero(r) || fe_is_zero(s) || !lt_vartime(r, N) || !lt_vartime(s, N)) return 0;
    mod_add(t, r, s, N);
    if (fe_is_zero(t)) return 0;
    fe_to_be(tb, t);
    if (!mul2_vartime(&sum, sb, tb, q, table) || fe_is_zero(sum.z)) return 0;
    /* Valid when (e + x1) mod n = r, x1 = X / Z^2 in [0, p): x1 is (r - e) mod n, or that
     * plus n when still below p. Compared as X = x1 * Z^2, so no inversion is needed. */
    fe_from_be(e, eb);
    fn_reduce_once(e, e);
    mod_sub(c, r, e, N);
    fp_sqr(z2, sum.z);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            u64 carry = add4(c, c, N);
            if (carry || !lt_vartime(c, P)) break;
        }
        fp_to_mont(cm, c);
        fp_mul(v, cm, z2);
        if (fe_eq(v, sum.x)) return 1;
    }
    return 0;
}

/*
 * Test hook: the field operations mod p on a and b (little-endian limbs, both < p):
 * out = a b R^-1, a^2 R^-1, a + b, a - b, R^2 / a (the Montgomery inverse; 0 for 0), so tests
 * can hold every path's field arithmetic against a reference on edge values that random
 * points seldom reach.
 */
void SM2_FN(fe_ops)(u64 out[24], const u64 a[4], const u64 b[4]) {
    fp_mul(out, a, b);
    fp_sqr(out + 4, a);
    fp_add(out + 8, a, b);
    fp_sub(out + 12, a, b);
    fp_inv(out + 16, a);
    fp_half(out + 20, a);
}
