/* Instantiates the AVX-512 matmul (matmul_avx512.inc) of one format, plain and VNNI: static functions
 * iq1z_plain_run and iq1z_vnni_run. Define IQ1Z_DECODE and IQ1Z_NCOEF, then include once, after the
 * file's #pragma GCC target. */
#include "decode_row_avx512.h"

#ifndef IQ1Z_SHARED
#define IQ1Z_SHARED
#define IQ1Z_GEMV_COLS 8      /* columns multiplied per decode in the GEMV */
#define IQ1Z_CHUNK 4096       /* k values per pass (bounds the stack buffers) */

/* per-8 sums of n int8 values (n % 64 == 0): q + 128 summed by vpsadbw, minus 8 * 128 */
IQ1Z_INLINE void iq1z_bsum8(const int8_t *q, int64_t n, int16_t *out) {
    const __m512i off = _mm512_set1_epi8((char)0x80), bias = _mm512_set1_epi64(1024);
    for (int64_t i = 0; i < n; i += 64) {
        const __m512i s = _mm512_sad_epu8(_mm512_xor_si512(_mm512_loadu_si512(q + i), off), _mm512_setzero_si512());
        _mm_storeu_si128((__m128i *)(out + i / 8), _mm512_cvtepi64_epi16(_mm512_sub_epi64(s, bias)));
    }
}
#endif

#define IQ1Z_ATTR
#define IQ1Z_NAME(n) iq1z_plain_##n
#define IQ1Z_VNNI 0
#include "matmul_avx512.inc"
#undef IQ1Z_ATTR
#undef IQ1Z_NAME
#undef IQ1Z_VNNI

#define IQ1Z_ATTR __attribute__((target("avx512vnni")))
#define IQ1Z_NAME(n) iq1z_vnni_##n
#define IQ1Z_VNNI 1
#include "matmul_avx512.inc"
#undef IQ1Z_ATTR
#undef IQ1Z_NAME
#undef IQ1Z_VNNI
