/* Re-included body: the AVX-512 rows GEMV of one format and variant, for passes of 1 or 2 columns.
 *   Expects  IQ1_FORMAT, IQ1_TYPE, IQ1_DELTA_PER_32, IQ1_DECODE_QUAD, IQ1_QUAD_ROW_MAJOR (as
 *            gemv_rows_avx2-inl.h), IQ1_VARIANT (avx512, avx512_vnni, avx512_vnni_gather), IQ1_VNNI (0: vpmaddwd
 *            + vpaddd, 1: vpdpwssd), IQ1_GATHER (1: the R4 formats' grid lookups by vpgatherdq) and
 *            IQ1_ATTR (the variant's target attribute), after the file's #pragma GCC target.
 *   Defines  iq1_gemv_rows_<format>_<variant> (static) and its helpers iq1_scaled_/gemv_block_/gemv_pass_<format>_
 *            <variant>. Its own macros are #undef'd at the end.
 *
 * The AVX2 rows GEMV's design (gemv_rows_avx2-inl.h) on 512-bit vectors: eight rows at a time, as two quads of
 * the 4-row decoders. For each group of 8 values one zmm holds the grid entries of the eight rows, [quad 0:
 * r0 | r1 || r2 | r3 ||| quad 1: r0 | r1 || r2 | r3], multiplied with the group's 8 activations broadcast
 * (vpmaddubsw); the groups of a scale slot are added in int16, then one vpmaddwd (vpdpwssd) with the
 * slot's scales gives exact int32 sums, [q0: r0 r0 r1 r1 r2 r2 r3 r3 | q1: ...]. Per row the vector
 * instructions per lookup are half the AVX2 kernel's; the lookups themselves (one 8-byte load each) are
 * the same. Both M types multiply the unsigned u = 8 (g + delta) + 9 (iq1_grid_v8u): AVX-512 has no
 * vpsignb, and taking the nines back out is one vpsubw per slot and column for all eight rows (the S
 * types: u = g + 1, the delta by the bsums, as in the AVX2 GEMV). Per block and row the integer is the
 * other kernels' 8 sum sc (g + delta) q, and it gets one fp32 FMA in block order: the same bits. */

#if IQ1_DELTA_PER_32
#define IQ1_GEMV_GRID ((const char *)iq1_grid_unsigned) /* u = g + 1, the delta by the bsums */
#define IQ1_GEMV_SLOTS 4                                /* one scale per 32-block: four groups per slot */
#else
#define IQ1_GEMV_GRID ((const char *)iq1_grid_v8u) /* u = 8 (g + delta) + 9, the sign in the offset */
#define IQ1_GEMV_SLOTS 8                           /* one scale per 16 values: two groups per slot */
#endif

/* A += p * sc word pairs */
IQ1_INLINE IQ1_ATTR __m512i IQ1_NAME(scaled)(__m512i A, __m512i p, __m512i sc) {
#if IQ1_VNNI
    return _mm512_dpwssd_epi32(A, p, sc);
#else
    return _mm512_add_epi32(A, _mm512_madd_epi16(p, sc));
#endif
}

/* One 128-block of the eight rows (p) with NC columns (q[n]: the block's quants, bs[n]: its bsums, nines:
 * column 0's nines of the block, column n's IQ1_GEMV_NINES_AVX512 further), into A[n]; between the lookups the
 * next item's decoder (np), a part at a time. The slots unrolled: one straight run to overlap. */
