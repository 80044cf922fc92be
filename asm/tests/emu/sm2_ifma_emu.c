/*
 * Runs the eight-lane AVX-512 IFMA SM2 code (csrc/sm2_ifma.c, included verbatim) on a CPU
 * without AVX-512: the vector operations it uses are replaced here by scalar code written from
 * Intel's documented semantics (VPMADD52LUQ/VPMADD52HUQ add the low/high 52 bits of the
 * 104-bit product of the low 52 bits of each source to the 64-bit accumulator; VPGATHERQQ
 * with scale 8; VPBLENDMQ takes the second source where the mask bit is set). Each lane's
 * result must equal the scalar code's (sm2_impl.h, the same translation unit):
 *   - field product, square, sum and difference on random elements and edge values;
 *   - verification of signatures made by the scalar code, valid and corrupted;
 *   - k G and k Q (the constant-time key-generation and agreement paths).
 * This checks the logic (limb bounds, reduction, formulas, lane bookkeeping); the real
 * instructions are checked by the Rust tests (asm/tests/gm_paths.rs) on any IFMA CPU.
 * Build and run (needs BMI2/ADX/AVX2):
 *   gcc -O1 -mbmi2 -madx -mavx2 asm/tests/emu/sm2_ifma_emu.c && ./a.out
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SM2V_EMU 1
typedef struct { uint64_t v[8]; } V;
typedef uint8_t K8;
#define EMU_M52 ((1ULL << 52) - 1)
static V e_madd52(V acc, V a, V b, int hi) {
    for (int i = 0; i < 8; i++) {
        unsigned __int128 t = (unsigned __int128)(a.v[i] & EMU_M52) * (b.v[i] & EMU_M52);
        acc.v[i] += hi ? (uint64_t)(t >> 52) & EMU_M52 : (uint64_t)t & EMU_M52;
    }
    return acc;
}
static V e_add(V a, V b) { for (int i = 0; i < 8; i++) a.v[i] += b.v[i]; return a; }
static V e_sub(V a, V b) { for (int i = 0; i < 8; i++) a.v[i] -= b.v[i]; return a; }
static V e_and(V a, V b) { for (int i = 0; i < 8; i++) a.v[i] &= b.v[i]; return a; }
static V e_srl(V a, int n) { for (int i = 0; i < 8; i++) a.v[i] >>= n; return a; }
static V e_sll(V a, int n) { for (int i = 0; i < 8; i++) a.v[i] <<= n; return a; }
static V e_set1(uint64_t c) { V r; for (int i = 0; i < 8; i++) r.v[i] = c; return r; }
static V e_blend(K8 k, V a, V b) { for (int i = 0; i < 8; i++) if ((k >> i) & 1) a.v[i] = b.v[i]; return a; }
static K8 e_cmpeq(V a, V b) { K8 k = 0; for (int i = 0; i < 8; i++) k |= (K8)((a.v[i] == b.v[i]) << i); return k; }
static V e_gather(V idx, const void *base) {
    V r;
    for (int i = 0; i < 8; i++) memcpy(&r.v[i], (const uint8_t *)base + 8 * idx.v[i], 8);
    return r;
}
static V e_load(const void *p) { V r; memcpy(&r, p, 64); return r; }
static void e_store(void *p, V a) { memcpy(p, &a, 64); }
#define vmlo(acc, a, b) e_madd52((acc), (a), (b), 0)
#define vmhi(acc, a, b) e_madd52((acc), (a), (b), 1)
#define vadd e_add
#define vsub e_sub
#define vand e_and
#define vsrl e_srl
#define vsll e_sll
#define vset1(c) e_set1((uint64_t)(c))
#define vzero() e_set1(0)
#define vblend e_blend
#define vcmpeq e_cmpeq
#define vgather(idx, base) e_gather((idx), (base))
#define vload e_load
#define vstore e_store
#define SM2_FN(name) emu_sm2_##name
#include "../../csrc/sm2_ifma.c"

static uint64_t rng_state = 0x5eed;
static uint64_t next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static void fill(uint8_t *b, size_t n) { for (size_t i = 0; i < n; i++) b[i] = (uint8_t)next(); }
/* a scalar in [1, n-2]: the top byte below 0x7f keeps it below n, and it is never zero */
static void scalar_be(uint8_t k[32]) { fill(k, 32); k[0] &= 0x7f; k[31] |= 1; }
static void field_elem(u64 a[4]) {
    uint8_t b[32];
    fill(b, 32);
    b[0] &= 0x7f;
    fe_from_be(a, b);
}

