/* The "avx512_amx" matmul of the four formats: the AMX int8 tile GEMM (gemm_amx.inc) from IQ1A_MIN_COLS
 * columns on, in blocks of 32 columns; the columns left over, and calls with fewer columns, go to the
 * avx512_vnni kernels (same bits). Runs only where the CPU has AMX-TILE / AMX-INT8 and Linux granted this
 * process the tile state (cpu_features.c asks for it; the backend is not offered otherwise). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,amx-tile,amx-int8")
#include <immintrin.h>
#include <stdlib.h>
#include "kernels_avx512.h"
#include "decode_row_avx512.h"

#define IQ1A_MIN_COLS 32                        /* from here the tiles beat the VNNI GEMM */
#define IQ1A_CHUNK_BLOCKS 32                    /* 128-blocks per strip: 4096 values, a 256 KB strip */

/* 32 rows x IQ1A_CHUNK_BLOCKS blocks of B tiles: [row block][block][half of the block][quad][row] */
typedef struct {
    int32_t P[2][IQ1A_CHUNK_BLOCKS][2][16][16];
    int32_t Q[2][IQ1A_CHUNK_BLOCKS][2][16][16];
    float D[IQ1A_CHUNK_BLOCKS][32];             /* dw of the 32 rows */
} __attribute__((aligned(64))) iq1a_strip;

/* palette 1, all eight tiles 16 rows x 64 bytes */
static void iq1a_tiles_on(void) {
    struct {
        uint8_t palette, start_row, reserved[14];
        uint16_t colsb[16];
        uint8_t rows[16];
    } __attribute__((aligned(64))) cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; ++t) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    _tile_loadconfig(&cfg);
}

/* The quants of columns [c0, c1) (a multiple of 32) and blocks [b0, b0 + nb) as A tiles: for each group of 32
 * columns, block and half block, the 16 x 64 bytes of its first 16 columns, then those of the next 16
 * (consecutive, so a tile load reads 1 KB in order: the quants' own row stride k, a power of two, put all
 * 16 rows of a tile in one cache set) */
static void iq1a_pack(const iq1_act *x, int64_t c0, int64_t c1, int64_t b0, int nb, int8_t *xt) {
    const int64_t k = x->k;
    for (int64_t c = c0; c < c1; ++c) {
        const int64_t g = (c - c0) / 32, cb = (c - c0) % 32 / 16, row = (c - c0) % 16;
        int8_t *dst = xt + g * nb * IQ1_QK_ACT * 32 + cb * 1024 + row * 64;
        const int8_t *src = x->qs + c * k + b0 * IQ1_QK_ACT;
        for (int h = 0; h < 2 * nb; ++h) memcpy(dst + h * 2048, src + 64 * h, 64);
    }
}

/* One row's 128-block as P (values 0..63 in lo, 64..127 in hi) and, per group g of 8 values, lane g of qv
 * = Q_g in each of the four bytes (the B layout repeats a byte over the quad it multiplies). */
static inline __attribute__((always_inline)) void iq1a_expand(const iq1z_prep *p, __m512i *lo, __m512i *hi,
                                                              __m512i *qv) {
    const __m512i sel = _mm512_set_epi16(3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2,
                                         1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m128i sc = _mm_load_si128((const __m128i *)p->sc);
    const __m512i sc8 = _mm512_castsi128_si512(_mm_slli_epi16(sc, 3));
    const __m512i s_lo = _mm512_permutexvar_epi16(sel, sc8);
    const __m512i s_hi = _mm512_permutexvar_epi16(_mm512_add_epi16(sel, _mm512_set1_epi16(4)), sc8);
    const __m512i both = _mm512_set1_epi16(0x0101);
    /* u <= 2 and 8 sc <= 120: the 16-bit product scales both bytes of a word without a carry between them */
    *lo = _mm512_sub_epi8(_mm512_mullo_epi16(iq1z_grid8(p->ix), s_lo), _mm512_mullo_epi16(s_lo, both));
    *hi = _mm512_sub_epi8(_mm512_mullo_epi16(iq1z_grid8(p->ix + 8), s_hi), _mm512_mullo_epi16(s_hi, both));
    /* sigma sc = coef + 8 sc, with the scale of group g = sc[g / 2] */
    const __m512i coef = _mm512_cvtepi16_epi32(_mm256_load_si256((const __m256i *)p->coef));
    const __m512i scg = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
                                                 _mm512_cvtepi16_epi32(_mm256_castsi128_si256(sc)));
    const __m512i q = _mm512_add_epi32(coef, _mm512_slli_epi32(scg, 3));
    *qv = _mm512_mullo_epi32(_mm512_and_si512(q, _mm512_set1_epi32(0xFF)), _mm512_set1_epi32(0x01010101));
}

/* The int32 tiles of one block, out[cb][rb], into the accumulators: acc = fma(isum, dw dx, acc) */
static inline __attribute__((always_inline)) void iq1a_accumulate(const int32_t out[2][2][16][16], const float *dw,
                                                                  const float *dx, int64_t nbx, int two,
                                                                  float acc[32][32]) {
    const __m512 dw0 = _mm512_load_ps(dw), dw1 = _mm512_load_ps(dw + 16);
    for (int cb = 0; cb < 2; ++cb)
        for (int i = 0; i < 16; ++i) {
            const int col = 16 * cb + i;
            const __m512 d = _mm512_set1_ps(dx[col * nbx]);
            _mm512_store_ps(acc[col], _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(out[cb][0][i])),
                                                      _mm512_mul_ps(dw0, d), _mm512_load_ps(acc[col])));
            if (two)
                _mm512_store_ps(acc[col] + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(out[cb][1][i])),
                                                               _mm512_mul_ps(dw1, d), _mm512_load_ps(acc[col] + 16)));
        }
}

