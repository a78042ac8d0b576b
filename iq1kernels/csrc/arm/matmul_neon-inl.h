/* Re-included body: the NEON matmul of one format, both variants.
 *   Expects  IQ1_FORMAT (iq1_s).
 *   Defines  iq1_matmul_<format>_neon and iq1_matmul_<format>_neon_dotprod (the backend tables' entries) and the
 *            tiled kernels they run, iq1_tiles_<format>_neon[_dotprod] (tiles_neon-inl.h). */
#include "decode128.h"
#include "tiles_neon.h"

#define IQ1_DECODE128 IQ1_CAT(iq1_decode128_, IQ1_FORMAT)

#define IQ1_ATTR
#define IQ1_VARIANT neon
#define IQ1_DOTPROD 0
#include "tiles_neon-inl.h"

void IQ1_NAME(matmul)(IQ1_MATMUL_ARGS) { IQ1_NAME(tiles)(w, k, r0, r1, x, c0, c1, y, ldy); }
#undef IQ1_ATTR
#undef IQ1_VARIANT
#undef IQ1_DOTPROD

#define IQ1_ATTR __attribute__((target("arch=armv8.2-a+dotprod")))
#define IQ1_VARIANT neon_dotprod
#define IQ1_DOTPROD 1
#include "tiles_neon-inl.h"

IQ1_ATTR
void IQ1_NAME(matmul)(IQ1_MATMUL_ARGS) { IQ1_NAME(tiles)(w, k, r0, r1, x, c0, c1, y, ldy); }
#undef IQ1_ATTR
#undef IQ1_VARIANT
#undef IQ1_DOTPROD

#undef IQ1_DECODE128
