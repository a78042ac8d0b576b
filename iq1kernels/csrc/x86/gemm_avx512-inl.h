/* Re-included body: the AVX-512 GEMV and GEMM of one format and the backend table's matmul entry, once per
 * variant: plain (vpmaddubsw + vpmaddwd), VNNI (vpdpbusd / vpdpwssd) and VNNI with the GEMV's lookups gathered
 * (avx512_vnni_gather, for the avx512_amx backend).
 *   Expects  what gemv_rows_avx512-inl.h expects, and IQ1_DECODE_ROW (the format's row decoder,
 *            decode_row_avx512.h).
 *   Defines  iq1_matmul_<format>_<variant> (the backend table's entry, kernels_avx512.h), the GEMV
 *            iq1_gemv_<format>_<variant> (static: the rows GEMV for passes of 1-2 columns, the columns GEMV for
 *            3-8), the GEMM iq1_gemm_<format>_<variant> (static) and its helpers iq1_gemm_strip_/tile_/pack_
 *            <format>_<variant>.
 *
 * Few columns (GEMV): for 1-2 columns eight rows at a time in the lanes of one zmm per group of 8 values,
 * against the group's activations broadcast (gemv_rows_avx512-inl.h; a pass of one column of IQ1_S / IQ1_M in the
 * gathering variant: each row's block in the lanes, gemv_gathered_avx512-inl.h); for 3-16, in passes of 8, the columns in
 * the lanes against each row's grid entry broadcast (gemv_columns_avx512-inl.h). Many columns (GEMM): strips of
 * 16 rows are decoded once, transposed so that the rows are the int32 lanes, and multiplied with all columns by
 * a 16 x 12 register tile. Both do the same fp32 operations per (row, column, block) in block order: same bits. */

/* The GEMM's integer form per delta kind and variant (gemm_avx512.h): the S types one coefficient per 32-block (2
 * pairs a block); the M types with VNNI one per 16 values with the weights halved (4 pairs, the sums doubled);
 * the M types without VNNI one per 8 values (8 pairs) */
#if IQ1_DELTA_PER_32
#define IQ1_GEMM_PAIRS 2
#define IQ1_PLACE_PAIRS iq1_place_pairs_delta32_avx512
#elif IQ1_VNNI
#define IQ1_GEMM_PAIRS 4
#define IQ1_PLACE_PAIRS iq1_place_pairs_delta16_avx512
#else
#define IQ1_GEMM_PAIRS 8
#define IQ1_PLACE_PAIRS iq1_place_pairs_delta8_avx512
#endif
#define IQ1_GEMM_HALF (IQ1_GEMM_PAIRS == 4) /* the weights halved, the sums doubled */
#if IQ1_GEMM_HALF
#define IQ1_GEMM_EXPAND(p, lo, hi) iq1_expand_row_half_avx512(p, lo, hi)
#else
#define IQ1_GEMM_EXPAND(p, lo, hi) iq1_expand_row_coef_avx512(p, IQ1_VNNI ? 8 : 1, lo, hi)
#endif

#include "gemv_rows_avx512-inl.h"
#include "gemv_columns_avx512-inl.h"
#if IQ1_GATHER && IQ1_QUAD_ROW_MAJOR /* IQ1_S, IQ1_M in the avx512_amx backend: one column's rows gathered */
#include "gemv_gathered_avx512-inl.h"
#endif

/* the GEMV's passes of IQ1_GEMV_PASS_COLS columns: 1 or 2 with the rows in the lanes, more with the columns
 * (the kernel plan, IQ1_NAME(plan) below) */
static IQ1_ATTR void IQ1_NAME(gemv)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x, int64_t c0,
                                    int64_t c1, float *y, int64_t ldy) {
    for (int64_t c = c0; c < c1; c += IQ1_GEMV_PASS_COLS) {
        const int nc = (int)(c1 - c < IQ1_GEMV_PASS_COLS ? c1 - c : IQ1_GEMV_PASS_COLS);
        if (nc >= IQ1_GEMV_COLUMNS_MIN) IQ1_NAME(gemv_columns)(w, k, r0, r1, x, c, nc, y, ldy);
#if IQ1_GATHER && IQ1_QUAD_ROW_MAJOR
        else if (nc == 1) IQ1_NAME(gemv_gathered)(w, k, r0, r1, x, c, y, ldy);
#endif
        else IQ1_NAME(gemv_rows)(w, k, r0, r1, x, c, nc, y, ldy);
    }
}

