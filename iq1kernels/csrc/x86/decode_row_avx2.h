/* AVX2 decoders of one row's 128-value block (one Q8_K128 activation block) into the integer forms the
 * AVX2 repacking GEMM (gemm_avx2-inl.h) multiplies with; the same math as decode_row_avx512.h (the AVX2
 * GEMV decodes four rows at once instead: decode_quad_avx2.h). Every form gives the exact integer
 * sum_i sc (8 g + sigma) q_i of a row and block: g in {-1, 0, 1} the grid value, sigma = +1 / -1 the group's
 * delta sign (delta = sigma / 8), sc the value's integer scale (<= 15), q the Q8_K128 activations; and
 * dw = 0.125 * the row's fp16 scale.
 *
 * Unsigned weights (the AVX-VNNI GEMM: vpdpbusd takes the weights as its unsigned operand):
 *   weights  u8, value i of the block: sc * u, u = g + 1 in {0, 1, 2}
 *   coef     int16 per group of 8 values: sc * (sigma - 8)
 *   8 * sum_i w_i q_i + sum_g coef_g bsum8_g  =  sum_i sc (8 g + sigma) q_i
 * A block is four ymm in "split" order: v0 = the first 4 values of groups 0..7 (int32 lane g = group g),
 * v1 = the last 4 values of groups 0..7, v2 / v3 the same for groups 8..15. After the byte dot products
 * and a vpmaddwd the int32 lane g holds exactly groups g and g + 8, and the coefficients are stored as
 * int16 pairs (coef_g, coef_g+8) in dword g, activation sums as pairs (bsum8_g, bsum8_g+8): one
 * vpmaddwd adds both groups' corrections into the same lane, so the cancellation is exact in integers.
 *
 * Signed weights (the plain GEMM: vpmaddubsw takes the activations, offset to q + 128, as its unsigned operand):
 *   weights  s8, value i: w = 8 g + sigma in {-9, -7, -1, 1, 7, 9} (iq1_grid_v8), in natural order
 *   sum_s sc_s sum_{i in s} w_i (q_i + 128) - 128 sum_s sc_s sum_{i in s} w_i  =  sum_i sc (8 g + sigma) q_i
 * over the 16-value scale slots s; the second term depends on the row alone (gemm_strip computes it once).
 *
 * Grid entries are fetched with scalar 8-byte loads (gathers are slower).
 * Include after the file's #pragma GCC target (AVX2, F16C). */
#ifndef IQ1_DECODE_ROW_AVX2_H
#define IQ1_DECODE_ROW_AVX2_H
#include <immintrin.h>
#include "common.h"
#include "grid_index_avx2.h" /* iq1_indices8_avx2, iq1_r4_row_bytes_avx2 */

#define IQ1_INLINE static inline __attribute__((always_inline))

/* What a decoder leaves in memory for one row and 128-block (the grid lookups happen in the GEMM's strip) */
typedef struct {
    uint32_t ix[16]; /* grid index of each group of 8 values (bits 0..10) and its delta sign (bit 11: sigma = -1) */
    int32_t coef[8]; /* dword g: int16 pair (coef_g, coef_g+8), coef = sc * (sigma - 8) */
    int16_t sc[8];   /* scale per 16 values */
    float dw;
    float pad[3];
} __attribute__((aligned(32))) iq1_row_prep_avx2;

/* [grid a, grid b | grid c, grid d] (u8 u = g + 1; the indices' sign bits ignored) */
IQ1_INLINE __m256i iq1_grid4_avx2(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    return iq1_entries4_avx2((const char *)iq1_grid_unsigned, 8 * (uint64_t)(a & 2047), 8 * (uint64_t)(b & 2047),
                             8 * (uint64_t)(c & 2047), 8 * (uint64_t)(d & 2047));
}

/* x = [G0 G1 | G4 G5], y = [G2 G3 | G6 G7] (8-byte groups) -> lo = first dwords of G0..G7, hi = second */
IQ1_INLINE void iq1_split2_avx2(__m256i x, __m256i y, __m256i *lo, __m256i *hi) {
    *lo = _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(x), _mm256_castsi256_ps(y), 0x88));
    *hi = _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(x), _mm256_castsi256_ps(y), 0xDD));
}

