/* The "avx512_amx" matmul of the four formats: the AMX int8 tile GEMM (gemm_amx-inl.h) from
 * IQ1_AMX_MIN_COLS_<FORMAT> columns on, in blocks of IQ1_AMX_BLOCK_COLS columns (the last one padded;
 * core/kernel_plan.h); calls with fewer columns go to the avx512_vnni kernels (same bits). Runs only where the CPU
 * has AMX-TILE / AMX-INT8 and Linux granted this process the tile state (cpu_features.c asks for it; the backend is
 * not offered otherwise). */
#if defined(__x86_64__)
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,amx-tile,amx-int8")
#include <immintrin.h>
#include <stdlib.h>
#include "kernels_avx512.h"
#include "decode_row_avx512.h"
#include "kernel_plan.h"

#define IQ1_AMX_CHUNK_BLOCKS 32 /* 128-blocks per strip: 4096 values, a 256 KB strip */
_Static_assert(IQ1_AMX_BLOCK_COLS == 32, "a tile step is 32 rows x 2 B tiles of 16 columns");
#define IQ1_DECODE_ROW IQ1_NAME3(decode_row, IQ1_FORMAT, avx512)

/* 32 rows x IQ1_AMX_CHUNK_BLOCKS blocks of A tiles: [block][half of the block][row block][row][value] */
typedef struct {
    int8_t P[IQ1_AMX_CHUNK_BLOCKS][2][2][16][64];
    int8_t Q[IQ1_AMX_CHUNK_BLOCKS][2][2][16][64];
    float D[IQ1_AMX_CHUNK_BLOCKS][32]; /* dw of the 32 rows */
} __attribute__((aligned(64))) iq1_strip_avx512_amx;

