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

void iq1_dequantize_iq1_s_neon(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y) {
    const int64_t nb = k / IQ1_QK_K;
    for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = 0; i < nb; ++i) {
            const uint8_t *b = w + (r * nb + i) * IQ1S_BLOCK_BYTES;
            float *out = y + r * k + 256 * i;
            const float d = iq1_fp16_to_fp32(iq1_load_u16(b));
            for (int ib = 0; ib < 8; ++ib) {
                const uint16_t qh = iq1_load_u16(b + 34 + 2 * ib);
                const float dl = d * (float)(2 * ((qh >> 12) & 7) + 1), delta = (qh & 0x8000) ? -0.125f : 0.125f;
                for (int l = 0; l < 4; l += 2)
                    two_groups(out + 32 * ib + 8 * l, b[2 + 4 * ib + l] | (((qh >> (3 * l)) & 7) << 8),
                               b[3 + 4 * ib + l] | (((qh >> (3 * l + 3)) & 7) << 8), dl, dl, delta, delta);
            }
        }
}

void iq1_dequantize_iq1_m_neon(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y) {
    const int64_t nb = k / IQ1_QK_K;
    for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = 0; i < nb; ++i) {
            const uint8_t *b = w + (r * nb + i) * IQ1M_BLOCK_BYTES, *qs = b, *qh = b + 32, *sc = b + 48;
            float *out = y + r * k + 256 * i;
            const float d = iq1_fp16_to_fp32(iq1m_scale_bits(sc));
            for (int j = 0; j < 16; ++j) {
                const float dl = d * (float)(2 * ((iq1_load_u16(sc + 2 * (j / 4)) >> (3 * (j % 4))) & 7) + 1);
                two_groups(out + 16 * j, qs[2 * j] | ((qh[j] & 7) << 8), qs[2 * j + 1] | (((qh[j] >> 4) & 7) << 8),
                           dl, dl, (qh[j] & 0x08) ? -0.125f : 0.125f, (qh[j] & 0x80) ? -0.125f : 0.125f);
            }
        }
}

void iq1_dequantize_iq1_s_r4_neon(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y) {
    const int64_t gbytes = iq1_r4_group_bytes(k, IQ1S_R4_BLOCK_BYTES);
    for (int64_t r = r0; r < r1; r += 4) {
        const uint8_t *grp = w + (r / 4) * gbytes;
        for (int row = 0; row < 4; ++row) {
            const float d = iq1_fp16_to_fp32(iq1_load_u16(grp + 2 * row));
            float *out = y + (r + row) * k;
            for (int64_t ib = 0; ib < k / 32; ++ib) {
                const uint8_t *b = grp + 8 + ib * IQ1S_R4_BLOCK_BYTES;
                const uint16_t qh = iq1_load_u16(b + 16 + 2 * row);
                const float dl = d * (float)(2 * ((qh >> 12) & 7) + 1), delta = (qh & 0x8000) ? -0.125f : 0.125f;
                for (int l = 0; l < 4; l += 2)
                    two_groups(out + 32 * ib + 8 * l, b[4 * l + row] | (((qh >> (3 * l)) & 7) << 8),
                               b[4 * l + 4 + row] | (((qh >> (3 * l + 3)) & 7) << 8), dl, dl, delta, delta);
            }
        }
    }
}

void iq1_dequantize_iq1_m_r4_neon(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y) {
    const int64_t gbytes = iq1_r4_group_bytes(k, IQ1M_R4_BLOCK_BYTES);
    for (int64_t r = r0; r < r1; r += 4) {
        const uint8_t *grp = w + (r / 4) * gbytes;
        for (int row = 0; row < 4; ++row) {
            const float d = iq1_fp16_to_fp32(iq1_load_u16(grp + 2 * row));
            float *out = y + (r + row) * k;
            for (int64_t ib = 0; ib < k / 32; ++ib) {
                const uint8_t *b = grp + 8 + ib * IQ1M_R4_BLOCK_BYTES, *qs = b, *qh = b + 16, *sc = b + 24;
                for (int hf = 0; hf < 2; ++hf) {
                    const uint8_t h = qh[4 * hf + row];
                    const float dl = d * (float)((sc[row] >> (4 * hf)) & 15);
                    two_groups(out + 32 * ib + 16 * hf, qs[8 * hf + row] | ((h & 7) << 8),
                               qs[8 * hf + 4 + row] | (((h >> 4) & 7) << 8), dl, dl,
                               (h & 0x08) ? -0.125f : 0.125f, (h & 0x80) ? -0.125f : 0.125f);
                }
            }
        }
    }
}
#endif