/* The 128 values (mul * sc * u, u8) in split order v[0..3] (see the top). mul is 1 or 8. */
IQ1_INLINE void iq1_expand_row_avx2(const iq1_row_prep_avx2 *p, int mul, __m256i v[4]) {
    const uint32_t *ix = p->ix;
    iq1_split2_avx2(iq1_grid4_avx2(ix[0], ix[1], ix[4], ix[5]), iq1_grid4_avx2(ix[2], ix[3], ix[6], ix[7]), &v[0],
                    &v[1]);
    iq1_split2_avx2(iq1_grid4_avx2(ix[8], ix[9], ix[12], ix[13]), iq1_grid4_avx2(ix[10], ix[11], ix[14], ix[15]), &v[2],
                    &v[3]);
    __m128i sc = _mm_load_si128((const __m128i *)p->sc);
    if (mul == 8) sc = _mm_slli_epi16(sc, 3);
    const __m256i scb = _mm256_broadcastsi128_si256(sc);
    /* word j of a lane: group 4 L + j / 2 of the vector's 8, scale (group) / 2 */
    const __m256i ca = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6,
                                        7, 6, 7, 6, 7);
    const __m256i scA = _mm256_shuffle_epi8(scb, ca);
    const __m256i scB = _mm256_shuffle_epi8(scb, _mm256_add_epi8(ca, _mm256_set1_epi8(8)));
    /* u <= 2 and mul * sc <= 120: a 16-bit multiply scales both bytes of a word without carry between them */
    v[0] = _mm256_mullo_epi16(v[0], scA);
    v[1] = _mm256_mullo_epi16(v[1], scA);
    v[2] = _mm256_mullo_epi16(v[2], scB);
    v[3] = _mm256_mullo_epi16(v[3], scB);
}

/* ia / ib: lane g = grid index of group g / g + 8 (bits 0..10) and its delta sign (bit 11); sc: 8 int16
 * scales, one per 16 values */
IQ1_INLINE void iq1_finish_row_avx2(__m256i ia, __m256i ib, __m128i sc, float dw, iq1_row_prep_avx2 *o) {
    _mm256_store_si256((__m256i *)o->ix, ia);
    _mm256_store_si256((__m256i *)(o->ix + 8), ib);
    _mm_store_si128((__m128i *)o->sc, sc);
    /* words [A0..A3 B0..B3 | A4..A7 B4..B7] -> [A0 B0 A1 B1 A2 B2 A3 B3 | A4 B4 ...]: dword g = (g, g + 8) */
    const __m256i order = _mm256_setr_epi8(0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15, 0, 1, 8, 9, 2, 3, 10,
                                           11, 4, 5, 12, 13, 6, 7, 14, 15);
    const __m256i w = _mm256_shuffle_epi8(_mm256_packs_epi32(ia, ib), order);
    const __m256i neg = _mm256_srli_epi16(w, 11); /* 0 or 1 */
    /* the scale of group g is sc[g / 2]: dword d of lane L (g = 4 L + d) pairs sc[g / 2] and sc[4 + g / 2] */
    const __m256i pick = _mm256_setr_epi8(0, 1, 8, 9, 0, 1, 8, 9, 2, 3, 10, 11, 2, 3, 10, 11, 4, 5, 12, 13, 4, 5, 12,
                                          13, 6, 7, 14, 15, 6, 7, 14, 15);
    const __m256i scw = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(sc), pick);
    const __m256i coef = _mm256_mullo_epi16(scw, _mm256_sub_epi16(_mm256_set1_epi16(-7), _mm256_add_epi16(neg, neg)));
    _mm256_store_si256((__m256i *)o->coef, coef);
    o->dw = dw;
}

/* One column's activations of n values (n % 128 == 0) in split order (see iq1_expand_row_avx2), and per block 8
 * dwords of int16 per-8 sum pairs (bsum8_g, bsum8_g+8) */
