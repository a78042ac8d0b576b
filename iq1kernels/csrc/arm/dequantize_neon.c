/* Dequantization of the four formats, NEON: 8 values (one group) per two vectors, the same fp32
 * operations as dequantize_generic.c (block multiplier first, then times (g + delta)): bit-identical. */
#if defined(__aarch64__)
#include <arm_neon.h>
#include "common.h"
#include "kernels_neon.h"

/* y[0..7] = dl * (grid[idx] + delta) */
static inline void group8(float *y, int idx, float dl, float delta) {
    const int16x8_t g = vmovl_s8(vreinterpret_s8_u64(vcreate_u64(iq1_grid_signed[idx])));
    const float32x4_t lo = vcvtq_f32_s32(vmovl_s16(vget_low_s16(g))), hi = vcvtq_f32_s32(vmovl_high_s16(g));
    const float32x4_t dv = vdupq_n_f32(delta);
    vst1q_f32(y, vmulq_n_f32(vaddq_f32(lo, dv), dl));
    vst1q_f32(y + 4, vmulq_n_f32(vaddq_f32(hi, dv), dl));
}

/* y[0..15] = two groups */
static inline void two_groups(float *y, int a, int b, float dl_a, float dl_b, float da, float db) {
    group8(y, a, dl_a, da);
    group8(y + 8, b, dl_b, db);
}

/* iq1_dequantize_iq1_s_neon, iq1_dequantize_iq1_m_neon, iq1_dequantize_iq1_s_r4_neon, iq1_dequantize_iq1_m_r4_neon */
#define IQ1_VARIANT neon
#include "dequantize_formats-inl.h"
#undef IQ1_VARIANT
#endif
