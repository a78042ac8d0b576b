/* AVX2 tiled matmul over decoded rows (matmul_tiles_avx2.c); the per-format files wrap it. */
#ifndef IQ1_MATMUL_TILES_AVX2_H
#define IQ1_MATMUL_TILES_AVX2_H
#include "matmul_generic.h"

#define IQ1_TILES_ARGS const uint8_t *w, int64_t k, int64_t r0, int64_t r1, \
                       const iq1_act *x, int64_t c0, int64_t c1, float *y, int64_t ldy
void iq1_matmul_tiles_avx2(iq1_decode128_fn decode, IQ1_TILES_ARGS);
void iq1_matmul_tiles_avx2_vnni(iq1_decode128_fn decode, IQ1_TILES_ARGS);
#endif
