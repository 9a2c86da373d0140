/* dot_grid: the fused dequantize-and-dot kernels of the grid i-quants (IQ3_S, IQ2_XS, IQ2_XXS,
 * IQ2_S, IQ3_XXS) for formats/dot.h. Included by formats/dot_x86.c only, once per level, right
 * after formats/dot_body.h, with the same vector macros (V, VI8, VSET1, VMUL, VFMA, VADD, VHSUM,
 * VLOADX, VZERO, FN, ATTR, KATTR, HALF) and dot_body.h's FMAX and FN(prefetch). No include guard:
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
 * bit for bit; otherwise the result is within the f32 summation bound (tests/test_matvec_grid.c).
 *
 * The grid entries are looked up one run at a time (scalar loads: a table index per run or
 * half-run), the signs spread from bits to byte masks by a shuffle, as dot_body.h's Q5_0 fifth
 * bits are. The formats/convert_iq_x86.c kernels expand the same runs on the float side (db * grid,
 * then the sign bit flipped, as the reference does, so that a NaN scale keeps the reference's
 * bits); here the sign has to come before the multiplication, so the expansion is on the bytes. */

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
    const __m128i m0 = FN(gsigns16)(signs & 0xFFFF), m1 = FN(gsigns16)(signs >> 16);
    w[0] = VI8(_mm_sub_epi8(_mm_xor_si128(g0, m0), m0));
    w[1] = VI8(_mm_sub_epi8(_mm_xor_si128(g1, m1), m1));
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

/* IQ3_S (110 B: half d; qs[64]; qh[8]; signs[32]; scales[4]): entry j of sub-block ib is
 * iq3s_grid[qs[8 ib + j] | bit j of qh[ib] << 8], 4 values; raw sign bytes, one per 8 weights. */
ATTR void FN(gq_iq3_s)(const uint8_t *b, int ib, V *w) {
    const uint8_t *qs = b + 2 + 8 * ib;
    const unsigned qh = b[66 + ib];
#define E3(j) (int)iq3s_grid[qs[j] | ((qh << (8 - (j))) & 256)]
    const __m128i g0 = _mm_setr_epi32(E3(0), E3(1), E3(2), E3(3));
    const __m128i g1 = _mm_setr_epi32(E3(4), E3(5), E3(6), E3(7));
#undef E3
    FN(gsigned)(g0, g1, FN(gle32)(b + 74 + 4 * ib), w);
}

/* db of the 8 sub-blocks: d * (1 + 2 * scale nibble ib), as iquants.c's dq_iq3_s */
ATTR void FN(gs_iq3_s)(const uint8_t *b, float *db) {
    const float d = HALF(b);
    const uint32_t s = FN(gle32)(b + 106);
    for (int ib = 0; ib < 8; ib++) db[ib] = d * (1 + 2 * (int)((s >> 4 * ib) & 15));
}

/* IQ2_XS (74 B: half d; u16 qs[32] = grid9 | signs7 << 9; scales[8], a nibble per 16 weights) */
ATTR void FN(gq_iq2_xs)(const uint8_t *b, int ib, V *w) {
    const uint8_t *qs = b + 2 + 8 * ib;
    const unsigned q0 = FN(gle16)(qs), q1 = FN(gle16)(qs + 2), q2 = FN(gle16)(qs + 4), q3 = FN(gle16)(qs + 6);
    const __m128i g0 = _mm_set_epi64x((long long)iq2xs_grid[q1 & 511], (long long)iq2xs_grid[q0 & 511]);
    const __m128i g1 = _mm_set_epi64x((long long)iq2xs_grid[q3 & 511], (long long)iq2xs_grid[q2 & 511]);
    const uint32_t signs = (uint32_t)iq_ksigns[q0 >> 9] | (uint32_t)iq_ksigns[q1 >> 9] << 8 |
                           (uint32_t)iq_ksigns[q2 >> 9] << 16 | (uint32_t)iq_ksigns[q3 >> 9] << 24;
    FN(gsigned)(g0, g1, signs, w);
}

/* db of the 16 halves of sub-blocks (2 ib: low nibble of scales[ib], 2 ib + 1: high):
 * d * (0.5 + nibble) * 0.25, as dq_iq2_xs and dq_iq2_s */
ATTR void FN(gs_iq2_16)(const uint8_t *b, const uint8_t *scales, float *db) {
    const float d = HALF(b);
    for (int ib = 0; ib < 8; ib++) {
        db[2 * ib] = d * (0.5f + (scales[ib] & 0xf)) * 0.25f;
        db[2 * ib + 1] = d * (0.5f + (scales[ib] >> 4)) * 0.25f;
    }
}
ATTR void FN(gs_iq2_xs)(const uint8_t *b, float *db) { FN(gs_iq2_16)(b, b + 66, db); }

/* IQ2_XXS (66 B: half d; 8 x {u8 grid[4]; u32 signs7[4] | scale4 << 28}) */
ATTR void FN(gq_iq2_xxs)(const uint8_t *b, int ib, V *w) {
    const uint8_t *q = b + 2 + 8 * ib;
    const uint32_t aux = FN(gle32)(q + 4);
    const __m128i g0 = _mm_set_epi64x((long long)iq2xxs_grid[q[1]], (long long)iq2xxs_grid[q[0]]);
    const __m128i g1 = _mm_set_epi64x((long long)iq2xxs_grid[q[3]], (long long)iq2xxs_grid[q[2]]);
    const uint32_t signs = (uint32_t)iq_ksigns[aux & 127] | (uint32_t)iq_ksigns[(aux >> 7) & 127] << 8 |
                           (uint32_t)iq_ksigns[(aux >> 14) & 127] << 16 | (uint32_t)iq_ksigns[(aux >> 21) & 127] << 24;
    FN(gsigned)(g0, g1, signs, w);
}

