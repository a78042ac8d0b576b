/* IQ1_S x Q8_K128 matmul, portable C. */
#include "matmul_generic.h"
#include "kernels_generic.h"

/* 128 columns = half b%2 of super-block b/2: four 32-blocks, one (scale, delta) each */
void iq1_decode128_iq1_s(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128], int sc[8], float *dw) {
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

void iq1_matmul_iq1_s_generic(IQ1_MATMUL_ARGS) {
    iq1_matmul_decoded_generic(iq1_decode128_iq1_s, w, k, r0, r1, x, c0, c1, y, ldy);
}
