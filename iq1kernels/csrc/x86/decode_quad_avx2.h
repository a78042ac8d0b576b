/* AVX2 decoders of four rows x one 128-value block (one Q8_K128 activation block) for the AVX2 GEMV
 * (gemv_rows_avx2-inl.h; the columns GEMVs and the AVX-512 GEMVs use them too). The GEMV multiplies the four rows at
 * once: one ymm holds the same group of 8 values of
 * the four rows, [row 0 | row 1 || row 2 | row 3], against that group's 8 activations broadcast, so a
 * vpmaddubsw yields int16 words [r0 x 4 | r1 x 4 || r2 x 4 | r3 x 4] and a vpmaddwd with a scale vector
 * of the same layout leaves int32 sums [r0 r0 r1 r1 | r2 r2 r3 r3]. A decoder leaves what that needs in
 * an iq1_quad_avx2:
 *
 *   off   16-bit byte offset of each (group, row) grid entry (the GEMV reads them in pairs: one load,
 *         two registers). IQ1_S / IQ1_S_R4 (delta constant per 32 values): 8 * index into
 *         iq1_grid_unsigned (u = g + 1 in {0, 1, 2}). IQ1_M / IQ1_M_R4 (delta per 8 values):
 *         8 * (2048 * sign + index) into iq1_grid_v8, the signed values 8 (g + delta) of the group.
 *   sc    per scale slot (a 32-block for the S types, a 16-value half for the M types) the rows' integer
 *         scales, words [r0 x 4 | r1 x 4 || r2 x 4 | r3 x 4]; times 8 for the S types
 *   cc    S types: the delta coefficients sc * (sigma - 8) of the four 32-blocks of each row,
 *         words [r0: b0..b3 | r1: b0..b3 || r2 | r3]; a vpmaddwd with the block's four activation sums
 *         (Q8_K128 bsums, broadcast) adds the deltas into the same int32 lanes
 *   dw    0.125 * each row's fp16 scale
 *
 * so that, per row, both kinds give 8 * sum sc (g + delta) q exactly in int32: sum 8 sc * u q +
 * sum cc * bsum, or sum sc * 8 (g + delta) q; the integer the GEMM of gemm_avx2-inl.h forms too. The
 * offsets are built in 16-bit words (8 * 4095 < 65536), vpmullw standing in for the per-word shifts AVX2
 * lacks. A decoder runs in four parts (0..3) which the GEMV spreads over the multiplication of the
 * previous block. IQ1_S / IQ1_M decoders prefetch (into L2) the same place in the rows of a later item
 * (iq1_rows4_avx2.ahead): four row streams that restart at every item, which the hardware prefetcher follows
 * poorly; R4 decoders read one stream and prefetch a few blocks ahead in it. Include after the file's
 * #pragma GCC target. */
#ifndef IQ1_DECODE_QUAD_AVX2_H
#define IQ1_DECODE_QUAD_AVX2_H
#include <immintrin.h>
#include "common.h"
#include "grid_index_avx2.h" /* iq1_entries4_avx2 */

typedef struct {
    uint16_t off[64]; /* [row][group] (IQ1_S, IQ1_M: IQ1_QUAD_ROW_MAJOR_*) or [group][row] (R4) */
    int16_t sc[8][16];
    int16_t cc[16];
    float dw[4];
} __attribute__((aligned(32))) iq1_quad_avx2;

#define IQ1_INLINE static inline __attribute__((always_inline))

/* Offsets from 16 index low bytes (words of `low`) and high-bit words `hi` holding the 3 high index bits
 * (and, for the M types, the sign bit above them) at a per-word position that `mul` (a power of two)
 * moves to bits 11..13 (14); `keep` = 0x3800 or 0x7800. sign15: the S types' delta sign (bit 15 of the qh
 * word in `hi`) goes to bit 14 as well, the offset into iq1_grid_v8's negative half (the GEMM's signed form). */
