/* The block solvers with NEON search kernels (4 lanes): the scheme of quantize_search_avx512.c and
 * the restarts of quantize_restart-inl.h, deciding exactly as the portable ones (quantize_search_generic.c).
 * Pass 1 computes the exact fp32 scores (sqx / sq2 * sqx; vdivq_f32 rounds as the scalar division), so
 * its bound needs no margin. */
#if defined(__aarch64__)
#include <arm_neon.h>
#include "quantize_search.h"

static inline uint32x4_t lane_index(void) {
    const uint32_t l[4] = { 0, 1, 2, 3 };
    return vld1q_u32(l);
}
/* all-ones in lanes 0 .. n-1 */
static inline uint32x4_t lanes_below(int n) { return vcltq_u32(lane_index(), vdupq_n_u32((uint32_t)(n < 0 ? 0 : n))); }
static inline unsigned bits(uint32x4_t m) {
    const uint32_t w[4] = { 1, 2, 4, 8 };
    return vaddvq_u32(vandq_u32(m, vld1q_u32(w)));
}
/* smallest entry of `v` in the lanes where best == top */
static inline int first_at(float32x4_t best, float top, int32x4_t v) {
    const uint32x4_t at = vceqq_f32(best, vdupq_n_f32(top));
    return vminvq_s32(vbslq_s32(at, v, vdupq_n_s32(0x7fffffff)));
}

static void rank_positions(const float *x, int n, int *order) {
    const int nv = n / 4;
    float32x4_t v[8];
    uint32x4_t r[8], idx[8];
    for (int q = 0; q < nv; ++q) {
        v[q] = vld1q_f32(x + 4 * q);
        r[q] = vdupq_n_u32(0);
        idx[q] = vaddq_u32(lane_index(), vdupq_n_u32((uint32_t)(4 * q)));
    }
    for (int j = 0; j < n; ++j) {
        /* element i counts x[j] < x[i], or x[j] == x[i] with j < i */
        const float32x4_t xj = vdupq_n_f32(x[j]);
        const uint32x4_t jv = vdupq_n_u32((uint32_t)j);
        for (int q = 0; q < nv; ++q) {
            const uint32x4_t m = vorrq_u32(vcltq_f32(xj, v[q]), vandq_u32(vceqq_f32(xj, v[q]), vcgtq_u32(idx[q], jv)));
            r[q] = vsubq_u32(r[q], m);
        }
    }
    uint32_t rank[32];
    for (int q = 0; q < nv; ++q) vst1q_u32(rank + 4 * q, r[q]);
    for (int i = 0; i < n; ++i) order[rank[i]] = i;
}

/* lanes of `live` whose candidate passes sq2 > 0 and a >= lo * sq2 (the scalar test, ordered compares) */
static inline unsigned passing(unsigned live, float32x4_t a, float32x4_t sq2, float lo) {
    const uint32x4_t pos = vcgtq_f32(sq2, vdupq_n_f32(0.0f));
    const uint32x4_t ge = vcgeq_f32(a, vmulq_f32(vdupq_n_f32(lo), sq2));
    return live & bits(vandq_u32(pos, ge));
}

/* the exact scores of the candidates in `live` (all-ones lanes) with sq2 > 0, 0 elsewhere: their own
 * upper bounds (quantize_restart-inl.h) */
#define IQ1_EST_MARGIN 1.0f
static inline float32x4_t scores(uint32x4_t live, float32x4_t sqx, float32x4_t sq2) {
    const uint32x4_t pos = vandq_u32(live, vcgtq_f32(sq2, vdupq_n_f32(0.0f)));
    const float32x4_t s = vmulq_f32(vdivq_f32(sqx, sq2), sqx);
    return vreinterpretq_f32_u32(vandq_u32(pos, vreinterpretq_u32_f32(s)));
}

