/* Re-included body: the avx512_amx backend's one-column GEMV of IQ1_S and IQ1_M, each row's lookups gathered.
 *   Expects  IQ1_FORMAT, IQ1_TYPE, IQ1_DELTA_PER_32, IQ1_VARIANT (avx512_vnni_gather) and IQ1_ATTR, after the
 *            file's #pragma GCC target; only for the row-major formats (IQ1_S, IQ1_M).
 *   Defines  iq1_gemv_gathered_<format>_<variant> (static) and its helpers. Its own macros are #undef'd at the end.
 *
 * The rows GEMV (gemv_rows_avx512-inl.h) puts eight rows in the lanes and fetches each grid entry with a scalar
 * load and an insert: on the AMX CPUs the inserts, not the loads, bind it. Here one row's 128-block is in the
 * lanes instead: its 16 grid indices are built in the dword lanes straight from the row's bytes (no offsets
 * stored and reloaded), two vpgatherdq fetch groups 0-7 and 8-15 (qword m = group m, so the activations are
 * the block's own 64-byte halves, unpermuted), and vpmaddubsw / vpdpwssd with the row's per-lane scale words
 * leave 16 int32 partial sums whose total is the other kernels' exact integer 8 sum sc (g + delta) q of the
 * row and block. Sixteen rows at a time: their partial-sum vectors are added pairwise into one vector holding
 * the sixteen rows' integers, which get the one fp32 FMA per row and block, in block order, of every kernel:
 * the same bits.
 *   IQ1_S: u = g + 1 (iq1_grid_unsigned) times q, scale words 8 (2 ls + 1) per 32-block, the delta
 *          sc (sigma - 8) times the 32-block's activation sum (Q8_K128 bsums) added into two lanes; a row's
 *          two half-blocks share one load of its eight qh words for the scales and deltas.
 *   IQ1_M: u = 8 (g + delta) + 9 (iq1_grid_v8u, the delta sign as index bit 11) times q, less 9 times each
 *          pair's activation sum (one vpmaddubsw of the block with 9s, shared by the sixteen rows), scale words
 *          2 ls + 1 per 16 values.
 * The rows of an item are 16 streams restarting at every item; each row's super-block prefetches (into L2) the
 * same place in the rows of the next item, as the rows GEMV's decoders do. */

#define IQ1_GG_SB_BYTES (IQ1_DELTA_PER_32 ? IQ1S_BLOCK_BYTES : IQ1M_BLOCK_BYTES)

/* The 16 grid indices (group g in dword lane g) of half h of the super-block at sb, as qword-table indices */
IQ1_INLINE IQ1_ATTR __m512i IQ1_NAME(gathered_indices)(const uint8_t *sb, int h) {
#if IQ1_DELTA_PER_32
    /* qs at 2 + 16 h; lane g: qh word g / 4 (at 34 + 8 h) in the dword's high half, shifted right by 8 + 3 (g % 4):
     * its 3 bits for group g at bits 8..10 */
    const __m512i low = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(sb + 2 + 16 * h)));
    const __m512i q4 = _mm512_set1_epi64((long long)iq1_load_u64(sb + 34 + 8 * h));
    const __m512i spread = _mm512_set_epi8(7, 6, -1, -1, 7, 6, -1, -1, 7, 6, -1, -1, 7, 6, -1, -1, /* lane 3: word 3 */
                                           5, 4, -1, -1, 5, 4, -1, -1, 5, 4, -1, -1, 5, 4, -1, -1, /* lane 2: word 2 */
                                           3, 2, -1, -1, 3, 2, -1, -1, 3, 2, -1, -1, 3, 2, -1, -1, /* lane 1: word 1 */
                                           1, 0, -1, -1, 1, 0, -1, -1, 1, 0, -1, -1, 1, 0, -1, -1);
    const __m512i shift = _mm512_set_epi32(17, 14, 11, 8, 17, 14, 11, 8, 17, 14, 11, 8, 17, 14, 11, 8);
    const __m512i hi = _mm512_srlv_epi32(_mm512_shuffle_epi8(q4, spread), shift);
    return _mm512_ternarylogic_epi32(low, hi, _mm512_set1_epi32(0x700), 0xF8); /* low | (hi & 0x700) */
