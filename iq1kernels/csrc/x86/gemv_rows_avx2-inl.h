/* Re-included body: the AVX2 rows GEMV of one format, for passes of 1 or 2 columns. The plain and the
 * AVX-VNNI backend share it: a GEMV is bound by the grid lookups, not by the multiplies.
 *   Expects  IQ1_FORMAT (iq1_s), IQ1_TYPE (IQ1_S), IQ1_VARIANT (avx2), IQ1_DELTA_PER_32 (1: the S types, whose
 *            delta is constant over 32 values; 0: the M types, a delta per 8), IQ1_DECODE_QUAD (the format's
 *            4-row decoder, decode_quad_avx2.h) and IQ1_QUAD_ROW_MAJOR (its offset layout), after the file's
 *            #pragma GCC target (AVX2, FMA, F16C).
 *   Defines  iq1_gemv_rows_<format>_avx2 (inline: NC = 1 or 2 columns) and its helpers
 *            iq1_gemv_slot_<format>_avx2, iq1_gemv_block_<format>_avx2, iq1_next_item_<format>_avx2 (the row
 *            walk, which gemv_columns_avx2-inl.h uses too). Its own macros are #undef'd at the end.
 *
 * Rows in the lanes, four rows at a time. Per 128-value block the decoder leaves the rows'
 * grid offsets, scales and delta coefficients (iq1_quad_avx2); a block is decoded during the multiplication
 * of the one before (its offsets are read back long after the vector stores, not from the store buffer).
 * For each group of 8 values the four rows' grid entries are loaded into one ymm and multiplied with the
 * group's 8 activations broadcast (vpmaddubsw, read in place from the Q8_K128 quants); the 2 or 4 groups
 * of a scale slot are added in int16 (<= 4 * 508), then one vpmaddwd with the slot's scales (and, for
 * the per-32-delta formats, one with the delta coefficients against the block's bsums) gives exact int32
 * sums. Per block and row that integer gets one fp32 FMA, in block order: the same arithmetic as the GEMM,
 * so a column's result does not depend on how many columns share the call. */

#if IQ1_DELTA_PER_32
#define IQ1_GEMV_GRID ((const char *)iq1_grid_unsigned) /* u = g + 1, the delta by the bsums */
#else
#define IQ1_GEMV_GRID ((const char *)iq1_grid_v8) /* 8 (g + delta), the sign in the offset */
#endif

#if IQ1_DELTA_PER_32
#define IQ1_GEMV_SLOTS 4 /* one scale per 32-block: four groups per slot */
#else
#define IQ1_GEMV_SLOTS 8 /* one scale per 16 values: two groups per slot */
#endif

/* Slot s of a 128-block of the four rows (p) with NC columns (q[n]: the block's quants), added to A[n] =
 * int32 [r0 r0 r1 r1 | r2 r2 r3 r3]; between the lookups, a part of the next block's decoder (np). */
IQ1_INLINE void IQ1_NAME(gemv_slot)(const int NC, int s, const iq1_quad_avx2 *p, const int8_t *const *q, __m256i *A,
                                    const iq1_rows4_avx2 *next, int64_t next_b, iq1_quad_avx2 *np) {
    const __m256i sc = _mm256_load_si256((const __m256i *)p->sc[s]);
#if IQ1_DELTA_PER_32
    __m256i u0, u1, u2, u3;
    iq1_quad_groups2_avx2(IQ1_GEMV_GRID, IQ1_QUAD_ROW_MAJOR, p, 4 * s, &u0, &u1);
    iq1_quad_groups2_avx2(IQ1_GEMV_GRID, IQ1_QUAD_ROW_MAJOR, p, 4 * s + 2, &u2, &u3);
    IQ1_DECODE_QUAD(next, next_b, s, np); /* the next block's part s */
    for (int n = 0; n < NC; ++n) {
        const __m256i p01 = _mm256_add_epi16(_mm256_maddubs_epi16(u0, iq1_gemv_act_avx2(q[n], 4 * s)),
                                             _mm256_maddubs_epi16(u1, iq1_gemv_act_avx2(q[n], 4 * s + 1)));
        const __m256i p23 = _mm256_add_epi16(_mm256_maddubs_epi16(u2, iq1_gemv_act_avx2(q[n], 4 * s + 2)),
                                             _mm256_maddubs_epi16(u3, iq1_gemv_act_avx2(q[n], 4 * s + 3)));
        A[n] = _mm256_add_epi32(A[n], _mm256_madd_epi16(_mm256_add_epi16(p01, p23), sc));
    }
#else
    __m256i v0, v1;
    iq1_quad_groups2_avx2(IQ1_GEMV_GRID, IQ1_QUAD_ROW_MAJOR, p, 2 * s, &v0, &v1);
    if (s & 1) IQ1_DECODE_QUAD(next, next_b, s / 2, np); /* the next block's part s / 2 */
    /* signed v = 8 (g + delta), never 0; q in [-127, 127]: |v| * sign(q, v) = v q, <= 2 * 9 * 127 a word */
    const __m256i a0 = _mm256_abs_epi8(v0), a1 = _mm256_abs_epi8(v1);
    for (int n = 0; n < NC; ++n) {
        const __m256i p01 =
            _mm256_add_epi16(_mm256_maddubs_epi16(a0, _mm256_sign_epi8(iq1_gemv_act_avx2(q[n], 2 * s), v0)),
                             _mm256_maddubs_epi16(a1, _mm256_sign_epi8(iq1_gemv_act_avx2(q[n], 2 * s + 1), v1)));
        A[n] = _mm256_add_epi32(A[n], _mm256_madd_epi16(p01, sc));
    }
#endif
}

