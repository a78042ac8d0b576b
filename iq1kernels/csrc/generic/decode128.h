/* Decoders of the four formats to the common integer form used by every matmul kernel (see
 * matmul_generic.c): for row r and activation block b (128 columns) -> v[128] = 8(g + delta) int8,
 * sc[8] = integer scale per 16 values, dw = 0.125 * fp16 scale. Static inline so that each kernel
 * gets them inlined and specialised. */
#ifndef IQ1_DECODE128_H
#define IQ1_DECODE128_H
#include "common.h"

/* v = 8(g + delta) for the 8 values of grid entry idx with delta sign bit `neg` (table lookup) */
static inline void iq1_decode_group8(int idx, int neg, int8_t *v) { memcpy(v, &iq1_grid_v8[neg != 0][idx], 8); }

/* 128 columns = half b%2 of super-block b/2: four 32-blocks, one (scale, delta) each */
static inline void iq1_decode128_iq1_s(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128], int sc[8],
                                       float *dw) {
    const uint8_t *blk = w + (r * (k / IQ1_QK_K) + b / 2) * IQ1S_BLOCK_BYTES;
    *dw = 0.125f * iq1_fp16_to_fp32(iq1_load_u16(blk));
    for (int s = 0; s < 4; ++s) {
        const int ib = 4 * (int)(b % 2) + s;
        const uint16_t qh = iq1_load_u16(blk + 34 + 2 * ib);
        sc[2 * s] = sc[2 * s + 1] = 2 * ((qh >> 12) & 7) + 1;
        for (int l = 0; l < 4; ++l)
            iq1_decode_group8(blk[2 + 4 * ib + l] | (((qh >> (3 * l)) & 7) << 8), qh >> 15, v + 32 * s + 8 * l);
    }
}

/* 128 columns = half b%2 of super-block b/2: eight 16-blocks, a delta per 8 values */
static inline void iq1_decode128_iq1_m(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128], int sc[8],
                                       float *dw) {
    const uint8_t *blk = w + (r * (k / IQ1_QK_K) + b / 2) * IQ1M_BLOCK_BYTES;
    const uint8_t *qs = blk, *qh = blk + 32, *scales = blk + 48;
    *dw = 0.125f * iq1_fp16_to_fp32(iq1m_scale_bits(scales));
    for (int s = 0; s < 8; ++s) {
        const int j = 8 * (int)(b % 2) + s;
        sc[s] = 2 * ((iq1_load_u16(scales + 2 * (j / 4)) >> (3 * (j % 4))) & 7) + 1;
        for (int h = 0; h < 2; ++h)
            iq1_decode_group8(qs[2 * j + h] | (((qh[j] >> (4 * h)) & 7) << 8), (qh[j] >> (4 * h + 3)) & 1,
                              v + 16 * s + 8 * h);
    }
}

/* 128 columns of row r = four 32-blocks of its 4-row group, one (scale, delta) per row and block */
static inline void iq1_decode128_iq1_s_r4(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128], int sc[8],
                                          float *dw) {
    const uint8_t *grp = w + (r / 4) * iq1_r4_group_bytes(k, IQ1S_R4_BLOCK_BYTES);
    const int row = (int)(r % 4);
    *dw = 0.125f * iq1_fp16_to_fp32(iq1_load_u16(grp + 2 * row));
    for (int s = 0; s < 4; ++s) {
        const uint8_t *blk = grp + 8 + (4 * b + s) * IQ1S_R4_BLOCK_BYTES;
        const uint16_t qh = iq1_load_u16(blk + 16 + 2 * row);
        sc[2 * s] = sc[2 * s + 1] = 2 * ((qh >> 12) & 7) + 1;
        for (int l = 0; l < 4; ++l)
            iq1_decode_group8(blk[4 * l + row] | (((qh >> (3 * l)) & 7) << 8), qh >> 15, v + 32 * s + 8 * l);
    }
}

/* 128 columns of row r = four 32-blocks; each has two 16-halves with a linear 4-bit scale */
static inline void iq1_decode128_iq1_m_r4(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128], int sc[8],
                                          float *dw) {
    const uint8_t *grp = w + (r / 4) * iq1_r4_group_bytes(k, IQ1M_R4_BLOCK_BYTES);
    const int row = (int)(r % 4);
    *dw = 0.125f * iq1_fp16_to_fp32(iq1_load_u16(grp + 2 * row));
    for (int s = 0; s < 4; ++s) {
        const uint8_t *blk = grp + 8 + (4 * b + s) * IQ1M_R4_BLOCK_BYTES;
        const uint8_t *qs = blk, *qh = blk + 16, *scales = blk + 24;
        for (int g = 0; g < 4; ++g) {
            const int hf = g / 2, sh = 4 * (g % 2);
            const uint8_t h = qh[4 * hf + row];
            sc[2 * s + hf] = (scales[row] >> (4 * hf)) & 15;
            iq1_decode_group8(qs[4 * g + row] | (((h >> sh) & 7) << 8), (h >> (sh + 3)) & 1, v + 32 * s + 8 * g);
        }
    }
}

#endif