#else
    /* qs at 16 h; lane g: qh byte g / 2 (at 32 + 8 h) in bits 8..15, shifted right by 4 (g % 2): its nibble (3
     * high bits, then the delta sign) for group g at bits 8..11, the index into both halves of iq1_grid_v8u */
    const __m512i low = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(sb + 16 * h)));
    const __m512i q8 = _mm512_set1_epi64((long long)iq1_load_u64(sb + 32 + 8 * h));
    const __m512i spread = _mm512_set_epi8(-1, -1, 7, -1, -1, -1, 7, -1, -1, -1, 6, -1, -1, -1, 6, -1, /* lane 3 */
                                           -1, -1, 5, -1, -1, -1, 5, -1, -1, -1, 4, -1, -1, -1, 4, -1, /* lane 2 */
                                           -1, -1, 3, -1, -1, -1, 3, -1, -1, -1, 2, -1, -1, -1, 2, -1, /* lane 1 */
                                           -1, -1, 1, -1, -1, -1, 1, -1, -1, -1, 0, -1, -1, -1, 0, -1);
    const __m512i shift = _mm512_set_epi32(4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0);
    const __m512i hi = _mm512_srlv_epi32(_mm512_shuffle_epi8(q8, spread), shift);
    return _mm512_ternarylogic_epi32(low, hi, _mm512_set1_epi32(0xF00), 0xF8);
#endif
}

/* What the sixteen rows of a super-block share: the rows, the block pair's activations a[h] (values 0-63, 64-127
 * of block 2 j + h), IQ1_S: the pair's eight bsums, IQ1_M: the nines n[h] of a[h] (9 times each pair's sum). */
typedef struct {
    const uint8_t *const *row; /* the sixteen rows */
    int64_t at;                /* the super-block's byte offset in a row */
    int64_t ahead;             /* prefetch distance: the same place in the next item's rows */
    __m512i a[2][2], n[2][2];
    __m128i bs8;
} IQ1_NAME(gathered_block);

/* One row's super-block at sb: A[h] = 16 int32 partial sums of the row's exact integer of half h */
IQ1_INLINE IQ1_ATTR void IQ1_NAME(gathered_row)(const uint8_t *sb, const IQ1_NAME(gathered_block) * g, __m512i A[2]) {
#if IQ1_DELTA_PER_32
    const long long *table = (const long long *)iq1_grid_unsigned;
    /* the eight qh words: scale words 8 (2 ls + 1); the delta cc = (2 ls + 1) (sigma - 8), sigma - 8 = -7 (+1/8)
     * or -9 (-1/8, bit 15 set), times the bsums: dwords 0-1 half 0's, 2-3 half 1's */
    const __m128i q8 = _mm_loadu_si128((const __m128i *)(sb + 34));
    const __m128i sc8 = _mm_add_epi16(_mm_and_si128(_mm_srli_epi16(q8, 8), _mm_set1_epi16(0x70)), _mm_set1_epi16(8));
    const __m128i neg = _mm_srai_epi16(q8, 15);
    const __m128i cc =
        _mm_mullo_epi16(_mm_srli_epi16(sc8, 3), _mm_add_epi16(_mm_set1_epi16(-7), _mm_add_epi16(neg, neg)));
    const __m512i s = _mm512_castsi128_si512(sc8), delta = _mm512_castsi128_si512(_mm_madd_epi16(cc, g->bs8));
    /* qword m of u0 (group m) in 32-block 4 h + m / 4, of u1 in 4 h + 2 + m / 4 */
    const __m512i pick = _mm512_set_epi16(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                          0, 0, 0, 0, 0, 0);
#else
    const long long *table = (const long long *)iq1_grid_v8u;
    /* qword m of u0 (group m) in 16-block m / 2, of u1 in 4 + m / 2 */
    const __m512i pick = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0,
                                          0, 0, 0, 0, 0, 0);
#endif
    for (int h = 0; h < 2; ++h) {
        const __m512i idx = IQ1_NAME(gathered_indices)(sb, h);
        const __m512i u0 = _mm512_i32gather_epi64(_mm512_castsi512_si256(idx), table, 8);
        const __m512i u1 = _mm512_i32gather_epi64(_mm512_extracti64x4_epi64(idx, 1), table, 8);
        __m512i p0 = _mm512_maddubs_epi16(u0, g->a[h][0]), p1 = _mm512_maddubs_epi16(u1, g->a[h][1]);
#if IQ1_DELTA_PER_32
        const __m512i s0 = _mm512_permutexvar_epi16(_mm512_add_epi16(pick, _mm512_set1_epi16((short)(4 * h))), s);
        const __m512i s1 = _mm512_permutexvar_epi16(_mm512_add_epi16(pick, _mm512_set1_epi16((short)(4 * h + 2))), s);
        const __m512i d = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(_mm512_setzero_si512(), p0, s0), p1, s1);
        A[h] = _mm512_mask_add_epi32(d, h ? 0xC : 0x3, d, delta);
