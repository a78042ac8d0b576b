/* Q8_K128 activation quantization, AVX2: bit-identical to quantize_act_generic.c (same fp32 products,
 * round-half-even conversion); the rare NaN/Inf, zero and tiny blocks go through the generic block code.
 * float16 input is widened by F16C's vcvtph2ps, bfloat16 by a 16-bit shift: both exact, so each block is
 * quantized from the very float32 values the float32 entry point would see. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#include <float.h>
#include <immintrin.h>
#include "common.h"
#include "kernels_avx2.h"

static inline int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* One block from its 128 values in v[16]. */
static inline void block(const __m256 v[16], float *d, int16_t *bsums, int8_t *qs) {
    const __m256 sign = _mm256_set1_ps(-0.0f), fmax = _mm256_set1_ps(FLT_MAX);
    __m256 mx = _mm256_setzero_ps();
    int finite = 0xff;
    for (int i = 0; i < 16; ++i) {
        const __m256 a = _mm256_andnot_ps(sign, v[i]);
        finite &= _mm256_movemask_ps(_mm256_cmp_ps(a, fmax, _CMP_LE_OQ));
        mx = _mm256_max_ps(mx, a);
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float amax = _mm_cvtss_f32(m);
    if (finite != 0xff || amax == 0.0f || 127.0f / amax > FLT_MAX) {
        float x[IQ1_QK_ACT];
        for (int i = 0; i < 16; ++i) _mm256_storeu_ps(x + 8 * i, v[i]);
        iq1_quantize_act_block_generic(x, d, bsums, qs);
        return;
    }
    const __m256 id = _mm256_set1_ps(127.0f / amax);
    *d = amax / 127.0f;
    for (int s = 0; s < 4; ++s) {
        __m256i q[4];
        for (int t = 0; t < 4; ++t) q[t] = _mm256_cvtps_epi32(_mm256_mul_ps(v[4 * s + t], id)); /* nearest even */
        bsums[s] = (int16_t)hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
        /* pack 32 int32 -> 32 int8 (values in [-127, 127]); packs interleave lanes, permute restores order */
        const __m256i p16 = _mm256_packs_epi32(q[0], q[1]), p16b = _mm256_packs_epi32(q[2], q[3]);
        const __m256i p8 = _mm256_packs_epi16(p16, p16b);
        const __m256i ordered = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(qs + 32 * s), ordered);
    }
}

static inline __m256 load_f32(const float *x) { return _mm256_loadu_ps(x); }
static inline __m256 load_f16(const uint16_t *x) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)x)); }
static inline __m256 load_bf16(const uint16_t *x) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)x)), 16));
}

#define ROW(NAME, T, LOAD)                                                        \
    void NAME(const T *x, int64_t k, float *d, int16_t *bsums, int8_t *qs) {      \
        for (int64_t b = 0; b < k / IQ1_QK_ACT; ++b) {                            \
            __m256 v[16];                                                         \
            for (int i = 0; i < 16; ++i) v[i] = LOAD(x + IQ1_QK_ACT * b + 8 * i); \
            block(v, d + b, bsums + 4 * b, qs + IQ1_QK_ACT * b);                  \
        }                                                                         \
    }
ROW(iq1_quantize_act_avx2, float, load_f32)
ROW(iq1_quantize_act_f16_avx2, uint16_t, load_f16)
ROW(iq1_quantize_act_bf16_avx2, uint16_t, load_bf16)
#endif
