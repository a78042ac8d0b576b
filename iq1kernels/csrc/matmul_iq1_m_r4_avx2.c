/* IQ1_M_R4 x Q8_K128 matmul, AVX2 (plain and AVX-VNNI): the tiled kernel of matmul_tiles_avx2.inc
 * specialised for the IQ1_M_R4 decoder (GEMV and GEMM alike). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>
#include "decode128.h"
#include "kernels_avx2.h"

#include "decode128_avx2.h"
#define TILES_DECODE iq1_decode128_iq1_m_r4_avx2
#include "matmul_tiles_avx2.h"

void iq1_matmul_iq1_m_r4_avx2(IQ1_MATMUL_ARGS) {
    tiles256_run(w, k, r0, r1, x, c0, c1, y, ldy);
}

__attribute__((target("avxvnni")))
void iq1_matmul_iq1_m_r4_avx2_vnni(IQ1_MATMUL_ARGS) {
    tiles256vnni_run(w, k, r0, r1, x, c0, c1, y, ldy);
}
#endif
