/* Grid neighbour lists and the split solvers shared by the IQ1 quantizers (FORMATS.md §2.1, 2.2, 2.4). */
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "quantize_common.h"

static iq1_quant_tables *tables;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* For every code with digits in {0,1,2} that is not on the grid: all grid points whose squared distance
 * is among the 3 smallest distinct distances, ordered by (distance, index) (FORMATS.md §2.1). */
static void build_tables(void) {
    iq1_quant_tables *t = malloc(sizeof *t);
    if (!t) return;
    for (int i = 0; i < IQ1_KMAP_SIZE; ++i) t->kmap[i] = -1;
    for (int i = 0; i < 2048; ++i) t->kmap[iq1_grid_codes[i]] = i;
    size_t cap = 400000, used = 0;
    uint16_t *nb = malloc(cap * sizeof *nb);
    uint8_t *dist = malloc(2048), *digit = malloc(8 * 2048);     /* digit[j * 2048 + i]: digit j of grid i */
    if (!nb || !dist || !digit) { free(nb); free(dist); free(digit); free(t); return; }
    for (int j = 0; j < 8; ++j)
        for (int i = 0; i < 2048; ++i) digit[j * 2048 + i] = (uint8_t)((iq1_grid_codes[i] >> (2 * j)) & 3);
    for (int code = 0; code < IQ1_KMAP_SIZE; ++code) {
        if (t->kmap[code] >= 0) continue;
        int L[8], reachable = 1;
        for (int j = 0; j < 8; ++j) { L[j] = (code >> (2 * j)) & 3; reachable &= L[j] < 3; }
        if (!reachable) continue;
        /* squared distances to all grid points, digit plane by digit plane (vectorisable; max 8 * 4) */
        memset(dist, 0, 2048);
        for (int j = 0; j < 8; ++j) {
            const uint8_t *dj = digit + j * 2048;
            for (int i = 0; i < 2048; ++i) {
                const uint8_t diff = (uint8_t)(dj[i] > L[j] ? dj[i] - L[j] : L[j] - dj[i]);
                dist[i] = (uint8_t)(dist[i] + diff * diff);
            }
        }
        int count_at[33] = { 0 };
        for (int i = 0; i < 2048; ++i) count_at[dist[i]]++;
        int want[3], nw = 0, total = 0;
        for (int d = 0; d <= 32 && nw < 3; ++d) if (count_at[d]) { want[nw++] = d; total += count_at[d]; }
        if (used + 1 + (size_t)total > cap) {
            cap *= 2;
            uint16_t *grown = realloc(nb, cap * sizeof *nb);
            if (!grown) { free(nb); free(dist); free(digit); free(t); return; }
            nb = grown;
        }
        t->kmap[code] = -(int32_t)(used + 1);
        nb[used++] = (uint16_t)total;
        for (int w = 0; w < nw; ++w)
            for (int i = 0; i < 2048; ++i) if (dist[i] == want[w]) nb[used++] = (uint16_t)i;
    }
    free(dist);
    free(digit);
    t->neighbours = nb;
    tables = t;
}

const iq1_quant_tables *iq1_quant_tables_get(void) {
    pthread_once(&tables_once, build_tables);
    return tables;
}

int iq1_grid_index(const iq1_quant_tables *t, const float *x, const float *w, float scale,
                   const float lev[3], int8_t L[8], int *offgrid) {
    int code = 0;
    for (int j = 0; j < 8; ++j) code |= L[j] << (2 * j);
    const int32_t k = t->kmap[code];
    if (k >= 0) return k;
    *offgrid = 1;
    /* the 24 possible terms w_j (scale * lev - x_j)^2, then one sum of 8 table entries per neighbour */
    float e[8][4];
    for (int j = 0; j < 8; ++j) {
        for (int l = 0; l < 3; ++l) {
            const float diff = scale * lev[l] - x[j];
            e[j][l] = w[j] * diff * diff;
        }
        e[j][3] = 0.0f;                                    /* digit 3 never occurs in a grid code */
    }
    const uint16_t *list = t->neighbours + (-k - 1);
    float best = FLT_MAX;
    int best_idx = list[1];
    for (int n = 1; n <= list[0]; ++n) {
        const uint16_t c = iq1_grid_codes[list[n]];
        float d2 = 0.0f;
        for (int j = 0; j < 8; ++j) d2 += e[j][(c >> (2 * j)) & 3];
        if (d2 < best) { best = d2; best_idx = list[n]; }
    }
    const uint16_t c = iq1_grid_codes[best_idx];
    for (int j = 0; j < 8; ++j) L[j] = (int8_t)((c >> (2 * j)) & 3);
    return best_idx;
}

