/* float rows -> IQ1_M (docs/QUANTIZATION.md: the prefix-sum search of current ggml; the super-scale refit is done with
 * the importance (imatrix) or uniform weights and without the 1.085 fudge, which lowers the relative RMSE
 * on normal data from 0.566 to 0.478), with the R4 guards applied (solve16_guarded):
 * 16-blocks with max|x| < 1e-7 or sum x^2 < 1e-14 are stored as the zero grid vector (index 1029, shifts
 * cleared: "shift = 0 for skipped blocks"); vanishing importance -> x^2 weights -> uniform weights. */
#include <math.h>
#include "common.h"
#include "kernels_generic.h"
#include "quantize_search.h"

static const uint8_t shift_mask[4] = { 0x00, 0x80, 0x08, 0x88 };

static void quantize_superblock(const iq1_solver *sv, const iq1_quant_tables *t, const float *x, const float *qw,
                                uint8_t *blk) {
    float sigma2[8];
    for (int b = 0; b < 8; ++b) {
        float s = 0.0f;
        for (int i = 32 * b; i < 32 * b + 32; ++i) s += x[i] * x[i];
        sigma2[b] = 1.5f * s / 32.0f;
    }
    iq1m_block res[16];
    float max_scale = 0.0f;
    for (int j = 0; j < 16; ++j) {
        /* x^2 default weights; element 0 excluded from the importance check, as the reference */
        res[j] = sv->solve16_guarded(t, x + 16 * j, qw ? qw + 16 * j : 0, sigma2[j / 2], 1, 1e-7f, 1);
        if (res[j].scale > max_scale) max_scale = res[j].scale;
    }
    memset(blk, 0, IQ1M_BLOCK_BYTES);
    if (max_scale == 0.0f) return; /* all zero bytes: decodes to zeros */
    uint8_t *qs = blk, *qh = blk + 32;
    uint16_t sc[4] = { 0, 0, 0, 0 };
    int ls[16];
    const float id = 15.0f / max_scale;
    for (int j = 0; j < 16; ++j) {
        qs[2 * j] = (uint8_t)(res[j].idx[0] & 255);
        qs[2 * j + 1] = (uint8_t)(res[j].idx[1] & 255);
        qh[j] = (uint8_t)((res[j].idx[0] >> 8) | ((res[j].idx[1] >> 8) << 4) | shift_mask[res[j].k]);
        int l = iq1_nearest_int(0.5f * (id * res[j].scale - 1.0f));
        ls[j] = l < 0 ? 0 : l > 7 ? 7 : l;
        sc[j / 4] |= (uint16_t)(ls[j] << (3 * (j % 4)));
    }
    /* refit the super-scale over all 256 values with the final digits, shifts and block scales, weighted
     * by the importance (the error the user measures) or uniformly; normalised sums stay finite */
    const float amax = iq1_abs_max(x, 256), qmax = qw ? iq1_abs_max(qw, 256) : 0.0f;
    float sumqx = 0.0f, sumq2 = 0.0f;
    for (int j = 0; j < 16; ++j) {
        for (int i = 0; i < 16; ++i) {
            const int neg = (res[j].k >> (1 - (i >= 8))) & 1;
            const float q = iq1_level(res[j].L[i], neg ? -1 : 1) * (float)(2 * ls[j] + 1);
            const float wi = qmax > 0 ? qw[16 * j + i] / qmax : 1.0f;
            sumqx += wi * q * (x[16 * j + i] / amax);
            sumq2 += wi * q * q;
        }
    }
    /* least-squares refit; the reference's fixed 1.085 fudge only where no refit is possible */
    const float dsb = (sumq2 > 0 && sumqx > 0) ? (sumqx / sumq2) * amax : 1.085f * max_scale / 15.0f;
    const uint16_t d = iq1_scale_to_fp16(dsb);
    for (int j = 0; j < 4; ++j) sc[j] |= (uint16_t)(((d >> (4 * j)) & 0xf) << 12);
    memcpy(blk + 48, sc, 8);
}

int iq1_quantize_iq1_m_with(const iq1_solver *sv, IQ1_QUANTIZE_ARGS) {
    const iq1_quant_tables *t = iq1_quant_tables_get();
    if (!t) return 1;
    const int64_t nb = k / IQ1_QK_K;
    for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = 0; i < nb; ++i)
            quantize_superblock(sv, t, x + r * k + 256 * i, imatrix ? imatrix + 256 * i : 0,
                                w + (r * nb + i) * IQ1M_BLOCK_BYTES);
    return 0;
}

int iq1_quantize_iq1_m_generic(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_m_with(&iq1_solver_generic, x, k, r0, r1, imatrix, w);
}
