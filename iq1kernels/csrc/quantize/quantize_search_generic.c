/* The portable block solvers: the scalar search kernels that every ISA's kernels must agree with
 * decision for decision (quantize_search.h), and the generic instance of quantize_solve-inl.h. */
#include "quantize_search.h"

/* Stable ascending sort of n <= 32 values: order[] gets original positions, ties by position. Done by
 * ranking (rank of i = how many values are smaller, or equal and earlier): branch-free, and the same
 * permutation as a stable comparison sort. Inputs are finite (NaN rejected in Python). */
static void rank_positions(const float *x, int n, int *order) {
    for (int i = 0; i < n; ++i) {
        const float xi = x[i];
        int r = 0;
        for (int j = 0; j < n; ++j) r += (x[j] < xi) | ((x[j] == xi) & (j < i));
        order[r] = i;
    }
}

static void search_splits32(const split32_sums *p, tie_list *tl) {
    for (int i1 = 0; i1 <= 32; ++i1)
        for (int i2 = i1; i2 <= 32; ++i2) split32_pair(p, i1, i2, 0, tl);
}

static void search_splits16(const split16_sums *p, tie_list *tl) {
    for (int i1 = 0; i1 <= 16; ++i1)
        for (int i2 = i1; i2 <= 16; ++i2) split16_pair(p, i1, i2, tl);
}

static int best_neighbour(const uint16_t *codes, int count, const float e[8][4]) {
    float best = FLT_MAX;
    int best_n = 0;
    for (int n = 0; n < count; ++n) {
        const uint16_t c = codes[n];
        float d2 = 0.0f;
        for (int j = 0; j < 8; ++j) d2 += e[j][(c >> (2 * j)) & 3];
        if (d2 < best) {
            best = d2;
            best_n = n;
        }
    }
    return best_n;
}

/* iq1_solver_generic and its functions iq1_quantize_grid_index_generic, iq1_quantize_project32_generic,
 * iq1_quantize_solve32_generic, iq1_quantize_solve32_guarded_generic, iq1_quantize_project16_generic,
 * iq1_quantize_solve16_generic, iq1_quantize_solve16_guarded_generic */
#define IQ1_VARIANT generic
#include "quantize_solve-inl.h"
#undef IQ1_VARIANT
