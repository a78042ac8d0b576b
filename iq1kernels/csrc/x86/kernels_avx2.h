/* The AVX2 kernels (the backend table is in backend_avx2.c). */
#ifndef IQ1_KERNELS_AVX2_H
#define IQ1_KERNELS_AVX2_H
#include "kernels_generic.h"

void iq1_quantize_act_avx2(const float *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);
void iq1_quantize_act_f16_avx2(const uint16_t *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);
void iq1_quantize_act_bf16_avx2(const uint16_t *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);
void iq1_dequantize_iq1_s_avx2(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_dequantize_iq1_m_avx2(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_dequantize_iq1_s_r4_avx2(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_dequantize_iq1_m_r4_avx2(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_matmul_iq1_s_avx2(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_avx2(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_r4_avx2(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_r4_avx2(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_avx2_vnni(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_avx2_vnni(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_r4_avx2_vnni(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_r4_avx2_vnni(IQ1_MATMUL_ARGS);
#endif
