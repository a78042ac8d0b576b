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
    uint8_t *dist = malloc(2048);
    if (!nb || !dist) { free(nb); free(dist); free(t); return; }
    for (int code = 0; code < IQ1_KMAP_SIZE; ++code) {
        if (t->kmap[code] >= 0) continue;
        int L[8], reachable = 1;
        for (int j = 0; j < 8; ++j) { L[j] = (code >> (2 * j)) & 3; reachable &= L[j] < 3; }
        if (!reachable) continue;
        int count_at[129] = { 0 };
        for (int i = 0; i < 2048; ++i) {
            int d = 0;
            for (int j = 0; j < 8; ++j) { int c = (iq1_grid_codes[i] >> (2 * j)) & 3; d += (L[j] - c) * (L[j] - c); }
            dist[i] = (uint8_t)d;
            count_at[d]++;
        }
        int want[3], nw = 0, total = 0;
        for (int d = 0; d <= 128 && nw < 3; ++d) if (count_at[d]) { want[nw++] = d; total += count_at[d]; }
        if (used + 1 + (size_t)total > cap) {
            cap *= 2;
            uint16_t *grown = realloc(nb, cap * sizeof *nb);
            if (!grown) { free(nb); free(dist); free(t); return; }
            nb = grown;
        }
        t->kmap[code] = -(int32_t)(used + 1);
        nb[used++] = (uint16_t)total;
        for (int w = 0; w < nw; ++w)
            for (int i = 0; i < 2048; ++i) if (dist[i] == want[w]) nb[used++] = (uint16_t)i;
    }
    free(dist);
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
    const uint16_t *list = t->neighbours + (-k - 1);
    float best = FLT_MAX;
    int best_idx = list[1];
    for (int n = 1; n <= list[0]; ++n) {
        const uint16_t c = iq1_grid_codes[list[n]];
        float d2 = 0.0f;
        for (int j = 0; j < 8; ++j) {
            const float diff = scale * lev[(c >> (2 * j)) & 3] - x[j];
            d2 += w[j] * diff * diff;
        }
        if (d2 < best) { best = d2; best_idx = list[n]; }
    }
    const uint16_t c = iq1_grid_codes[best_idx];
    for (int j = 0; j < 8; ++j) L[j] = (int8_t)((c >> (2 * j)) & 3);
    return best_idx;
}

/* Stable ascending sort of n <= 32 values: order[] gets original positions, ties by position. */
static void sort_positions(const float *x, int n, int *order) {
    for (int i = 0; i < n; ++i) {
        int j = i;
        while (j > 0 && x[order[j - 1]] > x[i]) { order[j] = order[j - 1]; --j; }
        order[j] = i;
    }
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
    float best = -FLT_MIN, scale = 0.0f;
    int bi1 = -1, bi2 = -1, bshift = 1;
    for (int i1 = 0; i1 <= N; ++i1) {
        for (int i2 = i1; i2 <= N; ++i2) {
            for (int s = 1; s >= -1; s -= 2) {
                float P[3];
                iq1_levels(s, P);
                const float sqx = SX[i1] * P[0] + (SX[i2] - SX[i1]) * P[1] + (SX[N] - SX[i2]) * P[2];
                const float sq2 = SW[i1] * P[0] * P[0] + (SW[i2] - SW[i1]) * P[1] * P[1] + (SW[N] - SW[i2]) * P[2] * P[2];
                if (sq2 > 0 && sqx * sqx > best * sq2) {
                    scale = sqx / sq2; best = scale * sqx; bi1 = i1; bi2 = i2; bshift = s;
                }
            }
        }
    }
    if (bi1 < 0) return 0;
    int8_t L[N];
    for (int i = 0; i < N; ++i) L[order[i]] = (int8_t)(i < bi1 ? 0 : i < bi2 ? 1 : 2);
    if (scale < 0) {
        for (int i = 0; i < N; ++i) L[i] = (int8_t)(2 - L[i]);
        scale = -scale; bshift = -bshift;
    }
    float lev[3];
    iq1_levels(bshift, lev);
    int offgrid = 0;
    for (int g = 0; g < 4; ++g)
        out->idx[g] = (uint16_t)iq1_grid_index(t, x + 8 * g, w + 8 * g, scale, lev, L + 8 * g, &offgrid);
    if (offgrid) {
        float sumqx = 0.0f, sumq2 = 0.0f;
        for (int i = 0; i < N; ++i) {
            const float q = lev[L[i]];
            sumqx += w[i] * q * x[i];
            sumq2 += w[i] * q * q;
        }
        if (sumqx > 0 && sumq2 > 0) scale = sumqx / sumq2;
    }
    out->scale = scale;
    out->shift = bshift;
    return 1;
}

iq1s_block iq1s_solve32_guarded(const iq1_quant_tables *t, const float *x, const float *qw, float sigma2) {
    const iq1s_block zero = { 0.0f, 1, { IQ1_ZERO_INDEX, IQ1_ZERO_INDEX, IQ1_ZERO_INDEX, IQ1_ZERO_INDEX } };
    iq1s_block res = zero;
    float sumx2 = 0.0f;
    for (int i = 0; i < 32; ++i) sumx2 += x[i] * x[i];
    if (sumx2 < IQ1_EPS_SUMSQ) return zero;
    float w[32], sumwx = 0.0f;
    for (int i = 0; i < 32; ++i) {
        w[i] = (qw ? qw[i] : 1.0f) * sqrtf(sigma2 + x[i] * x[i]);
        sumwx += w[i] * fabsf(x[i]);
    }
    if (sumwx >= IQ1_EPS_SUMSQ && iq1s_solve32(t, x, w, &res)) return res;
    for (int i = 0; i < 32; ++i) w[i] = sqrtf(sigma2 + x[i] * x[i]);
    if (iq1s_solve32(t, x, w, &res)) return res;
    for (int i = 0; i < 32; ++i) w[i] = 1.0f;
    if (iq1s_solve32(t, x, w, &res)) return res;
    return zero;
}