/* n - 1, big-endian (GB/T 32918.5's n) */
static const uint8_t N_BE_MINUS_1[32] = {
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x72, 0x03, 0xdf, 0x6b, 0x21, 0xc6, 0x05, 0x2b, 0x53, 0xbb, 0xf4, 0x09, 0x39, 0xd5, 0x41, 0x22};

static u64 t256[SM2_BASE_TABLE_LIMBS];
static u64 t52[SM2_BASE_WINDOWS * SM2_BASE_ENTRIES * 10];

/* mod-n helpers over sm2_impl.h's Montgomery arithmetic (R = 2^256) */
static void n_to_mont(u64 r[4], const u64 a[4]) { fn_mul(r, a, RR_N); }
static void n_from_mont(u64 r[4], const u64 a[4]) {
    const u64 one[4] = {1, 0, 0, 0};
    fn_mul(r, a, one);
}

/*
 * A signature whose verification needs the scalar fallback: Q = k G, s = r k / (1 - k), so
 * t = r + s = s / k and t Q = s G, making the last addition a doubling; e is chosen so that
 * the signature is valid (x1 = x(2 s G)). With `spoil`, e is off by one: invalid.
 */
static void doubling_lane(uint8_t eb[32], uint8_t rb[32], uint8_t sb[32], uint8_t qb[64], int spoil) {
    uint8_t kb[32], two_s[32], xy[64];
    u64 k[4], r[4], km[4], rm[4], onem[4], d[4], dinv[4], s[4], x1[4], e[4];
    const u64 one[4] = {1, 0, 0, 0};
    scalar_be(kb);
    scalar_be(rb);
    fe_from_be(k, kb);
    fe_from_be(r, rb);
    n_to_mont(km, k);
    n_to_mont(rm, r);
    n_to_mont(onem, one);
    mod_sub(d, onem, km, N);
    fn_inv_mont(dinv, d);
    fn_mul(s, rm, km);
    fn_mul(s, s, dinv);
    n_from_mont(s, s);
    fe_to_be(sb, s);
    mod_add(s, s, s, N);
    fe_to_be(two_s, s);
    emu_sm2_mul_base(xy, two_s, t256);
    fe_from_be(x1, xy);
    fn_reduce_once(x1, x1);
    mod_sub(e, r, x1, N);
    if (spoil) e[0] ^= 1;
    fe_to_be(eb, e);
    emu_sm2_mul_base(qb, kb, t256);
}

static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; printf("FAIL: " __VA_ARGS__); printf("\n"); } } while (0)


