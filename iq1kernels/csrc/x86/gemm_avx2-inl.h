/* Re-included body: the AVX2 GEMM of one format and the backend table's matmul entry, once per variant:
 * plain (vpmaddubsw + vpmaddwd: signed weights against activations offset by 128, the offset's product a
 * per-row constant) and AVX-VNNI (vpdpbusd / vpdpwssd: unsigned weights, delta coefficients against
 * activation sums); decode_row_avx2.h has both integer forms.
 *   Expects  IQ1_FORMAT, IQ1_TYPE, IQ1_DELTA_PER_32 (as gemv_rows_avx2-inl.h), IQ1_DECODE_ROW (the format's row
 *            decoder, decode_row_avx2.h), IQ1_GEMM_PAIRS (the coefficient pairs per block), IQ1_VARIANT (avx2 or
 *            avx2_vnni), IQ1_VNNI (0 or 1), IQ1_ATTR (the variant's target attribute), and the format's
 *            iq1_gemv_<format>_avx2 (matmul_avx2-inl.h).
 *   Defines  iq1_matmul_<format>_<variant> (the backend table's entry, kernels_avx2.h), iq1_gemm_<format>_<variant>
 *            (static) and its helpers iq1_gemm_strip_/tile_/pack_<format>_<variant>.
 *
 * The design of gemm_avx512-inl.h on 256-bit vectors: strips of 8 rows are decoded once and transposed so
 * that the rows are in the int32 lanes, then an 8 x IQ1_GEMM_COLS_AVX2 register tile multiplies them with
 * broadcast activation quads. Few columns go to the GEMV, which forms the same exact integer per row and block
 * and the same fp32 FMA chain. */

/* ---- GEMM: strips of 8 rows, rows in the int32 lanes ---- */

/* activation-sum pairs per block and column: the AVX-VNNI variant's delta corrections; the plain one has none */
#if IQ1_VNNI
#define IQ1_GEMM_SUM_PAIRS IQ1_GEMM_PAIRS
#else
#define IQ1_GEMM_SUM_PAIRS 0
#endif

/* Decode rows [r, r + nr) (nr <= 8) of blocks [b0, b0 + nb) into st: W[j][q] = quad q of block j for the 8 rows,
 * D[j] = dw (0 for a missing row). */
