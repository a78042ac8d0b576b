/* What the AVX-512 GEMVs of every format share (gemv_rows_avx512-inl.h, gemv_columns_avx512-inl.h): the
 * 8-row items (two quads of the 4-row decoders of decode_quad_avx2.h) and their walk, the lookups, the
 * activation broadcasts and nines, and the columns GEMV's copy of the activations. Include after the file's
 * #pragma GCC target (AVX-512 F/BW/VL/DQ). */
#ifndef IQ1_GEMV_AVX512_H
#define IQ1_GEMV_AVX512_H
#include <immintrin.h>
#include "common.h"
#include "decode_quad_avx2.h"

#define IQ1_GEMV_ROWS_PASS_K_AVX512 \
    16384 /* k values per rows-GEMV pass (bounds the M types' nines to 16 KB of stack) */
#define IQ1_GEMV_NINES_AVX512 (8 * IQ1_GEMV_ROWS_PASS_K_AVX512 / IQ1_QK_ACT) /* one column's nines of a pass (uint64) */

/* Eight rows: quad 0 from row r, quad 1 from row r + 4 (or the last row, whose group for the R4 types is
 * quad 0's: a missing quad re-reads rows of the matrix, never past it) */
typedef struct {
    iq1_rows4_avx2 q[2];
} iq1_rows8_avx512;
typedef struct {
    iq1_quad_avx2 q[2];
} __attribute__((aligned(64))) iq1_quad2_avx512;

IQ1_INLINE void iq1_rows8_at_avx512(iq1_rows8_avx512 *rs, iq1_type t, const uint8_t *w, int64_t k, int64_t r,
                                    int64_t last, int64_t b) {
    iq1_rows4_at_avx2(&rs->q[0], t, w, k, r, last, b);
    iq1_rows4_at_avx2(&rs->q[1], t, w, k, r + 4 <= last ? r + 4 : last, last, b);
}

/* the first rows of a walk of 8-row items: iq1_rows8_at_avx512 and the walk's ahead (iq1_walk_ahead_avx2) */
IQ1_INLINE void iq1_rows8_start_avx512(iq1_rows8_avx512 *rs, iq1_type t, const uint8_t *w, int64_t k, int64_t r,
                                       int64_t last, int64_t b) {
    iq1_rows8_at_avx512(rs, t, w, k, r, last, b);
    rs->q[0].ahead = rs->q[1].ahead = iq1_walk_ahead_avx2(t, k, 8);
}

/* [lo | hi] */
IQ1_INLINE __m512i iq1_join_avx512(__m256i lo, __m256i hi) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* groups g and g + 1 of the eight rows (both quads) from table; with `gather` (R4 offsets only) by vpgatherdq */
IQ1_INLINE void iq1_quad2_groups2_avx512(const char *table, int row_major, int gather, const iq1_quad2_avx512 *p, int g,
                                         __m512i *u0, __m512i *u1) {
    if (gather && !row_major) {
        /* R4 offsets, [group][row]: groups g, g + 1 of each quad in one 16-byte load, one gather per group and
         * eight rows */
        const __m128i a = _mm_load_si128((const __m128i *)(p->q[0].off + 4 * g));
        const __m128i b = _mm_load_si128((const __m128i *)(p->q[1].off + 4 * g));
        *u0 = _mm512_i32gather_epi64(_mm256_cvtepu16_epi32(_mm_unpacklo_epi64(a, b)), (const long long *)table, 1);
        *u1 = _mm512_i32gather_epi64(_mm256_cvtepu16_epi32(_mm_unpackhi_epi64(a, b)), (const long long *)table, 1);
        return;
    }
    __m256i a[2], b[2];
    for (int h = 0; h < 2; ++h) iq1_quad_groups2_avx2(table, row_major, &p->q[h], g, &a[h], &b[h]);
    *u0 = iq1_join_avx512(a[0], a[1]);
    *u1 = iq1_join_avx512(b[0], b[1]);
}

/* the 8 activations of group g in every row's lane */
IQ1_INLINE __m512i iq1_gemv_act_avx512(const int8_t *q, int g) {
    long long v;
    memcpy(&v, q + 8 * g, 8);
    return _mm512_set1_epi64(v);
}

/* M types: the nines of nb blocks of activations q. For slot s (groups 2s, 2s + 1) word j of every row's
 * four is 9 (q[16s + 2j] + q[16s + 2j + 1] + q[16s + 8 + 2j] + q[16s + 9 + 2j]): what the +9 of u adds
 * to the slot's vpmaddubsw pair sums. nines[8 j + s] holds those four words of block j. */
