/* The AVX2 backend: "avx2" (AVX2/FMA/F16C, no VNNI instruction executed) and "avx2_vnni" (AVX-VNNI).
 * The weight quantizers: the portable drivers with this ISA's search kernels (quantize_search_*.c; same bytes). */
#include "kernels_avx2.h"
#include "quantize_search.h"

#if defined(__x86_64__)
#define AVX2_TABLE(NAME, REQUIRES, MM)                                                                      \
    {                                                                                                       \
        .name = NAME, .requires = REQUIRES, .quantize_act = iq1_quantize_act_avx2,                          \
        .quantize_act_half = { iq1_quantize_act_f16_avx2, iq1_quantize_act_bf16_avx2 },                     \
        .dequantize = { iq1_dequantize_iq1_s_avx2, iq1_dequantize_iq1_m_avx2, iq1_dequantize_iq1_s_r4_avx2, \
                        iq1_dequantize_iq1_m_r4_avx2 },                                                     \
        .matmul = { iq1_matmul_iq1_s_##MM, iq1_matmul_iq1_m_##MM, iq1_matmul_iq1_s_r4_##MM,                 \
                    iq1_matmul_iq1_m_r4_##MM },                                                             \
        .quantize = { iq1_quantize_iq1_s_avx2, iq1_quantize_iq1_m_avx2, iq1_quantize_iq1_s_r4_avx2,         \
                      iq1_quantize_iq1_m_r4_avx2 },                                                         \
    }

#define AVX2_BASE "avx2 fma f16c"
static const iq1_backend avx2 = AVX2_TABLE("avx2", AVX2_BASE, avx2);
static const iq1_backend avx2_vnni = AVX2_TABLE("avx2_vnni", AVX2_BASE " avxvnni", avx2_vnni);

const iq1_backend *const iq1_backends_avx2[] = { &avx2, &avx2_vnni, 0 };
#else
const iq1_backend *const iq1_backends_avx2[] = { 0 };
#endif
