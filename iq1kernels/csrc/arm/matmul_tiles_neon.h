/* Instantiates the NEON tiled matmul (matmul_tiles_neon.inc) for the decoder TILES_DECODE, plain and
 * with dotprod: static functions tilesneon_run and tilesneondp_run. Include once per format file. */
#define TILES_ATTR
#define TILES_NAME(n) tilesneon_##n
#define TILES_STRIP tilesneon_strip
#define TILES_FN tilesneon_run
#define IQ1_TILES_DOTPROD 0
#include "matmul_tiles_neon.inc"
#undef TILES_ATTR
#undef TILES_NAME
#undef TILES_STRIP
#undef TILES_FN
#undef IQ1_TILES_DOTPROD
#undef TILE_NB

#define TILES_ATTR __attribute__((target("arch=armv8.2-a+dotprod")))
#define TILES_NAME(n) tilesneondp_##n
#define TILES_STRIP tilesneondp_strip
#define TILES_FN tilesneondp_run
#define IQ1_TILES_DOTPROD 1
#include "matmul_tiles_neon.inc"
