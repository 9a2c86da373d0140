/* iqgrid: see iqgrid.h. */
#include "quant/iqgrid.h"

#include <float.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "quant/qblock.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

static int level(const IqGrid *g, int u, int k) { return (u >> g->bits * k) & ((1 << g->bits) - 1); }

static int real_point(const IqGrid *g, int u) {
    for (int k = 0; k < g->group; k++)
        if (level(g, u, k) >= g->nlevels) return 0;
    return 1;
}

/* Squared distances from lattice point u to every grid point into d2; the nwant smallest distinct
 * ones, ascending, into lim (fewer when there are fewer). Returns how many. */
static int distances(const IqGrid *g, int u, int nwant, int *d2, int *lim) {
    for (int j = 0; j < g->grid_n; j++) {
        int d = 0;
        for (int k = 0; k < g->group; k++) {
            const int diff = g->val[j * g->group + k] - (2 * level(g, u, k) + 1);
            d += diff * diff;
        }
        d2[j] = d;
    }
    int have = 0, prev = -1;
    while (have < nwant) {
        int m = INT_MAX;
        for (int j = 0; j < g->grid_n; j++)
            if (d2[j] > prev && d2[j] < m) m = d2[j];
        if (m == INT_MAX) break;
        lim[have++] = prev = m;
    }
    return have;
}

void iqgrid_build(IqGrid *g, int group, int bits, int nlevels, int nwant, int grid_n, const uint8_t *levels) {
    const int lattice = 1 << bits * group;
    *g = (IqGrid){.group = group, .bits = bits, .nlevels = nlevels, .grid_n = grid_n};
    g->val = xmalloc((size_t)grid_n * (size_t)group);
    g->on_grid = xmalloc((size_t)lattice * sizeof *g->on_grid);
    g->first = xcalloc((size_t)lattice, sizeof *g->first);
    g->count = xcalloc((size_t)lattice, sizeof *g->count);
    for (int i = 0; i < lattice; i++) g->on_grid[i] = -1;
    for (int j = 0; j < grid_n; j++) {
        int u = 0;
        for (int k = 0; k < group; k++) {
            const int l = levels[j * group + k];
            g->val[j * group + k] = (uint8_t)(2 * l + 1);
            u |= l << bits * k;
        }
        g->on_grid[u] = (int16_t)j;
    }
    int *d2 = xmalloc((size_t)grid_n * sizeof *d2), *lim = xmalloc((size_t)nwant * sizeof *lim);
    /* two passes: count the neighbours, then fill them in */
    for (int pass = 0; pass < 2; pass++) {
        size_t at = 0;
        for (int u = 0; u < lattice; u++) {
            if (g->on_grid[u] >= 0 || !real_point(g, u)) continue;
            const int n_lim = distances(g, u, nwant, d2, lim);
            g->first[u] = (uint32_t)at;
            int n = 0;
            for (int m = 0; m < n_lim; m++) /* ascending distance, then grid index */
                for (int j = 0; j < grid_n; j++)
                    if (d2[j] == lim[m]) {
                        if (pass) g->nb[at] = (uint16_t)j;
                        at++, n++;
                    }
            g->count[u] = (uint16_t)n;
        }
        if (!pass) g->nb = xmalloc(at * sizeof *g->nb);
    }
    free(d2);
    free(lim);
}

int iqgrid_lattice_point(const IqGrid *g, const float *xv, float id, int8_t *L) {
    int u = 0;
    for (int i = 0; i < g->group; i++) {
        const int l = MAX(0, MIN(g->nlevels - 1, nearest_int(0.5f * (id * xv[i] - 1))));
        if (L) L[i] = (int8_t)l;
        u |= l << g->bits * i;
    }
    return u;
}

int iqgrid_best_neighbour(const IqGrid *g, int u, const float *xv, const float *w, float scale, int8_t *L) {
    float best = FLT_MAX;
    int idx = -1;
    const uint16_t *nb = g->nb + g->first[u];
    for (int m = 0; m < g->count[u]; m++) {
        const uint8_t *v = g->val + nb[m] * g->group;
        float d2 = 0;
        for (int i = 0; i < g->group; i++) {
            const float q = v[i];
            const float diff = scale * q - xv[i];
            d2 += w[i] * diff * diff;
        }
        if (d2 < best) {
            best = d2;
            idx = nb[m];
        }
    }
    for (int i = 0; i < g->group; i++) L[i] = (int8_t)((g->val[idx * g->group + i] - 1) / 2);
    return idx;
}

float iqgrid_weighted_fit(const float *w, const float *xv, const int8_t *L, int n, float *sumq2_out) {
    float sumqx = 0, sumq2 = 0;
    for (int i = 0; i < n; i++) {
        const float q = 2 * L[i] + 1;
        sumqx += w[i] * xv[i] * q;
        sumq2 += w[i] * q * q;
    }
    *sumq2_out = sumq2;
    return sumqx;
}

float iqgrid_search(const IqGrid *g, const float *xv, const float *w, const float *waux, int n, float max,
                    float step, int repick_all, int8_t *L) {
    const int gs = g->group, ng = n / gs, top = 2 * g->nlevels - 1;
    int8_t Laux[IQGRID_MAX_SUB];
    int on[IQGRID_MAX_SUB], on_aux[IQGRID_MAX_SUB];
    float best = 0, scale = max / top;
    /* ggml starts IQ3_S's groups off the grid, IQ2's on it: this decides the re-pick when no
     * trial fits (all weights zero) */
    for (int k = 0; k < ng; k++) on[k] = !repick_all;
    for (int i = 0; i < n; i++) L[i] = 0;
    for (int is = -9; is <= 9; is++) {
        const float id = (top + is * step) / max;
        const float this_scale = 1 / id;
        for (int k = 0; k < ng; k++) {
            const int u = iqgrid_lattice_point(g, xv + gs * k, id, Laux + gs * k);
            on_aux[k] = g->on_grid[u] >= 0;
            if (!on_aux[k]) iqgrid_best_neighbour(g, u, xv + gs * k, waux + gs * k, this_scale, Laux + gs * k);
        }
        float sumq2, sumqx = iqgrid_weighted_fit(w, xv, Laux, n, &sumq2);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
            scale = sumqx / sumq2;
            best = scale * sumqx;
            memcpy(L, Laux, (size_t)n);
            memcpy(on, on_aux, (size_t)ng * sizeof *on);
        }
    }
    int n_off = 0;
    for (int k = 0; k < ng; k++) n_off += !on[k];
    if (n_off > 0 && scale > 0) {
        const float id = 1 / scale;
        for (int k = 0; k < ng; k++) {
            if (on[k] && !repick_all) continue;
            const int u = iqgrid_lattice_point(g, xv + gs * k, id, L + gs * k);
            if (g->on_grid[u] < 0) iqgrid_best_neighbour(g, u, xv + gs * k, waux + gs * k, scale, L + gs * k);
        }
        float sumq2, sumqx = iqgrid_weighted_fit(w, xv, L, n, &sumq2);
        if (sumq2 > 0) scale = sumqx / sumq2;
    }
    return scale;
}
