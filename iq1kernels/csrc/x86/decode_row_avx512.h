/* AVX-512 decoders of one row's 128-value block (one Q8_K128 activation block) into the integer form
 * both AVX-512 matmul kernels (GEMV and repacking GEMM) multiply with:
 *
 *   lo, hi  u8, value i of the block: sc * u, u = g + 1 in {0, 1, 2}, sc the value's integer scale (<= 15)
 *   coef    per group of 8 values: sc * (sigma - 8), sigma = +1 / -1 the group's delta sign
 *   dw      0.125 * the row's fp16 scale
 *
 * so that for activations q (int8) with per-8 sums bsum8, the exact integer
 *   8 * sum_i w_i q_i + sum_g coef_g bsum8_g  =  sum_i sc (8 g + sigma) q_i  =  8 * sum_i sc (g + delta) q_i
 * times dw * d_x is the block's contribution. The unsigned u (not g) keeps w on the unsigned side of
 * vpdpbusd / vpmaddubsw; the "- 8" in coef removes the +1 offset again. Both kernels sum a block in
 * integers before converting it (exact, so the result cannot depend on the order or the kernel).
 *
 * Grid entries are fetched with scalar 8-byte loads from iq1_grid_unsigned: on the CPUs measured a
 * vpgatherqq costs more per element (docs/PERFORMANCE.md, Kernel design measurements, "gathered lookups"). Include
 * after the file's
 * #pragma GCC target (AVX-512 F/BW/VL/DQ). */
#ifndef IQ1_DECODE_ROW_AVX512_H
#define IQ1_DECODE_ROW_AVX512_H
#include <immintrin.h>
#include "common.h"
#include "grid_index_avx2.h"

#define IQ1_INLINE static inline __attribute__((always_inline))

/* What a decoder leaves in memory for one row and 128-block: the grid lookups happen later (iq1_expand_row_avx512),
 * when the stores have long completed; reading the indices back right after the vector store stalls on
 * store forwarding and costs more than the lookups themselves. */
typedef struct {
    uint32_t ix[16];  /* grid index of each group of 8 values */
    int16_t coef[16]; /* sc * (sigma - 8) per group */
    int16_t sc[8];    /* scale per 16 values */
    float dw;
    float pad[3]; /* 128 bytes: a GEMM strip's 16 x 32 of them are 64 KB */
} __attribute__((aligned(64))) iq1_row_prep_avx512;

/* two grid entries (8 bytes each) in one 128-bit lane */
IQ1_INLINE __m128i iq1_grid_pair_avx512(uint32_t a, uint32_t b) {
    return _mm_insert_epi64(_mm_loadl_epi64((const __m128i *)&iq1_grid_unsigned[a]), (long long)iq1_grid_unsigned[b],
                            1);
}

IQ1_INLINE __m512i iq1_grid8_avx512(const uint32_t *ix) {
    const __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(iq1_grid_pair_avx512(ix[0], ix[1])),
                                               iq1_grid_pair_avx512(ix[2], ix[3]), 1);
    const __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(iq1_grid_pair_avx512(ix[4], ix[5])),
                                               iq1_grid_pair_avx512(ix[6], ix[7]), 1);
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* The scale of every value of a block as 16-bit words, sc (8 words) the scales per 16 values: word j of lo (values
 * 2j, 2j + 1 of 0..63) holds sc[j / 8], word j of hi (of 64..127) sc[4 + j / 8] */
IQ1_INLINE void iq1_value_scales_avx512(__m128i sc, __m512i *lo, __m512i *hi) {
    const __m512i sel = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0,
                                         0, 0, 0, 0, 0, 0);
    const __m512i scv = _mm512_castsi128_si512(sc);
    *lo = _mm512_permutexvar_epi16(sel, scv);
    *hi = _mm512_permutexvar_epi16(_mm512_add_epi16(sel, _mm512_set1_epi16(4)), scv);
}

/* the scale of each of the 16 groups of 8 values: word g = sc[g / 2] */
IQ1_INLINE __m256i iq1_group_scales_avx512(__m128i sc) {
    return _mm256_permutexvar_epi16(_mm256_set_epi16(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0),
                                    _mm256_castsi128_si256(sc));
}

