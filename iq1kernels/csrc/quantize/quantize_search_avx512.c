/* The block solvers with AVX-512 search kernels (16 lanes), deciding exactly as the portable ones
 * (quantize_search_generic.c):
 *   rank_positions   ranks by mask popcounts: integer results, the same permutation;
 *   search_splits*   16 splits (i1 fixed, i2 in lanes) per step, with the scalar search's fp32 operations;
 *                    the lanes that pass its test against the current tie bound go, in order, through the
 *                    scalar step (quantize_search.h), and the rest of the step is re-tested against the
 *                    bound that step left: a dropped lane is one the scalar search would have skipped;
 *                    and the sequence starts at a proven restart point (quantize_restart-inl.h);
 *   best_neighbour   16 neighbours per step, the 8 terms added in the scalar order; first strict minimum. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")
#include <immintrin.h>
#include "quantize_search.h"

static inline __mmask16 lanes_below(int n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1); }

/* smallest entry of `v` in the lanes where best == top (once per search: plain C) */
static inline int first_at(__m512 best, float top, __m512i v) {
    float b[16];
    int32_t c[16], m = 0x7fffffff;
    _mm512_storeu_ps(b, best);
    _mm512_storeu_si512(c, v);
    for (int i = 0; i < 16; ++i)
        if (b[i] == top && c[i] < m) m = c[i];
    return m;
}

static void rank_positions(const float *x, int n, int *order) {
    const __m512i one = _mm512_set1_epi32(1);
    const __m512 a = _mm512_loadu_ps(x);
    const __m512 b = n > 16 ? _mm512_loadu_ps(x + 16) : a;
    __m512i ra = _mm512_setzero_si512(), rb = _mm512_setzero_si512();
    for (int j = 0; j < n; ++j) {
        const __m512 xj = _mm512_set1_ps(x[j]);
        /* element i counts x[j] < x[i], or x[j] == x[i] with j < i */
        const __mmask16 after_a = (__mmask16)(j < 16 ? 0xffffu << (j + 1) : 0);
        const __mmask16 after_b = (__mmask16)(j < 16 ? 0xffffu : 0xffffu << (j - 15));
        const __mmask16 ma = _mm512_cmp_ps_mask(xj, a, _CMP_LT_OQ) | (_mm512_cmp_ps_mask(xj, a, _CMP_EQ_OQ) & after_a);
        const __mmask16 mb = _mm512_cmp_ps_mask(xj, b, _CMP_LT_OQ) | (_mm512_cmp_ps_mask(xj, b, _CMP_EQ_OQ) & after_b);
        ra = _mm512_mask_add_epi32(ra, ma, ra, one);
        rb = _mm512_mask_add_epi32(rb, mb, rb, one);
    }
    int rank[32];
    _mm512_storeu_si512(rank, ra);
    _mm512_storeu_si512(rank + 16, rb);
    for (int i = 0; i < n; ++i) order[rank[i]] = i;
}

/* lanes of `live` whose candidate passes sq2 > 0 and a >= lo * sq2 (the scalar test, ordered compares) */
static inline __mmask16 passing(__mmask16 live, __m512 a, __m512 sq2, float lo) {
    const __mmask16 pos = (__mmask16)(live & _mm512_cmp_ps_mask(sq2, _mm512_setzero_ps(), _CMP_GT_OQ));
    return (__mmask16)(pos & _mm512_cmp_ps_mask(a, _mm512_mul_ps(_mm512_set1_ps(lo), sq2), _CMP_GE_OQ));
}

/* Estimates a / sq2 of the scores sqx / sq2 * sqx of the candidates in `live`: 0 where sq2 <= 0 (never
 * a best), +inf where a or sq2 is outside [1e-30, 1e30] (no relative error bound there: subnormals),
 * otherwise a * r with r one Newton step r0 (2 - sq2 r0) from r0 = rcp14(sq2) (relative error
 * e0 < 2^-14): |sq2 r - 1| <= e0^2 + 3 * 2^-24 (1 + e0)^2 < 2^-21, so the estimate times IQ1_EST_MARGIN
 * is an upper bound of the exact fp32 score (a, the product and the score round by 2^-24 each). The step
 * makes the bound tight enough that near-ties rarely spoil a restart. */
