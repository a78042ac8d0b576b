/* The NEON matmul of the four formats (backends neon and neon_dotprod): one instantiation of matmul_neon-inl.h
 * each. The dotprod instructions only in the *_neon_dotprod functions (their target attribute). */
#if defined(__aarch64__)
#include <arm_neon.h>
#include "kernels_neon.h"

#define IQ1_FORMAT iq1_s
#include "matmul_neon-inl.h"
#undef IQ1_FORMAT

#define IQ1_FORMAT iq1_m
#include "matmul_neon-inl.h"
#undef IQ1_FORMAT

#define IQ1_FORMAT iq1_s_r4
#include "matmul_neon-inl.h"
#undef IQ1_FORMAT

#define IQ1_FORMAT iq1_m_r4
#include "matmul_neon-inl.h"
#undef IQ1_FORMAT
#endif
