/* kquant: the one piece of the k-quant block layout that the dequantizers (formats/qtype.c), the
 * fast panel kernels and the quantizer (quant/quantize.c) all need: how a Q4_K/Q5_K super-block
 * packs its eight 6-bit scales and eight 6-bit mins into 12 bytes (ggml's layout).
 *   bytes 0..3:  scale j (low 6 bits) for j < 4, top 2 bits of scale j+4 in bits 6..7
 *   bytes 4..7:  min j   (low 6 bits) for j < 4, top 2 bits of min j+4   in bits 6..7
 *   bytes 8..11: low 4 bits of scale j+4 (bits 0..3) and of min j+4 (bits 4..7)
 * Header-only (static inline) so the AVX kernels inline it. */
#ifndef COLDTOK_KQUANT_H
#define COLDTOK_KQUANT_H

#include <stdint.h>

/* Scale and min of sub-block j (0..7) from the 12 packed bytes q. */
static inline void k4_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* The inverse: stores scale sc and min m (each < 64) of sub-block j. Bytes 0..7 must be written
 * for j < 4 before j >= 4 ORs its top bits into them (sub-blocks are stored in order). */
static inline void k4_put_scale_min(uint8_t *q, int j, uint8_t sc, uint8_t m) {
    if (j < 4) {
        q[j] = sc;
        q[j + 4] = m;
    } else {
        q[j + 4] = (uint8_t)((sc & 0xF) | ((m & 0xF) << 4));
        q[j - 4] |= (uint8_t)((sc >> 4) << 6);
        q[j] |= (uint8_t)((m >> 4) << 6);
    }
}

#endif
