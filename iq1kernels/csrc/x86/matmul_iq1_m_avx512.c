/* IQ1_M x Q8_K128 matmul, AVX-512 (plain and VNNI): matmul_avx512.inc: the GEMV for 1-2
 * columns (gemv_avx512.inc) with the IQ1_M 4-row decoder, the repacking GEMM for more with its row decoder. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")
#include <immintrin.h>
#include "kernels_avx512.h"
#define IQ1Z_TYPE IQ1_M
#define IQ1Z_DECODE iq1z_decode_iq1_m
#define IQ1Z_DECODE4 iq1y_decode4_iq1_m
#define IQ1Z_ROW_MAJOR IQ1Y_QUAD_ROW_MAJOR_IQ1_M
#define IQ1Z_NCOEF 16
#include "matmul_avx512.h"

void iq1_matmul_iq1_m_avx512(IQ1_MATMUL_ARGS) { iq1z_plain_run(w, k, r0, r1, x, c0, c1, y, ldy); }

__attribute__((target("avx512vnni"))) void iq1_matmul_iq1_m_avx512_vnni(IQ1_MATMUL_ARGS) {
    iq1z_vnni_run(w, k, r0, r1, x, c0, c1, y, ldy);
}
#endif