float iq1_abs_max(const float *x, int64_t n) {
    float m = 0.0f;
    for (int64_t i = 0; i < n; ++i) { const float a = fabsf(x[i]); if (a > m) m = a; }
    return m;
}

/* Stable ascending sort of n <= 32 values: order[] gets original positions, ties by position. Done by
 * ranking (rank of i = how many values are smaller, or equal and earlier): branch-free, vectorisable,
 * and the same permutation as a stable comparison sort. Inputs are finite (NaN rejected in Python). */
static inline void sort_positions(const float *x, int n, int *order) {
    for (int i = 0; i < n; ++i) {
        const float xi = x[i];
        int r = 0;
        for (int j = 0; j < n; ++j) r += (x[j] < xi) | ((x[j] == xi) & (j < i));
        order[r] = i;
    }
}

/* The split search in closed form. With levels P = {-1+d, d, 1+d} and prefix sums SX (of w x), SW (of w)
 * over the sorted values, a split (i1, i2) gives
 *   sqx = SX[i1] P0 + (SX[i2] - SX[i1]) P1 + (SX[n] - SX[i2]) P2 = P2 SX[n] - SX[i1] - SX[i2]
 *   sq2 = SW[i1] P0^2 + (SW[i2] - SW[i1]) P1^2 + (SW[n] - SW[i2]) P2^2
 *       = P2^2 SW[n] + (1 - 2d) SW[i1] - (1 + 2d) SW[i2]
 * so the i1 terms are hoisted out of the i2 loop: two operations per candidate for each sum.
 * Index s = 0: d = +1/8, s = 1: d = -1/8 (all constants exact in fp32). */
static const float LEV_P2[2] = { 1.125f, 0.875f };
static const float LEV_P2SQ[2] = { 1.265625f, 0.765625f };
static const float LEV_A[2] = { 0.75f, 1.25f };       /* 1 - 2d = P0^2 - P1^2 */
static const float LEV_B[2] = { 1.25f, 0.75f };       /* 1 + 2d = P2^2 - P1^2 */

/* Near-ties. The split objective ignores the grid; splits whose scores are equal in exact arithmetic
 * (a constant block: all values on the top level, or all on the middle one with 8x the scale) are then
 * decided by fp32 rounding: the loser may be the one that is on the grid, and neighbouring blocks of the
 * same super-block may pick representations with scales 8x apart. So candidates within a relative
 * IQ1_TIE_TOL of the best are remembered (at most IQ1_MAX_TIES, in search order); when there is more than
 * one, all are projected onto the grid and pick_tie decides. */
#define IQ1_TIE_TOL 1e-5f
#define IQ1_MAX_TIES 16
typedef struct { float score; int i1, i2, s; } split_cand;

typedef struct { split_cand c[IQ1_MAX_TIES]; int n, bi; float best, lo; } tie_list;   /* c[bi]: the best */

static inline void ties_init(tie_list *tl, float best0) { tl->n = 0; tl->bi = -1; tl->best = best0; tl->lo = best0; }

/* a candidate that passed sqx^2 > best * sq2: the new best */
static inline void ties_new_best(tie_list *tl, float score, int i1, int i2, int s) {
    tl->best = score;
    tl->lo = score - score * IQ1_TIE_TOL;
    int m = 0;
    for (int j = 0; j < tl->n; ++j) if (tl->c[j].score >= tl->lo) tl->c[m++] = tl->c[j];
    tl->n = m < IQ1_MAX_TIES ? m : IQ1_MAX_TIES - 1;
    tl->bi = tl->n;
    tl->c[tl->n++] = (split_cand){ score, i1, i2, s };
}

static inline void ties_push(tie_list *tl, float score, int i1, int i2, int s) {
    if (tl->n < IQ1_MAX_TIES) tl->c[tl->n++] = (split_cand){ score, i1, i2, s };
}

/* After projection: the best final score; among scores within IQ1_TIE_TOL of it the smallest scale
 * (first in search order on equality). Exact representations of a constant block exist at scales c/1.125,
 * c/0.875 and 8c; taking the smallest keeps every such block on the same one and does not inflate the
 * super-block maximum, from which the 3-bit block scales of all its neighbours are derived. */
