/* The four weight formats: the one table of their facts. The C code takes them from here (the iq1_type enum,
 * the block sizes below, the byte counts of driver.c, the shape checks of the Cython glue) and Python through
 * the generic module's format_table() (iq1kernels/formats.py builds iq1kernels.FORMATS from it).
 *
 *   X(TYPE, STEM, name, ggml_id, block_k, block_bytes, rows_per_group, group_head_bytes, k_multiple, delta_k)
 *
 *   TYPE              the iq1_type value; its order indexes the kernel tables (iq1_backend.matmul[TYPE])
 *   STEM              the prefix of the per-format constants below (IQ1S_BLOCK_BYTES)
 *   name              as users write it and as the kernel names spell the format (iq1_matmul_iq1_s_avx2)
 *   ggml_id           the GGML type id in GGUF files
 *   block_k           values of a row in one block
 *   block_bytes       bytes of one block (of all 4 rows of a group for the R4 types)
 *   rows_per_group    rows stored together: 4 for the row-interleaved R4 types (M must be a multiple), else 1
 *   group_head_bytes  bytes before a group's blocks: the R4 types' four fp16 row scales
 *   k_multiple        K must be a multiple of it (the kernels take 128-value blocks: 256 for the super-block
 *                     formats, 128 for the R4 types)
 *   delta_k           values sharing one delta sign: 32 for the S types, 8 for the M types
 *
 * Byte layouts: docs/FORMATS.md and the dequantizers of core/dequantize_formats-inl.h. */
#ifndef IQ1_FORMATS_H
#define IQ1_FORMATS_H

#define IQ1_FORMATS(X)                                         \
    X(IQ1_S, IQ1S, iq1_s, 19, 256, 50, 1, 0, 256, 32)          \
    X(IQ1_M, IQ1M, iq1_m, 29, 256, 56, 1, 0, 256, 8)           \
    X(IQ1_S_R4, IQ1S_R4, iq1_s_r4, 219, 32, 24, 4, 8, 128, 32) \
    X(IQ1_M_R4, IQ1M_R4, iq1_m_r4, 229, 32, 28, 4, 8, 128, 8)

#define IQ1_FORMAT_ENUM_(T, S, n, id, bk, bb, rows, head, kmul, dk) T,
typedef enum { IQ1_FORMATS(IQ1_FORMAT_ENUM_) IQ1_NTYPES } iq1_type;

/* IQ1S_BLOCK_BYTES, IQ1S_BLOCK_K, IQ1S_GROUP_HEAD_BYTES, ... per format (integer constants) */
#define IQ1_FORMAT_CONSTANTS_(T, S, n, id, bk, bb, rows, head, kmul, dk) \
    S##_BLOCK_K = bk, S##_BLOCK_BYTES = bb, S##_GROUP_HEAD_BYTES = head,
enum { IQ1_FORMATS(IQ1_FORMAT_CONSTANTS_) };

#define IQ1_QK_K IQ1S_BLOCK_K     /* the super-block of IQ1_S and IQ1_M */
#define IQ1_QK_R4 IQ1S_R4_BLOCK_K /* the block of the R4 types          */

/* The table at run time (core/driver.c), indexed by iq1_type. */
typedef struct {
    const char *name;
    int ggml_id, block_k, block_bytes, rows_per_group, group_head_bytes, k_multiple, delta_k;
} iq1_format_info;
extern const iq1_format_info iq1_formats[IQ1_NTYPES];

#endif
