/* iq3squant: the IQ3_S block quantizer for quantize.c's dispatch (quant/qblock.h, private),
 * byte-identical to ggml's quantize_iq3_s (what ggml_quantize_chunk and llama_model_quantize run),
 * with and without importance weights.
 *
 * The format: 256 values in 8 sub-blocks of 32, each of 8 groups of 4 magnitudes taken from a grid
 * of 512 points (formats/iq_tables.h iq3s_grid: 4 odd values 1..15 each) with a sign bit per value
 * and a 4-bit scale per sub-block. A group's nearest lattice point (values 2l+1, l in 0..7, 4096
 * of them) is mostly not on the grid; it is then replaced by the best of its grid neighbours: the
 * grid points at the 3 smallest distinct squared distances from it, in order of distance then
 * grid index (the first of equal weighted errors wins, as in ggml; quant/iqgrid.c). That
 * neighbour table depends on the grid alone: it is built once per process (pthread_once) and only
 * read after.
 *
 * Per sub-block: weights w = imp*sqrt(sigma2 + x^2) (sigma2 = 2 * mean x^2 over the 256 values)
 * or x^2; 19 trial inverse scales (15 + 0.2 t)/max|x|, t = -9..9, each giving every group its
 * lattice point (or best neighbour) and a least-squares scale, keeping the largest
 * (sum w q|x|)^2 / sum w q^2; if a group was off the grid the groups are re-picked at that scale
 * and the scale refit (iqgrid_search, step 0.2, every group). The block scale d = max scale / 31
 * is stored as fp16 of d * 1.033, each sub-block's as l in 0..15 with scale ~ d (2l + 1). ggml's quirk kept: a sub-block of zeros
 * does not advance the positions its group indices and signs are written at.
 * Layout (110 bytes): half d; u8 qs[64]; u8 qh[8]; u8 signs[32]; u8 scales[4]. */
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

#define GRID 512
#define NWANT 3      /* distinct distances of neighbours kept */
#define SUB 32
#define KMAXQ 8

static IqGrid grid;
static pthread_once_t grid_once = PTHREAD_ONCE_INIT;

static void build_grid(void) {
    static uint8_t levels[GRID * 4];
    for (int j = 0; j < GRID; j++) /* the grid's values are 2l+1 */
        for (int k = 0; k < 4; k++) levels[j * 4 + k] = (uint8_t)((((iq3s_grid[j] >> 8 * k) & 0xFF) - 1) / 2);
    iqgrid_build(&grid, 4, 3, KMAXQ, NWANT, GRID, levels);
}

void iq3s_block(const float *x, uint8_t *y, const float *qw) {
    pthread_once(&grid_once, build_grid);
    const IqGrid *t = &grid;
    memset(y, 0, 110);
    uint8_t *qs = y + 2, *qh = y + 66, *signs = y + 74, *sc = y + 106;
    float sumx2 = 0;
    for (int i = 0; i < QKK; i++) sumx2 += x[i] * x[i];
    const float sigma2 = 2 * sumx2 / QKK;
    float scales[QKK / SUB], max_scale = 0;
    for (int ib = 0; ib < QKK / SUB; ib++) {
        const float *xb = x + SUB * ib;
        float w[SUB], waux[SUB], xv[SUB];
        int8_t L[SUB];
        uint8_t bsigns[SUB / 8];
        for (int i = 0; i < SUB; i++) w[i] = qw ? qw[SUB * ib + i] * sqrtf(sigma2 + xb[i] * xb[i]) : xb[i] * xb[i];
        for (int i = 0; i < SUB; i++) waux[i] = sqrtf(w[i]);
        for (int k = 0; k < SUB / 8; k++) {
            uint8_t s = 0;
            for (int i = 0; i < 8; i++) {
                if (xb[8 * k + i] >= 0) xv[8 * k + i] = xb[8 * k + i];
                else {
                    xv[8 * k + i] = -xb[8 * k + i];
                    s |= (uint8_t)(1 << i);
                }
            }
            bsigns[k] = s;
        }
        float max = xv[0];
        for (int i = 1; i < SUB; i++) max = MAX(max, xv[i]);
        if (!max) {
            scales[ib] = 0;
            continue; /* ggml's quirk: qs and signs do not advance */
        }
        float scale = iqgrid_search(t, xv, w, waux, SUB, max, 0.2f, 1, L);
        if (scale < 0) { /* cannot happen (|x| against positive levels); ggml guards it so */
            scale = -scale;
            for (int k = 0; k < SUB / 8; k++) bsigns[k] = (uint8_t)~bsigns[k];
        }
        for (int k = 0; k < SUB / 4; k++) {
            int u = 0;
            for (int i = 0; i < 4; i++) u |= L[4 * k + i] << 3 * i;
            const int gi = t->on_grid[u]; /* every L here is a grid point's */
            qs[k] = (uint8_t)(gi & 255);
            qh[ib] |= (uint8_t)((gi >> 8) << k);
        }
        qs += SUB / 4;
        memcpy(signs, bsigns, SUB / 8);
        signs += SUB / 8;
        scales[ib] = scale;
        max_scale = MAX(max_scale, scale);
    }
    if (!max_scale) return;
    const float d = max_scale / 31;
    put_half(y, d * 1.033f);
    const float id = 1 / d;
    for (int ib = 0; ib < QKK / SUB; ib += 2) {
        const int l1 = MAX(0, MIN(15, nearest_int(0.5f * (id * scales[ib] - 1))));
        const int l2 = MAX(0, MIN(15, nearest_int(0.5f * (id * scales[ib + 1] - 1))));
        sc[ib / 2] = (uint8_t)(l1 | l2 << 4);
    }
}
