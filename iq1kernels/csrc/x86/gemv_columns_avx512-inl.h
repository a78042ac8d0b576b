/* Re-included body: the AVX-512 columns GEMV of one format and variant, for passes of 3 to 8 columns
 * (IQ1_GEMV_COLUMNS_MIN .. IQ1_GEMV_PASS_COLS, core/kernel_plan.h).
 *   Expects  what gemv_rows_avx512-inl.h expects.
 *   Defines  iq1_gemv_columns_<format>_<variant> (static) and its helpers iq1_columns_block_/chunk_<format>_
 *            <variant>. Its own macros are #undef'd at the end.
 *
 * The AVX2 columns GEMV's design (gemv_columns_avx2-inl.h) on 512-bit vectors: the columns are in the
 * lanes. Per chunk of k the activations are copied so that one zmm holds group g (8 values) of eight
 * columns, [c0 | c1 | ... | c7], and each row's grid entry is broadcast straight from the table
 * (vpbroadcastq, one load) and multiplied with it: one vpmaddubsw serves a row and eight columns, and
 * vpmaddwd (vpdpwssd) with the row's slot scale leaves int32 [c0 c0 | c1 c1 | ... | c7 c7] for that row.
 *   IQ1_S / IQ1_S_R4: unsigned u = g + 1 times q; the delta by the bsums (the decoder's cc).
 *   IQ1_M / IQ1_M_R4: unsigned u = 8 (g + delta) + 9 (iq1_grid_v8u) times q, minus 9 sc times each 16
 *   values' activation sum (made in the copy), as the AVX2 kernel does.
 * The exact int32 per block, row and column is the other kernels', and so is the fp32 chain: one FMA per
 * block, y continued from the previous chunk. */

#if IQ1_DELTA_PER_32
#define IQ1_COLUMNS_GRID ((const char *)iq1_grid_unsigned)
#else
#define IQ1_COLUMNS_GRID ((const char *)iq1_grid_v8u)
#endif

/* One 128-block (j of the chunk) of the eight rows (p) against the chunk's columns: A[i] = int32 [c0 c0 |
 * ... | c7 c7] of row i. Each slot's activations stay in registers over the eight rows. Also runs the next
 * item's decoder, a part at a time. */
IQ1_INLINE IQ1_ATTR void IQ1_NAME(columns_block)(const iq1_quad2_avx512 *p, const iq1_columns_act_avx512 *xa, int64_t j,
                                                 __m512i A[8], const iq1_rows8_avx512 *next, int64_t next_b,
                                                 iq1_quad2_avx512 *np) {
    for (int i = 0; i < 8; ++i) A[i] = _mm512_setzero_si512();
#if IQ1_DELTA_PER_32
#pragma GCC unroll 4
    for (int s = 0; s < 4; ++s) {
        __m512i xs[4];
        for (int t = 0; t < 4; ++t) xs[t] = _mm512_load_si512(xa->x[j][4 * s + t]);
        for (int i = 0; i < 8; ++i) {
            /* u <= 2, |q| <= 128: four groups <= 4 * 512 a word */
            const __m512i p01 = _mm512_add_epi16(
                _mm512_maddubs_epi16(iq1_columns_entry_avx512(IQ1_COLUMNS_GRID, IQ1_QUAD_ROW_MAJOR, p, i, 4 * s),
                                     xs[0]),
                _mm512_maddubs_epi16(iq1_columns_entry_avx512(IQ1_COLUMNS_GRID, IQ1_QUAD_ROW_MAJOR, p, i, 4 * s + 1),
                                     xs[1]));
            const __m512i p23 = _mm512_add_epi16(
                _mm512_maddubs_epi16(iq1_columns_entry_avx512(IQ1_COLUMNS_GRID, IQ1_QUAD_ROW_MAJOR, p, i, 4 * s + 2),
                                     xs[2]),
                _mm512_maddubs_epi16(iq1_columns_entry_avx512(IQ1_COLUMNS_GRID, IQ1_QUAD_ROW_MAJOR, p, i, 4 * s + 3),
                                     xs[3]));
            A[i] = IQ1_NAME(scaled)(A[i], _mm512_add_epi16(p01, p23), iq1_columns_scale_avx512(p, s, i));
            if (!IQ1_VNNI) IQ1_IN_REGISTER(A[i]); /* else GCC re-associates and spills the plain chains */
        }
        IQ1_DECODE_QUAD2(next, next_b, 2 * s, np);
        IQ1_DECODE_QUAD2(next, next_b, 2 * s + 1, np);
    }
    const __m512i bs = _mm512_load_si512(xa->bs[j]);
    for (int i = 0; i < 8; ++i) {
        long long c4;
        memcpy(&c4, &p->q[i >> 2].cc[4 * (i & 3)], 8);
        A[i] = IQ1_NAME(scaled)(A[i], _mm512_set1_epi64(c4), bs);
    }
#else
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
        const __m512i x0 = _mm512_load_si512(xa->x[j][2 * s]), x1 = _mm512_load_si512(xa->x[j][2 * s + 1]);
        for (int i = 0; i < 8; ++i) {
            /* u = v + 9 <= 18: two groups <= 2 * 2 * 18 * 128 a word */
            const __m512i p01 = _mm512_add_epi16(
                _mm512_maddubs_epi16(iq1_columns_entry_avx512(IQ1_COLUMNS_GRID, IQ1_QUAD_ROW_MAJOR, p, i, 2 * s), x0),
                _mm512_maddubs_epi16(iq1_columns_entry_avx512(IQ1_COLUMNS_GRID, IQ1_QUAD_ROW_MAJOR, p, i, 2 * s + 1),
                                     x1));
            A[i] = IQ1_NAME(scaled)(A[i], p01, iq1_columns_scale_avx512(p, s, i));
            if (!IQ1_VNNI) IQ1_IN_REGISTER(A[i]);
        }
        IQ1_DECODE_QUAD2(next, next_b, s, np);
    }
    /* minus the +9: sum over the slots of sc * 9 * (the slot's activation sum) */
    int16_t cm[2][2][16] __attribute__((aligned(32))); /* [quad][half] */
    for (int h = 0; h < 2; ++h) iq1_quad_row_scales_avx2(&p->q[h], cm[h]);
    const __m512i s90 = _mm512_load_si512(xa->s9[j][0]), s91 = _mm512_load_si512(xa->s9[j][1]);
    for (int i = 0; i < 8; ++i) {
        long long c0, c1;
        memcpy(&c0, &cm[i >> 2][0][4 * (i & 3)], 8);
        memcpy(&c1, &cm[i >> 2][1][4 * (i & 3)], 8);
        const __m512i m = _mm512_add_epi32(_mm512_madd_epi16(_mm512_set1_epi64(c0), s90),
                                           _mm512_madd_epi16(_mm512_set1_epi64(c1), s91));
        A[i] = _mm512_sub_epi32(A[i], m);
    }
