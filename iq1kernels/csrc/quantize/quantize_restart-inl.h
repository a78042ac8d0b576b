/* Re-included body: the split searches with proven restarts (docs/QUANTIZATION.md, "The search kernels per
 * ISA"), shared by quantize_search_avx2.c, _avx512.c and _neon.c.
 *   Defines  (static) search_splits32 and search_splits16, the kernels quantize_solve-inl.h expects, and
 *            their helpers lane_bits, run32, passing16, run16; no macros.
 *   Expects  from the including file the vector types and steps:
 *   IQ1_LANES; VF / VI: float / int32 vectors of IQ1_LANES lanes; vf_zero(), vi_zero(), vf_max(a, b),
 *   vf_hmax(v); first_at(best, top, code): smallest code where best == top;
 *   cands32 / cands16 with a[] (sqx^2) and q[] (sq2) vectors, cands32_at / cands16_at(p, i1, base);
 *   passing(live, a, q, lo): bits of the lanes in `live` passing the scalar test;
 *   row32_estimates / row16_estimates(p, i1, limit, best, code): pass 1 over row i1 (upper bounds of the
 *   scores with sequence position < limit, divided by IQ1_EST_MARGIN), lane-wise maxima returned;
 *   row_may_pass(full, lo): whether a row with those maxima can hold a split that passes.
 * Pass 1 picks the split W with the largest estimate; if the estimates before W prove a restart there
 * (ties_restart_at), pass 2 runs the scalar search's sequence from W on, where the tie bound is already high
 * and almost every step is one vector test; else the same with the best estimate before W; else all. */

static inline unsigned lane_bits(int n) { return n >= IQ1_LANES ? (1u << IQ1_LANES) - 1 : (1u << n) - 1; }

/* the scalar search from split (i1_0, i2_0) on, IQ1_LANES splits per vector test */
static void run32(const split32_sums *p, tie_list *tl, int i1_0, int i2_0, const VF *full) {
    for (int i1 = i1_0; i1 <= 32; ++i1) {
        if (!row_may_pass(full[i1], tl->lo)) continue; /* no split of this row passes */
        for (int base = i1 == i1_0 ? i2_0 : i1; base <= 32; base += IQ1_LANES) {
            const unsigned valid = lane_bits(33 - base);
            const cands32 c = cands32_at(p, i1, base);
            unsigned m = passing(valid, c.a[0], c.q[0], tl->lo) | passing(valid, c.a[1], c.q[1], tl->lo);
            while (m) {
                const int l = __builtin_ctz(m);
                split32_pair(p, i1, base + l, 0, tl);
                const unsigned rest = valid & ~((2u << l) - 1);
                m = passing(rest, c.a[0], c.q[0], tl->lo) | passing(rest, c.a[1], c.q[1], tl->lo);
            }
        }
    }
}

/* restart at the best estimate, else at the best estimate before it; sequence position i1 * 128 + i2 * 2 + s */
static void search_splits32(const split32_sums *p, tie_list *tl) {
    VF full[33], best = vf_zero(); /* full[i1]: lane-wise maxima of row i1 */
    VI code = vi_zero();
    for (int i1 = 0; i1 <= 32; ++i1) full[i1] = row32_estimates(p, i1, 1 << 30, &best, &code);
    int limit = 1 << 30;
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (attempt) { /* the best before the first choice */
            best = vf_zero();
            code = vi_zero();
            for (int i1 = 0; i1 <= limit >> 7; ++i1) row32_estimates(p, i1, limit, &best, &code);
        }
        const float top = vf_hmax(best);
        if (!(top > 0)) break;
        const int w = first_at(best, top, code);
        const int i1w = w >> 7, i2w = (w >> 1) & 63, sw = w & 1;
        VF before = row32_estimates(p, i1w, w, 0, 0);
        for (int i1 = 0; i1 < i1w; ++i1) before = vf_max(before, full[i1]);
        const float pm = vf_hmax(before) * IQ1_EST_MARGIN;
        const float sqx = p->X1[sw][i1w] - p->SX[i2w], sq2 = p->W1[sw][i1w] - IQ1_LEV_B[sw] * p->SW[i2w];
        if (ties_restart_at(tl, pm, sqx, sq2, i1w, i2w, sw)) {
            if (sw == 0) split32_pair(p, i1w, i2w, 1, tl);
            run32(p, tl, i1w, i2w + 1, full);
            return;
        }
        limit = w;
    }
    run32(p, tl, 0, 0, full);
}

static inline unsigned passing16(unsigned live, const cands16 *c, float lo) {
    unsigned m = 0;
    for (int k = 0; k < 4; ++k) m |= passing(live, c->a[k], c->q[k], lo);
    return m;
}

static void run16(const split16_sums *p, tie_list *tl, int i1_0, int i2_0, const VF *full) {
    for (int i1 = i1_0; i1 <= 16; ++i1) {
        if (!row_may_pass(full[i1], tl->lo)) continue; /* no split of this row passes */
        for (int base = i1 == i1_0 ? i2_0 : i1; base <= 16; base += IQ1_LANES) {
            const unsigned valid = lane_bits(17 - base);
            const cands16 c = cands16_at(p, i1, base);
            unsigned m = passing16(valid, &c, tl->lo);
            while (m) {
                const int l = __builtin_ctz(m);
                split16_pair(p, i1, base + l, tl);
                m = passing16(valid & ~((2u << l) - 1), &c, tl->lo);
            }
        }
    }
}

/* as search_splits32; sequence position i1 * 128 + i2 * 4 + k */
static void search_splits16(const split16_sums *p, tie_list *tl) {
    VF full[17], best = vf_zero();
    VI code = vi_zero();
    for (int i1 = 0; i1 <= 16; ++i1) full[i1] = row16_estimates(p, i1, 1 << 30, &best, &code);
    int limit = 1 << 30;
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (attempt) {
            best = vf_zero();
            code = vi_zero();
            for (int i1 = 0; i1 <= limit >> 7; ++i1) row16_estimates(p, i1, limit, &best, &code);
        }
        const float top = vf_hmax(best);
        if (!(top > 0)) break;
        const int w = first_at(best, top, code);
        const int i1w = w >> 7, i2w = (w >> 2) & 31, kw = w & 3;
        VF before = row16_estimates(p, i1w, w, 0, 0);
        for (int i1 = 0; i1 < i1w; ++i1) before = vf_max(before, full[i1]);
        const float pm = vf_hmax(before) * IQ1_EST_MARGIN;
        float sqx[4], sq2[4];
        split16_values(p, i1w, i2w, sqx, sq2);
        if (ties_restart_at(tl, pm, sqx[kw], sq2[kw], i1w, i2w, kw)) {
            split16_detail(sqx, sq2, kw + 1, i1w, i2w, tl);
            run16(p, tl, i1w, i2w + 1, full);
            return;
        }
        limit = w;
    }
    run16(p, tl, 0, 0, full);
}
