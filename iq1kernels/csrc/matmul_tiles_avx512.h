/* Instantiates the AVX-512 tiled matmul (matmul_tiles_avx512.inc) for the decoder TILES_DECODE, plain
 * and VNNI: static functions tiles512_run and tiles512vnni_run. Include once per format file, after
 * the file's #pragma GCC target and <immintrin.h>. */
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
