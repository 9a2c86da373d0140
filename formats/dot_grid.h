/* dot_grid: the fused dequantize-and-dot kernels of the grid i-quants (IQ3_S, IQ2_XS, IQ2_XXS,
 * IQ2_S, IQ3_XXS, IQ1_S, IQ1_M) for formats/dot.h. Included by formats/dot_x86.c only, once per level, right
 * after formats/dot_body.h, with the same vector macros (V, VI8, VSET1, VMUL, VFMA, VADD, VHSUM,
 * VLOADX, VZERO, VHALVES, FN, ATTR, KATTR, HALF, MCMAX) and dot_body.h's FN(prefetch). No include guard:
 * it is meant to be included more than once.
 *
 * Every weight of these types is db * grid * sign (formats/iquants.c): db a float per sub-block of
 * 32 (IQ3_S, IQ2_XXS, IQ3_XXS) or per 16 (IQ2_XS, IQ2_S) weights, grid a small positive integer
 * from a lattice table (formats/iq_tables.h) shared by a run of 8 weights (IQ3: two entries of 4),
 * sign one bit per weight. The grid values with their signs are exact floats, so the kernels
 * factor as dot_body.h's Q4_0 kernel does: per sub-block, the 32 signed grid values dotted with x
 * (the signs applied to the grid bytes as integers: (g ^ m) - m, then int8 to float), and the sum
 * multiplied once by db, computed with the reference's float operations in its order. With a unit
 * vector x the one nonzero product is +-grid exactly and db times it rounds as the reference's
 * db * grid (whose sign the reference flips afterwards: the same float), so each weight comes out
 * bit for bit (for finite scales: with a NaN scale both are NaN, the sign bit may differ);
 * otherwise the result is within the f32 summation bound (tests/test_matvec_grid.c). IQ1_S and
 * IQ1_M (dl * (value + delta)) likewise, below.
 *
 * The table indices of a sub-block's runs are computed as vectors and the entries fetched by one
 * hardware gather (AVX2's vpgatherdd / vpgatherqq, at both levels); the signs become lane masks
 * on AVX-512 and byte masks (a shuffle, as dot_body.h's Q5_0 fifth bits) on AVX2; a block's
 * scales are computed in one vector. formats/convert_iq_x86.c expands the same runs for the panel
 * path on the float side (db * grid, then the sign bit flipped, as the reference does, so that a
 * NaN scale keeps the reference's bits): it needs the scaled weights, this file the unscaled signed
 * grid values before one multiplication per sub-block, so the two share the tables and the layouts
 * (iquants.c) but not the expansion. Rates: docs/models.md "Small M". */

#include "formats/iq_tables.h"

/* ---- grid i-quants: the signed grid values of a sub-block of 32 ---- */

/* 16 byte masks from 16 sign bits (bit j set: byte j is 0xFF). */
ATTR __m128i FN(gsigns16)(unsigned bits) {
    const __m128i bit = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
    const __m128i idx = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m128i h = _mm_shuffle_epi8(_mm_cvtsi32_si128((int)bits), idx);
    return _mm_cmpeq_epi8(_mm_and_si128(h, bit), bit);
}

/* w[0], w[1]: the 32 grid bytes g0 (weights 0..15) and g1 (16..31) negated where the 32 sign bits
 * say, as floats (the grid bytes are below 128: exact int8s). */
ATTR void FN(gsigned)(__m128i g0, __m128i g1, uint32_t signs, V *w) {
#ifdef VLUT
    /* AVX-512 (the level with VLUT): the sign bits are lane masks, 0 - g where set (g > 0: exact) */
    const __m512 z = _mm512_setzero_ps(), f0 = VU8(g0), f1 = VU8(g1);
    w[0] = _mm512_mask_sub_ps(f0, (__mmask16)(signs & 0xFFFF), z, f0);
    w[1] = _mm512_mask_sub_ps(f1, (__mmask16)(signs >> 16), z, f1);
#else
    const __m128i m0 = FN(gsigns16)(signs & 0xFFFF), m1 = FN(gsigns16)(signs >> 16);
    w[0] = VI8(_mm_sub_epi8(_mm_xor_si128(g0, m0), m0));
    w[1] = VI8(_mm_sub_epi8(_mm_xor_si128(g1, m1), m1));
#endif
}

