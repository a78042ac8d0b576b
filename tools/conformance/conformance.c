/* Cross-backend conformance driver: runs every kernel of every backend compiled into this binary
 * that the CPU can execute on shared test vectors and compares it with the portable C backend.
 *   quantize_act (float32, float16, bfloat16 input), dequantize, quantize: bit-exact;  matmul: within fp32 summation
 * tolerance,
 *   and nothing outside the requested tile is written.
 * Built natively (x86) and cross-compiled for aarch64 (run under qemu): see build.sh.
 * Prints one line per failure and a closing "N passed, N failed" line; exit status 1 on failure.
 *   conformance [--long]   --long adds large and odd shapes (n up to 513, k up to 33024; ~10x longer). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "cpu_features.h"
#include "kernel_plan.h"

#define TYPE_NAME_(T, S, name, ...) #name,
static const char *type_names[IQ1_NTYPES] = { IQ1_FORMATS(TYPE_NAME_) };
static int passed, failed;
static int long_mode; /* --long: large and odd shapes besides the default ones */

static void check(int ok, const char *what, const char *backend, const char *type, int64_t m, int64_t k, int64_t n) {
    if (ok) {
        ++passed;
        return;
    }
    ++failed;
    printf("FAIL %s backend=%s type=%s m=%lld k=%lld n=%lld\n", what, backend, type, (long long)m, (long long)k,
           (long long)n);
}

/* --- deterministic random numbers (xorshift64*) --- */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}
static float rnd_uniform(void) { return (float)((rnd() >> 40) * (1.0 / 16777216.0)); } /* [0, 1) */
static float rnd_normal(void) {
    float s = 0;
    for (int i = 0; i < 4; ++i) s += rnd_uniform();
    return (s - 2.0f) * 1.7320508f;
}
static uint16_t rnd_scale_fp16(void) { return iq1_fp32_to_fp16(0.001f + 2.0f * rnd_uniform()); }

/* --- weights: random valid bytes with finite scales; mode 1 = maximal scales, mode 2 = zero blocks --- */
static void make_weights(iq1_type t, int64_t m, int64_t k, uint8_t *w, int mode) {
    const int64_t bytes = (m / iq1_rows_per_group(t)) * iq1_group_bytes(t, k);
    for (int64_t i = 0; i < bytes; ++i) w[i] = mode == 2 ? 0 : (uint8_t)rnd();
    if (mode == 2) return;
    const uint16_t maxh = iq1_fp32_to_fp16(65504.0f);
    if (t == IQ1_S || t == IQ1_M) {
        const int bb = t == IQ1_S ? IQ1S_BLOCK_BYTES : IQ1M_BLOCK_BYTES;
        for (int64_t b = 0; b < bytes / bb; ++b) {
            uint8_t *blk = w + b * bb;
            uint16_t d = mode == 1 ? maxh : rnd_scale_fp16();
            if (t == IQ1_S) {
                memcpy(blk, &d, 2);
                if (mode == 1)
                    for (int ib = 0; ib < 8; ++ib) blk[34 + 2 * ib + 1] |= 0x70;
            } else {
                for (int j = 0; j < 4; ++j) {
                    uint16_t s;
                    memcpy(&s, blk + 48 + 2 * j, 2);
                    s = (uint16_t)((s & 0x0fff) | (((d >> (4 * j)) & 0xf) << 12));
                    if (mode == 1) s |= 0x0fff;
                    memcpy(blk + 48 + 2 * j, &s, 2);
                }
            }
        }
    } else {
        const int bb = t == IQ1_S_R4 ? IQ1S_R4_BLOCK_BYTES : IQ1M_R4_BLOCK_BYTES;
        const int64_t gb = iq1_group_bytes(t, k);
        for (int64_t g = 0; g < m / 4; ++g) {
            uint8_t *grp = w + g * gb;
            for (int r = 0; r < 4; ++r) {
                uint16_t d = mode == 1 ? maxh : rnd_scale_fp16();
                memcpy(grp + 2 * r, &d, 2);
            }
            if (mode == 1)
                for (int64_t ib = 0; ib < k / 32; ++ib) {
                    uint8_t *blk = grp + 8 + ib * bb;
                    if (t == IQ1_S_R4)
                        for (int r = 0; r < 4; ++r) blk[16 + 2 * r + 1] |= 0x70;
                    else memset(blk + 24, 0xff, 4);
                }
        }
    }
}

