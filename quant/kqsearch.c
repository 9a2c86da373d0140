/* kqsearch: the grid scale searches of the k-quants (ggml's make_qx_quants, make_qkx2_quants and
 * coldtok's make_qkx3_fast), computed many at once (quant/qblock.h, private).
 *
 * ggml tries one grid point (a trial inverse scale) after another, each a pass over the sub-block
 * whose sums are float additions in element order: a chain of dependent additions the processor
 * cannot overlap. Here independent searches, or independent grid points of one search, are the
 * lanes of vectors (GCC/clang vector extensions; target_clones: AVX-512, AVX2, baseline) and the
 * loop over elements is the outer one: every lane still adds its terms in element order, with the
 * same float (or double) operations in the same association as ggml's serial code, so each lane's
 * sums are bit for bit the serial ones, and the decisions are the serial conditions.
 *
 * Two layouts:
 *   - one sub-block, its grid points as lanes (make_qx_quants, make_qkx2_quants, make_qkx3_fast:
 *     the legacy types' importance-aware blocks, single calls). The grid points are compared
 *     afterwards in the serial order. make_qkx2/3 move the minimum when a grid point wins, and
 *     later grid points are scaled from the new minimum: a window of lanes computed from the old
 *     minimum is valid only up to the winner, unless the minimum stayed bit for bit the same;
 *     after a winner that moved it, the search resumes with a new window at the next grid point.
 *   - one lane per sub-block, each lane the whole serial search of its sub-block
 *     (make_qkx2_quants8 and make_qkx3_fast8: 8 sub-blocks of a Q4_K / Q5_K super-block, or 8 of
 *     Q2_K's 16; make_qx_quants16: Q6_K's and Q3_K's 16): no window is ever recomputed, no lane is
 *     padding. The k-quants use these.
 * No FMA contraction (-std=c11 for gcc, the pragma for clang), as everywhere in quant/.
 * tests/test_kqsearch.c compares every function with serial transcriptions of the searches. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "quant/qblock.h"

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
/* The 16-lane helpers take and return vectors by value, which clang flags (-Wpsabi) where AVX-512
 * is off: their calling convention would differ from an AVX-512 caller's. They are always_inline
 * and static, so no such call is ever made; the flag says nothing here. */
#pragma clang diagnostic ignored "-Wpsabi"
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define LANE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LANE_CLONES
#endif

#define QX_LANES 32   /* make_qx_quants: 19 grid points (nmax/max, then -9..9 tenths), 2 x 16 lanes */
#define QKX_LANES 16  /* make_qkx2 / make_qkx3: a window of grid points, one vector of lanes */

static inline float same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

/* 16 lanes (GCC/clang vector extensions: element-wise IEEE operations, as the scalar code's).
 * The helpers are always inlined, so no vector crosses a call: the ABI note does not apply. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef float vf __attribute__((vector_size(64)));
typedef int32_t vi __attribute__((vector_size(64)));
typedef uint8_t vu8 __attribute__((vector_size(16)));

/* nearest_int (qblock.h) of each lane, clamp included */
__attribute__((always_inline)) static inline vi v_nearest(vf f) {
    const vf hi = (vf){0} + 4194303.f, lo = (vf){0} - 4194303.f;
    vi m = f > hi;
    f = (vf)(((vi)hi & m) | ((vi)f & ~m));
    m = f < lo;
    f = (vf)(((vi)lo & m) | ((vi)f & ~m));
    const vi i = (vi)(f + 12582912.f);
    return (i & 0x007fffff) - 0x00400000;
}

/* MAX(lo, MIN(hi, l)) per lane */
__attribute__((always_inline)) static inline vi v_clamp(vi l, int lo, int hi) {
    vi m = l > hi;
    l = (m & hi) | (~m & l);
    m = l < lo;
    return (m & lo) | (~m & l);
}

/* See qblock.h. Lane 0 is ggml's first pass (iscale -nmax/max), lanes 1..18 its is = -9..-1,
 * 1..9; lanes 19.. are padding. */