static int pick_tie(const float *score, const float *scale, int n) {
    float top = score[0];
    for (int j = 1; j < n; ++j) if (score[j] > top) top = score[j];
    const float lo = top - top * IQ1_TIE_TOL;
    int b = -1;
    for (int j = 0; j < n; ++j)
        if (score[j] >= lo && (b < 0 || scale[j] < scale[b])) b = j;
    return b;
}

/* digits of a split, mirrored for a negative scale, projected onto the grid; scale refit when a
 * neighbour was used. Returns the final least-squares score (sum w q x)^2 / sum w q^2 (0 if none). */
static float project32(const iq1_quant_tables *t, const float *x, const float *w, const int *order,
                       const split_cand *c, int *offgrid, iq1s_block *out) {
    enum { N = 32 };
    float P[3];
    iq1_levels(c->s ? -1 : 1, P);
    int8_t L[N];
    for (int i = 0; i < N; ++i) L[order[i]] = (int8_t)(i < c->i1 ? 0 : i < c->i2 ? 1 : 2);
    float sumqx = 0.0f, sumq2 = 0.0f;
    for (int i = 0; i < N; ++i) { sumqx += w[i] * P[L[i]] * x[i]; sumq2 += w[i] * P[L[i]] * P[L[i]]; }
    float scale = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
    int shift = c->s ? -1 : 1;
    if (scale < 0) {
        for (int i = 0; i < N; ++i) L[i] = (int8_t)(2 - L[i]);
        scale = -scale; shift = -shift;
    }
    float lev[3];
    iq1_levels(shift, lev);
    *offgrid = 0;
    for (int g = 0; g < 4; ++g)
        out->idx[g] = (uint16_t)iq1_grid_index(t, x + 8 * g, w + 8 * g, scale, lev, L + 8 * g, offgrid);
    float score = scale * scale * sumq2;           /* on the grid: the split's own optimum */
    if (*offgrid) {
        sumqx = sumq2 = 0.0f;
        for (int i = 0; i < N; ++i) {
            const float q = lev[L[i]];
            sumqx += w[i] * q * x[i];
            sumq2 += w[i] * q * q;
        }
        score = 0.0f;
        if (sumqx > 0 && sumq2 > 0) { scale = sumqx / sumq2; score = scale * sumqx; }
    }
    out->scale = scale;
    out->shift = shift;
    return score;
}

int iq1s_solve32(const iq1_quant_tables *t, const float *x, const float *w, iq1s_block *out) {
    enum { N = 32 };
    int order[N];
    sort_positions(x, N, order);
    float SX[N + 1], SW[N + 1];
    SX[0] = SW[0] = 0.0f;
    for (int i = 0; i < N; ++i) {
        SX[i + 1] = SX[i] + w[order[i]] * x[order[i]];
        SW[i + 1] = SW[i] + w[order[i]];
    }
    float cx[2], cw[2];
    for (int s = 0; s < 2; ++s) { cx[s] = LEV_P2[s] * SX[N]; cw[s] = LEV_P2SQ[s] * SW[N]; }
    tie_list tl;
    ties_init(&tl, -FLT_MIN);
    for (int i1 = 0; i1 <= N; ++i1) {
        const float x1[2] = { cx[0] - SX[i1], cx[1] - SX[i1] };
        const float w1[2] = { cw[0] + LEV_A[0] * SW[i1], cw[1] + LEV_A[1] * SW[i1] };
        for (int i2 = i1; i2 <= N; ++i2) {
            for (int s = 0; s < 2; ++s) {
                const float sqx = x1[s] - SX[i2];
                const float sq2 = w1[s] - LEV_B[s] * SW[i2];
                const float a = sqx * sqx;
                if (!(sq2 > 0) || !(a >= tl.lo * sq2)) continue;     /* the common case: one test */
                if (a > tl.best * sq2) ties_new_best(&tl, sqx / sq2 * sqx, i1, i2, s);
                else ties_push(&tl, sqx / sq2 * sqx, i1, i2, s);
            }
        }
    }
    if (tl.n == 0) return 0;
    int offgrid;
    if (tl.n == 1) { project32(t, x, w, order, &tl.c[0], &offgrid, out); return 1; }
    iq1s_block cand[IQ1_MAX_TIES];
    float score[IQ1_MAX_TIES], scale[IQ1_MAX_TIES];
    for (int j = 0; j < tl.n; ++j) {
        score[j] = project32(t, x, w, order, &tl.c[j], &offgrid, &cand[j]);
        scale[j] = cand[j].scale;
    }
    *out = cand[pick_tie(score, scale, tl.n)];
    return 1;
}