IQ1_INLINE void iq1_quad_offsets_avx2(__m256i low, __m256i hi, __m256i mul, int keep, int sign15, uint16_t *out) {
    __m256i o = _mm256_or_si256(_mm256_slli_epi16(low, 3),
                                _mm256_and_si256(_mm256_mullo_epi16(hi, mul), _mm256_set1_epi16((short)keep)));
    if (sign15) o = _mm256_or_si256(o, _mm256_and_si256(_mm256_srli_epi16(hi, 1), _mm256_set1_epi16(0x4000)));
    _mm256_store_si256((__m256i *)out, o);
}

/* Slot s of a 32-block-scaled format: from words [r0: s0..s3 | r1: s0..s3 || r2 | r3], word s of each row
 * four times: [r0 x 4 | r1 x 4 || r2 x 4 | r3 x 4] */
IQ1_INLINE __m256i iq1_quad_spread_block_avx2(__m256i v, int s) {
    const char a = (char)(2 * s), b = (char)(2 * s + 1), c = (char)(8 + 2 * s), d = (char)(9 + 2 * s);
    return _mm256_shuffle_epi8(v, _mm256_setr_epi8(a, b, a, b, a, b, a, b, c, d, c, d, c, d, c, d, a, b, a, b, a, b, a,
                                                   b, c, d, c, d, c, d, c, d));
}

/* dw of four rows from their fp16 scales (the low four words of h) */
IQ1_INLINE void iq1_quad_dw_avx2(__m128i h, float *dw) {
    _mm_store_ps(dw, _mm_mul_ps(_mm_cvtph_ps(h), _mm_set1_ps(0.125f)));
}

/* IQ1_S / IQ1_S_R4: sc and cc of four 32-blocks from their qh words, Q = [r0: s0..s3 | r1 || r2 | r3]
 * (bits 12..14 the scale ls, bit 15 the delta sign) */
IQ1_INLINE void iq1_quad_block_scales_avx2(__m256i Q, iq1_quad_avx2 *o) {
    const __m256i sc8 = _mm256_add_epi16(_mm256_and_si256(_mm256_srli_epi16(Q, 8), _mm256_set1_epi16(0x70)),
                                         _mm256_set1_epi16(8)); /* 8 (2 ls + 1) */
    /* sigma - 8 = -7 (delta +1/8) or -9 (delta -1/8, bit 15 set) */
    const __m256i neg = _mm256_srai_epi16(Q, 15);
    const __m256i cc = _mm256_mullo_epi16(_mm256_srli_epi16(sc8, 3),
                                          _mm256_add_epi16(_mm256_set1_epi16(-7), _mm256_add_epi16(neg, neg)));
    for (int s = 0; s < 4; ++s) _mm256_store_si256((__m256i *)o->sc[s], iq1_quad_spread_block_avx2(sc8, s));
    _mm256_store_si256((__m256i *)o->cc, cc);
}

/* ---- what the GEMVs read from an iq1_quad_avx2 (row_major: the decoder's IQ1_QUAD_ROW_MAJOR_<TYPE>) ---- */

/* the byte offset of row i's (0..3) grid entry of group g */
IQ1_INLINE uint32_t iq1_quad_offset_avx2(const iq1_quad_avx2 *p, int row_major, int i, int g) {
    return row_major ? p->off[16 * i + g] : p->off[4 * g + i];
}

/* groups g and g + 1 of the four rows from table, [r0 | r1 || r2 | r3] each; the offsets are read in
 * pairs (one 32-bit load, two registers) */
IQ1_INLINE void iq1_quad_groups2_avx2(const char *table, int row_major, const iq1_quad_avx2 *p, int g, __m256i *u0,
                                      __m256i *u1) {
    uint32_t v[4];
    if (row_major) {
        for (int r = 0; r < 4; ++r) memcpy(&v[r], p->off + 16 * r + g, 4); /* row r: (g, g + 1) */
        *u0 = iq1_entries4_avx2(table, v[0] & 0xffff, v[1] & 0xffff, v[2] & 0xffff, v[3] & 0xffff);
        *u1 = iq1_entries4_avx2(table, v[0] >> 16, v[1] >> 16, v[2] >> 16, v[3] >> 16);
    } else {
        memcpy(v, p->off + 4 * g, 16); /* g: (r0, r1), (r2, r3); g + 1 */
        *u0 = iq1_entries4_avx2(table, v[0] & 0xffff, v[0] >> 16, v[1] & 0xffff, v[1] >> 16);
        *u1 = iq1_entries4_avx2(table, v[2] & 0xffff, v[2] >> 16, v[3] & 0xffff, v[3] >> 16);
    }
}

