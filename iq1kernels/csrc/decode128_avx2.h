/* AVX2 versions of the decode128.h decoders (same outputs; see decode128_avx512.h): the 16 grid indices
 * of a 128-value block are built in two vectors and the 8-byte v values fetched with four gathers from
 * iq1_grid_v8. Include after the file's #pragma GCC target (AVX2). */
#ifndef IQ1_DECODE128_AVX2_H
#define IQ1_DECODE128_AVX2_H
#include <immintrin.h>
#include "decode128.h"

static inline void iq1_gather_v8_avx2(__m256i idx_lo, __m256i idx_hi, int8_t *v) {
    const long long *table = (const long long *)&iq1_grid_v8[0][0];
    _mm256_storeu_si256((__m256i *)v, _mm256_i32gather_epi64(table, _mm256_castsi256_si128(idx_lo), 8));
    _mm256_storeu_si256((__m256i *)(v + 32), _mm256_i32gather_epi64(table, _mm256_extracti128_si256(idx_lo, 1), 8));
    _mm256_storeu_si256((__m256i *)(v + 64), _mm256_i32gather_epi64(table, _mm256_castsi256_si128(idx_hi), 8));
    _mm256_storeu_si256((__m256i *)(v + 96), _mm256_i32gather_epi64(table, _mm256_extracti128_si256(idx_hi, 1), 8));
}

/* 8 indices: low bytes `low` (8 x int32), per-lane high-bit word `qh`, shift of the 3 bits, sign bit */
static inline __m256i iq1_indices8_avx2(__m256i low, __m256i qh, __m256i shift, __m256i sign_shift) {
    const __m256i hi = _mm256_and_si256(_mm256_srlv_epi32(qh, shift), _mm256_set1_epi32(7));
    const __m256i neg = _mm256_and_si256(_mm256_srlv_epi32(qh, sign_shift), _mm256_set1_epi32(1));
    return _mm256_or_si256(low, _mm256_or_si256(_mm256_slli_epi32(hi, 8), _mm256_slli_epi32(neg, 11)));
}

/* IQ1_S / IQ1_S_R4: 16 low bytes in group order, 4 qh words (one per 32-block: bits 3l.. and bit 15) */
static inline void iq1s_gather_avx2(__m128i low16, __m128i qh4, int8_t *v) {
    const __m256i qh = _mm256_cvtepu16_epi32(qh4);                                   /* lanes 0..3 */
    const __m256i shift = _mm256_setr_epi32(0, 3, 6, 9, 0, 3, 6, 9), sign = _mm256_set1_epi32(15);
    const __m256i q01 = _mm256_permutevar8x32_epi32(qh, _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
    const __m256i q23 = _mm256_permutevar8x32_epi32(qh, _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3));
    iq1_gather_v8_avx2(iq1_indices8_avx2(_mm256_cvtepu8_epi32(low16), q01, shift, sign),
                       iq1_indices8_avx2(_mm256_cvtepu8_epi32(_mm_srli_si128(low16, 8)), q23, shift, sign), v);
}

/* IQ1_M / IQ1_M_R4: 16 low bytes, 8 qh bytes (byte j: groups 2j, 2j+1; bits 4h.., sign bit 4h+3) */
static inline void iq1m_gather_avx2(__m128i low16, __m128i qh8, int8_t *v) {
    const __m256i qh = _mm256_cvtepu8_epi32(qh8);                                    /* lanes 0..7 */
    const __m256i shift = _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4);
    const __m256i sign = _mm256_setr_epi32(3, 7, 3, 7, 3, 7, 3, 7);
    const __m256i q03 = _mm256_permutevar8x32_epi32(qh, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
    const __m256i q47 = _mm256_permutevar8x32_epi32(qh, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7));
    iq1_gather_v8_avx2(iq1_indices8_avx2(_mm256_cvtepu8_epi32(low16), q03, shift, sign),
                       iq1_indices8_avx2(_mm256_cvtepu8_epi32(_mm_srli_si128(low16, 8)), q47, shift, sign), v);
}