/* --- activations: normal values and, per 128-block, edge patterns --- */
static void make_activations(float *x, int64_t n, int64_t k, int edges) {
    for (int64_t i = 0; i < n * k; ++i) x[i] = rnd_normal();
    if (!edges) return;
    const int64_t nb = n * k / 128;
    for (int64_t b = 0; b < nb; ++b) {
        float *blk = x + 128 * b;
        switch (rnd() % 10) {
        case 0: memset(blk, 0, 128 * sizeof(float)); break; /* zero block */
        case 1:
            for (int i = 0; i < 128; ++i) blk[i] *= 1e6f;
            break; /* beyond fp16 */
        case 2:
            for (int i = 0; i < 128; ++i) blk[i] *= 1e30f;
            break;
        case 3:
            for (int i = 0; i < 128; ++i) blk[i] *= 1e-38f;
            break;                                /* tiny, prescaled path */
        case 4: blk[rnd() % 128] = -3e38f; break; /* one huge value */
        case 5:
            for (int i = 0; i < 128; ++i) blk[i] = (i % 2 ? 1.0f : -1.0f);
            break; /* exact +-127 */
        case 6:
            for (int i = 0; i < 128; ++i) blk[i] = (float)((int)(rnd() % 255) - 127);
            break;
        default: break;
        }
    }
}

typedef struct {
    float *d;
    int16_t *bsums;
    int8_t *qs;
} act_planes;

static act_planes alloc_act(int64_t n, int64_t k) {
    act_planes a = { malloc(sizeof(float) * n * k / 128), malloc(sizeof(int16_t) * n * k / 32), malloc(n * k) };
    return a;
}
static void free_act(act_planes a) {
    free(a.d);
    free(a.bsums);
    free(a.qs);
}

static void test_quantize_act(const iq1_backend *gen, const iq1_backend *b) {
    static const int64_t ks[] = { 128, 256, 1024, 16384 };
    for (int ki = 0; ki < (long_mode ? 4 : 3); ++ki) {
        const int64_t k = ks[ki], n = 7;
        float *x = malloc(sizeof(float) * n * k);
        make_activations(x, n, k, 1);
        if (ki == 0) {
            x[3] = NAN;
            x[k + 5] = INFINITY;
            x[2 * k] = -INFINITY;
        }
        act_planes ref = alloc_act(n, k), got = alloc_act(n, k);
        for (int64_t c = 0; c < n; ++c) {
            gen->quantize_act(x + c * k, k, ref.d + c * k / 128, ref.bsums + c * k / 32, ref.qs + c * k);
            b->quantize_act(x + c * k, k, got.d + c * k / 128, got.bsums + c * k / 32, got.qs + c * k);
        }
        int ok = !memcmp(ref.d, got.d, sizeof(float) * n * k / 128) &&
                 !memcmp(ref.bsums, got.bsums, sizeof(int16_t) * n * k / 32) && !memcmp(ref.qs, got.qs, n * k);
        for (int64_t i = 0; i < n * k; ++i) ok &= ref.qs[i] != -128;
        check(ok, "quantize_act", b->name, "-", 0, k, n);
        free(x);
        free_act(ref);
        free_act(got);
    }
}

/* 16-bit float activations, as raw bits: every one of the 65536 patterns in order (so whole blocks of
 * subnormals, of tiny values taking the prescaled path, of huge values, of NaN and Inf, and -0), then normal
 * values rounded from float32 with the edge patterns of make_activations. */