/* sum over both groups of (sum_x, sum_w) x levels for a split (i1, i2) and combination k */
static inline void iq1m_sums(const float SX[2][17], const float SW[2][17], int i1, int i2, int k,
                             float *sqx, float *sq2) {
    float a = 0.0f, b = 0.0f;
    for (int h = 0; h < 2; ++h) {
        float P[3];
        iq1_levels(((k >> (1 - h)) & 1) ? -1 : 1, P);
        a += SX[h][i1] * P[0] + (SX[h][i2] - SX[h][i1]) * P[1] + (SX[h][16] - SX[h][i2]) * P[2];
        b += SW[h][i1] * P[0] * P[0] + (SW[h][i2] - SW[h][i1]) * P[1] * P[1] + (SW[h][16] - SW[h][i2]) * P[2] * P[2];
    }
    *sqx = a; *sq2 = b;
}

int iq1m_solve16(const iq1_quant_tables *t, const float *x, const float *w, iq1m_block *out) {
    enum { N = 16 };
    int order[N];
    sort_positions(x, N, order);
    float SX[2][N + 1], SW[2][N + 1];
    for (int h = 0; h < 2; ++h) SX[h][0] = SW[h][0] = 0.0f;
    for (int i = 0; i < N; ++i) {
        const int p = order[i], h = p >= 8;
        SX[h][i + 1] = SX[h][i] + w[p] * x[p];
        SW[h][i + 1] = SW[h][i] + w[p];
        SX[!h][i + 1] = SX[!h][i];
        SW[!h][i + 1] = SW[!h][i];
    }
    float best = 0.0f, scale = 0.0f;
    int bi1 = -1, bi2 = -1, bk = -1;
    for (int i1 = 0; i1 <= N; ++i1) {
        for (int i2 = i1; i2 <= N; ++i2) {
            for (int k = 0; k < 4; ++k) {
                float sqx, sq2;
                iq1m_sums((const float (*)[17])SX, (const float (*)[17])SW, i1, i2, k, &sqx, &sq2);
                if (sq2 > 0 && sqx * sqx > best * sq2) {
                    scale = sqx / sq2; best = scale * sqx; bi1 = i1; bi2 = i2; bk = k;
                }
            }
        }
    }
    if (bk < 0) return 0;
    int8_t *L = out->L;
    for (int i = 0; i < N; ++i) L[order[i]] = (int8_t)(i < bi1 ? 0 : i < bi2 ? 1 : 2);
    if (scale < 0) {
        for (int i = 0; i < N; ++i) L[i] = (int8_t)(2 - L[i]);
        scale = -scale; bk = 3 - bk;
    }
    int offgrid = 0;
    for (int h = 0; h < 2; ++h) {
        float lev[3];
        iq1_levels(((bk >> (1 - h)) & 1) ? -1 : 1, lev);
        out->idx[h] = (uint16_t)iq1_grid_index(t, x + 8 * h, w + 8 * h, scale, lev, L + 8 * h, &offgrid);
    }
    if (offgrid) {          /* re-choose the shift combination and the scale for the final digits */
        float best2 = 0.0f;
        int found = 0;
        for (int k = 0; k < 4; ++k) {
            float sqx = 0.0f, sq2 = 0.0f;
            for (int i = 0; i < N; ++i) {
                const float q = iq1_level(L[i], ((k >> (1 - (i >= 8))) & 1) ? -1 : 1);
                sqx += w[i] * q * x[i];
                sq2 += w[i] * q * q;
            }
            if (sqx > 0 && sq2 > 0 && sqx * sqx > best2 * sq2) {
                best2 = sqx * sqx / sq2; scale = sqx / sq2; bk = k; found = 1;
            }
        }
        (void)found;        /* none positive: keep the split's scale and shifts */
    }
    out->scale = scale;
    out->k = bk;
    return 1;
}

int iq1_refit_r4_row_scales(iq1_dequantize_fn dequantize, const float *x, int64_t k, const float *imatrix,
                            uint8_t *grp, const float fallback[4]) {
    float *q = malloc(sizeof(float) * 4 * k);
    if (!q) return 1;
    const uint16_t one = 0x3c00;
    for (int row = 0; row < 4; ++row) memcpy(grp + 2 * row, &one, 2);
    dequantize(grp, k, 0, 4, q);
    for (int row = 0; row < 4; ++row) {
        float sumqx = 0.0f, sumq2 = 0.0f;
        for (int64_t i = 0; i < k; ++i) {
            const float wi = imatrix ? imatrix[i] : 1.0f, qi = q[row * k + i];
            sumqx += wi * qi * x[row * k + i];
            sumq2 += wi * qi * qi;
        }
        const uint16_t d = iq1_scale_to_fp16(sumqx > 0 && sumq2 > 0 ? sumqx / sumq2 : fallback[row]);
        memcpy(grp + 2 * row, &d, 2);
    }
    free(q);
    return 0;
}

uint16_t iq1_scale_to_fp16(float s) {
    return iq1_fp32_to_fp16(s < 65504.0f ? s : 65504.0f);
}
