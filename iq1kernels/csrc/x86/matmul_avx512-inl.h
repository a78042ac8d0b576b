/* Re-included body: the AVX-512 matmul of one format, every variant.
 *   Expects  IQ1_FORMAT (iq1_s), IQ1_TYPE (IQ1_S) and IQ1_DELTA_PER_32 (1: the S types, 0: the M types),
 *            after the file's #pragma GCC target (AVX-512 F/BW/VL/DQ).
 *   Defines  iq1_matmul_<format>_avx512, iq1_matmul_<format>_avx512_vnni and iq1_matmul_<format>_avx512_vnni_gather
 *            (the backend tables' entries), each with its GEMV and GEMM (gemm_avx512-inl.h). Everything it defines
 *            as a macro is #undef'd at the end; the includer #undef's the three inputs. */
#include <stdlib.h>
#include <string.h>
#include "decode_row_avx512.h"
#include "decode_quad_avx2.h" /* the GEMV's 4-row decoders (AVX2 instructions, two per 8-row item) */
#include "gemm_avx512.h"
#include "gemv_avx512.h"
#include "kernel_plan.h"

#define IQ1_DECODE_ROW IQ1_NAME3(decode_row, IQ1_FORMAT, avx512)
#define IQ1_DECODE_QUAD IQ1_NAME3(decode_quad, IQ1_FORMAT, avx2)
#define IQ1_QUAD_ROW_MAJOR IQ1_CAT(IQ1_QUAD_ROW_MAJOR_, IQ1_TYPE)

/* The columns GEMV's copy of the activations, for every variant of the format: columns [c, c + ncols) (ncols <= 8)
 * of blocks [b0, b0 + nb) into xa; the lanes of missing columns are zero. ncoef: the delta coefficients per
 * 128-block, 4 (the S types: xa gets the bsums) or 16 (the M types: the 16-value sums times 9). */
static void IQ1_NAME3(columns_fill, IQ1_FORMAT, avx512)(const iq1_act *x, int64_t c, int ncols, int64_t b0, int nb,
                                                        int ncoef, iq1_columns_act_avx512 *xa) {
    const int64_t k = x->k, nbx = k / IQ1_QK_ACT;
    if (ncols < 8) memset(xa, 0, sizeof *xa);
    for (int n = 0; n < ncols; ++n) {
        for (int j = 0; j < nb; ++j) {
            const int64_t b = b0 + j;
            const int8_t *q = x->qs + (c + n) * k + b * IQ1_QK_ACT;
            for (int g = 0; g < 16; ++g) memcpy(xa->x[j][g] + 8 * n, q + 8 * g, 8);
            if (ncoef == 4) {
                memcpy(xa->bs[j] + 4 * n, x->bsums + (c + n) * (k / 32) + 4 * b, 8);
            } else {
                iq1_slot_nines_avx2(q, &xa->s9[j][0][4 * n], 32);
            }
            xa->d[j][n] = x->d[(c + n) * nbx + b];
        }
    }
}

#define IQ1_GATHER 0
#define IQ1_ATTR
#define IQ1_VARIANT avx512
#define IQ1_VNNI 0
#include "gemm_avx512-inl.h"
#undef IQ1_ATTR
#undef IQ1_VARIANT
#undef IQ1_VNNI
#undef IQ1_GATHER

#define IQ1_GATHER 0
#define IQ1_ATTR __attribute__((target("avx512vnni")))
#define IQ1_VARIANT avx512_vnni
#define IQ1_VNNI 1
#include "gemm_avx512-inl.h"
#undef IQ1_VARIANT
#undef IQ1_GATHER

/* VNNI again with the GEMV's grid lookups by vpgatherdq, for the avx512_amx backend: on the AMX CPUs a gather of
 * grid entries is cheaper than scalar loads with inserts, on other AVX-512 CPUs (AMD Zen 4) dearer, so the plain
 * avx512_vnni tables keep the loads (docs/PERFORMANCE.md, Kernel design measurements, "gathered lookups"). The R4
 * formats gather in their rows GEMV; IQ1_S and IQ1_M, whose rows GEMV keeps the loads, get the one-column GEMV of
 * gemv_gathered_avx512-inl.h. */
#define IQ1_GATHER 1
#define IQ1_VARIANT avx512_vnni_gather
#include "gemm_avx512-inl.h"
#undef IQ1_VARIANT
#undef IQ1_GATHER
#undef IQ1_ATTR
#undef IQ1_VNNI

#undef IQ1_DECODE_ROW
#undef IQ1_DECODE_QUAD
#undef IQ1_QUAD_ROW_MAJOR
