/*
 * SM2 on AVX-512 IFMA: eight independent operations at once, one per 64-bit lane.
 *
 * Why: one SM2 operation is a chain of dependent field products, each about 40 cycles of
 * MULX/ADX work whose latency the next product waits for. VPMADD52LUQ/VPMADD52HUQ multiply
 * eight 52-bit pairs per instruction, so eight operations side by side (the verifications and
 * key agreements of concurrent handshakes) share every instruction.
 *
 * Field elements mod p are five limbs in radix 2^52 (limb i of every lane in one register),
 * in Montgomery form with R = 2^260, every limb below 2^52 and the value below 2^257 (not
 * necessarily below p). p = -1 mod 2^52, so a reduction step's multiplier is the low limb
 * itself. Bounds:
 *   - product: inputs below 2^257 give a b / 2^260 + p < 2^254 + p < 2^257;
 *   - sum, difference (a + 4p - b) and small multiples are below 2^262; the bits from 2^256
 *     up (hi, at most 63) fold back as hi * (2^224 + 2^96 - 2^64 + 1), which is 2^256 mod p,
 *     leaving a value below 2^256 + 2^231 < 2^257.
 * Equality with zero mod p is a value of 0, p or 2p (all below 2^257).
 *
 * The scalar parts (parsing, range checks, Booth recoding, the rare lanes the vector formulas
 * cannot finish) reuse sm2_impl.h, compiled here a third time with MULX/ADX.
 *
 * Compiled with -mbmi2 -madx -mavx2 -mavx512f -mavx512ifma (build.rs); Rust calls it only
 * after detection. asm/tests/emu/sm2_ifma_emu.c runs this file with the vector intrinsics
 * replaced by scalar code (SM2V_EMU), on CPUs without IFMA.
 */
#if defined(__x86_64__)
#define SM2_ADX 1
#define SM2_AVX2 1
#ifndef SM2_FN
#define SM2_FN(name) tlsfe_sm2_ifma_##name
#endif
#include "sm2_impl.h"

#ifndef SM2V_EMU
#include <immintrin.h>
typedef __m512i V;
typedef __mmask8 K8;
#define vmlo(acc, a, b) _mm512_madd52lo_epu64((acc), (a), (b))
#define vmhi(acc, a, b) _mm512_madd52hi_epu64((acc), (a), (b))
#define vadd(a, b) _mm512_add_epi64((a), (b))
#define vsub(a, b) _mm512_sub_epi64((a), (b))
#define vand(a, b) _mm512_and_si512((a), (b))
#define vsrl(a, n) _mm512_srli_epi64((a), (n))
#define vsll(a, n) _mm512_slli_epi64((a), (n))
#define vset1(c) _mm512_set1_epi64((long long)(c))
#define vzero() _mm512_setzero_si512()
#define vblend(k, a, b) _mm512_mask_blend_epi64((k), (a), (b)) /* lanes of k from b */
#define vcmpeq(a, b) _mm512_cmpeq_epi64_mask((a), (b))
#define vgather(idx, base) _mm512_i64gather_epi64((idx), (const void *)(base), 8)
#define vload(p) _mm512_loadu_si512((const void *)(p))
#define vstore(p, a) _mm512_storeu_si512((void *)(p), (a))
#endif

#define LANES 8
#define M52 0xfffffffffffffULL

/* p, 2p and 4p in radix 2^52; 4p with limbs 0-3 raised by 2^52 (and borrowed from the next
 * limb), so that 4p - b needs no borrow for any b with 52-bit limbs below 2^257. */
static const u64 P52[5] = {0xfffffffffffffULL, 0xff00000000fffULL, 0xfffffffffffffULL,
                           0xfffffffffffffULL, 0x0fffffffeffffULL};
static const u64 P2_52[5] = {0xffffffffffffeULL, 0xfe00000001fffULL, 0xfffffffffffffULL,
                             0xfffffffffffffULL, 0x1fffffffdffffULL};
static const u64 K4P52[5] = {0x1ffffffffffffcULL, 0x1fc00000003ffeULL, 0x1ffffffffffffeULL,
                             0x1ffffffffffffeULL, 0x3fffffffbfffeULL};
/* 2^260 mod p (Montgomery's one), 2^520 mod p (into Montgomery form), and 2^264 mod p
 * (from sm2_impl.h's R = 2^256 form into this one), computed with Python integers. */
static const u64 ONE52[5] = {0x0000000000010ULL, 0x0ffffffff0000ULL, 0, 0, 0x0000000100000ULL};
static const u64 RR52[5] = {0x0020000000300ULL, 0xffffffff00000ULL, 0x0000100000002ULL,
                            0x0200000001000ULL, 0x0000004000000ULL};
static const u64 C264_52[5] = {0x0000000000100ULL, 0xffffffff00000ULL, 0, 0, 0x0000001000000ULL};

typedef struct { V l[5]; } fe8;
typedef struct { fe8 x, y, z; } jac8;
typedef struct { fe8 x, y; } aff8;

static inline fe8 fe8_const(const u64 c[5]) {
    fe8 r;
    for (int i = 0; i < 5; i++) r.l[i] = vset1(c[i]);
    return r;
}