IQ1_INLINE IQ1_ATTR void IQ1_NAME(gemv_block)(const int NC, const iq1_quad2_avx512 *p, const int8_t *const *q,
                                              const int16_t *const *bs, const uint64_t *nines, __m512i *A,
                                              const iq1_rows8_avx512 *next, int64_t next_b, iq1_quad2_avx512 *np) {
    for (int n = 0; n < NC; ++n) A[n] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (int s = 0; s < IQ1_GEMV_SLOTS; ++s) {
        const __m512i sc = iq1_join_avx512(_mm256_load_si256((const __m256i *)p->q[0].sc[s]),
                                           _mm256_load_si256((const __m256i *)p->q[1].sc[s]));
#if IQ1_DELTA_PER_32
        __m512i u0, u1, u2, u3;
        iq1_quad2_groups2_avx512(IQ1_GEMV_GRID, IQ1_QUAD_ROW_MAJOR, IQ1_GATHER, p, 4 * s, &u0, &u1);
        iq1_quad2_groups2_avx512(IQ1_GEMV_GRID, IQ1_QUAD_ROW_MAJOR, IQ1_GATHER, p, 4 * s + 2, &u2, &u3);
        IQ1_DECODE_QUAD2(next, next_b, 2 * s, np);
        IQ1_DECODE_QUAD2(next, next_b, 2 * s + 1, np);
        for (int n = 0; n < NC; ++n) {
            /* u <= 2, |q| <= 128: four groups <= 4 * 512 a word */
            const __m512i p01 = _mm512_add_epi16(_mm512_maddubs_epi16(u0, iq1_gemv_act_avx512(q[n], 4 * s)),
                                                 _mm512_maddubs_epi16(u1, iq1_gemv_act_avx512(q[n], 4 * s + 1)));
            const __m512i p23 = _mm512_add_epi16(_mm512_maddubs_epi16(u2, iq1_gemv_act_avx512(q[n], 4 * s + 2)),
                                                 _mm512_maddubs_epi16(u3, iq1_gemv_act_avx512(q[n], 4 * s + 3)));
            A[n] = IQ1_NAME(scaled)(A[n], _mm512_add_epi16(p01, p23), sc);
        }
#else
        __m512i u0, u1;
        iq1_quad2_groups2_avx512(IQ1_GEMV_GRID, IQ1_QUAD_ROW_MAJOR, IQ1_GATHER, p, 2 * s, &u0, &u1);
        IQ1_DECODE_QUAD2(next, next_b, s, np);
        for (int n = 0; n < NC; ++n) {
            /* u <= 18: a pair <= 2 * 18 * 128, two <= 9216; less the nines, v q over four products <= 4608 */
            const __m512i p01 = _mm512_add_epi16(_mm512_maddubs_epi16(u0, iq1_gemv_act_avx512(q[n], 2 * s)),
                                                 _mm512_maddubs_epi16(u1, iq1_gemv_act_avx512(q[n], 2 * s + 1)));
            const __m512i v01 =
                _mm512_sub_epi16(p01, _mm512_set1_epi64((long long)nines[n * IQ1_GEMV_NINES_AVX512 + s]));
            A[n] = IQ1_NAME(scaled)(A[n], v01, sc);
        }
#endif
    }
#if IQ1_DELTA_PER_32
    const __m512i cc =
        iq1_join_avx512(_mm256_load_si256((const __m256i *)p->q[0].cc), _mm256_load_si256((const __m256i *)p->q[1].cc));
    for (int n = 0; n < NC; ++n) {
        long long b4;
        memcpy(&b4, bs[n], 8);
        A[n] = IQ1_NAME(scaled)(A[n], cc, _mm512_set1_epi64(b4));
    }
    (void)nines;
#else
    (void)bs;
#endif
}

/* rows [r0, r1) x NC (1 or 2) columns from c over blocks [b0, b0 + nb) (nines: theirs, M types); a pass
 * after the first continues the sums from y */