/* palette 1, all eight tiles 16 rows x 64 bytes */
static void iq1_tiles_on_avx512_amx(void) {
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

/* Columns [c0, c1) and blocks [b0, b0 + nb) as B tiles, in groups of IQ1_AMX_BLOCK_COLS = 32 columns (the last one
 * padded with zero
 * columns): xt[group][block][half][column block] = 16 quads x (16 columns x 4 values), the VNNI layout (a 16 x 16
 * transpose of the columns' 64-value rows read as dwords); and the scales as dx[group][block][32]. */
static void iq1_pack_act_avx512_amx(const iq1_act *x, int64_t c0, int64_t c1, int64_t b0, int nb, int8_t *xt,
                                    float *dx) {
    const int64_t k = x->k, nbx = k / IQ1_QK_ACT, groups = (c1 - c0 + IQ1_AMX_BLOCK_COLS - 1) / IQ1_AMX_BLOCK_COLS;
    for (int64_t g = 0; g < groups; ++g) {
        for (int cb = 0; cb < 2; ++cb) {
            const int64_t cs = c0 + IQ1_AMX_BLOCK_COLS * g + 16 * cb;
            const int n = (int)(c1 - cs < 0 ? 0 : c1 - cs < 16 ? c1 - cs : 16);
            for (int j = 0; j < nb; ++j)
                for (int h = 0; h < 2; ++h) {
                    __m512i v[16];
                    for (int i = 0; i < 16; ++i)
                        v[i] = i < n ? _mm512_loadu_si512(x->qs + (cs + i) * k + (b0 + j) * IQ1_QK_ACT + 64 * h)
                                     : _mm512_setzero_si512();
                    iq1_transpose16_avx512(v);
                    int8_t *dst = xt + (((g * nb + j) * 2 + h) * 2 + cb) * 1024;
                    for (int q = 0; q < 16; ++q) _mm512_store_si512(dst + 64 * q, v[q]);
                }
        }
        for (int col = 0; col < IQ1_AMX_BLOCK_COLS; ++col) {
            const int64_t c = c0 + IQ1_AMX_BLOCK_COLS * g + col;
            for (int j = 0; j < nb; ++j)
                dx[(g * nb + j) * IQ1_AMX_BLOCK_COLS + col] = c < c1 ? x->d[c * nbx + b0 + j] : 0.0f;
        }
    }
}

/* One row's 128-block as A tile rows: P (values 0..63 in plo, 64..127 in phi) and Q (qlo, qhi: the group's
 * byte repeated over its 8 values). */
IQ1_INLINE void iq1_expand_row_avx512_amx(const iq1_row_prep_avx512 *p, __m512i *plo, __m512i *phi, __m512i *qlo,
                                          __m512i *qhi) {
    __m512i s_lo, s_hi;
    iq1_value_scales_avx512(_mm_slli_epi16(_mm_load_si128((const __m128i *)p->sc), 3), &s_lo, &s_hi);
    const __m512i both = _mm512_set1_epi16(0x0101);
    /* u <= 2 and 8 sc <= 120: the 16-bit product scales both bytes of a word without a carry between them */
    *plo = _mm512_sub_epi8(_mm512_mullo_epi16(iq1_grid8_avx512(p->ix), s_lo), _mm512_mullo_epi16(s_lo, both));
    *phi = _mm512_sub_epi8(_mm512_mullo_epi16(iq1_grid8_avx512(p->ix + 8), s_hi), _mm512_mullo_epi16(s_hi, both));
    /* sigma sc per group: 16 words, then 16 bytes in every lane */
    const __m128i qb = _mm256_cvtepi16_epi8(iq1_sigma_sc_avx512(p));
    const __m512i q4 = _mm512_broadcast_i32x4(qb);
    /* lane L of the low half: groups 2L, 2L + 1 (8 bytes each); of the high half: 8 + 2L, 9 + 2L */
    const __m512i rep =
        _mm512_set_epi64(0x0707070707070707, 0x0606060606060606, 0x0505050505050505, 0x0404040404040404,
                         0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0x0000000000000000);
    *qlo = _mm512_shuffle_epi8(q4, rep);
    *qhi = _mm512_shuffle_epi8(q4, _mm512_add_epi8(rep, _mm512_set1_epi8(8)));
}

/* 16 x 16 floats between the accumulator (rows of 16 columns) and y (columns of 16 rows) */
IQ1_INLINE void iq1_y_to_acc_avx512_amx(const float *y, int64_t ldy, __mmask16 rows, int nc, float (*acc)[32]) {
    __m512i v[16];
    for (int i = 0; i < 16; ++i)
        v[i] = i < nc ? _mm512_castps_si512(_mm512_maskz_loadu_ps(rows, y + i * ldy)) : _mm512_setzero_si512();
    iq1_transpose16_avx512(v);
    for (int r = 0; r < 16; ++r) _mm512_store_si512(acc[r], v[r]);
}

IQ1_INLINE void iq1_acc_to_y_avx512_amx(float (*acc)[32], float *y, int64_t ldy, __mmask16 rows, int nc) {
    __m512i v[16];
    for (int r = 0; r < 16; ++r) v[r] = _mm512_load_si512(acc[r]);
    iq1_transpose16_avx512(v);
    for (int i = 0; i < nc; ++i) _mm512_mask_storeu_ps(y + i * ldy, rows, _mm512_castsi512_ps(v[i]));
}

/* The int32 tiles of one block, out[row block][column block][row][column], into the accumulators:
 * acc = fma(isum, dw dx, acc) */
IQ1_INLINE void iq1_accumulate_avx512_amx(const int32_t out[2][2][16][16], const float *dw, const float *dx, int two,
                                          float acc[32][32]) {
    const __m512 dx0 = _mm512_load_ps(dx), dx1 = _mm512_load_ps(dx + 16);
    for (int rb = 0; rb < 1 + two; ++rb)
        for (int i = 0; i < 16; ++i) {
            const int r = 16 * rb + i;
            const __m512 d = _mm512_set1_ps(dw[r]);
            _mm512_store_ps(acc[r], _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(out[rb][0][i])),
                                                    _mm512_mul_ps(d, dx0), _mm512_load_ps(acc[r])));
            _mm512_store_ps(acc[r] + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(out[rb][1][i])),
                                                         _mm512_mul_ps(d, dx1), _mm512_load_ps(acc[r] + 16)));
        }
}