/* x / max|x| into xn; returns max|x| (> 0 for the callers, which rejected sum x^2 < 1e-14 first). */
static float normalise(const float *x, int n, float *xn) {
    const float amax = iq1_abs_max(x, n);
    for (int i = 0; i < n; ++i) xn[i] = x[i] / amax;
    return amax;
}

/* default importance shape sqrt(sigma2 + x^2) on normalised x; sigma2 in raw units. When sigma2 is too
 * large relative to the block for fp32 (x^2 then vanishes beside it), the exact limit is uniform weights. */
static void sigma_weights(const float *xn, int n, float sigma2, float amax, float *w) {
    const float s2n = sigma2 / amax / amax;
    for (int i = 0; i < n; ++i) w[i] = s2n < 1e30f ? sqrtf(s2n + xn[i] * xn[i]) : 1.0f;
}

/* Importance relative to the block maximum, floored at IQ1_W_FLOOR: a value whose importance is zero (or
 * negligible) still has a tiny say. Splits that differ only in where such values go are exact ties of the
 * weighted objective, otherwise decided by fp32 rounding; the floor decides them for the split that also
 * reconstructs those values well (a constant block with a sparse imatrix is stored exactly instead of
 * with some values at -7/8 of the scale). The same floor applies to IQ1_M's x^2 weights (x = 0). */
#ifndef IQ1_W_FLOOR
#define IQ1_W_FLOOR 1e-3f
#endif
static inline float relative_importance(float qw, float qmax) { return fmaxf(qw / qmax, IQ1_W_FLOOR); }

static float raw_scale(float scale_n, float amax) {
    const float s = scale_n * amax;
    return s <= FLT_MAX ? s : FLT_MAX;
}

iq1s_block iq1s_solve32_guarded(const iq1_quant_tables *t, const float *x, const float *qw, float sigma2) {
    enum { N = 32 };
    const iq1s_block zero = { 0.0f, 1, { IQ1_ZERO_INDEX, IQ1_ZERO_INDEX, IQ1_ZERO_INDEX, IQ1_ZERO_INDEX } };
    iq1s_block res = zero;
    float sumx2 = 0.0f;
    for (int i = 0; i < N; ++i) sumx2 += x[i] * x[i];
    if (!(sumx2 >= IQ1_EPS_SUMSQ)) return zero;
    float xn[N], base[N], w[N];
    const float amax = normalise(x, N, xn);
    sigma_weights(xn, N, sigma2, amax, base);
    const float qmax = qw ? iq1_abs_max(qw, N) : 0.0f;
    int ok = 0;
    if (qmax > 0) {
        float sumwx = 0.0f;
        for (int i = 0; i < N; ++i) {
            w[i] = relative_importance(qw[i], qmax) * base[i];
            sumwx += w[i] * fabsf(xn[i]);
        }
        ok = sumwx >= IQ1_EPS_SUMSQ && iq1s_solve32(t, xn, w, &res);
    }
    if (!ok) ok = iq1s_solve32(t, xn, base, &res);
    if (!ok) {
        for (int i = 0; i < N; ++i) w[i] = 1.0f;
        ok = iq1s_solve32(t, xn, w, &res);
    }
    if (!ok) return zero;
    res.scale = raw_scale(res.scale, amax);
    return res;
}

/* IQ1_M digits of a split (combination k), mirrored for a negative scale, projected onto the grid; when
 * a neighbour was used, the shift combination and scale are re-chosen for the final digits (§2.4 step 5).
 * Returns the final least-squares score. */
