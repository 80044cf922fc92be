/*
 * Runs the 16-lane AVX-512 SM3 kernel (csrc/sm3_avx512.c, included verbatim) on a CPU
 * without AVX-512: emu512.h replaces the AVX-512 intrinsics it uses with scalar code written
 * from Intel's documented semantics (VPTERNLOGD's truth-table immediate, VPROLD, VINSERTI64X4),
 * and the result for 16 lanes of 5 blocks, each lane with its own chaining value, must equal
 * the one-message kernel's. This checks the kernel's logic (immediates, rotations, lane
 * transposition); the real instructions are checked by the self-test in src/sm3.rs on any
 * AVX-512 CPU that selects the kernel. Changing MAJ's immediate from 0xe8 to 0xe9 makes all
 * 128 words differ.
 * Build and run (needs AVX2): gcc -O1 -mavx2 -mbmi2 asm/tests/emu/sm3_avx512_emu.c && ./a.out
 */
#include "emu512.h"
#include "../../csrc/sm3_avx512.c"
#include "sm3_ref.h"
#include <stdio.h>
int main(){
  static uint8_t data[16][64*5]; for(int l=0;l<16;l++) for(int i=0;i<64*5;i++) data[l][i]=(uint8_t)(l*31+i*7+(i>>3));
  uint32_t st[128]; const uint8_t *ptrs[16];
  uint32_t iv[8]={0x7380166f,0x4914b2b9,0x172442d7,0xda8a0600,0xa96f30bc,0x163138aa,0xe38dee4d,0xb0fb0e4e};
  for(int w=0;w<8;w++) for(int l=0;l<16;l++) st[16*w+l]=iv[w]+l;
  for(int l=0;l<16;l++) ptrs[l]=data[l];
  tlsfe_sm3_avx512_x16(st, ptrs, 5);
  int bad=0;
  for(int l=0;l<16;l++){ uint32_t s[8]; for(int w=0;w<8;w++) s[w]=iv[w]+l; ref_blocks(s, data[l], 5); for(int w=0;w<8;w++) if(s[w]!=st[16*w+l]) bad++; }
  printf("emulated avx512 x16 vs scalar: %d mismatching words of 128\n", bad); return bad!=0;
}