ATTR uint32_t FN(gle32)(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

ATTR uint16_t FN(gle16)(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/* The grid entries by a hardware gather of the runs' table indices, computed as vectors: measured
 * 1.9x the rate of scalar table loads and inserts for IQ3_S (bench_matvec, in cache). */

/* IQ3_S (110 B: half d; qs[64]; qh[8]; signs[32]; scales[4]): entry j of sub-block ib is
 * iq3s_grid[qs[8 ib + j] | bit j of qh[ib] << 8], 4 values; raw sign bytes, one per 8 weights. */
ATTR void FN(gq_iq3_s)(const uint8_t *b, int ib, V *w) {
    const __m256i q = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(b + 2 + 8 * ib)));
    const __m256i h = _mm256_and_si256(_mm256_sllv_epi32(_mm256_set1_epi32(b[66 + ib]), _mm256_setr_epi32(8, 7, 6, 5, 4, 3, 2, 1)),
                                       _mm256_set1_epi32(256));
    const __m256i g = _mm256_i32gather_epi32((const int *)iq3s_grid, _mm256_or_si256(q, h), 4);
    FN(gsigned)(_mm256_castsi256_si128(g), _mm256_extracti128_si256(g, 1), FN(gle32)(b + 74 + 4 * ib), w);
}

/* The scales of a block are computed at once, lane by lane with the reference's float operations
 * in its order (so the same floats), into db[0..16) (8 or 16 of them used). */

/* the nibbles of the bytes of s, low nibble first: byte 2i = s_i & 15, byte 2i + 1 = s_i >> 4 */
ATTR __m128i FN(gnibbles)(__m128i s) {
    const __m128i f = _mm_set1_epi8(15);
    return _mm_unpacklo_epi8(_mm_and_si128(s, f), _mm_and_si128(_mm_srli_epi16(s, 4), f));
}

/* d * (0.5 + a_i) * scale for the 8 integers a (as dq_iq2_xxs and dq_iq3_xxs) */
ATTR void FN(gs_half8)(float d, __m256i a, float scale, float *db) {
    const __m256 t = _mm256_mul_ps(_mm256_set1_ps(d), _mm256_add_ps(_mm256_set1_ps(0.5f), _mm256_cvtepi32_ps(a)));
    _mm256_storeu_ps(db, _mm256_mul_ps(t, _mm256_set1_ps(scale)));
}

/* db of the 8 sub-blocks: d * (1 + 2 * scale nibble ib), as iquants.c's dq_iq3_s */
ATTR void FN(gs_iq3_s)(const uint8_t *b, float *db) {
    const __m128i n = FN(gnibbles)(_mm_cvtsi32_si128((int)FN(gle32)(b + 106)));
    VSTORE(db, VMUL(VSET1(HALF(b)), VU8(_mm_add_epi8(_mm_add_epi8(n, n), _mm_set1_epi8(1)))));
}

/* the 4 runs' entries of an IQ2 grid (8 bytes each) at the 4 indices idx: 32 grid bytes */
ATTR __m256i FN(ggather64)(const uint64_t *grid, __m128i idx) {
    return _mm256_i32gather_epi64((const long long *)grid, idx, 8);
}

/* IQ2_XS (74 B: half d; u16 qs[32] = grid9 | signs7 << 9; scales[8], a nibble per 16 weights).
 * The sign bytes by iq_ksigns (computing them as vectors, the 7 bits and their parity, measured
 * no faster). */
ATTR void FN(gq_iq2_xs)(const uint8_t *b, int ib, V *w) {
    const __m128i q = _mm_loadl_epi64((const __m128i *)(b + 2 + 8 * ib));
    const __m256i g = FN(ggather64)(iq2xs_grid, _mm_and_si128(_mm_cvtepu16_epi32(q), _mm_set1_epi32(511)));
    uint64_t q64;
    memcpy(&q64, b + 2 + 8 * ib, 8);
    const uint32_t signs = (uint32_t)iq_ksigns[(q64 >> 9) & 127] | (uint32_t)iq_ksigns[(q64 >> 25) & 127] << 8 |
                           (uint32_t)iq_ksigns[(q64 >> 41) & 127] << 16 | (uint32_t)iq_ksigns[q64 >> 57] << 24;
    FN(gsigned)(_mm256_castsi256_si128(g), _mm256_extracti128_si256(g, 1), signs, w);
}

