/* iquants: see iquants.h.
 *
 * Block layouts (256 weights; "half" an IEEE fp16, multi-byte fields little-endian). A block is 8
 * groups of 32 weights; each group is 4 runs of 8 weights, each run one grid entry (IQ2: one entry
 * of 8 values; IQ3: two entries of 4) with its signs; IQ1 runs have no signs but a shared delta.
 *   IQ2_XXS  66 B: half d; 8 x {u8 grid[4]; u32 signs7[4] | scale4 << 28}
 *                  x = d (0.5 + scale) / 4 * grid * sign
 *   IQ2_XS   74 B: half d; u16 qs[32] (grid9 | signs7 << 9); u8 scales[8] (a nibble per 16)
 *   IQ2_S    82 B: half d; u8 qs[32]; u8 signs[32]; u8 qh[8] (grid bits 8..9); u8 scales[8]
 *   IQ3_XXS  98 B: half d; u8 grid[64]; u32 (signs7[4] | scale4 << 28)[8]
 *                  x = d (0.5 + scale) / 2 * grid * sign
 *   IQ3_S   110 B: half d; u8 qs[64]; u8 qh[8] (grid bit 8); u8 signs[32]; u8 scales[4]
 *                  x = d (1 + 2 scale) * grid * sign, a scale nibble per 32
 *   IQ1_S    50 B: half d; u8 qs[32]; u16 qh[8] (grid bits 8..10 x4 | scale3 << 12 | neg << 15)
 *                  x = d (2 scale + 1) (grid +- delta)
 *   IQ1_M    56 B: u8 qs[32]; u8 qh[16] (grid bits 8..10 and neg, per run); u16 scales[4]
 *                  (3-bit scale per 16 weights; fp16 d in the top nibbles of the four)
 * The grids and sign patterns are in iq_tables.c (generated from ggml's own dequantizer). Every
 * function performs the same float32 operations in the same order as ggml's dequantize_row_iq*,
 * so the results are bit-identical (no FMA contraction: see the pragma; GCC's -std=c11 already
 * keeps it off). */
#include "formats/iquants.h"

#include <string.h>

#include "formats/iq_tables.h"
#include "formats/half.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Value j of a grid entry (bytes packed low first). */
static float grid_value(uint64_t entry, int j) { return (float)(uint8_t)(entry >> (8 * j)); }
/* x negated when bit j of signs is set. ggml multiplies by -1.f or 1.f, which equals this for
 * every number; written as a flip of the sign bit (what negation is) so that a NaN scale comes out
 * the same at every optimization level (GCC turns the multiplication into a negation at -O2, not
 * at -O0) and as formats/convert_iq_x86.c's kernels, and without a branch on random bits. */
static float with_sign(float x, uint8_t signs, int j) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    u ^= (uint32_t)((signs >> j) & 1) << 31;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* 8 weights from one IQ2 grid entry: db * grid * sign, as ggml multiplies them. */
static void put_run8(float *y, float db, uint64_t entry, uint8_t signs) {
    for (int j = 0; j < 8; j++) y[j] = with_sign(db * grid_value(entry, j), signs, j);
}

/* 8 weights from two IQ3 grid entries of 4 values; the signs cover both. */
static void put_run4x2(float *y, float db, uint32_t e1, uint32_t e2, uint8_t signs) {
    for (int j = 0; j < 4; j++) {
        y[j + 0] = with_sign(db * grid_value(e1, j), signs, j + 0);
        y[j + 4] = with_sign(db * grid_value(e2, j), signs, j + 4);
    }
}

void dq_iq2_xxs(const uint8_t *b, float *y) {
    const float d = half_at(b);
    const uint8_t *q = b + 2;
    for (int ib = 0; ib < 8; ib++, q += 8) {
        const uint32_t aux = le32(q + 4);
        const float db = d * (0.5f + (aux >> 28)) * 0.25f;
        for (int l = 0; l < 4; l++, y += 8)
            put_run8(y, db, iq2xxs_grid[q[l]], iq_ksigns[(aux >> 7 * l) & 127]);
    }
}

void dq_iq2_xs(const uint8_t *b, float *y) {
    const float d = half_at(b);
    const uint8_t *qs = b + 2, *scales = b + 66;
    for (int ib = 0; ib < 8; ib++) {
        const float db[2] = {d * (0.5f + (scales[ib] & 0xf)) * 0.25f,
                             d * (0.5f + (scales[ib] >> 4)) * 0.25f};
        for (int l = 0; l < 4; l++, y += 8) {
            const uint16_t q = le16(qs + 2 * (4 * ib + l));
            put_run8(y, db[l / 2], iq2xs_grid[q & 511], iq_ksigns[q >> 9]);
        }
    }
}

