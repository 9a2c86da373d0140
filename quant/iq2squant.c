/* iq2squant: the IQ2_S block quantizer for quantize.c's dispatch (quant/qblock.h, private),
 * byte-identical to ggml's quantize_iq2_s (what ggml_quantize_chunk and llama_model_quantize run)
 * with and without importance weights. ggml quantizes IQ2_S without importance data too (its
 * weights then are sigma2/4 + x^2); llama_model_quantize refuses it, as it does IQ2_XS.
 *
 * The format: 256 values in 16 sub-blocks of 16, each of 2 groups of 8 magnitudes taken from a
 * grid of 1024 points (formats/iq_tables.h iq2s_grid: 8 values each of 3 levels, the quantizer's
 * 2l+1 = 1, 3, 5; its bytes 8, 25, 43), all 8 signs of a group in a byte (no parity trick, unlike
 * IQ2_XS) and a 4-bit scale per sub-block. A group's nearest lattice point (l in 0..2 per value)
 * off the grid is replaced by the best of its grid neighbours: here only the grid points at the
 * smallest squared distance (quant/iqgrid.c; the table is built once per process, pthread_once,
 * and only read after).
 * Per sub-block: w = imp * sqrt(sigma2 + x^2), or sigma2/4 + x^2 without importance (sigma2 =
 * 2 * mean x^2 over the 256 values); a sub-block whose largest |x| is below 1e-8 is left zero;
 * else iqgrid_search (19 trial inverse scales (5 + 0.1 t)/max, refit re-picking the off-grid
 * groups only). d = max scale / 31, stored as fp16 of d * 0.9875; each sub-block scale as 4-bit l
 * with scale ~ d (2l + 1).
 * Layout (82 bytes): half d; u8 qs[32] (low 8 bits of each group's grid index); u8 signs[32];
 * u8 qh[8] (the index's top 2 bits, 4 groups a byte); u8 scales[8] (two nibbles). */
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

#define GRID 1024
#define NWANT 1 /* neighbours: the grid points at the smallest distance only */
#define SUB 16
#define KMAXQ 3
#define EPS 1e-8f /* ggml's GROUP_MAX_EPS_IQ2_S */

static IqGrid grid;
static pthread_once_t grid_once = PTHREAD_ONCE_INIT;

static void build_grid(void) {
    static uint8_t levels[GRID * 8];
    for (int j = 0; j < GRID; j++) /* the grid's bytes 8, 25, 43 are levels 0, 1, 2 */
        for (int k = 0; k < 8; k++) {
            const unsigned byte = (unsigned)(iq2s_grid[j] >> 8 * k) & 0xFF;
            levels[j * 8 + k] = (uint8_t)(byte == 8 ? 0 : byte == 25 ? 1 : 2);
        }
    iqgrid_build(&grid, 8, 2, KMAXQ, NWANT, GRID, levels);
}

void iq2s_block(const float *x, uint8_t *y, const float *qw) {
    pthread_once(&grid_once, build_grid);
    const IqGrid *t = &grid;
    memset(y, 0, 82);
    uint8_t *qs = y + 2, *signs = y + 34, *qh = y + 66, *sc = y + 74;
    float sumx2 = 0;
    for (int i = 0; i < QKK; i++) sumx2 += x[i] * x[i];
    const float sigma2 = 2 * sumx2 / QKK;
    float scales[QKK / SUB], max_scale = 0;
    for (int ib = 0; ib < QKK / SUB; ib++) {
        const float *xb = x + SUB * ib;
        float w[SUB], waux[SUB], xv[SUB];
        int8_t L[SUB];
        uint8_t bsigns[2];
        for (int i = 0; i < SUB; i++)
            w[i] = qw ? qw[SUB * ib + i] * sqrtf(sigma2 + xb[i] * xb[i]) : 0.25f * sigma2 + xb[i] * xb[i];
        for (int i = 0; i < SUB; i++) waux[i] = sqrtf(w[i]);
        for (int k = 0; k < 2; k++) {
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
        if (max < EPS) {
            scales[ib] = 0;
            continue;
        }
        float scale = iqgrid_search(t, xv, w, waux, SUB, max, 0.1f, 0, L);
        if (scale < 0) { /* cannot happen (|x| against positive levels); ggml guards it so */
            scale = -scale;
            for (int k = 0; k < 2; k++) bsigns[k] = (uint8_t)~bsigns[k];
        }
        for (int k = 0; k < 2; k++) {
            int u = 0;
            for (int i = 0; i < 8; i++) u |= L[8 * k + i] << 2 * i;
            const int gi = t->on_grid[u], g8 = 2 * ib + k; /* every L here is a grid point's */
            qs[g8] = (uint8_t)(gi & 255);
            qh[g8 / 4] |= (uint8_t)((gi >> 8) << 2 * (g8 % 4));
            signs[g8] = bsigns[k];
        }
        scales[ib] = scale;
        max_scale = MAX(max_scale, scale);
    }
    if (!max_scale) return;
    const float d = max_scale / 31;
    put_half(y, d * 0.9875f);
    const float id = 1 / d;
    for (int ib = 0; ib < QKK / SUB; ib++) {
        const int l = MAX(0, MIN(15, nearest_int(0.5f * (id * scales[ib] - 1))));
        sc[ib / 2] |= (uint8_t)(l << 4 * (ib % 2));
    }
}