/* db of the 16 halves of sub-blocks (2 ib: low nibble of scales[ib], 2 ib + 1: high):
 * d * (0.5 + nibble) * 0.25, as dq_iq2_xs and dq_iq2_s */
ATTR void FN(gs_iq2_16)(const uint8_t *b, const uint8_t *scales, float *db) {
    const V n = VU8(FN(gnibbles)(_mm_loadl_epi64((const __m128i *)scales)));
    VSTORE(db, VMUL(VMUL(VSET1(HALF(b)), VADD(VSET1(0.5f), n)), VSET1(0.25f)));
}
ATTR void FN(gs_iq2_xs)(const uint8_t *b, float *db) { FN(gs_iq2_16)(b, b + 66, db); }

/* the sign bytes of the four 7-bit indices in aux's bits 0..27 (IQ2_XXS, IQ3_XXS) */
ATTR uint32_t FN(gksigns)(uint32_t aux) {
    return (uint32_t)iq_ksigns[aux & 127] | (uint32_t)iq_ksigns[(aux >> 7) & 127] << 8 |
           (uint32_t)iq_ksigns[(aux >> 14) & 127] << 16 | (uint32_t)iq_ksigns[(aux >> 21) & 127] << 24;
}

/* IQ2_XXS (66 B: half d; 8 x {u8 grid[4]; u32 signs7[4] | scale4 << 28}) */
ATTR void FN(gq_iq2_xxs)(const uint8_t *b, int ib, V *w) {
    const uint8_t *q = b + 2 + 8 * ib;
    const __m256i g = FN(ggather64)(iq2xxs_grid, _mm_cvtepu8_epi32(_mm_cvtsi32_si128((int)FN(gle32)(q))));
    FN(gsigned)(_mm256_castsi256_si128(g), _mm256_extracti128_si256(g, 1), FN(gksigns)(FN(gle32)(q + 4)), w);
}

/* d * (0.5 + scale) * 0.25, the scale in the top 4 bits of each sub-block's aux word */
ATTR void FN(gs_iq2_xxs)(const uint8_t *b, float *db) {
    /* aux of sub-block ib is the high half of 64-bit word ib at b + 2 */
    const __m256i lo = _mm256_srli_epi64(_mm256_loadu_si256((const __m256i *)(b + 2)), 60);
    const __m256i hi = _mm256_srli_epi64(_mm256_loadu_si256((const __m256i *)(b + 34)), 60);
    const __m256i a = _mm256_permutevar8x32_epi32(_mm256_blend_epi32(lo, _mm256_slli_epi64(hi, 32), 0xAA),
                                                  _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
    FN(gs_half8)(HALF(b), a, 0.25f, db);
}

/* IQ2_S (82 B: half d; qs[32]; raw signs[32]; qh[8] (grid bits 8..9, two per run); scales[8]):
 * entry l of sub-block ib is iq2s_grid[qs[4 ib + l] | bits 2l..2l+1 of qh[ib] << 8] */
ATTR void FN(gq_iq2_s)(const uint8_t *b, int ib, V *w) {
    const __m128i q = _mm_cvtepu8_epi32(_mm_cvtsi32_si128((int)FN(gle32)(b + 2 + 4 * ib)));
    const __m128i h = _mm_and_si128(_mm_sllv_epi32(_mm_set1_epi32(b[66 + ib]), _mm_setr_epi32(8, 6, 4, 2)),
                                    _mm_set1_epi32(0x300));
    const __m256i g = FN(ggather64)(iq2s_grid, _mm_or_si128(q, h));
    FN(gsigned)(_mm256_castsi256_si128(g), _mm256_extracti128_si256(g, 1), FN(gle32)(b + 34 + 4 * ib), w);
}
ATTR void FN(gs_iq2_s)(const uint8_t *b, float *db) { FN(gs_iq2_16)(b, b + 74, db); }

/* IQ3_XXS (98 B: half d; u8 grid[64]; u32 (signs7[4] | scale4 << 28)[8]) */
ATTR void FN(gq_iq3_xxs)(const uint8_t *b, int ib, V *w) {
    const __m256i q = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(b + 2 + 8 * ib)));
    const __m256i g = _mm256_i32gather_epi32((const int *)iq3xxs_grid, q, 4);
    FN(gsigned)(_mm256_castsi256_si128(g), _mm256_extracti128_si256(g, 1), FN(gksigns)(FN(gle32)(b + 66 + 4 * ib)), w);
}