/* Up to 32 rows x 32 columns (of which the first nc are real) over the strip's nb blocks, from a group of
 * iq1_pack_act_avx512_amx's output. Software pipelined: the tiles of block j are stored while block j - 1 is added
 * into the
 * accumulators, so no load waits for a tile store still in flight. The accumulators stay in a local array over
 * the blocks: y's columns are ldy floats apart, often a multiple of 4 KB, so that they all fall into one L1 set. */
static void iq1_tile_avx512_amx(const iq1_strip_avx512_amx *st, int nb, const int8_t *xt, const float *dx, int nr,
                                int nc, float *y, int64_t ldy, int add) {
    const int two = nr > 16;
    const __mmask16 m0 = (__mmask16)(nr >= 16 ? 0xFFFF : (1u << nr) - 1);
    const __mmask16 m1 = (__mmask16)(nr >= 32 ? 0xFFFF : nr > 16 ? (1u << (nr - 16)) - 1 : 0);
    int32_t out[2][2][2][16][16] __attribute__((aligned(64))); /* [j & 1][row block][column block] */
    float acc[32][32] __attribute__((aligned(64)));
    for (int rb = 0; rb < 2; ++rb)
        for (int cb = 0; cb < 2; ++cb) {
            const int n = nc - 16 * cb < 0 ? 0 : nc - 16 * cb < 16 ? nc - 16 * cb : 16;
            float(*a)[32] = (float(*)[32]) & acc[16 * rb][16 * cb];
            if (add && (rb == 0 || two)) iq1_y_to_acc_avx512_amx(y + 16 * cb * ldy + 16 * rb, ldy, rb ? m1 : m0, n, a);
            else
                for (int r = 0; r < 16; ++r) _mm512_store_ps(a[r], _mm512_setzero_ps());
        }
    for (int j = 0; j <= nb; ++j) {
        if (j < nb) {
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (int half = 0; half < 2; ++half) {
                const int8_t *xb = xt + ((int64_t)j * 2 + half) * 2 * 1024;
                _tile_loadd(4, xb, 64);
                _tile_loadd(5, xb + 1024, 64);
                _tile_loadd(6, st->P[j][half][0], 64);
                _tile_loadd(7, st->Q[j][half][0], 64);
                _tile_dpbssd(0, 6, 4);
                _tile_dpbssd(1, 6, 5);
                _tile_dpbssd(0, 7, 4);
                _tile_dpbssd(1, 7, 5);
                if (two) {
                    _tile_loadd(6, st->P[j][half][1], 64);
                    _tile_loadd(7, st->Q[j][half][1], 64);
                    _tile_dpbssd(2, 6, 4);
                    _tile_dpbssd(3, 6, 5);
                    _tile_dpbssd(2, 7, 4);
                    _tile_dpbssd(3, 7, 5);
                }
            }
            int32_t(*o)[2][16][16] = out[j & 1];
            _tile_stored(0, o[0][0], 64);
            _tile_stored(1, o[0][1], 64);
            if (two) {
                _tile_stored(2, o[1][0], 64);
                _tile_stored(3, o[1][1], 64);
            }
        }
        if (j > 0)
            iq1_accumulate_avx512_amx((const int32_t(*)[2][16][16])out[(j - 1) & 1], st->D[j - 1],
                                      dx + (j - 1) * IQ1_AMX_BLOCK_COLS, two, acc);
    }
    for (int rb = 0; rb < 1 + two; ++rb)
        for (int cb = 0; cb < 2; ++cb) {
            const int n = nc - 16 * cb < 0 ? 0 : nc - 16 * cb < 16 ? nc - 16 * cb : 16;
            if (n)
                iq1_acc_to_y_avx512_amx((float(*)[32]) & acc[16 * rb][16 * cb], y + 16 * cb * ldy + 16 * rb, ldy,
                                        rb ? m1 : m0, n);
        }
}

