/* The NEON kernels (the backend table is in backend_neon.c). */
#ifndef IQ1_KERNELS_NEON_H
#define IQ1_KERNELS_NEON_H
#include "kernels_generic.h"

void iq1_quantize_act_neon(const float *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);
void iq1_quantize_act_f16_neon(const uint16_t *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);
void iq1_quantize_act_bf16_neon(const uint16_t *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);
void iq1_dequantize_iq1_s_neon(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_dequantize_iq1_m_neon(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_dequantize_iq1_s_r4_neon(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_dequantize_iq1_m_r4_neon(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_matmul_iq1_s_neon(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_neon(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_r4_neon(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_r4_neon(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_neon_dotprod(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_neon_dotprod(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_r4_neon_dotprod(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_r4_neon_dotprod(IQ1_MATMUL_ARGS);
#endif