/* d * (0.5 + scale) * 0.5 */
ATTR void FN(gs_iq3_xxs)(const uint8_t *b, float *db) {
    FN(gs_half8)(HALF(b), _mm256_srli_epi32(_mm256_loadu_si256((const __m256i *)(b + 66)), 28), 0.5f, db);
}

/* ---- IQ1_S, IQ1_M: dl * (grid value + delta), the value -1, 0 or 1 ----
 * Grid entries of 8 two-bit codes (iq1s_grid, uint16), value j = ((e >> 2j) & 3) - 1. The sums
 * are of (value + delta) x, value + delta an exact float (delta = +-0.125), times dl once; with a
 * unit vector the reference's dl * (value + delta) bit for bit. */

/* the 4 entries iq1s_grid[idx] in dword lanes (gathered as the aligned dwords holding them: a
 * dword gather at the entry itself would read past the table's last entry) */
ATTR __m128i FN(gq1_entries)(__m128i idx) {
    const __m128i dw = _mm_i32gather_epi32((const int *)iq1s_grid, _mm_srli_epi32(idx, 1), 4);
    return _mm_srlv_epi32(dw, _mm_slli_epi32(_mm_and_si128(idx, _mm_set1_epi32(1)), 4));
}

/* the 16 weights' (value + delta) of entries 2 p and 2 p + 1 of e4 (dword lanes), delta da for the
 * first 8 and db for the next 8: (code - 1) as an integer, to float, plus delta, as put_iq1_run */
ATTR V FN(gq1_values)(__m128i e4, int p, float da, float db) {
#ifdef VLUT
    const __m512i sh16 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i sel = _mm512_mask_blend_epi32(0xFF00, _mm512_set1_epi32(2 * p), _mm512_set1_epi32(2 * p + 1));
    const __m512i c = _mm512_and_si512(_mm512_srlv_epi32(_mm512_permutexvar_epi32(sel, _mm512_castsi128_si512(e4)), sh16),
                                       _mm512_set1_epi32(3));
    return _mm512_add_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(c, _mm512_set1_epi32(1))), VHALVES(da, db));
#else
    const __m256i sh = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14), three = _mm256_set1_epi32(3), one = _mm256_set1_epi32(1);
    const __m256i e = _mm256_castsi128_si256(e4);
    const __m256i ca = _mm256_sub_epi32(_mm256_and_si256(_mm256_srlv_epi32(_mm256_permutevar8x32_epi32(e, _mm256_set1_epi32(2 * p)), sh), three), one);
    const __m256i cb = _mm256_sub_epi32(_mm256_and_si256(_mm256_srlv_epi32(_mm256_permutevar8x32_epi32(e, _mm256_set1_epi32(2 * p + 1)), sh), three), one);
    const __m256 fa = _mm256_add_ps(_mm256_cvtepi32_ps(ca), _mm256_set1_ps(da));
    const __m256 fb = _mm256_add_ps(_mm256_cvtepi32_ps(cb), _mm256_set1_ps(db));
    return (V){fa, fb};
#endif
}

/* delta negated when bit 0 of neg is set (the reference's -delta: a flip of the sign bit; without
 * a branch on data bits, which mispredicts half the time) */
ATTR float FN(gflip)(float delta, unsigned neg) {
    uint32_t u;
    memcpy(&u, &delta, 4);
    u ^= (neg & 1u) << 31;
    memcpy(&delta, &u, 4);
    return delta;
}

/* IQ1_S (50 B: half d; qs[32]; u16 qh[8] = grid bits 8..10 of run l at 3 l | scale3 << 12 | neg << 15) */
ATTR void FN(gq_iq1_s)(const uint8_t *b, int ib, V *w) {
    const unsigned h = FN(gle16)(b + 34 + 2 * ib);
    const __m128i hi = _mm_and_si128(_mm_srlv_epi32(_mm_set1_epi32((int)h), _mm_setr_epi32(0, 3, 6, 9)), _mm_set1_epi32(7));
    const __m128i q = _mm_cvtepu8_epi32(_mm_cvtsi32_si128((int)FN(gle32)(b + 2 + 4 * ib)));
    const __m128i e = FN(gq1_entries)(_mm_or_si128(q, _mm_slli_epi32(hi, 8)));
    const float delta = FN(gflip)(iq1s_delta, h >> 15);
    w[0] = FN(gq1_values)(e, 0, delta, delta);
    w[1] = FN(gq1_values)(e, 1, delta, delta);
}

