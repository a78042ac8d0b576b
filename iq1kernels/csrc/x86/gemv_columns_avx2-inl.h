/* Re-included body: the AVX2 columns GEMV of one format, for passes of 3 to 8 columns (IQ1_GEMV_COLUMNS_MIN ..
 * IQ1_GEMV_PASS_COLS, core/kernel_plan.h).
 *   Expects  what gemv_rows_avx2-inl.h expects, and that body included before (its row walk,
 *            iq1_next_item_<format>_avx2).
 *   Defines  iq1_gemv_columns_<format>_avx2 (static) and its helpers iq1_columns_act_<format>_avx2 (the
 *            activation copy), iq1_columns_fill_/entry_/block_/chunk_<format>_avx2. Its own macros are #undef'd.
 *
 * Columns in the lanes: one ymm holds group g (8 values) of four columns' activations, [c0 | c1 || c2 |
 * c3], from a copy of the activations interleaved so per chunk of k (iq1_columns_act_<format>_avx2, on the
 * stack), and is multiplied with one row's grid entry, broadcast straight from the grid table (vpbroadcastq: a
 * lookup is one load). vpmaddubsw then vpmaddwd with the row's slot scale leave int32 [c0 c0 c1 c1 | c2 c2 c3
 * c3] for that row. The rows-in-lanes GEMV instead pays, per four rows and per column, one activation
 * broadcast for every group; beyond two columns those loads bound it, while here a group's activations are loaded
 * once per row quad for four columns.
 *   IQ1_S / IQ1_S_R4: unsigned grid u = g + 1 times the signed q; the delta by the bsums (iq1_quad_avx2.cc).
 *   IQ1_M / IQ1_M_R4: unsigned u = 8 (g + delta) + 9 (iq1_grid_v8u, same offsets as iq1_grid_v8) times
 *   q, minus 9 sc times each 16 values' activation sum (made in the copy): no vpsignb per column, which
 *   the signed v with the sign trick needs (slower: docs/PERFORMANCE.md, Kernel design measurements, "columns GEMV").
 * The exact int32 per block, row and column is the same as the other kernels', and so is the fp32
 * chain: one FMA per block, y continued from the previous chunk, so the columns do not depend on how
 * many share a call. */

typedef struct {
    int8_t x[2][IQ1_COLUMNS_CHUNK_BLOCKS_AVX2][16][32]; /* [quad][block][group]: the 8 values of each of 4 columns */
#if IQ1_DELTA_PER_32
    int16_t bs[2][IQ1_COLUMNS_CHUNK_BLOCKS_AVX2][16]; /* [quad][block]: the four 32-block sums of each column    */
#else
    int16_t s9[2][IQ1_COLUMNS_CHUNK_BLOCKS_AVX2][2][16]; /* [quad][block][slots 0-3, 4-7]: 9 x the 16-value sums    */
#endif
    float d[2][IQ1_COLUMNS_CHUNK_BLOCKS_AVX2][4]; /* [quad][block]: the columns' block scales                */
} __attribute__((aligned(32))) IQ1_NAME(columns_act);

/* columns [c, c + ncols) of blocks [b0, b0 + nb) into xa; the lanes of missing columns are zero */
static void IQ1_NAME(columns_fill)(const iq1_act *x, int64_t c, int ncols, int64_t b0, int nb,
                                   IQ1_NAME(columns_act) * xa) {
    const int64_t k = x->k, nbx = k / IQ1_QK_ACT;
    if (ncols % 4) { /* the last quad has missing columns */
        const int h = ncols / 4;
        memset(xa->x[h], 0, sizeof xa->x[h]);
#if IQ1_DELTA_PER_32
        memset(xa->bs[h], 0, sizeof xa->bs[h]);
#else
        memset(xa->s9[h], 0, sizeof xa->s9[h]);
#endif
        memset(xa->d[h], 0, sizeof xa->d[h]);
    }
    for (int col = 0; col < ncols; ++col) {
        const int h = col / 4, n = col % 4;
        for (int j = 0; j < nb; ++j) {
            const int64_t b = b0 + j;
            const int8_t *q = x->qs + (c + col) * k + b * IQ1_QK_ACT;
            for (int g = 0; g < 16; ++g) memcpy(xa->x[h][j][g] + 8 * n, q + 8 * g, 8);
#if IQ1_DELTA_PER_32
            memcpy(xa->bs[h][j] + 4 * n, x->bsums + (c + col) * (k / 32) + 4 * b, 8);
#else
            iq1_slot_nines_avx2(q, &xa->s9[h][j][0][4 * n], 16);
#endif
            xa->d[h][j][n] = x->d[(c + col) * nbx + b];
        }
    }
}

