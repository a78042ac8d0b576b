/* float rows -> IQ1_S (docs/QUANTIZATION.md), plus a least-squares refit of the fp16 super-scale for the final
 * digits and block scales (instead of the fixed 1.125 fudge: relative RMSE 0.486 -> 0.451 on normal
 * data), with the R4 quantizers' guards applied so it never fails: a 32-block with sum x^2 < 1e-14 is
 * stored as the zero grid vector (index 1029, scale 0, shift bit clear); where the importance weights
 * vanish (sum w|x| < 1e-14 relative to the block) they are dropped for that block; if the solver still
 * finds no candidate, uniform weights are used (solve32_guarded). */
#include <math.h>
#include "common.h"
#include "kernels_generic.h"
#include "quantize_search.h"

static void quantize_superblock(const iq1_solver *sv, const iq1_quant_tables *t, const float *x, const float *qw,
                                uint8_t *blk) {
    float sumx2 = 0.0f;
    for (int i = 0; i < 256; ++i) sumx2 += x[i] * x[i];
    const float sigma2 = 2.0f * sumx2 / 256.0f; /* raw units; +Inf for huge x is handled */
    iq1s_block res[8];
    float max_scale = 0.0f;
    for (int ib = 0; ib < 8; ++ib) {
        res[ib] = sv->solve32_guarded(t, x + 32 * ib, qw ? qw + 32 * ib : 0, sigma2);
        if (res[ib].scale > max_scale) max_scale = res[ib].scale;
    }
    uint16_t qh[8];
    for (int ib = 0; ib < 8; ++ib) {
        qh[ib] = 0;
        for (int l = 0; l < 4; ++l) {
            blk[2 + 4 * ib + l] = (uint8_t)(res[ib].idx[l] & 255);
            qh[ib] |= (uint16_t)((res[ib].idx[l] >> 8) << (3 * l));
        }
    }
    uint16_t d = 0;
    if (max_scale > 0) {
        const float dsb = max_scale / 15.0f, id = 1.0f / dsb;
        int ls[8];
        for (int ib = 0; ib < 8; ++ib) {
            int l = iq1_nearest_int(0.5f * (id * res[ib].scale - 1.0f));
            ls[ib] = l < 0 ? 0 : l > 7 ? 7 : l;
            qh[ib] |= (uint16_t)((ls[ib] | (res[ib].shift < 0 ? 8 : 0)) << 12);
        }
        /* least-squares super-scale for the final digits, shifts and block scales, weighted by the
         * importance (the error the user measures) or uniformly; x and importance normalised by their
         * maxima so the sums stay finite */
        const float amax = iq1_abs_max(x, 256), qmax = qw ? iq1_abs_max(qw, 256) : 0.0f;
        float sumqx = 0.0f, sumq2 = 0.0f;
        for (int ib = 0; ib < 8; ++ib) {
            for (int l = 0; l < 4; ++l) {
                const uint64_t g = iq1_grid_signed[res[ib].idx[l]];
                for (int j = 0; j < 8; ++j) {
                    const int i = 32 * ib + 8 * l + j;
                    const float q = ((float)(int8_t)(g >> (8 * j)) + (res[ib].shift < 0 ? -0.125f : 0.125f)) *
                                    (float)(2 * ls[ib] + 1);
                    const float wi = qmax > 0 ? qw[i] / qmax : 1.0f;
                    sumqx += wi * q * (x[i] / amax);
                    sumq2 += wi * q * q;
                }
            }
        }
        const float s = sumq2 > 0 && sumqx > 0 ? (sumqx / sumq2) * amax : 1.125f * dsb;
        d = iq1_scale_to_fp16(s);
    }
    memcpy(blk, &d, 2);
    memcpy(blk + 34, qh, 16);
}

int iq1_quantize_iq1_s_with(const iq1_solver *sv, IQ1_QUANTIZE_ARGS) {
    const iq1_quant_tables *t = iq1_quant_tables_get();
    if (!t) return 1;
    const int64_t nb = k / IQ1_QK_K;
    for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = 0; i < nb; ++i)
            quantize_superblock(sv, t, x + r * k + 256 * i, imatrix ? imatrix + 256 * i : 0,
                                w + (r * nb + i) * IQ1S_BLOCK_BYTES);
    return 0;
}

int iq1_quantize_iq1_s_generic(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_s_with(&iq1_solver_generic, x, k, r0, r1, imatrix, w);
}