static float project16(const iq1_quant_tables *t, const float *x, const float *w, const int *order,
                       const split_cand *c, int *offgrid, iq1m_block *out) {
    enum { N = 16 };
    int8_t *L = out->L;
    int k = c->s;
    for (int i = 0; i < N; ++i) L[order[i]] = (int8_t)(i < c->i1 ? 0 : i < c->i2 ? 1 : 2);
    float sumqx = 0.0f, sumq2 = 0.0f;
    for (int i = 0; i < N; ++i) {
        const float q = iq1_level(L[i], ((k >> (1 - (i >= 8))) & 1) ? -1 : 1);
        sumqx += w[i] * q * x[i];
        sumq2 += w[i] * q * q;
    }
    float scale = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
    if (scale < 0) {
        for (int i = 0; i < N; ++i) L[i] = (int8_t)(2 - L[i]);
        scale = -scale; k = 3 - k;
    }
    *offgrid = 0;
    for (int h = 0; h < 2; ++h) {
        float lev[3];
        iq1_levels(((k >> (1 - h)) & 1) ? -1 : 1, lev);
        out->idx[h] = (uint16_t)iq1_grid_index(t, x + 8 * h, w + 8 * h, scale, lev, L + 8 * h, offgrid);
    }
    float score = scale * scale * sumq2;
    if (*offgrid) {         /* re-choose the shift combination and the scale for the final digits */
        float best2 = 0.0f;
        for (int kk = 0; kk < 4; ++kk) {
            float sqx = 0.0f, sq2 = 0.0f;
            for (int i = 0; i < N; ++i) {
                const float q = iq1_level(L[i], ((kk >> (1 - (i >= 8))) & 1) ? -1 : 1);
                sqx += w[i] * q * x[i];
                sq2 += w[i] * q * q;
            }
            if (sqx > 0 && sq2 > 0 && sqx * sqx > best2 * sq2) { best2 = sqx * sqx / sq2; scale = sqx / sq2; k = kk; }
        }
        score = best2;      /* none positive: keep the split's scale and shifts (score 0) */
    }
    out->scale = scale;
    out->k = k;
    return score;
}

int iq1m_solve16(const iq1_quant_tables *t, const float *x, const float *w, iq1m_block *out) {
    enum { N = 16 };
    int order[N];
    sort_positions(x, N, order);
    /* per group h (original positions 0..7 / 8..15): prefix sums over the common sorted order */
    float SX[2][N + 1], SW[2][N + 1];
    for (int h = 0; h < 2; ++h) SX[h][0] = SW[h][0] = 0.0f;
    for (int i = 0; i < N; ++i) {
        const int p = order[i], h = p >= 8;
        SX[h][i + 1] = SX[h][i] + w[p] * x[p];
        SW[h][i + 1] = SW[h][i] + w[p];
        SX[!h][i + 1] = SX[!h][i];
        SW[!h][i + 1] = SW[!h][i];
    }
    /* closed form per group and delta sign (see iq1s_solve32); combination k: s0 = bit 1, s1 = bit 0 */
    float cx[2][2], cw[2][2];
    for (int h = 0; h < 2; ++h)
        for (int s = 0; s < 2; ++s) { cx[h][s] = LEV_P2[s] * SX[h][N]; cw[h][s] = LEV_P2SQ[s] * SW[h][N]; }
    tie_list tl;
    ties_init(&tl, 0.0f);
    for (int i1 = 0; i1 <= N; ++i1) {
        float x1[2][2], w1[2][2];
        for (int h = 0; h < 2; ++h)
            for (int s = 0; s < 2; ++s) { x1[h][s] = cx[h][s] - SX[h][i1]; w1[h][s] = cw[h][s] + LEV_A[s] * SW[h][i1]; }
        for (int i2 = i1; i2 <= N; ++i2) {
            float gx[2][2], gw[2][2];
            for (int h = 0; h < 2; ++h)
                for (int s = 0; s < 2; ++s) { gx[h][s] = x1[h][s] - SX[h][i2]; gw[h][s] = w1[h][s] - LEV_B[s] * SW[h][i2]; }
            /* the 4 combinations at once (branch-free), then the rare detailed path */
            float sqx[4], sq2[4];
            int hit = 0;
            for (int k = 0; k < 4; ++k) {
                sqx[k] = gx[0][k >> 1] + gx[1][k & 1];
                sq2[k] = gw[0][k >> 1] + gw[1][k & 1];
                hit |= (sq2[k] > 0) & (sqx[k] * sqx[k] >= tl.lo * sq2[k]);
            }
            if (!hit) continue;
            for (int k = 0; k < 4; ++k) {
                if (!(sq2[k] > 0)) continue;
                const float a = sqx[k] * sqx[k];
                if (a > tl.best * sq2[k]) ties_new_best(&tl, sqx[k] / sq2[k] * sqx[k], i1, i2, k);
                else if (tl.bi >= 0 && a >= tl.lo * sq2[k]) ties_push(&tl, sqx[k] / sq2[k] * sqx[k], i1, i2, k);
            }
        }
    }
    if (tl.n == 0) return 0;
    int offgrid;
    if (tl.n == 1) { project16(t, x, w, order, &tl.c[0], &offgrid, out); return 1; }
    iq1m_block cand[IQ1_MAX_TIES];
    float score[IQ1_MAX_TIES], scale[IQ1_MAX_TIES];
    for (int j = 0; j < tl.n; ++j) {
        score[j] = project16(t, x, w, order, &tl.c[j], &offgrid, &cand[j]);
        scale[j] = cand[j].scale;
    }
    *out = cand[pick_tie(score, scale, tl.n)];
    return 1;
}

