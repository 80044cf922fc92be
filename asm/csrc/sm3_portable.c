/* SM3 in plain C, any CPU. */
#define SM3_SCALAR_FN tlsfe_sm3_portable_blocks
#include "sm3_scalar.h"