static void make_half_activations(iq1_half kind, uint16_t *h, int64_t n, int64_t k) {
    const int64_t all = n * k < 65536 ? n * k : 65536;
    for (int64_t i = 0; i < all; ++i) h[i] = (uint16_t)i;
    if (n * k == all) return;
    float *x = malloc(sizeof(float) * (n * k - all));
    make_activations(x, 1, n * k - all, 1);
    for (int64_t i = all; i < n * k; ++i) {
        const float f = x[i - all];
        /* bfloat16 by truncation keeps the test independent of any rounding rule */
        h[i] = kind == IQ1_F16 ? iq1_fp32_to_fp16(f) : (uint16_t)(iq1_f32_to_bits(f) >> 16);
    }
    free(x);
}

/* Each backend's 16-bit entry point against widening to float32 and the generic float32 quantizer. */
static void test_quantize_act_half(const iq1_backend *gen, const iq1_backend *b) {
    static const char *names[IQ1_NHALF] = { "quantize_act_f16", "quantize_act_bf16" };
    static const int64_t ks[] = { 128, 1024, 65536 };
    for (int kind = 0; kind < IQ1_NHALF; ++kind)
        for (int ki = 0; ki < 3; ++ki) {
            const int64_t k = ks[ki], n = ki == 2 ? 3 : 7;
            if (!b->quantize_act_half[kind]) {
                check(0, names[kind], b->name, "missing", 0, k, n);
                continue;
            }
            uint16_t *h = malloc(sizeof(uint16_t) * n * k);
            float *x = malloc(sizeof(float) * n * k);
            make_half_activations((iq1_half)kind, h, n, k);
            for (int64_t i = 0; i < n * k; ++i)
                x[i] = kind == IQ1_F16 ? iq1_fp16_to_fp32(h[i]) : iq1_bf16_to_fp32(h[i]);
            act_planes ref = alloc_act(n, k), got = alloc_act(n, k);
            for (int64_t c = 0; c < n; ++c) {
                gen->quantize_act(x + c * k, k, ref.d + c * k / 128, ref.bsums + c * k / 32, ref.qs + c * k);
                b->quantize_act_half[kind](h + c * k, k, got.d + c * k / 128, got.bsums + c * k / 32, got.qs + c * k);
            }
            int ok = !memcmp(ref.d, got.d, sizeof(float) * n * k / 128) &&
                     !memcmp(ref.bsums, got.bsums, sizeof(int16_t) * n * k / 32) && !memcmp(ref.qs, got.qs, n * k);
            check(ok, names[kind], b->name, "-", 0, k, n);
            free(h);
            free(x);
            free_act(ref);
            free_act(got);
        }
}

static int64_t min_k(iq1_type t) { return (t == IQ1_S || t == IQ1_M) ? 256 : 128; }

static void test_dequantize(const iq1_backend *gen, const iq1_backend *b, iq1_type t) {
    static const int64_t ms[] = { 4, 8, 12, 20 }, kmul[] = { 1, 2, 3, 16, 64 };
    for (int mi = 0; mi < 4; ++mi)
        for (int ki = 0; ki < (long_mode ? 5 : 4); ++ki)
            for (int mode = 0; mode < 3; ++mode) {
                const int64_t m = ms[mi], k = min_k(t) * kmul[ki];
                const int64_t bytes = (m / iq1_rows_per_group(t)) * iq1_group_bytes(t, k);
                uint8_t *w = malloc(bytes + 1);
                make_weights(t, m, k, w + 1, mode); /* +1: deliberately unaligned */
                float *ref = malloc(sizeof(float) * m * k), *got = malloc(sizeof(float) * m * k);
                for (int64_t i = 0; i < m * k; ++i) got[i] = -12345.0f;
                gen->dequantize[t](w + 1, k, 0, m, ref);
                const int64_t r0 = 4, r1 = m; /* a sub-range: rows before stay */
                b->dequantize[t](w + 1, k, r0, r1, got);
                int ok = !memcmp(ref + r0 * k, got + r0 * k, sizeof(float) * (r1 - r0) * k);
                for (int64_t i = 0; i < r0 * k; ++i) ok &= got[i] == -12345.0f;
                check(ok, "dequantize", b->name, type_names[t], m, k, 0);
                free(w);
                free(ref);
                free(got);
            }
}

