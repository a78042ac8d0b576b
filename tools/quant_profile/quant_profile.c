/* Where the quantizer's time goes: the block solvers of every ISA this CPU runs, on random N(0, 1) blocks
 * with importance exp(N(0, 1)) or none, as the drivers call them (IQ1_S: sigma2 of the block, IQ1_M: two
 * 16-halves with x^2 default weights). Prints per solver and block kind the time per 32 values (best of the
 * rounds) and the search counters per block (quantize_search.h: IQ1_CNT_*), as in docs/QUANTIZATION.md.
 *   quant_profile [blocks] [rounds] [solver]   (built by build.sh; solver: generic, avx2, avx512 or neon,
 *   default all; one solver and 1 round under valgrind --tool=callgrind give instructions per block) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cpu_features.h"
#include "quantize_search.h"

long long iq1_search_counts[IQ1_CNT_N];

#if defined(__x86_64__)
extern const iq1_solver iq1_solver_avx2, iq1_solver_avx512;
#endif
#if defined(__aarch64__)
extern const iq1_solver iq1_solver_neon;
#endif

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double rnd_uniform(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((rng_state * 0x2545f4914f6cdd1dull) >> 11) * (1.0 / 9007199254740992.0);
}
static float rnd_normal(void) { /* Box-Muller */
    const double u = 1.0 - rnd_uniform(), v = rnd_uniform();
    return (float)(sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v));
}
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
    const int nb = argc > 1 ? atoi(argv[1]) : 20000, rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (nb < 1 || rounds < 1) {
        fprintf(stderr, "usage: %s [blocks >= 1] [rounds >= 1]\n", argv[0]);
        return 2;
    }
    float *x = malloc(sizeof(float) * 32 * nb), *qw = malloc(sizeof(float) * 32 * nb), *s2 = malloc(sizeof(float) * nb);
    if (!x || !qw || !s2) return 1;
    for (int b = 0; b < nb; ++b) {
        float s = 0.0f;
        for (int i = 0; i < 32; ++i) {
            x[32 * b + i] = rnd_normal();
            qw[32 * b + i] = expf(rnd_normal());
            s += x[32 * b + i] * x[32 * b + i];
        }
        s2[b] = s / 32.0f;
    }
    const iq1_quant_tables *t = iq1_quant_tables_get();
    if (!t) return 1;
    struct {
        const char *name, *requires;
        const iq1_solver *sv;
    } solvers[] = {
        { "generic", "", &iq1_solver_generic },
#if defined(__x86_64__)
        { "avx2", "avx2 fma f16c", &iq1_solver_avx2 },
        { "avx512", "avx2 fma f16c avx512f avx512bw avx512vl avx512dq", &iq1_solver_avx512 },
#endif
#if defined(__aarch64__)
        { "neon", "asimd", &iq1_solver_neon },
#endif
    };
    static const char *cnt_names[IQ1_CNT_N] = { "searches", "scalar steps", "new bests",       "pushes",
                                                "restarts", "ties",         "off-grid groups", "-" };
    float sink = 0.0f;
    printf("%d blocks of 32 values, best of %d rounds; counters per block (IQ1_M: per 16-block)\n", nb, rounds);
    for (size_t v = 0; v < sizeof solvers / sizeof solvers[0]; ++v) {
        if (argc > 3 && strcmp(argv[3], solvers[v].name)) continue;
        if (!iq1_cpu_supports_all(solvers[v].requires)) {
            printf("%-8s skipped (CPU lacks %s)\n", solvers[v].name, solvers[v].requires);
            continue;
        }
        const iq1_solver *sv = solvers[v].sv;
        for (int kind = 0; kind < 4; ++kind) { /* IQ1_S / IQ1_M, without / with importance */
            const int m = kind >= 2, im = kind & 1;
            double best = 1e30;
            for (int r = 0; r < rounds; ++r) {
                memset(iq1_search_counts, 0, sizeof iq1_search_counts);
                const double t0 = now();
                for (int b = 0; b < nb; ++b) {
                    const float *xb = x + 32 * b, *wb = im ? qw + 32 * b : 0;
                    if (!m) sink += sv->solve32_guarded(t, xb, wb, 2.0f * s2[b]).scale;
                    else
                        for (int h = 0; h < 2; ++h)
                            sink +=
                                sv->solve16_guarded(t, xb + 16 * h, wb ? wb + 16 * h : 0, 1.5f * s2[b], !im, 1e-7f, 1)
                                    .scale;
                }
                const double dt = now() - t0;
                if (dt < best) best = dt;
            }
            const double per = m ? 2.0 * nb : nb;
            printf("%-8s %s %-9s %7.0f ns per 32 values |", solvers[v].name, m ? "IQ1_M" : "IQ1_S",
                   im ? "imatrix" : "none", best / nb * 1e9);
            for (int c = 1; c < IQ1_CNT_NEIGHBOURS; ++c) printf(" %s %.2f", cnt_names[c], iq1_search_counts[c] / per);
            printf(" restarted searches %.2f %%",
                   100.0 * iq1_search_counts[IQ1_CNT_RESTART] /
                       (double)(iq1_search_counts[IQ1_CNT_SEARCHES] ? iq1_search_counts[IQ1_CNT_SEARCHES] : 1));
            printf(" neighbours per off-grid group %.1f",
                   iq1_search_counts[IQ1_CNT_NEIGHBOURS] /
                       (double)(iq1_search_counts[IQ1_CNT_OFFGRID] ? iq1_search_counts[IQ1_CNT_OFFGRID] : 1));
            printf("\n");
        }
    }
    fprintf(stderr, "(checksum %g)\n", sink);
    free(x);
    free(qw);
    free(s2);
    return 0;
}
