/* Re-included body: the AVX2 matmul of one format, both variants.
 *   Expects  IQ1_FORMAT (iq1_s), IQ1_TYPE (IQ1_S) and IQ1_DELTA_PER_32 (1: the S types, 0: the M types), after
 *            the file's #pragma GCC target (AVX2, FMA, F16C; no AVX-512).
 *   Defines  iq1_matmul_<format>_avx2 and iq1_matmul_<format>_avx2_vnni (the backend tables' entries) and the
 *            kernels they call: the GEMV iq1_gemv_<format>_avx2 (shared by both variants: the rows GEMV
 *            iq1_gemv_rows_<format>_avx2 for passes of 1-2 columns, the columns GEMV
 *            iq1_gemv_columns_<format>_avx2 for 3-8) and the GEMM iq1_gemm_<format>_avx2[_vnni]. Everything it
 *            defines as a macro is #undef'd at the end; the includer #undef's the three inputs. */
#include <stdlib.h>
#include <string.h>
#include "decode_row_avx2.h"
#include "decode_quad_avx2.h"
#include "gemm_avx2.h"
#include "gemv_avx2.h"
#include "kernel_plan.h"

#define IQ1_DECODE_ROW IQ1_NAME3(decode_row, IQ1_FORMAT, avx2)
#define IQ1_DECODE_QUAD IQ1_NAME3(decode_quad, IQ1_FORMAT, avx2)
#define IQ1_DECODE_QUAD_SIGNED IQ1_NAME3(decode_quad_signed, IQ1_FORMAT, avx2)
#define IQ1_QUAD_ROW_MAJOR IQ1_CAT(IQ1_QUAD_ROW_MAJOR_, IQ1_TYPE)

/* coefficient pairs per block in the AVX-VNNI GEMM (the plain one has none): per 8 values the pairs (g, g + 8) of
 * iq1_row_prep_avx2.coef; per 32 values (constant over a 32-block) dword 0 = (32-blocks 0, 2) and dword 4 =
 * (32-blocks 1, 3) suffice */
#if !IQ1_DELTA_PER_32
#define IQ1_GEMM_PAIRS 8
#else
#define IQ1_GEMM_PAIRS 2
#endif

#define IQ1_VARIANT avx2
#include "gemv_rows_avx2-inl.h"
#include "gemv_columns_avx2-inl.h"

/* the GEMV's passes of IQ1_GEMV_PASS_COLS columns: 1 or 2 with the rows in the lanes, more with the columns
 * (the kernel plan, IQ1_NAME(plan) of gemm_avx2-inl.h) */
static void IQ1_NAME(gemv)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x, int64_t c0,
                           int64_t c1, float *y, int64_t ldy) {
    for (int64_t c = c0; c < c1; c += IQ1_GEMV_PASS_COLS) {
        const int nc = (int)(c1 - c < IQ1_GEMV_PASS_COLS ? c1 - c : IQ1_GEMV_PASS_COLS);
        if (nc >= IQ1_GEMV_COLUMNS_MIN) IQ1_NAME(gemv_columns)(w, k, r0, r1, x, c, nc, y, ldy);
        else if (nc == 2) IQ1_NAME(gemv_rows)(2, w, k, r0, r1, x, c, y, ldy); /* constant counts: registers */
        else IQ1_NAME(gemv_rows)(1, w, k, r0, r1, x, c, y, ldy);
    }
}

#define IQ1_ATTR
#define IQ1_VNNI 0
#include "gemm_avx2-inl.h"
#undef IQ1_ATTR
#undef IQ1_VARIANT
#undef IQ1_VNNI

#define IQ1_ATTR __attribute__((target("avxvnni")))
#define IQ1_VARIANT avx2_vnni
#define IQ1_VNNI 1
#include "gemm_avx2-inl.h"
#undef IQ1_ATTR
#undef IQ1_VARIANT
#undef IQ1_VNNI

#undef IQ1_GEMM_PAIRS
#undef IQ1_DECODE_ROW
#undef IQ1_DECODE_QUAD
#undef IQ1_DECODE_QUAD_SIGNED
#undef IQ1_QUAD_ROW_MAJOR