/* The 128 values mul * sc * u (u8): lo = values 0..63, hi = 64..127. mul is 1 or 8. */
IQ1_INLINE void iq1_expand_row_avx512(const iq1_row_prep_avx512 *p, int mul, __m512i *lo, __m512i *hi) {
    __m128i sc = _mm_load_si128((const __m128i *)p->sc);
    if (mul == 8) sc = _mm_slli_epi16(sc, 3);
    __m512i s_lo, s_hi;
    iq1_value_scales_avx512(sc, &s_lo, &s_hi);
    /* u <= 2 and mul * sc <= 120: a 16-bit multiply scales both bytes of a word without carry between them */
    *lo = _mm512_mullo_epi16(iq1_grid8_avx512(p->ix), s_lo);
    *hi = _mm512_mullo_epi16(iq1_grid8_avx512(p->ix + 8), s_hi);
}

/* sigma sc of each group (words): the decoder's coefficient sc (sigma - 8) plus 8 sc */
IQ1_INLINE __m256i iq1_sigma_sc_avx512(const iq1_row_prep_avx512 *p) {
    const __m256i scg = iq1_group_scales_avx512(_mm_load_si128((const __m128i *)p->sc));
    return _mm256_add_epi16(_mm256_load_si256((const __m256i *)p->coef), _mm256_slli_epi16(scg, 3));
}

/* idx: lane g = grid index of group g (bits 0..10) and its delta sign (bit 11); sc: 8 int16 scales, one per
 * 16 values */
IQ1_INLINE void iq1_finish_row_avx512(__m512i idx, __m128i sc, float dw, iq1_row_prep_avx512 *o) {
    _mm512_store_si512(o->ix, _mm512_and_si512(idx, _mm512_set1_epi32(2047)));
    _mm_store_si128((__m128i *)o->sc, sc);
    const __m256i neg = _mm512_cvtepi32_epi16(_mm512_srli_epi32(idx, 11)); /* 0 or 1 */
    _mm256_store_si256((__m256i *)o->coef,
                       _mm256_mullo_epi16(iq1_group_scales_avx512(sc),
                                          _mm256_sub_epi16(_mm256_set1_epi16(-7), _mm256_add_epi16(neg, neg))));
    o->dw = dw;
}

/* The per-8 sums of n activations (n % 128 == 0) as int32 lanes with a zero high half (what vpmaddwd with
 * an int32 coef needs): vpsadbw sums q + 128 over each 8 bytes */
IQ1_INLINE void iq1_act_sums_avx512(const int8_t *q, int64_t n, uint32_t *sums) {
    const __m512i off = _mm512_set1_epi8((char)0x80), bias = _mm512_set1_epi64(1024);
    for (int64_t i = 0; i < n; i += 128) {
        const __m512i a = _mm512_loadu_si512(q + i), b = _mm512_loadu_si512(q + i + 64);
        const __m512i sa = _mm512_sub_epi64(_mm512_sad_epu8(_mm512_xor_si512(a, off), _mm512_setzero_si512()), bias);
        const __m512i sb = _mm512_sub_epi64(_mm512_sad_epu8(_mm512_xor_si512(b, off), _mm512_setzero_si512()), bias);
        const __m512i s =
            _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(sa)), _mm512_cvtepi64_epi32(sb), 1);
        _mm512_storeu_si512(sums + i / 8, _mm512_and_si512(s, _mm512_set1_epi32(0xffff)));
    }
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

IQ1_INLINE void iq1_decode_row_iq1_s_avx512(const uint8_t *w, int64_t k, int64_t r, int64_t b, iq1_row_prep_avx512 *o) {
    const uint8_t *blk = w + (r * (k / IQ1_QK_K) + b / 2) * IQ1S_BLOCK_BYTES;
    const int half = (int)(b & 1);
    const __m128i low = _mm_loadu_si128((const __m128i *)(blk + 2 + 16 * half));
    const __m128i qh4 = _mm_loadl_epi64((const __m128i *)(blk + 34 + 8 * half));
    iq1_finish_row_avx512(iq1s_indices_avx512(low, qh4), iq1s_scales_from_qh(qh4),
                          0.125f * _cvtsh_ss(iq1_load_u16(blk)), o);
}

