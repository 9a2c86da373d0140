/* iq2xsquant: the IQ2_XS block quantizer for quantize.c's dispatch (quant/qblock.h, private),
 * byte-identical to ggml's quantize_iq2_xs given the same importance weights. llama.cpp refuses
 * IQ2_XS without importance data; here qw NULL means uniform importance (documented in quantize.h).
 *
 * The format: 256 values in 16 sub-blocks of 16, each of 2 groups of 8 magnitudes taken from a
 * grid of 512 points (formats/iq_tables.h iq2xs_grid: 8 values each of 3 levels, the quantizer's
 * 2l+1 = 1, 3, 5), the signs of a group as 7 bits (the 8th makes the number of minus signs even:
 * when |x| has an odd number, the sign of the value with the smallest w x^2 is flipped first) and a
 * 4-bit scale per sub-block. A group's nearest lattice point (l in 0..2 per value, 3^8 of them) off
 * the grid is replaced by the best of its grid neighbours: the grid points at the 2 smallest
 * distinct squared distances, in order of distance then index (quant/iqgrid.c; the table is
 * built once per process, pthread_once, and only read after).
 * Per sub-block: w = imp * sqrt(sigma2 + x^2) (sigma2 = mean x^2 over the 256 values); 19 trial
 * inverse scales (5 + 0.1 t)/max, t = -9..9, each group its lattice point or best neighbour, the
 * least-squares scale with the largest (sum w q x)^2 / sum w q^2; groups that were off the grid
 * re-picked at that scale and the scale refit (iqgrid_search, step 0.1, off-grid groups only).
 * d = max scale / 31 (fp16), each sub-block scale as 4-bit l with scale ~ d (2l + 1).
 * Layout (74 bytes): half d; u16 qs[32] (grid index | 7 sign bits << 9); u8 scales[8]. */
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
#define NWANT 2
#define SUB 16
#define KMAXQ 3

static IqGrid grid;
static pthread_once_t grid_once = PTHREAD_ONCE_INIT;

static void build_grid(void) {
    static uint8_t levels[GRID * 8];
    for (int j = 0; j < GRID; j++) /* the grid's bytes 8, 25, 43 are levels 0, 1, 2 */
        for (int k = 0; k < 8; k++) {
            const unsigned byte = (unsigned)(iq2xs_grid[j] >> 8 * k) & 0xFF;
            levels[j * 8 + k] = (uint8_t)(byte == 8 ? 0 : byte == 25 ? 1 : 2);
        }
    iqgrid_build(&grid, 8, 2, KMAXQ, NWANT, GRID, levels);
}

void iq2xs_block(const float *x, uint8_t *y, const float *qw) {
    pthread_once(&grid_once, build_grid);
    const IqGrid *t = &grid;
    uint16_t q2[QKK / 8] = {0};
    memset(y, 0, 74);
    float sumx2 = 0;
    for (int i = 0; i < QKK; i++) sumx2 += x[i] * x[i];
    const float sigma2 = sumx2 / QKK;
    float scales[QKK / SUB], max_scale = 0;
    for (int ib = 0; ib < QKK / SUB; ib++) {
        const float *xb = x + SUB * ib;
        float w[SUB], waux[SUB], xv[SUB];
        int8_t L[SUB];
        uint8_t bsigns[2];
        for (int i = 0; i < SUB; i++) w[i] = (qw ? qw[SUB * ib + i] : 1.0f) * sqrtf(sigma2 + xb[i] * xb[i]);
        for (int i = 0; i < SUB; i++) waux[i] = sqrtf(w[i]);
        for (int k = 0; k < 2; k++) {
            int nflip = 0;
            uint8_t s = 0;
            for (int i = 0; i < 8; i++) {
                if (xb[8 * k + i] >= 0) xv[8 * k + i] = xb[8 * k + i];
                else {
                    xv[8 * k + i] = -xb[8 * k + i];
                    nflip++;
                    s |= (uint8_t)(1 << i);
                }
            }
            if (nflip % 2) { /* an even number of minus signs: flip the least important value */
                int imin = 0;
                float min = w[8 * k] * xb[8 * k] * xb[8 * k];
                for (int i = 1; i < 8; i++) {
                    const float ax = w[8 * k + i] * xb[8 * k + i] * xb[8 * k + i];
                    if (ax < min) {
                        min = ax;
                        imin = i;
                    }
                }
                xv[8 * k + imin] = -xv[8 * k + imin];
                s ^= (uint8_t)(1 << imin);
            }
            bsigns[k] = s & 127;
        }
        float max = xv[0];
        for (int i = 1; i < SUB; i++) max = MAX(max, xv[i]);
        if (max < GROUP_MAX_EPS) {
            scales[ib] = 0;
            continue;
        }
        float scale = iqgrid_search(t, xv, w, waux, SUB, max, 0.1f, 0, L);
        if (scale < 0) { /* ggml guards it; a flipped value can make sumqx negative */
            scale = -scale;
            for (int k = 0; k < 2; k++) bsigns[k] = (uint8_t)(~bsigns[k] & 127);
        }
        for (int k = 0; k < 2; k++) {
            int u = 0;
            for (int i = 0; i < 8; i++) u |= L[8 * k + i] << 2 * i;
            q2[2 * ib + k] = (uint16_t)(t->on_grid[u] | bsigns[k] << 9);
        }
        scales[ib] = scale;
        max_scale = MAX(max_scale, scale);
    }
    if (!max_scale) return;
    const float d = max_scale / 31;
    put_half(y, d);
    const float id = 1 / d;
    for (int ib = 0; ib < QKK / SUB; ib++) {
        const int l = MAX(0, MIN(15, nearest_int(0.5f * (id * scales[ib] - 1))));
        y[66 + ib / 2] |= (uint8_t)(l << 4 * (ib % 2));
    }
    for (int k = 0; k < QKK / 8; k++) {
        y[2 + 2 * k] = (uint8_t)(q2[k] & 0xFF);
        y[3 + 2 * k] = (uint8_t)(q2[k] >> 8);
    }
}
