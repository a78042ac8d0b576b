/* Dequantization of the four IQ1 formats, portable C (FORMATS.md §1.2 - §1.5).
 * Evaluation order is the reference's: fp32 block multiplier first, then times (g + delta). */
#include "common.h"
#include "kernels_generic.h"

static inline float grid_value(int idx, int j) { return (float)(int8_t)(iq1_grid_signed[idx] >> (8 * j)); }

void iq1_dequantize_iq1_s_generic(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y) {
    const int64_t nb = k / IQ1_QK_K;
    for (int64_t r = r0; r < r1; ++r) {
        const uint8_t *row = w + r * nb * IQ1S_BLOCK_BYTES;
        float *out = y + r * k;
        for (int64_t i = 0; i < nb; ++i, out += IQ1_QK_K) {
            const uint8_t *b = row + i * IQ1S_BLOCK_BYTES;
            const float d = iq1_fp16_to_fp32(iq1_load_u16(b));
            for (int ib = 0; ib < 8; ++ib) {
                const uint16_t qh = iq1_load_u16(b + 34 + 2 * ib);
                const float dl = d * (float)(2 * ((qh >> 12) & 7) + 1);
                const float delta = (qh & 0x8000) ? -0.125f : 0.125f;
                for (int l = 0; l < 4; ++l) {
                    const int idx = b[2 + 4 * ib + l] | (((qh >> (3 * l)) & 7) << 8);
                    for (int j = 0; j < 8; ++j) out[32 * ib + 8 * l + j] = dl * (grid_value(idx, j) + delta);
                }
            }
        }
    }
}

void iq1_dequantize_iq1_m_generic(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y) {
    const int64_t nb = k / IQ1_QK_K;
    for (int64_t r = r0; r < r1; ++r) {
        const uint8_t *row = w + r * nb * IQ1M_BLOCK_BYTES;
        float *out = y + r * k;
        for (int64_t i = 0; i < nb; ++i, out += IQ1_QK_K) {
            const uint8_t *b = row + i * IQ1M_BLOCK_BYTES;
            const uint8_t *qs = b, *qh = b + 32, *sc = b + 48;
            const float d = iq1_fp16_to_fp32(iq1m_scale_bits(sc));
            for (int j = 0; j < 16; ++j) {
                const int ls = (iq1_load_u16(sc + 2 * (j / 4)) >> (3 * (j % 4))) & 7;
                const float dl = d * (float)(2 * ls + 1);
                for (int h = 0; h < 2; ++h) {
                    const int g = 2 * j + h;
                    const int idx = qs[g] | (((qh[j] >> (4 * h)) & 7) << 8);
                    const float delta = ((qh[j] >> (4 * h + 3)) & 1) ? -0.125f : 0.125f;
                    for (int t = 0; t < 8; ++t) out[8 * g + t] = dl * (grid_value(idx, t) + delta);
                }
            }
        }
    }
}

void iq1_dequantize_iq1_s_r4_generic(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y) {
    const int64_t gbytes = iq1_r4_group_bytes(k, IQ1S_R4_BLOCK_BYTES);
    for (int64_t r = r0; r < r1; r += 4) {
        const uint8_t *grp = w + (r / 4) * gbytes;
        for (int row = 0; row < 4; ++row) {
            const float d = iq1_fp16_to_fp32(iq1_load_u16(grp + 2 * row));
            float *out = y + (r + row) * k;
            for (int64_t ib = 0; ib < k / 32; ++ib) {
                const uint8_t *b = grp + 8 + ib * IQ1S_R4_BLOCK_BYTES;
                const uint16_t qh = iq1_load_u16(b + 16 + 2 * row);
                const float dl = d * (float)(2 * ((qh >> 12) & 7) + 1);
                const float delta = (qh & 0x8000) ? -0.125f : 0.125f;
                for (int l = 0; l < 4; ++l) {
                    const int idx = b[4 * l + row] | (((qh >> (3 * l)) & 7) << 8);
                    for (int t = 0; t < 8; ++t) out[32 * ib + 8 * l + t] = dl * (grid_value(idx, t) + delta);
                }
            }
        }
    }
}

void iq1_dequantize_iq1_m_r4_generic(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y) {
    const int64_t gbytes = iq1_r4_group_bytes(k, IQ1M_R4_BLOCK_BYTES);
    for (int64_t r = r0; r < r1; r += 4) {
        const uint8_t *grp = w + (r / 4) * gbytes;
        for (int row = 0; row < 4; ++row) {
            const float d = iq1_fp16_to_fp32(iq1_load_u16(grp + 2 * row));
            float *out = y + (r + row) * k;
            for (int64_t ib = 0; ib < k / 32; ++ib) {
                const uint8_t *b = grp + 8 + ib * IQ1M_R4_BLOCK_BYTES;
                const uint8_t *qs = b, *qh = b + 16, *sc = b + 24;
                for (int g = 0; g < 4; ++g) {
                    const int hf = g / 2, sh = 4 * (g % 2);
                    const float dl = d * (float)((sc[row] >> (4 * hf)) & 15);
                    const uint8_t h = qh[4 * hf + row];
                    const int idx = qs[4 * g + row] | (((h >> sh) & 7) << 8);
                    const float delta = ((h >> (sh + 3)) & 1) ? -0.125f : 0.125f;
                    for (int t = 0; t < 8; ++t) out[32 * ib + 8 * g + t] = dl * (grid_value(idx, t) + delta);
                }
            }
        }
    }
}
