/* The block solvers with AVX2 search kernels (8 lanes): the scheme of quantize_search_avx512.c and
 * the restarts of quantize_restart-inl.h, deciding exactly as the portable ones (quantize_search_generic.c).
 * The score estimates use _mm256_rcp_ps (relative error < 1.5 * 2^-12) refined by one Newton step. */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c")
#include <immintrin.h>
#include "quantize_search.h"

static inline __m256i lane_index(void) { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
/* all-ones in lanes 0 .. n-1 */
static inline __m256 lanes_below(int n) {
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane_index()));
}
static inline unsigned bits(__m256 m) { return (unsigned)_mm256_movemask_ps(m); }

static inline float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}
static inline int hmin_epi32(__m256i v) {
    __m128i m = _mm_min_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    m = _mm_min_epi32(m, _mm_shuffle_epi32(m, 0x4e));
    m = _mm_min_epi32(m, _mm_shuffle_epi32(m, 0xb1));
    return _mm_cvtsi128_si32(m);
}
/* smallest entry of `v` in the lanes where best == top */
static inline int first_at(__m256 best, float top, __m256i v) {
    const __m256i at = _mm256_castps_si256(_mm256_cmp_ps(best, _mm256_set1_ps(top), _CMP_EQ_OQ));
    return hmin_epi32(_mm256_blendv_epi8(_mm256_set1_epi32(0x7fffffff), v, at));
}

static void rank_positions(const float *x, int n, int *order) {
    const int nv = n / 8;
    __m256 v[4];
    __m256i r[4], idx[4];
    for (int q = 0; q < nv; ++q) {
        v[q] = _mm256_loadu_ps(x + 8 * q);
        r[q] = _mm256_setzero_si256();
        idx[q] = _mm256_add_epi32(lane_index(), _mm256_set1_epi32(8 * q));
    }
    for (int j = 0; j < n; ++j) {
        /* element i counts x[j] < x[i], or x[j] == x[i] with j < i */
        const __m256 xj = _mm256_set1_ps(x[j]);
        const __m256i jv = _mm256_set1_epi32(j);
        for (int q = 0; q < nv; ++q) {
            const __m256 after = _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx[q], jv));
            const __m256 m = _mm256_or_ps(_mm256_cmp_ps(xj, v[q], _CMP_LT_OQ),
                                          _mm256_and_ps(_mm256_cmp_ps(xj, v[q], _CMP_EQ_OQ), after));
            r[q] = _mm256_sub_epi32(r[q], _mm256_castps_si256(m));
        }
    }
    int rank[32];
    for (int q = 0; q < nv; ++q) _mm256_storeu_si256((__m256i *)(rank + 8 * q), r[q]);
    for (int i = 0; i < n; ++i) order[rank[i]] = i;
}

/* lanes of `live` whose candidate passes sq2 > 0 and a >= lo * sq2 (the scalar test, ordered compares) */
static inline unsigned passing(unsigned live, __m256 a, __m256 sq2, float lo) {
    const __m256 pos = _mm256_cmp_ps(sq2, _mm256_setzero_ps(), _CMP_GT_OQ);
    const __m256 ge = _mm256_cmp_ps(a, _mm256_mul_ps(_mm256_set1_ps(lo), sq2), _CMP_GE_OQ);
    return live & bits(_mm256_and_ps(pos, ge));
}

/* Estimates a / sq2 of the scores of the candidates in `live` (all-ones lanes): 0 where sq2 <= 0, +inf
 * where a or sq2 is outside [1e-30, 1e30] (no relative error bound there), otherwise a * r with r one
 * Newton step r0 (2 - sq2 r0) from r0 = rcp(sq2) (relative error e0 < 1.5 * 2^-12): |sq2 r - 1| <=
 * e0^2 + 3 * 2^-24 (1 + e0)^2 < 2^-21, so the estimate times IQ1_EST_MARGIN bounds the exact fp32 score
 * from above (a, the product and the score round by 2^-24 each). */