LANE_CLONES float make_qx_quants(int n, int nmax, const float *x, int8_t *L, const float *qw) {
    float max = signed_absmax(x, n, NULL);
    if (fabsf(max) < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float isc[QX_LANES];
    isc[0] = -nmax / max;
    for (int k = 1; k < QX_LANES; k++) {
        const int is = k <= 9 ? k - 10 : k <= 18 ? k - 9 : 0;
        isc[k] = k <= 18 ? -(nmax + 0.1f * is) / max : isc[0];
    }
    vf visc[2], vslx[2] = {{0}}, vsl2[2] = {{0}};
    memcpy(visc, isc, sizeof visc);
    for (int i = 0; i < n; ++i) {
        const float w = qw ? qw[i] : x[i] * x[i], wx = w * x[i], xi = x[i];
        for (int h = 0; h < 2; h++) {
            const vf l = __builtin_convertvector(v_clamp(v_nearest(visc[h] * xi), -nmax, nmax - 1), vf);
            vslx[h] += wx * l;
            vsl2[h] += w * l * l;
        }
    }
    float slx[QX_LANES], sl2[QX_LANES];
    memcpy(slx, vslx, sizeof slx), memcpy(sl2, vsl2, sizeof sl2);
    float scale = sl2[0] ? slx[0] / sl2[0] : 0.0f;
    float best = scale * slx[0];
    int win = 0;
    for (int k = 1; k <= 18; k++)
        if (sl2[k] > 0 && slx[k] * slx[k] > best * sl2[k]) {
            scale = slx[k] / sl2[k];
            best = scale * slx[k];
            win = k;
        }
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(isc[win] * x[i]);
        L[i] = (int8_t)(nmax + MAX(-nmax, MIN(nmax - 1, l)));
    }
    return scale;
}

/* The sums of grid points is0 .. is0+QKX_LANES-1 of make_qkx2 (float, ggml's order), their
 * least-squares scale and min, error, and whether D > 0. Laux[i][k]: the quant of element i. */
LANE_CLONES static void qkx2_window(int n, int nmax, const float *x, const float *w, float min, float max,
                                    float sum_w, float sum_x, float rmin, float rdelta, int is0, int use_mad,
                                    uint8_t Laux[][QKX_LANES], float *sc, float *mn, float *err, int *ok) {
    float isc[QKX_LANES], sl[QKX_LANES], sl2[QKX_LANES], sxl[QKX_LANES];
    for (int k = 0; k < QKX_LANES; k++) {
        isc[k] = (rmin + rdelta * (is0 + k) + nmax) / (max - min);
        sl[k] = sl2[k] = sxl[k] = err[k] = 0;
    }
    vf visc, vsl = {0}, vsl2 = {0}, vsxl = {0}, lf[32];
    memcpy(&visc, isc, sizeof visc);
    for (int i = 0; i < n; ++i) {
        const float xm = x[i] - min, wi = w[i], xi = x[i];
        const vi li = v_clamp(v_nearest(visc * xm), 0, nmax);
        const vf l = __builtin_convertvector(li, vf);
        const vu8 lb = __builtin_convertvector(li, vu8);
        memcpy(Laux[i], &lb, sizeof lb);
        lf[i] = l;
        vsl += wi * l;
        vsl2 += wi * l * l;
        vsxl += wi * l * xi;
    }
    memcpy(sl, &vsl, sizeof vsl), memcpy(sl2, &vsl2, sizeof vsl2), memcpy(sxl, &vsxl, sizeof vsxl);
    for (int k = 0; k < QKX_LANES; k++) {
        const float D = sum_w * sl2[k] - sl[k] * sl[k];
        ok[k] = D > 0;
        float this_scale = (sum_w * sxl[k] - sum_x * sl[k]) / D;
        float this_min = (sl2[k] * sum_x - sl[k] * sxl[k]) / D;
        if (this_min > 0) {
            this_min = 0;
            this_scale = sxl[k] / sl2[k];
        }
        sc[k] = this_scale, mn[k] = this_min;
    }
    vf vsc, vmn, verr = {0};
    memcpy(&vsc, sc, sizeof vsc), memcpy(&vmn, mn, sizeof vmn);
    for (int i = 0; i < n; ++i) {
        vf diff = vsc * lf[i] + vmn - x[i];
        diff = use_mad ? (vf)((vi)diff & 0x7fffffff) : diff * diff;
        verr += w[i] * diff;
    }
    memcpy(err, &verr, sizeof verr);
}

/* See qblock.h. */
float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *the_min,
                       float rmin, float rdelta, int nstep, int use_mad) {
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)MAX(0, MIN(nmax, l));
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        float w = weights[i];
        best_error += w * diff;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    uint8_t Laux[32][QKX_LANES];
    float sc[QKX_LANES], mn[QKX_LANES], err[QKX_LANES];
    int ok[QKX_LANES];
    for (int is0 = 0; is0 <= nstep;) {
        qkx2_window(n, nmax, x, weights, min, max, sum_w, sum_x, rmin, rdelta, is0, use_mad, Laux, sc, mn, err, ok);
        const int cnt = MIN(QKX_LANES, nstep + 1 - is0);
        int next = is0 + cnt;
        for (int k = 0; k < cnt; k++) {
            if (!ok[k] || !(err[k] < best_error)) continue;
            for (int i = 0; i < n; ++i) L[i] = Laux[i][k];
            best_error = err[k];
            scale = sc[k];
            const int moved = !same_bits(mn[k], min);
            min = mn[k];
            if (moved) { /* later lanes were scaled from the old minimum */
                next = is0 + k + 1;
                break;
            }
        }
        is0 = next;
    }
    *the_min = -min;
    return scale;
}

