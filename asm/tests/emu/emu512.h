/* Scalar stand-ins for the AVX-512 intrinsics used by csrc/sm3_avx512.c: see sm3_avx512_emu.c. */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
typedef struct { uint32_t v[16]; } emu512;
static emu512 e_add(emu512 a, emu512 b){ for(int i=0;i<16;i++) a.v[i]+=b.v[i]; return a; }
static emu512 e_xor(emu512 a, emu512 b){ for(int i=0;i<16;i++) a.v[i]^=b.v[i]; return a; }
static emu512 e_tern(emu512 a, emu512 b, emu512 c, int imm){ emu512 r; for(int i=0;i<16;i++){ uint32_t x=0; for(int bit=0;bit<32;bit++){ int idx=(((a.v[i]>>bit)&1)<<2)|(((b.v[i]>>bit)&1)<<1)|((c.v[i]>>bit)&1); x|=(uint32_t)((imm>>idx)&1)<<bit;} r.v[i]=x;} return r; }
static emu512 e_rol(emu512 a, int n){ for(int i=0;i<16;i++) a.v[i]=(a.v[i]<<n)|(a.v[i]>>(32-n)); return a; }
static emu512 e_set1(int c){ emu512 r; for(int i=0;i<16;i++) r.v[i]=(uint32_t)c; return r; }
static emu512 e_cast(__m256i x){ emu512 r; memset(&r,0xee,sizeof r); memcpy(r.v,&x,32); return r; }
static emu512 e_ins(emu512 a, __m256i x, int hi){ memcpy(a.v+8*hi,&x,32); return a; }
static emu512 e_load(const void *p){ emu512 r; memcpy(&r,p,64); return r; }
static void e_store(void *p, emu512 a){ memcpy(p,&a,64); }
#define __m512i emu512
#define _mm512_add_epi32 e_add
#define _mm512_xor_si512 e_xor
#define _mm512_ternarylogic_epi32 e_tern
#define _mm512_rol_epi32 e_rol
#define _mm512_set1_epi32 e_set1
#define _mm512_castsi256_si512 e_cast
#define _mm512_inserti64x4 e_ins
#define _mm512_loadu_si512 e_load
#define _mm512_storeu_si512 e_store