/* IQ1_S: sqx, sqx^2 and sq2 of the 4 splits (i1, base .. base + 3), both signs */
typedef struct {
    float32x4_t x[2], a[2], q[2];
} cands32;
static inline cands32 cands32_at(const split32_sums *p, int i1, int base) {
    const float32x4_t sx = vld1q_f32(p->SX + base), sw = vld1q_f32(p->SW + base);
    cands32 c;
    for (int s = 0; s < 2; ++s) {
        c.x[s] = vsubq_f32(vdupq_n_f32(p->X1[s][i1]), sx);
        c.q[s] = vsubq_f32(vdupq_n_f32(p->W1[s][i1]), vmulq_f32(vdupq_n_f32(IQ1_LEV_B[s]), sw));
        c.a[s] = vmulq_f32(c.x[s], c.x[s]);
    }
    return c;
}

/* Whether a candidate of a row whose exact scores are `full` can pass the test against tie bound lo
 * (IQ1_ROW_SKIP); otherwise the scalar search skips the whole row. */
static inline int row_may_pass(float32x4_t full, float lo) {
    if (!(lo >= 1e-6f)) return 1;
    return !(vmaxvq_f32(full) < lo * IQ1_ROW_SKIP);
}

/* Exact scores (the estimates of quantize_restart-inl.h) of the candidates of row i1 with sequence position
 * (i1 * 128 + i2 * 2 + s) below `limit`: their lane-wise maximum, and into best / code (if given) each
 * lane's first largest one. */
static inline float32x4_t row32_estimates(const split32_sums *p, int i1, int limit, float32x4_t *best,
                                          int32x4_t *code) {
    const int32_t l2[4] = { 0, 2, 4, 6 };
    float32x4_t rm = vdupq_n_f32(0.0f);
    for (int base = i1; base <= 32; base += 4) {
        const cands32 c = cands32_at(p, i1, base);
        const int32x4_t c0 = vaddq_s32(vld1q_s32(l2), vdupq_n_s32(128 * i1 + 2 * base));
        for (int s = 0; s < 2; ++s) {
            const int32x4_t cs = vaddq_s32(c0, vdupq_n_s32(s));
            const uint32x4_t live = vandq_u32(lanes_below(33 - base), vcltq_s32(cs, vdupq_n_s32(limit)));
            const float32x4_t r = scores(live, c.x[s], c.q[s]);
            rm = vmaxq_f32(rm, r);
            if (best) {
                const uint32x4_t up = vcgtq_f32(r, *best);
                *best = vbslq_f32(up, r, *best);
                *code = vbslq_s32(up, cs, *code);
            }
        }
    }
    return rm;
}

/* IQ1_M: sqx, sqx^2 and sq2 of the 4 combinations of the 4 splits (i1, base .. base + 3) */
typedef struct {
    float32x4_t x[4], a[4], q[4];
} cands16;
static inline cands16 cands16_at(const split16_sums *p, int i1, int base) {
    float32x4_t gx[2][2], gw[2][2];
    for (int h = 0; h < 2; ++h) {
        const float32x4_t sx = vld1q_f32(p->SX[h] + base), sw = vld1q_f32(p->SW[h] + base);
        for (int s = 0; s < 2; ++s) {
            gx[h][s] = vsubq_f32(vdupq_n_f32(p->X1[h][s][i1]), sx);
            gw[h][s] = vsubq_f32(vdupq_n_f32(p->W1[h][s][i1]), vmulq_f32(vdupq_n_f32(IQ1_LEV_B[s]), sw));
        }
    }
    cands16 c;
    for (int k = 0; k < 4; ++k) {
        c.x[k] = vaddq_f32(gx[0][k >> 1], gx[1][k & 1]);
        c.q[k] = vaddq_f32(gw[0][k >> 1], gw[1][k & 1]);
        c.a[k] = vmulq_f32(c.x[k], c.x[k]);
    }
    return c;
}

