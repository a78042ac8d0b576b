/* AVX2 tiled matmul shared by the four formats (each supplies its decoder): a plain-AVX2
 * version and an AVX-VNNI version (vpdpwssd), from one body (matmul_tiles_avx2.inc). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>
#include "matmul_generic.h"
#include "matmul_tiles_avx2.h"

#define TILES_ATTR
#define TILES_NAME(n) tiles256_##n
#define TILES_STRIP tiles256_strip
#define TILES_FN tiles256_run
#define IQ1_TILES_VNNI 0
#include "matmul_tiles_avx2.inc"
#undef TILES_ATTR
#undef TILES_NAME
#undef TILES_STRIP
#undef TILES_FN
#undef IQ1_TILES_VNNI
#undef TILE_NB

#define TILES_ATTR __attribute__((target("avxvnni")))
#define TILES_NAME(n) tiles256vnni_##n
#define TILES_STRIP tiles256vnni_strip
#define TILES_FN tiles256vnni_run
#define IQ1_TILES_VNNI 1
#include "matmul_tiles_avx2.inc"

void iq1_matmul_tiles_avx2(iq1_decode128_fn decode, IQ1_TILES_ARGS) {
    tiles256_run(decode, w, k, r0, r1, x, c0, c1, y, ldy);
}

__attribute__((target("avxvnni")))
void iq1_matmul_tiles_avx2_vnni(iq1_decode128_fn decode, IQ1_TILES_ARGS) {
    tiles256vnni_run(decode, w, k, r0, r1, x, c0, c1, y, ldy);
}
#endif
