/* Threaded drivers: split an operation into tiles and run a backend's kernels on them (OpenMP). */
#include "common.h"

#define IQ1_FORMAT_INFO_(T, S, n, id, bk, bb, rows, head, kmul, dk) [T] = { #n, id, bk, bb, rows, head, kmul, dk },
const iq1_format_info iq1_formats[IQ1_NTYPES] = { IQ1_FORMATS(IQ1_FORMAT_INFO_) };

int iq1_rows_per_group(iq1_type t) { return iq1_formats[t].rows_per_group; }

/* a switch of constants: the GEMVs ask for it per row item, and the divisions become shifts */
#define IQ1_GROUP_BYTES_(T, S, ...) \
    case T: return S##_GROUP_HEAD_BYTES + (k / S##_BLOCK_K) * S##_BLOCK_BYTES;
int64_t iq1_group_bytes(iq1_type t, int64_t k) {
    switch (t) {
        IQ1_FORMATS(IQ1_GROUP_BYTES_)
    default: return 0;
    }
}

int64_t iq1_row_bytes(iq1_type t, int64_t k) { return iq1_group_bytes(t, k) / iq1_rows_per_group(t); }

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Rows are split in units of 16 (a multiple of every kernel's row tile and of the R4 group). */
#define ROW_UNIT 16

void iq1_run_matmul(const iq1_backend *b, iq1_type t, const uint8_t *w, int64_t m, int64_t k, const iq1_act *x,
                    float *y, int nthreads) {
    const iq1_matmul_fn fn = b->matmul[t];
    const int64_t n = x->n, row_units = ceil_div(m, ROW_UNIT);
    int64_t row_tile, col_tile;
    if (nthreads <= 1) {
        row_tile = m;
        col_tile = n;
    } else if (row_units >= 4 * (int64_t)nthreads || n <= 8) {
        /* enough rows: contiguous row strips, every thread sees all columns (weights read once). Several
         * strips per thread, taken dynamically: a core that runs faster (another tenant on the sibling of
         * the other, a lower clock) takes more of them instead of waiting for the slow one. A GEMM strip
         * re-packs all activations, so it gets two per thread (four cost 3-10 % at 2 threads on a quiet machine:
         * docs/PERFORMANCE.md, "GEMM strips"). */
        const int64_t per_thread = n <= 8 ? 8 : 2;
        row_tile = ROW_UNIT * ceil_div(row_units, (int64_t)nthreads * per_thread);
        col_tile = n;
    } else {
        /* few rows, many columns: split columns too so every thread gets work */
        const int64_t col_splits = ceil_div(4 * (int64_t)nthreads, row_units);
        row_tile = ROW_UNIT;
        col_tile = ceil_div(n, col_splits);
        if (col_tile < 8) col_tile = 8;
    }
    if (row_tile < 1) row_tile = 1;
    if (col_tile < 1) col_tile = 1;
    const int64_t nrt = ceil_div(m, row_tile), nct = ceil_div(n, col_tile), ntiles = nrt * nct;
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1) if (nthreads > 1 && ntiles > 1)
    for (int64_t tile = 0; tile < ntiles; ++tile) {
        const int64_t r0 = (tile / nct) * row_tile, c0 = (tile % nct) * col_tile;
        const int64_t r1 = r0 + row_tile < m ? r0 + row_tile : m;
        const int64_t c1 = c0 + col_tile < n ? c0 + col_tile : n;
        fn(w, k, r0, r1, x, c0, c1, y, m);
    }
}

void iq1_run_dequantize(const iq1_backend *b, iq1_type t, const uint8_t *w, int64_t m, int64_t k, float *y,
                        int nthreads) {
    const iq1_dequantize_fn fn = b->dequantize[t];
    const int64_t chunk = ROW_UNIT * ceil_div(ceil_div(m, ROW_UNIT), nthreads > 0 ? nthreads : 1);
    const int64_t nchunks = ceil_div(m, chunk);
#pragma omp parallel for num_threads(nthreads) schedule(static, 1) if (nthreads > 1 && nchunks > 1)
    for (int64_t i = 0; i < nchunks; ++i) {
        const int64_t r0 = i * chunk, r1 = r0 + chunk < m ? r0 + chunk : m;
        fn(w, k, r0, r1, y);
    }
}

