/* IQ1_S_R4 x Q8_K128 matmul, AVX2 (plain and AVX-VNNI): the GEMV for up to 16 columns (gemv_avx2.inc and
 * gemv_columns_avx2.inc with the IQ1_S_R4 4-row decoder of decode_quad_avx2.h) and the repacking GEMM for
 * more (matmul_avx2.inc with the IQ1_S_R4 row decoder of decode_row_avx2.h). No AVX-512 instruction here. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>
#include "kernels_avx2.h"
#define IQ1Y_TYPE IQ1_S_R4
#define IQ1Y_DECODE iq1y_decode_iq1_s_r4
#define IQ1Y_DECODE4 iq1y_decode4_iq1_s_r4
#define IQ1Y_ROW_MAJOR IQ1Y_QUAD_ROW_MAJOR_IQ1_S_R4
#define IQ1Y_NCOEF 4
#include "matmul_avx2.h"

void iq1_matmul_iq1_s_r4_avx2(IQ1_MATMUL_ARGS) { iq1y_plain_run(w, k, r0, r1, x, c0, c1, y, ldy); }

__attribute__((target("avxvnni"))) void iq1_matmul_iq1_s_r4_avx2_vnni(IQ1_MATMUL_ARGS) {
    iq1y_vnni_run(w, k, r0, r1, x, c0, c1, y, ldy);
}
#endif
