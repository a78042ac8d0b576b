/* Dequantization of the four formats, AVX2: 8 values (one group) per vector, the same fp32
 * operations as dequantize_generic.c (block multiplier first, then times (g + delta)): bit-identical. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>
#include "common.h"
#include "kernels_avx2.h"

/* y[0..7] = dl * (grid[idx] + delta) */
static inline void group8(float *y, int idx, float dl, float delta) {
    const __m256 gv = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)&iq1_grid_signed[idx])));
    _mm256_storeu_ps(y, _mm256_mul_ps(_mm256_set1_ps(dl), _mm256_add_ps(gv, _mm256_set1_ps(delta))));
}

/* y[0..15] = two groups */
static inline void two_groups(float *y, int a, int b, float dl_a, float dl_b, float da, float db) {
    group8(y, a, dl_a, da);
    group8(y + 8, b, dl_b, db);
}

/* iq1_dequantize_iq1_s_avx2, iq1_dequantize_iq1_m_avx2, iq1_dequantize_iq1_s_r4_avx2, iq1_dequantize_iq1_m_r4_avx2 */
#define IQ1_VARIANT avx2
#include "dequantize_formats-inl.h"
#undef IQ1_VARIANT
#endif