/* Montgomery reduction of a 10-limb product (limbs below 2^58) to five 52-bit limbs. */
static inline void fe8_redc(fe8 *r, V t[10]) {
    const V m52 = vset1(M52), p1 = vset1(P52[1]), p2 = vset1(P52[2]), p4 = vset1(P52[4]);
    for (int i = 0; i < 5; i++) {
        V m = vand(t[i], m52);
        /* t[i] + m (2^52 - 1) = ((t[i] >> 52) + m) 2^52: limb 0 of p needs no product */
        t[i + 1] = vadd(t[i + 1], vadd(vsrl(t[i], 52), m));
        t[i + 1] = vmlo(t[i + 1], m, p1);
        t[i + 2] = vmhi(t[i + 2], m, p1);
        t[i + 2] = vmlo(t[i + 2], m, p2);
        t[i + 3] = vmhi(t[i + 3], m, p2);
        t[i + 3] = vmlo(t[i + 3], m, p2); /* limb 3 of p equals limb 2 */
        t[i + 4] = vmhi(t[i + 4], m, p2);
        t[i + 4] = vmlo(t[i + 4], m, p4);
        t[i + 5] = vmhi(t[i + 5], m, p4);
    }
    t[6] = vadd(t[6], vsrl(t[5], 52));
    r->l[0] = vand(t[5], m52);
    t[7] = vadd(t[7], vsrl(t[6], 52));
    r->l[1] = vand(t[6], m52);
    t[8] = vadd(t[8], vsrl(t[7], 52));
    r->l[2] = vand(t[7], m52);
    t[9] = vadd(t[9], vsrl(t[8], 52));
    r->l[3] = vand(t[8], m52);
    r->l[4] = t[9]; /* below 2^49: the value is below 2^257 */
}

/* r = a b / 2^260 mod p (r may alias a or b) */
static __attribute__((noinline)) void fe8_mul(fe8 *r, const fe8 *a, const fe8 *b) {
    V t[10];
    for (int i = 0; i < 10; i++) t[i] = vzero();
    for (int i = 0; i < 5; i++) {
        for (int j = 0; j < 5; j++) {
            t[i + j] = vmlo(t[i + j], a->l[i], b->l[j]);
            t[i + j + 1] = vmhi(t[i + j + 1], a->l[i], b->l[j]);
        }
    }
    fe8_redc(r, t);
}

/* r = a^2 / 2^260 mod p: the ten cross products once, doubled, plus the five squares */
static __attribute__((noinline)) void fe8_sqr(fe8 *r, const fe8 *a) {
    V t[10];
    for (int i = 0; i < 10; i++) t[i] = vzero();
    for (int i = 0; i < 5; i++) {
        for (int j = i + 1; j < 5; j++) {
            t[i + j] = vmlo(t[i + j], a->l[i], a->l[j]);
            t[i + j + 1] = vmhi(t[i + j + 1], a->l[i], a->l[j]);
        }
    }
    for (int i = 0; i < 10; i++) t[i] = vadd(t[i], t[i]);
    for (int i = 0; i < 5; i++) {
        t[2 * i] = vmlo(t[2 * i], a->l[i], a->l[i]);
        t[2 * i + 1] = vmhi(t[2 * i + 1], a->l[i], a->l[i]);
    }
    fe8_redc(r, t);
}

/* Limbs (non-negative, value below 2^262) to 52-bit limbs below 2^257: carries, then the
 * bits from 2^256 up folded back as hi * (2^224 + 2^96 - 2^64 + 1), then carries again. */
static inline void fe8_fold(fe8 *r, V l0, V l1, V l2, V l3, V l4) {
    const V m52 = vset1(M52);
    l1 = vadd(l1, vsrl(l0, 52)); l0 = vand(l0, m52);
    l2 = vadd(l2, vsrl(l1, 52)); l1 = vand(l1, m52);
    l3 = vadd(l3, vsrl(l2, 52)); l2 = vand(l2, m52);
    l4 = vadd(l4, vsrl(l3, 52)); l3 = vand(l3, m52);
    V hi = vsrl(l4, 48);
    l4 = vand(l4, vset1(0xffffffffffffULL));
    l0 = vadd(l0, hi);
    l1 = vadd(l1, vsub(vsll(hi, 44), vsll(hi, 12)));
    l4 = vadd(l4, vsll(hi, 16));
    l1 = vadd(l1, vsrl(l0, 52)); r->l[0] = vand(l0, m52);
    l2 = vadd(l2, vsrl(l1, 52)); r->l[1] = vand(l1, m52);
    l3 = vadd(l3, vsrl(l2, 52)); r->l[2] = vand(l2, m52);
    r->l[4] = vadd(l4, vsrl(l3, 52)); r->l[3] = vand(l3, m52);
}

static inline void fe8_add(fe8 *r, const fe8 *a, const fe8 *b) {
    fe8_fold(r, vadd(a->l[0], b->l[0]), vadd(a->l[1], b->l[1]), vadd(a->l[2], b->l[2]),
             vadd(a->l[3], b->l[3]), vadd(a->l[4], b->l[4]));
}

/* a - b as a + 4p - b */
static inline void fe8_sub(fe8 *r, const fe8 *a, const fe8 *b) {
    V k[5];
    for (int i = 0; i < 5; i++) k[i] = vsub(vadd(a->l[i], vset1(K4P52[i])), b->l[i]);
    fe8_fold(r, k[0], k[1], k[2], k[3], k[4]);
}

static inline void fe8_neg(fe8 *r, const fe8 *a) {
    V k[5];
    for (int i = 0; i < 5; i++) k[i] = vsub(vset1(K4P52[i]), a->l[i]);
    fe8_fold(r, k[0], k[1], k[2], k[3], k[4]);
}

/* r = 2^s a for s <= 3 */
static inline void fe8_shl(fe8 *r, const fe8 *a, int s) {
    fe8_fold(r, vsll(a->l[0], s), vsll(a->l[1], s), vsll(a->l[2], s), vsll(a->l[3], s),
             vsll(a->l[4], s));
}

