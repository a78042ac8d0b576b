/* Grid neighbour lists and the scale helpers shared by the IQ1 quantizers (docs/QUANTIZATION.md). */
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
 * is among the 3 smallest distinct distances, ordered by (distance, index). */
static void build_tables(void) {
    iq1_quant_tables *t = malloc(sizeof *t);
    if (!t) return;
    for (int i = 0; i < IQ1_KMAP_SIZE; ++i) t->kmap[i] = -1;
    for (int i = 0; i < 2048; ++i) t->kmap[iq1_grid_codes[i]] = i;
    size_t cap = 400000, used = 0;
    uint16_t *nb = malloc(cap * sizeof *nb);
    uint8_t *dist = malloc(2048), *digit = malloc(8 * 2048); /* digit[j * 2048 + i]: digit j of grid i */
    if (!nb || !dist || !digit) {
        free(nb);
        free(dist);
        free(digit);
        free(t);
        return;
    }
    for (int j = 0; j < 8; ++j)
        for (int i = 0; i < 2048; ++i) digit[j * 2048 + i] = (uint8_t)((iq1_grid_codes[i] >> (2 * j)) & 3);
    for (int code = 0; code < IQ1_KMAP_SIZE; ++code) {
        if (t->kmap[code] >= 0) continue;
        int L[8], reachable = 1;
        for (int j = 0; j < 8; ++j) {
            L[j] = (code >> (2 * j)) & 3;
            reachable &= L[j] < 3;
        }
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
        for (int d = 0; d <= 32 && nw < 3; ++d)
            if (count_at[d]) {
                want[nw++] = d;
                total += count_at[d];
            }
        if (used + 1 + (size_t)total > cap) {
            cap *= 2;
            uint16_t *grown = realloc(nb, cap * sizeof *nb);
            if (!grown) {
                free(nb);
                free(dist);
                free(digit);
                free(t);
                return;
            }
            nb = grown;
        }
        t->kmap[code] = -(int32_t)(used + 1);
        nb[used++] = (uint16_t)total;
        for (int w = 0; w < nw; ++w)
            for (int i = 0; i < 2048; ++i)
                if (dist[i] == want[w]) nb[used++] = (uint16_t)i;
    }
    free(dist);
    free(digit);
    /* the codes of the listed grid points, at the same offsets, padded for 16-wide loads */
    uint16_t *codes = malloc((used + 16) * sizeof *codes);
    if (!codes) {
        free(nb);
        free(t);
        return;
    }
    memset(codes, 0, (used + 16) * sizeof *codes);
    for (size_t off = 0; off < used; off += 1 + nb[off])
        for (int n = 1; n <= nb[off]; ++n) codes[off + n] = iq1_grid_codes[nb[off + n]];
    t->neighbours = nb;
    t->codes = codes;
    tables = t;
}

const iq1_quant_tables *iq1_quant_tables_get(void) {
    pthread_once(&tables_once, build_tables);
    return tables;
}

int iq1_refit_r4_row_scales(iq1_dequantize_fn dequantize, const float *x, int64_t k, const float *imatrix, uint8_t *grp,
                            const float fallback[4]) {
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
        const float d = sumqx > 0 && sumq2 > 0 ? iq1_raw_scale(sumqx / sumq2, amax) : fallback[row];
        const uint16_t h = iq1_scale_to_fp16(d);
        memcpy(grp + 2 * row, &h, 2);
    }
    free(q);
    return 0;
}

uint16_t iq1_scale_to_fp16(float s) { return iq1_fp32_to_fp16(s < 65504.0f ? s : 65504.0f); }
