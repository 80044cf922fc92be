/*
 * SM3 for one message, RORX rotates (compiled with -mbmi2), the message expansion done word by
 * word inside the rounds (sm3_impl.h without SM3_GROUP_EXPAND): the kernel chosen on Intel
 * cores. On the Intel Xeon (Emerald Rapids) VM it hashes 16 KiB at 368 MB/s where sm3_bmi2.c
 * (expansion in SSE registers beside the rounds) manages 327 MB/s; on the AMD VMs the order is
 * the other way round (sm3_bmi2.c's header). `bash asm/tools/ab.sh` measures such pairs.
 */
#if defined(__x86_64__)
#define SM3_SCALAR_FN tlsfe_sm3_bmi2r_blocks
#include "sm3_scalar.h"
#endif