IQ1_INLINE void iq1_gemv_nines_avx512(const int8_t *q, int64_t nb, uint64_t *nines) {
    const __m512i nine = _mm512_set1_epi8(9);
    const __m512i low_qwords = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    for (int64_t j = 0; j < nb; ++j, q += IQ1_QK_ACT) {
        __m512i h[2];
        for (int t = 0; t < 2; ++t) { /* slots 4t .. 4t + 3 in the lanes; each group's two halves added */
            const __m512i p = _mm512_maddubs_epi16(nine, _mm512_loadu_si512(q + 64 * t));
            h[t] = _mm512_add_epi16(p, _mm512_unpackhi_epi64(p, p));
        }
        _mm512_storeu_si512(nines + 8 * j, _mm512_permutex2var_epi64(h[0], low_qwords, h[1]));
    }
}

/* the sums of the eight int32 pairs: [q0: r0 r0 r1 r1 r2 r2 r3 r3 | q1: ...] -> the eight rows' (and, in
 * gemv_columns_avx512-inl.h, [c0 c0 | ... | c7 c7] -> the eight columns') */
IQ1_INLINE __m256i iq1_pair_sums8_avx512(__m512i a) {
    const __m512i t = _mm512_add_epi32(a, _mm512_srli_epi64(a, 32)); /* the even lanes */
    return _mm512_castsi512_si256(
        _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14), t));
}

/* the (8-row, block) item after (r, b) of a walk over rows [.., r1) and blocks b0 + [0, nb), blocks inner
 * (as iq1_next_item_<format>_avx2 of gemv_rows_avx2-inl.h: after the last item *next and *bn name block 0 of the
 * current
 * rows, which the GEMV decodes for nothing rather than branch per decoder part) */
IQ1_INLINE int iq1_next_item8_avx512(iq1_type t, const uint8_t *w, int64_t k, int64_t r1, int64_t b0, int64_t nb,
                                     const iq1_rows8_avx512 *rows, int64_t r, int64_t b, int64_t *rn, int64_t *bn,
                                     iq1_rows8_avx512 *next) {
    *rn = r;
    *bn = b + 1;
    *next = *rows;
    if (*bn == nb) {
        *bn = 0;
        *rn = r + 8;
        if (*rn < r1) iq1_rows8_at_avx512(next, t, w, k, *rn, r1 - 1, b0);
    } else {
        iq1_rows4_step_avx2(&next->q[0], t, b0 + b);
        iq1_rows4_step_avx2(&next->q[1], t, b0 + b);
    }
    return *rn < r1;
}

/* Decoder part `part` (0..7) of an 8-row item: part % 4 of quad part / 4 */
#define IQ1_DECODE_QUAD2(next, b, part, np) IQ1_DECODE_QUAD(&(next)->q[(part) >> 2], b, (part)&3, &(np)->q[(part) >> 2])

#define IQ1_COLUMNS_CHUNK_BLOCKS_AVX512 32 /* 128-blocks per chunk of k (the AVX2 kernel's: "columns GEMV chunk") */

typedef struct {
    int8_t x[IQ1_COLUMNS_CHUNK_BLOCKS_AVX512][16][64];  /* [block][group]: the 8 values of each of 8 columns       */
    int16_t bs[IQ1_COLUMNS_CHUNK_BLOCKS_AVX512][32];    /* [block]: the four 32-block sums of each column (S types) */
    int16_t s9[IQ1_COLUMNS_CHUNK_BLOCKS_AVX512][2][32]; /* [block][slots 0-3, 4-7]: 9 x the 16-value sums (M types) */
    float d[IQ1_COLUMNS_CHUNK_BLOCKS_AVX512][8];        /* [block]: the columns' block scales                       */
} __attribute__((aligned(64))) iq1_columns_act_avx512;


/* row i (0..7) of the item, group g: its grid entry in every column's lane (table: the format's grid) */
IQ1_INLINE __m512i iq1_columns_entry_avx512(const char *table, int row_major, const iq1_quad2_avx512 *p, int i, int g) {
    long long v;
    memcpy(&v, table + iq1_quad_offset_avx2(&p->q[i >> 2], row_major, i & 3, g), 8);
    return _mm512_set1_epi64(v);
}

/* row i's integer scale of slot s, in every word (the decoder's sc words 4 (i % 4), 4 (i % 4) + 1) */
IQ1_INLINE __m512i iq1_columns_scale_avx512(const iq1_quad2_avx512 *p, int s, int i) {
    int v;
    memcpy(&v, &p->q[i >> 2].sc[s][4 * (i & 3)], 4);
    return _mm512_set1_epi32(v);
}

#endif