int main(void) {
    emu_sm2_base_table(t256);
    emu_sm2_base_table52(t52, t256);

    /* field arithmetic: random elements plus edges (0, 1, p - 1, p - 2, 2^255) */
    int field_cases = 0;
    for (int round = 0; round < 64; round++) {
        u64 a[LANES][4], b[LANES][4], out[4][LANES][4];
        for (int l = 0; l < LANES; l++) {
            field_elem(a[l]);
            field_elem(b[l]);
        }
        if (round == 0) {
            memset(a, 0, sizeof a);
            for (int l = 0; l < LANES; l++) {
                memcpy(a[l], P, 32);
                a[l][0] -= (u64)l + 1;      /* p - 1 .. p - 8 */
            }
            memset(b[0], 0, 32);
            memset(b[1], 0, 32);
            b[1][0] = 1;
            memset(b[2], 0, 32);
            b[2][3] = 1ULL << 63;
        }
        emu_sm2_fe8_ops(out, (const u64(*)[4])a, (const u64(*)[4])b);
        for (int l = 0; l < LANES; l++) {
            u64 am[4], bm[4], want[4];
            fp_to_mont(am, a[l]);
            fp_to_mont(bm, b[l]);
            fp_mul(want, am, bm);
            fp_from_mont(want, want);
            CHECK(!memcmp(out[0][l], want, 32), "product, round %d lane %d", round, l);
            fp_mul(want, am, am);
            fp_from_mont(want, want);
            CHECK(!memcmp(out[1][l], want, 32), "square, round %d lane %d", round, l);
            fp_add(want, a[l], b[l]);
            CHECK(!memcmp(out[2][l], want, 32), "sum, round %d lane %d", round, l);
            fp_sub(want, a[l], b[l]);
            CHECK(!memcmp(out[3][l], want, 32), "difference, round %d lane %d", round, l);
            field_cases++;
        }
    }

    /* verification: 3 batches of 8 signatures by the scalar code, some corrupted */
    int valid = 0, invalid = 0, doubling_valid = 0;
    for (int batch = 0; batch < 3; batch++) {
        uint8_t e[LANES][32], r[LANES][32], s[LANES][32], q[LANES][64];
        for (int l = 0; l < LANES; l++) {
            uint8_t d[32], k[32], dinv[32], kg[64];
            int made = 0;
            while (!made) {
                scalar_be(d);
                scalar_be(k);
                fill(e[l], 32);
                emu_sm2_mul_base(q[l], d, t256);
                emu_sm2_mul_base(kg, k, t256);
                emu_sm2_inv_one_plus(dinv, d);
                made = emu_sm2_sign_finish(r[l], s[l], e[l], kg, k, d, dinv);
            }
            int kind = (batch * LANES + l) % 5;
            if (kind == 1) s[l][7] ^= 4;
            if (kind == 2) e[l][31] ^= 1;
            if (kind == 3) q[l][63] ^= 1; /* off the curve */
            if (l == 4) doubling_lane(e[l], r[l], s[l], q[l], batch == 1);
        }
        int count = batch == 2 ? 6 : 8;
        int ok[LANES];
        emu_sm2_verify8(ok, &e[0][0], &r[0][0], &s[0][0], &q[0][0], count, t256, t52);
        for (int l = 0; l < LANES; l++) {
            int want = l < count ? emu_sm2_verify_vartime(e[l], r[l], s[l], q[l], t256) : 0;
            if (l == 4 && want) doubling_valid++;
            CHECK(ok[l] == want, "verify8 batch %d lane %d: %d, scalar %d", batch, l, ok[l], want);
            if (l < count) {
                if (want) valid++;
                else invalid++;
            }
        }
    }
    CHECK(valid >= 8 && invalid >= 8, "too few of one kind: %d valid, %d invalid", valid, invalid);
    CHECK(doubling_valid == 2, "the constructed doubling lanes: %d of 2 valid", doubling_valid);

    /* k G and k Q, constant-time paths, against the scalar code */
    int mults = 0;
    for (int batch = 0; batch < 2; batch++) {
        uint8_t k[LANES][32], q[LANES][64], out[LANES][64], want[64];
        int ok[LANES];
        for (int l = 0; l < LANES; l++) {
            uint8_t d[32];
            scalar_be(k[l]);
            scalar_be(d);
            emu_sm2_mul_base(q[l], d, t256);
        }
        memset(k[0], 0, 32);
        k[0][31] = 1;                     /* 1 */
        memcpy(k[1], N_BE_MINUS_1, 32);   /* n - 1 */
        memset(k[2], 0, 32);              /* 0: infinity */
        memcpy(k[3], N_BE_MINUS_1, 32);
        k[3][31] += batch + 1;            /* n, n + 1 */
        memset(k[4], 0xff, 32);           /* above n */
        q[5][40] ^= 1;                    /* off the curve */
        int count = batch == 0 ? 8 : 7;   /* an idle lane */
        emu_sm2_mul_base8(&out[0][0], ok, &k[0][0], count, t256, t52);
        for (int l = 0; l < count; l++) {
            int w = emu_sm2_mul_base(want, k[l], t256);
            CHECK(ok[l] == w && (!w || !memcmp(out[l], want, 64)), "k G, batch %d lane %d", batch, l);
            mults++;
        }
        CHECK(count == 8 || ok[7] == 0, "k G, idle lane %d", 7);
        emu_sm2_mul_point8(&out[0][0], ok, &k[0][0], &q[0][0], count);
        for (int l = 0; l < count; l++) {
            int w = emu_sm2_mul_point(want, k[l], q[l]);
            CHECK(ok[l] == w && (w != 1 || !memcmp(out[l], want, 64)), "k Q, batch %d lane %d", batch, l);
            mults++;
        }
    }

    printf("sm2 IFMA under emulation: %d field cases, %d verifications (%d valid), %d scalar "
           "multiplications; %d failures\n", field_cases, valid + invalid, valid, mults, failures);
    return failures != 0;
}