/* M types: each row's scales of slots 4 h .. 4 h + 3, cm[h] = [r0: s0..s3 | r1 || r2 | r3]. Word 4 i + t
 * of sc[t] (and of sc[4 + t]) is row i's scale of slot t: three blends. */
IQ1_INLINE void iq1_quad_row_scales_avx2(const iq1_quad_avx2 *p, int16_t cm[2][16]) { /* cm: 32-byte aligned */
    for (int h = 0; h < 2; ++h) {
        const __m256i *sv = (const __m256i *)p->sc[4 * h];
        const __m256i t01 = _mm256_blend_epi16(_mm256_load_si256(sv), _mm256_load_si256(sv + 1), 0x22);
        const __m256i t23 = _mm256_blend_epi16(_mm256_load_si256(sv + 2), _mm256_load_si256(sv + 3), 0x88);
        _mm256_store_si256((__m256i *)cm[h], _mm256_blend_epi16(t01, t23, 0xCC));
    }
}

/* M types, the columns GEMVs' copy of the activations: 9 x the sum of each 16 values of a 128-block q,
 * the "+9" that u = 8 (g + delta) + 9 adds per slot. Slot t goes to s9[(t / 4) * stride + t % 4]: the
 * copy's two rows of slot words (slots 0-3, 4-7), stride words apart, from this column's first word.
 * |sum| <= 9 * 16 * 128. */
IQ1_INLINE void iq1_slot_nines_avx2(const int8_t *q, int16_t *s9, int stride) {
    for (int t = 0; t < 8; ++t) {
        int sum = 0;
        for (int i = 0; i < 16; ++i) sum += q[16 * t + i];
        s9[(t / 4) * stride + t % 4] = (int16_t)(9 * sum);
    }
}

/* Where a decoder reads: IQ1_S / IQ1_M: rows r .. r + 3 (a row past the last one repeats it) at the
 * super-block of the block b being decoded, so that the decoder's loads are the pointer plus constants
 * (computing row + (b / 2) * bytes in the decoder, the compiler hoisted all four rows' addresses to the
 * item start and spilled them); R4: the 4-row group of row r (the decoder adds b itself).
 * ahead: bytes from a row to the same place in a row of a later item, at least 512 bytes on: the IQ1_S /
 * IQ1_M decoders prefetch there. Prefetching a few blocks ahead within the row instead left each row's
 * first 384 bytes unfetched, much slower with the matrix in DRAM (docs/PERFORMANCE.md, Kernel design measurements,
 * "prefetch"). Past the
 * matrix's end the prefetches are harmless (they never fault). */
typedef struct {
    const uint8_t *row[4];
    int64_t ahead;
} iq1_rows4_avx2;

IQ1_INLINE int64_t iq1_superblock_bytes_avx2(iq1_type t) { return t == IQ1_S ? IQ1S_BLOCK_BYTES : IQ1M_BLOCK_BYTES; }

IQ1_INLINE void iq1_rows4_at_avx2(iq1_rows4_avx2 *rs, iq1_type t, const uint8_t *w, int64_t k, int64_t r, int64_t last,
                                  int64_t b) {
    const int64_t bytes = iq1_group_bytes(t, k);
    if (t == IQ1_S_R4 || t == IQ1_M_R4) {
        rs->row[0] = w + (r / 4) * bytes;
        return;
    }
    for (int i = 0; i < 4; ++i)
        rs->row[i] = w + (r + i <= last ? r + i : last) * bytes + (b >> 1) * iq1_superblock_bytes_avx2(t);
}