IQ1_INLINE void iq1_decode_row_iq1_s_r4_avx512(const uint8_t *w, int64_t k, int64_t r, int64_t b,
                                               iq1_row_prep_avx512 *o) {
    const uint8_t *grp = w + (r / 4) * iq1_r4_group_bytes(k, IQ1S_R4_BLOCK_BYTES);
    const int row = (int)(r & 3);
    const uint8_t *blk = grp + 8 + 4 * b * IQ1S_R4_BLOCK_BYTES;
    const __m128i qh4 = iq1s_r4_row_qh(blk, row);
    iq1_finish_row_avx512(iq1s_indices_avx512(iq1_r4_row_bytes_avx2(blk, IQ1S_R4_BLOCK_BYTES, row), qh4),
                          iq1s_scales_from_qh(qh4), 0.125f * _cvtsh_ss(iq1_load_u16(grp + 2 * row)), o);
}

IQ1_INLINE void iq1_decode_row_iq1_m_avx512(const uint8_t *w, int64_t k, int64_t r, int64_t b, iq1_row_prep_avx512 *o) {
    const uint8_t *blk = w + (r * (k / IQ1_QK_K) + b / 2) * IQ1M_BLOCK_BYTES;
    const int half = (int)(b & 1);
    const __m128i low = _mm_loadu_si128((const __m128i *)(blk + 16 * half));
    const __m128i qh8 = _mm_loadl_epi64((const __m128i *)(blk + 32 + 8 * half));
    const __m128i sc = iq1m_scales_from_words(blk + 48 + 4 * half);
    iq1_finish_row_avx512(iq1m_indices_avx512(low, qh8), sc, 0.125f * _cvtsh_ss(iq1m_scale_bits(blk + 48)), o);
}

IQ1_INLINE void iq1_decode_row_iq1_m_r4_avx512(const uint8_t *w, int64_t k, int64_t r, int64_t b,
                                               iq1_row_prep_avx512 *o) {
    const uint8_t *grp = w + (r / 4) * iq1_r4_group_bytes(k, IQ1M_R4_BLOCK_BYTES);
    const int row = (int)(r & 3);
    const uint8_t *blk = grp + 8 + 4 * b * IQ1M_R4_BLOCK_BYTES;
    __m128i qh8, scv;
    iq1m_r4_row_qh_scales(blk, row, &qh8, &scv);
    iq1_finish_row_avx512(iq1m_indices_avx512(iq1_r4_row_bytes_avx2(blk, IQ1M_R4_BLOCK_BYTES, row), qh8), scv,
                          0.125f * _cvtsh_ss(iq1_load_u16(grp + 2 * row)), o);
}

/* 16 x 16 int32 transpose: r[i] lane j -> r[j] lane i */
IQ1_INLINE void iq1_transpose16_avx512(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; ++i) {
        r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    /* r[4 i + m], 128-bit lane L: rows 4i..4i+3 of element 4L + m; a 4 x 4 transpose of lanes remains */
    for (int m = 0; m < 4; ++m) t[m] = r[m], t[4 + m] = r[4 + m], t[8 + m] = r[8 + m], t[12 + m] = r[12 + m];
    for (int m = 0; m < 4; ++m) {
        const __m512i s0 = _mm512_shuffle_i32x4(t[m], t[4 + m], 0x44), s1 = _mm512_shuffle_i32x4(t[m], t[4 + m], 0xEE);
        const __m512i s2 = _mm512_shuffle_i32x4(t[8 + m], t[12 + m], 0x44),
                      s3 = _mm512_shuffle_i32x4(t[8 + m], t[12 + m], 0xEE);
        r[m] = _mm512_shuffle_i32x4(s0, s2, 0x88);
        r[4 + m] = _mm512_shuffle_i32x4(s0, s2, 0xDD);
        r[8 + m] = _mm512_shuffle_i32x4(s1, s3, 0x88);
        r[12 + m] = _mm512_shuffle_i32x4(s1, s3, 0xDD);
    }
}

#endif