static inline void fe8_mul3(fe8 *r, const fe8 *a) {
    V k[5];
    for (int i = 0; i < 5; i++) k[i] = vadd(vsll(a->l[i], 1), a->l[i]);
    fe8_fold(r, k[0], k[1], k[2], k[3], k[4]);
}

/* lanes where a = 0 mod p, i.e. a is 0, p or 2p */
static inline K8 fe8_is_zero(const fe8 *a) {
    K8 z = 0xff, zp = 0xff, z2p = 0xff;
    for (int i = 0; i < 5; i++) {
        z &= vcmpeq(a->l[i], vzero());
        zp &= vcmpeq(a->l[i], vset1(P52[i]));
        z2p &= vcmpeq(a->l[i], vset1(P2_52[i]));
    }
    return (K8)(z | zp | z2p);
}

/* r = k ? b : a, per lane */
static inline void fe8_blend(fe8 *r, K8 k, const fe8 *a, const fe8 *b) {
    for (int i = 0; i < 5; i++) r->l[i] = vblend(k, a->l[i], b->l[i]);
}

static inline void jac8_blend(jac8 *r, K8 k, const jac8 *a, const jac8 *b) {
    fe8_blend(&r->x, k, &a->x, &b->x);
    fe8_blend(&r->y, k, &a->y, &b->y);
    fe8_blend(&r->z, k, &a->z, &b->z);
}

/* r = 2p (a = -3), the arrangement of sm2_impl.h's pt_dbl (dbl-2001-b, 4M + 4S); a lane at
 * infinity (z = 0) stays there. r may alias p. */
static void jac8_dbl(jac8 *r, const jac8 *p) {
    fe8 delta, g2, beta4, alpha, t0, t1, t2;
    fe8_sqr(&delta, &p->z);
    fe8_sqr(&g2, &p->y);
    fe8_shl(&g2, &g2, 1);            /* 2 gamma */
    fe8_mul(&beta4, &p->x, &g2);
    fe8_shl(&beta4, &beta4, 1);      /* 4 beta */
    fe8_sub(&t0, &p->x, &delta);
    fe8_add(&t1, &p->x, &delta);
    fe8_mul(&t2, &t0, &t1);
    fe8_mul3(&alpha, &t2);           /* 3 (X - delta)(X + delta) */
    fe8_mul(&t0, &p->y, &p->z);
    fe8_shl(&r->z, &t0, 1);          /* p->y and p->z are not read after this */
    fe8_sqr(&t1, &alpha);
    fe8_shl(&t2, &beta4, 1);         /* 8 beta */
    fe8_sub(&r->x, &t1, &t2);
    fe8_sub(&t0, &beta4, &r->x);
    fe8_mul(&t0, &alpha, &t0);
    fe8_sqr(&t1, &g2);
    fe8_shl(&t1, &t1, 1);            /* 8 gamma^2 */
    fe8_sub(&r->y, &t0, &t1);
}

/* The end of both additions: X3 = rr^2 - J - 2 V, Y3 = rr (V - X3) - 2 S1 J. s1 may alias
 * r->y (read before r->y is written). */
static void add_finish(jac8 *r, const fe8 *rr, const fe8 *j, const fe8 *v, const fe8 *s1) {
    fe8 sj, t, v2;
    fe8_mul(&sj, s1, j);
    fe8_shl(&sj, &sj, 1);
    fe8_sqr(&t, rr);
    fe8_sub(&t, &t, j);
    fe8_shl(&v2, v, 1);
    fe8_sub(&r->x, &t, &v2);
    fe8_sub(&t, v, &r->x);
    fe8_mul(&t, rr, &t);
    fe8_sub(&r->y, &t, &sj);
}

/* r = a + b (add-2007-bl, Z3 = 2 Z1 Z2 H) for finite a != +-b. Returns the lanes where
 * H = 0 (a = +-b, where the formulas do not apply): the caller must not use r there. Lanes
 * where a or b is infinity are garbage too; the caller blends. r may alias a or b. */
static K8 jac8_add(jac8 *r, const jac8 *a, const jac8 *b) {
    fe8 z1z1, z2z2, u1, u2, s1, s2, h, i_, j, rr, v, t;
    fe8_sqr(&z1z1, &a->z);
    fe8_sqr(&z2z2, &b->z);
    fe8_mul(&u1, &a->x, &z2z2);
    fe8_mul(&u2, &b->x, &z1z1);
    fe8_mul(&t, &b->z, &z2z2);
    fe8_mul(&s1, &a->y, &t);
    fe8_mul(&t, &a->z, &z1z1);
    fe8_mul(&s2, &b->y, &t);
    fe8_sub(&h, &u2, &u1);
    K8 h0 = fe8_is_zero(&h);
    fe8_sub(&rr, &s2, &s1);
    fe8_shl(&rr, &rr, 1);
    fe8_shl(&t, &h, 1);
    fe8_sqr(&i_, &t);
    fe8_mul(&j, &h, &i_);
    fe8_mul(&v, &u1, &i_);
    fe8_mul(&t, &a->z, &b->z);
    fe8_shl(&t, &t, 1);
    fe8_mul(&r->z, &t, &h);          /* a->z, b->z are not read after this */
    add_finish(r, &rr, &j, &v, &s1);
    return h0;
}

