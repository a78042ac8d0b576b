/* IQ1_S_R4 x Q8_K128 matmul, portable C. */
#include "matmul_generic.h"
#include "kernels_generic.h"

/* 128 columns of row r = four 32-blocks of its 4-row group, one (scale, delta) per row and block */
void iq1_decode128_iq1_s_r4(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128], int sc[8], float *dw) {
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

void iq1_matmul_iq1_s_r4_generic(IQ1_MATMUL_ARGS) {
    iq1_matmul_decoded_generic(iq1_decode128_iq1_s_r4, w, k, r0, r1, x, c0, c1, y, ldy);
}
