/* The block solvers of the IQ1 quantizers, one instance per ISA (quantize_search_<isa>.c), all making the
 * same decisions as the portable one: the vector search kernels only filter candidates (a candidate they
 * drop fails the exact test of the scalar search at that moment), and every value they keep is computed
 * with the same fp32 operations in the same order (the build uses -ffp-contract=off).
 *
 * The scalar steps of the split search live here so that the vector kernels reuse them for the few
 * candidates that pass their filter. */
#ifndef IQ1_QUANTIZE_SEARCH_H
#define IQ1_QUANTIZE_SEARCH_H
#include <float.h>
#include "common.h"
#include "kernels_generic.h"
#include "quantize_common.h"

/* A quantizer's block solvers (quantize_common.h documents them); the drivers
 * (quantize_iq1_*_generic.c) take one of these. */
typedef struct {
    iq1s_block (*solve32_guarded)(const iq1_quant_tables *t, const float *x, const float *qw, float sigma2);
    iq1m_block (*solve16_guarded)(const iq1_quant_tables *t, const float *x, const float *qw, float sigma2,
                                  int x2_default, float amax_eps, int first);
} iq1_solver;

extern const iq1_solver iq1_solver_generic;
int iq1_quantize_iq1_s_with(const iq1_solver *sv, IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_m_with(const iq1_solver *sv, IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_s_r4_with(const iq1_solver *sv, IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_m_r4_with(const iq1_solver *sv, IQ1_QUANTIZE_ARGS);

/* the per-ISA quantizer entry points of the backend tables (same signature, same bytes) */
#if defined(__x86_64__)
int iq1_quantize_iq1_s_avx2(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_m_avx2(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_s_r4_avx2(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_m_r4_avx2(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_s_avx512(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_m_avx512(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_s_r4_avx512(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_m_r4_avx512(IQ1_QUANTIZE_ARGS);
#endif
#if defined(__aarch64__)
int iq1_quantize_iq1_s_neon(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_m_neon(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_s_r4_neon(IQ1_QUANTIZE_ARGS);
int iq1_quantize_iq1_m_r4_neon(IQ1_QUANTIZE_ARGS);
#endif

/* Counters for tools/quant_profile, which builds with IQ1_SEARCH_COUNTING; nothing in the package. */
enum {
    IQ1_CNT_SEARCHES,
    IQ1_CNT_SCALAR_STEPS,
    IQ1_CNT_NEW_BEST,
    IQ1_CNT_PUSH,
    IQ1_CNT_RESTART,
    IQ1_CNT_TIES,
    IQ1_CNT_OFFGRID,
    IQ1_CNT_NEIGHBOURS,
    IQ1_CNT_N
};
#ifdef IQ1_SEARCH_COUNTING
extern long long iq1_search_counts[IQ1_CNT_N];
#define IQ1_SEARCH_COUNT(what, n) (iq1_search_counts[what] += (n))
#else
#define IQ1_SEARCH_COUNT(what, n) ((void)0)
#endif

/* ---- the split search: closed form and tie bookkeeping ----
 * With levels P = {-1+d, d, 1+d} and prefix sums SX (of w x), SW (of w) over the sorted values, a split
 * (i1, i2) gives
 *   sqx = P2 SX[n] - SX[i1] - SX[i2]
 *   sq2 = P2^2 SW[n] + (1 - 2d) SW[i1] - (1 + 2d) SW[i2]
 * so the i1 terms are hoisted out of the i2 loop: x1 = cx - SX[i1], w1 = cw + A SW[i1], then
 * sqx = x1 - SX[i2], sq2 = w1 - B SW[i2]. Index s = 0: d = +1/8, s = 1: d = -1/8 (constants exact). */
static const float IQ1_LEV_P2[2] = { 1.125f, 0.875f };
static const float IQ1_LEV_P2SQ[2] = { 1.265625f, 0.765625f };
static const float IQ1_LEV_A[2] = { 0.75f, 1.25f }; /* 1 - 2d = P0^2 - P1^2 */
static const float IQ1_LEV_B[2] = { 1.25f, 0.75f }; /* 1 + 2d = P2^2 - P1^2 */

/* Near-ties. The split objective ignores the grid; splits whose scores are equal in exact arithmetic
 * (a constant block: all values on the top level, or all on the middle one with 8x the scale) are then
 * decided by fp32 rounding: the loser may be the one that is on the grid, and neighbouring blocks of the
 * same super-block may pick representations with scales 8x apart. So candidates within a relative
 * IQ1_TIE_TOL of the best are remembered (at most IQ1_MAX_TIES, in search order); when there is more than
 * one, all are projected onto the grid and the best final score wins. */
#define IQ1_TIE_TOL 1e-5f
#define IQ1_MAX_TIES 16
typedef struct {
    float score;
    int i1, i2, s;
} split_cand;

typedef struct {
    split_cand c[IQ1_MAX_TIES];
    int n, bi;
    float best, lo;
} tie_list; /* c[bi]: the best */

static inline void ties_init(tie_list *tl, float best0) {
    tl->n = 0;
    tl->bi = -1;
    tl->best = best0;
    tl->lo = best0;
}

/* a candidate that passed sqx^2 > best * sq2: the new best */
static inline void ties_new_best(tie_list *tl, float score, int i1, int i2, int s) {
    IQ1_SEARCH_COUNT(IQ1_CNT_NEW_BEST, 1);
    tl->best = score;
    tl->lo = score - score * IQ1_TIE_TOL;
    int m = 0;
    for (int j = 0; j < tl->n; ++j)
        if (tl->c[j].score >= tl->lo) tl->c[m++] = tl->c[j];
    tl->n = m < IQ1_MAX_TIES ? m : IQ1_MAX_TIES - 1;
    tl->bi = tl->n;
    tl->c[tl->n++] = (split_cand){ score, i1, i2, s };
}

static inline void ties_push(tie_list *tl, float score, int i1, int i2, int s) {
    IQ1_SEARCH_COUNT(IQ1_CNT_PUSH, 1);
    if (tl->n < IQ1_MAX_TIES) tl->c[tl->n++] = (split_cand){ score, i1, i2, s };
}

/* Row skipping: a candidate passes the scalar test (sq2 > 0, a >= fl(lo * sq2)) only if its score is at
 * least lo (1 - 2^-22) (a, the product and the score each round by at most 2^-24; lo >= 1e-6 and the
 * normal range of a and sq2 that the estimates require keep every quantity normal). So a row whose upper
 * bounds are all below fl(lo * IQ1_ROW_SKIP) < lo (1 - 2^-22) has no candidate that passes. */
#define IQ1_ROW_SKIP 0.99999904632568359375f /* 1 - 2^-20 */

/* Prefix sums of a 32-block (IQ1_S) with the hoisted i1 terms; arrays padded for 16-wide loads. */
typedef struct {
    float SX[48], SW[48];       /* [0 .. 32] used */
    float X1[2][48], W1[2][48]; /* X1[s][i] = cx[s] - SX[i], W1[s][i] = cw[s] + A[s] SW[i] */
} split32_sums;

/* IQ1_S: the delta signs s_from .. 1 of split (i1, i2), in the scalar search's order and with its exact
 * test (s_from = 0: the whole split). */
static inline void split32_pair(const split32_sums *p, int i1, int i2, int s_from, tie_list *tl) {
    IQ1_SEARCH_COUNT(IQ1_CNT_SCALAR_STEPS, 1);
    for (int s = s_from; s < 2; ++s) {
        const float sqx = p->X1[s][i1] - p->SX[i2];
        const float sq2 = p->W1[s][i1] - IQ1_LEV_B[s] * p->SW[i2];
        const float a = sqx * sqx;
        if (!(sq2 > 0) || !(a >= tl->lo * sq2)) continue; /* the common case: one test */
        if (a > tl->best * sq2) ties_new_best(tl, sqx / sq2 * sqx, i1, i2, s);
        else ties_push(tl, sqx / sq2 * sqx, i1, i2, s);
    }
}

/* Restart of the search at candidate W (its exact sqx, sq2) when `pm` is an upper bound of the score of
 * every candidate before W: the best so far is the initial one or such a score, so the scalar search
 * takes W as a new best (sqx^2 > best * sq2 follows from sqx^2 > pm * sq2) and drops every earlier tie
 * (scores <= pm < W's tie bound). Its state after W is then this one, whatever came before: the search
 * may go on from W. Returns 0, state untouched, when the bound does not prove it. */
static inline int ties_restart_at(tie_list *tl, float pm, float sqx, float sq2, int i1, int i2, int s) {
    if (!(sq2 > 0)) return 0;
    if (tl->best > pm) pm = tl->best;
    const float a = sqx * sqx, score = sqx / sq2 * sqx;
    if (!(a > pm * sq2) || !(pm < score - score * IQ1_TIE_TOL)) return 0;
    tl->n = 0;
    ties_new_best(tl, score, i1, i2, s);
    IQ1_SEARCH_COUNT(IQ1_CNT_RESTART, 1);
    return 1;
}

/* Prefix sums of a 16-block (IQ1_M) per group h (original positions 0..7 / 8..15) over the common
 * sorted order, with the hoisted i1 terms; padded for 16-wide loads. */
typedef struct {
    float SX[2][32], SW[2][32];       /* [h][0 .. 16] used */
    float X1[2][2][32], W1[2][2][32]; /* [h][s][i]: cx[h][s] - SX[h][i], cw[h][s] + A[s] SW[h][i] */
} split16_sums;

/* IQ1_M: sums of the 4 shift combinations (k: s0 = bit 1, s1 = bit 0) of split (i1, i2). */
static inline void split16_values(const split16_sums *p, int i1, int i2, float sqx[4], float sq2[4]) {
    float gx[2][2], gw[2][2];
    for (int h = 0; h < 2; ++h)
        for (int s = 0; s < 2; ++s) {
            gx[h][s] = p->X1[h][s][i1] - p->SX[h][i2];
            gw[h][s] = p->W1[h][s][i1] - IQ1_LEV_B[s] * p->SW[h][i2];
        }
    for (int k = 0; k < 4; ++k) {
        sqx[k] = gx[0][k >> 1] + gx[1][k & 1];
        sq2[k] = gw[0][k >> 1] + gw[1][k & 1];
    }
}

/* the detailed path of the scalar search for combinations k_from .. 3 of a split that passed its test */
static inline void split16_detail(const float sqx[4], const float sq2[4], int k_from, int i1, int i2, tie_list *tl) {
    for (int k = k_from; k < 4; ++k) {
        if (!(sq2[k] > 0)) continue;
        const float a = sqx[k] * sqx[k];
        if (a > tl->best * sq2[k]) ties_new_best(tl, sqx[k] / sq2[k] * sqx[k], i1, i2, k);
        else if (tl->bi >= 0 && a >= tl->lo * sq2[k]) ties_push(tl, sqx[k] / sq2[k] * sqx[k], i1, i2, k);
    }
}

/* IQ1_M: split (i1, i2) exactly as the scalar search: a cheap test of all four combinations, then the
 * detailed path. */
static inline void split16_pair(const split16_sums *p, int i1, int i2, tie_list *tl) {
    IQ1_SEARCH_COUNT(IQ1_CNT_SCALAR_STEPS, 1);
    float sqx[4], sq2[4];
    split16_values(p, i1, i2, sqx, sq2);
    int hit = 0;
    for (int k = 0; k < 4; ++k) hit |= (sq2[k] > 0) & (sqx[k] * sqx[k] >= tl->lo * sq2[k]);
    if (hit) split16_detail(sqx, sq2, 0, i1, i2, tl);
}

#endif