#else
        p0 = _mm512_sub_epi16(p0, g->n[h][0]); /* v q pair sums, |.| <= 2 * 9 * 128 */
        p1 = _mm512_sub_epi16(p1, g->n[h][1]);
        /* the half's eight 2 ls + 1 (one per 16 values) from its two scale words at 48 + 4 h */
        const __m512i s = _mm512_castsi128_si512(iq1m_scales_from_words(sb + 48 + 4 * h));
        const __m512i s0 = _mm512_permutexvar_epi16(pick, s);
        const __m512i s1 = _mm512_permutexvar_epi16(_mm512_add_epi16(pick, _mm512_set1_epi16(4)), s);
        A[h] = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(_mm512_setzero_si512(), p0, s0), p1, s1);
#endif
    }
}

/* The sixteen rows' partial sums of both halves of the super-block -> two vectors of their totals (exact),
 * row[n]'s in lane IQ1_GG_LANE(n). The rows go in pairs, then pairs of pairs and so on, each step adding two
 * vectors while halving the lanes each row's sums occupy: few vectors live at a time. */
#define IQ1_GG_LANE(n) ((n) < 4 ? 4 * (n) : (n) < 8 ? 4 * ((n)-4) + 2 : (n) < 12 ? 4 * ((n)-8) + 1 : 4 * ((n)-12) + 3)

/* rows n, n + 1: [row n: 8 lanes | row n + 1: 8 lanes] */
IQ1_INLINE IQ1_ATTR void IQ1_NAME(gathered_rows2)(const IQ1_NAME(gathered_block) * g, int n, __m512i out[2]) {
    __m512i v[2][2];
    for (int i = 0; i < 2; ++i) {
        const uint8_t *sb = g->row[n + i] + g->at;
        _mm_prefetch((const char *)sb + g->ahead, _MM_HINT_T1); /* both lines of the super-block */
        _mm_prefetch((const char *)sb + g->ahead + 48, _MM_HINT_T1);
        IQ1_NAME(gathered_row)(sb, g, v[i]);
    }
    for (int h = 0; h < 2; ++h)
        out[h] = _mm512_add_epi32(_mm512_shuffle_i32x4(v[0][h], v[1][h], 0x44),
                                  _mm512_shuffle_i32x4(v[0][h], v[1][h], 0xEE));
}

/* rows n .. n + 3: 128-bit lane j holds row n + j (4 lanes) */
IQ1_INLINE IQ1_ATTR void IQ1_NAME(gathered_rows4)(const IQ1_NAME(gathered_block) * g, int n, __m512i out[2]) {
    __m512i a[2], b[2];
    IQ1_NAME(gathered_rows2)(g, n, a);
    IQ1_NAME(gathered_rows2)(g, n + 2, b);
    for (int h = 0; h < 2; ++h)
        out[h] = _mm512_add_epi32(_mm512_shuffle_i32x4(a[h], b[h], 0x88), _mm512_shuffle_i32x4(a[h], b[h], 0xDD));
}

/* rows n .. n + 7: 128-bit lane j holds row n + j (dwords 0-1) and row n + 4 + j (dwords 2-3) */
IQ1_INLINE IQ1_ATTR void IQ1_NAME(gathered_rows8)(const IQ1_NAME(gathered_block) * g, int n, __m512i out[2]) {
    __m512i a[2], b[2];
    IQ1_NAME(gathered_rows4)(g, n, a);
    IQ1_NAME(gathered_rows4)(g, n + 4, b);
    for (int h = 0; h < 2; ++h)
        out[h] = _mm512_add_epi32(_mm512_unpacklo_epi64(a[h], b[h]), _mm512_unpackhi_epi64(a[h], b[h]));
}

/* all sixteen: each pair's two lanes added into its low one, rows 0-7's pairs and rows 8-15's interleaved:
 * 128-bit lane j = [row j, row 8 + j, row 4 + j, row 12 + j] */
IQ1_INLINE IQ1_ATTR void IQ1_NAME(gathered_rows16)(const IQ1_NAME(gathered_block) * g, __m512i out[2]) {
    __m512i e0[2], e1[2];
    IQ1_NAME(gathered_rows8)(g, 0, e0);
    for (int h = 0; h < 2; ++h) e0[h] = _mm512_add_epi32(e0[h], _mm512_srli_epi64(e0[h], 32));
    IQ1_NAME(gathered_rows8)(g, 8, e1);
    for (int h = 0; h < 2; ++h) {
        e1[h] = _mm512_add_epi32(e1[h], _mm512_srli_epi64(e1[h], 32));
        out[h] = _mm512_mask_blend_epi32(0xAAAA, e0[h], _mm512_slli_epi64(e1[h], 32));
    }
}

