/* IQ1_M_R4 x Q8_K128 matmul, AVX-512 (plain and VNNI): the tiled kernel of matmul_tiles_avx512.inc
 * specialised for the IQ1_M_R4 decoder (GEMV and GEMM alike). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")
#include <immintrin.h>
#include "decode128.h"
#include "kernels_avx512.h"

#include "decode128_avx512.h"
#define TILES_DECODE iq1_decode128_iq1_m_r4_avx512
#include "matmul_tiles_avx512.h"

void iq1_matmul_iq1_m_r4_avx512(IQ1_MATMUL_ARGS) {
    tiles512_run(w, k, r0, r1, x, c0, c1, y, ldy);
}

__attribute__((target("avx512vnni")))
void iq1_matmul_iq1_m_r4_avx512_vnni(IQ1_MATMUL_ARGS) {
    tiles512vnni_run(w, k, r0, r1, x, c0, c1, y, ldy);
}
#endif
