/* The shared 2048-entry IQ1 ternary grid, generated into grid_data.c by tools/gen_grid.py. */
#ifndef IQ1_GRID_H
#define IQ1_GRID_H
#include <stdint.h>

#define IQ1_ALIGN64 __attribute__((aligned(64)))

extern const uint16_t iq1_grid_codes[2048];    /* generator codes, 2 bits per value        */
extern const uint64_t iq1_grid_signed[2048];   /* 8 x int8 g in {-1, 0, 1}                  */
extern const uint64_t iq1_grid_unsigned[2048]; /* 8 x uint8 u = g + 1 in {0, 1, 2}          */
extern const uint32_t iq1_grid_nibble[2048];   /* byte b: low nibble u_b, high nibble u_b+4 */
extern const uint64_t iq1_grid_v8[2][2048];    /* 8 x int8 8(g + delta): [0] delta = +1/8, [1] -1/8 */
extern const uint64_t iq1_grid_v8u[2][2048];   /* 8 x uint8 8(g + delta) + 9, the same two halves   */

#endif
