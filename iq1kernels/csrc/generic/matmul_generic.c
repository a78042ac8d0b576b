/* The portable matmul of the four formats (the generic backend): one loop, each format's entry passing its
 * decoder (decode128.h).
 *
 * Every format decodes, per row and per 128 columns, to the same integer form:
 *   v[i]  = 8 * (g_i + delta) in {-9, -7, -1, 1, 7, 9}   (int8, exact)
 *   sc[j] = integer scale of the 16 values 16j..16j+15   (2ls+1, or ls for IQ1_M_R4)
 *   dw    = 0.125 * fp16 scale of the row / super-block  (float; 0.125 undoes the factor 8)
 * so W[r, i] = dw * sc[i/16] * v[i] exactly. The dot with a Q8_K128 block is an exact int32 sum
 * (|sum| <= 8 * 15 * 16 * 9 * 127), times dw * d_x in float. Columns are taken in chunks so that
 * one decode serves many columns without any heap allocation. */
#include "common.h"
#include "decode128.h"
#include "kernels_generic.h"

typedef void (*iq1_decode128_fn)(const uint8_t *w, int64_t k, int64_t r, int64_t b, int8_t v[128], int sc[8],
                                 float *dw);

#define IQ1_GENERIC_COLS 64

/* the loop, written once; inlined into each format's own function below, its decoder a constant */
IQ1_INLINE void iq1_matmul_decoded_generic(iq1_decode128_fn decode, const uint8_t *w, int64_t k, int64_t r0, int64_t r1,
                                           const iq1_act *x, int64_t c0, int64_t c1, float *y, int64_t ldy) {
    const int64_t nb = k / IQ1_QK_ACT;
    float acc[IQ1_GENERIC_COLS];
    int8_t v[IQ1_QK_ACT];
    int sc[8];
    for (int64_t cc = c0; cc < c1; cc += IQ1_GENERIC_COLS) {
        const int64_t ncols = (c1 - cc) < IQ1_GENERIC_COLS ? (c1 - cc) : IQ1_GENERIC_COLS;
        for (int64_t r = r0; r < r1; ++r) {
            for (int64_t c = 0; c < ncols; ++c) acc[c] = 0.0f;
            for (int64_t b = 0; b < nb; ++b) {
                float dw;
                decode(w, k, r, b, v, sc, &dw);
                for (int64_t c = 0; c < ncols; ++c) {
                    const int8_t *q = x->qs + (cc + c) * k + b * IQ1_QK_ACT;
                    int32_t isum = 0;
                    for (int j = 0; j < 8; ++j) {
                        int32_t s = 0;
                        for (int t = 16 * j; t < 16 * j + 16; ++t) s += v[t] * q[t];
                        isum += sc[j] * s;
                    }
                    acc[c] += (dw * x->d[(cc + c) * nb + b]) * (float)isum;
                }
            }
            for (int64_t c = 0; c < ncols; ++c) y[(cc + c) * ldy + r] = acc[c];
        }
    }
}

/* per format: the loop with the format's decoder, iq1_gemm_<format>_generic, and the backend table's entry,
 * iq1_matmul_<format>_generic: iq1_gemm_iq1_s_generic, iq1_matmul_iq1_s_generic, iq1_gemm_iq1_m_generic,
 * iq1_matmul_iq1_m_generic, iq1_gemm_iq1_s_r4_generic, iq1_matmul_iq1_s_r4_generic, iq1_gemm_iq1_m_r4_generic,
 * iq1_matmul_iq1_m_r4_generic */
#define IQ1_MATMUL_GENERIC_(T, S, name, ...)                                               \
    static void iq1_gemm_##name##_generic(IQ1_MATMUL_ARGS) {                               \
        iq1_matmul_decoded_generic(iq1_decode128_##name, w, k, r0, r1, x, c0, c1, y, ldy); \
    }                                                                                      \
    void iq1_matmul_##name##_generic(IQ1_MATMUL_ARGS) { iq1_gemm_##name##_generic(w, k, r0, r1, x, c0, c1, y, ldy); }
IQ1_FORMATS(IQ1_MATMUL_GENERIC_)
