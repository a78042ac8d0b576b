/* AVX-512 tiled matmul shared by the four formats (each supplies its decoder): a plain-AVX-512BW
 * version and a VNNI version (vpdpwssd), from one body (matmul_tiles_avx512.inc). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")
#include <immintrin.h>
#include "matmul_generic.h"
#include "matmul_tiles_avx512.h"

#define TILES_ATTR
#define TILES_NAME(n) tiles512_##n
#define TILES_STRIP tiles512_strip
#define TILES_FN tiles512_run
#define IQ1_TILES_VNNI 0
#include "matmul_tiles_avx512.inc"
#undef TILES_ATTR
#undef TILES_NAME
#undef TILES_STRIP
#undef TILES_FN
#undef IQ1_TILES_VNNI
#undef TILE_NB

#define TILES_ATTR __attribute__((target("avx512vnni")))
#define TILES_NAME(n) tiles512vnni_##n
#define TILES_STRIP tiles512vnni_strip
#define TILES_FN tiles512vnni_run
#define IQ1_TILES_VNNI 1
#include "matmul_tiles_avx512.inc"

void iq1_matmul_tiles_avx512(iq1_decode128_fn decode, IQ1_TILES_ARGS) {
    tiles512_run(decode, w, k, r0, r1, x, c0, c1, y, ldy);
}

__attribute__((target("avx512vnni")))
void iq1_matmul_tiles_avx512_vnni(iq1_decode128_fn decode, IQ1_TILES_ARGS) {
    tiles512vnni_run(decode, w, k, r0, r1, x, c0, c1, y, ldy);
}
#endif
