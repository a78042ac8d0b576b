/* iq1kernels C interface: what every backend provides and what the Python layer calls.
 *
 * Every ISA (generic, avx2, avx512, neon) fills one or more `iq1_backend` tables with kernels of the
 * signatures below. The Python layer picks a table by name; the threaded driver (driver.c) splits the
 * work into tiles and calls the table's kernels. No kernel allocates Python objects or takes the GIL.
 *
 * Weights are raw GGUF bytes (docs/FORMATS.md): `w` points at row 0; rows are `iq1_row_bytes(type, k)`
 * apart for IQ1_S / IQ1_M and come in groups of 4 (`iq1_group_bytes`) for the R4 types, whose row
 * ranges are always multiples of 4. Weight bytes may be unaligned: kernels read them with memcpy-style
 * loads. Activations are Q8_K128 (docs/FORMATS.md) kept as three planes (see iq1_act).
 */
#ifndef IQ1_H
#define IQ1_H
#include <stddef.h>
#include <stdint.h>
#include "formats.h" /* iq1_type and the facts of the four formats */

#ifdef __cplusplus
extern "C" {
#endif

#define IQ1_QK_ACT 128 /* Q8_K128 block */

/* Q8_K128 activations for n columns of k values (k % 128 == 0), three C-contiguous planes:
 *   d[c * k/128 + b]      fp32 scale of 128-block b      value = d * q
 *   bsums[c * k/32 + s]   int16 unscaled sum of q over 32-sub-block s
 *   qs[c * k + i]         int8 quant in [-127, 127] (never -128)                                   */
typedef struct {
    const float *d;
    const int16_t *bsums;
    const int8_t *qs;
    int64_t n, k;
} iq1_act;

/* One row of k floats (k % 128 == 0) -> Q8_K128. Bit-identical across backends. */
typedef void (*iq1_quantize_act_fn)(const float *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);

/* The 16-bit float activations: IEEE binary16 (numpy float16, torch.float16) and bfloat16 (the top half
 * of a binary32). Both widen to float32 exactly, every bit pattern included (NaN, Inf, subnormals, -0). */
typedef enum { IQ1_F16 = 0, IQ1_BF16 = 1, IQ1_NHALF = 2 } iq1_half;

/* One row of k 16-bit floats (their raw bits) -> Q8_K128, converted inside the kernel: bit-identical to
 * widening every value to float32 and calling quantize_act, on every backend. */
typedef void (*iq1_quantize_act_half_fn)(const uint16_t *x, int64_t k, float *d, int16_t *bsums, int8_t *qs);

/* Dequantize weight rows [r0, r1) into y, which points at row 0 of an (M, k) float array. */
typedef void (*iq1_dequantize_fn)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, float *y);

/* y[c*ldy + r] = sum_i W[r, i] * X[c, i] for r in [r0, r1), c in [c0, c1). */
typedef void (*iq1_matmul_fn)(const uint8_t *w, int64_t k, int64_t r0, int64_t r1, const iq1_act *x, int64_t c0,
                              int64_t c1, float *y, int64_t ldy);

/* Quantize float rows [r0, r1) (x points at row 0, row stride k) into w (points at row 0).
 * imatrix: k non-negative importance weights or NULL. Returns 0 on success. Bit-identical
 * across backends and thread counts. */
typedef int (*iq1_quantize_fn)(const float *x, int64_t k, int64_t r0, int64_t r1, const float *imatrix, uint8_t *w);

typedef struct {
    const char *name;     /* "avx512_vnni": the name users and tests select       */
    const char *requires; /* space-separated CPU flags (py-cpuinfo spelling)      */
    iq1_quantize_act_fn quantize_act;
    iq1_quantize_act_half_fn quantize_act_half[IQ1_NHALF]; /* [IQ1_F16], [IQ1_BF16] */
    iq1_dequantize_fn dequantize[IQ1_NTYPES];
    iq1_matmul_fn matmul[IQ1_NTYPES];
    iq1_quantize_fn quantize[IQ1_NTYPES];
} iq1_backend;

/* The ISAs, one extension module each: the list of iq1kernels/_isas.py (tests/test_dispatch.py checks that
 * they agree). Each ISA's variant tables, best last, in a NULL-terminated list iq1_backends_<isa> (empty on the
 * architectures the ISA is not for). */
#define IQ1_ISAS(X) X(generic) X(avx2) X(avx512) X(neon)
#define IQ1_DECLARE_BACKENDS_(isa) extern const iq1_backend *const iq1_backends_##isa[];
IQ1_ISAS(IQ1_DECLARE_BACKENDS_)

/* Byte sizes (the format table, formats.h). For R4 types iq1_row_bytes is the per-row share (group / 4). */
int64_t iq1_row_bytes(iq1_type t, int64_t k);
int64_t iq1_group_bytes(iq1_type t, int64_t k); /* 4 rows for R4, 1 row otherwise */
int iq1_rows_per_group(iq1_type t);

/* Threaded drivers (OpenMP); nthreads >= 1. */
void iq1_run_quantize_act(const iq1_backend *b, const float *x, int64_t n, int64_t k, float *d, int16_t *bsums,
                          int8_t *qs, int nthreads);
void iq1_run_quantize_act_half(const iq1_backend *b, iq1_half kind, const uint16_t *x, int64_t n, int64_t k, float *d,
                               int16_t *bsums, int8_t *qs, int nthreads);
void iq1_run_dequantize(const iq1_backend *b, iq1_type t, const uint8_t *w, int64_t m, int64_t k, float *y,
                        int nthreads);
void iq1_run_matmul(const iq1_backend *b, iq1_type t, const uint8_t *w, int64_t m, int64_t k, const iq1_act *x,
                    float *y, int nthreads);
/* *first_bad_row: the smallest row index holding a NaN or Inf (-1 when none does), *bad_rows: how many rows
 * hold one; w is complete only when there is none (the scan runs in the threads, next to the quantizer).
 * Returns non-zero when a quantizer could not allocate its work memory. */
int iq1_run_quantize(const iq1_backend *b, iq1_type t, const float *x, int64_t m, int64_t k, const float *imatrix,
                     uint8_t *w, int nthreads, int64_t *first_bad_row, int64_t *bad_rows);

#ifdef __cplusplus
}
#endif
#endif