/* make_qkx3_fast's sums (double) for grid points is0 .. is0+QKX_LANES-1, and each point's
 * scale, min and closed-form error. */
LANE_CLONES static void qkx3_window(int n, int nmax, const float *x, const float *w, float min, float max,
                                    double sw, double sx, double sxx, float rmin, float rdelta, int is0,
                                    uint8_t Laux[][QKX_LANES], double *s_out, double *m_out, double *e_out,
                                    int *ok) {
    float isc[QKX_LANES];
    double sl[QKX_LANES], sl2[QKX_LANES], sxl[QKX_LANES];
    for (int k = 0; k < QKX_LANES; k++) {
        isc[k] = (rmin + rdelta * (is0 + k) + nmax) / (max - min);
        sl[k] = sl2[k] = sxl[k] = 0;
    }
    typedef double vd __attribute__((vector_size(128)));
    vf visc;
    vd vsl = {0}, vsl2 = {0}, vsxl = {0};
    memcpy(&visc, isc, sizeof visc);
    for (int i = 0; i < n; ++i) {
        const float xm = x[i] - min, xi = x[i];
        const double wi = (double)w[i];
        const vi li = v_clamp(v_nearest(visc * xm), 0, nmax);
        const vd l = __builtin_convertvector(li, vd);
        const vu8 lb = __builtin_convertvector(li, vu8);
        memcpy(Laux[i], &lb, sizeof lb);
        vsl += wi * l;
        vsl2 += wi * l * l;
        vsxl += wi * l * (double)xi;
    }
    memcpy(sl, &vsl, sizeof vsl), memcpy(sl2, &vsl2, sizeof vsl2), memcpy(sxl, &vsxl, sizeof vsxl);
    for (int k = 0; k < QKX_LANES; k++) {
        double D = sw * sl2[k] - sl[k] * sl[k];
        ok[k] = D > 0;
        double s = (sw * sxl[k] - sx * sl[k]) / D, m = (sl2[k] * sx - sl[k] * sxl[k]) / D;
        if (m > 0) {
            m = 0;
            s = sxl[k] / sl2[k];
        }
        s_out[k] = s, m_out[k] = m;
        e_out[k] = s * s * sl2[k] + 2 * s * m * sl[k] + m * m * sw - 2 * s * sxl[k] - 2 * m * sx + sxx;
    }
}

/* See qblock.h. */
float make_qkx3_fast(int n, int nmax, const float *x, const float *w, uint8_t *L, float *the_min, float rmin,
                     float rdelta, int nstep) {
    float min = x[0], max = x[0];
    double sw = 0, sx = 0, sxx = 0;
    for (int i = 0; i < n; ++i) {
        min = x[i] < min ? x[i] : min;
        max = x[i] > max ? x[i] : max;
        sw += w[i];
        sx += (double)w[i] * x[i];
        sxx += (double)w[i] * x[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max <= min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min), scale = 1 / iscale;
    double best = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)MAX(0, MIN(nmax, l));
        double d = (double)scale * L[i] + min - x[i];
        best += w[i] * d * d;
    }
    uint8_t Laux[32][QKX_LANES];
    double s[QKX_LANES], m[QKX_LANES], e[QKX_LANES];
    int ok[QKX_LANES];
    for (int is0 = 0; is0 <= nstep;) {
        qkx3_window(n, nmax, x, w, min, max, sw, sx, sxx, rmin, rdelta, is0, Laux, s, m, e, ok);
        const int cnt = MIN(QKX_LANES, nstep + 1 - is0);
        int next = is0 + cnt;
        for (int k = 0; k < cnt; k++) {
            if (!ok[k] || !(e[k] < best)) continue;
            for (int i = 0; i < n; ++i) L[i] = Laux[i][k];
            best = e[k];
            scale = (float)s[k];
            const float new_min = (float)m[k];
            const int moved = !same_bits(new_min, min);
            min = new_min;
            if (moved) {
                next = is0 + k + 1;
                break;
            }
        }
        is0 = next;
    }
    *the_min = -min;
    return scale;
}

/* ---- eight sub-blocks at once: one lane per sub-block, every lane running the serial search ----
 * The trial scales of one sub-block depend on each other (the minimum moves), but the sub-blocks of
 * a super-block do not: here lane j is sub-block j, and each lane performs make_qkx2_quants' or
 * make_qkx3_fast's operations in their order, its own minimum and maximum included, so each lane's
 * results are the serial search's of its sub-block, with no window recomputed. */
