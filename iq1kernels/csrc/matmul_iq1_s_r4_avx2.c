/* IQ1_S_R4 x Q8_K128 matmul, AVX2 (plain and AVX-VNNI): the shared tiled kernel with the IQ1_S_R4 decoder. */
#if defined(__x86_64__)
#include "kernels_generic.h"
#include "matmul_tiles_avx2.h"

void iq1_matmul_iq1_s_r4_avx2(IQ1_MATMUL_ARGS) {
    iq1_matmul_tiles_avx2(iq1_decode128_iq1_s_r4, w, k, r0, r1, x, c0, c1, y, ldy);
}

void iq1_matmul_iq1_s_r4_avx2_vnni(IQ1_MATMUL_ARGS) {
    iq1_matmul_tiles_avx2_vnni(iq1_decode128_iq1_s_r4, w, k, r0, r1, x, c0, c1, y, ldy);
}
#endif
