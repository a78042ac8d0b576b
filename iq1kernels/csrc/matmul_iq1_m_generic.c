/* IQ1_M x Q8_K128 matmul, portable C. */
#include "matmul_generic.h"
#include "kernels_generic.h"

/* 128 columns = half b%2 of super-block b/2: eight 16-blocks, a delta per 8 values */
void iq1_decode128_iq1_m(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128], int sc[8], float *dw) {
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

void iq1_matmul_iq1_m_generic(IQ1_MATMUL_ARGS) {
    iq1_matmul_decoded_generic(iq1_decode128_iq1_m, w, k, r0, r1, x, c0, c1, y, ldy);
}
