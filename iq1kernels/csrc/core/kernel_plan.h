/* The kernel plan's thresholds: the column counts at which the x86 matmuls change kernels, named once. The
 * plan functions that apply them are iq1_matmul_<format>_<variant> of x86/gemm_avx2-inl.h,
 * x86/gemm_avx512-inl.h and x86/gemm_amx-inl.h (docs/ARCHITECTURE.md "Kernel plan" walks through them);
 * docs/PERFORMANCE.md "Kernel design measurements" has the measurement behind each number. The generic module
 * exports them to Python (kernel_plan()); tests/test_linear.py draws its column counts from them. The NEON and
 * generic kernels have no thresholds: one kernel serves every column count. */
#ifndef IQ1_KERNEL_PLAN_H
#define IQ1_KERNEL_PLAN_H

/* the GEMVs take the columns in passes of 8 (the driver splits only rows up to one pass, core/driver.c) */
#define IQ1_GEMV_PASS_COLS 8
/* a pass of 3..8 columns: the columns GEMV (columns in the lanes); of 1 or 2: the rows GEMV (rows in the lanes) */
#define IQ1_GEMV_COLUMNS_MIN 3
/* up to 16 columns the GEMV (in passes), more the GEMM (avx2_vnni; AVX-512 per format, below) */
#define IQ1_GEMV_MAX_COLS 16
/* avx2 (plain): the GEMV for one pass, the GEMM from 9 columns on. On AMD Zen 3 its GEMM, whose strip decodes
 * four rows at a time like the GEMV, takes 0.67-0.82 of the GEMV's two passes at 9-16 columns for IQ1_S, IQ1_M and
 * IQ1_M_R4 and 0.90-1.00 for IQ1_S_R4 (docs/PERFORMANCE.md, "AVX2 GEMM from 9 columns") */
#define IQ1_AVX2_GEMV_MAX_COLS IQ1_GEMV_PASS_COLS
/* avx512, avx512_vnni: the GEMV up to this many columns per format, the GEMM above. On AMD Zen 4 the S types' GEMV
 * passes stay faster than the VNNI GEMM up to 40 columns and IQ1_M_R4's up to 32, IQ1_M's GEMM is faster from 17 on
 * (docs/PERFORMANCE.md, "AVX-512 GEMV up to 40 columns") */
#define IQ1_AVX512_GEMV_MAX_COLS_IQ1_S 40
#define IQ1_AVX512_GEMV_MAX_COLS_IQ1_M IQ1_GEMV_MAX_COLS
#define IQ1_AVX512_GEMV_MAX_COLS_IQ1_S_R4 40
#define IQ1_AVX512_GEMV_MAX_COLS_IQ1_M_R4 32
/* the GEMM takes the columns in batches of 768: its copy of the activations stays ~3.5 MB however many columns
 * there are; a last batch of up to the GEMV's maximum goes to the GEMV */
#define IQ1_GEMM_BATCH_COLS 768
/* avx512_amx: from this many columns the AMX tile GEMM, fewer: avx512_vnni's plan. Per format: the tiles' time
 * is nearly flat up to one block of 32 columns (decoding the weights into A tiles dominates it), the VNNI GEMM's
 * grows with the columns, and they cross at different counts (docs/PERFORMANCE.md, "AMX tiles from ...") */
#define IQ1_AMX_MIN_COLS_IQ1_S 18
#define IQ1_AMX_MIN_COLS_IQ1_M 18
#define IQ1_AMX_MIN_COLS_IQ1_S_R4 27
#define IQ1_AMX_MIN_COLS_IQ1_M_R4 25
/* avx512_amx, below the format's tile minimum: the GEMV (passes of 8) up to this many columns, the VNNI GEMM above.
 * The R4 formats' VNNI GEMM starts slower than the GEMV passes it would follow, so their GEMV serves every column
 * count below the tiles (docs/PERFORMANCE.md, "GEMV passes up to the tiles for the R4 formats") */
#define IQ1_AMX_GEMV_MAX_COLS_IQ1_S IQ1_GEMV_MAX_COLS
#define IQ1_AMX_GEMV_MAX_COLS_IQ1_M IQ1_GEMV_MAX_COLS
#define IQ1_AMX_GEMV_MAX_COLS_IQ1_S_R4 (IQ1_AMX_MIN_COLS_IQ1_S_R4 - 1)
#define IQ1_AMX_GEMV_MAX_COLS_IQ1_M_R4 (IQ1_AMX_MIN_COLS_IQ1_M_R4 - 1)
/* ... in blocks of 32 columns (two 16-column B tiles; the last padded) */
#define IQ1_AMX_BLOCK_COLS 32
/* ... in batches of 512 columns (bounds its activation copy to 2 MB); a last batch below the format's minimum goes
 * to avx512_vnni's plan */
#define IQ1_AMX_BATCH_COLS 512

#endif
