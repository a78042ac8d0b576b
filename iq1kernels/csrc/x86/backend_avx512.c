/* The AVX-512 backend: "avx512" (F/BW/VL/DQ, no VNNI instruction executed), "avx512_vnni" and
 * "avx512_amx" (avx512_vnni with the AMX int8 tile GEMM for many columns).
 * The weight quantizers: the portable drivers with this ISA's search kernels (quantize_search_*.c; same bytes). */
#include "kernels_avx512.h"
#include "quantize_search.h"

#if defined(__x86_64__)
#define AVX512_TABLE(NAME, REQUIRES, MM)                                                                          \
    {                                                                                                             \
        .name = NAME, .requires = REQUIRES, .quantize_act = iq1_quantize_act_avx512,                              \
        .quantize_act_half = { iq1_quantize_act_f16_avx512, iq1_quantize_act_bf16_avx512 },                       \
        .dequantize = { iq1_dequantize_iq1_s_avx512, iq1_dequantize_iq1_m_avx512, iq1_dequantize_iq1_s_r4_avx512, \
                        iq1_dequantize_iq1_m_r4_avx512 },                                                         \
        .matmul = { iq1_matmul_iq1_s_##MM, iq1_matmul_iq1_m_##MM, iq1_matmul_iq1_s_r4_##MM,                       \
                    iq1_matmul_iq1_m_r4_##MM },                                                                   \
        .quantize = { iq1_quantize_iq1_s_avx512, iq1_quantize_iq1_m_avx512, iq1_quantize_iq1_s_r4_avx512,         \
                      iq1_quantize_iq1_m_r4_avx512 },                                                             \
    }

#define AVX512_BASE "avx2 fma f16c avx512f avx512bw avx512vl avx512dq"
static const iq1_backend avx512 = AVX512_TABLE("avx512", AVX512_BASE, avx512);
static const iq1_backend avx512_vnni = AVX512_TABLE("avx512_vnni", AVX512_BASE " avx512vnni", avx512_vnni);
/* amxtile also stands for the tile state that Linux must grant the process (cpu_features.c) */
static const iq1_backend avx512_amx = AVX512_TABLE("avx512_amx", AVX512_BASE " avx512vnni amxtile amxint8", avx512_amx);

const iq1_backend *const iq1_backends_avx512[] = { &avx512, &avx512_vnni, &avx512_amx, 0 };
#else
const iq1_backend *const iq1_backends_avx512[] = { 0 };
#endif
