/* Dequantization of the four IQ1 formats, portable C (byte layouts: docs/FORMATS.md).
 * Evaluation order is the reference's: fp32 block multiplier first, then times (g + delta). */
#include "common.h"
#include "kernels_generic.h"

static inline void group8(float *y, int idx, float dl, float delta) {
    for (int j = 0; j < 8; ++j) y[j] = dl * ((float)(int8_t)(iq1_grid_signed[idx] >> (8 * j)) + delta);
}

static inline void two_groups(float *y, int a, int b, float dl_a, float dl_b, float da, float db) {
    group8(y, a, dl_a, da);
    group8(y + 8, b, dl_b, db);
}

/* iq1_dequantize_iq1_s_generic, iq1_dequantize_iq1_m_generic, iq1_dequantize_iq1_s_r4_generic,
 * iq1_dequantize_iq1_m_r4_generic */
#define IQ1_VARIANT generic
#include "dequantize_formats-inl.h"
#undef IQ1_VARIANT
