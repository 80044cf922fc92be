/*
 * Runs the serial/short-input GFNI SM4 kernel (csrc/sm4_gfni1.c, included verbatim) on a CPU
 * without GFNI or AVX-512: the GFNI and AVX-512VL intrinsics it uses are replaced by scalar
 * code written from Intel's documented semantics (GF2P8AFFINEQB: bit i of each byte is the
 * parity of the matrix qword's byte 7 - i AND the byte, XOR bit i of the immediate;
 * GF2P8AFFINEINVQB the same on the byte's inverse in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1,
 * 0 for 0; VPTERNLOGD's truth-table immediate; VPROLD), and ECB of 1 to 8 blocks, CBC
 * encryption and CBC-MAC of 1 to 40 (both the short path and the one with the rotated key
 * table) must equal a plain scalar SM4 written from GB/T 32907-2016, itself checked first on
 * the standard's example. Build with -DSM4EMU_VL=1 for the AVX-512VL build of the file (its own
 * serial round), =0 for the AVX build. On a CPU with GFNI, asm/tests/sm4_paths.rs runs the
 * real instructions against RustCrypto's sm4. Moving LANE1 of the VL build by 16 bits instead
 * of 8, or dropping the rotated key table's last round key, makes the cases differ.
 * Build and run (needs SSSE3):
 *   gcc -O1 -mssse3 -DSM4EMU_VL=1 asm/tests/emu/sm4_gfni_emu.c && ./a.out
 */
#include <stdio.h>

#include "emu128.h"

static uint8_t gf_mul(uint8_t a, uint8_t b) {
    uint8_t r = 0;
    for (int i = 0; i < 8; i++) {
        if (b & 1) r ^= a;
        b >>= 1;
        a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1b : 0));
    }
    return r;
}

static uint8_t gf_inv(uint8_t x) { /* x^254; 0 -> 0 */
    uint8_t r = 1;
    for (int i = 0; i < 254; i++) r = gf_mul(r, x);
    return x ? r : 0;
}

static __m128i emu_affine(__m128i x, __m128i a, int b, int inv) {
    uint8_t in[16], m[16], out[16];
    memcpy(in, &x, 16);
    memcpy(m, &a, 16);
    for (int j = 0; j < 16; j++) {
        uint8_t v = inv ? gf_inv(in[j]) : in[j], r = 0;
        const uint8_t *q = m + 8 * (j / 8); /* the matrix of this byte's qword */
        for (int i = 0; i < 8; i++) {
            int p = __builtin_popcount((unsigned)(q[7 - i] & v)) & 1;
            r |= (uint8_t)((p ^ ((b >> i) & 1)) << i);
        }
        out[j] = r;
    }
    memcpy(&x, out, 16);
    return x;
}
static __m128i emu_gf2p8affine(__m128i x, __m128i a, int b) { return emu_affine(x, a, b, 0); }
static __m128i emu_gf2p8affineinv(__m128i x, __m128i a, int b) { return emu_affine(x, a, b, 1); }

#define _mm_gf2p8affine_epi64_epi8 emu_gf2p8affine
#define _mm_gf2p8affineinv_epi64_epi8 emu_gf2p8affineinv
#define TARGET
#if SM4EMU_VL
#define SM4G1_VL 1
#define SM4G1_FN(name) emu_vl_##name
#else
#define SM4G1_FN(name) emu_##name
#endif
#include "../../csrc/sm4_gfni1.c"
#if SM4EMU_VL
#define KERNEL_ECB emu_vl_ecb
#define KERNEL_CBC emu_vl_cbc
#else
#define KERNEL_ECB emu_ecb
#define KERNEL_CBC emu_cbc
#endif

/* The reference: GB/T 32907-2016 section 6 (S-box table 1, FK and CK from 7.3). */
static const uint8_t SBOX[256] = {
    0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
    0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
    0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
    0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
    0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
    0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
    0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
    0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
    0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
    0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
    0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
    0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
    0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
    0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
    0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
    0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
};