/* dl = d * (2 * scale + 1) of the 8 sub-blocks */
ATTR void FN(gs_iq1_s)(const uint8_t *b, float *db) {
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(b + 34)));
    const __m256i sc = _mm256_and_si256(_mm256_srli_epi32(h, 12), _mm256_set1_epi32(7));
    const __m256i k = _mm256_add_epi32(_mm256_add_epi32(sc, sc), _mm256_set1_epi32(1));
    _mm256_storeu_ps(db, _mm256_mul_ps(_mm256_set1_ps(HALF(b)), _mm256_cvtepi32_ps(k)));
}

/* IQ1_M (56 B: qs[32]; qh[16]: per run a nibble, grid bits 8..10 and the delta's sign; u16
 * scales[4]: 3-bit scales per 16 weights, fp16 d in their top nibbles) */
ATTR void FN(gq_iq1_m)(const uint8_t *b, int ib, V *w) {
    const unsigned h = FN(gle16)(b + 32 + 2 * ib); /* run l: nibble l */
    const __m128i nib = _mm_srlv_epi32(_mm_set1_epi32((int)h), _mm_setr_epi32(0, 4, 8, 12));
    const __m128i q = _mm_cvtepu8_epi32(_mm_cvtsi32_si128((int)FN(gle32)(b + 4 * ib)));
    const __m128i e = FN(gq1_entries)(_mm_or_si128(q, _mm_slli_epi32(_mm_and_si128(nib, _mm_set1_epi32(7)), 8)));
#define D1(l) FN(gflip)(iq1m_delta, h >> (4 * (l) + 3))
    w[0] = FN(gq1_values)(e, 0, D1(0), D1(1));
    w[1] = FN(gq1_values)(e, 1, D1(2), D1(3));
#undef D1
}

/* d * (2 * scale + 1) per 16 weights: db[4 i + k] from bits 3k..3k+2 of scales[i] */
ATTR void FN(gs_iq1_m)(const uint8_t *b, float *db) {
    uint16_t sc[4];
    memcpy(sc, b + 48, 8);
    const uint16_t d16 = (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(d16));
    const __m256i s = _mm256_castsi128_si256(_mm_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)(b + 48))));
    const __m256i sh = _mm256_setr_epi32(0, 3, 6, 9, 0, 3, 6, 9), seven = _mm256_set1_epi32(7), one = _mm256_set1_epi32(1);
#pragma GCC unroll 2
    for (int h = 0; h < 2; h++) {
        const __m256i v = _mm256_permutevar8x32_epi32(s, _mm256_setr_epi32(2 * h, 2 * h, 2 * h, 2 * h, 2 * h + 1, 2 * h + 1, 2 * h + 1, 2 * h + 1));
        const __m256i k = _mm256_and_si256(_mm256_srlv_epi32(v, sh), seven);
        _mm256_storeu_ps(db + 8 * h, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_add_epi32(k, k), one))));
    }
}

/* ---- the kernels: one row times MC <= GMAX vectors; passes of GMAX vectors over a row ----
 * PER16: db per 16 weights (db[2 ib], db[2 ib + 1]), else per sub-block of 32 (db[ib]). Two
 * partial sums per vector, so consecutive sub-blocks do not wait on each other's FMA. GMAX: 8 on
 * AVX-512 (32 registers: 16 sums), 4 on AVX2; the decoding costs more than the multiply-adds, so
 * one pass for up to 8 vectors instead of two passes of 4. */