/* row i's grid entry of group g, in all four lanes: u = g + 1 (S types) or 8 (g + delta) + 9 (M types) */
#if IQ1_DELTA_PER_32
#define IQ1_COLUMNS_GRID ((const char *)iq1_grid_unsigned)
#else
#define IQ1_COLUMNS_GRID ((const char *)iq1_grid_v8u)
#endif
IQ1_INLINE __m256i IQ1_NAME(columns_entry)(const iq1_quad_avx2 *p, int i, int g) {
    long long v;
    memcpy(&v, IQ1_COLUMNS_GRID + iq1_quad_offset_avx2(p, IQ1_QUAD_ROW_MAJOR, i, g), 8);
    return _mm256_set1_epi64x(v);
}

/* One 128-block (j of the chunk) of the four rows (p) against NQ column quads: A[h][i] = int32 [c0 c0 c1
 * c1 | c2 c2 c3 c3] of row i and quad h. Each grid entry is loaded once for all quads; the slot's
 * activations stay in registers over the four rows. Also runs the next block's decoder, a part at a time. */
IQ1_INLINE void IQ1_NAME(columns_block)(const int NQ, const iq1_quad_avx2 *p, const IQ1_NAME(columns_act) * xa,
                                        int64_t j, __m256i A[2][4], const iq1_rows4_avx2 *next, int64_t next_b,
                                        iq1_quad_avx2 *np) {
    for (int h = 0; h < NQ; ++h)
        for (int i = 0; i < 4; ++i) A[h][i] = _mm256_setzero_si256();
#if IQ1_DELTA_PER_32
#pragma GCC unroll 4
    for (int s = 0; s < 4; ++s) {
        __m256i x[2][4];
        for (int h = 0; h < NQ; ++h)
            for (int t = 0; t < 4; ++t) x[h][t] = _mm256_load_si256((const __m256i *)xa->x[h][j][4 * s + t]);
        for (int i = 0; i < 4; ++i) {
            __m256i u[4];
            for (int t = 0; t < 4; ++t) u[t] = IQ1_NAME(columns_entry)(p, i, 4 * s + t);
            const __m256i sc = iq1_columns_scale_avx2(p, s, i);
            for (int h = 0; h < NQ; ++h) {
                /* u <= 2, |q| <= 127: four groups <= 4 * 508 a word */
                const __m256i p01 =
                    _mm256_add_epi16(_mm256_maddubs_epi16(u[0], x[h][0]), _mm256_maddubs_epi16(u[1], x[h][1]));
                const __m256i p23 =
                    _mm256_add_epi16(_mm256_maddubs_epi16(u[2], x[h][2]), _mm256_maddubs_epi16(u[3], x[h][3]));
                A[h][i] = _mm256_add_epi32(A[h][i], _mm256_madd_epi16(_mm256_add_epi16(p01, p23), sc));
                if (NQ == 1)
                    IQ1_IN_REGISTER(A[h][i]); /* at 8 columns the eight x fill the registers: only
                                                          * for one quad ("accumulator spills") */
            }
        }
        IQ1_DECODE_QUAD(next, next_b, s, np);
    }
    for (int h = 0; h < NQ; ++h) {
        const __m256i bs = _mm256_load_si256((const __m256i *)xa->bs[h][j]);
        for (int i = 0; i < 4; ++i) {
            long long c4;
            memcpy(&c4, &p->cc[4 * i], 8);
            A[h][i] = _mm256_add_epi32(A[h][i], _mm256_madd_epi16(_mm256_set1_epi64x(c4), bs));
        }
    }
#else
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
        __m256i x[2][2];
        for (int h = 0; h < NQ; ++h)
            for (int t = 0; t < 2; ++t) x[h][t] = _mm256_load_si256((const __m256i *)xa->x[h][j][2 * s + t]);
        for (int i = 0; i < 4; ++i) {
            const __m256i u0 = IQ1_NAME(columns_entry)(p, i, 2 * s), u1 = IQ1_NAME(columns_entry)(p, i, 2 * s + 1);
            const __m256i sc = iq1_columns_scale_avx2(p, s, i);
            for (int h = 0; h < NQ; ++h) {
                /* u = v + 9 <= 18: two groups <= 2 * 2 * 18 * 127 a word */
                const __m256i p01 =
                    _mm256_add_epi16(_mm256_maddubs_epi16(u0, x[h][0]), _mm256_maddubs_epi16(u1, x[h][1]));
                A[h][i] = _mm256_add_epi32(A[h][i], _mm256_madd_epi16(p01, sc));
                IQ1_IN_REGISTER(A[h][i]); /* else spilled ("accumulator spills") */
            }
        }
        if (s & 1) IQ1_DECODE_QUAD(next, next_b, s / 2, np);
    }
    /* minus the +9: sum over the slots of sc * 9 * (the slot's activation sum) */
    int16_t cm[2][16] __attribute__((aligned(32)));
    iq1_quad_row_scales_avx2(p, cm);
    for (int i = 0; i < 4; ++i) {
        long long c0, c1;
        memcpy(&c0, &cm[0][4 * i], 8);
        memcpy(&c1, &cm[1][4 * i], 8);
        for (int h = 0; h < NQ; ++h) {
            const __m256i m = _mm256_add_epi32(
                _mm256_madd_epi16(_mm256_set1_epi64x(c0), _mm256_load_si256((const __m256i *)xa->s9[h][j][0])),
                _mm256_madd_epi16(_mm256_set1_epi64x(c1), _mm256_load_si256((const __m256i *)xa->s9[h][j][1])));
            A[h][i] = _mm256_sub_epi32(A[h][i], m);
        }
    }
