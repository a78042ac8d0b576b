/* Instantiates the AVX-512 matmul (matmul_avx512.inc) of one format, plain and VNNI: static functions
 * iq1z_plain_run and iq1z_vnni_run. Define IQ1Z_TYPE, IQ1Z_DECODE (a row decoder of decode_row_avx512.h:
 * the GEMM), IQ1Z_DECODE4 and IQ1Z_ROW_MAJOR (a 4-row decoder of decode_quad_avx2.h and its offset layout:
 * the GEMV) and IQ1Z_NCOEF, then include once,
 * after the file's #pragma GCC target. */
#include <stdlib.h>
#include <string.h>
#include "decode_row_avx512.h"
#include "decode_quad_avx2.h"   /* the GEMV's 4-row decoders (AVX2 instructions, two per 8-row item) */

#ifndef IQ1Z_SHARED
#define IQ1Z_SHARED
#define IQ1Z_GEMV_COLS 8      /* columns per GEMV pass */
#define IQ1Z_GEMVC_MIN 3      /* from 3 columns the GEMV puts the columns in the lanes (gemv_columns_avx512.inc) */
#define IQ1Z_GEMM_MIN_COLS 16 /* the GEMV serves up to 16 columns, in passes of 8 (more: the GEMM), as on AVX2 */
#define IQ1Z_GEMV_K 16384     /* k values per GEMV pass (bounds the M types' nines to 16 KB of stack) */
#define IQ1Z_GEMV_NINES (8 * IQ1Z_GEMV_K / IQ1_QK_ACT)   /* one column's nines of a pass (uint64) */
#define IQ1Z_CHUNK 4096       /* k values per GEMM strip */
#define IQ1Z_GEMM_COLS 12     /* columns of the GEMM register tile (16 rows x 12 columns) */
#define IQ1Z_GEMM_BATCH 768   /* columns per GEMM call (bounds its heap buffer to ~3.5 MB) */


/* the sum of the 16 int32 lanes of t in lane 0 (kept in a vector register: no round trip through a GPR) */
IQ1Z_INLINE __m128i iq1z_hsum(__m512i t) {
    const __m256i a = _mm256_add_epi32(_mm512_castsi512_si256(t), _mm512_extracti64x4_epi64(t, 1));
    __m128i b = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    b = _mm_add_epi32(b, _mm_shuffle_epi32(b, 0x4E));
    return _mm_add_epi32(b, _mm_shuffle_epi32(b, 0xB1));
}

/* One GEMM strip: 16 rows x IQ1Z_CHUNK values, rows in the int32 lanes */
typedef struct {
    int32_t W[IQ1Z_CHUNK / IQ1_QK_ACT][32][16];   /* [block][quad][row]: 4 weight bytes          */
    int32_t C[IQ1Z_CHUNK / IQ1_QK_ACT][8][16];    /* [block][pair][row]: 2 int16 coefficients    */
    float D[IQ1Z_CHUNK / IQ1_QK_ACT][16];         /* [block][row]: dw                            */
    iq1z_prep prep[16][IQ1Z_CHUNK / IQ1_QK_ACT];  /* [row][block]: the decoder's output         */
} __attribute__((aligned(64))) iq1z_strip;

#endif

/* The delta-correction coefficients of one row and block as IQ1Z_NP int16 pairs (dwords), placed in slot
 * `slot` of v (16 / IQ1Z_NP slots): per 8 values (IQ1Z_NCOEF 16) the pairs of groups (2p, 2p + 1), per 32
 * values (IQ1Z_NCOEF 4, constant over a 32-block) the pairs of 32-blocks (0, 1) and (2, 3). */
#if IQ1Z_NCOEF == 16
#define IQ1Z_NP 8
IQ1Z_INLINE __m512i iq1z_place_pairs(__m512i v, __m256i coef, int slot) {
    return slot == 0 ? _mm512_inserti64x4(v, coef, 0) : _mm512_inserti64x4(v, coef, 1);
}
#else
#define IQ1Z_NP 2
IQ1Z_INLINE __m512i iq1z_place_pairs(__m512i v, __m256i coef, int slot) {
    /* words 0, 4, 8, 12 (one per 32-block) -> dwords 2 slot, 2 slot + 1 */
    const __m256i c4 = _mm256_permutexvar_epi16(_mm256_setr_epi16(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), coef);
    return _mm512_or_si512(v, _mm512_maskz_broadcastq_epi64((__mmask8)(1u << slot), _mm256_castsi256_si128(c4)));
}
#endif

#define IQ1Z_GATHER 0
#define IQ1Z_ATTR
#define IQ1Z_NAME(n) iq1z_plain_##n
#define IQ1Z_VNNI 0
#include "matmul_avx512.inc"
#undef IQ1Z_ATTR
#undef IQ1Z_NAME
#undef IQ1Z_VNNI
#undef IQ1Z_GATHER

#define IQ1Z_GATHER 0
#define IQ1Z_ATTR __attribute__((target("avx512vnni")))
#define IQ1Z_NAME(n) iq1z_vnni_##n
#define IQ1Z_VNNI 1
#include "matmul_avx512.inc"
#undef IQ1Z_NAME
#undef IQ1Z_GATHER

/* IQ1Z_GATHER_VARIANT (the R4 formats): VNNI again with the GEMV's grid lookups by vpgatherdq, for the
 * avx512_amx backend. On the AMX Xeon measured here a gather of eight grid entries costs 0.16 ns a lookup,
 * eight scalar loads with inserts 0.22: the R4 GEMV is 12-14% faster (docs/PERFORMANCE.md); other CPUs with
 * AVX-512 (AMD Zen 4) gather more slowly, so the plain avx512_vnni tables keep the loads. */
#if IQ1Z_GATHER_VARIANT
#define IQ1Z_GATHER 1
#define IQ1Z_NAME(n) iq1z_vnni_gather_##n
#include "matmul_avx512.inc"
#undef IQ1Z_NAME
#undef IQ1Z_GATHER
#endif
#undef IQ1Z_ATTR
#undef IQ1Z_VNNI
#undef IQ1Z_NP