/* A whole 128-block for NC columns (bs[n]: the block's four bsums): the slots, unrolled (one straight run
 * the scheduler can overlap: "unrolled slots"), then for the S types the deltas
 * (coefficients against the bsums). */
IQ1_INLINE void IQ1_NAME(gemv_block)(const int NC, const iq1_quad_avx2 *p, const int8_t *const *q,
                                     const int16_t *const *bs, __m256i *A, const iq1_rows4_avx2 *next, int64_t next_b,
                                     iq1_quad_avx2 *np) {
    for (int n = 0; n < NC; ++n) A[n] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int s = 0; s < IQ1_GEMV_SLOTS; ++s) IQ1_NAME(gemv_slot)(NC, s, p, q, A, next, next_b, np);
#if IQ1_DELTA_PER_32
    const __m256i cc = _mm256_load_si256((const __m256i *)p->cc);
    for (int n = 0; n < NC; ++n) {
        long long b4;
        memcpy(&b4, bs[n], 8);
        A[n] = _mm256_add_epi32(A[n], _mm256_madd_epi16(cc, _mm256_set1_epi64x(b4)));
    }
#else
    (void)bs;
#endif
}

/* The (row quad, block) item after (r, b) of a walk over rows [.., r1) and blocks [0, nb), the blocks
 * inner: its row and block in *rn, *bn, its rows in *next; whether there is one. Both GEMVs decode it
 * during the current item. After the last item, *next and *bn name block 0 of the current rows, which the
 * GEMVs decode for nothing: decoding unconditionally, without a branch per part, is cheaper
 * (docs/PERFORMANCE.md, Kernel design measurements, "unconditional decode"). */
IQ1_INLINE int IQ1_NAME(next_item)(const uint8_t *w, int64_t k, int64_t r1, int64_t b0, int64_t nb,
                                   const iq1_rows4_avx2 *rows, int64_t r, int64_t b, int64_t *rn, int64_t *bn,
                                   iq1_rows4_avx2 *next) {
    *rn = r;
    *bn = b + 1;
    *next = *rows;
    if (*bn == nb) {
        *bn = 0;
        *rn = r + 4;
        if (*rn < r1) iq1_rows4_at_avx2(next, IQ1_TYPE, w, k, *rn, r1 - 1, b0);
    } else {
        iq1_rows4_step_avx2(next, IQ1_TYPE, b0 + b);
    }
    return *rn < r1;
}

/* rows [r0, r1) x NC (1 or 2) columns from c, all of k */
IQ1_INLINE void IQ1_NAME(gemv_rows)(const int NC, const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x,
                                    int64_t c, float *y, int64_t ldy) {
    const int64_t nb = k / IQ1_QK_ACT;
    iq1_quad_avx2 prep[2];
    const int8_t *q[2];
    const int16_t *bs[2];
    __m128 acc[2] = { _mm_setzero_ps(), _mm_setzero_ps() }; /* set at b == 0; this for -Wmaybe-uninitialized */
    __m256i A[2];
    int64_t r = r0, b = 0;
    int cur = 0;
    iq1_rows4_avx2 rows, next_rows;
    iq1_rows4_start_avx2(&rows, IQ1_TYPE, w, k, r, r1 - 1, 0);
    for (int part = 0; part < 4; ++part) IQ1_DECODE_QUAD(&rows, b, part, &prep[0]);
    for (;;) {
        int64_t rn, bn;
        const int more = IQ1_NAME(next_item)(w, k, r1, 0, nb, &rows, r, b, &rn, &bn, &next_rows);
        if (b == 0)
            for (int n = 0; n < NC; ++n) acc[n] = _mm_setzero_ps();
        for (int n = 0; n < NC; ++n) {
            q[n] = x->qs + (c + n) * k + b * IQ1_QK_ACT;
            bs[n] = x->bsums + (c + n) * (k / 32) + 4 * b;
        }
        IQ1_NAME(gemv_block)(NC, &prep[cur], q, bs, A, &next_rows, bn, &prep[cur ^ 1]);
        const __m128 dw = _mm_load_ps(prep[cur].dw);
        for (int n = 0; n < NC; ++n)
            acc[n] = _mm_fmadd_ps(_mm_cvtepi32_ps(iq1_gemv_rows4_avx2(A[n])),
                                  _mm_mul_ps(dw, _mm_set1_ps(x->d[(c + n) * nb + b])), acc[n]);
        if (bn == 0) {
            const int nr = (int)(r1 - r < 4 ? r1 - r : 4);
            for (int n = 0; n < NC; ++n) iq1_gemv_store_rows_avx2(y + (c + n) * ldy + r, nr, acc[n]);
        }
        if (!more) break;
        r = rn;
        b = bn;
        rows = next_rows;
        cur ^= 1;
    }
}

#undef IQ1_GEMV_GRID
#undef IQ1_GEMV_SLOTS