/* One matmul shape: weights (mode 0 random, 1 maximal scales, 2 zero), activations (edge patterns if
 * edges), three calls each compared with the generic kernel: an interior tile [r0, r1) x [c0, c1) whose
 * both ends are inside the matrix, a tile reaching the end, and the full matrix. */
static void test_matmul_shape(const iq1_backend *gen, const iq1_backend *b, iq1_type t, int64_t m, int64_t k, int64_t n,
                              int mode, int edges) {
    const int64_t nb = k / 128;
    const int64_t bytes = (m / iq1_rows_per_group(t)) * iq1_group_bytes(t, k);
    uint8_t *w = malloc(bytes + 3);
    make_weights(t, m, k, w + 3, mode); /* +3: deliberately unaligned */
    float *x = malloc(sizeof(float) * n * k);
    make_activations(x, n, k, edges);
    act_planes a = alloc_act(n, k);
    for (int64_t c = 0; c < n; ++c) gen->quantize_act(x + c * k, k, a.d + c * nb, a.bsums + c * k / 32, a.qs + c * k);
    iq1_act act = { a.d, a.bsums, a.qs, n, k };
    /* bound for the tolerance: sum |W| |X| in double from the dequantized operands */
    float *wd = malloc(sizeof(float) * m * k);
    gen->dequantize[t](w + 3, k, 0, m, wd);
    double *bound = calloc(m * n, sizeof(double));
    for (int64_t c = 0; c < n; ++c)
        for (int64_t r = 0; r < m; ++r) {
            double s = 0;
            for (int64_t i = 0; i < k; ++i)
                s += fabs((double)wd[r * k + i]) * fabs((double)a.d[c * nb + i / 128] * a.qs[c * k + i]);
            bound[c * m + r] = s;
        }
    float *ref = malloc(sizeof(float) * m * n), *got = malloc(sizeof(float) * m * n);
    const uint32_t sentinel = 0x7fbadbadu;
    for (int pass = 0; pass < 3; ++pass) {
        int64_t rr0 = 0, rr1 = m, cc0 = 0, cc1 = n;
        if (pass < 2) {
            rr0 = m > 4 ? 4 : 0;
            cc0 = n > 1 ? 1 : 0;
        }
        if (pass == 0) {
            rr1 = m > 8 ? m - 4 : m;
            cc1 = n > 2 ? n - 1 : n;
        }
        for (int64_t i = 0; i < m * n; ++i) {
            memcpy(&ref[i], &sentinel, 4);
            memcpy(&got[i], &sentinel, 4);
        }
        gen->matmul[t](w + 3, k, rr0, rr1, &act, cc0, cc1, ref, m);
        b->matmul[t](w + 3, k, rr0, rr1, &act, cc0, cc1, got, m);
        int ok = 1;
        for (int64_t c = 0; c < n; ++c)
            for (int64_t r = 0; r < m; ++r) {
                const int64_t i = c * m + r;
                uint32_t bits;
                memcpy(&bits, &got[i], 4);
                if (r < rr0 || r >= rr1 || c < cc0 || c >= cc1) {
                    ok &= bits == sentinel;
                    continue;
                }
                /* within a factor 100 of FLT_MAX, whether a partial sum overflows depends on the
             * summation order: only finite-vs-finite agreement is checked there */
                if (bound[i] > 3.4e36 && (!isfinite(got[i]) || !isfinite(ref[i]))) continue;
                const double tol = 4e-7 * (double)(nb + 4) * bound[i] + 1e-30;
                const double diff = fabs((double)got[i] - (double)ref[i]);
                ok &= isfinite(got[i]) == isfinite(ref[i]) && (!isfinite(ref[i]) || diff <= tol);
            }
        check(ok,
              pass == 2 ? "matmul"
              : pass    ? "matmul tile"
                        : "matmul interior tile",
              b->name, type_names[t], m, k, n);
    }
    free(w);
    free(x);
    free_act(a);
    free(wd);
    free(bound);
    free(ref);
    free(got);
}

