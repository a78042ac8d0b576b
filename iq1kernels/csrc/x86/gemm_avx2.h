/* What the AVX2 GEMM of every format shares (gemm_avx2-inl.h): its tile sizes, the strip of decoded rows and
 * the 8 x 8 transpose. Include after the file's #pragma GCC target (AVX2, FMA, F16C). */
#ifndef IQ1_GEMM_AVX2_H
#define IQ1_GEMM_AVX2_H
#include <immintrin.h>
#include "common.h"
#include "decode_row_avx2.h"

#define IQ1_GEMM_CHUNK_AVX2 4096 /* k values per GEMM strip */
#define IQ1_GEMM_COLS_AVX2 8     /* columns of the GEMM register tile (8 rows x 8 columns) */
#define IQ1_GEMM_CHUNK_BLOCKS_AVX2 (IQ1_GEMM_CHUNK_AVX2 / IQ1_QK_ACT)

/* One GEMM strip: 8 rows x IQ1_GEMM_CHUNK_AVX2 values, rows in the int32 lanes */
typedef struct {
    int32_t W[IQ1_GEMM_CHUNK_BLOCKS_AVX2][32][8];          /* [block][quad][row]: 4 weight bytes                */
    int32_t C[IQ1_GEMM_CHUNK_BLOCKS_AVX2][8][8];           /* [block][pair][row]: 2 int16 coefficients / scales */
    int32_t R[IQ1_GEMM_CHUNK_BLOCKS_AVX2][8];              /* [block][row]: the plain variant's row constant    */
    float D[IQ1_GEMM_CHUNK_BLOCKS_AVX2][8];                /* [block][row]: dw                                  */
    iq1_row_prep_avx2 prep[8][IQ1_GEMM_CHUNK_BLOCKS_AVX2]; /* [row][block]: the decoder's output                */
    __m256i tmp[8][4];                                     /* AVX-VNNI: a block's rows before the transpose     */
} __attribute__((aligned(64))) iq1_strip_avx2;

/* 8 x 8 int32 transpose: r[i] lane j -> r[j] lane i */
IQ1_INLINE void iq1_transpose8_avx2(__m256i r[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; ++i) {
        u[4 * i] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int m = 0; m < 4; ++m) {
        r[m] = _mm256_permute2x128_si256(u[m], u[4 + m], 0x20);
        r[4 + m] = _mm256_permute2x128_si256(u[m], u[4 + m], 0x31);
    }
}

/* The plain GEMM's exact step: one 16-value slot of the 8 rows (w: its 4 quads, signed) against 4 activation
 * quads (a: unsigned, each broadcast), the products added in int16 (<= 4 * 2 * 255 * 9 = 18360 < 32768), then
 * one vpmaddwd with the slot's scale words: int32 per row */
IQ1_INLINE __m256i iq1_gemm_slot_avx2(__m256i a0, __m256i a1, __m256i a2, __m256i a3, __m256i w0, __m256i w1,
                                      __m256i w2, __m256i w3, __m256i sc) {
    const __m256i p01 = _mm256_add_epi16(_mm256_maddubs_epi16(a0, w0), _mm256_maddubs_epi16(a1, w1));
    const __m256i p23 = _mm256_add_epi16(_mm256_maddubs_epi16(a2, w2), _mm256_maddubs_epi16(a3, w3));
    return _mm256_madd_epi16(_mm256_add_epi16(p01, p23), sc);
}

/* lanes [0, n) all ones */
IQ1_INLINE __m256i iq1_lane_mask_avx2(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#endif