#endif
}

/* rows [r0, r1) x ncols (<= 4 NQ) columns (y: the first column) over the chunk's nb blocks from b0 */
IQ1_INLINE void IQ1_NAME(columns_chunk)(const int NQ, const uint8_t *w, int64_t k, int64_t r0, int64_t r1,
                                        const IQ1_NAME(columns_act) * xa, int64_t b0, int nb, int ncols, float *y,
                                        int64_t ldy) {
    iq1_quad_avx2 prep[2];
    float facc[2][4][4] __attribute__((aligned(16)));
    int64_t r = r0, j = 0;
    int cur = 0;
    iq1_rows4_avx2 rows, next_rows;
    iq1_rows4_start_avx2(&rows, IQ1_TYPE, w, k, r, r1 - 1, b0);
    for (int part = 0; part < 4; ++part) IQ1_DECODE_QUAD(&rows, b0, part, &prep[0]);
    for (;;) {
        int64_t rn, jn;
        const int more = IQ1_NAME(next_item)(w, k, r1, b0, nb, &rows, r, j, &rn, &jn, &next_rows);
        const int nr = (int)(r1 - r < 4 ? r1 - r : 4);
        if (j == 0) iq1_columns_load_avx2(NQ, facc, y + r, ldy, nr, ncols, b0 > 0);
        const iq1_quad_avx2 *p = &prep[cur];
        __m256i A[2][4];
        IQ1_NAME(columns_block)(NQ, p, xa, j, A, &next_rows, b0 + jn, &prep[cur ^ 1]);
        for (int h = 0; h < NQ; ++h) {
            const __m128 d = _mm_load_ps(xa->d[h][j]);
            for (int i = 0; i < 4; ++i)
                _mm_store_ps(facc[h][i], _mm_fmadd_ps(_mm_cvtepi32_ps(iq1_gemv_rows4_avx2(A[h][i])),
                                                      _mm_mul_ps(_mm_set1_ps(p->dw[i]), d), _mm_load_ps(facc[h][i])));
        }
        if (jn == 0) iq1_columns_store_avx2(NQ, facc, y + r, ldy, nr, ncols);
        if (!more) break;
        r = rn;
        j = jn;
        rows = next_rows;
        cur ^= 1;
    }
}

#undef IQ1_COLUMNS_GRID

/* rows [r0, r1) x columns [c, c + ncols), 1 <= ncols <= 8, all of k in chunks */
static void IQ1_NAME(gemv_columns)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x, int64_t c,
                                   int ncols, float *y, int64_t ldy) {
    IQ1_NAME(columns_act) xa;
    const int64_t nbx = k / IQ1_QK_ACT;
    for (int64_t b0 = 0; b0 < nbx; b0 += IQ1_COLUMNS_CHUNK_BLOCKS_AVX2) {
        const int nb = (int)(nbx - b0 < IQ1_COLUMNS_CHUNK_BLOCKS_AVX2 ? nbx - b0 : IQ1_COLUMNS_CHUNK_BLOCKS_AVX2);
        IQ1_NAME(columns_fill)(x, c, ncols, b0, nb, &xa);
        if (ncols > 4) IQ1_NAME(columns_chunk)(2, w, k, r0, r1, &xa, b0, nb, ncols, y + c * ldy, ldy);
        else IQ1_NAME(columns_chunk)(1, w, k, r0, r1, &xa, b0, nb, ncols, y + c * ldy, ldy);
    }
}
