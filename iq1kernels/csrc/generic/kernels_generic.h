/* The portable kernels (the ground truth). SIMD backends reuse them for ops they do not specialise. */
#ifndef IQ1_KERNELS_GENERIC_H
#define IQ1_KERNELS_GENERIC_H
#include "iq1.h"

/* Q8_K128 of one 128-block; the rules every backend reproduces bit for bit:
 *  - any NaN or +-Inf in the block: d = NaN (0x7fc00000), q = 0, bsums = 0
 *    (so every output that uses the block is NaN, as in float math);
 *  - amax == 0: d = 0, q = 0;
 *  - otherwise d = amax / 127 (fp32), id = 127 / amax (fp32), q = round_half_even(x * id);
 *    when 127 / amax overflows (amax < ~3.7e-37) x and amax are first multiplied by 2^64 (exact). */
void iq1_quantize_act_block_generic(const float *x, float *d, int16_t *bsums, int8_t *qs);
void iq1_quantize_act_generic(const float *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);
void iq1_quantize_act_f16_generic(const uint16_t *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);
void iq1_quantize_act_bf16_generic(const uint16_t *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);

void iq1_dequantize_iq1_s_generic(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_dequantize_iq1_m_generic(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_dequantize_iq1_s_r4_generic(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);
void iq1_dequantize_iq1_m_r4_generic(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);

#define IQ1_MATMUL_ARGS \
    const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x, int64_t c0, int64_t c1, float *y, int64_t ldy
void iq1_matmul_iq1_s_generic(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_generic(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_s_r4_generic(IQ1_MATMUL_ARGS);
void iq1_matmul_iq1_m_r4_generic(IQ1_MATMUL_ARGS);

#define IQ1_QUANTIZE_ARGS const float *x, int64_t k, int64_t r0, int64_t r1, const float *imatrix, uint8_t *w
int iq1_quantize_iq1_s_generic(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_m_generic(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_s_r4_generic(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_m_r4_generic(IQ1_QUANTIZE_ARGS);

#endif