static void test_matmul(const iq1_backend *gen, const iq1_backend *b, iq1_type t) {
    static const int64_t ms[] = { 4, 16, 36, 100 };
    /* the kernel plans' column thresholds (core/kernel_plan.h), just below, at and above each: the rows GEMV
     * up to the columns GEMV's minimum, GEMV passes, the GEMM above the GEMV's maximum, the AMX tiles from
     * each format's minimum in blocks */
    static const int64_t ns[] = {
        1,
        IQ1_GEMV_COLUMNS_MIN - 1,
        IQ1_GEMV_COLUMNS_MIN,
        IQ1_GEMV_COLUMNS_MIN + 1,
        5,
        6,
        IQ1_GEMV_PASS_COLS - 1,
        IQ1_GEMV_PASS_COLS,
        IQ1_GEMV_PASS_COLS + 1,
        13,
        IQ1_GEMV_MAX_COLS,
        IQ1_GEMV_MAX_COLS + 1,
        IQ1_AVX512_GEMV_MAX_COLS_IQ1_S, /* the S types' AVX-512 GEMV maximum (IQ1_M_R4's is IQ1_AMX_BLOCK_COLS) */
        IQ1_AVX512_GEMV_MAX_COLS_IQ1_S + 1,
        IQ1_AMX_MIN_COLS_IQ1_S, /* = IQ1_M's (asserted below); one below it is IQ1_GEMV_MAX_COLS + 1 */
        IQ1_AMX_MIN_COLS_IQ1_S + 1,
        IQ1_AMX_MIN_COLS_IQ1_M_R4 - 1,
        IQ1_AMX_MIN_COLS_IQ1_M_R4,
        IQ1_AMX_MIN_COLS_IQ1_S_R4 - 1,
        IQ1_AMX_MIN_COLS_IQ1_S_R4,
        IQ1_AMX_BLOCK_COLS,
        IQ1_AMX_BLOCK_COLS + 1,
        2 * IQ1_AMX_BLOCK_COLS,
        3 * IQ1_AMX_BLOCK_COLS - 1,
        3 * IQ1_AMX_BLOCK_COLS,
    };
    _Static_assert(IQ1_AMX_MIN_COLS_IQ1_M == IQ1_AMX_MIN_COLS_IQ1_S, "add IQ1_M's minimum to ns");
    _Static_assert(IQ1_AVX2_GEMV_MAX_COLS == IQ1_GEMV_PASS_COLS, "add the plain AVX2 GEMV's maximum to ns");
    _Static_assert(IQ1_AMX_MIN_COLS_IQ1_S == IQ1_GEMV_MAX_COLS + 2, "add IQ1_S's minimum - 1 to ns");
    _Static_assert(IQ1_AVX512_GEMV_MAX_COLS_IQ1_S_R4 == IQ1_AVX512_GEMV_MAX_COLS_IQ1_S &&
                       IQ1_AVX512_GEMV_MAX_COLS_IQ1_M == IQ1_GEMV_MAX_COLS &&
                       IQ1_AVX512_GEMV_MAX_COLS_IQ1_M_R4 == IQ1_AMX_BLOCK_COLS,
                   "add the AVX-512 GEMV's maxima to ns");
    static const int64_t kmul[] = { 1, 3, 8 };
    const int nns = (int)(sizeof ns / sizeof ns[0]);
    for (int mi = 0; mi < 4; ++mi)
        for (int ki = 0; ki < 3; ++ki)
            for (int ni = 0; ni < nns; ++ni) {
                const int mode = (int)(rnd() % 4) == 0 ? 1 : ((int)(rnd() % 8) == 0 ? 2 : 0);
                test_matmul_shape(gen, b, t, ms[mi], min_k(t) * kmul[ki], ns[ni], mode, ni % 2);
            }
    if (!long_mode) return;
    /* m, k, n: odd n up to 513, k up to 33024 (rounded up to the format's block multiple) */
    static const int64_t shapes[][3] = {
        { 4, 16384, 1 },   { 260, 16384, 1 }, { 8, 16384, 513 }, { 12, 4096, 257 }, { 132, 2048, 127 },
        { 36, 1152, 511 }, { 68, 384, 255 },  { 516, 256, 65 },  { 20, 8192, 99 },  { 4, 128, 513 },
        { 12, 20480, 2 },  { 8, 33024, 1 },  /* k over the AVX-512 GEMV's pass length (16384) */
        { 52, 4224, 96 },  { 36, 8320, 64 }, /* k past the AMX strip (4096), 32-row strips and their ends */
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; ++s) {
        const int64_t k = (shapes[s][1] + min_k(t) - 1) / min_k(t) * min_k(t);
        test_matmul_shape(gen, b, t, shapes[s][0], k, shapes[s][2], (int)(s % 3 == 2), (int)(s % 2));
    }
}