/* The ahead of a walk whose items have item_rows rows (4, or 8 for the AVX-512 GEMVs) and whose rows follow
 * those of the item before: whole items, at least 512 bytes. Set once per walk; iq1_rows4_at_avx2 leaves it as
 * it is (computed per item it costs time at small K: "prefetch"). */
IQ1_INLINE int64_t iq1_walk_ahead_avx2(iq1_type t, int64_t k, int item_rows) {
    int64_t ahead = item_rows * iq1_group_bytes(t, k);
    while (ahead > 0 && ahead < 512) ahead *= 2;
    return ahead;
}

/* the first rows of a walk of 4-row items: iq1_rows4_at_avx2 and the walk's ahead */
IQ1_INLINE void iq1_rows4_start_avx2(iq1_rows4_avx2 *rs, iq1_type t, const uint8_t *w, int64_t k, int64_t r,
                                     int64_t last, int64_t b) {
    iq1_rows4_at_avx2(rs, t, w, k, r, last, b);
    rs->ahead = iq1_walk_ahead_avx2(t, k, 4);
}

/* rs from block b to block b + 1 of the same rows */
IQ1_INLINE void iq1_rows4_step_avx2(iq1_rows4_avx2 *rs, iq1_type t, int64_t b) {
    if (t == IQ1_S_R4 || t == IQ1_M_R4 || !(b & 1)) return;
    for (int i = 0; i < 4; ++i) rs->row[i] += iq1_superblock_bytes_avx2(t);
}

/* ---- IQ1_S: 128-block b = half b % 2 of super-block b / 2; part i = row i (part 3 also the scales) ---- */

#define IQ1_QUAD_ROW_MAJOR_IQ1_S 1

/* signed_grid: offsets into iq1_grid_v8 with the delta sign (the GEMM), else into iq1_grid_unsigned (the GEMVs) */
IQ1_INLINE void iq1_decode_quad_grid_iq1_s_avx2(const iq1_rows4_avx2 *rs, int64_t b, int part, iq1_quad_avx2 *o,
                                                const int signed_grid) {
    const int64_t at = 8 * (b & 1); /* rs: at the super-block */
    /* word g (group g of 16) <- the qh word of its 32-block g / 4, shifted by 3 (g % 4) via the multiply */
    const __m256i rep = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7,
                                         6, 7, 6, 7, 6, 7);
    const __m256i mul = _mm256_setr_epi16(2048, 256, 32, 4, 2048, 256, 32, 4, 2048, 256, 32, 4, 2048, 256, 32, 4);
    const uint8_t *blk = rs->row[part] + at; /* at + 34: the qh words, at + 2 + 8 (b % 2): the low bytes */
    _mm_prefetch((const char *)blk + rs->ahead, _MM_HINT_T1); /* every block: no branch */
    const __m256i low = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(blk + 2 + 8 * (b & 1))));
    const __m256i hi = _mm256_shuffle_epi8(_mm256_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)(blk + 34))), rep);
    iq1_quad_offsets_avx2(low, hi, mul, 0x3800, signed_grid, o->off + 16 * part);
    if (part != 3) return;
    __m128i qh[4];
    for (int i = 0; i < 4; ++i) qh[i] = _mm_loadl_epi64((const __m128i *)(rs->row[i] + at + 34));
    iq1_quad_block_scales_avx2(_mm256_setr_m128i(_mm_unpacklo_epi64(qh[0], qh[1]), _mm_unpacklo_epi64(qh[2], qh[3])),
                               o);
    iq1_quad_dw_avx2(_mm_setr_epi16((short)iq1_load_u16(rs->row[0]), (short)iq1_load_u16(rs->row[1]),
                                    (short)iq1_load_u16(rs->row[2]), (short)iq1_load_u16(rs->row[3]), 0, 0, 0, 0),
                     o->dw);
}

