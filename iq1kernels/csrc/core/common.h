/* Helpers shared by every C file: kernel names, unaligned loads, fp16 conversion, the block layouts. */
#ifndef IQ1_COMMON_H
#define IQ1_COMMON_H
#include <stdint.h>
#include <string.h>
#include "iq1.h"
#include "grid.h"

/* Kernel names: iq1_<op>_<format>_<variant>, e.g. iq1_gemv_rows_iq1_m_avx2, iq1_gemm_iq1_s_r4_avx512_vnni; the
 * variant is a backend variant (avx2, avx512_vnni, neon_dotprod: docs/ARCHITECTURE.md) or one of its kernel
 * flavours (avx512_vnni_gather). A re-included body (*-inl.h) names what it defines with IQ1_NAME(op), from
 * the including file's IQ1_FORMAT (iq1_m) and IQ1_VARIANT (avx2); IQ1_NAME3 names another variant's. */
#define IQ1_NAME(op) IQ1_NAME3(op, IQ1_FORMAT, IQ1_VARIANT)
#define IQ1_NAME3(op, format, variant) IQ1_NAME3_(op, format, variant) /* expands format and variant */
#define IQ1_NAME3_(op, format, variant) iq1_##op##_##format##_##variant
/* A per-ISA function without a format (the quantizer's block solvers): IQ1_ISA_NAME(op) = iq1_<op>_<variant>,
 * e.g. iq1_quantize_solve32_avx2. */
#define IQ1_ISA_NAME(op) IQ1_ISA_NAME_(op, IQ1_VARIANT)
#define IQ1_ISA_NAME_(op, variant) IQ1_ISA_NAME__(op, variant)
#define IQ1_ISA_NAME__(op, variant) iq1_##op##_##variant
#define IQ1_CAT(a, b) IQ1_CAT_(a, b)
#define IQ1_CAT_(a, b) a##b

/* The one inline macro: helpers the kernels must have inlined (their arguments are compile-time constants
 * that select code, or they sit in the innermost loops). */
#define IQ1_INLINE static inline __attribute__((always_inline))

/* Block sizes in bytes: IQ1S_BLOCK_BYTES (d(2) qs(32) qh(16) per 256), IQ1M_BLOCK_BYTES (qs(32) qh(16) scales(8)
 * per 256), IQ1S_R4_BLOCK_BYTES (qs(16) qh(8) per 4 rows x 32), IQ1M_R4_BLOCK_BYTES (qs(16) qh(8) scales(4) per
 * 4 rows x 32): the format table, formats.h. */

/* Weight bytes may sit at any address (numpy views, mmapped GGUF): read through memcpy. */
static inline uint16_t iq1_load_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
static inline uint32_t iq1_load_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static inline uint64_t iq1_load_u64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* v, as it is at this point, in a vector register: a chain of vector adds stays a chain. Without it GCC
 * re-associates the per-slot sums of an unrolled block into trees whose terms all stay live, and spills
 * them (the AVX2 IQ1_M columns GEMV: 59 stores to the stack and as many reloads per item). */
#ifndef IQ1_IN_REGISTER /* tools/avx512_simde, whose emulated vectors are no registers, sets it empty */
#define IQ1_IN_REGISTER(v) __asm__("" : "+v"(v))
#endif

static inline float iq1_bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline uint32_t iq1_f32_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* round half to even for |f| < 2^22; exact, no libm, same on every ISA */
static inline int iq1_nearest_int(float f) { return (int)(iq1_f32_to_bits(f + 12582912.0f) & 0x7fffff) - 0x400000; }

/* IEEE binary16 -> binary32, exact for every input (subnormals, Inf, NaN). */
static inline float iq1_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return iq1_bits_to_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) { /* zero or subnormal: man * 2^-24 is exact in fp32 */
        float f = (float)man * (1.0f / 16777216.0f);
        return sign ? -f : f;
    }
    return iq1_bits_to_f32(sign | ((exp + 112) << 23) | (man << 13));
}

/* bfloat16 -> binary32: the 16 bits are the top half of the binary32 (exact for every input). */
static inline float iq1_bf16_to_fp32(uint16_t h) { return iq1_bits_to_f32((uint32_t)h << 16); }

/* binary32 -> binary16, round to nearest even; overflow gives Inf, NaN stays NaN. */
static inline uint16_t iq1_fp32_to_fp16(float f) {
    uint32_t x = iq1_f32_to_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return sign | 0x7e00;  /* NaN */
    if (ax >= 0x477ff000u) return sign | 0x7c00; /* rounds to >= 65520: Inf */
    if (ax < 0x38800000u) {                      /* below 2^-14: subnormal half */
        /* value * 2^24 rounded to nearest even integer, done exactly on the significand */
        uint32_t e = ax >> 23;
        if (e < 102) return sign; /* < 2^-25: rounds to zero */
        uint32_t m = (ax & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e; /* 14 .. 24 */
        uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return sign | (uint16_t)q;
    }
    uint32_t q = ((ax >> 13) - (112u << 10)); /* rebias exponent, keep 10 bits */
    uint32_t rem = ax & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (q & 1))) q++;
    return sign | (uint16_t)q;
}

/* IQ1_M keeps its fp16 super-scale in the top nibbles of its four scale words. */
static inline uint16_t iq1m_scale_bits(const uint8_t *scales) {
    uint16_t s0 = iq1_load_u16(scales), s1 = iq1_load_u16(scales + 2);
    uint16_t s2 = iq1_load_u16(scales + 4), s3 = iq1_load_u16(scales + 6);
    return (uint16_t)((s0 >> 12) | ((s1 >> 8) & 0x00f0) | ((s2 >> 4) & 0x0f00) | (s3 & 0xf000));
}

/* Bytes of an R4 group of 4 rows: the four fp16 row scales, then the blocks. */
static inline int64_t iq1_r4_group_bytes(int64_t k, int block_bytes) {
    return IQ1S_R4_GROUP_HEAD_BYTES + (k / IQ1_QK_R4) * block_bytes;
}

#endif
