/* IQ1_M_R4 x Q8_K128 matmul, NEON (plain and dotprod): the tiled kernel of matmul_tiles_neon.inc
 * specialised for the IQ1_M_R4 decoder (GEMV and GEMM alike). */
#if defined(__aarch64__)
#include <arm_neon.h>
#include "decode128.h"
#include "kernels_neon.h"

#define TILES_DECODE iq1_decode128_iq1_m_r4
#include "matmul_tiles_neon.h"

void iq1_matmul_iq1_m_r4_neon(IQ1_MATMUL_ARGS) {
    tilesneon_run(w, k, r0, r1, x, c0, c1, y, ldy);
}

__attribute__((target("arch=armv8.2-a+dotprod")))
void iq1_matmul_iq1_m_r4_neon_dotprod(IQ1_MATMUL_ARGS) {
    tilesneondp_run(w, k, r0, r1, x, c0, c1, y, ldy);
}
#endif