#define IQ1_EST_MARGIN 1.000003814697265625f /* 1 + 2^-18 > (1 + 2^-21) (1 + 2^-24)^5 */
static inline __m512 estimate(__mmask16 live, __m512 a, __m512 sq2) {
    const __m512 tiny = _mm512_set1_ps(1e-30f), huge = _mm512_set1_ps(1e30f);
    const __mmask16 pos = (__mmask16)(live & _mm512_cmp_ps_mask(sq2, _mm512_setzero_ps(), _CMP_GT_OQ));
    __mmask16 ok =
        (__mmask16)(pos & _mm512_cmp_ps_mask(a, tiny, _CMP_GE_OQ) & _mm512_cmp_ps_mask(sq2, tiny, _CMP_GE_OQ));
    ok = (__mmask16)(ok & _mm512_cmp_ps_mask(sq2, huge, _CMP_LE_OQ));
    const __m512 r0 = _mm512_rcp14_ps(sq2);
    const __m512 r1 = _mm512_mul_ps(r0, _mm512_sub_ps(_mm512_set1_ps(2.0f), _mm512_mul_ps(sq2, r0)));
    const __m512 r = _mm512_maskz_mul_ps(ok, a, r1);
    return _mm512_mask_mov_ps(r, (__mmask16)(pos & ~ok), _mm512_set1_ps(__builtin_inff()));
}

/* IQ1_S: a^2 and sq2 of the 16 splits (i1, base .. base + 15), both signs */
typedef struct {
    __m512 a[2], q[2];
} cands32;
static inline cands32 cands32_at(const split32_sums *p, int i1, int base) {
    const __m512 sx = _mm512_loadu_ps(p->SX + base), sw = _mm512_loadu_ps(p->SW + base);
    cands32 c;
    for (int s = 0; s < 2; ++s) {
        const __m512 sqx = _mm512_sub_ps(_mm512_set1_ps(p->X1[s][i1]), sx);
        c.q[s] = _mm512_sub_ps(_mm512_set1_ps(p->W1[s][i1]), _mm512_mul_ps(_mm512_set1_ps(IQ1_LEV_B[s]), sw));
        c.a[s] = _mm512_mul_ps(sqx, sqx);
    }
    return c;
}

/* Whether a candidate of a row whose estimates are `full` can pass the test against tie bound lo
 * (IQ1_ROW_SKIP); otherwise the scalar search skips the whole row. */
static inline int row_may_pass(__m512 full, float lo) {
    if (!(lo >= 1e-6f)) return 1;
    const __m512 ub = _mm512_mul_ps(full, _mm512_set1_ps(IQ1_EST_MARGIN));
    return _mm512_cmp_ps_mask(ub, _mm512_set1_ps(lo * IQ1_ROW_SKIP), _CMP_GE_OQ) != 0;
}

/* Estimates of the candidates of row i1 with sequence position (i1 * 128 + i2 * 2 + s) below `limit`:
 * their lane-wise maximum, and into best / code (if given) each lane's first largest one. */
static inline __m512 row32_estimates(const split32_sums *p, int i1, int limit, __m512 *best, __m512i *code) {
    const __m512i lane2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    __m512 rm = _mm512_setzero_ps();
    for (int base = i1; base <= 32; base += 16) {
        const cands32 c = cands32_at(p, i1, base);
        const __m512i c0 = _mm512_add_epi32(lane2, _mm512_set1_epi32(128 * i1 + 2 * base));
        for (int s = 0; s < 2; ++s) {
            const __m512i cs = _mm512_add_epi32(c0, _mm512_set1_epi32(s));
            const __mmask16 live = lanes_below(33 - base) & _mm512_cmpgt_epi32_mask(_mm512_set1_epi32(limit), cs);
            const __m512 r = estimate(live, c.a[s], c.q[s]);
            rm = _mm512_max_ps(rm, r);
            if (best) {
                const __mmask16 up = _mm512_cmp_ps_mask(r, *best, _CMP_GT_OQ);
                *best = _mm512_mask_mov_ps(*best, up, r);
                *code = _mm512_mask_mov_epi32(*code, up, cs);
            }
        }
    }
    return rm;
}

/* IQ1_M: a^2 and sq2 of the 4 combinations of the 16 splits (i1, base .. base + 15) */
typedef struct {
    __m512 a[4], q[4];
} cands16;
static inline cands16 cands16_at(const split16_sums *p, int i1, int base) {
    __m512 gx[2][2], gw[2][2];
    for (int h = 0; h < 2; ++h) {
        const __m512 sx = _mm512_loadu_ps(p->SX[h] + base), sw = _mm512_loadu_ps(p->SW[h] + base);
        for (int s = 0; s < 2; ++s) {
            gx[h][s] = _mm512_sub_ps(_mm512_set1_ps(p->X1[h][s][i1]), sx);
            gw[h][s] = _mm512_sub_ps(_mm512_set1_ps(p->W1[h][s][i1]), _mm512_mul_ps(_mm512_set1_ps(IQ1_LEV_B[s]), sw));
        }
    }
    cands16 c;
    for (int k = 0; k < 4; ++k) {
        const __m512 sqx = _mm512_add_ps(gx[0][k >> 1], gx[1][k & 1]);
        c.q[k] = _mm512_add_ps(gw[0][k >> 1], gw[1][k & 1]);
        c.a[k] = _mm512_mul_ps(sqx, sqx);
    }
    return c;
}

