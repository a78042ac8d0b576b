/* Instantiates the AVX2 tiled matmul (matmul_tiles_avx2.inc) for the decoder TILES_DECODE, plain
 * and VNNI: static functions tiles256_run and tiles256vnni_run. Include once per format file, after
 * the file's #pragma GCC target and <immintrin.h>. */
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