/* r = a + (bx, by) (madd-2007-bl, Z3 = 2 Z1 H), same rules as jac8_add. */
static K8 jac8_add_aff(jac8 *r, const jac8 *a, const aff8 *b) {
    fe8 z1z1, u2, s2, h, hh, i_, j, rr, v, t;
    fe8_sqr(&z1z1, &a->z);
    fe8_mul(&u2, &b->x, &z1z1);
    fe8_mul(&t, &a->z, &z1z1);
    fe8_mul(&s2, &b->y, &t);
    fe8_sub(&h, &u2, &a->x);
    K8 h0 = fe8_is_zero(&h);
    fe8_sub(&rr, &s2, &a->y);
    fe8_shl(&rr, &rr, 1);
    fe8_sqr(&hh, &h);
    fe8_shl(&i_, &hh, 2);
    fe8_mul(&j, &h, &i_);
    fe8_mul(&v, &a->x, &i_);
    fe8_mul(&t, &a->z, &h);
    fe8_shl(&r->z, &t, 1);
    add_finish(r, &rr, &j, &v, &a->y);
    return h0;
}

/* ---- moving values between lanes and sm2_impl.h's representation ---------------------- */

/* four 64-bit limbs (value below 2^256) to five 52-bit ones */
static void limbs52(u64 out[5], const u64 a[4]) {
    out[0] = a[0] & M52;
    out[1] = ((a[0] >> 52) | (a[1] << 12)) & M52;
    out[2] = ((a[1] >> 40) | (a[2] << 24)) & M52;
    out[3] = ((a[2] >> 28) | (a[3] << 36)) & M52;
    out[4] = a[3] >> 16;
}

/* five 52-bit limbs (value below 2^257) to its residue below p, four 64-bit limbs; constant
 * time (an ECDH result is secret) */
static void limbs64_reduced(u64 out[4], const u64 l[5]) {
    u64 a[4], top = l[4] >> 48; /* 0 or 1 */
    a[0] = l[0] | (l[1] << 52);
    a[1] = (l[1] >> 12) | (l[2] << 40);
    a[2] = (l[2] >> 24) | (l[3] << 28);
    a[3] = (l[3] >> 36) | (l[4] << 16);
    /* (top : a) < 2^257 < 3p: subtract p twice, each kept unless it went below zero */
    u64 t[4];
    for (int k = 0; k < 2; k++) {
        u64 borrow = sub4(t, a, P);
        u64 keep = 0 - ((~top & borrow) & 1);
        for (int i = 0; i < 4; i++) a[i] = (a[i] & keep) | (t[i] & ~keep);
        top = (top & keep) | ((top - borrow) & ~keep);
    }
    memcpy(out, a, 32);
    secure_zero(a, sizeof a);
    secure_zero(t, sizeof t);
}

/* lane values (lane-major: v[lane][limb]) into a limb-major vector */
static void fe8_load(fe8 *r, const u64 v[LANES][5]) {
    u64 buf[5][LANES] __attribute__((aligned(64)));
    for (int l = 0; l < LANES; l++)
        for (int i = 0; i < 5; i++) buf[i][l] = v[l][i];
    for (int i = 0; i < 5; i++) r->l[i] = vload(buf[i]);
}

static void fe8_store(u64 v[LANES][5], const fe8 *a) {
    u64 buf[5][LANES] __attribute__((aligned(64)));
    for (int i = 0; i < 5; i++) vstore(buf[i], a->l[i]);
    for (int l = 0; l < LANES; l++)
        for (int i = 0; i < 5; i++) v[l][i] = buf[i][l];
    secure_zero(buf, sizeof buf);
}

/* ---- the fixed-base table in this representation -------------------------------------- */

/* t52[e * 10 + c * 5 + i]: limb i of coordinate c (x, y) of entry e of sm2_impl.h's
 * fixed-base table t256 (43 windows x 32 points, R = 2^256), here with R = 2^260. */
void SM2_FN(base_table52)(u64 *t52, const u64 *t256) {
    enum { COUNT = SM2_BASE_WINDOWS * SM2_BASE_ENTRIES };
    const fe8 c264 = fe8_const(C264_52);
    for (int e0 = 0; e0 < COUNT; e0 += LANES) {
        for (int c = 0; c < 2; c++) {
            u64 v[LANES][5];
            fe8 x;
            for (int l = 0; l < LANES; l++) limbs52(v[l], t256 + (size_t)(e0 + l) * 8 + 4 * c);
            fe8_load(&x, v);
            fe8_mul(&x, &x, &c264);
            fe8_store(v, &x);
            for (int l = 0; l < LANES; l++) memcpy(t52 + (size_t)(e0 + l) * 10 + 5 * c, v[l], 40);
        }
    }
}

/* ---- verification --------------------------------------------------------------------- */

/* tab[m - 1] = m Q_l in every lane l, m = 1..16, from the lanes' affine Q (sm2_impl.h's
 * R = 2^256 form, in 52-bit limbs); (m - 1) Q + Q never adds a point to itself for odd m >= 3 */
static void var_table8(jac8 tab[SM2_VAR_ENTRIES], const u64 qx[LANES][5], const u64 qy[LANES][5]) {
    const fe8 c264 = fe8_const(C264_52);
    fe8_load(&tab[0].x, qx);
    fe8_load(&tab[0].y, qy);
    fe8_mul(&tab[0].x, &tab[0].x, &c264);
    fe8_mul(&tab[0].y, &tab[0].y, &c264);
    tab[0].z = fe8_const(ONE52);
    for (int m = 2; m <= SM2_VAR_ENTRIES; m++) {
        if (m % 2 == 0) jac8_dbl(&tab[m - 1], &tab[m / 2 - 1]);
        else (void)jac8_add(&tab[m - 1], &tab[m - 2], &tab[0]);
    }
}