static IQ1_ATTR void IQ1_NAME(gemm_strip)(const uint8_t *w, int64_t k, int64_t r, int nr, int64_t b0, int nb,
                                          iq1_strip_avx2 *st) {
#if IQ1_VNNI
    /* decoded row by row (sequential reads), expanded block by block: quads in split order (missing rows zero),
     * C[j][p] = coefficient pair p: each row expanded, then 8 x 8 transposes */
    for (int i = 0; i < nr; ++i)
        for (int j = 0; j < nb; ++j) IQ1_DECODE_ROW(w, k, r + i, b0 + j, &st->prep[i][j]);
    for (int i = nr; i < 8; ++i)
        for (int v = 0; v < 4; ++v) st->tmp[i][v] = _mm256_setzero_si256();
    for (int j = 0; j < nb; ++j) {
        __m256i cp[8], t[8];
        for (int i = 0; i < 8; ++i) {
            if (i < nr) {
                const iq1_row_prep_avx2 *p = &st->prep[i][j];
                iq1_expand_row_avx2(p, 8, st->tmp[i]);
                st->D[j][i] = p->dw;
                cp[i] = _mm256_load_si256((const __m256i *)p->coef);
            } else {
                st->D[j][i] = 0.0f;
                cp[i] = _mm256_setzero_si256();
            }
        }
        for (int v = 0; v < 4; ++v) {
            for (int i = 0; i < 8; ++i) t[i] = st->tmp[i][v];
            iq1_transpose8_avx2(t);
            for (int m = 0; m < 8; ++m) _mm256_store_si256((__m256i *)st->W[j][8 * v + m], t[m]);
        }
        iq1_transpose8_avx2(cp);
#if !IQ1_DELTA_PER_32
        for (int p = 0; p < 8; ++p) _mm256_store_si256((__m256i *)st->C[j][p], cp[p]);
#else
        _mm256_store_si256((__m256i *)st->C[j][0], cp[0]);
        _mm256_store_si256((__m256i *)st->C[j][1], cp[4]);
#endif
    }
#else
    /* the GEMV's 4-row decoders (decode_quad_avx2.h) on rows r.. r + 3 (quad a) and r + 4.. r + 7 (quad b; for
     * nr <= 4 the rows of a again), with every offset into iq1_grid_v8 (w = 8 g + sigma). Quads in natural order:
     * each group's eight entries fetched straight into two rows-in-lanes quads; C[j][s] = the scale of 16-value
     * slot s twice (int16), R[j] = the row's constant 128 sum_s sc_s sum_{i in s} w_i (the tile's sum for
     * activations of 128). A missing row gets scale 0 and dw 0. */
    const char *v8 = (const char *)iq1_grid_v8;
    const __m256i a128 = _mm256_set1_epi8((char)0x80), rows = iq1_lane_mask_avx2(nr);
    /* blend(a, b) holds [r0 r4 r1 r5 | r2 r6 r3 r7] */
    const __m256i natural = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    iq1_rows4_avx2 ra, rb;
    iq1_rows4_at_avx2(&ra, IQ1_TYPE, w, k, r, r + nr - 1, b0);
    iq1_rows4_at_avx2(&rb, IQ1_TYPE, w, k, nr > 4 ? r + 4 : r, r + nr - 1, b0);
    ra.ahead = rb.ahead = iq1_walk_ahead_avx2(IQ1_TYPE, k, 8); /* the next strip's rows */
    iq1_quad_avx2 qa, qb;
    for (int j = 0; j < nb; ++j) {
        for (int part = 0; part < 4; ++part) {
            IQ1_DECODE_QUAD_SIGNED(&ra, b0 + j, part, &qa);
            IQ1_DECODE_QUAD_SIGNED(&rb, b0 + j, part, &qb);
        }
        iq1_rows4_step_avx2(&ra, IQ1_TYPE, b0 + j);
        iq1_rows4_step_avx2(&rb, IQ1_TYPE, b0 + j);
        _mm256_store_ps(st->D[j], _mm256_and_ps(_mm256_setr_m128(_mm_load_ps(qa.dw), _mm_load_ps(qb.dw)),
                                                _mm256_castsi256_ps(rows)));
        __m256i rc = _mm256_setzero_si256();
        for (int s = 0; s < 8; ++s) {
            /* the quads' slot scales: dwords [r0 r0 r1 r1 | r2 r2 r3 r3] of (sc, sc) words; the S types' are 8 sc
             * of a 32-block */
#if IQ1_DELTA_PER_32
            const __m256i sa = _mm256_srli_epi16(_mm256_load_si256((const __m256i *)qa.sc[s / 2]), 3);
            const __m256i sb = _mm256_srli_epi16(_mm256_load_si256((const __m256i *)qb.sc[s / 2]), 3);
#else
            const __m256i sa = _mm256_load_si256((const __m256i *)qa.sc[s]);
            const __m256i sb = _mm256_load_si256((const __m256i *)qb.sc[s]);
#endif
            const __m256i sc =
                _mm256_and_si256(_mm256_permutevar8x32_epi32(_mm256_blend_epi32(sa, sb, 0xAA), natural), rows);
            __m256i q[4];
            /* group g = 2 s + h: [r0 r1 | r4 r5], [r2 r3 | r6 r7] -> quads 2 h, 2 h + 1 of the slot */
            for (int h = 0; h < 2; ++h) {
                const int g = 2 * s + h;
                iq1_split2_avx2(iq1_entries4_avx2(v8, iq1_quad_offset_avx2(&qa, IQ1_QUAD_ROW_MAJOR, 0, g),
                                                  iq1_quad_offset_avx2(&qa, IQ1_QUAD_ROW_MAJOR, 1, g),
                                                  iq1_quad_offset_avx2(&qb, IQ1_QUAD_ROW_MAJOR, 0, g),
                                                  iq1_quad_offset_avx2(&qb, IQ1_QUAD_ROW_MAJOR, 1, g)),
                                iq1_entries4_avx2(v8, iq1_quad_offset_avx2(&qa, IQ1_QUAD_ROW_MAJOR, 2, g),
                                                  iq1_quad_offset_avx2(&qa, IQ1_QUAD_ROW_MAJOR, 3, g),
                                                  iq1_quad_offset_avx2(&qb, IQ1_QUAD_ROW_MAJOR, 2, g),
                                                  iq1_quad_offset_avx2(&qb, IQ1_QUAD_ROW_MAJOR, 3, g)),
                                &q[2 * h], &q[2 * h + 1]);
            }
            for (int m = 0; m < 4; ++m) _mm256_store_si256((__m256i *)st->W[j][4 * s + m], q[m]);
            _mm256_store_si256((__m256i *)st->C[j][s], sc);
            rc = _mm256_add_epi32(rc, iq1_gemm_slot_avx2(a128, a128, a128, a128, q[0], q[1], q[2], q[3], sc));
        }
        _mm256_store_si256((__m256i *)st->R[j], rc);
    }
#endif
}