/* ---- GEMM: strips of 16 rows, rows in the int32 lanes ---- */

/* Decode rows [r, r + nr) (nr <= 16; missing rows are zero) of blocks [b0, b0 + nb) into st: W[j][q] =
 * quad q (values 4q..4q+3) of block j for the 16 rows, C[j][p] = coefficient pair p, D[j] = dw. */
static IQ1_ATTR void IQ1_NAME(gemm_strip)(const uint8_t *w, int64_t k, int64_t r, int nr, int64_t b0, int nb,
                                          iq1_strip_avx512 *st) {
    __m512i lo[16], hi[16], cp[16];
    const int per = 16 / IQ1_GEMM_PAIRS; /* blocks per coefficient transpose */
    /* decoded row by row (sequential reads), expanded block by block once all stores are done */
    for (int i = 0; i < nr; ++i)
        for (int j = 0; j < nb; ++j) IQ1_DECODE_ROW(w, k, r + i, b0 + j, &st->prep[i][j]);
    for (int j0 = 0; j0 < nb; j0 += per) {
        for (int i = 0; i < 16; ++i) cp[i] = _mm512_setzero_si512();
        for (int jj = 0; jj < per && j0 + jj < nb; ++jj) {
            const int j = j0 + jj;
            for (int i = 0; i < 16; ++i) {
                if (i < nr) {
                    const iq1_row_prep_avx512 *p = &st->prep[i][j];
                    cp[i] = IQ1_PLACE_PAIRS(cp[i], IQ1_GEMM_EXPAND(p, &lo[i], &hi[i]), jj);
                    st->D[j][i] = p->dw;
                } else {
                    lo[i] = hi[i] = _mm512_setzero_si512();
                    st->D[j][i] = 0.0f;
                }
            }
            iq1_transpose16_avx512(lo);
            iq1_transpose16_avx512(hi);
            for (int q = 0; q < 16; ++q) {
                _mm512_store_si512(st->W[j][q], lo[q]);
                _mm512_store_si512(st->W[j][16 + q], hi[q]);
            }
        }
        iq1_transpose16_avx512(cp);
        for (int q = 0; q < 16 && j0 + q / IQ1_GEMM_PAIRS < nb; ++q)
            _mm512_store_si512(st->C[j0 + q / IQ1_GEMM_PAIRS][q % IQ1_GEMM_PAIRS], cp[q]);
    }
}

/* 16 rows x NC columns over the strip's nb blocks; a column group's activations are interleaved per quad
 * (xs[j][q][n]), pair (bs[j][p][n]) and block (dx[j][n]) so that one pointer serves all columns */
