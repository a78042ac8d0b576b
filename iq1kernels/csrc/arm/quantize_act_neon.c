/* Q8_K128 activation quantization, NEON: bit-identical to quantize_act_generic.c (same fp32 products;
 * vcvtnq rounds half to even); the rare NaN/Inf, zero and tiny blocks go through the generic block code.
 * float16 input is widened by vcvt_f32_f16 (fcvtl), bfloat16 by a 16-bit shift (shll): both exact, so each
 * block is quantized from the very float32 values the float32 entry point would see. */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <float.h>
#include "common.h"
#include "kernels_neon.h"

/* One block from its 128 values in v[32]. */
static inline void block(const float32x4_t v[32], float *d, int16_t *bsums, int8_t *qs) {
    float32x4_t mx = vdupq_n_f32(0.0f);
    uint32x4_t finite = vdupq_n_u32(0xffffffffu);
    for (int i = 0; i < 32; ++i) {
        const float32x4_t a = vabsq_f32(v[i]);
        finite = vandq_u32(finite, vcleq_f32(a, vdupq_n_f32(FLT_MAX))); /* false for NaN and Inf */
        mx = vmaxq_f32(mx, a);
    }
    const float amax = vmaxvq_f32(mx);
    if (vminvq_u32(finite) == 0 || amax == 0.0f || 127.0f / amax > FLT_MAX) {
        float x[IQ1_QK_ACT];
        for (int i = 0; i < 32; ++i) vst1q_f32(x + 4 * i, v[i]);
        iq1_quantize_act_block_generic(x, d, bsums, qs);
        return;
    }
    const float id = 127.0f / amax;
    *d = amax / 127.0f;
    for (int s = 0; s < 4; ++s) {
        int32x4_t sum = vdupq_n_s32(0);
        for (int t = 0; t < 8; t += 2) {
            const int32x4_t q0 = vcvtnq_s32_f32(vmulq_n_f32(v[8 * s + t], id));
            const int32x4_t q1 = vcvtnq_s32_f32(vmulq_n_f32(v[8 * s + t + 1], id));
            sum = vaddq_s32(sum, vaddq_s32(q0, q1));
            const int16x8_t q16 = vcombine_s16(vqmovn_s32(q0), vqmovn_s32(q1));
            vst1_s8(qs + 32 * s + 4 * t, vqmovn_s16(q16));
        }
        bsums[s] = (int16_t)vaddvq_s32(sum);
    }
}

static inline float32x4_t load_f32(const float *x) { return vld1q_f32(x); }
static inline float32x4_t load_f16(const uint16_t *x) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x))); }
static inline float32x4_t load_bf16(const uint16_t *x) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(x), 16)); }

#define ROW(NAME, T, LOAD)                                                        \
    void NAME(const T *x, int64_t k, float *d, int16_t *bsums, int8_t *qs) {      \
        for (int64_t b = 0; b < k / IQ1_QK_ACT; ++b) {                            \
            float32x4_t v[32];                                                    \
            for (int i = 0; i < 32; ++i) v[i] = LOAD(x + IQ1_QK_ACT * b + 4 * i); \
            block(v, d + b, bsums + 4 * b, qs + IQ1_QK_ACT * b);                  \
        }                                                                         \
    }
ROW(iq1_quantize_act_neon, float, load_f32)
ROW(iq1_quantize_act_f16_neon, uint16_t, load_f16)
ROW(iq1_quantize_act_bf16_neon, uint16_t, load_bf16)
#endif