/* 8 rows x NC columns over the strip's nb blocks; a column group's activations are interleaved per quad
 * (xs[j][q][n]), pair (bs[j][p][n]) and block (dx[j][n]) so that one pointer serves all columns */
IQ1_INLINE IQ1_ATTR void IQ1_NAME(gemm_tile)(const int NC, const iq1_strip_avx2 *st, int nb, const int32_t *xs,
                                             const int32_t *bs, const float *dx, int nr, float *y, int64_t ldy,
                                             int add) {
    /* the fp32 sums live in memory (one load / store per block and column, next to 32 integer products):
     * the 16 registers hold the NC integer accumulators, the weights and the broadcasts */
    float facc[IQ1_GEMM_COLS_AVX2][8] __attribute__((aligned(32)));
    /* a later chunk continues the sums where the previous one stored them: additions stay in block order,
     * the same as in the GEMV */
    const __m256i rows = iq1_lane_mask_avx2(nr);
    for (int n = 0; n < NC; ++n)
        _mm256_store_ps(facc[n], add ? _mm256_maskload_ps(y + n * ldy, rows) : _mm256_setzero_ps());
    for (int j = 0; j < nb; ++j) {
        __m256i acc[IQ1_GEMM_COLS_AVX2];
        for (int n = 0; n < NC; ++n) acc[n] = _mm256_setzero_si256();
        const int32_t *xq = xs + (int64_t)j * 32 * NC;
#if IQ1_VNNI
#pragma GCC unroll 4
        for (int q = 0; q < 32; ++q) {
            const __m256i wq = _mm256_load_si256((const __m256i *)st->W[j][q]);
            for (int n = 0; n < NC; ++n)
                acc[n] = _mm256_dpbusd_avx_epi32(acc[n], wq, _mm256_set1_epi32(xq[q * NC + n]));
        }
        const int32_t *bp = bs + (int64_t)j * IQ1_GEMM_SUM_PAIRS * NC;
        for (int p = 0; p < IQ1_GEMM_SUM_PAIRS; ++p) {
            const __m256i cq = _mm256_load_si256((const __m256i *)st->C[j][p]);
            for (int n = 0; n < NC; ++n)
                acc[n] = _mm256_dpwssd_avx_epi32(acc[n], cq, _mm256_set1_epi32(bp[p * NC + n]));
        }
#else
        (void)bs;
        for (int sl = 0; sl < 8; ++sl) {
            const int q = 4 * sl;
            const __m256i w0 = _mm256_load_si256((const __m256i *)st->W[j][q]);
            const __m256i w1 = _mm256_load_si256((const __m256i *)st->W[j][q + 1]);
            const __m256i w2 = _mm256_load_si256((const __m256i *)st->W[j][q + 2]);
            const __m256i w3 = _mm256_load_si256((const __m256i *)st->W[j][q + 3]);
            const __m256i sc = _mm256_load_si256((const __m256i *)st->C[j][sl]);
            for (int n = 0; n < NC; ++n) {
                acc[n] = _mm256_add_epi32(acc[n], iq1_gemm_slot_avx2(_mm256_set1_epi32(xq[q * NC + n]),
                                                                     _mm256_set1_epi32(xq[(q + 1) * NC + n]),
                                                                     _mm256_set1_epi32(xq[(q + 2) * NC + n]),
                                                                     _mm256_set1_epi32(xq[(q + 3) * NC + n]), w0, w1,
                                                                     w2, w3, sc));
                IQ1_IN_REGISTER(acc[n]); /* else 7 of the 8 live in memory ("accumulator spills") */
            }
        }
        const __m256i rc = _mm256_load_si256((const __m256i *)st->R[j]);
        for (int n = 0; n < NC; ++n) acc[n] = _mm256_sub_epi32(acc[n], rc);
#endif
        const __m256 dwv = _mm256_load_ps(st->D[j]);
        for (int n = 0; n < NC; ++n)
            _mm256_store_ps(facc[n], _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[n]),
                                                     _mm256_mul_ps(dwv, _mm256_set1_ps(dx[j * NC + n])),
                                                     _mm256_load_ps(facc[n])));
    }
    for (int n = 0; n < NC; ++n) {
        if (nr == 8) _mm256_storeu_ps(y + n * ldy, _mm256_load_ps(facc[n]));
        else _mm256_maskstore_ps(y + n * ldy, rows, _mm256_load_ps(facc[n]));
    }
}