#define IQ1_EST_MARGIN 1.000003814697265625f /* 1 + 2^-18 > (1 + 2^-21) (1 + 2^-24)^5 */
static inline __m256 estimate(__m256 live, __m256 a, __m256 sq2) {
    const __m256 tiny = _mm256_set1_ps(1e-30f), huge = _mm256_set1_ps(1e30f);
    const __m256 pos = _mm256_and_ps(live, _mm256_cmp_ps(sq2, _mm256_setzero_ps(), _CMP_GT_OQ));
    const __m256 ok =
        _mm256_and_ps(_mm256_and_ps(pos, _mm256_cmp_ps(a, tiny, _CMP_GE_OQ)),
                      _mm256_and_ps(_mm256_cmp_ps(sq2, tiny, _CMP_GE_OQ), _mm256_cmp_ps(sq2, huge, _CMP_LE_OQ)));
    const __m256 r0 = _mm256_rcp_ps(sq2);
    const __m256 r1 = _mm256_mul_ps(r0, _mm256_sub_ps(_mm256_set1_ps(2.0f), _mm256_mul_ps(sq2, r0)));
    const __m256 r = _mm256_and_ps(ok, _mm256_mul_ps(a, r1));
    return _mm256_blendv_ps(r, _mm256_set1_ps(__builtin_inff()), _mm256_andnot_ps(ok, pos));
}

/* IQ1_S: a^2 and sq2 of the 8 splits (i1, base .. base + 7), both signs */
typedef struct {
    __m256 a[2], q[2];
} cands32;
static inline cands32 cands32_at(const split32_sums *p, int i1, int base) {
    const __m256 sx = _mm256_loadu_ps(p->SX + base), sw = _mm256_loadu_ps(p->SW + base);
    cands32 c;
    for (int s = 0; s < 2; ++s) {
        const __m256 sqx = _mm256_sub_ps(_mm256_set1_ps(p->X1[s][i1]), sx);
        c.q[s] = _mm256_sub_ps(_mm256_set1_ps(p->W1[s][i1]), _mm256_mul_ps(_mm256_set1_ps(IQ1_LEV_B[s]), sw));
        c.a[s] = _mm256_mul_ps(sqx, sqx);
    }
    return c;
}

/* Whether a candidate of a row whose estimates are `full` can pass the test against tie bound lo
 * (IQ1_ROW_SKIP); otherwise the scalar search skips the whole row. */
static inline int row_may_pass(__m256 full, float lo) {
    if (!(lo >= 1e-6f)) return 1;
    const __m256 ub = _mm256_mul_ps(full, _mm256_set1_ps(IQ1_EST_MARGIN));
    return bits(_mm256_cmp_ps(ub, _mm256_set1_ps(lo * IQ1_ROW_SKIP), _CMP_GE_OQ)) != 0;
}

/* Estimates of the candidates of row i1 with sequence position (i1 * 128 + i2 * 2 + s) below `limit`:
 * their lane-wise maximum, and into best / code (if given) each lane's first largest one. */
static inline __m256 row32_estimates(const split32_sums *p, int i1, int limit, __m256 *best, __m256i *code) {
    const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    __m256 rm = _mm256_setzero_ps();
    for (int base = i1; base <= 32; base += 8) {
        const cands32 c = cands32_at(p, i1, base);
        const __m256i c0 = _mm256_add_epi32(lane2, _mm256_set1_epi32(128 * i1 + 2 * base));
        for (int s = 0; s < 2; ++s) {
            const __m256i cs = _mm256_add_epi32(c0, _mm256_set1_epi32(s));
            const __m256 live = _mm256_and_ps(lanes_below(33 - base),
                                              _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(limit), cs)));
            const __m256 r = estimate(live, c.a[s], c.q[s]);
            rm = _mm256_max_ps(rm, r);
            if (best) {
                const __m256 up = _mm256_cmp_ps(r, *best, _CMP_GT_OQ);
                *best = _mm256_blendv_ps(*best, r, up);
                *code = _mm256_blendv_epi8(*code, cs, _mm256_castps_si256(up));
            }
        }
    }
    return rm;
}

/* IQ1_M: a^2 and sq2 of the 4 combinations of the 8 splits (i1, base .. base + 7) */
typedef struct {
    __m256 a[4], q[4];
} cands16;
static inline cands16 cands16_at(const split16_sums *p, int i1, int base) {
    __m256 gx[2][2], gw[2][2];
    for (int h = 0; h < 2; ++h) {
        const __m256 sx = _mm256_loadu_ps(p->SX[h] + base), sw = _mm256_loadu_ps(p->SW[h] + base);
        for (int s = 0; s < 2; ++s) {
            gx[h][s] = _mm256_sub_ps(_mm256_set1_ps(p->X1[h][s][i1]), sx);
            gw[h][s] = _mm256_sub_ps(_mm256_set1_ps(p->W1[h][s][i1]), _mm256_mul_ps(_mm256_set1_ps(IQ1_LEV_B[s]), sw));
        }
    }
    cands16 c;
    for (int k = 0; k < 4; ++k) {
        const __m256 sqx = _mm256_add_ps(gx[0][k >> 1], gx[1][k & 1]);
        c.q[k] = _mm256_add_ps(gw[0][k >> 1], gw[1][k & 1]);
        c.a[k] = _mm256_mul_ps(sqx, sqx);
    }
    return c;
}

