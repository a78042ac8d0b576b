/* Kernel-level matmul timing without Python: one backend's matmul on random valid weights, checked
 * against the portable C backend, then timed (minimum over repetitions, one thread).
 *   kernel_bench TYPE M K N [REPS] [BACKEND]     TYPE: iq1_s iq1_m iq1_s_r4 iq1_m_r4; BACKEND: avx2 ...
 * Prints the time and the cycles per group of 8 weights and row at a nominal 3.2 GHz. The machines this
 * runs on are noisy: compare variants in alternating runs (docs/PERFORMANCE.md). Build: build.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common.h"
#include "cpu_features.h"

#define TYPE_NAME_(T, S, name, ...) #name,
static const char *type_names[IQ1_NTYPES] = { IQ1_FORMATS(TYPE_NAME_) };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const iq1_backend *find_backend(const char *name) {
#define BACKEND_LIST_(isa) iq1_backends_##isa,
    const iq1_backend *const *lists[] = { IQ1_ISAS(BACKEND_LIST_) };
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; ++l)
        for (const iq1_backend *const *p = lists[l]; *p; ++p)
            if (!strcmp((*p)->name, name)) return *p;
    return NULL;
}

/* random bytes with every fp16 scale set to 0.01 (finite results) */
static void make_weights(iq1_type t, int64_t m, int64_t k, uint8_t *w) {
    const int64_t gb = iq1_group_bytes(t, k), bytes = (m / iq1_rows_per_group(t)) * gb;
    for (int64_t i = 0; i < bytes; ++i) w[i] = (uint8_t)rnd();
    const uint16_t h = iq1_fp32_to_fp16(0.01f);
    if (t == IQ1_S)
        for (int64_t b = 0; b < bytes / IQ1S_BLOCK_BYTES; ++b) memcpy(w + IQ1S_BLOCK_BYTES * b, &h, 2);
    if (t == IQ1_M)
        for (int64_t b = 0; b < bytes / IQ1M_BLOCK_BYTES; ++b)
            for (int j = 0; j < 4; ++j) {
                uint8_t *p = w + IQ1M_BLOCK_BYTES * b + 48 + 2 * j;
                uint16_t s;
                memcpy(&s, p, 2);
                s = (uint16_t)((s & 0x0fff) | (((h >> (4 * j)) & 15) << 12));
                memcpy(p, &s, 2);
            }
    if (t == IQ1_S_R4 || t == IQ1_M_R4)
        for (int64_t g = 0; g < m / 4; ++g)
            for (int r = 0; r < 4; ++r) memcpy(w + g * gb + 2 * r, &h, 2);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s TYPE M K N [REPS] [BACKEND]\n", argv[0]);
        return 2;
    }
    int t = -1;
    for (int i = 0; i < IQ1_NTYPES; ++i)
        if (!strcmp(argv[1], type_names[i])) t = i;
    const int64_t m = atoll(argv[2]), k = atoll(argv[3]), n = atoll(argv[4]);
    const int reps = argc > 5 ? atoi(argv[5]) : 20;
    const char *name = argc > 6 ? argv[6] : "avx2";
    const iq1_backend *B = find_backend(name), *G = iq1_backends_generic[0];
    if (t < 0 || m <= 0 || k <= 0 || n <= 0 || k % 256 || m % 4 || reps < 1 || !B) {
        fprintf(stderr, "bad arguments (K a multiple of 256, M of 4, a compiled backend)\n");
        return 2;
    }
    if (!iq1_cpu_supports_all(B->requires)) {
        fprintf(stderr, "this CPU cannot run %s (needs %s)\n", name, B->requires);
        return 2;
    }
    const iq1_type type = (iq1_type)t;
    uint8_t *w = malloc((size_t)((m / iq1_rows_per_group(type)) * iq1_group_bytes(type, k)));
    float *xf = malloc(sizeof(float) * n * k), *d = malloc(sizeof(float) * n * (k / 128));
    int16_t *bs = malloc(2 * n * (k / 32));
    int8_t *qs = malloc(n * k);
    float *y = malloc(sizeof(float) * n * m), *ref = malloc(sizeof(float) * n * m);
    if (!w || !xf || !d || !bs || !qs || !y || !ref) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    make_weights(type, m, k, w);
    for (int64_t i = 0; i < n * k; ++i) xf[i] = (float)((int64_t)(rnd() % 2001) - 1000) / 1000.0f;
    for (int64_t c = 0; c < n; ++c) G->quantize_act(xf + c * k, k, d + c * (k / 128), bs + c * (k / 32), qs + c * k);
    const iq1_act act = { d, bs, qs, n, k };
    G->matmul[type](w, k, 0, m, &act, 0, n, ref, m);
    B->matmul[type](w, k, 0, m, &act, 0, n, y, m);
    double worst = 0;
    for (int64_t i = 0; i < n * m; ++i) {
        const double e = fabs((double)y[i] - ref[i]) / (fabs(ref[i]) + 1e-3);
        if (e > worst) worst = e;
    }
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        const double t0 = now();
        B->matmul[type](w, k, 0, m, &act, 0, n, y, m);
        const double dt = now() - t0;
        if (dt < best) best = dt;
    }
    printf(
        "%s %s m=%lld k=%lld n=%lld: %.3f ms  %.2f cycles per group-row at 3.2 GHz  (max rel. diff to generic %.1e)\n",
        name, type_names[type], (long long)m, (long long)k, (long long)n, best * 1e3,
        best * 3.2e9 / ((double)m * k / 8.0), worst);
    return worst < 1e-2 ? 0 : 1;
}
