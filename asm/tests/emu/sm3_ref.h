/* After an SM3 kernel file was included (sm3_avx512_emu.c, sm3_vl_emu.c): forget its macros
 * and include the scalar kernel (csrc/sm3_scalar.h) as the reference, ref_blocks(state, data,
 * nblocks), under names of its own. */
#undef V
#undef ADD
#undef XOR
#undef XOR3
#undef ROTL
#undef SET1
#undef MAJ
#undef CHOOSE
#undef LOAD_BLOCK
#undef SM3_PIN
#undef SM3_GROUP_EXPAND
#undef SM3_WORD
#undef SM3_WPRIME
#undef SM3_ADD_W
#undef SM3_ADD_WP
#undef SM3_GROUP_STATE
#undef SM3_GROUP_LOAD
#undef SM3_GROUP
#undef SM3_COMPRESS_NAME
#undef SM3_P0
#undef SM3_P1
#undef SM3_ROUND
#undef SM3_ROUND_EXPAND
#undef SM3_EXPAND
#undef SM3_FF0
#undef SM3_ROUND4
#define SM3_TJ SM3_TJ2
#define SM3_SCALAR_FN ref_blocks
#define V V2
#define SM3_CTX CTX2
#define sm3_compress_scalar sc2
#include "../../csrc/sm3_scalar.h"