/* 32 columns (two blocks of 16, interleaved by iq1a_pack) x up to 32 rows over the strip's nb blocks. Software
 * pipelined: the tiles of block j are stored while block j - 1 is added into y, so no load waits for a tile
 * store still in flight. */
static void iq1a_tile(const iq1a_strip *st, int nb, const int8_t *xt, const float *dx, int64_t nbx, int nr,
                            float *y, int64_t ldy, int add) {
    const int two = nr > 16;
    const __mmask16 m0 = (__mmask16)(nr >= 16 ? 0xFFFF : (1u << nr) - 1);
    const __mmask16 m1 = (__mmask16)(nr >= 32 ? 0xFFFF : nr > 16 ? (1u << (nr - 16)) - 1 : 0);
    int32_t out[2][2][2][16][16] __attribute__((aligned(64)));   /* [j & 1][column block][row block] */
    /* the sums of 32 columns x 32 rows stay here over the blocks: y's columns are ldy floats apart, often a
     * multiple of 4 KB, so that they all fall into one L1 set */
    float acc[32][32] __attribute__((aligned(64)));
    for (int col = 0; col < 32; ++col) {
        float *yc = y + col * ldy;
        _mm512_store_ps(acc[col], add ? _mm512_maskz_loadu_ps(m0, yc) : _mm512_setzero_ps());
        _mm512_store_ps(acc[col] + 16, add ? _mm512_maskz_loadu_ps(m1, yc + 16) : _mm512_setzero_ps());
    }
    for (int j = 0; j <= nb; ++j) {
        if (j < nb) {
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (int half = 0; half < 2; ++half) {
                const int8_t *xa = xt + ((int64_t)j * 2 + half) * 2 * 1024;
                _tile_loadd(4, xa, 64);
                _tile_loadd(5, xa + 1024, 64);
                _tile_loadd(6, st->P[0][j][half], 64);
                _tile_loadd(7, st->Q[0][j][half], 64);
                _tile_dpbssd(0, 4, 6);
                _tile_dpbssd(2, 5, 6);
                _tile_dpbssd(0, 4, 7);
                _tile_dpbssd(2, 5, 7);
                if (two) {
                    _tile_loadd(6, st->P[1][j][half], 64);
                    _tile_loadd(7, st->Q[1][j][half], 64);
                    _tile_dpbssd(1, 4, 6);
                    _tile_dpbssd(3, 5, 6);
                    _tile_dpbssd(1, 4, 7);
                    _tile_dpbssd(3, 5, 7);
                }
            }
            int32_t (*o)[2][16][16] = out[j & 1];
            _tile_stored(0, o[0][0], 64);
            _tile_stored(2, o[1][0], 64);
            if (two) {
                _tile_stored(1, o[0][1], 64);
                _tile_stored(3, o[1][1], 64);
            }
        }
        if (j > 0 && getenv("NOACC") == 0)
            iq1a_accumulate((const int32_t (*)[2][16][16])out[(j - 1) & 1], st->D[j - 1], dx + (j - 1), nbx, two, acc);
    }
    for (int col = 0; col < 32; ++col) {
        float *yc = y + col * ldy;
        _mm512_mask_storeu_ps(yc, m0, _mm512_load_ps(acc[col]));
        if (two) _mm512_mask_storeu_ps(yc + 16, m1, _mm512_load_ps(acc[col] + 16));
    }
}

#define IQ1A_DECODE iq1z_decode_iq1_s
#define IQ1A_NAME(n) iq1a_iq1_s_##n
#define IQ1A_FALLBACK iq1_matmul_iq1_s_avx512_vnni
#include "gemm_amx.inc"
#undef IQ1A_DECODE
#undef IQ1A_NAME
#undef IQ1A_FALLBACK

#define IQ1A_DECODE iq1z_decode_iq1_m
#define IQ1A_NAME(n) iq1a_iq1_m_##n
#define IQ1A_FALLBACK iq1_matmul_iq1_m_avx512_vnni
#include "gemm_amx.inc"
#undef IQ1A_DECODE
#undef IQ1A_NAME
#undef IQ1A_FALLBACK

#define IQ1A_DECODE iq1z_decode_iq1_s_r4
#define IQ1A_NAME(n) iq1a_iq1_s_r4_##n
#define IQ1A_FALLBACK iq1_matmul_iq1_s_r4_avx512_vnni
#include "gemm_amx.inc"
#undef IQ1A_DECODE
#undef IQ1A_NAME
#undef IQ1A_FALLBACK

#define IQ1A_DECODE iq1z_decode_iq1_m_r4
#define IQ1A_NAME(n) iq1a_iq1_m_r4_##n
#define IQ1A_FALLBACK iq1_matmul_iq1_m_r4_avx512_vnni
#include "gemm_amx.inc"
#undef IQ1A_DECODE
#undef IQ1A_NAME
#undef IQ1A_FALLBACK

void iq1_matmul_iq1_s_avx512_amx(IQ1_MATMUL_ARGS) { iq1a_iq1_s_run(w, k, r0, r1, x, c0, c1, y, ldy); }
void iq1_matmul_iq1_m_avx512_amx(IQ1_MATMUL_ARGS) { iq1a_iq1_m_run(w, k, r0, r1, x, c0, c1, y, ldy); }
void iq1_matmul_iq1_s_r4_avx512_amx(IQ1_MATMUL_ARGS) { iq1a_iq1_s_r4_run(w, k, r0, r1, x, c0, c1, y, ldy); }
void iq1_matmul_iq1_m_r4_avx512_amx(IQ1_MATMUL_ARGS) { iq1a_iq1_m_r4_run(w, k, r0, r1, x, c0, c1, y, ldy); }
#endif
