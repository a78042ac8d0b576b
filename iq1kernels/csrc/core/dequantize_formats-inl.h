/* Re-included body: the four dequantizers of one ISA, written once. They walk the formats' layouts (docs/FORMATS.md)
 * and hand every two groups of 8 values to the ISA's vector code.
 *   Expects  IQ1_VARIANT (the ISA: generic, avx2, avx512, neon) and a function
 *                two_groups(y, idx_a, idx_b, dl_a, dl_b, delta_a, delta_b)   y[0..7] = dl_a (g[idx_a] + delta_a), ...
 *            with the block multiplier dl formed first in fp32 (the reference's order, so every ISA is
 *            bit-identical).
 *   Defines  iq1_dequantize_<format>_<variant> for the four formats (the backend tables' entries). */

void IQ1_NAME3(dequantize, iq1_s, IQ1_VARIANT)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y) {
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

void IQ1_NAME3(dequantize, iq1_m, IQ1_VARIANT)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y) {
    const int64_t nb = k / IQ1_QK_K;
    for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = 0; i < nb; ++i) {
            const uint8_t *b = w + (r * nb + i) * IQ1M_BLOCK_BYTES, *qs = b, *qh = b + 32, *sc = b + 48;
            float *out = y + r * k + 256 * i;
            const float d = iq1_fp16_to_fp32(iq1m_scale_bits(sc));
            for (int j = 0; j < 16; ++j) {
                const float dl = d * (float)(2 * ((iq1_load_u16(sc + 2 * (j / 4)) >> (3 * (j % 4))) & 7) + 1);
                two_groups(out + 16 * j, qs[2 * j] | ((qh[j] & 7) << 8), qs[2 * j + 1] | (((qh[j] >> 4) & 7) << 8), dl,
                           dl, (qh[j] & 0x08) ? -0.125f : 0.125f, (qh[j] & 0x80) ? -0.125f : 0.125f);
            }
        }
}

void IQ1_NAME3(dequantize, iq1_s_r4, IQ1_VARIANT)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y) {
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

void IQ1_NAME3(dequantize, iq1_m_r4, IQ1_VARIANT)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y) {
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
                               qs[8 * hf + 4 + row] | (((h >> 4) & 7) << 8), dl, dl, (h & 0x08) ? -0.125f : 0.125f,
                               (h & 0x80) ? -0.125f : 0.125f);
                }
            }
        }
    }
}
