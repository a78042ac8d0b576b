/* float rows -> IQ1_S_R4 (docs/QUANTIZATION.md): 4 rows at a time, blocks of 32, one fp16 scale per row.
 * Same guards as IQ1_S (zero blocks -> index 1029; vanishing importance -> default weights; no candidate
 * -> uniform weights), so it never fails. */
#include <math.h>
#include <stdlib.h>
#include "common.h"
#include "kernels_generic.h"
#include "quantize_search.h"

/* one 32-block of one row: sigma2 from the block itself */
static iq1s_block solve_block(const iq1_solver *sv, const iq1_quant_tables *t, const float *x, const float *qw) {
    float sumx2 = 0.0f;
    for (int i = 0; i < 32; ++i) sumx2 += x[i] * x[i];
    return sv->solve32_guarded(t, x, qw, 1.5f * sumx2 / 32.0f);
}

int iq1_quantize_iq1_s_r4_with(const iq1_solver *sv, IQ1_QUANTIZE_ARGS) {
    const iq1_quant_tables *t = iq1_quant_tables_get();
    if (!t) return 1;
    const int64_t nblk = k / 32, gbytes = iq1_r4_group_bytes(k, IQ1S_R4_BLOCK_BYTES);
    float *scales = malloc(sizeof(float) * 4 * nblk); /* block scales until the row max is known */
    if (!scales) return 1;
    for (int64_t r = r0; r < r1; r += 4) {
        uint8_t *grp = w + (r / 4) * gbytes;
        float max_scale[4] = { 0, 0, 0, 0 };
        for (int64_t ib = 0; ib < nblk; ++ib) {
            uint8_t *blk = grp + 8 + ib * IQ1S_R4_BLOCK_BYTES;
            for (int row = 0; row < 4; ++row) {
                iq1s_block res = solve_block(sv, t, x + (r + row) * k + 32 * ib, imatrix ? imatrix + 32 * ib : 0);
                uint16_t qh = res.shift < 0 ? 0x8000 : 0;
                for (int l = 0; l < 4; ++l) {
                    blk[4 * l + row] = (uint8_t)(res.idx[l] & 255);
                    qh |= (uint16_t)((res.idx[l] >> 8) << (3 * l));
                }
                memcpy(blk + 16 + 2 * row, &qh, 2);
                scales[4 * ib + row] = res.scale;
                if (res.scale > max_scale[row]) max_scale[row] = res.scale;
            }
        }
        float fallback[4];
        for (int row = 0; row < 4; ++row) {
            fallback[row] = 1.0625f * max_scale[row] / 15.0f; /* the reference's row scale */
            const float inv = max_scale[row] > 0 ? 15.0f / max_scale[row] : 0.0f;
            for (int64_t ib = 0; ib < nblk; ++ib) {
                uint8_t *qhp = grp + 8 + ib * IQ1S_R4_BLOCK_BYTES + 16 + 2 * row;
                int ls = iq1_nearest_int(0.5f * (scales[4 * ib + row] * inv - 1.0f));
                ls = ls < 0 ? 0 : ls > 7 ? 7 : ls;
                const uint16_t qh = (uint16_t)(iq1_load_u16(qhp) | (ls << 12));
                memcpy(qhp, &qh, 2);
            }
        }
        if (iq1_refit_r4_row_scales(iq1_dequantize_iq1_s_r4_generic, x + r * k, k, imatrix, grp, fallback)) {
            free(scales);
            return 1;
        }
    }
    free(scales);
    return 0;
}

int iq1_quantize_iq1_s_r4_generic(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_s_r4_with(&iq1_solver_generic, x, k, r0, r1, imatrix, w);
}
