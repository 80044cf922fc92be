/* One-message SM3 on 32-bit words (see sm3_impl.h); the includer names the function. */
#include <stddef.h>
#include <stdint.h>

typedef uint32_t V;
#define ADD(a, b) ((a) + (b))
#define XOR(a, b) ((a) ^ (b))
#define XOR3(a, b, c) ((a) ^ (b) ^ (c))
#define ROTL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define SET1(c) (c)
#define MAJ(a, b, c) (((a) & (b)) | (((a) | (b)) & (c)))
#define CHOOSE(a, b, c) ((c) ^ ((a) & ((b) ^ (c))))
typedef const uint8_t *SM3_CTX;
#define LOAD_BLOCK(w, blk)                                                                   \
    for (int i_ = 0; i_ < 16; i_++) {                                                        \
        const uint8_t *p_ = ctx + 64 * (blk) + 4 * i_;                                       \
        w[i_] = ((uint32_t)p_[0] << 24) | ((uint32_t)p_[1] << 16) | ((uint32_t)p_[2] << 8) | \
                (uint32_t)p_[3];                                                             \
    }
#define SM3_COMPRESS_NAME sm3_compress_scalar
#include "sm3_impl.h"

void SM3_SCALAR_FN(uint32_t state[8], const uint8_t *data, size_t nblocks) {
    sm3_compress_scalar(state, data, nblocks);
}
