/* SM2 arithmetic in plain C (any CPU): see sm2_impl.h. */
#define SM2_FN(name) tlsfe_sm2_portable_##name
#include "sm2_impl.h"