/* per-lane Booth digits of one window: magnitude (0..2^(w-1)) and sign */
typedef struct { u64 mag[LANES], neg[LANES]; } digits8;

static void digits8_of(digits8 *d, const u64 k[LANES][5], int pos, int w) {
    for (int l = 0; l < LANES; l++) booth(window_bits(k[l], pos, w), w, &d->mag[l], &d->neg[l]);
}

/* lanes whose digit is nonzero, and lanes whose digit is negative */
static void digits8_masks(const digits8 *d, K8 *nz, K8 *neg) {
    unsigned a = 0, b = 0;
    for (int l = 0; l < LANES; l++) {
        a |= (unsigned)(d->mag[l] != 0) << l;
        b |= (unsigned)(d->neg[l] & 1) << l;
    }
    *nz = (K8)a;
    *neg = (K8)b;
}

/* Variable time (public digits): lane l of r = entry mag[l] - 1 of its own lane's table
 * tab[0..15] (entry 0 where mag is 0), negated where neg. */
static void select_var8(jac8 *r, const jac8 tab[SM2_VAR_ENTRIES], const digits8 *d, K8 neg) {
    u64 idx[LANES] __attribute__((aligned(64)));
    for (int l = 0; l < LANES; l++)
        idx[l] = (d->mag[l] ? d->mag[l] - 1 : 0) * (sizeof(jac8) / 8) + (u64)l;
    V base = vload(idx);
    V *out = (V *)(void *)r;
    for (int j = 0; j < 15; j++) out[j] = vgather(vadd(base, vset1(8 * j)), tab);
    fe8 ny;
    fe8_neg(&ny, &r->y);
    fe8_blend(&r->y, neg, &r->y, &ny);
}

/* Variable time: lane l of r = fixed-base entry (w, mag[l] - 1), negated where neg. */
static void select_base8(aff8 *r, const u64 *t52, int w, const digits8 *d, K8 neg) {
    u64 idx[LANES] __attribute__((aligned(64)));
    for (int l = 0; l < LANES; l++)
        idx[l] = ((u64)w * SM2_BASE_ENTRIES + (d->mag[l] ? d->mag[l] - 1 : 0)) * 10;
    V base = vload(idx);
    for (int i = 0; i < 5; i++) {
        r->x.l[i] = vgather(vadd(base, vset1(i)), t52);
        r->y.l[i] = vgather(vadd(base, vset1(5 + i)), t52);
    }
    fe8 ny;
    fe8_neg(&ny, &r->y);
    fe8_blend(&r->y, neg, &r->y, &ny);
}

/* acc (with its infinity lanes inf) += e where the lane's digit is nonzero; lanes where the
 * formulas did not apply are added to *bad. Constant time: the masks only steer blends. With
 * `secret` set, the scratch copies of the sum and of e are wiped. */
static void accumulate(jac8 *acc, K8 *inf, const jac8 *e, K8 nz, K8 *bad, int secret) {
    jac8 sum;
    K8 h0 = jac8_add(&sum, acc, e);
    *bad |= (K8)(h0 & nz & ~*inf);
    jac8_blend(acc, (K8)(nz & ~*inf), acc, &sum);
    jac8_blend(acc, (K8)(nz & *inf), acc, e);
    *inf &= (K8)~nz;
    if (secret) secure_zero(&sum, sizeof sum);
}

static void accumulate_aff(jac8 *acc, K8 *inf, const aff8 *e, K8 nz, K8 *bad, int secret) {
    jac8 sum, ej;
    K8 h0 = jac8_add_aff(&sum, acc, e);
    *bad |= (K8)(h0 & nz & ~*inf);
    ej.x = e->x;
    ej.y = e->y;
    ej.z = fe8_const(ONE52);
    jac8_blend(acc, (K8)(nz & ~*inf), acc, &sum);
    jac8_blend(acc, (K8)(nz & *inf), acc, &ej);
    *inf &= (K8)~nz;
    if (secret) {
        secure_zero(&sum, sizeof sum);
        secure_zero(&ej, sizeof ej);
    }
}

/*
 * SM2 verification (as SM2_FN(verify_vartime)) of `count` (1..8) signatures at once:
 * lane l checks (r, s) = (rb, sb)[32 l ..] over e = eb[32 l ..] by the public key
 * q[64 l ..] (x || y); ok[l] = 1 when valid. The vector part computes s G + (r + s) Q for
 * all lanes with one schedule (fixed signed windows: 43 table additions for G, 5-bit windows
 * for Q); a lane meeting an addition of a point to plus or minus itself is verified again by
 * the scalar code, as is any lane when count is 0 (never). Variable time: public inputs.
 */
