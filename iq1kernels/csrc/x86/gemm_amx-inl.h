/* Re-included body: the AMX int8 tile GEMM of one format and the avx512_amx backend's matmul entry.
 *   Expects  IQ1_FORMAT (iq1_s), IQ1_VARIANT (avx512_amx), IQ1_DECODE_ROW (the format's row decoder,
 *            decode_row_avx512.h), IQ1_AMX_MIN_COLS (this format's IQ1_AMX_MIN_COLS_<FORMAT>, kernel_plan.h)
 *            and IQ1_AMX_FEW_COLUMNS (this format's avx512_vnni matmul entry, which serves the columns the
 *            tiles do not), after matmul_amx_avx512.c's #pragma GCC target and its helpers.
 *   Defines  iq1_matmul_<format>_avx512_amx (the backend table's entry, kernels_avx512.h), the GEMM
 *            iq1_gemm_<format>_avx512_amx (static) and its strip decoder iq1_gemm_strip_<format>_avx512_amx.
 *
 * Each (row, column, 128-block) sum is the exact int32 the other x86 kernels form,
 *     isum = sum_i sc (8 g + sigma) q_i,
 * split into two signed-byte products that tdpbssd can take (sc (8 g + sigma) itself reaches 135):
 *     P_i = 8 sc g      in [-120, 120]   (8 sc u - 8 sc, u = g + 1 from the unsigned grid)
 *     Q_i = sigma sc    in [-15, 15]     (constant over a delta group: 8 values, or 32 for the S types)
 * so isum = sum P q + sum Q q; then the same fp32 step as every other kernel, y = fma(isum, dw dx, y) in
 * block order, so the results are bit-identical to the avx512_vnni GEMV and GEMM.
 *
 * Tiles: the weights are the A operand, 16 rows x 64 values as they lie in a row (no transpose), decoded once
 * per strip of 32 rows and IQ1_AMX_CHUNK_BLOCKS blocks; the activations are the B operand in the VNNI layout
 * (B[quad][column] = 4 values), made once per call; C[row][column] is an int32 16 x 16 tile. Register use:
 * C 0-3 (2 row x 2 column blocks), B 4-5 (the two column blocks), A 6-7 (P, Q). */

/* Decode rows [r, r + nr) (nr <= 32; missing rows are zero) of blocks [b0, b0 + nb) into st. */
static void IQ1_NAME(gemm_strip)(const uint8_t *w, int64_t k, int64_t r, int nr, int64_t b0, int nb,
                                 iq1_strip_avx512_amx *st) {
    iq1_row_prep_avx512 prep;
    for (int j = 0; j < nb; ++j)
        for (int i = 0; i < 32; ++i) {
            __m512i plo, phi, qlo, qhi;
            if (i < nr) {
                IQ1_DECODE_ROW(w, k, r + i, b0 + j, &prep);
                iq1_expand_row_avx512_amx(&prep, &plo, &phi, &qlo, &qhi);
                st->D[j][i] = prep.dw;
            } else {
                plo = phi = qlo = qhi = _mm512_setzero_si512();
                st->D[j][i] = 0.0f;
            }
            _mm512_store_si512(st->P[j][0][i / 16][i % 16], plo);
            _mm512_store_si512(st->P[j][1][i / 16][i % 16], phi);
            _mm512_store_si512(st->Q[j][0][i / 16][i % 16], qlo);
            _mm512_store_si512(st->Q[j][1][i / 16][i % 16], qhi);
        }
}

