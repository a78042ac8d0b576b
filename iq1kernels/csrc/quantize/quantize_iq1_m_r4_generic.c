/* float rows -> IQ1_M_R4 (docs/QUANTIZATION.md): 4 rows at a time, blocks of 32 as two 16-halves, each with
 * a linear 4-bit scale; one fp16 scale per row, refit by least squares. Guards of PRs 368/371 per half
 * (solve16_guarded), plus the uniform-weight fallback, so it never fails. */
#include <math.h>
#include <stdlib.h>
#include "common.h"
#include "kernels_generic.h"
#include "quantize_search.h"

static const uint8_t shift_mask[4] = { 0x00, 0x80, 0x08, 0x88 };

int iq1_quantize_iq1_m_r4_with(const iq1_solver *sv, IQ1_QUANTIZE_ARGS) {
    const iq1_quant_tables *t = iq1_quant_tables_get();
    if (!t) return 1;
    const int64_t nblk = k / 32, gbytes = iq1_r4_group_bytes(k, IQ1M_R4_BLOCK_BYTES);
    float *scales = malloc(sizeof(float) * 8 * nblk); /* half scales until the row max is known */
    if (!scales) return 1;
    for (int64_t r = r0; r < r1; r += 4) {
        uint8_t *grp = w + (r / 4) * gbytes;
        float max_scale[4] = { 0, 0, 0, 0 };
        for (int64_t ib = 0; ib < nblk; ++ib) {
            uint8_t *blk = grp + 8 + ib * IQ1M_R4_BLOCK_BYTES;
            for (int row = 0; row < 4; ++row) {
                const float *xb = x + (r + row) * k + 32 * ib;
                const float *qw = imatrix ? imatrix + 32 * ib : 0;
                float sumx2 = 0.0f;
                for (int i = 0; i < 32; ++i) sumx2 += xb[i] * xb[i];
                /* a degenerate 32-block makes both halves degenerate: the per-half guards cover it */
                const float sigma2 = 1.5f * sumx2 / 32.0f;
                iq1m_block half[2];
                for (int hf = 0; hf < 2; ++hf)
                    half[hf] = sv->solve16_guarded(t, xb + 16 * hf, qw ? qw + 16 * hf : 0, sigma2, 0, 0.0f, 0);
                for (int hf = 0; hf < 2; ++hf) {
                    blk[4 * (2 * hf) + row] = (uint8_t)(half[hf].idx[0] & 255);
                    blk[4 * (2 * hf + 1) + row] = (uint8_t)(half[hf].idx[1] & 255);
                    blk[16 + 4 * hf + row] =
                        (uint8_t)((half[hf].idx[0] >> 8) | ((half[hf].idx[1] >> 8) << 4) | shift_mask[half[hf].k]);
                    scales[8 * ib + 2 * row + hf] = half[hf].scale;
                    if (half[hf].scale > max_scale[row]) max_scale[row] = half[hf].scale;
                }
            }
        }
        float fallback[4];
        for (int row = 0; row < 4; ++row) {
            fallback[row] = 1.0625f * max_scale[row] / 15.0f; /* the reference's row scale */
            const float inv = max_scale[row] > 0 ? 15.0f / max_scale[row] : 0.0f;
            for (int64_t ib = 0; ib < nblk; ++ib) {
                int ls[2];
                for (int hf = 0; hf < 2; ++hf) {
                    int l = iq1_nearest_int(scales[8 * ib + 2 * row + hf] * inv);
                    ls[hf] = l < 0 ? 0 : l > 15 ? 15 : l;
                }
                grp[8 + ib * IQ1M_R4_BLOCK_BYTES + 24 + row] = (uint8_t)(ls[0] | (ls[1] << 4));
            }
        }
        if (iq1_refit_r4_row_scales(iq1_dequantize_iq1_m_r4_generic, x + r * k, k, imatrix, grp, fallback)) {
            free(scales);
            return 1;
        }
    }
    free(scales);
    return 0;
}

int iq1_quantize_iq1_m_r4_generic(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_m_r4_with(&iq1_solver_generic, x, k, r0, r1, imatrix, w);
}
