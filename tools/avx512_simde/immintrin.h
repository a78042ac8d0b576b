/* Stand-in for <immintrin.h> in the AVX-512 and AVX2 matmul sources of an emulated build (build.sh):
 * the compiler's own header for what this CPU runs natively (AVX2), then SIMDe's portable AVX-512 under
 * the native names, plus the few intrinsics Debian's SIMDe (0.7.4) lacks, written here lane by lane. */
#ifndef IQ1_SIMDE_IMMINTRIN_H
#define IQ1_SIMDE_IMMINTRIN_H
#include_next <immintrin.h>
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>
#include <simde/x86/fma.h>
/* SIMDe 0.7.4 aliases this one with the four arguments of the masked form */
#undef _mm512_madd_epi16
#define _mm512_madd_epi16(a, b) simde_mm512_madd_epi16(a, b)

/* AVX-VNNI: the VEX forms compute what the 256-bit AVX512-VNNI ones do */
#define _mm256_dpbusd_avx_epi32(src, a, b) simde_mm256_dpbusd_epi32(src, a, b)
#define _mm256_dpwssd_avx_epi32(src, a, b) simde_mm256_dpwssd_epi32(src, a, b)

#include <math.h>
#include <stdint.h>
#include <string.h>

/* a widening or narrowing conversion of the 16 lanes: FROM (source lane type) -> TO */
#define IQ1E_CONVERT(NAME, SRC, DST, FROM, TO)                                               \
    static inline DST NAME(SRC a) {                                                          \
        FROM s[16];                                                                          \
        TO r[16];                                                                            \
        memcpy(s, &a, sizeof s);                                                             \
        for (int i = 0; i < 16; ++i) r[i] = (TO)s[i]; /* truncating, as vpmovdw / vpmovdb */ \
        DST v;                                                                               \
        memcpy(&v, r, sizeof v);                                                             \
        return v;                                                                            \
    }
IQ1E_CONVERT(iq1e_cvtepi8_epi32, simde__m128i, simde__m512i, int8_t, int32_t)
IQ1E_CONVERT(iq1e_cvtepu8_epi32, simde__m128i, simde__m512i, uint8_t, int32_t)
IQ1E_CONVERT(iq1e_cvtepi16_epi32, simde__m256i, simde__m512i, int16_t, int32_t)
IQ1E_CONVERT(iq1e_cvtepu16_epi32, simde__m256i, simde__m512i, uint16_t, int32_t)
IQ1E_CONVERT(iq1e_cvtepi32_epi16, simde__m512i, simde__m256i, int32_t, int16_t)
IQ1E_CONVERT(iq1e_cvtepi32_epi8, simde__m512i, simde__m128i, int32_t, int8_t)
IQ1E_CONVERT(iq1e_cvtepi32_ps, simde__m512i, simde__m512, int32_t, float)
#define _mm512_cvtepi8_epi32 iq1e_cvtepi8_epi32
#define _mm512_cvtepu8_epi32 iq1e_cvtepu8_epi32
#define _mm512_cvtepi16_epi32 iq1e_cvtepi16_epi32
#define _mm512_cvtepu16_epi32 iq1e_cvtepu16_epi32
#define _mm512_cvtepi32_epi16 iq1e_cvtepi32_epi16
#define _mm512_cvtepi32_epi8 iq1e_cvtepi32_epi8
#define _mm512_cvtepi32_ps iq1e_cvtepi32_ps

/* vcvtph2ps: IEEE binary16 -> binary32, exact (subnormals normalised; Inf and NaN keep sign and payload,
 * NaN quieted as the instruction does) */
static inline simde__m512 iq1e_cvtph_ps(simde__m256i a) {
    uint16_t s[16];
    uint32_t r[16];
    memcpy(s, &a, sizeof s);
    for (int i = 0; i < 16; ++i) {
        const uint32_t sign = (uint32_t)(s[i] & 0x8000) << 16, e = (s[i] >> 10) & 0x1f, m = s[i] & 0x3ff;
        if (e == 0x1f) r[i] = sign | 0x7f800000u | (m << 13) | (m ? 0x400000u : 0);
        else if (e) r[i] = sign | ((e + 112) << 23) | (m << 13);
        else { /* zero or subnormal: m * 2^-24, exact in binary32 */ const float f = (float)m * (1.0f / 16777216.0f);
            memcpy(&r[i], &f, 4);
            r[i] |= sign;
        }
    }
    simde__m512 v;
    memcpy(&v, r, sizeof v);
    return v;
}
#define _mm512_cvtph_ps iq1e_cvtph_ps