static uint32_t rl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }
static uint32_t tau(uint32_t a) {
    return ((uint32_t)SBOX[a >> 24] << 24) | ((uint32_t)SBOX[(a >> 16) & 0xff] << 16) |
           ((uint32_t)SBOX[(a >> 8) & 0xff] << 8) | SBOX[a & 0xff];
}
static uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static void ref_keys(const uint8_t key[16], uint32_t rk[32]) {
    static const uint32_t FK[4] = {0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc};
    uint32_t k[36];
    for (int i = 0; i < 4; i++) k[i] = be32(key + 4 * i) ^ FK[i];
    for (int i = 0; i < 32; i++) {
        uint32_t ck = 0;
        for (int j = 0; j < 4; j++) ck = (ck << 8) | (uint32_t)(((4 * i + j) * 7) & 0xff);
        uint32_t t = tau(k[i + 1] ^ k[i + 2] ^ k[i + 3] ^ ck);
        k[i + 4] = k[i] ^ t ^ rl(t, 13) ^ rl(t, 23);
        rk[i] = k[i + 4];
    }
}
static void ref_block(const uint32_t rk[32], const uint8_t in[16], uint8_t out[16]) {
    uint32_t x[36];
    for (int i = 0; i < 4; i++) x[i] = be32(in + 4 * i);
    for (int i = 0; i < 32; i++) {
        uint32_t t = tau(x[i + 1] ^ x[i + 2] ^ x[i + 3] ^ rk[i]);
        x[i + 4] = x[i] ^ t ^ rl(t, 2) ^ rl(t, 10) ^ rl(t, 18) ^ rl(t, 24);
    }
    for (int i = 0; i < 4; i++) put32(out + 4 * i, x[35 - i]);
}

int main(void) {
    /* GB/T 32907-2016 appendix A, example 1 */
    static const uint8_t std_key[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                        0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
    static const uint8_t std_ct[16] = {0x68, 0x1e, 0xdf, 0x34, 0xd2, 0x06, 0x96, 0x5e,
                                       0x86, 0xb3, 0xe9, 0x4f, 0x53, 0x6e, 0x42, 0x46};
    uint32_t rk[32], zk[64];
    uint8_t out[16];
    ref_keys(std_key, rk);
    ref_block(rk, std_key, out);
    if (memcmp(out, std_ct, 16)) {
        puts("the scalar reference fails GB/T 32907's example");
        return 1;
    }
    static uint8_t pt[40 * 16], a[40 * 16], b[40 * 16];
    int bad = 0, cases = 0;
    uint32_t seed = 12345;
    for (int k = 0; k < 4; k++) {
        uint8_t key[16], iv[16];
        for (int i = 0; i < 16; i++) key[i] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
        for (int i = 0; i < 16; i++) iv[i] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
        for (size_t i = 0; i < sizeof pt; i++) pt[i] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
        ref_keys(key, rk);
        prepare_keys(rk, zk); /* the exported prepare's body, in both builds */
        for (size_t n = 1; n <= 40; n += (n < 10 ? 1 : 7)) {
            /* ECB: the kernel's short path takes 1 to 8 blocks */
            size_t m = n > 8 ? 8 : n;
            KERNEL_ECB(zk, pt, a, m);
            for (size_t i = 0; i < m; i++) ref_block(rk, pt + 16 * i, b + 16 * i);
            bad += memcmp(a, b, 16 * m) != 0;
            /* CBC encryption (the chain comes back as the last ciphertext block) */
            uint8_t chain[16], prev[16];
            memcpy(chain, iv, 16);
            memcpy(prev, iv, 16);
            KERNEL_CBC(zk, chain, pt, a, n);
            for (size_t i = 0; i < n; i++) {
                uint8_t x[16];
                for (int j = 0; j < 16; j++) x[j] = pt[16 * i + j] ^ prev[j];
                ref_block(rk, x, b + 16 * i);
                memcpy(prev, b + 16 * i, 16);
            }
            bad += memcmp(a, b, 16 * n) != 0;
            bad += memcmp(chain, prev, 16) != 0;
            /* CBC-MAC (no output): the state is the last CBC block */
            memcpy(chain, iv, 16);
            KERNEL_CBC(zk, chain, pt, NULL, n);
            bad += memcmp(chain, prev, 16) != 0;
            cases += 4;
        }
    }
    printf("emulated gfni1%s SM4 (ECB, CBC, CBC-MAC) vs scalar SM4: %d of %d cases differ\n",
           SM4EMU_VL ? "-vl" : "", bad, cases);
    return bad != 0;
}
