/* Instantiates the AVX2 matmul of one format: the GEMV (gemv_avx2.inc, shared by both variants) and the
 * GEMM (matmul_avx2.inc) plain (vpmaddubsw + vpmaddwd) and AVX-VNNI (vpdpbusd / vpdpwssd): static
 * functions iq1y_plain_run and iq1y_vnni_run. Define IQ1Y_TYPE, IQ1Y_DECODE (a decoder of
 * decode_row_avx2.h), IQ1Y_DECODE4 and IQ1Y_ROW_MAJOR (a decoder of decode_quad_avx2.h and its offset
 * layout) and IQ1Y_NCOEF (4: scale and delta correction constant per 32 values, 16: per 16 / 8), then
 * include once, after the file's #pragma GCC target (AVX2, FMA, F16C; no AVX-512). */
#include <stdlib.h>
#include <string.h>
#include "decode_row_avx2.h"
#include "decode_quad_avx2.h"

#ifndef IQ1Y_SHARED
#define IQ1Y_SHARED
#define IQ1Y_GEMV_COLS 8      /* columns per GEMV pass */
#define IQ1Y_GEMM_MIN_COLS 16 /* the GEMV serves up to 16 columns, in passes of 8 (more: the GEMM; measured) */
#define IQ1Y_GEMVC_MIN 3      /* from 3 columns the GEMV puts the columns in the lanes (gemv_columns_avx2.inc) */
#define IQ1Y_CHUNK 4096       /* k values per GEMM strip */
#define IQ1Y_GEMM_COLS 8      /* columns of the GEMM register tile (8 rows x 8 columns) */
#define IQ1Y_GEMM_BATCH 768   /* columns per GEMM call (bounds its heap buffer to ~3.5 MB) */
#define IQ1Y_CB (IQ1Y_CHUNK / IQ1_QK_ACT)

/* One GEMM strip: 8 rows x IQ1Y_CHUNK values, rows in the int32 lanes */
typedef struct {
    int32_t W[IQ1Y_CB][32][8];          /* [block][quad][row]: 4 weight bytes (split order) */
    int32_t C[IQ1Y_CB][8][8];           /* [block][pair][row]: 2 int16 coefficients          */
    float D[IQ1Y_CB][8];                /* [block][row]: dw                                  */
    iq1y_prep prep[8][IQ1Y_CB];         /* [row][block]: the decoder's output                */
    __m256i tmp[8][4];                  /* one block's expanded rows before the transpose    */
} __attribute__((aligned(64))) iq1y_strip;

/* 8 x 8 int32 transpose: r[i] lane j -> r[j] lane i */
IQ1Y_INLINE void iq1y_transpose8(__m256i r[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; ++i) {
        u[4 * i] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
        u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
        u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
        u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int m = 0; m < 4; ++m) {
        r[m] = _mm256_permute2x128_si256(u[m], u[4 + m], 0x20);
        r[4 + m] = _mm256_permute2x128_si256(u[m], u[4 + m], 0x31);
    }
}

/* lanes [0, n) all ones */
IQ1Y_INLINE __m256i iq1y_lane_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#endif

/* coefficient pairs per block in the GEMM: per 8 values the pairs (g, g + 8) of iq1y_prep.coef; per 32
 * values (constant over a 32-block) dword 0 = (32-blocks 0, 2) and dword 4 = (32-blocks 1, 3) suffice */
#if IQ1Y_NCOEF == 16
#define IQ1Y_NP 8
#else
#define IQ1Y_NP 2
#endif

#include "gemv_avx2.inc"

#define IQ1Y_ATTR
#define IQ1Y_NAME(n) iq1y_plain_##n
#define IQ1Y_VNNI 0
#include "matmul_avx2.inc"
#undef IQ1Y_ATTR
#undef IQ1Y_NAME
#undef IQ1Y_VNNI

#define IQ1Y_ATTR __attribute__((target("avxvnni")))
#define IQ1Y_NAME(n) iq1y_vnni_##n
#define IQ1Y_VNNI 1
#include "matmul_avx2.inc"
#undef IQ1Y_ATTR
#undef IQ1Y_NAME
#undef IQ1Y_VNNI
#undef IQ1Y_NP
