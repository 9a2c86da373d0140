/* lowbit: see lowbit.h. Layouts (little-endian; "half" is an IEEE fp16 scale):
 *   IQ4_NL  32 elems, 18 B: half d; u8 qs[16]
 *           x[j] = d * L[qs[j] & 15], x[j+16] = d * L[qs[j] >> 4]   (L: the 16 IQ4 levels)
 *   IQ4_XS 256 elems,136 B: half d; u16 scales_h; u8 scales_l[4]; u8 qs[128]
 *           sub-block b (32 elems): 6-bit s = low nibble b of scales_l | bits 2b..2b+1 of
 *           scales_h << 4; dl = d * (s - 32); then as IQ4_NL with dl over qs[16b..16b+15]
 *   TQ1_0  256 elems, 54 B: u8 qs[48]; u8 qh[4]; half d   (ternary, 5 trits per byte of qs,
 *           4 per byte of qh, stored as fixed-point fractions of 3^5 / 3^4)
 *           trit n of byte q: ((u8)(q * 3^n) * 3) >> 8;  x = (trit - 1) * d
 *           order: qs[0..31] trits 0..4 (32 at a time), qs[32..47] trits 0..4 (16 at a time),
 *           qh[0..3] trits 0..3 (4 at a time)
 *   TQ2_0  256 elems, 66 B: u8 qs[64]; half d
 *           for each 32-byte half, for shift 0,2,4,6: x = (((qs[m] >> shift) & 3) - 1) * d
 *   MXFP4   32 elems, 17 B: u8 e (e8m0 exponent); u8 qs[16]
 *           x[j] = M[qs[j] & 15] * S(e), x[j+16] = M[qs[j] >> 4] * S(e)
 *           (M: the e2m1 values doubled, S: the exponent's float halved)
 * Every product is one float multiplication as in ggml (IQ4_XS: two, scale first). */
#include "formats/lowbit.h"

#include <string.h>

#include "formats/half.h"
#include "formats/lowbit_tables.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* 16 bytes of nibbles into 32 floats: low nibbles first, then high nibbles. */
static void iq4_nibbles(const uint8_t *qs, float d, float *y) {
    for (int j = 0; j < 16; j++) {
        y[j] = d * IQ4_LEVELS[qs[j] & 0xF];
        y[j + 16] = d * IQ4_LEVELS[qs[j] >> 4];
    }
}

const int8_t *lowbit_iq4_levels(void) { return IQ4_LEVELS; }

void dq_iq4_nl(const uint8_t *b, float *y) { iq4_nibbles(b + 2, half_at(b), y); }

void dq_iq4_xs(const uint8_t *b, float *y) {
    const float d = half_at(b);
    const unsigned scales_h = (unsigned)(b[2] | b[3] << 8);
    const uint8_t *scales_l = b + 4, *qs = b + 8;
    for (int ib = 0; ib < 8; ib++) {
        const int ls = ((scales_l[ib / 2] >> 4 * (ib % 2)) & 0xF) | (((scales_h >> 2 * ib) & 3) << 4);
        const float dl = d * (ls - 32);
        iq4_nibbles(qs + 16 * ib, dl, y + 32 * ib);
    }
}

/* Trit n (0..4) of a TQ1_0 byte: the byte is a base-3 fraction scaled to 0..255, so multiplying
 * by 3^n (mod 256) shifts trit n to the top, and (q * 3) >> 8 reads it. */
static int trit(uint8_t q, int n) {
    static const uint8_t POW3[5] = {1, 3, 9, 27, 81};
    const uint8_t s = (uint8_t)(q * POW3[n]);
    return (s * 3) >> 8;
}

void dq_tq1_0(const uint8_t *b, float *y) {
    const uint8_t *qs = b, *qh = b + 48;
    const float d = half_at(b + 52);
    for (int n = 0; n < 5; n++)
        for (int m = 0; m < 32; m++) *y++ = (float)(trit(qs[m], n) - 1) * d;
    for (int n = 0; n < 5; n++)
        for (int m = 0; m < 16; m++) *y++ = (float)(trit(qs[32 + m], n) - 1) * d;
    for (int n = 0; n < 4; n++)
        for (int m = 0; m < 4; m++) *y++ = (float)(trit(qh[m], n) - 1) * d;
}

void dq_tq2_0(const uint8_t *b, float *y) {
    const float d = half_at(b + 64);
    for (int j = 0; j < 64; j += 32)
        for (int shift = 0; shift < 8; shift += 2)
            for (int m = 0; m < 32; m++) *y++ = (float)(((b[j + m] >> shift) & 3) - 1) * d;
}

void dq_mxfp4(const uint8_t *b, float *y) {
    float d;
    memcpy(&d, &MXFP4_SCALE_BITS[b[0]], sizeof d);
    const uint8_t *qs = b + 1;
    for (int j = 0; j < 16; j++) {
        y[j] = MXFP4_LEVELS[qs[j] & 0xF] * d;
        y[j + 16] = MXFP4_LEVELS[qs[j] >> 4] * d;
    }
}
