/* iqgrid: the lattice, its grid neighbours and the scale search, shared by the grid i-quant
 * quantizers (IQ2_XS and IQ2_S: groups of 8 values with 3 levels in 2 bits each; IQ3_S: groups of
 * 4 with 8 levels in 3 bits), private to quant/ like qblock.h.
 *
 * A group of magnitudes at inverse scale id rounds to its lattice point (a level l per value, the
 * value 2l+1; point u holds l_k in bits [bits*k, bits*k + bits)). When that point is not on the
 * format's grid it is replaced by the best of its grid neighbours: the grid points at the nwant
 * smallest distinct squared distances from it, in order of distance then grid index (ggml's qsort
 * order of (d2, j)), the first of equal weighted errors winning, as in ggml. The tables depend on
 * the grid alone: a quantizer builds its own once per process (pthread_once) and only reads it
 * after; they live as long as the process. */
#ifndef COLDTOK_QUANT_IQGRID_H
#define COLDTOK_QUANT_IQGRID_H

#include <stdint.h>

typedef struct {
    int group, bits, nlevels, grid_n;
    uint8_t *val;     /* [grid_n][group]: the grid's values 2l+1 */
    int16_t *on_grid; /* [1 << bits*group]: a lattice point's grid index, -1 off the grid */
    uint32_t *first;  /* an off-grid point's neighbours: nb[first .. first + count) */
    uint16_t *count;
    uint16_t *nb;
} IqGrid;

/* levels[j * group + k]: the level (0 .. nlevels-1) of value k of grid point j. Lattice points
 * with a level >= nlevels are no points of the format and get no neighbours. */
void iqgrid_build(IqGrid *g, int group, int bits, int nlevels, int nwant, int grid_n, const uint8_t *levels);
/* The lattice point of the group xv (magnitudes) at inverse scale id; its levels into L unless
 * L is NULL. */
int iqgrid_lattice_point(const IqGrid *g, const float *xv, float id, int8_t *L);
/* The grid neighbour of off-grid point u with the least sum of w (scale (2l+1) - xv)^2; its levels
 * into L. Returns its grid index. */
int iqgrid_best_neighbour(const IqGrid *g, int u, const float *xv, const float *w, float scale, int8_t *L);
/* sum w x q and (into *sumq2) sum w q^2 over n values, q = 2L+1: the least-squares scale's terms. */
float iqgrid_weighted_fit(const float *w, const float *xv, const int8_t *L, int n, float *sumq2);
/* The scale search of a sub-block of n magnitudes xv (n a multiple of the group size, at most
 * IQGRID_MAX_SUB; max their largest, > 0), weights w and waux = sqrt(w) for the neighbour choice:
 * 19 trial inverse scales (2 nlevels - 1 + step t)/max, t = -9..9, each group its lattice point or
 * best neighbour, keeping the least-squares scale with the largest (sum w q xv)^2 / sum w q^2 (the
 * first of equal ones). If a kept group was off the grid, the groups are re-picked at that scale
 * (every group when repick_all, as ggml's IQ3_S; else only those off the grid, and none when no
 * trial fitted) and the scale refit. The levels into L; returns the scale (ggml's sign guard, a
 * negative scale, is the caller's). */
#define IQGRID_MAX_SUB 32
float iqgrid_search(const IqGrid *g, const float *xv, const float *w, const float *waux, int n, float max,
                    float step, int repick_all, int8_t *L);

#endif
