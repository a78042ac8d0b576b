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

/* per 16 values (the M types with VNNI, iq1_expand_row_half_avx512: 4 pairs, 4 slots) the pairs of 16-value halves
 * (2p, 2p + 1), the low 128 bits of coef */
IQ1_INLINE __m512i iq1_place_pairs_delta16_avx512(__m512i v, __m256i coef, int slot) {
    return _mm512_mask_broadcast_i32x4(v, (__mmask16)(0xFu << (4 * slot)), _mm256_castsi256_si128(coef));
}

IQ1_INLINE __m512i iq1_place_pairs_delta32_avx512(__m512i v, __m256i coef, int slot) {
    /* words 0, 4, 8, 12 (one per 32-block) -> dwords 2 slot, 2 slot + 1 */
    const __m256i c4 =
        _mm256_permutexvar_epi16(_mm256_setr_epi16(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), coef);
    return _mm512_or_si512(v, _mm512_maskz_broadcastq_epi64((__mmask8)(1u << slot), _mm256_castsi256_si128(c4)));
}

/* The GEMM's weights and coefficients of one row and block (both expand functions): lo, hi as
 * iq1_expand_row_avx512 (lo = values 0..63, hi = 64..127), the coefficients returned as int16 words */

/* mul sc u with the per-8 coefficients sc (sigma - 8) of the decoder: mul 8 for the VNNI GEMM of the S types, 1 for
 * the plain AVX-512 GEMM (vpmaddubsw pairs of 8 sc u q would saturate int16), which shifts its sums left by 3 */
IQ1_INLINE __m256i iq1_expand_row_coef_avx512(const iq1_row_prep_avx512 *p, int mul, __m512i *lo, __m512i *hi) {
    iq1_expand_row_avx512(p, mul, lo, hi);
    return _mm256_load_si256((const __m256i *)p->coef);
}

/* The M types with VNNI: w = sc (4 u + (sigma + 1) / 2) <= 135 and per 16 values the coefficient -9 sc (words
 * 0..7), so that 2 sum_i w_i q_i + sum_h coef_h bsum16_h = sum_i sc (8 g + sigma) q_i, the integer of every other
 * kernel, with one coefficient per 16 values instead of per 8 (four vpdpwssd a block and column, not eight). */
IQ1_INLINE __m256i iq1_expand_row_half_avx512(const iq1_row_prep_avx512 *p, __m512i *lo, __m512i *hi) {
    const __m128i sc = _mm_load_si128((const __m128i *)p->sc);
    __m512i s_lo, s_hi;
    iq1_value_scales_avx512(sc, &s_lo, &s_hi);
    /* sigma = +1 where sigma sc is positive, its sign bit clear */
    const __m256i sigma_sc = iq1_sigma_sc_avx512(p);
    const __mmask16 up = (__mmask16)~_mm_movemask_epi8(
        _mm_packs_epi16(_mm256_castsi256_si128(sigma_sc), _mm256_extracti128_si256(sigma_sc, 1))); /* sign bits */
    const __m512i one = _mm512_set1_epi8(1);
    /* 4 u <= 8 and (4 u + 1) sc <= 135: a 16-bit shift and multiply keep the bytes of a word apart */
    const __m512i tlo =
        _mm512_add_epi8(_mm512_slli_epi16(iq1_grid8_avx512(p->ix), 2), _mm512_maskz_mov_epi64((__mmask8)up, one));
    const __m512i thi = _mm512_add_epi8(_mm512_slli_epi16(iq1_grid8_avx512(p->ix + 8), 2),
                                        _mm512_maskz_mov_epi64((__mmask8)(up >> 8), one));
    *lo = _mm512_mullo_epi16(tlo, s_lo);
    *hi = _mm512_mullo_epi16(thi, s_hi);
    return _mm256_castsi128_si256(_mm_mullo_epi16(sc, _mm_set1_epi16(-9)));
}

#endif
