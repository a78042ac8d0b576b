/* The NEON backend (aarch64): "neon" (Armv8.0 Advanced SIMD only) and "neon_dotprod" (Armv8.2 sdot).
 * The weight quantizers: the portable drivers with this ISA's search kernels (quantize_search_*.c; same bytes). */
#include "kernels_neon.h"
#include "quantize_search.h"

#if defined(__aarch64__)
#define NEON_TABLE(NAME, REQUIRES, MM)                                                                      \
    {                                                                                                       \
        .name = NAME, .requires = REQUIRES, .quantize_act = iq1_quantize_act_neon,                          \
        .quantize_act_half = { iq1_quantize_act_f16_neon, iq1_quantize_act_bf16_neon },                     \
        .dequantize = { iq1_dequantize_iq1_s_neon, iq1_dequantize_iq1_m_neon, iq1_dequantize_iq1_s_r4_neon, \
                        iq1_dequantize_iq1_m_r4_neon },                                                     \
        .matmul = { iq1_matmul_iq1_s_##MM, iq1_matmul_iq1_m_##MM, iq1_matmul_iq1_s_r4_##MM,                 \
                    iq1_matmul_iq1_m_r4_##MM },                                                             \
        .quantize = { iq1_quantize_iq1_s_neon, iq1_quantize_iq1_m_neon, iq1_quantize_iq1_s_r4_neon,         \
                      iq1_quantize_iq1_m_r4_neon },                                                         \
    }

#define NEON_BASE "asimd"
static const iq1_backend neon = NEON_TABLE("neon", NEON_BASE, neon);
static const iq1_backend neon_dotprod = NEON_TABLE("neon_dotprod", NEON_BASE " asimddp", neon_dotprod);

const iq1_backend *const iq1_backends_neon[] = { &neon, &neon_dotprod, 0 };
#else
const iq1_backend *const iq1_backends_neon[] = { 0 };
#endif