static inline float32x4_t row16_estimates(const split16_sums *p, int i1, int limit, float32x4_t *best,
                                          int32x4_t *code) {
    const int32_t l4[4] = { 0, 4, 8, 12 };
    float32x4_t rm = vdupq_n_f32(0.0f);
    for (int base = i1; base <= 16; base += 4) {
        const cands16 c = cands16_at(p, i1, base);
        const int32x4_t c0 = vaddq_s32(vld1q_s32(l4), vdupq_n_s32(128 * i1 + 4 * base));
        for (int k = 0; k < 4; ++k) {
            const int32x4_t ck = vaddq_s32(c0, vdupq_n_s32(k));
            const uint32x4_t live = vandq_u32(lanes_below(17 - base), vcltq_s32(ck, vdupq_n_s32(limit)));
            const float32x4_t r = scores(live, c.x[k], c.q[k]);
            rm = vmaxq_f32(rm, r);
            if (best) {
                const uint32x4_t up = vcgtq_f32(r, *best);
                *best = vbslq_f32(up, r, *best);
                *code = vbslq_s32(up, ck, *code);
            }
        }
    }
    return rm;
}

#define IQ1_LANES 4
#define VF float32x4_t
#define VI int32x4_t
static inline float32x4_t vf_zero(void) { return vdupq_n_f32(0.0f); }
static inline int32x4_t vi_zero(void) { return vdupq_n_s32(0); }
static inline float32x4_t vf_max(float32x4_t a, float32x4_t b) { return vmaxq_f32(a, b); }
static inline float vf_hmax(float32x4_t v) { return vmaxvq_f32(v); }
#include "quantize_restart-inl.h"

static int best_neighbour(const uint16_t *codes, int count, const float e[8][4]) {
    /* term j of digit d: bytes 4 d .. 4 d + 3 of the register holding e[j] */
    uint8x16_t tab[8];
    for (int j = 0; j < 8; ++j) tab[j] = vreinterpretq_u8_f32(vld1q_f32(e[j]));
    const uint32x4_t three = vdupq_n_u32(3), bytes = vdupq_n_u32(0x03020100u);
    float32x4_t best = vdupq_n_f32(FLT_MAX);
    int32x4_t best_n = vdupq_n_s32(0);
    const int32_t l[4] = { 0, 1, 2, 3 };
    for (int n0 = 0; n0 < count; n0 += 4) {
        const uint32x4_t c = vmovl_u16(vld1_u16(codes + n0));
        float32x4_t d2 = vdupq_n_f32(0.0f);
        for (int j = 0; j < 8; ++j) {
            const uint32x4_t digit = vandq_u32(vshlq_u32(c, vdupq_n_s32(-2 * j)), three);
            const uint8x16_t idx = vreinterpretq_u8_u32(vmlaq_n_u32(bytes, digit, 0x04040404u));
            d2 = vaddq_f32(d2, vreinterpretq_f32_u8(vqtbl1q_u8(tab[j], idx)));
        }
        const uint32x4_t lt = vandq_u32(lanes_below(count - n0), vcltq_f32(d2, best));
        best = vbslq_f32(lt, d2, best);
        best_n = vbslq_s32(lt, vaddq_s32(vld1q_s32(l), vdupq_n_s32(n0)), best_n);
    }
    const float top = vminvq_f32(best);
    if (!(top < FLT_MAX)) return 0;
    return first_at(best, top, best_n);
}

/* iq1_solver_neon and its functions iq1_quantize_grid_index_neon, iq1_quantize_project32_neon,
 * iq1_quantize_solve32_neon, iq1_quantize_solve32_guarded_neon, iq1_quantize_project16_neon,
 * iq1_quantize_solve16_neon, iq1_quantize_solve16_guarded_neon */
#define IQ1_VARIANT neon
#include "quantize_solve-inl.h"
#undef IQ1_VARIANT

int iq1_quantize_iq1_s_neon(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_s_with(&iq1_solver_neon, x, k, r0, r1, imatrix, w);
}
int iq1_quantize_iq1_m_neon(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_m_with(&iq1_solver_neon, x, k, r0, r1, imatrix, w);
}
int iq1_quantize_iq1_s_r4_neon(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_s_r4_with(&iq1_solver_neon, x, k, r0, r1, imatrix, w);
}
int iq1_quantize_iq1_m_r4_neon(IQ1_QUANTIZE_ARGS) {
    return iq1_quantize_iq1_m_r4_with(&iq1_solver_neon, x, k, r0, r1, imatrix, w);
}
#endif