/* columns [c0, c1); -1 when the buffers cannot be allocated */
static int IQ1_NAME(gemm)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x, int64_t c0, int64_t c1,
                          float *y, int64_t ldy) {
    const int64_t nbx = k / IQ1_QK_ACT;
    iq1_strip_avx512_amx *st = (iq1_strip_avx512_amx *)aligned_alloc(64, sizeof(iq1_strip_avx512_amx));
    const int64_t groups = (c1 - c0 + IQ1_AMX_BLOCK_COLS - 1) / IQ1_AMX_BLOCK_COLS;
    int8_t *xt = (int8_t *)aligned_alloc(64, (size_t)groups * IQ1_AMX_BLOCK_COLS * IQ1_AMX_CHUNK_BLOCKS * IQ1_QK_ACT);
    float *dx = (float *)aligned_alloc(64, (size_t)groups * IQ1_AMX_BLOCK_COLS * IQ1_AMX_CHUNK_BLOCKS * sizeof(float));
    if (!st || !xt || !dx) {
        free(st);
        free(xt);
        free(dx);
        return -1;
    }
    iq1_tiles_on_avx512_amx();
    for (int64_t b0 = 0; b0 < nbx; b0 += IQ1_AMX_CHUNK_BLOCKS) {
        const int nb = (int)(nbx - b0 < IQ1_AMX_CHUNK_BLOCKS ? nbx - b0 : IQ1_AMX_CHUNK_BLOCKS);
        iq1_pack_act_avx512_amx(x, c0, c1, b0, nb, xt, dx);
        for (int64_t r = r0; r < r1; r += 32) {
            const int nr = (int)(r1 - r < 32 ? r1 - r : 32);
            IQ1_NAME(gemm_strip)(w, k, r, nr, b0, nb, st);
            for (int64_t g = 0; g < groups; ++g) {
                const int64_t c = c0 + IQ1_AMX_BLOCK_COLS * g;
                iq1_tile_avx512_amx(
                    st, nb, xt + g * nb * IQ1_AMX_BLOCK_COLS * IQ1_QK_ACT, dx + g * nb * IQ1_AMX_BLOCK_COLS, nr,
                    (int)(c1 - c < IQ1_AMX_BLOCK_COLS ? c1 - c : IQ1_AMX_BLOCK_COLS), y + c * ldy + r, ldy, b0 > 0);
            }
        }
    }
    _tile_release();
    free(st);
    free(xt);
    free(dx);
    return 0;
}

/* ---- The AMX kernel plan: which kernel serves how many columns (the thresholds: core/kernel_plan.h) ----
 * core/driver.c gives each thread rows [r0, r1) and columns [c0, c1); of those n = c1 - c0 columns
 *   in batches of IQ1_AMX_BATCH_COLS (512): the tile GEMM's activation copy stays within 2 MB;
 *   a batch of IQ1_AMX_MIN_COLS (18 for IQ1_S / IQ1_M, 27 IQ1_S_R4, 25 IQ1_M_R4) columns or more: the tile
 *       GEMM iq1_gemm_<format>_avx512_amx, in blocks of
 *       IQ1_AMX_BLOCK_COLS (32) columns, the last one padded (without its buffers: as a small batch);
 *   a smaller batch: IQ1_AMX_FEW_COLUMNS, the format's avx512_vnni plan (gemm_avx512-inl.h; the
 *       gathering avx512_vnni_gather one for the R4 formats, whose GEMV then serves every such batch), which
 *       gives the same bits. */
static void IQ1_NAME(plan)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x, int64_t c0,
                           int64_t c1, float *y, int64_t ldy) {
    for (int64_t c = c0; c < c1; c += IQ1_AMX_BATCH_COLS) {
        const int64_t ce = c1 - c < IQ1_AMX_BATCH_COLS ? c1 : c + IQ1_AMX_BATCH_COLS;
        if (ce - c < IQ1_AMX_MIN_COLS || IQ1_NAME(gemm)(w, k, r0, r1, x, c, ce, y, ldy) != 0)
            IQ1_AMX_FEW_COLUMNS(w, k, r0, r1, x, c, ce, y, ldy);
    }
}

void IQ1_NAME(matmul)(IQ1_MATMUL_ARGS) { IQ1_NAME(plan)(w, k, r0, r1, x, c0, c1, y, ldy); }