void SM2_FN(verify8)(int ok[LANES], const uint8_t *eb, const uint8_t *rb, const uint8_t *sb,
                     const uint8_t *q, int count, const u64 *t256, const u64 *t52) {
    u64 ks[LANES][5], kt[LANES][5], qx[LANES][5], qy[LANES][5], c1[LANES][5], c2[LANES][5];
    unsigned active = 0, has2 = 0;
    aff gdummy;
    fp_to_mont(gdummy.x, GX_PLAIN);
    fp_to_mont(gdummy.y, GY_PLAIN);
    for (int l = 0; l < LANES; l++) {
        u64 e[4], r[4], s[4], t[4], c[4];
        aff qa = gdummy;
        int good = l < count;
        if (good) {
            fe_from_be(r, rb + 32 * l);
            fe_from_be(s, sb + 32 * l);
            good = !fe_is_zero(r) && !fe_is_zero(s) && lt_vartime(r, N) && lt_vartime(s, N);
        }
        if (good) {
            mod_add(t, r, s, N);
            good = !fe_is_zero(t) && pt_from_be(&qa, q + 64 * l);
        }
        if (!good) {
            /* an idle lane computes 1 G + 1 G, whose result is ignored */
            memset(r, 0, sizeof r);
            memset(s, 0, sizeof s);
            memset(t, 0, sizeof t);
            s[0] = t[0] = 1;
            qa = gdummy;
            memset(e, 0, sizeof e);
        } else {
            active |= 1u << l;
            fe_from_be(e, eb + 32 * l);
            fn_reduce_once(e, e);
        }
        memcpy(ks[l], s, 32);
        ks[l][4] = 0;
        memcpy(kt[l], t, 32);
        kt[l][4] = 0;
        limbs52(qx[l], qa.x);
        limbs52(qy[l], qa.y);
        /* x1 = (r - e) mod n, or that plus n while still below p */
        mod_sub(c, r, e, N);
        limbs52(c1[l], c);
        if (!add4(c, c, N) && lt_vartime(c, P)) has2 |= 1u << l;
        limbs52(c2[l], c);
    }
    if (!active) {
        for (int l = 0; l < LANES; l++) ok[l] = 0;
        return;
    }

    const fe8 one = fe8_const(ONE52);
    jac8 tab[SM2_VAR_ENTRIES];
    var_table8(tab, qx, qy);

    K8 bad = 0, inf, nz, neg;
    digits8 d;
    jac8 acc, e;
    int top = SM2_VAR_WINDOWS - 1;
    digits8_of(&d, kt, SM2_W_VAR * top, SM2_W_VAR);
    digits8_masks(&d, &nz, &neg);
    select_var8(&acc, tab, &d, neg);
    inf = (K8)~nz;
    for (int w = top - 1; w >= 0; w--) {
        for (int i = 0; i < SM2_W_VAR; i++) jac8_dbl(&acc, &acc);
        digits8_of(&d, kt, SM2_W_VAR * w, SM2_W_VAR);
        digits8_masks(&d, &nz, &neg);
        select_var8(&e, tab, &d, neg);
        accumulate(&acc, &inf, &e, nz, &bad, 0);
    }

    jac8 accg;
    K8 ginf = 0xff;
    accg.x = accg.y = accg.z = one;
    for (int w = 0; w < SM2_BASE_WINDOWS; w++) {
        aff8 g;
        digits8_of(&d, ks, SM2_W_BASE * w, SM2_W_BASE);
        digits8_masks(&d, &nz, &neg);
        select_base8(&g, t52, w, &d, neg);
        accumulate_aff(&accg, &ginf, &g, nz, &bad, 0);
    }

    /* sum = acc + accg, either possibly infinity */
    jac8 sum;
    K8 h0 = jac8_add(&sum, &acc, &accg);
    bad |= (K8)(h0 & ~inf & ~ginf);
    jac8_blend(&sum, inf, &sum, &accg);
    jac8_blend(&sum, ginf, &sum, &acc);
    K8 at_inf = (K8)(inf & ginf);

    /* valid when X = x1 Z^2 for one of the candidates x1 */
    fe8 z2, cm, v, diff, rr = fe8_const(RR52);
    fe8_sqr(&z2, &sum.z);
    fe8_load(&cm, c1);
    fe8_mul(&cm, &cm, &rr);
    fe8_mul(&v, &cm, &z2);
    fe8_sub(&diff, &v, &sum.x);
    K8 match = fe8_is_zero(&diff);
    fe8_load(&cm, c2);
    fe8_mul(&cm, &cm, &rr);
    fe8_mul(&v, &cm, &z2);
    fe8_sub(&diff, &v, &sum.x);
    match |= (K8)(fe8_is_zero(&diff) & has2);

    for (int l = 0; l < LANES; l++) {
        if (!((active >> l) & 1)) ok[l] = 0;
        else if ((bad >> l) & 1)
            ok[l] = SM2_FN(verify_vartime)(eb + 32 * l, rb + 32 * l, sb + 32 * l, q + 64 * l, t256);
        else ok[l] = ((match & ~at_inf) >> l) & 1;
    }
}

/* ---- constant-time scalar multiplications (key generation and agreement) ------------ */

/* 2^264 mod p in sm2_impl.h's four 64-bit limbs (Python integers): its product by fp_mul
 * (x y / 2^256) scales by 2^8. */
static const u64 C264_64[4] = {0x100ULL, 0xffffffff00ULL, 0, 0x10000000000ULL};

/*
 * r = a^-1 in every lane (this representation, R = 2^260; 0 for 0), constant time, by
 * Montgomery's trick on the scalar code: the lanes' values A (= z 2^260 mod p) multiplied
 * together with fp_mul (R = 2^256), one fp_inv of the product, and each lane's inverse
 * peeled off with two more products: 2^520 / A = z^-1 2^260, this representation's z^-1,
 * the factor 2^8 put in once. 22 products and one inversion (about 2.5 us on the Xeon) where
 * a Fermat chain on the vectors, 255 dependent squarings, took about four times as long. A
 * zero lane is replaced by 1 for the product (it would zero every lane) and answered 0.
 */
