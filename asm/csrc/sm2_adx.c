/*
 * SM2 arithmetic with MULX/ADCX/ADOX field products and AVX2 table scans: see sm2_impl.h.
 * Compiled with -mbmi2 -madx -mavx2 (build.rs); Rust calls it only after detection.
 */
#if defined(__x86_64__)
#define SM2_ADX 1
#define SM2_AVX2 1
#define SM2_FN(name) tlsfe_sm2_adx_##name
#include "sm2_impl.h"
#endif
