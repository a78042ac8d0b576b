/* AVX-512 versions of the decode128.h decoders (same outputs): the 16 grid indices of a 128-value block
 * are built in one vector from the low bytes and the high-bit words, and the 16 8-byte v values are
 * fetched with two gathers from iq1_grid_v8 (indexed by idx + 2048 * delta sign). Include after the
 * file's #pragma GCC target (AVX-512 F/BW/VL/DQ). */
#ifndef IQ1_DECODE128_AVX512_H
#define IQ1_DECODE128_AVX512_H
#include <immintrin.h>
#include "decode128_avx2.h"   /* iq1_r4_row_bytes_avx2 (SSSE3) */

/* v[0..127] from 16 indices (lane i = group i) with the delta sign already in bit 11 */
static inline void iq1_gather_v8_avx512(__m512i idx, int8_t *v) {
    const long long *table = (const long long *)&iq1_grid_v8[0][0];
    _mm512_storeu_si512(v, _mm512_i32gather_epi64(_mm512_castsi512_si256(idx), table, 8));
    _mm512_storeu_si512(v + 64, _mm512_i32gather_epi64(_mm512_extracti32x8_epi32(idx, 1), table, 8));
}

/* IQ1_S and IQ1_S_R4 share this: 16 low bytes (group order 4 * block + l), 4 qh words (one per 32-block) */
static inline __m512i iq1s_indices_avx512(__m128i low, __m128i qh4) {
    const __m512i lo = _mm512_cvtepu8_epi32(low);
    const __m512i qh = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                                _mm512_cvtepu16_epi32(_mm256_castsi128_si256(qh4)));
    const __m512i shift = _mm512_setr_epi32(0, 3, 6, 9, 0, 3, 6, 9, 0, 3, 6, 9, 0, 3, 6, 9);
    const __m512i hi = _mm512_and_si512(_mm512_srlv_epi32(qh, shift), _mm512_set1_epi32(7));
    const __m512i neg = _mm512_srli_epi32(qh, 15);
    return _mm512_or_si512(lo, _mm512_or_si512(_mm512_slli_epi32(hi, 8), _mm512_slli_epi32(neg, 11)));
}

static inline void iq1_decode128_iq1_s_avx512(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128],
                                              int sc[8], float *dw) {
    const uint8_t *blk = w + (r * (k / IQ1_QK_K) + b / 2) * IQ1S_BLOCK_BYTES;
    const int half = (int)(b % 2);
    *dw = 0.125f * _cvtsh_ss(iq1_load_u16(blk));
    const __m128i low = _mm_loadu_si128((const __m128i *)(blk + 2 + 16 * half));
    const __m128i qh4 = _mm_loadl_epi64((const __m128i *)(blk + 34 + 8 * half));
    iq1_gather_v8_avx512(iq1s_indices_avx512(low, qh4), v);
    for (int s = 0; s < 4; ++s) sc[2 * s] = sc[2 * s + 1] = 2 * ((iq1_load_u16(blk + 34 + 8 * half + 2 * s) >> 12) & 7) + 1;
}

static inline void iq1_decode128_iq1_s_r4_avx512(const uint8_t *w, int64_t k, int64_t r, int64_t b,
                                                 int8_t v[128], int sc[8], float *dw) {
    const uint8_t *grp = w + (r / 4) * iq1_r4_group_bytes(k, IQ1S_R4_BLOCK_BYTES);
    const int row = (int)(r % 4);
    const uint8_t *blk = grp + 8 + 4 * b * IQ1S_R4_BLOCK_BYTES;
    *dw = 0.125f * _cvtsh_ss(iq1_load_u16(grp + 2 * row));
    uint16_t qh[4];
    iq1s_r4_qh_scales(blk, row, qh, sc);
    const __m128i qh4 = _mm_loadl_epi64((const __m128i *)qh);
    iq1_gather_v8_avx512(iq1s_indices_avx512(iq1_r4_row_bytes_avx2(blk, IQ1S_R4_BLOCK_BYTES, row), qh4), v);
}

/* IQ1_M and IQ1_M_R4: 16 low bytes (group order) and 8 qh bytes, qh byte j serving groups 2j and 2j+1:
 * bits 4h..4h+2 high index bits, bit 4h+3 delta sign */
static inline __m512i iq1m_indices_avx512(__m128i low, __m128i qh8) {
    const __m512i lo = _mm512_cvtepu8_epi32(low);
    const __m512i qh = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
                                                _mm512_cvtepu8_epi32(qh8));
    const __m512i shift = _mm512_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4);
    const __m512i bits = _mm512_srlv_epi32(qh, shift);
    const __m512i hi = _mm512_and_si512(bits, _mm512_set1_epi32(7));
    const __m512i neg = _mm512_and_si512(_mm512_srli_epi32(bits, 3), _mm512_set1_epi32(1));
    return _mm512_or_si512(lo, _mm512_or_si512(_mm512_slli_epi32(hi, 8), _mm512_slli_epi32(neg, 11)));
}

static inline void iq1_decode128_iq1_m_avx512(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128],
                                              int sc[8], float *dw) {
    const uint8_t *blk = w + (r * (k / IQ1_QK_K) + b / 2) * IQ1M_BLOCK_BYTES;
    const uint8_t *qs = blk, *qh = blk + 32, *scales = blk + 48;
    const int half = (int)(b % 2);
    *dw = 0.125f * _cvtsh_ss(iq1m_scale_bits(scales));
    for (int s = 0; s < 8; ++s) {
        const int j = 8 * half + s;
        sc[s] = 2 * ((iq1_load_u16(scales + 2 * (j / 4)) >> (3 * (j % 4))) & 7) + 1;
    }
    const __m128i low = _mm_loadu_si128((const __m128i *)(qs + 16 * half));
    const __m128i qh8 = _mm_loadl_epi64((const __m128i *)(qh + 8 * half));
    iq1_gather_v8_avx512(iq1m_indices_avx512(low, qh8), v);
}

static inline void iq1_decode128_iq1_m_r4_avx512(const uint8_t *w, int64_t k, int64_t r, int64_t b,
                                                 int8_t v[128], int sc[8], float *dw) {
    const uint8_t *grp = w + (r / 4) * iq1_r4_group_bytes(k, IQ1M_R4_BLOCK_BYTES);
    const int row = (int)(r % 4);
    const uint8_t *blk = grp + 8 + 4 * b * IQ1M_R4_BLOCK_BYTES;
    *dw = 0.125f * _cvtsh_ss(iq1_load_u16(grp + 2 * row));
    uint8_t qh[8];
    iq1m_r4_qh_scales(blk, row, qh, sc);
    const __m128i qh8 = _mm_loadl_epi64((const __m128i *)qh);
    iq1_gather_v8_avx512(iq1m_indices_avx512(iq1_r4_row_bytes_avx2(blk, IQ1M_R4_BLOCK_BYTES, row), qh8), v);
}

#endif