/* --- weight quantizers: bytes equal to the portable C for data that takes every path of the searches ---
 * data kinds: 0 normal, 1 heavy tails (cubes), 2 values on a coarse lattice (exact and near ties between
 * splits), 3 constant and ternary blocks, 4 per-block scales from 1e-30 to 1e30 with zero blocks and single
 * non-zeros; importance kinds: none, uniform with 5 % zeros, every 7th column only, 10^U(-25, 5), 1e-21 */
static void make_weights_to_quantize(float *x, int64_t n, int kind) {
    for (int64_t i = 0; i < n; ++i) {
        const float g = rnd_normal();
        x[i] = kind == 1 ? g * g * g : kind == 2 ? (float)(int)(2.0f * g) * 0.5f : g;
    }
    for (int64_t b = 0; b < n / 32; ++b) {
        float *blk = x + 32 * b;
        if (kind == 3) {
            const float c = 0.37f * (1 + (int)(rnd() % 3));
            for (int i = 0; i < 32; ++i) blk[i] = b % 2 ? c : c * (float)((int)(rnd() % 3) - 1);
        } else if (kind == 4) {
            static const float scales[] = { 0.0f, 1e-30f, 1e-20f, 1e-7f, 1e-3f, 1.0f, 1e4f, 1e30f };
            const float s = scales[rnd() % 8];
            for (int i = 0; i < 32; ++i) blk[i] *= s;
            if (rnd() % 5 == 0) {
                memset(blk, 0, 32 * sizeof(float));
                blk[rnd() % 32] = s > 0 ? -2.5f * s : 1e-38f;
            }
        }
    }
}

static void make_importance(float *im, int64_t k, int kind) {
    for (int64_t i = 0; i < k; ++i)
        im[i] = kind == 1   ? (rnd_uniform() < 0.05f ? 0.0f : rnd_uniform() * 2)
                : kind == 2 ? (i % 7 == 0 ? 1.0f : 0.0f)
                : kind == 3 ? powf(10.0f, -25.0f + 30.0f * rnd_uniform())
                            : 1e-21f;
}

