/* The AVX-512 kernels (the backend table is in backend_avx512.c). */
#ifndef IQ1_KERNELS_AVX512_H
#define IQ1_KERNELS_AVX512_H
#include "kernels_generic.h"

void iq1_quantize_act_avx512(const float *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);
void iq1_quantize_act_f16_avx512(const uint16_t *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);
void iq1_quantize_act_bf16_avx512(const uint16_t *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);
void iq1_dequantize_iq1_s_avx512(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_dequantize_iq1_m_avx512(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_dequantize_iq1_s_r4_avx512(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_dequantize_iq1_m_r4_avx512(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_matmul_iq1_s_avx512(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_avx512(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_r4_avx512(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_r4_avx512(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_avx512_vnni(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_avx512_vnni(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_r4_avx512_vnni(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_r4_avx512_vnni(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_avx512_vnni_gather(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_avx512_vnni_gather(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_r4_avx512_vnni_gather(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_r4_avx512_vnni_gather(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_avx512_amx(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_avx512_amx(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_r4_avx512_amx(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_r4_avx512_amx(IQ1_MATMUL_ARGS);
#endif
