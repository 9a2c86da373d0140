/* iq3xxsquant: the IQ3_XXS block quantizer for quantize.c's dispatch (quant/qblock.h, private),
 * byte-identical to ggml's quantize_iq3_xxs (what ggml_quantize_chunk and llama_model_quantize
 * run), with and without importance weights.
 *
 * The format: 256 values in 8 sub-blocks of 32, each of 8 groups of 4 magnitudes taken from a grid
 * of 256 points (formats/iq_tables.h iq3xxs_grid; the quantizer sees each value as 2l+1, l in
 * 0..7: the decoder's bytes 4, 12, .., 52 are 4 (2l+1) and its 62 is level 7), the signs of 8
 * values as 7 bits (the 8th makes the number of minus signs even: when |x| has an odd number, the
 * sign of the value with the smallest w x^2 is flipped first, as for IQ2_XS) and a 4-bit scale per
 * sub-block. A group's nearest lattice point off the grid is replaced by the best of its grid
 * neighbours: the grid points at the 2 smallest distinct squared distances from it, in order of
 * distance then grid index (quant/iqgrid.c; the table depends on the grid alone, is built once
 * per process under pthread_once and only read after).
 *
 * Per sub-block: weights w = imp*sqrt(sigma2 + x^2) (sigma2 = 2 * mean x^2 over the 256 values)
 * or x^2; a sub-block whose largest |x| is below 1e-8 is left zero (index 0, signs 0, scale code
 * 0). Else 31 trial inverse scales (15 + 0.2 t)/max, t = -15..15, each giving every group its
 * lattice point (or best neighbour) and a least-squares scale, keeping the largest
 * (sum w q x)^2 / sum w q^2; the groups that were off the grid at that trial are re-picked at its
 * scale and the scale refit. d = max scale / 31 is stored as fp16 of d * 1.0125 (ggml's fudge
 * factor), each sub-block scale as 4-bit l with scale ~ d (2l + 1).
 * Layout (98 bytes): half d; u8 grid index[64]; u32 (little-endian) per sub-block: four 7-bit
 * sign sets in bits 0..27, scale l in bits 28..31. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "formats/iq_tables.h"
#include "quant/iqgrid.h"
#include "quant/qblock.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define GRID 256
#define NWANT 2      /* distinct distances of neighbours kept */
#define SUB 32
#define KMAXQ 8
#define EPS 1e-8f    /* ggml's GROUP_MAX_EPS_IQ3_XXS */

static IqGrid grid;
static pthread_once_t grid_once = PTHREAD_ONCE_INIT;

static void build_grid(void) {
    static uint8_t levels[GRID * 4];
    for (int j = 0; j < GRID; j++) /* byte b is level (b/4 - 1)/2: 4 -> 0, .., 52 -> 6, 62 -> 7 */
        for (int k = 0; k < 4; k++) levels[j * 4 + k] = (uint8_t)((((iq3xxs_grid[j] >> 8 * k) & 0xFF) / 4 - 1) / 2);
    iqgrid_build(&grid, 4, 3, KMAXQ, NWANT, GRID, levels);
}

/* |x| of 8 values into xv and their sign bits, made even in number by flipping the value of least
 * w x^2 (its xv then negative); returns the low 7 sign bits. */
static uint8_t even_signs(const float *x, const float *w, float *xv) {
    int nflip = 0;
    uint8_t s = 0;
    for (int i = 0; i < 8; i++) {
        if (x[i] >= 0) xv[i] = x[i];
        else {
            xv[i] = -x[i];
            nflip++;
            s |= (uint8_t)(1 << i);
        }
    }
    if (nflip % 2) {
        int imin = 0;
        float min = w[0] * x[0] * x[0];
        for (int i = 1; i < 8; i++) {
            const float ax = w[i] * x[i] * x[i];
            if (ax < min) {
                min = ax;
                imin = i;
            }
        }
        xv[imin] = -xv[imin];
        s ^= (uint8_t)(1 << imin);
    }
    return s & 127;
}

/* One sub-block of 32: its grid indices into idx[8], its sign word (bits 0..27) into *signs;
 * returns its scale (0 for a sub-block of near zeros). */