static void fe8_inv(fe8 *r, const fe8 *a) {
    u64 v[LANES][5], z[LANES][4], pre[LANES][4], zero[LANES], inv[4], t[4];
    fe8_store(v, a);
    for (int l = 0; l < LANES; l++) {
        limbs64_reduced(z[l], v[l]);
        zero[l] = fe_is_zero(z[l]);
        fe_cmov(z[l], ONE_P, zero[l]);
    }
    memcpy(pre[0], z[0], 32);
    for (int l = 1; l < LANES; l++) fp_mul(pre[l], pre[l - 1], z[l]);
    fp_inv(inv, pre[LANES - 1]);          /* 2^512 R^7 / (A_0 ... A_7), R = 2^256 */
    fp_mul(inv, inv, C264_64);            /* times 2^8 */
    for (int l = LANES - 1; l > 0; l--) {
        fp_mul(t, inv, pre[l - 1]);       /* 2^520 / A_l */
        fp_mul(inv, inv, z[l]);
        memcpy(pre[l], t, 32);            /* pre[l] is not needed any more */
    }
    memcpy(pre[0], inv, 32);
    for (int l = 0; l < LANES; l++) {
        u64 none[4] = {0, 0, 0, 0};
        fe_cmov(pre[l], none, zero[l]);
        limbs52(v[l], pre[l]);
    }
    fe8_load(r, v);
    /* inverses of secret Zs (ECDH results', key generation's) */
    secure_zero(v, sizeof v);
    secure_zero(z, sizeof z);
    secure_zero(pre, sizeof pre);
    secure_zero(zero, sizeof zero);
    secure_zero(inv, sizeof inv);
    secure_zero(t, sizeof t);
}

/* Affine x || y (plain, big-endian) of every lane of p into out + 64 l. Constant time. */
static void jac8_to_affine_be(uint8_t *out, const jac8 *p) {
    fe8 zi, zi2, x, y, plain_one;
    u64 v[LANES][5];
    for (int i = 0; i < 5; i++) plain_one.l[i] = vset1(i == 0);
    fe8_inv(&zi, &p->z);
    fe8_sqr(&zi2, &zi);
    fe8_mul(&x, &p->x, &zi2);
    fe8_mul(&zi2, &zi2, &zi);
    fe8_mul(&y, &p->y, &zi2);
    fe8_mul(&x, &x, &plain_one);
    fe8_mul(&y, &y, &plain_one);
    for (int c = 0; c < 2; c++) {
        fe8_store(v, c ? &y : &x);
        for (int l = 0; l < LANES; l++) {
            u64 a[4];
            limbs64_reduced(a, v[l]);
            fe_to_be(out + 64 * l + 32 * c, a);
            secure_zero(a, sizeof a);
        }
    }
    secure_zero(v, sizeof v);
    secure_zero(&x, sizeof x);
    secure_zero(&y, sizeof y);
    secure_zero(&zi, sizeof zi);
    secure_zero(&zi2, sizeof zi2);
}

/* Booth digits of a window of every lane as vectors: magnitude and negative flag (0/1).
 * Constant time (booth() is). */
static void digits8_vec(V *mag, V *neg, const u64 k[LANES][5], int pos, int w) {
    digits8 d;
    digits8_of(&d, k, pos, w);
    *mag = vload(d.mag);
    *neg = vload(d.neg);
    secure_zero(&d, sizeof d);
}

/* y = -y in the lanes where neg (a vector of 0/1) is 1, constant time; the scratch negation
 * is wiped */
static void fe8_cneg(fe8 *y, V neg) {
    fe8 ny;
    fe8_neg(&ny, y);
    fe8_blend(y, vcmpeq(neg, vset1(1)), y, &ny);
    secure_zero(&ny, sizeof ny);
}

/* The lanes' scalars, little-endian limbs with a zero fifth limb, from count (<= 8) 32-byte
 * big-endian scalars; idle lanes get 1. */
static void scalars8(u64 k[LANES][5], const uint8_t *kb, int count) {
    for (int l = 0; l < LANES; l++) {
        if (l < count) scalar_limbs(k[l], kb + 32 * l);
        else {
            memset(k[l], 0, 5 * sizeof(u64));
            k[l][0] = 1;
        }
    }
}

/*
 * out + 64 l = k_l G (x || y) for the count (1..8) scalars kb + 32 l, eight at a time;
 * ok[l] = 0 where the result is infinity (k = 0 mod n). Constant time in the scalars: every
 * window reads all 32 table entries and keeps its lane's by mask. A lane meeting an addition
 * of a point to itself (a few hundred special scalars, never a random one) is redone by the
 * scalar constant-time code; only that bit is declassified, as in mul_base.
 */
