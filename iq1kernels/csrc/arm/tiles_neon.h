/* What the NEON tiled matmul of every format shares (tiles_neon-inl.h): the strip of decoded rows. */
#ifndef IQ1_TILES_NEON_H
#define IQ1_TILES_NEON_H
#include "common.h"

#define IQ1_TILES_BLOCKS_NEON 16 /* 128-blocks per strip */

typedef struct {
    int8_t v[4][IQ1_TILES_BLOCKS_NEON * 128] __attribute__((aligned(16)));
    int32_t sc[4][IQ1_TILES_BLOCKS_NEON * 8];
    float dw[4][IQ1_TILES_BLOCKS_NEON];
} iq1_strip_neon;

#endif
