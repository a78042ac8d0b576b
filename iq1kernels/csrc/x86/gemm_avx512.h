/* What the AVX-512 GEMM of every format shares (gemm_avx512-inl.h): its tile sizes, the strip of decoded
 * rows, and the placement of the delta coefficients (one version per delta kind). Include after the file's
 * #pragma GCC target (AVX-512 F/BW/VL/DQ). */
#ifndef IQ1_GEMM_AVX512_H
#define IQ1_GEMM_AVX512_H
#include <immintrin.h>
#include "common.h"
#include "decode_row_avx512.h"

#define IQ1_GEMM_CHUNK_AVX512 4096 /* k values per GEMM strip */
#define IQ1_GEMM_COLS_AVX512 12    /* columns of the GEMM register tile (16 rows x 12 columns) */

/* One GEMM strip: 16 rows x IQ1_GEMM_CHUNK_AVX512 values, rows in the int32 lanes */
typedef struct {
    int32_t W[IQ1_GEMM_CHUNK_AVX512 / IQ1_QK_ACT][32][16];            /* [block][quad][row]: 4 weight bytes          */
    int32_t C[IQ1_GEMM_CHUNK_AVX512 / IQ1_QK_ACT][8][16];             /* [block][pair][row]: 2 int16 coefficients    */
    float D[IQ1_GEMM_CHUNK_AVX512 / IQ1_QK_ACT][16];                  /* [block][row]: dw                            */
    iq1_row_prep_avx512 prep[16][IQ1_GEMM_CHUNK_AVX512 / IQ1_QK_ACT]; /* [row][block]: the decoder's output         */
} __attribute__((aligned(64))) iq1_strip_avx512;

/* The delta-correction coefficients of one row and block as int16 pairs (dwords), placed in slot `slot` of v:
 * per 8 values (the M types, 8 pairs, 2 slots) the pairs of groups (2p, 2p + 1); per 32 values (the S types,
 * constant over a 32-block: 2 pairs, 8 slots) the pairs of 32-blocks (0, 1) and (2, 3). */
IQ1_INLINE __m512i iq1_place_pairs_delta8_avx512(__m512i v, __m256i coef, int slot) {
    return slot == 0 ? _mm512_inserti64x4(v, coef, 0) : _mm512_inserti64x4(v, coef, 1);
}

IQ1_INLINE __m512i iq1_place_pairs_delta32_avx512(__m512i v, __m256i coef, int slot) {
    /* words 0, 4, 8, 12 (one per 32-block) -> dwords 2 slot, 2 slot + 1 */
    const __m256i c4 =
        _mm256_permutexvar_epi16(_mm256_setr_epi16(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), coef);
    return _mm512_or_si512(v, _mm512_maskz_broadcastq_epi64((__mmask8)(1u << slot), _mm256_castsi256_si128(c4)));
}

#endif