IQ1_INLINE IQ1_ATTR void IQ1_NAME(gemv_pass)(const int NC, const uint8_t *w, int64_t k, int64_t r0, int64_t r1,
                                             const iq1_act *x, int64_t c, int64_t b0, int64_t nb, const uint64_t *nines,
                                             float *y, int64_t ldy) {
    const int64_t nbx = k / IQ1_QK_ACT;
    iq1_quad2_avx512 prep[2];
    const int8_t *q[2];
    const int16_t *bs[2];
    __m256 acc[2];
    __m512i A[2];
    int64_t r = r0, j = 0;
    int cur = 0;
    iq1_rows8_avx512 rows, next_rows;
    iq1_rows8_start_avx512(&rows, IQ1_TYPE, w, k, r, r1 - 1, b0);
    for (int part = 0; part < 8; ++part) IQ1_DECODE_QUAD2(&rows, b0, part, &prep[0]);
    for (;;) {
        int64_t rn, jn;
        const int more = iq1_next_item8_avx512(IQ1_TYPE, w, k, r1, b0, nb, &rows, r, j, &rn, &jn, &next_rows);
        const __mmask8 live = (__mmask8)(r1 - r < 8 ? (1u << (r1 - r)) - 1 : 0xff);
        const int64_t b = b0 + j;
        if (j == 0)
            for (int n = 0; n < NC; ++n)
                acc[n] = b0 ? _mm256_maskz_loadu_ps(live, y + (c + n) * ldy + r) : _mm256_setzero_ps();
        for (int n = 0; n < NC; ++n) {
            q[n] = x->qs + (c + n) * k + b * IQ1_QK_ACT;
            bs[n] = x->bsums + (c + n) * (k / 32) + 4 * b;
        }
        const iq1_quad2_avx512 *p = &prep[cur];
        IQ1_NAME(gemv_block)
        (NC, p, q, bs, !IQ1_DELTA_PER_32 ? nines + 8 * j : NULL, A, &next_rows, b0 + jn, &prep[cur ^ 1]);
        const __m256 dw = _mm256_setr_m128(_mm_load_ps(p->q[0].dw), _mm_load_ps(p->q[1].dw));
        for (int n = 0; n < NC; ++n)
            acc[n] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(iq1_pair_sums8_avx512(A[n])),
                                     _mm256_mul_ps(dw, _mm256_set1_ps(x->d[(c + n) * nbx + b])), acc[n]);
        if (jn == 0)
            for (int n = 0; n < NC; ++n) _mm256_mask_storeu_ps(y + (c + n) * ldy + r, live, acc[n]);
        if (!more) break;
        r = rn;
        j = jn;
        rows = next_rows;
        cur ^= 1;
    }
}

/* rows [r0, r1) x nc (1 or 2) columns from c, k in passes of IQ1_GEMV_ROWS_PASS_K_AVX512 (the M types' nines stay on
 * the
 * stack) */
static IQ1_ATTR void IQ1_NAME(gemv_rows)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x,
                                         int64_t c, int nc, float *y, int64_t ldy) {
#if !IQ1_DELTA_PER_32
    uint64_t nines[2 * IQ1_GEMV_NINES_AVX512] __attribute__((aligned(64)));
#else
    uint64_t *nines = NULL; /* the S types' deltas go by the bsums */
#endif
    const int64_t nbx = k / IQ1_QK_ACT, pass_blocks = IQ1_GEMV_ROWS_PASS_K_AVX512 / IQ1_QK_ACT;
    for (int64_t b0 = 0; b0 < nbx; b0 += pass_blocks) {
        const int64_t nb = nbx - b0 < pass_blocks ? nbx - b0 : pass_blocks;
#if !IQ1_DELTA_PER_32
        for (int n = 0; n < nc; ++n)
            iq1_gemv_nines_avx512(x->qs + (c + n) * k + b0 * IQ1_QK_ACT, nb, nines + n * IQ1_GEMV_NINES_AVX512);
#endif
        /* a constant column count keeps the accumulators in registers */
        if (nc == 1) IQ1_NAME(gemv_pass)(1, w, k, r0, r1, x, c, b0, nb, nines, y, ldy);
        else IQ1_NAME(gemv_pass)(2, w, k, r0, r1, x, c, b0, nb, nines, y, ldy);
    }
}

#undef IQ1_GEMV_GRID
#undef IQ1_GEMV_SLOTS
