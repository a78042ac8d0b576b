/* Vector helpers shared by the AVX2 and AVX-512 row decoders (decode_row_avx2.h, decode_row_avx512.h):
 * grid indices from the low bytes and high bits, and one row's bytes of an R4 block. AVX2 / SSSE3;
 * include after the file's #pragma GCC target. */
#ifndef IQ1_GRID_INDEX_AVX2_H
#define IQ1_GRID_INDEX_AVX2_H
#include <immintrin.h>
#include "decode128.h"

/* 8 indices: low bytes `low` (8 x int32), per-lane high-bit word `qh`, shift of the 3 bits, sign bit */
static inline __m256i iq1_indices8_avx2(__m256i low, __m256i qh, __m256i shift, __m256i sign_shift) {
    const __m256i hi = _mm256_and_si256(_mm256_srlv_epi32(qh, shift), _mm256_set1_epi32(7));
    const __m256i neg = _mm256_and_si256(_mm256_srlv_epi32(qh, sign_shift), _mm256_set1_epi32(1));
    return _mm256_or_si256(low, _mm256_or_si256(_mm256_slli_epi32(hi, 8), _mm256_slli_epi32(neg, 11)));
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

#endif
