/* Dequantization of the four formats, AVX-512: 16 values (two groups of 8) per vector, the same fp32
 * operations as dequantize_generic.c (block multiplier first, then times (g + delta)): bit-identical. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")
#include <immintrin.h>
#include "common.h"
#include "kernels_avx512.h"

/* y[0..15] = dl_a * (grid[a] + delta_a) | dl_b * (grid[b] + delta_b) */
static inline void two_groups(float *y, int a, int b, float dl_a, float dl_b, float da, float db) {
    const __m128i g = _mm_set_epi64x((long long)iq1_grid_signed[b], (long long)iq1_grid_signed[a]);
    const __m512 gv = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(g));
    const __m512 delta = _mm512_insertf32x8(_mm512_set1_ps(da), _mm256_set1_ps(db), 1);
    const __m512 dl = _mm512_insertf32x8(_mm512_set1_ps(dl_a), _mm256_set1_ps(dl_b), 1);
    _mm512_storeu_ps(y, _mm512_mul_ps(dl, _mm512_add_ps(gv, delta)));
}

/* iq1_dequantize_iq1_s_avx512, iq1_dequantize_iq1_m_avx512, iq1_dequantize_iq1_s_r4_avx512,
 * iq1_dequantize_iq1_m_r4_avx512 */
#define IQ1_VARIANT avx512
#include "dequantize_formats-inl.h"
#undef IQ1_VARIANT
#endif