/* The instantiation list: gemm_amx-inl.h for each format, and for fewer columns than the tiles take, the format's
 * avx512_vnni entry (for the R4 formats its gathering flavour: faster on the AMX CPUs, docs/PERFORMANCE.md). */
#define IQ1_VARIANT avx512_amx

/* iq1_s: iq1_matmul_iq1_s_avx512_amx, iq1_plan_iq1_s_avx512_amx, iq1_gemm_iq1_s_avx512_amx,
 * iq1_gemm_strip_iq1_s_avx512_amx (IQ1_NAME(op) in gemm_amx-inl.h) */
#define IQ1_FORMAT iq1_s
#define IQ1_AMX_MIN_COLS IQ1_AMX_MIN_COLS_IQ1_S
#define IQ1_AMX_FEW_COLUMNS iq1_matmul_iq1_s_avx512_vnni_gather
#include "gemm_amx-inl.h"
#undef IQ1_FORMAT
#undef IQ1_AMX_FEW_COLUMNS
#undef IQ1_AMX_MIN_COLS

/* iq1_m: iq1_matmul_iq1_m_avx512_amx, iq1_plan_iq1_m_avx512_amx, iq1_gemm_iq1_m_avx512_amx,
 * iq1_gemm_strip_iq1_m_avx512_amx (IQ1_NAME(op) in gemm_amx-inl.h) */
#define IQ1_FORMAT iq1_m
#define IQ1_AMX_MIN_COLS IQ1_AMX_MIN_COLS_IQ1_M
#define IQ1_AMX_FEW_COLUMNS iq1_matmul_iq1_m_avx512_vnni_gather
#include "gemm_amx-inl.h"
#undef IQ1_FORMAT
#undef IQ1_AMX_FEW_COLUMNS
#undef IQ1_AMX_MIN_COLS

/* iq1_s_r4: iq1_matmul_iq1_s_r4_avx512_amx, iq1_plan_iq1_s_r4_avx512_amx, iq1_gemm_iq1_s_r4_avx512_amx,
 * iq1_gemm_strip_iq1_s_r4_avx512_amx (IQ1_NAME(op) in gemm_amx-inl.h) */
#define IQ1_FORMAT iq1_s_r4
#define IQ1_AMX_MIN_COLS IQ1_AMX_MIN_COLS_IQ1_S_R4
#define IQ1_AMX_FEW_COLUMNS iq1_matmul_iq1_s_r4_avx512_vnni_gather
#include "gemm_amx-inl.h"
#undef IQ1_FORMAT
#undef IQ1_AMX_FEW_COLUMNS
#undef IQ1_AMX_MIN_COLS

/* iq1_m_r4: iq1_matmul_iq1_m_r4_avx512_amx, iq1_plan_iq1_m_r4_avx512_amx, iq1_gemm_iq1_m_r4_avx512_amx,
 * iq1_gemm_strip_iq1_m_r4_avx512_amx (IQ1_NAME(op) in gemm_amx-inl.h) */
#define IQ1_FORMAT iq1_m_r4
#define IQ1_AMX_MIN_COLS IQ1_AMX_MIN_COLS_IQ1_M_R4
#define IQ1_AMX_FEW_COLUMNS iq1_matmul_iq1_m_r4_avx512_vnni_gather
#include "gemm_amx-inl.h"
#undef IQ1_FORMAT
#undef IQ1_AMX_FEW_COLUMNS
#undef IQ1_AMX_MIN_COLS

#undef IQ1_VARIANT
#undef IQ1_DECODE_ROW
#endif