static void iq1m_zero(iq1m_block *res) {
    res->scale = 0.0f; res->k = 0;
    res->idx[0] = res->idx[1] = IQ1_ZERO_INDEX;
    for (int i = 0; i < 16; ++i) res->L[i] = 1;            /* digits of the zero vector */
}

iq1m_block iq1m_solve16_guarded(const iq1_quant_tables *t, const float *x, const float *qw, float sigma2,
                                int x2_default, float amax_eps, int first) {
    enum { N = 16 };
    iq1m_block res;
    float sumx2 = 0.0f;
    for (int i = 0; i < N; ++i) sumx2 += x[i] * x[i];
    const float amax0 = iq1_abs_max(x, N);
    if (!(amax0 >= amax_eps) || !(sumx2 >= IQ1_EPS_SUMSQ)) { iq1m_zero(&res); return res; }
    float xn[N], base[N], w[N];
    const float amax = normalise(x, N, xn);
    if (x2_default) for (int i = 0; i < N; ++i) base[i] = fmaxf(xn[i] * xn[i], IQ1_W_FLOOR);
    else sigma_weights(xn, N, sigma2, amax, base);
    const float qmax = qw ? iq1_abs_max(qw, N) : 0.0f;
    int ok = 0;
    if (qmax > 0) {
        float sig[N], sumwx = 0.0f;
        sigma_weights(xn, N, sigma2, amax, sig);
        for (int i = 0; i < N; ++i) w[i] = relative_importance(qw[i], qmax) * sig[i];
        for (int i = first; i < N; ++i) sumwx += w[i] * fabsf(xn[i]);
        ok = sumwx >= IQ1_EPS_SUMSQ && iq1m_solve16(t, xn, w, &res);
    }
    if (!ok) ok = iq1m_solve16(t, xn, base, &res);
    if (!ok) {
        for (int i = 0; i < N; ++i) w[i] = 1.0f;
        ok = iq1m_solve16(t, xn, w, &res);
    }
    if (!ok) { iq1m_zero(&res); return res; }
    res.scale = raw_scale(res.scale, amax);
    return res;
}

int iq1_refit_r4_row_scales(iq1_dequantize_fn dequantize, const float *x, int64_t k, const float *imatrix,
                            uint8_t *grp, const float fallback[4]) {
    float *q = malloc(sizeof(float) * 5 * k), *wn = q + 4 * k;
    if (!q) return 1;
    const uint16_t one = 0x3c00;
    for (int row = 0; row < 4; ++row) memcpy(grp + 2 * row, &one, 2);
    dequantize(grp, k, 0, 4, q);
    const float qmax = imatrix ? iq1_abs_max(imatrix, k) : 0.0f;
    for (int64_t i = 0; i < k; ++i) wn[i] = qmax > 0 ? imatrix[i] / qmax : 1.0f;
    for (int row = 0; row < 4; ++row) {
        const float *xr = x + row * k;
        const float amax = iq1_abs_max(xr, k);
        float sumqx = 0.0f, sumq2 = 0.0f;
        if (amax > 0)
            for (int64_t i = 0; i < k; ++i) {
                const float qi = q[row * k + i];
                sumqx += wn[i] * qi * (xr[i] / amax);
                sumq2 += wn[i] * qi * qi;
            }
        const float d = sumqx > 0 && sumq2 > 0 ? raw_scale(sumqx / sumq2, amax) : fallback[row];
        const uint16_t h = iq1_scale_to_fp16(d);
        memcpy(grp + 2 * row, &h, 2);
    }
    free(q);
    return 0;
}

uint16_t iq1_scale_to_fp16(float s) {
    return iq1_fp32_to_fp16(s < 65504.0f ? s : 65504.0f);
}