/* columns [c0, c1) of blocks [b0, b0 + nb) in the interleaved layout the tile (gemm_tile) reads, NC columns a group:
 * group g starts at xs + g * nb * 32 * IQ1_GEMM_COLS_AVX2 (bs, dx likewise). Plain: the quads in natural order,
 * offset to q + 128 (unsigned); AVX-VNNI: in split order, and the activation-sum pairs. */
static IQ1_ATTR void IQ1_NAME(gemm_pack)(const iq1_act *x, int64_t c0, int64_t c1, int64_t b0, int nb, int32_t *xs,
                                         int32_t *bs, float *dx) {
    const int64_t k = x->k, nbx = k / IQ1_QK_ACT;
#if IQ1_VNNI
    int8_t split[IQ1_QK_ACT] __attribute__((aligned(64)));
    uint32_t sums[8] __attribute__((aligned(64)));
#else
    (void)bs;
#endif
    for (int64_t c = c0; c < c1; ++c) {
        const int64_t g = (c - c0) / IQ1_GEMM_COLS_AVX2, n = (c - c0) % IQ1_GEMM_COLS_AVX2;
        const int64_t NC = c1 - (c0 + g * IQ1_GEMM_COLS_AVX2) < IQ1_GEMM_COLS_AVX2 ? c1 - (c0 + g * IQ1_GEMM_COLS_AVX2)
                                                                                   : IQ1_GEMM_COLS_AVX2;
        int32_t *xg = xs + g * nb * 32 * IQ1_GEMM_COLS_AVX2;
        float *dg = dx + g * nb * IQ1_GEMM_COLS_AVX2;
        for (int j = 0; j < nb; ++j) {
            const int64_t b = b0 + j;
            const int8_t *q8 = x->qs + c * k + b * IQ1_QK_ACT;
            dg[j * NC + n] = x->d[c * nbx + b];
#if !IQ1_VNNI
            for (int q = 0; q < 32; ++q) {
                uint32_t v;
                memcpy(&v, q8 + 4 * q, 4);
                xg[(j * 32 + q) * NC + n] = (int32_t)(v ^ 0x80808080u);
            }
#else
            int32_t *bg = bs + g * nb * IQ1_GEMM_SUM_PAIRS * IQ1_GEMM_COLS_AVX2;
            iq1_split_act_avx2(q8, IQ1_QK_ACT, split, sums);
            for (int q = 0; q < 32; ++q) memcpy(&xg[(j * 32 + q) * NC + n], split + 4 * q, 4);
#if !IQ1_DELTA_PER_32
            for (int p = 0; p < 8; ++p) bg[(j * 8 + p) * NC + n] = (int32_t)sums[p]; /* (g, g + 8) */
#else
            { /* 32-block sums: pairs (0, 2) and (1, 3), matching C[j][0] and C[j][1] */
                const int16_t *s = x->bsums + c * (k / 32) + 4 * b;
                bg[(j * 2 + 0) * NC + n] = (int32_t)((uint32_t)(uint16_t)s[0] | ((uint32_t)(uint16_t)s[2] << 16));
                bg[(j * 2 + 1) * NC + n] = (int32_t)((uint32_t)(uint16_t)s[1] | ((uint32_t)(uint16_t)s[3] << 16));
            }
#endif
#endif
        }
    }
}

