/* What the AVX2 GEMVs of every format share (gemv_rows_avx2-inl.h, gemv_columns_avx2-inl.h): activation
 * broadcasts, the reduction of the int32 sums to rows, the stores, and the columns GEMV's chunk of k. Include
 * after the file's #pragma GCC target (AVX2, FMA, F16C). */
#ifndef IQ1_GEMV_AVX2_H
#define IQ1_GEMV_AVX2_H
#include <immintrin.h>
#include "common.h"
#include "decode_quad_avx2.h"

#define IQ1_COLUMNS_CHUNK_BLOCKS_AVX2 \
    32 /* 128-blocks per chunk of k (a chunk re-walks the rows: "columns GEMV chunk") */

/* the 8 activations of group g, broadcast to the four rows */
IQ1_INLINE __m256i iq1_gemv_act_avx2(const int8_t *q, int g) {
    long long v;
    memcpy(&v, q + 8 * g, 8);
    return _mm256_set1_epi64x(v);
}

/* [r0 r0 r1 r1 | r2 r2 r3 r3] -> [r0 r1 r2 r3] */
IQ1_INLINE __m128i iq1_gemv_rows4_avx2(__m256i a) {
    const __m256i t = _mm256_add_epi32(a, _mm256_shuffle_epi32(a, 0xB1));
    return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(t, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
}

/* the first nr (<= 4) lanes of v to y (a masked store in the loop costs a register: "row stores") */
IQ1_INLINE void iq1_gemv_store_rows_avx2(float *y, int nr, __m128 v) {
    if (nr == 4) {
        _mm_storeu_ps(y, v);
        return;
    }
    float t[4];
    _mm_storeu_ps(t, v);
    for (int i = 0; i < nr; ++i) y[i] = t[i];
}

/* row i's integer scale of slot s, in all words */
IQ1_INLINE __m256i iq1_columns_scale_avx2(const iq1_quad_avx2 *p, int s, int i) {
    int v;
    memcpy(&v, &p->sc[s][4 * i], 4);
    return _mm256_set1_epi32(v);
}

/* the running fp32 sums of the item's rows [r, r + nr) and NQ column quads: facc[h][i] = row i, columns
 * 4 h .. 4 h + 3; from y (a later chunk) or zero; to y, ncols columns. A full quad of four rows is one
 * 4 x 4 transpose and four row-vector loads or stores. */
IQ1_INLINE void iq1_columns_load_avx2(const int NQ, float facc[2][4][4], const float *y, int64_t ldy, int nr, int ncols,
                                      int add) {
    for (int h = 0; h < NQ; ++h) {
        if (add && nr == 4 && 4 * h + 4 <= ncols) {
            __m128 c0 = _mm_loadu_ps(y + (4 * h) * ldy), c1 = _mm_loadu_ps(y + (4 * h + 1) * ldy);
            __m128 c2 = _mm_loadu_ps(y + (4 * h + 2) * ldy), c3 = _mm_loadu_ps(y + (4 * h + 3) * ldy);
            _MM_TRANSPOSE4_PS(c0, c1, c2, c3);
            _mm_store_ps(facc[h][0], c0);
            _mm_store_ps(facc[h][1], c1);
            _mm_store_ps(facc[h][2], c2);
            _mm_store_ps(facc[h][3], c3);
            continue;
        }
        for (int i = 0; i < 4; ++i)
            for (int n = 0; n < 4; ++n)
                facc[h][i][n] = add && i < nr && 4 * h + n < ncols ? y[(4 * h + n) * ldy + i] : 0.0f;
    }
}

IQ1_INLINE void iq1_columns_store_avx2(const int NQ, float facc[2][4][4], float *y, int64_t ldy, int nr, int ncols) {
    for (int h = 0; h < NQ; ++h) {
        if (nr == 4 && 4 * h + 4 <= ncols) {
            __m128 r0 = _mm_load_ps(facc[h][0]), r1 = _mm_load_ps(facc[h][1]);
            __m128 r2 = _mm_load_ps(facc[h][2]), r3 = _mm_load_ps(facc[h][3]);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(y + (4 * h) * ldy, r0);
            _mm_storeu_ps(y + (4 * h + 1) * ldy, r1);
            _mm_storeu_ps(y + (4 * h + 2) * ldy, r2);
            _mm_storeu_ps(y + (4 * h + 3) * ldy, r3);
            continue;
        }
        for (int n = 0; n < 4 && 4 * h + n < ncols; ++n)
            for (int i = 0; i < nr; ++i) y[(4 * h + n) * ldy + i] = facc[h][i][n];
    }
}

#endif
