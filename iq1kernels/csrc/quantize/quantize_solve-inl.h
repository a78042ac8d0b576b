/* Re-included body: the IQ1 block solvers (docs/QUANTIZATION.md), compiled once per ISA by
 * quantize_search_<isa>.c.
 *   Expects  IQ1_VARIANT (generic, avx2, avx512, neon) and the ISA's search kernels with these signatures
 *            (their scalar forms are in quantize_search_generic.c):
 *   static void rank_positions(const float *x, int n, int *order);            stable ascending order
 *   static void search_splits32(const split32_sums *p, tie_list *tl);         all (i1 <= i2), both signs
 *   static void search_splits16(const split16_sums *p, tie_list *tl);         all (i1 <= i2), 4 combinations
 *   static int best_neighbour(const uint16_t *codes, int count, const float e[8][4]);
 *       position (0-based) of the first strict minimum of sum_j e[j][digit j of codes[n]] over the list,
 *       0 when no sum is below FLT_MAX;
 *   Defines  the iq1_solver iq1_solver_<variant> (quantize_search.h) and its static functions, named
 *            iq1_quantize_<function>_<variant> (iq1_quantize_solve32_avx2, iq1_quantize_solve16_guarded_neon):
 *            below they go by their short names (grid_index, solve32, ...), macros #undef'd at the end.
 * Everything here is plain C: the compiler may vectorise it for the ISA, but without contraction or
 * reassociation every fp32 result is the same. */
#include <float.h>
#include <math.h>
#include <string.h>

#define grid_index IQ1_ISA_NAME(quantize_grid_index)
#define pick_tie IQ1_ISA_NAME(quantize_pick_tie)
#define project32 IQ1_ISA_NAME(quantize_project32)
#define solve32 IQ1_ISA_NAME(quantize_solve32)
#define normalise IQ1_ISA_NAME(quantize_normalise)
#define sigma_weights IQ1_ISA_NAME(quantize_sigma_weights)
#define solve32_guarded IQ1_ISA_NAME(quantize_solve32_guarded)
#define project16 IQ1_ISA_NAME(quantize_project16)
#define solve16 IQ1_ISA_NAME(quantize_solve16)
#define iq1m_zero IQ1_ISA_NAME(quantize_iq1m_zero)
#define solve16_guarded IQ1_ISA_NAME(quantize_solve16_guarded)

/* Grid index of the 8 digits L (on-grid directly; off-grid via the neighbour with the least weighted
 * squared error at `scale`, first strict minimum in list order, whose digits then replace L).
 * Sets *offgrid when a neighbour was used. */
static int grid_index(const iq1_quant_tables *t, const float *x, const float *w, float scale, const float lev[3],
                      int8_t L[8], int *offgrid) {
    int code = 0;
    for (int j = 0; j < 8; ++j) code |= L[j] << (2 * j);
    const int32_t k = t->kmap[code];
    if (k >= 0) return k;
    *offgrid = 1;
    IQ1_SEARCH_COUNT(IQ1_CNT_OFFGRID, 1);
    IQ1_SEARCH_COUNT(IQ1_CNT_NEIGHBOURS, t->neighbours[-k - 1]);
    /* the 24 possible terms w_j (scale * lev - x_j)^2, then one sum of 8 table entries per neighbour */
    float e[8][4];
    for (int j = 0; j < 8; ++j) {
        for (int l = 0; l < 3; ++l) {
            const float diff = scale * lev[l] - x[j];
            e[j][l] = w[j] * diff * diff;
        }
        e[j][3] = 0.0f; /* digit 3 never occurs in a grid code */
    }
    const int32_t off = -k - 1;
    const int n = best_neighbour(t->codes + off + 1, t->neighbours[off], (const float(*)[4])e);
    const int best_idx = t->neighbours[off + 1 + n];
    const uint16_t c = iq1_grid_codes[best_idx];
    for (int j = 0; j < 8; ++j) L[j] = (int8_t)((c >> (2 * j)) & 3);
    return best_idx;
}

/* After projection: the best final score; among scores within IQ1_TIE_TOL of it the smallest scale
 * (first in search order on equality). Exact representations of a constant block exist at scales c/1.125,
 * c/0.875 and 8c; taking the smallest keeps every such block on the same one and does not inflate the
 * super-block maximum, from which the 3-bit block scales of all its neighbours are derived. */
static int pick_tie(const float *score, const float *scale, int n) {
    float top = score[0];
    for (int j = 1; j < n; ++j)
        if (score[j] > top) top = score[j];
    const float lo = top - top * IQ1_TIE_TOL;
    int b = -1;
    for (int j = 0; j < n; ++j)
        if (score[j] >= lo && (b < 0 || scale[j] < scale[b])) b = j;
    return b;
}

/* digits of a split, mirrored for a negative scale, projected onto the grid; scale refit when a
 * neighbour was used. Returns the final least-squares score (sum w q x)^2 / sum w q^2 (0 if none). */