static IQ1_ATTR int IQ1_NAME(gemm)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x, int64_t c0,
                                   int64_t c1, float *y, int64_t ldy) {
    const int64_t nbx = k / IQ1_QK_ACT, ncols = c1 - c0;
    const int64_t groups = (ncols + IQ1_GEMM_COLS_AVX2 - 1) / IQ1_GEMM_COLS_AVX2;
    const size_t xs_n = (size_t)(groups * IQ1_GEMM_CHUNK_BLOCKS_AVX2 * 32 * IQ1_GEMM_COLS_AVX2);
    const size_t bs_n = (size_t)(groups * IQ1_GEMM_CHUNK_BLOCKS_AVX2 * IQ1_GEMM_SUM_PAIRS * IQ1_GEMM_COLS_AVX2);
    const size_t dx_n = (size_t)(groups * IQ1_GEMM_CHUNK_BLOCKS_AVX2 * IQ1_GEMM_COLS_AVX2);
    iq1_strip_avx2 *st = (iq1_strip_avx2 *)aligned_alloc(64, sizeof(iq1_strip_avx2));
    int32_t *xs = (int32_t *)malloc(4 * (xs_n + bs_n + dx_n));
    if (!st || !xs) {
        free(st);
        free(xs);
        return -1;
    }
    int32_t *bs = xs + xs_n;
    float *dx = (float *)(bs + bs_n);
    for (int64_t b0 = 0; b0 < nbx; b0 += IQ1_GEMM_CHUNK_BLOCKS_AVX2) {
        const int nb = (int)(nbx - b0 < IQ1_GEMM_CHUNK_BLOCKS_AVX2 ? nbx - b0 : IQ1_GEMM_CHUNK_BLOCKS_AVX2);
        IQ1_NAME(gemm_pack)(x, c0, c1, b0, nb, xs, bs, dx);
        for (int64_t r = r0; r < r1; r += 8) {
            const int nr = (int)(r1 - r < 8 ? r1 - r : 8);
            IQ1_NAME(gemm_strip)(w, k, r, nr, b0, nb, st);
            for (int64_t g = 0; g < groups; ++g) {
                const int64_t c = c0 + g * IQ1_GEMM_COLS_AVX2;
                const int nc = (int)(c1 - c < IQ1_GEMM_COLS_AVX2 ? c1 - c : IQ1_GEMM_COLS_AVX2);
                const int32_t *xg = xs + g * nb * 32 * IQ1_GEMM_COLS_AVX2,
                              *bg = bs + g * nb * IQ1_GEMM_SUM_PAIRS * IQ1_GEMM_COLS_AVX2;
                const float *dg = dx + g * nb * IQ1_GEMM_COLS_AVX2;
                float *yg = y + c * ldy + r;
                switch (nc) { /* a constant column count keeps the accumulators in registers */
                    /* clang-format off */
#define IQ1_GEMM_CASE(N) case N: IQ1_NAME(gemm_tile)(N, st, nb, xg, bg, dg, nr, yg, ldy, b0 > 0); break;
                IQ1_GEMM_CASE(1) IQ1_GEMM_CASE(2) IQ1_GEMM_CASE(3) IQ1_GEMM_CASE(4)
                IQ1_GEMM_CASE(5) IQ1_GEMM_CASE(6) IQ1_GEMM_CASE(7)
                default: IQ1_NAME(gemm_tile)(IQ1_GEMM_COLS_AVX2, st, nb, xg, bg, dg, nr, yg, ldy, b0 > 0); break;
#undef IQ1_GEMM_CASE
                    /* clang-format on */
                }
            }
        }
    }
    free(st);
    free(xs);
    return 0;
}