static inline __m512 row16_estimates(const split16_sums *p, int i1, int limit, __m512 *best, __m512i *code) {
    const __m512i lane4 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60);
    __m512 rm = _mm512_setzero_ps();
    for (int base = i1; base <= 16; base += 16) {
        const cands16 c = cands16_at(p, i1, base);
        const __m512i c0 = _mm512_add_epi32(lane4, _mm512_set1_epi32(128 * i1 + 4 * base));
        for (int k = 0; k < 4; ++k) {
            const __m512i ck = _mm512_add_epi32(c0, _mm512_set1_epi32(k));
            const __mmask16 live = lanes_below(17 - base) & _mm512_cmpgt_epi32_mask(_mm512_set1_epi32(limit), ck);
            const __m512 r = estimate(live, c.a[k], c.q[k]);
            rm = _mm512_max_ps(rm, r);
            if (best) {
                const __mmask16 up = _mm512_cmp_ps_mask(r, *best, _CMP_GT_OQ);
                *best = _mm512_mask_mov_ps(*best, up, r);
                *code = _mm512_mask_mov_epi32(*code, up, ck);
            }
        }
    }
    return rm;
}

#define IQ1_LANES 16
#define VF __m512
#define VI __m512i
static inline __m512 vf_zero(void) { return _mm512_setzero_ps(); }
static inline __m512i vi_zero(void) { return _mm512_setzero_si512(); }
static inline __m512 vf_max(__m512 a, __m512 b) { return _mm512_max_ps(a, b); }
static inline float vf_hmax(__m512 v) { return _mm512_reduce_max_ps(v); }
#include "quantize_restart-inl.h"

static int best_neighbour(const uint16_t *codes, int count, const float e[8][4]) {
    /* entry 4 j + digit of the 32-entry table e is term j for that digit */
    const __m512 e_lo = _mm512_loadu_ps(&e[0][0]), e_hi = _mm512_loadu_ps(&e[4][0]);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i three = _mm512_set1_epi32(3);
    __m512 best = _mm512_set1_ps(FLT_MAX);
    __m512i best_n = _mm512_setzero_si512();
    for (int n0 = 0; n0 < count; n0 += 16) {
        const __m512i c = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(codes + n0)));
        __m512 d2 = _mm512_setzero_ps();
        for (int j = 0; j < 8; ++j) {
            const __m512i idx =
                _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(c, 2 * j), three), _mm512_set1_epi32(4 * j));
            d2 = _mm512_add_ps(d2, _mm512_permutex2var_ps(e_lo, idx, e_hi));
        }
        const __mmask16 lt = (__mmask16)(lanes_below(count - n0) & _mm512_cmp_ps_mask(d2, best, _CMP_LT_OQ));
        best = _mm512_mask_mov_ps(best, lt, d2);
        best_n = _mm512_mask_mov_epi32(best_n, lt, _mm512_add_epi32(lane, _mm512_set1_epi32(n0)));
    }
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u); /* min = -max(-x), exactly */
    const float m = -_mm512_reduce_max_ps(_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(best), sign)));
    if (!(m < FLT_MAX)) return 0;
    return first_at(best, m, best_n);
}

/* iq1_solver_avx512 and its functions iq1_quantize_grid_index_avx512, iq1_quantize_project32_avx512,
 * iq1_quantize_solve32_avx512, iq1_quantize_solve32_guarded_avx512, iq1_quantize_project16_avx512,
 * iq1_quantize_solve16_avx512, iq1_quantize_solve16_guarded_avx512 */
#define IQ1_VARIANT avx512
#include "quantize_solve-inl.h"
#undef IQ1_VARIANT

int iq1_quantize_iq1_s_avx512(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_s_with(&iq1_solver_avx512, x, k, r0, r1, imatrix, w);
}
int iq1_quantize_iq1_m_avx512(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_m_with(&iq1_solver_avx512, x, k, r0, r1, imatrix, w);
}
int iq1_quantize_iq1_s_r4_avx512(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_s_r4_with(&iq1_solver_avx512, x, k, r0, r1, imatrix, w);
}
int iq1_quantize_iq1_m_r4_avx512(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_m_r4_with(&iq1_solver_avx512, x, k, r0, r1, imatrix, w);
}
#endif