static float project32(const iq1_quant_tables *t, const float *x, const float *w, const int *order, const split_cand *c,
                       iq1s_block *out) {
    enum { N = 32 };
    float P[3];
    iq1_levels(c->s ? -1 : 1, P);
    int8_t L[N];
    for (int i = 0; i < N; ++i) L[order[i]] = (int8_t)(i < c->i1 ? 0 : i < c->i2 ? 1 : 2);
    float sumqx = 0.0f, sumq2 = 0.0f;
    for (int i = 0; i < N; ++i) {
        sumqx += w[i] * P[L[i]] * x[i];
        sumq2 += w[i] * P[L[i]] * P[L[i]];
    }
    float scale = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
    int shift = c->s ? -1 : 1;
    if (scale < 0) {
        for (int i = 0; i < N; ++i) L[i] = (int8_t)(2 - L[i]);
        scale = -scale;
        shift = -shift;
    }
    float lev[3];
    iq1_levels(shift, lev);
    int offgrid = 0;
    for (int g = 0; g < 4; ++g)
        out->idx[g] = (uint16_t)grid_index(t, x + 8 * g, w + 8 * g, scale, lev, L + 8 * g, &offgrid);
    float score = scale * scale * sumq2; /* on the grid: the split's own optimum */
    if (offgrid) {
        sumqx = sumq2 = 0.0f;
        for (int i = 0; i < N; ++i) {
            const float q = lev[L[i]];
            sumqx += w[i] * q * x[i];
            sumq2 += w[i] * q * q;
        }
        score = 0.0f;
        if (sumqx > 0 && sumq2 > 0) {
            scale = sumqx / sumq2;
            score = scale * sumqx;
        }
    }
    out->scale = scale;
    out->shift = shift;
    return score;
}

static int solve32(const iq1_quant_tables *t, const float *x, const float *w, iq1s_block *out) {
    enum { N = 32 };
    int order[N];
    rank_positions(x, N, order);
    split32_sums p;
    p.SX[0] = p.SW[0] = 0.0f;
    for (int i = 0; i < N; ++i) {
        p.SX[i + 1] = p.SX[i] + w[order[i]] * x[order[i]];
        p.SW[i + 1] = p.SW[i] + w[order[i]];
    }
    for (int i = N + 1; i < 48; ++i) p.SX[i] = p.SW[i] = 0.0f; /* padding: never a candidate */
    for (int s = 0; s < 2; ++s) {
        const float cx = IQ1_LEV_P2[s] * p.SX[N], cw = IQ1_LEV_P2SQ[s] * p.SW[N];
        for (int i = 0; i < 48; ++i) {
            p.X1[s][i] = cx - p.SX[i];
            p.W1[s][i] = cw + IQ1_LEV_A[s] * p.SW[i];
        }
    }
    tie_list tl;
    ties_init(&tl, -FLT_MIN);
    search_splits32(&p, &tl);
    IQ1_SEARCH_COUNT(IQ1_CNT_SEARCHES, 1);
    IQ1_SEARCH_COUNT(IQ1_CNT_TIES, tl.n);
    if (tl.n == 0) return 0;
    if (tl.n == 1) {
        project32(t, x, w, order, &tl.c[0], out);
        return 1;
    }
    iq1s_block cand[IQ1_MAX_TIES];
    float score[IQ1_MAX_TIES], scale[IQ1_MAX_TIES];
    for (int j = 0; j < tl.n; ++j) {
        score[j] = project32(t, x, w, order, &tl.c[j], &cand[j]);
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

static iq1s_block solve32_guarded(const iq1_quant_tables *t, const float *x, const float *qw, float sigma2) {
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
        ok = sumwx >= IQ1_EPS_SUMSQ && solve32(t, xn, w, &res);
    }
    if (!ok) ok = solve32(t, xn, base, &res);
    if (!ok) {
        for (int i = 0; i < N; ++i) w[i] = 1.0f;
        ok = solve32(t, xn, w, &res);
    }
    if (!ok) return zero;
    res.scale = iq1_raw_scale(res.scale, amax);
    return res;
}

/* IQ1_M digits of a split (combination k), mirrored for a negative scale, projected onto the grid; when
 * a neighbour was used, the shift combination and scale are re-chosen for the final digits.
 * Returns the final least-squares score. */
static float project16(const iq1_quant_tables *t, const float *x, const float *w, const int *order, const split_cand *c,
                       iq1m_block *out) {
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
        scale = -scale;
        k = 3 - k;
    }
    int offgrid = 0;
    for (int h = 0; h < 2; ++h) {
        float lev[3];
        iq1_levels(((k >> (1 - h)) & 1) ? -1 : 1, lev);
        out->idx[h] = (uint16_t)grid_index(t, x + 8 * h, w + 8 * h, scale, lev, L + 8 * h, &offgrid);
    }
    float score = scale * scale * sumq2;
    if (offgrid) { /* re-choose the shift combination and the scale for the final digits */
        float best2 = 0.0f;
        for (int kk = 0; kk < 4; ++kk) {
            float sqx = 0.0f, sq2 = 0.0f;
            for (int i = 0; i < N; ++i) {
                const float q = iq1_level(L[i], ((kk >> (1 - (i >= 8))) & 1) ? -1 : 1);
                sqx += w[i] * q * x[i];
                sq2 += w[i] * q * q;
            }
            if (sqx > 0 && sq2 > 0 && sqx * sqx > best2 * sq2) {
                best2 = sqx * sqx / sq2;
                scale = sqx / sq2;
                k = kk;
            }
        }
        score = best2; /* none positive: keep the split's scale and shifts (score 0) */
    }
    out->scale = scale;
    out->k = k;
    return score;
}