/* The sixteen rows' fp16 super-block scales as floats, in row order: the super-block of row[0] at sb, the rows'
 * offsets from it in roff (at most 16 rows' bytes: int32) */
IQ1_INLINE IQ1_ATTR __m512 IQ1_NAME(gathered_scales)(const uint8_t *sb, __m512i roff) {
#if IQ1_DELTA_PER_32
    const __m512i d = _mm512_i32gather_epi32(roff, (const int *)sb, 1); /* the fp16 d in the low half */
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d));
#else
    /* the top nibbles of the four scale words at 48: bits 12-15, 28-31, 44-47, 60-63 of the qword -> 0-15 */
    __m256i h[2];
    for (int i = 0; i < 2; ++i) {
        const __m512i t =
            _mm512_i32gather_epi64(i ? _mm512_extracti64x4_epi64(roff, 1) : _mm512_castsi512_si256(roff), sb + 48, 1);
        const __m512i a = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi64(t, 12), _mm512_set1_epi64(0x000f)),
                                          _mm512_and_si512(_mm512_srli_epi64(t, 24), _mm512_set1_epi64(0x00f0)));
        const __m512i b = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi64(t, 36), _mm512_set1_epi64(0x0f00)),
                                          _mm512_and_si512(_mm512_srli_epi64(t, 48), _mm512_set1_epi64(0xf000)));
        h[i] = _mm512_cvtepi64_epi32(_mm512_or_si512(a, b));
    }
    return _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_inserti64x4(_mm512_castsi256_si512(h[0]), h[1], 1)));
#endif
}

/* rows [r0, r1) x column c: sixteen rows at a time, blocks in order */
static IQ1_ATTR void IQ1_NAME(gemv_gathered)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x,
                                             int64_t c, float *y, int64_t ldy) {
    const int64_t nsb = k / 256, rb = nsb * IQ1_GG_SB_BYTES, ahead = 16 * rb;
    const int8_t *q = x->qs + c * k;
    const int16_t *bsums = x->bsums + c * (k / 32);
    const float *da = x->d + c * (k / IQ1_QK_ACT);
    for (int64_t r = r0; r < r1; r += 16) {
        const uint8_t *row[16]; /* v[n] of the totals is row r + IQ1_GG_LANE(n); rows past r1 repeat the last */
        int32_t ro[16] __attribute__((aligned(64))); /* in lane IQ1_GG_LANE(n): row[n]'s bytes from row[0] = row r */
        for (int n = 0; n < 16; ++n) {
            const int64_t i = r + IQ1_GG_LANE(n);
            row[n] = w + (i < r1 ? i : r1 - 1) * rb;
            ro[IQ1_GG_LANE(n)] = (int32_t)(row[n] - row[0]);
        }
        const __m512i roff = _mm512_load_si512(ro);
        __m512 acc = _mm512_setzero_ps();
        for (int64_t j = 0; j < nsb; ++j) {
            const __m512 dw =
                _mm512_mul_ps(IQ1_NAME(gathered_scales)(row[0] + j * IQ1_GG_SB_BYTES, roff), _mm512_set1_ps(0.125f));
            IQ1_NAME(gathered_block) g = { .row = row, .at = j * IQ1_GG_SB_BYTES, .ahead = ahead };
            for (int h = 0; h < 2; ++h)
                for (int i = 0; i < 2; ++i) {
                    g.a[h][i] = _mm512_loadu_si512(q + IQ1_QK_ACT * (2 * j + h) + 64 * i);
                    g.n[h][i] = IQ1_DELTA_PER_32 ? _mm512_setzero_si512()
                                                 : _mm512_maddubs_epi16(_mm512_set1_epi8(9), g.a[h][i]);
                }
            if (IQ1_DELTA_PER_32) g.bs8 = _mm_loadu_si128((const __m128i *)(bsums + 8 * j));
            __m512i T[2];
            IQ1_NAME(gathered_rows16)(&g, T);
            for (int h = 0; h < 2; ++h)
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(T[h]), _mm512_mul_ps(dw, _mm512_set1_ps(da[2 * j + h])), acc);
        }
        const __mmask16 live = (__mmask16)(r1 - r < 16 ? (1u << (r1 - r)) - 1 : 0xffff);
        _mm512_mask_storeu_ps(y + c * ldy + r, live, acc);
    }
}

#undef IQ1_GG_SB_BYTES
#undef IQ1_GG_LANE
