/* The NEON matmul of the four formats (backends neon and neon_dotprod): one instantiation of matmul_neon-inl.h
 * each. The dotprod instructions only in the *_neon_dotprod functions (their target attribute). */
#if defined(__aarch64__)
#include <arm_neon.h>
#include "kernels_neon.h"

/* iq1_s: iq1_matmul_iq1_s_neon, iq1_matmul_iq1_s_neon_dotprod, iq1_tiles_iq1_s_neon, iq1_tiles_iq1_s_neon_dotprod,
 * iq1_tiles_decode_iq1_s_neon, iq1_tiles_decode_iq1_s_neon_dotprod (IQ1_NAME(op) in matmul_neon-inl.h and
 * tiles_neon-inl.h) */
#define IQ1_FORMAT iq1_s
#include "matmul_neon-inl.h"
#undef IQ1_FORMAT

/* iq1_m: iq1_matmul_iq1_m_neon, iq1_matmul_iq1_m_neon_dotprod, iq1_tiles_iq1_m_neon, iq1_tiles_iq1_m_neon_dotprod,
 * iq1_tiles_decode_iq1_m_neon, iq1_tiles_decode_iq1_m_neon_dotprod (IQ1_NAME(op) in matmul_neon-inl.h and
 * tiles_neon-inl.h) */
#define IQ1_FORMAT iq1_m
#include "matmul_neon-inl.h"
#undef IQ1_FORMAT

/* iq1_s_r4: iq1_matmul_iq1_s_r4_neon, iq1_matmul_iq1_s_r4_neon_dotprod, iq1_tiles_iq1_s_r4_neon,
 * iq1_tiles_iq1_s_r4_neon_dotprod, iq1_tiles_decode_iq1_s_r4_neon, iq1_tiles_decode_iq1_s_r4_neon_dotprod
 * (IQ1_NAME(op) in matmul_neon-inl.h and tiles_neon-inl.h) */
#define IQ1_FORMAT iq1_s_r4
#include "matmul_neon-inl.h"
#undef IQ1_FORMAT

/* iq1_m_r4: iq1_matmul_iq1_m_r4_neon, iq1_matmul_iq1_m_r4_neon_dotprod, iq1_tiles_iq1_m_r4_neon,
 * iq1_tiles_iq1_m_r4_neon_dotprod, iq1_tiles_decode_iq1_m_r4_neon, iq1_tiles_decode_iq1_m_r4_neon_dotprod
 * (IQ1_NAME(op) in matmul_neon-inl.h and tiles_neon-inl.h) */
#define IQ1_FORMAT iq1_m_r4
#include "matmul_neon-inl.h"
#undef IQ1_FORMAT
#endif