typedef float vf8 __attribute__((vector_size(32)));
typedef int32_t vi8 __attribute__((vector_size(32)));
typedef double vd8 __attribute__((vector_size(64)));
typedef int64_t vl8 __attribute__((vector_size(64)));

/* 8 lanes: the 8 sub-blocks of 32 of a Q4_K / Q5_K super-block */
#define LANES 8
#define VF vf8
#define VI vi8
#define NH 1
#define HALF8(v, h) (v)
#define JOIN8(a) (a)[0]
#define QKX2_NAME make_qkx2_quants8
#define QKX3_NAME make_qkx3_fast8
#include "quant/kqsearch_lanes.h"
#undef LANES
#undef VF
#undef VI
#undef NH
#undef HALF8
#undef JOIN8
#undef QKX2_NAME
#undef QKX3_NAME

/* 16 lanes: the 16 sub-blocks of 16 of a Q2_K super-block in one search, where two searches of 8
 * left the processor waiting on each grid point's divisions (twice the independent work per
 * dependent step) */
#define LANES 16
#define VF vf
#define VI vi
#define NH 2
#define HALF8(v, h)                                                                                 \
    ((h) ? __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15)                              \
         : __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7))
#define JOIN8(a) __builtin_shufflevector((a)[0], (a)[1], 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
#define QKX2_NAME make_qkx2_quants16
#define QKX3_NAME make_qkx3_fast16
#include "quant/kqsearch_lanes.h"
#undef LANES
#undef VF
#undef VI
#undef NH
#undef HALF8
#undef JOIN8
#undef QKX2_NAME
#undef QKX3_NAME

/* ---- make_qx_quants of 16 sub-blocks of 16 at once (Q6_K, Q3_K's candidate): lane j is
 * sub-block j and runs the serial search; its 19 trial scales do not depend on each other, so
 * only the winning inverse scale is kept and L computed from it at the end. */

/* See qblock.h. */
LANE_CLONES void make_qx_quants16(int nmax, const float *x, int8_t *L, const float *qw, float *scales) {
    vf xt[16], wt[16];
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++) {
            xt[i][j] = x[16 * j + i];
            wt[i][j] = qw ? qw[16 * j + i] : x[16 * j + i] * x[16 * j + i];
        }
    const vf zero = {0};
    vf amax = zero, max = zero; /* signed_absmax: the first value of largest magnitude */
    for (int i = 0; i < 16; i++) {
        const vf a = (vf)((vi)xt[i] & 0x7fffffff);
        const vi m = amax < a;
        amax = (vf)((m & (vi)a) | (~m & (vi)amax));
        max = (vf)((m & (vi)xt[i]) | (~m & (vi)max));
    }
    int flat[16];
    for (int j = 0; j < 16; j++) flat[j] = fabsf(max[j]) < GROUP_MAX_EPS;
    vf iscale = (float)-nmax / max, sumlx = zero, suml2 = zero;
    for (int i = 0; i < 16; i++) {
        const vf l = __builtin_convertvector(v_clamp(v_nearest(iscale * xt[i]), -nmax, nmax - 1), vf);
        sumlx += wt[i] * xt[i] * l;
        suml2 += wt[i] * l * l;
    }
    vf scale, wx[16]; /* w*x of each element: the first product of ggml's (w*x)*l, the same in every trial */
    for (int i = 0; i < 16; i++) wx[i] = wt[i] * xt[i];
    for (int j = 0; j < 16; j++) scale[j] = suml2[j] ? sumlx[j] / suml2[j] : 0.0f;
    vf best = scale * sumlx, win = iscale;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        const vf isc = -(nmax + 0.1f * is) / max;
        vf slx = zero, sl2 = zero;
        for (int i = 0; i < 16; i++) {
            const vf l = __builtin_convertvector(v_clamp(v_nearest(isc * xt[i]), -nmax, nmax - 1), vf);
            slx += wx[i] * l;
            sl2 += wt[i] * l * l;
        }
        const vi up = (sl2 > zero) & (slx * slx > best * sl2);
        const vf s = slx / sl2;
        scale = (vf)((up & (vi)s) | (~up & (vi)scale));
        best = (vf)((up & (vi)(s * slx)) | (~up & (vi)best));
        win = (vf)((up & (vi)isc) | (~up & (vi)win));
    }
    for (int i = 0; i < 16; i++) {
        const vi l = v_clamp(v_nearest(win * xt[i]), -nmax, nmax - 1) + nmax;
        for (int j = 0; j < 16; j++) L[16 * j + i] = flat[j] ? 0 : (int8_t)l[j];
    }
    for (int j = 0; j < 16; j++) scales[j] = flat[j] ? 0.f : scale[j];
}