#define GMAX (MCMAX > 4 ? MCMAX : 4)
#define ROWSG(T, BB, PER16)                                                                         \
    ATTR void FN(rowg_##T)(const uint8_t *row, int64_t K, const float *x, float *y, int64_t ldy,    \
                           const int MC) {                                                          \
        V acc[GMAX][2];                                                                             \
        _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++) acc[m][0] = acc[m][1] = VZERO();       \
        for (int64_t sb = 0; sb < K / 256; sb++) {                                                  \
            const uint8_t *b = row + (size_t)sb * BB;                                               \
            FN(prefetch)(b, BB);                                                                    \
            float db[16];                                                                           \
            FN(gs_##T)(b, db);                                                                      \
            for (int i0 = 0; i0 < 8; i0 += 2)                                                       \
                _Pragma("GCC unroll 2") for (int u = 0; u < 2; u++) {                               \
                    const int ib = i0 + u;                                                          \
                    V w[2];                                                                         \
                    FN(gq_##T)(b, ib, w);                                                           \
                    _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++) {                          \
                        const float *xm = x + m * K + 256 * sb + 32 * ib;                           \
                        if (PER16) {                                                                \
                            acc[m][0] = VFMA(VMUL(w[0], VLOADX(xm)), VSET1(db[2 * ib]), acc[m][0]); \
                            acc[m][1] = VFMA(VMUL(w[1], VLOADX(xm + 16)), VSET1(db[2 * ib + 1]), acc[m][1]); \
                        } else {                                                                    \
                            V s = VMUL(w[0], VLOADX(xm));                                           \
                            s = VFMA(w[1], VLOADX(xm + 16), s);                                     \
                            acc[m][u] = VFMA(s, VSET1(db[ib]), acc[m][u]);                          \
                        }                                                                           \
                    }                                                                               \
                }                                                                                   \
        }                                                                                           \
        _Pragma("GCC unroll 8") for (int m = 0; m < MC; m++) y[m * ldy] = VHSUM(VADD(acc[m][0], acc[m][1])); \
    }                                                                                               \
    KATTR void FN(dotg_##T)(const uint8_t *w, size_t rb, int64_t n_rows, int64_t K, const float *x, \
                            int M, float *y, int64_t ldy) {                                         \
        for (int64_t r = 0; r < n_rows; r++, w += rb)                                               \
            for (int m0 = 0; m0 < M; m0 += GMAX) {                                                  \
                const float *xm = x + m0 * K;                                                       \
                float *ym = y + m0 * ldy + r;                                                       \
                switch (M - m0 < GMAX ? M - m0 : GMAX) {                                            \
                case 1: FN(rowg_##T)(w, K, xm, ym, ldy, 1); break;                                  \
                case 2: FN(rowg_##T)(w, K, xm, ym, ldy, 2); break;                                  \
                case 3: FN(rowg_##T)(w, K, xm, ym, ldy, 3); break;                                  \
                case 4: FN(rowg_##T)(w, K, xm, ym, ldy, 4); break;                                  \
                case 5: FN(rowg_##T)(w, K, xm, ym, ldy, 5 <= GMAX ? 5 : 1); break;                  \
                case 6: FN(rowg_##T)(w, K, xm, ym, ldy, 6 <= GMAX ? 6 : 1); break;                  \
                case 7: FN(rowg_##T)(w, K, xm, ym, ldy, 7 <= GMAX ? 7 : 1); break;                  \
                default: FN(rowg_##T)(w, K, xm, ym, ldy, 8 <= GMAX ? 8 : 1); break;                 \
                }                                                                                   \
            }                                                                                       \
    }

ROWSG(iq3_s, 110, 0)
ROWSG(iq2_xs, 74, 1)
ROWSG(iq2_xxs, 66, 0)
ROWSG(iq2_s, 82, 1)
ROWSG(iq3_xxs, 98, 0)
ROWSG(iq1_s, 50, 0)
ROWSG(iq1_m, 56, 1)

#undef ROWSG
#undef GMAX

/* Installs this level's grid i-quant kernels. */
static void FN(install_grid)(Dot *d) {
    d->rows[Q_IQ3_S] = FN(dotg_iq3_s);
    d->rows[Q_IQ2_XS] = FN(dotg_iq2_xs);
    d->rows[Q_IQ2_XXS] = FN(dotg_iq2_xxs);
    d->rows[Q_IQ2_S] = FN(dotg_iq2_s);
    d->rows[Q_IQ3_XXS] = FN(dotg_iq3_xxs);
    d->rows[Q_IQ1_S] = FN(dotg_iq1_s);
    d->rows[Q_IQ1_M] = FN(dotg_iq1_m);
}
