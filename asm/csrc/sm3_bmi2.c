/* SM3 for one message with BMI2 (RORX rotates, no flag dependencies); compiled with -mbmi2. */
#if defined(__x86_64__)
#define SM3_SCALAR_FN tlsfe_sm3_bmi2_blocks
#include "sm3_scalar.h"
#endif