/* Rows of activations, one kernel call per row; threads only when there is enough work to share. */
#define QUANTIZE_ACT_ROWS(fn, x, n, k, d, bsums, qs, nthreads)                                                       \
    do {                                                                                                             \
        const int64_t nb_ = (k) / IQ1_QK_ACT;                                                                        \
        (void)(nthreads); /* used only by the OpenMP pragma */                                                       \
        _Pragma("omp parallel for num_threads(nthreads) schedule(static) if (nthreads > 1 && n * k >= 65536)") for ( \
            int64_t c = 0; c < (n);                                                                                  \
            ++c)(fn)((x) + c * (k), (k), (d) + c * nb_, (bsums) + c * ((k) / 32), (qs) + c * (k));                   \
    } while (0)

void iq1_run_quantize_act(const iq1_backend *b, const float *x, int64_t n, int64_t k, float *d, int16_t *bsums,
                          int8_t *qs, int nthreads) {
    QUANTIZE_ACT_ROWS(b->quantize_act, x, n, k, d, bsums, qs, nthreads);
}

void iq1_run_quantize_act_half(const iq1_backend *b, iq1_half kind, const uint16_t *x, int64_t n, int64_t k, float *d,
                               int16_t *bsums, int8_t *qs, int nthreads) {
    QUANTIZE_ACT_ROWS(b->quantize_act_half[kind], x, n, k, d, bsums, qs, nthreads);
}

/* NaN and +-Inf are the floats with an all-ones exponent: an integer test on the bits, so that no floating-point
 * flag (-ffinite-math-only) can fold it away; no early exit, so that it vectorises. */
static int row_is_finite(const float *x, int64_t k) {
    uint32_t bad = 0;
    for (int64_t i = 0; i < k; ++i) {
        uint32_t u;
        memcpy(&u, x + i, sizeof u);
        bad |= (u & 0x7f800000u) == 0x7f800000u;
    }
    return !bad;
}

int iq1_run_quantize(const iq1_backend *b, iq1_type t, const float *x, int64_t m, int64_t k, const float *imatrix,
                     uint8_t *w, int nthreads, int64_t *first_bad_row, int64_t *bad_rows) {
    const iq1_quantize_fn fn = b->quantize[t];
    const int64_t unit = iq1_rows_per_group(t);
    const int64_t ngroups = m / unit;
    int failed = 0, any_bad = 0;
    int64_t first = INT64_MAX, nbad = 0;
    (void)nthreads;
/* small dynamic chunks: quantization cost varies per row and the bytes do not depend on the split. Each chunk
 * scans its own rows just before quantizing them (they are then in cache); min and sum make the bad-row report
 * the same for every split and thread count. */
#pragma omp parallel for num_threads(nthreads) schedule(dynamic, 1) reduction(|| : failed) reduction(min : first) \
    reduction(+ : nbad) if (nthreads > 1 && ngroups > 1)
    for (int64_t g = 0; g < ngroups; g += 4) {
        const int64_t r0 = g * unit, r1 = (g + 4 < ngroups ? g + 4 : ngroups) * unit;
        int chunk_bad = 0;
        for (int64_t r = r0; r < r1; ++r) {
            if (!row_is_finite(x + r * k, k)) {
                if (r < first) first = r;
                ++nbad;
                chunk_bad = 1;
            }
        }
        /* once any row is bad the output is discarded: the chunks after it only count */
        int skip;
        if (chunk_bad) {
#pragma omp atomic write
            any_bad = 1;
        }
#pragma omp atomic read
        skip = any_bad;
        if (!skip && fn(x, k, r0, r1, imatrix, w) != 0) failed = 1;
    }
    *first_bad_row = nbad ? first : -1;
    *bad_rows = nbad;
    return failed;
}