IQ1_INLINE void iq1_split_act_avx2(const int8_t *q, int64_t n, int8_t *split, uint32_t *sums) {
    const __m256i off = _mm256_set1_epi8((char)0x80), z = _mm256_setzero_si256();
    for (int64_t i = 0; i < n; i += 128) {
        const __m256i q0 = _mm256_loadu_si256((const __m256i *)(q + i)),
                      q1 = _mm256_loadu_si256((const __m256i *)(q + i + 32));
        const __m256i q2 = _mm256_loadu_si256((const __m256i *)(q + i + 64)),
                      q3 = _mm256_loadu_si256((const __m256i *)(q + i + 96));
        __m256i v0, v1, v2, v3;
        iq1_split2_avx2(_mm256_permute2x128_si256(q0, q1, 0x20), _mm256_permute2x128_si256(q0, q1, 0x31), &v0, &v1);
        iq1_split2_avx2(_mm256_permute2x128_si256(q2, q3, 0x20), _mm256_permute2x128_si256(q2, q3, 0x31), &v2, &v3);
        _mm256_store_si256((__m256i *)(split + i), v0);
        _mm256_store_si256((__m256i *)(split + i + 32), v1);
        _mm256_store_si256((__m256i *)(split + i + 64), v2);
        _mm256_store_si256((__m256i *)(split + i + 96), v3);
        /* vpsadbw sums q + 128 over each 8 bytes (<= 2040: 16 bits) */
        const __m256i s0 = _mm256_sad_epu8(_mm256_xor_si256(q0, off), z),
                      s1 = _mm256_sad_epu8(_mm256_xor_si256(q1, off), z);
        const __m256i s2 = _mm256_sad_epu8(_mm256_xor_si256(q2, off), z),
                      s3 = _mm256_sad_epu8(_mm256_xor_si256(q3, off), z);
        const __m256i t0 = _mm256_or_si256(s0, _mm256_slli_epi64(s2, 16)); /* qword g: (g, g + 8), g = 0..3 */
        const __m256i t1 = _mm256_or_si256(s1, _mm256_slli_epi64(s3, 16)); /* g = 4..7 */
        const __m256i p =
            _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(t0), _mm256_castsi256_ps(t1), 0x88));
        const __m256i s = _mm256_sub_epi16(_mm256_permute4x64_epi64(p, 0xD8), _mm256_set1_epi16(1024));
        _mm256_store_si256((__m256i *)(sums + i / 16), s);
    }
}

/* IQ1_S / IQ1_S_R4: 16 low bytes (group order), 4 qh words (one per 32-block: bits 3l.., sign bit 15) */
IQ1_INLINE void iq1_indices_s_avx2(__m128i low, __m128i qh4, __m256i *ia, __m256i *ib) {
    const __m256i qh = _mm256_cvtepu16_epi32(qh4);
    const __m256i shift = _mm256_setr_epi32(0, 3, 6, 9, 0, 3, 6, 9), sign = _mm256_set1_epi32(15);
    const __m256i q01 = _mm256_permutevar8x32_epi32(qh, _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
    const __m256i q23 = _mm256_permutevar8x32_epi32(qh, _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3));
    *ia = iq1_indices8_avx2(_mm256_cvtepu8_epi32(low), q01, shift, sign);
    *ib = iq1_indices8_avx2(_mm256_cvtepu8_epi32(_mm_srli_si128(low, 8)), q23, shift, sign);
}

/* IQ1_M / IQ1_M_R4: 16 low bytes, 8 qh bytes (byte j: groups 2j, 2j+1; bits 4h.., sign bit 4h+3) */
IQ1_INLINE void iq1_indices_m_avx2(__m128i low, __m128i qh8, __m256i *ia, __m256i *ib) {
    const __m256i qh = _mm256_cvtepu8_epi32(qh8);
    const __m256i shift = _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4);
    const __m256i sign = _mm256_setr_epi32(3, 7, 3, 7, 3, 7, 3, 7);
    const __m256i q03 = _mm256_permutevar8x32_epi32(qh, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
    const __m256i q47 = _mm256_permutevar8x32_epi32(qh, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7));
    *ia = iq1_indices8_avx2(_mm256_cvtepu8_epi32(low), q03, shift, sign);
    *ib = iq1_indices8_avx2(_mm256_cvtepu8_epi32(_mm_srli_si128(low, 8)), q47, shift, sign);
}