static void test_quantize(const iq1_backend *gen, const iq1_backend *b, iq1_type t) {
    if (!gen->quantize[t] || !b->quantize[t]) return;
    static const int64_t ms[] = { 4, 8 }, ks[] = { 256, 512, 1024 };
    const int nshapes = long_mode ? 3 : 2;
    for (int si = 0; si < nshapes; ++si)
        for (int kind = 0; kind < 5; ++kind)
            for (int imk = 0; imk < 5; ++imk) {
                const int64_t m = ms[si % 2], k = ks[si];
                const int64_t bytes = (m / iq1_rows_per_group(t)) * iq1_group_bytes(t, k);
                float *x = malloc(sizeof(float) * m * k), *im = malloc(sizeof(float) * k);
                make_weights_to_quantize(x, m * k, kind);
                for (int64_t i = 0; i < 32; ++i) x[i] = 0.0f; /* a zero block */
                make_importance(im, k, imk);
                uint8_t *ref = calloc(bytes, 1), *got = calloc(bytes, 1);
                int e1 = gen->quantize[t](x, k, 0, m, imk ? im : 0, ref);
                int e2 = b->quantize[t](x, k, 0, m, imk ? im : 0, got);
                check(e1 == 0 && e2 == 0 && !memcmp(ref, got, bytes), "quantize", b->name, type_names[t], m, k,
                      10 * kind + imk);
                free(x);
                free(im);
                free(ref);
                free(got);
            }
}

/* The space-separated flags of `requires` this CPU lacks, into buf. */
static const char *missing_flags(const char *requires, char *buf, size_t size) {
    char flag[32];
    size_t used = 0;
    buf[0] = 0;
    for (const char *p = requires; *p;) {
        while (*p == ' ') ++p;
        size_t len = strcspn(p, " ");
        if (len && len < sizeof flag) {
            memcpy(flag, p, len);
            flag[len] = 0;
            if (iq1_cpu_supports(flag) != 1 && used + len + 2 < size)
                used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? " " : "", flag);
        }
        p += len;
    }
    return buf;
}

/* every test of one backend, if this CPU runs it */
static void run_backend(const iq1_backend *gen, const iq1_backend *b) {
    if (!iq1_cpu_supports_all(b->requires)) {
        char buf[256];
        printf("skip %s (CPU lacks: %s)\n", b->name, missing_flags(b->requires, buf, sizeof buf));
        return;
    }
    int before = failed;
    test_quantize_act(gen, b);
    test_quantize_act_half(gen, b);
    for (int t = 0; t < IQ1_NTYPES; ++t) {
        test_dequantize(gen, b, (iq1_type)t);
        test_matmul(gen, b, (iq1_type)t);
        test_quantize(gen, b, (iq1_type)t);
    }
    printf("%s: %s\n", b->name, failed == before ? "ok" : "FAILED");
}

#if defined(__x86_64__)
#include "kernels_avx512.h"
/* The avx512_amx backend's few-column plan (avx512_vnni_gather: the gathered GEMVs) needs no tiles: checked as a
 * backend of its own wherever avx512_vnni runs (under SIMDe too), not only on the AMX CPUs */
static iq1_backend vnni_gather_backend(const iq1_backend *vnni) {
    iq1_backend g = *vnni;
    g.name = "avx512_vnni_gather";
    g.matmul[IQ1_S] = iq1_matmul_iq1_s_avx512_vnni_gather;
    g.matmul[IQ1_M] = iq1_matmul_iq1_m_avx512_vnni_gather;
    g.matmul[IQ1_S_R4] = iq1_matmul_iq1_s_r4_avx512_vnni_gather;
    g.matmul[IQ1_M_R4] = iq1_matmul_iq1_m_r4_avx512_vnni_gather;
    return g;
}
#endif

int main(int argc, char **argv) {
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--long")) long_mode = 1;
        else {
            fprintf(stderr, "usage: %s [--long]\n", argv[0]);
            return 2;
        }
    }
#define BACKEND_LIST_(isa) iq1_backends_##isa,
    const iq1_backend *const *lists[] = { IQ1_ISAS(BACKEND_LIST_) };
    const iq1_backend *gen = iq1_backends_generic[0];
    for (int li = 0; li < 4; ++li)
        for (const iq1_backend *const *p = lists[li]; *p; ++p) {
            run_backend(gen, *p);
#if defined(__x86_64__)
            if (!strcmp((*p)->name, "avx512_vnni")) {
                const iq1_backend g = vnni_gather_backend(*p);
                run_backend(gen, &g);
            }
#endif
        }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