/* the bytes at offset `row` of four 4-byte groups of four R4 blocks `stride` bytes apart */
static inline __m128i iq1_r4_row_bytes_avx2(const uint8_t *blk, int64_t stride, int row) {
    const __m128i pick = _mm_setr_epi8((char)row, (char)(4 + row), (char)(8 + row), (char)(12 + row),
                                       -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i a = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)blk), pick);
    const __m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blk + stride)), pick);
    const __m128i c = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blk + 2 * stride)), pick);
    const __m128i d = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blk + 3 * stride)), pick);
    return _mm_unpacklo_epi64(_mm_unpacklo_epi32(a, b), _mm_unpacklo_epi32(c, d));
}

static inline void iq1_decode128_iq1_s_avx2(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128],
                                            int sc[8], float *dw) {
    const uint8_t *blk = w + (r * (k / IQ1_QK_K) + b / 2) * IQ1S_BLOCK_BYTES;
    const int half = (int)(b % 2);
    *dw = 0.125f * _cvtsh_ss(iq1_load_u16(blk));
    for (int s = 0; s < 4; ++s) sc[2 * s] = sc[2 * s + 1] = 2 * ((iq1_load_u16(blk + 34 + 8 * half + 2 * s) >> 12) & 7) + 1;
    iq1s_gather_avx2(_mm_loadu_si128((const __m128i *)(blk + 2 + 16 * half)),
                     _mm_loadl_epi64((const __m128i *)(blk + 34 + 8 * half)), v);
}

static inline void iq1_decode128_iq1_s_r4_avx2(const uint8_t *w, int64_t k, int64_t r, int64_t b,
                                               int8_t v[128], int sc[8], float *dw) {
    const uint8_t *grp = w + (r / 4) * iq1_r4_group_bytes(k, IQ1S_R4_BLOCK_BYTES);
    const int row = (int)(r % 4);
    const uint8_t *blk = grp + 8 + 4 * b * IQ1S_R4_BLOCK_BYTES;
    *dw = 0.125f * _cvtsh_ss(iq1_load_u16(grp + 2 * row));
    uint16_t qh[4];
    iq1s_r4_qh_scales(blk, row, qh, sc);
    iq1s_gather_avx2(iq1_r4_row_bytes_avx2(blk, IQ1S_R4_BLOCK_BYTES, row), _mm_loadl_epi64((const __m128i *)qh), v);
}

static inline void iq1_decode128_iq1_m_avx2(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128],
                                            int sc[8], float *dw) {
    const uint8_t *blk = w + (r * (k / IQ1_QK_K) + b / 2) * IQ1M_BLOCK_BYTES;
    const uint8_t *scales = blk + 48;
    const int half = (int)(b % 2);
    *dw = 0.125f * _cvtsh_ss(iq1m_scale_bits(scales));
    for (int s = 0; s < 8; ++s) {
        const int j = 8 * half + s;
        sc[s] = 2 * ((iq1_load_u16(scales + 2 * (j / 4)) >> (3 * (j % 4))) & 7) + 1;
    }
    iq1m_gather_avx2(_mm_loadu_si128((const __m128i *)(blk + 16 * half)),
                     _mm_loadl_epi64((const __m128i *)(blk + 32 + 8 * half)), v);
}

static inline void iq1_decode128_iq1_m_r4_avx2(const uint8_t *w, int64_t k, int64_t r, int64_t b,
                                               int8_t v[128], int sc[8], float *dw) {
    const uint8_t *grp = w + (r / 4) * iq1_r4_group_bytes(k, IQ1M_R4_BLOCK_BYTES);
    const int row = (int)(r % 4);
    const uint8_t *blk = grp + 8 + 4 * b * IQ1M_R4_BLOCK_BYTES;
    *dw = 0.125f * _cvtsh_ss(iq1_load_u16(grp + 2 * row));
    uint8_t qh[8];
    iq1m_r4_qh_scales(blk, row, qh, sc);
    iq1m_gather_avx2(iq1_r4_row_bytes_avx2(blk, IQ1M_R4_BLOCK_BYTES, row), _mm_loadl_epi64((const __m128i *)qh), v);
}

#endif
