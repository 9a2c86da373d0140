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
 * distinct squared distances, in order of distance then index (the table is built once per
 * process, pthread_once, and only read after).
 * Per sub-block: w = imp * sqrt(sigma2 + x^2) (sigma2 = mean x^2 over the 256 values); 19 trial
 * inverse scales (5 + 0.1 t)/max, t = -9..9, each group its lattice point or best neighbour, the
 * least-squares scale with the largest (sum w q x)^2 / sum w q^2; groups that were off the grid
 * re-picked at that scale and the scale refit. d = max scale / 31 (fp16), each sub-block scale as
 * 4-bit l with scale ~ d (2l + 1).
 * Layout (74 bytes): half d; u16 qs[32] (grid index | 7 sign bits << 9); u8 scales[8]. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "formats/iq_tables.h"
#include "quant/qblock.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define GRID 512
#define LATTICE 65536 /* 8 values of 2 bits: point u has l_k = (u >> 2k) & 3 (only 0..2 occur) */
#define NWANT 2
#define SUB 16
#define KMAXQ 3

typedef struct {
    uint8_t val[GRID][8];     /* the quantizer's values 2l+1 */
    int16_t on_grid[LATTICE]; /* grid index, or -1 */
    uint32_t first[LATTICE];
    uint16_t count[LATTICE];
    uint16_t *nb;
} Iq2Tables;

static Iq2Tables tables;
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static int level_of(unsigned byte) { return byte == 8 ? 0 : byte == 25 ? 1 : 2; } /* 8, 25, 43 */

static int valid_point(int u) {
    for (int k = 0; k < 8; k++)
        if (((u >> 2 * k) & 3) == 3) return 0;
    return 1;
}

static void build_tables(void) {
    Iq2Tables *t = &tables;
    for (int i = 0; i < LATTICE; i++) t->on_grid[i] = -1;
    for (int j = 0; j < GRID; j++) {
        int u = 0;
        for (int k = 0; k < 8; k++) {
            const int l = level_of((unsigned)(iq2xs_grid[j] >> 8 * k) & 0xFF);
            t->val[j][k] = (uint8_t)(2 * l + 1);
            u |= l << 2 * k;
        }
        t->on_grid[u] = (int16_t)j;
    }
    int d2[GRID];
    size_t at = 0;
    for (int pass = 0; pass < 2; pass++) {
        at = 0;
        for (int u = 0; u < LATTICE; u++) {
            if (t->on_grid[u] >= 0 || !valid_point(u)) continue;
            for (int j = 0; j < GRID; j++) {
                int d = 0;
                for (int k = 0; k < 8; k++) {
                    const int diff = t->val[j][k] - (2 * ((u >> 2 * k) & 3) + 1);
                    d += diff * diff;
                }
                d2[j] = d;
            }
            int lim[NWANT], have = 0, prev = -1;
            while (have < NWANT) {
                int m = INT_MAX;
                for (int j = 0; j < GRID; j++)
                    if (d2[j] > prev && d2[j] < m) m = d2[j];
                if (m == INT_MAX) break;
                lim[have++] = prev = m;
            }
            t->first[u] = (uint32_t)at;
            int n = 0;
            for (int m = 0; m < have; m++) /* ggml's qsort order of (d2, j) */
                for (int j = 0; j < GRID; j++)
                    if (d2[j] == lim[m]) {
                        if (pass) t->nb[at] = (uint16_t)j;
                        at++, n++;
                    }
            t->count[u] = (uint16_t)n;
        }
        if (!pass) t->nb = xmalloc(at * sizeof *t->nb);
    }
}

static int best_neighbour(const Iq2Tables *t, int u, const float *xv, const float *w, float scale,
                          int8_t *L) {
    float best = FLT_MAX;
    int idx = -1;
    const uint16_t *nb = t->nb + t->first[u];
    for (int m = 0; m < t->count[u]; m++) {
        const uint8_t *g = t->val[nb[m]];
        float d2 = 0;
        for (int i = 0; i < 8; i++) {
            const float q = g[i];
            const float diff = scale * q - xv[i];
            d2 += w[i] * diff * diff;
        }
        if (d2 < best) {
            best = d2;
            idx = nb[m];
        }
    }
    for (int i = 0; i < 8; i++) L[i] = (int8_t)((t->val[idx][i] - 1) / 2);
    return idx;
}

static int lattice_point(const float *xv, float id, int8_t *L) {
    int u = 0;
    for (int i = 0; i < 8; i++) {
        const int l = MAX(0, MIN(KMAXQ - 1, nearest_int(0.5f * (id * xv[i] - 1))));
        L[i] = (int8_t)l;
        u |= l << 2 * i;
    }
    return u;
}

static float weighted_fit(const float *w, const float *xv, const int8_t *L, float *sumq2_out) {
    float sumqx = 0, sumq2 = 0;
    for (int i = 0; i < SUB; i++) {
        const float q = 2 * L[i] + 1;
        sumqx += w[i] * xv[i] * q;
        sumq2 += w[i] * q * q;
    }
    *sumq2_out = sumq2;
    return sumqx;
}

void iq2xs_block(const float *x, uint8_t *y, const float *qw) {
    pthread_once(&tables_once, build_tables);
    const Iq2Tables *t = &tables;
    uint16_t q2[QKK / 8] = {0};
    memset(y, 0, 74);
    float sumx2 = 0;
    for (int i = 0; i < QKK; i++) sumx2 += x[i] * x[i];
    const float sigma2 = sumx2 / QKK;
    float scales[QKK / SUB], max_scale = 0;
    for (int ib = 0; ib < QKK / SUB; ib++) {
        const float *xb = x + SUB * ib;
        float w[SUB], waux[SUB], xv[SUB];
        int8_t L[SUB], Laux[SUB];
        uint8_t bsigns[2];
        int on[2], on_aux[2];
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
        memset(L, 0, sizeof L);
        if (max < GROUP_MAX_EPS) {
            scales[ib] = 0;
            continue;
        }
        float best = 0, scale = max / (2 * KMAXQ - 1);
        on[0] = on[1] = 1;
        for (int is = -9; is <= 9; is++) {
            const float id = (2 * KMAXQ - 1 + is * 0.1f) / max;
            const float this_scale = 1 / id;
            for (int k = 0; k < 2; k++) {
                const int u = lattice_point(xv + 8 * k, id, Laux + 8 * k);
                on_aux[k] = t->on_grid[u] >= 0;
                if (!on_aux[k]) best_neighbour(t, u, xv + 8 * k, waux + 8 * k, this_scale, Laux + 8 * k);
            }
            float sumq2, sumqx = weighted_fit(w, xv, Laux, &sumq2);
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                scale = sumqx / sumq2;
                best = scale * sumqx;
                memcpy(L, Laux, sizeof L);
                memcpy(on, on_aux, sizeof on);
            }
        }
        if ((!on[0] || !on[1]) && scale > 0) {
            const float id = 1 / scale;
            for (int k = 0; k < 2; k++) {
                if (on[k]) continue;
                const int u = lattice_point(xv + 8 * k, id, L + 8 * k);
                if (t->on_grid[u] < 0) best_neighbour(t, u, xv + 8 * k, waux + 8 * k, scale, L + 8 * k);
            }
            float sumq2, sumqx = weighted_fit(w, xv, L, &sumq2);
            if (sumq2 > 0) scale = sumqx / sumq2;
        }
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