IQ1_INLINE IQ1_ATTR void IQ1_NAME(gemm_tile)(const int NC, const iq1_strip_avx512 *st, int nb, const int32_t *xs,
                                             const int32_t *bs, const float *dx, int nr, float *y, int64_t ldy,
                                             int add) {
    /* a later chunk continues the sums where the previous one stored them: additions stay in block order,
     * the same as in the GEMV */
    const __mmask16 rows = (__mmask16)((1u << nr) - 1);
    __m512 facc[IQ1_GEMM_COLS_AVX512];
    for (int n = 0; n < NC; ++n) facc[n] = add ? _mm512_maskz_loadu_ps(rows, y + n * ldy) : _mm512_setzero_ps();
    for (int j = 0; j < nb; ++j) {
        __m512i acc[IQ1_GEMM_COLS_AVX512];
        for (int n = 0; n < NC; ++n) acc[n] = _mm512_setzero_si512();
        const int32_t *xq = xs + (int64_t)j * 32 * NC;
#if IQ1_VNNI
        for (int q = 0; q < 32; ++q) {
            const __m512i wq = _mm512_load_si512(st->W[j][q]);
            for (int n = 0; n < NC; ++n) acc[n] = _mm512_dpbusd_epi32(acc[n], wq, _mm512_set1_epi32(xq[q * NC + n]));
        }
#else
        const __m512i one = _mm512_set1_epi16(1);
        for (int q = 0; q < 32; q += 2) {
            const __m512i w0 = _mm512_load_si512(st->W[j][q]), w1 = _mm512_load_si512(st->W[j][q + 1]);
            for (int n = 0; n < NC; ++n) {
                const __m512i p = _mm512_add_epi16(_mm512_maddubs_epi16(w0, _mm512_set1_epi32(xq[q * NC + n])),
                                                   _mm512_maddubs_epi16(w1, _mm512_set1_epi32(xq[(q + 1) * NC + n])));
                acc[n] = _mm512_add_epi32(acc[n], _mm512_madd_epi16(p, one));
            }
        }
        for (int n = 0; n < NC; ++n) acc[n] = _mm512_slli_epi32(acc[n], 3);
#endif
#if IQ1_GEMM_HALF
        for (int n = 0; n < NC; ++n) acc[n] = _mm512_add_epi32(acc[n], acc[n]); /* 2 sum w q */
#endif
        const int32_t *bp = bs + (int64_t)j * IQ1_GEMM_PAIRS * NC;
        for (int p = 0; p < IQ1_GEMM_PAIRS; ++p) {
            const __m512i cq = _mm512_load_si512(st->C[j][p]);
            for (int n = 0; n < NC; ++n) {
#if IQ1_VNNI
                acc[n] = _mm512_dpwssd_epi32(acc[n], cq, _mm512_set1_epi32(bp[p * NC + n]));
#else
                acc[n] = _mm512_add_epi32(acc[n], _mm512_madd_epi16(cq, _mm512_set1_epi32(bp[p * NC + n])));
#endif
            }
        }
        const __m512 dwv = _mm512_load_ps(st->D[j]);
        for (int n = 0; n < NC; ++n)
            facc[n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[n]), _mm512_mul_ps(dwv, _mm512_set1_ps(dx[j * NC + n])),
                                      facc[n]);
    }
    for (int n = 0; n < NC; ++n) _mm512_mask_storeu_ps(y + n * ldy, rows, facc[n]);
}

/* columns [c0, c1) of blocks [b0, b0 + nb) in the interleaved layout the tile (gemm_tile) reads, NC columns a group:
 * group g starts at xs + g * nb * 32 * IQ1_GEMM_COLS_AVX512 (bs, dx likewise) */
static IQ1_ATTR void IQ1_NAME(gemm_pack)(const iq1_act *x, int64_t c0, int64_t c1, int64_t b0, int nb, int32_t *xs,
                                         int32_t *bs, float *dx) {
    const int64_t k = x->k, nbx = k / IQ1_QK_ACT;
    uint32_t sums[16] __attribute__((aligned(64)));
    for (int64_t c = c0; c < c1; ++c) {
        const int64_t g = (c - c0) / IQ1_GEMM_COLS_AVX512, n = (c - c0) % IQ1_GEMM_COLS_AVX512;
        const int64_t NC = c1 - (c0 + g * IQ1_GEMM_COLS_AVX512) < IQ1_GEMM_COLS_AVX512
                               ? c1 - (c0 + g * IQ1_GEMM_COLS_AVX512)
                               : IQ1_GEMM_COLS_AVX512;
        int32_t *xg = xs + g * nb * 32 * IQ1_GEMM_COLS_AVX512,
                *bg = bs + g * nb * IQ1_GEMM_PAIRS * IQ1_GEMM_COLS_AVX512;
        float *dg = dx + g * nb * IQ1_GEMM_COLS_AVX512;
        for (int j = 0; j < nb; ++j) {
            const int64_t b = b0 + j;
            const int8_t *qs = x->qs + c * k + b * IQ1_QK_ACT;
            if (!IQ1_DELTA_PER_32)
                iq1_act_sums_avx512(qs, IQ1_QK_ACT, sums); /* per-8 sums: the M types' coefficients need them */
            for (int q = 0; q < 32; ++q) memcpy(&xg[(j * 32 + q) * NC + n], qs + 4 * q, 4);
            for (int p = 0; p < IQ1_GEMM_PAIRS; ++p) {
                /* pair p: groups (2p, 2p + 1) per 8, 16-value halves (2p, 2p + 1), or 32-blocks (2p, 2p + 1) */
                uint32_t lo, hi;
                if (IQ1_GEMM_PAIRS == 8) {
                    lo = sums[2 * p];
                    hi = sums[2 * p + 1];
                } else if (IQ1_GEMM_PAIRS == 4) { /* the words of int16 sums, added modulo 2^16 */
                    lo = (sums[4 * p] + sums[4 * p + 1]) & 0xffff;
                    hi = (sums[4 * p + 2] + sums[4 * p + 3]) & 0xffff;
                } else {
                    lo = (uint16_t)x->bsums[c * (k / 32) + 4 * b + 2 * p];
                    hi = (uint16_t)x->bsums[c * (k / 32) + 4 * b + 2 * p + 1];
                }
                bg[(j * IQ1_GEMM_PAIRS + p) * NC + n] = (int32_t)(lo | (hi << 16));
            }
            dg[j * NC + n] = x->d[c * nbx + b];
        }
    }
}

