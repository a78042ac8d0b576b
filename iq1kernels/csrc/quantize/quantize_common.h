/* Weight quantization machinery shared by the four IQ1 quantizers (docs/QUANTIZATION.md, "Algorithm").
 *
 * Levels: a grid digit L in {0, 1, 2} stands for g = L - 1; with delta d = +-1/8 the reconstructed value
 * is scale * (L - 1 + d). A group of 8 digits is the 16-bit code sum(L_j << 2j); `kmap` maps on-grid codes
 * to their grid index and off-grid codes to a list of nearest grid neighbours.
 *
 * Scale invariance: the block solvers work on x / max|x| and on importance / max(importance) of the
 * block, so that neither large nor tiny weights or importances (1e-21 ... 3e38) can overflow or underflow
 * the fp32 sums of the split search; the resulting block scale is multiplied back by max|x|. */
#ifndef IQ1_QUANTIZE_COMMON_H
#define IQ1_QUANTIZE_COMMON_H
#include <math.h>
#include <stdint.h>
#include "iq1.h"

#define IQ1_KMAP_SIZE 43692  /* codes 0 .. 0xAAAA */
#define IQ1_ZERO_INDEX 1029  /* the only all-zero grid vector */
#define IQ1_EPS_SUMSQ 1e-14f /* blocks (or halves) with sum x^2 or sum w|x| below: degenerate */

typedef struct {
    int32_t kmap[IQ1_KMAP_SIZE]; /* >= 0: grid index; < 0: -(offset + 1) into neighbours */
    uint16_t *neighbours;        /* [count, idx_1 .. idx_count] per off-grid reachable code */
    uint16_t *codes;             /* same offsets: [-, code of idx_1 .. code of idx_count] (+ 16 pad) */
} iq1_quant_tables;

/* Built once, on first use, thread-safely; NULL only if memory ran out. */
const iq1_quant_tables *iq1_quant_tables_get(void);

/* Level triple {-1 + d, d, 1 + d} for delta sign s (+1 -> d = +1/8, -1 -> d = -1/8). */
static inline void iq1_levels(int s, float lev[3]) {
    const float d = s > 0 ? 0.125f : -0.125f;
    lev[0] = -1.0f + d;
    lev[1] = d;
    lev[2] = 1.0f + d;
}

/* Level value of digit L for group delta sign s. */
static inline float iq1_level(int L, int s) { return (float)(L - 1) + (s > 0 ? 0.125f : -0.125f); }

/* The block solvers (quantize_solve-inl.h, one instance per ISA; quantize_search.h has their table).
 *
 * IQ1_S / IQ1_S_R4 solver for 32 values: scale >= 0, delta sign, 4 grid indices, on normalised
 * values |x| <= 1 and weights 0 <= w <= 1; no candidate (all weights zero, or fp32 underflow) makes the
 * guarded form below fall back. */
typedef struct {
    float scale;
    int shift;
    uint16_t idx[4];
} iq1s_block;

/* solve32_guarded: the IQ1_S solver made total, on raw values: sum x^2 < 1e-14 -> the zero grid vector
 * (index 1029, scale 0, shift +); otherwise x and the importance qw (NULL = none) are normalised by their block maxima,
 * w = qw * sqrt(sigma2 + x^2) (sigma2 the caller's, in raw units; a sigma2 too large for fp32 relative to
 * the block means uniform weights, its exact limit); if sum w|x| < 1e-14 or no candidate: default weights
 * sqrt(sigma2 + x^2), then uniform weights, then the zero vector. The scale is in raw units (<= FLT_MAX). */

/* IQ1_M / IQ1_M_R4 solver for 16 values = 2 groups of 8 with their own delta.
 * k = shift combination: bit 1 = group 0 negative, bit 0 = group 1 negative. Same input expectations
 * as the IQ1_S solver. */
typedef struct {
    float scale;
    int k;
    uint16_t idx[2];
    int8_t L[16];
} iq1m_block;

/* solve16_guarded: the IQ1_M solver made total, on raw values (the R4 guards for one 16-block):
 *   max|x| < amax_eps or sum x^2 < 1e-14 -> zero block (index 1029 twice, scale 0, shift bits clear);
 *   default weights: x^2 (`x2_default`, IQ1_M) or sqrt(sigma2 + x^2) (IQ1_M_R4), on normalised x;
 *   with an importance qw: (qw / max qw) * sqrt(sigma2 + x^2), dropped when sum_{i >= first} w|x| < 1e-14
 *   (`first` = 1 reproduces IQ1_M's exclusion of element 0);
 *   no candidate -> default weights -> uniform weights -> zero block. Scale in raw units (<= FLT_MAX). */

/* Least-squares refit of the 4 row scales of a finished R4 group: decode it with d = 1 (`dequantize`)
 * to get the reconstruction levels q, then d[r] = sum(w q x) / sum(w q^2) with w = importance or 1
 * (both normalised by their maxima, so the sums cannot overflow); `fallback[r]` where that is not
 * positive. Returns non-zero only when memory ran out. */
int iq1_refit_r4_row_scales(iq1_dequantize_fn dequantize, const float *x, int64_t k, const float *imatrix, uint8_t *grp,
                            const float fallback[4]);

/* max |x[i]| over n values (for a non-negative importance vector: its maximum). */
static inline float iq1_abs_max(const float *x, int64_t n) {
    float m = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
        const float a = fabsf(x[i]);
        if (a > m) m = a;
    }
    return m;
}

/* a scale found on normalised values back in raw units, clamped to FLT_MAX */
static inline float iq1_raw_scale(float scale_n, float amax) {
    const float s = scale_n * amax;
    return s <= 3.40282347e38f ? s : 3.40282347e38f;
}

/* fp32 -> fp16 for a quantizer scale: saturates at 65504 (also for +Inf) so that weights too large for the
 * format's fp16 scale give the largest representable values instead of Inf / NaN on decode. */
uint16_t iq1_scale_to_fp16(float s);

#endif
