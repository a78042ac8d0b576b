/* IQ1_M_R4 x Q8_K128 matmul, portable C. */
#include "matmul_generic.h"
#include "kernels_generic.h"

/* 128 columns of row r = four 32-blocks; each has two 16-halves with a linear 4-bit scale */
void iq1_decode128_iq1_m_r4(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128], int sc[8], float *dw) {
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

void iq1_matmul_iq1_m_r4_generic(IQ1_MATMUL_ARGS) {
    iq1_matmul_decoded_generic(iq1_decode128_iq1_m_r4, w, k, r0, r1, x, c0, c1, y, ldy);
}