/* ---- The AVX2 kernel plan: which kernel serves how many columns (the thresholds: core/kernel_plan.h) ----
 * core/driver.c gives each thread rows [r0, r1) and columns [c0, c1); of those n = c1 - c0 columns
 *   in batches of IQ1_GEMM_BATCH_COLS (768): the GEMM's activation copy stays a few MB however large n is;
 *   a batch of more than IQ1_PLAN_GEMV_MAX_COLS (avx2: IQ1_AVX2_GEMV_MAX_COLS, 8; avx2_vnni: IQ1_GEMV_MAX_COLS,
 *       16): the GEMM iq1_gemm_<format>_<variant> (8 rows x 8 columns register tile; it needs heap buffers, and
 *       without them the GEMV, stack only, gives the same bits);
 *   a smaller batch: the GEMV iq1_gemv_<format>_avx2, in passes of IQ1_GEMV_PASS_COLS (8):
 *       a pass of IQ1_GEMV_COLUMNS_MIN (3) to 8 columns: iq1_gemv_columns_<format>_avx2,
 *       a pass of 1 or 2 columns: iq1_gemv_rows_<format>_avx2.
 * Every kernel forms the same exact integer per row and 128-block and the same fp32 FMA chain: a column's
 * result does not depend on the kernel. */
#if IQ1_VNNI
#define IQ1_PLAN_GEMV_MAX_COLS IQ1_GEMV_MAX_COLS
#else
#define IQ1_PLAN_GEMV_MAX_COLS IQ1_AVX2_GEMV_MAX_COLS
#endif
static IQ1_ATTR void IQ1_NAME(plan)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x, int64_t c0,
                                    int64_t c1, float *y, int64_t ldy) {
    for (int64_t c = c0; c < c1; c += IQ1_GEMM_BATCH_COLS) {
        const int64_t ce = c1 - c < IQ1_GEMM_BATCH_COLS ? c1 : c + IQ1_GEMM_BATCH_COLS;
        if (ce - c > IQ1_PLAN_GEMV_MAX_COLS && IQ1_NAME(gemm)(w, k, r0, r1, x, c, ce, y, ldy) == 0) continue;
        IQ1_NAME3(gemv, IQ1_FORMAT, avx2)(w, k, r0, r1, x, c, ce, y, ldy);
    }
}
#undef IQ1_PLAN_GEMV_MAX_COLS

IQ1_ATTR void IQ1_NAME(matmul)(IQ1_MATMUL_ARGS) { IQ1_NAME(plan)(w, k, r0, r1, x, c0, c1, y, ldy); }

#undef IQ1_GEMM_SUM_PAIRS