IQ1_INLINE void iq1_decode_quad_iq1_s_avx2(const iq1_rows4_avx2 *rs, int64_t b, int part, iq1_quad_avx2 *o) {
    iq1_decode_quad_grid_iq1_s_avx2(rs, b, part, o, 0);
}

/* ---- IQ1_M: 128-block b = half b % 2 of super-block b / 2; part i = row i (part 3 also the scales) ---- */

#define IQ1_QUAD_ROW_MAJOR_IQ1_M 1

IQ1_INLINE void iq1_decode_quad_iq1_m_avx2(const iq1_rows4_avx2 *rs, int64_t b, int part, iq1_quad_avx2 *o) {
    const int half = (int)(b & 1);
    const uint8_t *blk = rs->row[part];                       /* at the super-block */
    _mm_prefetch((const char *)blk + rs->ahead, _MM_HINT_T1); /* every block: no branch */
    /* word g <- qh byte g / 2 (groups 2j, 2j + 1 share byte j: bits 0..2 + sign 3, 4..6 + sign 7) */
    const __m256i rep = _mm256_setr_epi8(0, -1, 0, -1, 1, -1, 1, -1, 2, -1, 2, -1, 3, -1, 3, -1, 4, -1, 4, -1, 5, -1, 5,
                                         -1, 6, -1, 6, -1, 7, -1, 7, -1);
    const __m256i mul =
        _mm256_setr_epi16(2048, 128, 2048, 128, 2048, 128, 2048, 128, 2048, 128, 2048, 128, 2048, 128, 2048, 128);
    const __m256i low = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(blk + 16 * half)));
    const __m256i bytes =
        _mm256_shuffle_epi8(_mm256_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)(blk + 32 + 8 * half))), rep);
    iq1_quad_offsets_avx2(low, bytes, mul, 0x7800, 0, o->off + 16 * part);
    if (part != 3) return;
    /* the 2 ls + 1 of the half's eight 16-blocks, rows (0, 2) and (1, 3) in the two lanes: the half's two
     * scale words (3 bits at 3 j each), the fields moved to bits 9..11 by a multiply (no variable 16-bit
     * shift in AVX2) */
    const int64_t sw = 48 + 4 * half;
    const __m256i spread = _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 0, 1, 0, 1, 0, 1, 0, 1, 2,
                                            3, 2, 3, 2, 3, 2, 3);
    const __m256i place = _mm256_setr_epi16(512, 64, 8, 1, 512, 64, 8, 1, 512, 64, 8, 1, 512, 64, 8, 1);
    __m256i sc[2];
    for (int i = 0; i < 2; ++i) {
        const __m256i words = _mm256_setr_m128i(_mm_set1_epi32((int)iq1_load_u32(rs->row[i] + sw)),
                                                _mm_set1_epi32((int)iq1_load_u32(rs->row[i + 2] + sw)));
        const __m256i s3 = _mm256_and_si256(
            _mm256_srli_epi16(_mm256_mullo_epi16(_mm256_shuffle_epi8(words, spread), place), 9), _mm256_set1_epi16(7));
        sc[i] = _mm256_add_epi16(_mm256_add_epi16(s3, s3), _mm256_set1_epi16(1));
    }
    /* sc of half h: [r0 r1 | r2 r3] word pairs per h, then each word four times */
    const __m256i X = sc[0], Y = sc[1];
    const __m256i lo = _mm256_unpacklo_epi16(X, Y), hi = _mm256_unpackhi_epi16(X, Y);
    for (int j = 0; j < 4; ++j) {
        const char a = (char)(4 * j), b1 = (char)(4 * j + 1), c = (char)(4 * j + 2), e = (char)(4 * j + 3);
        const __m256i pick = _mm256_setr_epi8(a, b1, a, b1, a, b1, a, b1, c, e, c, e, c, e, c, e, a, b1, a, b1, a, b1,
                                              a, b1, c, e, c, e, c, e, c, e);
        _mm256_store_si256((__m256i *)o->sc[j], _mm256_shuffle_epi8(lo, pick));
        _mm256_store_si256((__m256i *)o->sc[4 + j], _mm256_shuffle_epi8(hi, pick));
    }
    /* the fp16 super-scales: the top nibbles of the four scale words, bytes 1, 3, 5, 7 of each row's 8 */
    const int64_t at = 48;
    const __m128i x01 = _mm_insert_epi64(_mm_loadl_epi64((const __m128i *)(rs->row[0] + at)),
                                         (long long)iq1_load_u64(rs->row[1] + at), 1);
    const __m128i x23 = _mm_insert_epi64(_mm_loadl_epi64((const __m128i *)(rs->row[2] + at)),
                                         (long long)iq1_load_u64(rs->row[3] + at), 1);
    const __m256i top = _mm256_shuffle_epi8(
        _mm256_setr_m128i(x01, x23), _mm256_setr_epi8(1, 3, 5, 7, -1, -1, -1, -1, 9, 11, 13, 15, -1, -1, -1, -1, 1, 3,
                                                      5, 7, -1, -1, -1, -1, 9, 11, 13, 15, -1, -1, -1, -1));
    const __m256i nib = _mm256_and_si256(_mm256_srli_epi16(top, 4), _mm256_set1_epi8(15));
    const __m256i bits = _mm256_madd_epi16(_mm256_maddubs_epi16(nib, _mm256_set1_epi16(16 * 256 + 1)),
                                           _mm256_set1_epi32(256 * 65536 + 1));
    const __m128i h =
        _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bits, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6)));
    iq1_quad_dw_avx2(_mm_packus_epi32(h, h), o->dw);
}