void dq_iq2_s(const uint8_t *b, float *y) {
    const float d = half_at(b);
    const uint8_t *qs = b + 2, *signs = b + 34, *qh = b + 66, *scales = b + 74;
    for (int ib = 0; ib < 8; ib++, qs += 4, signs += 4) {
        const float db[2] = {d * (0.5f + (scales[ib] & 0xf)) * 0.25f,
                             d * (0.5f + (scales[ib] >> 4)) * 0.25f};
        for (int l = 0; l < 4; l++, y += 8) {
            const int idx = qs[l] | ((qh[ib] << (8 - 2 * l)) & 0x300);
            put_run8(y, db[l / 2], iq2s_grid[idx], signs[l]);
        }
    }
}

void dq_iq3_xxs(const uint8_t *b, float *y) {
    const float d = half_at(b);
    const uint8_t *qs = b + 2, *scales_and_signs = b + 66;
    for (int ib = 0; ib < 8; ib++, qs += 8) {
        const uint32_t aux = le32(scales_and_signs + 4 * ib);
        const float db = d * (0.5f + (aux >> 28)) * 0.5f;
        for (int l = 0; l < 4; l++, y += 8)
            put_run4x2(y, db, iq3xxs_grid[qs[2 * l]], iq3xxs_grid[qs[2 * l + 1]],
                       iq_ksigns[(aux >> 7 * l) & 127]);
    }
}

void dq_iq3_s(const uint8_t *b, float *y) {
    const float d = half_at(b);
    const uint8_t *qs = b + 2, *qh = b + 66, *signs = b + 74, *scales = b + 106;
    for (int ib = 0; ib < 8; ib++, qs += 8, signs += 4) {
        const int nibble = ib % 2 ? scales[ib / 2] >> 4 : scales[ib / 2] & 0xf;
        const float db = d * (1 + 2 * nibble);
        for (int l = 0; l < 4; l++, y += 8) {
            const int i1 = qs[2 * l + 0] | ((qh[ib] << (8 - 2 * l)) & 256);
            const int i2 = qs[2 * l + 1] | ((qh[ib] << (7 - 2 * l)) & 256);
            put_run4x2(y, db, iq3s_grid[i1], iq3s_grid[i2], signs[l]);
        }
    }
}

/* Value j of an IQ1 grid entry: -1, 0 or 1. */
static int iq1_value(uint16_t entry, int j) { return ((entry >> (2 * j)) & 3) - 1; }

static void put_iq1_run(float *y, float dl, uint16_t entry, float delta) {
    for (int j = 0; j < 8; j++) y[j] = dl * (iq1_value(entry, j) + delta);
}

void dq_iq1_s(const uint8_t *b, float *y) {
    const float d = half_at(b);
    const uint8_t *qs = b + 2, *qh = b + 34;
    for (int ib = 0; ib < 8; ib++, qs += 4) {
        const uint16_t h = le16(qh + 2 * ib);
        const float dl = d * (2 * ((h >> 12) & 7) + 1);
        const float delta = h & 0x8000 ? -iq1s_delta : iq1s_delta;
        for (int l = 0; l < 4; l++, y += 8)
            put_iq1_run(y, dl, iq1s_grid[qs[l] | (((h >> 3 * l) & 7) << 8)], delta);
    }
}

void dq_iq1_m(const uint8_t *b, float *y) {
    const uint8_t *qs = b, *qh = b + 32;
    uint16_t sc[4];
    for (int i = 0; i < 4; i++) sc[i] = le16(b + 48 + 2 * i);
    const uint16_t d16 = (uint16_t)((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) |
                                    ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
    const float d = half_to_f32(d16);
    for (int ib = 0; ib < 8; ib++, qs += 4, qh += 2) {
        const int shift = 6 * (ib % 2);
        const float dl[2] = {d * (2 * ((sc[ib / 2] >> (shift + 0)) & 7) + 1),
                             d * (2 * ((sc[ib / 2] >> (shift + 3)) & 7) + 1)};
        for (int l = 0; l < 4; l++, y += 8) {
            const uint8_t h = qh[l / 2];
            const int hi = l % 2 ? (h << 4) & 0x700 : (h << 8) & 0x700;
            const float delta = h & (l % 2 ? 0x80 : 0x08) ? -iq1m_delta : iq1m_delta;
            put_iq1_run(y, dl[l / 2], iq1s_grid[qs[l] | hi], delta);
        }
    }
}