#endif
}

/* rows [r0, r1) x ncols (3..8) columns (y: the first column) over the chunk's nb blocks from b0. The
 * running fp32 sums of the item's rows are facc[i] (the eight columns of row i). */
IQ1_INLINE IQ1_ATTR void IQ1_NAME(columns_chunk)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1,
                                                 const iq1_columns_act_avx512 *xa, int64_t b0, int nb, int ncols,
                                                 float *y, int64_t ldy) {
    iq1_quad2_avx512 prep[2];
    float facc[8][8] __attribute__((aligned(32)));
    int64_t r = r0, j = 0;
    int cur = 0;
    iq1_rows8_avx512 rows, next_rows;
    iq1_rows8_start_avx512(&rows, IQ1_TYPE, w, k, r, r1 - 1, b0);
    for (int part = 0; part < 8; ++part) IQ1_DECODE_QUAD2(&rows, b0, part, &prep[0]);
    for (;;) {
        int64_t rn, jn;
        const int more = iq1_next_item8_avx512(IQ1_TYPE, w, k, r1, b0, nb, &rows, r, j, &rn, &jn, &next_rows);
        const int nr = (int)(r1 - r < 8 ? r1 - r : 8);
        if (j == 0)
            for (int i = 0; i < 8; ++i)
                for (int n = 0; n < 8; ++n) facc[i][n] = b0 > 0 && i < nr && n < ncols ? y[n * ldy + r + i] : 0.0f;
        const iq1_quad2_avx512 *p = &prep[cur];
        __m512i A[8];
        IQ1_NAME(columns_block)(p, xa, j, A, &next_rows, b0 + jn, &prep[cur ^ 1]);
        const __m256 d = _mm256_load_ps(xa->d[j]);
        for (int i = 0; i < 8; ++i)
            _mm256_store_ps(facc[i], _mm256_fmadd_ps(_mm256_cvtepi32_ps(iq1_pair_sums8_avx512(A[i])),
                                                     _mm256_mul_ps(_mm256_set1_ps(p->q[i >> 2].dw[i & 3]), d),
                                                     _mm256_load_ps(facc[i])));
        if (jn == 0)
            for (int n = 0; n < ncols; ++n)
                for (int i = 0; i < nr; ++i) y[n * ldy + r + i] = facc[i][n];
        if (!more) break;
        r = rn;
        j = jn;
        rows = next_rows;
        cur ^= 1;
    }
}

/* rows [r0, r1) x columns [c, c + ncols), 3 <= ncols <= 8, all of k in chunks */
static IQ1_ATTR void IQ1_NAME(gemv_columns)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x,
                                            int64_t c, int ncols, float *y, int64_t ldy) {
    iq1_columns_act_avx512 xa;
    const int64_t nbx = k / IQ1_QK_ACT;
    for (int64_t b0 = 0; b0 < nbx; b0 += IQ1_COLUMNS_CHUNK_BLOCKS_AVX512) {
        const int nb = (int)(nbx - b0 < IQ1_COLUMNS_CHUNK_BLOCKS_AVX512 ? nbx - b0 : IQ1_COLUMNS_CHUNK_BLOCKS_AVX512);
        IQ1_NAME3(columns_fill, IQ1_FORMAT, avx512)(x, c, ncols, b0, nb, IQ1_DELTA_PER_32 ? 4 : 16, &xa);
        IQ1_NAME(columns_chunk)(w, k, r0, r1, &xa, b0, nb, ncols, y + c * ldy, ldy);
    }
}

#undef IQ1_COLUMNS_GRID
