/* The AVX-512 matmul of the four formats (backends avx512, avx512_vnni, and below its tile GEMM's column counts
 * avx512_amx): one instantiation of matmul_avx512-inl.h each. The VNNI instructions only in the *_vnni*
 * functions (their target attribute). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")
#include <immintrin.h>
#include "kernels_avx512.h"

/* IQ1_DELTA_PER_32: the delta sign is constant over 32 values (the S types) or over 8 (the M types) */
/* iq1_s: iq1_matmul_iq1_s_avx512, iq1_matmul_iq1_s_avx512_vnni, iq1_matmul_iq1_s_avx512_vnni_gather,
 * iq1_plan_iq1_s_avx512, iq1_plan_iq1_s_avx512_vnni, iq1_plan_iq1_s_avx512_vnni_gather,
 * iq1_gemm_iq1_s_avx512, iq1_gemm_iq1_s_avx512_vnni, iq1_gemm_iq1_s_avx512_vnni_gather,
 * iq1_gemv_iq1_s_avx512, iq1_gemv_iq1_s_avx512_vnni, iq1_gemv_iq1_s_avx512_vnni_gather,
 * iq1_gemv_rows_iq1_s_avx512, iq1_gemv_rows_iq1_s_avx512_vnni, iq1_gemv_rows_iq1_s_avx512_vnni_gather,
 * iq1_gemv_columns_iq1_s_avx512, iq1_gemv_columns_iq1_s_avx512_vnni,
 * iq1_gemv_columns_iq1_s_avx512_vnni_gather, iq1_gemv_gathered_iq1_s_avx512_vnni_gather,
 * iq1_columns_fill_iq1_s_avx512 (IQ1_NAME(op) in matmul_avx512-inl.h and the bodies it includes) */
#define IQ1_FORMAT iq1_s
#define IQ1_TYPE IQ1_S
#define IQ1_DELTA_PER_32 1
#include "matmul_avx512-inl.h"
#undef IQ1_FORMAT
#undef IQ1_TYPE
#undef IQ1_DELTA_PER_32

/* iq1_m: iq1_matmul_iq1_m_avx512, iq1_matmul_iq1_m_avx512_vnni, iq1_matmul_iq1_m_avx512_vnni_gather,
 * iq1_plan_iq1_m_avx512, iq1_plan_iq1_m_avx512_vnni, iq1_plan_iq1_m_avx512_vnni_gather,
 * iq1_gemm_iq1_m_avx512, iq1_gemm_iq1_m_avx512_vnni, iq1_gemm_iq1_m_avx512_vnni_gather,
 * iq1_gemv_iq1_m_avx512, iq1_gemv_iq1_m_avx512_vnni, iq1_gemv_iq1_m_avx512_vnni_gather,
 * iq1_gemv_rows_iq1_m_avx512, iq1_gemv_rows_iq1_m_avx512_vnni, iq1_gemv_rows_iq1_m_avx512_vnni_gather,
 * iq1_gemv_columns_iq1_m_avx512, iq1_gemv_columns_iq1_m_avx512_vnni,
 * iq1_gemv_columns_iq1_m_avx512_vnni_gather, iq1_gemv_gathered_iq1_m_avx512_vnni_gather,
 * iq1_columns_fill_iq1_m_avx512 (IQ1_NAME(op) in matmul_avx512-inl.h and the bodies it includes) */
#define IQ1_FORMAT iq1_m
#define IQ1_TYPE IQ1_M
#define IQ1_DELTA_PER_32 0
#include "matmul_avx512-inl.h"
#undef IQ1_FORMAT
#undef IQ1_TYPE
#undef IQ1_DELTA_PER_32

/* iq1_s_r4: iq1_matmul_iq1_s_r4_avx512, iq1_matmul_iq1_s_r4_avx512_vnni, iq1_matmul_iq1_s_r4_avx512_vnni_gather,
 * iq1_plan_iq1_s_r4_avx512, iq1_plan_iq1_s_r4_avx512_vnni, iq1_plan_iq1_s_r4_avx512_vnni_gather,
 * iq1_gemm_iq1_s_r4_avx512, iq1_gemm_iq1_s_r4_avx512_vnni, iq1_gemm_iq1_s_r4_avx512_vnni_gather,
 * iq1_gemv_iq1_s_r4_avx512, iq1_gemv_iq1_s_r4_avx512_vnni, iq1_gemv_iq1_s_r4_avx512_vnni_gather,
 * iq1_gemv_rows_iq1_s_r4_avx512, iq1_gemv_rows_iq1_s_r4_avx512_vnni, iq1_gemv_rows_iq1_s_r4_avx512_vnni_gather,
 * iq1_gemv_columns_iq1_s_r4_avx512, iq1_gemv_columns_iq1_s_r4_avx512_vnni,
 * iq1_gemv_columns_iq1_s_r4_avx512_vnni_gather, iq1_columns_fill_iq1_s_r4_avx512 (IQ1_NAME(op) in
 * matmul_avx512-inl.h and the bodies it includes) */
#define IQ1_FORMAT iq1_s_r4
#define IQ1_TYPE IQ1_S_R4
#define IQ1_DELTA_PER_32 1
#include "matmul_avx512-inl.h"
#undef IQ1_FORMAT
#undef IQ1_TYPE
#undef IQ1_DELTA_PER_32

/* iq1_m_r4: iq1_matmul_iq1_m_r4_avx512, iq1_matmul_iq1_m_r4_avx512_vnni, iq1_matmul_iq1_m_r4_avx512_vnni_gather,
 * iq1_plan_iq1_m_r4_avx512, iq1_plan_iq1_m_r4_avx512_vnni, iq1_plan_iq1_m_r4_avx512_vnni_gather,
 * iq1_gemm_iq1_m_r4_avx512, iq1_gemm_iq1_m_r4_avx512_vnni, iq1_gemm_iq1_m_r4_avx512_vnni_gather,
 * iq1_gemv_iq1_m_r4_avx512, iq1_gemv_iq1_m_r4_avx512_vnni, iq1_gemv_iq1_m_r4_avx512_vnni_gather,
 * iq1_gemv_rows_iq1_m_r4_avx512, iq1_gemv_rows_iq1_m_r4_avx512_vnni, iq1_gemv_rows_iq1_m_r4_avx512_vnni_gather,
 * iq1_gemv_columns_iq1_m_r4_avx512, iq1_gemv_columns_iq1_m_r4_avx512_vnni,
 * iq1_gemv_columns_iq1_m_r4_avx512_vnni_gather, iq1_columns_fill_iq1_m_r4_avx512 (IQ1_NAME(op) in
 * matmul_avx512-inl.h and the bodies it includes) */
#define IQ1_FORMAT iq1_m_r4
#define IQ1_TYPE IQ1_M_R4
#define IQ1_DELTA_PER_32 0
#include "matmul_avx512-inl.h"
#undef IQ1_FORMAT
#undef IQ1_TYPE
#undef IQ1_DELTA_PER_32
#endif