static int solve16(const iq1_quant_tables *t, const float *x, const float *w, iq1m_block *out) {
    enum { N = 16 };
    int order[N];
    rank_positions(x, N, order);
    split16_sums p;
    for (int h = 0; h < 2; ++h) p.SX[h][0] = p.SW[h][0] = 0.0f;
    for (int i = 0; i < N; ++i) {
        const int o = order[i], h = o >= 8;
        p.SX[h][i + 1] = p.SX[h][i] + w[o] * x[o];
        p.SW[h][i + 1] = p.SW[h][i] + w[o];
        p.SX[!h][i + 1] = p.SX[!h][i];
        p.SW[!h][i + 1] = p.SW[!h][i];
    }
    for (int h = 0; h < 2; ++h) {
        for (int i = N + 1; i < 32; ++i) p.SX[h][i] = p.SW[h][i] = 0.0f; /* padding: never a candidate */
        for (int s = 0; s < 2; ++s) {
            const float cx = IQ1_LEV_P2[s] * p.SX[h][N], cw = IQ1_LEV_P2SQ[s] * p.SW[h][N];
            for (int i = 0; i < 32; ++i) {
                p.X1[h][s][i] = cx - p.SX[h][i];
                p.W1[h][s][i] = cw + IQ1_LEV_A[s] * p.SW[h][i];
            }
        }
    }
    tie_list tl;
    ties_init(&tl, 0.0f);
    search_splits16(&p, &tl);
    IQ1_SEARCH_COUNT(IQ1_CNT_SEARCHES, 1);
    IQ1_SEARCH_COUNT(IQ1_CNT_TIES, tl.n);
    if (tl.n == 0) return 0;
    if (tl.n == 1) {
        project16(t, x, w, order, &tl.c[0], out);
        return 1;
    }
    iq1m_block cand[IQ1_MAX_TIES];
    float score[IQ1_MAX_TIES], scale[IQ1_MAX_TIES];
    for (int j = 0; j < tl.n; ++j) {
        score[j] = project16(t, x, w, order, &tl.c[j], &cand[j]);
        scale[j] = cand[j].scale;
    }
    *out = cand[pick_tie(score, scale, tl.n)];
    return 1;
}

static void iq1m_zero(iq1m_block *res) {
    res->scale = 0.0f;
    res->k = 0;
    res->idx[0] = res->idx[1] = IQ1_ZERO_INDEX;
    for (int i = 0; i < 16; ++i) res->L[i] = 1; /* digits of the zero vector */
}

static iq1m_block solve16_guarded(const iq1_quant_tables *t, const float *x, const float *qw, float sigma2,
                                  int x2_default, float amax_eps, int first) {
    enum { N = 16 };
    iq1m_block res;
    float sumx2 = 0.0f;
    for (int i = 0; i < N; ++i) sumx2 += x[i] * x[i];
    const float amax0 = iq1_abs_max(x, N);
    if (!(amax0 >= amax_eps) || !(sumx2 >= IQ1_EPS_SUMSQ)) {
        iq1m_zero(&res);
        return res;
    }
    float xn[N], base[N], w[N];
    const float amax = normalise(x, N, xn);
    if (x2_default)
        for (int i = 0; i < N; ++i) base[i] = fmaxf(xn[i] * xn[i], IQ1_W_FLOOR);
    else sigma_weights(xn, N, sigma2, amax, base);
    const float qmax = qw ? iq1_abs_max(qw, N) : 0.0f;
    int ok = 0;
    if (qmax > 0) {
        float sig[N], sumwx = 0.0f;
        sigma_weights(xn, N, sigma2, amax, sig);
        for (int i = 0; i < N; ++i) w[i] = relative_importance(qw[i], qmax) * sig[i];
        for (int i = first; i < N; ++i) sumwx += w[i] * fabsf(xn[i]);
        ok = sumwx >= IQ1_EPS_SUMSQ && solve16(t, xn, w, &res);
    }
    if (!ok) ok = solve16(t, xn, base, &res);
    if (!ok) {
        for (int i = 0; i < N; ++i) w[i] = 1.0f;
        ok = solve16(t, xn, w, &res);
    }
    if (!ok) {
        iq1m_zero(&res);
        return res;
    }
    res.scale = iq1_raw_scale(res.scale, amax);
    return res;
}

const iq1_solver IQ1_ISA_NAME(solver) = { solve32_guarded, solve16_guarded };

#undef grid_index
#undef pick_tie
#undef project32
#undef solve32
#undef normalise
#undef sigma_weights
#undef solve32_guarded
#undef project16
#undef solve16
#undef iq1m_zero
#undef solve16_guarded
