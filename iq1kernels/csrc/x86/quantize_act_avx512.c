/* Q8_K128 activation quantization, AVX-512: bit-identical to quantize_act_generic.c (same fp32 products,
 * round-half-even conversion); the rare NaN/Inf, zero and tiny blocks go through the generic block code.
 * float16 input is widened by vcvtph2ps (AVX-512F), bfloat16 by a 16-bit shift: both exact, so each block
 * is quantized from the very float32 values the float32 entry point would see. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")
#include <float.h>
#include <immintrin.h>
#include "common.h"
#include "kernels_avx512.h"
#include "kernels_generic.h"

/* One block from its 128 values in v[8]. */
static inline void block(const __m512 v[8], float *d, int16_t *bsums, int8_t *qs) {
    __m512 mx = _mm512_setzero_ps();
    __mmask16 finite = 0xffff;
    for (int i = 0; i < 8; ++i) {
        const __m512 a = _mm512_abs_ps(v[i]);
        finite &= _mm512_cmp_ps_mask(a, _mm512_set1_ps(FLT_MAX), _CMP_LE_OQ);
        mx = _mm512_max_ps(mx, a);
    }
    const float amax = _mm512_reduce_max_ps(mx);
    if (finite != 0xffff || amax == 0.0f || 127.0f / amax > FLT_MAX) {
        float x[IQ1_QK_ACT];
        for (int i = 0; i < 8; ++i) _mm512_storeu_ps(x + 16 * i, v[i]);
        iq1_quantize_act_block_generic(x, d, bsums, qs);
        return;
    }
    const __m512 id = _mm512_set1_ps(127.0f / amax);
    *d = amax / 127.0f;
    for (int s = 0; s < 4; ++s) {
        const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v[2 * s], id)); /* nearest even */
        const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v[2 * s + 1], id));
        _mm_storeu_si128((__m128i *)(qs + 32 * s), _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(qs + 32 * s + 16), _mm512_cvtepi32_epi8(q1));
        bsums[s] = (int16_t)_mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
}

static inline __m512 load_f32(const float *x) { return _mm512_loadu_ps(x); }
static inline __m512 load_f16(const uint16_t *x) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)x)); }
static inline __m512 load_bf16(const uint16_t *x) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)x)), 16));
}

#define ROW(NAME, T, LOAD)                                                        \
    void NAME(const T *x, int64_t k, float *d, int16_t *bsums, int8_t *qs) {      \
        for (int64_t b = 0; b < k / IQ1_QK_ACT; ++b) {                            \
            __m512 v[8];                                                          \
            for (int i = 0; i < 8; ++i) v[i] = LOAD(x + IQ1_QK_ACT * b + 16 * i); \
            block(v, d + b, bsums + 4 * b, qs + IQ1_QK_ACT * b);                  \
        }                                                                         \
    }
ROW(iq1_quantize_act_avx512, float, load_f32)
ROW(iq1_quantize_act_f16_avx512, uint16_t, load_f16)
ROW(iq1_quantize_act_bf16_avx512, uint16_t, load_bf16)
#endif