/* ---- IQ1_S_R4: 128-block b = 32-blocks 4b .. 4b+3 of the group; part s = 32-block s (part 3 also the
 * scales) ---- */

#define IQ1_QUAD_ROW_MAJOR_IQ1_S_R4 0

IQ1_INLINE void iq1_decode_quad_grid_iq1_s_r4_avx2(const iq1_rows4_avx2 *rs, int64_t b, int part, iq1_quad_avx2 *o,
                                                   const int signed_grid) {
    const uint8_t *grp = rs->row[0], *blk = grp + 8 + 4 * b * IQ1S_R4_BLOCK_BYTES;
    /* qs[4 l + r] and the broadcast qh words [qh0..qh3 qh0..qh3 || ...]: word (l, r) pairs them */
    const __m256i mul = _mm256_setr_epi16(2048, 2048, 2048, 2048, 256, 256, 256, 256, 32, 32, 32, 32, 4, 4, 4, 4);
    const uint8_t *bs = blk + part * IQ1S_R4_BLOCK_BYTES;
    if (part == 0 || part == 2) _mm_prefetch((const char *)bs + 512, _MM_HINT_T0); /* ~5 blocks ahead */
    const __m256i low = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)bs));
    const __m256i qh = _mm256_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)(bs + 16)));
    iq1_quad_offsets_avx2(low, qh, mul, 0x3800, signed_grid, o->off + 16 * part);
    if (part != 3) return;
    __m128i q[4];
    for (int i = 0; i < 4; ++i) q[i] = _mm_loadl_epi64((const __m128i *)(blk + i * IQ1S_R4_BLOCK_BYTES + 16));
    /* [s0: r0..r3 | s1 || s2 | s3] -> the row-major [r0: s0..s3 | r1 || r2 | r3] of the shared helper */
    const __m128i t0 = _mm_unpacklo_epi16(q[0], q[1]), t1 = _mm_unpacklo_epi16(q[2], q[3]);
    iq1_quad_block_scales_avx2(_mm256_setr_m128i(_mm_unpacklo_epi32(t0, t1), _mm_unpackhi_epi32(t0, t1)), o);
    iq1_quad_dw_avx2(_mm_loadl_epi64((const __m128i *)grp), o->dw);
}

IQ1_INLINE void iq1_decode_quad_iq1_s_r4_avx2(const iq1_rows4_avx2 *rs, int64_t b, int part, iq1_quad_avx2 *o) {
    iq1_decode_quad_grid_iq1_s_r4_avx2(rs, b, part, o, 0);
}