void SM2_FN(mul_base8)(uint8_t *out, int ok[LANES], const uint8_t *kb, int count,
                       const u64 *t256, const u64 *t52) {
    u64 k[LANES][5];
    scalars8(k, kb, count);
    const fe8 one = fe8_const(ONE52);
    jac8 acc;
    K8 inf = 0xff, bad = 0;
    acc.x = acc.y = acc.z = one;
    for (int w = 0; w < SM2_BASE_WINDOWS; w++) {
        V mag, neg;
        digits8_vec(&mag, &neg, k, SM2_W_BASE * w, SM2_W_BASE);
        aff8 e;
        e.x = e.y = one;
        const u64 *row = t52 + (size_t)w * SM2_BASE_ENTRIES * 10;
        for (int j = 0; j < SM2_BASE_ENTRIES; j++) {
            K8 hit = vcmpeq(mag, vset1((u64)j + 1));
            for (int i = 0; i < 5; i++) {
                e.x.l[i] = vblend(hit, e.x.l[i], vset1(row[10 * j + i]));
                e.y.l[i] = vblend(hit, e.y.l[i], vset1(row[10 * j + 5 + i]));
            }
        }
        fe8_cneg(&e.y, neg);
        K8 nz = (K8)~vcmpeq(mag, vzero());
        accumulate_aff(&acc, &inf, &e, nz, &bad, 1);
        /* the entry chosen by a secret digit, and the digit */
        secure_zero(&e, sizeof e);
        secure_zero(&mag, sizeof mag);
        secure_zero(&neg, sizeof neg);
    }
    jac8_to_affine_be(out, &acc);
    secure_zero(&acc, sizeof acc);
    DECLASSIFY(&bad, sizeof bad);
    DECLASSIFY(&inf, sizeof inf); /* infinity is an error the caller reports */
    for (int l = 0; l < LANES; l++) {
        ok[l] = l < count && !((inf >> l) & 1);
        if (l < count && ((bad >> l) & 1)) ok[l] = SM2_FN(mul_base)(out + 64 * l, kb + 32 * l, t256);
        if (ok[l] != 1) memset(out + 64 * l, 0, 64);
    }
    secure_zero(k, sizeof k);
}

/*
 * out + 64 l = k_l Q_l for the count (1..8) scalars kb + 32 l and public points q + 64 l;
 * ok[l] = 1, 0 when the result is infinity, -1 when Q_l is not a curve point. Constant time
 * in the scalars: 5-bit signed windows over each lane's own table of 1..16 Q, every entry
 * read and kept by mask; degenerate lanes as in mul_base8.
 */
void SM2_FN(mul_point8)(uint8_t *out, int ok[LANES], const uint8_t *kb, const uint8_t *q,
                        int count) {
    u64 k[LANES][5], qx[LANES][5], qy[LANES][5];
    int valid[LANES];
    aff gdummy;
    fp_to_mont(gdummy.x, GX_PLAIN);
    fp_to_mont(gdummy.y, GY_PLAIN);
    scalars8(k, kb, count);
    for (int l = 0; l < LANES; l++) {
        aff qa = gdummy;
        valid[l] = l < count && pt_from_be(&qa, q + 64 * l);
        if (!valid[l]) qa = gdummy;
        limbs52(qx[l], qa.x);
        limbs52(qy[l], qa.y);
    }
    jac8 tab[SM2_VAR_ENTRIES];
    var_table8(tab, qx, qy);
    K8 inf = 0xff, bad = 0;
    jac8 acc, e;
    for (int w = SM2_VAR_WINDOWS - 1; w >= 0; w--) {
        V mag, neg;
        if (w != SM2_VAR_WINDOWS - 1)
            for (int i = 0; i < SM2_W_VAR; i++) jac8_dbl(&acc, &acc);
        digits8_vec(&mag, &neg, k, SM2_W_VAR * w, SM2_W_VAR);
        e = tab[0];
        for (int j = 1; j < SM2_VAR_ENTRIES; j++) jac8_blend(&e, vcmpeq(mag, vset1((u64)j + 1)), &e, &tab[j]);
        fe8_cneg(&e.y, neg);
        K8 nz = (K8)~vcmpeq(mag, vzero());
        if (w == SM2_VAR_WINDOWS - 1) {
            acc = e;
            inf = (K8)~nz;
        } else {
            accumulate(&acc, &inf, &e, nz, &bad, 1);
        }
        secure_zero(&mag, sizeof mag);
        secure_zero(&neg, sizeof neg);
    }
    jac8_to_affine_be(out, &acc);
    secure_zero(&acc, sizeof acc);
    secure_zero(&e, sizeof e);
    DECLASSIFY(&bad, sizeof bad);
    DECLASSIFY(&inf, sizeof inf);
    for (int l = 0; l < LANES; l++) {
        if (!valid[l]) ok[l] = l < count ? -1 : 0;
        else if ((bad >> l) & 1) ok[l] = SM2_FN(mul_point)(out + 64 * l, kb + 32 * l, q + 64 * l);
        else ok[l] = !((inf >> l) & 1);
        if (ok[l] != 1) memset(out + 64 * l, 0, 64);
    }
    secure_zero(k, sizeof k);
}

/*
 * Test hook: for eight lanes of plain field elements a, b (below p, four 64-bit limbs), the
 * lanes' a b, a^2, a + b, a - b mod p (plain, fully reduced) computed by the vector code,
 * through its Montgomery form and back.
 */
void SM2_FN(fe8_ops)(u64 out[4][LANES][4], const u64 a[LANES][4], const u64 b[LANES][4]) {
    u64 va[LANES][5], vb[LANES][5], res[LANES][5];
    for (int l = 0; l < LANES; l++) {
        limbs52(va[l], a[l]);
        limbs52(vb[l], b[l]);
    }
    fe8 x, y, r[4], rr = fe8_const(RR52), plain_one;
    for (int i = 0; i < 5; i++) plain_one.l[i] = vset1(i == 0);
    fe8_load(&x, va);
    fe8_load(&y, vb);
    fe8_mul(&x, &x, &rr);
    fe8_mul(&y, &y, &rr);
    fe8_mul(&r[0], &x, &y);
    fe8_sqr(&r[1], &x);
    fe8_add(&r[2], &x, &y);
    fe8_sub(&r[3], &x, &y);
    for (int k = 0; k < 4; k++) {
        fe8_mul(&r[k], &r[k], &plain_one);
        fe8_store(res, &r[k]);
        for (int l = 0; l < LANES; l++) limbs64_reduced(out[k][l], res[l]);
    }
}
#endif