static IQ1_ATTR int IQ1_NAME(gemm)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x, int64_t c0,
                                   int64_t c1, float *y, int64_t ldy) {
    const int64_t nbx = k / IQ1_QK_ACT, chunk_blocks = IQ1_GEMM_CHUNK_AVX512 / IQ1_QK_ACT, ncols = c1 - c0;
    const int64_t groups = (ncols + IQ1_GEMM_COLS_AVX512 - 1) / IQ1_GEMM_COLS_AVX512;
    const size_t xs_n = (size_t)(groups * chunk_blocks * 32 * IQ1_GEMM_COLS_AVX512);
    const size_t bs_n = (size_t)(groups * chunk_blocks * IQ1_GEMM_PAIRS * IQ1_GEMM_COLS_AVX512);
    const size_t dx_n = (size_t)(groups * chunk_blocks * IQ1_GEMM_COLS_AVX512);
    iq1_strip_avx512 *st = (iq1_strip_avx512 *)aligned_alloc(64, sizeof(iq1_strip_avx512));
    int32_t *xs = (int32_t *)malloc(4 * (xs_n + bs_n + dx_n));
    if (!st || !xs) {
        free(st);
        free(xs);
        return -1;
    }
    int32_t *bs = xs + xs_n;
    float *dx = (float *)(bs + bs_n);
    for (int64_t b0 = 0; b0 < nbx; b0 += chunk_blocks) {
        const int nb = (int)(nbx - b0 < chunk_blocks ? nbx - b0 : chunk_blocks);
        IQ1_NAME(gemm_pack)(x, c0, c1, b0, nb, xs, bs, dx);
        for (int64_t r = r0; r < r1; r += 16) {
            const int nr = (int)(r1 - r < 16 ? r1 - r : 16);
            IQ1_NAME(gemm_strip)(w, k, r, nr, b0, nb, st);
            for (int64_t g = 0; g < groups; ++g) {
                const int64_t c = c0 + g * IQ1_GEMM_COLS_AVX512;
                const int nc = (int)(c1 - c < IQ1_GEMM_COLS_AVX512 ? c1 - c : IQ1_GEMM_COLS_AVX512);
                const int32_t *xg = xs + g * nb * 32 * IQ1_GEMM_COLS_AVX512,
                              *bg = bs + g * nb * IQ1_GEMM_PAIRS * IQ1_GEMM_COLS_AVX512;
                const float *dg = dx + g * nb * IQ1_GEMM_COLS_AVX512;
                float *yg = y + c * ldy + r;
                switch (nc) { /* a constant column count keeps the accumulators in registers */
                    /* clang-format off */
#define IQ1_GEMM_CASE(N) case N: IQ1_NAME(gemm_tile)(N, st, nb, xg, bg, dg, nr, yg, ldy, b0 > 0); break;
                IQ1_GEMM_CASE(1) IQ1_GEMM_CASE(2) IQ1_GEMM_CASE(3) IQ1_GEMM_CASE(4) IQ1_GEMM_CASE(5) IQ1_GEMM_CASE(6)
                IQ1_GEMM_CASE(7) IQ1_GEMM_CASE(8) IQ1_GEMM_CASE(9) IQ1_GEMM_CASE(10) IQ1_GEMM_CASE(11)
                default: IQ1_NAME(gemm_tile)(IQ1_GEMM_COLS_AVX512, st, nb, xg, bg, dg, nr, yg, ldy, b0 > 0); break;
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

/* ---- The AVX-512 kernel plan: which kernel serves how many columns (the thresholds: core/kernel_plan.h) ----
 * core/driver.c gives each thread rows [r0, r1) and columns [c0, c1); of those n = c1 - c0 columns
 *   in batches of IQ1_GEMM_BATCH_COLS (768): the GEMM's activation copy stays a few MB however large n is;
 *   a batch of more than IQ1_AVX512_GEMV_MAX_COLS_<FORMAT> (40 IQ1_S, IQ1_S_R4; 32 IQ1_M_R4; 16 IQ1_M): the GEMM
 *       iq1_gemm_<format>_<variant> (16 rows x 12 columns register
 *       tile; it needs heap buffers, and without them the GEMV, stack only, gives the same bits); in the
 *       avx512_vnni_gather variant (the plan below the avx512_amx tiles) only a batch of more than
 *       IQ1_AMX_GEMV_MAX_COLS_<FORMAT>, which the tiles take when they can;
 *   a smaller batch: the GEMV iq1_gemv_<format>_<variant>, in passes of IQ1_GEMV_PASS_COLS (8):
 *       a pass of IQ1_GEMV_COLUMNS_MIN (3) to 8 columns: iq1_gemv_columns_<format>_<variant>,
 *       a pass of 1 or 2 columns: iq1_gemv_rows_<format>_<variant>, except one column of IQ1_S / IQ1_M in the
 *       avx512_vnni_gather variant: iq1_gemv_gathered_<format>_avx512_vnni_gather.
 * Every kernel forms the same exact integer per row and 128-block and the same fp32 FMA chain: a column's
 * result does not depend on the kernel. */
#if IQ1_GATHER /* the avx512_amx backend's few-column plan: the GEMV up to the tiles */
#define IQ1_PLAN_GEMV_MAX_COLS IQ1_CAT(IQ1_AMX_GEMV_MAX_COLS_, IQ1_TYPE)
#else
#define IQ1_PLAN_GEMV_MAX_COLS IQ1_CAT(IQ1_AVX512_GEMV_MAX_COLS_, IQ1_TYPE)
#endif
static IQ1_ATTR void IQ1_NAME(plan)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x, int64_t c0,
                                    int64_t c1, float *y, int64_t ldy) {
    for (int64_t c = c0; c < c1; c += IQ1_GEMM_BATCH_COLS) {
        const int64_t ce = c1 - c < IQ1_GEMM_BATCH_COLS ? c1 : c + IQ1_GEMM_BATCH_COLS;
        if (ce - c > IQ1_PLAN_GEMV_MAX_COLS && IQ1_NAME(gemm)(w, k, r0, r1, x, c, ce, y, ldy) == 0) continue;
        IQ1_NAME(gemv)(w, k, r0, r1, x, c, ce, y, ldy);
    }
}

#undef IQ1_PLAN_GEMV_MAX_COLS
#undef IQ1_GEMM_PAIRS
#undef IQ1_GEMM_HALF
#undef IQ1_PLACE_PAIRS
#undef IQ1_GEMM_EXPAND

IQ1_ATTR void IQ1_NAME(matmul)(IQ1_MATMUL_ARGS) { IQ1_NAME(plan)(w, k, r0, r1, x, c0, c1, y, ldy); }
