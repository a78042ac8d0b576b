/* Q8_K128 activation quantization, portable C (docs/FORMATS.md), from float32 and from 16-bit floats. */
#include <float.h>
#include <math.h>
#include "common.h"
#include "kernels_generic.h"

void iq1_quantize_act_block_generic(const float *x, float *d, int16_t *bsums, int8_t *qs) {
    float amax = 0.0f;
    int finite = 1;
    for (int i = 0; i < IQ1_QK_ACT; ++i) {
        float a = fabsf(x[i]);
        finite &= (a <= FLT_MAX); /* false for Inf and NaN */
        amax = a > amax ? a : amax;
    }
    if (!finite || amax == 0.0f) {
        *d = finite ? 0.0f : iq1_bits_to_f32(0x7fc00000u);
        memset(qs, 0, IQ1_QK_ACT);
        memset(bsums, 0, 4 * sizeof(int16_t));
        return;
    }
    float pre = 1.0f, id = 127.0f / amax;
    if (id > FLT_MAX) {                /* tiny block: exact power-of-two prescale */
        pre = 18446744073709551616.0f; /* 2^64 */
        id = 127.0f / (amax * pre);
    }
    *d = amax / 127.0f;
    for (int s = 0; s < 4; ++s) {
        int sum = 0;
        for (int i = 32 * s; i < 32 * s + 32; ++i) {
            int q = iq1_nearest_int((x[i] * pre) * id);
            qs[i] = (int8_t)q;
            sum += q;
        }
        bsums[s] = (int16_t)sum;
    }
}

void iq1_quantize_act_generic(const float *x, int64_t k, float *d, int16_t *bsums, int8_t *qs) {
    for (int64_t b = 0; b < k / IQ1_QK_ACT; ++b)
        iq1_quantize_act_block_generic(x + IQ1_QK_ACT * b, d + b, bsums + 4 * b, qs + IQ1_QK_ACT * b);
}

/* 16-bit floats: each 128-block is widened to float32 (exactly) and quantized by the float32 block code. */
#define HALF_ROW(NAME, TO_F32)                                                            \
    void NAME(const uint16_t *x, int64_t k, float *d, int16_t *bsums, int8_t *qs) {       \
        float v[IQ1_QK_ACT];                                                              \
        for (int64_t b = 0; b < k / IQ1_QK_ACT; ++b) {                                    \
            for (int i = 0; i < IQ1_QK_ACT; ++i) v[i] = TO_F32(x[IQ1_QK_ACT * b + i]);    \
            iq1_quantize_act_block_generic(v, d + b, bsums + 4 * b, qs + IQ1_QK_ACT * b); \
        }                                                                                 \
    }
HALF_ROW(iq1_quantize_act_f16_generic, iq1_fp16_to_fp32)
HALF_ROW(iq1_quantize_act_bf16_generic, iq1_bf16_to_fp32)
