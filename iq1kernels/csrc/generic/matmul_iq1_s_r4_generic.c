/* IQ1_S_R4 x Q8_K128 matmul, portable C. */
#include "decode128.h"
#include "matmul_generic.h"
#include "kernels_generic.h"

void iq1_matmul_iq1_s_r4_generic(IQ1_MATMUL_ARGS) {
    iq1_matmul_decoded_generic(iq1_decode128_iq1_s_r4, w, k, r0, r1, x, c0, c1, y, ldy);
}