/* vcvtps2dq: nearest even (the default MXCSR mode); NaN and out of range give 0x80000000 */
static inline simde__m512i iq1e_cvtps_epi32(simde__m512 a) {
    float s[16];
    int32_t r[16];
    memcpy(s, &a, sizeof s);
    for (int i = 0; i < 16; ++i)
        r[i] = (s[i] >= -2147483648.0f && s[i] < 2147483648.0f) ? (int32_t)nearbyintf(s[i]) : INT32_MIN;
    simde__m512i v;
    memcpy(&v, r, sizeof v);
    return v;
}
#define _mm512_cvtps_epi32 iq1e_cvtps_epi32

/* masked loads and stores touch only the lanes of the mask (N lanes: 16 for zmm, 8 for ymm) */
#define IQ1E_MASKED_PS(SUFFIX, VEC, MASK, N)                                            \
    static inline VEC iq1e_maskz_loadu_ps##SUFFIX(MASK k, const void *p) {              \
        float r[N];                                                                     \
        for (int i = 0; i < N; ++i) r[i] = (k >> i) & 1 ? ((const float *)p)[i] : 0.0f; \
        VEC v;                                                                          \
        memcpy(&v, r, sizeof v);                                                        \
        return v;                                                                       \
    }                                                                                   \
    static inline void iq1e_mask_storeu_ps##SUFFIX(void *p, MASK k, VEC a) {            \
        float s[N];                                                                     \
        memcpy(s, &a, sizeof s);                                                        \
        for (int i = 0; i < N; ++i)                                                     \
            if ((k >> i) & 1) ((float *)p)[i] = s[i];                                   \
    }
IQ1E_MASKED_PS(512, simde__m512, simde__mmask16, 16)
IQ1E_MASKED_PS(256, simde__m256, simde__mmask8, 8)
#define _mm512_maskz_loadu_ps iq1e_maskz_loadu_ps512
#define _mm512_mask_storeu_ps iq1e_mask_storeu_ps512
#define _mm256_maskz_loadu_ps iq1e_maskz_loadu_ps256
#define _mm256_mask_storeu_ps iq1e_mask_storeu_ps256

static inline int32_t iq1e_reduce_add_epi32(simde__m512i a) {
    uint32_t s[16], t = 0;
    memcpy(s, &a, sizeof s);
    for (int i = 0; i < 16; ++i) t += s[i]; /* wraps, as the vector adds */
    return (int32_t)t;
}
static inline float iq1e_reduce_max_ps(simde__m512 a) {
    float s[16], m;
    memcpy(s, &a, sizeof s);
    m = s[0];
    for (int i = 1; i < 16; ++i) m = s[i] > m ? s[i] : m;
    return m;
}
/* a gather of N T-sized elements at base + scale * the (signed) dword indices idx (IDX: their vector type) */
#define IQ1E_GATHER(NAME, IDX, N, T)                                                                       \
    static inline simde__m512i NAME(IDX idx, const void *base, int scale) {                                \
        int32_t ix[N];                                                                                     \
        T r[N];                                                                                            \
        memcpy(ix, &idx, sizeof ix);                                                                       \
        for (int i = 0; i < N; ++i) memcpy(&r[i], (const char *)base + (int64_t)ix[i] * scale, sizeof(T)); \
        simde__m512i v;                                                                                    \
        memcpy(&v, r, sizeof v);                                                                           \
        return v;                                                                                          \
    }
IQ1E_GATHER(iq1e_i32gather_epi64, simde__m256i, 8, int64_t)  /* vpgatherdq */
IQ1E_GATHER(iq1e_i32gather_epi32, simde__m512i, 16, int32_t) /* vpgatherdd */
#define _mm512_i32gather_epi64 iq1e_i32gather_epi64
#define _mm512_i32gather_epi32 iq1e_i32gather_epi32
/* vrcp14ps: any value within 2^-14 of 1 / a is a valid result; the exact quotient is one */
static inline simde__m512 iq1e_rcp14_ps(simde__m512 a) {
    float s[16];
    memcpy(s, &a, sizeof s);
    for (int i = 0; i < 16; ++i) s[i] = 1.0f / s[i];
    simde__m512 v;
    memcpy(&v, s, sizeof v);
    return v;
}
#define _mm512_rcp14_ps iq1e_rcp14_ps
#define _mm512_reduce_add_epi32 iq1e_reduce_add_epi32
#define _mm512_reduce_max_ps iq1e_reduce_max_ps
#endif