static inline __m256 row16_estimates(const split16_sums *p, int i1, int limit, __m256 *best, __m256i *code) {
    const __m256i lane4 = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
    __m256 rm = _mm256_setzero_ps();
    for (int base = i1; base <= 16; base += 8) {
        const cands16 c = cands16_at(p, i1, base);
        const __m256i c0 = _mm256_add_epi32(lane4, _mm256_set1_epi32(128 * i1 + 4 * base));
        for (int k = 0; k < 4; ++k) {
            const __m256i ck = _mm256_add_epi32(c0, _mm256_set1_epi32(k));
            const __m256 live = _mm256_and_ps(lanes_below(17 - base),
                                              _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(limit), ck)));
            const __m256 r = estimate(live, c.a[k], c.q[k]);
            rm = _mm256_max_ps(rm, r);
            if (best) {
                const __m256 up = _mm256_cmp_ps(r, *best, _CMP_GT_OQ);
                *best = _mm256_blendv_ps(*best, r, up);
                *code = _mm256_blendv_epi8(*code, ck, _mm256_castps_si256(up));
            }
        }
    }
    return rm;
}

#define IQ1_LANES 8
#define VF __m256
#define VI __m256i
static inline __m256 vf_zero(void) { return _mm256_setzero_ps(); }
static inline __m256i vi_zero(void) { return _mm256_setzero_si256(); }
static inline __m256 vf_max(__m256 a, __m256 b) { return _mm256_max_ps(a, b); }
static inline float vf_hmax(__m256 v) { return hmax(v); }
#include "quantize_restart-inl.h"

static int best_neighbour(const uint16_t *codes, int count, const float e[8][4]) {
    /* entries of terms 2p and 2p + 1 in one register: index digit + 4 (j & 1) */
    __m256 tab[4];
    for (int q = 0; q < 4; ++q) tab[q] = _mm256_loadu_ps(&e[2 * q][0]);
    const __m256i three = _mm256_set1_epi32(3), four = _mm256_set1_epi32(4);
    __m256 best = _mm256_set1_ps(FLT_MAX);
    __m256i best_n = _mm256_setzero_si256();
    for (int n0 = 0; n0 < count; n0 += 8) {
        const __m256i c = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(codes + n0)));
        __m256 d2 = _mm256_setzero_ps();
        for (int j = 0; j < 8; ++j) {
            __m256i idx = _mm256_and_si256(_mm256_srli_epi32(c, 2 * j), three);
            if (j & 1) idx = _mm256_add_epi32(idx, four);
            d2 = _mm256_add_ps(d2, _mm256_permutevar8x32_ps(tab[j >> 1], idx));
        }
        const __m256 lt = _mm256_and_ps(lanes_below(count - n0), _mm256_cmp_ps(d2, best, _CMP_LT_OQ));
        best = _mm256_blendv_ps(best, d2, lt);
        best_n =
            _mm256_blendv_epi8(best_n, _mm256_add_epi32(lane_index(), _mm256_set1_epi32(n0)), _mm256_castps_si256(lt));
    }
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(best), _mm256_extractf128_ps(best, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
    const float top = _mm_cvtss_f32(m);
    if (!(top < FLT_MAX)) return 0;
    return first_at(best, top, best_n);
}

/* iq1_solver_avx2 and its functions iq1_quantize_grid_index_avx2, iq1_quantize_project32_avx2,
 * iq1_quantize_solve32_avx2, iq1_quantize_solve32_guarded_avx2, iq1_quantize_project16_avx2,
 * iq1_quantize_solve16_avx2, iq1_quantize_solve16_guarded_avx2 */
#define IQ1_VARIANT avx2
#include "quantize_solve-inl.h"
#undef IQ1_VARIANT

int iq1_quantize_iq1_s_avx2(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_s_with(&iq1_solver_avx2, x, k, r0, r1, imatrix, w);
}
int iq1_quantize_iq1_m_avx2(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_m_with(&iq1_solver_avx2, x, k, r0, r1, imatrix, w);
}
int iq1_quantize_iq1_s_r4_avx2(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_s_r4_with(&iq1_solver_avx2, x, k, r0, r1, imatrix, w);
}
int iq1_quantize_iq1_m_r4_avx2(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_m_r4_with(&iq1_solver_avx2, x, k, r0, r1, imatrix, w);
}
#endif