IQ1_INLINE void iq1_decode_row_iq1_s_avx2(const uint8_t *w, int64_t k, int64_t r, int64_t b, iq1_row_prep_avx2 *o) {
    const uint8_t *blk = w + (r * (k / IQ1_QK_K) + b / 2) * IQ1S_BLOCK_BYTES;
    const int half = (int)(b & 1);
    const __m128i low = _mm_loadu_si128((const __m128i *)(blk + 2 + 16 * half));
    const __m128i qh4 = _mm_loadl_epi64((const __m128i *)(blk + 34 + 8 * half));
    __m256i ia, ib;
    iq1_indices_s_avx2(low, qh4, &ia, &ib);
    iq1_finish_row_avx2(ia, ib, iq1s_scales_from_qh(qh4), 0.125f * _cvtsh_ss(iq1_load_u16(blk)), o);
}

IQ1_INLINE void iq1_decode_row_iq1_s_r4_avx2(const uint8_t *w, int64_t k, int64_t r, int64_t b, iq1_row_prep_avx2 *o) {
    const uint8_t *grp = w + (r / 4) * iq1_r4_group_bytes(k, IQ1S_R4_BLOCK_BYTES);
    const int row = (int)(r & 3);
    const uint8_t *blk = grp + 8 + 4 * b * IQ1S_R4_BLOCK_BYTES;
    const __m128i qh4 = iq1s_r4_row_qh(blk, row);
    __m256i ia, ib;
    iq1_indices_s_avx2(iq1_r4_row_bytes_avx2(blk, IQ1S_R4_BLOCK_BYTES, row), qh4, &ia, &ib);
    iq1_finish_row_avx2(ia, ib, iq1s_scales_from_qh(qh4), 0.125f * _cvtsh_ss(iq1_load_u16(grp + 2 * row)), o);
}

IQ1_INLINE void iq1_decode_row_iq1_m_avx2(const uint8_t *w, int64_t k, int64_t r, int64_t b, iq1_row_prep_avx2 *o) {
    const uint8_t *blk = w + (r * (k / IQ1_QK_K) + b / 2) * IQ1M_BLOCK_BYTES;
    const int half = (int)(b & 1);
    const __m128i low = _mm_loadu_si128((const __m128i *)(blk + 16 * half));
    const __m128i qh8 = _mm_loadl_epi64((const __m128i *)(blk + 32 + 8 * half));
    const __m128i sc = iq1m_scales_from_words(blk + 48 + 4 * half);
    __m256i ia, ib;
    iq1_indices_m_avx2(low, qh8, &ia, &ib);
    iq1_finish_row_avx2(ia, ib, sc, 0.125f * _cvtsh_ss(iq1m_scale_bits(blk + 48)), o);
}

IQ1_INLINE void iq1_decode_row_iq1_m_r4_avx2(const uint8_t *w, int64_t k, int64_t r, int64_t b, iq1_row_prep_avx2 *o) {
    const uint8_t *grp = w + (r / 4) * iq1_r4_group_bytes(k, IQ1M_R4_BLOCK_BYTES);
    const int row = (int)(r & 3);
    const uint8_t *blk = grp + 8 + 4 * b * IQ1M_R4_BLOCK_BYTES;
    __m128i qh8, scv;
    iq1m_r4_row_qh_scales(blk, row, &qh8, &scv);
    __m256i ia, ib;
    iq1_indices_m_avx2(iq1_r4_row_bytes_avx2(blk, IQ1M_R4_BLOCK_BYTES, row), qh8, &ia, &ib);
    iq1_finish_row_avx2(ia, ib, scv, 0.125f * _cvtsh_ss(iq1_load_u16(grp + 2 * row)), o);
}

#endif