/* d * (0.5 + scale) * 0.25, the scale in the top 4 bits of each sub-block's aux word */
ATTR void FN(gs_iq2_xxs)(const uint8_t *b, float *db) {
    const float d = HALF(b);
    for (int ib = 0; ib < 8; ib++) db[ib] = d * (0.5f + (FN(gle32)(b + 2 + 8 * ib + 4) >> 28)) * 0.25f;
}

/* IQ2_S (82 B: half d; qs[32]; raw signs[32]; qh[8] (grid bits 8..9, two per run); scales[8]) */
ATTR void FN(gq_iq2_s)(const uint8_t *b, int ib, V *w) {
    const uint8_t *qs = b + 2 + 4 * ib;
    const unsigned qh = b[66 + ib];
#define E2(l) (long long)iq2s_grid[qs[l] | ((qh << (8 - 2 * (l))) & 0x300)]
    const __m128i g0 = _mm_set_epi64x(E2(1), E2(0));
    const __m128i g1 = _mm_set_epi64x(E2(3), E2(2));
#undef E2
    FN(gsigned)(g0, g1, FN(gle32)(b + 34 + 4 * ib), w);
}
ATTR void FN(gs_iq2_s)(const uint8_t *b, float *db) { FN(gs_iq2_16)(b, b + 74, db); }

/* IQ3_XXS (98 B: half d; u8 grid[64]; u32 (signs7[4] | scale4 << 28)[8]) */
ATTR void FN(gq_iq3_xxs)(const uint8_t *b, int ib, V *w) {
    const uint8_t *qs = b + 2 + 8 * ib;
    const uint32_t aux = FN(gle32)(b + 66 + 4 * ib);
#define E3(j) (int)iq3xxs_grid[qs[j]]
    const __m128i g0 = _mm_setr_epi32(E3(0), E3(1), E3(2), E3(3));
    const __m128i g1 = _mm_setr_epi32(E3(4), E3(5), E3(6), E3(7));
#undef E3
    const uint32_t signs = (uint32_t)iq_ksigns[aux & 127] | (uint32_t)iq_ksigns[(aux >> 7) & 127] << 8 |
                           (uint32_t)iq_ksigns[(aux >> 14) & 127] << 16 | (uint32_t)iq_ksigns[(aux >> 21) & 127] << 24;
    FN(gsigned)(g0, g1, signs, w);
}

/* d * (0.5 + scale) * 0.5 */
ATTR void FN(gs_iq3_xxs)(const uint8_t *b, float *db) {
    const float d = HALF(b);
    for (int ib = 0; ib < 8; ib++) db[ib] = d * (0.5f + (FN(gle32)(b + 66 + 4 * ib) >> 28)) * 0.5f;
}

/* ---- the kernels: one row times MC <= FMAX vectors; passes of FMAX vectors over a row ----
 * PER16: db per 16 weights (db[2 ib], db[2 ib + 1]), else per sub-block of 32 (db[ib]). Two
 * partial sums per vector, so consecutive sub-blocks do not wait on each other's FMA. */
#define ROWSG(T, BB, PER16)                                                                         \
    ATTR void FN(rowg_##T)(const uint8_t *row, int64_t K, const float *x, float *y, int64_t ldy,    \
                           const int MC) {                                                          \
        V acc[FMAX][2];                                                                             \
        _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) acc[m][0] = acc[m][1] = VZERO();       \
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
                    _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) {                          \
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
        _Pragma("GCC unroll 4") for (int m = 0; m < MC; m++) y[m * ldy] = VHSUM(VADD(acc[m][0], acc[m][1])); \
    }                                                                                               \
    KATTR void FN(dotg_##T)(const uint8_t *w, size_t rb, int64_t n_rows, int64_t K, const float *x, \
                            int M, float *y, int64_t ldy) {                                         \
        for (int64_t r = 0; r < n_rows; r++, w += rb)                                               \
            for (int m0 = 0; m0 < M; m0 += FMAX) {                                                  \
                const float *xm = x + m0 * K;                                                       \
                float *ym = y + m0 * ldy + r;                                                       \
                switch (M - m0 < FMAX ? M - m0 : FMAX) {                                            \
                case 1: FN(rowg_##T)(w, K, xm, ym, ldy, 1); break;                                  \
                case 2: FN(rowg_##T)(w, K, xm, ym, ldy, 2); break;                                  \
                case 3: FN(rowg_##T)(w, K, xm, ym, ldy, 3 <= FMAX ? 3 : 1); break;                  \
                default: FN(rowg_##T)(w, K, xm, ym, ldy, 4 <= FMAX ? 4 : 1); break;                 \
                }                                                                                   \
            }                                                                                       \
    }

ROWSG(iq3_s, 110, 0)
ROWSG(iq2_xs, 74, 1)
ROWSG(iq2_xxs, 66, 0)
ROWSG(iq2_s, 82, 1)
ROWSG(iq3_xxs, 98, 0)

#undef ROWSG

/* Installs this level's grid i-quant kernels. */
static void FN(install_grid)(Dot *d) {
    d->rows[Q_IQ3_S] = FN(dotg_iq3_s);
    d->rows[Q_IQ2_XS] = FN(dotg_iq2_xs);
    d->rows[Q_IQ2_XXS] = FN(dotg_iq2_xxs);
    d->rows[Q_IQ2_S] = FN(dotg_iq2_s);
    d->rows[Q_IQ3_XXS] = FN(dotg_iq3_xxs);
}