/* ---- IQ1_M_R4: 128-block b; part s = 32-block s ---- */

#define IQ1_QUAD_ROW_MAJOR_IQ1_M_R4 0

IQ1_INLINE void iq1_decode_quad_iq1_m_r4_avx2(const iq1_rows4_avx2 *rs, int64_t b, int part, iq1_quad_avx2 *o) {
    const uint8_t *grp = rs->row[0], *bs = grp + 8 + (4 * b + part) * IQ1M_R4_BLOCK_BYTES;
    if (part == 0 || part == 2) _mm_prefetch((const char *)bs + 512, _MM_HINT_T0); /* ~5 blocks ahead */
    /* word (k, r) <- qh byte 4 (k / 2) + r; its nibble k % 2 holds the high bits (0..2) and the sign (3) */
    const __m256i rep = _mm256_setr_epi8(0, -1, 1, -1, 2, -1, 3, -1, 0, -1, 1, -1, 2, -1, 3, -1, 4, -1, 5, -1, 6, -1, 7,
                                         -1, 4, -1, 5, -1, 6, -1, 7, -1);
    const __m256i mul =
        _mm256_setr_epi16(2048, 2048, 2048, 2048, 128, 128, 128, 128, 2048, 2048, 2048, 2048, 128, 128, 128, 128);
    const __m256i low = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)bs));
    const __m256i qh8 = _mm256_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)(bs + 16)));
    iq1_quad_offsets_avx2(low, _mm256_shuffle_epi8(qh8, rep), mul, 0x7800, 0, o->off + 16 * part);
    /* scales[r] = ls0 | ls1 << 4 (linear, 0..15): slot 2 part + h = nibble h of each row, four times */
    const __m256i scb = _mm256_set1_epi32((int)iq1_load_u32(bs + 24));
    const __m256i rows = _mm256_setr_epi8(0, -1, 0, -1, 0, -1, 0, -1, 1, -1, 1, -1, 1, -1, 1, -1, 2, -1, 2, -1, 2, -1,
                                          2, -1, 3, -1, 3, -1, 3, -1, 3, -1);
    const __m256i sc = _mm256_shuffle_epi8(scb, rows);
    _mm256_store_si256((__m256i *)o->sc[2 * part], _mm256_and_si256(sc, _mm256_set1_epi16(15)));
    _mm256_store_si256((__m256i *)o->sc[2 * part + 1], _mm256_srli_epi16(sc, 4));
    if (part == 3) iq1_quad_dw_avx2(_mm_loadl_epi64((const __m128i *)grp), o->dw);
}

/* ---- The GEMM's decoders (gemm_avx2-inl.h): every offset into iq1_grid_v8, the value 8 g + sigma; the
 * M types' already are ---- */

IQ1_INLINE void iq1_decode_quad_signed_iq1_s_avx2(const iq1_rows4_avx2 *rs, int64_t b, int part, iq1_quad_avx2 *o) {
    iq1_decode_quad_grid_iq1_s_avx2(rs, b, part, o, 1);
}
IQ1_INLINE void iq1_decode_quad_signed_iq1_s_r4_avx2(const iq1_rows4_avx2 *rs, int64_t b, int part, iq1_quad_avx2 *o) {
    iq1_decode_quad_grid_iq1_s_r4_avx2(rs, b, part, o, 1);
}
IQ1_INLINE void iq1_decode_quad_signed_iq1_m_avx2(const iq1_rows4_avx2 *rs, int64_t b, int part, iq1_quad_avx2 *o) {
    iq1_decode_quad_iq1_m_avx2(rs, b, part, o);
}
IQ1_INLINE void iq1_decode_quad_signed_iq1_m_r4_avx2(const iq1_rows4_avx2 *rs, int64_t b, int part, iq1_quad_avx2 *o) {
    iq1_decode_quad_iq1_m_r4_avx2(rs, b, part, o);
}

#endif
