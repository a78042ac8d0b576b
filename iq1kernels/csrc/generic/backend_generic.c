/* The portable C backend: every kernel in plain C; the ground truth for all others. */
#include "kernels_generic.h"

static const iq1_backend generic = {
    .name = "generic",
    .requires = "",
    .quantize_act = iq1_quantize_act_generic,
    .quantize_act_half = { iq1_quantize_act_f16_generic, iq1_quantize_act_bf16_generic },
    .dequantize = { iq1_dequantize_iq1_s_generic, iq1_dequantize_iq1_m_generic, iq1_dequantize_iq1_s_r4_generic,
                    iq1_dequantize_iq1_m_r4_generic },
    .matmul = { iq1_matmul_iq1_s_generic, iq1_matmul_iq1_m_generic, iq1_matmul_iq1_s_r4_generic,
                iq1_matmul_iq1_m_r4_generic },
    .quantize = { iq1_quantize_iq1_s_generic, iq1_quantize_iq1_m_generic, iq1_quantize_iq1_s_r4_generic,
                  iq1_quantize_iq1_m_r4_generic },
};

const iq1_backend *const iq1_backends_generic[] = { &generic, 0 };
