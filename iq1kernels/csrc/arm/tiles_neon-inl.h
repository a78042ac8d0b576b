/* Re-included body: the NEON tiled matmul of one format and variant, for every column count (GEMV and GEMM
 * alike), once per variant: plain NEON (vmull_s8 + pairwise widening adds) and dotprod (Armv8.2 sdot, vdotq_s32).
 *   Expects  IQ1_FORMAT (iq1_s), IQ1_VARIANT (neon or neon_dotprod), IQ1_DOTPROD (0 or 1), IQ1_ATTR (the
 *            variant's target attribute) and IQ1_DECODE128 (the format's decoder, decode128.h).
 *   Defines  iq1_tiles_<format>_<variant> (static: the whole matmul) and its helpers iq1_dot16_/tiles_decode_/
 *            tile_<format>_<variant>.
 *
 * Per strip of up to 4 rows and 16 activation blocks, each row's blocks are decoded once (decode128.h:
 * v = 8(g+delta) int8, an integer scale per 16 values, fp32 dw); then for every column each 16-value
 * group gives an exact int32x4 dot (signed x signed: no offset needed on NEON), multiplied by its scale
 * and summed over the block, and one fp32 FMA per block with dw * d_x accumulates. */

IQ1_INLINE IQ1_ATTR int32x4_t IQ1_NAME(dot16)(int8x16_t v, int8x16_t q) {
#if IQ1_DOTPROD
    return vdotq_s32(vdupq_n_s32(0), v, q);
#else
    const int16x8_t lo = vmull_s8(vget_low_s8(v), vget_low_s8(q)); /* |9 * 127| fits int16 */
    const int16x8_t hi = vmull_high_s8(v, q);
    return vpadalq_s16(vpaddlq_s16(lo), hi);
#endif
}

static IQ1_ATTR void IQ1_NAME(tiles_decode)(const uint8_t *w, int64_t k, int64_t r, int nr, int64_t b0, int nb,
                                            iq1_strip_neon *st) {
    for (int i = 0; i < nr; ++i)
        for (int j = 0; j < nb; ++j)
            IQ1_DECODE128(w, k, r + i, b0 + j, st->v[i] + 128 * j, st->sc[i] + 8 * j, &st->dw[i][j]);
}

IQ1_INLINE IQ1_ATTR void IQ1_NAME(tile)(const iq1_strip_neon *st, int i0, int NR, int NC, int nb, int64_t b0,
                                        const iq1_act *x, int64_t c, int64_t r, float *y, int64_t ldy, int first) {
    const int64_t k = x->k, nbx = k / 128;
    float32x4_t acc[4][2];
    for (int i = 0; i < NR; ++i)
        for (int n = 0; n < NC; ++n) acc[i][n] = vdupq_n_f32(0.0f);
    for (int j = 0; j < nb; ++j) {
        const int8_t *qs[2];
        float dx[2];
        for (int n = 0; n < NC; ++n) {
            qs[n] = x->qs + (c + n) * k + (b0 + j) * 128;
            dx[n] = x->d[(c + n) * nbx + b0 + j];
        }
        for (int i = 0; i < NR; ++i) {
            const int row = i0 + i;
            const int8_t *v = st->v[row] + 128 * j;
            const int32_t *sc = st->sc[row] + 8 * j;
            for (int n = 0; n < NC; ++n) {
                int32x4_t isum = vdupq_n_s32(0);
                for (int g = 0; g < 8; ++g)
                    isum = vmlaq_n_s32(isum, IQ1_NAME(dot16)(vld1q_s8(v + 16 * g), vld1q_s8(qs[n] + 16 * g)), sc[g]);
                acc[i][n] = vfmaq_n_f32(acc[i][n], vcvtq_f32_s32(isum), st->dw[row][j] * dx[n]);
            }
        }
    }
    for (int i = 0; i < NR; ++i)
        for (int n = 0; n < NC; ++n) {
            const float s = vaddvq_f32(acc[i][n]);
            float *dst = y + (c + n) * ldy + r + i0 + i;
            *dst = first ? s : *dst + s;
        }
}

static IQ1_ATTR void IQ1_NAME(tiles)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x, int64_t c0,
                                     int64_t c1, float *y, int64_t ldy) {
    iq1_strip_neon st;
    const int64_t nbk = k / 128;
    for (int64_t r = r0; r < r1; r += 4) {
        const int nr = (int)(r1 - r < 4 ? r1 - r : 4);
        for (int64_t b0 = 0; b0 < nbk; b0 += IQ1_TILES_BLOCKS_NEON) {
            const int nb = (int)(nbk - b0 < IQ1_TILES_BLOCKS_NEON ? nbk - b0 : IQ1_TILES_BLOCKS_NEON);
            IQ1_NAME(tiles_decode)(w, k, r, nr, b0, nb, &st);
            if (nr == 4) {
                int64_t c = c0;
                for (; c + 2 <= c1; c += 2) IQ1_NAME(tile)(&st, 0, 4, 2, nb, b0, x, c, r, y, ldy, b0 == 0);
                for (; c < c1; ++c) IQ1_NAME(tile)(&st, 0, 4, 1, nb, b0, x, c, r, y, ldy, b0 == 0);
            } else { /* the last 1..3 rows of a non-R4 matrix */
                for (int i = 0; i < nr; ++i)
                    for (int64_t c = c0; c < c1; ++c) IQ1_NAME(tile)(&st, i, 1, 1, nb, b0, x, c, r, y, ldy, b0 == 0);
            }
        }
    }
}
