/* Vector helpers shared by the AVX2 and AVX-512 decoders (decode_row_avx2.h, decode_row_avx512.h,
 * decode_quad_avx2.h): grid indices from the low bytes and high bits, grid entries by offset, and one
 * row's bytes of an R4 block. AVX2 / SSSE3;
 * include after the file's #pragma GCC target. */
#ifndef IQ1_GRID_INDEX_AVX2_H
#define IQ1_GRID_INDEX_AVX2_H
#include <immintrin.h>
#include "common.h"

/* 8 indices: low bytes `low` (8 x int32), per-lane high-bit word `qh`, shift of the 3 bits, sign bit */
static inline __m256i iq1_indices8_avx2(__m256i low, __m256i qh, __m256i shift, __m256i sign_shift) {
    const __m256i hi = _mm256_and_si256(_mm256_srlv_epi32(qh, shift), _mm256_set1_epi32(7));
    const __m256i neg = _mm256_and_si256(_mm256_srlv_epi32(qh, sign_shift), _mm256_set1_epi32(1));
    return _mm256_or_si256(low, _mm256_or_si256(_mm256_slli_epi32(hi, 8), _mm256_slli_epi32(neg, 11)));
}

/* four 8-byte entries of `table` at byte offsets o0..o3: [o0, o1 | o2, o3] (scalar loads: a gather costs more
 * per element, "gathered lookups"). Also the GEMVs' lookup (decode_quad_avx2.h). */
static inline __attribute__((always_inline)) __m256i iq1_entries4_avx2(const char *table, uint64_t o0, uint64_t o1,
                                                                       uint64_t o2, uint64_t o3) {
    const __m128i lo =
        _mm_insert_epi64(_mm_loadl_epi64((const __m128i *)(table + o0)), (long long)*(const uint64_t *)(table + o1), 1);
    const __m128i hi =
        _mm_insert_epi64(_mm_loadl_epi64((const __m128i *)(table + o2)), (long long)*(const uint64_t *)(table + o3), 1);
    return _mm256_setr_m128i(lo, hi);
}

/* the bytes at offset `row` of four 4-byte groups of four R4 blocks `stride` bytes apart */
static inline __m128i iq1_r4_row_bytes_avx2(const uint8_t *blk, int64_t stride, int row) {
    const __m128i pick = _mm_setr_epi8((char)row, (char)(4 + row), (char)(8 + row), (char)(12 + row), -1, -1, -1, -1,
                                       -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i a = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)blk), pick);
    const __m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blk + stride)), pick);
    const __m128i c = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blk + 2 * stride)), pick);
    const __m128i d = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blk + 3 * stride)), pick);
    return _mm_unpacklo_epi64(_mm_unpacklo_epi32(a, b), _mm_unpacklo_epi32(c, d));
}

/* IQ1_M_R4 row `row`, the four 32-blocks from blk: its 8 qh bytes (two per block: half 0, half 1) and its 8
 * linear 4-bit scales as int16 (one per 16 values). From the 12 bytes after each block's qs, dword
 * p_s = (qh0, qh1, scales, scales) is picked, then the nibbles are split; the multiply stands in for a
 * variable 16-bit shift, which AVX2 lacks. */
static inline void iq1m_r4_row_qh_scales(const uint8_t *blk, int row, __m128i *qh8, __m128i *sc) {
    const __m128i pick = _mm_setr_epi8((char)row, (char)(4 + row), (char)(8 + row), (char)(8 + row), -1, -1, -1, -1, -1,
                                       -1, -1, -1, -1, -1, -1, -1);
    __m128i p[4];
    for (int s = 0; s < 4; ++s) {
        const __m128i tail = _mm_loadl_epi64((const __m128i *)(blk + s * IQ1M_R4_BLOCK_BYTES + 16));
        const __m128i sc4 = _mm_cvtsi32_si128((int)iq1_load_u32(blk + s * IQ1M_R4_BLOCK_BYTES + 24));
        p[s] = _mm_shuffle_epi8(_mm_unpacklo_epi64(tail, sc4), pick);
    }
    const __m128i all = _mm_unpacklo_epi64(_mm_unpacklo_epi32(p[0], p[1]), _mm_unpacklo_epi32(p[2], p[3]));
    *qh8 = _mm_shuffle_epi8(all, _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1));
    /* word 2s + h = the scale byte of block s; its nibble h is the scale of half h */
    const __m128i bytes =
        _mm_shuffle_epi8(all, _mm_setr_epi8(2, -1, 3, -1, 6, -1, 7, -1, 10, -1, 11, -1, 14, -1, 15, -1));
    *sc = _mm_and_si128(_mm_srli_epi16(_mm_mullo_epi16(bytes, _mm_setr_epi16(16, 1, 16, 1, 16, 1, 16, 1)), 4),
                        _mm_set1_epi16(15));
}

/* 4 IQ1_S qh words -> the 8 per-16 scales 2 s + 1 as int16 (each 32-block's scale twice) */
static inline __m128i iq1s_scales_from_qh(__m128i qh4) {
    const __m128i s =
        _mm_add_epi16(_mm_slli_epi16(_mm_and_si128(_mm_srli_epi16(qh4, 12), _mm_set1_epi16(7)), 1), _mm_set1_epi16(1));
    return _mm_unpacklo_epi16(s, s);
}

/* IQ1_S_R4 row `row`: its qh word of each of the four 32-blocks from blk */
static inline __m128i iq1s_r4_row_qh(const uint8_t *blk, int row) {
    return _mm_setr_epi16((short)iq1_load_u16(blk + 16 + 2 * row),
                          (short)iq1_load_u16(blk + IQ1S_R4_BLOCK_BYTES + 16 + 2 * row),
                          (short)iq1_load_u16(blk + 2 * IQ1S_R4_BLOCK_BYTES + 16 + 2 * row),
                          (short)iq1_load_u16(blk + 3 * IQ1S_R4_BLOCK_BYTES + 16 + 2 * row), 0, 0, 0, 0);
}

/* IQ1_M: the 8 per-16 scales 2 s + 1 (int16) of one half super-block from its two scale words at p (3 bits
 * each at bit 3 j; moved to bits 9..11 by a multiply: no variable 16-bit shift in AVX2) */
static inline __m128i iq1m_scales_from_words(const uint8_t *p) {
    const __m128i words = _mm_set1_epi32((int)iq1_load_u32(p));
    const __m128i spread = _mm_shuffle_epi8(words, _mm_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3));
    const __m128i s3 = _mm_and_si128(
        _mm_srli_epi16(_mm_mullo_epi16(spread, _mm_setr_epi16(512, 64, 8, 1, 512, 64, 8, 1)), 9), _mm_set1_epi16(7));
    return _mm_add_epi16(_mm_slli_epi16(s3, 1), _mm_set1_epi16(1));
}

#endif