static float sub_block(const IqGrid *t, const float *xb, const float *qw, float sigma2, uint8_t *idx,
                       uint32_t *signs) {
    float w[SUB], waux[SUB], xv[SUB];
    int8_t L[SUB], Laux[SUB];
    uint8_t bsigns[SUB / 8];
    int on[SUB / 4], on_aux[SUB / 4];
    for (int i = 0; i < SUB; i++) w[i] = qw ? qw[i] * sqrtf(sigma2 + xb[i] * xb[i]) : xb[i] * xb[i];
    for (int i = 0; i < SUB; i++) waux[i] = sqrtf(w[i]);
    for (int k = 0; k < SUB / 8; k++) bsigns[k] = even_signs(xb + 8 * k, w + 8 * k, xv + 8 * k);
    float max = xv[0];
    for (int i = 1; i < SUB; i++) max = MAX(max, xv[i]);
    if (max < EPS) return 0;
    memset(L, 0, sizeof L);
    float best = 0, scale = max / (2 * KMAXQ - 1);
    for (int k = 0; k < SUB / 4; k++) on[k] = 1;
    for (int is = -15; is <= 15; is++) {
        const float id = (2 * KMAXQ - 1 + is * 0.2f) / max;
        const float this_scale = 1 / id;
        for (int k = 0; k < SUB / 4; k++) {
            const int u = iqgrid_lattice_point(t, xv + 4 * k, id, Laux + 4 * k);
            on_aux[k] = t->on_grid[u] >= 0;
            if (!on_aux[k]) iqgrid_best_neighbour(t, u, xv + 4 * k, waux + 4 * k, this_scale, Laux + 4 * k);
        }
        float sumq2, sumqx = iqgrid_weighted_fit(w, xv, Laux, SUB, &sumq2);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            scale = sumqx / sumq2;
            best = scale * sumqx;
            memcpy(L, Laux, sizeof L);
            memcpy(on, on_aux, sizeof on);
        }
    }
    int n_off = 0;
    for (int k = 0; k < SUB / 4; k++) n_off += !on[k];
    if (n_off > 0 && scale > 0) { /* only the groups that were off the grid move */
        const float id = 1 / scale;
        for (int k = 0; k < SUB / 4; k++) {
            if (on[k]) continue;
            const int u = iqgrid_lattice_point(t, xv + 4 * k, id, L + 4 * k);
            if (t->on_grid[u] < 0) iqgrid_best_neighbour(t, u, xv + 4 * k, waux + 4 * k, scale, L + 4 * k);
        }
        float sumq2, sumqx = iqgrid_weighted_fit(w, xv, L, SUB, &sumq2);
        if (sumq2 > 0) scale = sumqx / sumq2;
    }
    if (scale < 0) { /* a flipped value can make sumqx negative; ggml flips the signs then */
        scale = -scale;
        for (int k = 0; k < SUB / 8; k++) bsigns[k] = (uint8_t)(~bsigns[k] & 127);
    }
    for (int k = 0; k < SUB / 4; k++) {
        int u = 0;
        for (int i = 0; i < 4; i++) u |= L[4 * k + i] << 3 * i;
        idx[k] = (uint8_t)t->on_grid[u]; /* every L here is a grid point's */
    }
    *signs = 0;
    for (int k = 0; k < SUB / 8; k++) *signs |= (uint32_t)bsigns[k] << 7 * k;
    return scale;
}

void iq3xxs_block(const float *x, uint8_t *y, const float *qw) {
    pthread_once(&grid_once, build_grid);
    memset(y, 0, 98);
    float sumx2 = 0;
    for (int i = 0; i < QKK; i++) sumx2 += x[i] * x[i];
    const float sigma2 = 2 * sumx2 / QKK;
    float scales[QKK / SUB], max_scale = 0;
    uint32_t words[QKK / SUB] = {0};
    for (int ib = 0; ib < QKK / SUB; ib++) {
        scales[ib] = sub_block(&grid, x + SUB * ib, qw ? qw + SUB * ib : NULL, sigma2, y + 2 + 8 * ib, &words[ib]);
        max_scale = MAX(max_scale, scales[ib]);
    }
    if (!max_scale) {
        memset(y, 0, 98);
        return;
    }
    const float d = max_scale / 31;
    put_half(y, d * 1.0125f);
    const float id = 1 / d;
    for (int ib = 0; ib < QKK / SUB; ib++) {
        const int l = MAX(0, MIN(15, nearest_int(0.5f * (id * scales[ib] - 1))));
        const uint32_t v = words[ib] | (uint32_t)l << 28;
        for (int b = 0; b < 4; b++) y[66 + 4 * ib + b] = (uint8_t)(v >> 8 * b);
    }
}
